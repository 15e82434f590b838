// The load-and-fault run in its short CI configuration (bench/fault/run.mjs): 16 clients send
// batches with retries for 15 s while the collector is SIGKILLed and restarted 4 times; every
// event generated must be stored exactly once, including every event acknowledged before a
// kill. The counts are printed (the longer run's figures are in docs/RELIABILITY.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { root, buildDir } from './support.mjs';

test('SIGKILL and restart under load: every acknowledged event once, retries deliver the rest', async (t) => {
  const { runFault } = await import(join(root, 'bench/fault/run.mjs'));
  const c = await runFault({
    clients: 16,
    seconds: 15,
    kills: 4,
    maxBatch: 50,
    drainSeconds: 60,
    buildDir,
  });
  console.log(`fault run: ${JSON.stringify(c)}`);
  t.diagnostic(
    `generated ${c.generated}, stored ${c.stored_rows} (${c.stored_distinct} distinct), kills ${c.kills}, retries ${c.retries}, duplicates answered ${c.reported_duplicates}`,
  );
  assert.ok(c.kills >= 4, 'the collector was killed');
  assert.ok(c.retries > 0, 'some batches needed a retry');
  assert.equal(c.unacked_at_deadline, 0, 'every batch acknowledged in the end');
  assert.equal(c.missing, 0, 'no event lost');
  assert.equal(c.acked_before_a_kill_missing, 0, 'no acknowledged event lost to a kill');
  assert.equal(c.stored_twice, 0, 'no event stored twice');
  assert.equal(c.unknown, 0);
  assert.equal(c.stored_rows, c.generated);
  assert.equal(c.reported_accepted + c.reported_duplicates, c.generated);
  assert.ok(c.ok);
});
