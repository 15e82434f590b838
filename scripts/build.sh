#!/usr/bin/env bash
# Builds Tally: the native tree (collector, tests, benchmarks), the Emscripten tree (the browser
# core as .wasm and as a JS build) and the JS package. Incremental: a second run only rebuilds
# what changed.
#   scripts/build.sh [native] [wasm] [asan] [fuzz] [js]   (no argument: native wasm js)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
jobs="$(nproc)"
targets=("$@")
((${#targets[@]})) || targets=(native wasm js)

configure() {  # dir, cmake args...
  local dir="$1"; shift
  if [[ ! -f "$dir/build.ninja" ]]; then
    "$@" -S "$root" -B "$dir" -G Ninja >/dev/null
  fi
}

for t in "${targets[@]}"; do
  case "$t" in
    native)
      configure build/native cmake -DCMAKE_BUILD_TYPE=RelWithDebInfo
      cmake --build build/native -j "$jobs"
      ;;
    asan)
      configure build/asan cmake -DCMAKE_BUILD_TYPE=Debug -DTALLY_SANITIZE=ON -DTALLY_CORE_ONLY=ON
      cmake --build build/asan -j "$jobs"
      ;;
    fuzz)
      configure build/fuzz cmake -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTALLY_FUZZ=ON \
        -DTALLY_CORE_ONLY=ON -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++
      cmake --build build/fuzz -j "$jobs"
      ;;
    wasm)
      # Debian's Emscripten runs under Node 20, which does not search Debian's module folder.
      export NODE_PATH=/usr/share/nodejs
      configure build/wasm emcmake cmake -DCMAKE_BUILD_TYPE=MinSizeRel
      cmake --build build/wasm -j "$jobs"
      ;;
    js)
      if [[ -f js/package.json ]]; then
        (cd js && npm run --silent build)
      fi
      ;;
    *) echo "build.sh: unknown target '$t' (native, wasm, asan, fuzz, js)" >&2; exit 2 ;;
  esac
done
