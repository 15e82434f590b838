// Writes the Wasm build's tally-core.js: wasm/loader.js with wasm/js_numbers.js pasted in and the
// module's import and export names, which the optimizing link minifies ("a", "b", ...), read from
// the glue Emscripten wrote for the same link. Run by wasm/CMakeLists.txt after the link:
//   node make_loader.mjs <emscripten glue> <loader.js> <js_numbers.js> <out> [exports file] [wasm name]
// (defaults: exports.txt beside this file, tally-core.wasm; the lite link passes exports-lite.txt
// and tally-core-lite.wasm). js_numbers.js is left out when the module imports neither helper.
// Fails (exit 1, naming what) when the glue does not have the expected shape or the module needs
// an import the loader does not provide: a new Emscripten, or a new libc call that reaches JS.
import { readFileSync, writeFileSync } from 'node:fs';

const [gluePath, loaderPath, numbersPath, outPath, exportsPath, wasmName = 'tally-core.wasm'] = process.argv.slice(2);
const glue = readFileSync(gluePath, 'utf8');
const fail = (why) => {
  console.error(`make_loader: ${why} in ${gluePath}`);
  process.exit(1);
};

// var asmLibraryArg={"a":_abort,"b":_emscripten_resize_heap,...}
const lib = /var asmLibraryArg=\{([^}]*)\}/.exec(glue);
if (!lib) fail('no asmLibraryArg');
const imports = {};
for (const m of lib[1].matchAll(/"(\w+)":_(\w+)/g)) imports[m[2]] = m[1];
// var info={"a":asmLibraryArg}: the import module's name
const mod = /var info=\{"(\w+)":asmLibraryArg\}/.exec(glue);
if (!mod) fail('no import module name');

// Module["_tally_alloc"]=Module["asm"]["g"], and the memory and constructors by their uses
const exports = {};
for (const m of glue.matchAll(/Module\["_(tally_\w+)"\]=Module\["asm"\]\["(\w+)"\]/g)) {
  exports[m[1]] = m[2];
}
const memory = /wasmMemory=Module\["asm"\]\["(\w+)"\]/.exec(glue);
const ctors = /addOnInit\(Module\["asm"\]\["(\w+)"\]\)/.exec(glue);
if (!memory || !ctors) fail('no memory or constructors export');
exports.memory = memory[1];
exports.__wasm_call_ctors = ctors[1];

const provided = [
  'abort',
  'emscripten_resize_heap',
  'emscripten_date_now',
  'tally_js_parse_number',
  'tally_js_format_shortest',
];
for (const name of Object.keys(imports)) {
  if (!provided.includes(name)) fail(`import ${name} not provided by wasm/loader.js`);
}
const wanted = readFileSync(exportsPath || new URL('exports.txt', import.meta.url), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#') && !l.startsWith('runtime:'));
for (const name of wanted) if (!exports[name]) fail(`export ${name} not found`);

const abi = JSON.stringify({ module: mod[1], imports, exports });
const text = readFileSync(loaderPath, 'utf8')
  .replace('@TALLY_ABI@', () => abi)
  .replaceAll('@TALLY_WASM_FILE@', wasmName)
  .replace('@TALLY_JS_NUMBERS@', () =>
    Object.keys(imports).some((n) => n.startsWith('tally_js_'))
      ? readFileSync(numbersPath, 'utf8')
      : 'var tallyJsNumbers = {};',
  );
writeFileSync(outPath, text);
