#!/usr/bin/env node
// The conformance runner. Usage:
//   node conformance/run.mjs [--provider oidc-provider|idp|all] [--only id,id] [--plan Basic|Config|Dynamic|RP]
//                            [--write] [--allow-failures] [--mutation NAME]
//   node conformance/run.mjs --issuer https://op.example [--only ...]      (a running provider; see providers/external.mjs)
//   node conformance/run.mjs selftest [--provider oidc-provider|idp]       (every mutation must make its checks fail)
// --write regenerates conformance/RESULTS.md (both providers). Exit code 1 if a check failed.

import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CHECKS } from './checks/index.mjs';
import { startTarget, runChecks } from './lib/runner.mjs';
import { terminalTable, resultsMarkdown, counts } from './lib/report.mjs';
import { idpBinary } from './providers/idp.mjs';
import { MUTATIONS } from './lib/mutations.mjs';
import { selftest } from './lib/selftest.mjs';

function parseArgs(argv) {
  const a = { provider: 'all', only: null, plan: null, write: false, allowFailures: false, mutation: null, issuer: null, command: 'run', verbose: false };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i];
    if (v === 'selftest') a.command = 'selftest';
    else if (v === '--provider') a.provider = argv[++i];
    else if (v === '--only') a.only = argv[++i].split(',');
    else if (v === '--plan') a.plan = argv[++i];
    else if (v === '--write') a.write = true;
    else if (v === '--allow-failures') a.allowFailures = true;
    else if (v === '--mutation') a.mutation = argv[++i];
    else if (v === '--issuer') { a.issuer = argv[++i]; a.provider = 'external'; }
    else if (v === '--verbose') a.verbose = true;
    else if (v === '--help' || v === '-h') a.command = 'help';
    else throw new Error(`unknown argument ${v}`);
  }
  return a;
}

function selectChecks(a) {
  let list = CHECKS;
  if (a.only) {
    for (const id of a.only) if (!CHECKS.some((c) => c.id === id)) throw new Error(`no check named ${id}`);
    list = list.filter((c) => a.only.includes(c.id));
  }
  if (a.plan) list = list.filter((c) => c.plan === a.plan);
  return list;
}

function providersFor(a) {
  if (a.provider === 'all') return ['idp', 'oidc-provider'];
  return [a.provider];
}

const TITLES = { idp: 'idp (our provider)', 'oidc-provider': 'oidc-provider (npm, reference provider)', external: 'external provider' };

async function runOne(kind, a, checks) {
  if (kind === 'idp' && !fs.existsSync(idpBinary())) return { title: TITLES[kind], error: process.env.IDP_BIN ? 'IDP_BIN does not exist' : 'the idp binary is not built (target/debug/idp)' };
  const log = (s) => { if (a.verbose) console.error(s); };
  let target;
  try {
    target = await startTarget(kind, { issuer: a.issuer });
  } catch (e) {
    return { title: TITLES[kind], error: `could not start: ${e.message.split('\n')[0]}` };
  }
  try {
    if (a.mutation) {
      const m = MUTATIONS[a.mutation];
      if (!m) throw new Error(`no mutation named ${a.mutation}; known: ${Object.keys(MUTATIONS).join(', ')}`);
      target.proxy.setMutation(m.make(target.ctx.meta));
    }
    const results = await runChecks(target, checks, {
      onResult: (r) => { if (a.verbose) console.error(`${kind} ${r.id}: ${r.result} ${r.detail}`); },
      onLog: log,
    });
    if (a.verbose && results.some((r) => r.result === 'fail')) console.error(`--- ${kind} log tail ---\n${target.provider.logTail(40)}`);
    return { title: TITLES[kind], results };
  } finally {
    await target.stop();
  }
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  if (a.command === 'help') {
    console.log(fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').filter((l) => l.startsWith('//')).join('\n'));
    return 0;
  }
  if (a.command === 'selftest') return selftest({ provider: a.provider === 'all' ? 'oidc-provider' : a.provider, verbose: a.verbose });
  if (a.write && (a.provider !== 'all' || a.only || a.plan || a.mutation)) throw new Error('--write regenerates the whole RESULTS.md: use it without --provider, --issuer, --only, --plan, --mutation');
  const checks = selectChecks(a);
  const sections = [];
  for (const kind of providersFor(a)) {
    const s = await runOne(kind, a, checks);
    sections.push(s);
    if (s.error) console.log(`\n== ${s.title} ==\nnot run: ${s.error}`);
    else console.log(terminalTable(s.title, s.results));
  }
  if (a.write) {
    const file = fileURLToPath(new URL('./RESULTS.md', import.meta.url));
    fs.writeFileSync(file, resultsMarkdown(sections));
    console.log(`\nwrote ${file}`);
  }
  const failed = sections.reduce((n, s) => n + (s.results ? counts(s.results).fail : 0), 0);
  const total = sections.reduce((n, s) => n + (s.results ? counts(s.results).pass : 0), 0);
  const skipped = sections.reduce((n, s) => n + (s.results ? counts(s.results).skipped : 0), 0);
  console.log(`\nconformance: ${total} passed, ${failed} failed, ${skipped} skipped`);
  return failed && !a.allowFailures ? 1 : 0;
}

main().then((code) => process.exit(code), (e) => { console.error(e.stack ?? e); process.exit(2); });
