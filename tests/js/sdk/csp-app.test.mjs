// The strict-CSP fallback (asm.js build fetched only when WebAssembly is refused) and a small app
// that imports the package through esbuild.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, symlinkSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { buildSdk, root } from './support/core.mjs';
import { startServer, waitFor } from './support/server.mjs';
import { launch, snippet, html } from './support/browser.mjs';

let sdk, srv, browser, appJs;
const strict = "default-src 'self'; script-src 'self' 'unsafe-inline'; connect-src 'self'";
const withWasm = strict.replace("'unsafe-inline'", "'unsafe-inline' 'wasm-unsafe-eval'");

before(async () => {
  sdk = buildSdk();
  // Install the built package into a throwaway node_modules, then bundle the app against it.
  const app = mkdtempSync(join(tmpdir(), 'tally-app-'));
  mkdirSync(join(app, 'node_modules/tally-sdk'), { recursive: true });
  symlinkSync(sdk.dist, join(app, 'node_modules/tally-sdk/dist'));
  const pkg = JSON.parse(readFileSync(join(root, 'js/package.json'), 'utf8'));
  await import('node:fs').then((fs) =>
    fs.writeFileSync(join(app, 'node_modules/tally-sdk/package.json'), JSON.stringify(pkg)),
  );
  const r = await build({
    entryPoints: [join(root, 'tests/js/sdk/app/main.js')],
    bundle: true,
    format: 'iife',
    write: false,
    nodePaths: [join(app, 'node_modules')],
    logLevel: 'error',
  });
  appJs = r.outputFiles[0].text;
  const page = (csp) => () =>
    html('csp', snippet('/sdk/tally.js', { 'write-key': 'wk_csp', endpoint: '', 'auto-track': 'false' }));
  srv = await startServer({
    dist: sdk.dist,
    pages: { '/strict': page(strict), '/wasm-ok': page(withWasm), '/app': html('app', `<script>${appJs}</script>`) },
    headersFor: {
      '/strict': { 'content-security-policy': strict },
      '/wasm-ok': { 'content-security-policy': withWasm },
    },
  });
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await srv?.close();
});

async function loaded(path) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  await page.goto(srv.origin + path);
  await page.waitForFunction(() => window.tally?._loaded && window.tally.getInstance());
  await page.evaluate(() => window.tally.init().then(() => true));
  return { context, page, errors };
}

test('a CSP without wasm-unsafe-eval gets the asm.js core, fetched only in that case, and still tracks', async () => {
  // The script tag's core is the lite one (wasm/exports-lite.txt), as .wasm and as asm.js.
  const hits = () => srv.state.assetHits['/sdk/tally-core-lite.asm.js'] || 0;
  const fullHits = () =>
    (srv.state.assetHits['/sdk/tally-core.asm.js'] || 0) + (srv.state.assetHits['/sdk/tally-core.wasm'] || 0);
  const before = hits();
  const fullBefore = fullHits();
  const ok = await loaded('/wasm-ok');
  assert.equal(await ok.page.evaluate(() => window.tally.getInstance().coreKind), 'wasm');
  assert.equal(hits(), before, 'the asm.js build is not fetched when Wasm works');
  await ok.context.close();

  const { context, page, errors } = await loaded('/strict');
  assert.equal(await page.evaluate(() => window.tally.getInstance().coreKind), 'asmjs');
  assert.equal(hits(), before + 1);
  const id = await page.evaluate(() => window.tally.track('Under Strict CSP', { ok: true }));
  await page.evaluate(() => window.tally.flush());
  await waitFor(() => srv.events().some((e) => e.event_id === id), 'delivery from the asm.js core');
  assert.deepEqual(errors, []);
  assert.equal(fullHits(), fullBefore, 'the script tag never fetches the full core');
  await context.close();
});

test('an app importing the package through a bundler builds and tracks', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(srv.origin + '/app');
  await page.evaluate(() => window.appReady);
  assert.deepEqual(await page.evaluate(() => window.appInfo()), { kind: 'wasm', isError: true });
  await page.evaluate(() => window.appTrack('From Bundled App', { n: 1 }));
  await page.evaluate(() => window.tallyFlush?.());
  await waitFor(() => srv.events().some((e) => e.name === 'From Bundled App'), 'the bundled app event');
  await context.close();
});
