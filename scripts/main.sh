#!/usr/bin/env bash
# The main job: set up, build, and lint every runbook and the stdlib. Exit status is lint's.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
./build/runbook lint runbooks stdlib
