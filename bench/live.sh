#!/usr/bin/env bash
# bench/live.sh — live reads against real servers on loopback, side by side in one run: triage of
# the eight runbooks against its slowest probe alone and against a black-holed endpoint's timeout, and
# Redis probes through the native against redis-benchmark on the same server (bench/README.md).
# Needs redis-server, redis-benchmark and prometheus (scripts/setup.sh installs them).
# Env: RUNS (default 5), BUILD_DIR (default build).
set -euo pipefail
REPO=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$REPO/build}
cmake --build "$BUILD_DIR" -j2 --target runbook live_bench >/dev/null
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $(date -u +%F)"
"$BUILD_DIR/bench/live_bench" "$REPO" "$BUILD_DIR/runbook"
