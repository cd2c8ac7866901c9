// Everything a check needs about the provider under test: discovery metadata, keys, a test user,
// static clients (made with the provider's admin interface) and dynamic registration.

import crypto from 'node:crypto';
import { makeIdNumber } from './gb11643.mjs';
import { fail, describe } from './check.mjs';

export const REDIRECT_URI = 'https://rp.example.org/cb';
export const POST_LOGOUT_URI = 'https://rp.example.org/logged-out';
export const ALL_SCOPES = ['openid', 'profile', 'email', 'address', 'phone', 'offline_access'];

let userCounter = 0;

export class Context {
  constructor({ provider, aux }) {
    this.provider = provider;
    this.issuer = provider.issuer;
    this.aux = aux;
    this.clients = new Map();
    this.users = [];
  }

  async init() {
    const res = await fetch(`${this.issuer}/.well-known/openid-configuration`);
    if (!res.ok) throw new Error(`discovery answered HTTP ${res.status}`);
    this.meta = await res.json();
  }

  async jwks() {
    const res = await fetch(this.meta.jwks_uri, { headers: { accept: 'application/json' } });
    if (!res.ok) fail(`jwks_uri answered HTTP ${res.status}`);
    return res.json();
  }

  /** A new citizen with every attribute; returns the user with login credentials. */
  async newUser() {
    userCounter += 1;
    const n = userCounter;
    const u = {
      id_number: makeIdNumber(100 + n),
      name: `测试用户${n}`,
      phone: `1380000${String(1000 + n).slice(-4)}`,
      email: `citizen${n}@example.org`,
      address: `北京市朝阳区测试路${n}号`,
      password: `Correct-Horse-${n}-Battery`,
    };
    const made = await this.provider.createUser(u);
    const credentials = made.external ?? { username: u.id_number, password: u.password };
    const user = { ...u, sub: made.sub, credentials };
    this.users.push(user);
    return user;
  }

  /** The shared test user. */
  async user() {
    this.defaultUser ??= await this.newUser();
    return this.defaultUser;
  }

  /**
   * A static client made through the provider's admin interface, memoized by `key`.
   * Defaults: confidential, client_secret_basic, authorization_code + refresh_token, all scopes.
   */
  async client(key = 'default', opts = {}) {
    if (!this.clients.has(key)) {
      const spec = {
        name: `conformance ${key}`,
        redirect_uris: [REDIRECT_URI],
        grant_types: ['authorization_code', 'refresh_token'],
        scopes: ALL_SCOPES,
        auth_method: opts.public ? 'none' : 'client_secret_basic',
        post_logout_redirect_uris: [POST_LOGOUT_URI],
        ...opts,
      };
      const made = await this.provider.createClient(spec);
      this.clients.set(key, { ...spec, ...made });
    }
    return this.clients.get(key);
  }

  /** RFC 7591 registration. token: an initial access token, or null for none, or undefined for a fresh one. */
  async register(metadata, { token } = {}) {
    if (!this.meta.registration_endpoint) return { status: 0, json: null, unsupported: true };
    const bearer = token === undefined ? await this.provider.registrationToken() : token;
    const body = { redirect_uris: [REDIRECT_URI], client_name: 'conformance dynamic', ...metadata };
    const res = await fetch(this.meta.registration_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...(bearer && { authorization: `Bearer ${bearer}` }) },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    let json = null;
    try { json = JSON.parse(text); } catch { /* not JSON */ }
    const client = json?.client_id
      ? { ...body, ...json, registered: json, auth_method: json.token_endpoint_auth_method ?? body.token_endpoint_auth_method ?? 'client_secret_basic', public: json.token_endpoint_auth_method === 'none' }
      : null;
    return { status: res.status, json, client };
  }

  /** Register a client and fail the check if registration does not succeed. */
  async registerOk(metadata, opts) {
    const r = await this.register(metadata, opts);
    if (r.unsupported) fail('no registration_endpoint in discovery');
    if (r.status !== 201 || !r.client) fail(`registration answered ${describe(r)}`);
    return r.client;
  }
}

export const randomValue = () => crypto.randomBytes(16).toString('base64url');
