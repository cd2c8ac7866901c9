// Dynamic plan: client registration (RFC 7591 / OIDC Registration), redirect URI rules,
// signed userinfo, private_key_jwt with jwks_uri, key rotation on both sides.

import { fail, skip, expect, describe } from '../lib/check.mjs';
import { REDIRECT_URI } from '../lib/context.mjs';
import { authorize, codeFlow, expectCode, expectErrorResponse, exchangeCode, expectTokens, expectUserinfo, outcomeText, tokenRequest, userinfo } from '../lib/flow.mjs';
import { verifyWithJwks } from '../lib/jwt.mjs';
import { newClientKey } from './keys.mjs';

/** A redirect URI the provider must refuse: error page, never a redirect. */
async function expectRedirectRefused(ctx, client, redirectUri) {
  const params = redirectUri === null ? { redirect_uri: null } : { redirect_uri: redirectUri };
  const stopAt = redirectUri ?? client.redirect_uris[0];
  const flow = await authorize(ctx, client, { params, stopAt });
  if (flow.outcome.kind === 'callback') fail(`the provider redirected to ${redirectUri === null ? 'the registered redirect_uri although none was sent' : 'a redirect_uri that does not match'}`);
  expect(flow.outcome.kind === 'error_page', `expected an error page, got ${outcomeText(flow.outcome)}`);
}

/** A private_key_jwt client whose keys the harness serves at a jwks_uri (so they can rotate). */
async function jwksUriClient(ctx, extra = {}) {
  const methods = ctx.meta.token_endpoint_auth_methods_supported;
  if (methods && !methods.includes('private_key_jwt')) skip('private_key_jwt not in token_endpoint_auth_methods_supported');
  const holder = { keys: [await newClientKey('RS256')] };
  const { url } = ctx.aux.serve('application/json', () => ({ keys: holder.keys.map((k) => k.publicJwk) }), 'jwks');
  const client = await ctx.registerOk({ token_endpoint_auth_method: 'private_key_jwt', jwks_uri: url, grant_types: ['authorization_code', 'refresh_token'], ...extra });
  client.auth_method = 'private_key_jwt';
  client.signingKey = holder.keys[0];
  return { client, holder };
}

function registrationUriCheck(id, field, value) {
  return {
    id, plan: 'Dynamic',
    title: `registration with ${field}: 201, ${field} echoed (RFC 7591 3.2.1), login works`,
    async run(ctx) {
      const client = await ctx.registerOk({ [field]: value });
      expect(client.registered[field] === value, `${field} not echoed in the registration response`);
      await codeFlow(ctx, client);
    },
  };
}

export default [
  {
    id: 'oidcc-registration-dynamic',
    plan: 'Dynamic',
    title: 'registration with an initial access token: 201 with client_id, client_secret, redirect_uris; the client logs in. Without a token: refused or not usable',
    async run(ctx) {
      const client = await ctx.registerOk({ grant_types: ['authorization_code'] });
      expect(client.registered.client_secret, 'no client_secret for a confidential client');
      expect(JSON.stringify(client.registered.redirect_uris) === JSON.stringify([REDIRECT_URI]), 'redirect_uris not echoed');
      const { tokens, idToken } = await codeFlow(ctx, client);
      await expectUserinfo(ctx, tokens.access_token, idToken.payload.sub);
      const anon = await ctx.register({ client_name: 'no token' }, { token: null });
      if (anon.status === 201 && anon.client) {
        const flow = await authorize(ctx, anon.client);
        if (flow.outcome.kind === 'callback' && flow.outcome.params.code) fail('a client registered without an initial access token could log users in at once');
        return 'without a token: registered but not usable';
      }
      expect(anon.status === 401 || anon.status === 400 || anon.status === 403, `registration without a token answered HTTP ${anon.status}`);
      return undefined;
    },
  },
  {
    id: 'oidcc-idtoken-rs256',
    plan: 'Dynamic',
    title: 'client registered with id_token_signed_response_alg=RS256 gets RS256 ID tokens that verify',
    async run(ctx) {
      const client = await ctx.registerOk({ id_token_signed_response_alg: 'RS256' });
      await codeFlow(ctx, client, { expectedAlg: 'RS256' });
    },
  },
  {
    id: 'oidcc-userinfo-rs256',
    plan: 'Dynamic',
    title: 'userinfo_signed_response_alg=RS256: userinfo is application/jwt signed RS256 with iss and aud; if not offered, registration refuses it',
    async run(ctx) {
      const offered = ctx.meta.userinfo_signing_alg_values_supported?.includes('RS256');
      const reg = await ctx.register({ userinfo_signed_response_alg: 'RS256' });
      if (!offered) {
        // OIDC Registration 3.2: the provider may refuse the value, or replace it and say so in the response.
        if (reg.status === 201 && reg.json?.userinfo_signed_response_alg === 'RS256') {
          fail('registration accepted and echoed userinfo_signed_response_alg=RS256 although discovery does not offer signed userinfo');
        }
        if (reg.status === 201) return 'signed userinfo not offered; registration dropped the value';
        expect(reg.status === 400 && reg.json?.error === 'invalid_client_metadata', `registration answered ${describe(reg)}, expected 400 invalid_client_metadata`);
        return 'signed userinfo not offered; registration refused it';
      }
      if (reg.status !== 201) fail(`registration answered HTTP ${reg.status}`);
      const client = reg.client;
      const { tokens, idToken } = await codeFlow(ctx, client);
      const res = await userinfo(ctx, tokens.access_token);
      expect(res.status === 200, `userinfo answered HTTP ${res.status}`);
      expect(/application\/jwt/i.test(res.headers.get('content-type') ?? ''), 'userinfo content-type is not application/jwt');
      const { header, payload } = await verifyWithJwks(res.text.trim(), await ctx.jwks());
      expect(header.alg === 'RS256', `userinfo JWT alg ${header.alg}`);
      expect(payload.sub === idToken.payload.sub && payload.iss === ctx.issuer && [].concat(payload.aud).includes(client.client_id), 'userinfo JWT sub/iss/aud wrong');
    },
  },
  {
    id: 'oidcc-ensure-redirect-uri-in-authorization-request',
    plan: 'Dynamic',
    title: 'authorization request without redirect_uri (required by OIDC): error page, or error=invalid_request redirected with state; never a code',
    async run(ctx) {
      const client = await ctx.registerOk({});
      const flow = await authorize(ctx, client, { params: { redirect_uri: null }, stopAt: client.redirect_uris[0] });
      if (flow.outcome.kind === 'error_page') return `error page HTTP ${flow.outcome.status}`;
      if (flow.outcome.kind !== 'callback') fail(`expected an error, got ${outcomeText(flow.outcome)}`);
      if (flow.outcome.params.code) fail('a code was issued for a request without redirect_uri');
      const err = expectErrorResponse(ctx, flow, ['invalid_request', 'invalid_request_object']);
      return `error=${err} redirected`;
    },
  },
  {
    id: 'oidcc-redirect-uri-query-OK',
    plan: 'Dynamic',
    title: 'redirect_uri registered with a query: the exact URI works and the query is kept',
    async run(ctx) {
      const uri = `${REDIRECT_URI}?foo=bar`;
      const client = await ctx.registerOk({ redirect_uris: [uri] });
      const r = await codeFlow(ctx, client);
      expect(r.flow.outcome.params.foo === 'bar', 'the registered query parameter foo=bar was lost');
    },
  },
  {
    id: 'oidcc-redirect-uri-query-mismatch',
    plan: 'Dynamic',
    title: 'redirect_uri registered with ?foo=bar, requested with ?foo=zot: error page',
    async run(ctx) {
      const client = await ctx.registerOk({ redirect_uris: [`${REDIRECT_URI}?foo=bar`] });
      await expectRedirectRefused(ctx, client, `${REDIRECT_URI}?foo=zot`);
    },
  },
  {
    id: 'oidcc-redirect-uri-query-added',
    plan: 'Dynamic',
    title: 'redirect_uri registered without query, requested with ?foo=bar: error page',
    async run(ctx) {
      const client = await ctx.registerOk({});
      await expectRedirectRefused(ctx, client, `${REDIRECT_URI}?foo=bar`);
    },
  },
  {
    id: 'oidcc-redirect-uri-regfrag',
    plan: 'Dynamic',
    title: 'registering a redirect_uri with a fragment: 400 invalid_redirect_uri or invalid_client_metadata',
    async run(ctx) {
      const reg = await ctx.register({ redirect_uris: [`${REDIRECT_URI}#fragment`] });
      if (reg.unsupported) skip('no registration_endpoint');
      if (reg.status === 201) fail('a redirect_uri with a fragment was registered');
      expect(reg.status === 400 && ['invalid_redirect_uri', 'invalid_client_metadata'].includes(reg.json?.error), `answered HTTP ${reg.status} ${reg.json?.error ?? ''}`);
    },
  },
  registrationUriCheck('oidcc-registration-logo-uri', 'logo_uri', 'https://rp.example.org/logo.png'),
  registrationUriCheck('oidcc-registration-policy-uri', 'policy_uri', 'https://rp.example.org/policy'),
  registrationUriCheck('oidcc-registration-tos-uri', 'tos_uri', 'https://rp.example.org/tos'),
  {
    id: 'oidcc-registration-jwks-uri',
    plan: 'Dynamic',
    title: 'client registered with private_key_jwt and a jwks_uri: the provider fetches the key and accepts the client assertion',
    async run(ctx) {
      const { client } = await jwksUriClient(ctx);
      await codeFlow(ctx, client);
    },
  },
  {
    id: 'oidcc-ensure-client-assertion-with-iss-aud-succeeds',
    plan: 'Dynamic',
    title: 'private_key_jwt (keys registered inline as jwks) with client assertion aud = the issuer identifier is accepted',
    async run(ctx) {
      const methods = ctx.meta.token_endpoint_auth_methods_supported;
      if (methods && !methods.includes('private_key_jwt')) skip('private_key_jwt not in token_endpoint_auth_methods_supported');
      const key = await newClientKey('RS256');
      const client = await ctx.registerOk({ token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] } });
      client.auth_method = 'private_key_jwt';
      client.signingKey = key;
      const flow = await authorize(ctx, client);
      const code = expectCode(ctx, flow);
      const res = await tokenRequest(ctx, client, { grant_type: 'authorization_code', code, redirect_uri: flow.redirectUri }, { aud: ctx.issuer });
      expectTokens(res);
    },
  },
  {
    id: 'oidcc-refresh-token-rp-key-rotation',
    plan: 'Dynamic',
    timeoutMs: 150000,
    title: 'private_key_jwt client rotates the key at its jwks_uri: a refresh signed with the new key succeeds',
    async run(ctx) {
      const { client, holder } = await jwksUriClient(ctx);
      const first = await codeFlow(ctx, client, { params: { scope: 'openid offline_access', prompt: 'consent' } });
      expect(first.tokens.refresh_token, 'no refresh_token');
      const fresh = await newClientKey('RS256');
      holder.keys = [fresh];
      client.signingKey = fresh;
      // OIDC Core 10.1.1: an unfamiliar kid sends the verifier back to jwks_uri. Providers may rate-limit
      // that re-fetch (oidc-provider: once a minute), so allow up to 70 s before failing.
      const started = Date.now();
      let res = await tokenRequest(ctx, client, { grant_type: 'refresh_token', refresh_token: first.tokens.refresh_token });
      while (res.status === 401 && Date.now() - started < 70000) {
        await new Promise((r) => setTimeout(r, 5000));
        res = await tokenRequest(ctx, client, { grant_type: 'refresh_token', refresh_token: first.tokens.refresh_token });
      }
      if (res.status !== 200) fail(`refresh signed with the rotated client key answered ${describe(res)} (retried for 70 s)`);
      return Date.now() - started > 4000 ? 'accepted once the provider re-fetched jwks_uri after its cache time' : 'accepted at once';
    },
  },
  {
    id: 'oidcc-registration-sector-uri',
    plan: 'Dynamic',
    title: 'pairwise client with a sector_identifier_uri listing its redirect_uri registers and logs in',
    async run(ctx) {
      if (!ctx.meta.subject_types_supported?.includes('pairwise')) skip('pairwise subject type not offered');
      const { url } = ctx.aux.serve('application/json', [REDIRECT_URI], 'sector');
      const client = await ctx.registerOk({ subject_type: 'pairwise', sector_identifier_uri: url });
      await codeFlow(ctx, client);
    },
  },
  {
    id: 'oidcc-registration-sector-bad',
    plan: 'Dynamic',
    title: 'sector_identifier_uri not listing the redirect_uri: registration refused',
    async run(ctx) {
      if (!ctx.meta.subject_types_supported?.includes('pairwise')) skip('pairwise subject type not offered');
      const { url } = ctx.aux.serve('application/json', ['https://elsewhere.example.org/cb'], 'sector');
      const reg = await ctx.register({ subject_type: 'pairwise', sector_identifier_uri: url });
      expect(reg.status === 400, `registration answered HTTP ${reg.status}, expected 400`);
    },
  },
  {
    id: 'oidcc-server-rotate-keys',
    plan: 'Dynamic',
    timeoutMs: 150000,
    title: 'operator rotates the signing keys: jwks_uri has a new key and still the old one; new ID tokens are signed with the new key and verify',
    async run(ctx) {
      const before = await ctx.jwks();
      await ctx.provider.rotateKeys();
      // Replicas pick rotated keys up on their next reload (idp: every 30 s), so wait up to 75 s.
      const oldKids = new Set(before.keys.map((k) => k.kid));
      const started = Date.now();
      let after = await ctx.jwks();
      while (!after.keys.some((k) => !oldKids.has(k.kid)) && Date.now() - started < 75000) {
        await new Promise((r) => setTimeout(r, 2000));
        after = await ctx.jwks();
      }
      const newKeys = after.keys.filter((k) => !oldKids.has(k.kid));
      expect(newKeys.length > 0, 'jwks_uri has no new key within 75 s of the rotation');
      const kept = before.keys.filter((k) => after.keys.some((a) => a.kid === k.kid));
      expect(kept.length === before.keys.length, 'an old key left jwks_uri at once (tokens signed with it can no longer be verified)');
      const client = await ctx.registerOk({ id_token_signed_response_alg: 'RS256' });
      const { idToken } = await codeFlow(ctx, client, { expectedAlg: 'RS256' });
      expect(newKeys.some((k) => k.kid === idToken.header.kid), 'the new ID token is not signed with the new key');
    },
  },
];
