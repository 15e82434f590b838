#!/usr/bin/env bash
# Installs what Tally needs to build, test and run its demo, and nothing when all of it is there.
# Safe to run any number of times: Debian packages are installed only when missing, and npm
# packages only when package-lock.json changed since the last install.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# Debian packages, one reason each.
packages=(
  build-essential cmake pkg-config   # native toolchain
  ninja-build                        # fast incremental builds
  emscripten                         # C++ core -> WebAssembly and JS builds
  nlohmann-json3-dev                 # JSON in the collector (config, responses)
  libcpp-httplib-dev                 # collector HTTP server and ClickHouse client
  libsqlite3-dev                     # default store
  tzdata                             # time zones of report buckets (/usr/share/zoneinfo)
  libssl-dev                         # HMAC-SHA-256 of privacy hashes (also pulled by cpp-httplib)
  zlib1g-dev                         # gzip request bodies
  googletest libgtest-dev            # native unit tests
  clang libclang-rt-14-dev           # libFuzzer and sanitizers
  chromium                           # browser tests (driven by playwright-core)
  clickhouse-server clickhouse-client # scale-out store and ingest baseline
  wrk                                # load generation for benchmarks
  ca-certificates curl               # health checks in scripts
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# Node.js may come from Debian (nodejs + npm) or from elsewhere with npm bundled: look for the
# commands, not the packages, so an existing Node is not replaced.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm packages, pinned by package-lock.json; reinstalled only when the lock file changes.
stamp="$root/node_modules/.tally-lock-stamp"
if [[ ! -f "$stamp" ]] || ! cmp -s "$root/package-lock.json" "$stamp"; then
  echo "setup: npm ci"
  (cd "$root" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$root/package-lock.json" "$stamp"
fi
