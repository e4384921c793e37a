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
