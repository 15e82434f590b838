#!/usr/bin/env bash
# The README's main command (`make demo`): builds what is missing, starts the collector (SQLite,
# demo keys) and the demo site's server on 127.0.0.1, prints the URLs, and stops both on Ctrl-C.
# Safe to run twice; refuses to start when its ports are taken.
#
# Environment (all optional):
#   DEMO_COLLECTOR_PORT  collector and dashboard port (default 8080)
#   DEMO_SITE_PORT       demo site port (default 8088)
#   DEMO_DATA_DIR        database, logs and the bundled app (default ./data)
#   TALLY_BUILD_DIR      native build folder holding the collector (default build/native)
#   DEMO_BUILD=0         skip setup and the build steps: use what is already built
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
collector_port="${DEMO_COLLECTOR_PORT:-8080}"
site_port="${DEMO_SITE_PORT:-8088}"
data="${DEMO_DATA_DIR:-$root/data}"
build="${TALLY_BUILD_DIR:-$root/build/native}"

say() { echo "demo: $*"; }

# Is something already listening on 127.0.0.1:$1?
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for port in "$collector_port" "$site_port"; do
  if port_busy "$port"; then
    say "port $port on 127.0.0.1 is already in use (is a demo already running?)." >&2
    say "stop it, or choose other ports: DEMO_COLLECTOR_PORT=9080 DEMO_SITE_PORT=9088 make demo" >&2
    exit 1
  fi
done
if [[ "$collector_port" == "$site_port" ]]; then
  say "DEMO_COLLECTOR_PORT and DEMO_SITE_PORT must differ" >&2
  exit 2
fi

# --- build what is missing (each step is a no-op when up to date) ------------------------------
if [[ "${DEMO_BUILD:-1}" != 0 ]]; then
scripts/setup.sh
if [[ ! -f "$build/build.ninja" ]]; then
  say "configuring $build"
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
if ! out="$(cmake --build "$build" --target tally-collector -j "$(nproc)" 2>&1)"; then
  echo "$out" >&2
  say "the collector did not build" >&2
  exit 1
fi
grep -q 'no work to do' <<<"$out" || say "built the collector ($build)"
# The SDK (js/dist) is rebuilt, with the Wasm core it embeds, only when a source is newer.
if [[ ! -f js/dist/tally.js ]] ||
   [[ -n "$(find js/src js/scripts js/package.json sdk wasm -newer js/dist/tally.js -print -quit)" ]]; then
  say "building the Wasm core and the SDK"
  scripts/build.sh wasm js
fi
fi
collector="$build/collector/tally-collector"
[[ -x "$collector" ]] || { say "no collector at $collector: build it (scripts/build.sh native)" >&2; exit 1; }
mkdir -p "$data"
node demo/build.mjs "$data/demo-app"   # the npm-package app page, bundled by esbuild

# --- run ---------------------------------------------------------------------------------------
# The demo workspace: write key wk_demo for the demo site's origins, secret read key rk_demo.
# (A config file rather than --demo, so the allowed origins follow DEMO_SITE_PORT.)
cat >"$data/demo-collector.json" <<JSON
{"min_free_disk_bytes": 0,
 "workspaces": [{"name": "demo",
   "sources": [{"name": "demo-site", "write_key": "wk_demo",
                "origins": ["http://127.0.0.1:$site_port", "http://localhost:$site_port"]}],
   "read_keys": ["rk_demo"]}]}
JSON

pids=()
stop() {
  trap '' INT TERM  # a second Ctrl-C does not cut the cleanup short
  trap - EXIT
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap 'echo; say "stopping"; stop; say "stopped"; exit 0' INT TERM
trap stop EXIT

"$collector" --config "$data/demo-collector.json" --listen "127.0.0.1:$collector_port" \
  --store "sqlite:$data/demo.db" >"$data/collector.log" 2>&1 &
pids+=($!)
node demo/server.mjs --port "$site_port" --collector "http://127.0.0.1:$collector_port" \
  --read-key rk_demo --app-dir "$data/demo-app" >"$data/demo-site.log" 2>&1 &
pids+=($!)

# Wait (bounded) for both to answer; a process that exits early stops the demo with its log.
up() { curl -sf -o /dev/null "$1"; }
for _ in $(seq 1 300); do
  if up "http://127.0.0.1:$collector_port/healthz" && up "http://127.0.0.1:$site_port/config.js"; then
    break
  fi
  for i in "${!pids[@]}"; do
    if ! kill -0 "${pids[$i]}" 2>/dev/null; then
      log=("$data/collector.log" "$data/demo-site.log")
      say "failed to start; the end of ${log[$i]}:" >&2
      tail -n 5 "${log[$i]}" >&2
      exit 1
    fi
  done
  sleep 0.1
done
if ! up "http://127.0.0.1:$collector_port/healthz" || ! up "http://127.0.0.1:$site_port/config.js"; then
  say "the collector or the demo site did not come up in 30 s (logs in $data)" >&2
  exit 1
fi

cat <<TEXT

  Tally demo is running.
    demo site:  http://127.0.0.1:$site_port/
    dashboard:  http://127.0.0.1:$collector_port/   (read key: rk_demo)
    collector:  http://127.0.0.1:$collector_port/v1/batch   (write key: wk_demo)
    data:       $data/demo.db   (logs: $data/collector.log, $data/demo-site.log)
  Ctrl-C stops everything.

TEXT

# Runs until Ctrl-C; if either process dies, the other is stopped too.
status=0
wait -n "${pids[@]}" || status=$?
say "a demo process exited (status $status); stopping (logs in $data)" >&2
exit 1
