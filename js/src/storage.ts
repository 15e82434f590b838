// The persistent queue: every queued event is one record keyed by its event id, written
// incrementally off the call path (never the whole queue per call, DESIGN.md lesson 9) to
// IndexedDB, else localStorage, else memory. Records carry the tab that owns them; a tab adopts
// another tab's records only while holding that tab's Web Lock, i.e. once that tab is gone, so
// no event is sent by two tabs (lesson 5).

/** Which backend holds the queue. */
export type StorageKind = 'indexeddb' | 'localstorage' | 'memory';

interface Rec {
  id: string;
  tab: string;
  line: string;
}

/** Queue persistence as seen by the tracker. */
export interface QueueStore {
  readonly kind: StorageKind;
  /** Writes that failed (quota, private mode, ...); never thrown into the page. */
  failures: number;
  /** Returns this tab's and orphaned tabs' records, oldest first, and takes ownership of them;
   *  records of tabs still open are handed to `late` when those tabs close. */
  adopt(tab: string, late: (lines: string[]) => void): Promise<string[]>;
  /** Buffers one event for writing at the next flush. */
  put(id: string, encoded: Uint8Array): void;
  /** Buffers the removal of delivered or dropped events. */
  remove(ids: string[]): void;
  /** Writes what is buffered now; resolves when it is durable (or failed and was counted). */
  flush(): Promise<void>;
  /** Deletes every record of this tab (opt-out, reset of consent). */
  clear(): Promise<void>;
}

const decoder = new TextDecoder();
const kLockPrefix = 'tally.tab.';
const kKeyPrefix = 'tally.q.';

function locks(): LockManager | undefined {
  return typeof navigator === 'object' ? (navigator as Navigator).locks : undefined;
}

/** Holds this tab's lock for the page's lifetime, so other tabs know it is alive. */
export function holdTabLock(tab: string): Promise<void> {
  const l = locks();
  if (!l) return Promise.resolve();
  return new Promise((granted) => {
    l.request(kLockPrefix + tab, () => {
      granted();
      return new Promise<void>(() => {});
    }).catch(() => granted());
  });
}

// Runs `fn` for each other tab's records once that tab no longer holds its lock: at once for
// tabs already gone, later (through a waiting lock request) for tabs still open. Tabs that start
// after this one announce themselves on a BroadcastChannel, so a page that stays open also
// adopts the queue of a younger tab that closes first.
async function forOrphans(
  name: string,
  tab: string,
  owners: Set<string>,
  fn: (owner: string) => Promise<void>,
  later: (owner: string) => Promise<void>,
) {
  const l = locks();
  if (l && typeof BroadcastChannel === 'function') {
    const ch = new BroadcastChannel(name);
    ch.onmessage = (e) => void l.request(kLockPrefix + e.data, () => later(e.data as string)).catch(() => {});
    ch.postMessage(tab);
  }
  for (const owner of owners) {
    if (owner === tab) continue;
    if (!l) {
      await fn(owner); // no Web Locks: one tab at a time is assumed
      continue;
    }
    let gone = false;
    await l.request(kLockPrefix + owner, { ifAvailable: true }, async (lock) => {
      gone = !!lock;
      if (lock) await fn(owner);
    });
    if (!gone) void l.request(kLockPrefix + owner, () => later(owner)).catch(() => {});
  }
}

abstract class Buffered implements QueueStore {
  abstract readonly kind: StorageKind;
  failures = 0;
  protected tab = '';
  protected puts = new Map<string, Uint8Array>();
  protected dels = new Set<string>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running: Promise<void> = Promise.resolve();

  abstract adopt(tab: string, late: (lines: string[]) => void): Promise<string[]>;
  abstract clear(): Promise<void>;
  protected abstract write(puts: Rec[], dels: string[]): Promise<void>;

  put(id: string, encoded: Uint8Array): void {
    this.puts.set(id, encoded);
    this.schedule();
  }

  remove(ids: string[]): void {
    for (const id of ids) {
      if (!this.puts.delete(id)) this.dels.add(id);
    }
    this.schedule();
  }

  flush(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.puts.size && !this.dels.size) return this.running;
    const puts: Rec[] = [];
    for (const [id, enc] of this.puts) puts.push({ id, tab: this.tab, line: decoder.decode(enc) });
    const dels = [...this.dels];
    this.puts.clear();
    this.dels.clear();
    this.running = this.running.then(() =>
      this.write(puts, dels).catch(() => {
        this.failures++;
      }),
    );
    return this.running;
  }

  private schedule(): void {
    if (this.timer === undefined) this.timer = setTimeout(() => void this.flush(), 0);
  }
}

function sorted(recs: Rec[]): string[] {
  // UUIDv7 ids sort by creation time.
  return recs.sort((a, b) => (a.id < b.id ? -1 : 1)).map((r) => r.line);
}

class MemoryStore extends Buffered {
  readonly kind = 'memory' as const;
  async adopt(tab: string): Promise<string[]> {
    this.tab = tab;
    return [];
  }
  async clear(): Promise<void> {
    this.puts.clear();
    this.dels.clear();
  }
  protected async write(): Promise<void> {}
}

class LocalStore extends Buffered {
  readonly kind = 'localstorage' as const;
  constructor(
    private readonly ls: Storage,
    private readonly name: string,
  ) {
    super();
  }
  private all(): Rec[] {
    const out: Rec[] = [];
    for (let i = 0; i < this.ls.length; i++) {
      const k = this.ls.key(i);
      if (!k || !k.startsWith(kKeyPrefix)) continue;
      const v = this.ls.getItem(k) || '';
      const bar = v.indexOf('|');
      out.push({ id: k.slice(kKeyPrefix.length), tab: v.slice(0, bar), line: v.slice(bar + 1) });
    }
    return out;
  }
  async adopt(tab: string, late: (lines: string[]) => void): Promise<string[]> {
    this.tab = tab;
    const recs = this.all();
    const mine = recs.filter((r) => r.tab === tab);
    const take = (owner: string, into: Rec[]) => {
      for (const r of this.all()) {
        if (r.tab !== owner) continue;
        this.set(r.id, tab, r.line);
        into.push(r);
      }
    };
    await forOrphans(
      this.name,
      tab,
      new Set(recs.map((r) => r.tab)),
      async (owner) => take(owner, mine),
      async (owner) => {
        const got: Rec[] = [];
        take(owner, got);
        if (got.length) late(sorted(got));
      },
    );
    return sorted(mine);
  }
  async clear(): Promise<void> {
    for (const r of this.all()) if (r.tab === this.tab) this.ls.removeItem(kKeyPrefix + r.id);
  }
  private set(id: string, tab: string, line: string): void {
    try {
      this.ls.setItem(kKeyPrefix + id, tab + '|' + line);
    } catch {
      this.failures++; // QuotaExceededError: the event stays queued in memory
    }
  }
  protected async write(puts: Rec[], dels: string[]): Promise<void> {
    for (const id of dels) this.ls.removeItem(kKeyPrefix + id);
    for (const r of puts) this.set(r.id, r.tab, r.line);
  }
}

function req<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = tx.onerror = () => reject(tx.error);
  });
}

class IdbStore extends Buffered {
  readonly kind = 'indexeddb' as const;
  constructor(
    private readonly db: IDBDatabase,
    private readonly name: string,
  ) {
    super();
    // Site data cleared while the page is open: let the deletion through; later writes fail and
    // are counted, and the events stay queued in memory.
    db.onversionchange = () => db.close();
  }
  static async open(name: string): Promise<IdbStore> {
    const r = indexedDB.open(name, 1);
    r.onupgradeneeded = () => r.result.createObjectStore('events', { keyPath: 'id' });
    return new IdbStore(await req(r), name);
  }
  private async all(): Promise<Rec[]> {
    return req(this.db.transaction('events').objectStore('events').getAll()) as Promise<Rec[]>;
  }
  async adopt(tab: string, late: (lines: string[]) => void): Promise<string[]> {
    this.tab = tab;
    const recs = await this.all();
    const mine = recs.filter((r) => r.tab === tab);
    const take = async (owner: string, into: Rec[]) => {
      const tx = this.db.transaction('events', 'readwrite');
      const os = tx.objectStore('events');
      for (const r of (await req(os.getAll())) as Rec[]) {
        if (r.tab !== owner) continue;
        os.put({ id: r.id, tab, line: r.line });
        into.push(r);
      }
      await done(tx);
    };
    await forOrphans(
      this.name,
      tab,
      new Set(recs.map((r) => r.tab)),
      (owner) => take(owner, mine),
      async (owner) => {
        const got: Rec[] = [];
        await take(owner, got).catch(() => this.failures++);
        if (got.length) late(sorted(got));
      },
    );
    return sorted(mine);
  }
  async clear(): Promise<void> {
    const ids = (await this.all()).filter((r) => r.tab === this.tab).map((r) => r.id);
    await this.write([], ids).catch(() => this.failures++);
  }
  protected async write(puts: Rec[], dels: string[]): Promise<void> {
    const tx = this.db.transaction('events', 'readwrite');
    const os = tx.objectStore('events');
    for (const id of dels) os.delete(id);
    for (const r of puts) os.put(r);
    await done(tx);
  }
}

/** Opens the best available store: IndexedDB, then localStorage, then memory. */
export async function openStore(preferred: StorageKind | 'auto', name: string): Promise<QueueStore> {
  if ((preferred === 'auto' || preferred === 'indexeddb') && typeof indexedDB === 'object') {
    try {
      return await IdbStore.open(name);
    } catch {
      /* private mode or blocked: fall through */
    }
  }
  if (preferred !== 'memory') {
    try {
      const ls = globalThis.localStorage;
      if (ls) {
        ls.getItem(kKeyPrefix); // throws when storage is disabled
        return new LocalStore(ls, name);
      }
    } catch {
      /* disabled: memory */
    }
  }
  return new MemoryStore();
}
