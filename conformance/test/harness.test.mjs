// Unit tests of the harness's own parts (no provider needed).
import test from 'node:test';
import assert from 'node:assert/strict';
import { isValid, makeIdNumber, checkChar } from '../lib/gb11643.mjs';
import { parseForms, hiddenFields } from '../lib/html.mjs';
import { CookieJar } from '../lib/cookies.mjs';
import { sanitize } from '../lib/report.mjs';
import { sameEndpoint, responseParams } from '../lib/browser.mjs';
import { CHECKS } from '../checks/index.mjs';
import { MUTATIONS } from '../lib/mutations.mjs';

test('GB 11643 check character', () => {
  assert.equal(checkChar('11010519491231002'), 'X');
  assert.ok(isValid('11010519491231002X'));
  assert.ok(!isValid('110105194912310021'));
  for (let i = 0; i < 50; i++) assert.ok(isValid(makeIdNumber(i)));
});

test('forms: hidden inputs, buttons, resolved action', () => {
  const html = `<form method="POST" action="/login?x=1&amp;y=2"><input type="hidden" name="csrf" value="a&quot;b">
    <input name="username"><input type="password" name="password"><button type="submit" name="decision" value="allow">ok</button></form>`;
  const [f] = parseForms(html, 'http://op.test/authorize');
  assert.equal(f.method, 'post');
  assert.equal(f.action, 'http://op.test/login?x=1&y=2');
  assert.deepEqual(hiddenFields(f), [['csrf', 'a"b']]);
  assert.deepEqual(f.buttons, [{ name: 'decision', value: 'allow' }]);
  assert.equal(f.inputs.find((i) => i.name === 'username').type, 'text');
});

test('cookie jar: path, expiry, deletion', () => {
  const jar = new CookieJar();
  const res = (cookies) => ({ headers: { getSetCookie: () => cookies } });
  jar.store('http://op.test/a/b', res(['s=1; Path=/', 'i=2; Path=/interaction/x; HttpOnly', 'gone=3; Max-Age=0']));
  assert.equal(jar.header('http://op.test/'), 's=1');
  assert.equal(jar.header('http://op.test/interaction/x/login'), 'i=2; s=1');
  assert.equal(jar.header('http://other.test/'), undefined);
  jar.store('http://op.test/', res(['s=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT']));
  assert.equal(jar.header('http://op.test/'), undefined);
});

test('responses: endpoint match and params from query or fragment', () => {
  assert.ok(sameEndpoint('https://rp.example.org/cb?code=1', 'https://rp.example.org/cb'));
  assert.ok(!sameEndpoint('https://rp.example.org/cb2', 'https://rp.example.org/cb'));
  assert.deepEqual(responseParams('https://rp/cb#code=1&state=2'), { code: '1', state: '2' });
});

test('sanitize removes ports and random ids, keeps parameter names', () => {
  assert.equal(sanitize('http://127.0.0.1:43121/x a8F3kd93jfK2md93kfL39dkf93kdL'), 'http://127.0.0.1:PORT/x <id>');
  assert.equal(sanitize('authorization_response_iss_parameter_supported'), 'authorization_response_iss_parameter_supported');
});

test('every mutation names checks that exist and an expected failure pattern', () => {
  const ids = new Set(CHECKS.map((c) => c.id));
  for (const [name, m] of Object.entries(MUTATIONS)) {
    assert.ok(m.expect instanceof RegExp, `${name} has no expect`);
    for (const id of m.checks) assert.ok(ids.has(id), `${name} names unknown check ${id}`);
  }
});

test('every check has an id, plan, title and run', () => {
  for (const c of CHECKS) {
    assert.match(c.id, /^(oidcc|extra|rp)-[A-Za-z0-9-]+$/);
    assert.ok(['Config', 'Basic', 'Dynamic', 'RP'].includes(c.plan), c.id);
    assert.ok(c.title.length > 10, c.id);
    assert.equal(typeof c.run, 'function');
  }
});
