// Starts the `idp` binary (built by `cargo test` / `cargo build`) as a real server on localhost,
// with its own temporary SQLite database, and runs its admin commands.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:net';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const IDP_BIN = process.env.IDP_BIN || join(root, 'target/debug/idp');
export const WALLET_BIN = process.env.WALLET_BIN || join(root, 'target/debug/wallet');

export function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

export async function startProvider() {
  const dir = mkdtempSync(join(tmpdir(), 'idp-browser-'));
  const port = await freePort();
  const issuer = `http://localhost:${port}`;
  const env = {
    ...process.env,
    IDP_DATABASE_URL: `sqlite://${join(dir, 'idp.db')}`,
    IDP_KEK_FILE: join(dir, 'kek'),
    IDP_ISSUER: issuer,
    IDP_BIND: `127.0.0.1:${port}`,
    IDP_LOG: 'warn',
  };
  const cli = (args, input) => {
    const r = spawnSync(IDP_BIN, args, { env, input, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`idp ${args.join(' ')} failed: ${r.stderr}`);
    return r.stdout.trim() ? JSON.parse(r.stdout) : null;
  };
  cli(['migrate']);
  const child = spawn(IDP_BIN, ['serve'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  // `idp serve` prints one line once it accepts connections.
  await new Promise((ok, fail) => {
    child.once('exit', (code) => fail(new Error(`idp serve exited with ${code}`)));
    child.stdout.once('data', (line) => (String(line).includes('listening on') ? ok() : fail(new Error(String(line)))));
  });
  return {
    issuer,
    cli,
    dir,
    stop() {
      child.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// A valid GB 11643 ID number (check character computed).
export function idNumber(first17) {
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...first17].reduce((acc, d, i) => acc + Number(d) * weights[i], 0);
  return first17 + '10X98765432'[sum % 11];
}
