// `runbook plan`, `rehearse` and `test` end to end through the real binary: exit codes, the
// timeline, JSON, JUnit XML, coverage, and errors that name the file and position.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/process.hpp"
#include "tests/test_util.hpp"

namespace rb::test {
namespace {

bool Has(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

// A copy of redis_down and the policy in a scratch directory, with one scenario of our own.
struct Workdir {
  ScratchDir dir;
  explicit Workdir(const std::string& name) : dir(name) {
    namespace fs = std::filesystem;
    fs::create_directories(dir.path() / "policy");
    fs::create_directories(dir.path() / "redis_down");
    fs::copy_file(SourceDir() / "runbooks/redis_down.rb.denis", dir.path() / "redis_down.rb.denis");
    fs::copy_file(SourceDir() / "runbooks/policy/escalation.rb.denis", dir.path() / "policy/escalation.rb.denis");
  }
  std::string Scenario(const std::string& name, const std::string& expect) {
    std::string path = dir / ("redis_down/" + name + ".scenario.yaml");
    std::ofstream(path) << R"(description: PING fails at 1m and is back at 2m
duration: 8m
probes:
  redis.ping(): [{at: 0s, value: true}, {at: 1m, value: false}, {at: 2m, value: true}]
  api.metric("rate_limit_fallback"): 0
  celery.broker_down(): false
  logs.count("denis*", "ConnectionError", 5m): 0
  redis.memory_used(): 40%
  redis.connection_errors(): 0
  redis.cpu(): 10%
  api.up("/chat"): true
  api.ratio("http_error_rate"): 1%
commands:
  redis-cli ping: [{at: 0s, stdout: "PONG"}, {at: 1m, exit: 1, stderr: "Connection refused"}, {at: 2m, stdout: "PONG"}]
  redis-cli info clients: {stdout: "connected_clients:12"}
  redis-cli info memory: {stdout: "used_memory:1048576"}
  curl http://localhost:8084/metrics: {stdout: "rate_limit_fallback 0"}
answers:
  "¿Datos perdidos?": no
  "¿Data loss?": no
  "¿Security breach?": no
  "¿Múltiples componentes caídos?": no
  "¿Sin rollback disponible?": no
)" << expect;
    return path;
  }
};

constexpr const char* kGoodExpect = R"(expect:
  symptoms: [{at: 1m, hold: [ping_error]}, {at: 2m, clear: [ping_error]}]
  steps:
    - {step: state, at: 1m, run: ["redis-cli ping", "redis-cli info clients"], status: failed}
    - {step: memory, status: ok}
    - {step: restart, run: ["kubectl rollout restart statefulset/redis -n denis"], status: ok}
    - {step: reconnect, status: ok}
    - {step: rate_limit, status: ok}
  escalations: []
  pages: []
)";

TEST(CliCapabilities, ListsEverySlotWithEffectAndDryBehaviour) {
  ProcessResult r = Runbook({"capabilities"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  // The natives, with effect, dry-run behaviour and live implementation.
  EXPECT_TRUE(Has(r.out, "prom(string) -> num                              read                         answered     yes")) << r.out;
  EXPECT_TRUE(Has(r.out, "notify(string, string) -> bool                   write                        recorded     no: a write: pages are sent by live runs, not by reads")) << r.out;
  EXPECT_TRUE(Has(r.out, "redis(string) -> lines                           the command's (redis-cli)    per command  yes")) << r.out;
  EXPECT_FALSE(Has(r.out, "grep(")) << r.out;  // filters are pure and built in, not natives with slots
  // The methods, each with the natives (and filters) its body calls.
  // Whether each is read live: a read over live natives is; a write is not, in a read.
  EXPECT_TRUE(Has(r.out, "redis.ping() -> bool                                 read         redis                                    yes")) << r.out;
  EXPECT_TRUE(Has(r.out, "redis.flushall() -> bool                             destructive  redis                                    no: a destructive, not a read")) << r.out;
  EXPECT_TRUE(Has(r.out, "redis.used_memory() -> size                          read         bytes, redis_info, number")) << r.out;
  EXPECT_TRUE(Has(r.out, "61 capability methods")) << r.out;
}

TEST(CliPlan, ShowsEveryStepWithBoundCommandsAndEffects) {
  ProcessResult r = Runbook({"plan", "runbooks/redis_down.rb.denis", "--color", "never"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(Has(r.out, "$ kubectl rollout restart statefulset/redis -n denis  write (kubectl rollout restart)")) << r.out;
  EXPECT_TRUE(Has(r.out, "only when ping_error\n")) << r.out;
  EXPECT_TRUE(Has(r.out, "ns       = \"denis\"  (default)")) << r.out;
  EXPECT_TRUE(Has(r.out, "| ping_error for > 5m | page sre (SRE Lead @sre-lead) |")) << r.out;
  EXPECT_TRUE(Has(r.out, "(policy escalation)")) << r.out;
}

TEST(CliPlan, EnvironmentBindsParamsAndTargets) {
  ScratchDir dir("cli-plan-env");
  std::string env = dir / "env.yaml";
  std::ofstream(env) << "targets:\n  redis: {capability: redis, address: \"redis://127.1.2.3:6379\"}\n"
                        "params:\n  redis_down: {ns: denis-prod}\nexec:\n  allow: [redis-cli]\n";
  ProcessResult r = Runbook({"plan", "runbooks/redis_down.rb.denis", "--env", env, "--color", "never"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(Has(r.out, "$ kubectl rollout restart statefulset/redis -n denis-prod")) << r.out;
  EXPECT_TRUE(Has(r.out, "→ redis://127.1.2.3:6379")) << r.out;
  EXPECT_TRUE(Has(r.out, "(environment)")) << r.out;
  EXPECT_TRUE(Has(r.out, "-n denis-prod  write (kubectl rollout restart)  NOT in exec.allow")) << r.out;
  EXPECT_FALSE(Has(r.out, "$ redis-cli ping  read (redis-cli ping)  NOT")) << r.out;
}

TEST(CliPlan, BadEnvironmentAndUnknownRunbookAreErrors) {
  ScratchDir dir("cli-plan-bad");
  std::string env = dir / "env.yaml";
  std::ofstream(env) << "targets:\n  redis: [not, a, map]\n";
  ProcessResult r = Runbook({"plan", "runbooks/redis_down.rb.denis", "--env", env});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_TRUE(Has(r.err, env + ":2:")) << r.err;
  ProcessResult u = Runbook({"plan", "runbooks/redis_down.rb.denis", "--runbook", "redis_up"});
  EXPECT_EQ(u.exit_code, 2);
  EXPECT_TRUE(Has(u.err, "no runbook `redis_up`")) << u.err;
  EXPECT_TRUE(Has(u.err, "redis_down")) << u.err;
}

TEST(CliRehearse, TimelineFromSourceAndFromBytecodeAgree) {
  Workdir w("cli-rehearse");
  std::string sc = w.Scenario("blip", kGoodExpect);
  ProcessResult r = Runbook({"rehearse", w.dir / "redis_down.rb.denis", "--scenario", sc, "--color", "never"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(Has(r.out, "1m      symptom ping_error holds")) << r.out;
  EXPECT_TRUE(Has(r.out, "$ kubectl rollout restart statefulset/redis -n denis  write → would run: ok")) << r.out;
  EXPECT_TRUE(Has(r.out, "expectations: all met")) << r.out;
  EXPECT_FALSE(Has(r.out, "\x1b["));

  std::string rbc = w.dir / "all.rbc";
  ASSERT_EQ(Runbook({"compile", w.dir / "redis_down.rb.denis", "-o", rbc}).exit_code, 0);
  ProcessResult b = Runbook({"rehearse", rbc, "--scenario", sc, "--color", "never"});
  EXPECT_EQ(b.exit_code, 0) << b.out << b.err;
  EXPECT_EQ(b.out, r.out);
  ProcessResult c = Runbook({"rehearse", rbc, "--scenario", sc, "--color", "always"});
  EXPECT_TRUE(Has(c.out, "\x1b["));
}

TEST(CliRehearse, JsonHasTheWholeTrace) {
  Workdir w("cli-rehearse-json");
  std::string sc = w.Scenario("blip", kGoodExpect);
  ProcessResult r = Runbook({"rehearse", w.dir / "redis_down.rb.denis", "--scenario", sc, "--format", "json"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["runbook"], "redis_down");
  EXPECT_EQ(j["scenario"], "blip");
  ASSERT_EQ(j["steps"].size(), 5u);
  EXPECT_EQ(j["steps"][2]["run"][0], "kubectl rollout restart statefulset/redis -n denis");
  EXPECT_EQ(j["severity"], "P2");
  EXPECT_TRUE(j["pending"]["asks"].empty());
  EXPECT_EQ(j["expectations"]["met"], true);
  EXPECT_TRUE(j["expectations"]["mismatches"].empty());
}

TEST(CliRehearse, AScenarioErrorNamesFileLineAndColumn) {
  Workdir w("cli-rehearse-bad");
  std::string sc = w.dir / "redis_down/bad.scenario.yaml";
  std::ofstream(sc) << "duration: 5m\nprobes:\n  redis.pong(): true\n";
  ProcessResult r = Runbook({"rehearse", w.dir / "redis_down.rb.denis", "--scenario", sc});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  // The lint report: code, the YAML line with a caret under the key, and the hint.
  EXPECT_TRUE(Has(r.err, sc + ":3:3: error[RB0117]:")) << r.err;
  EXPECT_TRUE(Has(r.err, "pong")) << r.err;
  EXPECT_TRUE(Has(r.err, "    3 |   redis.pong(): true\n      |   ^~~~~~~~~~~~\n      = hint: did you mean `ping`?")) << r.err;
}

TEST(CliRehearse, MissingScenarioAndUnknownParamAreUsageErrors) {
  Workdir w("cli-rehearse-usage");
  std::string sc = w.Scenario("blip", kGoodExpect);
  ProcessResult m = Runbook({"rehearse", w.dir / "redis_down.rb.denis", "--scenario", w.dir / "nope.scenario.yaml"});
  EXPECT_EQ(m.exit_code, 2) << m.err;
  EXPECT_TRUE(Has(m.err, "nope.scenario.yaml")) << m.err;
  ProcessResult p = Runbook({"rehearse", w.dir / "redis_down.rb.denis", "--scenario", sc, "--param", "nss=x"});
  EXPECT_EQ(p.exit_code, 2) << p.err;
  EXPECT_TRUE(Has(p.err, "--param nss: redis_down has no such param")) << p.err;
  ProcessResult ok = Runbook({"rehearse", w.dir / "redis_down.rb.denis", "--scenario", sc, "--param", "ns=denis-prod"});
  EXPECT_EQ(ok.exit_code, 1) << ok.out;  // the expected restart command named -n denis
  EXPECT_TRUE(Has(ok.out, "kubectl rollout restart statefulset/redis -n denis-prod")) << ok.out;
}

TEST(CliTest, FailingExpectationsShowADiffExitOneAndGoToJUnit) {
  Workdir w("cli-test-fail");
  w.Scenario("blip", kGoodExpect);
  w.Scenario("wrong", "expect:\n  pages: [{contact: sre, at: 6m15s}]\n  severity: P1\n");
  std::string junit = w.dir / "out/junit.xml";
  std::filesystem::create_directories(w.dir.path() / "out");
  ProcessResult r = Runbook({"test", w.dir.path().string(), "--junit", junit, "--color", "never"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(Has(r.out, "ok   redis_down/blip")) << r.out;
  EXPECT_TRUE(Has(r.out, "FAIL redis_down/wrong")) << r.out;
  EXPECT_TRUE(Has(r.out, "wrong.scenario.yaml:")) << r.out;
  EXPECT_TRUE(Has(r.out, "pages sent, in order\n    - expected: sre at 6m15s\n    + actual:   (none)")) << r.out;
  EXPECT_TRUE(Has(r.out, "- expected: P1\n    + actual:   P2")) << r.out;
  EXPECT_TRUE(Has(r.out, "1 passed, 1 failed")) << r.out;
  std::string xml = ReadAll(junit);
  EXPECT_TRUE(Has(xml, "<testsuites name=\"runbook test\" tests=\"2\" failures=\"1\"")) << xml;
  EXPECT_TRUE(Has(xml, "classname=\"redis_down\" name=\"wrong\"")) << xml;
  EXPECT_TRUE(Has(xml, "<failure message=")) << xml;
}

TEST(CliTest, UnloadableScenarioFailsAndNothingToTestIsAnError) {
  Workdir w("cli-test-load");
  std::ofstream(w.dir / "redis_down/typo.scenario.yaml") << "duration: 5 minutes\n";
  ProcessResult r = Runbook({"test", w.dir.path().string(), "--color", "never"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(Has(r.out, "typo.scenario.yaml:1:11: error[RB0108]:")) << r.out;
  EXPECT_TRUE(Has(r.out, "      1 | duration: 5 minutes\n")) << r.out;
  EXPECT_TRUE(Has(r.out, "0 passed, 1 failed")) << r.out;
  ScratchDir empty("cli-test-empty");
  ProcessResult e = Runbook({"test", empty.path().string()});
  EXPECT_EQ(e.exit_code, 2);
  EXPECT_TRUE(Has(e.err, "no *.scenario.yaml")) << e.err;
  ProcessResult m = Runbook({"test", "no/such/dir"});
  EXPECT_EQ(m.exit_code, 2);
  EXPECT_TRUE(Has(m.err, "no/such/dir")) << m.err;
}

TEST(CliTest, SeedScenariosPassAndCoverEveryEscalationRow) {
  std::string junit = (TempDir() / "seed-junit.xml").string();
  std::filesystem::create_directories(TempDir());
  ProcessResult r = Runbook({"test", "runbooks", "--coverage", "-q", "--junit", junit, "--color", "never"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(Has(r.out, " passed, 0 failed")) << r.out;
  EXPECT_TRUE(Has(r.out, "coverage: ")) << r.out;
  EXPECT_FALSE(Has(r.out, "never fired")) << r.out;  // every row of every runbook and of the policy fires somewhere
  EXPECT_TRUE(Has(ReadAll(junit), "failures=\"0\"")) << ReadAll(junit);
  // At least three scenarios for each of the eight runbooks.
  for (const char* rb : {"redis_down", "workers_hung", "graph_slow", "queue_growing", "mutations_blocked",
                         "telemetry_inconsistent", "chat_timeout", "websocket_disconnects"}) {
    size_t n = 0;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(SourceDir() / "runbooks" / rb, ec)) {
      n += e.path().string().find(".scenario.yaml") != std::string::npos;
    }
    EXPECT_GE(n, 3u) << rb;
  }
}

}  // namespace
}  // namespace rb::test
