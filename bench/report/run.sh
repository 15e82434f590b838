#!/usr/bin/env bash
# Report benchmark: 10M generated events in SQLite, the rollup job, then each report query (rows
# and rollups) and the export.
#   bench/report/run.sh [build-dir] [db-path]
# The database (about 4 GB) stays outside git: default /tmp/tally-report-bench/events.db; a second
# run reuses it.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${1:-$root/build/native}"
db="${2:-/tmp/tally-report-bench/events.db}"
bench="$build/bench/report/tally-report-bench"
cmake --build "$build" --target tally-report-bench -j2 >/dev/null
mkdir -p "$(dirname "$db")"
/usr/bin/time -f "load: peak RSS %M KB" "$bench" load --db "$db" --events "${EVENTS:-10000000}"
# Rollups caught up (the collector's background job does this every 2 s), then every query
# with rollups off (every row read) and on.
"$bench" rollup --db "$db"
"$bench" query --db "$db" --rollups both
"$bench" export --db "$db" --days 3 --format csv
"$bench" export --db "$db" --days 30 --format csv
"$bench" export --db "$db" --days 30 --format ndjson
