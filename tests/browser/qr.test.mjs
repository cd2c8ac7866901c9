// QR-code login in a real browser: the login page shows a QR code; the test decodes it from the
// rendered page, the `wallet` binary (the government app) approves it, and the browser lands at
// the app's redirect URI by itself (the page polls; the test does not reload).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import jsQR from 'jsqr';
import { PNG } from 'pngjs';
import { startProvider, idNumber } from './lib/provider.mjs';
import { startRelyingParty } from './lib/relying-party.mjs';
import { launch } from './lib/browser.mjs';
import { wallet } from './lib/wallet.mjs';

const PASSWORD = 'correct horse battery';
const citizen = idNumber('44010519800101123');
let provider, rp, browser, phone;

before(async () => {
  provider = await startProvider();
  provider.cli(['user', 'create', '--id-number', citizen, '--name', '李四', '--password-stdin'], PASSWORD);
  const placeholder = { client_id: '', client_secret: '' };
  rp = await startRelyingParty(provider.issuer, placeholder);
  Object.assign(
    placeholder,
    provider.cli(['client', 'create', '--name', '社保查询', '--redirect-uri', rp.redirectUri, '--approve']),
  );
  const govApp = provider.cli([
    'client', 'create', '--name', '国家政务服务App', '--government-app', '--approve',
    '--redirect-uri', 'http://127.0.0.1/wallet/callback',
  ]);
  phone = wallet(provider.dir);
  phone.login(provider.issuer, govApp.client_id, citizen, PASSWORD);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  rp?.stop();
  provider?.stop();
});

async function decodeQr(page) {
  const image = page.locator('#qr-image');
  await image.waitFor({ state: 'visible' });
  await page.waitForFunction(() => {
    const img = document.getElementById('qr-image');
    return img && img.complete && img.naturalWidth > 0;
  });
  const png = PNG.sync.read(await image.screenshot());
  const found = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
  assert.ok(found, 'a QR code is rendered on the login page');
  return found.data;
}

test('the browser shows a QR code, the app approves it, the browser lands at the app', async () => {
  const page = await (await browser.newContext({ locale: 'zh-CN' })).newPage();
  await page.goto(`${rp.base}/start`);
  await page.waitForURL(/\/login\?req=/);
  const payload = await decodeQr(page);
  assert.equal(payload, await page.getAttribute('#qr-link', 'href'), 'the link carries the same payload');
  assert.match(await page.textContent('#qr-status'), /待扫码/);

  const scanned = phone.scan(payload);
  assert.equal(scanned.asks.client_name, '社保查询', 'the phone is told which app asks');
  await page.waitForFunction(() => document.getElementById('qr-status').textContent.includes('已扫码'));

  phone.scan(payload, '--approve');
  await page.waitForURL((url) => url.href.startsWith(rp.redirectUri) || url.pathname === '/consent');
  // First visit of this app: the citizen still consents in the browser.
  if (page.url().includes('/consent')) {
    await page.click('button[name="decision"][value="allow"]');
  }
  await page.waitForURL((url) => url.href.startsWith(rp.redirectUri));
  const claims = JSON.parse(await page.textContent('#claims'));
  assert.deepEqual(claims.amr, ['mca', 'swk']);
  assert.ok(phone.devices().devices.length >= 1, 'the app is a bound device');
});

test('a denied code logs nobody in and the page says so', async () => {
  const page = await (await browser.newContext({ locale: 'zh-CN' })).newPage();
  await page.goto(`${rp.base}/start`);
  await page.waitForURL(/\/login\?req=/);
  const payload = await decodeQr(page);
  phone.scan(payload, '--deny');
  await page.waitForFunction(() => document.getElementById('qr-status').textContent.includes('已拒绝')
    || document.getElementById('qr-status').textContent.includes('待扫码'));
  assert.match(page.url(), /\/login\?req=/, 'still on the login page');
});
