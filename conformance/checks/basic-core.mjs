// Basic plan, the happy paths: code flow with each client authentication, ID token signature,
// userinfo by each method, nonce-less requests, scopes and request parameters that must not break a flow.

import { fail, skip, expect, expectNone, describe } from '../lib/check.mjs';
import { codeFlow, expectUserinfo, authorize, expectErrorResponse, outcomeText, expectCode, exchangeCode, expectTokens } from '../lib/flow.mjs';
import { decodeJwt } from '../lib/jwt.mjs';

const SCOPE_CLAIMS = { profile: ['name'], email: ['email'], address: ['address'], phone: ['phone_number'] };

async function scopeCheck(ctx, scopes) {
  const client = await ctx.client();
  const { tokens, idToken } = await codeFlow(ctx, client, { params: { scope: `openid ${scopes.join(' ')}` } });
  const info = await expectUserinfo(ctx, tokens.access_token, idToken.payload.sub);
  const released = { ...idToken.payload, ...info };
  const problems = [];
  for (const s of scopes) for (const c of SCOPE_CLAIMS[s]) if (released[c] === undefined) problems.push(`${c} not released for scope ${s}`);
  for (const [s, claims] of Object.entries(SCOPE_CLAIMS)) {
    if (!scopes.includes(s)) for (const c of claims) if (released[c] !== undefined) problems.push(`${c} released although scope ${s} was not requested`);
  }
  if (released.id_number !== undefined) problems.push('id_number released although scope id_number was not requested');
  if (released.address !== undefined && (typeof released.address !== 'object' || Array.isArray(released.address))) problems.push('address is not a JSON object (OIDC Core 5.1.1)');
  expectNone(problems);
}

function flowCheck(id, title, params, extra) {
  return {
    id, plan: 'Basic', title,
    async run(ctx) {
      const client = await ctx.client();
      const r = await codeFlow(ctx, client, { params });
      await expectUserinfo(ctx, r.tokens.access_token, r.idToken.payload.sub);
      return extra?.(ctx, r);
    },
  };
}

export default [
  {
    id: 'oidcc-server',
    plan: 'Basic',
    title: 'code flow, client_secret_basic: state and iss in the response, token response, ID token claims and signature, userinfo sub',
    async run(ctx) {
      const client = await ctx.client();
      const { tokens, idToken } = await codeFlow(ctx, client);
      await expectUserinfo(ctx, tokens.access_token, idToken.payload.sub);
    },
  },
  {
    id: 'oidcc-server-client-secret-post',
    plan: 'Basic',
    title: 'code flow with client_secret_post client authentication',
    async run(ctx) {
      if (ctx.meta.token_endpoint_auth_methods_supported && !ctx.meta.token_endpoint_auth_methods_supported.includes('client_secret_post')) skip('client_secret_post not in token_endpoint_auth_methods_supported');
      const client = await ctx.client('post', { auth_method: 'client_secret_post' });
      const { tokens, idToken } = await codeFlow(ctx, client);
      await expectUserinfo(ctx, tokens.access_token, idToken.payload.sub);
    },
  },
  {
    id: 'oidcc-response-type-missing',
    plan: 'Basic',
    title: 'request without response_type: error response invalid_request/unsupported_response_type or an error page, never a code',
    async run(ctx) {
      const client = await ctx.client();
      const flow = await authorize(ctx, client, { params: { response_type: null } });
      if (flow.outcome.kind === 'error_page') return `error page HTTP ${flow.outcome.status}`;
      if (flow.outcome.kind !== 'callback') fail(`expected an error, got ${outcomeText(flow.outcome)}`);
      expectErrorResponse(ctx, flow, ['invalid_request', 'unsupported_response_type']);
    },
  },
  {
    id: 'oidcc-idtoken-signature',
    plan: 'Basic',
    title: 'client registered without id_token_signed_response_alg gets RS256 ID tokens whose kid is in jwks_uri and whose signature verifies',
    async run(ctx) {
      const reg = await ctx.register({ grant_types: ['authorization_code'], response_types: ['code'] });
      if (reg.unsupported) skip('no registration_endpoint: cannot register a client without an alg');
      if (reg.status !== 201 || !reg.client) fail(`registration answered HTTP ${reg.status} ${reg.json?.error ?? ''}`.trim());
      const { idToken } = await codeFlow(ctx, reg.client, { expectedAlg: 'RS256' });
      expect(idToken.header.kid, 'id_token header has no kid');
    },
  },
  {
    id: 'oidcc-idtoken-unsigned',
    plan: 'Basic',
    title: 'alg none: if advertised, an unsigned ID token is issued on request; if not advertised, registering id_token_signed_response_alg=none is refused',
    async run(ctx) {
      const advertised = ctx.meta.id_token_signing_alg_values_supported?.includes('none');
      const reg = await ctx.register({ id_token_signed_response_alg: 'none' });
      if (reg.unsupported) skip('no registration_endpoint');
      if (!advertised) {
        if (reg.status === 201) fail(`registration accepted id_token_signed_response_alg=none although discovery does not list none${reg.json?.id_token_signed_response_alg === 'none' ? ' (and echoed it)' : ''}`);
        expect(reg.status === 400 && reg.json?.error === 'invalid_client_metadata', `registration with alg none answered ${describe(reg)}, expected 400 invalid_client_metadata`);
        return 'none not offered; registration refused it';
      }
      if (reg.status !== 201) fail(`registration with alg none answered HTTP ${reg.status}`);
      const client = reg.client;
      const flow = await authorize(ctx, client);
      const tokens = expectTokens(await exchangeCode(ctx, client, flow, expectCode(ctx, flow)));
      const { header, signature } = decodeJwt(tokens.id_token);
      expect(header.alg === 'none' && signature === '', `id_token alg is ${header.alg}, expected none`);
    },
  },
  {
    id: 'oidcc-userinfo-get',
    plan: 'Basic',
    title: 'userinfo with GET and the access token in the Authorization header',
    async run(ctx) {
      const { tokens, idToken } = await codeFlow(ctx, await ctx.client());
      const info = await expectUserinfo(ctx, tokens.access_token, idToken.payload.sub, 'get');
      const res = await fetch(ctx.meta.userinfo_endpoint);
      expect(res.status === 401, `userinfo without a token answered HTTP ${res.status}, expected 401`);
      expect(/^Bearer/i.test(res.headers.get('www-authenticate') ?? ''), 'userinfo 401 has no WWW-Authenticate: Bearer (RFC 6750 3)');
      expect(info.sub, 'no sub');
    },
  },
  {
    id: 'oidcc-userinfo-post-header',
    plan: 'Basic',
    title: 'userinfo with POST and the access token in the Authorization header',
    async run(ctx) {
      const { tokens, idToken } = await codeFlow(ctx, await ctx.client());
      await expectUserinfo(ctx, tokens.access_token, idToken.payload.sub, 'post-header');
    },
  },
  {
    id: 'oidcc-userinfo-post-body',
    plan: 'Basic',
    title: 'userinfo with POST and the access token in the form body (RFC 6750 2.2)',
    async run(ctx) {
      const { tokens, idToken } = await codeFlow(ctx, await ctx.client());
      await expectUserinfo(ctx, tokens.access_token, idToken.payload.sub, 'post-body');
    },
  },
  {
    id: 'oidcc-ensure-request-without-nonce-succeeds-for-code-flow',
    plan: 'Basic',
    title: 'code flow without nonce succeeds and the ID token has no nonce',
    async run(ctx) {
      await codeFlow(ctx, await ctx.client(), { params: { nonce: null } });
    },
  },
  ...['profile', 'email', 'address', 'phone'].map((s) => ({
    id: `oidcc-scope-${s}`,
    plan: 'Basic',
    title: `scope openid ${s}: ${SCOPE_CLAIMS[s].join(', ')} released; claims of other scopes (and id_number) not released`,
    run: (ctx) => scopeCheck(ctx, [s]),
  })),
  {
    id: 'oidcc-scope-all',
    plan: 'Basic',
    title: 'scope openid profile email address phone: all their claims released',
    run: (ctx) => scopeCheck(ctx, ['profile', 'email', 'address', 'phone']),
  },
  {
    id: 'oidcc-alternate-happy-flow',
    plan: 'Basic',
    title: 'scope "email openid" (reversed) and the query parameters in reverse order: succeeds and email is released',
    async run(ctx) {
      const client = await ctx.client();
      const { tokens, idToken } = await codeFlow(ctx, client, { params: { scope: 'email openid' }, reverseOrder: true });
      const info = await expectUserinfo(ctx, tokens.access_token, idToken.payload.sub);
      expect(info.email !== undefined || idToken.payload.email !== undefined, 'email not released for scope "email openid"');
    },
  },
  flowCheck('oidcc-display-page', 'display=page succeeds', { display: 'page' }),
  flowCheck('oidcc-display-popup', 'display=popup succeeds', { display: 'popup' }),
  flowCheck('oidcc-ensure-request-with-unknown-parameter-succeeds', 'an unknown authorization parameter is ignored', { extra_conformance_param: 'foobar' }),
  {
    id: 'oidcc-login-hint',
    plan: 'Basic',
    title: 'login_hint with the user\'s phone number succeeds',
    async run(ctx) {
      const user = await ctx.user();
      await codeFlow(ctx, await ctx.client(), { params: { login_hint: user.phone } });
    },
  },
  flowCheck('oidcc-ui-locales', 'ui_locales=zh-CN en succeeds', { ui_locales: 'zh-CN en' }),
  flowCheck('oidcc-claims-locales', 'claims_locales=zh-CN succeeds and userinfo answers', { claims_locales: 'zh-CN', scope: 'openid profile' }),
  flowCheck('oidcc-ensure-request-with-acr-values-succeeds', 'acr_values succeeds (an acr claim is noted if returned)', { acr_values: '1 2' },
    (_ctx, r) => (r.idToken.payload.acr === undefined ? 'no acr claim in the id_token' : undefined)),
  {
    id: 'oidcc-ensure-post-request-succeeds',
    plan: 'Basic',
    title: 'authorization request sent with HTTP POST (form) succeeds',
    async run(ctx) {
      const client = await ctx.client();
      const { tokens, idToken } = await codeFlow(ctx, client, { method: 'POST' });
      await expectUserinfo(ctx, tokens.access_token, idToken.payload.sub);
    },
  },
];
