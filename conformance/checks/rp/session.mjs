// Shared steps for the third-party relying party checks: the browser part of a login and of an
// RP-initiated logout, and the proof that the logout ended the session.

import { fail, expect } from '../../lib/check.mjs';
import { Browser } from '../../lib/browser.mjs';
import { POST_LOGOUT_URI, REDIRECT_URI, randomValue } from '../../lib/context.mjs';
import { outcomeText } from '../../lib/flow.mjs';

export async function rpClient(ctx, name) {
  return ctx.client(name, { post_logout_redirect_uris: [POST_LOGOUT_URI], redirect_uris: [REDIRECT_URI] });
}

/** Let the user log in at `authorizationUrl`; returns the callback URL the RP receives. */
export async function browserLogin(ctx, browser, authorizationUrl) {
  const outcome = await browser.navigate(String(authorizationUrl), { stopAt: REDIRECT_URI, credentials: (await ctx.user()).credentials });
  if (outcome.kind !== 'callback') fail(`login did not come back to the RP: ${outcomeText(outcome)}`);
  if (outcome.via === 'form_post') return { url: new URL(REDIRECT_URI), body: new URLSearchParams(outcome.params) };
  return { url: new URL(outcome.url) };
}

/** Follow the RP's end-session URL; it must end at post_logout_redirect_uri with our state. */
export async function browserLogout(browser, endSessionUrl, state) {
  const outcome = await browser.navigate(String(endSessionUrl), { stopAt: POST_LOGOUT_URI });
  if (outcome.kind !== 'callback') fail(`logout did not return to post_logout_redirect_uri: ${outcomeText(outcome)}`);
  if (state !== undefined) expect(outcome.params.state === state, 'logout did not return the state');
}

/** After logout, prompt=none must answer login_required: the session is gone. */
export async function expectLoggedOut(ctx, browser, client) {
  const redirectUri = client.redirect_uris?.[0] ?? REDIRECT_URI;
  const p = new URLSearchParams({ response_type: 'code', client_id: client.client_id, redirect_uri: redirectUri, scope: 'openid', prompt: 'none', state: randomValue(), nonce: randomValue() });
  const outcome = await browser.navigate(`${ctx.meta.authorization_endpoint}?${p}`, { stopAt: redirectUri });
  if (outcome.kind === 'callback' && outcome.params.code) fail('after logout, prompt=none still returned a code (session not ended)');
  expect(outcome.kind === 'callback' && outcome.params.error === 'login_required', `after logout, prompt=none gave ${outcomeText(outcome)}, expected login_required`);
}

export const newBrowser = () => new Browser();
