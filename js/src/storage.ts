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
  /** Page unload: makes the writes not yet known to be durable survive the page synchronously. */
  journal(): void;
}

const decoder = new TextDecoder();
const kLockPrefix = 'tally.tab.';
const kKeyPrefix = 'tally.q.';
const kJournalPrefix = 'tally.j.';

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

// The memory store, and the write buffering and tab adoption the persistent stores share.
class MemoryStore implements QueueStore {
  kind: StorageKind = 'memory';
  failures = 0;
  protected tab_ = '';
  protected name_ = '';
  protected puts_ = new Map<string, Uint8Array>();
  protected dels_ = new Set<string>();
  private timer_: ReturnType<typeof setTimeout> | undefined;
  private running_: Promise<void> = Promise.resolve();

  // Every tab's records; moving one owner's records to this tab (returning them); writing.
  protected async all_(): Promise<Rec[]> {
    return [];
  }
  protected async take_(_owner: string): Promise<Rec[]> {
    return [];
  }
  protected async write_(_puts: Rec[], _dels: string[]): Promise<void> {}

  async adopt(tab: string, late: (lines: string[]) => void): Promise<string[]> {
    this.tab_ = tab;
    if (!this.name_) return [];
    const recs = await this.all_();
    const mine = recs.filter((r) => r.tab === tab);
    await forOrphans(
      this.name_,
      tab,
      new Set(recs.map((r) => r.tab)),
      async (owner) => void mine.push(...(await this.take_(owner))),
      async (owner) => {
        const got = await this.take_(owner).catch(() => (this.failures++, []));
        if (got.length) late(sorted(got));
      },
    );
    return sorted(mine);
  }

  async clear(): Promise<void> {
    this.puts_.clear();
    const ids = (await this.all_()).filter((r) => r.tab === this.tab_).map((r) => r.id);
    await this.write_([], ids).catch(() => this.failures++);
  }

  journal(): void {}

  put(id: string, encoded: Uint8Array): void {
    this.puts_.set(id, encoded);
    this.schedule_();
  }

  remove(ids: string[]): void {
    for (const id of ids) {
      if (!this.puts_.delete(id)) this.dels_.add(id);
    }
    this.schedule_();
  }

  flush(): Promise<void> {
    if (this.timer_ !== undefined) clearTimeout(this.timer_);
    this.timer_ = undefined;
    if (!this.puts_.size && !this.dels_.size) return this.running_;
    const puts = this.pending_();
    const dels = [...this.dels_];
    this.puts_.clear();
    this.dels_.clear();
    this.running_ = this.running_.then(() =>
      this.write_(puts, dels).then(
        () => this.written_(puts),
        () => {
          this.failures++;
        },
      ),
    );
    return this.running_;
  }

  // The records of `puts` are durable.
  protected written_(_puts: Rec[]): void {}

  // The buffered writes, as records (for a synchronous write at unload).
  protected pending_(): Rec[] {
    const out: Rec[] = [];
    for (const [id, enc] of this.puts_) out.push({ id, tab: this.tab_, line: decoder.decode(enc) });
    return out;
  }

  private schedule_(): void {
    if (this.timer_ === undefined) this.timer_ = setTimeout(() => void this.flush(), 0);
  }
}

function sorted(recs: Rec[]): string[] {
  // UUIDv7 ids sort by creation time.
  return recs.sort((a, b) => (a.id < b.id ? -1 : 1)).map((r) => r.line);
}

class LocalStore extends MemoryStore {
  constructor(
    private readonly ls_: Storage,
    name: string,
  ) {
    super();
    this.kind = 'localstorage';
    this.name_ = name;
  }
  protected override async all_(): Promise<Rec[]> {
    const out: Rec[] = [];
    for (let i = 0; i < this.ls_.length; i++) {
      const k = this.ls_.key(i);
      if (!k || !k.startsWith(kKeyPrefix)) continue;
      const v = this.ls_.getItem(k) || '';
      const bar = v.indexOf('|');
      out.push({ id: k.slice(kKeyPrefix.length), tab: v.slice(0, bar), line: v.slice(bar + 1) });
    }
    return out;
  }
  protected override async take_(owner: string): Promise<Rec[]> {
    const got = (await this.all_()).filter((r) => r.tab === owner);
    for (const r of got) this.set_(r.id, this.tab_, r.line);
    return got;
  }
  private set_(id: string, tab: string, line: string): void {
    try {
      this.ls_.setItem(kKeyPrefix + id, tab + '|' + line);
    } catch {
      this.failures++; // QuotaExceededError: the event stays queued in memory
    }
  }
  protected override async write_(puts: Rec[], dels: string[]): Promise<void> {
    this.writeNow_(puts, dels);
  }
  private writeNow_(puts: Rec[], dels: string[]): void {
    for (const id of dels) this.ls_.removeItem(kKeyPrefix + id);
    for (const r of puts) this.set_(r.id, r.tab, r.line);
  }
  // localStorage is synchronous: write the buffer now rather than after the handler returns.
  override journal(): void {
    this.writeNow_(this.pending_(), []);
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

class IdbStore extends MemoryStore {
  constructor(
    private readonly db_: IDBDatabase,
    name: string,
  ) {
    super();
    this.kind = 'indexeddb';
    this.name_ = name;
    // Site data cleared while the page is open: let the deletion through; later writes fail and
    // are counted, and the events stay queued in memory.
    db_.onversionchange = () => db_.close();
  }
  // Records handed to IndexedDB whose transaction has not completed. Chromium aborts the
  // transactions of a page that is closing, so at unload these (and the buffered writes) are also
  // written to localStorage, synchronously: the journal, read back by the next page's adopt().
  private unsure_ = new Map<string, Rec>();
  private journaled_ = false;

  override journal(): void {
    const recs = [...this.unsure_.values(), ...this.pending_()];
    if (!recs.length) return;
    try {
      localStorage.setItem(this.journalKey_(), recs.map((r) => r.line).join('\n'));
      this.journaled_ = true;
    } catch {
      this.failures++; // no localStorage or no room: IndexedDB alone, as before
    }
  }

  private journalKey_(): string {
    return kJournalPrefix + this.name_ + '.' + this.tab_;
  }

  protected override written_(puts: Rec[]): void {
    for (const r of puts) this.unsure_.delete(r.id);
    if (this.journaled_ && !this.unsure_.size && !this.puts_.size) {
      // The page lived on (it was only hidden): IndexedDB holds it all, the journal is stale.
      this.journaled_ = false;
      try {
        localStorage.removeItem(this.journalKey_());
      } catch {
        /* nothing to undo */
      }
    }
  }

  // Moves the journals of closed pages (and of this tab's previous life) into IndexedDB under
  // their owner tab, then deletes them; adoption then treats them like any stored record. An
  // event already delivered by a page that lived on may come back this way: it is sent again and
  // the collector counts it as a duplicate, never twice.
  private async importJournals_(): Promise<void> {
    let ls: Storage;
    try {
      ls = localStorage;
    } catch {
      return;
    }
    const prefix = kJournalPrefix + this.name_ + '.';
    const keys: string[] = [];
    for (let i = 0; i < ls.length; i++) {
      const k = ls.key(i);
      if (k && k.startsWith(prefix)) keys.push(k);
    }
    for (const k of keys) {
      const tab = k.slice(prefix.length);
      const puts = (ls.getItem(k) || '')
        .split('\n')
        .filter((line) => line.startsWith('{"event_id":"'))
        .map((line) => ({ id: line.slice(13, 49), tab, line }));
      await this.write_(puts, []);
      for (const r of puts) this.unsure_.delete(r.id); // another tab's records, now durable
      ls.removeItem(k);
    }
  }

  override remove(ids: string[]): void {
    for (const id of ids) this.unsure_.delete(id);
    super.remove(ids);
  }

  override async adopt(tab: string, late: (lines: string[]) => void): Promise<string[]> {
    await this.importJournals_().catch(() => this.failures++);
    return super.adopt(tab, late);
  }

  static async open(name: string): Promise<IdbStore> {
    const r = indexedDB.open(name, 1);
    r.onupgradeneeded = () => r.result.createObjectStore('events', { keyPath: 'id' });
    return new IdbStore(await req(r), name);
  }
  protected override async all_(): Promise<Rec[]> {
    return req(this.db_.transaction('events').objectStore('events').getAll()) as Promise<Rec[]>;
  }
  // One readwrite transaction: two tabs taking the same owner's records cannot both get them.
  protected override async take_(owner: string): Promise<Rec[]> {
    const tx = this.db_.transaction('events', 'readwrite');
    const os = tx.objectStore('events');
    const got = ((await req(os.getAll())) as Rec[]).filter((r) => r.tab === owner);
    for (const r of got) os.put({ id: r.id, tab: this.tab_, line: r.line });
    await done(tx);
    return got;
  }
  protected override async write_(puts: Rec[], dels: string[]): Promise<void> {
    const tx = this.db_.transaction('events', 'readwrite');
    const os = tx.objectStore('events');
    for (const id of dels) os.delete(id);
    for (const r of puts) {
      os.put(r);
      this.unsure_.set(r.id, r);
    }
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
