// The core module in a real browser (headless Chromium), loaded by a script tag as a page would:
// the Wasm build where WebAssembly is allowed, and the asm.js build under a strict CSP that
// forbids both WebAssembly and eval (DESIGN.md lesson 8), which the glue must not need.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';

import { launch } from '../sdk/support/browser.mjs';

import { wasmDir } from './core-module.mjs';

const kStrictCsp = "default-src 'self'; script-src 'self'"; // no 'wasm-unsafe-eval', no eval

// The page's own script: loads a build, tracks two events, reads the next batch.
const kProbe = `
window.probe = async function (overrides) {
  const m = await createTallyCore(overrides || {});
  const enc = new TextEncoder(), dec = new TextDecoder();
  const put = (bytes) => { const p = m._tally_alloc(bytes.length); m.HEAPU8.set(bytes, p); return p; };
  const opts = enc.encode('{"write_key":"wk"}');
  const seed = crypto.getRandomValues(new Uint8Array(32));
  const o = put(opts), s = put(seed);
  const t = m._tally_tracker_new(o, opts.length, s);
  m._tally_free(o); m._tally_free(s);
  const codes = [];
  for (const price of [19.99, 8.0000152587890625]) {
    const ev = enc.encode(JSON.stringify({ type: 'track', name: 'Bought', anonymous_id: 'a', properties: { price } }));
    const p = put(ev);
    codes.push(m._tally_track(t, p, ev.length));
    m._tally_free(p);
  }
  const count = m._tally_next_batch(t, 0);
  const out = m.HEAPU8.slice(m._tally_out_ptr(t), m._tally_out_ptr(t) + (m._tally_out_len(t) >>> 0));
  return { codes, count, body: dec.decode(out) };
};`;

function page(script, csp) {
  const meta = csp ? `<meta http-equiv="Content-Security-Policy" content="${csp}">` : '';
  return `<!doctype html><html><head><meta charset="utf-8">${meta}
<script src="/${script}"></script><script src="/probe.js"></script></head><body></body></html>`;
}

describe('core module in Chromium', () => {
  let server;
  let origin;
  let browser;

  before(async () => {
    const files = {
      '/tally-core.js': ['text/javascript', readFileSync(path.join(wasmDir, 'tally-core.js'))],
      '/tally-core.wasm': ['application/wasm', readFileSync(path.join(wasmDir, 'tally-core.wasm'))],
      '/tally-core.asm.js': ['text/javascript', readFileSync(path.join(wasmDir, 'tally-core.asm.js'))],
      '/probe.js': ['text/javascript', kProbe],
      '/wasm.html': ['text/html', page('tally-core.js')],
      '/wasm-strict.html': ['text/html', page('tally-core.js', kStrictCsp)],
      '/asm-strict.html': ['text/html', page('tally-core.asm.js', kStrictCsp)],
    };
    server = http.createServer((req, res) => {
      const file = files[req.url];
      res.writeHead(file ? 200 : 404, {
        'Content-Type': file ? file[0] : 'text/plain',
      });
      res.end(file ? file[1] : 'not found');
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${server.address().port}`;
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
  });

  async function run(url, overrides) {
    const context = await browser.newContext();
    try {
      const p = await context.newPage();
      await p.goto(`${origin}${url}`);
      return await p.evaluate(
        (o) =>
          window.probe(o).then(
            (r) => r,
            (e) => ({ error: String(e) }),
          ),
        overrides,
      );
    } finally {
      await context.close();
    }
  }

  function checkBatch(result) {
    assert.deepEqual(result.codes, [0, 0], JSON.stringify(result));
    assert.equal(result.count, 2);
    const body = JSON.parse(result.body);
    assert.equal(body.write_key, 'wk');
    assert.deepEqual(
      body.events.map((e) => e.properties.price),
      [19.99, 8.0000152587890625],
    );
    // printf's half-to-even digits, as the native core writes them (not toExponential's 063).
    assert.match(result.body, /"price":8\.000015258789062\}/);
  }

  it('runs the Wasm build from a script tag, fetching the .wasm next to it', async () => {
    const result = await run('/wasm.html');
    assert.equal(result.error, undefined);
    checkBatch(result);
  });

  it('runs the asm.js build under a CSP that forbids WebAssembly and eval', async () => {
    const result = await run('/asm-strict.html');
    assert.equal(result.error, undefined);
    checkBatch(result);
  });

  it('cannot instantiate the Wasm build under that CSP (why the asm.js build exists)', async () => {
    const result = await run('/wasm-strict.html');
    assert.match(result.error ?? '', /WebAssembly|CompileError|Content Security Policy|wasm/i, JSON.stringify(result));
  });
});
