// A small HTTP server on 127.0.0.1 for the SDK suites: serves pages and the built SDK, and acts
// as a test collector speaking the pinned protocol (POST /v1/batch, DESIGN.md "The wire
// protocol"). It records every batch, can be told to answer 503/400/... for the next requests,
// and to reject chosen events per-event.
import { createServer } from 'node:http';
import { readFileSync, existsSync } from 'node:fs';
import { extname, join } from 'node:path';

const kTypes = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm' };

export async function startServer({ dist, pages = {}, headers = {}, headersFor = {} }) {
  const state = {
    batches: [], // {body, contentType, via}
    failNext: [], // statuses to answer for the next batch requests, in order
    retryAfter: '0',
    rejectNames: new Set(), // event names refused per-event
    assetHits: {},
  };
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { 'access-control-allow-origin': '*', 'access-control-allow-headers': '*', 'access-control-allow-methods': 'POST' });
      return res.end();
    }
    if (url.pathname === '/v1/batch' && req.method === 'POST') {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const cors = { 'access-control-allow-origin': '*', 'content-type': 'application/json' };
        const status = state.failNext.shift();
        if (status) {
          res.writeHead(status, { ...cors, 'retry-after': state.retryAfter });
          return res.end(JSON.stringify({ error: `test collector told to answer ${status}` }));
        }
        let body;
        try {
          body = JSON.parse(text);
        } catch {
          res.writeHead(400, cors);
          return res.end('{"error":"body: not JSON"}');
        }
        state.batches.push({ body, contentType: req.headers['content-type'], at: Date.now() });
        const rejected = [];
        body.events.forEach((e, i) => {
          if (state.rejectNames.has(e.name)) rejected.push({ index: i, event_id: e.event_id, error: `events[${i}].name: refused by test` });
        });
        res.writeHead(200, cors);
        res.end(JSON.stringify({ accepted: body.events.length - rejected.length, duplicates: 0, rejected, server_time: Date.now() + 5000 }));
      });
      return;
    }
    if (pages[url.pathname] !== undefined) {
      res.writeHead(200, { 'content-type': 'text/html', ...headers, ...(headersFor[url.pathname] || {}) });
      return res.end(typeof pages[url.pathname] === 'function' ? pages[url.pathname](url) : pages[url.pathname]);
    }
    const delay = Number(url.searchParams.get('delay') || 0);
    if (delay && !req.delayed) {
      req.delayed = true;
      return setTimeout(() => server.emit('request', req, res), delay);
    }
    const file = join(dist, url.pathname.replace(/^\/sdk\//, '/'));
    if (url.pathname.startsWith('/sdk/') && existsSync(file)) {
      state.assetHits[url.pathname] = (state.assetHits[url.pathname] || 0) + 1;
      res.writeHead(200, { 'content-type': kTypes[extname(file)] || 'application/octet-stream' });
      return res.end(readFileSync(file));
    }
    res.writeHead(404);
    res.end('not found');
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return {
    origin,
    state,
    events: () => state.batches.flatMap((b) => b.body.events),
    close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(r); }),
  };
}

/** Polls `cond` until it returns a truthy value (bounded; no timing assertions). */
export async function waitFor(cond, what = 'condition', timeoutMs = 15000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
