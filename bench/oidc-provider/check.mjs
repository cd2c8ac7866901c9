// Walks every flow the load generator performs against a running server.mjs, with plain fetch,
// manual redirects and a small cookie jar, and asserts each hop. Exits non-zero on any failure.
//   PORT=3000 node check.mjs   (or BASE=http://127.0.0.1:3000; LOOPS=200; CLIENTS=1)
import { createHash, randomBytes } from 'node:crypto';

const BASE = process.env.BASE || `http://127.0.0.1:${process.env.PORT || 3000}`;
const ISSUER = process.env.ISSUER || BASE;
const CLIENT_ID = process.env.CLIENT_ID || 'bench-app';
const CLIENT_SECRET = process.env.CLIENT_SECRET || 'bench-secret-0123456789abcdef0123456789abcdef';
const REDIRECT_URI = process.env.REDIRECT_URI || 'http://127.0.0.1:9/cb';
const LOOPS = Number(process.env.LOOPS || 200); // code flows per client in step c
const CLIENTS = Number(process.env.CLIENTS || 1); // browsers with their own session, in parallel
const REFRESH_TOKENS = process.env.REFRESH_TOKENS !== 'off'; // as given to server.mjs
const BASIC = `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`;

function check(ok, what, detail) {
  if (!ok) throw new Error(`${what}${detail === undefined ? '' : `: ${JSON.stringify(detail)}`}`);
}
const log = (...a) => console.log('  ', ...a);

// Cookies by name only: the flow is sequential, and oidc-provider's names do not collide.
class Jar {
  map = new Map();

  take(res) {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair.indexOf('=');
      const [name, value] = [pair.slice(0, i), pair.slice(i + 1)];
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(c)) this.map.delete(name);
      else this.map.set(name, value);
    }
  }

  header() { return [...this.map].map(([k, v]) => `${k}=${v}`).join('; '); }
}

function jwt(token, typ = 'token') {
  const [h, p, s] = String(token).split('.');
  check(s, `${typ} is a JWS`, token);
  const header = JSON.parse(Buffer.from(h, 'base64url'));
  check(header.alg === 'ES256', `${typ} header alg ES256`, header);
  return { header, payload: JSON.parse(Buffer.from(p, 'base64url')) };
}

function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

const authUrl = (challenge) => `${BASE}/auth?${new URLSearchParams({
  response_type: 'code',
  client_id: CLIENT_ID,
  redirect_uri: REDIRECT_URI,
  scope: 'openid profile',
  state: randomBytes(8).toString('hex'),
  code_challenge: challenge,
  code_challenge_method: 'S256',
})}`;

const get = (url, jar) => fetch(new URL(url, BASE), {
  redirect: 'manual',
  headers: jar ? { cookie: jar.header() } : {},
});

async function post(path, form, headers = {}) {
  return fetch(new URL(path, BASE), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form),
  });
}

async function token(form) {
  const res = await post('/token', form, { authorization: BASIC });
  const body = await res.json();
  check(res.status === 200, `POST /token ${form.grant_type} → 200`, { status: res.status, body });
  return body;
}

function codeFrom(res, state) {
  check(res.status === 303, '/auth → 303 to the redirect_uri', res.status);
  const to = new URL(res.headers.get('location'));
  check(to.origin + to.pathname === REDIRECT_URI, 'redirected to the redirect_uri', to.href);
  check(to.searchParams.get('state') === state, 'state echoed', to.href);
  check(to.searchParams.get('code'), 'code present', to.href);
  return to.searchParams.get('code');
}

async function codeExchange(code, verifier) {
  const t = await token({
    grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier,
  });
  const id = jwt(t.id_token, 'id_token');
  check(id.payload.aud === CLIENT_ID && id.payload.sub === 'citizen', 'id_token aud/sub', id);
  const at = jwt(t.access_token, 'access_token');
  check(at.header.typ === 'at+jwt' && at.payload.aud === ISSUER, 'access token typ/aud', at);
  check(Boolean(t.refresh_token) === REFRESH_TOKENS, `refresh_token issued: ${REFRESH_TOKENS}`, t);
  return t;
}

async function clientCredentials() {
  console.log('a. client_credentials');
  const t = await token({ grant_type: 'client_credentials', scope: 'api.read' });
  const { header, payload } = jwt(t.access_token, 'access_token');
  check(header.typ === 'at+jwt' && payload.aud === ISSUER && payload.scope === 'api.read',
    'client_credentials token typ/aud/scope', payload);
  log('POST /token → 200, access_token', JSON.stringify(header), JSON.stringify(payload));
}

async function logIn(quiet) {
  const note = quiet ? () => {} : log;
  const jar = new Jar();
  const { verifier, challenge } = pkce();
  const url = authUrl(challenge);
  let res = await get(url, jar);
  jar.take(res);
  check(res.status === 303, 'GET /auth → 303 to the interaction', res.status);
  const interaction = res.headers.get('location');
  check(/^\/interaction\/[\w-]+$/.test(interaction), 'interaction location', interaction);
  note('GET /auth → 303', interaction, 'cookies', [...jar.map.keys()].join(' '));

  res = await get(interaction, jar);
  const html = await res.text();
  check(res.status === 200 && html.includes(`action="${interaction}/login"`), 'login page', html);
  note(`GET ${interaction} → 200 form`);

  res = await post(`${interaction}/login`, { login: 'citizen', password: 'correct horse' },
    { cookie: jar.header() });
  jar.take(res);
  const resume = res.headers.get('location');
  check(res.status === 303 && resume.startsWith(`${ISSUER}/auth/`), 'login → 303 /auth/:uid',
    { status: res.status, resume });
  note(`POST ${interaction}/login → 303`, resume);

  res = await get(resume, jar);
  jar.take(res);
  const code = codeFrom(res, new URL(url).searchParams.get('state'));
  check(jar.map.has('_session'), 'session cookie set', [...jar.map.keys()]);
  note(`GET ${new URL(resume).pathname} → 303`, res.headers.get('location'));
  note('  cookies now', [...jar.map.keys()].join(' '));

  const t = await codeExchange(code, verifier);
  note('POST /token authorization_code → 200', Object.keys(t).join(' '));
  note('  id_token', JSON.stringify(jwt(t.id_token).payload));
  note('  access_token', JSON.stringify(jwt(t.access_token).payload));
  // Only the session cookies are needed from here on (the interaction ones are path-scoped).
  for (const k of jar.map.keys()) if (!k.startsWith('_session')) jar.map.delete(k);
  return { jar, tokens: t };
}

async function codeFlow(jar, first) {
  const { verifier, challenge } = pkce();
  const url = authUrl(challenge);
  const res = await get(url, jar);
  if (first) {
    // oidc-provider re-sends the session cookies on every /auth (a sliding expiry), same values.
    const sent = new Jar();
    sent.take(res);
    const same = [...sent.map].every(([k, v]) => jar.map.get(k) === v);
    check(same, 'session cookie values unchanged by /auth', [...sent.map]);
    log('GET /auth with the session: Set-Cookie', [...sent.map.keys()].join(' ') || 'none', '(same values)');
  }
  check(!String(res.headers.get('location')).includes('/interaction/'), 'no interaction', res.headers.get('location'));
  const code = codeFrom(res, new URL(url).searchParams.get('state'));
  return codeExchange(code, verifier);
}

async function codeFlows(jars) {
  console.log(`c. code flow on the session: ${jars.length} client(s) × ${LOOPS}`);
  const t0 = performance.now();
  const lasts = await Promise.all(jars.map(async (jar, c) => {
    let last;
    for (let i = 0; i < LOOPS; i += 1) last = await codeFlow(jar, c === 0 && i === 0);
    return last;
  }));
  const s = (performance.now() - t0) / 1000;
  const n = LOOPS * jars.length;
  log(`GET /auth → 303 code, POST /token → 200: ${n} in ${s.toFixed(2)} s, ${(n / s).toFixed(0)} ops/s (sanity figure only)`);
  return lasts[0];
}

async function refresh(t) {
  console.log('d. refresh');
  const r = await token({ grant_type: 'refresh_token', refresh_token: t.refresh_token });
  const at = jwt(r.access_token, 'access_token');
  check(at.header.typ === 'at+jwt' && at.payload.aud === ISSUER, 'refreshed access token typ/aud', at);
  check(r.refresh_token && r.refresh_token !== t.refresh_token, 'refresh token rotated', r);
  log('POST /token grant_type=refresh_token → 200', Object.keys(r).join(' '));
  return r;
}

async function introspectRefresh(value) {
  const res = await post('/token/introspection', { token: value, token_type_hint: 'refresh_token' },
    { authorization: BASIC });
  check(res.status === 200, 'POST /token/introspection → 200', res.status);
  return res.json();
}

// oidc-provider introspects opaque tokens only (refresh tokens here); a JWT access token gets
// 400 unsupported_token_type, where idp verifies it and answers active: true.
async function introspect(t) {
  console.log('e. introspection');
  const body = await introspectRefresh(t.refresh_token);
  check(body.active === true && body.sub === 'citizen', 'refresh_token active', body);
  log('POST /token/introspection token=<refresh_token> → 200', JSON.stringify(body));
  const res = await post('/token/introspection', { token: t.access_token }, { authorization: BASIC });
  const err = await res.json();
  check(res.status === 400 && err.error === 'unsupported_token_type', 'JWT access token → 400', err);
  log('POST /token/introspection token=<JWT access_token> → 400', err.error);
}

// Like idp, presenting a rotated refresh token again revokes the whole grant. This ends the
// check: the session's grant (shared by all its code flows) is gone afterwards.
async function reuse(old, current) {
  console.log('f. refresh token reuse');
  const res = await post('/token', { grant_type: 'refresh_token', refresh_token: old },
    { authorization: BASIC });
  const err = await res.json();
  check(res.status === 400 && err.error === 'invalid_grant', 'reused refresh token → 400', err);
  check((await introspectRefresh(current)).active === false, 'grant revoked on reuse');
  log('POST /token with the old refresh_token → 400 invalid_grant; the new one is now inactive');
}

try {
  await clientCredentials();
  console.log(`b. log in once${CLIENTS > 1 ? ` (and ${CLIENTS - 1} more browsers, quietly)` : ''}`);
  const jars = [(await logIn()).jar];
  for (let c = 1; c < CLIENTS; c += 1) jars.push((await logIn(true)).jar);
  const last = await codeFlows(jars);
  if (REFRESH_TOKENS) {
    const refreshed = await refresh(last);
    await introspect(refreshed);
    await reuse(last.refresh_token, refreshed.refresh_token);
  } else {
    console.log('d.-f. skipped: REFRESH_TOKENS=off');
  }
  console.log('all checks passed');
} catch (e) {
  console.error('FAILED:', e.message);
  process.exit(1);
}
