// Builds the package into dist/: tally.mjs (ESM) and tally.cjs (CJS) for bundlers and Node, with
// the full core's tally-core.wasm and tally-core.asm.js (strict-CSP fallback) beside them;
// tally.js (IIFE, global `tally`) for the script tag, with the lite core (no event path: the
// collector validates, docs/DECISIONS.md) tally-core-lite.wasm and tally-core-lite.asm.js; and
// types/ by tsc.
//   TALLY_WASM_DIR  the Emscripten output (default ../build/wasm/wasm)
//   TALLY_JS_DIST   where to write (default dist)
//   TALLY_SKIP_DTS=1  skip the declarations (tests building a throwaway copy)
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const pkg = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const coreDir = resolve(pkg, process.env.TALLY_WASM_DIR || '../build/wasm/wasm');
const out = resolve(pkg, process.env.TALLY_JS_DIST || 'dist');
const glue = join(coreDir, 'tally-core.js');
const liteGlue = join(coreDir, 'tally-core-lite.js');
for (const f of [glue, liteGlue]) {
  if (!existsSync(f)) {
    console.error(`build: ${f} not found; build the core first (scripts/build.sh wasm) or set TALLY_WASM_DIR`);
    process.exit(1);
  }
}
mkdirSync(out, { recursive: true });

// The Emscripten glue is a classic script that defines `createTallyCore` and, in Node, calls
// require('fs'). Wrapped in a function it defines no globals, registers with no AMD loader, and
// gets a real require only when the SDK runs in Node.
const gluePlugin = (file) => ({
  name: 'tally-core-glue',
  setup(b) {
    b.onResolve({ filter: /^tally-core-glue$/ }, () => ({ path: file, namespace: 'tally-glue' }));
    b.onLoad({ filter: /.*/, namespace: 'tally-glue' }, () => ({
      loader: 'js',
      contents:
        'export default function (require, __dirname, __filename) {\n' +
        'var module, exports, define;\n' +
        readFileSync(file, 'utf8') +
        '\nreturn createTallyCore;\n}\n',
    }));
  },
});

// Private members end in `_` (tally.ts, storage.ts) and are renamed to short names in every
// build: nothing outside the bundle can reach them, and their long names were ~10% of the
// script tag's gzip size. Public names, persisted record fields and wire names never end in `_`.
const common = {
  bundle: true,
  mangleProps: /_$/,
  plugins: [gluePlugin(glue)],
  external: ['node:*'],
  target: ['es2020', 'node20'],
  logLevel: 'warning',
  logOverride: { 'empty-import-meta': 'silent' },
  legalComments: 'none',
};
// The script tag: the lite core.
const iifeDefine = { __TALLY_FORMAT__: '"iife"', __TALLY_NODE__: 'false', __TALLY_LITE__: 'true' };
await Promise.all([
  build({
    ...common,
    entryPoints: [join(pkg, 'src/index.ts')],
    outfile: join(out, 'tally.mjs'),
    format: 'esm',
    platform: 'neutral',
    define: { __TALLY_FORMAT__: '"esm"', __TALLY_NODE__: 'true', __TALLY_LITE__: 'false' },
  }),
  // For bundlers targeting browsers (the "browser" export condition): no node:* imports at all.
  build({
    ...common,
    entryPoints: [join(pkg, 'src/index.ts')],
    outfile: join(out, 'tally.browser.mjs'),
    format: 'esm',
    platform: 'browser',
    define: { __TALLY_FORMAT__: '"esm"', __TALLY_NODE__: 'false', __TALLY_LITE__: 'false' },
  }),
  build({
    ...common,
    entryPoints: [join(pkg, 'src/index.ts')],
    outfile: join(out, 'tally.cjs'),
    format: 'cjs',
    platform: 'node',
    define: { __TALLY_FORMAT__: '"cjs"', __TALLY_NODE__: 'true', __TALLY_LITE__: 'false' },
  }),
  build({
    ...common,
    entryPoints: [join(pkg, 'src/browser.ts')],
    outfile: join(out, 'tally.js'),
    format: 'iife',
    platform: 'browser',
    minify: true,
    target: ['es2020'],
    define: iifeDefine,
    plugins: [gluePlugin(liteGlue)],
  }),
]);
for (const f of ['tally-core.wasm', 'tally-core.asm.js', 'tally-core-lite.wasm', 'tally-core-lite.asm.js']) {
  if (existsSync(join(coreDir, f))) copyFileSync(join(coreDir, f), join(out, f));
}
if (process.env.TALLY_SKIP_DTS !== '1') {
  const tsc = join(pkg, '../node_modules/typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', join(pkg, 'tsconfig.json'), '--declarationDir', join(out, 'types')], {
    stdio: 'inherit',
  });
}
const size = (f) => (existsSync(join(out, f)) ? statSync(join(out, f)).size : 0);
const gz = (f) => (existsSync(join(out, f)) ? gzipSync(readFileSync(join(out, f)), { level: 9 }).length : 0);
// What a script-tag page downloads: tally.js (with the lite loader inside) and the lite .wasm.
const script = ['tally.js', 'tally-core-lite.wasm'];
// The SDK's own share of tally.js: the same build with the core's glue left out.
const own = await build({
  ...common,
  entryPoints: [join(pkg, 'src/browser.ts')],
  write: false,
  format: 'iife',
  platform: 'browser',
  minify: true,
  target: ['es2020'],
  define: iifeDefine,
  plugins: [
    {
      name: 'no-glue',
      setup: (b) =>
        b.onResolve({ filter: /^tally-core-glue$/ }, () => ({ path: 'glue', namespace: 'no-glue' })) ||
        b.onLoad({ filter: /.*/, namespace: 'no-glue' }, () => ({ contents: 'export default 0', loader: 'js' })),
    },
  ],
});
const ownJs = own.outputFiles[0].contents;
console.log(
  `built ${out}: script tag ${script.map((f) => `${f} ${size(f)} B (gzip -9 ${gz(f)} B)`).join(', ')}; ` +
    `total gzip -9 ${script.reduce((s, f) => s + gz(f), 0)} B; SDK's own JS without the glue ${ownJs.length} B (gzip -9 ${gzipSync(ownJs, { level: 9 }).length} B)`,
);
