#!/usr/bin/env bash
# The whole test suite: set up, build, then every test through ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Every rehearsal scenario's expectations, with the JUnit report CI can pick up.
./build/runbook test runbooks -q --junit build/scenarios.junit.xml
# The example runbooks for systems outside the seed (examples/: PostgreSQL, TLS certificates, node
# disks), each with its team module: they lint clean (warnings fail too) and their scenarios pass.
lint_out=$(./build/runbook lint examples) || { echo "$lint_out"; exit 1; }
echo "$lint_out" | tail -1
grep -q ': 0 errors, 0 warnings$' <<< "$lint_out" || { echo "$lint_out"; echo "examples/: lint warnings"; exit 1; }
./build/runbook test examples -q --junit build/examples.junit.xml
ctest --test-dir build --output-on-failure -j2

# The same suite under AddressSanitizer and UBSan: the verifier sweeps (flipped and truncated .rbc
# files), the bad-input cases and the VM limits must be memory-safe, not just pass.
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRUNBOOK_SANITIZE=ON >/dev/null
cmake --build build-asan -j2
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
./build-asan/runbook test runbooks -q
./build-asan/runbook test examples -q
ctest --test-dir build-asan --output-on-failure -j2

# Every fuzz target (tests/fuzz/) for FUZZ_SECONDS each (default 60) under libFuzzer, ASan and UBSan:
# any crash, hang or out-of-memory fails the run. ctest above already replayed their corpora.
bash scripts/fuzz.sh
