// A provider with demo data and the list of its main pages, each with a way to reach it in a
// fresh browser context, at a viewport and in a display mode. The accessibility test
// (a11y.test.mjs) and the screenshot command (screenshots.mjs) both walk this list: a page added
// to `mainPages` is checked and photographed.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startProvider, idNumber } from './provider.mjs';
import { startRelyingParty } from './relying-party.mjs';
import { virtualAuthenticator } from './browser.mjs';
import { wallet } from './wallet.mjs';

export const PASSWORD = 'correct horse battery';

export const VIEWPORTS = {
  phone: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true },
  desktop: { viewport: { width: 1280, height: 800 } },
};

export const MODES = ['normal', 'elder'];

// How a page says it is in elder mode (适老化): `layout` in idp/src/web/pages.rs.
const ELDER_ON = 'body.elder';
const ELDER_OFF = 'body:not(.elder)';
// The elder-mode switch in every page's header: a link to /prefs?elder=..., or a form posting
// to /prefs with an `elder` field.
const ELDER_SWITCH = [
  'a[href*="/prefs?elder="]',
  'form[action^="/prefs"]:has([name="elder"]) button',
  'form[action^="/prefs"]:has([name="elder"]) [type="submit"]',
].join(', ');

export async function isElder(page) {
  return (await page.locator(ELDER_ON).count()) > 0;
}

// Switches the display mode with the page's own control, as a citizen does, and waits for the
// page that comes back.
export async function setMode(page, mode) {
  const elder = mode === 'elder';
  if ((await isElder(page)) === elder) return;
  await page.locator(ELDER_SWITCH).first().click();
  await page.waitForSelector(elder ? ELDER_ON : ELDER_OFF, { state: 'attached' });
}

// Logs in with the ID number and password on the login page the browser is on.
export async function logIn(page, id, password = PASSWORD) {
  await page.fill('#username', id);
  await page.fill('#password', password);
  await page.click('form[action="/login"] button[type="submit"]');
}

// A fresh context (no session) at a viewport, zh-CN, with the display mode chosen on the page's
// own switch; returns its page, on the plain login page.
export async function newPageIn(browser, issuer, viewport, mode) {
  const context = await browser.newContext({ locale: 'zh-CN', ...VIEWPORTS[viewport] });
  const page = await context.newPage();
  await page.goto(`${issuer}/login`);
  await setMode(page, mode);
  return page;
}

// The login page is whole once its scripts have shown the fingerprint button (when the provider
// offers passkeys) and drawn the QR code.
async function loginPageReady(page) {
  await page.waitForSelector('form[action="/login"] #username');
  await page.waitForFunction(() => {
    const img = document.getElementById('qr-image');
    return img && !document.getElementById('qr-login').hidden && img.complete && img.naturalWidth > 0;
  });
  if (await page.locator('#passkey-login').count()) {
    await page.waitForSelector('#passkey-login-button', { state: 'visible' });
  }
}

/**
 * The main pages. Each `open(page)` starts from a fresh context of `newPageIn` and leaves the
 * page where it can be checked or photographed; `views` name further parts of a long page to
 * photograph, each scrolled to the top of the screen. `optionalPages` adds more (e.g. /admin).
 */
export function mainPages(demo) {
  return [
    {
      name: 'login',
      async open(page) {
        await page.goto(`${demo.consentApp.base}/start`);
        await page.waitForURL(/\/login\?req=/);
        await loginPageReady(page);
      },
    },
    {
      name: 'consent',
      async open(page) {
        await page.goto(`${demo.consentApp.base}/start`);
        await page.waitForURL(/\/login\?req=/);
        await logIn(page, demo.citizen.id);
        await page.waitForURL(/\/consent/);
        await page.waitForSelector('button[name="decision"][value="allow"]');
      },
    },
    {
      name: 'account',
      // A second picture from 我的授权 on (authorized apps, login history, my data).
      views: [{ name: 'apps', at: '#apps-title' }],
      async open(page) {
        await page.goto(`${demo.issuer}/login?next=/account`);
        await logIn(page, demo.citizen.id);
        await page.waitForURL(/\/account$/);
        await page.waitForSelector('#apps-title');
        if (await page.locator('#passkey-bind').count()) {
          await page.waitForSelector('#passkey-bind-button', { state: 'visible' });
        }
      },
    },
    {
      name: 'licence',
      // 亮证: a licence's QR code for the government app, with its 6-digit code.
      async open(page) {
        await page.goto(`${demo.issuer}/login?next=/account`);
        await logIn(page, demo.citizen.id);
        await page.waitForURL(/\/account$/);
        await page.locator('#licences-title ~ .licence button').first().click();
        await page.waitForSelector('figure.qr svg');
      },
    },
  ];
}

/**
 * Starts a provider with demo data: a citizen (张三) with two licences, a bound government app
 * on their phone, one app they authorized (社保查询, with a refresh token), a passkey, a few
 * logins in their history; and a second app (公积金服务) that asks for more, including their
 * resident ID licence, for a consent page.
 */
export async function startDemo(browser) {
  const provider = await startProvider();
  const citizen = { id: idNumber('11010519491231002'), name: '张三' };
  const account = provider.cli(
    ['user', 'create', '--id-number', citizen.id, '--name', citizen.name, '--phone', '13800138000',
      '--email', 'zhangsan@example.cn', '--address', '北京市西城区', '--password-stdin'],
    PASSWORD,
  );
  citizen.sub = account.sub;
  const licences = join(provider.dir, 'licences.json');
  writeFileSync(licences, JSON.stringify([
    {
      type: 'resident_id', holder: citizen.id,
      claims: { name: citizen.name, sex: '男', birth_date: '1949-12-31', address: '北京市西城区', issuing_authority: '北京市公安局西城分局' },
      valid_from: '2020-01-01', valid_until: '2040-01-01',
    },
    {
      type: 'driving_licence', holder: citizen.id,
      claims: { name: citizen.name, sex: '男', nationality: '中国', birth_date: '1949-12-31', first_issue_date: '2001-05-20', vehicle_class: 'C1', licence_number: citizen.id, issuing_authority: '北京市公安局公安交通管理局' },
      valid_from: '2021-05-20', valid_until: '2031-05-20',
    },
  ]));
  provider.cli(['licence', 'import', licences]);

  // Apps listen before they are registered: their redirect URIs carry their ports.
  const app = async (name, scope, extra = []) => {
    const client = { client_id: '', client_secret: '' };
    const rp = await startRelyingParty(provider.issuer, client, { scope });
    Object.assign(client, provider.cli(['client', 'create', '--name', name, '--redirect-uri', rp.redirectUri, ...extra, '--approve']));
    return Object.assign(rp, { client, name });
  };
  const authorizedApp = await app('社保查询', 'openid profile phone offline_access');
  const consentApp = await app('公积金服务', 'openid profile phone address licence:resident_id',
    ['--scope', 'openid', '--scope', 'profile', '--scope', 'phone', '--scope', 'address', '--scope', 'licence:resident_id']);

  // The government app on the citizen's phone: a bound device.
  const govApp = provider.cli(['client', 'create', '--name', '国家政务服务App', '--government-app', '--approve',
    '--redirect-uri', 'http://127.0.0.1/wallet/callback']);
  wallet(provider.dir).login(provider.issuer, govApp.client_id, citizen.id, PASSWORD);

  // In a browser: log in at 社保查询 and allow it, then bind a passkey on the account page.
  const context = await browser.newContext({ locale: 'zh-CN' });
  let passkey = null;
  try {
    const page = await context.newPage();
    const authenticator = await virtualAuthenticator(page);
    await page.goto(`${authorizedApp.base}/start`);
    await page.waitForURL(/\/login\?req=/);
    await logIn(page, citizen.id);
    await page.waitForURL(/\/consent/);
    await page.click('button[name="decision"][value="allow"]');
    await page.waitForURL((url) => url.href.startsWith(authorizedApp.redirectUri));
    await page.waitForSelector('#claims');
    await page.goto(`${provider.issuer}/account`);
    if (await page.locator('#passkey-bind').count()) {
      await page.waitForSelector('#passkey-bind-button', { state: 'visible' });
      await page.fill('#passkey-name', '我的手机');
      await page.click('#passkey-bind-button');
      await page.waitForSelector('table.passkeys td:text("我的手机")');
      [passkey] = await authenticator.credentials();
    }
    // A correction request waiting in the console's queue.
    const corrections = page.locator('section[aria-labelledby="corrections-title"]');
    await corrections.getByLabel('问题类型').selectOption('link');
    await corrections.getByLabel('情况说明').fill('我的账户关联了一个四川的账户，那不是我的。');
    await corrections.getByRole('button', { name: '提交纠错申请' }).click();
    await page.waitForURL(/done=filed/);
  } finally {
    await context.close();
  }

  const demo = {
    provider,
    issuer: provider.issuer,
    citizen,
    authorizedApp,
    consentApp,
    // The citizen's passkey as their phone's authenticator holds it (its sign counter moves on
    // at every use: `passkeyLogIn` keeps it current).
    passkey,
    stop() {
      authorizedApp.stop();
      consentApp.stop();
      provider.stop();
    },
  };
  return demo;
}

// A strong login (fingerprint) of the demo citizen in this page's context, on to `next`; the
// passkey is put on a virtual authenticator of this page, as if the same phone were used.
export async function passkeyLogIn(demo, page, next) {
  if (!demo.passkey) throw new Error('the provider offers no passkeys: no strong login possible');
  // Leave any login page first: its passkey autofill (a pending conditional request) would
  // otherwise take the credential as soon as it is added and log in on its own, racing the
  // navigation below and leaving a stale sign counter behind (the next login with it would then
  // look like a cloned key, and the passkey would be suspended).
  await page.goto('about:blank');
  const authenticator = await virtualAuthenticator(page);
  await authenticator.addCredential(demo.passkey);
  // Passkey autofill would log in on its own before the button is pressed; the button is used.
  await page.addInitScript(() => {
    if (window.PublicKeyCredential) PublicKeyCredential.isConditionalMediationAvailable = async () => false;
  });
  try {
    // A loaded CI machine can be slow to run the page's script: wait longer than the default.
    await page.goto(`${demo.issuer}/login?next=${encodeURIComponent(next)}`);
    await page.waitForSelector('#passkey-login-button', { state: 'visible', timeout: 60_000 });
    await page.click('#passkey-login-button');
    await page.waitForURL((url) => url.pathname === next, { timeout: 60_000 });
  } finally {
    // Whatever happened, the authenticator's counter is the current one.
    [demo.passkey] = await authenticator.credentials();
  }
}

// Pages that only some builds have: included when the route answers something else than 404.
// The operator's console (/admin): the demo citizen is made an operator with every role, and an
// app waits for review; the console needs a strong login, so it is reached with the passkey.
export async function optionalPages(demo) {
  const pages = [];
  const admin = await fetch(`${demo.issuer}/admin`, { redirect: 'manual' });
  if (admin.status === 404) return pages;
  for (const role of ['apps', 'licences', 'keys', 'audit', 'corrections']) {
    demo.provider.cli(['operator', 'grant', '--sub', demo.citizen.sub, '--role', role]);
  }
  const pending = demo.provider.cli(['client', 'create', '--name', '个税申报', '--redirect-uri', 'https://tax.example.cn/callback']);
  const adminPage = (name, path, ready) => ({
    name,
    async open(page) {
      await passkeyLogIn(demo, page, path);
      await page.waitForSelector(ready);
    },
  });
  pages.push(
    adminPage('admin', '/admin', '#apps-title'),
    adminPage('admin-app', `/admin/apps/${encodeURIComponent(demo.authorizedApp.client.client_id)}`, 'main h1'),
    adminPage('admin-audit', '/admin/audit', 'main h1'),
    adminPage('admin-corrections', '/admin/corrections', '.card.correction'),
  );
  demo.pendingApp = pending;
  return pages;
}
