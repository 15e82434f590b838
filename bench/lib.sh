# Shell helpers shared by the benchmark scripts (sourced, never run): the temporary work folder
# and the processes to stop on exit, free ports, readiness, JSON fields and /proc figures.
#
#   source "$root/bench/lib.sh"; bench_start
# makes $work (a temporary folder) and the array `pids`; on exit every pid in it is stopped and
# $work removed.

bench_start() {
  work="$(mktemp -d)"
  pids=()
  trap bench_cleanup EXIT
}

bench_cleanup() {
  local p
  for p in "${pids[@]}"; do
    kill "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  if [[ -n "${KEEP:-}" ]]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}

# A TCP port on 127.0.0.1 that nothing listens on now.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Waits until URL answers 2xx (up to 30 s).
wait_http() {
  for _ in $(seq 300); do
    curl -sf "$1" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "not up: $1" >&2
  return 1
}

# The top-level field $2 of the JSON object $1 (the load tool's one-line results).
field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }

loadavg() { cut -d' ' -f1 /proc/loadavg; }
# CPU seconds (user + system) process $1 has used so far.
cpu_s() { awk '{sub(/.*\) /, ""); printf "%.2f", ($12 + $13) / 100}' "/proc/$1/stat"; }
# Peak resident memory of process $1, MB.
peak_rss_mb() { awk '/VmHWM/ {printf "%.0f", $2/1024}' "/proc/$1/status"; }
