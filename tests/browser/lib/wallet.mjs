// The `wallet` binary (the reference government app) playing the citizen's phone.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { WALLET_BIN } from './provider.mjs';

export function wallet(dir) {
  const state = join(dir, 'wallet.json');
  const run = (args, input) => {
    const r = spawnSync(WALLET_BIN, ['--state', state, ...args], { input, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`wallet ${args.join(' ')} failed: ${r.stderr}`);
    return JSON.parse(r.stdout);
  };
  return {
    login: (issuer, clientId, idNumber, password) =>
      run(['login', '--issuer', issuer, '--client-id', clientId, '--id-number', idNumber, '--password-stdin'], password + '\n'),
    scan: (payload, ...answer) => run(['scan', payload, ...answer]),
    devices: () => run(['devices']),
  };
}
