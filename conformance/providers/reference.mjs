// The reference provider: npm oidc-provider (reference-op/server.mjs) with an admin HTTP API in
// place of `idp`'s admin CLI.

import crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Child, freePort } from '../lib/process.mjs';

const SERVER = fileURLToPath(new URL('../reference-op/server.mjs', import.meta.url));

export async function startReference({ issuer }) {
  const port = await freePort();
  const token = crypto.randomBytes(16).toString('hex');
  const child = new Child(process.execPath, [SERVER], {
    env: { REF_ISSUER: issuer, REF_PORT: String(port), REF_ADMIN_TOKEN: token },
    cwd: fileURLToPath(new URL('..', import.meta.url)),
  });
  await child.ready({ pattern: /listening on/ });
  const direct = `http://127.0.0.1:${port}`;

  async function admin(path, body = {}) {
    const res = await fetch(`${direct}/__admin/${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const json = await res.json();
    if (!res.ok) throw new Error(`reference admin ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  }

  return {
    name: 'oidc-provider',
    port,
    issuer,
    createUser: (u) => admin('users', u),
    createClient: (c) => admin('clients', c),
    registrationToken: async () => (await admin('registration-token')).token,
    rotateKeys: () => admin('rotate-keys'),
    logTail: (n) => child.tail(n),
    stop: () => child.stop(),
  };
}
