#!/usr/bin/env bash
# bench/run.sh — what a live run's safety costs, side by side in one run (bench/README.md, "Live
# runs"): a live `runbook run --yes` against a real redis-server and recording shims, against the
# sum of its commands' times; audit appends through rt::AuditLog against write()+fdatasync(); lease
# Acquire + Release through rt::RedisTeam against redis-benchmark on the same server.
# Needs redis-server, redis-cli and redis-benchmark (scripts/setup.sh installs them) and bash 5 (the
# shims use $EPOCHREALTIME).
# Env: RUNS (default 3), SLEEP_MS (200), AUDIT_N (500), LEASE_N (20000), BUILD_DIR (default build).
set -euo pipefail
REPO=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$REPO/build}
export RUNS=${RUNS:-3}
cmake --build "$BUILD_DIR" -j1 --target run_bench runbook >/dev/null
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $(date -u +%F)"

# Everything the runs write (the runbook, the environment, the shims, the audit, locks, state, the
# server's own files) goes in one temporary directory, removed on exit, like the server.
# A second one on a tmpfs, when there is one, holds the audit, locks and state of the same live run
# again: syncs return at once there, so the difference is what they cost.
TMP=$(mktemp -d -t runbook-run-bench.XXXXXX)
SHM=
REDIS_PID=
BENCH_PID=
cleanup() {
  if [[ -n $BENCH_PID ]]; then  # stopped early: the bench, and the `runbook run` it may be waiting for
    pkill -TERM -P "$BENCH_PID" 2>/dev/null || true
    kill "$BENCH_PID" 2>/dev/null || true
    wait "$BENCH_PID" 2>/dev/null || true
  fi
  if [[ -n $REDIS_PID ]]; then
    kill "$REDIS_PID" 2>/dev/null || true
    wait "$REDIS_PID" 2>/dev/null || true
  fi
  rm -rf -- "$TMP"
  if [[ -n $SHM ]]; then rm -rf -- "$SHM"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
if [[ $(stat -f -c %T /dev/shm 2>/dev/null) == tmpfs ]]; then SHM=$(mktemp -d -p /dev/shm runbook-run-bench.XXXXXX); fi

# A redis-server on a free loopback port (another process may take the port first: try again).
for _ in 1 2 3 4 5; do
  PORT=$("$BUILD_DIR/bench/run_bench" --free-port)
  redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize no --loglevel warning \
    --dir "$TMP" >"$TMP/redis.log" 2>&1 &
  REDIS_PID=$!
  for _ in $(seq 100); do
    redis-cli -h 127.0.0.1 -p "$PORT" ping >/dev/null 2>&1 && break
    kill -0 "$REDIS_PID" 2>/dev/null || break
    sleep 0.05
  done
  redis-cli -h 127.0.0.1 -p "$PORT" ping >/dev/null 2>&1 && break
  kill "$REDIS_PID" 2>/dev/null || true
  wait "$REDIS_PID" 2>/dev/null || true
  REDIS_PID=
done
[[ -n $REDIS_PID ]] || { echo "run.sh: redis-server did not start: $(cat "$TMP/redis.log")" >&2; exit 2; }
echo "redis-server $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/') on 127.0.0.1:$PORT; runs: $RUNS"

mkdir -p "$TMP/run"
echo "scratch: $TMP ($(df -T "$TMP" | awk 'NR == 2 {print $2}'))${SHM:+, $SHM (tmpfs)}; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
# In the background, so that INT and TERM reach the trap at once rather than when it ends.
"$BUILD_DIR/bench/run_bench" "$TMP/run" "$PORT" "$BUILD_DIR/runbook" ${SHM:+"$SHM"} &
BENCH_PID=$!
wait "$BENCH_PID"
BENCH_PID=
