// Bundles the demo's npm-package app (demo/app/main.js) with esbuild, the way a site's build
// would: `import ... from 'tally-sdk'` resolves through a node_modules folder holding the
// package (a link to js/, whose package.json exports point at js/dist).
//   node demo/build.mjs OUT_DIR        writes OUT_DIR/app.js (skipped when up to date)
import { build } from 'esbuild';
import { existsSync, mkdirSync, statSync, symlinkSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');

function newest(paths) {
  let t = 0;
  for (const p of paths) {
    if (!existsSync(p)) continue;
    const st = statSync(p);
    if (st.isDirectory()) t = Math.max(t, newest(readdirSync(p).map((f) => join(p, f))));
    else t = Math.max(t, st.mtimeMs);
  }
  return t;
}

/** Bundles the app into outDir/app.js; returns its path. */
export async function buildApp(outDir) {
  const out = join(outDir, 'app.js');
  const modules = join(outDir, 'node_modules');
  const pkg = join(modules, 'tally-sdk');
  if (!existsSync(pkg)) {
    mkdirSync(modules, { recursive: true });
    symlinkSync(join(root, 'js'), pkg, 'dir');
  }
  const inputs = [join(here, 'app'), join(root, 'js/dist/tally.browser.mjs'), join(root, 'js/package.json')];
  if (existsSync(out) && statSync(out).mtimeMs >= newest(inputs)) return out;
  await build({
    entryPoints: [join(here, 'app/main.js')],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    minify: true,
    sourcemap: true,
    nodePaths: [modules],
    outfile: out,
    logLevel: 'error',
  });
  return out;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outDir = process.argv[2];
  if (!outDir) {
    console.error('usage: node demo/build.mjs OUT_DIR');
    process.exit(2);
  }
  await buildApp(resolve(outDir));
}
