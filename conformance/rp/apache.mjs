// An Apache httpd with mod_auth_openidc protecting /protected/, in its own folder and port,
// started and stopped by the harness (the system Apache is not used).

import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Child, freePort } from '../lib/process.mjs';

const MODULES = '/usr/lib/apache2/modules';
export const APACHE_BIN = '/usr/sbin/apache2';

export function apacheAvailable() {
  return fs.existsSync(APACHE_BIN) && fs.existsSync(`${MODULES}/mod_auth_openidc.so`);
}

/** Start Apache for `client` ({client_id, client_secret}) of the provider at `issuer`. */
export async function startApache({ issuer, client, port }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'idp-conformance-apache-'));
  fs.chmodSync(dir, 0o755);
  const base = `http://127.0.0.1:${port}`;
  fs.mkdirSync(`${dir}/htdocs/protected`, { recursive: true });
  fs.writeFileSync(`${dir}/htdocs/protected/index.html`, '<!doctype html><p>protected page: signed in</p>\n');
  fs.writeFileSync(`${dir}/htdocs/loggedout.html`, '<!doctype html><p>signed out</p>\n');
  const asRoot = process.getuid?.() === 0;
  const conf = `
ServerRoot "${dir}"
ServerName 127.0.0.1
Listen 127.0.0.1:${port}
PidFile "${dir}/httpd.pid"
Mutex file:${dir} default
ErrorLog "${dir}/error.log"
LogLevel warn auth_openidc:info
LoadModule mpm_prefork_module ${MODULES}/mod_mpm_prefork.so
LoadModule authn_core_module ${MODULES}/mod_authn_core.so
LoadModule authz_core_module ${MODULES}/mod_authz_core.so
LoadModule authz_user_module ${MODULES}/mod_authz_user.so
LoadModule mime_module ${MODULES}/mod_mime.so
LoadModule dir_module ${MODULES}/mod_dir.so
LoadModule auth_openidc_module ${MODULES}/mod_auth_openidc.so
${asRoot ? 'User www-data\nGroup www-data' : ''}
StartServers 1
MinSpareServers 1
MaxSpareServers 2
DocumentRoot "${dir}/htdocs"
DirectoryIndex index.html
TypesConfig /etc/mime.types

OIDCProviderMetadataURL ${issuer}/.well-known/openid-configuration
OIDCClientID ${client.client_id}
OIDCClientSecret ${client.client_secret}
OIDCRedirectURI ${base}/protected/redirect_uri
OIDCCryptoPassphrase ${crypto.randomBytes(24).toString('hex')}
OIDCScope "openid profile email offline_access"
OIDCAuthRequestParams prompt=consent
OIDCPKCEMethod S256
OIDCIDTokenSignedResponseAlg RS256
OIDCSessionType server-cache
OIDCInfoHook iat access_token access_token_expires id_token userinfo refresh_token session
OIDCRedirectURLsAllowed ^${base.replace(/\./g, '\\.')}/
OIDCDefaultLoggedOutURL ${base}/loggedout.html
OIDCHTMLErrorTemplate "${dir}/error-template.html"

<Location /protected>
  AuthType openid-connect
  Require valid-user
</Location>
`;
  fs.writeFileSync(`${dir}/error-template.html`, '<!doctype html><p>mod_auth_openidc error: %s: %s</p>\n');
  fs.writeFileSync(`${dir}/httpd.conf`, conf);
  const child = new Child(APACHE_BIN, ['-d', dir, '-f', `${dir}/httpd.conf`, '-DFOREGROUND'], { env: { APACHE_RUN_DIR: dir, APACHE_LOCK_DIR: dir, APACHE_LOG_DIR: dir }, detached: true });
  await child.ready({ probe: async () => (await fetch(`${base}/loggedout.html`, { signal: AbortSignal.timeout(1000) })).status === 200, timeoutMs: 20000 });
  return {
    base,
    redirectUri: `${base}/protected/redirect_uri`,
    postLogoutUri: `${base}/loggedout.html`,
    errorLog: () => { try { return fs.readFileSync(`${dir}/error.log`, 'utf8').split('\n').slice(-30).join('\n'); } catch { return ''; } },
    async stop() {
      await child.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export { freePort };
