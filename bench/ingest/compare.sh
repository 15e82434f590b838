#!/usr/bin/env bash
# Before/after in one run: two tally-collector binaries, alternately, same load, --sync full.
#
#   bench/ingest/compare.sh OLD_COLLECTOR NEW_COLLECTOR LOAD_BINARY
#       (REPS=3 EVENTS=300000 SECONDS_MAX=10 CONNS=32 RATE=100000 RATE_SECONDS=5)
# Prints one line per run with the load average at its start; compare medians.
set -euo pipefail
old="$1" new="$2" load="$3"
reps="${REPS:-3}" events="${EVENTS:-300000}" seconds="${SECONDS_MAX:-10}"
conns="${CONNS:-32}" rate="${RATE:-100000}" rate_seconds="${RATE_SECONDS:-5}"
work="$(mktemp -d)"
pid=""
cleanup() { [[ -n "$pid" ]] && { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { for _ in $(seq 200); do curl -sf "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done; return 1; }
cat > "$work/tally.json" <<JSON
{"rate_limit_rps": 0, "workspaces": [{"name": "bench", "sources": [{"name": "load", "write_key": "wk_bench"}]}]}
JSON
for r in $(seq "$reps"); do
  for v in old new; do
    bin="$old"; [[ $v == new ]] && bin="$new"
    port=$(free_port); rm -f "$work"/t.db*
    "$bin" --config "$work/tally.json" --listen "127.0.0.1:$port" --store "sqlite:$work/t.db" \
      --sync full 2>"$work/log" &
    pid=$!
    wait_http "http://127.0.0.1:$port/healthz"
    la=$(cut -d' ' -f1 /proc/loadavg)
    sat=$("$load" --target tally --port "$port" --connections "$conns" --events "$events" --seconds "$seconds" || true)
    fix=$("$load" --target tally --port "$port" --connections "$conns" --events $((rate * rate_seconds)) --seconds "$rate_seconds" --rate "$rate" || true)
    echo "rep=$r $v load=$la saturate=$sat fixed=$fix"
    kill "$pid"; wait "$pid" || true; pid=""
  done
done
