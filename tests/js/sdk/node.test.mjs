// The package in Node 20: memory queue, fetch transport, the retry and drop rules of the pinned
// protocol, the typed TallyError.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { buildSdk } from './support/core.mjs';
import { startServer, waitFor } from './support/server.mjs';

let sdk, srv, tallyMod;
before(async () => {
  sdk = buildSdk();
  srv = await startServer({ dist: sdk.dist });
  tallyMod = await import(join(sdk.dist, 'tally.mjs'));
});
after(() => srv.close());

const opts = (extra = {}) => ({
  writeKey: 'wk_test',
  endpoint: srv.origin,
  retry: { baseMs: 20, capMs: 100 },
  ...extra,
});

test('tracks from Node with a memory queue and delivers one batch on flush', async () => {
  const t = await tallyMod.createTally(opts());
  assert.equal(t.storageKind, 'memory');
  const before = srv.events().length;
  const ids = [t.track('Signed Up', { plan: 'pro' }), t.track('Clicked CTA'), t.identify('C-1', { email: 'a@b.c' })];
  assert.ok(
    ids.every((id) => /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(id)),
    ids.join(),
  );
  assert.deepEqual([...ids].sort(), ids, 'UUIDv7 ids sort in call order');
  const r = await t.flush();
  assert.deepEqual(r, { delivered: 3, queued: 0 });
  const got = srv.events().slice(before);
  assert.deepEqual(
    got.map((e) => e.event_id),
    ids,
  );
  assert.equal(got[0].properties.plan, 'pro');
  assert.equal(got[2].type, 'identify');
  assert.equal(got[2].user_id, 'C-1');
  assert.equal(got[0].anonymous_id, got[1].anonymous_id);
  assert.ok(got[0].session_id);
  const batch = srv.state.batches.at(-1);
  assert.equal(batch.body.write_key, 'wk_test');
  assert.ok(batch.body.sent_at >= got[0].created_at);
});

test('CJS build loads through require', async () => {
  const req = createRequire(import.meta.url);
  const cjs = req(join(sdk.dist, 'tally.cjs'));
  const t = await cjs.createTally(opts());
  assert.ok(t.track('From CJS'));
  assert.equal((await t.flush()).delivered, 1);
});

test('an invalid event becomes a TallyError naming the field, never a throw', async () => {
  const t = await tallyMod.createTally(opts());
  const errors = [];
  t.on('error', (e) => errors.push(e));
  const dropped = [];
  t.on('dropped', (d) => dropped.push(...d.ids));
  // The core's checks run just after the call (off the call path): the id comes back, then 'dropped'.
  const id = t.track('Bought', { price: 1, bad: 'x'.repeat(300) });
  assert.equal(t.track(''), undefined);
  await t.flush();
  assert.deepEqual(dropped, [id]);
  assert.ok(!srv.events().some((e) => e.event_id === id));
  assert.ok(errors.length >= 2);
  assert.ok(errors.every((e) => e instanceof tallyMod.TallyError));
  assert.ok(
    errors.some((e) => /properties\.bad/.test(e.message)),
    errors.map((e) => e.message).join('; '),
  );
  assert.ok(errors.some((e) => e.code === 'invalid_argument' && /^name/.test(e.message)));
});

test('init refuses a missing write key with a TallyError', async () => {
  await assert.rejects(
    () => tallyMod.createTally({ endpoint: srv.origin }),
    (e) => e.code === 'invalid_argument' && /writeKey/.test(e.message),
  );
});

test('503 then recovery: same ids and created_at on every retry, a fresh sent_at each attempt', async () => {
  const t = await tallyMod.createTally(opts());
  const errors = [];
  t.on('error', (e) => errors.push(e));
  srv.state.failNext.push(503, 503);
  const attemptsBefore = srv.state.batches.length;
  const id = t.track('Retried');
  const first = await t.flush();
  assert.equal(first.queued, 1, 'the collector asked to wait, the event stays queued');
  await waitFor(() => srv.events().some((e) => e.event_id === id), 'delivery after 503s');
  assert.equal(srv.events().filter((e) => e.event_id === id).length, 1);
  assert.ok(errors.filter((e) => e.code === 'transport').length >= 2);
  await waitFor(() => t.queued() === 0, 'the ack of the delivered batch');
  assert.ok(srv.state.batches.length > attemptsBefore);
});

test('retries keep the event identical except sent_at', async () => {
  // The collector records only accepted batches, so capture the refused attempts' bodies too.
  const t = await tallyMod.createTally(opts());
  const seen = [];
  const origFetch = globalThis.fetch;
  globalThis.fetch = async (url, init) => {
    seen.push(JSON.parse(init.body));
    return origFetch(url, init);
  };
  try {
    srv.state.failNext.push(503);
    t.track('Same Every Time', { n: 1 });
    await t.flush();
    await waitFor(() => t.queued() === 0, 'delivery');
  } finally {
    globalThis.fetch = origFetch;
  }
  assert.ok(seen.length >= 2);
  assert.deepEqual(seen[0].events, seen.at(-1).events);
  assert.ok(seen.at(-1).sent_at >= seen[0].sent_at);
});

test('Retry-After is honoured: no retry before it', async () => {
  const t = await tallyMod.createTally(opts());
  srv.state.failNext.push(429);
  srv.state.retryAfter = '1';
  const failedAt = Date.now();
  const id = t.track('Rate Limited');
  await t.flush();
  srv.state.retryAfter = '0';
  await waitFor(
    () => srv.state.batches.find((b) => b.body.events.some((e) => e.event_id === id)),
    'delivery after Retry-After',
  );
  const b = srv.state.batches.find((x) => x.body.events.some((e) => e.event_id === id));
  assert.ok(b.at - failedAt >= 1000, 'the retry waited for Retry-After');
});

test('400/401/403/413 drop the batch with a dropped event and an error; no retry', async () => {
  for (const status of [400, 401, 403, 413]) {
    const t = await tallyMod.createTally(opts());
    const dropped = [];
    const errors = [];
    t.on('dropped', (d) => dropped.push(d));
    t.on('error', (e) => errors.push(e));
    srv.state.failNext.push(status);
    const id = t.track('Refused');
    const r = await t.flush();
    assert.equal(r.queued, 0, `status ${status}`);
    assert.deepEqual(dropped[0].ids, [id]);
    assert.match(dropped[0].reason, new RegExp(String(status)));
    assert.equal(errors[0].code, 'dropped');
    assert.ok(!srv.events().some((e) => e.event_id === id));
  }
});

test('per-event rejections in a 200 answer are reported as dropped; the rest delivered', async () => {
  const t = await tallyMod.createTally(opts());
  const dropped = [];
  const delivered = [];
  t.on('dropped', (d) => dropped.push(...d.ids));
  t.on('delivered', (d) => delivered.push(...d.ids));
  srv.state.rejectNames.add('Bad One');
  const good = t.track('Good One');
  const bad = t.track('Bad One');
  await t.flush();
  srv.state.rejectNames.clear();
  assert.deepEqual(dropped, [bad]);
  assert.deepEqual(delivered, [good]);
});

test('server_time feeds the clock offset, sent as clock_offset_ms', async () => {
  const t = await tallyMod.createTally(opts());
  t.track('First');
  await t.flush();
  t.track('Second');
  await t.flush();
  const off = srv.state.batches.at(-1).body.clock_offset_ms;
  assert.ok(off > 4000 && off < 6000, `offset ${off} (the test collector runs 5 s ahead)`);
});

test('the queue is bounded: past max events track() reports resource_exhausted', async () => {
  const t = await tallyMod.createTally(opts({ queue: { maxEvents: 3 }, batch: { maxEvents: 100, maxAgeMs: 600000 } }));
  const errors = [];
  t.on('error', (e) => errors.push(e));
  for (let i = 0; i < 5; i++) t.track('Burst', { i });
  await waitFor(() => errors.length === 2, 'the core refusing the two events past the bound');
  assert.equal(t.queued(), 3);
  assert.equal(errors.filter((e) => e.code === 'resource_exhausted').length, 2);
  await t.flush();
});

test('a network error backs off and keeps the event', async () => {
  const t = await tallyMod.createTally({ ...opts(), endpoint: 'http://127.0.0.1:1' });
  const errors = [];
  t.on('error', (e) => errors.push(e));
  t.track('Offline');
  const r = await t.flush();
  assert.equal(r.queued, 1);
  assert.equal(errors[0].code, 'transport');
});

test('infinite and NaN numbers are refused with a TallyError naming the property; nulls pass', async () => {
  const t = await tallyMod.createTally(opts());
  const errors = [];
  t.on('error', (e) => errors.push(e));
  assert.equal(t.track('Priced', { price: Infinity }), undefined);
  assert.equal(t.track('Priced', { items: [{ n: 1 }, { n: -Infinity }] }), undefined);
  assert.equal(t.track('Priced', { price: 1 }, { context: { page: { score: NaN } } }), undefined);
  assert.equal(t.track('Priced', { price: 1 }, { createdAt: NaN }), undefined);
  assert.deepEqual(
    errors.map((e) => [e instanceof tallyMod.TallyError, e.code, e.message]),
    [
      [true, 'invalid_argument', 'properties.price: must be a finite number'],
      [true, 'invalid_argument', 'properties.items[1].n: must be a finite number'],
      [true, 'invalid_argument', 'context.page.score: must be a finite number'],
      [true, 'invalid_argument', 'createdAt: must be a finite number'],
    ],
  );
  const id = t.track('Priced', { price: null, note: 'null' });
  assert.ok(id);
  await t.flush();
  assert.deepEqual(srv.events().find((e) => e.event_id === id).properties, { price: null, note: 'null' });
});

test('the suites refuse to run without a real core build, naming what is missing', async () => {
  const { coreDir } = await import('./support/core.mjs');
  const saved = process.env.TALLY_WASM_DIR;
  process.env.TALLY_WASM_DIR = '/nonexistent-tally-core';
  try {
    assert.throws(
      () => coreDir(),
      /Wasm core is not built: tally-core\.js, tally-core\.wasm, tally-core\.asm\.js missing in \/nonexistent-tally-core/,
    );
  } finally {
    if (saved === undefined) delete process.env.TALLY_WASM_DIR;
    else process.env.TALLY_WASM_DIR = saved;
  }
});

test('event ids are UUIDv7, strictly increasing in call order, also within one ms and when the clock steps back', async () => {
  const t = await tallyMod.createTally(
    opts({ queue: { maxEvents: 10000, maxBytes: 50_000_000 }, batch: { maxAgeMs: 600000, maxEvents: 10000 } }),
  );
  const realNow = Date.now;
  const ids = [];
  try {
    for (let i = 0; i < 3000; i++) ids.push(t.track('Fast', { i })); // many per ms
    const back = realNow() - 60_000;
    Date.now = () => back; // the device clock is set back a minute
    for (let i = 0; i < 100; i++) ids.push(t.track('After Clock Step', { i }));
  } finally {
    Date.now = realNow;
  }
  assert.ok(ids.every((id) => /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(id)));
  for (let i = 1; i < ids.length; i++)
    assert.ok(ids[i - 1] < ids[i], `ids[${i - 1}] < ids[${i}]: ${ids[i - 1]} ${ids[i]}`);
  await t.flush();
  assert.equal(t.queued(), 0);
});
