// The README's main command, run as a user runs it: scripts/demo.sh (what `make demo` calls) in
// its own process group, on free ports and a temp data folder. It must print the URLs, serve the
// demo pages, the bundled app, the SDK and the dashboard, refuse a second start on the same
// ports, stop cleanly on Ctrl-C (SIGINT to the group), and start again on the same data.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createConnection } from 'node:net';
import { root, buildDir, freePort, tempDir, cleanup, waitFor } from './support.mjs';

let dir, env;

before(async () => {
  dir = tempDir('tally-e2e-demo-');
  env = {
    ...process.env,
    DEMO_COLLECTOR_PORT: String(await freePort()),
    DEMO_SITE_PORT: String(await freePort()),
    DEMO_DATA_DIR: dir,
    TALLY_BUILD_DIR: buildDir,
  };
});
after(() => cleanup(dir));

/** Starts scripts/demo.sh in its own process group; resolves once it printed its URLs. */
function startDemo() {
  const proc = spawn(join(root, 'scripts/demo.sh'), [], {
    cwd: root,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const run = { proc, out: '' };
  proc.stdout.on('data', (d) => (run.out += d));
  proc.stderr.on('data', (d) => (run.out += d));
  run.exited = new Promise((r) => proc.once('exit', (code, signal) => r({ code, signal })));
  // Resolves with the printed URLs; rejects if demo.sh exits first.
  run.urls = () =>
    Promise.race([
      run.exited.then(({ code }) => {
        throw new Error(`demo.sh exited ${code} before printing its URLs:\n${run.out}`);
      }),
      waitFor(
        () => {
          if (proc.exitCode !== null || proc.signalCode !== null) return { exited: true }; // the race has rejected
          const site = run.out.match(/demo site:\s+(http:\S+)/);
          const dash = run.out.match(/dashboard:\s+(http:\S+)/);
          return site && dash && { site: site[1], dashboard: dash[1] };
        },
        'demo.sh to print its URLs',
        { timeoutMs: 180000 },
      ),
    ]);
  return run;
}

function portOpen(port) {
  return new Promise((r) => {
    const s = createConnection({ host: '127.0.0.1', port }, () => {
      s.destroy();
      r(true);
    });
    s.on('error', () => r(false));
  });
}

async function get(url) {
  const res = await fetch(url);
  return {
    status: res.status,
    type: res.headers.get('content-type') || '',
    text: await res.text(),
  };
}

async function ctrlC(run) {
  process.kill(-run.proc.pid, 'SIGINT'); // what the terminal does: the whole foreground group
  const { code, signal } = await run.exited;
  assert.equal(signal, null, run.out);
  assert.equal(code, 0, `demo.sh did not exit cleanly:\n${run.out}`);
  assert.match(run.out, /demo: stopped/);
  for (const p of [env.DEMO_COLLECTOR_PORT, env.DEMO_SITE_PORT]) {
    assert.equal(await portOpen(Number(p)), false, `port ${p} still open after Ctrl-C`);
  }
}

test('make demo serves the site, the app, the SDK and the dashboard, refuses a second start, and stops on Ctrl-C', async () => {
  const run = startDemo();
  let urls;
  try {
    urls = await run.urls();
    assert.equal(urls.site, `http://127.0.0.1:${env.DEMO_SITE_PORT}/`);
    assert.equal(urls.dashboard, `http://127.0.0.1:${env.DEMO_COLLECTOR_PORT}/`);
    assert.match(run.out, /read key: rk_demo/);

    for (const path of ['', 'shop.html', 'checkout.html', 'login.html', 'app/']) {
      const page = await get(urls.site + path);
      assert.equal(page.status, 200, path);
      assert.match(page.type, /text\/html/);
      assert.match(page.text, /Kettle &amp; Co\./, path);
    }
    const home = await get(urls.site);
    assert.match(home.text, /s\.src="\/sdk\/tally\.js"/, 'the async snippet loads the SDK');
    assert.match(home.text, /data-tally-impression=/);
    const config = await get(urls.site + 'config.js');
    assert.match(config.text, new RegExp(`"endpoint":"http://127\\.0\\.0\\.1:${env.DEMO_COLLECTOR_PORT}"`));
    assert.doesNotMatch(config.text, /rk_demo/, 'the read key never reaches a page');
    // The site's pages load the script tag (its lite core); the bundled app, the npm package (the full core).
    for (const asset of [
      'sdk/tally.js',
      'sdk/tally-core-lite.wasm',
      'sdk/tally-core.wasm',
      'app/app.js',
      'demo.js',
      'style.css',
    ]) {
      assert.equal((await get(urls.site + asset)).status, 200, asset);
    }
    assert.equal((await get(urls.site + 'sdk/tally-core.wasm')).type, 'application/wasm');
    assert.equal((await get(urls.site + 'sdk/tally-core-lite.wasm')).type, 'application/wasm');
    assert.match((await get(urls.site + 'app/app.js')).text, /preferences\.saved/, 'the app bundle holds the app');
    const poll = await get(`${urls.site}api/poll-answered?question=Q-2024-11-delivery&anonymous_id=nobody`);
    assert.equal(poll.status, 200, poll.text);
    assert.deepEqual(JSON.parse(poll.text), { answered: false });
    assert.equal((await get(`${urls.site}api/poll-answered`)).status, 400);
    assert.equal((await get(`${urls.site}..%2f..%2fetc/passwd`)).status, 404);

    const dash = await get(urls.dashboard);
    assert.equal(dash.status, 200);
    assert.match(dash.text, /Read key/);
    assert.equal((await get(urls.dashboard + 'dashboard/app.js')).status, 200);
    assert.equal((await get(urls.dashboard + 'healthz')).status, 200);

    // A second start on the same ports is refused, with the reason, and leaves the first alone.
    const second = startDemo();
    const { code } = await second.exited;
    assert.equal(code, 1);
    assert.match(second.out, /already in use/);
    assert.equal((await get(urls.site)).status, 200);
  } finally {
    if (run.proc.exitCode === null) await ctrlC(run);
  }
  assert.ok(existsSync(join(dir, 'demo.db')));

  // Safe to run twice: the same data folder starts again and stops again.
  const again = startDemo();
  try {
    const u = await again.urls();
    assert.equal((await get(u.site)).status, 200);
  } finally {
    if (again.proc.exitCode === null) await ctrlC(again);
  }
});
