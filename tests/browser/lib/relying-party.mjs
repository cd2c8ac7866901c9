// A minimal confidential relying party on localhost: starts the code flow with PKCE, state and
// nonce, exchanges the code at the token endpoint, and shows the ID token's claims. It keeps
// each token response it received (`tokens`), newest last, and can refresh like an app does.
import { createServer } from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { freePort } from './provider.mjs';

const b64u = (buf) => Buffer.from(buf).toString('base64url');

export async function startRelyingParty(issuer, client, { scope = 'openid profile' } = {}) {
  const port = await freePort();
  const base = `http://localhost:${port}`;
  const pending = new Map();
  const tokens = [];
  const server = createServer(async (req, res) => {
    const url = new URL(req.url, base);
    try {
      if (url.pathname === '/start') {
        const state = b64u(randomBytes(16));
        const nonce = b64u(randomBytes(16));
        const verifier = b64u(randomBytes(32));
        pending.set(state, { nonce, verifier });
        const auth = new URL('/authorize', issuer);
        auth.search = new URLSearchParams({
          response_type: 'code',
          client_id: client.client_id,
          redirect_uri: `${base}/cb`,
          scope,
          state,
          nonce,
          code_challenge: b64u(createHash('sha256').update(verifier).digest()),
          code_challenge_method: 'S256',
          ...(url.searchParams.get('acr_values') ? { acr_values: url.searchParams.get('acr_values') } : {}),
        });
        res.writeHead(302, { location: auth.href }).end();
        return;
      }
      if (url.pathname === '/cb') {
        const flow = pending.get(url.searchParams.get('state'));
        if (!flow) throw new Error('unknown state');
        pending.delete(url.searchParams.get('state'));
        if (url.searchParams.get('iss') !== issuer) throw new Error('wrong iss in the response');
        const token = await fetch(`${issuer}/token`, {
          method: 'POST',
          headers: {
            authorization: 'Basic ' + Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64'),
            'content-type': 'application/x-www-form-urlencoded',
          },
          body: new URLSearchParams({
            grant_type: 'authorization_code',
            code: url.searchParams.get('code'),
            redirect_uri: `${base}/cb`,
            code_verifier: flow.verifier,
          }),
        });
        const body = await token.json();
        if (!token.ok) throw new Error(`token endpoint: ${JSON.stringify(body)}`);
        tokens.push(body);
        const claims = JSON.parse(Buffer.from(body.id_token.split('.')[1], 'base64url').toString());
        if (claims.iss !== issuer || claims.aud !== client.client_id || claims.nonce !== flow.nonce) {
          throw new Error(`ID token does not belong to this flow: ${JSON.stringify(claims)}`);
        }
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end(`<!DOCTYPE html><title>RP</title><pre id="claims">${JSON.stringify(claims)}</pre>`);
        return;
      }
      res.writeHead(404).end();
    } catch (e) {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(`RP error: ${e.message}`);
    }
  });
  await new Promise((ok) => server.listen(port, '127.0.0.1', ok));
  // A refresh at the token endpoint as this app: the HTTP status and the JSON answer.
  const refresh = async (refreshToken) => {
    const r = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: {
        authorization: 'Basic ' + Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64'),
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }),
    });
    return { status: r.status, body: await r.json() };
  };
  return { base, redirectUri: `${base}/cb`, tokens, refresh, stop: () => server.close() };
}
