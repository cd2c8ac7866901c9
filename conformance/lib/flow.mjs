// The harness's own relying party, written from the specifications: authorization request,
// authorization response checks, token request with each client authentication, userinfo.

import crypto from 'node:crypto';
import * as jose from 'jose';
import { Browser } from './browser.mjs';
import { randomValue } from './context.mjs';
import { fail, describe, expectNone } from './check.mjs';
import { validateIdToken } from './jwt.mjs';

export function pkcePair() {
  const verifier = crypto.randomBytes(32).toString('base64url');
  const challenge = crypto.createHash('sha256').update(verifier).digest('base64url');
  return { verifier, challenge };
}

/**
 * Send an authorization request through `browser` and follow it to the end.
 * params: extra or overriding parameters; a value of null removes a default.
 * Returns { outcome, params, state, nonce, verifier, redirectUri }.
 */
export async function authorize(ctx, client, { browser = new Browser(), params = {}, credentials, consent = 'allow', method = 'GET', pkce, stopAt, reverseOrder = false } = {}) {
  const state = randomValue();
  const nonce = randomValue();
  const p = { response_type: 'code', client_id: client.client_id, redirect_uri: client.redirect_uris[0], scope: 'openid', state, nonce };
  let verifier;
  if (pkce ?? client.public) {
    const pair = pkcePair();
    verifier = pair.verifier;
    Object.assign(p, { code_challenge: pair.challenge, code_challenge_method: 'S256' });
  }
  for (const [k, v] of Object.entries(params)) {
    if (v === null) delete p[k];
    else p[k] = v;
  }
  const creds = credentials === undefined ? (await ctx.user()).credentials : credentials;
  const target = stopAt ?? p.redirect_uri ?? client.redirect_uris[0];
  const endpoint = ctx.meta.authorization_endpoint;
  const entries = reverseOrder ? Object.entries(p).reverse() : Object.entries(p);
  const start = method === 'POST'
    ? { url: endpoint, method: 'POST', form: entries }
    : `${endpoint}?${new URLSearchParams(entries)}`;
  const outcome = await browser.navigate(start, { stopAt: target, credentials: creds, consent });
  return { outcome, params: p, state: p.state, nonce: p.nonce, verifier, redirectUri: p.redirect_uri, browser };
}

/** The authorization response must come back with a code, our state and (RFC 9207) the issuer. */
export function expectCode(ctx, flow) {
  const { outcome } = flow;
  if (outcome.kind !== 'callback') fail(`authorization did not return to the client: ${outcomeText(outcome)}`);
  const r = outcome.params;
  if (r.error) fail(`authorization response error=${r.error}`);
  if (!r.code) fail('authorization response has no code');
  checkResponseIssuerAndState(ctx, flow);
  return r.code;
}

/** An error authorization response (redirect to the client with error=...). */
export function expectErrorResponse(ctx, flow, allowed) {
  const { outcome } = flow;
  if (outcome.kind !== 'callback') fail(`expected an error redirect to the client, got ${outcomeText(outcome)}`);
  const r = outcome.params;
  if (!r.error) fail('expected an error authorization response, got one without error');
  if (r.code) fail('error authorization response also carries a code');
  if (allowed && !allowed.includes(r.error)) fail(`error=${r.error}, expected one of ${allowed.join(', ')}`);
  checkResponseIssuerAndState(ctx, flow);
  return r.error;
}

function checkResponseIssuerAndState(ctx, flow) {
  const r = flow.outcome.params;
  if (flow.state !== undefined && r.state !== flow.state) fail(r.state === undefined ? 'authorization response has no state' : 'authorization response state does not match the request');
  if (r.iss === undefined && ctx.meta.authorization_response_iss_parameter_supported) fail('authorization response has no iss although discovery sets authorization_response_iss_parameter_supported (RFC 9207)');
  if (r.iss !== undefined && r.iss !== ctx.issuer) fail('authorization response iss is not the issuer (RFC 9207)');
}

export function outcomeText(outcome) {
  if (outcome.kind === 'callback') return `redirect to the client${outcome.params.error ? ` with error=${outcome.params.error}` : ''}`;
  if (outcome.kind === 'error_page') return `error page HTTP ${outcome.status}`;
  if (outcome.kind === 'login_page') return 'a login page';
  return `a page without a usable form (HTTP ${outcome.status})`;
}

/** Client authentication for the token, introspection and revocation endpoints. */
export async function clientAuth(ctx, client, { aud } = {}) {
  const headers = {};
  const form = [];
  const method = client.auth_method ?? 'client_secret_basic';
  if (method === 'client_secret_basic') {
    const id = encodeURIComponent(client.client_id);
    const secret = encodeURIComponent(client.client_secret);
    headers.authorization = `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
  } else if (method === 'client_secret_post') {
    form.push(['client_id', client.client_id], ['client_secret', client.client_secret]);
  } else if (method === 'private_key_jwt') {
    const assertion = await new jose.SignJWT({})
      .setProtectedHeader({ alg: client.signingKey.alg, kid: client.signingKey.kid })
      .setIssuer(client.client_id)
      .setSubject(client.client_id)
      .setAudience(aud ?? ctx.meta.token_endpoint)
      .setJti(randomValue())
      .setIssuedAt()
      .setExpirationTime('60s')
      .sign(client.signingKey.privateKey);
    form.push(['client_id', client.client_id], ['client_assertion_type', 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'], ['client_assertion', assertion]);
  } else {
    form.push(['client_id', client.client_id]);
  }
  return { headers, form };
}

/** POST to an endpoint with client authentication; returns { status, headers, json, text }. */
export async function clientPost(ctx, client, url, fields, authOpts) {
  const auth = await clientAuth(ctx, client, authOpts);
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', ...auth.headers },
    body: new URLSearchParams([...Object.entries(fields), ...auth.form]).toString(),
  });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, headers: res.headers, json, text };
}

export function tokenRequest(ctx, client, fields, authOpts) {
  return clientPost(ctx, client, ctx.meta.token_endpoint, fields, authOpts);
}

export function exchangeCode(ctx, client, flow, code, extra = {}) {
  const fields = { grant_type: 'authorization_code', code, redirect_uri: flow.redirectUri, ...extra };
  if (flow.verifier && fields.code_verifier === undefined) fields.code_verifier = flow.verifier;
  return tokenRequest(ctx, client, fields);
}

/** A successful token response (RFC 6749 5.1 and OIDC 3.1.3.3): fail with what was seen otherwise. */
export function expectTokens(res, { idToken = true } = {}) {
  if (res.status !== 200 || !res.json) fail(`token endpoint answered ${describe(res)}`);
  const t = res.json;
  const problems = [];
  if (typeof t.access_token !== 'string') problems.push('no access_token');
  if (typeof t.token_type !== 'string' || t.token_type.toLowerCase() !== 'bearer') problems.push(`token_type ${JSON.stringify(t.token_type)} is not Bearer`);
  if (idToken && typeof t.id_token !== 'string') problems.push('no id_token');
  const cc = res.headers.get('cache-control') ?? '';
  if (!/no-store/i.test(cc)) problems.push('token response lacks Cache-Control: no-store');
  expectNone(problems, 'token response: ');
  return t;
}

/** The whole code flow with ID token validation. Returns { flow, code, tokens, idToken: {header, payload} }. */
export async function codeFlow(ctx, client, opts = {}) {
  const flow = await authorize(ctx, client, opts);
  const code = expectCode(ctx, flow);
  const tokens = expectTokens(await exchangeCode(ctx, client, flow, code));
  const expectNonce = opts.params && 'nonce' in opts.params && opts.params.nonce === null ? undefined : flow.nonce;
  const v = await validateIdToken(tokens.id_token, {
    issuer: ctx.issuer, clientId: client.client_id, nonce: expectNonce, jwks: await ctx.jwks(), expectedAlg: opts.expectedAlg,
  });
  expectNone(v.problems, 'id_token: ');
  return { flow, code, tokens, idToken: { header: v.header, payload: v.payload }, browser: flow.browser };
}

/** Userinfo request: mode 'get' | 'post-header' | 'post-body'. Returns { status, headers, json, text }. */
export async function userinfo(ctx, accessToken, mode = 'get') {
  const init = { headers: { accept: 'application/json' } };
  if (mode === 'get') init.method = 'GET';
  else init.method = 'POST';
  if (mode === 'post-body') {
    init.headers['content-type'] = 'application/x-www-form-urlencoded';
    init.body = new URLSearchParams({ access_token: accessToken }).toString();
  } else {
    init.headers.authorization = `Bearer ${accessToken}`;
  }
  const res = await fetch(ctx.meta.userinfo_endpoint, init);
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* JWT or error */ }
  return { status: res.status, headers: res.headers, json, text };
}

/** Userinfo that must succeed and belong to `sub`. */
export async function expectUserinfo(ctx, accessToken, sub, mode = 'get') {
  const res = await userinfo(ctx, accessToken, mode);
  if (res.status !== 200 || !res.json) fail(`userinfo (${mode}) answered HTTP ${res.status}`);
  if (res.json.sub !== sub) fail(`userinfo (${mode}) sub differs from the id_token sub`);
  return res.json;
}
