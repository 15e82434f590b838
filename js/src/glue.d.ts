// The Emscripten glue (build/wasm/wasm/tally-core.js), wrapped by scripts/build.mjs into a
// function so that it defines no globals and gets Node's require only in Node.
declare module 'tally-core-glue' {
  import type { CoreFactory } from './core';
  const loadGlue: (require: (id: string) => unknown, dirname: string, filename: string) => CoreFactory;
  export default loadGlue;
}
