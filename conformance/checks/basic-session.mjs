// Basic plan, the login session: prompt=login / none, max_age, id_token_hint.

import { fail, expect } from '../lib/check.mjs';
import { Browser } from '../lib/browser.mjs';
import { authorize, codeFlow, expectErrorResponse, outcomeText } from '../lib/flow.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Log in once in a fresh browser; returns the browser and the first ID token's claims. */
async function loggedIn(ctx, client) {
  const browser = new Browser();
  const first = await codeFlow(ctx, client, { browser });
  expect(first.flow.outcome.loginShown, 'the first login showed no login page');
  return { browser, first };
}

export default [
  {
    id: 'oidcc-prompt-login',
    plan: 'Basic',
    title: 'prompt=login with a live session shows the login page again and auth_time increases',
    async run(ctx) {
      const client = await ctx.client();
      const { browser, first } = await loggedIn(ctx, client);
      await sleep(1100);
      const second = await codeFlow(ctx, client, { browser, params: { prompt: 'login' } });
      expect(second.flow.outcome.loginShown, 'prompt=login did not show the login page (the session was reused)');
      const t1 = first.idToken.payload.auth_time;
      const t2 = second.idToken.payload.auth_time;
      expect(typeof t2 === 'number', 'no auth_time in the id_token after prompt=login');
      expect(typeof t1 !== 'number' || t2 > t1, 'auth_time did not increase after prompt=login');
    },
  },
  {
    id: 'oidcc-prompt-none-not-logged-in',
    plan: 'Basic',
    title: 'prompt=none without a session: error login_required (or interaction/consent/account_selection_required) redirected to the client, no login page',
    async run(ctx) {
      const flow = await authorize(ctx, await ctx.client(), { params: { prompt: 'none' }, credentials: null });
      if (flow.outcome.loginShown) fail('prompt=none showed a login page');
      expectErrorResponse(ctx, flow, ['login_required', 'interaction_required', 'consent_required', 'account_selection_required']);
    },
  },
  {
    id: 'oidcc-prompt-none-logged-in',
    plan: 'Basic',
    title: 'prompt=none with a session returns a code without any page; same sub',
    async run(ctx) {
      const client = await ctx.client();
      const { browser, first } = await loggedIn(ctx, client);
      const second = await codeFlow(ctx, client, { browser, params: { prompt: 'none' }, credentials: null });
      expect(second.idToken.payload.sub === first.idToken.payload.sub, 'prompt=none gave a different sub');
    },
  },
  {
    id: 'oidcc-max-age-1',
    plan: 'Basic',
    title: 'max_age=1 two seconds after login forces a new login; auth_time present and increased',
    async run(ctx) {
      const client = await ctx.client();
      const { browser, first } = await loggedIn(ctx, client);
      await sleep(2100);
      const second = await codeFlow(ctx, client, { browser, params: { max_age: '1' } });
      expect(second.flow.outcome.loginShown, 'max_age=1 did not ask to log in again');
      const t2 = second.idToken.payload.auth_time;
      expect(typeof t2 === 'number', 'no auth_time in the id_token although max_age was requested');
      const t1 = first.idToken.payload.auth_time;
      expect(typeof t1 !== 'number' || t2 > t1, 'auth_time did not increase');
    },
  },
  {
    id: 'oidcc-max-age-10000',
    plan: 'Basic',
    title: 'max_age=10000 with a recent session needs no login; auth_time present and unchanged',
    async run(ctx) {
      const client = await ctx.client();
      const { browser, first } = await loggedIn(ctx, client);
      const second = await codeFlow(ctx, client, { browser, params: { max_age: '10000' } });
      expect(!second.flow.outcome.loginShown, 'max_age=10000 asked to log in again');
      const t2 = second.idToken.payload.auth_time;
      expect(typeof t2 === 'number', 'no auth_time in the id_token although max_age was requested');
      const t1 = first.idToken.payload.auth_time;
      expect(typeof t1 !== 'number' || t1 === t2, 'auth_time changed without a new login');
    },
  },
  {
    id: 'oidcc-id-token-hint',
    plan: 'Basic',
    title: 'prompt=none with id_token_hint of the logged-in user returns a code for the same sub',
    async run(ctx) {
      const client = await ctx.client();
      const { browser, first } = await loggedIn(ctx, client);
      const second = await codeFlow(ctx, client, { browser, params: { prompt: 'none', id_token_hint: first.tokens.id_token }, credentials: null });
      expect(second.idToken.payload.sub === first.idToken.payload.sub, 'different sub with id_token_hint');
    },
  },
  {
    id: 'extra-consent-deny',
    plan: 'Basic',
    title: 'the user denying consent sends error=access_denied to the client (if the provider asks for consent)',
    async run(ctx) {
      const client = await ctx.client('consent-deny');
      const flow = await authorize(ctx, client, { consent: 'deny', params: { scope: 'openid profile' } });
      if (!flow.outcome.consentShown) {
        if (flow.outcome.kind === 'callback' && flow.outcome.params.code) return 'no consent page shown (consent implied)';
        fail(`unexpected outcome ${outcomeText(flow.outcome)}`);
      }
      expectErrorResponse(ctx, flow, ['access_denied']);
    },
  },
];
