// The acceptance test of the harness: against the reference provider, every mutation of the proxy
// makes the checks it names FAIL (and they pass without it). Set CONFORMANCE_SELFTEST_IDP=1 to also
// run it against the idp binary.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { idpBinary } from '../providers/idp.mjs';

const RUN = fileURLToPath(new URL('../run.mjs', import.meta.url));

function selftest(provider) {
  const r = spawnSync(process.execPath, [RUN, 'selftest', '--provider', provider], { encoding: 'utf8', timeout: 600000 });
  return { code: r.status, out: `${r.stdout}\n${r.stderr}` };
}

test('mutations make their checks fail (oidc-provider)', { timeout: 600000 }, () => {
  const { code, out } = selftest('oidc-provider');
  assert.equal(code, 0, out);
});

test('mutations make their checks fail (idp)', { timeout: 600000, skip: process.env.CONFORMANCE_SELFTEST_IDP !== '1' || !fs.existsSync(idpBinary()) }, () => {
  const { code, out } = selftest('idp');
  assert.equal(code, 0, out);
});
