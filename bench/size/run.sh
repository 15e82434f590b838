#!/usr/bin/env bash
# Size of what a page downloads: the full core module (Wasm + glue; the npm builds), the lite
# core module (the script tag's: no event path, wasm/exports-lite.txt), their asm.js builds, the
# single-file variant, and the SDK's script-tag bundle when js/dist exists (its budget line adds
# the lite .wasm, which is what a script-tag page fetches). Prints a Markdown
# table of raw and gzip -9 bytes (docs/BENCHMARKS.md, "Core module size", holds its output).
#
#   bench/size/run.sh [--build-dir DIR] [--probes]
#     --build-dir DIR  an Emscripten build tree to use (default build/wasm; built if missing)
#     --probes         also build the JSON size probes (nlohmann_json vs tally::ParseJson /
#                      WriteJson, docs/DECISIONS.md) in a temporary folder and print their sizes
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build_dir="$root/build/wasm"
probes=0
while (($#)); do
  case "$1" in
    --build-dir) build_dir="$(cd "$2" && pwd)"; shift 2 ;;
    --probes) probes=1; shift ;;
    *) echo "usage: bench/size/run.sh [--build-dir DIR] [--probes]" >&2; exit 2 ;;
  esac
done
export NODE_PATH=/usr/share/nodejs  # Debian's Emscripten runs under Node 20 (see scripts/build.sh)

if [[ "$build_dir" == "$root/build/wasm" ]]; then
  "$root/scripts/build.sh" wasm >/dev/null
fi
cmake --build "$build_dir" -j 2 --target tally_core_wasm tally_core_asmjs tally_core_single \
  tally_core_lite_wasm tally_core_lite_asmjs >/dev/null
out="$build_dir/wasm"

raw() { stat -c %s "$1"; }
gz() { gzip -9c "$1" | wc -c; }
esbuild="$root/node_modules/.bin/esbuild"
# Emscripten 3.1.6 as Debian ships it has no Closure compiler, so the glue keeps its long names;
# any bundler's minifier takes them out. This column shows what the glue costs once minified.
minified_gz() {
  if [[ -x "$esbuild" ]]; then
    "$esbuild" --minify --log-level=error <"$1" | gzip -9c | wc -c
  else
    echo "n/a"
  fi
}
row() {  # label, file, [minify]
  local label="$1" file="$2" min="-"
  [[ -f "$file" ]] || return 0
  if [[ "${3:-}" == minify ]]; then min="$(minified_gz "$file")"; fi
  printf '| %s | %s | %s | %s |\n' "$label" "$(raw "$file")" "$(gz "$file")" "$min"
}

echo "| file | raw bytes | gzip -9 bytes | gzip -9 after esbuild --minify |"
echo "|---|---:|---:|---:|"
row "tally-core.wasm" "$out/tally-core.wasm"
row "tally-core.js (loader: wasm/loader.js)" "$out/tally-core.js" minify
wasm_gz=$(gz "$out/tally-core.wasm")
glue_gz=$(gz "$out/tally-core.js")
glue_min=$(minified_gz "$out/tally-core.js")
printf '| **core module: wasm + glue** | %s | **%s** | %s |\n' \
  "$(($(raw "$out/tally-core.wasm") + $(raw "$out/tally-core.js")))" "$((wasm_gz + glue_gz))" \
  "$([[ "$glue_min" == n/a ]] && echo n/a || echo $((wasm_gz + glue_min)))"
row "tally-core.asm.js (no-Wasm build)" "$out/tally-core.asm.js" minify
row "tally-core.single.js (Wasm inlined as base64)" "$out/tally-core.single.js" minify
row "tally-core-lite.wasm (script tag)" "$out/tally-core-lite.wasm"
row "tally-core-lite.js (its loader, bundled into tally.js)" "$out/tally-core-lite.js" minify
lite_gz=$(gz "$out/tally-core-lite.wasm")
printf '| **lite core module: wasm + glue** | %s | **%s** | |\n' \
  "$(($(raw "$out/tally-core-lite.wasm") + $(raw "$out/tally-core-lite.js")))" \
  "$((lite_gz + $(gz "$out/tally-core-lite.js")))"
row "tally-core-lite.asm.js (script tag, no-Wasm build)" "$out/tally-core-lite.asm.js" minify

dist="$root/js/dist"
if [[ -f "$dist/tally.js" ]]; then
  row "js/dist/tally.js (script-tag bundle)" "$dist/tally.js"
  # What a script-tag page downloads: the bundle (the lite loader inside) plus the lite .wasm
  # it fetches; a strict-CSP page fetches the .wasm too (its compile is refused), then the
  # lite asm.js build.
  total=$(($(gz "$dist/tally.js") + lite_gz))
  printf '| **script-tag SDK: tally.js + tally-core-lite.wasm (budget: 20,480)** | | **%s** | |\n' "$total"
  printf '| script-tag SDK on a strict-CSP page: the same + tally-core-lite.asm.js | | %s | |\n' \
    "$((total + $(gz "$out/tally-core-lite.asm.js")))"
fi

if ((probes)); then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  mkdir -p "$tmp/include"
  cp -r /usr/include/nlohmann "$tmp/include/"  # never -I/usr/include with em++
  flags=(-std=c++17 -Oz -flto -fno-exceptions -fno-rtti -sMODULARIZE=1 -sEXPORT_NAME=createProbe
    -sENVIRONMENT=web,worker,node -sFILESYSTEM=0 -sASSERTIONS=0 -sSUPPORT_ERRNO=0
    -sMALLOC=emmalloc -sALLOW_MEMORY_GROWTH=1 -sINITIAL_MEMORY=1048576 -sTOTAL_STACK=131072
    -sDYNAMIC_EXECUTION=0 -sTEXTDECODER=2 --js-library "$root/wasm/js_numbers.js"
    -sEXPORTED_FUNCTIONS=_probe,_probe_alloc,_probe_free,_probe_out)
  em++ "${flags[@]}" -DJSON_NOEXCEPTION -I"$tmp/include" "$root/bench/size/nlohmann_probe.cc" \
    -o "$tmp/nlohmann.js"
  em++ "${flags[@]}" -DJSON_NOEXCEPTION -I"$tmp/include" "$root/bench/size/nlohmann_probe.cc" \
    "$root/wasm/js_numbers.cc" -o "$tmp/nlohmann_js_numbers.js"
  em++ "${flags[@]}" -I"$root/sdk/include" -I"$root/sdk/src" "$root/bench/size/tally_json_probe.cc" \
    "$root/sdk/src/json.cc" -o "$tmp/tally_json.js"
  em++ "${flags[@]}" -I"$root/sdk/include" -I"$root/sdk/src" "$root/bench/size/tally_json_probe.cc" \
    "$root/sdk/src/json.cc" "$root/wasm/js_numbers.cc" -o "$tmp/tally_json_js_numbers.js"
  # The floor: the same exports copying the text through a std::string, no JSON at all.
  cat >"$tmp/empty_probe.cc" <<'EOF_PROBE'
#include <cstdlib>
#include <string>
namespace { std::string out; }
extern "C" {
void* probe_alloc(size_t n) { return malloc(n); }
void probe_free(void* p) { free(p); }
const char* probe_out() { return out.data(); }
int probe(const char* text, size_t len) { out.assign(text, len); return static_cast<int>(out.size()); }
}
EOF_PROBE
  em++ "${flags[@]}" "$tmp/empty_probe.cc" -o "$tmp/empty.js"
  em++ "${flags[@]}" -I"$root/sdk/include" -I"$root/sdk/src" "$root/bench/size/tally_writer_probe.cc" \
    "$root/sdk/src/json.cc" "$root/wasm/js_numbers.cc" -o "$tmp/tally_writer.js"
  nlohmann_version="$(dpkg-query -W -f '${Version}' nlohmann-json3-dev 2>/dev/null || echo 3)"
  probe_row() {  # label, output stem
    printf '| %s | %s | %s |\n' "$1" "$(raw "$tmp/$2.wasm")" "$(gz "$tmp/$2.wasm")"
  }
  echo
  echo "| JSON probe: parse an object, write it back (same flags as the module) | wasm raw | wasm gzip -9 |"
  echo "|---|---:|---:|"
  probe_row "floor: no JSON (malloc, std::string, the exports)" empty
  probe_row "nlohmann_json $nlohmann_version (JSON_NOEXCEPTION), libc numbers" nlohmann
  probe_row "nlohmann_json $nlohmann_version, strtod from wasm/js_numbers.cc" nlohmann_js_numbers
  probe_row "tally::ParseJson / WriteJson, libc numbers" tally_json
  probe_row "tally::ParseJson / WriteJson, wasm/js_numbers.cc (as the module ships)" tally_json_js_numbers
  probe_row "tally::WriteJson alone (no parser), wasm/js_numbers.cc" tally_writer
fi
