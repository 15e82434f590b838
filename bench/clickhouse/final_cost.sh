#!/usr/bin/env bash
# What FINAL costs (docs/BENCHMARKS.md, "ClickHouse"; issue 6 asks to choose the read-side dedup
# by measurement). Starts a temporary clickhouse-server 18.16 (max_threads=2, like
# bench/clickhouse/run.sh), fills the collector's events table (same DDL as
# collector/store/clickhouse_store.cc) with ROWS generated rows — 30 days, 200k users, 40 names,
# a channel property, time-ordered ids like UUIDv7 — plus DUP_PERCENT % of them inserted again in
# a later part (cross-collector retries that raced: the only way duplicates reach the table,
# since each collector looks ids up before inserting), and times three ways of reading each report
# query exactly once per event:
#   final   FROM events FINAL (what clickhouse_report_store.cc does)
#   groupby one row per event_id first: FROM (SELECT ... GROUP BY workspace, event_id), any()
#           of each column (every copy of an id holds the same event)
#   plain   no dedup at all: a lower bound, wrong by the duplicates
# plus the server CPU each took (utime+stime of the server process, 10 ms resolution).
#
#   bench/clickhouse/final_cost.sh        (ROWS=10000000 DUP_PERCENT=1 REPS=3)
set -euo pipefail
rows="${ROWS:-10000000}"
dup_percent="${DUP_PERCENT:-1}"
reps="${REPS:-3}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

# shellcheck source=../lib.sh
source "$root/bench/lib.sh"
bench_start

# shellcheck source=server.sh
source "$root/bench/clickhouse/server.sh"
start_clickhouse "$work/ch" 8000000000
pids+=("$ch_pid")
http=$ch_http
q() { curl -sSf "http://127.0.0.1:$http/" --data-binary "$1"; }

q "CREATE DATABASE b"
q "CREATE TABLE b.events (workspace String, event_id String, type String, name String,
  user_id String, anonymous_id String, session_id String, created_at Int64, sent_at Int64,
  received_at Int64, derived_at Int64, time_flags UInt32, properties String, context String)
  ENGINE = ReplacingMergeTree() PARTITION BY toYYYYMM(toDateTime(intDiv(derived_at, 1000)))
  ORDER BY (workspace, event_id)"
# 2024-11-01 .. 2024-12-01, one row every 30 days / ROWS; ids sort by time like UUIDv7.
base=1730419200000
span=$((30 * 86400000))
gen="SELECT 'bench', concat(toString(1000000000000 + number), '-7abc-8def-', toString(cityHash64(number) % 1000000000000)),
  'track', concat('event-', toString(cityHash64(number, 1) % 40)),
  concat('C-', toString(cityHash64(number, 2) % 200000)), '', concat('s-', toString(intDiv(number, 3))),
  $base + intDiv(number * $span, $rows), 0, $base + intDiv(number * $span, $rows),
  $base + intDiv(number * $span, $rows), 0,
  concat('{\"channel\":\"', arrayElement(['email','sms','push','web','inapp','ads'], cityHash64(number, 3) % 6 + 1), '\"}'),
  '{}' FROM numbers($rows)"
t0=$(date +%s.%N)
q "INSERT INTO b.events $gen"
q "OPTIMIZE TABLE b.events FINAL"  # the old data fully merged, as after a quiet night
# The raced retries arrive later, as their own part (merging it would remove them).
q "INSERT INTO b.events SELECT * FROM b.events WHERE cityHash64(event_id) % 100 < $dup_percent"
t1=$(date +%s.%N)
stored=$(q "SELECT count() FROM b.events")
unique=$(q "SELECT uniqExact(event_id) FROM b.events")
parts=$(q "SELECT count() FROM system.parts WHERE database = 'b' AND table = 'events' AND active")
echo "Generated $rows events + duplicates: $stored rows stored, $unique distinct ids, $parts active parts ($(printf '%.0f' "$(echo "$t1 - $t0" | bc)") s); clickhouse-server 18.16, max_threads=2, $(date -u +%F) load $(cut -d' ' -f1 /proc/loadavg)"
echo

cols="workspace, event_id, any(name) AS name, any(user_id) AS user_id, any(session_id) AS session_id, any(derived_at) AS derived_at, any(properties) AS properties"
week="derived_at >= $((base + 23 * 86400000)) AND derived_at < $((base + span))"
declare -A from=(
  [final]="b.events FINAL"
  [groupby]="(SELECT $cols FROM b.events WHERE workspace = 'bench' GROUP BY workspace, event_id)"
  [plain]="b.events"
)
queries=(
  "count all|SELECT count() FROM %F WHERE workspace = 'bench'"
  "events per day, all|SELECT toDate(toDateTime(intDiv(derived_at, 1000))) AS d, count() FROM %F WHERE workspace = 'bench' GROUP BY d ORDER BY d"
  "events per day, 7 d|SELECT toDate(toDateTime(intDiv(derived_at, 1000))) AS d, count() FROM %F WHERE workspace = 'bench' AND $week GROUP BY d ORDER BY d"
  "unique users per day, all|SELECT toDate(toDateTime(intDiv(derived_at, 1000))) AS d, uniqExact(user_id) FROM %F WHERE workspace = 'bench' GROUP BY d ORDER BY d"
  "breakdown by name, 7 d|SELECT name, count() AS c FROM %F WHERE workspace = 'bench' AND $week GROUP BY name ORDER BY c DESC LIMIT 10"
  "breakdown by channel, all|SELECT visitParamExtractString(properties, 'channel') AS v, count() AS c FROM %F WHERE workspace = 'bench' GROUP BY v ORDER BY c DESC LIMIT 10"
  "user timeline, newest 100|SELECT event_id, name, derived_at FROM %F WHERE workspace = 'bench' AND user_id = 'C-4242' ORDER BY derived_at DESC LIMIT 100"
)
echo "| query | FINAL wall / server CPU s | GROUP BY event_id wall / CPU s | no dedup (lower bound) wall / CPU s | same answer as FINAL |"
echo "|---|---|---|---|---|"
for entry in "${queries[@]}"; do
  label="${entry%%|*}"
  tmpl="${entry#*|}"
  line="| $label |"
  answer_final=""
  same="groupby:"
  for way in final groupby plain; do
    sql="${tmpl//%F/${from[$way]}}"
    best_wall=999999; best_cpu=0
    for _ in $(seq "$reps"); do
      c0=$(cpu_s "$ch_pid"); w0=$(date +%s.%N)
      out=$(q "$sql FORMAT TabSeparated")
      w1=$(date +%s.%N); c1=$(cpu_s "$ch_pid")
      wall=$(echo "$w1 - $w0" | bc); cpu=$(echo "$c1 - $c0" | bc)
      if (($(echo "$wall < $best_wall" | bc))); then best_wall=$wall; best_cpu=$cpu; fi
    done
    line+=" $(printf '%.2f / %.2f' "$best_wall" "$best_cpu") |"
    sum=$(printf '%s' "$out" | md5sum | cut -c1-8)
    if [[ "$way" == final ]]; then answer_final="$sum"; else
      [[ "$sum" == "$answer_final" ]] && same+=" $way=yes" || same+=" $way=no"
    fi
  done
  echo "$line ${same#groupby:} |"
done
