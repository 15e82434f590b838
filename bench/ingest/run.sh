#!/usr/bin/env bash
# Ingest benchmark: tally-collector (durable, --sync full) against ClickHouse's own
# `INSERT ... FORMAT JSONEachRow` over HTTP with the same 100-event batches, both on 127.0.0.1,
# each started here with a temp data dir and free ports. Prints a Markdown table.
#
#   bench/ingest/run.sh [build-dir]      (default build/native; EVENTS=, SECONDS_MAX=, CONNS=, RATE=)
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

work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { for _ in $(seq 200); do curl -sf "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "not up: $1" >&2; return 1; }
peak_rss_mb() { awk '/VmHWM/ {printf "%.0f", $2/1024}' "/proc/$1/status"; }
field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }

rows=()
row() {  # name, json of the run, rss
  rows+=("| $1 | $(field "$2" events_per_s) | $(field "$2" p50_ms) | $(field "$2" p99_ms) | $3 | $(field "$2" events) | $(field "$2" errors) |")
}

# --- tally-collector -------------------------------------------------------------------------
run_tally() {  # sync mode, label
  local port; port=$(free_port)
  cat > "$work/tally.json" <<JSON
{"rate_limit_rps": 0, "workspaces": [{"name": "bench", "sources": [{"name": "load", "write_key": "wk_bench"}]}]}
JSON
  rm -f "$work"/tally-"$1".db*
  "$collector" --config "$work/tally.json" --listen "127.0.0.1:$port" \
    --store "sqlite:$work/tally-$1.db" --sync "$1" 2>"$work/tally-$1.log" &
  local pid=$!; pids+=("$pid")
  wait_http "http://127.0.0.1:$port/healthz"
  local out; out=$("$load" --target tally --port "$port" --connections "$conns" --events "$events" --seconds "$seconds" || true)
  row "tally-collector, --sync $1, as fast as acknowledged" "$out" "$(peak_rss_mb "$pid")"
  out=$("$load" --target tally --port "$port" --connections "$conns" --events $((rate * 10)) --seconds 10 --rate "$rate" || true)
  row "tally-collector, --sync $1, fixed $rate events/s" "$out" "$(peak_rss_mb "$pid")"
  kill "$pid"; wait "$pid" || true
}
run_tally full
run_tally normal

# --- ClickHouse baseline ---------------------------------------------------------------------
ch="$work/ch"; mkdir -p "$ch"/{data,tmp,log,user_files,format_schemas}
ch_http=$(free_port); ch_tcp=$(free_port)
cat > "$ch/config.xml" <<XML
<yandex>
  <logger><level>warning</level><log>$ch/log/server.log</log><errorlog>$ch/log/error.log</errorlog><console>0</console></logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>$ch_http</http_port>
  <tcp_port>$ch_tcp</tcp_port>
  <path>$ch/data/</path>
  <tmp_path>$ch/tmp/</tmp_path>
  <user_files_path>$ch/user_files/</user_files_path>
  <format_schema_path>$ch/format_schemas/</format_schema_path>
  <users_config>$ch/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>1073741824</mark_cache_size>
</yandex>
XML
cat > "$ch/users.xml" <<XML
<yandex>
  <profiles><default><max_threads>2</max_threads></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip></networks>
    <profile>default</profile><quota>default</quota></default></users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors>
    <result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
XML
clickhouse-server --config-file="$ch/config.xml" >"$ch/log/stdout.log" 2>&1 &
ch_pid=$!; pids+=("$ch_pid")
wait_http "http://127.0.0.1:$ch_http/ping"
q() { curl -sf "http://127.0.0.1:$ch_http/" --data-binary "$1"; }
q "CREATE DATABASE bench"
# Same columns as tally's events; times in ms as UInt64 (18.16 has no DateTime64). Keyed on
# event_id like the future ClickHouse store (ReplacingMergeTree, DESIGN.md lesson 11).
q "CREATE TABLE bench.events (event_id String, type String, name String, user_id String,
   anonymous_id String, session_id String, created_at UInt64, properties String, context String)
   ENGINE = ReplacingMergeTree() ORDER BY event_id"
out=$("$load" --target clickhouse --port "$ch_http" --connections "$conns" --events "$events" --seconds "$seconds" || true)
row "ClickHouse 18.16 INSERT FORMAT JSONEachRow (baseline)" "$out" "$(peak_rss_mb "$ch_pid")"
out=$("$load" --target clickhouse --port "$ch_http" --connections "$conns" --events $((rate * 10)) --seconds 10 --rate "$rate" || true)
row "ClickHouse 18.16, fixed $rate events/s" "$out" "$(peak_rss_mb "$ch_pid")"

echo
echo "Ingest, 100-event batches, $conns connections, $(nproc) cores, $(date -u +%Y-%m-%d)"
echo
echo "| server | acknowledged events/s | p50 ack ms | p99 ack ms | peak RSS MB | events acked | errors |"
echo "|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
