// PyPI authlib (requests client) as a relying party: rp/authlib_rp.py does the protocol work,
// the harness's browser does the user's part (login, logout).

import { spawn } from 'node:child_process';
import { spawnSync } from 'node:child_process';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { fail, skip } from '../../lib/check.mjs';
import { POST_LOGOUT_URI, REDIRECT_URI } from '../../lib/context.mjs';
import { rpClient, browserLogin, browserLogout, expectLoggedOut, newBrowser } from './session.mjs';

const SCRIPT = fileURLToPath(new URL('../../rp/authlib_rp.py', import.meta.url));

function authlibAvailable() {
  return spawnSync('python3', ['-c', 'import authlib, requests'], { stdio: 'ignore' }).status === 0;
}

export default {
  id: 'rp-authlib',
  plan: 'RP',
  title: 'PyPI authlib: code flow + PKCE, state and RFC 9207 iss, ID token signature and claims (nonce, at_hash), userinfo, refresh, RP-initiated logout',
  async run(ctx) {
    if (!authlibAvailable()) skip('python3 authlib/requests not installed (run conformance/install.sh)');
    const client = await rpClient(ctx, 'rp-authlib');
    const py = spawn('python3', [SCRIPT, ctx.issuer, client.client_id, client.client_secret, REDIRECT_URI, POST_LOGOUT_URI], { stdio: ['pipe', 'pipe', 'pipe'] });
    const lines = readline.createInterface({ input: py.stdout })[Symbol.asyncIterator]();
    let stderr = '';
    py.stderr.on('data', (d) => { stderr += d; });
    const next = async () => {
      const { value, done } = await lines.next();
      if (done) fail(`authlib RP exited early: ${stderr.trim().split('\n').pop() ?? ''}`);
      const msg = JSON.parse(value);
      if (msg.error) fail(`authlib: ${msg.error}`);
      return msg;
    };
    try {
      const browser = newBrowser();
      const auth = await next();
      const cb = await browserLogin(ctx, browser, auth.url);
      py.stdin.write(`${cb.url.href}\n`);
      const logout = await next();
      await browserLogout(browser, logout.url, logout.state);
      py.stdin.write('done\n');
      await next();
      await expectLoggedOut(ctx, browser, client);
    } finally {
      py.kill();
    }
  },
};
