#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/) with clang 14 into build-fuzz/ and runs each for a bounded
# time on a copy of its corpus (the committed corpus never grows here). Fails on any crash, hang
# (-timeout), out-of-memory (-rss_limit_mb) or leak; found inputs are left under
# build-fuzz/fuzz-run/TARGET/artifacts/. Usage: scripts/fuzz.sh [TARGET...]; FUZZ_SECONDS per target
# (default 60). Installs clang if missing (Debian 12, as root). Idempotent.
set -uo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(clang-14 libclang-rt-14-dev)
bash scripts/install.sh "${PACKAGES[@]}" || exit 2

SECONDS_EACH=${FUZZ_SECONDS:-60}
TARGETS=("$@")
if ((${#TARGETS[@]} == 0)); then
  for d in tests/fuzz/corpus/*/; do TARGETS+=("$(basename "$d")"); done
fi

cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRUNBOOK_FUZZ=ON \
      -DCMAKE_CXX_COMPILER=clang++-14 >/dev/null || exit 2
# The CLI and the test suite too, so CI proves the whole project builds with clang as well as GCC.
cmake --build build-fuzz -j2 --target runbook runbook_tests "${TARGETS[@]}" || exit 2

# Longest input per target: a little above the largest seed, so mutations stay near real files.
max_len() {
  case "$1" in
    fuzz_rbc) echo 32768 ;;
    fuzz_regex) echo 2048 ;;
    *) echo 16384 ;;
  esac
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=0
for t in "${TARGETS[@]}"; do
  bin=build-fuzz/tests/fuzz/$t
  work=build-fuzz/fuzz-run/$t
  rm -rf "$work" && mkdir -p "$work/corpus" "$work/artifacts"
  cp -R "tests/fuzz/corpus/$t/." "$work/corpus/"
  dict=()
  [[ -f tests/fuzz/$t.dict ]] && dict=(-dict="tests/fuzz/$t.dict")
  mkdir -p "tests/fuzz/crashes/$t"
  # New inputs go to the first folder (the copy); the kept crashes are read as seeds only.
  "$bin" "$work/corpus" "tests/fuzz/crashes/$t" "${dict[@]}" -max_total_time="$SECONDS_EACH" -timeout=10 \
    -rss_limit_mb=2048 -max_len="$(max_len "$t")" -print_final_stats=1 -artifact_prefix="$work/artifacts/" \
    >"$work/log" 2>&1
  rc=$?
  execs=$(awk '/stat::number_of_executed_units:/ {print $2}' "$work/log")
  rss=$(awk '/stat::peak_rss_mb:/ {print $2}' "$work/log")
  last=$(grep -E '^#[0-9]+' "$work/log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' <<<"$last" | awk '{print $2}')
  ft=$(grep -o 'ft: [0-9]*' <<<"$last" | awk '{print $2}')
  corpus=$(ls "$work/corpus" | wc -l)
  found=$(ls "$work/artifacts")
  if ((rc != 0)) || [[ -n $found ]]; then
    failed=1
    echo "fuzz: $t FAILED (exit $rc) after ${execs:-?} executions; found: ${found:-nothing saved}"
    grep -E 'ERROR: |SUMMARY: |fuzz property failed|==[0-9]+==' "$work/log" | head -20 | sed 's/^/fuzz:   /'
    echo "fuzz:   log: $work/log; reproduce: $bin $work/artifacts/<file>"
  else
    echo "fuzz: $t ok: ${execs:-?} executions in ${SECONDS_EACH}s, cov ${cov:-?}, features ${ft:-?}," \
         "corpus $(ls "tests/fuzz/corpus/$t" | wc -l) → $corpus, peak RSS ${rss:-?} MB, nothing found"
  fi
done
exit $failed
