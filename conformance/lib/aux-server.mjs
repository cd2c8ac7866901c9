// A small HTTP server run by the harness for things the provider fetches from a client:
// jwks_uri documents and request_uri objects. Routes are set per check.

import http from 'node:http';

export async function startAuxServer() {
  const routes = new Map(); // path -> { type, body, hits }
  const server = http.createServer((req, res) => {
    const route = routes.get(new URL(req.url, 'http://x').pathname);
    if (!route) {
      res.writeHead(404).end();
      return;
    }
    route.hits += 1;
    const body = typeof route.body === 'function' ? route.body() : route.body;
    res.writeHead(200, { 'content-type': route.type, 'cache-control': 'no-store' });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${server.address().port}`;
  let n = 0;
  return {
    /** Serve `body` at a new path; returns { url, route } (route.hits counts fetches). */
    serve(type, body, name = 'doc') {
      n += 1;
      const path = `/${name}-${n}`;
      const route = { type, body, hits: 0 };
      routes.set(path, route);
      return { url: `${base}${path}`, route };
    },
    close: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(resolve); }),
  };
}
