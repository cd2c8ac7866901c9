// oidc-provider configuration for the reference OP: the same standards surface and the same HTML
// contract (login form, consent form) that the harness expects from `idp`.

import { SharedMemoryAdapter } from './adapter.mjs';

export const SCOPES = ['openid', 'offline_access', 'profile', 'email', 'address', 'phone', 'id_number'];

export function providerConfig({ jwks, cookieKeys, findAccount, renderLogoutPage }) {
  return {
    adapter: SharedMemoryAdapter,
    jwks,
    findAccount,
    clients: [],
    // oidc-provider refuses to fetch from special-use addresses (SSRF protection); the harness serves
    // client jwks_uri documents on loopback, so the reference OP fetches without that dispatcher.
    fetch: (url, options) => {
      const { dispatcher, ...rest } = options;
      return globalThis.fetch(url, rest);
    },
    scopes: SCOPES,
    claims: {
      openid: ['sub'],
      profile: ['name'],
      email: ['email', 'email_verified'],
      address: ['address'],
      phone: ['phone_number', 'phone_number_verified'],
      id_number: ['id_number'],
    },
    responseTypes: ['code'],
    enableHttpPostMethods: true,
    cookies: { keys: cookieKeys, long: { sameSite: 'none', httpOnly: true }, short: { sameSite: 'lax', httpOnly: true } },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    clientDefaults: {
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'RS256',
    },
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: true,
    acrValues: ['urn:idp:acr:password'],
    discovery: {
      claims_locales_supported: ['zh-CN', 'en'],
      ui_locales_supported: ['zh-CN', 'en'],
      display_values_supported: ['page', 'popup'],
    },
    enabledJWA: {
      idTokenSigningAlgValues: ['RS256', 'ES256'],
      userinfoSigningAlgValues: ['RS256', 'ES256'],
      requestObjectSigningAlgValues: ['RS256', 'ES256'],
      clientAuthSigningAlgValues: ['RS256', 'ES256'],
    },
    features: {
      devInteractions: { enabled: false },
      claimsParameter: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
      userinfo: { enabled: true },
      jwtUserinfo: { enabled: true },
      backchannelLogout: { enabled: true },
      requestObjects: { enabled: true, requireSignedRequestObject: false },
      registration: { enabled: true, initialAccessToken: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => {
          ctx.body = renderLogoutPage(form);
        },
        postLogoutSuccessSource: async (ctx) => {
          ctx.body = '<!doctype html><html><body><p>Signed out.</p></body></html>';
        },
      },
    },
    ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, RefreshToken: 86400, Interaction: 600, Session: 3600, Grant: 86400 },
    pkce: { required: (_ctx, client) => client.clientAuthMethod === 'none' },
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      ctx.body = `<!doctype html><html><body><h1>Error</h1><p>${escape(out.error)}: ${escape(out.error_description ?? '')}</p></body></html>`;
    },
  };
}

export function escape(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}
