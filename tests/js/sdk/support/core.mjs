// Builds a throwaway copy of the SDK for one test file against the real Wasm core in
// $TALLY_WASM_DIR (default build/wasm/wasm). There is no stand-in core: a missing or broken core
// build must fail the suites, not pass them against a fake.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const root = process.env.TALLY_ROOT || resolve(here, '../../../..');

/** The folder holding tally-core.js, .wasm and .asm.js; throws when any is missing. */
export function coreDir() {
  const dir = resolve(root, process.env.TALLY_WASM_DIR || 'build/wasm/wasm');
  const missing = ['tally-core.js', 'tally-core.wasm', 'tally-core.asm.js'].filter((f) => !existsSync(join(dir, f)));
  if (missing.length) {
    throw new Error(
      `the Wasm core is not built: ${missing.join(', ')} missing in ${dir}. ` +
        'Build it (scripts/build.sh wasm) or point TALLY_WASM_DIR at an Emscripten output folder.',
    );
  }
  return dir;
}

/** Builds the SDK into a fresh folder; returns its path. */
export function buildSdk() {
  const dir = coreDir();
  const out = mkdtempSync(join(tmpdir(), 'tally-sdk-'));
  execFileSync(process.execPath, [join(root, 'js/scripts/build.mjs')], {
    env: { ...process.env, TALLY_WASM_DIR: dir, TALLY_JS_DIST: out, TALLY_SKIP_DTS: '1' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return { dist: out, coreDir: dir };
}
