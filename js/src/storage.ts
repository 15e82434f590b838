// The persistent queue: every queued event is one record keyed by its event id, written
// incrementally off the call path (never the whole queue per call, DESIGN.md lesson 9) to
// IndexedDB, else localStorage, else memory. Records carry the tab that owns them; a tab adopts
// another tab's records only while holding that tab's Web Lock, i.e. once that tab is gone, so
// no event is sent by two tabs (lesson 5). One QueueStore class does the buffering, adoption and
// unload journal for every backend; a backend only lists and writes records.

/** Which backend holds the queue. */
export type StorageKind = 'indexeddb' | 'localstorage' | 'memory';

interface Rec {
  id: string;
  tab: string;
  line: string;
}

// Where records live: every tab's records; writing puts and deletions (resolves once durable).
interface Backend {
  all(): Promise<Rec[]>;
  write(puts: Rec[], dels: string[]): Promise<void>;
}

const kLockPrefix = 'tally.tab.';
const kKeyPrefix = 'tally.q.';
const kJournalPrefix = 'tally.j.';

function sorted(recs: Rec[]): string[] {
  // UUIDv7 ids sort by creation time.
  return recs.sort((a, b) => (a.id < b.id ? -1 : 1)).map((r) => r.line);
}

/** Queue persistence as seen by the tracker. */
export class QueueStore {
  /** Writes that failed (quota, private mode, ...); never thrown into the page. */
  failures_ = 0;
  private tab_ = '';
  private puts_ = new Map<string, string>();
  private dels_ = new Set<string>();
  // Records handed to the backend whose write has not completed. Chromium aborts the IndexedDB
  // transactions of a page that is closing, so at unload these (and the buffered writes) are
  // also written to localStorage, synchronously: the journal, read back by the next adopt_().
  private unsure_ = new Map<string, Rec>();
  private journaled_?: boolean;
  private timer_: ReturnType<typeof setTimeout> | undefined;
  private running_: Promise<void> = Promise.resolve();

  /** @param name_ the database / journal name ('' for the memory store, which keeps nothing). */
  constructor(
    readonly kind_: StorageKind,
    private readonly name_ = '',
    private readonly b_: Backend = { all: async () => [], write: async () => {} },
  ) {}

  /** Returns this tab's and orphaned tabs' records, oldest first, and takes ownership of them;
   *  records of tabs still open are handed to `late` when those tabs close. */
  async adopt_(tab: string, late: (lines: string[]) => void): Promise<string[]> {
    this.tab_ = tab;
    if (!this.name_) return [];
    const l = typeof navigator === 'object' ? navigator.locks : undefined;
    // This tab's lock, held for the page's lifetime, tells other tabs it is alive.
    if (l)
      await new Promise<void>((granted) => {
        l.request(kLockPrefix + tab, () => {
          granted();
          return new Promise<void>(() => {});
        }).catch(() => granted());
      });
    await this.importJournals_().catch(() => this.failures_++);
    const recs = await this.b_.all();
    const mine = recs.filter((r) => r.tab === tab);
    // Another tab's records are taken only inside that tab's lock, i.e. once it is gone, so two
    // tabs never take the same records: at once for tabs already gone, later (a waiting lock
    // request) for tabs still open. Tabs that start after this one announce themselves on a
    // BroadcastChannel, so a page that stays open also adopts the queue of a younger tab that
    // closes first.
    const later = (owner: string) =>
      void l!
        .request(kLockPrefix + owner, async () => {
          const got = await this.take_(owner).catch(() => (this.failures_++, []));
          if (got.length) late(sorted(got));
        })
        .catch(() => {});
    if (l && typeof BroadcastChannel === 'function') {
      const ch = new BroadcastChannel(this.name_);
      ch.onmessage = (e) => later(e.data);
      ch.postMessage(tab);
    }
    for (const owner of new Set(recs.map((r) => r.tab))) {
      if (owner === tab) continue;
      // No Web Locks: one tab at a time is assumed.
      const got = l
        ? await l.request(kLockPrefix + owner, { ifAvailable: true }, (lock) => lock && this.take_(owner))
        : await this.take_(owner);
      if (got) mine.push(...got);
      else later(owner);
    }
    return sorted(mine);
  }

  // Moves one owner's records to this tab (called inside the owner's lock) and returns them.
  private async take_(owner: string): Promise<Rec[]> {
    const got = (await this.b_.all()).filter((r) => r.tab === owner);
    await this.b_.write(
      got.map((r) => ({ id: r.id, tab: this.tab_, line: r.line })),
      [],
    );
    return got;
  }

  // Moves the journals of closed pages (and of this tab's previous life) into the backend under
  // their owner tab, then deletes them; adoption then treats them like any stored record. An
  // event already delivered by a page that lived on may come back this way: it is sent again and
  // the collector counts it as a duplicate, never twice.
  private async importJournals_(): Promise<void> {
    const prefix = kJournalPrefix + this.name_ + '.';
    for (const k of Object.keys(localStorage)) {
      if (!k.startsWith(prefix)) continue;
      const tab = k.slice(prefix.length);
      const puts = (localStorage.getItem(k) || '')
        .split('\n')
        .filter((line) => line.startsWith('{"event_id":"'))
        .map((line) => ({ id: line.slice(13, 49), tab, line }));
      await this.b_.write(puts, []);
      localStorage.removeItem(k);
    }
  }

  /** Deletes every record of this tab (opt-out, reset of consent). */
  async clear_(): Promise<void> {
    this.puts_.clear();
    const ids = (await this.b_.all()).filter((r) => r.tab === this.tab_).map((r) => r.id);
    await this.b_.write([], ids).catch(() => this.failures_++);
  }

  /** Page unload: makes the writes not yet known to be durable survive the page synchronously. */
  journal_(): void {
    const recs = [...this.unsure_.values(), ...this.pending_()];
    if (!recs.length || !this.name_) return;
    try {
      localStorage.setItem(this.journalKey_(), recs.map((r) => r.line).join('\n'));
      this.journaled_ = true;
    } catch {
      this.failures_++; // no localStorage or no room: the backend alone, as before
    }
  }

  private journalKey_(): string {
    return kJournalPrefix + this.name_ + '.' + this.tab_;
  }

  /** Buffers one event for writing at the next flush. */
  put_(id: string, line: string): void {
    this.puts_.set(id, line);
    this.schedule_();
  }

  /** Buffers the removal of delivered or dropped events. */
  remove_(ids: string[]): void {
    for (const id of ids) {
      this.unsure_.delete(id);
      if (!this.puts_.delete(id)) this.dels_.add(id);
    }
    this.schedule_();
  }

  /** Writes what is buffered now; resolves when it is durable (or failed and was counted). */
  flush_(): Promise<void> {
    clearTimeout(this.timer_);
    this.timer_ = undefined;
    if (!this.puts_.size && !this.dels_.size) return this.running_;
    const puts = this.pending_();
    const dels = [...this.dels_];
    this.puts_.clear();
    this.dels_.clear();
    for (const r of puts) this.unsure_.set(r.id, r);
    return (this.running_ = this.running_.then(() =>
      this.b_
        .write(puts, dels)
        .then(() => {
          for (const r of puts) this.unsure_.delete(r.id);
          if (this.journaled_ && !this.unsure_.size && !this.puts_.size) {
            // The page lived on (it was only hidden): the backend holds it all, the journal is stale.
            this.journaled_ = false;
            localStorage.removeItem(this.journalKey_());
          }
        })
        .catch(() => {
          this.failures_++;
        }),
    ));
  }

  // The buffered writes, as records (for a synchronous write at unload).
  private pending_(): Rec[] {
    const out: Rec[] = [];
    for (const [id, line] of this.puts_) out.push({ id, tab: this.tab_, line });
    return out;
  }

  private schedule_(): void {
    if (!this.timer_) this.timer_ = setTimeout(() => void this.flush_(), 0);
  }
}

// localStorage: one key per record, `tally.q.<id>` = `<tab>|<line>`; writes are synchronous.
function localBackend(ls: Storage): Backend {
  return {
    async all() {
      const out: Rec[] = [];
      for (const k of Object.keys(ls)) {
        if (!k.startsWith(kKeyPrefix)) continue;
        const v = ls.getItem(k) || '';
        const bar = v.indexOf('|');
        out.push({ id: k.slice(kKeyPrefix.length), tab: v.slice(0, bar), line: v.slice(bar + 1) });
      }
      return out;
    },
    // A QuotaExceededError rejects the write (counted); the events stay queued in memory.
    async write(puts, dels) {
      for (const id of dels) ls.removeItem(kKeyPrefix + id);
      for (const r of puts) ls.setItem(kKeyPrefix + r.id, r.tab + '|' + r.line);
    },
  };
}

function req<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

// IndexedDB: database `name`, object store 'events' keyed by id.
async function idbBackend(name: string): Promise<Backend> {
  const r = indexedDB.open(name, 1);
  r.onupgradeneeded = () => r.result.createObjectStore('events', { keyPath: 'id' });
  const db = await req(r);
  // Site data cleared while the page is open: let the deletion through; later writes fail and
  // are counted, and the events stay queued in memory.
  db.onversionchange = () => db.close();
  const events = (mode?: IDBTransactionMode) => db.transaction('events', mode).objectStore('events');
  return {
    all: async () => req(events().getAll()),
    async write(puts, dels) {
      const os = events('readwrite');
      for (const id of dels) os.delete(id);
      for (const r of puts) os.put(r);
      const tx = os.transaction;
      await new Promise((resolve, reject) => {
        tx.oncomplete = resolve;
        tx.onabort = tx.onerror = () => reject(tx.error);
      });
    },
  };
}

/** Opens the best available store: IndexedDB, then localStorage, then memory. */
export async function openStore(preferred: StorageKind | 'auto', name: string): Promise<QueueStore> {
  if ((preferred === 'auto' || preferred === 'indexeddb') && typeof indexedDB === 'object') {
    try {
      return new QueueStore('indexeddb', name, await idbBackend(name));
    } catch {
      /* private mode or blocked: fall through */
    }
  }
  if (preferred !== 'memory') {
    try {
      localStorage.getItem(kKeyPrefix); // throws when storage is disabled; no such name in Node
      return new QueueStore('localstorage', name, localBackend(localStorage));
    } catch {
      /* disabled: memory */
    }
  }
  return new QueueStore('memory');
}
