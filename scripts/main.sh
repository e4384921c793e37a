#!/usr/bin/env bash
# The main job: set up and build; lint the runbooks and the stdlib; compile the runbooks to verified
# bytecode; rehearse each runbook's main incident from that bytecode on its scenario's virtual clock;
# then run every scenario's expectations (`runbook test`) with coverage. Stops at the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

echo "== lint"
./build/runbook lint runbooks stdlib

echo
echo "== compile"
./build/runbook compile runbooks -o build/runbooks.rbc

for rb in redis_down workers_hung graph_slow queue_growing mutations_blocked telemetry_inconsistent \
          chat_timeout websocket_disconnects; do
  echo
  echo "== rehearse $rb (runbooks/$rb/outage.scenario.yaml)"
  ./build/runbook rehearse build/runbooks.rbc --scenario "runbooks/$rb/outage.scenario.yaml" \
    --env runbooks/environment.example.yaml
done

echo
echo "== test: every scenario under runbooks/"
./build/runbook test runbooks --coverage --junit build/scenarios.junit.xml

echo
echo "== examples/: runbooks for systems outside the seed, with their team modules"
./build/runbook lint examples
./build/runbook test examples --coverage

echo
echo "== triage: every runbook's symptoms, live, against a redis-server started here (and stopped)"
# A local redis-server on a free loopback port stands in for the environment's Redis; the other
# targets have no live native yet, so their symptoms are unknown, each with its reason.
work=$(mktemp -d)
redis_pid=
cleanup() { [[ -n $redis_pid ]] && kill "$redis_pid" 2>/dev/null; wait "$redis_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
for try in 1 2 3 4 5; do
  port=$((20000 + RANDOM % 40000))
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize no >"$work/redis.log" 2>&1 &
  redis_pid=$!
  for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  redis-cli -p "$port" ping >/dev/null 2>&1 && break
  kill "$redis_pid" 2>/dev/null || true; wait "$redis_pid" 2>/dev/null || true; redis_pid=
done
[[ -n $redis_pid ]] || { echo "could not start redis-server on a loopback port"; cat "$work/redis.log"; exit 1; }
sed -e "s|redis://127.0.0.1:6379|redis://127.0.0.1:$port|" runbooks/environment.example.yaml > "$work/local.env.yaml"
rc=0
./build/runbook triage runbooks --env "$work/local.env.yaml" || rc=$?
# 0: nothing holds, 1: something holds; both are answers. 2 is a failure.
(( rc < 2 )) || exit "$rc"
