// 身份认证结果纠错 in a real browser: the citizen files a correction request on /account (the
// name is wrong), another person, an operator with the `corrections` role logged in with a
// fingerprint (passkey), fixes it in the console at /admin/corrections with a reason, and the
// citizen's account page then shows the outcome, the reason and the corrected name. Also 好差评:
// the citizen rates the app they use, and the console's app list shows it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, virtualAuthenticator } from './lib/browser.mjs';
import { startDemo, logIn, passkeyLogIn, PASSWORD } from './lib/demo.mjs';
import { idNumber } from './lib/provider.mjs';

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

after(async () => {
  await browser?.close();
  demo?.stop();
});

async function citizenPage() {
  const page = await (await browser.newContext({ locale: 'zh-CN' })).newPage();
  await page.goto(`${demo.issuer}/login?next=/account`);
  await logIn(page, demo.citizen.id);
  await page.waitForURL(/\/account$/);
  return page;
}

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
