// The executor's dry modes: rehearsal semantics on a virtual clock (symptoms, windows, steps,
// polling, rows, pending), binding and plans, the state stores, expectation checks and reports.
#include <gtest/gtest.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "runtime/executor.hpp"
#include "runtime/natives.hpp"
#include "runtime/report.hpp"
#include "tests/compile_util.hpp"

namespace rb::test {
namespace {

// A policy with rows, so tests see the checklist applied to every runbook.
constexpr const char* kPolicy = R"(import std.http
policy escalation "Checklist" {
  target api = http("denis-api")
  contact sre       "SRE Lead"  "@sre-lead"
  contact ops       "On-call"   "@on-call"
  contact emergency "Emergency" "+1-555-0199"
  escalate {
    | when                | then                          |
    | not api.up("/chat") | declare P1, page emergency    |
    | incident for > 4m   | page ops                      |
  }
}
)";

constexpr const char* kRunbook = R"(import std.redis
import std.http
import std.kube
import policy.escalation

runbook cache "Cache caída" {
  severity P2
  owner    sre
  target redis = redis("redis")
  target api   = http("denis-api")
  param  ns    = "denis"
  param  verb  = "get"

  symptoms {
    down "redis.ping error"   : not redis.ping()
    slow "chat p99 over 2s"   : api.latency("/chat") > 2s
  }
  steps {
    check state "Estado" {
      $ redis-cli ping
      $ kubectl {verb} pods -n {ns}
    }
    action restart "Reiniciar" when down {
      $ kubectl rollout restart statefulset/redis -n {ns}
    }
    verify back "Reconexión" {
      $ redis-cli ping
      expect output == "PONG" within 1m every 10s
    }
    manual tell "Avisar" {
      "Avisar en #incidentes"
    }
  }
  escalate {
    | when              | then                  |
    | down for > 2m     | page sre              |
    | failed(back)      | page ops, run tell    |
    | ask "¿Datos perdidos?" | declare P1, manual "restore" |
  }
}
)";

struct Fixture {
  ScratchDir dir{"executor"};
  rt::Program program;
  uint32_t index = 0;
  Fixture() {
    std::filesystem::create_directories(dir.path() / "policy");
    std::ofstream(dir / "policy/escalation.rb.denis") << kPolicy;
    std::ofstream(dir / "cache.rb.denis") << kRunbook;
    LoadedProgram l = LoadAny(dir / "cache.rb.denis", TestRegistry());
    EXPECT_TRUE(l.program.has_value()) << l.error << RenderText(l.lint);
    if (l.program) program = std::move(*l.program);
  }
  rt::Scenario Load(const std::string& yaml) {
    std::string path = dir / "case.scenario.yaml";
    // A scenario must expect something (RB0125); these tests read the trace, so an `expect:` that
    // checks nothing is added where a test gives none.
    bool has_expect = yaml.rfind("expect:", 0) == 0 || yaml.find("\nexpect:") != std::string::npos;
    std::ofstream(path, std::ios::trunc) << "runbook: cache\n" << yaml << (has_expect ? "" : "expect:\n  pending: {}\n");
    rt::Scenario sc;
    std::vector<rt::ConfigError> errors;
    bool ok = rt::LoadScenario(path, program, TestRegistry(), sc, errors);
    std::string all;
    for (const auto& e : errors) all += e.ToString() + "\n";
    EXPECT_TRUE(ok) << all;
    return sc;
  }
  rt::Trace Run(const rt::Scenario& sc, const rt::Environment* env = nullptr, rt::StateStore* store = nullptr) {
    rt::ScenarioProvider provider(sc);
    rt::MemoryStateStore memory;
    rt::RehearseOptions options;
    options.env = env;
    return rt::Rehearse(program, TestRegistry(), index, sc, provider, store ? *store : memory, options);
  }
};

// Probes every scenario below needs, healthy unless a test overrides them.
std::string Healthy(const std::string& ping = "true", const std::string& latency = "300ms") {
  return "probes:\n  redis.ping(): " + ping + "\n  api.latency(\"/chat\"): " + latency + "\n  api.up(\"/chat\"): true\n";
}

std::vector<std::string> StepNames(const rt::Trace& t) {
  std::vector<std::string> out;
  for (const auto& s : t.steps) out.push_back(s.name + ":" + s.status);
  return out;
}

std::vector<std::string> Fired(const rt::Trace& t) {
  std::vector<std::string> out;
  for (const auto& r : t.fired) out.push_back(r.when + "@" + rt::FormatMs(r.at_ms));
  return out;
}

std::vector<std::string> Pages(const rt::Trace& t) {
  std::vector<std::string> out;
  for (const auto& p : t.pages) out.push_back(p.contact + "@" + rt::FormatMs(p.at_ms));
  return out;
}

TEST(Executor, HealthyScenarioRunsNothingAndLeavesOnlyTheQuestionPending) {
  Fixture f;
  rt::Trace t = f.Run(f.Load("duration: 10m\n" + Healthy()));
  EXPECT_TRUE(t.steps.empty());
  EXPECT_TRUE(t.fired.empty());
  EXPECT_TRUE(t.pages.empty());
  EXPECT_EQ(t.severity, "P2");
  EXPECT_EQ(t.pending_asks, std::vector<std::string>{"¿Datos perdidos?"});
  EXPECT_EQ(t.pending_rows, std::vector<std::string>{"ask \"¿Datos perdidos?\""});
  EXPECT_TRUE(t.errors.empty());
  // Nothing in the scenario changes after 0s and nothing reads the clock: the ticks up to 10m would
  // see what 0s saw, so 0s is the only evaluation; every tick reads as it.
  ASSERT_EQ(t.samples.size(), 1u);
  EXPECT_EQ(t.SampleAt(600000)->at_ms, 0);
}

TEST(Executor, WindowFiresAfterItsBoundFromTheFirstTickSeen) {
  Fixture f;
  rt::Trace t = f.Run(f.Load(R"(duration: 6m
probes:
  redis.ping(): [{at: 0s, value: true}, {at: 1m, value: false}]
  api.latency("/chat"): 300ms
  api.up("/chat"): true
commands:
  redis-cli ping: {stdout: "PONG"}
answers: {"¿Datos perdidos?": no}
)"));
  // down from 1m; `down for > 2m` holds once 2m have passed, at 3m: first seen + D, not the tick after.
  EXPECT_EQ(Fired(t), (std::vector<std::string>{"down for > 2m@3m", "incident for > 4m@5m"}));
  EXPECT_EQ(Pages(t), (std::vector<std::string>{"sre@3m", "ops@5m"}));
  const rt::SymptomSample* s = t.SampleAt(59000);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->states[0], rt::Tri::kFalse);
  EXPECT_EQ(t.SampleAt(60000)->states[0], rt::Tri::kTrue);
}

TEST(Executor, FalseClosesTheWindowAndUnknownNeitherOpensNorClosesIt) {
  Fixture f;
  // down 1m..1m45s, back, down again from 2m30s: the window restarts at 2m30s (fires 4m30s).
  rt::Trace t1 = f.Run(f.Load(R"(duration: 6m
probes:
  redis.ping(): [{at: 0s, value: true}, {at: 1m, value: false}, {at: 1m45s, value: true}, {at: 2m30s, value: false}]
  api.latency("/chat"): 300ms
  api.up("/chat"): true
answers: {"¿Datos perdidos?": no}
)"));
  ASSERT_FALSE(t1.fired.empty());
  EXPECT_EQ(Fired(t1)[0], "down for > 2m@4m30s");
  // down from 0s, unknown (timeout) 1m..1m30s, down again: first seen stays 0s, fires at 2m.
  rt::Trace t2 = f.Run(f.Load(R"(duration: 3m
probes:
  redis.ping(): [{at: 0s, value: false}, {at: 1m, timeout: true}, {at: 1m30s, value: false}]
  api.latency("/chat"): 300ms
  api.up("/chat"): true
answers: {"¿Datos perdidos?": no}
)"));
  ASSERT_FALSE(t2.fired.empty());
  EXPECT_EQ(Fired(t2)[0], "down for > 2m@2m");
  EXPECT_EQ(t2.SampleAt(70000)->states[0], rt::Tri::kUnknown);
  ASSERT_FALSE(t2.unknown_probes.empty());
  EXPECT_EQ(t2.unknown_probes[0], "redis.ping(): timeout");
}

TEST(Executor, StepsRunInOrderWithGuardsAndExactBoundCommands) {
  Fixture f;
  rt::Trace t = f.Run(f.Load(R"(duration: 5m
probes:
  redis.ping(): [{at: 0s, value: true}, {at: 1m, value: false}, {at: 1m30s, value: true}]
  api.latency("/chat"): 300ms
  api.up("/chat"): true
commands:
  redis-cli ping: [{at: 0s, stdout: "PONG\n"}, {at: 1m, exit: 1, stderr: "Connection refused"}, {at: 1m30s, stdout: "PONG\n"}]
  kubectl rollout restart statefulset/redis -n denis: {stdout: "statefulset.apps/redis restarted"}
answers: {"¿Datos perdidos?": no}
)"));
  // state fails (ping refused), restart runs (guard true), back polls until PONG at 1m30s.
  EXPECT_EQ(StepNames(t), (std::vector<std::string>{"state:failed", "restart:ok", "back:ok", "tell:pending"}));
  ASSERT_EQ(t.steps.size(), 4u);
  EXPECT_EQ(t.steps[0].commands, (std::vector<std::string>{"redis-cli ping", "kubectl get pods -n denis"}));
  EXPECT_EQ(t.steps[1].commands, std::vector<std::string>{"kubectl rollout restart statefulset/redis -n denis"});
  EXPECT_EQ(t.steps[0].at_ms, 60000);
  EXPECT_EQ(t.steps[3].at_ms, 90000);  // after the expectation was met at 1m30s
  bool met = false;
  for (const auto& e : t.events) {
    if (e.kind == rt::TraceEvent::Kind::kExpect) {
      met = e.state == rt::Tri::kTrue && e.at_ms == 90000 && e.status.find("after 4 polls") != std::string::npos;
    }
  }
  EXPECT_TRUE(met);
}

TEST(Executor, AnExpectationFalseAtItsDeadlineFailsTheStepAndFailedRowsFire) {
  Fixture f;
  rt::Trace t = f.Run(f.Load(R"(duration: 5m
probes:
  redis.ping(): [{at: 0s, value: true}, {at: 1m, value: false}]
  api.latency("/chat"): 300ms
  api.up("/chat"): true
commands:
  redis-cli ping: [{at: 0s, stdout: "PONG"}, {at: 1m, exit: 1}]
answers: {"¿Datos perdidos?": no}
)"));
  EXPECT_EQ(StepNames(t), (std::vector<std::string>{"state:failed", "restart:ok", "back:failed", "tell:pending"}));
  // The expectation ran out at 2m (1m + within 1m); failed(back) fires then, and `run tell` starts it.
  ASSERT_GE(t.fired.size(), 1u);
  EXPECT_EQ(Fired(t)[0], "failed(back)@2m");
  EXPECT_EQ(Pages(t)[0], "ops@2m");
  EXPECT_EQ(t.steps[3].at_ms, 120000);
}

TEST(Executor, UnknownGuardsAndConditionsArePendingNeverGuessed) {
  Fixture f;
  // slow holds (the incident opens), ping times out: restart's guard `down` is unknown.
  rt::Trace t = f.Run(f.Load(R"(duration: 3m
probes:
  redis.ping(): {timeout: true}
  api.latency("/chat"): 5s
  api.up("/chat"): true
commands:
  redis-cli ping: {timeout: true}
  kubectl get pods -n denis: {stdout: "redis-0 0/1 CrashLoopBackOff"}
)"));
  // back's expectation reads the output of a timed-out ping: unknown at its deadline, so pending.
  // tell is a person's step nobody said was done: pending too.
  EXPECT_EQ(t.pending_steps, (std::vector<std::string>{"restart", "back", "tell"}));
  EXPECT_EQ(StepNames(t), (std::vector<std::string>{"state:failed", "back:pending", "tell:pending"}));
  EXPECT_EQ(t.pending_asks, std::vector<std::string>{"¿Datos perdidos?"});
  // `down for > 2m`, failed(back) and the ask are unknown at the end: pending, none fired.
  EXPECT_EQ(t.pending_rows, (std::vector<std::string>{"down for > 2m", "failed(back)", "ask \"¿Datos perdidos?\""}));
  for (const auto& r : t.fired) EXPECT_NE(r.when, "down for > 2m");
}

TEST(Executor, AnAnswerFromItsTimeOnFiresTheRowAndDeclareRaisesSeverity) {
  Fixture f;
  rt::Trace t = f.Run(f.Load("duration: 4m\n" + Healthy() + "answers:\n  \"¿Datos perdidos?\": {at: 2m, answer: yes}\n"));
  EXPECT_EQ(Fired(t), std::vector<std::string>{"ask \"¿Datos perdidos?\"@2m"});
  EXPECT_EQ(t.severity, "P1");
  EXPECT_TRUE(t.pending_asks.empty());
}

TEST(Executor, PolicyRowsApplyToEveryRunbook) {
  Fixture f;
  rt::Trace t = f.Run(f.Load(R"(duration: 2m
probes:
  redis.ping(): true
  api.latency("/chat"): 300ms
  api.up("/chat"): [{at: 0s, value: true}, {at: 45s, value: false}]
answers: {"¿Datos perdidos?": no}
)"));
  ASSERT_EQ(t.fired.size(), 1u);
  EXPECT_TRUE(t.fired[0].policy);
  EXPECT_EQ(Fired(t)[0], "not api.up(\"/chat\")@45s");
  EXPECT_EQ(Pages(t), std::vector<std::string>{"emergency@45s"});
  EXPECT_EQ(t.severity, "P1");
  EXPECT_EQ(t.rows_fired.count("policy|not api.up(\"/chat\")"), 1u);
}

TEST(Executor, ARowFiresAgainOnlyAfterItWasFalse) {
  Fixture f;
  rt::Trace t = f.Run(f.Load(R"(duration: 3m
probes:
  redis.ping(): true
  api.latency("/chat"): 300ms
  api.up("/chat"): [{at: 0s, value: false}, {at: 1m, value: true}, {at: 2m, value: false}]
answers: {"¿Datos perdidos?": no}
)"));
  EXPECT_EQ(Fired(t), (std::vector<std::string>{"not api.up(\"/chat\")@0s", "not api.up(\"/chat\")@2m"}));
  // The second firing does not page emergency again: once per incident and level.
  EXPECT_EQ(Pages(t), (std::vector<std::string>{"emergency@0s"}));
  EXPECT_EQ(std::count_if(t.events.begin(), t.events.end(),
                          [](const rt::TraceEvent& e) { return e.kind == rt::TraceEvent::Kind::kPageHeld; }),
            1);
}

TEST(Executor, EnvironmentBindsParamsAndAddressesAndEffectsAreReDerived) {
  Fixture f;
  rt::Environment env;
  env.path = "env.yaml";
  env.params["cache"]["verb"] = rt::EnvParam{"delete", rt::Mark{7, 11}, {}};
  env.params["*"]["ns"] = rt::EnvParam{"denis-prod", rt::Mark{5, 9}, {}};
  env.targets["redis"] = rt::EnvTarget{"redis", "redis", "redis://127.0.0.5:6379", {}};
  env.contacts["sre"] = rt::EnvContact{"sre", {{"slack", "#sre"}}, {}};
  rt::Plan plan = rt::MakePlan(f.program, TestRegistry(), f.index, &env);
  ASSERT_EQ(plan.bindings.params.size(), 2u);
  EXPECT_EQ(plan.bindings.params[0].source, "environment");
  EXPECT_EQ(rt::ToString(plan.bindings.params[0].value), "denis-prod");
  EXPECT_EQ(plan.bindings.targets[0].address, "redis://127.0.0.5:6379");
  // `kubectl {verb} pods` was a read with the default; bound to `delete` it is destructive.
  const rt::PlanItem& item = plan.steps[0].items[1];
  EXPECT_EQ(item.command.Display(), "kubectl delete pods -n denis-prod");
  EXPECT_EQ(item.command.effect, rt::Effect::kDestructive);
  EXPECT_EQ(item.command.rule, "kubectl delete");
  // In a rehearsal the check step refuses to run it.
  rt::Trace t = f.Run(f.Load(R"(duration: 2m
probes:
  redis.ping(): [{at: 0s, value: false}]
  api.latency("/chat"): 300ms
  api.up("/chat"): true
commands:
  redis-cli ping: {stdout: "PONG"}
answers: {"¿Datos perdidos?": no}
)"),
                      &env);
  ASSERT_FALSE(t.steps.empty());
  EXPECT_EQ(t.steps[0].status, "failed");
  bool refused = false;
  for (const auto& e : t.events) {
    refused |= e.kind == rt::TraceEvent::Kind::kCommand && e.status.rfind("refused:", 0) == 0 &&
               e.status.find("destructive") != std::string::npos;
  }
  EXPECT_TRUE(refused);
}

TEST(Executor, AnEnvironmentValueOfTheWrongTypeIsAnErrorAtItsLine) {
  rt::Program p = CompileText("typed.rb.denis", R"(import std.redis
import policy.escalation
runbook typed "T" {
  severity P3
  owner sre
  target redis = redis("redis")
  param  window = 5m
  symptoms { down "d" : not redis.ping() }
}
)");
  rt::Environment env;
  env.path = "env.yaml";
  env.params["typed"]["window"] = rt::EnvParam{"five minutes", rt::Mark{4, 13}, {}};
  rt::Bindings b = rt::Bind(p, 0, &env);
  ASSERT_EQ(b.errors.size(), 1u);
  EXPECT_EQ(b.errors[0].mark.line, 4);
  EXPECT_NE(b.errors[0].ToString().find("env.yaml:4:13"), std::string::npos);
  EXPECT_EQ(b.params[0].source, "default");  // the default stays; nothing is guessed from bad input
}

TEST(Executor, FileStateStoreKeepsFirstSeenTimesAcrossProcesses) {
  ScratchDir dir("state");
  std::string path = dir / "sub/state.json";
  {
    rt::FileStateStore s(path);
    std::string err;
    ASSERT_TRUE(s.Load(err)) << err;
    EXPECT_FALSE(s.Get("cache/runbook/0").has_value());
    s.Set("cache/runbook/0", 60000);
    s.Set("cache/policy/0", 15000);
    s.Erase("cache/policy/0");
    EXPECT_TRUE(s.last_error().empty());
  }
  rt::FileStateStore again(path);
  std::string err;
  ASSERT_TRUE(again.Load(err)) << err;
  EXPECT_EQ(again.Get("cache/runbook/0"), std::optional<int64_t>(60000));
  EXPECT_FALSE(again.Get("cache/policy/0").has_value());
  std::ofstream(dir / "bad.json") << "{not json";
  rt::FileStateStore bad(dir / "bad.json");
  EXPECT_FALSE(bad.Load(err));
  EXPECT_NE(err.find("not a runbook state file"), std::string::npos);
  EXPECT_EQ(ReadAll(dir / "bad.json"), "{not json");  // never overwritten on load
}

TEST(Executor, RehearsalWindowsUseTheGivenStateStore) {
  Fixture f;
  ScratchDir dir("state-rehearse");
  rt::FileStateStore store(dir / "s.json");
  std::string err;
  ASSERT_TRUE(store.Load(err));
  f.Run(f.Load(R"(duration: 1m
probes:
  redis.ping(): [{at: 0s, value: true}, {at: 30s, value: false}]
  api.latency("/chat"): 300ms
  api.up("/chat"): true
answers: {"¿Datos perdidos?": no}
)"),
        nullptr, &store);
  EXPECT_EQ(store.Get("cache/runbook/0"), std::optional<int64_t>(30000));
  EXPECT_NE(ReadAll(dir / "s.json").find("\"cache/runbook/0\": 30000"), std::string::npos);
}

TEST(Executor, CheckReportsEachMismatchWithExpectedAndActual) {
  Fixture f;
  rt::Scenario sc = f.Load(R"(duration: 4m
probes:
  redis.ping(): [{at: 0s, value: true}, {at: 1m, value: false}]
  api.latency("/chat"): 300ms
  api.up("/chat"): true
answers: {"¿Datos perdidos?": no}
expect:
  symptoms:
    - {at: 1m, hold: [slow], clear: [down]}
    - {at: 20s, clear: [down]}
  steps:
    - {step: state}
    - {step: back}
  escalations:
    - {row: "down for > 2m", at: 3m15s}
  pages: [{contact: ops}]
  severity: P1
)");
  rt::Trace t = f.Run(sc);
  std::vector<rt::Mismatch> m = rt::Check(sc, t);
  std::map<std::string, rt::Mismatch> by;
  for (const auto& x : m) by[x.what] = x;
  ASSERT_TRUE(by.count("symptom slow at 1m"));
  EXPECT_EQ(by["symptom slow at 1m"].expected, "holds");
  EXPECT_EQ(by["symptom slow at 1m"].actual, "clear");
  ASSERT_TRUE(by.count("symptom down at 1m"));
  ASSERT_TRUE(by.count("steps that ran, in order"));
  EXPECT_EQ(by["steps that ran, in order"].expected, "state, back");
  EXPECT_EQ(by["steps that ran, in order"].actual, "state, restart, back, tell");
  ASSERT_TRUE(by.count("escalation rows fired, in order"));
  EXPECT_EQ(by["escalation rows fired, in order"].actual, "| down for > 2m | at 3m");
  ASSERT_TRUE(by.count("pages sent, in order"));
  EXPECT_EQ(by["pages sent, in order"].actual, "sre");
  EXPECT_EQ(by["severity at the end"].actual, "P2");
  // Each mismatch points at its own key: `steps:` is on line 12 of the file (runbook: is line 1).
  EXPECT_EQ(by["steps that ran, in order"].mark.line, 12);
  EXPECT_EQ(by["severity at the end"].mark.line, 18);
  ASSERT_TRUE(by.count("symptoms at 20s"));
  EXPECT_NE(by["symptoms at 20s"].actual.find("no evaluation at 20s"), std::string::npos) << by["symptoms at 20s"].actual;
  // The same scenario with true expectations passes.
  rt::Scenario ok = f.Load(R"(duration: 4m
probes:
  redis.ping(): [{at: 0s, value: true}, {at: 1m, value: false}]
  api.latency("/chat"): 300ms
  api.up("/chat"): true
commands:
  redis-cli ping: {stdout: "PONG"}
  kubectl get pods -n denis: {stdout: "redis-0 1/1 Running"}
answers: {"¿Datos perdidos?": no}
expect:
  symptoms: [{at: 1m, hold: [down], clear: [slow]}]
  skipped: []
  escalations: [{row: "down for > 2m", at: 3m}]
  pages: [{contact: sre, at: 3m}]
  severity: P2
  pending: {rows: [], steps: [tell], asks: []}
)");
  std::vector<rt::Mismatch> none = rt::Check(ok, f.Run(ok));
  EXPECT_TRUE(none.empty()) << none[0].what << ": " << none[0].expected << " / " << none[0].actual;
}

TEST(Executor, ReportsTimelineJsonAndJUnit) {
  Fixture f;
  rt::Scenario sc = f.Load("duration: 2m\n" + Healthy("[{at: 0s, value: true}, {at: 30s, value: false}]") +
                           "answers: {\"¿Datos perdidos?\": no}\n");
  rt::Trace t = f.Run(sc);
  std::string text = rt::RenderTrace(t, sc, false);
  EXPECT_NE(text.find("30s     symptom down holds"), std::string::npos) << text;
  EXPECT_NE(text.find("step check state \"Estado\""), std::string::npos) << text;
  EXPECT_EQ(text.find("\x1b["), std::string::npos);
  EXPECT_NE(rt::RenderTrace(t, sc, true).find("\x1b["), std::string::npos);
  nlohmann::json j = nlohmann::json::parse(rt::TraceJson(t));
  EXPECT_EQ(j["runbook"], "cache");
  EXPECT_EQ(j["steps"][0]["step"], "state");
  EXPECT_EQ(j["steps"][0]["run"][1], "kubectl get pods -n denis");
  EXPECT_TRUE(j["events"].is_array());

  rt::TestCase pass{"cache", "ok", "runbooks/cache/ok.scenario.yaml", 0.01, {}, {}, {}};
  rt::TestCase fail{"cache", "bad<&>", "x.scenario.yaml", 0.02, {}, {rt::Mismatch{rt::Mark{3, 4}, "pages sent, in order", "sre", "ops"}}, {}};
  std::string xml = rt::JUnitXml({pass, fail}, 0.5);
  EXPECT_NE(xml.find("tests=\"2\" failures=\"1\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("name=\"bad&lt;&amp;&gt;\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("<failure message=\"pages sent, in order\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("x.scenario.yaml:3:4"), std::string::npos) << xml;
  rt::TestCase odd{"cache", "h\xff\xc3\xa9\x01", "y.scenario.yaml", 0, {}, {}, {}};
  std::string oddxml = rt::JUnitXml({odd}, 0.1);
  EXPECT_NE(oddxml.find("name=\"h\xEF\xBF\xBD\xc3\xa9&#xFFFD;\""), std::string::npos) << oddxml;
}

TEST(Executor, CoverageNamesWhatNoScenarioExercised) {
  Fixture f;
  rt::Trace t = f.Run(f.Load("duration: 1m\n" + Healthy("[{at: 0s, value: false}]") + "answers: {\"¿Datos perdidos?\": no}\n"));
  rt::Coverage c = rt::ComputeCoverage(f.program, {t});
  EXPECT_EQ(c.symptoms, 2u);
  EXPECT_EQ(c.symptoms_hit, 1u);
  EXPECT_EQ(c.steps, 4u);
  EXPECT_EQ(c.rows, 5u);  // three of the runbook, two of the policy
  std::string text = rt::RenderCoverage(c);
  EXPECT_NE(text.find("cache: symptom slow never held"), std::string::npos) << text;
  EXPECT_NE(text.find("policy escalation: row | not api.up(\"/chat\") | never fired"), std::string::npos) << text;
}

TEST(Executor, AFastPollOverALongScenarioStopsWithAnError) {
  rt::Program p = CompileText("poll.rb.denis", R"(import std.redis
import policy.escalation
runbook poll "P" {
  severity P3
  owner sre
  target redis = redis("redis")
  symptoms { up "u" : redis.ping() }
  steps {
    verify never "v" { expect not redis.ping() within 1d every 100ms }
  }
}
)");
  std::string path = WriteTemp("poll.scenario.yaml", "runbook: poll\nduration: 24h\nprobes:\n  redis.ping(): true\nexpect: {pending: {}}\n");
  rt::Scenario sc;
  std::vector<rt::ConfigError> errors;
  ASSERT_TRUE(rt::LoadScenario(path, p, TestRegistry(), sc, errors)) << (errors.empty() ? "" : errors[0].ToString());
  rt::ScenarioProvider provider(sc);
  rt::MemoryStateStore state;
  rt::RehearseOptions options;
  options.max_instants = 1000;
  rt::Trace t = rt::Rehearse(p, TestRegistry(), 0, sc, provider, state, options);
  ASSERT_EQ(t.errors.size(), 1u);
  EXPECT_NE(t.errors[0].find("rehearsal stopped at 1m40s: more than 1000 evaluation instants"), std::string::npos)
      << t.errors[0];
  EXPECT_EQ(t.samples.size(), 1000u);
}

constexpr const char* kEdge = R"(import std.redis
import std.kube
import policy.escalation
runbook edge "Edge" {
  severity P3
  owner sre
  target redis = redis("redis")
  param  ns = "denis"
  symptoms {
    x "cpu" : redis.cpu() > 50%
    y "mem" : redis.memory_used() > 50%
  }
  steps {
    action restart "Restart, then check" {
      $ kubectl rollout restart statefulset/redis -n {ns}
      $ redis-cli ping
      expect output == "PONG" within 30s every 10s
    }
    check gated "Gated" when redis.ping() {
      $ redis-cli info clients
    }
  }
  escalate {
    | when               | then     |
    | x and (y for > 1m) | page sre |
    | failed(gated)      | page ops |
  }
}
)";

rt::Trace RunEdge(const rt::Program& p, const std::string& yaml) {
  std::string path = WriteTemp("edge.scenario.yaml", "runbook: edge\n" + yaml +
                                                         (yaml.find("expect:") == std::string::npos ? "expect: {pending: {}}\n" : ""));
  rt::Scenario sc;
  std::vector<rt::ConfigError> errors;
  EXPECT_TRUE(rt::LoadScenario(path, p, TestRegistry(), sc, errors)) << (errors.empty() ? "" : errors[0].ToString());
  rt::ScenarioProvider provider(sc);
  rt::MemoryStateStore state;
  return rt::Rehearse(p, TestRegistry(), 0, sc, provider, state);
}

TEST(Executor, AWindowBehindAShortCircuitStillSeesEveryEvaluation) {
  rt::Program p = CompileText("edge.rb.denis", kEdge);
  // y holds at 0s, breaks at 15s, holds again from 30s; x is false from 15s to 1m, so a
  // short-circuit `and` would skip the window exactly when y was false.
  rt::Trace t = RunEdge(p, R"(duration: 3m
probes:
  redis.cpu(): [{at: 0s, value: 60%}, {at: 15s, value: 10%}, {at: 1m, value: 60%}]
  redis.memory_used(): [{at: 0s, value: 60%}, {at: 15s, value: 10%}, {at: 30s, value: 60%}]
  redis.ping(): true
commands:
  redis-cli ping: {stdout: "PONG"}
  redis-cli info clients: {stdout: "connected_clients:3"}
)");
  ASSERT_FALSE(t.fired.empty());
  EXPECT_EQ(Fired(t)[0], "x and (y for > 1m)@1m30s");  // first seen again at 30s, held 1m at 1m30s
}

TEST(Executor, AFailedWriteIsNotExcusedByALaterExpectation) {
  rt::Program p = CompileText("edge.rb.denis", kEdge);
  rt::Trace t = RunEdge(p, R"(duration: 2m
probes:
  redis.cpu(): 60%
  redis.memory_used(): 10%
  redis.ping(): false
commands:
  kubectl rollout restart statefulset/redis -n denis: {exit: 1, stderr: "forbidden"}
  redis-cli ping: [{at: 0s, exit: 1}, {at: 20s, stdout: "PONG"}]
)");
  ASSERT_GE(t.steps.size(), 1u);
  EXPECT_EQ(t.steps[0].name, "restart");
  EXPECT_EQ(t.steps[0].status, "failed");  // the ping that recovers does not hide the refused restart
  // gated's guard is false (ping false): skipped, so failed(gated) is false, never pending.
  EXPECT_EQ(t.skipped, std::vector<std::string>{"gated"});
  EXPECT_TRUE(t.pending_rows.empty());
}

TEST(Executor, AGuardPendingStepLeavesFailedUnknown) {
  rt::Program p = CompileText("edge.rb.denis", kEdge);
  rt::Trace t = RunEdge(p, R"(duration: 1m
probes:
  redis.cpu(): 60%
  redis.memory_used(): 10%
  redis.ping(): {timeout: true}
commands:
  kubectl rollout restart statefulset/redis -n denis: {stdout: "restarted"}
  redis-cli ping: {stdout: "PONG"}
)");
  EXPECT_EQ(t.pending_steps, std::vector<std::string>{"gated"});
  EXPECT_EQ(t.pending_rows, std::vector<std::string>{"failed(gated)"});
}

TEST(Executor, BoundWordsNoRuleDeclaresAreRefused) {
  Fixture f;
  rt::Environment env;
  env.params["cache"]["verb"] = rt::EnvParam{"cordon", rt::Mark{2, 3}, {}};
  rt::Plan plan = rt::MakePlan(f.program, TestRegistry(), f.index, &env);
  const rt::PlanItem& item = plan.steps[0].items[1];
  EXPECT_TRUE(item.command.undeclared);
  EXPECT_TRUE(item.refused);
  EXPECT_NE(rt::RenderPlan(plan, false).find("REFUSED: a check step may not run this destructive command"),
            std::string::npos);
  rt::Trace t = f.Run(f.Load("duration: 1m\n" + Healthy("false") + "commands:\n  redis-cli ping: {stdout: PONG}\n"), &env);
  ASSERT_FALSE(t.steps.empty());
  EXPECT_EQ(t.steps[0].status, "failed");
  bool refused = false;
  for (const auto& e : t.events) refused |= e.status.find("refused: no rule of program `kubectl`") == 0;
  EXPECT_TRUE(refused);
}

TEST(Executor, EveryStdlibCapabilityHasASlotWithItsDryBehaviour) {
  std::vector<rt::CapabilitySlot> slots = rt::CapabilitySlots();
  ASSERT_GT(slots.size(), 10u);
  bool ping = false, flush = false;
  for (const auto& s : slots) {
    EXPECT_EQ(s.dry == rt::DryBehaviour::kAnswered, s.effect <= rt::Effect::kRead) << s.name;
    EXPECT_NE(rt::FindNative(s.name), rt::kNoNative) << s.name;
    EXPECT_FALSE(rt::Natives()[rt::FindNative(s.name)].is_filter) << s.name;  // filters are not slots
    ping |= s.name == "prom" && s.result == rt::ValueType::kNum;
    flush |= s.name == "notify" && s.dry == rt::DryBehaviour::kRecorded;
  }
  EXPECT_TRUE(ping);
  EXPECT_TRUE(flush);
}

}  // namespace
}  // namespace rb::test

namespace rb::test {
namespace {

// Every seed scenario, truncated at many lengths and with random bytes flipped: the loader either
// rejects it with positioned errors or accepts it, and an accepted one rehearses without crashing.
TEST(ExecutorSweep, MutatedSeedScenariosNeverCrash) {
  std::filesystem::current_path(SourceDir());
  LoadedProgram l = LoadSources({"runbooks"}, TestRegistry());
  ASSERT_TRUE(l.program.has_value()) << l.error;
  const rt::Program& p = *l.program;
  std::vector<std::filesystem::path> seeds;
  for (const auto& e : std::filesystem::recursive_directory_iterator(SourceDir() / "runbooks")) {
    if (e.path().string().find(".scenario.yaml") != std::string::npos) seeds.push_back(e.path());
  }
  std::sort(seeds.begin(), seeds.end());
  ASSERT_FALSE(seeds.empty());
  ScratchDir dir("scenario-sweep");
  uint64_t rng = 0x9E3779B97F4A7C15ull;
  auto next = [&] {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
  };
  size_t accepted = 0, rejected = 0;
  for (const auto& seed : seeds) {
    std::string text = ReadAll(seed);
    std::string rb_dir = seed.parent_path().filename().string();
    std::filesystem::create_directories(dir.path() / rb_dir);
    for (int k = 0; k < 40; ++k) {
      std::string m = text;
      if (k < 10) {
        m.resize(m.size() * static_cast<size_t>(k) / 10);
      } else {
        for (int f = 0; f < 1 + k % 4; ++f) {
          size_t at = next() % (m.empty() ? 1 : m.size());
          if (at < m.size()) m[at] = static_cast<char>(next() & 0xFF);
        }
      }
      std::string path = (dir.path() / rb_dir / "m.scenario.yaml").string();
      std::ofstream(path, std::ios::binary | std::ios::trunc) << m;
      rt::Scenario sc;
      std::vector<rt::ConfigError> errors;
      if (!rt::LoadScenario(path, p, TestRegistry(), sc, errors)) {
        ++rejected;
        ASSERT_FALSE(errors.empty());
        EXPECT_EQ(errors[0].ToString().rfind(path, 0), 0u) << errors[0].ToString();
        continue;
      }
      ++accepted;
      uint32_t index = 0;
      while (index < p.runbooks.size() && p.Str(p.runbooks[index].name) != sc.runbook) ++index;
      ASSERT_LT(index, p.runbooks.size());
      rt::ScenarioProvider provider(sc);
      rt::MemoryStateStore state;
      rt::Trace t = rt::Rehearse(p, TestRegistry(), index, sc, provider, state);
      rt::Check(sc, t);
      rt::TraceJson(t);
    }
  }
  std::printf("[ sweep    ] %zu seed scenarios: %zu mutants accepted and rehearsed, %zu rejected\n", seeds.size(),
              accepted, rejected);
  EXPECT_GT(rejected, 0u);
}

}  // namespace
}  // namespace rb::test
