// The seed runbooks, faithful: RB0089 (`and` and `or` mixed without parentheses), every step guard of
// the eight seed runbooks against the seed's "si ..." words, and rehearsals of the changes of meaning
// (redis_down restarted Redis while it answered PING; mutations_blocked disabled the policy on a true
// positive).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "compiler/checker.hpp"
#include "compiler/workspace.hpp"
#include "tests/process.hpp"
#include "tests/test_util.hpp"

namespace rb::test {
namespace {

bool Has(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

LintResult LintText(const std::string& name, const std::string& text) {
  std::string path = WriteTemp(name, text);
  LintOptions o;
  o.paths = {path};
  std::filesystem::current_path(SourceDir());
  return Lint(o);
}

std::vector<const Diagnostic*> Mixed(const LintResult& r) {
  std::vector<const Diagnostic*> out;
  for (const auto& d : r.diags.all()) {
    if (std::string(Info(d.kind).code) == "RB0089") out.push_back(&d);
  }
  return out;
}

// A runbook whose only condition of interest is `cond`, placed where `where` says.
std::string Wrap(const std::string& where, const std::string& cond) {
  std::string symptoms = "    a \"A\" : not redis.ping()\n    b \"B\" : redis.cpu() > 50%\n    c \"C\" : redis.memory_used() > 80%\n";
  std::string lets, step_guard = "a", expect = "redis.ping()", row = "a for > 5m";
  if (where == "symptom") symptoms += "    d \"D\" : " + cond + "\n";
  if (where == "guard") step_guard = cond;
  if (where == "expect") expect = cond;
  if (where == "row") row = cond;
  if (where == "let") lets = "  let e = " + cond + "\n";
  std::string uses = where == "let" ? "    | e | page ops |\n" : where == "symptom" ? "    | d | page ops |\n" : "";
  return "import std.redis\nimport std.kube\n\nrunbook cache \"Cache\" {\n  severity P2\n"
         "  owner sre\n  target redis = redis(\"redis\")\n" + lets + "  symptoms {\n" + symptoms + "  }\n"
         "  steps {\n    action restart \"Reiniciar\" when " + step_guard + " {\n"
         "      $ kubectl rollout restart statefulset/redis -n denis\n    }\n"
         "    verify back \"Vuelve\" {\n      expect " + expect + " within 2m every 5s\n    }\n  }\n"
         "  escalate {\n    | when | then |\n    | " + row + " | page sre |\n" + uses + "  }\n}\n";
}

TEST(MixedAndOr, WarnsOnTheAndWithTheGroupingTheParserUsed) {
  LintResult r = LintText("mixed_guard.rb.denis", Wrap("guard", "a or b and c"));
  auto m = Mixed(r);
  ASSERT_EQ(m.size(), 1u) << RenderText(r);
  EXPECT_EQ(m[0]->severity(), Severity::kWarning);
  EXPECT_EQ(m[0]->hint, "write a or (b and c) if that is what you mean");
  std::string text = RenderText(r);
  EXPECT_TRUE(Has(text, "warning[RB0089]")) << text;
  // The caret is under the `and`.
  std::string_view src = m[0]->source->text();
  EXPECT_EQ(src.substr(m[0]->span.begin, m[0]->span.end - m[0]->span.begin), "and");
}

TEST(MixedAndOr, EveryKindOfCondition) {
  for (const char* where : {"symptom", "guard", "expect", "row", "let"}) {
    LintResult r = LintText(std::string("mixed_") + where + ".rb.denis", Wrap(where, "a and b or c"));
    auto m = Mixed(r);
    ASSERT_EQ(m.size(), 1u) << where << "\n" << RenderText(r);
    EXPECT_EQ(m[0]->hint, "write (a and b) or c if that is what you mean") << where;
  }
}

TEST(MixedAndOr, ParenthesesEitherWaySilenceIt) {
  for (const char* cond : {"a or (b and c)", "(a or b) and c", "(a and b) or c", "a and (b or c)", "a or b or c",
                           "a and b and c", "not (a or (b and c))"}) {
    LintResult r = LintText("paren.rb.denis", Wrap("guard", cond));
    EXPECT_TRUE(Mixed(r).empty()) << cond << "\n" << RenderText(r);
  }
}

TEST(MixedAndOr, OneFindingPerChainWithEveryGroupShown) {
  LintResult r = LintText("chain.rb.denis", Wrap("guard", "a or b and c or a and b and c"));
  auto m = Mixed(r);
  ASSERT_EQ(m.size(), 1u) << RenderText(r);
  EXPECT_EQ(m[0]->hint, "write a or (b and c) or (a and b and c) if that is what you mean");
  // A parenthesised chain inside another keeps its own finding, and shows itself without the parentheses.
  LintResult n = LintText("nested.rb.denis", Wrap("guard", "(a or b and c) and a"));
  auto k = Mixed(n);
  ASSERT_EQ(k.size(), 1u) << RenderText(n);
  EXPECT_EQ(k[0]->hint, "write a or (b and c) if that is what you mean");
}

TEST(MixedAndOr, ExplainedWithAGoldenCase) {
  const DiagInfo* info = FindCode("RB0089");
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->severity, Severity::kWarning);
  EXPECT_TRUE(std::filesystem::exists(SourceDir() / "tests/golden/escalation/mixed_and_or.rb.denis"));
}

// ---- Every step guard of the seed runbooks -------------------------------------------------------

struct Loaded {
  Diagnostics diags;
  std::unique_ptr<Workspace> ws;
};

// Each step of each seed runbook and its guard as written ("" when the step has none). A step keeps
// a guard only where the seed's text says "si ..." (docs/fidelity.md quotes the words), except
// disable_policy, which the seed's table ties to "Falso positivo confirmado".
TEST(SeedGuards, OnlyWhereTheSeedSaysSi) {
  const std::map<std::string, std::vector<std::pair<std::string, std::string>>> want = {
      {"redis_down", {{"state", ""}, {"memory", ""}, {"restart", "ping_error"}, {"reconnect", ""}, {"rate_limit", ""}}},
      {"workers_hung", {{"workers", ""}, {"queues", ""}, {"restart", ""}, {"retries", ""}, {"purge", ""}}},
      {"graph_slow",
       {{"connection", ""}, {"slow_queries", ""}, {"connections", ""},
        {"driver_mode", "ask \"¿Circuit breaker activo?\""}, {"timeout", ""}}},
      {"queue_growing",
       {{"queues", ""}, {"consumers", ""}, {"scale", "celery.consumers(queue) == 0"},
        {"restart", "celery.worker_seen_age() > 5m or celery.oldest_started() > 10m"}, {"rate_limit", ""},
        {"drain", ""}}},
      {"mutations_blocked",
       {{"block_type", ""}, {"policy_logs", ""}, {"policy", ""}, {"unlock", "ask \"¿Es false positive?\""},
        {"disable_policy", "ask \"¿Falso positivo confirmado?\""}}},
      {"telemetry_inconsistent",
       {{"metrics", ""}, {"prometheus", ""}, {"jaeger", ""},
        {"restart", "metrics_error or grafana_stale or spans_incomplete"}, {"traces", ""}}},
      {"chat_timeout",
       {{"health", ""}, {"api_pods", ""}, {"inference", ""},
        {"restart", "(latency_high and timeouts_rising) or user_report"}, {"breakers", ""}}},
      {"websocket_disconnects", {{"clients", ""}, {"disconnect_logs", ""}, {"restart", ""}, {"network", ""}}},
  };
  std::filesystem::current_path(SourceDir());
  Loaded l;
  l.ws = std::make_unique<Workspace>(WorkspaceOptions{}, l.diags);
  for (const auto& [name, steps] : want) l.ws->AddFile("runbooks/" + name + ".rb.denis");
  Check(*l.ws, l.diags);
  size_t seen = 0;
  for (const auto& m : l.ws->modules()) {
    for (const auto& rb : m->file.runbooks) {
      auto it = want.find(rb.name);
      if (it == want.end()) continue;
      ASSERT_EQ(rb.steps.size(), it->second.size()) << rb.name;
      for (size_t i = 0; i < rb.steps.size(); ++i) {
        const auto& s = rb.steps[i];
        EXPECT_EQ(s.name, it->second[i].first) << rb.name;
        std::string guard;
        if (s.guard) {
          std::string_view src = m->source->text();
          guard = std::string(src.substr(s.guard->span.begin, s.guard->span.end - s.guard->span.begin));
        }
        EXPECT_EQ(guard, it->second[i].second) << rb.name << "." << s.name;
      }
      ++seen;
    }
  }
  EXPECT_EQ(seen, want.size());
}

// ---- Rehearsals of the changes of meaning --------------------------------------------------------

// Copies of the seed runbooks and the policy in a scratch directory, with one scenario of ours.
struct Workdir {
  ScratchDir dir;
  std::string runbook;
  Workdir(const std::string& tag, const std::string& name) : dir(tag), runbook(name) {
    namespace fs = std::filesystem;
    fs::create_directories(dir.path() / "policy");
    fs::create_directories(dir.path() / name);
    // Every seed runbook: a hand-over (`runbook graph_slow`) is looked up next to the file.
    for (const auto& e : fs::directory_iterator(SourceDir() / "runbooks")) {
      if (e.is_regular_file() && e.path().string().size() > 9 &&
          e.path().string().substr(e.path().string().size() - 9) == ".rb.denis") {
        fs::copy_file(e.path(), dir.path() / e.path().filename());
      }
    }
    fs::copy_file(SourceDir() / "runbooks/policy/escalation.rb.denis", dir.path() / "policy/escalation.rb.denis");
  }
  ProcessResult Rehearse(const std::string& scenario) {
    std::string path = dir / (runbook + "/case.scenario.yaml");
    std::ofstream(path) << scenario;
    return Runbook({"rehearse", dir / (runbook + ".rb.denis"), "--scenario", path, "--color", "never"});
  }
};

// "Si está caído: reiniciar": Redis answers PING while Celery lost its broker and the logs show
// ConnectionError. The old guard (`ping_error or broker_down and conn_error`) restarted it.
TEST(SeedRehearsal, RedisIsNotRestartedWhileItAnswersPing) {
  Workdir w("fidelity-redis", "redis_down");
  ProcessResult r = w.Rehearse(R"(description: Redis answers PING; the broker is lost and the logs show ConnectionError
duration: 3m
probes:
  redis.ping(): true
  api.metric("rate_limit_fallback"): 0
  celery.broker_down(): true
  logs.count("denis*", "ConnectionError", 5m): 7
  redis.memory_used(): 40%
  redis.connection_errors(): 0
  redis.cpu(): 10%
  api.up("/chat"): true
  api.ratio("http_error_rate"): 1%
commands:
  redis-cli ping: {stdout: "PONG"}
  redis-cli info clients: {stdout: "connected_clients:12"}
  redis-cli info memory: {stdout: "used_memory:1048576"}
  curl http://localhost:8084/metrics: {stdout: "rate_limit_fallback 0"}
answers:
  "¿Datos perdidos?": no
  "¿Data loss?": no
  "¿Security breach?": no
  "¿Múltiples componentes caídos?": no
  "¿Sin rollback disponible?": no
expect:
  symptoms: [{at: 0s, hold: [broker_down, conn_error], clear: [ping_error]}]
  skipped: [restart]
)");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(Has(r.out, "expectations: all met")) << r.out;
  EXPECT_FALSE(Has(r.out, "kubectl rollout restart statefulset/redis")) << r.out;
}

const char* kMutationsProbes = R"(duration: 3m
probes:
  api.increase("gate_policy_block", 5m): 23
  api.increase("mutations_403", 5m): 23
  celery.queue_len_of("tools_mut"): 0
  api.up("/chat"): true
  api.ratio("http_error_rate"): 1%
commands:
  curl http://localhost:8084/metrics: {stdout: "gate_policy_block_total 23"}
  kubectl logs -l app=denis -n denis --tail=50: {stdout: "gate BLOCKED"}
  'cypher-shell -u neo4j -p *** "MATCH (p:Policy) RETURN p LIMIT 10"': {stdout: "p"}
)";

// The answers of the mutations_blocked rehearsals: the user's report and the on-call's word on a
// false positive as given; every other question of the runbook and the checklist answered no.
std::string MutationsAnswers(const char* user_report, const char* false_positive) {
  return std::string("answers:\n  \"¿Usuario reporta «acción no permitida»?\": ") + user_report +
         "\n  \"¿Es false positive?\": " + false_positive + R"(
  "¿Falso positivo confirmado?": no
  "¿Múltiples users bloqueados?": no
  "¿Policy no carga?": no
  "¿Datos perdidos?": no
  "¿Data loss?": no
  "¿Security breach?": no
  "¿Múltiples componentes caídos?": no
  "¿Sin rollback disponible?": no
)";
}

// "Deshabilitar policy temporalmente (ÚLTIMO RECURSO)" ↔ "Falso positivo confirmado → Disable
// policy": on a true positive (blocks and 403s rising, nobody confirms a false positive) neither the
// unlock nor the policy switch-off is offered. The old guard disabled the policy here.
TEST(SeedRehearsal, ThePolicyIsNotDisabledOnATruePositive) {
  Workdir w("fidelity-mutations", "mutations_blocked");
  ProcessResult r = w.Rehearse(std::string("description: a true positive, the on-call says so\n") + kMutationsProbes + MutationsAnswers("yes", "no") + R"(expect:
  skipped: [unlock, disable_policy]
)");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(Has(r.out, "expectations: all met")) << r.out;
}

// "si es false positive": the unlock is offered on the on-call's word alone, without the user's
// report the old guard also required.
TEST(SeedRehearsal, UnlockOnAFalsePositiveEvenWithoutAUserReport) {
  Workdir w("fidelity-unlock", "mutations_blocked");
  ProcessResult r = w.Rehearse(std::string("description: a false positive no user reported\n") + kMutationsProbes + MutationsAnswers("no", "yes") + R"(done:
  unlock: {at: 2m, by: alice}
expect:
  steps:
    - {step: block_type, status: ok}
    - {step: policy_logs, status: ok}
    - {step: policy, status: ok}
    - {step: unlock, status: done}
  skipped: [disable_policy]
)");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(Has(r.out, "expectations: all met")) << r.out;
}

}  // namespace
}  // namespace rb::test
