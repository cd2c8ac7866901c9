// Config plan: discovery document and published keys (OIDC Discovery 1.0 section 3 and 4, RFC 7517).

import { fail, expectNone } from '../lib/check.mjs';

const REQUIRED = ['issuer', 'authorization_endpoint', 'token_endpoint', 'jwks_uri', 'response_types_supported', 'subject_types_supported', 'id_token_signing_alg_values_supported'];
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

function endpointOk(url) {
  try {
    const u = new URL(url);
    return u.protocol === 'https:' || (u.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname));
  } catch {
    return false;
  }
}

export default [
  {
    id: 'oidcc-discovery-endpoint-verification',
    plan: 'Config',
    title: 'discovery: required metadata, issuer equals the URL it was fetched from, endpoints https (or loopback), openid scope, code response type, RS256, S256 PKCE, jwks_uri keys valid',
    async run(ctx) {
      const res = await fetch(`${ctx.issuer}/.well-known/openid-configuration`);
      const problems = [];
      if (res.status !== 200) fail(`discovery answered HTTP ${res.status}`);
      if (!/application\/json/i.test(res.headers.get('content-type') ?? '')) problems.push('discovery content-type is not application/json');
      const m = await res.json();
      for (const k of REQUIRED) if (m[k] === undefined) problems.push(`${k} missing`);
      if (m.issuer !== ctx.issuer) problems.push('issuer differs from the URL discovery was fetched from');
      if (ctx.issuer.endsWith('/')) problems.push('issuer ends with a slash');
      for (const k of ['authorization_endpoint', 'token_endpoint', 'userinfo_endpoint', 'jwks_uri', 'registration_endpoint', 'end_session_endpoint', 'introspection_endpoint', 'revocation_endpoint']) {
        if (m[k] !== undefined && !endpointOk(m[k])) problems.push(`${k} is not https`);
      }
      if (!m.scopes_supported?.includes('openid')) problems.push('scopes_supported lacks openid');
      if (!m.response_types_supported?.includes('code')) problems.push('response_types_supported lacks code');
      if (!m.subject_types_supported?.every((t) => t === 'public' || t === 'pairwise')) problems.push('subject_types_supported has values other than public/pairwise');
      if (!m.id_token_signing_alg_values_supported?.includes('RS256')) problems.push('id_token_signing_alg_values_supported lacks RS256');
      if (m.userinfo_endpoint === undefined) problems.push('userinfo_endpoint missing');
      if (m.claims_parameter_supported !== undefined && typeof m.claims_parameter_supported !== 'boolean') problems.push('claims_parameter_supported is not a boolean');
      if (m.code_challenge_methods_supported && !m.code_challenge_methods_supported.includes('S256')) problems.push('code_challenge_methods_supported lacks S256');
      if (!m.code_challenge_methods_supported) problems.push('code_challenge_methods_supported missing (PKCE S256 is required for public clients)');
      if (m.token_endpoint_auth_methods_supported && !m.token_endpoint_auth_methods_supported.includes('client_secret_basic')) problems.push('token_endpoint_auth_methods_supported lacks client_secret_basic');
      if (m.grant_types_supported && !m.grant_types_supported.includes('authorization_code')) problems.push('grant_types_supported lacks authorization_code');
      if (m.response_modes_supported?.some((x) => x === 'token' || x === 'id_token')) problems.push('response_modes_supported holds response types');
      expectNone(problems, 'discovery: ');

      const jr = await fetch(m.jwks_uri);
      if (jr.status !== 200) fail(`jwks_uri answered HTTP ${jr.status}`);
      const jwks = await jr.json();
      if (!Array.isArray(jwks.keys) || jwks.keys.length === 0) fail('jwks_uri has no keys');
      const kids = new Set();
      for (const k of jwks.keys) {
        if (!k.kty) problems.push('a key has no kty');
        if (!k.kid) problems.push('a key has no kid');
        else if (kids.has(`${k.kid}/${k.use ?? ''}`)) problems.push('duplicate kid');
        kids.add(`${k.kid}/${k.use ?? ''}`);
        if (k.kty === 'oct') problems.push('a symmetric key is published');
        for (const p of PRIVATE_MEMBERS) if (k[p] !== undefined && !(k.kty === 'oct' && p === 'k')) problems.push(`a key publishes its private member ${p}`);
        if (k.kty === 'RSA' && Buffer.from(k.n ?? '', 'base64url').length < 256) problems.push('an RSA key is shorter than 2048 bits');
      }
      if (!jwks.keys.some((k) => k.kty === 'RSA' && (k.use ?? 'sig') === 'sig')) problems.push('no RSA signing key (needed for RS256)');
      expectNone(problems, 'jwks: ');
    },
  },
];
