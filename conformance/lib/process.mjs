// Child processes the harness starts (providers, Apache, Python relying parties): start, wait for
// readiness, keep the last lines of output for failure reports, stop by pid.

import { spawn } from 'node:child_process';
import net from 'node:net';

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export class Child {
  // detached: own process group (Apache's prefork signals its whole group when it stops).
  constructor(cmd, args, { env = {}, cwd, detached = false } = {}) {
    this.lines = [];
    this.exited = null;
    this.proc = spawn(cmd, args, { env: { ...process.env, ...env }, cwd, stdio: ['ignore', 'pipe', 'pipe'], detached });
    const onData = (buf) => {
      for (const line of buf.toString().split('\n')) if (line.trim()) this.lines.push(line);
      if (this.lines.length > 400) this.lines.splice(0, this.lines.length - 400);
    };
    this.proc.stdout.on('data', onData);
    this.proc.stderr.on('data', onData);
    this.exitPromise = new Promise((resolve) => this.proc.on('exit', (code, signal) => { this.exited = { code, signal }; resolve(this.exited); }));
    this.proc.on('error', (e) => { this.lines.push(`spawn error: ${e.message}`); this.exited ??= { code: -1 }; });
  }

  /** Wait until an output line matches `pattern` or `probe()` resolves true. */
  async ready({ pattern, probe, timeoutMs = 60000 }) {
    const start = Date.now();
    while (Date.now() - start < timeoutMs) {
      if (this.exited) throw new Error(`process exited (${JSON.stringify(this.exited)}) before it was ready:\n${this.tail(20)}`);
      if (pattern && this.lines.some((l) => pattern.test(l))) return;
      if (probe && (await probe().catch(() => false))) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`not ready after ${timeoutMs} ms:\n${this.tail(20)}`);
  }

  tail(n = 30) {
    return this.lines.slice(-n).join('\n');
  }

  async stop() {
    if (this.exited) return;
    this.proc.kill('SIGTERM');
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
    await this.exitPromise;
    clearTimeout(t);
  }
}
