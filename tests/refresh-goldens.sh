#!/usr/bin/env bash
# Rewrites every tests/golden/**/*.golden (runbook, scenario and environment cases, and their
# .sarif.golden / .github.golden where present) from the current build. Review the diff before committing.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --build build -j2 --target runbook_tests >/dev/null
RUNBOOK_REFRESH_GOLDENS=1 ./build/tests/runbook_tests --gtest_filter='Cases/Golden.*:RehearseGolden.*' >/dev/null
git status --short tests/golden
