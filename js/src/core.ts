// The one file that knows the C ABI of wasm/tally_abi.h: pointer/length marshalling, the module
// loader (Wasm, or the asm.js build of the same core when a strict CSP refuses Wasm), and the one
// place where a negative return code becomes a TallyError.
//
// Two modules speak this ABI: the full core (npm builds: it validates, ids and encodes each event)
// and the lite core of the script tag (__TALLY_LITE__; wasm/exports-lite.txt): no event path, it
// queues the JSON text tally.ts built, and the collector validates (docs/DECISIONS.md).

declare const __TALLY_LITE__: boolean; // true in the script-tag build only

/** Why a core call failed; the numeric codes are tally::Code negated (sdk/include/tally/status.h). */
export type TallyErrorCode =
  | 'invalid_argument'
  | 'parse_error'
  | 'too_large'
  | 'duplicate'
  | 'resource_exhausted'
  | 'not_found'
  | 'internal'
  | 'storage'
  | 'transport'
  | 'dropped';

const kCodeNames: TallyErrorCode[] = [
  'internal',
  'invalid_argument',
  'parse_error',
  'too_large',
  'duplicate',
  'resource_exhausted',
  'not_found',
  'internal',
];

/** The error every Tally call throws or reports; `message` names the field at fault. */
export class TallyError extends Error {
  /** What kind of failure (see TallyErrorCode). */
  readonly code: TallyErrorCode;
  /** @param code the failure kind. @param message readable text naming the field. */
  constructor(code: TallyErrorCode, message: string) {
    super(message);
    this.name = 'TallyError';
    this.code = code;
  }
}

/** The exports of the Emscripten module (wasm or asm.js), as listed in wasm/exports.txt. */
export interface CoreModule {
  HEAPU8: Uint8Array;
  _tally_alloc(bytes: number): number;
  _tally_free(ptr: number): void;
  _tally_tracker_new(optionsPtr: number, optionsLen: number, seedPtr: number): number;
  _tally_tracker_new_typed(valuesPtr: number, count: number, keyPtr: number, keyLen: number, seedPtr: number): number;
  _tally_push(tracker: number, idPtr: number, createdAt: number, ptr: number, len: number): number;
  _tally_tracker_free(tracker: number): void;
  _tally_last_create_error(): number;
  _tally_track(tracker: number, ptr: number, len: number): number;
  _tally_last_id_ptr(tracker: number): number;
  _tally_restore(tracker: number, ptr: number, len: number): number;
  _tally_snapshot(tracker: number): number;
  _tally_batch_due(tracker: number): number;
  _tally_ms_until_due(tracker: number): number;
  _tally_next_batch(tracker: number, maxBytes: number): number;
  _tally_ack(tracker: number, n: number): void;
  _tally_on_server_time(tracker: number, sent: number, received: number, server: number): void;
  _tally_clock_offset(tracker: number): number;
  _tally_queued_events(tracker: number): number;
  _tally_queued_bytes(tracker: number): number;
  _tally_out_ptr(tracker: number): number;
  _tally_out_len(tracker: number): number;
}

/** An Emscripten MODULARIZE factory (`createTallyCore`). */
export type CoreFactory = (moduleArg: Record<string, unknown>) => Promise<CoreModule>;

/** Options of the core itself (sdk/include/tally/options.h), passed as JSON to tally_tracker_new. */
export interface CoreOptions {
  write_key: string;
  batch?: { max_events?: number; max_bytes?: number; max_age_ms?: number };
  queue?: { max_events?: number; max_bytes?: number };
  validation?: Record<string, unknown>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** One tracker handle inside a loaded module. Not thread-safe; one per SDK instance. */
export class Core {
  protected readonly m: CoreModule;
  protected readonly handle: number;
  protected scratch = 0;
  private scratchCap = 0;

  protected constructor(m: CoreModule, handle: number) {
    this.m = m;
    this.handle = handle;
  }

  /** Creates a tracker; throws TallyError('invalid_argument') when the options are refused. */
  static create(m: CoreModule, options: CoreOptions, seed: Uint8Array): Core {
    const seedPtr = m._tally_alloc(32);
    m.HEAPU8.set(seed.subarray(0, 32), seedPtr);
    let handle: number;
    if (__TALLY_LITE__) {
      // Typed options (tally_tracker_new_typed): 5 doubles, undefined becomes NaN (the default),
      // then the write key.
      const b = options.batch ?? {};
      const q = options.queue ?? {};
      const v = new Uint8Array(
        new Float64Array([b.max_events!, b.max_bytes!, b.max_age_ms!, q.max_events!, q.max_bytes!]).buffer,
      );
      const key = encoder.encode(options.write_key);
      const p = m._tally_alloc(40 + key.length);
      m.HEAPU8.set(v, p);
      m.HEAPU8.set(key, p + 40);
      handle = m._tally_tracker_new_typed(p, 5, p + 40, key.length, seedPtr);
      m._tally_free(p);
    } else {
      const opts = encoder.encode(JSON.stringify(options));
      const optsPtr = m._tally_alloc(opts.length + 1);
      m.HEAPU8.set(opts, optsPtr);
      handle = m._tally_tracker_new(optsPtr, opts.length, seedPtr);
      m._tally_free(optsPtr);
    }
    m._tally_free(seedPtr);
    if (!handle) {
      const p = m._tally_last_create_error() >>> 0;
      let end = p;
      while (m.HEAPU8[end]) end++;
      throw new TallyError('invalid_argument', decoder.decode(m.HEAPU8.subarray(p, end)));
    }
    return new (__TALLY_LITE__ ? Core : FullCore)(m, handle);
  }

  /** Lite core: queues an event as tally.ts built it ({"event_id":"<36>","created_at":<ms>,...},
   *  unvalidated: the collector validates). Returns the tally_push code (0 queued, < 0 refused
   *  with the message in the output buffer). */
  push(json: string): number {
    const len = this.put(json); // first: it may move the scratch buffer
    // The id is the 36 bytes after {"event_id":" (13 ASCII bytes), created_at follows at 64.
    return this.m._tally_push(this.handle, this.scratch + 13, parseFloat(json.slice(64)), this.scratch, len);
  }

  /** Puts back persisted events (one encoded event per line); duplicates are skipped. */
  restore(lines: string): { restored: number; dropped: number } {
    let restored = 0;
    let dropped = 0;
    for (const line of lines.split('\n')) {
      let rc: number;
      if (__TALLY_LITE__) {
        // tally_push: 0 queued, -4 still queued (skipped), other < 0 dropped.
        if (!line) continue;
        rc = this.push(line);
        rc = rc ? (rc === -4 ? 0 : rc) : 1;
      } else {
        // One call per line: tally_restore answers 1 restored, 0 skipped, < 0 dropped.
        const len = this.put(line); // first: it may move the scratch buffer
        rc = this.m._tally_restore(this.handle, this.scratch, len);
      }
      if (rc > 0) restored++;
      else if (rc < 0) dropped++;
    }
    return { restored, dropped };
  }

  /** The queued events, one encoded event per line, oldest first. */
  snapshot(): string {
    this.check(this.m._tally_snapshot(this.handle));
    return this.out();
  }

  /** True when a batch is due by count, bytes or age. */
  batchDue(): boolean {
    return this.m._tally_batch_due(this.handle) > 0;
  }

  /** ms until a batch is due by age; 0 if due; -1 if nothing is queued. */
  msUntilDue(): number {
    return this.m._tally_ms_until_due(this.handle);
  }

  /** The next batch body (sent_at = now), at most maxBytes (0: the configured limit). */
  nextBatch(maxBytes = 0): { count: number; body: string } {
    const count = this.check(this.m._tally_next_batch(this.handle, maxBytes));
    return { count, body: count > 0 ? this.out() : '' };
  }

  /** Removes the first n queued events (delivered, or refused for good). */
  ack(n: number): void {
    if (n > 0) this.m._tally_ack(this.handle, n);
  }

  /** Feeds one round trip to the collector-clock offset estimator. */
  onServerTime(sentMs: number, receivedMs: number, serverTimeMs: number): void {
    this.m._tally_on_server_time(this.handle, sentMs, receivedMs, serverTimeMs);
  }

  /** collector − device in ms, or undefined before the first usable sample. */
  clockOffset(): number | undefined {
    const v = this.m._tally_clock_offset(this.handle);
    return Number.isNaN(v) ? undefined : v;
  }

  /** Events waiting in the core's queue. */
  queuedEvents(): number {
    return this.m._tally_queued_events(this.handle) >>> 0;
  }

  /** Encoded bytes waiting in the core's queue. */
  queuedBytes(): number {
    return this.m._tally_queued_bytes(this.handle);
  }

  /** Bytes of linear memory the module holds (Wasm memory or the asm.js heap). */
  memoryBytes(): number {
    return this.m.HEAPU8.byteLength;
  }

  /** Frees the tracker; the Core must not be used afterwards. */
  free(): void {
    if (this.scratch) this.m._tally_free(this.scratch);
    this.m._tally_tracker_free(this.handle);
  }

  // Copies `s` as UTF-8 into a scratch buffer reused across calls; returns the byte length.
  protected put(s: string): number {
    for (;;) {
      if (this.scratchCap === 0 || s.length > this.scratchCap) this.grow(s.length * 3 + 16);
      const r = encoder.encodeInto(s, this.m.HEAPU8.subarray(this.scratch, this.scratch + this.scratchCap));
      if (r.read === s.length) return r.written;
      this.grow(s.length * 3 + 16);
    }
  }

  private grow(cap: number): void {
    if (this.scratch) this.m._tally_free(this.scratch);
    this.scratchCap = Math.max(cap, 1024);
    this.scratch = this.m._tally_alloc(this.scratchCap) >>> 0;
    if (!this.scratch) throw new TallyError('resource_exhausted', 'core: out of memory');
  }

  private out(): string {
    const p = this.m._tally_out_ptr(this.handle) >>> 0;
    return decoder.decode(this.m.HEAPU8.subarray(p, p + (this.m._tally_out_len(this.handle) >>> 0)));
  }

  // The one place where a negative ABI code becomes a TallyError.
  check(rc: number): number {
    if (rc >= 0) return rc;
    throw new TallyError(kCodeNames[-rc] ?? 'internal', this.out());
  }
}

/** The full core's event path (npm builds only). A subclass, so that the script tag's bundle,
 *  where Core.create never makes one, leaves it out (esbuild drops an unused class, not an unused
 *  method: 80 B gzip). */
export class FullCore extends Core {
  /** Tracks one event JSON; returns its id and its encoded form (to persist). */
  track(eventJson: string): { id: string; encoded: Uint8Array } {
    const len = this.put(eventJson);
    this.check(this.m._tally_track(this.handle, this.scratch, len));
    const heap = this.m.HEAPU8;
    const idp = this.m._tally_last_id_ptr(this.handle) >>> 0;
    // The id is 36 ASCII bytes: fromCharCode is cheaper than a TextDecoder call on the hot path.
    const id = String.fromCharCode.apply(null, heap.subarray(idp, idp + 36) as unknown as number[]);
    const p = this.m._tally_out_ptr(this.handle) >>> 0;
    return { id, encoded: heap.slice(p, p + (this.m._tally_out_len(this.handle) >>> 0)) };
  }
}

/** Where the core's files come from; every field optional. */
export interface LoadOptions {
  /** URL of tally-core.wasm (default: next to the SDK file; the script tag's is tally-core-lite.wasm). */
  wasmUrl?: string;
  /** The .wasm bytes themselves (skips fetching). */
  wasmBinary?: ArrayBuffer | Uint8Array;
  /** URL of tally-core.asm.js (script tag: tally-core-lite.asm.js), loaded only when WebAssembly is refused (strict CSP). */
  asmUrl?: string;
}

/** How the module was obtained: 'wasm', or 'asmjs' after a refused WebAssembly compile. */
export type CoreKind = 'wasm' | 'asmjs';

type GlueLoader = (require: (id: string) => unknown, dirname: string, filename: string) => CoreFactory;

declare const __TALLY_NODE__: boolean; // false in the browser builds: the Node paths are removed

const isNode =
  __TALLY_NODE__ &&
  typeof process === 'object' &&
  typeof (process as { versions?: { node?: string } }).versions?.node === 'string' &&
  typeof window === 'undefined';

async function readBytes(url: string): Promise<Uint8Array> {
  if (__TALLY_NODE__ && isNode && url.startsWith('file:')) {
    const fs = await import('node:fs/promises');
    return new Uint8Array(await fs.readFile(new URL(url)));
  }
  const res = await fetch(url, { credentials: 'same-origin' });
  if (!res.ok) throw new TallyError('not_found', `wasmUrl: ${url} answered ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

function loadScript(url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = url;
    s.async = true;
    s.onload = () => resolve();
    s.onerror = () => reject(new TallyError('not_found', `asmUrl: ${url} did not load`));
    (document.head || document.documentElement).appendChild(s);
  });
}

/** Loads the core: compiles the .wasm, and if WebAssembly is refused loads the asm.js build. */
export async function loadCoreModule(
  glue: GlueLoader,
  base: string,
  opts: LoadOptions,
): Promise<{ module: CoreModule; kind: CoreKind }> {
  const name = __TALLY_LITE__ ? 'tally-core-lite' : 'tally-core';
  const wasmUrl = opts.wasmUrl ?? new URL(name + '.wasm', base).href;
  const asmUrl = opts.asmUrl ?? new URL(name + '.asm.js', base).href;
  let compiled: WebAssembly.Module | undefined;
  let refused: unknown;
  try {
    const bytes = opts.wasmBinary ? new Uint8Array(opts.wasmBinary) : await readBytes(wasmUrl);
    compiled = await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
  } catch (e) {
    if (e instanceof TallyError || typeof WebAssembly === 'undefined') refused = e;
    else if (e instanceof WebAssembly.CompileError || (e as Error)?.name === 'CompileError') refused = e;
    else throw e;
  }
  if (compiled) {
    let req: (id: string) => unknown = (id) => {
      throw new Error(`require(${id}) outside Node`);
    };
    let dir = '';
    if (__TALLY_NODE__ && isNode) {
      const { createRequire } = await import('node:module');
      req = createRequire(base.startsWith('file:') ? base : `file://${process.cwd()}/`);
      dir = base.startsWith('file:') ? new URL('.', base).pathname : process.cwd();
    }
    const mod = compiled;
    const factory = glue(req, dir, dir + name + '.js');
    const module = await factory({
      instantiateWasm(imports: WebAssembly.Imports, done: (i: WebAssembly.Instance, m: WebAssembly.Module) => void) {
        WebAssembly.instantiate(mod, imports).then((inst) => done(inst, mod));
        return {};
      },
    });
    return { module, kind: 'wasm' };
  }
  if (isNode || typeof document === 'undefined') throw refused;
  // Strict CSP without 'wasm-unsafe-eval': the same core compiled to JavaScript, fetched only now.
  await loadScript(asmUrl);
  const g = globalThis as unknown as { createTallyCore?: CoreFactory };
  if (!g.createTallyCore) throw new TallyError('not_found', `asmUrl: ${asmUrl} defined no createTallyCore`);
  const asmBase = new URL('.', asmUrl).href;
  const module = await g.createTallyCore({ locateFile: (p: string) => asmBase + p });
  return { module, kind: 'asmjs' };
}
