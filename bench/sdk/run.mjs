// track() cost in headless Chromium, beside a plain-JS implementation of the same enqueue path
// (build the event JSON, parse/validate, UUIDv7, stamp, dedup, queue, hand to persistence)
// measured in the same page; JS heap with 1000 queued events; the script-tag download size.
//   node bench/sdk/run.mjs        (TALLY_WASM_DIR: the Emscripten output, default build/wasm/wasm)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { buildSdk } from '../../tests/js/sdk/support/core.mjs';
import { startServer } from '../../tests/js/sdk/support/server.mjs';
import { launch, snippet, html, persistedCount } from '../../tests/js/sdk/support/browser.mjs';

const kRounds = 200;
const kPerRound = 200;

// The plain-JS baseline: what the core does on track(), written directly in JS.
const plainJs = `
window.plainTracker = (() => {
  const seen = new Set(), queue = [], persist = new Map(); let bytes = 0;
  const hex = (b) => Array.from(b, (x) => (x + 256).toString(16).slice(1)).join('');
  function uuid7(now) {
    const r = crypto.getRandomValues(new Uint8Array(10)); const t = now.toString(16).padStart(12, '0'); const h = hex(r);
    return t.slice(0, 8) + '-' + t.slice(8) + '-7' + h.slice(0, 3) + '-' + ((parseInt(h[3], 16) & 3) | 8).toString(16) + h.slice(4, 7) + '-' + h.slice(7, 19);
  }
  const ctx = JSON.stringify({ library: { name: 'plain', version: '0' }, page: { url: location.href, path: location.pathname, title: document.title, referrer: document.referrer }, user_agent: navigator.userAgent });
  const ids = ',"anonymous_id":"' + hex(crypto.getRandomValues(new Uint8Array(16))) + '","session_id":"' + hex(crypto.getRandomValues(new Uint8Array(16))) + '"';
  return {
    track(name, props) {
      const json = '{"type":"track","name":' + JSON.stringify(name) + (props ? ',"properties":' + JSON.stringify(props) : '') + ',"context":' + ctx + ids + '}';
      const e = JSON.parse(json);
      if (typeof e.name !== 'string' || !e.name || e.name.length > 255) throw new Error('name');
      for (const k in e.properties) { const v = e.properties[k]; if (typeof v === 'string' && v.length > 255) throw new Error('properties.' + k); }
      e.event_id = uuid7(Date.now()); e.created_at = Date.now();
      if (seen.has(e.event_id)) throw new Error('duplicate'); seen.add(e.event_id);
      const line = JSON.stringify(e); bytes += line.length; queue.push(line); persist.set(e.event_id, line);
      if (queue.length > 1000) { const old = queue.shift(); bytes -= old.length; }
      return e.event_id;
    },
  };
})();`;

const init = { writeKey: 'wk_bench', endpoint: '', autoTrack: false, batch: { maxAgeMs: 2000 } };
const sdk = buildSdk();

const srv = await startServer({
  dist: sdk.dist,
  pages: {
    '/bench': html(
      'bench',
      `<script>${plainJs}</script>` + snippet('/sdk/tally.js', {}, `tally.init(${JSON.stringify(init)});`),
    ),
    '/heap': html(
      'heap',
      snippet(
        '/sdk/tally.js',
        {},
        `window.go = () => tally.init(${JSON.stringify({ ...init, endpoint: 'http://127.0.0.1:1', batch: { maxAgeMs: 3600000, maxEvents: 5000 } })});`,
      ),
    ),
  },
});
const browser = await launch();
const page = await browser.newPage();
await page.goto(srv.origin + '/bench');
await page.waitForFunction(() => window.tally?.getInstance()?.coreKind);

const perCall = await page.evaluate(
  async ({ rounds, per }) => {
    const props = { plan: 'pro', price: 49.5, campaign: 'spring-sale', workflow_id: 'wf_123' };
    const t = window.tally.getInstance();
    const run = async (fn) => {
      const samples = [];
      for (let r = 0; r < rounds; r++) {
        const t0 = performance.now();
        for (let i = 0; i < per; i++) fn('Clicked CTA', props);
        samples.push(((performance.now() - t0) * 1000) / per);
        await new Promise((res) => setTimeout(res, 0)); // let persistence and sends run, off the call path
        if (t.queued() > 800) await t.flush();
      }
      samples.sort((a, b) => a - b);
      return { median: samples[samples.length >> 1], p90: samples[Math.floor(samples.length * 0.9)] };
    };
    await run((n, p) => t.track(n, p)); // warm-up
    await run((n, p) => window.plainTracker.track(n, p));
    const sdk = await run((n, p) => t.track(n, p));
    const plain = await run((n, p) => window.plainTracker.track(n, p));
    return { sdk, plain, kind: t.coreKind, storage: t.storageKind };
  },
  { rounds: kRounds, per: kPerRound },
);

// Heap: one fresh page, GC, then init, then 1000 queued events.
const hp = await browser.newPage();
const cdp = await hp.context().newCDPSession(hp);
await hp.goto(srv.origin + '/heap');
await hp.waitForFunction(() => window.tally?._loaded);
const heap = async () => {
  await cdp.send('HeapProfiler.collectGarbage');
  return (await cdp.send('Runtime.getHeapUsage')).usedSize;
};
const h0 = await heap();
await hp.evaluate(() => window.go());
const h1 = await heap();
await hp.evaluate(() => {
  for (let i = 0; i < 1000; i++)
    window.tally.track('Clicked CTA', { plan: 'pro', price: 49.5, campaign: 'spring-sale', i });
});
// Measured once every event is in the core's queue and in IndexedDB (no write still holding
// its text), so the figure is the steady cost of the backlog, not of the writes in flight.
for (let i = 0; i < 300; i++) {
  const queued = await hp.evaluate(() => window.tally.getInstance().queued());
  if (queued === 1000 && (await persistedCount(hp)) === 1000) break;
  await hp.evaluate(() => new Promise((r) => setTimeout(r, 100)));
}
const h2 = await heap();
const mem = await hp.evaluate(() => ({
  queued: window.tally.getInstance().queued(),
  core: window.tally.getInstance().coreMemoryBytes(),
}));
await browser.close();
await srv.close();

const size = (f) => {
  const b = readFileSync(join(sdk.dist, f));
  return { raw: b.length, gz: gzipSync(b, { level: 9 }).length };
};
// What the script tag downloads: tally.js and the lite core (wasm/exports-lite.txt).
const files = ['tally.js', 'tally-core-lite.wasm'].map((f) => ({ f, ...size(f) }));
const asm = size('tally-core-lite.asm.js');
const kb = (n) => (n / 1024).toFixed(1) + ' KB';
console.log(
  `core: ${perCall.kind} (${sdk.coreDir}), storage: ${perCall.storage}, ${kRounds} rounds x ${kPerRound} calls`,
);
console.log(`track() median ${perCall.sdk.median.toFixed(2)} us/call (p90 of rounds ${perCall.sdk.p90.toFixed(2)})`);
console.log(
  `plain-JS enqueue median ${perCall.plain.median.toFixed(2)} us/call (p90 of rounds ${perCall.plain.p90.toFixed(2)})`,
);
console.log(
  `JS heap: page+SDK before init ${kb(h0)}, after init ${kb(h1)} (+${kb(h1 - h0)}), 1000 queued events ${kb(h2)} (+${kb(h2 - h1)}); queued ${mem.queued}; core linear memory ${kb(mem.core)}`,
);
for (const x of files) console.log(`download ${x.f}: ${x.raw} B raw, ${x.gz} B gzip -9`);
console.log(
  `download total: ${files.reduce((s, x) => s + x.raw, 0)} B raw, ${files.reduce((s, x) => s + x.gz, 0)} B gzip -9`,
);
console.log(`strict-CSP fallback only: tally-core-lite.asm.js ${asm.raw} B raw, ${asm.gz} B gzip -9`);
