// Load-and-fault run: many simulated clients send batches to a real tally-collector (127.0.0.1,
// --sync full) while the collector is SIGKILLed and restarted several times. Each client makes
// its events once (UUIDv7 ids), keeps every batch until a 200 answers it, and retries the same
// batch (same ids) after a network error, 5xx or 429, with capped exponential backoff and jitter.
// Afterwards the whole store is read back (/v1/export): every event generated must be stored
// exactly once, and in particular every event a 200 acknowledged before a kill.
//
//   node bench/fault/run.mjs [--clients 32] [--seconds 20] [--kills 5] [--max-batch 50] [--threads 64]
//                            [--build-dir build/native] [--drain-seconds 60]
// Prints one JSON line of counts; exits 1 when an event is lost or stored twice.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../tests/js/e2e/support.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// UUIDv7: 48-bit ms, version 7, a per-process counter in rand_a so ids made in one ms still order.
let lastMs = 0;
let seq = 0;
function uuidv7(ms) {
  if (ms <= lastMs) seq++;
  else {
    lastMs = ms;
    seq = 0;
  }
  const b = randomBytes(16);
  const t = BigInt(lastMs);
  for (let i = 0; i < 6; i++) b[i] = Number((t >> BigInt(8 * (5 - i))) & 0xffn);
  b[6] = 0x70 | ((seq >> 8) & 0x0f);
  b[7] = seq & 0xff;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Runs the load-and-fault scenario; resolves with the counts (ok: true when exact). */
export async function runFault(opts = {}) {
  const o = {
    clients: 32,
    seconds: 20,
    kills: 5,
    maxBatch: 50,
    drainSeconds: 60,
    log: () => {},
    ...opts,
  };
  const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
  const binary = join(resolve(o.buildDir ?? join(root, 'build/native')), 'collector/tally-collector');
  const dir = mkdtempSync(join(tmpdir(), 'tally-fault-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  writeFileSync(
    join(dir, 'collector.json'),
    JSON.stringify({
      rate_limit_rps: 0,
      min_free_disk_bytes: 0,
      sync: 'full',
      // httplib gives each keep-alive connection a worker thread for its lifetime: with more
      // clients than threads, the rest (and /healthz) wait. Keep threads above clients.
      threads: o.threads,
      workspaces: [
        {
          name: 'fault',
          sources: [{ name: 'load', write_key: 'wk_fault' }],
          read_keys: ['rk_fault'],
        },
      ],
    }),
  );

  let proc = null;
  let starts = 0;
  const start = async () => {
    proc = spawn(
      binary,
      [
        '--config',
        join(dir, 'collector.json'),
        '--listen',
        `127.0.0.1:${port}`,
        '--store',
        `sqlite:${join(dir, 'tally.db')}`,
      ],
      {
        stdio: ['ignore', 'ignore', 'ignore'],
      },
    );
    proc.exited = new Promise((r) => proc.once('exit', r));
    starts++;
    for (let i = 0; ; i++) {
      if (proc.exitCode !== null) throw new Error('collector exited at start');
      try {
        if ((await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(2000) })).ok) return;
      } catch {
        /* not yet */
      }
      if (i > 600) throw new Error('collector did not come up in 30 s');
      await sleep(50);
    }
  };

  const c = {
    clients: o.clients,
    generated: 0,
    batches: 0,
    attempts: 0,
    retries: 0,
    network_errors: 0,
    status_errors: 0,
    acked_events: 0,
    reported_accepted: 0,
    reported_duplicates: 0,
    rejected: 0,
    kills: 0,
    stored_rows: 0,
    stored_distinct: 0,
    missing: 0,
    unknown: 0,
    stored_twice: 0,
    acked_before_a_kill: 0,
    acked_before_a_kill_missing: 0,
  };
  const generated = new Set();
  const acked = new Set();
  let ackedAtLastKill = [];

  async function client(id, stopAt, deadline) {
    let n = 0;
    while (Date.now() < stopAt) {
      const size = 1 + Math.floor(Math.random() * o.maxBatch);
      const events = [];
      for (let i = 0; i < size; i++) {
        const now = Date.now();
        const e = {
          event_id: uuidv7(now),
          type: 'track',
          name: i % 3 ? 'impression' : 'Clicked CTA',
          user_id: `C-${id}`,
          anonymous_id: `anon-${id}`,
          session_id: `s-${id}`,
          created_at: now,
          properties: { client: id, n: n++ },
          context: { workflow_id: 'WF-fault' },
        };
        events.push(e);
        generated.add(e.event_id);
      }
      c.generated += size;
      c.batches++;
      // The same batch (same ids) until a 200.
      for (let attempt = 0; ; attempt++) {
        if (Date.now() > deadline) return;
        c.attempts++;
        if (attempt) c.retries++;
        let res;
        try {
          res = await fetch(`${base}/v1/batch`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            signal: AbortSignal.timeout(15000), // a stalled answer counts as lost: retry
            body: JSON.stringify({
              write_key: 'wk_fault',
              sent_at: Date.now(),
              events,
            }),
          });
        } catch {
          c.network_errors++;
          await sleep(Math.random() * Math.min(1000, 25 * 2 ** attempt));
          continue;
        }
        const body = await res.json().catch(() => ({}));
        if (res.status === 200) {
          c.acked_events += size;
          c.reported_accepted += body.accepted ?? 0;
          c.reported_duplicates += body.duplicates ?? 0;
          c.rejected += body.rejected?.length ?? 0;
          for (const e of events) acked.add(e.event_id);
          break;
        }
        c.status_errors++;
        if (res.status !== 429 && res.status < 500) throw new Error(`refused: ${res.status} ${JSON.stringify(body)}`);
        await sleep(Math.random() * Math.min(1000, 25 * 2 ** attempt));
      }
    }
  }

  async function killer(stopAt) {
    const every = (o.seconds * 1000) / (o.kills + 1);
    for (let k = 0; k < o.kills; k++) {
      await sleep(every * (0.5 + Math.random()));
      if (Date.now() >= stopAt) break;
      ackedAtLastKill = [...acked];
      proc.kill('SIGKILL');
      await proc.exited;
      c.kills++;
      o.log(`kill ${c.kills}: ${acked.size} events acknowledged so far`);
      await start();
    }
  }

  try {
    await start();
    const t0 = Date.now();
    const stopAt = t0 + o.seconds * 1000;
    const deadline = stopAt + o.drainSeconds * 1000;
    await Promise.all([killer(stopAt), ...Array.from({ length: o.clients }, (_, i) => client(i, stopAt, deadline))]);
    c.seconds = Math.round((Date.now() - t0) / 100) / 10;
    c.unacked_at_deadline = generated.size - acked.size;

    // Read back everything (restart once more first: the store must hold after a clean start too).
    proc.kill('SIGKILL');
    await proc.exited;
    c.kills++;
    await start();
    const res = await fetch(`${base}/v1/export?format=ndjson&from=0&to=${Date.now() + 3600000}`, {
      headers: { authorization: 'Bearer rk_fault' },
    });
    if (!res.ok) throw new Error(`export: ${res.status}`);
    const rows = (await res.text())
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l).event_id);
    const seen = new Map();
    for (const id of rows) seen.set(id, (seen.get(id) || 0) + 1);
    c.stored_rows = rows.length;
    c.stored_distinct = seen.size;
    for (const [id, k] of seen) {
      if (!generated.has(id)) c.unknown++;
      if (k > 1) c.stored_twice++;
    }
    for (const id of generated) if (!seen.has(id)) c.missing++;
    c.acked_before_a_kill = ackedAtLastKill.length;
    for (const id of ackedAtLastKill) if (!seen.has(id)) c.acked_before_a_kill_missing++;
    c.starts = starts;
    c.ok =
      c.unacked_at_deadline === 0 &&
      c.missing === 0 &&
      c.unknown === 0 &&
      c.stored_twice === 0 &&
      c.rejected === 0 &&
      c.stored_rows === c.generated &&
      c.acked_before_a_kill_missing === 0 &&
      // Each event's batch got exactly one 200: accepted there, or a duplicate when an earlier
      // attempt had committed but its answer died with the collector.
      c.reported_accepted + c.reported_duplicates === c.generated;
    return c;
  } finally {
    if (proc && proc.exitCode === null) {
      proc.kill('SIGTERM');
      await proc.exited;
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const a = process.argv.slice(2);
  const opts = { log: (m) => console.error(m) };
  const names = {
    '--clients': 'clients',
    '--seconds': 'seconds',
    '--kills': 'kills',
    '--max-batch': 'maxBatch',
    '--drain-seconds': 'drainSeconds',
    '--build-dir': 'buildDir',
    '--threads': 'threads',
  };
  for (let i = 0; i < a.length; i += 2) {
    const k = names[a[i]];
    if (!k || a[i + 1] === undefined) {
      console.error(`unknown or incomplete flag ${a[i]} (see the header of bench/fault/run.mjs)`);
      process.exit(2);
    }
    opts[k] = k === 'buildDir' ? a[i + 1] : Number(a[i + 1]);
  }
  const counts = await runFault(opts);
  console.log(JSON.stringify(counts));
  process.exit(counts.ok ? 0 : 1);
}
