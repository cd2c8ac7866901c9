// A small cookie jar: enough of RFC 6265 for a harness talking to one or two loopback hosts.
// Cookies are kept per host (port ignored, as browsers do), with path matching and expiry.

export class CookieJar {
  constructor() {
    this.cookies = []; // {name, value, host, path, expires}
  }

  /** Store every Set-Cookie header of a fetch Response received from `url`. */
  store(url, response) {
    const u = new URL(url);
    const headers = typeof response.headers.getSetCookie === 'function' ? response.headers.getSetCookie() : [];
    for (const line of headers) this.#storeOne(u, line);
  }

  #storeOne(u, line) {
    const [pair, ...attrs] = line.split(';');
    const eq = pair.indexOf('=');
    if (eq < 1) return;
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    let path = u.pathname.replace(/\/[^/]*$/, '') || '/';
    let expires = Infinity;
    for (const attr of attrs) {
      const [k, ...rest] = attr.split('=');
      const key = k.trim().toLowerCase();
      const v = rest.join('=').trim();
      if (key === 'path' && v.startsWith('/')) path = v;
      if (key === 'max-age') expires = Date.now() + Number(v) * 1000;
      if (key === 'expires' && expires === Infinity) {
        const t = Date.parse(v);
        if (!Number.isNaN(t)) expires = t;
      }
    }
    this.cookies = this.cookies.filter((c) => !(c.name === name && c.host === u.hostname && c.path === path));
    if (expires > Date.now() && value !== '') this.cookies.push({ name, value, host: u.hostname, path, expires });
  }

  /** The Cookie header value for a request to `url` (or undefined). */
  header(url) {
    const u = new URL(url);
    const now = Date.now();
    const matching = this.cookies.filter((c) => c.host === u.hostname && c.expires > now && pathMatches(u.pathname, c.path));
    matching.sort((a, b) => b.path.length - a.path.length);
    return matching.length ? matching.map((c) => `${c.name}=${c.value}`).join('; ') : undefined;
  }

  /** Forget all cookies (a fresh browser). */
  clear() {
    this.cookies = [];
  }
}

function pathMatches(requestPath, cookiePath) {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/';
}
