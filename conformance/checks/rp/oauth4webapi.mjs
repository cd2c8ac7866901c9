// npm oauth4webapi (certified, low level). Positive: the whole RP life cycle with its strict
// response validation (RFC 9207 iss, state, nonce, token and userinfo responses), revocation,
// logout. Negative: what the provider must refuse, as this library sees the error responses.

import * as oauth from 'oauth4webapi';
import { fail, expect } from '../../lib/check.mjs';
import { POST_LOGOUT_URI, REDIRECT_URI, randomValue } from '../../lib/context.mjs';
import { rpClient, browserLogin, browserLogout, expectLoggedOut, newBrowser } from './session.mjs';

const insecure = { [oauth.allowInsecureRequests]: true };

async function setup(ctx, name) {
  const issuer = new URL(ctx.issuer);
  const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure));
  const c = await rpClient(ctx, name);
  return { as, c, client: { client_id: c.client_id }, auth: oauth.ClientSecretBasic(c.client_secret) };
}

/** Authorization request + login + validated response; returns { params, verifier, nonce, browser }. */
async function login(ctx, { as, client }, extra = {}) {
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  const url = new URL(as.authorization_endpoint);
  const p = { client_id: client.client_id, redirect_uri: REDIRECT_URI, response_type: 'code', scope: 'openid profile offline_access', prompt: 'consent', state, nonce, code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', ...extra };
  for (const [k, v] of Object.entries(p)) url.searchParams.set(k, v);
  const browser = newBrowser();
  const cb = await browserLogin(ctx, browser, url);
  const params = oauth.validateAuthResponse(as, client, cb.url, state);
  return { params, verifier, nonce, browser };
}

/** Expect `promise` to reject with an OAuth error body `error` (ResponseBodyError or WWW-Authenticate challenge). */
async function expectOAuthError(promise, errors, what) {
  try {
    await promise;
  } catch (e) {
    let got = null;
    if (e instanceof oauth.ResponseBodyError) got = e.error;
    else if (e instanceof oauth.WWWAuthenticateChallengeError) {
      // RFC 6750 puts the error in the challenge; RFC 6749 5.2 (client authentication) in the body.
      got = e.cause?.[0]?.parameters?.error ?? (await e.response?.clone().json().catch(() => null))?.error ?? 'a challenge without error';
    }
    if (!got) fail(`${what}: unexpected ${e.name}: ${e.message}`);
    expect(errors.includes(got), `${what}: error ${got}, expected ${errors.join(' or ')}`);
    return got;
  }
  return fail(`${what}: succeeded`);
}

export const positive = {
  id: 'rp-oauth4webapi',
  plan: 'RP',
  title: 'npm oauth4webapi: discovery, PKCE code flow with RFC 9207 iss and state validation, ID token claims, userinfo, refresh, introspection, revocation, RP-initiated logout',
  async run(ctx) {
    const s = await setup(ctx, 'rp-oauth4webapi');
    const { as, client, auth } = s;
    const { params, verifier, nonce, browser } = await login(ctx, s);
    const codeRes = await oauth.authorizationCodeGrantRequest(as, client, auth, params, REDIRECT_URI, verifier, insecure);
    const tokens = await oauth.processAuthorizationCodeResponse(as, client, codeRes, { expectedNonce: nonce, requireIdToken: true });
    const claims = oauth.getValidatedIdTokenClaims(tokens);
    const info = await oauth.processUserInfoResponse(as, client, claims.sub, await oauth.userInfoRequest(as, client, tokens.access_token, insecure));
    expect(info.name, 'userinfo has no name for scope profile');
    expect(tokens.refresh_token, 'no refresh_token');
    const refreshed = await oauth.processRefreshTokenResponse(as, client, await oauth.refreshTokenGrantRequest(as, client, auth, tokens.refresh_token, insecure));
    if (as.introspection_endpoint) {
      const intro = await oauth.processIntrospectionResponse(as, client, await oauth.introspectionRequest(as, client, auth, refreshed.access_token, insecure));
      expect(intro.active === true, 'introspection says a fresh access token is not active');
    }
    if (as.revocation_endpoint) {
      await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, auth, refreshed.access_token, insecure));
      await expectOAuthError(
        oauth.processUserInfoResponse(as, client, claims.sub, await oauth.userInfoRequest(as, client, refreshed.access_token, insecure)),
        ['invalid_token'], 'userinfo with a revoked access token');
    }
    expect(as.end_session_endpoint, 'no end_session_endpoint in discovery');
    const end = new URL(as.end_session_endpoint);
    const endState = randomValue();
    for (const [k, v] of Object.entries({ id_token_hint: tokens.id_token, post_logout_redirect_uri: POST_LOGOUT_URI, state: endState, client_id: client.client_id })) end.searchParams.set(k, v);
    await browserLogout(browser, end, endState);
    await expectLoggedOut(ctx, browser, s.c);
  },
};

export const negative = {
  id: 'rp-oauth4webapi-negative',
  plan: 'RP',
  title: 'npm oauth4webapi negative cases: reused code, wrong PKCE verifier and refresh by another client are invalid_grant; wrong secret invalid_client; a bogus token at userinfo invalid_token',
  async run(ctx) {
    const s = await setup(ctx, 'rp-oauth4webapi-negative');
    const { as, client, auth } = s;
    const first = await login(ctx, s);
    const ok = await oauth.processAuthorizationCodeResponse(as, client,
      await oauth.authorizationCodeGrantRequest(as, client, auth, first.params, REDIRECT_URI, first.verifier, insecure), { expectedNonce: first.nonce });
    await expectOAuthError(oauth.processAuthorizationCodeResponse(as, client,
      await oauth.authorizationCodeGrantRequest(as, client, auth, first.params, REDIRECT_URI, first.verifier, insecure), { expectedNonce: first.nonce }),
    ['invalid_grant'], 'reused code');

    const second = await login(ctx, s);
    await expectOAuthError(oauth.processAuthorizationCodeResponse(as, client,
      await oauth.authorizationCodeGrantRequest(as, client, auth, second.params, REDIRECT_URI, oauth.generateRandomCodeVerifier(), insecure), { expectedNonce: second.nonce }),
    ['invalid_grant'], 'wrong code_verifier');

    const third = await login(ctx, s);
    await expectOAuthError(oauth.processAuthorizationCodeResponse(as, client,
      await oauth.authorizationCodeGrantRequest(as, client, oauth.ClientSecretBasic('wrong-secret'), third.params, REDIRECT_URI, third.verifier, insecure), { expectedNonce: third.nonce }),
    ['invalid_client'], 'wrong client secret');

    await expectOAuthError(oauth.processUserInfoResponse(as, client, oauth.skipSubjectCheck,
      await oauth.userInfoRequest(as, client, 'not-a-real-token', insecure)), ['invalid_token'], 'userinfo with a bogus token');

    const fresh = await login(ctx, s);
    const t = await oauth.processAuthorizationCodeResponse(as, client,
      await oauth.authorizationCodeGrantRequest(as, client, auth, fresh.params, REDIRECT_URI, fresh.verifier, insecure), { expectedNonce: fresh.nonce });
    const other = await rpClient(ctx, 'other');
    if (t.refresh_token) {
      await expectOAuthError(oauth.processRefreshTokenResponse(as, { client_id: other.client_id },
        await oauth.refreshTokenGrantRequest(as, { client_id: other.client_id }, oauth.ClientSecretBasic(other.client_secret), t.refresh_token, insecure)),
      ['invalid_grant'], 'refresh token used by another client');
    }
    expect(ok.access_token, 'first exchange gave no access_token');
  },
};
