#!/usr/bin/env bash
# bench/sparse.sh — how long a 30-day scenario with 5 timeline points takes to rehearse.
#
# Usage: bench/sparse.sh [path/to/runbook]      (default: build/runbook under the repo root)
# Env:   RUNS   timed runs, median reported (default 5)
#
# The scenario (bench/sparse/countdown/month.scenario.yaml) covers 30 days at a 15s tick:
# 172,801 ticks, of which a runner that evaluates only where something can change (a timeline
# point, a poll, a window's deadline) needs a few dozen. The rehearsal must pass before it is timed.
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd -- "$SCRIPT_DIR/.." && pwd)
RUNS=${RUNS:-5}
RUNBOOK=${1:-build/runbook}
if [[ $RUNBOOK != /* ]]; then
  if [[ -x $PWD/$RUNBOOK ]]; then RUNBOOK=$PWD/$RUNBOOK; else RUNBOOK=$REPO/$RUNBOOK; fi
fi
die() { echo "sparse.sh: $*" >&2; exit 2; }
(( BASH_VERSINFO[0] >= 5 )) || die "bash >= 5 is required (EPOCHREALTIME); this is $BASH_VERSION"
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer (got '$RUNS')"
[[ -x $RUNBOOK ]] || die "runbook binary not found or not executable: $RUNBOOK (build it first)"

RB=$REPO/bench/sparse/countdown.rb.denis
SC=$REPO/bench/sparse/countdown/month.scenario.yaml
"$RUNBOOK" rehearse "$RB" --scenario "$SC" >/dev/null || die "the scenario does not pass: run $RUNBOOK rehearse $RB --scenario $SC"

# The peer: the same binary rehearsing a 15-minute seed scenario (redis_down/outage), so process start
# and compilation cancel out and the ratio says what the month's virtual time costs.
PEER_RB=$REPO/runbooks/redis_down.rb.denis
PEER_SC=$REPO/runbooks/redis_down/outage.scenario.yaml
median_ms() {
  local times=() t0 t1
  for ((i = 0; i < RUNS; i++)); do
    t0=$EPOCHREALTIME
    "$RUNBOOK" rehearse "$@" >/dev/null || true
    t1=$EPOCHREALTIME
    times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) * 1000 }')")
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
month=$(median_ms "$RB" --scenario "$SC")
peer=$(median_ms "$PEER_RB" --scenario "$PEER_SC")
ratio=$(awk -v a="$month" -v b="$peer" 'BEGIN { printf "%.2f", a / b }')
echo "runbook rehearse, 30d scenario, 5 timeline points, 15s tick: median ${month} ms over $RUNS runs (process start included)"
echo "peer: redis_down/outage, 15m of virtual time: median ${peer} ms; month / 15 minutes = ${ratio}x"
