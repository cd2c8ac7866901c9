// The HTML of the reference OP's interaction pages: the same contract as `idp`'s pages.
import { escape } from './config.mjs';

const page = (title, body) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title></head><body>${body}</body></html>`;

export function loginPage({ uid, csrf, error }) {
  return page('Sign in', `<h1>Sign in</h1>${error ? `<p role="alert">${escape(error)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}/login">
<input type="hidden" name="csrf" value="${escape(csrf)}">
<label>ID number or phone <input type="text" name="username" autocomplete="username"></label>
<label>Password <input type="password" name="password" autocomplete="current-password"></label>
<button type="submit">Sign in</button>
</form>`);
}

export function consentPage({ uid, csrf, clientName, scopes }) {
  return page('Consent', `<h1>${escape(clientName)} asks for: ${escape(scopes.join(' '))}</h1>
<form method="post" action="/interaction/${escape(uid)}/confirm">
<input type="hidden" name="csrf" value="${escape(csrf)}">
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>`);
}

export function logoutPage(form) {
  const withButton = form.replace('</form>', '<button type="submit" name="logout" value="yes">Sign out</button></form>');
  return page('Sign out', `<h1>Sign out?</h1>${withButton}`);
}
