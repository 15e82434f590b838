// The Wasm build's loader, written by hand in place of Emscripten's glue (3.6 KB gzip; this is a
// fraction of it, docs/DECISIONS.md). wasm/make_loader.mjs writes it as tally-core.js with
// wasm/js_numbers.js pasted in and the module's minified import/export names filled in (ABI
// below: {module, imports: {name: key}, exports: {name: key}}); then esbuild minifies it.
//
// Same shape as the Emscripten MODULARIZE glue it replaces, so js/src/core.ts and the tests drive
// both builds alike: a classic script defining createTallyCore(overrides) → Promise<Module>
// (module.exports in Node), Module.HEAPU8 (current after every call: memory growth replaces
// it) and Module._tally_* for every export of wasm/exports.txt. Overrides read: wasmBinary
// (bytes), instantiateWasm(imports, done) as Emscripten calls it, locateFile(name, dir),
// onAbort(what). Without wasmBinary or instantiateWasm the .wasm is fetched next to this script
// (browsers); in Node pass wasmBinary.
//
// The imports are what the module asks for (its import section): abort, emscripten_resize_heap
// (wasm/small_malloc.cc), emscripten_date_now and the two number helpers; make_loader.mjs fails the
// build if the module ever asks for another.
var createTallyCore = (function (script) {
  var dir = script.slice(0, script.lastIndexOf("/") + 1);
  return function (Module) {
    Module = Module || {};
    var ABI = @TALLY_ABI@;
    var memory, HEAPU8;

    @TALLY_JS_NUMBERS@

    function abort(what) {
      if (Module.onAbort) Module.onAbort(what);
      throw new WebAssembly.RuntimeError("abort(" + what + ")");
    }

    var provided = {
        abort: abort,
        emscripten_date_now: Date.now,
        tally_js_parse_number: tallyJsNumbers.tally_js_parse_number,
        tally_js_format_shortest: tallyJsNumbers.tally_js_format_shortest,
        // Grows memory to at least `size` bytes (and by at least a quarter, as Emscripten's
        // glue does, so that a growing queue does not grow memory page by page); 0 on failure.
        emscripten_resize_heap: function (size) {
          size >>>= 0;
          var old = memory.buffer.byteLength;
          var want = Math.min(Math.max(size, old + old / 4), 2147483648);
          try {
            memory.grow(Math.ceil((want - old) / 65536));
          } catch (e) {
            return 0;
          }
          HEAPU8 = new Uint8Array(memory.buffer);
          return 1;
        },
    };
    var imports = {};
    var env = (imports[ABI.module] = {});
    for (var i in ABI.imports) env[ABI.imports[i]] = provided[i];

    return new Promise(function (resolve, reject) {
      function ready(instance) {
        var e = {};
        for (var x in ABI.exports) e[x] = instance.exports[ABI.exports[x]];
        memory = e.memory;
        HEAPU8 = new Uint8Array(memory.buffer);
        Object.defineProperty(Module, "HEAPU8", {
          configurable: true,
          get: function () {
            return HEAPU8;
          },
        });
        for (x in e) if (x.indexOf("tally_") == 0) Module["_" + x] = e[x];
        e.__wasm_call_ctors();
        resolve(Module);
      }
      function fail(why) {
        if (Module.onAbort) Module.onAbort(why);
        reject(why);
      }
      if (Module.instantiateWasm) {
        Module.instantiateWasm(imports, ready);
        return;
      }
      (Module.wasmBinary
        ? WebAssembly.instantiate(Module.wasmBinary, imports)
        : fetch(
            Module.locateFile ? Module.locateFile("@TALLY_WASM_FILE@", dir) : dir + "@TALLY_WASM_FILE@",
            { credentials: "same-origin" },
          )
            .then(function (r) {
              if (!r.ok) throw new Error("@TALLY_WASM_FILE@: HTTP " + r.status);
              return r.arrayBuffer();
            })
            .then(function (bytes) {
              return WebAssembly.instantiate(bytes, imports);
            })
      )
        .then(function (r) {
          ready(r.instance);
        })
        .catch(fail);
    });
  };
})(typeof document != "undefined" && document.currentScript ? document.currentScript.src : "");
if (typeof module == "object" && module.exports) module.exports = createTallyCore;
