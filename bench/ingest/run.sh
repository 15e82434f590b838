#!/usr/bin/env bash
# Ingest benchmark: tally-collector (durable, --sync full) against ClickHouse's own
# `INSERT ... FORMAT JSONEachRow` over HTTP with the same 100-event batches, both on 127.0.0.1,
# each started here with a temp data dir and free ports. Prints a Markdown table.
#
#   bench/ingest/run.sh [build-dir]      (default build/native; EVENTS=, SECONDS_MAX=, CONNS=, RATE=)
#
# BASELINE=<other build dir> also runs that build's tally-collector (e.g. main's) in the same run,
# alternating with this one (baseline full, this full, baseline normal, this normal), driven by
# this build's load generator. Each row has the server's CPU time per acknowledged event (from
# /proc/<pid>/stat over that load run: less sensitive to other work on the machine than events/s)
# and the 1-minute load average when the row started.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${1:-$root/build/native}"
events="${EVENTS:-1000000}"
seconds="${SECONDS_MAX:-20}"
conns="${CONNS:-32}"
rate="${RATE:-100000}"
load="$build/bench/ingest/tally-ingest-load"
collector="$build/collector/tally-collector"
[[ -x "$load" && -x "$collector" ]] || { echo "build first: cmake --build $build" >&2; exit 1; }
baseline="${BASELINE:-}"
if [[ -n "$baseline" && ! -x "$baseline/collector/tally-collector" ]]; then
  echo "no $baseline/collector/tally-collector" >&2; exit 1
fi

# shellcheck source=../lib.sh
source "$root/bench/lib.sh"
bench_start

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
us_per_event() {  # ticks before, ticks after, json of the run
  python3 -c "import json,os,sys; t=(int(sys.argv[2])-int(sys.argv[1]))/os.sysconf('SC_CLK_TCK'); \
n=json.loads(sys.argv[3])['events']; print(f'{1e6*t/n:.1f}' if n else '-')" "$1" "$2" "$3"
}

rows=()
row() {  # name, json of the run, rss, server CPU us/event, load average at the start
  rows+=("| $1 | $(field "$2" events_per_s) | $(field "$2" p50_ms) | $(field "$2" p99_ms) | $4 | $3 | $(field "$2" events) | $(field "$2" errors) | $5 |")
}

# --- tally-collector -------------------------------------------------------------------------
settle_rollups() {  # port
  local lag
  for _ in $(seq 600); do
    lag=$(curl -sf "http://127.0.0.1:$1/metrics" | awk '$1 == "tally_rollup_lag_rows" {print $2}')
    [[ -z "$lag" || "$lag" == "0" ]] && return 0
    sleep 0.1
  done
  echo "rollups still $lag rows behind after 60 s" >&2
}
run_tally() {  # sync mode, collector binary, label
  local port; port=$(free_port)
  cat > "$work/tally.json" <<JSON
{"rate_limit_rps": 0, "workspaces": [{"name": "bench", "sources": [{"name": "load", "write_key": "wk_bench"}]}]}
JSON
  rm -f "$work"/tally-"$1".db*
  "$2" --config "$work/tally.json" --listen "127.0.0.1:$port" \
    --store "sqlite:$work/tally-$1.db" --sync "$1" 2>"$work/tally-$1.log" &
  local pid=$!; pids+=("$pid")
  wait_http "http://127.0.0.1:$port/healthz"
  local la t0 t1 out
  la=$(loadavg); t0=$(cpu_ticks "$pid")
  out=$("$load" --target tally --port "$port" --connections "$conns" --events "$events" --seconds "$seconds" || true)
  t1=$(cpu_ticks "$pid")
  row "$3, --sync $1, as fast as acknowledged" "$out" "$(peak_rss_mb "$pid")" "$(us_per_event "$t0" "$t1" "$out")" "$la"
  # The fixed-rate run measures a steady state: the report rollup job first folds in the rows the
  # saturation run left (up to 60 s; a collector without the metric is not waited for).
  settle_rollups "$port"
  la=$(loadavg); t0=$(cpu_ticks "$pid")
  out=$("$load" --target tally --port "$port" --connections "$conns" --events $((rate * 10)) --seconds 10 --rate "$rate" || true)
  t1=$(cpu_ticks "$pid")
  row "$3, --sync $1, fixed $rate events/s" "$out" "$(peak_rss_mb "$pid")" "$(us_per_event "$t0" "$t1" "$out")" "$la"
  kill "$pid"; wait "$pid" || true
}
for mode in full normal; do
  if [[ -n "$baseline" ]]; then
    run_tally "$mode" "$baseline/collector/tally-collector" "tally-collector (baseline $(basename "$baseline"))"
  fi
  run_tally "$mode" "$collector" "tally-collector"
done

# --- ClickHouse baseline ---------------------------------------------------------------------
# shellcheck source=../clickhouse/server.sh
source "$root/bench/clickhouse/server.sh"
start_clickhouse "$work/ch"
pids+=("$ch_pid")
q() { curl -sf "http://127.0.0.1:$ch_http/" --data-binary "$1"; }
q "CREATE DATABASE bench"
# Same columns as tally's events; times in ms as UInt64 (18.16 has no DateTime64). Keyed on
# event_id like the future ClickHouse store (ReplacingMergeTree, DESIGN.md lesson 11).
q "CREATE TABLE bench.events (event_id String, type String, name String, user_id String,
   anonymous_id String, session_id String, created_at UInt64, properties String, context String)
   ENGINE = ReplacingMergeTree() ORDER BY event_id"
la=$(loadavg); t0=$(cpu_ticks "$ch_pid")
out=$("$load" --target clickhouse --port "$ch_http" --connections "$conns" --events "$events" --seconds "$seconds" || true)
t1=$(cpu_ticks "$ch_pid")
row "ClickHouse 18.16 INSERT FORMAT JSONEachRow (baseline)" "$out" "$(peak_rss_mb "$ch_pid")" "$(us_per_event "$t0" "$t1" "$out")" "$la"
la=$(loadavg); t0=$(cpu_ticks "$ch_pid")
out=$("$load" --target clickhouse --port "$ch_http" --connections "$conns" --events $((rate * 10)) --seconds 10 --rate "$rate" || true)
t1=$(cpu_ticks "$ch_pid")
row "ClickHouse 18.16, fixed $rate events/s" "$out" "$(peak_rss_mb "$ch_pid")" "$(us_per_event "$t0" "$t1" "$out")" "$la"

echo
echo "Ingest, 100-event batches, $conns connections, $(nproc) cores, $(date -u +%Y-%m-%d)"
echo
echo "| server | acknowledged events/s | p50 ack ms | p99 ack ms | server CPU µs/event | peak RSS MB | events acked | errors | load avg |"
echo "|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
