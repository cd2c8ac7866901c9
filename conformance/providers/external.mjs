// A provider the harness did not start: `--issuer URL`. Needs, from the environment,
// CONFORMANCE_USERNAME / CONFORMANCE_PASSWORD (an existing user) and
// CONFORMANCE_REGISTRATION_TOKEN (an initial access token); every client is registered dynamically.

export async function startExternal({ issuer }) {
  const username = process.env.CONFORMANCE_USERNAME;
  const password = process.env.CONFORMANCE_PASSWORD;
  const token = process.env.CONFORMANCE_REGISTRATION_TOKEN;
  if (!issuer) throw new Error('--issuer is required for an external provider');
  if (!username || !password) throw new Error('set CONFORMANCE_USERNAME and CONFORMANCE_PASSWORD for an external provider');
  let registrationEndpoint;
  return {
    name: 'external',
    issuer: issuer.replace(/\/$/, ''),
    port: null,
    async createUser() {
      return { sub: undefined, external: { username, password } };
    },
    async createClient(c) {
      if (!registrationEndpoint) {
        const meta = await (await fetch(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`)).json();
        registrationEndpoint = meta.registration_endpoint;
      }
      const res = await fetch(registrationEndpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
        body: JSON.stringify({
          client_name: c.name,
          redirect_uris: c.redirect_uris,
          grant_types: c.grant_types,
          token_endpoint_auth_method: c.public ? 'none' : c.auth_method,
          scope: c.scopes?.join(' '),
          post_logout_redirect_uris: c.post_logout_redirect_uris,
          ...(c.id_token_alg && { id_token_signed_response_alg: c.id_token_alg }),
        }),
      });
      if (res.status !== 201) throw new Error(`registration answered HTTP ${res.status}`);
      return res.json();
    },
    registrationToken: async () => token ?? null,
    rotateKeys: async () => { throw new Error('cannot rotate the keys of an external provider'); },
    logTail: () => '',
    stop: async () => {},
  };
}
