#!/usr/bin/env bash
# The README's main command: builds what is missing, starts the collector with the demo keys and
# serves the demo site and the dashboard on 127.0.0.1. Ctrl-C stops everything.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/setup.sh
scripts/build.sh native wasm js
# The collector with the demo workspace (write key wk_demo, read key rk_demo, localhost origins);
# --demo refuses to listen anywhere but loopback. Ctrl-C stops it gracefully.
collector="$root/build/native/collector/tally-collector"
if [[ ! -x "$collector" ]]; then
  cmake --build "$root/build/native" --target tally-collector
fi
mkdir -p "$root/data"
trap 'kill "$collector_pid" 2>/dev/null || true; wait "$collector_pid" 2>/dev/null || true' EXIT INT TERM
"$collector" --demo --listen "${TALLY_LISTEN:-127.0.0.1:8080}" --store "sqlite:$root/data/demo.db" &
collector_pid=$!
echo "demo: the collector is up; the demo site arrives with its issue. Ctrl-C stops."
wait "$collector_pid"
