#!/usr/bin/env bash
# Where the collector's CPU goes during ingest, thread by thread: starts tally-collector (temp
# SQLite file, rate limit off), sends ROUNDS rounds of EVENTS events from tally-ingest-load (as
# fast as acknowledged, CONNS connections; RATE=N for a fixed rate instead) and prints, per
# round, the load tool's result and the user/system CPU seconds of each named collector thread
# (tally-writer, tally-http handlers, tally-sync, tally-ckpt, tally-rollup: collector/thread_name.h)
# and of the load tool, and the bytes the collector handed to write()/pwrite() per event (WAL
# frames, checkpoint copies, answers). The rounds share one file, so later rounds show the cost
# on a larger one.
#
#   bench/ingest/threads.sh [build-dir]   (EVENTS=1000000 ROUNDS=3 CONNS=32 SYNC=full RATE=0)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${1:-$root/build/native}"
events="${EVENTS:-1000000}"
rounds="${ROUNDS:-3}"
conns="${CONNS:-32}"
sync="${SYNC:-full}"
rate="${RATE:-0}"
load="$build/bench/ingest/tally-ingest-load"
collector="$build/collector/tally-collector"
[[ -x "$load" && -x "$collector" ]] || { echo "build first: cmake --build $build" >&2; exit 1; }
# shellcheck source=../lib.sh
source "$root/bench/lib.sh"
bench_start

port=$(free_port)
echo '{"rate_limit_rps": 0, "workspaces": [{"name": "bench", "sources": [{"name": "load", "write_key": "wk_bench"}]}]}' >"$work/tally.json"
"$collector" --config "$work/tally.json" --listen "127.0.0.1:$port" --store "sqlite:$work/tally.db" \
  --sync "$sync" 2>"$work/collector.log" &
pid=$!
pids+=("$pid")
wait_http "http://127.0.0.1:$port/healthz"

# One line per thread: name, user ticks, system ticks (fields 14 and 15 of its stat).
thread_ticks() {
  local t
  for t in /proc/"$pid"/task/*; do
    echo "$(cat "$t/comm") $(sed 's/.*) //' "$t/stat" | awk '{print $12, $13}')"
  done
  echo "wchar $(awk '$1 == "wchar:" {print $2}' "/proc/$pid/io") 0"
}
for round in $(seq "$rounds"); do
  thread_ticks >"$work/before"
  args=(--target tally --port "$port" --connections "$conns" --events "$events" --seconds 120)
  [[ "$rate" != 0 ]] && args+=(--rate "$rate" --seconds $((events / rate)))
  out=$( { /usr/bin/time -f 'LOADCPU %U %S' "$load" "${args[@]}"; } 2>&1 )
  thread_ticks >"$work/after"
  echo "round $round ($(field "$(grep '^{' <<<"$out")" events) events acknowledged, load average $(loadavg)):"
  grep '^{' <<<"$out"
  python3 - "$work/before" "$work/after" "$(grep LOADCPU <<<"$out")" "$(grep '^{' <<<"$out")" <<'PY'
import collections, json, os, sys
hz = os.sysconf('SC_CLK_TCK')
def read(path):
    user, system = collections.Counter(), collections.Counter()
    for line in open(path):
        name, u, s = line.rsplit(' ', 2)
        user[name] += int(u); system[name] += int(s)
    return user, system
(bu, bs), (au, as_) = read(sys.argv[1]), read(sys.argv[2])
n = json.loads(sys.argv[4])['events'] or 1
written = au.pop('wchar') - bu.pop('wchar')
total = 0.0
for name in sorted(au, key=lambda k: -(au[k] + as_[k] - bu[k] - bs[k])):
    u, s = (au[name] - bu[name]) / hz, (as_[name] - bs[name]) / hz
    total += u + s
    if u + s > 0:
        print(f"  {name:16s} user {u:6.2f} s  sys {s:6.2f} s  {1e6 * (u + s) / n:5.2f} us/event")
print(f"  {'collector':16s} {total:24.2f} s  {1e6 * total / n:5.2f} us/event, wrote {written / n / 1024:.1f} KB/event")
_, lu, ls = sys.argv[3].split()
print(f"  {'load tool':16s} user {float(lu):6.2f} s  sys {float(ls):6.2f} s  {1e6 * (float(lu) + float(ls)) / n:5.2f} us/event")
PY
done
