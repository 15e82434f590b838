// The script tag's lite core does not validate events in the page (wasm/exports-lite.txt,
// docs/DECISIONS.md): the REAL collector does, with the same C++ rules. A script-tag page tracks
// one invalid event among valid ones; the valid ones are stored, the invalid one comes back as a
// 'dropped' and an 'error' event carrying the collector's message, which names the field.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSdk } from '../sdk/support/core.mjs';
import { html, snippet } from '../sdk/support/browser.mjs';
import { startServer } from '../sdk/support/server.mjs';
import { allEvents, cleanup, launch, startCollector, tempDir, waitFor } from './support.mjs';

let dir;
let srv;
let collector;
let browser;

before(async () => {
  const sdk = buildSdk();
  dir = tempDir('tally-lite-e2e-');
  // The page server (pages and the built SDK only: its own /v1/batch is never used here).
  srv = await startServer({
    dist: sdk.dist,
    pages: {
      '/page': () =>
        html(
          snippet('/sdk/tally.js', {
            'write-key': 'wk_demo',
            endpoint: collectorBase(),
            storage: 'memory',
            'auto-track': 'false',
          }),
        ),
    },
  });
  collector = await startCollector({ dir, siteOrigins: [srv.origin] });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await srv?.close();
  await collector?.kill('SIGTERM');
  cleanup(dir);
});

function collectorBase() {
  return collector.base;
}

test('an invalid event from a script-tag page is rejected by the collector, naming the field; the valid ones are stored', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(srv.origin + '/page');
  await page.waitForFunction(() => window.tally?._loaded && window.tally.getInstance());
  const result = await page.evaluate(async () => {
    const t = await window.tally.init();
    const dropped = [];
    const errs = [];
    t.on('dropped', (d) => dropped.push(d));
    t.on('error', (e) => errs.push({ code: e.code, message: e.message }));
    const ids = {
      first: t.track('Lite Valid One', { plan: 'pro' }),
      bad: t.track('Lite Too Long', { plan: 'x'.repeat(300) }),
      second: t.track('Lite Valid Two', { n: 2 }),
    };
    const flushed = await t.flush();
    return { ids, dropped, errs, flushed, kind: t.coreKind };
  });
  assert.equal(result.kind, 'wasm');
  // Queued in the page as given: the lite core cannot judge a property's length.
  assert.ok(result.ids.bad, 'track() returned an id for the invalid event');
  assert.deepEqual(result.flushed, { delivered: 2, queued: 0 });

  const stored = await waitFor(async () => {
    const events = await allEvents(collector.base);
    return events.length >= 2 && events;
  }, 'the two valid events in the store');
  assert.deepEqual(stored.map((e) => e.name).sort(), ['Lite Valid One', 'Lite Valid Two']);
  assert.deepEqual(stored.map((e) => e.event_id).sort(), [result.ids.first, result.ids.second].sort());

  assert.equal(result.dropped.length, 1);
  assert.deepEqual(result.dropped[0].ids, [result.ids.bad]);
  assert.match(result.dropped[0].reason, /properties\.plan/);
  const err = result.errs.find((e) => e.code === 'dropped');
  assert.ok(err, JSON.stringify(result.errs));
  // The collector's message as it is: it names the event and the field once.
  assert.match(err.message, /^events\[1\]\.properties\.plan: longer than 255 characters \(300\)$/);
  assert.deepEqual(errors, []);
  await context.close();
});
