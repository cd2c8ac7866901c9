// The harness's user agent: follows redirects by hand, keeps cookies, fills the provider's
// login form, answers the consent page and stops when the flow comes back to the relying party.
// It knows only the HTML contract (a password form, a consent form with decision=allow|deny,
// form_post pages), never a provider's private URLs.

import http from 'node:http';
import https from 'node:https';
import { CookieJar } from './cookies.mjs';
import { parseForms, hiddenFields } from './html.mjs';

const REDIRECT = new Set([301, 302, 303, 307, 308]);

export class Browser {
  constructor() {
    this.jar = new CookieJar();
  }

  /** One HTTP request with this browser's cookies; never follows redirects. */
  async request(url, { method = 'GET', form, headers = {} } = {}) {
    // A top-level navigation, as a browser sends it. Node's fetch would force Sec-Fetch-Mode: cors,
    // which relying parties such as mod_auth_openidc treat as an XHR, so plain node:http is used.
    const h = { 'user-agent': 'idp-conformance-browser', accept: 'text/html,*/*', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document', ...headers };
    const cookie = this.jar.header(url);
    if (cookie) h.cookie = cookie;
    let body;
    if (form) {
      body = Buffer.from(new URLSearchParams(form).toString());
      h['content-type'] = 'application/x-www-form-urlencoded';
      h['content-length'] = String(body.length);
    }
    const res = await rawRequest(url, method, h, body);
    this.jar.store(url, { headers: { getSetCookie: () => res.setCookie } });
    const location = res.headers.location;
    return { url, status: res.status, headers: new Headers(Object.entries(res.headers).filter(([k]) => k !== 'set-cookie').map(([k, v]) => [k, String(v)])), text: res.text, location: location ? new URL(location, url).href : null };
  }

  /**
   * Follow a navigation until it reaches `stopAt` (a URL whose origin+path match; query and
   * fragment are the response), or a page the browser cannot continue from.
   * start: a URL string, or { url, method: 'POST', form }.
   * opts.credentials: { username, password } to fill a login form, or null to stop at a login form.
   * opts.consent: 'allow' | 'deny'.
   * Returns { kind: 'callback'|'login_page'|'error_page'|'page', status, params, url, via,
   *           loginShown, consentShown, steps }.
   */
  async navigate(start, { stopAt, credentials = null, consent = 'allow', maxSteps = 20 } = {}) {
    let req = typeof start === 'string' ? { url: start, method: 'GET' } : { method: 'GET', ...start };
    const trace = { loginShown: false, consentShown: false, steps: [] };
    for (let i = 0; i < maxSteps; i++) {
      if (stopAt && sameEndpoint(req.url, stopAt)) {
        if (req.method === 'POST') return { kind: 'callback', via: 'form_post', url: req.url, params: Object.fromEntries(req.form), ...trace };
        return { kind: 'callback', via: 'redirect', url: req.url, params: responseParams(req.url), ...trace };
      }
      const res = await this.request(req.url, { method: req.method, form: req.form });
      trace.steps.push(`${req.method} ${new URL(req.url).pathname} -> ${res.status}`);
      if (REDIRECT.has(res.status) && res.location) {
        const keep = res.status === 307 || res.status === 308;
        req = keep ? { ...req, url: res.location } : { url: res.location, method: 'GET' };
        continue;
      }
      if (res.status >= 400) return { kind: 'error_page', status: res.status, text: res.text, url: req.url, ...trace };
      const forms = parseForms(res.text, req.url);
      const next = this.#nextFromPage(forms, { stopAt, credentials, consent, trace });
      if (!next) return { kind: next === null ? 'login_page' : 'page', status: res.status, text: res.text, url: req.url, ...trace };
      req = next;
    }
    throw new Error(`navigation did not finish within ${maxSteps} steps: ${trace.steps.join(', ')}`);
  }

  // null: a login form and no credentials; undefined: nothing to do on this page.
  #nextFromPage(forms, { stopAt, credentials, consent, trace }) {
    if (forms.length === 0) return undefined;
    const back = stopAt && forms.find((f) => sameEndpoint(f.action, stopAt));
    if (back) return { url: back.action, method: back.method === 'post' ? 'POST' : 'GET', form: hiddenFields(back) };
    const login = forms.find((f) => f.inputs.some((i) => i.type === 'password'));
    if (login) {
      trace.loginShown = true;
      if (!credentials) return null;
      const userField = login.inputs.find((i) => i.name === 'username')
        ?? login.inputs.find((i) => ['text', 'email', 'tel'].includes(i.type) && i.name);
      const passField = login.inputs.find((i) => i.type === 'password');
      const form = [...hiddenFields(login), [userField.name, credentials.username], [passField.name, credentials.password]];
      const button = login.buttons.find((b) => b.name);
      if (button) form.push([button.name, button.value]);
      return { url: login.action, method: login.method === 'post' ? 'POST' : 'GET', form };
    }
    const decision = forms.find((f) => f.buttons.some((b) => b.name === 'decision'));
    if (decision) {
      trace.consentShown = true;
      return { url: decision.action, method: 'POST', form: [...hiddenFields(decision), ['decision', consent]] };
    }
    // Any other single-step form (e.g. a logout confirmation): submit its first named button.
    const other = forms.find((f) => f.method === 'post') ?? forms[0];
    const button = other.buttons.find((b) => b.name) ;
    const form = hiddenFields(other);
    if (button) form.push([button.name, button.value]);
    return { url: other.action, method: other.method === 'post' ? 'POST' : 'GET', form };
  }
}

/** True when `url` is the endpoint `target` (same origin and path; query/fragment ignored). */
export function sameEndpoint(url, target) {
  const a = new URL(url);
  const b = new URL(target);
  return a.origin === b.origin && a.pathname === b.pathname;
}

/** Parameters of a redirect back to the client: query, or fragment if the query has none. */
export function responseParams(url) {
  const u = new URL(url);
  const q = Object.fromEntries(u.searchParams);
  if (Object.keys(q).length === 0 && u.hash) return Object.fromEntries(new URLSearchParams(u.hash.slice(1)));
  return q;
}

function rawRequest(url, method, headers, body) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const lib = u.protocol === 'https:' ? https : http;
    const req = lib.request(u, { method, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, setCookie: res.headers['set-cookie'] ?? [], text: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(20000, () => req.destroy(new Error(`timeout: ${method} ${u.pathname}`)));
    req.end(body);
  });
}
