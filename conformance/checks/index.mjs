// Every check, in the order they run and are reported.
import config from './config.mjs';
import basicCore from './basic-core.mjs';
import basicSession from './basic-session.mjs';
import basicTokens from './basic-tokens.mjs';
import requestObjects from './request-objects.mjs';
import dynamic from './dynamic.mjs';
import relyingParties from './rp/index.mjs';

const rotate = dynamic.filter((c) => c.id === 'oidcc-server-rotate-keys');

export const CHECKS = [
  ...config,
  ...basicCore,
  ...basicSession,
  ...basicTokens,
  ...requestObjects.filter((c) => c.plan === 'Basic'),
  ...dynamic.filter((c) => c.id !== 'oidcc-server-rotate-keys'),
  ...requestObjects.filter((c) => c.plan === 'Dynamic'),
  ...rotate,
  ...relyingParties,
];

const ids = new Set();
for (const c of CHECKS) {
  if (ids.has(c.id)) throw new Error(`duplicate check id ${c.id}`);
  ids.add(c.id);
}
