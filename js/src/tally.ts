// The tracker the public API drives. The core (core.ts) queues and batches, and in the npm builds
// validates and encodes too (the script tag's lite core takes the text built here as it is: the
// collector validates); this layer owns ids, identity, consent, persistence, transport and
// auto-tracking.
// The track() path does no storage I/O and no cookie reads (DESIGN.md lesson 9): identity and
// page context are kept in memory as ready-made JSON fragments.

import { Core, FullCore, TallyError, type CoreModule, type TallyErrorCode } from './core';
import { openStore, type QueueStore, type StorageKind } from './storage';

/** Every option of init(); all but writeKey and endpoint have defaults. */
export interface TallyOptions {
  /** The site's public write key. */
  writeKey: string;
  /** Collector base URL; batches go to `${endpoint}/v1/batch`. */
  endpoint: string;
  /** Where queued events are kept (default 'auto': IndexedDB, then localStorage, then memory). */
  storage?: StorageKind | 'auto';
  /** Where the anonymous id lives (default 'localStorage'; 'memory' is cookieless and storage-less). */
  identity?: 'cookie' | 'localStorage' | 'memory';
  /** Session inactivity timeout in ms (default 30 minutes). */
  sessionTimeoutMs?: number;
  /** 'required': nothing is stored or sent until optIn() (default 'granted'). */
  consent?: 'granted' | 'required';
  /** Treat Do Not Track / Global Privacy Control as an opt-out (default false). */
  honorDoNotTrack?: boolean;
  /** Batch bounds handed to the core. */
  batch?: { maxEvents?: number; maxBytes?: number; maxAgeMs?: number };
  /** Queue bounds handed to the core (default 1000 events / 1 MB). */
  queue?: { maxEvents?: number; maxBytes?: number };
  /** Retry backoff: first delay and cap in ms (defaults 1000 and 60000), full jitter. */
  retry?: { baseMs?: number; capMs?: number };
  /** Auto-tracking switches (all default true in the browser except errors). */
  autoTrack?: Partial<AutoTrackOptions> | boolean;
  /** Called with each event before it is queued; return null to drop it, or a changed event. */
  beforeSend?: (event: TallyEvent) => TallyEvent | null;
  /** Extra context merged into every event's `context` (e.g. workflow_id). */
  context?: Record<string, unknown>;
}

/** Which browser behaviours are tracked automatically. */
export interface AutoTrackOptions {
  /** Page views, including SPA history changes. */
  pageViews: boolean;
  /** Clicks on elements marked data-tally-event (properties from data-tally-prop-*). */
  clicks: boolean;
  /** Clicks on links to other origins; navigation waits ≤ 300 ms for the event to go out. */
  outboundLinks: boolean;
  /** Form submissions. */
  forms: boolean;
  /** Uncaught errors and unhandled rejections. */
  errors: boolean;
  /** Elements marked data-tally-impression, once per element per page view. */
  impressions: boolean;
}

/** An event as beforeSend sees it (the pinned wire fields). */
export interface TallyEvent {
  type: 'track' | 'page' | 'identify';
  name?: string;
  properties?: Record<string, unknown>;
  context?: Record<string, unknown>;
  user_id?: string;
  anonymous_id?: string;
  session_id?: string;
  created_at?: number;
  event_id?: string;
}

/** Per-call options of track(). */
export interface TrackOptions {
  /** Device time of the action in ms since epoch (default now); the snippet replay passes it. */
  createdAt?: number;
  /** Extra context for this event only. */
  context?: Record<string, unknown>;
}

/** What flush() resolves with. */
export interface FlushResult {
  /** Events delivered during this flush. */
  delivered: number;
  /** Events still queued (the collector was unreachable or asked to wait). */
  queued: number;
}

/** Payloads of the events emitted by on(). */
export interface TallyEvents {
  /** Events the collector acknowledged (ids). */
  delivered: { ids: string[] };
  /** Events given up for good, with the reason. */
  dropped: { ids: string[]; reason: string };
  /** Anything that went wrong; never thrown into the page. */
  error: TallyError;
}

declare const __TALLY_NODE__: boolean; // false in the browser builds: the Node paths are removed
declare const __TALLY_LITE__: boolean; // true in the script-tag build: the lite core (core.ts)

const kVersion = '0.1.0';
const kBeaconBytes = 60 * 1024; // under the 64 KB keepalive budget browsers allow
const inBrowser = typeof window === 'object' && typeof document === 'object';
const encoder = new TextEncoder();
const decoder = new TextDecoder();
// Every encoded event (the core's EncodeEvent) starts {"event_id":"<36 chars>": its id is
// line.slice(13, 49), read without parsing the line.

// Random bytes from crypto.getRandomValues, drawn from a pool refilled 4 KB at a time: one
// crypto call per ~250 event ids instead of one per id.
let pool = new Uint8Array(0);
let poolPos = 0;
function randomByte(): number {
  if (poolPos >= pool.length) {
    pool = crypto.getRandomValues(new Uint8Array(4096));
    poolPos = 0;
  }
  return pool[poolPos++]!;
}

function randomHex(bytes: number): string {
  let s = '';
  while (bytes--) s += (randomByte() + 256).toString(16).slice(1);
  return s;
}

// Anything caught, as the one error type the SDK reports.
function asError(e: unknown, code: TallyErrorCode): TallyError {
  return e instanceof TallyError ? e : new TallyError(code, String(e));
}

function pageInfo(): Record<string, string> {
  return { url: location.href, path: location.pathname, title: document.title, referrer: document.referrer };
}

// localStorage 'tally.<k>', or null where there is none (Node, disabled, sandboxed).
function safeGet(k: string): string | null {
  try {
    return localStorage.getItem('tally.' + k);
  } catch {
    return null;
  }
}

// Sets or (v null) removes localStorage 'tally.<k>'; quietly does nothing where it cannot.
function safeSet(k: string, v: string | null): void {
  try {
    if (v === null) localStorage.removeItem('tally.' + k);
    else localStorage.setItem('tally.' + k, v);
  } catch {
    /* no storage: the value lives in memory only */
  }
}

// JSON.stringify writes Infinity and NaN as null, so the core would never see them. Only when the
// text holds a null at all (rare) is the value walked again to find the path of a non-finite
// number: no per-call cost for events without nulls. (The value was just stringified, so it has
// no cycles; a custom toJSON() that returns a non-finite number is not looked into.)
function nonFinite(v: unknown, text: string, path: string): string | undefined {
  if (!text.includes('null')) return undefined;
  if (typeof v === 'number' && !isFinite(v)) return path;
  if (v && typeof v === 'object')
    for (const [k, x] of Object.entries(v)) {
      const p = nonFinite(x, text, Array.isArray(v) ? `${path}[${k}]` : path ? `${path}.${k}` : k);
      if (p) return p;
    }
  return undefined;
}

/** One tracker. Create it with init() or createTally(); every method is safe before load. */
export class Tally {
  /** The options init() was given. */
  readonly options: TallyOptions;
  /** 'wasm' or 'asmjs' (strict-CSP fallback) once loaded. */
  coreKind: 'wasm' | 'asmjs' | undefined;
  /** Where the queue is persisted, once loaded. */
  storageKind: StorageKind | undefined;

  private core_: Core | undefined;
  private store_: QueueStore | undefined;
  private readonly tab_ = randomHex(8);
  private readonly url_: string; // the collector's batch URL
  private readonly listeners_: { [K in keyof TallyEvents]?: Array<(p: TallyEvents[K]) => void> } = {};
  private pending_: Array<() => void> = [];
  private anonymousId_ = '';
  private userId_?: string;
  private sessionId_ = '';
  private lastActivity_ = 0;
  // Set by start() before any event is made: the ids and the page context as JSON fragments.
  private idJson_!: string;
  private ctxJson_!: string;
  private consent_: 'granted' | 'denied' | 'unknown' = 'granted';
  private sending_?: boolean;
  private sendTimer_: ReturnType<typeof setTimeout> | undefined;
  private retryAt_ = 0;
  // Failed sends in a row; while > 0, a refused batch goes again when the backoff ends, due or not.
  private attempts_ = 0;
  private beaconed_ = new Set<string>(); // handed to a beacon, not yet confirmed by a fetch
  private backlog_: string[] = []; // tracked, not yet handed to the core
  private drainTimer_: ReturnType<typeof setTimeout> | undefined;
  private idMs_ = 0;
  private idSeq_ = 0;
  private pumping_: Promise<void> = Promise.resolve(); // the running pump_, then the next
  private deliveredSinceFlush_ = 0;
  private sessionDirty_?: boolean;
  /** Storage writes that failed (quota) and were absorbed. */
  get storageFailures(): number {
    return this.store_?.failures_ ?? 0;
  }

  /** @param options see TallyOptions. */
  constructor(options: TallyOptions) {
    if (!options || typeof options.writeKey !== 'string' || !options.writeKey)
      throw new TallyError('invalid_argument', 'writeKey: must be a non-empty string');
    if (typeof options.endpoint !== 'string')
      throw new TallyError('invalid_argument', 'endpoint: must be a URL string');
    this.options = options;
    this.url_ = options.endpoint.replace(/\/$/, '') + '/v1/batch';
  }

  /** Loads the core and the persisted queue; resolves when the tracker is ready. */
  async start(module: CoreModule, kind: 'wasm' | 'asmjs'): Promise<this> {
    const o = this.options;
    this.coreKind = kind;
    const seed = crypto.getRandomValues(new Uint8Array(32));
    this.core_ = Core.create(
      module,
      {
        write_key: o.writeKey,
        batch: { max_events: o.batch?.maxEvents, max_bytes: o.batch?.maxBytes, max_age_ms: o.batch?.maxAgeMs },
        queue: { max_events: o.queue?.maxEvents, max_bytes: o.queue?.maxBytes },
      },
      seed,
    );
    this.loadConsent_();
    this.loadIdentity_();
    this.refreshContext();
    // Listening first: a page left while the queue is still opening must still send its events.
    if (inBrowser) this.listenForUnload_();
    if (this.consent_ === 'granted') await this.openQueue_();
    const queued = this.pending_;
    this.pending_ = [];
    for (const call of queued) call();
    this.scheduleSend_();
    return this;
  }

  // ---- public API ----

  /** Tracks an action. Returns the event id, or undefined when dropped (see the 'error' event). */
  track(name: string, properties?: Record<string, unknown>, options?: TrackOptions): string | undefined {
    if (!this.core_) return this.defer_(() => this.track(name, properties, withTime(options)));
    if (this.consent_ !== 'granted') return undefined;
    if (typeof name !== 'string' || !name) return this.fail_('name: must be a non-empty string');
    return this.enqueue_('track', name, properties, options);
  }

  /** Records a page view (properties default to the current URL, path, title and referrer). */
  page(properties?: Record<string, unknown>, options?: TrackOptions): string | undefined {
    if (!this.core_) return this.defer_(() => this.page(properties, withTime(options)));
    if (this.consent_ !== 'granted') return undefined;
    this.refreshContext();
    const props = inBrowser ? { ...pageInfo(), ...properties } : properties;
    return this.enqueue_('page', 'Page Viewed', props, options);
  }

  /** Ties later events to a known user, with optional traits. */
  identify(userId: string, traits?: Record<string, unknown>, options?: TrackOptions): string | undefined {
    if (!this.core_) return this.defer_(() => this.identify(userId, traits, withTime(options)));
    if (typeof userId !== 'string' || !userId) return this.fail_('userId: must be a non-empty string');
    this.userId_ = userId;
    this.rebuildIdJson_();
    if (this.consent_ !== 'granted') return undefined;
    safeSet('uid', userId);
    return this.enqueue_('identify', 'Identify', traits, options);
  }

  /** Forgets the user: new anonymous id, no user id, new session. */
  reset(): void {
    if (!this.core_) return void this.defer_(() => this.reset());
    this.userId_ = '';
    safeSet('uid', null);
    this.anonymousId_ = '';
    this.writeAnonymousId_('');
    this.loadIdentity_();
    this.sessionId_ = '';
    this.lastActivity_ = 0;
  }

  /** Sends everything queued now; resolves when the queue is empty or the collector asked to wait. */
  flush(): Promise<FlushResult> {
    if (!this.core_) return new Promise((r) => this.defer_(() => void this.flush().then(r)));
    this.deliveredSinceFlush_ = 0;
    this.drainAll_();
    this.retryAt_ = Math.min(this.retryAt_, Date.now());
    return this.pump_(true).then(() => ({ delivered: this.deliveredSinceFlush_, queued: this.core_!.queuedEvents() }));
  }

  /** Stops tracking for this browser (persisted) and deletes the queued events. */
  optOut(): void {
    if (!this.core_) return void this.defer_(() => this.optOut());
    this.consent_ = 'denied';
    safeSet('consent', 'denied');
    this.backlog_ = [];
    this.core_.ack(this.core_.queuedEvents());
    void this.store_?.clear_();
  }

  /** Grants consent (consent-required mode) or undoes optOut(); persisted. */
  optIn(): void {
    if (!this.core_) return void this.defer_(() => this.optIn());
    this.consent_ = 'granted';
    safeSet('consent', 'granted');
    this.loadIdentity_();
    if (!this.store_) void this.openQueue_();
  }

  /** Subscribes to 'delivered', 'dropped' or 'error'; returns an unsubscribe function. */
  on<K extends keyof TallyEvents>(event: K, handler: (payload: TallyEvents[K]) => void): () => void {
    const l = this.listeners_;
    const list = (l[event] || (l[event] = [])) as Array<(p: TallyEvents[K]) => void>;
    list.push(handler);
    return () => list.splice(list.indexOf(handler) >>> 0, 1);
  }

  /** Events waiting to be delivered. */
  queued(): number {
    return this.core_ ? this.core_.queuedEvents() + this.backlog_.length : this.pending_.length;
  }

  /** Bytes of linear memory held by the core module (outside the JS heap). */
  coreMemoryBytes(): number {
    return this.core_ ? this.core_.memoryBytes() : 0;
  }

  /** The current anonymous, user and session ids. */
  ids(): { anonymousId: string; userId?: string; sessionId: string } {
    return { anonymousId: this.anonymousId_, userId: this.userId_ || undefined, sessionId: this.sessionId_ };
  }

  // ---- the call path ----

  private enqueue_(
    type: 'track' | 'page' | 'identify',
    name: string,
    properties: Record<string, unknown> | undefined,
    options: TrackOptions | undefined,
  ): string | undefined {
    const now = Date.now();
    if (now - this.lastActivity_ > (this.options.sessionTimeoutMs ?? 1.8e6) /* 30 minutes */ || !this.sessionId_) {
      this.sessionId_ = randomHex(16);
      this.rebuildIdJson_();
    }
    this.lastActivity_ = now;
    this.sessionDirty_ = true;
    // The id and created_at are fixed here, at the call; the core's work (validate, dedup, queue,
    // encode: tens of µs in Wasm) runs just after, off the call path, in time slices (lesson 9).
    const id = this.newId_(now);
    const createdAt = +(options?.createdAt ?? now);
    if (!isFinite(createdAt)) return this.fail_('createdAt: must be a finite number');
    let json: string;
    let bad: string | undefined;
    const hook = this.options.beforeSend;
    try {
      const props = properties ? JSON.stringify(properties) : '';
      bad = props && nonFinite(properties, props, 'properties');
      json =
        '{"event_id":"' +
        id +
        '","created_at":' +
        createdAt +
        ',"type":"' +
        type +
        '","name":' +
        JSON.stringify(name) +
        (props && ',"properties":' + props) +
        ',"context":' +
        this.ctxJson_ +
        this.idJson_ +
        '}';
      if (hook || options?.context) {
        // The same event as an object (the caller's own properties, so the hook sees them as
        // given), checked again after the hook and the per-call context had their say.
        let ev: TallyEvent | null = JSON.parse(json);
        ev!.properties = properties ?? {};
        ev!.context = { ...ev!.context, ...options?.context };
        if (hook) ev = hook(ev!);
        if (!ev) return undefined;
        // Id and created_at stay first, where the lite core and the store read them.
        json = JSON.stringify({ event_id: id, created_at: createdAt, ...ev });
        bad = nonFinite(ev, json, '');
      }
    } catch (e) {
      // JSON.stringify throws on cycles and BigInt.
      return this.fail_(`properties: ${(e as Error).message}`);
    }
    if (bad) return this.fail_(`${bad}: must be a finite number`);
    this.backlog_.push(json);
    if (!this.drainTimer_) this.drainTimer_ = setTimeout(() => this.drain_(8), 0);
    return id;
  }

  // Hands tracked events to the core: at most `sliceMs` of work, then yields to the page.
  private drain_(sliceMs: number): void {
    this.drainTimer_ = undefined;
    const end = performance.now() + sliceMs;
    let i = 0;
    for (; i < this.backlog_.length; i++) {
      const json = this.backlog_[i]!;
      try {
        if (__TALLY_LITE__) {
          // The script tag's lite core queues the text as built here; the collector validates.
          this.core_!.check(this.core_!.push(json));
          this.store_?.put_(json.slice(13, 49), json);
        } else {
          const { id, encoded } = (this.core_ as FullCore).track(json);
          this.store_?.put_(id, decoder.decode(encoded));
        }
      } catch (e) {
        this.drop_([(JSON.parse(json) as TallyEvent).event_id!], asError(e, 'internal'));
      }
      if ((i & 15) === 15 && performance.now() > end) {
        i++;
        break;
      }
    }
    this.backlog_.splice(0, i);
    if (this.backlog_.length) this.drainTimer_ = setTimeout(() => this.drain_(sliceMs), 0);
    this.scheduleSend_();
  }

  // UUIDv7 (RFC 9562): 48-bit ms time, version 7, a 12-bit counter that keeps ids made in the
  // same ms in call order (the queue is restored in id order), variant, 62 random bits.
  private newId_(now: number): string {
    if (now <= this.idMs_) {
      if (++this.idSeq_ > 0xfff) {
        this.idMs_++;
        this.idSeq_ = 0;
      }
    } else {
      this.idMs_ = now;
      this.idSeq_ = randomByte() << 3; // random start, room to count up
    }
    const t = (this.idMs_ + 0x1000000000000).toString(16).slice(1);
    const r = randomHex(8);
    return (
      t.slice(0, 8) +
      '-' +
      t.slice(8) +
      '-7' +
      (this.idSeq_ + 0x1000).toString(16).slice(1) +
      '-' +
      ((randomByte() & 0x3f) | 0x80).toString(16) +
      r.slice(0, 2) +
      '-' +
      r.slice(2, 14)
    );
  }

  /** Runs the core's work for every tracked event now (flush, page unload). */
  private drainAll_(): void {
    clearTimeout(this.drainTimer_);
    if (this.backlog_.length) this.drain_(Infinity);
  }

  private defer_(call: () => void): undefined {
    if (this.pending_.length < 1000) this.pending_.push(call);
    return undefined;
  }

  // An invalid call: reported as an 'error' event, never thrown into the page.
  private fail_(message: string): undefined {
    this.emit_('error', new TallyError('invalid_argument', message));
    return undefined;
  }

  // Events given up for good: 'dropped' with their ids, then the error.
  private drop_(ids: string[], err: TallyError, reason = err.message): void {
    this.emit_('dropped', { ids, reason });
    this.emit_('error', err);
  }

  private emit_<K extends keyof TallyEvents>(event: K, payload: TallyEvents[K]): void {
    for (const h of (this.listeners_[event] ?? []) as Array<(p: TallyEvents[K]) => void>) {
      try {
        h(payload);
      } catch {
        /* a listener's bug must not stop delivery */
      }
    }
  }

  // ---- identity, consent, context ----

  private loadConsent_(): void {
    const saved = safeGet('consent');
    const dnt =
      this.options.honorDoNotTrack &&
      inBrowser &&
      (navigator.doNotTrack === '1' || (navigator as { globalPrivacyControl?: boolean }).globalPrivacyControl);
    // A choice the user made (optOut/optIn) wins over DNT/GPC, which wins over the default.
    this.consent_ =
      saved === 'denied' || saved === 'granted'
        ? saved
        : dnt
          ? 'denied'
          : this.options.consent === 'required'
            ? 'unknown'
            : 'granted';
  }

  private loadIdentity_(): void {
    const mode = this.options.identity ?? 'localStorage';
    const storable = this.consent_ === 'granted' && mode !== 'memory';
    if (!this.anonymousId_ && storable) {
      this.anonymousId_ =
        (mode === 'cookie' && inBrowser ? document.cookie.match(/(?:^|; )tally_aid=([^;]*)/)?.[1] : safeGet('aid')) ||
        '';
      this.userId_ = this.userId_ || safeGet('uid') || '';
      const s = safeGet('session');
      if (s) {
        const [id, at] = s.split('|');
        this.sessionId_ = id || '';
        this.lastActivity_ = Number(at) || 0;
      }
    }
    if (!this.anonymousId_) {
      this.anonymousId_ = randomHex(16);
      if (storable) this.writeAnonymousId_(this.anonymousId_);
    }
    this.rebuildIdJson_();
  }

  private writeAnonymousId_(id: string): void {
    if (this.options.identity === 'cookie' && inBrowser) {
      document.cookie = `tally_aid=${id};path=/;max-age=${id ? 31536000 : 0};samesite=lax`;
    } else if (this.options.identity !== 'memory') safeSet('aid', id || null);
  }

  private rebuildIdJson_(): void {
    // JSON.stringify leaves out the undefined ones.
    this.idJson_ =
      ',' +
      JSON.stringify({
        anonymous_id: this.anonymousId_,
        session_id: this.sessionId_ || undefined,
        user_id: this.userId_ || undefined,
      }).slice(1, -1);
  }

  /** Re-reads the page context (on page views and history changes, never per track()). */
  refreshContext(): void {
    const ctx: Record<string, unknown> = { library: { name: 'tally-sdk', version: kVersion }, ...this.options.context };
    if (inBrowser) {
      ctx.page = pageInfo();
      ctx.user_agent = navigator.userAgent;
    }
    this.ctxJson_ = JSON.stringify(ctx);
  }

  // ---- persistence ----

  private async openQueue_(): Promise<void> {
    if (this.store_) return;
    const store = await openStore(this.options.storage ?? 'auto', 'tally-' + this.options.writeKey);
    this.store_ = store;
    this.storageKind = store.kind_;
    try {
      const lines = await store.adopt_(this.tab_, (late) => {
        // A tab that was open when this one started has closed: its events are ours now.
        if (this.consent_ !== 'granted') return;
        try {
          this.core_!.restore(late.join('\n'));
        } catch (e) {
          this.emit_('error', asError(e, 'storage'));
        }
        this.scheduleSend_();
      });
      this.core_!.restore(lines.join('\n'));
      // Events tracked while the queue was opening are written now.
      const snap = this.core_!.snapshot();
      for (const line of snap.split('\n')) if (line) store.put_(line.slice(13, 49), line);
    } catch (e) {
      this.emit_('error', asError(e, 'storage'));
    }
    this.scheduleSend_();
  }

  private saveSession_(): void {
    if (this.sessionDirty_ && this.consent_ === 'granted' && this.options.identity !== 'memory') {
      this.sessionDirty_ = false;
      safeSet('session', this.sessionId_ + '|' + this.lastActivity_);
    }
  }

  // ---- transport ----

  private scheduleSend_(): void {
    const core = this.core_;
    if (!core || this.sending_ || this.consent_ !== 'granted') return;
    const wait = Math.max(this.attempts_ || core.batchDue() ? 0 : core.msUntilDue(), this.retryAt_ - Date.now());
    if (core.queuedEvents() === 0 || wait < 0) return;
    if (this.sendTimer_ !== undefined) {
      if (wait > 0) return; // a timer is already set for the oldest event's age
      clearTimeout(this.sendTimer_);
    }
    this.sendTimer_ = setTimeout(() => {
      this.sendTimer_ = undefined;
      void this.pump_(false);
    }, wait);
    // In Node a pending batch must not keep the process alive; servers call flush() before exit.
    if (__TALLY_NODE__) (this.sendTimer_ as { unref?: () => void }).unref?.();
  }

  // Sends due batches (every batch when forced) until the queue is empty or must wait (backoff,
  // consent). Pumps run one after another, so a flush() during a send runs its own forced pump
  // once that send is done, and resolves when the queue is empty or must wait.
  private pump_(force: boolean): Promise<void> {
    const core = this.core_!;
    return (this.pumping_ = this.pumping_
      .then(async () => {
        this.sending_ = true;
        this.saveSession_();
        try {
          while (this.consent_ === 'granted' && core.queuedEvents() > 0 && Date.now() >= this.retryAt_) {
            if (!force && !this.attempts_ && !core.batchDue()) break;
            if (!(await this.sendOne_())) break;
          }
        } finally {
          this.sending_ = false;
          await this.store_?.flush_();
          this.scheduleSend_();
        }
      })
      .catch((e) => this.emit_('error', asError(e, 'internal'))));
  }

  // One POST of the next batch. Returns false when the queue must wait (backoff).
  private async sendOne_(): Promise<boolean> {
    const core = this.core_!;
    const { count, body } = core.nextBatch(0);
    if (!count) return false;
    const ids = idsOf(body);
    const sentAt = Date.now();
    let res: Response;
    try {
      // A string body goes as text/plain;charset=UTF-8: a simple request, no CORS preflight.
      res = await fetch(this.url_, {
        method: 'POST',
        body,
        credentials: 'omit',
        keepalive: body.length < kBeaconBytes,
      });
    } catch (e) {
      return this.backoff_(0, new TallyError('transport', `network: ${(e as Error).message}`));
    }
    // A non-JSON answer leaves the status to decide.
    const answer: {
      rejected?: Array<{ index: number; event_id?: string; error: string }>;
      server_time?: number;
      error?: string;
    } = (await res.json().catch(() => 0)) || {};
    const why = `collector answered ${res.status}${answer.error ? ': ' + answer.error : ''}`;
    if (res.status === 429 || res.status >= 500) {
      const ra = Number(res.headers.get('Retry-After'));
      return this.backoff_(ra * 1000 || 0, new TallyError('transport', why)); // seconds; a date: none
    }
    if (res.ok && typeof answer.server_time === 'number') core.onServerTime(sentAt, Date.now(), answer.server_time);
    core.ack(count);
    this.store_?.remove_(ids);
    for (const id of ids) this.beaconed_.delete(id);
    this.attempts_ = 0;
    // 400/401/403/413 and other refusals: retrying cannot help.
    if (!res.ok) this.drop_(ids, new TallyError('dropped', why));
    else {
      const rejected = answer.rejected ?? [];
      const delivered = ids.filter((_, i) => !rejected.some((r) => r.index === i));
      this.deliveredSinceFlush_ += delivered.length;
      if (delivered.length) this.emit_('delivered', { ids: delivered });
      for (const r of rejected)
        this.drop_(
          [r.event_id ?? ids[r.index] ?? ''],
          new TallyError('dropped', r.error), // (the collector's message names events[i] itself)
          r.error,
        );
    }
    return true;
  }

  private backoff_(retryAfterMs: number, err: TallyError): boolean {
    const base = this.options.retry?.baseMs ?? 1000;
    const cap = this.options.retry?.capMs ?? 60000;
    const jitter = Math.random() * Math.min(cap, base * 2 ** this.attempts_++);
    this.retryAt_ = Date.now() + Math.max(jitter, Math.min(retryAfterMs, cap * 10));
    this.emit_('error', err);
    return false;
  }

  // ---- page unload ----

  private listenForUnload_(): void {
    const onHide = () => this.sendOnUnload_();
    addEventListener('pagehide', onHide);
    document.addEventListener('visibilitychange', () => {
      if (document.hidden) onHide();
    });
    addEventListener('online', () => {
      this.retryAt_ = 0;
      this.scheduleSend_();
    });
  }

  // A beacon's answer is never seen, so the events it carries stay queued and persisted until a
  // later fetch (this page's, once visible again, or the page that adopts this tab's queue)
  // confirms them; the collector deduplicates on event_id, so the second send is safe. A tab
  // closed while the collector answers 503 therefore loses nothing.
  private sendOnUnload_(): void {
    const core = this.core_;
    this.saveSession_();
    if (core && this.consent_ === 'granted') {
      // Every tracked event goes to the core and the store now, whether or not a beacon goes,
      // and into the synchronous journal in case the page is torn down before the store commits.
      this.drainAll_();
      this.store_?.journal_();
      // No beacon offline, nor while the collector asked to wait (Retry-After, backoff).
      if (navigator.onLine !== false && Date.now() >= this.retryAt_) this.beacon_(core);
    }
    void this.store_?.flush_();
  }

  // Sends the queued events not yet handed to a beacon, in bodies under 60 KB and under the 64 KB
  // keepalive budget in all. Built here from the core's encoded events (the batch grammar of
  // sdk/src/codec.cc) because the core builds batches only from the head of its queue, and these
  // events must stay queued.
  private beacon_(core: Core): void {
    const off = core.clockOffset();
    const head =
      '{"write_key":' +
      JSON.stringify(this.options.writeKey) +
      ',"sent_at":' +
      Date.now() +
      (off === undefined ? '' : ',"clock_offset_ms":' + Math.round(off)) +
      ',"events":[';
    let budget = 63 * 1024;
    let lines: string[] = [];
    let bytes = 0;
    const send = (): boolean => {
      if (lines.length) {
        if (!navigator.sendBeacon(this.url_, head + lines.join(',') + ']}')) return false;
        for (const line of lines) this.beaconed_.add(line.slice(13, 49));
        budget -= bytes;
      }
      lines = [];
      bytes = head.length + 2;
      return true;
    };
    send();
    for (const line of core.snapshot().split('\n')) {
      if (!line || this.beaconed_.has(line.slice(13, 49))) continue;
      const n = encoder.encode(line).length + 1;
      const fits = () => bytes + n <= Math.min(kBeaconBytes, budget);
      if (!fits() && !send()) return;
      if (!fits()) continue; // alone too big: the next page sends it
      lines.push(line);
      bytes += n;
    }
    send();
  }
}

function withTime(o: TrackOptions | undefined): TrackOptions {
  return o?.createdAt !== undefined ? o : { ...o, createdAt: Date.now() };
}

// The ids of a batch body, in order (off the call path: once per send).
function idsOf(body: string): string[] {
  return (JSON.parse(body) as { events: Array<{ event_id: string }> }).events.map((e) => e.event_id);
}
