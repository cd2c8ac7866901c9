// oidc-provider configured as close to idp as it allows, for side-by-side benchmarks.
// See README.md for the request sequences and for every difference that favours either side.
import { generateKeyPairSync, randomUUID } from 'node:crypto';

// oidc-provider prints two warnings that are known and accepted here: 9.x asks for Node.js 22
// LTS (it runs on 20.19+, which the machine has; see README.md), and it names the in-memory
// adapter (used on purpose, below). Only these two are dropped; the import is dynamic so that
// the filter is in place before the module's own start-up check runs.
const known = /^oidc-provider WARNING: (Unsupported runtime|a quick start development-only in-memory adapter)/;
const { warn } = console;
console.warn = (msg, ...rest) => (known.test(msg) ? undefined : warn(msg, ...rest));
const { default: Provider, errors } = await import('oidc-provider');

const PORT = Number(process.env.PORT || 3000);
const ISSUER = process.env.ISSUER || `http://127.0.0.1:${PORT}`;
// idp puts its issuer in the access token's `aud`; oidc-provider needs a resource indicator
// (RFC 8707) to issue JWT access tokens at all, so one fixed resource stands for "our API".
const RESOURCE = process.env.RESOURCE || 'urn:idp-bench:api';
const CLIENT_ID = process.env.CLIENT_ID || 'bench-app';
const CLIENT_SECRET = process.env.CLIENT_SECRET || 'bench-secret-0123456789abcdef0123456789abcdef';
const REDIRECT_URI = process.env.REDIRECT_URI || 'http://127.0.0.1:9/cb';
const REFRESH_TOKENS = process.env.REFRESH_TOKENS !== 'off';

// oidc-provider has no password storage of its own (accounts are the host application's job),
// so this is a plain string compare: the password-login scenario (Argon2id on our side) is not
// compared, only the login that creates the session for the code-flow scenario.
const ACCOUNT = { login: 'citizen', password: 'correct horse', sub: 'citizen', name: '压测' };

// One EC P-256 key made at start and kept in memory, like idp's ES256 signer.
const jwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
const signingKey = { ...jwk, kid: randomUUID(), alg: 'ES256', use: 'sig' };

const configuration = {
  // No `adapter`: the built-in MemoryAdapter, an LRU of about 1,000-2,000 entries in this process.
  // It is faster than any real database adapter and forgets old tokens instead of growing, both
  // of which favour oidc-provider against idp's SQLite/PostgreSQL writes (see README.md).
  clients: [{
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['authorization_code', 'client_credentials', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: [REDIRECT_URI],
    id_token_signed_response_alg: 'ES256',
  }],
  clientDefaults: { id_token_signed_response_alg: 'ES256' },
  jwks: { keys: [signingKey] },
  enabledJWA: { idTokenSigningAlgValues: ['ES256'] },
  scopes: ['openid', 'profile'], // resource scopes (api.read) come from getResourceServerInfo
  claims: { openid: ['sub'], profile: ['name'] },
  async findAccount(ctx, sub) {
    if (sub !== ACCOUNT.sub) return undefined;
    return { accountId: sub, claims: () => ({ sub, name: ACCOUNT.name }) };
  },
  // S256 is the only method in 9.x. Both oidc-provider's default and idp require PKCE only of
  // public clients; required for every client here. The same for the benchmark, which always
  // sends it.
  pkce: { required: () => true },
  // idp's lifetimes (config.rs defaults), so both sides keep as many live tokens around.
  ttl: {
    AccessToken: 600,
    ClientCredentials: 600,
    AuthorizationCode: 60,
    IdToken: 3600,
    RefreshToken: 30 * 24 * 3600,
    Interaction: 15 * 60,
    Session: 8 * 3600,
    Grant: 14 * 24 * 3600,
  },
  // idp issues a refresh token only for `offline_access`; oidc-provider drops `offline_access`
  // unless the request also says prompt=consent (which forces an interaction every time), so
  // refresh tokens are issued here on every code exchange, or never with REFRESH_TOKENS=off
  // (which matches idp's code flow without offline_access: see README.md).
  issueRefreshToken: (ctx, client) => REFRESH_TOKENS && client.grantTypeAllowed('refresh_token'),
  rotateRefreshToken: true, // idp rotates on every use
  cookies: { keys: [process.env.COOKIE_KEY || 'bench-cookie-key-0123456789abcdef0123456789'] },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    // idp describes a token only to the client it was issued to; so does this.
    introspection: { enabled: true, allowedPolicy: (ctx, client, token) => token.clientId === client.clientId },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => RESOURCE,
      // Without this, a code (or refresh) exchange whose scope has `openid` yields an opaque
      // userinfo token instead of a JWT for the resource, unless the request repeats `resource`.
      useGrantedResource: () => true,
      getResourceServerInfo(ctx, indicator) {
        if (indicator !== RESOURCE) throw new errors.InvalidTarget();
        return {
          scope: 'profile api.read',
          audience: ISSUER,
          accessTokenTTL: 600,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'ES256' } },
        };
      },
    },
  },
};

const provider = new Provider(ISSUER, configuration);
provider.proxy = false;

const page = (uid) => `<!doctype html><meta charset=utf-8><title>Sign in</title>
<form method=post action="/interaction/${uid}/login">
<input name=login autocomplete=username><input name=password type=password><button>Sign in</button>
</form>`;

async function formBody(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
}

// The login page and its form post, mounted in front of the provider's own routes.
provider.use(async (ctx, next) => {
  const m = /^\/interaction\/([\w-]+)(\/login)?$/.exec(ctx.path);
  if (!m) return next();
  const [, uid, login] = m;
  ctx.set('cache-control', 'no-store');
  if (!login && ctx.method === 'GET') {
    await provider.interactionDetails(ctx.req, ctx.res); // 400 (SessionNotFound) if stale
    ctx.type = 'html';
    ctx.body = page(uid);
    return undefined;
  }
  if (!login || ctx.method !== 'POST') return next();

  const { params, prompt } = await provider.interactionDetails(ctx.req, ctx.res);
  const form = await formBody(ctx.req);
  if (prompt.name !== 'login'
    || form.get('login') !== ACCOUNT.login || form.get('password') !== ACCOUNT.password) {
    ctx.status = 401;
    ctx.type = 'html';
    ctx.body = page(uid);
    return undefined;
  }
  // Log in and grant what the client asked for in one step, as idp does once consent is
  // remembered: later /auth requests find this grant in the session and skip the interaction.
  const grant = new provider.Grant({ accountId: ACCOUNT.sub, clientId: params.client_id });
  const requested = new Set(String(params.scope).split(' '));
  const of = (...scopes) => scopes.filter((s) => requested.has(s)).join(' ');
  grant.addOIDCScope(of('openid', 'profile'));
  grant.addResourceScope(params.resource || RESOURCE, of('profile', 'api.read'));
  const grantId = await grant.save();
  const to = await provider.interactionResult(ctx.req, ctx.res, {
    login: { accountId: ACCOUNT.sub },
    consent: { grantId },
  }, { mergeWithLastSubmission: false });
  ctx.status = 303; // set first: ctx.redirect keeps a redirect status, else uses 302
  ctx.redirect(to);
  return undefined;
});

const server = provider.listen(PORT, '127.0.0.1', () => console.log('ready'));
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
