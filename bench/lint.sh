#!/usr/bin/env bash
# bench/lint.sh — lint throughput of `runbook lint` against `promtool check rules`.
#
# Usage: bench/lint.sh [path/to/runbook]      (default: build/runbook under the repo root)
# Env:   N        number of runbook files / rule files in the corpus (default 1000)
#        RUNS     timed runs per corpus measurement, median reported (default 5)
#        LAT_RUNS runs of the single-file latency measurement (default 50)
#        PROMTOOL promtool binary (default: promtool on PATH)
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

die() { echo "lint.sh: $*" >&2; exit 2; }
[[ $N =~ ^[0-9]+$ ]] && (( N >= 8 )) || die "N must be an integer >= 8 (got '$N')"
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer"
[[ $LAT_RUNS =~ ^[1-9][0-9]*$ ]] || die "LAT_RUNS must be a positive integer"
[[ -x $RUNBOOK ]] || die "runbook binary not found or not executable: $RUNBOOK"
command -v "$PROMTOOL" >/dev/null || die "promtool not found (Debian package 'prometheus')"

SEED_DIR=$REPO/runbooks
SEEDS=(chat_timeout graph_slow mutations_blocked queue_growing redis_down
       telemetry_inconsistent websocket_disconnects workers_hung)
for s in "${SEEDS[@]}"; do [[ -f $SEED_DIR/$s.rb.denis ]] || die "missing seed $SEED_DIR/$s.rb.denis"; done
[[ -f $SEED_DIR/policy/escalation.rb.denis ]] || die "missing $SEED_DIR/policy/escalation.rb.denis"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/runbook-bench.XXXXXX")
trap 'rm -rf -- "$TMP"' EXIT
CORPUS=$TMP/runbooks
RULES=$TMP/rules
TPL=$TMP/templates
mkdir -p "$CORPUS/policy" "$RULES" "$TPL"

# ---------------------------------------------------------------- timing helpers
# Microsecond wall clock without forking (bash >= 5 has EPOCHREALTIME).
if [[ -n ${EPOCHREALTIME:-} ]]; then
  now_us() { local t=${EPOCHREALTIME//[^0-9]/}; echo "$t"; }
else
  now_us() { local t; t=$(date +%s%N); echo "${t%???}"; }
fi

# time_us CMD...  -> prints elapsed microseconds; stdout/stderr of CMD discarded;
# fails (returns the command's status) if the command fails.
time_us() {
  local t0 t1 rc=0
  t0=$(now_us)
  "$@" >/dev/null 2>&1 || rc=$?
  t1=$(now_us)
  (( rc == 0 )) || return "$rc"
  echo $(( t1 - t0 ))
}

# stats PERCENTILE... < numbers  -> the requested percentiles (nearest-rank), space separated
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

# --------------------------------------------------------- 1. runbook corpus
# File i (0-based) is a copy of seed i%8. The first eight copies keep their original
# names (so `runbook graph_slow` hand-overs resolve); every other copy is renamed
# NAME_iiiii. Files are spread over shard directories of 100, so each import of
# policy.escalation is resolved by walking up to the corpus root.
cp "$SEED_DIR/policy/escalation.rb.denis" "$CORPUS/policy/"
seed_args=()
for s in "${SEEDS[@]}"; do seed_args+=("$SEED_DIR/$s.rb.denis"); done
for ((d = 0; d * 100 < N; d++)); do mkdir -p "$(printf '%s/shard_%03d' "$CORPUS" "$d")"; done
awk -v n="$N" -v out="$CORPUS" '
  FNR == 1 { k++ }
  { src[k, FNR] = $0; lines[k] = FNR }
  END {
    for (i = 0; i < n; i++) {
      s = (i % k) + 1
      dir = sprintf("%s/shard_%03d", out, int(i / 100))
      name = ""
      for (j = 1; j <= lines[s]; j++) {
        line = src[s, j]
        if (name == "" && line ~ /^runbook [A-Za-z_][A-Za-z0-9_]* /) {
          split(line, w, " "); name = w[2]
          if (i >= k) { sub(/^runbook [A-Za-z_][A-Za-z0-9_]*/, "runbook " name sprintf("_%05d", i), line) }
        }
        f = sprintf("%s/%05d.rb.denis", dir, i)
        print line > f
      }
      close(f)
      if (name == "") { print "seed " s " has no runbook line" > "/dev/stderr"; exit 1 }
    }
  }' "${seed_args[@]}"

rb_files=$(find "$CORPUS" -name '*.rb.denis' | wc -l)
rb_bytes=$(find "$CORPUS" -name '*.rb.denis' -print0 | xargs -0 cat | wc -c)
(( rb_files == N + 1 )) || die "expected $((N + 1)) corpus files, found $rb_files"

echo "corpus: $rb_files runbook files ($N runbooks + policy), $rb_bytes bytes in $CORPUS"
lint_out=$TMP/lint.out
if ! "$RUNBOOK" lint "$CORPUS" >"$lint_out" 2>&1; then
  head -40 "$lint_out" >&2
  die "generated corpus does not lint clean (see above)"
fi
tail -n 1 "$lint_out"
grep -Eq "^$rb_files files checked: 0 errors, 0 warnings" "$lint_out" \
  || die "unexpected lint summary: $(tail -n 1 "$lint_out")"

# ------------------------------------------------------ 4a. Prometheus rule corpus
# One rules file per runbook: a group whose alerting rules mirror the seed's
# symptoms and escalation rows. @ID@ is replaced by the copy number.
cat >"$TPL/chat_timeout.yml" <<'EOF'
# Reglas equivalentes al runbook chat_timeout (API /chat Timeout)
groups:
  - name: chat_timeout_@ID@
    interval: 30s
    rules:
      - alert: ChatLatenciaAlta@ID@
        expr: histogram_quantile(0.99, sum by (le) (rate(chat_latency_seconds_bucket{service="denis-api"}[5m]))) > 10
        for: 2m
        labels:
          severity: P2
          team: sre
          runbook: chat_timeout
        annotations:
          summary: "Latencia p99 de /chat por encima de 10s"
          description: "chat.latency.p99 = {{ $value | humanizeDuration }} en {{ $labels.instance }}; los usuarios pueden ver «sin respuesta»."
      - alert: ChatTimeoutsSubiendo@ID@
        expr: increase(chat_timeout_total{service="denis-api"}[5m]) > 0
        for: 1m
        labels:
          severity: P2
          team: sre
          runbook: chat_timeout
        annotations:
          summary: "La métrica chat.timeout está subiendo"
          description: "{{ $value }} timeouts de /chat en los últimos 5 minutos."
      - alert: ChatLatenciaCritica@ID@
        expr: histogram_quantile(0.99, sum by (le) (rate(chat_latency_seconds_bucket{service="denis-api"}[5m]))) > 30
        for: 1m
        labels:
          severity: P1
          team: sre
          runbook: chat_timeout
          escalate: page
        annotations:
          summary: "Latencia p99 de /chat por encima de 30s: declarar P1"
          description: "Declarar P1 y avisar a SRE Lead (@sre-lead). Valor actual {{ $value | humanizeDuration }}."
      - alert: ChatCaido@ID@
        expr: probe_success{job="blackbox",target="denis-api/chat"} == 0
        for: 1m
        labels:
          severity: P1
          team: sre
          runbook: chat_timeout
          escalate: page
        annotations:
          summary: "El endpoint /chat no responde"
          description: "El sondeo de /chat falla desde hace más de un minuto. Declarar P1."
      - alert: ChatErrorRateAlto@ID@
        expr: sum(rate(http_requests_total{service="denis-api",code=~"5.."}[5m])) / sum(rate(http_requests_total{service="denis-api"}[5m])) > 0.10
        for: 5m
        labels:
          severity: P2
          team: sre
          runbook: chat_timeout
          escalate: page
        annotations:
          summary: "Tasa de errores HTTP por encima del 10%"
          description: "Error rate {{ $value | humanizePercentage }}; escalar a SRE según el checklist general."
EOF

cat >"$TPL/graph_slow.yml" <<'EOF'
# Reglas equivalentes al runbook graph_slow (Graph (Neo4j) Lento)
groups:
  - name: graph_slow_@ID@
    interval: 30s
    rules:
      - alert: ChatLentoPorGrafo@ID@
        expr: histogram_quantile(0.99, sum by (le) (rate(chat_latency_seconds_bucket{service="denis-api"}[5m]))) > 5
        for: 2m
        labels:
          severity: P2
          team: sre
          runbook: graph_slow
        annotations:
          summary: "Latencia de /chat por encima de 5s"
          description: "p99 = {{ $value | humanizeDuration }}; revisar el panel «Neo4j Overview»."
      - alert: Neo4jQueryTimeouts@ID@
        expr: increase(neo4j_query_timeout_total{service="denis-api"}[5m]) > 0
        for: 1m
        labels:
          severity: P2
          team: sre
          runbook: graph_slow
        annotations:
          summary: "Errores neo4j.query_timeout"
          description: "{{ $value }} consultas a Neo4j expiraron en los últimos 5 minutos."
      - alert: Neo4jPoolAgotado@ID@
        expr: increase(neo4j_pool_exhausted_total{service="denis-api"}[5m]) > 0
        labels:
          severity: P2
          team: sre
          runbook: graph_slow
          escalate: manual
        annotations:
          summary: "Pool de conexiones de Neo4j agotado"
          description: "Acción manual: reiniciar Neo4j si el pool sigue agotado."
      - alert: DecisionTraceNoEscribe@ID@
        expr: increase(decision_trace_writes_total{service="denis-api"}[5m]) == 0
        for: 5m
        labels:
          severity: P3
          team: sre
          runbook: graph_slow
        annotations:
          summary: "DecisionTrace no escribe"
          description: "Ninguna escritura de DecisionTrace en 5 minutos."
      - alert: Neo4jQueryP99Alto@ID@
        expr: histogram_quantile(0.99, sum by (le) (rate(neo4j_query_duration_seconds_bucket[5m]))) > 10
        for: 5m
        labels:
          severity: P2
          team: sre
          runbook: graph_slow
          escalate: page
        annotations:
          summary: "p99 de consultas Neo4j > 10s durante más de 5 minutos"
          description: "Avisar a SRE Lead (@sre-lead); p99 actual {{ $value | humanizeDuration }}."
      - alert: Neo4jConsultasBloqueadas@ID@
        expr: sum(neo4j_transaction_blocked) > 0
        labels:
          severity: P2
          team: sre
          runbook: graph_slow
          escalate: manual
        annotations:
          summary: "Consultas bloqueadas en Neo4j"
          description: "Acción manual: matar las consultas de larga duración ({{ $value }} bloqueadas)."
EOF

cat >"$TPL/mutations_blocked.yml" <<'EOF'
# Reglas equivalentes al runbook mutations_blocked (Mutations Bloqueadas por Policy)
groups:
  - name: mutations_blocked_@ID@
    interval: 30s
    rules:
      - alert: PolicyBlockSubiendo@ID@
        expr: increase(gate_policy_block_total{service="denis-api"}[5m]) > 0
        for: 1m
        labels:
          severity: P2
          team: sre
          runbook: mutations_blocked
        annotations:
          summary: "La métrica gate.policy_block está subiendo"
          description: "{{ $value }} bloqueos por policy en 5 minutos; revisar el panel «Gate Decisions»."
      - alert: ToolsMutBloqueado@ID@
        expr: sum(celery_queue_length{queue="tools_mut"}) == 0 and on() sum(increase(gate_policy_block_total[5m])) > 0
        for: 2m
        labels:
          severity: P2
          team: sre
          runbook: mutations_blocked
        annotations:
          summary: "Cola tools_mut vacía pero el usuario está bloqueado"
          description: "La cola tools_mut no tiene trabajos mientras la policy sigue bloqueando mutations."
      - alert: Mutations403@ID@
        expr: increase(mutations_403_total{service="denis-api"}[5m]) > 0
        for: 1m
        labels:
          severity: P2
          team: sre
          runbook: mutations_blocked
        annotations:
          summary: "Mutations retornan 403"
          description: "{{ $value }} respuestas 403 en mutations en los últimos 5 minutos."
      - alert: MultiplesUsuariosBloqueados@ID@
        expr: count(count by (user) (increase(gate_policy_block_total[15m]) > 0)) > 5
        for: 5m
        labels:
          severity: P2
          team: sre
          runbook: mutations_blocked
          escalate: page
        annotations:
          summary: "Múltiples usuarios bloqueados por policy"
          description: "{{ $value }} usuarios bloqueados; avisar a SRE Lead (@sre-lead)."
      - alert: PolicyNoCarga@ID@
        expr: increase(policy_load_errors_total{service="denis-api"}[10m]) > 0
        labels:
          severity: P2
          team: sre
          runbook: mutations_blocked
          escalate: runbook
        annotations:
          summary: "La policy no carga desde Neo4j"
          description: "Pasar al runbook graph_slow: la policy vive en Neo4j."
EOF

cat >"$TPL/queue_growing.yml" <<'EOF'
# Reglas equivalentes al runbook queue_growing (Cola Creciendo Sin Consumir)
groups:
  - name: queue_growing_@ID@
    interval: 30s
    rules:
      - alert: ColaCreciendo@ID@
        expr: deriv(sum by (queue) (celery_queue_length{app="denis-workers"})[1h:1m]) > 0
        for: 15m
        labels:
          severity: P2
          team: sre
          runbook: queue_growing
        annotations:
          summary: "La cola {{ $labels.queue }} crece sostenidamente"
          description: "celery.queue.*.len crece desde hace una hora ({{ $value }} jobs/s)."
      - alert: WorkersPocoUtilizados@ID@
        expr: avg(celery_worker_utilization{app="denis-workers"}) < 0.30
        for: 10m
        labels:
          severity: P3
          team: sre
          runbook: queue_growing
        annotations:
          summary: "Utilización de workers por debajo del 30%"
          description: "Utilización media {{ $value | humanizePercentage }} mientras la cola crece."
      - alert: JobsEsperandoMucho@ID@
        expr: max(time() - celery_queue_oldest_message_timestamp_seconds{app="denis-workers"}) > 600
        for: 1m
        labels:
          severity: P2
          team: sre
          runbook: queue_growing
        annotations:
          summary: "Jobs esperando más de 10 minutos"
          description: "El job más antiguo lleva {{ $value | humanizeDuration }} en cola."
      - alert: ColaMuyLarga@ID@
        expr: sum(celery_queue_length{app="denis-workers"}) > 2000
        for: 30m
        labels:
          severity: P2
          team: sre
          runbook: queue_growing
          escalate: page
        annotations:
          summary: "Más de 2000 jobs en cola durante 30 minutos"
          description: "Avisar a SRE Lead (@sre-lead): {{ $value }} jobs pendientes."
      - alert: ProductorMasRapidoQueConsumidor@ID@
        expr: sum(rate(celery_tasks_published_total[5m])) > sum(rate(celery_tasks_succeeded_total[5m]) + rate(celery_tasks_failed_total[5m]))
        for: 10m
        labels:
          severity: P3
          team: sre
          runbook: queue_growing
          escalate: run
        annotations:
          summary: "Se producen más tareas de las que se consumen"
          description: "Ejecutar el paso rate_limit del runbook."
EOF

cat >"$TPL/redis_down.yml" <<'EOF'
# Reglas equivalentes al runbook redis_down (Redis Caído)
groups:
  - name: redis_down_@ID@
    interval: 30s
    rules:
      - alert: RedisNoResponde@ID@
        expr: redis_up{service="redis"} == 0
        for: 1m
        labels:
          severity: P2
          team: sre
          runbook: redis_down
        annotations:
          summary: "redis.ping devuelve error"
          description: "Redis {{ $labels.instance }} no responde a PING."
      - alert: RateLimitFallback@ID@
        expr: max(rate_limit_fallback{service="denis-api"}) > 0
        for: 1m
        labels:
          severity: P3
          team: sre
          runbook: redis_down
        annotations:
          summary: "Rate limiting usa fallback in-memory"
          description: "La API dejó de usar Redis para el rate limiting."
      - alert: CeleryBrokerCaido@ID@
        expr: celery_broker_up{app="denis-workers"} == 0
        for: 1m
        labels:
          severity: P2
          team: sre
          runbook: redis_down
        annotations:
          summary: "Celery perdió su broker (Redis)"
          description: "Los workers no pueden conectarse al broker."
      - alert: RedisConnectionErrorEnLogs@ID@
        expr: sum(increase(log_messages_total{index=~"denis.*",pattern="ConnectionError"}[5m])) > 0
        labels:
          severity: P3
          team: sre
          runbook: redis_down
        annotations:
          summary: "ConnectionError en logs"
          description: "{{ $value }} líneas con ConnectionError en los últimos 5 minutos."
      - alert: RedisCaidoProlongado@ID@
        expr: redis_up{service="redis"} == 0
        for: 5m
        labels:
          severity: P2
          team: sre
          runbook: redis_down
          escalate: page
        annotations:
          summary: "Redis caído durante más de 5 minutos"
          description: "Avisar a SRE Lead (@sre-lead)."
      - alert: RedisMemoriaAlta@ID@
        expr: redis_memory_used_bytes{service="redis"} / redis_memory_max_bytes{service="redis"} > 0.90
        for: 5m
        labels:
          severity: P2
          team: ops
          runbook: redis_down
          escalate: page
        annotations:
          summary: "Memoria de Redis por encima del 90%"
          description: "Avisar a on-call (@on-call) y hacer cleanup manual: {{ $value | humanizePercentage }}."
EOF

cat >"$TPL/telemetry_inconsistent.yml" <<'EOF'
# Reglas equivalentes al runbook telemetry_inconsistent (Telemetry Inconsistente)
groups:
  - name: telemetry_inconsistent_@ID@
    interval: 30s
    rules:
      - alert: DecisionTraceVacio@ID@
        expr: increase(decision_trace_writes_total{service="denis-api"}[5m]) == 0
        for: 5m
        labels:
          severity: P3
          team: sre
          runbook: telemetry_inconsistent
          escalate: runbook
        annotations:
          summary: "DecisionTrace vacío"
          description: "Sin escrituras de DecisionTrace; pasar al runbook graph_slow."
      - alert: MetricsEndpointError@ID@
        expr: up{job="denis-api"} == 0
        for: 1m
        labels:
          severity: P3
          team: sre
          runbook: telemetry_inconsistent
        annotations:
          summary: "/metrics retorna error"
          description: "Prometheus no puede leer /metrics de {{ $labels.instance }}."
      - alert: MetricsEndpointCaidoProlongado@ID@
        expr: up{job="denis-api"} == 0
        for: 5m
        labels:
          severity: P2
          team: sre
          runbook: telemetry_inconsistent
          escalate: page
        annotations:
          summary: "/metrics caído durante más de 5 minutos"
          description: "Avisar a SRE Lead (@sre-lead)."
      - alert: JaegerSinSpans@ID@
        expr: sum(rate(jaeger_collector_spans_received_total[5m])) == 0
        for: 10m
        labels:
          severity: P3
          team: sre
          runbook: telemetry_inconsistent
          escalate: manual
        annotations:
          summary: "Jaeger no recibe spans"
          description: "Acción manual: revisar la red entre la API y el collector."
      - alert: GrafanaSinDatos@ID@
        expr: absent_over_time(chat_latency_seconds_count{service="denis-api"}[15m])
        labels:
          severity: P3
          team: sre
          runbook: telemetry_inconsistent
        annotations:
          summary: "Métricas en Grafana no actualizan"
          description: "No hay muestras de chat_latency_seconds en 15 minutos."
EOF

cat >"$TPL/websocket_disconnects.yml" <<'EOF'
# Reglas equivalentes al runbook websocket_disconnects (WebSocket Desconexiones)
groups:
  - name: websocket_disconnects_@ID@
    interval: 30s
    rules:
      - alert: WebSocketDesconexionesAltas@ID@
        expr: sum(rate(ws_disconnects_total{service="denis-api"}[5m])) > 1
        for: 5m
        labels:
          severity: P3
          team: sre
          runbook: websocket_disconnects
        annotations:
          summary: "ws.disconnect_rate alto"
          description: "{{ $value }} desconexiones/s; los usuarios pueden reportar «conexión perdida»."
      - alert: WebSocketConexionesCayendo@ID@
        expr: sum(ws_connections_active{service="denis-api"}) < 0.5 * sum(ws_connections_active{service="denis-api"} offset 1h)
        for: 10m
        labels:
          severity: P3
          team: sre
          runbook: websocket_disconnects
        annotations:
          summary: "Conexiones WebSocket activas cayendo"
          description: "Menos de la mitad de las conexiones activas de hace una hora."
      - alert: VoiceCallsCortadas@ID@
        expr: increase(voice_calls_dropped_total{service="denis-api"}[10m]) > 3
        labels:
          severity: P3
          team: sre
          runbook: websocket_disconnects
        annotations:
          summary: "Voice calls cortadas"
          description: "{{ $value }} llamadas cortadas en 10 minutos."
      - alert: WebSocketIngressReinicios@ID@
        expr: increase(kube_pod_container_status_restarts_total{namespace="denis",container="ingress"}[15m]) > 2
        labels:
          severity: P3
          team: ops
          runbook: websocket_disconnects
        annotations:
          summary: "El ingress se reinicia"
          description: "{{ $value }} reinicios del ingress en 15 minutos."
EOF

cat >"$TPL/workers_hung.yml" <<'EOF'
# Reglas equivalentes al runbook workers_hung (Workers Colgados)
groups:
  - name: workers_hung_@ID@
    interval: 30s
    rules:
      - alert: ColaCeleryAlta@ID@
        expr: sum(celery_queue_length{app="denis-workers"}) > 500
        for: 5m
        labels:
          severity: P2
          team: sre
          runbook: workers_hung
          escalate: run
        annotations:
          summary: "Cola creciendo: celery.queue.len > 500"
          description: "{{ $value }} jobs en cola; ejecutar el paso restart."
      - alert: WorkerSinLatido@ID@
        expr: max(time() - celery_worker_last_seen_timestamp_seconds{app="denis-workers"}) > 300
        for: 1m
        labels:
          severity: P2
          team: sre
          runbook: workers_hung
        annotations:
          summary: "worker_seen no actualiza desde hace más de 5 minutos"
          description: "Último latido hace {{ $value | humanizeDuration }}."
      - alert: JobsAtascados@ID@
        expr: max(time() - celery_task_started_timestamp_seconds{state="STARTED"}) > 600
        for: 1m
        labels:
          severity: P2
          team: sre
          runbook: workers_hung
        annotations:
          summary: "Jobs en STARTED más de 10 minutos sin completar"
          description: "El job más antiguo lleva {{ $value | humanizeDuration }} en STARTED."
      - alert: ColaCeleryMuyAlta@ID@
        expr: sum(celery_queue_length{app="denis-workers"}) > 1000
        for: 10m
        labels:
          severity: P2
          team: sre
          runbook: workers_hung
          escalate: page
        annotations:
          summary: "Más de 1000 jobs en cola durante 10 minutos"
          description: "Avisar a SRE Lead (@sre-lead)."
      - alert: SinWorkersActivos@ID@
        expr: sum(celery_workers_active{app="denis-workers"}) == 0
        for: 2m
        labels:
          severity: P2
          team: ops
          runbook: workers_hung
          escalate: page
        annotations:
          summary: "Ningún worker activo"
          description: "Avisar a on-call (@on-call)."
      - alert: WorkerMemoriaAlta@ID@
        expr: max(container_memory_working_set_bytes{namespace="denis",container="worker"}) > 1073741824
        for: 5m
        labels:
          severity: P3
          team: sre
          runbook: workers_hung
          escalate: manual
        annotations:
          summary: "Memoria de un worker por encima de 1GB"
          description: "Acción manual: matar y reiniciar el worker ({{ $value | humanize1024 }}B)."
EOF

tpl_args=()
for s in "${SEEDS[@]}"; do tpl_args+=("$TPL/$s.yml"); done
awk -v n="$N" -v out="$RULES" '
  FNR == 1 { k++ }
  { src[k, FNR] = $0; lines[k] = FNR }
  END {
    for (i = 0; i < n; i++) {
      s = (i % k) + 1; id = sprintf("%05d", i)
      f = sprintf("%s/%05d.rules.yml", out, i)
      for (j = 1; j <= lines[s]; j++) { line = src[s, j]; gsub(/@ID@/, id, line); print line > f }
      close(f)
    }
  }' "${tpl_args[@]}"

rule_files=()
for (( i = 0; i < N; i++ )); do rule_files+=("$(printf '%s/%05d.rules.yml' "$RULES" "$i")"); done
pr_bytes=$(cat "${rule_files[@]}" | wc -c)
pr_rules=$(cat "${rule_files[@]}" | grep -c '^      - alert:')

# Prefer one invocation; fall back to xargs only if the argument list would not fit.
arg_bytes=$(printf '%s\0' "${rule_files[@]}" | wc -c)
arg_max=$(getconf ARG_MAX 2>/dev/null || echo 131072)
promtool_check() {
  if (( arg_bytes + 65536 < arg_max )); then
    "$PROMTOOL" check rules "${rule_files[@]}"
  else
    printf '%s\0' "${rule_files[@]}" | xargs -0 "$PROMTOOL" check rules
  fi
}
if (( arg_bytes + 65536 < arg_max )); then pt_mode="single invocation"; else pt_mode="xargs"; fi

echo "rules:  $N Prometheus rule files, $pr_rules alerting rules, $pr_bytes bytes in $RULES"
pt_out=$TMP/promtool.out
if ! promtool_check >"$pt_out" 2>&1; then
  grep -v '^  SUCCESS' "$pt_out" | head -40 >&2
  die "generated rule files are rejected by promtool"
fi
ok=$(grep -c 'SUCCESS' "$pt_out" || true)
(( ok == N )) || die "promtool reported SUCCESS for $ok of $N files"
echo "promtool check rules: $ok/$N files SUCCESS ($pt_mode)"

# ------------------------------------------------------------- measurements
echo
echo "timing: median of $RUNS runs each (microsecond wall clock)..."
lint_times=()
for (( r = 0; r < RUNS; r++ )); do
  t=$(time_us "$RUNBOOK" lint "$CORPUS") || die "runbook lint failed during timing"
  lint_times+=("$t")
done
lint_med=$(printf '%s\n' "${lint_times[@]}" | percentiles 50)

pt_times=()
for (( r = 0; r < RUNS; r++ )); do
  t=$(time_us promtool_check) || die "promtool check rules failed during timing"
  pt_times+=("$t")
done
pt_med=$(printf '%s\n' "${pt_times[@]}" | percentiles 50)

# 3. single-file latency, whole process, from the repo root.
single=runbooks/redis_down.rb.denis
lat_times=()
(
  cd "$REPO"
  "$RUNBOOK" lint "$single" >/dev/null 2>&1 || die "runbook lint $single failed"
)
for (( r = 0; r < LAT_RUNS; r++ )); do
  t=$(cd "$REPO" && time_us "$RUNBOOK" lint "$single") || die "runbook lint $single failed during timing"
  lat_times+=("$t")
done
read -r lat_p50 lat_p90 < <(printf '%s\n' "${lat_times[@]}" | percentiles 50 90)
single_bytes=$(wc -c <"$REPO/$single")

# ------------------------------------------------------------------ summary
awk -v n="$N" -v rbf="$rb_files" -v rbb="$rb_bytes" -v rbt="$lint_med" \
    -v prf="$N" -v prb="$pr_bytes" -v prt="$pt_med" -v rules="$pr_rules" \
    -v l50="$lat_p50" -v l90="$lat_p90" -v lruns="$LAT_RUNS" -v runs="$RUNS" \
    -v single="$single" -v sb="$single_bytes" \
    -v lall="$(printf '%s ' "${lint_times[@]}")" -v pall="$(printf '%s ' "${pt_times[@]}")" '
  function mbs(b, us) { return (b / 1e6) / (us / 1e6) }
  function fps(f, us) { return f / (us / 1e6) }
  function ms(us, i, a, s, m) { m = split(us, a, " "); s = ""; for (i = 1; i <= m; i++) s = s sprintf("%s%.1f", (i > 1 ? " " : ""), a[i] / 1000); return s }
  BEGIN {
    printf "\n== Summary (N=%d) ==\n", n
    printf "%-38s %8s %10s %10s %9s %10s\n", "benchmark", "files", "bytes", "median ms", "MB/s", "files/s"
    printf "%-38s %8d %10d %10.1f %9.2f %10.0f\n", "runbook lint CORPUS_DIR", rbf, rbb, rbt / 1000, mbs(rbb, rbt), fps(rbf, rbt)
    printf "%-38s %8d %10d %10.1f %9.2f %10.0f\n", "promtool check rules FILE... (" rules " rules)", prf, prb, prt / 1000, mbs(prb, prt), fps(prf, prt)
    printf "  runs (ms): runbook [%s]  promtool [%s]\n", ms(lall), ms(pall)
    printf "\nsingle-file latency, whole process: runbook lint %s (%d bytes), %d runs\n", single, sb, lruns
    printf "  median %.2f ms   p90 %.2f ms\n", l50 / 1000, l90 / 1000
    printf "\nratios (runbook / promtool, same N=%d):\n", n
    printf "  wall time   runbook-lint-time / promtool-time = %.3f  (<1 means runbook lint is faster)\n", rbt / prt
    printf "  throughput  runbook MB/s / promtool MB/s      = %.3f\n", mbs(rbb, rbt) / mbs(prb, prt)
    printf "  throughput  runbook files/s / promtool files/s = %.3f\n", fps(rbf, rbt) / fps(prf, prt)
  }'
