// Our provider: the `idp` binary, started on a fresh SQLite database, administered with its CLI.

import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Child, freePort } from '../lib/process.mjs';

export const DEFAULT_BIN = fileURLToPath(new URL('../../target/debug/idp', import.meta.url));

export function idpBinary() {
  return process.env.IDP_BIN || DEFAULT_BIN;
}

export async function startIdp({ issuer }) {
  const bin = idpBinary();
  if (!fs.existsSync(bin)) throw new Error('idp binary not found (build target/debug/idp, or set IDP_BIN)');
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'idp-conformance-'));
  const env = {
    IDP_DATABASE_URL: `sqlite://${dir}/idp.db`,
    IDP_KEK_FILE: `${dir}/kek`,
    IDP_BIND: `127.0.0.1:${port}`,
    IDP_ISSUER: issuer,
  };
  const child = new Child(bin, ['serve'], { env, cwd: dir });
  const direct = `http://127.0.0.1:${port}`;
  await child.ready({
    pattern: /listening on/i,
    probe: async () => (await fetch(`${direct}/readyz`, { signal: AbortSignal.timeout(1000) })).status === 200,
  });

  function cli(args, stdin) {
    return new Promise((resolve, reject) => {
      const p = execFile(bin, args, { env: { ...process.env, ...env }, cwd: dir, timeout: 60000 }, (err, stdout, stderr) => {
        const json = stdout.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('{')).map((l) => { try { return JSON.parse(l); } catch { return null; } }).find(Boolean);
        if (err || !json) return reject(new Error(`idp ${args.slice(0, 2).join(' ')} failed (exit ${err?.code ?? 0}): ${(stderr || stdout).trim().slice(0, 500)}`));
        resolve(json);
      });
      p.stdin.end(stdin ?? '');
    });
  }

  return {
    name: 'idp',
    port,
    issuer,
    createUser: (u) => {
      const args = ['user', 'create', '--id-number', u.id_number, '--name', u.name];
      if (u.phone) args.push('--phone', u.phone);
      if (u.email) args.push('--email', u.email);
      if (u.address) args.push('--address', u.address);
      args.push('--password-stdin');
      return cli(args, `${u.password}\n`);
    },
    createClient: (c) => {
      const args = ['client', 'create', '--name', c.name, '--approve'];
      for (const r of c.redirect_uris ?? []) args.push('--redirect-uri', r);
      if (c.public) args.push('--public');
      for (const g of c.grant_types ?? []) args.push('--grant-type', g);
      for (const s of c.scopes ?? []) args.push('--scope', s);
      if (c.auth_method) args.push('--auth-method', c.auth_method);
      if (c.id_token_alg) args.push('--id-token-alg', c.id_token_alg);
      for (const r of c.post_logout_redirect_uris ?? []) args.push('--post-logout-redirect-uri', r);
      if (c.backchannel_logout_uri) args.push('--backchannel-logout-uri', c.backchannel_logout_uri);
      return cli(args);
    },
    registrationToken: async () => (await cli(['client', 'registration-token', '--approve'])).token,
    // Not in the written contract yet: `idp keys rotate` is what the operator's rotation would be.
    rotateKeys: () => cli(['keys', 'rotate']),
    logTail: (n) => child.tail(n),
    stop: async () => {
      await child.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
