// The dashboard in headless Chromium against a real tally-collector process (--demo keys):
// events go in through /v1/batch, the page is opened, the read key entered once, and every
// figure, the chart's data and the tables are compared with the report API's own answers.
// Conditions are polled, never timed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { launch } from '../sdk/support/browser.mjs';
import { freePort } from '../e2e/support.mjs';

const root = process.env.TALLY_ROOT ?? new URL('../../..', import.meta.url).pathname;
const buildDir = process.env.TALLY_BUILD_DIR ?? join(root, 'build/native');
const binary = join(buildDir, 'collector/tally-collector');
const TZ = 'Europe/Paris';

let proc, dir, base, browser;

async function waitFor(fn, what, attempts = 400) {
  for (let i = 0; i < attempts; i++) {
    try {
      const v = await fn();
      if (v) return v;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

// UUIDv7 from a time: 48-bit ms, version 7, random rest.
function uuidv7(ms) {
  const hex = ms.toString(16).padStart(12, '0');
  const r = randomUUID().replace(/-/g, '');
  return `${hex.slice(0, 8)}-${hex.slice(8)}-7${r.slice(13, 16)}-${'89ab'[parseInt(r[16], 16) & 3]}${r.slice(17, 20)}-${r.slice(20, 32)}`;
}

async function post(events) {
  const now = Date.now();
  const res = await fetch(`${base}/v1/batch`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ write_key: 'wk_demo', sent_at: now, events }),
  });
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.equal(body.rejected.length, 0, JSON.stringify(body));
}

function ev(name, user, minutesAgo, props = {}) {
  const t = Date.now() - minutesAgo * 60000;
  return {
    event_id: uuidv7(t),
    type: 'track',
    name,
    user_id: user,
    anonymous_id: `anon-${user}`,
    session_id: `s-${user}`,
    created_at: t,
    properties: props,
    context: {},
  };
}

async function api(path, params = {}) {
  const res = await fetch(`${base}${path}?${new URLSearchParams(params)}`, {
    headers: { Authorization: 'Bearer rk_demo' },
  });
  assert.equal(res.status, 200);
  return res.json();
}

before(async () => {
  assert.ok(existsSync(binary), `collector not built at ${binary}`);
  dir = mkdtempSync(join(tmpdir(), 'tally-dashboard-'));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  proc = spawn(
    binary,
    [
      '--demo',
      '--listen',
      `127.0.0.1:${port}`,
      '--store',
      `sqlite:${join(dir, 'tally.db')}`,
      '--min-free-disk-bytes',
      '0',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  await waitFor(async () => (await fetch(`${base}/healthz`)).ok, 'the collector');
  const events = [];
  const users = ['C-1', 'C-2', 'C-3', 'C-4'];
  users.forEach((u, i) => {
    events.push(ev('impression', u, 600 + i, { channel: i % 2 ? 'email' : 'web' }));
    if (i < 3) events.push(ev('click', u, 500 + i, { channel: 'email' }));
    if (i < 1) events.push(ev('conversion', u, 400, { channel: 'web', revenue: 25 }));
  });
  for (let d = 1; d <= 3; d++) events.push(ev('impression', 'C-9', d * 1440 + 30, { channel: 'push' }));
  await post(events);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  if (proc) {
    proc.kill('SIGTERM');
    await new Promise((r) => proc.once('exit', r));
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('dashboard shows the figures, chart and tables the API answers', async () => {
  const context = await browser.newContext({ timezoneId: TZ });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()}`));
  await page.goto(`${base}/`);
  await page.fill('#key-input', 'rk_demo');
  await page.click('#key-form button[type=submit]');
  await page.waitForSelector('body[data-ready="true"]');

  const to = Date.now() + 1;
  const range = { from: String(to - 7 * 86400000), to: String(to) };
  const overview = await api('/v1/stats/overview', range);
  assert.equal(overview.events, 11);
  const fig = async (id) => Number((await page.textContent(id)).replace(/[^0-9]/g, ''));
  assert.equal(await fig('#fig-events'), overview.events);
  assert.equal(await fig('#fig-users'), overview.users);
  assert.equal(await fig('#fig-sessions'), overview.sessions);

  const topRows = await page.$$eval('#top-events tbody tr', (rows) =>
    rows.map((r) => [...r.cells].map((c) => c.textContent)),
  );
  assert.deepEqual(
    topRows.map(([name, count]) => [name, Number(count)]),
    overview.top_events.map((e) => [e.name, e.count]),
  );

  // The chart: uPlot drew a canvas; its data (the accessible table beside it) is the API's series.
  await page.waitForSelector('#ts-chart canvas');
  const ts = await api('/v1/stats/timeseries', {
    ...range,
    tz: TZ,
    interval: 'day',
    metric: 'events',
  });
  const points = await page.$$eval('#ts-table tbody tr', (rows) =>
    rows.map((r) => [r.cells[0].textContent, Number(r.cells[1].textContent)]),
  );
  assert.deepEqual(
    points,
    ts.points.map((p) => [p.time, p.value]),
  );
  assert.equal(Number(await page.getAttribute('#ts-chart', 'data-total')), overview.events);
  assert.ok(points.some(([, v]) => v > 0));

  const breakdown = await api('/v1/stats/breakdown', {
    ...range,
    by: 'prop.channel',
    limit: '10',
  });
  const bdRows = await page.$$eval('#breakdown tbody tr', (rows) =>
    rows.map((r) => [r.cells[0].textContent, Number(r.cells[1].textContent)]),
  );
  assert.deepEqual(
    bdRows,
    breakdown.rows.map((r) => [r.value ?? '(none)', r.count]),
  );

  // Funnel builder.
  await page.fill('#funnel-steps', 'impression,click,conversion');
  await page.click('#funnel-form button');
  await page.waitForFunction(() => document.querySelectorAll('#funnel tbody tr').length === 3);
  const funnel = await api('/v1/stats/funnel', {
    ...range,
    steps: 'impression,click,conversion',
  });
  const users = await page.$$eval('#funnel tbody tr', (rows) =>
    rows.map((r) => Number(r.cells[1].textContent.replace(/[^0-9]/g, ''))),
  );
  assert.deepEqual(
    users,
    funnel.steps.map((s) => s.users),
  );
  assert.deepEqual(users, [5, 3, 1]);

  // User timeline.
  await page.fill('#user-id', 'C-1');
  await page.click('#user-form button');
  await page.waitForFunction(() => document.querySelectorAll('#user-summary tbody tr').length > 0);
  const summary = await api('/v1/users/C-1/summary');
  const sumRows = await page.$$eval('#user-summary tbody tr', (rows) =>
    rows.map((r) => [r.cells[0].textContent, Number(r.cells[1].textContent)]),
  );
  assert.deepEqual(
    sumRows,
    summary.events.map((e) => [e.name, e.count]),
  );
  assert.equal(await page.$$eval('#user-events li', (li) => li.length), summary.total);

  // Live tail: a new event shows up without a reload.
  await post([ev('live-tail-probe', 'C-7', 0)]);
  await page.waitForFunction(() => document.querySelector('#tail').textContent.includes('live-tail-probe'));

  // The key is kept: a reload goes straight to the dashboard.
  await page.reload();
  await page.waitForSelector('body[data-ready="true"]');
  assert.equal(await page.isVisible('#key-form'), false);
  assert.deepEqual(errors, []);
  await context.close();
});

test('a write key is refused and the key form says why', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${base}/`);
  await page.fill('#key-input', 'wk_demo');
  await page.click('#key-form button[type=submit]');
  await page.waitForFunction(() => document.querySelector('#key-error').textContent.includes('read key'));
  assert.equal(await page.isVisible('#key-form'), true);
  assert.equal(await page.evaluate(() => localStorage.getItem('tally.readKey')), null);
  await context.close();
});

test('the dashboard source type-checks under strict TypeScript', () => {
  execFileSync(join(root, 'node_modules/.bin/tsc'), ['-p', join(root, 'collector/report/dashboard/tsconfig.json')], {
    stdio: 'inherit',
  });
});
