// A reverse proxy in front of the provider under test. With no mutation it is transparent; with a
// mutation it breaks one provider behaviour on purpose (see mutations.mjs), so the self-test can
// show that the checks for that behaviour fail. The provider is started with the proxy's URL as its
// issuer, so every client (the harness and the third-party relying parties) goes through it.

import http from 'node:http';

const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'content-length', 'accept-encoding']);

export async function startProxy({ targetPort = 0, mutation = null, port = 0 } = {}) {
  const state = { targetPort, mutation, memory: new Map() };
  const server = http.createServer(async (req, res) => {
    try {
      const chunks = [];
      for await (const c of req) chunks.push(c);
      let request = { method: req.method, url: req.url, headers: { ...req.headers }, body: Buffer.concat(chunks) };
      const m = state.mutation;
      if (m?.request) {
        const out = await m.request(request, state.memory);
        if (out?.respond) return reply(res, out.respond);
        if (out) request = out;
      }
      let response = await forward(state.targetPort, request);
      if (m?.response) response = (await m.response(request, response, state.memory)) ?? response;
      reply(res, response);
    } catch (e) {
      reply(res, { status: 502, headers: { 'content-type': 'text/plain' }, body: Buffer.from(`proxy error: ${e.message}`) });
    }
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    url: `http://127.0.0.1:${server.address().port}`,
    setTarget(p) {
      state.targetPort = p;
    },
    setMutation(m) {
      state.mutation = m;
      state.memory = new Map();
    },
    close: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(resolve); }),
  };
}

function forward(targetPort, { method, url, headers, body }) {
  return new Promise((resolve, reject) => {
    const h = Object.fromEntries(Object.entries(headers).filter(([k]) => !HOP.has(k.toLowerCase())));
    if (body.length) h['content-length'] = String(body.length);
    const up = http.request({ host: '127.0.0.1', port: targetPort, method, path: url, headers: h }, (r) => {
      const chunks = [];
      r.on('data', (c) => chunks.push(c));
      r.on('end', () => resolve({ status: r.statusCode, headers: { ...r.headers }, body: Buffer.concat(chunks) }));
      r.on('error', reject);
    });
    up.on('error', reject);
    up.setTimeout(30000, () => up.destroy(new Error('upstream timeout')));
    up.end(body);
  });
}

function reply(res, { status, headers = {}, body = Buffer.alloc(0) }) {
  const h = Object.fromEntries(Object.entries(headers).filter(([k]) => !HOP.has(k.toLowerCase())));
  const b = Buffer.isBuffer(body) ? body : Buffer.from(body);
  h['content-length'] = String(b.length);
  res.writeHead(status, h);
  res.end(b);
}
