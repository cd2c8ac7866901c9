// Start a provider behind the harness proxy, run checks against it, collect results.

import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startProxy } from './proxy.mjs';
import { startAuxServer } from './aux-server.mjs';
import { Context } from './context.mjs';
import { Fail, Skip } from './check.mjs';
import { startReference } from '../providers/reference.mjs';
import { startIdp } from '../providers/idp.mjs';
import { startExternal } from '../providers/external.mjs';

const SKIPS = JSON.parse(fs.readFileSync(fileURLToPath(new URL('../skips.json', import.meta.url)), 'utf8'));
const CHECK_TIMEOUT_MS = 120000;

export function skipsFor(kind) {
  return SKIPS[kind] ?? {};
}

/** Start `kind` ('oidc-provider' | 'idp' | 'external') with the proxy in front; returns a target. */
export async function startTarget(kind, { issuer } = {}) {
  const aux = await startAuxServer();
  let proxy = null;
  let provider;
  try {
    if (kind === 'external') {
      provider = await startExternal({ issuer });
    } else {
      proxy = await startProxy();
      const start = kind === 'idp' ? startIdp : startReference;
      provider = await start({ issuer: proxy.url });
      proxy.setTarget(provider.port);
    }
    const ctx = new Context({ provider, aux });
    await ctx.init();
    return {
      kind, provider, proxy, aux, ctx,
      async stop() {
        await provider.stop();
        await proxy?.close();
        await aux.close();
      },
    };
  } catch (e) {
    await provider?.stop().catch(() => {});
    await proxy?.close();
    await aux.close();
    throw e;
  }
}

async function withTimeout(promise, ms, what) {
  let timer;
  const t = new Promise((_, reject) => { timer = setTimeout(() => reject(new Fail(`${what} did not finish within ${ms / 1000} s`)), ms); });
  try {
    return await Promise.race([promise, t]);
  } finally {
    clearTimeout(timer);
  }
}

/** An exception as one line: message, code and the chain of causes (libraries put the detail there). */
export function errorText(e) {
  const parts = [];
  for (let x = e, depth = 0; x && depth < 4; x = x.cause, depth++) {
    if (typeof x !== 'object') break;
    const code = x.code && typeof x.code === 'string' ? ` [${x.code}]` : '';
    if (x.message) parts.push(`${x.message}${code}`);
  }
  return parts.join(': ');
}

/** Run one check; never throws. */
export async function runCheck(target, check, skips, { onLog } = {}) {
  const base = { id: check.id, plan: check.plan, title: check.title };
  if (skips[check.id]) return { ...base, result: 'skipped', detail: skips[check.id] };
  try {
    const note = await withTimeout(Promise.resolve().then(() => check.run(target.ctx)), check.timeoutMs ?? CHECK_TIMEOUT_MS, check.id);
    return { ...base, result: 'pass', detail: note ?? '' };
  } catch (e) {
    if (e instanceof Skip) return { ...base, result: 'fail', detail: `skipped at run time but not listed in skips.json: ${e.message}` };
    if (e instanceof Fail) return { ...base, result: 'fail', detail: e.message };
    onLog?.(`${check.id}: harness error: ${e.stack}`);
    return { ...base, result: 'fail', detail: `error: ${errorText(e)}` };
  }
}

export async function runChecks(target, checks, { onResult, onLog } = {}) {
  const skips = skipsFor(target.kind);
  const results = [];
  for (const check of checks) {
    const r = await runCheck(target, check, skips, { onLog });
    results.push(r);
    onResult?.(r);
  }
  return results;
}
