#!/usr/bin/env bash
# The README's test command: installs what is missing, builds everything and runs every suite.
# Ends with one line `N passed, N failed` that sums all suites (CI reads it).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

scripts/setup.sh || { echo "0 passed, 1 failed"; exit 1; }
if ! scripts/build.sh native wasm js asan fuzz; then
  echo "build failed"
  echo "0 passed, 1 failed"
  exit 1
fi

passed=0
failed=0
log_dir="$root/build/test-logs"
mkdir -p "$log_dir"

# Runs ctest in a build folder and adds its counts to the totals.
run_ctest() {  # name, build dir, extra ctest args...
  local name="$1" dir="$2"; shift 2
  echo "== $name"
  (cd "$dir" && ctest --output-on-failure --timeout 600 "$@") 2>&1 | tee "$log_dir/$name.log"
  local line total bad
  line="$(grep -E 'tests passed, [0-9]+ tests failed out of [0-9]+' "$log_dir/$name.log" | tail -1)"
  if [[ -z "$line" ]]; then
    echo "$name: ctest printed no summary"
    failed=$((failed + 1))
    return
  fi
  total="$(sed -E 's/.*out of ([0-9]+).*/\1/' <<<"$line")"
  bad="$(sed -E 's/.*tests passed, ([0-9]+) tests failed.*/\1/' <<<"$line")"
  passed=$((passed + total - bad))
  failed=$((failed + bad))
}

# Native suites (core, collector, Node and browser tests registered with CTest).
run_ctest native build/native -j 2
# The core's tests again under AddressSanitizer and UndefinedBehaviorSanitizer.
run_ctest asan build/asan -j 2
# Fuzzers, each for a bounded time (registered by fuzz/CMakeLists.txt).
run_ctest fuzz build/fuzz

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
