// The lite core module (tally-core-lite.{js,wasm} and tally-core-lite.asm.js: the script tag's
// core, wasm/exports-lite.txt) driven through its C ABI from Node: typed options, tally_push of
// events the SDK encoded itself, batches, snapshot and restore, and every refusal. Its batches are
// decoded by the native decoder (tests/js/tools/tally_decode.cc, DecodeBatch as the collector
// runs it), which also shows where validation went: an event the lite core queues as it is comes
// back rejected there, with the field named.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { Code, Core, LITE_BUILDS, buildDir, exportList, liteBuildsPresent, wasmDir } from './core-module.mjs';

const T0 = 1731681121123; // the tracker's pinned "now"
const KEY = 'wk_lite';
const decoder = path.join(buildDir, 'tests/js/tally_decode');

// An event as js/src/tally.ts builds it: event_id and created_at first.
function id(n) {
  return `01932f3e-5a1b-7abc-8def-${String(n).padStart(12, '0')}`;
}
function text(n, { createdAt = T0 - 1000 + n, name = `Event ${n}`, properties = { n } } = {}) {
  return (
    `{"event_id":"${id(n)}","created_at":${createdAt},"type":"track","name":${JSON.stringify(name)},` +
    `"properties":${JSON.stringify(properties)},"context":{"library":{"name":"tally-sdk","version":"0.1.0"}},` +
    `"anonymous_id":"anon-1","session_id":"0123456789abcdef0123456789abcdef"}`
  );
}

// DecodeBatch's verdict on a body: { status, message, batch, accepted, rejected }.
function decode(body) {
  const run = spawnSync(decoder, [], { input: body, encoding: 'utf8' });
  assert.equal(run.status, 0, `tally_decode failed: ${run.stderr}`);
  const out = { accepted: [], rejected: [] };
  for (const line of run.stdout.split('\n').filter(Boolean)) {
    const [kind, ...f] = line.split('\t');
    if (kind === 'status') [out.status, out.message] = [Number(f[0]), f[1]];
    else if (kind === 'batch') out.batch = { writeKey: f[0], sentAt: Number(f[1]), offset: f[2] };
    else if (kind === 'accepted')
      out.accepted.push({ index: Number(f[0]), id: f[1], createdAt: Number(f[2]), name: f[3] });
    else out.rejected.push({ index: Number(f[0]), id: f[1], error: f[2] });
  }
  return out;
}

it('finds both builds of the lite core module and the native decoder', () => {
  assert.ok(liteBuildsPresent(), `tally-core-lite.{js,wasm,asm.js} missing in ${wasmDir}: run scripts/build.sh wasm`);
  assert.ok(existsSync(decoder), `${decoder} missing: build the native tree`);
});

it('leaves the event path out of the lite .wasm: no rule messages, no JSON reader faults', () => {
  const full = readFileSync(path.join(wasmDir, 'tally-core.wasm')).toString('latin1');
  const lite = readFileSync(path.join(wasmDir, 'tally-core-lite.wasm')).toString('latin1');
  for (const s of ['must be a finite number', 'must be a string', 'unknown option']) {
    assert.ok(full.includes(s), `full core has "${s}"`);
    assert.ok(!lite.includes(s), `lite core has no "${s}"`);
  }
  // The one rule the lite core keeps: the encoded size, in the core's own words.
  assert.ok(lite.includes(' bytes is over the limit of '));
});

for (const build of LITE_BUILDS) {
  describe(`lite core module (${build.name})`, () => {
    let core;
    before(async () => {
      core = new Core(await build.load());
    });

    function tracker(values = [], key = KEY) {
      const t = core.liteTracker(values, key);
      t.setNow(T0);
      return t;
    }

    it('exports exactly the functions of wasm/exports-lite.txt: no tally_track, tally_restore or JSON options', () => {
      const { functions, runtime } = exportList('exports-lite.txt');
      for (const name of functions) assert.equal(typeof core.m[`_${name}`], 'function', name);
      for (const name of runtime) assert.ok(core.m[name], name);
      for (const name of ['tally_track', 'tally_last_id_ptr', 'tally_restore', 'tally_tracker_new']) {
        assert.equal(core.m[`_${name}`], undefined, name);
      }
    });

    it('queues pushed events as given and batches them for the collector: push, snapshot, batch, ack, restore', () => {
      const t = tracker();
      const lines = [1, 2, 3].map((n) => text(n));
      for (const line of lines) assert.deepEqual(t.push(line, T0 - 1000), { code: Code.ok, out: '' });
      assert.equal(t.queuedEvents(), 3);
      assert.equal(
        t.queuedBytes(),
        lines.reduce((s, l) => s + l.length, 0),
      );
      assert.deepEqual(t.snapshot(), { code: 3, out: lines.map((l) => l + '\n').join('') });

      const { count, body } = t.nextBatch();
      assert.equal(count, 3);
      assert.equal(body, `{"write_key":"${KEY}","sent_at":${T0},"events":[${lines.join(',')}]}`);
      const d = decode(body);
      assert.equal(d.status, 0, d.message);
      assert.deepEqual(d.batch, { writeKey: KEY, sentAt: T0, offset: 'none' });
      assert.deepEqual(
        d.accepted.map((a) => [a.index, a.id, a.createdAt, a.name]),
        [1, 2, 3].map((n, i) => [i, id(n), T0 - 1000 + n, `Event ${n}`]),
      );
      assert.deepEqual(d.rejected, []);

      // The snapshot restores into a fresh tracker through the same call: ids kept, a second
      // restore of the same lines duplicates nothing (-4, which core.ts counts as skipped).
      const snap = t.snapshot().out;
      const u = tracker();
      for (const line of snap.split('\n').filter(Boolean)) {
        assert.equal(u.push(line, Number(line.slice(64).split(',')[0])).code, Code.ok);
      }
      for (const line of snap.split('\n').filter(Boolean)) assert.equal(u.push(line).code, Code.duplicate);
      assert.equal(u.nextBatch().body, body);

      t.ack(2);
      assert.equal(t.queuedEvents(), 1);
      assert.equal(t.nextBatch().body, `{"write_key":"${KEY}","sent_at":${T0},"events":[${lines[2]}]}`);
      t.ack(5); // never more than is queued
      assert.equal(t.queuedEvents(), 0);
      assert.equal(t.nextBatch().count, 0);
      t.free();
      u.free();
    });

    it('counts an event as queued since its created_at: a restored backlog is due at once, a fresh event waits', () => {
      const t = tracker([undefined, undefined, 5000]); // batch.max_age_ms 5 s
      assert.equal(t.push(text(1, { createdAt: T0 }), T0).code, Code.ok);
      assert.equal(t.batchDue(), 0);
      assert.equal(t.msUntilDue(), 5000);
      const u = tracker([undefined, undefined, 5000]);
      assert.equal(u.push(text(2, { createdAt: T0 - 60000 }), T0 - 60000).code, Code.ok);
      assert.equal(u.batchDue(), 1);
      // NaN (no time to read) counts from now; a created_at in the future counts from now too.
      const w = tracker([undefined, undefined, 5000]);
      assert.equal(w.push(text(3), NaN).code, Code.ok);
      assert.equal(w.push(text(4), T0 + 1e9).code, Code.ok);
      assert.equal(w.msUntilDue(), 5000);
      for (const x of [t, u, w]) x.free();
    });

    it('queues an event it cannot validate; the collector rejects it naming the field', () => {
      const t = tracker();
      const long = 'x'.repeat(300);
      assert.equal(t.push(text(1)).code, Code.ok);
      assert.equal(t.push(text(2, { properties: { plan: long } })).code, Code.ok);
      assert.equal(t.push(text(3)).code, Code.ok);
      const d = decode(t.nextBatch().body);
      assert.equal(d.status, 0, d.message);
      assert.deepEqual(
        d.accepted.map((a) => a.id),
        [id(1), id(3)],
      );
      assert.equal(d.rejected.length, 1);
      assert.equal(d.rejected[0].index, 1);
      assert.equal(d.rejected[0].id, id(2));
      assert.match(d.rejected[0].error, /^events\[1\]\.properties\.plan: /);
      t.free();
    });

    it("refuses text over validation.max_event_bytes with the core rule's own message (-3)", () => {
      const t = tracker([undefined, undefined, undefined, undefined, undefined, 400]);
      const small = text(1);
      assert.equal(t.push(small).code, Code.ok);
      const big = text(2, { properties: { s: 'y'.repeat(400) } });
      const n = new TextEncoder().encode(big).length;
      assert.deepEqual(t.push(big), {
        code: Code.tooLarge,
        out: `event: encoded size ${n} bytes is over the limit of 400`,
      });
      assert.equal(t.queuedEvents(), 1);
      // The default is 32 KB, as in the full core.
      const d = tracker();
      const huge = text(3, { properties: { s: 'z'.repeat(33000) } });
      assert.deepEqual(d.push(huge), {
        code: Code.tooLarge,
        out: `event: encoded size ${huge.length} bytes is over the limit of 32768`,
      });
      // Within max_event_bytes but over what a batch can carry: -3 too, naming the batch limit.
      const b = tracker([undefined, 300]);
      assert.equal(b.push(text(4)).code, Code.tooLarge);
      assert.match(b.out(), /cannot fit a batch of at most 300 bytes/);
      for (const x of [t, d, b]) x.free();
    });

    it('refuses an id still queued (-4), and takes it again once acknowledged', () => {
      const t = tracker();
      assert.equal(t.push(text(1)).code, Code.ok);
      const again = t.push(text(1, { name: 'Other' }));
      assert.equal(again.code, Code.duplicate);
      assert.match(again.out, new RegExp(id(1)));
      assert.equal(t.queuedEvents(), 1);
      t.nextBatch();
      t.ack(1);
      assert.equal(t.push(text(1)).code, Code.ok);
      t.free();
    });

    it('refuses an event when the queue is full by count or bytes (-5), and takes it once there is room', () => {
      const t = tracker([undefined, undefined, undefined, 2]);
      assert.equal(t.push(text(1)).code, Code.ok);
      assert.equal(t.push(text(2)).code, Code.ok);
      const full = t.push(text(3));
      assert.equal(full.code, Code.resourceExhausted);
      assert.match(full.out, /^queue: /);
      t.ack(1);
      assert.equal(t.push(text(3)).code, Code.ok);
      const one = text(1).length;
      const b = tracker([undefined, undefined, undefined, undefined, one + 10]);
      assert.equal(b.push(text(1)).code, Code.ok);
      assert.equal(b.push(text(2)).code, Code.resourceExhausted);
      t.free();
      b.free();
    });

    it('refuses hostile pointers, lengths and prefixes with -1 and a message, never a trap', () => {
      const m = core.m;
      const t = tracker();
      const [p, len] = core.put(text(1));
      const memEnd = m.HEAPU8.length;
      assert.equal(m._tally_push(0, p + 13, T0, p, len), Code.invalidArgument);
      assert.equal(m._tally_push(t.h, 0, T0, p, len), Code.invalidArgument);
      assert.match(t.out(), /^event: null pointer/);
      assert.equal(m._tally_push(t.h, p + 13, T0, 0, len), Code.invalidArgument);
      assert.equal(m._tally_push(t.h, p + 13, T0, p, memEnd), Code.invalidArgument);
      assert.equal(t.out(), 'event: pointer + length outside memory');
      assert.equal(m._tally_push(t.h, p + 13, T0, memEnd - 4, 100), Code.invalidArgument);
      assert.equal(m._tally_push(t.h, memEnd - 10, T0, p, len), Code.invalidArgument);
      assert.equal(m._tally_push(t.h, p + 13, T0, p, 0xffffffff), Code.invalidArgument);
      // The text must start {"event_id":"<the id given>": a wrong id, a short or foreign text.
      const wrongId = t.push(text(1), T0, id(2));
      assert.equal(wrongId.code, Code.invalidArgument);
      assert.equal(wrongId.out, `event: must start with {"event_id":"${id(2)}"`);
      assert.equal(t.push('{"event_id":"x"}', T0, id(1)).code, Code.invalidArgument);
      assert.equal(t.push('', T0, id(1)).code, Code.invalidArgument);
      assert.equal(t.push(' ' + text(1), T0, id(1)).code, Code.invalidArgument);
      assert.equal(m._tally_push(t.h, p + 13, T0, p, 49), Code.invalidArgument); // cut inside the id's quotes
      assert.equal(t.queuedEvents(), 0);
      // After all that the tracker still works.
      assert.equal(m._tally_push(t.h, p + 13, T0, p, len), Code.ok);
      core.free(p);
      t.free();
    });

    it('checks every typed option and names the one at fault', () => {
      const names = [
        'batch.max_events',
        'batch.max_bytes',
        'batch.max_age_ms',
        'queue.max_events',
        'queue.max_bytes',
        'validation.max_event_bytes',
        'clock_offset.window',
        'clock_offset.max_round_trip_ms',
      ];
      const times = new Set([2, 7]);
      names.forEach((name, i) => {
        const at = (v) => {
          const values = new Array(8).fill(undefined);
          values[i] = v;
          return core.newLiteTracker(values);
        };
        const why = times.has(i) ? 'must be a non-negative integer' : 'must be a positive integer';
        for (const bad of [1.5, -1, Infinity, -Infinity, 2 ** 53 + 2, ...(times.has(i) ? [] : [0])]) {
          const r = at(bad);
          assert.equal(r.handle, 0, `${name} = ${bad}`);
          assert.equal(r.error, `${name}: ${why}`);
        }
        const ok = at(times.has(i) ? 0 : 1);
        assert.ok(ok.handle, `${name} accepts its least value`);
        m_free(ok.handle);
      });
      function m_free(h) {
        core.m._tally_tracker_free(h);
      }
      assert.deepEqual(core.newLiteTracker(new Array(9).fill(1)), {
        handle: 0,
        error: 'options: at most 8 values, got 9',
      });
      assert.deepEqual(core.newLiteTracker(null, KEY, undefined, 3), {
        handle: 0,
        error: 'options: pointer + count outside memory',
      });
      assert.deepEqual(core.newLiteTracker([], KEY, null), { handle: 0, error: 'seed: required (32 random bytes)' });
      // A NULL pointer with count 0 and an empty key are all defaults.
      const d = core.newLiteTracker(null, '', undefined, 0);
      assert.ok(d.handle);
      m_free(d.handle);
    });

    it('applies the typed options: batch size and count, write key', () => {
      const t = tracker([2, undefined, 0], 'wk_"quoted"');
      for (const n of [1, 2, 3]) assert.equal(t.push(text(n)).code, Code.ok);
      assert.equal(t.batchDue(), 1);
      const { count, body } = t.nextBatch();
      assert.equal(count, 2);
      const d = decode(body);
      assert.equal(d.batch.writeKey, 'wk_"quoted"');
      assert.equal(d.accepted.length, 2);
      // batch.max_bytes bounds the body.
      const b = tracker([undefined, text(1).length * 2 + 100]);
      for (const n of [1, 2, 3]) assert.equal(b.push(text(n)).code, Code.ok);
      const small = b.nextBatch();
      assert.equal(small.count, 2);
      assert.ok(small.body.length <= text(1).length * 2 + 100);
      t.free();
      b.free();
    });

    it('estimates the collector clock offset and writes it into batches', () => {
      const t = tracker();
      assert.ok(Number.isNaN(t.clockOffset()));
      t.onServerTime(T0 - 100, T0, T0 + 5000);
      assert.equal(t.clockOffset(), 5050);
      t.push(text(1));
      assert.equal(decode(t.nextBatch().body).batch.offset, '5050');
      t.free();
    });
  });
}
