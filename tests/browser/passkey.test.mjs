// Fingerprint login in a real browser: log in with a password, bind a passkey on the account
// page, log out, log in with the passkey alone, and land at the app with a code it exchanges.
// With user verification switched off, the login is refused with a clear message.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startProvider, idNumber } from './lib/provider.mjs';
import { startRelyingParty } from './lib/relying-party.mjs';
import { launch, virtualAuthenticator } from './lib/browser.mjs';

const PASSWORD = 'correct horse battery';
const ACR_PASSWORD = 'urn:cn:gov:idp:loa:2';
const ACR_STRONG = 'urn:cn:gov:idp:loa:3';
const citizen = idNumber('33010519800101123');
let provider, rp, browser;

before(async () => {
  provider = await startProvider();
  provider.cli(['user', 'create', '--id-number', citizen, '--name', '张三', '--password-stdin'], PASSWORD);
  // The RP's port is only known once it listens; register it with its real redirect URI.
  const placeholder = { client_id: '', client_secret: '' };
  rp = await startRelyingParty(provider.issuer, placeholder);
  Object.assign(
    placeholder,
    provider.cli(['client', 'create', '--name', '浏览器测试应用', '--redirect-uri', rp.redirectUri, '--approve']),
  );
  browser = await launch();
});

after(async () => {
  await browser?.close();
  rp?.stop();
  provider?.stop();
});

async function claimsAt(page) {
  await page.waitForURL((url) => url.href.startsWith(rp.redirectUri));
  const text = await page.textContent('#claims');
  assert.ok(text, `the RP shows the ID token: ${await page.content()}`);
  return JSON.parse(text);
}

async function logOut(page) {
  await page.goto(`${provider.issuer}/account`);
  await page.click('form[action="/logout"] button');
  await page.waitForLoadState();
  assert.match(await page.textContent('main'), /已安全退出/);
}

test('password, bind a fingerprint, log out, log in with the fingerprint alone', async () => {
  const page = await (await browser.newContext({ locale: 'zh-CN' })).newPage();
  const authenticator = await virtualAuthenticator(page);
  // The virtual authenticator answers passkey autofill (conditional UI) at once, which would
  // log in before the button is pressed; the test switches autofill on only where it tests it.
  await page.addInitScript(() => {
    if (window.PublicKeyCredential) {
      PublicKeyCredential.isConditionalMediationAvailable = async () => localStorage.getItem('autofill') === 'on';
    }
  });

  await page.goto(`${rp.base}/start`);
  await page.waitForURL(/\/login\?req=/);
  await page.fill('#username', citizen);
  await page.fill('#password', PASSWORD);
  await page.click('form[action="/login"] button[type="submit"]');
  await page.waitForURL(/\/consent/);
  await page.click('button[name="decision"][value="allow"]');
  const byPassword = await claimsAt(page);
  assert.equal(byPassword.acr, ACR_PASSWORD);

  await page.goto(`${provider.issuer}/account`);
  await page.fill('#passkey-name', '测试电脑');
  await page.click('#passkey-bind-button');
  await page.waitForSelector('table.passkeys td:text("测试电脑")');
  assert.equal((await authenticator.credentials()).length, 1, 'a resident key on the authenticator');

  await logOut(page);

  await page.goto(`${rp.base}/start`);
  await page.waitForURL(/\/login\?req=/);
  assert.equal(await page.isVisible('#passkey-login-button'), true, 'the fingerprint button is shown');
  await page.click('#passkey-login-button');
  const byPasskey = await claimsAt(page);
  assert.equal(byPasskey.sub, byPassword.sub, 'the same citizen, no ID number typed');
  assert.equal(byPasskey.acr, ACR_STRONG);
  assert.ok(byPasskey.amr.includes('hwk') && byPasskey.amr.includes('user'), JSON.stringify(byPasskey.amr));

  // Where the browser offers passkey autofill, opening the login page is enough.
  await logOut(page);
  await page.evaluate(() => localStorage.setItem('autofill', 'on'));
  await page.goto(`${rp.base}/start`);
  const byAutofill = await claimsAt(page);
  assert.equal(byAutofill.sub, byPassword.sub);
  assert.equal(byAutofill.acr, ACR_STRONG);
  await page.goto(`${provider.issuer}/account`);
  await page.evaluate(() => localStorage.setItem('autofill', 'off'));

  // With user verification off, the same passkey does not log in.
  await logOut(page);
  await authenticator.setUserVerified(false);
  await page.goto(`${rp.base}/start`);
  await page.waitForURL(/\/login\?req=/);
  await page.click('#passkey-login-button');
  await page.waitForSelector('#passkey-status.error');
  const message = await page.textContent('#passkey-status');
  assert.match(message, /验证/, `a clear message: ${message}`);
  assert.match(page.url(), /\/login\?req=/, 'still on the login page');
  await page.goto(`${provider.issuer}/account`);
  assert.match(page.url(), /\/login$/, 'no session was created');
});
