// Shared pieces of the end-to-end suites: the real collector (from TALLY_BUILD_DIR) with the
// demo workspace, the real demo site (demo/server.mjs, the esbuild-bundled app, js/dist), the
// report API read with rk_demo, Chromium, and bounded polling (never fixed sleeps).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch } from '../sdk/support/browser.mjs';

export const root = process.env.TALLY_ROOT || resolve(fileURLToPath(new URL('../../..', import.meta.url)));
export const buildDir = process.env.TALLY_BUILD_DIR || join(root, 'build/native');
export const collectorBin = join(buildDir, 'collector/tally-collector');
export const dist = join(root, 'js/dist');

export function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
    s.on('error', fail);
  });
}

/** Polls fn (every `every` ms) until it returns a truthy value; throws after timeoutMs. */
export async function waitFor(fn, what, { timeoutMs = 30000, every = 100 } = {}) {
  const end = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${last})`);
    await new Promise((r) => setTimeout(r, every));
  }
}

export function tempDir(prefix) {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * The collector as scripts/demo.sh starts it: workspace demo (wk_demo for the site's origin,
 * rk_demo), SQLite in `dir`. kill(signal) and start() let a test stop and restart it on the
 * same port and database.
 */
export async function startCollector({ dir, siteOrigins = [], port, extraConfig = {} }) {
  if (!existsSync(collectorBin)) throw new Error(`collector not built at ${collectorBin} (set TALLY_BUILD_DIR)`);
  port ??= await freePort();
  const config = join(dir, 'collector.json');
  writeFileSync(
    config,
    JSON.stringify({
      min_free_disk_bytes: 0,
      ...extraConfig,
      workspaces: [
        {
          name: 'demo',
          sources: [{ name: 'demo-site', write_key: 'wk_demo', origins: siteOrigins }],
          read_keys: ['rk_demo'],
        },
      ],
    }),
  );
  const c = {
    port,
    base: `http://127.0.0.1:${port}`,
    proc: null,
    starts: 0,
    async start() {
      const proc = spawn(
        collectorBin,
        ['--config', config, '--listen', `127.0.0.1:${port}`, '--store', `sqlite:${join(dir, 'tally.db')}`],
        {
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      let log = '';
      proc.stderr.on('data', (d) => (log = (log + d).slice(-4000)));
      proc.exited = new Promise((r) => proc.once('exit', (code, signal) => r({ code, signal })));
      c.proc = proc;
      c.starts++;
      await waitFor(async () => {
        if (proc.exitCode !== null) throw new Error(`collector exited: ${log}`);
        return (await fetch(`${c.base}/healthz`)).ok;
      }, 'the collector to answer /healthz');
    },
    async kill(signal = 'SIGKILL') {
      const p = c.proc;
      if (!p || p.exitCode !== null || p.signalCode !== null) return;
      p.kill(signal);
      await p.exited;
    },
  };
  await c.start();
  return c;
}

/** The demo site (demo/server.mjs) with the bundled app, talking to `collector`. */
export async function startSite({ collectorBase, port = 0, appDir }) {
  const { buildApp } = await import(join(root, 'demo/build.mjs'));
  const { startDemoServer } = await import(join(root, 'demo/server.mjs'));
  await buildApp(appDir);
  return startDemoServer({
    port,
    collector: collectorBase,
    readKey: 'rk_demo',
    dist,
    appDir,
  });
}

/** GET a report route with the read key; returns the JSON (asserts 200). */
export async function api(base, path, params = {}) {
  const res = await fetch(`${base}${path}?${new URLSearchParams(params)}`, {
    headers: { authorization: 'Bearer rk_demo' },
  });
  const body = await res.json();
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${JSON.stringify(body)}`);
  return body;
}

/** Every stored event matching the filters, oldest first (all pages of /v1/events, all time). */
export async function allEvents(base, filters = {}) {
  const out = [];
  let cursor;
  do {
    const page = await api(base, '/v1/events', {
      from: '0',
      limit: '1000',
      order: 'asc',
      ...filters,
      ...(cursor ? { cursor } : {}),
    });
    out.push(...page.events);
    cursor = page.next_cursor;
  } while (cursor);
  return out;
}

/** A fresh visitor: its own browser context (storage), a tall viewport so every block is seen. */
export async function newVisitor(browser) {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 2400 },
  });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  return { context, page, errors };
}

/** The visitor's anonymous id, read from the SDK once it has loaded on the current page. */
export async function idsOf(page) {
  await page.waitForFunction(() => window.tally && window.tally._loaded && window.tally.getInstance());
  return page.evaluate(() => window.tally.init().then((t) => t.ids()));
}

export function cleanup(dir) {
  if (dir) rmSync(dir, { recursive: true, force: true });
}

/** name -> count of a list of events. */
export function countByName(events) {
  const m = {};
  for (const e of events) m[e.name] = (m[e.name] || 0) + 1;
  return m;
}

// The whole demo stack for one test file: a collector on a temp SQLite file, the demo site on a
// free port allowed by the collector, and one Chromium. `stop()` tears it down in reverse order.
export async function startDemoStack(prefix) {
  const dir = tempDir(prefix);
  const sitePort = await freePort();
  const collector = await startCollector({ dir, siteOrigins: [`http://127.0.0.1:${sitePort}`] });
  const site = await startSite({ collectorBase: collector.base, port: sitePort, appDir: join(dir, 'app') });
  const browser = await launch();
  return {
    dir,
    collector,
    site,
    browser,
    async stop() {
      await browser.close();
      await site.close();
      await collector.kill('SIGTERM');
      cleanup(dir);
    },
  };
}

export { launch, persistedCount } from '../sdk/support/browser.mjs';
