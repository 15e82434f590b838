// The Wasm and asm.js builds encode batches byte for byte as the native core does: the seed
// events are tracked into the module (clock pinned with tally_set_now_for_test) and into a native
// tally::Tracker (tests/js/tools/tally_encode.cc), and the batch bodies are compared.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { BUILDS, Core, buildDir, fixturesDir } from './core-module.mjs';

const NOW = 1731690000000;
const WRITE_KEY = 'wk_roundtrip';
const tool = path.join(buildDir, 'tests/js/tally_encode');
// The shared seed events (they carry event_id and created_at), and our own lines for what the
// seed lacks: fractions, exponents, subnormals, escapes, nesting, and events both sides refuse
// (without event_id: both sides make the same ids from the same seed and clock).
const FIXTURES = [
  { file: path.join(fixturesDir, 'seed-events.ndjson'), refusedLines: null },
  { file: path.join(import.meta.dirname, 'roundtrip-extra.ndjson'), refusedLines: [7, 8, 9, 10, 11, 12, 13, 14] },
];

// Runs the native encoder: { bodies: [...], refused: Map(index -> {code, message}) }.
function native(seedFile) {
  assert.ok(existsSync(tool), `${tool} missing: build the native tree (scripts/build.sh native)`);
  const run = spawnSync(tool, [seedFile, String(NOW), WRITE_KEY], { encoding: 'utf8' });
  assert.equal(run.status, 0, `tally_encode failed: ${run.stderr}`);
  const result = { bodies: run.stdout.split('\n').filter((l) => l.length > 0), refused: new Map() };
  for (const line of run.stderr.split('\n')) {
    if (!line.startsWith('refused\t')) continue;
    const [, index, code, message] = line.split('\t');
    result.refused.set(Number(index), { code: Number(code), message });
  }
  return result;
}

function eventLines(seedFile) {
  return readFileSync(seedFile, 'utf8').split('\n').filter((l) => l.length > 0);
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
        assert.deepEqual(refused, expected.refused);
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
