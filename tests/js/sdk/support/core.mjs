// Builds a throwaway copy of the SDK for one test file, against the real core when
// $TALLY_WASM_DIR holds it, else against support/fake-core.js (same C ABI; see that file).
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const root = process.env.TALLY_ROOT || resolve(here, '../../../..');

/** The folder holding tally-core.js/.wasm/.asm.js, and whether it is the real core. */
export function coreDir() {
  const real = resolve(root, process.env.TALLY_WASM_DIR || 'build/wasm/wasm');
  if (existsSync(join(real, 'tally-core.js')) && existsSync(join(real, 'tally-core.wasm'))) return { dir: real, real: true };
  const dir = mkdtempSync(join(tmpdir(), 'tally-fake-core-'));
  copyFileSync(join(here, 'fake-core.js'), join(dir, 'tally-core.js'));
  copyFileSync(join(here, 'fake-core.js'), join(dir, 'tally-core.asm.js'));
  // The smallest valid module: the loader compiles it, so a strict CSP still refuses it.
  writeFileSync(join(dir, 'tally-core.wasm'), Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
  return { dir, real: false };
}

/** Builds the SDK into a fresh folder; returns its path. */
export function buildSdk() {
  const core = coreDir();
  const out = mkdtempSync(join(tmpdir(), 'tally-sdk-'));
  execFileSync(process.execPath, [join(root, 'js/scripts/build.mjs')], {
    env: { ...process.env, TALLY_WASM_DIR: core.dir, TALLY_JS_DIST: out, TALLY_SKIP_DTS: '1' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  console.log(`# SDK built against ${core.real ? 'the real core' : 'the FAKE core (real one not built yet)'} in ${core.dir}`);
  return { dist: out, realCore: core.real };
}
