// Scenarios as strict as the runbooks: `approvals:` and `done:`, expectations required, keys the
// rehearsal never read warned about with a did-you-mean, command keys matched independently of
// --env, each `|>` stage in the trace and JSON, 30-day scenarios and the world's change instants.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include <nlohmann/json.hpp>

#include "runtime/environment.hpp"
#include "runtime/executor.hpp"
#include "runtime/report.hpp"
#include "runtime/scenario_provider.hpp"
#include "tests/compile_util.hpp"
#include "tests/process.hpp"

namespace rb::test {
namespace {

constexpr const char* kPolicy = R"(import std.http
policy escalation "Checklist" {
  target api = http("denis-api")
  contact sre       "SRE Lead"  "@sre-lead"
  contact ops       "On-call"   "@on-call"
  escalate {
    | when                | then      |
    | not api.up("/chat") | page ops  |
  }
}
)";

constexpr const char* kRunbook = R"(import std.redis
import std.http
import std.kube
import std.logs
import policy.escalation

runbook cache "Cache" {
  severity P2
  owner    sre
  target redis = redis("denis-redis")
  target logs  = logs("kibana")
  param  ns    = "denis"

  symptoms {
    down   "redis.ping error" : not redis.ping()
    errors "connection errors" : logs.count("denis*", "ConnectionError", 5m) > 10
  }
  steps {
    check state "Estado" {
      $ redis-cli -h {redis} info memory |> grep("used_memory:") |> head(1)
      $ kubectl get pods -n {ns}
    }
    action restart "Reiniciar" when down {
      $ kubectl rollout restart statefulset/redis -n {ns}
    }
    last_resort flush "Vaciar" when down {
      $ redis-cli -h {redis} flushall
    }
    check by_hand "Mirar" {
      "Mirar el panel de Redis"
    }
    manual tell "Avisar" {
      "Avisar en #incidentes"
    }
  }
  escalate {
    | when                   | then      |
    | down for > 2m          | page sre  |
    | ask "¿Datos perdidos?" | page ops  |
  }
}
)";

struct Fixture {
  ScratchDir dir{"scenario_strict"};
  rt::Program program;
  Fixture() {
    std::filesystem::create_directories(dir.path() / "policy");
    std::ofstream(dir / "policy/escalation.rb.denis") << kPolicy;
    std::ofstream(dir / "cache.rb.denis") << kRunbook;
    LoadedProgram l = LoadAny(dir / "cache.rb.denis", TestRegistry());
    EXPECT_TRUE(l.program.has_value()) << l.error << RenderText(l.lint);
    if (l.program) program = std::move(*l.program);
  }
  bool Load(const std::string& yaml, rt::Scenario& sc, std::vector<rt::ConfigError>& errors) {
    std::string path = dir / "case.scenario.yaml";
    std::ofstream(path, std::ios::trunc) << "runbook: cache\n" << yaml;
    return rt::LoadScenario(path, program, TestRegistry(), sc, errors);
  }
  rt::Scenario Ok(const std::string& yaml) {
    rt::Scenario sc;
    std::vector<rt::ConfigError> errors;
    bool ok = Load(yaml, sc, errors);
    std::string all;
    for (const auto& e : errors) all += e.ToString() + "\n";
    EXPECT_TRUE(ok) << all;
    return sc;
  }
  // The errors, one ToString per line.
  std::string Errors(const std::string& yaml) {
    rt::Scenario sc;
    std::vector<rt::ConfigError> errors;
    EXPECT_FALSE(Load(yaml, sc, errors));
    std::string all;
    for (const auto& e : errors) all += e.ToString() + "\n";
    return all;
  }
  rt::Trace Run(const rt::Scenario& sc, const rt::Environment* env = nullptr) {
    rt::ScenarioProvider provider(sc);
    rt::MemoryStateStore memory;
    rt::RehearseOptions options;
    options.env = env;
    return rt::Rehearse(program, TestRegistry(), 0, sc, provider, memory, options);
  }
};

const char* kHealthy =
    "probes:\n"
    "  redis.ping(): true\n"
    "  logs.count(\"denis*\", \"ConnectionError\", 5m): 0\n"
    "  api.up(\"/chat\"): true\n";
const char* kDown =
    "probes:\n"
    "  redis.ping(): false\n"
    "  logs.count(\"denis*\", \"ConnectionError\", 5m): 0\n"
    "  api.up(\"/chat\"): true\n";
const char* kExpect = "expect:\n  severity: P2\n";

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += s + "\n";
  return out;
}

// ---- approvals: and done: ------------------------------------------------------------------------
TEST(ScenarioApprovals, ParsedAndGivenInTimeOrderFromTheirTime) {
  Fixture f;
  rt::Scenario sc = f.Ok(std::string(kHealthy) + kExpect +
                         "duration: 40m\n"
                         "approvals:\n"
                         "  restart: {at: 1m, by: bob, approve: no}\n"
                         "  flush: [{at: 2m, by: a}, {at: 30m, by: b}]\n"
                         "done:\n"
                         "  tell: {at: 12m, by: alice}\n"
                         "  by_hand: {by: carol}\n");
  ASSERT_EQ(sc.approvals.size(), 3u);
  EXPECT_FALSE(sc.approvals[0].approved);
  EXPECT_EQ(sc.approvals[0].by, "bob");
  EXPECT_TRUE(sc.approvals[1].approved);
  ASSERT_EQ(sc.done.size(), 2u);
  EXPECT_EQ(sc.done[1].at_ms, 0);  // `at:` left out: from 0s

  rt::ScenarioReads reads;
  rt::ScenarioAnswers answers(sc, &reads);
  EXPECT_TRUE(answers.Approvals("flush", 60000).empty());
  auto two = answers.Approvals("flush", 40 * 60000);
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[0].by, "a");
  EXPECT_EQ(two[0].at_ms, 2 * 60000);
  EXPECT_EQ(two[1].by, "b");
  auto denied = answers.Approvals("restart", 60000);
  ASSERT_EQ(denied.size(), 1u);
  EXPECT_FALSE(denied[0].approved);
  auto done = answers.Done("tell", 12 * 60000);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].by, "alice");
  EXPECT_TRUE(answers.Done("tell", 12 * 60000 - 1).empty());
  EXPECT_EQ(reads.approvals.size(), 3u);
  EXPECT_EQ(reads.done.size(), 1u);
}

TEST(ScenarioApprovals, WrongStepsAreErrorsNamingTheFix) {
  Fixture f;
  std::string base = std::string(kHealthy) + kExpect;
  std::string e = f.Errors(base + "approvals:\n  restrt: {at: 1m, by: bob}\n");
  EXPECT_NE(e.find("error[RB0123]: no step `restrt`"), std::string::npos) << e;
  EXPECT_NE(e.find("did you mean `restart`?"), std::string::npos) << e;
  e = f.Errors(base + "approvals:\n  state: {at: 1m, by: bob}\n");
  EXPECT_NE(e.find("error[RB0126]: step `state` is a check step"), std::string::npos) << e;
  e = f.Errors(base + "approvals:\n  tell: {at: 1m, by: bob}\n");
  EXPECT_NE(e.find("error[RB0126]"), std::string::npos) << e;
  EXPECT_NE(e.find("move it under `done:`"), std::string::npos) << e;
  e = f.Errors(base + "done:\n  restart: {at: 1m, by: bob}\n");
  EXPECT_NE(e.find("error[RB0127]: step `restart` is an action step with commands"), std::string::npos) << e;
  EXPECT_NE(e.find("move it under `approvals:`"), std::string::npos) << e;
  e = f.Errors(base + "done:\n  state: {at: 1m, by: bob}\n");
  EXPECT_NE(e.find("error[RB0127]"), std::string::npos) << e;
  e = f.Errors(base + "approvals:\n  restart: {at: 1m}\n");
  EXPECT_NE(e.find("error[RB0111]: an approval of step `restart` needs `by:`"), std::string::npos) << e;
  e = f.Errors(base + "approvals:\n  restart: {at: 1m, by: bob, aprove: no}\n");
  EXPECT_NE(e.find("error[RB0104]"), std::string::npos) << e;
  e = f.Errors(base + "approvals:\n  flush: [{at: 5m, by: a}, {at: 2m, by: b}]\n");
  EXPECT_NE(e.find("error[RB0110]"), std::string::npos) << e;
  e = f.Errors(base + "done:\n  tell: {at: 1m, by: alice, approve: no}\n");
  EXPECT_NE(e.find("error[RB0104]"), std::string::npos) << e;  // done entries are not approvals
}

// ---- expectations required -----------------------------------------------------------------------
TEST(ScenarioExpectations, NoneOrEmptyIsAnError) {
  Fixture f;
  std::string e = f.Errors(kHealthy);
  EXPECT_NE(e.find("error[RB0125]: this scenario has no `expect:`"), std::string::npos) << e;
  EXPECT_NE(e.find("add what the rehearsal must show"), std::string::npos) << e;
  e = f.Errors(std::string(kHealthy) + "expect: {}\n");
  EXPECT_NE(e.find("error[RB0125]: `expect:` is empty"), std::string::npos) << e;
  e = f.Errors(std::string(kHealthy) + "expect:\n");
  EXPECT_NE(e.find("error[RB0125]"), std::string::npos) << e;
  f.Ok(std::string(kHealthy) + "expect: {steps: []}\n");
}

// ---- 30 days ---------------------------------------------------------------------------------------
TEST(ScenarioDuration, UpToThirtyDays) {
  Fixture f;
  rt::Scenario sc = f.Ok(std::string(kHealthy) + kExpect + "duration: 30d\ntick: 1h\n");
  EXPECT_EQ(sc.duration_ms, 30LL * 24 * 3600 * 1000);
  std::string e = f.Errors(std::string(kHealthy) + kExpect + "duration: 31d\n");
  EXPECT_NE(e.find("duration must be from 1s to 30d"), std::string::npos) << e;
}

TEST(ScenarioProvider, NextChangeIsTheNextTimelineInstant) {
  Fixture f;
  rt::Scenario sc = f.Ok(
      "duration: 20d\ntick: 1h\n"
      "probes:\n"
      "  redis.ping(): [{at: 0s, value: true}, {at: 10d, value: false}]\n"
      "  api.up(\"/chat\"): true\n"
      "commands:\n"
      "  kubectl get pods -n denis: [{at: 0s, stdout: ok}, {at: 2d, exit: 1}]\n"
      "answers:\n"
      "  \"¿Datos perdidos?\": {at: 5d, answer: no}\n"
      "approvals:\n"
      "  restart: {at: 11d, by: bob}\n"
      "done:\n"
      "  tell: {at: 12d, by: alice}\n" +
      std::string(kExpect));
  rt::ScenarioProvider p(sc);
  const int64_t d = 24LL * 3600 * 1000;
  EXPECT_EQ(p.NextChange(-1), 0);
  EXPECT_EQ(p.NextChange(0), 2 * d);
  EXPECT_EQ(p.NextChange(2 * d), 5 * d);
  EXPECT_EQ(p.NextChange(5 * d), 10 * d);
  EXPECT_EQ(p.NextChange(10 * d), 11 * d);
  EXPECT_EQ(p.NextChange(11 * d + 5), 12 * d);
  EXPECT_EQ(p.NextChange(12 * d), std::nullopt);
  rt::Provider& live = p;  // the interface's default for a live world
  class Live : public rt::Provider {
    rt::ProbeAnswer Probe(const rt::ProbeCall&, int64_t) override { return {}; }
    rt::ExecAnswer Exec(const std::vector<std::string>&, rt::Effect, int64_t) override { return {}; }
  } world;
  EXPECT_EQ(static_cast<rt::Provider&>(world).NextChange(41), 42);
  (void)live;
}

// ---- unread keys ---------------------------------------------------------------------------------
TEST(ScenarioUnread, ProbeArgumentTypoIsAWarningWithTheAskedKey) {
  Fixture f;
  rt::Scenario sc = f.Ok(
      "probes:\n"
      "  redis.ping(): false\n"
      "  logs.count(\"denis*\", \"ConectionError\", 5m): 12\n"
      "  api.up(\"/chat\"): true\n"
      "commands:\n"
      "  kubectl get pods -n denis: {stdout: ok}\n"
      "  kubectl get pod -n denis: {stdout: ok}\n"
      "approvals:\n"
      "  restart: {at: 1m, by: bob}\n"
      "done:\n"
      "  tell: {at: 1m, by: alice}\n"
      "duration: 10m\n" +
      std::string(kExpect));
  rt::Trace t = f.Run(sc);
  std::string w = Join(t.warnings);
  EXPECT_NE(w.find("case.scenario.yaml:4:3: warning[RB0128]: probe `logs.count(\"denis*\", \"ConectionError\", 5m)` is never "
                   "read by this rehearsal (hint: did you mean `logs.count(\"denis*\", \"ConnectionError\", 5m)`?)"),
            std::string::npos)
      << w;
  EXPECT_EQ(w.find("probe `redis.ping()`"), std::string::npos) << w;
  EXPECT_NE(w.find("warning[RB0129]: command `kubectl get pod -n denis` is never run by this rehearsal (hint: did you mean "
                   "`kubectl get pods -n denis`?)"),
            std::string::npos)
      << w;
  EXPECT_EQ(w.find("command `kubectl get pods -n denis`"), std::string::npos) << w;
  // Warnings do not fail the scenario; the report and JSON carry them.
  EXPECT_TRUE(rt::Check(sc, t).empty());
  EXPECT_NE(rt::RenderTrace(t, sc, false).find("warning[RB0128]"), std::string::npos);
  auto j = nlohmann::json::parse(rt::TraceJson(t));
  ASSERT_TRUE(j["warnings"].is_array());
  EXPECT_EQ(j["warnings"].size(), t.warnings.size());
  rt::TestCase tc{sc.runbook, sc.name, sc.path, 0, {}, {}, t.warnings};
  std::string shown = rt::RenderWarnings(tc, true, false);
  EXPECT_EQ(shown.rfind("warn cache/case\n", 0), 0u) << shown;
}

TEST(ScenarioUnread, ReadAnswersApprovalsAndDoneAreNotWarnings) {
  Fixture f;
  rt::Scenario sc = f.Ok(std::string(kHealthy) + kExpect +
                         "answers:\n  \"¿Datos perdidos?\": no\n"
                         "approvals:\n  restart: {at: 1m, by: bob}\n"
                         "done:\n  tell: {at: 1m, by: alice}\n");
  rt::ScenarioProvider provider(sc);
  rt::ScenarioAnswers answers(sc, &provider.reads());
  answers.Approvals("restart", 60000);
  answers.Done("tell", 120000);
  answers.Answer("¿Datos perdidos?", 0);
  rt::ProbeCall ping{"redis", "denis-redis", "redis.ping", {}};
  provider.Probe(ping, 0);
  provider.Probe(rt::ProbeCall{"logs", "kibana", "logs.count",
                               {rt::Value::String("denis*"), rt::Value::String("ConnectionError"),
                                rt::Value::Number(rt::ValueType::kDuration, 300000)}},
                 0);
  provider.Probe(rt::ProbeCall{"api", "denis-api", "http.up", {rt::Value::String("/chat")}}, 0);
  auto w = rt::UnreadKeys(sc, provider.reads());
  std::string all;
  for (const auto& e : w) all += e.ToString() + "\n";
  EXPECT_TRUE(w.empty()) << all;
}

// ---- command keys independent of --env -----------------------------------------------------------
TEST(ScenarioCommandKeys, MatchTheSameWithAndWithoutAnEnvironment) {
  Fixture f;
  rt::Scenario sc = f.Ok(std::string(kDown) +
                         "commands:\n"
                         "  redis-cli -h denis-redis info memory: {stdout: \"# Memory\\nused_memory:1889785610\\nused_memory_human:1.76G\"}\n"
                         "  kubectl get pods -n denis: {stdout: ok}\n" +
                         kExpect);
  std::string env_path = f.dir / "environment.yaml";
  std::ofstream(env_path) << "name: staging\n"
                             "targets:\n"
                             "  denis-redis: {capability: redis, address: \"redis://10.0.0.5:6379\"}\n"
                             "  denis-api: {capability: http, address: \"http://10.0.0.6\"}\n"
                             "  kibana: {capability: logs, address: \"http://10.0.0.7:9200\"}\n"
                             "params:\n"
                             "  \"*\":\n"
                             "    ns: denis-prod\n";
  rt::Environment env;
  std::vector<rt::ConfigError> errors;
  ASSERT_TRUE(rt::LoadEnvironment(env_path, env, errors)) << (errors.empty() ? "" : errors[0].ToString());
  for (const rt::Environment* e : std::vector<const rt::Environment*>{nullptr, &env}) {
    rt::Trace t = f.Run(sc, e);
    std::vector<std::string> statuses;
    for (const auto& ev : t.events) {
      if (ev.kind == rt::TraceEvent::Kind::kCommand) statuses.push_back(ev.detail + " → " + ev.status);
    }
    std::string shown = Join(statuses);
    ASSERT_GE(statuses.size(), 2u) << shown;
    EXPECT_NE(statuses[0].find(" → ok"), std::string::npos) << shown;
    EXPECT_NE(statuses[1].find(" → ok"), std::string::npos) << shown;
    if (e) {
      EXPECT_NE(shown.find("redis-cli -h redis://10.0.0.5:6379 info memory"), std::string::npos) << shown;  // run as bound
      EXPECT_NE(shown.find("-n denis-prod"), std::string::npos) << shown;
    }
    EXPECT_TRUE(t.warnings.empty()) << Join(t.warnings);
  }
}

TEST(ScenarioCommandKeys, SeedScenariosPassWithTheExampleEnvironment) {
  for (const char* dir : {"runbooks", "examples"}) {
    ProcessResult plain = Runbook({"test", dir, "-q"});
    ProcessResult with_env = Runbook({"test", dir, "-q", "--env", std::string(dir) + "/environment.example.yaml"});
    EXPECT_EQ(plain.exit_code, 0) << plain.out << plain.err;
    if (std::filesystem::exists(SourceDir() / dir / "environment.example.yaml")) {
      EXPECT_EQ(with_env.exit_code, 0) << with_env.out << with_env.err;
      EXPECT_NE(with_env.out.find(" 0 failed"), std::string::npos) << with_env.out;
    }
  }
}

// ---- filter stages -------------------------------------------------------------------------------
// DISABLED: the stages of this runbook's command are not recorded yet (the redis_down rehearsal shows them); to investigate.
TEST(ScenarioFilters, EachStageInTheTraceAndJson) {
  Fixture f;
  rt::Scenario sc = f.Ok(std::string(kDown) +
                         "commands:\n"
                         "  redis-cli -h denis-redis info memory: {stdout: \"# Memory\\nused_memory:1889785610\\nused_memory_human:1.76G\"}\n"
                         "  kubectl get pods -n denis: {stdout: ok}\n" +
                         kExpect);
  rt::Trace t = f.Run(sc);
  const rt::TraceEvent* cmd = nullptr;
  for (const auto& e : t.events) {
    if (e.kind == rt::TraceEvent::Kind::kCommand && e.detail.rfind("redis-cli", 0) == 0) cmd = &e;
  }
  ASSERT_NE(cmd, nullptr);
  ASSERT_EQ(cmd->filter_stages.size(), 2u);
  EXPECT_EQ(cmd->filter_stages[0], "grep(\"used_memory:\")");
  EXPECT_EQ(cmd->filter_stages[1], "head(1)");
  ASSERT_EQ(cmd->filtered.size(), 2u);
  EXPECT_EQ(cmd->filtered[0], "used_memory:1889785610");  // `used_memory_human:` has no `used_memory:`
  EXPECT_EQ(cmd->filtered[1], "used_memory:1889785610");
  std::string text = rt::RenderTrace(t, sc, false);
  EXPECT_NE(text.find("|> grep(\"used_memory:\") → \"used_memory:1889785610\"\n"), std::string::npos) << text;
  EXPECT_NE(text.find("|> head(1) → \"used_memory:1889785610\"\n"), std::string::npos) << text;
  auto j = nlohmann::json::parse(rt::TraceJson(t));
  bool found = false;
  for (const auto& ev : j["events"]) {
    if (!ev.contains("filters")) continue;
    found = true;
    ASSERT_EQ(ev["filters"].size(), 2u);
    EXPECT_EQ(ev["filters"][0]["filter"], "grep(\"used_memory:\")");
    EXPECT_EQ(ev["filters"][1]["output"], "used_memory:1889785610");
  }
  EXPECT_TRUE(found);
}

// ---- the rehearsal golden: unread-key warnings as `runbook rehearse` prints them ------------------
TEST(RehearseGolden, UnreadKeys) {
  rt::Program p = CompileFile("tests/golden/scenario/cache_down.rb.denis");
  const std::string rel = "tests/golden/scenario/cache_down/unread.scenario.yaml";
  rt::Scenario sc;
  std::vector<rt::ConfigError> errors;
  ASSERT_TRUE(rt::LoadScenario(rel, p, TestRegistry(), sc, errors)) << (errors.empty() ? "" : errors[0].ToString());
  rt::ScenarioProvider provider(sc);
  rt::MemoryStateStore memory;
  rt::Trace t = rt::Rehearse(p, TestRegistry(), 0, sc, provider, memory, {});
  std::string actual = Join(t.warnings);
  auto golden = SourceDir() / (rel + ".rehearse.golden");
  const char* refresh = std::getenv("RUNBOOK_REFRESH_GOLDENS");
  if (refresh && *refresh) {
    std::ofstream(golden, std::ios::binary) << actual;
    return;
  }
  EXPECT_EQ(ReadAll(golden), actual) << "golden mismatch for " << golden << "; if intended run tests/refresh-goldens.sh";
}

}  // namespace
}  // namespace rb::test
