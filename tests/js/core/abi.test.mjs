// The C ABI of the core module (wasm/tally_abi.h), driven from Node exactly as the SDK drives it,
// against both builds of the same C++ core: the .wasm and the asm.js (no-Wasm) build.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';

import { BUILDS, Code, Core, UUID_V7, buildsPresent, exportList, wasmDir } from './core-module.mjs';

const T0 = 1731681121123; // a fixed "now" for the tracker's clock

function event(fields = {}) {
  return {
    type: 'track',
    name: 'Clicked CTA',
    anonymous_id: 'anon-1',
    ...fields,
  };
}

// The 48-bit millisecond timestamp at the front of a UUIDv7.
function uuidMs(id) {
  return parseInt(id.replace(/-/g, '').slice(0, 12), 16);
}

it('finds both builds of the core module', () => {
  assert.ok(buildsPresent(), `tally-core.{js,wasm,asm.js} missing in ${wasmDir}: run scripts/build.sh wasm`);
});

for (const build of BUILDS) {
  describe(`core module (${build.name})`, () => {
    let core;
    before(async () => {
      core = new Core(await build.load());
    });

    function tracker(options = {}) {
      const t = core.tracker(options);
      t.setNow(T0);
      return t;
    }

    describe('exports', () => {
      it('has every function and runtime member of wasm/exports.txt', () => {
        const { functions, runtime } = exportList();
        for (const name of functions) assert.equal(typeof core.m[`_${name}`], 'function', name);
        for (const name of runtime) assert.ok(core.m[name], name);
      });

      it('does not export malloc or free (memory goes through tally_alloc)', () => {
        assert.equal(core.m._malloc, undefined);
        assert.equal(core.m._free, undefined);
      });
    });

    // wasm/small_malloc.cc: power-of-two blocks on free lists, 16-byte aligned.
    describe('memory', () => {
      it('hands out 16-byte aligned blocks that do not overlap', () => {
        const blocks = [];
        for (const size of [0, 1, 15, 16, 17, 100, 1000, 70000]) {
          const ptr = core.m._tally_alloc(size) >>> 0;
          assert.ok(ptr > 0, `size ${size}`);
          assert.equal(ptr % 16, 0, `size ${size} at ${ptr}`);
          core.m.HEAPU8.fill(blocks.length + 1, ptr, ptr + size);
          blocks.push([ptr, size]);
        }
        blocks.forEach(([ptr, size], i) => {
          assert.ok(
            core.m.HEAPU8.subarray(ptr, ptr + size).every((b) => b === i + 1),
            `block ${i}`,
          );
          core.free(ptr);
        });
      });

      it('reuses freed blocks: tracking and acking many events does not grow memory', () => {
        const t = tracker({ queue: { max_events: 100 } });
        const cycle = () => {
          for (let i = 0; i < 50; i++)
            assert.equal(t.track(event({ properties: { i, s: 'x'.repeat(i * 5) } })).code, Code.ok);
          while (t.nextBatch().count > 0) t.ack(t.queuedEvents());
        };
        for (let i = 0; i < 5; i++) cycle();
        const settled = core.m.HEAPU8.length;
        for (let i = 0; i < 200; i++) cycle();
        assert.equal(core.m.HEAPU8.length, settled);
        t.free();
      });

      it('answers an impossible allocation with 0, not a trap', () => {
        assert.equal(core.m._tally_alloc(0xfffffff0), 0);
        assert.equal(core.m._tally_alloc(0x7fffffff), 0);
        const ptr = core.m._tally_alloc(64);
        assert.ok(ptr > 0);
        core.free(ptr);
      });
    });

    describe('options', () => {
      it('accepts empty options and every documented field', () => {
        assert.ok(core.newTracker('').handle);
        assert.ok(core.newTracker({}).handle);
        const all = {
          write_key: 'wk',
          batch: { max_events: 10, max_bytes: 4096, max_age_ms: 0 },
          queue: { max_events: 5, max_bytes: 100000 },
          validation: {
            intercom_strict: true,
            max_string_chars: 10,
            overlong_strings: 'truncate',
            max_properties: 3,
            max_depth: 2,
            max_name_chars: 20,
            max_id_chars: 20,
            max_context_string_chars: 100,
            max_members: 5,
            max_event_bytes: 2000,
          },
          dedup: { window_ms: 1000, max_entries: 10, fingerprint: true },
          clock_offset: { window: 4, max_round_trip_ms: 5000 },
        };
        const { handle, error } = core.newTracker(all);
        assert.ok(handle, error);
        core.m._tally_tracker_free(handle);
      });

      const bad = [
        [{ batch: { max_evnts: 5 } }, /^batch\.max_evnts: unknown option/],
        [{ colour: 'red' }, /^colour: unknown option/],
        [{ write_key: 5 }, /^write_key: must be a string/],
        [{ batch: { max_events: 0 } }, /^batch\.max_events: must be a positive integer/],
        [{ batch: { max_events: 2.5 } }, /^batch\.max_events: must be a positive integer/],
        [{ batch: { max_age_ms: -1 } }, /^batch\.max_age_ms: must be a non-negative integer/],
        [{ queue: { max_bytes: '1000' } }, /^queue\.max_bytes: must be a positive integer/],
        [{ queue: [] }, /^queue: must be an object/],
        [{ validation: { overlong_strings: 'cut' } }, /^validation\.overlong_strings: must be "reject" or "truncate"/],
        [{ validation: { intercom_strict: 1 } }, /^validation\.intercom_strict: must be true or false/],
        [{ dedup: { fingerprint: 'yes' } }, /^dedup\.fingerprint: must be true or false/],
        [{ clock_offset: { window: 1e300 } }, /^clock_offset\.window: must be a positive integer/],
        ['[1,2]', /^options: must be a JSON object/],
        ['{"write_key": "a", "write_key": "b"}', /^options: .*duplicate key/],
        ['{"batch": ', /^options: /],
      ];
      for (const [options, message] of bad) {
        it(`refuses ${typeof options === 'string' ? options : JSON.stringify(options)} naming the field`, () => {
          const { handle, error } = core.newTracker(options);
          assert.equal(handle, 0);
          assert.match(error, message);
        });
      }

      it('refuses a missing seed', () => {
        const { handle, error } = core.newTracker({}, null);
        assert.equal(handle, 0);
        assert.match(error, /^seed: /);
      });

      it('refuses a null options pointer with a non-zero length', () => {
        const seed = core.put(new Uint8Array(32))[0];
        assert.equal(core.m._tally_tracker_new(0, 10, seed), 0);
        assert.match(core.cString(core.m._tally_last_create_error()), /^options: null pointer/);
        core.free(seed);
      });
    });

    describe('track', () => {
      it('returns 0, the encoded event and its UUIDv7 id', () => {
        const t = tracker({ write_key: 'wk' });
        const r = t.track(event({ properties: { price: 19.99, plan: 'pro' } }));
        assert.equal(r.code, Code.ok, r.out);
        assert.match(r.id, UUID_V7);
        const encoded = JSON.parse(r.out);
        assert.equal(encoded.event_id, r.id);
        assert.equal(encoded.created_at, T0);
        assert.deepEqual(encoded.properties, { price: 19.99, plan: 'pro' });
        assert.equal(t.queuedEvents(), 1);
        assert.equal(t.queuedBytes(), new TextEncoder().encode(r.out).length);
        t.free();
      });

      it('gives strictly increasing UUIDv7 ids carrying the clock, many per millisecond', () => {
        const t = tracker();
        const ids = [];
        for (let i = 0; i < 300; i++) {
          if (i === 200) t.setNow(T0 + 1);
          const r = t.track(event());
          assert.equal(r.code, Code.ok, r.out);
          ids.push(r.id);
        }
        for (const id of ids) assert.match(id, UUID_V7);
        for (let i = 1; i < ids.length; i++) assert.ok(ids[i - 1] < ids[i], `${ids[i - 1]} < ${ids[i]}`);
        assert.equal(uuidMs(ids[0]), T0);
        assert.equal(uuidMs(ids[299]), T0 + 1);
        t.free();
      });

      it('keeps a given event_id and created_at', () => {
        const t = tracker();
        const given = {
          event_id: '0193303e-3731-7c11-add4-51b26bcefab3',
          created_at: 1731681204017,
        };
        const r = t.track(event(given));
        assert.equal(r.code, Code.ok, r.out);
        assert.equal(r.id, given.event_id);
        assert.equal(JSON.parse(r.out).created_at, given.created_at);
        t.free();
      });

      it('refuses an event id it has already tracked (kDuplicate)', () => {
        const t = tracker();
        const given = event({
          event_id: '0193303e-3731-7c11-add4-51b26bcefab3',
        });
        assert.equal(t.track(given).code, Code.ok);
        const again = t.track(given);
        assert.equal(again.code, Code.duplicate);
        assert.match(again.out, /event_id/);
        assert.equal(t.queuedEvents(), 1);
        t.free();
      });

      // Bad input: each gets a specific error naming the field and the right code.
      const refused = [
        ['an empty name', event({ name: '' }), Code.invalidArgument, /^name/],
        ['a name of the wrong type', event({ name: 42 }), Code.invalidArgument, /^name/],
        ['an overlong name', event({ name: 'n'.repeat(256) }), null, /^name/],
        ['an overlong string property', event({ properties: { note: 'x'.repeat(256) } }), null, /^properties\.note/],
        ['a property with an empty key', event({ properties: { '': 1 } }), Code.invalidArgument, /^properties/],
        [
          'deep nesting in properties',
          event({ properties: { a: { b: { c: { d: { e: { f: 1 } } } } } } }),
          null,
          /^properties\.a/,
        ],
        [
          'a money value with an unknown currency',
          event({ properties: { total: { amount: 5, currency: 'XYZ' } } }),
          Code.invalidArgument,
          /^properties\.total/,
        ],
        ['a malformed date', event({ properties: { due: '2024-13-45' } }), Code.invalidArgument, /^properties\.due/],
        [
          'a link with spaces',
          event({ properties: { url: 'https://exa mple.com' } }),
          Code.invalidArgument,
          /^properties\.url/,
        ],
        ['an unknown event type', event({ type: 'shout' }), Code.invalidArgument, /^type/],
        ['a malformed event_id', event({ event_id: 'not-a-uuid' }), Code.invalidArgument, /^event_id/],
        ['a created_at before 2000', event({ created_at: 5 }), Code.invalidArgument, /^created_at/],
        ['properties that are not an object', event({ properties: [1, 2] }), Code.invalidArgument, /^properties/],
        [
          'an event with no user_id and no anonymous_id',
          { type: 'track', name: 'x' },
          Code.invalidArgument,
          /(user_id|anonymous_id)/,
        ],
        ['an unknown top-level field', event({ colour: 'red' }), Code.invalidArgument, /^colour/],
      ];
      for (const [what, ev, code, message] of refused) {
        it(`refuses ${what} with a message naming the field`, () => {
          const t = tracker();
          const r = t.track(ev);
          if (code === null) {
            assert.ok(r.code === Code.invalidArgument || r.code === Code.tooLarge, `code ${r.code}: ${r.out}`);
          } else {
            assert.equal(r.code, code, r.out);
          }
          assert.match(r.out, message);
          assert.equal(t.queuedEvents(), 0);
          t.free();
        });
      }

      const unparsable = [
        ['NaN', '{"type":"track","name":"x","anonymous_id":"a","properties":{"p":NaN}}'],
        ['Infinity', '{"type":"track","name":"x","anonymous_id":"a","properties":{"p":Infinity}}'],
        ['a number out of range', '{"type":"track","name":"x","anonymous_id":"a","properties":{"p":1e999}}'],
        ['duplicate keys', '{"type":"track","name":"x","name":"y","anonymous_id":"a"}'],
        ['truncated JSON', '{"type":"track","name":"x"'],
        ['trailing garbage', '{"type":"track","name":"x","anonymous_id":"a"} x'],
        ['an empty text', ''],
      ];
      for (const [what, text] of unparsable) {
        it(`refuses ${what} as a parse error`, () => {
          const t = tracker();
          const r = t.track(text);
          assert.equal(r.code, Code.parseError, r.out);
          assert.ok(r.out.length > 0);
          t.free();
        });
      }

      it('refuses invalid UTF-8 as a parse error', () => {
        const t = tracker();
        const bytes = new TextEncoder().encode('{"type":"track","name":"xx","anonymous_id":"a"}');
        bytes[24] = 0xff; // inside "xx" (byte 23 is its opening quote)
        const r = t.track(bytes);
        assert.equal(r.code, Code.parseError, r.out);
        assert.match(r.out, /UTF-8/i);
        t.free();
      });

      it('refuses hostile nesting without running out of stack', () => {
        const t = tracker();
        const deep =
          '{"type":"track","name":"x","anonymous_id":"a","properties":{"p":' +
          '['.repeat(100000) +
          ']'.repeat(100000) +
          '}}';
        const r = t.track(deep);
        assert.ok(r.code === Code.tooLarge || r.code === Code.parseError, `code ${r.code}: ${r.out}`);
        t.free();
      });

      it('refuses a huge event and stays usable', () => {
        const t = tracker({ validation: { max_string_chars: 10000000 } });
        const r = t.track(event({ properties: { blob: 'x'.repeat(2 * 1024 * 1024) } }));
        assert.equal(r.code, Code.tooLarge, r.out);
        assert.equal(t.track(event()).code, Code.ok);
        t.free();
      });

      it('truncates overlong strings when told to', () => {
        const t = tracker({
          validation: { overlong_strings: 'truncate', max_string_chars: 4 },
        });
        const r = t.track(event({ properties: { note: 'héllo wörld' } }));
        assert.equal(r.code, Code.ok, r.out);
        assert.equal(JSON.parse(r.out).properties.note, 'héll');
        t.free();
      });

      it('answers kResourceExhausted when the queue is full, and accepts again after an ack', () => {
        const t = tracker({ queue: { max_events: 2 } });
        assert.equal(t.track(event()).code, Code.ok);
        assert.equal(t.track(event()).code, Code.ok);
        const full = t.track(event());
        assert.equal(full.code, Code.resourceExhausted, full.out);
        assert.ok(full.out.length > 0);
        assert.equal(t.queuedEvents(), 2);
        assert.equal(t.nextBatch().count, 2);
        t.ack(2);
        assert.equal(t.track(event()).code, Code.ok);
        t.free();
      });
    });

    describe('batches', () => {
      it('keeps ids and created_at on a retry, with a new sent_at', () => {
        const t = tracker({ write_key: 'wk-1' });
        const ids = [0, 1, 2].map((i) => t.track(event({ name: `e${i}` })).id);
        const first = t.nextBatch();
        assert.equal(first.count, 3);
        const a = JSON.parse(first.body);
        assert.equal(a.write_key, 'wk-1');
        assert.equal(a.sent_at, T0);
        assert.deepEqual(
          a.events.map((e) => e.event_id),
          ids,
        );
        assert.deepEqual(
          a.events.map((e) => e.created_at),
          [T0, T0, T0],
        );

        t.setNow(T0 + 5000); // the send failed; retry later
        const retry = t.nextBatch();
        assert.equal(retry.count, 3);
        const b = JSON.parse(retry.body);
        assert.equal(b.sent_at, T0 + 5000);
        assert.deepEqual(b.events, a.events);

        t.ack(3);
        assert.equal(t.queuedEvents(), 0);
        assert.equal(t.nextBatch().count, 0);
        t.free();
      });

      it('says a batch is due on count and on age', () => {
        const t = tracker({ batch: { max_events: 2, max_age_ms: 1000 } });
        assert.equal(t.msUntilDue(), -1);
        t.track(event());
        assert.equal(t.batchDue(), 0);
        assert.equal(t.msUntilDue(), 1000);
        t.setNow(T0 + 1000);
        assert.equal(t.batchDue(), 1);
        assert.equal(t.msUntilDue(), 0);
        t.setNow(T0);
        t.track(event());
        assert.equal(t.batchDue(), 1);
        t.free();
      });

      it('keeps a batch within max_bytes', () => {
        const t = tracker();
        for (let i = 0; i < 10; i++) t.track(event({ properties: { i } }));
        const small = t.nextBatch(600);
        assert.ok(small.count >= 1 && small.count < 10, `count ${small.count}`);
        assert.ok(new TextEncoder().encode(small.body).length <= 600);
        assert.equal(JSON.parse(small.body).events.length, small.count);
        t.free();
      });

      it('acks no more than is queued', () => {
        const t = tracker();
        t.track(event());
        t.ack(1000);
        assert.equal(t.queuedEvents(), 0);
        assert.equal(t.track(event()).code, Code.ok);
        t.free();
      });
    });

    describe('snapshot and restore', () => {
      it('restores the queue into a new tracker with the same ids and created_at', () => {
        const a = tracker({ write_key: 'wk' });
        for (let i = 0; i < 3; i++) {
          a.setNow(T0 + i);
          a.track(event({ name: `e${i}` }));
        }
        const snap = a.snapshot();
        assert.equal(snap.code, 3);
        assert.equal(snap.out.trim().split('\n').length, 3);
        const before = JSON.parse(a.nextBatch().body).events;

        const b = tracker({ write_key: 'wk' });
        const r = b.restore(snap.out);
        assert.deepEqual([r.restored, r.dropped], [3, 0]);
        assert.deepEqual(r.codes, [1, 1, 1, 0]); // the snapshot ends with a newline: a blank line
        const after = JSON.parse(b.nextBatch().body).events;
        assert.deepEqual(after, before);

        // Restoring the same snapshot again (a second tab, a reload) duplicates nothing.
        const again = b.restore(snap.out);
        assert.deepEqual(again.codes, [0, 0, 0, 0]);
        assert.equal(b.queuedEvents(), 3);
        a.free();
        b.free();
      });

      it('drops lines that do not decode and keeps the rest', () => {
        const a = tracker();
        a.track(event());
        const good = a.snapshot().out.trim();
        const b = tracker();
        const r = b.restore(`${good}\r\nnot json\n{"event_id":"x"}\n \t`);
        assert.deepEqual(r.codes, [1, Code.invalidArgument, Code.invalidArgument, 0]);
        a.free();
        b.free();
      });

      it('says resource exhausted for each line that finds the queue full', () => {
        const a = tracker();
        for (let i = 0; i < 3; i++) a.track(event());
        const b = tracker({ queue: { max_events: 2 } });
        const r = b.restore(a.snapshot().out);
        assert.deepEqual(r.codes, [1, 1, Code.resourceExhausted, 0]);
        assert.equal(b.queuedEvents(), 2);
        a.free();
        b.free();
      });

      it('snapshots an empty queue as an empty text', () => {
        const t = tracker();
        const s = t.snapshot();
        assert.equal(s.code, 0);
        assert.equal(s.out, '');
        t.free();
      });
    });

    describe('clock offset', () => {
      it('is NaN before a sample, then collector − device from the fastest round trip', () => {
        const t = tracker({ write_key: 'wk' });
        assert.ok(Number.isNaN(t.clockOffset()));
        t.onServerTime(T0, T0 + 100, T0 + 4050); // offset 4050 − 50 = 4000
        assert.equal(t.clockOffset(), 4000);
        t.onServerTime(T0, T0 + 3000, T0 + 9000); // a slow outlier does not move it
        assert.equal(t.clockOffset(), 4000);
        t.track(event());
        assert.equal(JSON.parse(t.nextBatch().body).clock_offset_ms, 4000);
        t.free();
      });

      it('ignores non-finite times', () => {
        const t = tracker();
        t.onServerTime(NaN, T0, T0);
        t.onServerTime(T0, Infinity, T0);
        t.onServerTime(T0, T0, -Infinity);
        assert.ok(Number.isNaN(t.clockOffset()));
        t.free();
      });
    });

    describe('clock', () => {
      it('reads Date.now() once the test override is cleared with NaN', () => {
        const t = tracker();
        t.setNow(NaN);
        const lo = Date.now();
        const r = t.track(event());
        const hi = Date.now();
        const createdAt = JSON.parse(r.out).created_at;
        assert.ok(createdAt >= lo && createdAt <= hi, `${lo} <= ${createdAt} <= ${hi}`);
        t.free();
      });
    });

    describe('defensive calls', () => {
      it('answers a null handle with error codes, never a trap', () => {
        const m = core.m;
        assert.equal(m._tally_track(0, 0, 0), Code.invalidArgument);
        assert.equal(m._tally_restore(0, 0, 0), Code.invalidArgument);
        assert.equal(m._tally_snapshot(0), Code.invalidArgument);
        assert.equal(m._tally_batch_due(0), Code.invalidArgument);
        assert.equal(m._tally_next_batch(0, 0), Code.invalidArgument);
        assert.ok(Number.isNaN(m._tally_ms_until_due(0)));
        assert.ok(Number.isNaN(m._tally_clock_offset(0)));
        assert.equal(m._tally_queued_events(0), 0);
        assert.equal(m._tally_queued_bytes(0), 0);
        assert.equal(m._tally_out_ptr(0), 0);
        assert.equal(m._tally_out_len(0), 0);
        assert.equal(m._tally_last_id_ptr(0), 0);
        m._tally_ack(0, 5);
        m._tally_on_server_time(0, 1, 2, 3);
        m._tally_set_now_for_test(0, 1);
        m._tally_tracker_free(0);
        m._tally_free(0);
      });

      it('answers a null pointer with a non-zero length with -1 and a message', () => {
        const t = tracker();
        assert.equal(core.m._tally_track(t.h, 0, 100), Code.invalidArgument);
        assert.match(t.out(), /^event: null pointer/);
        assert.equal(core.m._tally_restore(t.h, 0, 100), Code.invalidArgument);
        assert.match(t.out(), /^line: null pointer/);
        t.free();
      });

      it('answers a length that runs past memory with -1 and a message, not a trap', () => {
        const t = tracker();
        const [ptr] = core.put('{}');
        assert.equal(core.m._tally_track(t.h, ptr, 0x7ffffff0), Code.invalidArgument);
        assert.match(t.out(), /^event: pointer \+ length outside memory/);
        assert.equal(core.m._tally_restore(t.h, ptr, 0xfffffff0), Code.invalidArgument);
        assert.match(t.out(), /^line: pointer \+ length outside memory/);
        assert.equal(core.m._tally_tracker_new(ptr, 0x7ffffff0, ptr), 0);
        assert.match(core.cString(core.m._tally_last_create_error()), /^options: pointer \+ length outside memory/);
        core.free(ptr);
        assert.equal(t.track(event()).code, Code.ok);
        t.free();
      });

      it('survives random garbage bytes and stays usable', () => {
        const t = tracker();
        let seed = 12345;
        const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
        for (let i = 0; i < 200; i++) {
          const bytes = new Uint8Array(1 + (i % 64)).map(() => rand());
          const r = t.track(bytes);
          assert.ok(r.code < 0, `garbage accepted: ${r.out}`);
          assert.ok(t.restoreLine(bytes) <= 0);
        }
        assert.equal(t.track(event()).code, Code.ok);
        t.free();
      });
    });
  });
}
