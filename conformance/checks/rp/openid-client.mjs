// npm openid-client (OpenID-certified RP): discovery, code flow with PKCE, ID token validation,
// userinfo, refresh, RP-initiated logout — all through the library's own API.

import * as oc from 'openid-client';
import { expect } from '../../lib/check.mjs';
import { POST_LOGOUT_URI, REDIRECT_URI } from '../../lib/context.mjs';
import { rpClient, browserLogin, browserLogout, expectLoggedOut, newBrowser } from './session.mjs';

export default {
  id: 'rp-openid-client',
  plan: 'RP',
  title: 'npm openid-client: discovery, code flow + PKCE with its ID token validation (iss, state, nonce), userinfo, refresh, RP-initiated logout',
  async run(ctx) {
    const client = await rpClient(ctx, 'rp-openid-client');
    const config = await oc.discovery(new URL(ctx.issuer), client.client_id, {}, oc.ClientSecretBasic(client.client_secret), { execute: [oc.allowInsecureRequests] });
    const browser = newBrowser();
    const verifier = oc.randomPKCECodeVerifier();
    const state = oc.randomState();
    const nonce = oc.randomNonce();
    const url = oc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI, scope: 'openid profile email offline_access', prompt: 'consent',
      code_challenge: await oc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state, nonce,
    });
    const callback = await browserLogin(ctx, browser, url);
    const tokens = await oc.authorizationCodeGrant(config, callback.url, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true });
    const claims = tokens.claims();
    const info = await oc.fetchUserInfo(config, tokens.access_token, claims.sub);
    expect(info.name, 'userinfo has no name for scope profile');
    expect(tokens.refresh_token, 'no refresh_token');
    const refreshed = await oc.refreshTokenGrant(config, tokens.refresh_token);
    expect(refreshed.access_token, 'refresh gave no access_token');
    await oc.fetchUserInfo(config, refreshed.access_token, claims.sub);
    const endState = oc.randomState();
    const end = oc.buildEndSessionUrl(config, { id_token_hint: tokens.id_token, post_logout_redirect_uri: POST_LOGOUT_URI, state: endState });
    await browserLogout(browser, end, endState);
    await expectLoggedOut(ctx, browser, client);
  },
};
