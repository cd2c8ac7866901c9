// The citizen's account page (用户专属服务空间), its main path in a real browser: a citizen logs in
// at an app (a local HTTP server playing the app: code flow with a real redirect, the code
// exchanged for tokens with a refresh token), finds the app under 我的授权 on /account,
// withdraws it (撤销授权), and the app's refresh token is refused at /token (invalid_grant) while
// another citizen's authorization of the same app goes on working. Then 我的数据 downloads a JSON
// document with the citizen's own data and nothing of the other citizen.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { startProvider, idNumber } from './lib/provider.mjs';
import { startRelyingParty } from './lib/relying-party.mjs';
import { launch } from './lib/browser.mjs';
import { logIn, PASSWORD } from './lib/demo.mjs';

const APP = '社保查询';
const alice = { id: idNumber('32010519800101123'), name: '王小明', phone: '13800138001' };
const bob = { id: idNumber('51010519900202456'), name: '赵大海', phone: '13900139002' };
let provider, rp, browser;

before(async () => {
  provider = await startProvider();
  for (const c of [alice, bob]) {
    provider.cli(['user', 'create', '--id-number', c.id, '--name', c.name, '--phone', c.phone, '--password-stdin'], PASSWORD);
  }
  const client = { client_id: '', client_secret: '' };
  rp = await startRelyingParty(provider.issuer, client, { scope: 'openid profile phone offline_access' });
  Object.assign(client, provider.cli(['client', 'create', '--name', APP, '--redirect-uri', rp.redirectUri, '--approve']));
  rp.client = client;
  browser = await launch();
});

after(async () => {
  await browser?.close();
  rp?.stop();
  provider?.stop();
});

// Logs the citizen in at the app in a fresh browser and allows it; the page (now at the app) and
// what the app received: the ID token's claims and its token response.
async function authorizeApp(citizen) {
  const page = await (await browser.newContext({ locale: 'zh-CN' })).newPage();
  await page.goto(`${rp.base}/start`);
  await page.waitForURL(/\/login\?req=/);
  await logIn(page, citizen.id);
  await page.waitForURL(/\/consent/);
  await page.click('button[name="decision"][value="allow"]');
  await page.waitForURL((url) => url.href.startsWith(rp.redirectUri));
  const claims = JSON.parse(await page.textContent('#claims'));
  const tokens = rp.tokens.at(-1);
  assert.ok(tokens.refresh_token, 'the app holds a refresh token (offline_access)');
  return { page, claims, tokens };
}

const appsSection = (page) => page.locator('section[aria-labelledby="apps-title"]');

test('withdrawing an app on /account stops its refresh token; my data is mine alone', async () => {
  const a = await authorizeApp(alice);
  const b = await authorizeApp(bob);
  assert.notEqual(a.claims.sub, b.claims.sub);

  // The app's refresh token works before (and rotates): the refusal below is the withdrawal's.
  const before = await rp.refresh(a.tokens.refresh_token);
  assert.equal(before.status, 200, JSON.stringify(before.body));
  const current = before.body.refresh_token;
  assert.ok(current && current !== a.tokens.refresh_token, 'a rotated refresh token');

  const page = a.page;
  await page.goto(`${provider.issuer}/account`);
  assert.match(await page.textContent('main'), new RegExp(alice.name));
  const apps = appsSection(page);
  assert.match(await apps.locator('h2').textContent(), /我的授权/);
  const card = apps.locator('.app', { has: page.locator('h3', { hasText: APP }) });
  await card.waitFor();
  assert.match(await card.textContent(), /授权于/);
  // Login history: at least the password login just made.
  const history = page.locator('section[aria-labelledby="history-title"] tbody tr', { hasText: '登录' });
  assert.ok((await history.count()) >= 1, 'the login shows in 登录记录');
  assert.match(await history.first().textContent(), /密码/);

  await card.getByRole('button', { name: /撤销授权/ }).click();
  await page.waitForURL(/\/account\?done=revoked/);
  assert.match(await page.textContent('main'), /已撤销授权/);
  assert.equal(await appsSection(page).locator('h3', { hasText: APP }).count(), 0, 'the app is gone from 我的授权');

  const after = await rp.refresh(current);
  assert.equal(after.status, 400, JSON.stringify(after.body));
  assert.equal(after.body.error, 'invalid_grant');
  // The other citizen's authorization of the same app is untouched.
  const others = await rp.refresh(b.tokens.refresh_token);
  assert.equal(others.status, 200, `the other citizen's grant still works: ${JSON.stringify(others.body)}`);

  // 我的数据: the download is a JSON file of the citizen's own data.
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: '下载我的数据' }).click(),
  ]);
  assert.equal(download.suggestedFilename(), 'my-data.json');
  const text = await readFile(await download.path(), 'utf8');
  const data = JSON.parse(text);
  assert.equal(data.account.name, alice.name);
  assert.equal(data.account.id_number, alice.id);
  assert.equal(data.account.phone, alice.phone);
  assert.equal(data.account.sub, a.claims.sub);
  assert.ok(
    !(data.authorized_apps ?? []).some((app) => app.client_id === rp.client.client_id),
    'the withdrawn app is no longer among the authorized apps',
  );
  for (const [what, value] of [['name', bob.name], ['ID number', bob.id], ['phone', bob.phone], ['sub', b.claims.sub]]) {
    assert.ok(!text.includes(value), `the export holds nothing of the other citizen (their ${what})`);
  }
});
