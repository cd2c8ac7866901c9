// Deliberately broken provider behaviours, applied by the proxy (lib/proxy.mjs). Each names the
// checks that must FAIL when it is on, and `expect` matches the failure message (so a check that fails
// for an unrelated reason does not count); `node run.mjs selftest` asserts both.
// make(meta) gets the discovery document and returns { request?, response? } hooks.

const form = (req) => new URLSearchParams(req.body.toString());
const pathOf = (url) => new URL(url, 'http://x').pathname;
const isPath = (req, endpoint) => endpoint && pathOf(req.url) === new URL(endpoint).pathname;

function json(res) {
  try {
    return JSON.parse(res.body.toString());
  } catch {
    return null;
  }
}

function withJson(res, obj) {
  return { ...res, body: Buffer.from(JSON.stringify(obj)) };
}

/** Rewrite the authorization request's query (GET) or form (POST). */
function editAuthorizationRequest(meta, edit) {
  return (req) => {
    if (!isPath(req, meta.authorization_endpoint)) return undefined;
    const u = new URL(req.url, 'http://x');
    if (req.method === 'GET') {
      edit(u.searchParams);
      return { ...req, url: `${u.pathname}?${u.searchParams}` };
    }
    const f = form(req);
    edit(f);
    return { ...req, body: Buffer.from(f.toString()) };
  };
}

/** Rewrite redirects (and form_post pages) that carry an authorization response. */
function editAuthorizationResponse(edit) {
  return (_req, res) => {
    const loc = res.headers.location;
    if (loc && /[?&#](code|error)=/.test(loc)) {
      const u = new URL(loc);
      const params = u.search ? u.searchParams : new URLSearchParams(u.hash.slice(1));
      edit(params);
      if (u.search) u.search = params.toString();
      else u.hash = params.toString();
      return { ...res, headers: { ...res.headers, location: u.href } };
    }
    if (/text\/html/.test(res.headers['content-type'] ?? '') && /name="code"|name="error"/.test(res.body.toString())) {
      const html = res.body.toString().replace(/<input[^>]*>/g, (tag) => {
        const name = tag.match(/name="([^"]*)"/)?.[1];
        const value = tag.match(/value="([^"]*)"/)?.[1];
        if (!name) return tag;
        const p = new URLSearchParams([[name, value ?? '']]);
        edit(p);
        return p.has(name) ? tag : '';
      });
      return { ...res, body: Buffer.from(html) };
    }
    return undefined;
  };
}

const unsignedCopy = (jwt) => {
  const [, payload] = jwt.split('.');
  return `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${payload}.`;
};

export const MUTATIONS = {
  'accept-reused-code': {
    expect: /reused authorization code was accepted|reuse/i,
    description: 'answers a reused authorization code with the first token response (200)',
    checks: ['oidcc-codereuse', 'rp-oauth4webapi-negative'],
    make: (meta) => ({
      request: (req, memory) => {
        if (!isPath(req, meta.token_endpoint)) return undefined;
        const f = form(req);
        const seen = f.get('grant_type') === 'authorization_code' && memory.get(`code:${f.get('code')}`);
        return seen ? { respond: seen } : undefined;
      },
      response: (req, res, memory) => {
        if (!isPath(req, meta.token_endpoint) || res.status !== 200) return undefined;
        const f = form(req);
        if (f.get('grant_type') === 'authorization_code') memory.set(`code:${f.get('code')}`, res);
        return undefined;
      },
    }),
  },
  'drop-iss': {
    expect: /\biss\b/,
    description: 'removes iss from authorization responses although discovery advertises it (RFC 9207)',
    checks: ['oidcc-server', 'rp-openid-client', 'rp-oauth4webapi', 'rp-authlib'],
    make: () => ({ response: editAuthorizationResponse((p) => p.delete('iss')) }),
  },
  'drop-state': {
    expect: /state/,
    description: 'removes state from authorization responses',
    checks: ['oidcc-server', 'oidcc-prompt-none-not-logged-in'],
    make: () => ({ response: editAuthorizationResponse((p) => p.delete('state')) }),
  },
  'alg-none': {
    expect: /alg|unsigned|signature|JWS/i,
    description: 'rewrites ID tokens in token responses to alg none without signature',
    // mod_auth_openidc is not listed: it takes an ID token from the token endpoint without checking the
    // signature (OIDC Core 3.1.3.7 allows TLS to stand in for it), so it logs in and only logout fails.
    checks: ['oidcc-server', 'oidcc-idtoken-signature', 'rp-openid-client', 'rp-authlib'],
    make: (meta) => ({
      response: (req, res) => {
        if (!isPath(req, meta.token_endpoint)) return undefined;
        const body = json(res);
        if (!body?.id_token) return undefined;
        return withJson(res, { ...body, id_token: unsignedCopy(body.id_token) });
      },
    }),
  },
  'no-cache-control': {
    expect: /no-store/,
    description: 'drops Cache-Control: no-store from token responses',
    checks: ['oidcc-server'],
    make: (meta) => ({
      response: (req, res) => {
        if (!isPath(req, meta.token_endpoint)) return undefined;
        const headers = { ...res.headers };
        delete headers['cache-control'];
        delete headers.pragma;
        return { ...res, headers };
      },
    }),
  },
  'ignore-prompt-login': {
    expect: /prompt=login|auth_time/,
    description: 'strips prompt=login from authorization requests (the session is reused)',
    checks: ['oidcc-prompt-login'],
    make: (meta) => ({ request: editAuthorizationRequest(meta, (p) => { if (p.get('prompt') === 'login') p.delete('prompt'); }) }),
  },
  'ignore-prompt-none': {
    expect: /login page|prompt=none/,
    description: 'strips prompt=none from authorization requests (a login page is shown)',
    checks: ['oidcc-prompt-none-not-logged-in'],
    make: (meta) => ({ request: editAuthorizationRequest(meta, (p) => { if (p.get('prompt') === 'none') p.delete('prompt'); }) }),
  },
  'ignore-max-age': {
    expect: /max_age|auth_time/,
    description: 'strips max_age from authorization requests',
    checks: ['oidcc-max-age-1'],
    make: (meta) => ({ request: editAuthorizationRequest(meta, (p) => p.delete('max_age')) }),
  },
  'ignore-pkce': {
    expect: /code_verifier|PKCE/i,
    description: 'strips code_challenge from authorization requests and code_verifier from token requests',
    checks: ['extra-pkce-wrong-verifier-rejected'],
    make: (meta) => ({
      request: (req) => {
        if (isPath(req, meta.token_endpoint)) {
          const f = form(req);
          f.delete('code_verifier');
          return { ...req, body: Buffer.from(f.toString()) };
        }
        return editAuthorizationRequest(meta, (p) => { p.delete('code_challenge'); p.delete('code_challenge_method'); })(req);
      },
    }),
  },
  'open-redirect': {
    expect: /redirected to/,
    description: 'turns the error page for a bad redirect_uri into a redirect to that URI',
    checks: ['oidcc-ensure-registered-redirect-uri', 'oidcc-redirect-uri-query-mismatch', 'oidcc-redirect-uri-query-added'],
    make: (meta) => ({
      response: (req, res) => {
        if (!isPath(req, meta.authorization_endpoint) || res.status < 400) return undefined;
        const u = new URL(req.url, 'http://x');
        const p = req.method === 'GET' ? u.searchParams : form(req);
        const target = p.get('redirect_uri');
        if (!target) return undefined;
        const to = new URL(target);
        to.searchParams.set('error', 'invalid_request');
        if (p.get('state')) to.searchParams.set('state', p.get('state'));
        to.searchParams.set('iss', meta.issuer);
        return { status: 302, headers: { location: to.href }, body: Buffer.alloc(0) };
      },
    }),
  },
  'refresh-any-client': {
    expect: /another client/,
    description: 'lets any client redeem a refresh token by swapping in the client authentication it was issued to',
    checks: ['oidcc-refresh-token'],
    make: (meta) => ({
      request: (req, memory) => {
        if (!isPath(req, meta.token_endpoint)) return undefined;
        const f = form(req);
        const owner = f.get('grant_type') === 'refresh_token' && memory.get(`rt:${f.get('refresh_token')}`);
        if (!owner) return undefined;
        for (const k of ['client_id', 'client_secret', 'client_assertion', 'client_assertion_type']) f.delete(k);
        for (const [k, v] of owner.fields) f.set(k, v);
        const headers = { ...req.headers };
        delete headers.authorization;
        if (owner.authorization) headers.authorization = owner.authorization;
        return { ...req, headers, body: Buffer.from(f.toString()) };
      },
      response: (req, res, memory) => {
        if (!isPath(req, meta.token_endpoint) || res.status !== 200) return undefined;
        const body = json(res);
        if (!body?.refresh_token) return undefined;
        const f = form(req);
        const fields = ['client_id', 'client_secret'].filter((k) => f.has(k)).map((k) => [k, f.get(k)]);
        const known = memory.get(`rt:${f.get('refresh_token')}`);
        memory.set(`rt:${body.refresh_token}`, known ?? { authorization: req.headers.authorization, fields });
        return undefined;
      },
    }),
  },
  'release-id-number': {
    expect: /id_number released/,
    description: 'adds id_number to every userinfo response, whatever the scope',
    checks: ['oidcc-scope-profile', 'oidcc-scope-email'],
    make: (meta) => ({
      response: (req, res) => {
        if (!isPath(req, meta.userinfo_endpoint) || res.status !== 200) return undefined;
        const body = json(res);
        return body ? withJson(res, { ...body, id_number: '11010519491231002X' }) : undefined;
      },
    }),
  },
  'stale-jwks': {
    expect: /no new key/,
    description: 'always serves the first jwks_uri document (rotation never shows)',
    checks: ['oidcc-server-rotate-keys'],
    make: (meta) => ({
      request: (req, memory) => (isPath(req, meta.jwks_uri) && memory.get('jwks') ? { respond: memory.get('jwks') } : undefined),
      response: (req, res, memory) => {
        if (isPath(req, meta.jwks_uri) && res.status === 200 && !memory.get('jwks')) memory.set('jwks', res);
        return undefined;
      },
    }),
  },
  'userinfo-wrong-sub': {
    expect: /sub differs/,
    description: 'changes sub in userinfo responses',
    checks: ['oidcc-userinfo-get', 'oidcc-userinfo-post-header', 'oidcc-userinfo-post-body'],
    make: (meta) => ({
      response: (req, res) => {
        if (!isPath(req, meta.userinfo_endpoint) || res.status !== 200) return undefined;
        const body = json(res);
        return body ? withJson(res, { ...body, sub: `${body.sub}-other` }) : undefined;
      },
    }),
  },
  'userinfo-accepts-revoked': {
    expect: /still works|succeeded|answered HTTP 200/,
    description: 'answers every rejected userinfo request with 200 (revoked and missing tokens work)',
    checks: ['oidcc-codereuse', 'oidcc-userinfo-get', 'rp-oauth4webapi-negative'],
    make: (meta) => ({
      response: (req, res) => {
        if (!isPath(req, meta.userinfo_endpoint) || res.status !== 401) return undefined;
        return { status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from('{"sub":"someone"}') };
      },
    }),
  },
  'registration-accepts-fragment': {
    expect: /fragment was registered/,
    description: 'strips fragments from redirect_uris before registration, so such clients get registered',
    checks: ['oidcc-redirect-uri-regfrag'],
    make: (meta) => ({
      request: (req) => {
        if (!isPath(req, meta.registration_endpoint) || req.method !== 'POST') return undefined;
        const body = JSON.parse(req.body.toString() || '{}');
        if (Array.isArray(body.redirect_uris)) body.redirect_uris = body.redirect_uris.map((u) => u.split('#')[0]);
        return { ...req, body: Buffer.from(JSON.stringify(body)) };
      },
    }),
  },
  'ignore-claims-parameter': {
    expect: /essential claim name missing/,
    description: 'strips the claims parameter from authorization requests',
    checks: ['oidcc-claims-essential'],
    make: (meta) => ({ request: editAuthorizationRequest(meta, (p) => p.delete('claims')) }),
  },
  'ignore-request-object': {
    expect: /state|nonce/,
    description: 'strips request and request_uri from authorization requests (objects silently ignored)',
    checks: ['oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported', 'oidcc-request-uri-unsigned-supported-correctly-or-rejected-as-unsupported', 'oidcc-request-uri-unsigned'],
    make: (meta) => ({ request: editAuthorizationRequest(meta, (p) => { p.delete('request'); p.delete('request_uri'); }) }),
  },
  'consent-deny-ignored': {
    expect: /without error|code/,
    description: 'turns the user\'s "deny" on the consent page into "allow"',
    checks: ['extra-consent-deny'],
    make: () => ({
      request: (req) => {
        if (req.method !== 'POST' || !/decision=deny/.test(req.body.toString())) return undefined;
        return { ...req, body: Buffer.from(req.body.toString().replace('decision=deny', 'decision=allow')) };
      },
    }),
  },
  'fake-logout': {
    expect: /session not ended|did not require a login/,
    description: 'answers RP-initiated logout with a redirect to post_logout_redirect_uri without ending the session',
    checks: ['rp-openid-client', 'rp-oauth4webapi', 'rp-mod-auth-openidc', 'rp-authlib'],
    make: (meta) => ({
      request: (req) => {
        if (!isPath(req, meta.end_session_endpoint)) return undefined;
        const p = req.method === 'GET' ? new URL(req.url, 'http://x').searchParams : form(req);
        const to = p.get('post_logout_redirect_uri');
        if (!to) return undefined;
        const u = new URL(to);
        if (p.get('state')) u.searchParams.set('state', p.get('state'));
        return { respond: { status: 302, headers: { location: u.href }, body: Buffer.alloc(0) } };
      },
    }),
  },
  'discovery-issuer-slash': {
    expect: /issuer/,
    description: 'adds a trailing slash to the issuer in discovery',
    checks: ['oidcc-discovery-endpoint-verification'],
    make: () => ({
      response: (req, res) => {
        if (pathOf(req.url) !== '/.well-known/openid-configuration') return undefined;
        const body = json(res);
        return body ? withJson(res, { ...body, issuer: `${body.issuer}/` }) : undefined;
      },
    }),
  },
};
