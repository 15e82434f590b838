#!/usr/bin/env bash
# ClickHouse benchmark (docs/BENCHMARKS.md, "ClickHouse"), not part of CI. Starts a temporary
# clickhouse-server, then:
#  1. ingest: 100-event batches through tally-collector --store clickhouse://... (the writer
#     coalesces concurrent requests into one INSERT) versus the same batches inserted straight
#     into ClickHouse over HTTP (INSERT ... FORMAT JSONEachRow per batch), same connections;
#  2. reports (when bench/report's SQLite database exists): copies its events into ClickHouse and
#     times the same ReportStore calls on both stores.
#
#   bench/clickhouse/run.sh [build-dir]   (EVENTS=, SECONDS_MAX=, CONNS=, REPS=, SQLITE_DB=,
#                                          STEPS="ingest reports" to run one step only)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${1:-$root/build/native}"
events="${EVENTS:-2000000}"
seconds="${SECONDS_MAX:-20}"
conns="${CONNS:-32}"
sqlite_db="${SQLITE_DB:-/tmp/tally-report-bench/events.db}"
steps=" ${STEPS:-ingest reports} "
load="$build/bench/ingest/tally-ingest-load"
collector="$build/collector/tally-collector"
chbench="$build/bench/clickhouse/tally-ch-bench"
[[ -x "$load" && -x "$collector" && -x "$chbench" ]] || { echo "build first: cmake --build $build" >&2; exit 1; }

# shellcheck source=../lib.sh
source "$root/bench/lib.sh"
bench_start

# shellcheck source=server.sh
source "$root/bench/clickhouse/server.sh"
start_clickhouse "$work/ch"
pids+=("$ch_pid")
q() { curl -sf "http://127.0.0.1:$ch_http/" --data-binary "$1"; }

# --- 1. ingest ---------------------------------------------------------------------------------
# REPS repetitions, alternating which path goes first (odd: collector first, even: direct first),
# so neither always runs on the fresher server; one row per run, then the medians.
if [[ "$steps" == *" ingest "* ]]; then
port=$(free_port)
cat > "$work/tally.json" <<JSON
{"rate_limit_rps": 0, "workspaces": [{"name": "bench", "sources": [{"name": "load", "write_key": "wk_bench"}]}]}
JSON
"$collector" --config "$work/tally.json" --listen "127.0.0.1:$port" \
  --store "clickhouse://default@127.0.0.1:$ch_http/tally" 2>"$work/tally.log" &
collector_pid="$!"
pids+=("$collector_pid")
wait_http "http://127.0.0.1:$port/healthz"
q "CREATE DATABASE bench"
# The direct baseline's table: same columns, same engine and key.
q "CREATE TABLE bench.events (event_id String, type String, name String, user_id String,
   anonymous_id String, session_id String, created_at UInt64, properties String, context String)
   ENGINE = ReplacingMergeTree() ORDER BY event_id"
run_path() {  # $1 = tally|clickhouse; prints one table row, appends events/s to $work/rate.$1
  local la out target_port=$port label="tally-collector → ClickHouse (coalesced INSERTs)"
  [[ "$1" == clickhouse ]] && target_port=$ch_http label="direct INSERT FORMAT JSONEachRow per batch"
  la=$(loadavg)
  local c0 s0 c1 s1
  c0=$(cpu_s "$collector_pid"); s0=$(cpu_s "$ch_pid")
  out=$("$load" --target "$1" --port "$target_port" --connections "$conns" --events "$events" --seconds "$seconds" || true)
  c1=$(cpu_s "$collector_pid"); s1=$(cpu_s "$ch_pid")
  echo "| $rep | $label | $(field "$out" events_per_s) | $(field "$out" p50_ms) | $(field "$out" p99_ms) | $(field "$out" events) | $(field "$out" errors) | $(python3 -c "print(round($c1-$c0, 2))") | $(python3 -c "print(round($s1-$s0, 2))") | $la |"
  field "$out" events_per_s >>"$work/rate.$1"
}
echo
echo "Ingest into ClickHouse 18.16, 100-event batches, $conns connections, ${seconds} s per run, $(nproc) cores, $(date -u +%Y-%m-%d)"
echo
echo "| rep | path | acknowledged events/s | p50 ack ms | p99 ack ms | events acked | errors | collector CPU s | clickhouse-server CPU s | load avg at start |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for rep in $(seq "${REPS:-1}"); do
  if (( rep % 2 )); then run_path tally; run_path clickhouse; else run_path clickhouse; run_path tally; fi
done
median() { sort -g "$1" | awk '{v[NR]=$1} END {print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }
m_via=$(median "$work/rate.tally"); m_direct=$(median "$work/rate.clickhouse")
echo
echo "median events/s: collector $m_via, direct $m_direct, ratio $(python3 -c "print(round($m_via/$m_direct, 2))")"
echo "events in tally.events FINAL after the collector runs: $(q "SELECT count() FROM tally.events FINAL")"
curl -sf "http://127.0.0.1:$port/metrics" | grep -E '^tally_(commits_total|commit_failures_total|commit_seconds_count|commit_seconds_sum) ' || true
# Inserts ClickHouse slowed or refused for too many parts (parts_to_delay_insert/parts_to_throw_insert).
q "SELECT event, value FROM system.events WHERE event IN ('DelayedInserts', 'DelayedInsertsMilliseconds', 'RejectedInserts', 'InsertQuery', 'InsertedRows')" || true
fi

# --- 2. reports ----------------------------------------------------------------------------------
if [[ "$steps" != *" reports "* ]]; then
  :
elif [[ -f "$sqlite_db" ]]; then
  "$chbench" copy --from "sqlite:$sqlite_db" --to "clickhouse://default@127.0.0.1:$ch_http/reports"
  q "OPTIMIZE TABLE reports.events FINAL" || true
  for url in "sqlite:$sqlite_db" "clickhouse://default@127.0.0.1:$ch_http/reports"; do
    echo
    echo "Report queries on ${url%%:*} (load avg $(loadavg) at start)"
    echo
    pid_flag=()
    [[ "$url" == clickhouse:* ]] && pid_flag=(--server-pid "$ch_pid")
    "$chbench" query --store "$url" "${pid_flag[@]}"
  done
else
  echo "no $sqlite_db: run bench/report/run.sh first for the report comparison" >&2
fi
