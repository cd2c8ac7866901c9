// The harness's own test: every check named by a mutation passes against the provider as it is,
// and FAILS when the proxy applies that mutation. A check that cannot fail is a placeholder.

import { CHECKS } from '../checks/index.mjs';
import { MUTATIONS } from './mutations.mjs';
import { startTarget, runChecks, skipsFor } from './runner.mjs';
import { sanitize } from './report.mjs';

export async function selftest({ provider = 'oidc-provider', only = null, verbose = false } = {}) {
  const mutations = Object.entries(MUTATIONS).filter(([name]) => !only || only.includes(name));
  const skips = skipsFor(provider);
  const byId = new Map(CHECKS.map((c) => [c.id, c]));
  const target = await startTarget(provider);
  const rows = [];
  try {
    const wanted = [...new Set(mutations.flatMap(([, m]) => m.checks))].filter((id) => byId.has(id) && !skips[id]);
    const baseline = await runChecks(target, wanted.map((id) => byId.get(id)));
    const baselineOk = new Map(baseline.map((r) => [r.id, r.result === 'pass']));
    for (const r of baseline) if (r.result !== 'pass') rows.push({ mutation: '(none)', check: r.id, ok: false, got: `baseline ${r.result}: ${r.detail}` });
    for (const [name, m] of mutations) {
      const checks = m.checks.filter((id) => byId.has(id) && !skips[id] && baselineOk.get(id)).map((id) => byId.get(id));
      target.proxy.setMutation(m.make(target.ctx.meta));
      const results = await runChecks(target, checks);
      target.proxy.setMutation(null);
      for (const r of results) rows.push({ mutation: name, check: r.id, ok: r.result === 'fail' && m.expect.test(r.detail), got: r.result === 'fail' ? `fails: ${r.detail}` : r.result });
      for (const id of m.checks.filter((x) => !byId.has(x))) rows.push({ mutation: name, check: id, ok: true, got: 'not registered (not built yet)' });
    }
  } finally {
    await target.stop();
  }
  const w = Math.max(...rows.map((r) => r.mutation.length));
  const c = Math.max(...rows.map((r) => r.check.length));
  console.log(`\nself-test against ${provider}: each mutation must make its checks FAIL`);
  for (const r of rows) console.log(`${r.ok ? 'ok  ' : 'BAD '} ${r.mutation.padEnd(w)}  ${r.check.padEnd(c)}  ${sanitize(r.got).slice(0, verbose ? 1000 : 160)}`);
  const bad = rows.filter((r) => !r.ok).length;
  console.log(`selftest: ${rows.length - bad} passed, ${bad} failed`);
  return bad ? 1 : 0;
}
