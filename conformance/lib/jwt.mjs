// ID token and JWT helpers on top of jose: decode without trust, verify against the provider's JWKS.

import * as jose from 'jose';

export function decodeJwt(token) {
  const parts = String(token).split('.');
  if (parts.length !== 3) throw new Error(`not a compact JWS (${parts.length} parts)`);
  return { header: jose.decodeProtectedHeader(token), payload: jose.decodeJwt(token), signature: parts[2] };
}

/** Verify a JWS with the keys published at jwksUri; returns {header, payload, key}. */
export async function verifyWithJwks(token, jwks, { algorithms } = {}) {
  const set = jose.createLocalJWKSet(jwks);
  const { payload, protectedHeader, key } = await jose.jwtVerify(token, set, { algorithms });
  return { header: protectedHeader, payload, key };
}

/**
 * The ID token checks of OpenID Connect Core 3.1.3.7 that do not depend on the test:
 * iss, aud, azp, exp, iat, sub, nonce, and signature with the provider's published keys.
 */
export async function validateIdToken(idToken, { issuer, clientId, nonce, jwks, expectedAlg, clockSkew = 300 }) {
  const { header, payload } = decodeJwt(idToken);
  const problems = [];
  if (header.alg === 'none') problems.push('id_token is unsigned (alg none)');
  if (expectedAlg && header.alg !== expectedAlg) problems.push(`id_token alg ${header.alg}, expected ${expectedAlg}`);
  if (header.alg !== 'none') {
    try {
      await verifyWithJwks(idToken, jwks);
    } catch (e) {
      problems.push(`id_token signature does not verify with the jwks_uri keys (${e.code ?? e.message})`);
    }
    if (header.kid !== undefined && !jwks.keys.some((k) => k.kid === header.kid)) problems.push('id_token kid is not in jwks_uri');
  }
  if (payload.iss !== issuer) problems.push(`iss is ${JSON.stringify(payload.iss)}, expected the issuer`);
  const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  if (!aud.includes(clientId)) problems.push('aud does not contain the client_id');
  if (aud.length > 1 && payload.azp !== clientId) problems.push('multiple audiences but azp is not the client_id');
  if (payload.azp !== undefined && payload.azp !== clientId) problems.push('azp is not the client_id');
  const now = Math.floor(Date.now() / 1000);
  if (typeof payload.exp !== 'number' || payload.exp <= now - clockSkew) problems.push('exp missing or in the past');
  if (typeof payload.iat !== 'number' || Math.abs(payload.iat - now) > clockSkew) problems.push('iat missing or not now');
  if (typeof payload.sub !== 'string' || payload.sub.length === 0 || payload.sub.length > 255) problems.push('sub missing or longer than 255');
  if (nonce !== undefined && payload.nonce !== nonce) problems.push(payload.nonce === undefined ? 'nonce missing' : 'nonce does not match the request');
  if (nonce === undefined && payload.nonce !== undefined) problems.push('nonce present although none was sent');
  if (payload.auth_time !== undefined && typeof payload.auth_time !== 'number') problems.push('auth_time is not a number');
  return { header, payload, problems };
}
