// Per-call cost of tally_track in Node: one tracker, a loop of _tally_track on the same event
// text (already in module memory), acked every 256 calls so the queue never fills. Prints the
// best of 5 rounds, µs per call, for each event shape and each build present.
//
//   node bench/size/track_cost.mjs [WASM_DIR]   (default build/wasm/wasm; or TALLY_WASM_DIR)
//
// Timed by the process's CPU time (process.cpuUsage), not the wall clock, so that other work on
// a shared machine inflates it less; still quote it with the load average (docs/BENCHMARKS.md).
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

const require = createRequire(import.meta.url);
const root = path.resolve(import.meta.dirname, '../..');
const dir = path.resolve(process.argv[2] ?? process.env.TALLY_WASM_DIR ?? path.join(root, 'build/wasm/wasm'));
const ROUNDS = 5;
const CALLS = 20000;

const EVENTS = {
  'minimal (name + anonymous_id)': { name: 'Signed Up', anonymous_id: 'anon-1234567890' },
  '4 properties + page context': {
    name: 'Clicked CTA',
    anonymous_id: 'anon-1234567890',
    properties: { plan: 'pro', price: 49.99, seats: 3, trial: true },
    context: {
      page: {
        url: 'https://shop.example.com/pricing?ref=nav',
        path: '/pricing',
        title: 'Pricing — Example Shop',
        referrer: 'https://www.example.com/',
      },
      locale: 'en-GB',
      screen: { width: 1920, height: 1080 },
    },
  },
};

async function load(name) {
  const js = path.join(dir, name === 'wasm' ? 'tally-core.js' : 'tally-core.asm.js');
  if (!existsSync(js)) return null;
  const mod = require(js);
  const factory = typeof mod === 'function' ? mod : (mod.default ?? mod.createTallyCore);
  const args = name === 'wasm' ? { wasmBinary: readFileSync(path.join(dir, 'tally-core.wasm')) } : {};
  return factory(args);
}

// Creates a tracker with default options through whichever options ABI the module has.
function newTracker(m) {
  const seed = m._tally_alloc(32);
  for (let i = 0; i < 32; i++) m.HEAPU8[seed + i] = i + 1;
  const h = m._tally_tracker_new(0, 0, seed);
  m._tally_free(seed);
  if (!h) throw new Error('tally_tracker_new failed');
  return h;
}

for (const build of ['wasm', 'asm.js']) {
  const m = await load(build);
  if (!m) continue;
  for (const [label, event] of Object.entries(EVENTS)) {
    const h = newTracker(m);
    const bytes = new TextEncoder().encode(JSON.stringify(event));
    const p = m._tally_alloc(bytes.length);
    m.HEAPU8.set(bytes, p);
    let best = Infinity;
    for (let round = 0; round < ROUNDS; round++) {
      const t0 = process.cpuUsage();
      for (let i = 0; i < CALLS; i++) {
        const code = m._tally_track(h, p, bytes.length);
        if (code !== 0) throw new Error(`tally_track returned ${code}`);
        if ((i & 255) === 255) m._tally_ack(h, 256);
      }
      m._tally_ack(h, CALLS);
      const used = process.cpuUsage(t0);
      const us = (used.user + used.system) / CALLS;
      best = Math.min(best, us);
    }
    m._tally_free(p);
    m._tally_tracker_free(h);
    console.log(`${build}\t${label}\t${best.toFixed(2)} µs/call`);
  }
}
