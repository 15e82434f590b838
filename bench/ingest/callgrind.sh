#!/usr/bin/env bash
# Instructions per event of the collector's ingest path, counted by callgrind (deterministic, so
# unlike wall time it is not disturbed by other work on the machine). Starts tally-collector
# under valgrind (temp SQLite file, --sync normal), sends EVENTS events in 100-event batches
# from tally-ingest-load over 8 connections, stops the collector and prints instructions per
# event in total, in the HTTP handler (HandleBatch), in the writer thread (Writer::Run) and in
# the report rollup job (Rollup::RunOnce, on its own thread).
#
#   bench/ingest/callgrind.sh <build dir> [<another build dir> ...]   (EVENTS=30000)
set -euo pipefail
events="${EVENTS:-30000}"
command -v valgrind >/dev/null || { echo "callgrind.sh: needs valgrind (apt-get install valgrind)" >&2; exit 1; }
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=../lib.sh
source "$root/bench/lib.sh"
bench_start  # (KEEP=1 keeps $work: callgrind's files and the annotation)
for build in "$@"; do
  collector="$build/collector/tally-collector"
  load="$build/bench/ingest/tally-ingest-load"
  [[ -x "$collector" && -x "$load" ]] || { echo "build first: $build" >&2; exit 1; }
  port=$(free_port)
  echo '{"rate_limit_rps": 0, "workspaces": [{"name": "bench", "sources": [{"name": "load", "write_key": "wk_bench"}]}]}' >"$work/tally.json"
  rm -f "$work"/tally.db* "$work"/cg.out*
  valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" "$collector" \
    --config "$work/tally.json" --listen "127.0.0.1:$port" --store "sqlite:$work/tally.db" \
    --sync normal 2>"$work/collector.log" &
  pid=$!
  pids+=("$pid")
  wait_http "http://127.0.0.1:$port/healthz"
  "$load" --target tally --port "$port" --connections 8 --events "$events" --seconds 600 >"$work/load.json"
  kill -INT "$pid"; wait "$pid" || true
  acked=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["events"])' "$work/load.json")
  callgrind_annotate --inclusive=yes "$work"/cg.out* 2>/dev/null >"$work/annotate.txt"
  python3 - "$work/annotate.txt" "$acked" "$build" <<'PY'
import re, sys
text = open(sys.argv[1]).read(); n = int(sys.argv[2])
def total(pattern):
    best = 0
    for line in text.splitlines():
        m = re.match(r'\s*([\d,]+)\s.*' + pattern, line)
        if m: best = max(best, int(m.group(1).replace(',', '')))
    return best
m = re.search(r'([\d,]+)\s+\(100\.0%\)\s+PROGRAM TOTALS', text) or re.search(r'([\d,]+)\s+PROGRAM TOTALS', text)
all_ = int(m.group(1).replace(',', ''))
print(f"{sys.argv[3]}: {n} events acknowledged; instructions per event: total {all_/n/1000:.1f}k, "
      f"handler {total('HandleBatch')/n/1000:.1f}k, writer {total('Writer::Run')/n/1000:.1f}k, "
      f"DecodeBatch {total('tally::DecodeBatch')/n/1000:.1f}k, "
      f"report rollup job {total('Rollup::RunOnce')/n/1000:.1f}k")
PY
done
