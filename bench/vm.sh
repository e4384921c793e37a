#!/usr/bin/env bash
# bench/vm.sh — ns per evaluation of one symptom condition in the runbook VM, against the same
# expression in Lua 5.4 and LuaJIT, plus in-process compile throughput of the eight seed runbooks.
#
# Usage: bench/vm.sh
# Env:   N          evaluations per timed batch (default 1000000)
#        BATCHES    timed batches, median reported (default 9, after one warm-up batch)
#        REPS       timed compiles of the seeds, median reported (default 30)
#        BUILD_DIR  CMake build directory (default build under the repo root)
#        VM_BENCH   a prebuilt vm_bench binary (skips the build step)
#
# vm_bench is built with `cmake --build BUILD_DIR --target vm_bench` when the top-level CMakeLists.txt
# has `add_subdirectory(bench)`; otherwise it is compiled directly against BUILD_DIR's librbcompiler.a
# and librbruntime.a (after building them) into BUILD_DIR/bench-fallback/vm_bench.
# lua5.4 and luajit are installed with apt-get when missing (needs root).
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd -- "$SCRIPT_DIR/.." && pwd)

N=${N:-1000000}
BATCHES=${BATCHES:-9}
REPS=${REPS:-30}
BUILD_DIR=${BUILD_DIR:-$REPO/build}
[[ $BUILD_DIR == /* ]] || BUILD_DIR=$PWD/$BUILD_DIR

die() { echo "vm.sh: $*" >&2; exit 2; }
[[ $N =~ ^[1-9][0-9]*$ ]] || die "N must be a positive integer"
[[ $BATCHES =~ ^[1-9][0-9]*$ ]] || die "BATCHES must be a positive integer"
[[ $REPS =~ ^[1-9][0-9]*$ ]] || die "REPS must be a positive integer"

# ---------------------------------------------------------------- 1. build vm_bench
if [[ -n ${VM_BENCH:-} ]]; then
  BIN=$VM_BENCH
elif grep -Eq '^[[:space:]]*add_subdirectory\([[:space:]]*bench([[:space:]]+EXCLUDE_FROM_ALL)?[[:space:]]*\)' "$REPO/CMakeLists.txt"; then
  [[ -f $BUILD_DIR/CMakeCache.txt ]] || cmake -S "$REPO" -B "$BUILD_DIR" >/dev/null
  cmake --build "$BUILD_DIR" -j2 --target vm_bench >/dev/null || die "building vm_bench failed"
  BIN=$BUILD_DIR/bench/vm_bench
else
  echo "vm.sh: CMakeLists.txt has no add_subdirectory(bench); compiling vm_bench directly" >&2
  [[ -f $BUILD_DIR/CMakeCache.txt ]] || cmake -S "$REPO" -B "$BUILD_DIR" >/dev/null
  cmake --build "$BUILD_DIR" -j2 --target rbcompiler >/dev/null || die "building rbcompiler failed"
  BIN=$BUILD_DIR/bench-fallback/vm_bench
  libs=("$BUILD_DIR/librbcompiler.a" "$BUILD_DIR/librbruntime.a")
  stale=0
  [[ -x $BIN ]] || stale=1
  for f in "$SCRIPT_DIR/vm_bench.cpp" "${libs[@]}"; do [[ $f -nt $BIN ]] && stale=1; done
  if (( stale )); then
    mkdir -p "$(dirname "$BIN")"
    # The flags of the default RelWithDebInfo build.
    c++ -std=c++17 -O2 -g -DNDEBUG -I"$REPO" -DRUNBOOK_SOURCE_DIR="\"$REPO\"" \
      "$SCRIPT_DIR/vm_bench.cpp" "${libs[@]}" -lfmt -o "$BIN" || die "compiling vm_bench failed"
  fi
fi
[[ -x $BIN ]] || die "vm_bench not found at $BIN"

# ---------------------------------------------------------------- 2. Lua interpreters
missing=()
command -v lua5.4 >/dev/null || missing+=(lua5.4)
command -v luajit >/dev/null || missing+=(luajit)
if (( ${#missing[@]} )); then
  (( EUID == 0 )) || die "missing ${missing[*]}; install them (apt-get install -y lua5.4 luajit) or run as root"
  echo "vm.sh: installing ${missing[*]}" >&2
  apt-get install -y "${missing[@]}" >/dev/null 2>&1 \
    || { apt-get update >/dev/null && apt-get install -y "${missing[@]}" >/dev/null; } \
    || die "apt-get install ${missing[*]} failed"
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/runbook-vmsh.XXXXXX")
trap 'rm -rf -- "$TMP"' EXIT

# The same condition as kCondition in vm_bench.cpp, with the same probe results. Units are plain
# numbers: 80% -> 80, 10s -> 10000 (ms), and the latency probe returns 4000 (ms) like the VM's 4s.
# Probes are closures in tables, called like the VM's host calls; the condition is a function, called
# once per evaluation like Vm::Eval. Times are os.clock (process CPU time), median of the batches.
cat >"$TMP/cond.lua" <<'EOF'
local N, BATCHES = tonumber(arg[1]), tonumber(arg[2])
local redis  = { memory_used    = function() return 91 end }        -- percent
local api    = { metric_seconds = function(name) return 4000 end }  -- milliseconds
local celery = { queue_len      = function() return 600 end }

local function cond()
  return redis.memory_used() > 80 and (api.metric_seconds("chat_latency_p99") * 2 > 10000 or celery.queue_len() + 10 > 500)
end

local function batch()
  local trues = 0
  local t0 = os.clock()
  for _ = 1, N do
    if cond() then trues = trues + 1 end
  end
  local t = os.clock() - t0
  assert(trues == N, "the condition should be true")
  return t * 1e9 / N
end

batch()  -- warm-up
local ns = {}
for b = 1, BATCHES do ns[b] = batch() end
table.sort(ns)
local m = #ns % 2 == 1 and ns[(#ns + 1) / 2] or (ns[#ns / 2] + ns[#ns / 2 + 1]) / 2
print(string.format("ns_per_eval %.2f", m))
print(string.format("ns_per_eval_min %.2f", ns[1]))
EOF

# ---------------------------------------------------------------- 3. run
echo "machine: $(nproc) vCPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "date:    $(date -u +%Y-%m-%dT%H:%MZ)   N=$N per batch, $BATCHES batches (median), compile REPS=$REPS"
echo "lua:     $(lua5.4 -v 2>&1 | head -1) | $(luajit -v 2>&1 | head -1)"
echo

"$BIN" --evals "$N" --batches "$BATCHES" --compile-reps "$REPS" --repo "$REPO" >"$TMP/vm.out" \
  || die "vm_bench failed"
lua5.4 "$TMP/cond.lua" "$N" "$BATCHES" >"$TMP/lua.out" || die "lua5.4 failed"
luajit "$TMP/cond.lua" "$N" "$BATCHES" >"$TMP/luajit.out" || die "luajit failed"
# LuaJIT with the trace compiler off: its bytecode interpreter, the closest kind of engine to rt::Vm.
luajit -joff "$TMP/cond.lua" "$N" "$BATCHES" >"$TMP/luajit-joff.out" || die "luajit -joff failed"

get() { awk -v k="$2" '$1 == k { print $2; found = 1 } END { if (!found) exit 1 }' "$1" || die "no $2 in $1"; }

vm_ns=$(get "$TMP/vm.out" vm.ns_per_eval)
vm_min=$(get "$TMP/vm.out" vm.ns_per_eval_min)
vm_wall=$(get "$TMP/vm.out" vm.wall_ns_per_eval)
vm_ins=$(get "$TMP/vm.out" vm.instructions)
lua_ns=$(get "$TMP/lua.out" ns_per_eval)
lua_min=$(get "$TMP/lua.out" ns_per_eval_min)
jit_ns=$(get "$TMP/luajit.out" ns_per_eval)
jit_min=$(get "$TMP/luajit.out" ns_per_eval_min)
joff_ns=$(get "$TMP/luajit-joff.out" ns_per_eval)
joff_min=$(get "$TMP/luajit-joff.out" ns_per_eval_min)

echo "condition: $(sed -n 's/^# condition: //p' "$TMP/vm.out")"
echo "           ($vm_ins instructions, 3 probe calls, every instruction runs; result true)"
echo
awk -v vm="$vm_ns" -v vmmin="$vm_min" -v vmwall="$vm_wall" -v lua="$lua_ns" -v luamin="$lua_min" \
    -v jit="$jit_ns" -v jitmin="$jit_min" -v joff="$joff_ns" -v joffmin="$joff_min" 'BEGIN {
  printf "%-22s %14s %10s\n", "engine", "ns/eval (med)", "min"
  printf "%-22s %14.1f %10.1f   (wall clock %.1f)\n", "runbook VM (rt::Vm)", vm, vmmin, vmwall
  printf "%-22s %14.1f %10.1f\n", "lua5.4", lua, luamin
  printf "%-22s %14.2f %10.2f\n", "luajit", jit, jitmin
  printf "%-22s %14.1f %10.1f   (interpreter only)\n", "luajit -joff", joff, joffmin
  printf "\nratio runbook / lua5.4       = %.2f\n", vm / lua
  printf "ratio runbook / luajit       = %.1f\n", vm / jit
  printf "ratio runbook / luajit -joff = %.2f\n", vm / joff
}'

c_n=$(get "$TMP/vm.out" compile.runbooks)
c_bytes=$(get "$TMP/vm.out" compile.source_bytes)
c_rbc=$(get "$TMP/vm.out" compile.rbc_bytes)
c_ms=$(get "$TMP/vm.out" compile.ms)
c_wall=$(get "$TMP/vm.out" compile.wall_ms)
c_mbs=$(get "$TMP/vm.out" compile.mb_per_s)
c_rps=$(get "$TMP/vm.out" compile.runbooks_per_s)
echo
echo "compile, in process (CompileToFiles of the $c_n seeds to one .rbc, median of $REPS):"
echo "  $c_bytes source bytes -> $c_rbc .rbc bytes in $c_ms ms CPU ($c_wall ms wall): $c_mbs MB/s, $c_rps runbooks/s"
printf '  stages (ms CPU): parse+check %s, codegen %s, serialize %s, load+verify %s, host registry %s\n' \
  "$(get "$TMP/vm.out" compile.stage.parse_check_ms)" "$(get "$TMP/vm.out" compile.stage.codegen_ms)" \
  "$(get "$TMP/vm.out" compile.stage.serialize_ms)" "$(get "$TMP/vm.out" compile.stage.load_verify_ms)" \
  "$(get "$TMP/vm.out" compile.stage.registry_ms)"
