// The Wasm and asm.js builds encode batches byte for byte as the native core does: the seed
// events are tracked into the module (clock pinned with tally_set_now_for_test) and into a native
// tally::Tracker (tests/js/tools/tally_encode.cc), and the batch bodies are compared.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { BUILDS, Code, Core, buildDir, fixturesDir } from './core-module.mjs';

const NOW = 1731690000000;
const WRITE_KEY = 'wk_roundtrip';
const tool = path.join(buildDir, 'tests/js/tally_encode');
// The shared seed events (they carry event_id and created_at), and our own lines for what the
// seed lacks: fractions, exponents, subnormals, escapes, nesting, and events both sides refuse
// (without event_id: both sides make the same ids from the same seed and clock).
const FIXTURES = [
  { file: path.join(fixturesDir, 'seed-events.ndjson'), refusedLines: null },
  {
    file: path.join(import.meta.dirname, 'roundtrip-extra.ndjson'),
    refusedLines: [7, 8, 9, 10, 11, 12, 13, 14],
  },
  { file: numberFixture(), refusedLines: [] },
];

// Thousands of doubles, written as events, for the number writer: random bit patterns,
// subnormals, every power of two, short decimals at every scale, and exact ties of printf's half-to-even rounding
// (x = M / 2^q with 16 or 17 significant digits, the last a 5), where a formatter that rounds
// ties away from zero, as JavaScript's toExponential does, would write a different digit.
function numberFixture() {
  let state = 0x9e3779b9;
  const rand = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
  const bits = new DataView(new ArrayBuffer(8));
  const values = [
    8.0000152587890625, 9.9999847412109375, 80.000030517578125, 12345678901234.625, 10000000.001953125, 0.1, 0.2,
    0.30000000000000004, 1e-7, 123e-20, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 4.35, 0.5, 2.5, 1e21,
    1e22, 9007199254740993, 1.5e17,
  ];
  for (let i = 0; i < 600; i++) {
    // random finite bit patterns
    bits.setUint32(0, (rand() * 4294967296) >>> 0);
    bits.setUint32(4, (rand() * 4294967296) >>> 0);
    const x = bits.getFloat64(0);
    if (Number.isFinite(x)) values.push(x);
  }
  for (let i = 0; i < 100; i++) values.push(rand() * 2 ** -1022); // subnormals
  // Every power of two: the only doubles whose rounding interval is lopsided, where the shortest
  // digits (JavaScript's) and printf's first precision that reads back can part (wasm/js_numbers.js).
  for (let k = -1074; k <= 1023; k++) values.push(2 ** k, -(2 ** k));
  for (let i = 0; i < 600; i++) {
    // short decimals: 1-17 digits, exponents -30..30
    const digits = String(Math.floor(rand() * 1e17)).slice(0, 1 + Math.floor(rand() * 17));
    values.push(Number(`${digits}e${Math.floor(rand() * 61) - 30}`));
  }
  for (let q = 1; q <= 24; q++) {
    // ties at 17 and 16 significant digits
    for (const sig of [17, 16]) {
      const lo = 5 * 10 ** (sig - 1 - q),
        hi = 10 ** (sig - q);
      for (let k = 0; k < 8; k++) {
        let m = Math.floor((lo + rand() * (hi - lo)) * 2 ** q);
        if (m % 2 === 0) m += 1;
        if (m < Number.MAX_SAFE_INTEGER) values.push(m / 2 ** q, -m / 2 ** q);
      }
    }
  }
  const lines = [];
  for (let i = 0; i < values.length; i += 100) {
    const xs = values.slice(i, i + 100);
    lines.push(
      `{"type":"track","name":"numbers","anonymous_id":"a","created_at":1731681204017,"properties":{"xs":[${xs.map(String).join(',')}]}}`,
    );
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tally-numbers-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'numbers.ndjson');
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

// Runs the native encoder: { bodies: [...], refused: Map(index -> {code, message}) }.
function native(seedFile) {
  assert.ok(existsSync(tool), `${tool} missing: build the native tree (scripts/build.sh native)`);
  const run = spawnSync(tool, [seedFile, String(NOW), WRITE_KEY], {
    encoding: 'utf8',
  });
  assert.equal(run.status, 0, `tally_encode failed: ${run.stderr}`);
  const result = {
    bodies: run.stdout.split('\n').filter((l) => l.length > 0),
    refused: new Map(),
  };
  for (const line of run.stderr.split('\n')) {
    if (!line.startsWith('refused\t')) continue;
    const [, index, code, message] = line.split('\t');
    result.refused.set(Number(index), { code: Number(code), message });
  }
  return result;
}

function eventLines(seedFile) {
  return readFileSync(seedFile, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0);
}

for (const { file: seedFile, refusedLines } of FIXTURES) {
  describe(`round trip against the native encoder: ${path.basename(seedFile)}`, () => {
    let expected;
    before(() => {
      expected = native(seedFile);
    });

    it('the native encoder accepts or refuses every line', () => {
      const accepted = expected.bodies.reduce((n, b) => n + JSON.parse(b).events.length, 0);
      assert.ok(accepted > 0);
      assert.equal(accepted + expected.refused.size, eventLines(seedFile).length);
      if (refusedLines) assert.deepEqual([...expected.refused.keys()], refusedLines);
    });

    for (const build of BUILDS) {
      it(`${build.name}: refuses the same events with the same codes and messages`, async () => {
        const core = new Core(await build.load());
        const t = core.tracker({ write_key: WRITE_KEY });
        t.setNow(NOW);
        const refused = new Map();
        eventLines(seedFile).forEach((line, index) => {
          const r = t.track(line);
          if (r.code !== 0) refused.set(index, { code: r.code, message: r.out });
        });
        // The module's JSON faults keep their code and byte offset but not their detail
        // (TALLY_JSON_LITE, sdk/src/json_reader.cc): `at byte 23: expected a JSON value` where
        // the native reader adds `, got end of text`. Every other message must be identical.
        const brief = (refusals) =>
          new Map(
            [...refusals].map(([line, r]) => [
              line,
              r.code === Code.parseError ? { code: r.code, message: r.message.replace(/^(at byte \d+:).*/s, '$1') } : r,
            ]),
          );
        assert.deepEqual(brief(refused), brief(expected.refused));
        t.free();
      });

      it(`${build.name}: builds batch bodies byte-identical to the native encoder's`, async () => {
        const core = new Core(await build.load());
        const t = core.tracker({ write_key: WRITE_KEY });
        t.setNow(NOW);
        for (const line of eventLines(seedFile)) t.track(line);
        const bodies = [];
        for (;;) {
          const { count, body } = t.nextBatch();
          if (count === 0) break;
          bodies.push(body);
          t.ack(count);
        }
        assert.equal(bodies.length, expected.bodies.length);
        for (let i = 0; i < bodies.length; i++) assert.equal(bodies[i], expected.bodies[i]);
        t.free();
      });
    }
  });
}
