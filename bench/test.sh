#!/usr/bin/env bash
# bench/test.sh — scenarios per second of `runbook test` against `promtool test rules`.
#
# Usage: bench/test.sh [path/to/runbook]      (default: build/runbook under the repo root)
# Env:   N        number of scenario files / promtool test files in the corpus (default 1000;
#                 the reported figure needs N >= 1000, smaller N is allowed for quick tries)
#        RUNS     timed runs per corpus measurement, median reported (default 5)
#        LAT_RUNS runs of the single-scenario latency measurement (default 50)
#        PROMTOOL promtool binary (default: promtool on PATH)
#
# The runbook corpus is the eight runbooks and the policy, plus every scenario under
# runbooks/*/ replicated round-robin to N files. The promtool corpus is N unit-test files,
# one per "scenario", over nine shared rule files that mirror the runbooks and the policy.
# Both corpora must pass before anything is timed. The runbook binary is copied first and the
# copy is timed, so a rebuild of build/runbook during the run cannot mix two builds.
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd -- "$SCRIPT_DIR/.." && pwd)

N=${N:-1000}
RUNS=${RUNS:-5}
LAT_RUNS=${LAT_RUNS:-50}
PROMTOOL=${PROMTOOL:-promtool}
RUNBOOK=${1:-build/runbook}
# A relative binary path is taken relative to the caller's cwd if it exists there,
# otherwise relative to the repo root.
if [[ $RUNBOOK != /* ]]; then
  if [[ -x $PWD/$RUNBOOK ]]; then RUNBOOK=$PWD/$RUNBOOK; else RUNBOOK=$REPO/$RUNBOOK; fi
fi

die() { echo "test.sh: $*" >&2; exit 2; }
(( $# <= 1 )) || die "usage: bench/test.sh [path/to/runbook] (got $# arguments)"
(( BASH_VERSINFO[0] >= 5 )) || die "bash >= 5 is required (EPOCHREALTIME); this is $BASH_VERSION"
[[ $N =~ ^[1-9][0-9]*$ ]] || die "N must be a positive integer (got '$N')"
(( N <= 99999 )) || die "N must be <= 99999 (copies are numbered with five digits)"
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer (got '$RUNS')"
[[ $LAT_RUNS =~ ^[1-9][0-9]*$ ]] || die "LAT_RUNS must be a positive integer (got '$LAT_RUNS')"
[[ -x $RUNBOOK ]] || die "runbook binary not found or not executable: $RUNBOOK (build it first)"
command -v "$PROMTOOL" >/dev/null || die "promtool not found (Debian package 'prometheus')"
"$PROMTOOL" test rules --help >/dev/null 2>&1 || die "'$PROMTOOL test rules' is not available"
(( N >= 1000 )) || echo "note: N=$N < 1000: fine for a quick try, not for the reported figure" >&2

SEED_DIR=$REPO/runbooks
RUNBOOKS=(chat_timeout graph_slow mutations_blocked queue_growing redis_down
          telemetry_inconsistent websocket_disconnects workers_hung)
for s in "${RUNBOOKS[@]}"; do [[ -f $SEED_DIR/$s.rb.denis ]] || die "missing runbook $SEED_DIR/$s.rb.denis"; done
[[ -f $SEED_DIR/policy/escalation.rb.denis ]] || die "missing $SEED_DIR/policy/escalation.rb.denis"

# Seed scenarios: whatever exists today under runbooks/<dir>/, sorted.
shopt -s nullglob
SCENARIOS=("$SEED_DIR"/*/*.scenario.yaml)
shopt -u nullglob
(( ${#SCENARIOS[@]} >= 1 )) || die "no scenarios found: expected at least one runbooks/*/*.scenario.yaml"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/runbook-bench-test.XXXXXX")
trap 'rm -rf -- "$TMP"' EXIT
CORPUS=$TMP/runbooks
PROM=$TMP/prom
TPL=$TMP/templates
mkdir -p "$CORPUS/policy" "$PROM/rules" "$PROM/tests" "$TPL"

# Run a private copy of the binary, so every runbook figure comes from one build even if
# build/runbook is rebuilt while we run; refuse a copy taken while it was being written.
rb_stamp=$(stat -c '%s %Y' -- "$RUNBOOK")
cp -- "$RUNBOOK" "$TMP/runbook"
[[ $(stat -c '%s %Y' -- "$RUNBOOK" 2>/dev/null || echo gone) == "$rb_stamp" ]] \
  || die "$RUNBOOK changed while it was copied (being rebuilt?): wait for the build and run again"
echo "binary: $RUNBOOK ($(date -u -d "@${rb_stamp#* }" '+%Y-%m-%d %H:%M:%SZ'), ${rb_stamp% *} bytes), run from a copy"
RUNBOOK=$TMP/runbook

# ---------------------------------------------------------------- timing helpers
# Microsecond wall clock without forking (bash >= 5 has EPOCHREALTIME).
now_us() { local t=${EPOCHREALTIME//[^0-9]/}; echo "$t"; }

# time_us CMD...  -> prints "WALL_US CPU_MS": elapsed wall microseconds and the user+system CPU
# milliseconds of CMD and its children; stdout/stderr of CMD discarded; fails (returns the
# command's status) if the command fails. The `time` keyword adds no fork.
time_us() {
  local t0 t1 rc=0 u s TIMEFORMAT='%3U %3S'
  t0=$(now_us)
  { time "$@" >/dev/null 2>&1; } 2>"$TMP/cpu.time" || rc=$?
  t1=$(now_us)
  (( rc == 0 )) || return "$rc"
  read -r u s <"$TMP/cpu.time"
  echo "$(( t1 - t0 )) $(awk -v u="$u" -v s="$s" 'BEGIN { printf "%d", (u + s) * 1000 }')"
}

# percentiles PERCENTILE... < numbers  -> the requested percentiles (nearest-rank; the median of
# an even count is the mean of the two middle values), space separated
percentiles() {
  sort -n | awk -v ps="$*" '{ v[NR] = $1 } END {
    n = split(ps, p, " ")
    for (i = 1; i <= n; i++) {
      if (p[i] == 50 && NR % 2 == 0) { r = (v[NR/2] + v[NR/2 + 1]) / 2 }
      else { k = int((p[i] / 100) * NR + 0.999999); if (k < 1) k = 1; if (k > NR) k = NR; r = v[k] }
      printf "%s%d", (i > 1 ? " " : ""), r
    }
    print ""
  }'
}

# replicate OUT_PREFIX... : writes N files round-robin; copy i is the content of seed i%k written to
# "${dest_dirs[s]}/${dest_names[s]}_iiiii${dest_ext}". Reads seeds once; writes with builtins only.
replicate() {
  local -a content=() ; local k=${#seed_files[@]} i s id
  for (( s = 0; s < k; s++ )); do
    IFS= read -r -d '' 'content[s]' <"${seed_files[s]}" || true
  done
  for (( i = 0; i < N; i++ )); do
    s=$(( i % k )); printf -v id '%05d' "$i"
    printf '%s' "${content[s]}" >"${dest_dirs[s]}/${dest_names[s]}_${id}${dest_ext}"
  done
}

# --------------------------------------------------------- 1. runbook corpus
# Every runbooks/*.rb.denis (the eight runbooks) and the policy, then the seed scenarios copied round-robin to N files:
# runbooks/<dir>/<name>.scenario.yaml -> CORPUS/<dir>/<name>_iiiii.scenario.yaml. Copies keep their
# content and their directory, so each still names the same runbook (its `runbook:` key, else
# the directory) and finds the same source beside the directory.
cp "$SEED_DIR/policy/escalation.rb.denis" "$CORPUS/policy/"
cp "$SEED_DIR"/*.rb.denis "$CORPUS/"
seed_files=(); dest_dirs=(); dest_names=(); dest_ext=.scenario.yaml
declare -A per_dir=()
for f in "${SCENARIOS[@]}"; do
  d=$(basename -- "$(dirname -- "$f")"); b=$(basename -- "$f" .scenario.yaml)
  mkdir -p "$CORPUS/$d"
  seed_files+=("$f"); dest_dirs+=("$CORPUS/$d"); dest_names+=("$b")
  per_dir[$d]=$(( ${per_dir[$d]:-0} + 1 ))
done
replicate

sc_files=$(find "$CORPUS" -name '*.scenario.yaml' | wc -l)
sc_bytes=$(find "$CORPUS" -name '*.scenario.yaml' -print0 | xargs -0 cat | wc -c)
(( sc_files == N )) || die "expected $N scenario files in the corpus, found $sc_files"
seed_summary=$(for d in "${!per_dir[@]}"; do printf '%s:%d ' "$d" "${per_dir[$d]}"; done | tr ' ' '\n' | sort | paste -sd' ')
echo "corpus: ${#SCENARIOS[@]} seed scenarios ($seed_summary) -> $sc_files scenario files, $sc_bytes bytes,"
echo "        plus ${#RUNBOOKS[@]} runbooks and the policy, in $CORPUS"

# The seeds must pass in the repo before their copies can; say which one fails.
seed_out=$TMP/seed.out
if ! (cd "$REPO" && "$RUNBOOK" test runbooks -q) >"$seed_out" 2>&1; then
  head -60 "$seed_out" >&2
  die "the seed scenarios do not pass in the repo: \`runbook test runbooks -q\` (see above)"
fi
test_out=$TMP/test.out
if ! "$RUNBOOK" test "$CORPUS" -q >"$test_out" 2>&1; then
  head -60 "$test_out" >&2
  die "the replicated corpus does not pass \`runbook test CORPUS -q\` (see above)"
fi
tail -n 1 "$test_out"
[[ $(tail -n 1 "$test_out") == "$N passed, 0 failed" ]] \
  || die "unexpected runbook test summary: '$(tail -n 1 "$test_out")' (want '$N passed, 0 failed')"

# ------------------------------------------------------ 3a. promtool unit-test corpus
# Nine shared rule files: one per runbook (its symptoms and escalation rows as alerting rules,
# with the runbook's `for` durations) and one for the policy rows that apply to every runbook.
# Eight unit-test templates, one per runbook, each a 10-15 minute timeline at a 15s interval with
# alert_rule_test expectations (firing and not firing) at several eval_times. The N test files
# are copies of the templates, round-robin; all point at ../rules/.
cat >"$PROM/rules/chat_timeout.rules.yml" <<'EOF'
# Reglas equivalentes al runbook chat_timeout (API /chat Timeout): síntomas y filas de escalamiento.
groups:
  - name: chat_timeout
    rules:
      - alert: ChatLatenciaAlta
        expr: chat_latency_p99_seconds{service="denis-api"} > 10
        labels: {severity: P2, team: sre, runbook: chat_timeout}
        annotations:
          summary: "chat.latency.p99 > 10s en {{ $labels.service }}"
      - alert: ChatTimeoutsSubiendo
        expr: increase(chat_timeout_total{service="denis-api"}[5m]) > 0
        labels: {severity: P2, team: sre, runbook: chat_timeout}
        annotations:
          summary: "La métrica chat.timeout está subiendo"
      - alert: ChatLatenciaCritica
        expr: chat_latency_p99_seconds{service="denis-api"} > 30
        labels: {severity: P1, team: sre, runbook: chat_timeout, escalate: page}
        annotations:
          summary: "p99 de /chat > 30s: declarar P1, avisar a SRE Lead"
      - alert: ChatNoResponde
        expr: probe_success{job="blackbox",target="denis-api/chat"} == 0
        labels: {severity: P1, team: sre, runbook: chat_timeout, escalate: page}
        annotations:
          summary: "/chat no responde: declarar P1, avisar a SRE Lead"
EOF

cat >"$PROM/rules/graph_slow.rules.yml" <<'EOF'
# Reglas equivalentes al runbook graph_slow (Graph (Neo4j) Lento): síntomas y filas de escalamiento.
groups:
  - name: graph_slow
    rules:
      - alert: ChatLentoPorGrafo
        expr: chat_latency_p99_seconds{service="denis-api"} > 5
        labels: {severity: P2, team: sre, runbook: graph_slow}
        annotations:
          summary: "Latencia de /chat por encima de 5s"
      - alert: Neo4jQueryTimeouts
        expr: increase(neo4j_query_timeout_total{service="denis-api"}[5m]) > 0
        labels: {severity: P2, team: sre, runbook: graph_slow}
        annotations:
          summary: "Errores neo4j.query_timeout"
      - alert: Neo4jPoolAgotado
        expr: increase(neo4j_pool_exhausted_total{service="denis-api"}[5m]) > 0
        labels: {severity: P2, team: sre, runbook: graph_slow, escalate: manual}
        annotations:
          summary: "Pool de Neo4j agotado: reiniciar Neo4j (manual)"
      - alert: DecisionTraceNoEscribe
        expr: increase(decision_trace_writes_total{service="denis-api"}[5m]) == 0
        labels: {severity: P3, team: sre, runbook: graph_slow}
        annotations:
          summary: "DecisionTrace no escribe"
      - alert: Neo4jQueryP99Alto
        expr: neo4j_query_p99_seconds{service="neo4j"} > 10
        for: 5m
        labels: {severity: P2, team: sre, runbook: graph_slow, escalate: page}
        annotations:
          summary: "p99 de Neo4j > 10s durante más de 5 minutos: avisar a SRE Lead"
      - alert: Neo4jConsultasBloqueadas
        expr: neo4j_blocked_queries{service="neo4j"} > 0
        labels: {severity: P2, team: sre, runbook: graph_slow, escalate: manual}
        annotations:
          summary: "Consultas bloqueadas: matar las de larga duración (manual)"
EOF

cat >"$PROM/rules/mutations_blocked.rules.yml" <<'EOF'
# Reglas equivalentes al runbook mutations_blocked (Mutations Bloqueadas por Policy).
groups:
  - name: mutations_blocked
    rules:
      - alert: PolicyBlockSubiendo
        expr: sum(increase(gate_policy_block_total{service="denis-api"}[5m])) > 0
        labels: {severity: P2, team: sre, runbook: mutations_blocked}
        annotations:
          summary: "La métrica gate.policy_block está subiendo"
      - alert: ToolsMutBloqueado
        expr: sum(celery_queue_length{queue="tools_mut"}) == 0 and on() sum(increase(gate_policy_block_total[5m])) > 0
        labels: {severity: P2, team: sre, runbook: mutations_blocked}
        annotations:
          summary: "Cola tools_mut vacía pero el usuario está bloqueado"
      - alert: Mutations403
        expr: increase(mutations_403_total{service="denis-api"}[5m]) > 0
        labels: {severity: P2, team: sre, runbook: mutations_blocked}
        annotations:
          summary: "Mutations retornan 403"
      - alert: MultiplesUsuariosBloqueados
        expr: count(sum by (user) (increase(gate_policy_block_total[15m])) > 0) > 5
        for: 5m
        labels: {severity: P2, team: sre, runbook: mutations_blocked, escalate: page}
        annotations:
          summary: "Múltiples usuarios bloqueados: avisar a SRE Lead"
      - alert: PolicyNoCarga
        expr: increase(policy_load_errors_total{service="denis-api"}[10m]) > 0
        labels: {severity: P2, team: sre, runbook: mutations_blocked, escalate: runbook, handover: graph_slow}
        annotations:
          summary: "La policy no carga desde Neo4j: pasar al runbook graph_slow"
EOF

cat >"$PROM/rules/queue_growing.rules.yml" <<'EOF'
# Reglas equivalentes al runbook queue_growing (Cola Creciendo Sin Consumir).
groups:
  - name: queue_growing
    rules:
      - alert: ColaCreciendo
        expr: deriv(celery_queue_length{app="denis-workers"}[10m]) > 0
        labels: {severity: P2, team: sre, runbook: queue_growing}
        annotations:
          summary: "La cola {{ $labels.queue }} crece sostenidamente"
      - alert: WorkersPocoUtilizados
        expr: avg(celery_worker_utilization{app="denis-workers"}) < 0.30
        labels: {severity: P3, team: sre, runbook: queue_growing}
        annotations:
          summary: "Utilización de workers por debajo del 30%"
      - alert: JobsEsperandoMucho
        expr: max(celery_queue_oldest_waiting_seconds{app="denis-workers"}) > 600
        labels: {severity: P2, team: sre, runbook: queue_growing}
        annotations:
          summary: "Jobs esperando más de 10 minutos"
      - alert: ColaMuyLarga
        expr: sum(celery_queue_length{app="denis-workers"}) > 2000
        for: 30m
        labels: {severity: P2, team: sre, runbook: queue_growing, escalate: page}
        annotations:
          summary: "Más de 2000 jobs en cola durante 30 minutos: avisar a SRE Lead"
      - alert: ColaCreceConWorkersOciosos
        expr: sum(deriv(celery_queue_length{app="denis-workers"}[10m])) > 0 and on() avg(celery_worker_utilization{app="denis-workers"}) < 0.30
        labels: {severity: P2, team: sre, runbook: queue_growing, escalate: manual}
        annotations:
          summary: "La cola crece con workers ociosos: reasignar colas (manual)"
      - alert: ProductorMasRapidoQueConsumidor
        expr: sum(rate(celery_tasks_published_total[5m])) > sum(rate(celery_tasks_succeeded_total[5m]))
        labels: {severity: P3, team: sre, runbook: queue_growing, escalate: run, step: rate_limit}
        annotations:
          summary: "Se producen más tareas de las que se consumen: ejecutar rate_limit"
EOF

cat >"$PROM/rules/redis_down.rules.yml" <<'EOF'
# Reglas equivalentes al runbook redis_down (Redis Caído): síntomas y filas de escalamiento.
groups:
  - name: redis_down
    rules:
      - alert: RedisNoResponde
        expr: redis_up{service="redis"} == 0
        labels: {severity: P2, team: sre, runbook: redis_down}
        annotations:
          summary: "redis.ping devuelve error en {{ $labels.instance }}"
      - alert: RateLimitFallback
        expr: max(rate_limit_fallback{service="denis-api"}) > 0
        labels: {severity: P3, team: sre, runbook: redis_down}
        annotations:
          summary: "Rate limiting usa fallback in-memory"
      - alert: CeleryBrokerCaido
        expr: celery_broker_up{app="denis-workers"} == 0
        labels: {severity: P2, team: sre, runbook: redis_down}
        annotations:
          summary: "Celery perdió su broker (Redis)"
      - alert: RedisConnectionErrorEnLogs
        expr: sum(increase(log_messages_total{index=~"denis.*",pattern="ConnectionError"}[5m])) > 0
        labels: {severity: P3, team: sre, runbook: redis_down}
        annotations:
          summary: "ConnectionError en logs"
      - alert: RedisCaidoProlongado
        expr: redis_up{service="redis"} == 0
        for: 5m
        labels: {severity: P2, team: sre, runbook: redis_down, escalate: page}
        annotations:
          summary: "Redis caído durante más de 5 minutos: avisar a SRE Lead"
      - alert: RedisMemoriaAlta
        expr: redis_memory_used_bytes{service="redis"} / redis_memory_max_bytes{service="redis"} > 0.90
        labels: {severity: P2, team: ops, runbook: redis_down, escalate: page}
        annotations:
          summary: "Memoria de Redis por encima del 90%: avisar a on-call, cleanup manual"
EOF

cat >"$PROM/rules/telemetry_inconsistent.rules.yml" <<'EOF'
# Reglas equivalentes al runbook telemetry_inconsistent (Telemetry Inconsistente).
groups:
  - name: telemetry_inconsistent
    rules:
      - alert: DecisionTraceVacio
        expr: increase(decision_trace_writes_total{service="denis-api"}[5m]) == 0
        labels: {severity: P3, team: sre, runbook: telemetry_inconsistent, escalate: runbook, handover: graph_slow}
        annotations:
          summary: "DecisionTrace vacío: pasar al runbook graph_slow"
      - alert: MetricsEndpointError
        expr: up{job="denis-api"} == 0
        labels: {severity: P3, team: sre, runbook: telemetry_inconsistent}
        annotations:
          summary: "/metrics retorna error en {{ $labels.instance }}"
      - alert: MetricsEndpointCaidoProlongado
        expr: up{job="denis-api"} == 0
        for: 5m
        labels: {severity: P2, team: sre, runbook: telemetry_inconsistent, escalate: page}
        annotations:
          summary: "/metrics caído durante más de 5 minutos: avisar a SRE Lead"
      - alert: JaegerSinSpans
        expr: sum(rate(jaeger_collector_spans_received_total[5m])) == 0
        for: 10m
        labels: {severity: P3, team: sre, runbook: telemetry_inconsistent, escalate: manual}
        annotations:
          summary: "Jaeger no recibe spans: revisar la red (manual)"
EOF

cat >"$PROM/rules/websocket_disconnects.rules.yml" <<'EOF'
# Reglas equivalentes al runbook websocket_disconnects (WebSocket Desconexiones); el escalamiento es el de la policy.
groups:
  - name: websocket_disconnects
    rules:
      - alert: WebSocketDesconexionesAltas
        expr: ws_disconnect_rate{service="denis-api"} > 1
        labels: {severity: P2, team: sre, runbook: websocket_disconnects}
        annotations:
          summary: "ws.disconnect_rate alto en {{ $labels.instance }}"
      - alert: VoiceCallsCortadas
        expr: increase(voice_calls_dropped_total{service="denis-api"}[10m]) > 3
        labels: {severity: P3, team: sre, runbook: websocket_disconnects}
        annotations:
          summary: "Voice calls cortadas"
      - alert: WebSocketIncidenteProlongado
        expr: max(ws_disconnect_rate{service="denis-api"}) > 1
        for: 5m
        labels: {severity: P2, team: sre, runbook: websocket_disconnects, escalate: page}
        annotations:
          summary: "Más de 5 minutos sin recuperación: avisar a SRE Lead"
EOF

cat >"$PROM/rules/workers_hung.rules.yml" <<'EOF'
# Reglas equivalentes al runbook workers_hung (Workers Colgados): síntomas y filas de escalamiento.
groups:
  - name: workers_hung
    rules:
      - alert: ColaCeleryAlta
        expr: sum(celery_queue_length{app="denis-workers"}) > 500
        labels: {severity: P2, team: sre, runbook: workers_hung, escalate: run, step: restart}
        annotations:
          summary: "Cola creciendo: celery.queue.len > 500; ejecutar el paso restart"
      - alert: WorkerSinLatido
        expr: max(celery_worker_seen_age_seconds{app="denis-workers"}) > 300
        labels: {severity: P2, team: sre, runbook: workers_hung}
        annotations:
          summary: "worker_seen no actualiza desde hace más de 5 minutos"
      - alert: JobsAtascados
        expr: max(celery_oldest_started_seconds{app="denis-workers"}) > 600
        labels: {severity: P2, team: sre, runbook: workers_hung}
        annotations:
          summary: "Jobs en STARTED más de 10 minutos sin completar"
      - alert: ColaCeleryMuyAlta
        expr: sum(celery_queue_length{app="denis-workers"}) > 1000
        for: 10m
        labels: {severity: P2, team: sre, runbook: workers_hung, escalate: page}
        annotations:
          summary: "Más de 1000 jobs en cola durante 10 minutos: avisar a SRE Lead"
      - alert: SinWorkersActivos
        expr: sum(celery_workers_active{app="denis-workers"}) == 0
        labels: {severity: P2, team: ops, runbook: workers_hung, escalate: page}
        annotations:
          summary: "Ningún worker activo: avisar a on-call"
      - alert: WorkerMemoriaAlta
        expr: max(container_memory_working_set_bytes{namespace="denis",container="worker"}) > 1073741824
        labels: {severity: P3, team: sre, runbook: workers_hung, escalate: manual}
        annotations:
          summary: "Memoria de un worker por encima de 1GB: matar y reiniciar (manual)"
EOF

cat >"$PROM/rules/policy.rules.yml" <<'EOF'
# Checklist General de Escalamiento (policy.escalation): las filas que aplican a todo runbook.
groups:
  - name: policy_escalation
    rules:
      - alert: ChatCaido
        expr: probe_success{job="blackbox",target="denis-api/chat"} == 0
        labels:
          severity: P1
          team: sre
          escalate: page
        annotations:
          summary: "/chat caído: declarar P1, avisar a SRE Lead y Emergency"
      - alert: ErrorRateAlto
        expr: sum(rate(http_requests_total{service="denis-api",code=~"5.."}[5m])) / sum(rate(http_requests_total{service="denis-api"}[5m])) > 0.10
        labels:
          severity: P2
          team: sre
          escalate: page
        annotations:
          summary: "Error rate por encima del 10%: avisar a SRE Lead"
EOF

cat >"$TPL/chat_timeout.test.yml" <<'EOF'
# La latencia p99 de /chat sube a 12s en 2m y a 35s en 5m; vuelve a 3s en 8m.
rule_files:
  - ../rules/chat_timeout.rules.yml
  - ../rules/policy.rules.yml
evaluation_interval: 15s
tests:
  - interval: 15s
    input_series:
      - series: 'chat_latency_p99_seconds{service="denis-api"}'
        values: '2x7 12x11 35x11 3x18'
      - series: 'chat_timeout_total{service="denis-api"}'
        values: '0x7 0+3x23 69x18'
      - series: 'probe_success{job="blackbox",target="denis-api/chat"}'
        values: '1x48'
      - series: 'http_requests_total{service="denis-api",code="200"}'
        values: '0+980x48'
      - series: 'http_requests_total{service="denis-api",code="504"}'
        values: '0+20x48'
    alert_rule_test:
      - eval_time: 1m
        alertname: ChatLatenciaAlta
        exp_alerts: []
      - eval_time: 1m
        alertname: ChatTimeoutsSubiendo
        exp_alerts: []
      - eval_time: 2m
        alertname: ChatLatenciaAlta
        exp_alerts:
          - exp_labels: {severity: P2, team: sre, runbook: chat_timeout, service: denis-api}
            exp_annotations:
              summary: "chat.latency.p99 > 10s en denis-api"
      - eval_time: 3m
        alertname: ChatTimeoutsSubiendo
        exp_alerts:
          - exp_labels: {severity: P2, team: sre, runbook: chat_timeout, service: denis-api}
            exp_annotations:
              summary: "La métrica chat.timeout está subiendo"
      - eval_time: 4m45s
        alertname: ChatLatenciaCritica
        exp_alerts: []
      - eval_time: 5m
        alertname: ChatLatenciaCritica
        exp_alerts:
          - exp_labels: {severity: P1, team: sre, runbook: chat_timeout, escalate: page, service: denis-api}
            exp_annotations:
              summary: "p99 de /chat > 30s: declarar P1, avisar a SRE Lead"
      - eval_time: 5m
        alertname: ChatLatenciaAlta
        exp_alerts:
          - exp_labels: {severity: P2, team: sre, runbook: chat_timeout, service: denis-api}
            exp_annotations:
              summary: "chat.latency.p99 > 10s en denis-api"
      - eval_time: 8m
        alertname: ChatLatenciaCritica
        exp_alerts: []
      - eval_time: 8m
        alertname: ChatLatenciaAlta
        exp_alerts: []
      - eval_time: 12m
        alertname: ChatNoResponde
        exp_alerts: []
      - eval_time: 12m
        alertname: ChatCaido
        exp_alerts: []
      - eval_time: 12m
        alertname: ErrorRateAlto
        exp_alerts: []
EOF

cat >"$TPL/graph_slow.test.yml" <<'EOF'
# Neo4j se vuelve lento en 2m (p99 14s); /chat pasa de 5s; timeouts de consultas.
rule_files:
  - ../rules/graph_slow.rules.yml
  - ../rules/policy.rules.yml
evaluation_interval: 15s
tests:
  - interval: 15s
    input_series:
      - series: 'chat_latency_p99_seconds{service="denis-api"}'
        values: '1x7 7x40'
      - series: 'neo4j_query_timeout_total{service="denis-api"}'
        values: '0x7 0+2x40'
      - series: 'neo4j_pool_exhausted_total{service="denis-api"}'
        values: '0x48'
      - series: 'decision_trace_writes_total{service="denis-api"}'
        values: '0+5x48'
      - series: 'neo4j_query_p99_seconds{service="neo4j"}'
        values: '1x7 14x40'
      - series: 'neo4j_blocked_queries{service="neo4j"}'
        values: '0x48'
      - series: 'probe_success{job="blackbox",target="denis-api/chat"}'
        values: '1x48'
      - series: 'http_requests_total{service="denis-api",code="200"}'
        values: '0+1000x48'
    alert_rule_test:
      - eval_time: 1m
        alertname: ChatLentoPorGrafo
        exp_alerts: []
      - eval_time: 2m
        alertname: ChatLentoPorGrafo
        exp_alerts:
          - exp_labels: {severity: P2, team: sre, runbook: graph_slow, service: denis-api}
            exp_annotations:
              summary: "Latencia de /chat por encima de 5s"
      - eval_time: 3m
        alertname: Neo4jQueryTimeouts
        exp_alerts:
          - exp_labels: {severity: P2, team: sre, runbook: graph_slow, service: denis-api}
            exp_annotations:
              summary: "Errores neo4j.query_timeout"
      - eval_time: 6m45s
        alertname: Neo4jQueryP99Alto
        exp_alerts: []
      - eval_time: 7m
        alertname: Neo4jQueryP99Alto
        exp_alerts:
          - exp_labels: {severity: P2, team: sre, runbook: graph_slow, escalate: page, service: neo4j}
            exp_annotations:
              summary: "p99 de Neo4j > 10s durante más de 5 minutos: avisar a SRE Lead"
      - eval_time: 12m
        alertname: Neo4jPoolAgotado
        exp_alerts: []
      - eval_time: 12m
        alertname: Neo4jConsultasBloqueadas
        exp_alerts: []
      - eval_time: 12m
        alertname: DecisionTraceNoEscribe
        exp_alerts: []
      - eval_time: 12m
        alertname: ChatCaido
        exp_alerts: []
      - eval_time: 12m
        alertname: ErrorRateAlto
        exp_alerts: []
EOF

cat >"$TPL/mutations_blocked.test.yml" <<'EOF'
# Desde 1m la policy bloquea las mutations de un usuario (403); la cola tools_mut queda vacía.
rule_files:
  - ../rules/mutations_blocked.rules.yml
  - ../rules/policy.rules.yml
evaluation_interval: 15s
tests:
  - interval: 15s
    input_series:
      - series: 'gate_policy_block_total{service="denis-api",user="u-1042"}'
        values: '0x3 0+2x37'
      - series: 'celery_queue_length{app="denis-workers",queue="tools_mut"}'
        values: '0x40'
      - series: 'mutations_403_total{service="denis-api"}'
        values: '0x3 0+2x37'
      - series: 'policy_load_errors_total{service="denis-api"}'
        values: '0x40'
      - series: 'probe_success{job="blackbox",target="denis-api/chat"}'
        values: '1x40'
      - series: 'http_requests_total{service="denis-api",code="200"}'
        values: '0+1000x40'
      - series: 'http_requests_total{service="denis-api",code="403"}'
        values: '0+2x40'
    alert_rule_test:
      - eval_time: 30s
        alertname: PolicyBlockSubiendo
        exp_alerts: []
      - eval_time: 30s
        alertname: ToolsMutBloqueado
        exp_alerts: []
      - eval_time: 2m
        alertname: PolicyBlockSubiendo
        exp_alerts:
          - exp_labels: {severity: P2, team: sre, runbook: mutations_blocked}
            exp_annotations:
              summary: "La métrica gate.policy_block está subiendo"
      - eval_time: 2m
        alertname: ToolsMutBloqueado
        exp_alerts:
          - exp_labels: {severity: P2, team: sre, runbook: mutations_blocked}
            exp_annotations:
              summary: "Cola tools_mut vacía pero el usuario está bloqueado"
      - eval_time: 2m
        alertname: Mutations403
        exp_alerts:
          - exp_labels: {severity: P2, team: sre, runbook: mutations_blocked, service: denis-api}
            exp_annotations:
              summary: "Mutations retornan 403"
      - eval_time: 10m
        alertname: MultiplesUsuariosBloqueados
        exp_alerts: []
      - eval_time: 10m
        alertname: PolicyNoCarga
        exp_alerts: []
      - eval_time: 10m
        alertname: ChatCaido
        exp_alerts: []
      - eval_time: 10m
        alertname: ErrorRateAlto
        exp_alerts: []
EOF

cat >"$TPL/queue_growing.test.yml" <<'EOF'
# La cola default crece 20 jobs cada 15s; los workers bajan al 20% de utilización en 3m.
rule_files:
  - ../rules/queue_growing.rules.yml
  - ../rules/policy.rules.yml
evaluation_interval: 15s
tests:
  - interval: 15s
    input_series:
      - series: 'celery_queue_length{app="denis-workers",queue="default"}'
        values: '1500+20x60'
      - series: 'celery_worker_utilization{app="denis-workers"}'
        values: '0.5x11 0.2x49'
      - series: 'celery_queue_oldest_waiting_seconds{app="denis-workers",queue="default"}'
        values: '60+15x60'
      - series: 'celery_tasks_published_total{app="denis-workers"}'
        values: '0+50x60'
      - series: 'celery_tasks_succeeded_total{app="denis-workers"}'
        values: '0+30x60'
      - series: 'probe_success{job="blackbox",target="denis-api/chat"}'
        values: '1x60'
      - series: 'http_requests_total{service="denis-api",code="200"}'
        values: '0+1000x60'
    alert_rule_test:
      - eval_time: 1m
        alertname: ColaCreciendo
        exp_alerts:
          - exp_labels: {severity: P2, team: sre, runbook: queue_growing, app: denis-workers, queue: default}
            exp_annotations:
              summary: "La cola default crece sostenidamente"
      - eval_time: 2m
        alertname: WorkersPocoUtilizados
        exp_alerts: []
      - eval_time: 2m
        alertname: ColaCreceConWorkersOciosos
        exp_alerts: []
      - eval_time: 3m
        alertname: WorkersPocoUtilizados
        exp_alerts:
          - exp_labels: {severity: P3, team: sre, runbook: queue_growing}
            exp_annotations:
              summary: "Utilización de workers por debajo del 30%"
      - eval_time: 3m
        alertname: ColaCreceConWorkersOciosos
        exp_alerts:
          - exp_labels: {severity: P2, team: sre, runbook: queue_growing, escalate: manual}
            exp_annotations:
              summary: "La cola crece con workers ociosos: reasignar colas (manual)"
      - eval_time: 5m
        alertname: ProductorMasRapidoQueConsumidor
        exp_alerts:
          - exp_labels: {severity: P3, team: sre, runbook: queue_growing, escalate: run, step: rate_limit}
            exp_annotations:
              summary: "Se producen más tareas de las que se consumen: ejecutar rate_limit"
      - eval_time: 9m
        alertname: JobsEsperandoMucho
        exp_alerts: []
      - eval_time: 9m15s
        alertname: JobsEsperandoMucho
        exp_alerts:
          - exp_labels: {severity: P2, team: sre, runbook: queue_growing}
            exp_annotations:
              summary: "Jobs esperando más de 10 minutos"
      - eval_time: 14m
        alertname: ColaMuyLarga
        exp_alerts: []
      - eval_time: 14m
        alertname: ChatCaido
        exp_alerts: []
      - eval_time: 14m
        alertname: ErrorRateAlto
        exp_alerts: []
EOF

cat >"$TPL/redis_down.test.yml" <<'EOF'
# Redis deja de responder a PING en 1m; el restart lo recupera en 4m (como redis_down/outage).
rule_files:
  - ../rules/redis_down.rules.yml
  - ../rules/policy.rules.yml
evaluation_interval: 15s
tests:
  - interval: 15s
    input_series:
      - series: 'redis_up{service="redis",instance="redis-0"}'
        values: '1x3 0x11 1x30'
      - series: 'rate_limit_fallback{service="denis-api",instance="api-0"}'
        values: '0x4 4x12 0x30'
      - series: 'celery_broker_up{app="denis-workers"}'
        values: '1x46'
      - series: 'log_messages_total{index="denis-app",pattern="ConnectionError"}'
        values: '0x3 0+10x12 120x30'
      - series: 'redis_memory_used_bytes{service="redis",instance="redis-0"}'
        values: '400000000x46'
      - series: 'redis_memory_max_bytes{service="redis",instance="redis-0"}'
        values: '1000000000x46'
      - series: 'probe_success{job="blackbox",target="denis-api/chat"}'
        values: '1x46'
      - series: 'http_requests_total{service="denis-api",code="200"}'
        values: '0+990x46'
      - series: 'http_requests_total{service="denis-api",code="500"}'
        values: '0+10x46'
    alert_rule_test:
      - eval_time: 30s
        alertname: RedisNoResponde
        exp_alerts: []
      - eval_time: 1m
        alertname: RedisNoResponde
        exp_alerts:
          - exp_labels: {severity: P2, team: sre, runbook: redis_down, service: redis, instance: redis-0}
            exp_annotations:
              summary: "redis.ping devuelve error en redis-0"
      - eval_time: 2m
        alertname: RateLimitFallback
        exp_alerts:
          - exp_labels: {severity: P3, team: sre, runbook: redis_down}
            exp_annotations:
              summary: "Rate limiting usa fallback in-memory"
      - eval_time: 2m
        alertname: RedisConnectionErrorEnLogs
        exp_alerts:
          - exp_labels: {severity: P3, team: sre, runbook: redis_down}
            exp_annotations:
              summary: "ConnectionError en logs"
      - eval_time: 3m45s
        alertname: RedisCaidoProlongado
        exp_alerts: []
      - eval_time: 5m
        alertname: RedisNoResponde
        exp_alerts: []
      - eval_time: 5m
        alertname: RateLimitFallback
        exp_alerts: []
      - eval_time: 10m
        alertname: RedisConnectionErrorEnLogs
        exp_alerts: []
      - eval_time: 10m
        alertname: RedisCaidoProlongado
        exp_alerts: []
      - eval_time: 10m
        alertname: CeleryBrokerCaido
        exp_alerts: []
      - eval_time: 10m
        alertname: RedisMemoriaAlta
        exp_alerts: []
      - eval_time: 10m
        alertname: ChatCaido
        exp_alerts: []
      - eval_time: 10m
        alertname: ErrorRateAlto
        exp_alerts: []
EOF

cat >"$TPL/telemetry_inconsistent.test.yml" <<'EOF'
# /metrics deja de responder en 2m y DecisionTrace deja de escribir en 3m.
rule_files:
  - ../rules/telemetry_inconsistent.rules.yml
  - ../rules/policy.rules.yml
evaluation_interval: 15s
tests:
  - interval: 15s
    input_series:
      - series: 'decision_trace_writes_total{service="denis-api"}'
        values: '0+4x11 44x37'
      - series: 'up{job="denis-api",instance="api-0"}'
        values: '1x7 0x40'
      - series: 'jaeger_collector_spans_received_total{service="jaeger"}'
        values: '0+100x48'
      - series: 'probe_success{job="blackbox",target="denis-api/chat"}'
        values: '1x48'
      - series: 'http_requests_total{service="denis-api",code="200"}'
        values: '0+1000x48'
    alert_rule_test:
      - eval_time: 1m
        alertname: MetricsEndpointError
        exp_alerts: []
      - eval_time: 2m
        alertname: MetricsEndpointError
        exp_alerts:
          - exp_labels: {severity: P3, team: sre, runbook: telemetry_inconsistent, job: denis-api, instance: api-0}
            exp_annotations:
              summary: "/metrics retorna error en api-0"
      - eval_time: 6m45s
        alertname: MetricsEndpointCaidoProlongado
        exp_alerts: []
      - eval_time: 7m
        alertname: MetricsEndpointCaidoProlongado
        exp_alerts:
          - exp_labels: {severity: P2, team: sre, runbook: telemetry_inconsistent, escalate: page, job: denis-api, instance: api-0}
            exp_annotations:
              summary: "/metrics caído durante más de 5 minutos: avisar a SRE Lead"
      - eval_time: 7m
        alertname: DecisionTraceVacio
        exp_alerts: []
      - eval_time: 8m
        alertname: DecisionTraceVacio
        exp_alerts:
          - exp_labels: {severity: P3, team: sre, runbook: telemetry_inconsistent, escalate: runbook, handover: graph_slow, service: denis-api}
            exp_annotations:
              summary: "DecisionTrace vacío: pasar al runbook graph_slow"
      - eval_time: 12m
        alertname: JaegerSinSpans
        exp_alerts: []
      - eval_time: 12m
        alertname: ChatCaido
        exp_alerts: []
      - eval_time: 12m
        alertname: ErrorRateAlto
        exp_alerts: []
EOF

cat >"$TPL/websocket_disconnects.test.yml" <<'EOF'
# Las desconexiones WebSocket suben a 3/s de 2m a 8m; la policy escala a los 5 minutos.
rule_files:
  - ../rules/websocket_disconnects.rules.yml
  - ../rules/policy.rules.yml
evaluation_interval: 15s
tests:
  - interval: 15s
    input_series:
      - series: 'ws_disconnect_rate{service="denis-api",instance="api-0"}'
        values: '0.2x7 3x24 0.1x8'
      - series: 'voice_calls_dropped_total{service="denis-api"}'
        values: '0x40'
      - series: 'probe_success{job="blackbox",target="denis-api/chat"}'
        values: '1x40'
      - series: 'http_requests_total{service="denis-api",code="200"}'
        values: '0+1000x40'
    alert_rule_test:
      - eval_time: 1m
        alertname: WebSocketDesconexionesAltas
        exp_alerts: []
      - eval_time: 2m
        alertname: WebSocketDesconexionesAltas
        exp_alerts:
          - exp_labels: {severity: P2, team: sre, runbook: websocket_disconnects, service: denis-api, instance: api-0}
            exp_annotations:
              summary: "ws.disconnect_rate alto en api-0"
      - eval_time: 6m45s
        alertname: WebSocketIncidenteProlongado
        exp_alerts: []
      - eval_time: 7m
        alertname: WebSocketIncidenteProlongado
        exp_alerts:
          - exp_labels: {severity: P2, team: sre, runbook: websocket_disconnects, escalate: page}
            exp_annotations:
              summary: "Más de 5 minutos sin recuperación: avisar a SRE Lead"
      - eval_time: 9m
        alertname: WebSocketDesconexionesAltas
        exp_alerts: []
      - eval_time: 9m
        alertname: WebSocketIncidenteProlongado
        exp_alerts: []
      - eval_time: 10m
        alertname: VoiceCallsCortadas
        exp_alerts: []
      - eval_time: 10m
        alertname: ChatCaido
        exp_alerts: []
      - eval_time: 10m
        alertname: ErrorRateAlto
        exp_alerts: []
EOF

cat >"$TPL/workers_hung.test.yml" <<'EOF'
# Los workers dejan de consumir: la cola crece 50 jobs cada 15s y el latido envejece.
rule_files:
  - ../rules/workers_hung.rules.yml
  - ../rules/policy.rules.yml
evaluation_interval: 15s
tests:
  - interval: 15s
    input_series:
      - series: 'celery_queue_length{app="denis-workers",queue="default"}'
        values: '100+50x48'
      - series: 'celery_worker_seen_age_seconds{app="denis-workers",worker="w1"}'
        values: '30+15x48'
      - series: 'celery_oldest_started_seconds{app="denis-workers"}'
        values: '120x48'
      - series: 'celery_workers_active{app="denis-workers"}'
        values: '2x48'
      - series: 'container_memory_working_set_bytes{namespace="denis",container="worker",pod="worker-0"}'
        values: '500000000x48'
      - series: 'probe_success{job="blackbox",target="denis-api/chat"}'
        values: '1x48'
      - series: 'http_requests_total{service="denis-api",code="200"}'
        values: '0+1000x48'
    alert_rule_test:
      - eval_time: 2m
        alertname: ColaCeleryAlta
        exp_alerts: []
      - eval_time: 2m15s
        alertname: ColaCeleryAlta
        exp_alerts:
          - exp_labels: {severity: P2, team: sre, runbook: workers_hung, escalate: run, step: restart}
            exp_annotations:
              summary: "Cola creciendo: celery.queue.len > 500; ejecutar el paso restart"
      - eval_time: 4m30s
        alertname: WorkerSinLatido
        exp_alerts: []
      - eval_time: 4m45s
        alertname: WorkerSinLatido
        exp_alerts:
          - exp_labels: {severity: P2, team: sre, runbook: workers_hung}
            exp_annotations:
              summary: "worker_seen no actualiza desde hace más de 5 minutos"
      - eval_time: 12m
        alertname: ColaCeleryMuyAlta
        exp_alerts: []
      - eval_time: 12m
        alertname: JobsAtascados
        exp_alerts: []
      - eval_time: 12m
        alertname: SinWorkersActivos
        exp_alerts: []
      - eval_time: 12m
        alertname: WorkerMemoriaAlta
        exp_alerts: []
      - eval_time: 12m
        alertname: ChatCaido
        exp_alerts: []
      - eval_time: 12m
        alertname: ErrorRateAlto
        exp_alerts: []
EOF

seed_files=(); dest_dirs=(); dest_names=(); dest_ext=.test.yml
for s in "${RUNBOOKS[@]}"; do seed_files+=("$TPL/$s.test.yml"); dest_dirs+=("$PROM/tests"); dest_names+=("$s"); done
replicate

test_files=("$PROM"/tests/*.test.yml)
(( ${#test_files[@]} == N )) || die "expected $N promtool test files, found ${#test_files[@]}"
pt_bytes=$(cat "${test_files[@]}" | wc -c)
rule_bytes=$(cat "$PROM"/rules/*.rules.yml | wc -c)
n_rules=$(cat "$PROM"/rules/*.rules.yml | grep -c '^      - alert:')
n_checks=$(cat "${test_files[@]}" | grep -c '^      - eval_time:')

# Prefer one invocation; fall back to xargs only if the argument list would not fit.
arg_bytes=$(printf '%s\0' "${test_files[@]}" | wc -c)
arg_max=$(getconf ARG_MAX 2>/dev/null || echo 131072)
if (( arg_bytes + 65536 < arg_max )); then pt_mode="single invocation"; else pt_mode="xargs"; fi
promtool_test() {
  if [[ $pt_mode == "single invocation" ]]; then
    "$PROMTOOL" test rules "${test_files[@]}"
  else
    printf '%s\0' "${test_files[@]}" | xargs -0 "$PROMTOOL" test rules
  fi
}

echo "promtool: $N unit-test files ($pt_bytes bytes, $n_checks alert_rule_test checks) over"
echo "          $(ls "$PROM"/rules | wc -l) rule files ($n_rules alerting rules, $rule_bytes bytes) in $PROM"
pt_out=$TMP/promtool.out
if ! promtool_test >"$pt_out" 2>&1; then
  grep -v '^  SUCCESS' "$pt_out" | head -60 >&2
  die "the generated unit tests do not pass \`promtool test rules\` (see above)"
fi
ok=$(grep -c '^  SUCCESS' "$pt_out" || true)
(( ok == N )) || die "promtool reported SUCCESS for $ok of $N test files"
echo "promtool test rules: $ok/$N test files SUCCESS ($pt_mode)"

# ------------------------------------------------------------- measurements
echo
echo "timing: median of $RUNS runs each (microsecond wall clock)..."
rb_times=(); rb_cpu=()
for (( r = 0; r < RUNS; r++ )); do
  read -r t c < <(time_us "$RUNBOOK" test "$CORPUS" -q) || true
  [[ -n ${t:-} ]] || die "runbook test failed during timing"
  rb_times+=("$t"); rb_cpu+=("$c"); t=
done
rb_med=$(printf '%s\n' "${rb_times[@]}" | percentiles 50)
rb_cpu_med=$(printf '%s\n' "${rb_cpu[@]}" | percentiles 50)

# 2b. single-scenario latency, whole process, from the repo root: the first redis_down
# scenario if there is one, else the first scenario.
single=
for f in "${SCENARIOS[@]}"; do [[ $f == "$SEED_DIR"/redis_down/* ]] && { single=$f; break; }; done
[[ -n $single ]] || single=${SCENARIOS[0]}
single=${single#"$REPO"/}
(cd "$REPO" && "$RUNBOOK" test "$single" -q >/dev/null 2>&1) || die "runbook test $single failed"
lat_times=()
for (( r = 0; r < LAT_RUNS; r++ )); do
  read -r t c < <(cd "$REPO" && time_us "$RUNBOOK" test "$single" -q) || true
  [[ -n ${t:-} ]] || die "runbook test $single failed during timing"
  lat_times+=("$t"); t=
done
read -r lat_p50 lat_p90 < <(printf '%s\n' "${lat_times[@]}" | percentiles 50 90)

pt_times=(); pt_cpu=()
for (( r = 0; r < RUNS; r++ )); do
  read -r t c < <(time_us promtool_test) || true
  [[ -n ${t:-} ]] || die "promtool test rules failed during timing"
  pt_times+=("$t"); pt_cpu+=("$c"); t=
done
pt_med=$(printf '%s\n' "${pt_times[@]}" | percentiles 50)
pt_cpu_med=$(printf '%s\n' "${pt_cpu[@]}" | percentiles 50)

# ------------------------------------------------------------------ summary
awk -v n="$N" -v rbb="$sc_bytes" -v rbt="$rb_med" -v rbc="$rb_cpu_med" \
    -v prb="$pt_bytes" -v prt="$pt_med" -v prc="$pt_cpu_med" -v checks="$n_checks" -v mode="$pt_mode" \
    -v seeds="${#SCENARIOS[@]}" -v l50="$lat_p50" -v l90="$lat_p90" -v lruns="$LAT_RUNS" \
    -v single="$single" -v runs="$RUNS" \
    -v rall="$(printf '%s ' "${rb_times[@]}")" -v pall="$(printf '%s ' "${pt_times[@]}")" '
  function rate(f, us) { return f / (us / 1e6) }
  function ms(us, i, a, s, m) { m = split(us, a, " "); s = ""; for (i = 1; i <= m; i++) s = s sprintf("%s%.1f", (i > 1 ? " " : ""), a[i] / 1000); return s }
  BEGIN {
    printf "\n== Summary (N=%d, median of %d runs) ==\n", n, runs
    printf "%-44s %6s %9s %11s %9s %8s %6s\n", "benchmark", "files", "bytes", "median ms", "ms/file", "files/s", "cores"
    printf "%-44s %6d %9d %11.1f %9.3f %8.0f %6.2f\n", "runbook test CORPUS -q  (scenarios)", n, rbb, rbt / 1000, rbt / 1000 / n, rate(n, rbt), rbc * 1000 / rbt
    printf "%-44s %6d %9d %11.1f %9.3f %8.0f %6.2f\n", "promtool test rules FILE...  (test files)", n, prb, prt / 1000, prt / 1000 / n, rate(n, prt), prc * 1000 / prt
    printf "  runs (ms): runbook [%s]  promtool [%s]\n", ms(rall), ms(pall)
    printf "  corpus: %d seed scenarios replicated; promtool: %d alert_rule_test checks, %s\n", seeds, checks, mode
    printf "\nsingle-scenario latency, whole process: runbook test %s -q, %d runs\n", single, lruns
    printf "  median %.2f ms   p90 %.2f ms\n", l50 / 1000, l90 / 1000
    printf "\nratios (same N=%d):\n", n
    printf "  throughput  runbook scenarios/s / promtool tests/s = %.2f  (>1 means runbook test is faster)\n", rate(n, rbt) / rate(n, prt)
    printf "  wall time   runbook-test-time / promtool-time       = %.4f\n", rbt / prt
  }'
