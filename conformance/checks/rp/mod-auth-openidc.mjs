// Debian's libapache2-mod-auth-openidc: Apache protects a page; the user logs in through the
// provider; the info hook shows userinfo and refreshes the access token; logout ends both sessions.

import { fail, skip, expect } from '../../lib/check.mjs';
import { Browser } from '../../lib/browser.mjs';
import { outcomeText } from '../../lib/flow.mjs';
import { startApache, apacheAvailable, freePort } from '../../rp/apache.mjs';
import { expectLoggedOut } from './session.mjs';

export default {
  id: 'rp-mod-auth-openidc',
  plan: 'RP',
  timeoutMs: 90000,
  title: 'Apache + mod_auth_openidc protecting a page: login through the provider, page served, userinfo and tokens via the info hook, refresh, logout (provider session ended)',
  async run(ctx) {
    if (!apacheAvailable()) skip('apache2 / libapache2-mod-auth-openidc not installed (run conformance/install.sh)');
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const client = await ctx.client(`rp-mod-auth-openidc-${port}`, {
      redirect_uris: [`${base}/protected/redirect_uri`],
      post_logout_redirect_uris: [`${base}/loggedout.html`],
      id_token_alg: 'RS256',
    });
    const apache = await startApache({ issuer: ctx.issuer, client, port });
    try {
      const browser = new Browser();
      const page = await browser.navigate(`${base}/protected/`, { credentials: (await ctx.user()).credentials });
      if (page.kind !== 'page' || page.status !== 200 || !page.text.includes('signed in')) {
        if (process.env.CONFORMANCE_DEBUG) console.error(page.steps.join('\n'), page.text, apache.errorLog());
        fail(`the protected page was not served after login: ${outcomeText(page)}: ${apacheError(page.text)}`);
      }
      expect(page.loginShown, 'no login page was shown');
      const info = await infoHook(browser, base, '');
      expect(info.userinfo?.sub, 'info hook has no userinfo sub');
      expect(info.userinfo?.name, 'userinfo has no name for scope profile');
      expect(info.refresh_token, 'mod_auth_openidc holds no refresh_token');
      const refreshed = await infoHook(browser, base, '&access_token_refresh_interval=0');
      expect(refreshed.access_token && refreshed.access_token !== info.access_token, 'the info hook refresh did not yield a new access token');
      const logout = await browser.navigate(`${base}/protected/redirect_uri?logout=${encodeURIComponent(`${base}/loggedout.html`)}`, {});
      expect(logout.kind === 'page' && logout.text.includes('signed out'), `logout did not end at the post-logout page: ${outcomeText(logout)}`);
      const again = await browser.navigate(`${base}/protected/`, { credentials: null });
      expect(again.kind === 'login_page', `after logout the protected page did not require a login: ${outcomeText(again)}`);
      await expectLoggedOut(ctx, browser, client);
    } finally {
      await apache.stop();
    }
  },
};

/** The message of mod_auth_openidc's error template, if that is what the page is. */
function apacheError(html) {
  return html.match(/mod_auth_openidc error: ([^<]*)/)?.[1]?.trim() ?? '';
}

async function infoHook(browser, base, extra) {
  const res = await browser.request(`${base}/protected/redirect_uri?info=json${extra}`, { headers: { accept: 'application/json' } });
  if (res.status !== 200) fail(`info hook answered HTTP ${res.status}`);
  return JSON.parse(res.text);
}
