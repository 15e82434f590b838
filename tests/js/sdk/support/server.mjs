// A small HTTP server on 127.0.0.1 for the SDK suites: serves pages and the built SDK, and acts
// as a test collector speaking the pinned protocol (POST /v1/batch, DESIGN.md "The wire
// protocol"). It records every batch it accepts and every attempt (refused ones too), keeps a
// deduplicated view on event_id as the collector does, can be told to answer 503/400/... for the
// next requests, and to reject chosen events per-event.
import { createServer } from 'node:http';
import { readFileSync, existsSync } from 'node:fs';
import { extname, join } from 'node:path';

const kTypes = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.wasm': 'application/wasm',
};

export async function startServer({ dist, pages = {}, headers = {}, headersFor = {} }) {
  const state = {
    batches: [], // accepted: {body, contentType, at}
    attempts: [], // every parseable POST, answered or refused: {body, status}
    unique: new Map(), // event_id -> event, first accepted copy (the collector's dedup)
    failNext: [], // statuses to answer for the next batch requests, in order
    retryAfter: '0',
    rejectNames: new Set(), // event names refused per-event
    assetHits: {},
  };
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        'access-control-allow-origin': '*',
        'access-control-allow-headers': '*',
        'access-control-allow-methods': 'POST',
      });
      return res.end();
    }
    if (url.pathname === '/v1/batch' && req.method === 'POST') {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const cors = { 'access-control-allow-origin': '*', 'content-type': 'application/json' };
        let body;
        try {
          body = JSON.parse(text);
        } catch {
          res.writeHead(400, cors);
          return res.end('{"error":"body: not JSON"}');
        }
        const status = state.failNext.shift();
        state.attempts.push({ body, status: status || 200 });
        if (status) {
          res.writeHead(status, { ...cors, 'retry-after': state.retryAfter });
          return res.end(JSON.stringify({ error: `test collector told to answer ${status}` }));
        }
        state.batches.push({ body, contentType: req.headers['content-type'], at: Date.now() });
        const rejected = [];
        let duplicates = 0;
        body.events.forEach((e, i) => {
          if (state.rejectNames.has(e.name))
            rejected.push({ index: i, event_id: e.event_id, error: `events[${i}].name: refused by test` });
          else if (state.unique.has(e.event_id)) duplicates++;
          else state.unique.set(e.event_id, e);
        });
        res.writeHead(200, cors);
        const accepted = body.events.length - rejected.length - duplicates;
        res.end(JSON.stringify({ accepted, duplicates, rejected, server_time: Date.now() + 5000 }));
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
    close: () =>
      new Promise((r) => {
        server.closeAllConnections?.();
        server.close(r);
      }),
  };
}

/** Polls `cond` until it returns a truthy value (bounded; no timing assertions). */
export async function waitFor(cond, what = 'condition', timeoutMs = 60000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
