// The tracker the public API drives. The core (core.ts) validates, ids, stamps, dedups and
// batches; this layer owns identity, consent, persistence, transport and auto-tracking.
// The track() path does no storage I/O and no cookie reads (DESIGN.md lesson 9): identity and
// page context are kept in memory as ready-made JSON fragments.

import { Core, TallyError, type CoreModule } from './core';
import { holdTabLock, openStore, type QueueStore, type StorageKind } from './storage';

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

const kVersion = '0.1.0';
const kBeaconBytes = 60 * 1024; // under the 64 KB keepalive budget browsers allow
const inBrowser = typeof window === 'object' && typeof document === 'object';
const encoder = new TextEncoder();

function randomHex(bytes: number): string {
  const b = new Uint8Array(bytes);
  crypto.getRandomValues(b);
  let s = '';
  for (let i = 0; i < b.length; i++) s += (b[i]! + 256).toString(16).slice(1);
  return s;
}

function safeGet(k: string): string | null {
  try {
    return globalThis.localStorage ? localStorage.getItem(k) : null;
  } catch {
    return null;
  }
}

function safeSet(k: string, v: string | null): boolean {
  try {
    if (!globalThis.localStorage) return false;
    if (v === null) localStorage.removeItem(k);
    else localStorage.setItem(k, v);
    return true;
  } catch {
    return false;
  }
}

function readCookie(name: string): string | null {
  const m = document.cookie.match(new RegExp('(?:^|; )' + name + '=([^;]*)'));
  return m ? decodeURIComponent(m[1]!) : null;
}

// JSON.stringify writes Infinity and NaN as null, so the core would never see them. Only when the
// text holds a null at all (rare) is the value walked again to find the path of a non-finite
// number: no per-call cost for events without nulls.
function nonFinite(v: unknown, text: string, root: string): string | undefined {
  if (text.indexOf('null') < 0) return undefined;
  const paths = new Map<unknown, string>();
  let bad: string | undefined;
  JSON.stringify(v, function (this: unknown, k, x) {
    const base = paths.get(this);
    const p = base === undefined ? root : Array.isArray(this) ? `${base}[${k}]` : base ? `${base}.${k}` : k;
    if (typeof x === 'number' && !isFinite(x)) bad ??= p;
    else if (x && typeof x === 'object') paths.set(x, p);
    return x;
  });
  return bad;
}

/** One tracker. Create it with init() or createTally(); every method is safe before load. */
export class Tally {
  /** The options init() was given. */
  readonly options: TallyOptions;
  /** 'wasm' or 'asmjs' (strict-CSP fallback) once loaded. */
  coreKind: 'wasm' | 'asmjs' | undefined;
  /** Where the queue is persisted, once loaded. */
  storageKind: StorageKind | undefined;

  private core: Core | undefined;
  private store: QueueStore | undefined;
  private readonly tab = randomHex(8);
  private readonly listeners: { [K in keyof TallyEvents]?: Array<(p: TallyEvents[K]) => void> } = {};
  private pending: Array<() => void> = [];
  private anonymousId = '';
  private userId = '';
  private sessionId = '';
  private lastActivity = 0;
  private idJson = '';
  private ctxJson = '{}';
  private consent: 'granted' | 'denied' | 'unknown' = 'granted';
  private sending = false;
  private sendTimer: ReturnType<typeof setTimeout> | undefined;
  private retryAt = 0;
  private attempts = 0;
  private beaconed = new Set<string>(); // handed to a beacon, not yet confirmed by a fetch
  private backlog: string[] = []; // tracked, not yet handed to the core
  private drainTimer: ReturnType<typeof setTimeout> | undefined;
  private rand = new Uint8Array(0);
  private randPos = 0;
  private idMs = 0;
  private idSeq = 0;
  private retrying = false; // a refused batch goes again when the backoff ends, due or not
  private flushWaiters: Array<() => void> = [];
  private deliveredSinceFlush = 0;
  private sessionDirty = false;
  /** Storage writes that failed (quota) and were absorbed. */
  get storageFailures(): number {
    return this.store?.failures ?? 0;
  }

  /** @param options see TallyOptions. */
  constructor(options: TallyOptions) {
    if (!options || typeof options.writeKey !== 'string' || !options.writeKey)
      throw new TallyError('invalid_argument', 'writeKey: must be a non-empty string');
    if (typeof options.endpoint !== 'string')
      throw new TallyError('invalid_argument', 'endpoint: must be a URL string');
    this.options = options;
  }

  /** Loads the core and the persisted queue; resolves when the tracker is ready. */
  async start(module: CoreModule, kind: 'wasm' | 'asmjs'): Promise<this> {
    const o = this.options;
    this.coreKind = kind;
    const seed = new Uint8Array(32);
    crypto.getRandomValues(seed);
    this.core = Core.create(
      module,
      {
        write_key: o.writeKey,
        batch: { max_events: o.batch?.maxEvents, max_bytes: o.batch?.maxBytes, max_age_ms: o.batch?.maxAgeMs },
        queue: { max_events: o.queue?.maxEvents, max_bytes: o.queue?.maxBytes },
      },
      seed,
    );
    this.loadConsent();
    this.loadIdentity();
    this.refreshContext();
    // Listening first: a page left while the queue is still opening must still send its events.
    if (inBrowser) this.listenForUnload();
    if (this.consent === 'granted') await this.openQueue();
    const queued = this.pending;
    this.pending = [];
    for (const call of queued) call();
    this.scheduleSend();
    return this;
  }

  // ---- public API ----

  /** Tracks an action. Returns the event id, or undefined when dropped (see the 'error' event). */
  track(name: string, properties?: Record<string, unknown>, options?: TrackOptions): string | undefined {
    if (!this.core) return this.defer(() => this.track(name, properties, withTime(options)));
    if (this.consent !== 'granted') return undefined;
    if (typeof name !== 'string' || !name) return this.fail('invalid_argument', 'name: must be a non-empty string');
    return this.enqueue('track', name, properties, options);
  }

  /** Records a page view (properties default to the current URL, path, title and referrer). */
  page(properties?: Record<string, unknown>, options?: TrackOptions): string | undefined {
    if (!this.core) return this.defer(() => this.page(properties, withTime(options)));
    if (this.consent !== 'granted') return undefined;
    this.refreshContext();
    const props = inBrowser
      ? { url: location.href, path: location.pathname, title: document.title, referrer: document.referrer, ...properties }
      : properties;
    return this.enqueue('page', 'Page Viewed', props, options);
  }

  /** Ties later events to a known user, with optional traits. */
  identify(userId: string, traits?: Record<string, unknown>, options?: TrackOptions): string | undefined {
    if (!this.core) return this.defer(() => this.identify(userId, traits, withTime(options)));
    if (typeof userId !== 'string' || !userId) return this.fail('invalid_argument', 'userId: must be a non-empty string');
    this.userId = userId;
    if (this.consent === 'granted') safeSet('tally.uid', userId);
    this.rebuildIdJson();
    if (this.consent !== 'granted') return undefined;
    return this.enqueue('identify', 'Identify', traits, options);
  }

  /** Forgets the user: new anonymous id, no user id, new session. */
  reset(): void {
    if (!this.core) return void this.defer(() => this.reset());
    this.userId = '';
    safeSet('tally.uid', null);
    this.anonymousId = '';
    this.writeAnonymousId('');
    this.loadIdentity();
    this.sessionId = '';
    this.lastActivity = 0;
  }

  /** Sends everything queued now; resolves when the queue is empty or the collector asked to wait. */
  flush(): Promise<FlushResult> {
    if (!this.core) return new Promise((r) => this.defer(() => void this.flush().then(r)));
    this.deliveredSinceFlush = 0;
    this.drainAll();
    return new Promise<void>((r) => {
      this.flushWaiters.push(r);
      this.retryAt = Math.min(this.retryAt, Date.now());
      void this.pump(true);
    }).then(() => ({ delivered: this.deliveredSinceFlush, queued: this.core!.queuedEvents() }));
  }

  /** Stops tracking for this browser (persisted) and deletes the queued events. */
  optOut(): void {
    if (!this.core) return void this.defer(() => this.optOut());
    this.consent = 'denied';
    safeSet('tally.consent', 'denied');
    this.backlog = [];
    this.core.ack(this.core.queuedEvents());
    void this.store?.clear();
  }

  /** Grants consent (consent-required mode) or undoes optOut(); persisted. */
  optIn(): void {
    if (!this.core) return void this.defer(() => this.optIn());
    this.consent = 'granted';
    safeSet('tally.consent', 'granted');
    this.loadIdentity();
    if (!this.store) void this.openQueue();
  }

  /** Subscribes to 'delivered', 'dropped' or 'error'; returns an unsubscribe function. */
  on<K extends keyof TallyEvents>(event: K, handler: (payload: TallyEvents[K]) => void): () => void {
    const list = (this.listeners[event] ??= []) as Array<(p: TallyEvents[K]) => void>;
    list.push(handler);
    return () => list.splice(list.indexOf(handler) >>> 0, 1);
  }

  /** Events waiting to be delivered. */
  queued(): number {
    return this.core ? this.core.queuedEvents() + this.backlog.length : this.pending.length;
  }

  /** Bytes of linear memory held by the core module (outside the JS heap). */
  coreMemoryBytes(): number {
    return this.core ? this.core.memoryBytes() : 0;
  }

  /** The current anonymous, user and session ids. */
  ids(): { anonymousId: string; userId?: string; sessionId: string } {
    return { anonymousId: this.anonymousId, userId: this.userId || undefined, sessionId: this.sessionId };
  }

  // ---- the call path ----

  private enqueue(
    type: 'track' | 'page' | 'identify',
    name: string,
    properties: Record<string, unknown> | undefined,
    options: TrackOptions | undefined,
  ): string | undefined {
    const now = Date.now();
    if (now - this.lastActivity > (this.options.sessionTimeoutMs ?? 30 * 60 * 1000) || !this.sessionId) {
      this.sessionId = randomHex(16);
      this.rebuildIdJson();
    }
    this.lastActivity = now;
    this.sessionDirty = true;
    // The id and created_at are fixed here, at the call; the core's work (validate, dedup, queue,
    // encode: tens of µs in Wasm) runs just after, off the call path, in time slices (lesson 9).
    const id = this.newId(now);
    const createdAt = options?.createdAt !== undefined ? +options.createdAt : now;
    if (!isFinite(createdAt)) return this.fail('invalid_argument', 'createdAt: must be a finite number');
    let json: string;
    let bad: string | undefined;
    try {
      if (this.options.beforeSend || options?.context) {
        let ev: TallyEvent | null = {
          type,
          name,
          properties: properties ?? {},
          context: { ...JSON.parse(this.ctxJson), ...options?.context },
          anonymous_id: this.anonymousId,
          session_id: this.sessionId,
          ...(this.userId ? { user_id: this.userId } : {}),
          created_at: createdAt,
          event_id: id,
        };
        if (this.options.beforeSend) ev = this.options.beforeSend(ev);
        if (!ev) return undefined;
        json = JSON.stringify(ev);
        bad = nonFinite(ev, json, '');
      } else {
        const props = properties ? JSON.stringify(properties) : '';
        bad = props && nonFinite(properties, props, 'properties');
        json =
          '{"event_id":"' + id + '","created_at":' + createdAt + ',"type":"' + type + '","name":' + JSON.stringify(name) +
          (props && ',"properties":' + props) + ',"context":' + this.ctxJson + this.idJson + '}';
      }
    } catch (e) {
      // JSON.stringify throws on cycles and BigInt.
      return this.fail('invalid_argument', `properties: ${(e as Error).message}`);
    }
    if (bad) return this.fail('invalid_argument', `${bad}: must be a finite number`);
    this.backlog.push(json);
    if (!this.drainTimer) this.drainTimer = setTimeout(() => this.drain(8), 0);
    return id;
  }

  // Hands tracked events to the core: at most `sliceMs` of work, then yields to the page.
  private drain(sliceMs: number): void {
    this.drainTimer = undefined;
    const end = performance.now() + sliceMs;
    let i = 0;
    for (; i < this.backlog.length; i++) {
      const json = this.backlog[i]!;
      try {
        const { id, encoded } = this.core!.track(json);
        this.store?.put(id, encoded);
      } catch (e) {
        const err = e instanceof TallyError ? e : new TallyError('internal', String(e));
        const id = (JSON.parse(json) as { event_id: string }).event_id;
        this.emit('dropped', { ids: [id], reason: err.message });
        this.emit('error', err);
      }
      if ((i & 15) === 15 && performance.now() > end) {
        i++;
        break;
      }
    }
    this.backlog.splice(0, i);
    if (this.backlog.length) this.drainTimer = setTimeout(() => this.drain(sliceMs), 0);
    this.scheduleSend();
  }

  // UUIDv7 (RFC 9562): 48-bit ms time, version 7, a 12-bit counter that keeps ids made in the
  // same ms in call order (the queue is restored in id order), variant, 62 random bits.
  private newId(now: number): string {
    if (now <= this.idMs) {
      if (++this.idSeq > 0xfff) {
        this.idMs++;
        this.idSeq = 0;
      }
    } else {
      this.idMs = now;
      this.idSeq = this.randByte() << 3; // random start, room to count up
    }
    const t = (this.idMs + 0x1000000000000).toString(16).slice(1);
    let r = '';
    for (let i = 0; i < 8; i++) r += (this.randByte() + 256).toString(16).slice(1);
    return (
      t.slice(0, 8) + '-' + t.slice(8) + '-7' + (this.idSeq + 0x1000).toString(16).slice(1) + '-' +
      ((this.randByte() & 0x3f) | 0x80).toString(16) + r.slice(0, 2) + '-' + r.slice(2, 14)
    );
  }

  private randByte(): number {
    if (this.randPos >= this.rand.length) {
      this.rand = crypto.getRandomValues(new Uint8Array(4096));
      this.randPos = 0;
    }
    return this.rand[this.randPos++]!;
  }

  /** Runs the core's work for every tracked event now (flush, page unload). */
  private drainAll(): void {
    if (this.drainTimer) clearTimeout(this.drainTimer);
    if (this.backlog.length) this.drain(Infinity);
  }

  private defer(call: () => void): undefined {
    if (this.pending.length < 1000) this.pending.push(call);
    return undefined;
  }

  private fail(code: 'invalid_argument', message: string): undefined {
    this.emit('error', new TallyError(code, message));
    return undefined;
  }

  private emit<K extends keyof TallyEvents>(event: K, payload: TallyEvents[K]): void {
    for (const h of (this.listeners[event] ?? []) as Array<(p: TallyEvents[K]) => void>) {
      try {
        h(payload);
      } catch {
        /* a listener's bug must not stop delivery */
      }
    }
  }

  // ---- identity, consent, context ----

  private loadConsent(): void {
    const saved = safeGet('tally.consent');
    const dnt =
      this.options.honorDoNotTrack &&
      typeof navigator === 'object' &&
      (navigator.doNotTrack === '1' || (navigator as { globalPrivacyControl?: boolean }).globalPrivacyControl === true);
    if (saved === 'denied') this.consent = 'denied';
    else if (saved === 'granted') this.consent = 'granted';
    else if (dnt) this.consent = 'denied';
    else this.consent = this.options.consent === 'required' ? 'unknown' : 'granted';
  }

  private loadIdentity(): void {
    const mode = this.options.identity ?? 'localStorage';
    const storable = this.consent === 'granted' && mode !== 'memory';
    if (!this.anonymousId && storable) {
      this.anonymousId = (mode === 'cookie' && inBrowser ? readCookie('tally_aid') : safeGet('tally.aid')) || '';
      this.userId = this.userId || safeGet('tally.uid') || '';
      const s = safeGet('tally.session');
      if (s) {
        const [id, at] = s.split('|');
        this.sessionId = id || '';
        this.lastActivity = Number(at) || 0;
      }
    }
    if (!this.anonymousId) {
      this.anonymousId = randomHex(16);
      if (storable) this.writeAnonymousId(this.anonymousId);
    }
    this.rebuildIdJson();
  }

  private writeAnonymousId(id: string): void {
    if (this.options.identity === 'cookie' && inBrowser) {
      document.cookie = `tally_aid=${id};path=/;max-age=${id ? 31536000 : 0};samesite=lax`;
    } else if (this.options.identity !== 'memory') safeSet('tally.aid', id || null);
  }

  private rebuildIdJson(): void {
    this.idJson =
      ',"anonymous_id":' + JSON.stringify(this.anonymousId) +
      (this.sessionId ? ',"session_id":' + JSON.stringify(this.sessionId) : '') +
      (this.userId ? ',"user_id":' + JSON.stringify(this.userId) : '');
  }

  /** Re-reads the page context (on page views and history changes, never per track()). */
  refreshContext(): void {
    const ctx: Record<string, unknown> = { library: { name: 'tally-sdk', version: kVersion }, ...this.options.context };
    if (inBrowser) {
      ctx.page = { url: location.href, path: location.pathname, title: document.title, referrer: document.referrer };
      ctx.user_agent = navigator.userAgent;
    }
    this.ctxJson = JSON.stringify(ctx);
  }

  // ---- persistence ----

  private async openQueue(): Promise<void> {
    if (this.store) return;
    const store = await openStore(this.options.storage ?? 'auto', 'tally-' + this.options.writeKey);
    this.store = store;
    this.storageKind = store.kind;
    await holdTabLock(this.tab);
    try {
      const lines = await store.adopt(this.tab, (late) => {
        // A tab that was open when this one started has closed: its events are ours now.
        if (this.consent !== 'granted') return;
        try {
          this.core!.restore(late.join('\n'));
        } catch (e) {
          this.emit('error', e instanceof TallyError ? e : new TallyError('storage', String(e)));
        }
        this.scheduleSend();
      });
      this.core!.restore(lines.join('\n'));
      // Events tracked while the queue was opening are written now.
      const snap = this.core!.snapshot();
      if (snap) {
        const enc = new TextEncoder();
        for (const line of snap.split('\n')) store.put((JSON.parse(line) as { event_id: string }).event_id, enc.encode(line));
      }
    } catch (e) {
      this.emit('error', e instanceof TallyError ? e : new TallyError('storage', String(e)));
    }
    this.scheduleSend();
  }

  private saveSession(): void {
    if (this.sessionDirty && this.consent === 'granted' && this.options.identity !== 'memory') {
      this.sessionDirty = false;
      safeSet('tally.session', this.sessionId + '|' + this.lastActivity);
    }
  }

  // ---- transport ----

  private scheduleSend(): void {
    const core = this.core;
    if (!core || this.sending || this.consent !== 'granted') return;
    const wait = Math.max(this.retrying || core.batchDue() ? 0 : core.msUntilDue(), this.retryAt - Date.now());
    if (core.queuedEvents() === 0 || wait < 0) return;
    if (this.sendTimer !== undefined) {
      if (wait > 0) return; // a timer is already set for the oldest event's age
      clearTimeout(this.sendTimer);
    }
    this.sendTimer = setTimeout(() => {
      this.sendTimer = undefined;
      void this.pump(false);
    }, wait);
    // In Node a pending batch must not keep the process alive; servers call flush() before exit.
    (this.sendTimer as { unref?: () => void }).unref?.();
  }

  private async pump(force: boolean): Promise<void> {
    if (this.sending) return;
    this.sending = true;
    this.saveSession();
    const core = this.core!;
    try {
      while (this.consent === 'granted' && core.queuedEvents() > 0 && Date.now() >= this.retryAt) {
        if (!force && !this.retrying && !core.batchDue()) break;
        if (!(await this.sendOne())) break;
      }
    } finally {
      this.sending = false;
      if (this.store) await this.store.flush();
      if (core.queuedEvents() === 0 || Date.now() < this.retryAt || this.consent !== 'granted') {
        const waiters = this.flushWaiters;
        this.flushWaiters = [];
        for (const w of waiters) w();
      }
      this.scheduleSend();
    }
  }

  // One POST of the next batch. Returns false when the queue must wait (backoff).
  private async sendOne(): Promise<boolean> {
    const core = this.core!;
    const { count, body } = core.nextBatch(0);
    if (!count) return false;
    const ids = idsOf(body);
    const sentAt = Date.now();
    let res: Response;
    try {
      res = await fetch(this.options.endpoint.replace(/\/$/, '') + '/v1/batch', {
        method: 'POST',
        headers: { 'Content-Type': 'text/plain;charset=UTF-8' }, // a simple request: no CORS preflight
        body,
        credentials: 'omit',
        keepalive: body.length < kBeaconBytes,
      });
    } catch (e) {
      return this.backoff(0, new TallyError('transport', `network: ${(e as Error).message}`));
    }
    const text = await res.text().catch(() => '');
    let answer: { rejected?: Array<{ index: number; event_id?: string; error: string }>; server_time?: number; error?: string } = {};
    try {
      answer = JSON.parse(text);
    } catch {
      /* non-JSON answer: status decides */
    }
    if (res.ok) {
      if (typeof answer.server_time === 'number') core.onServerTime(sentAt, Date.now(), answer.server_time);
      this.settle(count, ids);
      const rejected = answer.rejected ?? [];
      const bad = new Set(rejected.map((r) => r.index));
      const delivered = ids.filter((_, i) => !bad.has(i));
      this.deliveredSinceFlush += delivered.length;
      if (delivered.length) this.emit('delivered', { ids: delivered });
      for (const r of rejected) {
        const id = r.event_id ?? ids[r.index] ?? '';
        this.emit('dropped', { ids: [id], reason: r.error });
        this.emit('error', new TallyError('dropped', `events[${r.index}]: ${r.error}`));
      }
      this.attempts = 0;
      this.retrying = false;
      return true;
    }
    const why = `collector answered ${res.status}${answer.error ? ': ' + answer.error : ''}`;
    if (res.status === 429 || res.status >= 500) {
      const ra = Number(res.headers.get('Retry-After'));
      return this.backoff(Number.isFinite(ra) ? ra * 1000 : 0, new TallyError('transport', why));
    }
    // 400/401/403/413 and other refusals: retrying cannot help.
    this.settle(count, ids);
    this.emit('dropped', { ids, reason: why });
    this.emit('error', new TallyError('dropped', why));
    this.attempts = 0;
    this.retrying = false;
    return true;
  }

  private settle(count: number, ids: string[]): void {
    this.core!.ack(count);
    this.store?.remove(ids);
    for (const id of ids) this.beaconed.delete(id);
  }

  private backoff(retryAfterMs: number, err: TallyError): boolean {
    const base = this.options.retry?.baseMs ?? 1000;
    const cap = this.options.retry?.capMs ?? 60000;
    const jitter = Math.random() * Math.min(cap, base * 2 ** this.attempts++);
    this.retryAt = Date.now() + Math.max(jitter, Math.min(retryAfterMs, cap * 10));
    this.retrying = true;
    this.emit('error', err);
    return false;
  }

  // ---- page unload ----

  private listenForUnload(): void {
    const onHide = () => this.sendOnUnload();
    addEventListener('pagehide', onHide);
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'hidden') onHide();
    });
    addEventListener('online', () => {
      this.retryAt = 0;
      this.scheduleSend();
    });
  }

  // A beacon's answer is never seen, so the events it carries stay queued and persisted until a
  // later fetch (this page's, once visible again, or the page that adopts this tab's queue)
  // confirms them; the collector deduplicates on event_id, so the second send is safe. A tab
  // closed while the collector answers 503 therefore loses nothing.
  private sendOnUnload(): void {
    const core = this.core;
    this.saveSession();
    // Not offline, nor while the collector asked to wait (Retry-After, backoff).
    if (core && this.consent === 'granted' && navigator.onLine !== false && Date.now() >= this.retryAt) {
      this.drainAll();
      this.beacon(core);
    }
    void this.store?.flush();
  }

  // Sends the queued events not yet handed to a beacon, in bodies under 60 KB and under the 64 KB
  // keepalive budget in all. Built here from the core's encoded events (the batch grammar of
  // sdk/src/codec.cc) because the core builds batches only from the head of its queue, and these
  // events must stay queued.
  private beacon(core: Core): void {
    const url = this.options.endpoint.replace(/\/$/, '') + '/v1/batch';
    const off = core.clockOffset();
    const head =
      '{"write_key":' + JSON.stringify(this.options.writeKey) + ',"sent_at":' + Date.now() +
      (off === undefined ? '' : ',"clock_offset_ms":' + Math.round(off)) + ',"events":[';
    let budget = 63 * 1024;
    let events: string[] = [];
    let ids: string[] = [];
    let bytes = 0;
    const send = (): boolean => {
      if (!events.length) return true;
      const body = head + events.join(',') + ']}';
      if (!navigator.sendBeacon(url, body)) return false;
      for (const id of ids) this.beaconed.add(id);
      budget -= bytes;
      events = [];
      ids = [];
      bytes = head.length + 2;
      return true;
    };
    bytes = head.length + 2;
    for (const line of core.snapshot().split('\n')) {
      const id = line.slice(13, 49); // every encoded event starts {"event_id":"<36 chars>"
      if (!line || this.beaconed.has(id)) continue;
      const n = encoder.encode(line).length + 1;
      if (bytes + n > Math.min(kBeaconBytes, budget) && !send()) return;
      if (bytes + n > Math.min(kBeaconBytes, budget)) continue; // alone too big: the next page sends it
      events.push(line);
      ids.push(id);
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
