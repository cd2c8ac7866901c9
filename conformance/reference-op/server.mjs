// The reference OpenID provider: npm oidc-provider behind the same contract as `idp`
// (HTML login and consent forms, an admin API instead of the admin CLI).
// Env: REF_ISSUER (public issuer URL), REF_PORT, REF_ADMIN_TOKEN (bearer for /__admin/*).
// Prints "listening on ..." when ready.

import http from 'node:http';
import crypto from 'node:crypto';
import Provider from 'oidc-provider';
import * as jose from 'jose';
import { providerConfig } from './config.mjs';
import { loginPage, consentPage, logoutPage } from './pages.mjs';

const issuer = process.env.REF_ISSUER;
const port = Number(process.env.REF_PORT);
const adminToken = process.env.REF_ADMIN_TOKEN;
const cookieKeys = [crypto.randomBytes(32).toString('base64url')];
const csrfKey = crypto.randomBytes(32);

const users = new Map(); // sub -> user
const keys = [await newKey('RS256'), await newKey('ES256')];

async function newKey(alg) {
  const { privateKey } = await jose.generateKeyPair(alg, { extractable: true });
  const jwk = await jose.exportJWK(privateKey);
  return { ...jwk, alg, use: 'sig', kid: await jose.calculateJwkThumbprint(jwk) };
}

function findAccount(_ctx, sub) {
  const u = users.get(sub);
  if (!u) return undefined;
  return {
    accountId: sub,
    claims: async () => ({
      sub,
      name: u.name,
      ...(u.email && { email: u.email, email_verified: true }),
      ...(u.phone && { phone_number: u.phone, phone_number_verified: true }),
      ...(u.address && { address: { formatted: u.address } }),
      id_number: u.id_number,
    }),
  };
}

function makeProvider() {
  const p = new Provider(issuer, providerConfig({ jwks: { keys }, cookieKeys, findAccount, renderLogoutPage: logoutPage }));
  p.proxy = false;
  for (const event of ['grant.error', 'server_error', 'authorization.error', 'userinfo.error', 'registration_create.error', 'end_session.error']) {
    p.on(event, (_ctx, err) => console.error(`${event}: ${err.error ?? err.name}: ${err.error_description ?? err.message}${err.error_detail ? ` (${err.error_detail})` : ''}`));
  }
  return p;
}

// Key rotation builds a new Provider over the same (module-global) memory storage.
let provider = makeProvider();
let handler = provider.callback();

const csrfFor = (uid) => crypto.createHmac('sha256', csrfKey).update(uid).digest('base64url');

async function readForm(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString()));
}

async function readJson(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : {};
}

function send(res, status, body, type = 'text/html; charset=utf-8') {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

async function interaction(req, res, path) {
  const details = await provider.interactionDetails(req, res);
  const { uid, prompt, params } = details;
  if (req.method === 'GET') {
    if (prompt.name === 'login') return send(res, 200, loginPage({ uid, csrf: csrfFor(uid) }));
    const client = await provider.Client.find(params.client_id);
    return send(res, 200, consentPage({ uid, csrf: csrfFor(uid), clientName: client?.clientName ?? params.client_id, scopes: String(params.scope).split(' ') }));
  }
  const form = await readForm(req);
  if (form.csrf !== csrfFor(uid)) return send(res, 400, '<p>invalid csrf token</p>');
  if (path.endsWith('/login')) {
    const user = [...users.values()].find((u) => u.id_number === form.username || (u.phone && u.phone === form.username));
    if (!user || user.password !== form.password) return send(res, 200, loginPage({ uid, csrf: csrfFor(uid), error: 'Wrong ID number or password' }));
    return provider.interactionFinished(req, res, { login: { accountId: user.sub, acr: 'urn:idp:acr:password', amr: ['pwd'] } }, { mergeWithLastSubmission: false });
  }
  if (form.decision !== 'allow') {
    return provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'the user denied the request' }, { mergeWithLastSubmission: false });
  }
  const { details: missing } = prompt;
  const grant = details.grantId ? await provider.Grant.find(details.grantId) : new provider.Grant({ accountId: details.session.accountId, clientId: params.client_id });
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
  const grantId = await grant.save();
  return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
}

async function admin(req, res, path) {
  if (req.headers.authorization !== `Bearer ${adminToken}`) return send(res, 401, { error: 'unauthorized' }, 'application/json');
  const body = await readJson(req);
  if (path === '/__admin/users') {
    const sub = crypto.randomUUID();
    users.set(sub, { ...body, sub });
    return send(res, 200, { sub }, 'application/json');
  }
  if (path === '/__admin/clients') {
    const client_id = `ref-${crypto.randomBytes(8).toString('hex')}`;
    const isPublic = body.public || body.auth_method === 'none';
    const metadata = {
      client_id,
      client_name: body.name,
      redirect_uris: body.redirect_uris,
      grant_types: body.grant_types?.length ? body.grant_types : ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: isPublic ? 'none' : (body.auth_method ?? 'client_secret_basic'),
      ...(body.scopes?.length && { scope: body.scopes.join(' ') }),
      ...(body.id_token_alg && { id_token_signed_response_alg: body.id_token_alg }),
      ...(body.post_logout_redirect_uris?.length && { post_logout_redirect_uris: body.post_logout_redirect_uris }),
      ...(body.backchannel_logout_uri && { backchannel_logout_uri: body.backchannel_logout_uri }),
      ...(body.jwks_uri && { jwks_uri: body.jwks_uri }),
    };
    if (!isPublic && metadata.token_endpoint_auth_method !== 'private_key_jwt') metadata.client_secret = crypto.randomBytes(24).toString('base64url');
    await provider.Client.adapter.upsert(client_id, metadata);
    try {
      await provider.Client.find(client_id);
    } catch (e) {
      await provider.Client.adapter.destroy(client_id);
      return send(res, 400, { error: e.error ?? 'invalid_client_metadata', error_description: e.error_description ?? e.message }, 'application/json');
    }
    return send(res, 200, { client_id, ...(metadata.client_secret && { client_secret: metadata.client_secret }) }, 'application/json');
  }
  if (path === '/__admin/registration-token') {
    const token = await new provider.InitialAccessToken({}).save();
    return send(res, 200, { token }, 'application/json');
  }
  if (path === '/__admin/rotate-keys') {
    const fresh = await newKey('RS256');
    keys.unshift(fresh);
    provider = makeProvider();
    handler = provider.callback();
    return send(res, 200, { kid: fresh.kid }, 'application/json');
  }
  return send(res, 404, { error: 'not_found' }, 'application/json');
}

const server = http.createServer(async (req, res) => {
  const path = new URL(req.url, issuer).pathname;
  try {
    if (path === '/readyz') return send(res, 200, 'ok', 'text/plain');
    if (path.startsWith('/__admin/')) return await admin(req, res, path);
    if (path.startsWith('/interaction/')) return await interaction(req, res, path);
    return handler(req, res);
  } catch (e) {
    if (!res.headersSent) send(res, e.statusCode ?? 500, `<!doctype html><p>${e.error ?? 'server_error'}</p>`);
    else res.end();
  }
});

server.listen(port, '127.0.0.1', () => {
  console.log(`reference OP (oidc-provider) listening on 127.0.0.1:${port} as ${issuer}`);
});
