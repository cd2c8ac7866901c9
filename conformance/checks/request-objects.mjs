// Request objects (OIDC Core 6): by value (`request`) and by reference (`request_uri`), unsigned
// and signed. Basic plan: supported correctly or refused as not supported. Dynamic plan: request_uri.

import * as jose from 'jose';
import { fail, skip, expect } from '../lib/check.mjs';
import { randomValue } from '../lib/context.mjs';
import { authorize, expectCode, exchangeCode, expectTokens, outcomeText } from '../lib/flow.mjs';
import { decodeJwt } from '../lib/jwt.mjs';
import { newClientKey } from './keys.mjs';

const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');

function objectClaims(ctx, client) {
  return {
    iss: client.client_id, aud: ctx.issuer, response_type: 'code', client_id: client.client_id,
    redirect_uri: client.redirect_uris[0], scope: 'openid', state: randomValue(), nonce: randomValue(),
  };
}

const unsigned = (claims) => `${b64({ alg: 'none' })}.${b64(claims)}.`;

async function signed(claims, key) {
  return new jose.SignJWT(claims).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'oauth-authz-req+jwt' })
    .setIssuedAt().setExpirationTime('5m').sign(key.privateKey);
}

/** Send the object by value or by reference; returns the outcome, checked for "used correctly". */
async function sendObject(ctx, client, claims, jwt, by) {
  const outer = { state: null, nonce: null };
  if (by === 'value') outer.request = jwt;
  else outer.request_uri = ctx.aux.serve('application/oauth-authz-req+jwt', jwt, 'request').url;
  const flow = await authorize(ctx, client, { params: outer });
  return { ...flow, state: claims.state, nonce: claims.nonce };
}

async function expectUsedCorrectly(ctx, client, flow, claims) {
  const code = expectCode(ctx, flow); // also checks the state from inside the object came back
  const tokens = expectTokens(await exchangeCode(ctx, client, flow, code));
  const { payload } = decodeJwt(tokens.id_token);
  expect(payload.nonce === claims.nonce, 'the id_token nonce is not the one from the request object (object ignored?)');
}

function supportedOrRefused(by) {
  const param = by === 'value' ? 'request' : 'request_uri';
  const notSupported = by === 'value' ? 'request_not_supported' : 'request_uri_not_supported';
  return async (ctx) => {
    const client = await ctx.client();
    const claims = objectClaims(ctx, client);
    const flow = await sendObject(ctx, client, claims, unsigned(claims), by);
    const o = flow.outcome;
    const advertised = by === 'value' ? ctx.meta.request_parameter_supported === true : ctx.meta.request_uri_parameter_supported !== false;
    if (o.kind === 'error_page') return `refused with an error page (HTTP ${o.status})`;
    if (o.kind === 'callback' && o.params.error) {
      const ok = [notSupported, 'invalid_request_object', 'invalid_request'];
      expect(ok.includes(o.params.error), `error=${o.params.error}, expected one of ${ok.join(', ')}`);
      if (o.params.error === notSupported && advertised) fail(`${notSupported} although discovery advertises ${param} support`);
      return `refused: ${o.params.error}`;
    }
    if (o.kind !== 'callback') fail(`unexpected outcome ${outcomeText(o)}`);
    await expectUsedCorrectly(ctx, client, flow, claims);
    return 'supported';
  };
}

async function requestUriClient(ctx, { signedWith } = {}) {
  if (ctx.meta.request_uri_parameter_supported === false) skip('request_uri_parameter_supported is false');
  const metadata = { grant_types: ['authorization_code'], response_types: ['code'], request_uris: [] };
  let key;
  if (signedWith) {
    key = await newClientKey(signedWith);
    metadata.jwks = { keys: [key.publicJwk] };
    metadata.request_object_signing_alg = signedWith;
  }
  return { client: await ctx.registerOk(metadata), key };
}

export default [
  {
    id: 'oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported',
    plan: 'Basic',
    title: 'request=<unsigned JWT> with state and nonce only inside: used (state, nonce come back) or refused (request_not_supported / error page)',
    run: supportedOrRefused('value'),
  },
  {
    id: 'oidcc-request-uri-unsigned-supported-correctly-or-rejected-as-unsupported',
    plan: 'Basic',
    title: 'request_uri=<harness URL of an unsigned JWT>: used correctly or refused (request_uri_not_supported / error page)',
    run: supportedOrRefused('reference'),
  },
  {
    id: 'oidcc-request-uri-unsigned',
    plan: 'Dynamic',
    title: 'dynamically registered client, request_uri of an unsigned request object: the provider fetches it and uses its state and nonce',
    async run(ctx) {
      const { client } = await requestUriClient(ctx);
      const claims = objectClaims(ctx, client);
      const flow = await sendObject(ctx, client, claims, unsigned(claims), 'reference');
      await expectUsedCorrectly(ctx, client, flow, claims);
    },
  },
  {
    id: 'oidcc-request-uri-signed-rs256',
    plan: 'Dynamic',
    title: 'client registered with request_object_signing_alg RS256 and jwks: request_uri of an RS256 request object is used',
    async run(ctx) {
      const { client, key } = await requestUriClient(ctx, { signedWith: 'RS256' });
      const claims = objectClaims(ctx, client);
      const flow = await sendObject(ctx, client, claims, await signed(claims, key), 'reference');
      await expectUsedCorrectly(ctx, client, flow, claims);
    },
  },
];
