// Loads the two builds of the core module (Wasm and asm.js) for the Node suites and wraps the C
// ABI of wasm/tally_abi.h in a small test driver. Not the SDK: just enough to drive every call,
// including the wrong ways (null handles, null pointers, garbage bytes).
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

const require = createRequire(import.meta.url);

export const root = process.env.TALLY_ROOT ?? path.resolve(import.meta.dirname, '../../..');
export const wasmDir = process.env.TALLY_WASM_DIR ?? path.join(root, 'build/wasm/wasm');
export const buildDir = process.env.TALLY_BUILD_DIR ?? path.join(root, 'build/native');
export const fixturesDir = process.env.TALLY_FIXTURES_DIR ?? path.join(root, '../shared/fixtures');

/// The builds every suite runs against: the same C++ core as Wasm and as plain JavaScript.
export const BUILDS = [
  {
    name: 'wasm',
    async load() {
      const glue = path.join(wasmDir, 'tally-core.js');
      // Node 20 + Emscripten 3.1.6: the glue would fetch() a file path, so hand it the bytes.
      const wasmBinary = readFileSync(path.join(wasmDir, 'tally-core.wasm'));
      return require(glue)({ wasmBinary });
    },
  },
  {
    name: 'asm.js',
    async load() {
      return require(path.join(wasmDir, 'tally-core.asm.js'))({});
    },
  },
];

/// The script tag's lite core (wasm/exports-lite.txt), as .wasm and as asm.js.
export const LITE_BUILDS = [
  {
    name: 'lite wasm',
    async load() {
      const wasmBinary = readFileSync(path.join(wasmDir, 'tally-core-lite.wasm'));
      return require(path.join(wasmDir, 'tally-core-lite.js'))({ wasmBinary });
    },
  },
  {
    name: 'lite asm.js',
    async load() {
      return require(path.join(wasmDir, 'tally-core-lite.asm.js'))({});
    },
  },
];

export function liteBuildsPresent() {
  return ['tally-core-lite.js', 'tally-core-lite.wasm', 'tally-core-lite.asm.js'].every((f) =>
    existsSync(path.join(wasmDir, f)),
  );
}

export function buildsPresent() {
  return ['tally-core.js', 'tally-core.wasm', 'tally-core.asm.js'].every((f) => existsSync(path.join(wasmDir, f)));
}

/// The names wasm/exports.txt promises: { functions: [...], runtime: [...] }.
export function exportList(file = 'exports.txt') {
  const lines = readFileSync(path.join(root, 'wasm', file), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  return {
    functions: lines.filter((l) => !l.startsWith('runtime:')),
    runtime: lines.filter((l) => l.startsWith('runtime:')).map((l) => l.slice(8).trim()),
  };
}

/// tally::Code values, negated as the ABI returns them.
export const Code = {
  ok: 0,
  invalidArgument: -1,
  parseError: -2,
  tooLarge: -3,
  duplicate: -4,
  resourceExhausted: -5,
};

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/// A seed whose four little-endian words are 1, 2, 3, 4 (as the native tool seeds its tracker).
export function fixedSeed() {
  const seed = new Uint8Array(32);
  for (let i = 0; i < 4; i++) seed[i * 8] = i + 1;
  return seed;
}

export class Core {
  constructor(mod) {
    this.m = mod;
  }

  /// Copies bytes (or a string as UTF-8) into module memory; returns [ptr, len]. Free with free().
  put(data) {
    const bytes = typeof data === 'string' ? encoder.encode(data) : data;
    const ptr = this.m._tally_alloc(bytes.length);
    this.m.HEAPU8.set(bytes, ptr); // read HEAPU8 after the call: memory may have grown
    return [ptr, bytes.length];
  }

  free(ptr) {
    this.m._tally_free(ptr);
  }

  readBytes(ptr, len) {
    return this.m.HEAPU8.slice(ptr, ptr + len);
  }

  cString(ptr) {
    if (!ptr) return null;
    const heap = this.m.HEAPU8;
    let end = ptr;
    while (heap[end]) end++;
    return decoder.decode(heap.subarray(ptr, end));
  }

  /// Returns { handle } or { handle: 0, error }.
  newTracker(options = {}, seed = fixedSeed()) {
    const text = typeof options === 'string' ? options : JSON.stringify(options);
    const [optPtr, optLen] = this.put(text);
    const [seedPtr] = seed ? this.put(seed) : [0];
    const handle = this.m._tally_tracker_new(optPtr, optLen, seedPtr);
    this.free(optPtr);
    if (seedPtr) this.free(seedPtr);
    return handle ? { handle } : { handle: 0, error: this.cString(this.m._tally_last_create_error()) };
  }

  /// The lite module's constructor: values is an array of numbers (undefined: NaN, the default),
  /// or null for a NULL pointer with `count`. Returns { handle } or { handle: 0, error }.
  newLiteTracker(values = [], writeKey = 'wk_test', seed = fixedSeed(), count = values?.length ?? 0) {
    const m = this.m;
    const [vPtr] = values ? this.put(new Uint8Array(new Float64Array(values.map((v) => v ?? NaN)).buffer)) : [0];
    const [kPtr, kLen] = this.put(writeKey);
    const [seedPtr] = seed ? this.put(seed) : [0];
    const handle = m._tally_tracker_new_typed(vPtr, count, kPtr, kLen, seedPtr);
    if (vPtr) this.free(vPtr);
    this.free(kPtr);
    if (seedPtr) this.free(seedPtr);
    return handle ? { handle } : { handle: 0, error: this.cString(m._tally_last_create_error()) };
  }

  liteTracker(values = [], writeKey = 'wk_test') {
    const { handle, error } = this.newLiteTracker(values, writeKey);
    if (!handle) throw new Error(`tally_tracker_new_typed failed: ${error}`);
    return new TrackerDriver(this, handle);
  }

  tracker(options = {}, seed = fixedSeed()) {
    const { handle, error } = this.newTracker(options, seed);
    if (!handle) throw new Error(`tally_tracker_new failed: ${error}`);
    return new TrackerDriver(this, handle);
  }
}

export class TrackerDriver {
  constructor(core, handle) {
    this.core = core;
    this.m = core.m;
    this.h = handle;
  }

  out() {
    const m = this.m;
    const ptr = m._tally_out_ptr(this.h);
    const len = m._tally_out_len(this.h) >>> 0;
    return decoder.decode(m.HEAPU8.subarray(ptr, ptr + len));
  }

  /// event: an object (JSON-encoded here), a string, or raw bytes. Returns { code, out, id }.
  track(event) {
    const data = typeof event === 'string' || event instanceof Uint8Array ? event : JSON.stringify(event);
    const [ptr, len] = this.core.put(data);
    const code = this.m._tally_track(this.h, ptr, len);
    this.core.free(ptr);
    const id = code === 0 ? this.core.cString(this.m._tally_last_id_ptr(this.h)) : null;
    return { code, out: this.out(), id };
  }

  /// Lite module: queues an encoded event. id defaults to the text's own (bytes 13..49), as
  /// js/src/core.ts passes it. Returns { code, out }.
  push(text, createdAt = NaN, id = undefined) {
    const [ptr, len] = this.core.put(text);
    let idPtr = ptr + 13;
    if (id !== undefined) [idPtr] = this.core.put(id);
    const code = this.m._tally_push(this.h, idPtr, createdAt, ptr, len);
    this.core.free(ptr);
    if (id !== undefined) this.core.free(idPtr);
    return { code, out: this.out() };
  }

  /// Restores one line (an encoded event): 1 restored, 0 skipped, < 0 dropped (-5: no room).
  restoreLine(line) {
    const [ptr, len] = this.core.put(line);
    const code = this.m._tally_restore(this.h, ptr, len);
    this.core.free(ptr);
    return code;
  }

  /// Restores a snapshot line by line, as js/src/core.ts does: { restored, dropped, codes }.
  restore(snapshot) {
    const codes = snapshot.split('\n').map((line) => this.restoreLine(line));
    return {
      restored: codes.filter((c) => c > 0).length,
      dropped: codes.filter((c) => c < 0).length,
      codes,
    };
  }

  snapshot() {
    const code = this.m._tally_snapshot(this.h);
    return { code, out: this.out() };
  }

  nextBatch(maxBytes = 0) {
    const count = this.m._tally_next_batch(this.h, maxBytes);
    return { count, body: this.out() };
  }

  ack(n) {
    this.m._tally_ack(this.h, n);
  }

  setNow(ms) {
    this.m._tally_set_now_for_test(this.h, ms);
  }

  batchDue() {
    return this.m._tally_batch_due(this.h);
  }

  msUntilDue() {
    return this.m._tally_ms_until_due(this.h);
  }

  onServerTime(sent, received, server) {
    this.m._tally_on_server_time(this.h, sent, received, server);
  }

  clockOffset() {
    return this.m._tally_clock_offset(this.h);
  }

  queuedEvents() {
    return this.m._tally_queued_events(this.h) >>> 0;
  }

  queuedBytes() {
    return this.m._tally_queued_bytes(this.h);
  }

  free() {
    this.m._tally_tracker_free(this.h);
    this.h = 0;
  }
}

export const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
