// Basic plan, codes and tokens: code reuse, redirect URI enforcement, the claims parameter,
// refresh tokens bound to their client, PKCE.

import { fail, skip, expect, describe } from '../lib/check.mjs';
import { REDIRECT_URI, randomValue } from '../lib/context.mjs';
import { decodeJwt } from '../lib/jwt.mjs';
import { authorize, codeFlow, expectCode, exchangeCode, expectTokens, expectUserinfo, tokenRequest, userinfo, outcomeText, pkcePair } from '../lib/flow.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function codeReuse(ctx, waitMs) {
  const client = await ctx.client();
  const first = await codeFlow(ctx, client, { params: { scope: 'openid offline_access', prompt: 'consent' } });
  if (waitMs) await sleep(waitMs);
  const again = await exchangeCode(ctx, client, first.flow, first.code);
  if (again.status === 200) fail('a reused authorization code was accepted (HTTP 200)');
  expect(again.status === 400 && again.json?.error === 'invalid_grant', `reused code answered ${describe(again)}, expected HTTP 400 invalid_grant`);
  const ui = await userinfo(ctx, first.tokens.access_token);
  if (ui.status === 200) fail('the access token issued for the code still works at userinfo after the code was reused (RFC 6749 4.1.2: tokens should be revoked)');
  if (first.tokens.refresh_token) {
    const rt = await tokenRequest(ctx, client, { grant_type: 'refresh_token', refresh_token: first.tokens.refresh_token });
    if (rt.status === 200) fail('the refresh token issued for the code still works after the code was reused');
  }
}

export default [
  {
    id: 'oidcc-codereuse',
    plan: 'Basic',
    title: 'a code used twice: second token request is 400 invalid_grant, and the tokens from the first use are revoked (userinfo, refresh)',
    run: (ctx) => codeReuse(ctx, 0),
  },
  {
    id: 'oidcc-codereuse-30seconds',
    plan: 'Basic',
    title: 'the same, with the reuse 30 seconds after the first use',
    run: (ctx) => codeReuse(ctx, 30000),
  },
  {
    id: 'oidcc-ensure-registered-redirect-uri',
    plan: 'Basic',
    title: 'unregistered redirect_uri: an error page (HTTP 400), no redirect to it',
    async run(ctx) {
      const client = await ctx.client();
      const bad = `https://rp.example.org/unregistered-${randomValue()}`;
      const flow = await authorize(ctx, client, { params: { redirect_uri: bad }, stopAt: bad });
      if (flow.outcome.kind === 'callback') fail(`the provider redirected to the unregistered redirect_uri${flow.outcome.params.code ? ' with a code' : ''}`);
      if (flow.outcome.loginShown) fail('the provider showed a login page before rejecting the redirect_uri');
      expect(flow.outcome.kind === 'error_page', `expected an error page, got ${outcomeText(flow.outcome)}`);
      expect(flow.outcome.status === 400, `error page status ${flow.outcome.status}, expected 400`);
    },
  },
  {
    id: 'oidcc-claims-essential',
    plan: 'Basic',
    title: 'claims={"userinfo":{"name":{"essential":true}}} with scope openid: name in userinfo (when claims_parameter_supported)',
    async run(ctx) {
      const client = await ctx.client();
      const claims = JSON.stringify({ userinfo: { name: { essential: true } } });
      const { tokens, idToken } = await codeFlow(ctx, client, { params: { claims } });
      const info = await expectUserinfo(ctx, tokens.access_token, idToken.payload.sub);
      if (!ctx.meta.claims_parameter_supported) return 'claims parameter not supported; the request still succeeded';
      expect(info.name !== undefined, 'essential claim name missing from userinfo although claims_parameter_supported is true');
      expect(info.email === undefined, 'email released although only name was requested');
    },
  },
  {
    id: 'oidcc-refresh-token',
    plan: 'Basic',
    title: 'refresh_token grant: new tokens, same sub/iss/aud in the new ID token; another client cannot use the refresh token; a rotated refresh token cannot be reused',
    async run(ctx) {
      if (ctx.meta.grant_types_supported && !ctx.meta.grant_types_supported.includes('refresh_token')) skip('refresh_token not in grant_types_supported');
      const client = await ctx.client();
      const other = await ctx.client('other');
      const first = await codeFlow(ctx, client, { params: { scope: 'openid offline_access', prompt: 'consent' } });
      const rt = first.tokens.refresh_token;
      expect(rt, 'no refresh_token for a client with the refresh_token grant and scope offline_access');
      const stolen = await tokenRequest(ctx, other, { grant_type: 'refresh_token', refresh_token: rt });
      if (stolen.status === 200) fail('another client redeemed the refresh token (HTTP 200)');
      expect(stolen.status === 400 && stolen.json?.error === 'invalid_grant', `refresh by another client answered ${describe(stolen)}, expected 400 invalid_grant`);
      const res = await tokenRequest(ctx, client, { grant_type: 'refresh_token', refresh_token: rt });
      const t = expectTokens(res, { idToken: false });
      if (t.id_token) {
        const p = decodeJwt(t.id_token).payload;
        expect(p.sub === first.idToken.payload.sub && p.iss === ctx.issuer, 'refreshed id_token has a different sub or iss');
        expect([].concat(p.aud).includes(client.client_id), 'refreshed id_token aud lacks the client');
      }
      await expectUserinfo(ctx, t.access_token, first.idToken.payload.sub);
      if (t.refresh_token && t.refresh_token !== rt) {
        const reuse = await tokenRequest(ctx, client, { grant_type: 'refresh_token', refresh_token: rt });
        if (reuse.status === 200) fail('the old refresh token still works after rotation');
      }
    },
  },
  {
    id: 'oidcc-ensure-request-with-valid-pkce-succeeds',
    plan: 'Basic',
    title: 'confidential client with PKCE S256 and the right code_verifier succeeds',
    async run(ctx) {
      await codeFlow(ctx, await ctx.client(), { pkce: true });
    },
  },
  {
    id: 'extra-pkce-wrong-verifier-rejected',
    plan: 'Basic',
    title: 'PKCE S256 with a wrong code_verifier: 400 invalid_grant (RFC 7636 4.6)',
    async run(ctx) {
      const client = await ctx.client();
      const flow = await authorize(ctx, client, { pkce: true });
      const code = expectCode(ctx, flow);
      const res = await exchangeCode(ctx, client, flow, code, { code_verifier: pkcePair().verifier });
      if (res.status === 200) fail('a wrong code_verifier was accepted');
      expect(res.status === 400 && res.json?.error === 'invalid_grant', `wrong code_verifier answered ${describe(res)}, expected 400 invalid_grant`);
    },
  },
  {
    id: 'extra-public-client-requires-pkce',
    plan: 'Basic',
    title: 'public client: request without code_challenge refused (error invalid_request); with S256 it succeeds',
    async run(ctx) {
      const client = await ctx.client('public', { public: true, auth_method: 'none', grant_types: ['authorization_code'] });
      const flow = await authorize(ctx, client, { pkce: false });
      if (flow.outcome.kind === 'callback' && flow.outcome.params.code) fail('a public client got a code without PKCE');
      if (flow.outcome.kind === 'callback') expect(flow.outcome.params.error === 'invalid_request', `error=${flow.outcome.params.error}, expected invalid_request`);
      else expect(flow.outcome.kind === 'error_page', `expected an error, got ${outcomeText(flow.outcome)}`);
      await codeFlow(ctx, client, { pkce: true });
    },
  },
  {
    id: 'extra-form-post-response-mode',
    plan: 'Basic',
    title: 'response_mode=form_post: an auto-submitting form posting code, state, iss to the redirect_uri',
    async run(ctx) {
      if (ctx.meta.response_modes_supported && !ctx.meta.response_modes_supported.includes('form_post')) skip('form_post not in response_modes_supported');
      const client = await ctx.client();
      const flow = await authorize(ctx, client, { params: { response_mode: 'form_post' } });
      expect(flow.outcome.kind !== 'callback' || flow.outcome.via === 'form_post', 'response_mode=form_post answered with a redirect');
      const code = expectCode(ctx, flow);
      expectTokens(await exchangeCode(ctx, client, flow, code));
    },
  },
  {
    id: 'extra-token-endpoint-wrong-secret',
    plan: 'Basic',
    title: 'token request with a wrong client secret: 401 invalid_client with WWW-Authenticate (RFC 6749 5.2)',
    async run(ctx) {
      const client = await ctx.client();
      const flow = await authorize(ctx, client);
      const code = expectCode(ctx, flow);
      const res = await exchangeCode(ctx, { ...client, client_secret: `${client.client_secret}x` }, flow, code);
      if (res.status === 200) fail('a wrong client secret was accepted');
      expect(res.status === 401 && res.json?.error === 'invalid_client', `wrong secret answered ${describe(res)}, expected 401 invalid_client`);
      expect(/^Basic/i.test(res.headers.get('www-authenticate') ?? ''), 'no WWW-Authenticate: Basic on the 401');
    },
  },
  {
    id: 'extra-redirect-uri-mismatch-at-token',
    plan: 'Basic',
    title: 'token request whose redirect_uri differs from the authorization request: 400 invalid_grant',
    async run(ctx) {
      const client = await ctx.client('two-uris', { redirect_uris: [REDIRECT_URI, `${REDIRECT_URI}2`] });
      const flow = await authorize(ctx, client);
      const code = expectCode(ctx, flow);
      const res = await exchangeCode(ctx, client, { ...flow, redirectUri: `${REDIRECT_URI}2` }, code);
      if (res.status === 200) fail('code redeemed with a different redirect_uri');
      expect(res.status === 400 && res.json?.error === 'invalid_grant', `answered ${describe(res)}, expected 400 invalid_grant`);
    },
  },
];
