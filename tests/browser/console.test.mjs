// The operator's console and what citizens tell it, in a real browser. An operator (another
// person, with the `apps` and `corrections` roles, logged in with a fingerprint) publishes a
// pending app, which can then log citizens in; 身份认证结果纠错: the citizen files a correction
// request on /account (the name is wrong), the operator fixes it at /admin/corrections with a
// reason, and the citizen's account page shows the outcome, the reason and the corrected name;
// 好差评: the citizen rates the app they use, and the console's app list shows it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, virtualAuthenticator } from './lib/browser.mjs';
import { startDemo, logIn, passkeyLogIn, PASSWORD } from './lib/demo.mjs';
import { idNumber } from './lib/provider.mjs';
import { startRelyingParty } from './lib/relying-party.mjs';

let browser, demo;
const reviewer = { id: idNumber('11010519800808123'), name: '审核员李四' };

before(async () => {
  browser = await launch();
  demo = await startDemo(browser);
  const account = demo.provider.cli(['user', 'create', '--id-number', reviewer.id, '--name', reviewer.name,
    '--password-stdin'], PASSWORD);
  for (const role of ['corrections', 'apps']) {
    demo.provider.cli(['operator', 'grant', '--sub', account.sub, '--role', role]);
  }
  // The reviewer binds a passkey of their own (the console needs a fingerprint login).
  const context = await browser.newContext({ locale: 'zh-CN' });
  const page = await context.newPage();
  const authenticator = await virtualAuthenticator(page);
  await page.goto(`${demo.issuer}/login?next=/account`);
  await logIn(page, reviewer.id);
  await page.waitForURL(/\/account$/);
  await page.waitForSelector('#passkey-bind-button', { state: 'visible' });
  await page.fill('#passkey-name', '审核员的手机');
  await page.click('#passkey-bind-button');
  await page.waitForSelector('table.passkeys td:text("审核员的手机")');
  [reviewer.passkey] = await authenticator.credentials();
  reviewer.issuer = demo.issuer; // passkeyLogIn keeps the passkey's sign counter current here
  await context.close();
});

let pendingApp;

after(async () => {
  await browser?.close();
  pendingApp?.stop();
  demo?.stop();
});

async function citizenPage() {
  const page = await (await browser.newContext({ locale: 'zh-CN' })).newPage();
  await page.goto(`${demo.issuer}/login?next=/account`);
  await logIn(page, demo.citizen.id);
  await page.waitForURL(/\/account$/);
  return page;
}

test('an operator publishes a pending app, which can then log citizens in', async () => {
  const client = { client_id: '', client_secret: '' };
  pendingApp = await startRelyingParty(demo.issuer, client, { scope: 'openid profile' });
  Object.assign(client, demo.provider.cli(['client', 'create', '--name', '个税申报',
    '--redirect-uri', pendingApp.redirectUri]));
  pendingApp.client = client;

  // Before review: the app cannot start a login.
  const citizen = await (await browser.newContext({ locale: 'zh-CN' })).newPage();
  await citizen.goto(`${pendingApp.base}/start`);
  assert.doesNotMatch(citizen.url(), /\/login\?req=/, 'a pending app reached the login page');

  const op = await (await browser.newContext({ locale: 'zh-CN' })).newPage();
  await passkeyLogIn(reviewer, op, '/admin');
  const card = op.locator('.card.app', { hasText: '个税申报' });
  assert.match(await card.textContent(), /待审核/);
  await card.getByRole('button', { name: '批准发布 个税申报' }).click();
  await op.waitForURL(/done=approved/);
  assert.match(await op.locator('.card.app', { hasText: '个税申报' }).textContent(), /已发布/);
  await op.context().close();

  // Published: the citizen logs in at the app and it receives who they are.
  await citizen.goto(`${pendingApp.base}/start`);
  await citizen.waitForURL(/\/login\?req=/);
  await logIn(citizen, demo.citizen.id);
  await citizen.waitForURL(/\/consent/);
  await citizen.click('button[name="decision"][value="allow"]');
  await citizen.waitForURL((url) => url.href.startsWith(pendingApp.redirectUri));
  const claims = JSON.parse(await citizen.textContent('#claims'));
  assert.ok(claims.sub, 'the app received the citizen');
  await citizen.context().close();
});

test('a correction request goes through: filed, fixed by an operator, the outcome seen', async () => {
  const citizen = await citizenPage();
  const section = citizen.locator('section[aria-labelledby="corrections-title"]');
  await section.getByLabel('问题类型').selectOption('name');
  await section.getByLabel('情况说明').fill('户口本上我的名字是张三丰，账户上少了一个字。');
  await section.getByRole('button', { name: '提交纠错申请' }).click();
  await citizen.waitForURL(/done=filed/);
  const filed = section.locator('.correction', { hasText: '张三丰' });
  assert.match(await filed.textContent(), /处理中/);

  // The reviewer, with a fingerprint login, finds it in the queue and fixes it.
  const op = await (await browser.newContext({ locale: 'zh-CN' })).newPage();
  await passkeyLogIn(reviewer, op, '/admin/corrections');
  const mine = '户口本上我的名字';
  const card = op.locator('.card.correction', { hasText: mine });
  await card.waitFor();
  await card.getByLabel('更正姓名').check();
  await card.getByLabel(/更正后的姓名/).fill('张三丰');
  await card.getByLabel(/处理意见/).fill('已核对户籍信息，予以更正。');
  await card.getByRole('button', { name: '提交决定' }).click();
  await op.waitForURL(/done=fixed/);
  assert.match(await op.textContent('[role="status"]'), /已更正/);
  assert.equal(await op.locator('.card.correction', { hasText: mine }).count(), 0, 'no longer waiting');

  // The citizen sees the outcome, the reason and the corrected name.
  await citizen.goto(`${demo.issuer}/account`);
  const outcome = citizen.locator('section[aria-labelledby="corrections-title"] .correction', { hasText: '张三丰' });
  assert.match(await outcome.textContent(), /已更正/);
  assert.match(await outcome.textContent(), /已核对户籍信息，予以更正。/);
  assert.equal((await citizen.textContent('main p.client')).trim(), '张三丰');
  await citizen.context().close();
  await op.context().close();
});

test('the citizen rates an app they use, and the console shows it', async () => {
  const citizen = await citizenPage();
  const card = citizen.locator('section[aria-labelledby="apps-title"] .app', { hasText: demo.authorizedApp.name });
  await card.locator('summary', { hasText: '评价此应用' }).click();
  await card.getByLabel('好评').check();
  await card.getByLabel(/意见/).fill('办事很方便');
  await card.getByRole('button', { name: '提交评价' }).click();
  await citizen.waitForURL(/done=rated/);
  assert.match(await citizen.textContent('[role="status"]'), /感谢您的评价/);
  await citizen.context().close();

  const op = await (await browser.newContext({ locale: 'zh-CN' })).newPage();
  await passkeyLogIn(reviewer, op, '/admin');
  const app = op.locator('.card.app', { hasText: demo.authorizedApp.name });
  assert.match(await app.textContent(), /好评率 100%/);
  await op.context().close();
});
