// The YAML loaders: literals with units, the environment file and scenario files, each error with its
// file:line:col, and hostile input (syntax errors, binary bytes, deep nesting, huge files).
#include <gtest/gtest.h>

#include <fstream>

#include "runtime/config.hpp"
#include "runtime/executor.hpp"
#include "tests/compile_util.hpp"

namespace rb::test {
namespace {

using rt::ConfigError;
using rt::ValueType;

std::string Render(const std::vector<ConfigError>& errors) {
  std::string s;
  for (const auto& e : errors) s += e.ToString() + "\n";
  return s;
}

// Asserts that some error sits at line:col, its message contains `phrase` and its hint `hint`.
::testing::AssertionResult HasError(const std::vector<ConfigError>& errors, int line, int col, const std::string& phrase,
                                    const std::string& hint = {}) {
  for (const auto& e : errors) {
    if (e.mark.line == line && e.mark.col == col && e.message.find(phrase) != std::string::npos &&
        e.hint.find(hint) != std::string::npos)
      return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "no error at " << line << ":" << col << " containing \"" << phrase
                                       << "\"; errors:\n"
                                       << Render(errors);
}

// ---- Literals ------------------------------------------------------------------------------------
std::string Lit(const std::string& text, ValueType t) {
  std::string err;
  auto v = rt::ParseLiteral(text, t, err);
  return v ? rt::ToString(*v) : "error: " + err;
}

double Num(const std::string& text, ValueType t) {
  std::string err;
  auto v = rt::ParseLiteral(text, t, err);
  EXPECT_TRUE(v.has_value()) << err;
  EXPECT_EQ(v ? v->type : ValueType::kUnknown, t);
  return v ? v->number : -1;
}

TEST(ConfigLiteral, Durations) {
  EXPECT_EQ(Num("500ms", ValueType::kDuration), 500);
  EXPECT_EQ(Num("10s", ValueType::kDuration), 10000);
  EXPECT_EQ(Num("5m", ValueType::kDuration), 300000);
  EXPECT_EQ(Num("2h", ValueType::kDuration), 7200000);
  EXPECT_EQ(Num("1d", ValueType::kDuration), 86400000);
  EXPECT_EQ(Num("1h30m", ValueType::kDuration), 5400000);
  EXPECT_EQ(Num("0.5s", ValueType::kDuration), 500);
  EXPECT_EQ(Num("0", ValueType::kDuration), 0);
  EXPECT_EQ(Lit("5 minutes", ValueType::kDuration), "error: expected a duration such as 5m or 90s, got \"5 minutes\"");
  EXPECT_EQ(Lit("90", ValueType::kDuration), "error: expected a duration such as 5m or 90s, got \"90\"");
}

TEST(ConfigLiteral, DurationMs) {
  EXPECT_EQ(rt::ParseDurationMs("90s"), 90000);
  EXPECT_EQ(rt::ParseDurationMs("0s"), 0);
  EXPECT_EQ(rt::ParseDurationMs("0"), 0);
  EXPECT_EQ(rt::ParseDurationMs("1h30m"), 5400000);
  EXPECT_EQ(rt::ParseDurationMs("1m30s500ms"), 90500);
  EXPECT_EQ(rt::ParseDurationMs(" 2m "), 120000);
  EXPECT_FALSE(rt::ParseDurationMs(""));
  EXPECT_FALSE(rt::ParseDurationMs("5"));
  EXPECT_FALSE(rt::ParseDurationMs("-5m"));
  EXPECT_FALSE(rt::ParseDurationMs("5 m"));
  EXPECT_FALSE(rt::ParseDurationMs("30m1h"));  // units from large to small
  EXPECT_FALSE(rt::ParseDurationMs("1m1m"));
  EXPECT_FALSE(rt::ParseDurationMs("5min"));
  EXPECT_FALSE(rt::ParseDurationMs("5."));
  EXPECT_FALSE(rt::ParseDurationMs("99999999999999999999d"));  // beyond exact range
}

TEST(ConfigLiteral, PercentSizeNumBool) {
  EXPECT_EQ(Num("80%", ValueType::kPercent), 80);
  EXPECT_EQ(Num("12.5%", ValueType::kPercent), 12.5);
  EXPECT_EQ(Lit("0.85", ValueType::kPercent), "error: expected a percent such as 80%, got \"0.85\"");
  EXPECT_EQ(Num("512B", ValueType::kSize), 512);
  EXPECT_EQ(Num("2KB", ValueType::kSize), 2048);
  EXPECT_EQ(Num("1MB", ValueType::kSize), 1048576);
  EXPECT_EQ(Num("1GB", ValueType::kSize), 1073741824);
  EXPECT_EQ(Num("1TB", ValueType::kSize), 1099511627776.0);
  EXPECT_EQ(Num("1.5GB", ValueType::kSize), 1610612736);
  EXPECT_NE(Lit("1gb", ValueType::kSize).find("expected a size such as 512MB"), std::string::npos);
  EXPECT_NE(Lit("1024", ValueType::kSize).find("expected a size"), std::string::npos);
  EXPECT_EQ(Num("12", ValueType::kNum), 12);
  EXPECT_EQ(Num("-3.25", ValueType::kNum), -3.25);
  EXPECT_EQ(Lit("1e5", ValueType::kNum), "error: expected a number such as 12 or 0.5, got \"1e5\"");
  EXPECT_EQ(Lit("5m", ValueType::kNum), "error: expected a number such as 12 or 0.5, got \"5m\"");
  EXPECT_EQ(Lit("true", ValueType::kBool), "true");
  EXPECT_EQ(Lit("yes", ValueType::kBool), "true");
  EXPECT_EQ(Lit("False", ValueType::kBool), "false");
  EXPECT_EQ(Lit("no", ValueType::kBool), "false");
  EXPECT_EQ(Lit("maybe", ValueType::kBool), "error: expected true or false, got \"maybe\"");
}

TEST(ConfigLiteral, StringsAndLines) {
  EXPECT_EQ(Lit(" spaced ", ValueType::kString), " spaced ");
  std::string err;
  auto lines = rt::ParseLiteral("a\n\nb\n", ValueType::kLines, err);
  ASSERT_TRUE(lines);
  ASSERT_EQ(lines->type, ValueType::kLines);
  EXPECT_EQ(lines->heap->lines, (std::vector<std::string>{"a", "", "b"}));
  auto none = rt::ParseLiteral("", ValueType::kLines, err);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->heap->lines.empty());
  EXPECT_FALSE(rt::ParseLiteral("x", ValueType::kSecret, err));
  EXPECT_NE(err.find("cannot be written"), std::string::npos);
  // Messages quote what was written, escaped and cut.
  EXPECT_EQ(Lit("a\"b\n", ValueType::kBool), "error: expected true or false, got \"a\\\"b\\n\"");
  EXPECT_NE(Lit(std::string(500, 'x'), ValueType::kNum).find("x...\""), std::string::npos);
}

TEST(ConfigLiteral, ErrorToString) {
  ConfigError e{"env.yaml", {3, 7}, "bad"};
  EXPECT_EQ(e.ToString(), "env.yaml:3:7: error[RB0160]: bad");
  e.mark = {};
  EXPECT_EQ(e.ToString(), "env.yaml: error[RB0160]: bad");
  ConfigError s{"x.scenario.yaml", {2, 1}, "no step `restar`", rt::ConfigKind::kScenarioUnknownName, "did you mean `restart`?"};
  EXPECT_EQ(s.ToString(), "x.scenario.yaml:2:1: error[RB0123]: no step `restar` (hint: did you mean `restart`?)");
}

// ---- The environment file ------------------------------------------------------------------------
struct EnvResult {
  bool ok = false;
  rt::Environment env;
  std::vector<ConfigError> errors;
};

EnvResult LoadEnv(const std::string& text, const std::string& name = "env.yaml") {
  EnvResult r;
  r.ok = rt::LoadEnvironment(WriteTemp(name, text), r.env, r.errors);
  return r;
}

TEST(ConfigEnvironment, ExampleFileLoads) {
  std::filesystem::current_path(SourceDir());
  rt::Environment env;
  std::vector<ConfigError> errors;
  ASSERT_TRUE(rt::LoadEnvironment("runbooks/environment.example.yaml", env, errors)) << Render(errors);
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(env.name, "staging");
  ASSERT_TRUE(env.targets.count("redis"));
  EXPECT_EQ(env.targets["redis"].capability, "redis");
  EXPECT_EQ(env.targets["redis"].address, "redis://127.0.0.1:6379");
  EXPECT_GT(env.targets["redis"].mark.line, 0);
  EXPECT_EQ(env.params["*"]["ns"].text, "denis");
  ASSERT_TRUE(env.contacts.count("sre"));
  ASSERT_EQ(env.contacts["sre"].channels.size(), 2u);
  EXPECT_EQ(env.contacts["sre"].channels[0].kind, "slack");  // file order
  EXPECT_EQ(env.contacts["sre"].channels[0].address, "#sre-oncall");
  EXPECT_EQ(env.contacts["sre"].channels[1].kind, "pager");
  EXPECT_TRUE(env.exec_allow_given);
  EXPECT_NE(std::find(env.exec_allow.begin(), env.exec_allow.end(), "kubectl"), env.exec_allow.end());
  EXPECT_EQ(env.secrets["NEO4J_PASSWORD"].source, "env:NEO4J_PASSWORD");
  EXPECT_EQ(env.state.store, "file");
  EXPECT_EQ(env.state.path, ".runbook/state.json");
}

// Every binding the runbooks use has a target in the example environment, with the right capability.
TEST(ConfigEnvironment, ExampleBindsEveryRunbookTarget) {
  std::filesystem::current_path(SourceDir());
  rt::Environment env;
  std::vector<ConfigError> errors;
  ASSERT_TRUE(rt::LoadEnvironment("runbooks/environment.example.yaml", env, errors)) << Render(errors);
  size_t checked = 0;
  for (const auto& entry : std::filesystem::directory_iterator(SourceDir() / "runbooks")) {
    if (entry.path().extension() != ".denis") continue;
    rt::Program p = CompileFile("runbooks/" + entry.path().filename().string());
    auto check = [&](const rt::Target& t) {
      const std::string& binding = p.Str(t.binding);
      ASSERT_TRUE(env.targets.count(binding)) << binding << " in " << entry.path();
      EXPECT_EQ(env.targets[binding].capability, p.Str(t.capability)) << binding;
      ++checked;
    };
    for (const auto& rb : p.runbooks) {
      for (const auto& t : rb.targets) check(t);
    }
    if (p.policy) {
      for (const auto& t : p.policy->targets) check(t);
    }
  }
  EXPECT_GE(checked, 8u);
}

TEST(ConfigEnvironment, SecretFileSourceAndMemoryState) {
  auto r = LoadEnv("secrets:\n  PASS: {file: /run/secrets/pass}\nstate: {store: memory}\nexec: {allow: }\n");
  ASSERT_TRUE(r.ok) << Render(r.errors);
  EXPECT_EQ(r.env.secrets["PASS"].source, "file:/run/secrets/pass");
  EXPECT_EQ(r.env.state.store, "memory");
  EXPECT_TRUE(r.env.exec_allow_given);
  EXPECT_TRUE(r.env.exec_allow.empty());
  auto none = LoadEnv("name: prod\n");
  ASSERT_TRUE(none.ok);
  EXPECT_FALSE(none.env.exec_allow_given);
}

TEST(ConfigEnvironment, UnknownTopLevelKey) {
  auto r = LoadEnv("name: staging\ntargetz:\n  redis: {address: x}\n");
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(HasError(r.errors, 2, 1, "unknown key `targetz` in the environment file", "did you mean `targets`?"));
  EXPECT_TRUE(HasError(r.errors, 2, 1, "unknown key", "allowed: name, targets, params, contacts, exec, secrets, state"));
}

TEST(ConfigEnvironment, UnknownKeyInTargetSecretState) {
  auto r = LoadEnv(
      "targets:\n"
      "  redis: {capability: redis, adress: \"redis://x\"}\n"
      "secrets:\n"
      "  PASS: {env: PASS, vault: x}\n"
      "state:\n"
      "  store: file\n"
      "  dir: /tmp\n");
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(HasError(r.errors, 2, 30, "unknown key `adress` in target `redis`", "did you mean `address`?"));
  EXPECT_TRUE(HasError(r.errors, 2, 3, "target `redis` has no address"));
  EXPECT_TRUE(HasError(r.errors, 4, 21, "unknown key `vault` in secret `PASS`", "allowed: env, file"));
  EXPECT_TRUE(HasError(r.errors, 7, 3, "unknown key `dir` in state", "allowed: store, path"));
}

TEST(ConfigEnvironment, ScalarsAndMapsInTheWrongPlace) {
  auto r = LoadEnv(
      "name: [a, b]\n"
      "targets:\n"
      "  redis: \"redis://127.0.0.1:6379\"\n"
      "contacts: sre\n"
      "exec:\n"
      "  allow: kubectl\n"
      "params:\n"
      "  \"*\": {ns: {a: b}, nodes: []}\n");
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(HasError(r.errors, 1, 7, "name must be a single value, got a list"));
  EXPECT_TRUE(HasError(r.errors, 3, 10, "target `redis` must be a mapping"));
  EXPECT_TRUE(HasError(r.errors, 4, 11, "contacts must be a mapping"));
  EXPECT_TRUE(HasError(r.errors, 6, 10, "exec.allow must be a list such as [redis-cli, kubectl, curl]"));
  EXPECT_TRUE(HasError(r.errors, 8, 13, "param `ns` must be a single value, got a mapping"));
  // A list is a fleet (one run per value); an empty one is an error.
  EXPECT_TRUE(HasError(r.errors, 8, 28, "param `nodes` is an empty list"));
}

TEST(ConfigEnvironment, SecretNeedsExactlyOneSourceAndStateStoreIsChecked) {
  auto r = LoadEnv("secrets:\n  PASS: {env: PASS, file: /x}\n  OTHER: {}\nstate: {store: redis}\n");
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(HasError(r.errors, 2, 9, "secret `PASS` needs exactly one source"));
  EXPECT_TRUE(HasError(r.errors, 3, 10, "secret `OTHER` needs exactly one source"));
  EXPECT_TRUE(HasError(r.errors, 4, 8, "state.store redis needs state.address"));
}

TEST(ConfigEnvironment, DuplicateKey) {
  auto r = LoadEnv("targets:\n  redis: {address: a}\n  redis: {address: b}\n");
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(HasError(r.errors, 3, 3, "`redis` appears twice in targets"));
}

TEST(ConfigEnvironment, MissingFile) {
  rt::Environment env;
  std::vector<ConfigError> errors;
  EXPECT_FALSE(rt::LoadEnvironment((TempDir() / "no-such-env.yaml").string(), env, errors));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].mark.line, 0);
  EXPECT_EQ(errors[0].message, "cannot read: No such file or directory");
  EXPECT_EQ(errors[0].ToString(), (TempDir() / "no-such-env.yaml").string() + ": error: cannot read: No such file or directory");
}

TEST(ConfigEnvironment, SyntaxErrorEmptyAndNonMapping) {
  auto syntax = LoadEnv("name: staging\ntargets:\n  redis: {address: \"x\"\n");
  EXPECT_FALSE(syntax.ok);
  ASSERT_EQ(syntax.errors.size(), 1u) << Render(syntax.errors);
  EXPECT_GT(syntax.errors[0].mark.line, 0);
  EXPECT_NE(syntax.errors[0].message.find("invalid YAML"), std::string::npos);
  auto empty = LoadEnv("# nothing here\n");
  EXPECT_FALSE(empty.ok);
  EXPECT_TRUE(HasError(empty.errors, 1, 1, "the environment file is empty"));
  auto list = LoadEnv("- a\n- b\n");
  EXPECT_FALSE(list.ok);
  EXPECT_TRUE(HasError(list.errors, 1, 1, "an environment file is a mapping"));
}

TEST(ConfigEnvironment, RefusesHugeFiles) {
  std::string text = "name: x\n# " + std::string(5 << 20, 'x') + "\n";
  auto r = LoadEnv(text);
  EXPECT_FALSE(r.ok);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].message.find("larger than 4 MiB"), std::string::npos);
}

// ---- Scenario files ------------------------------------------------------------------------------
const rt::Program& RedisDown() {
  static const rt::Program p = CompileFile("runbooks/redis_down.rb.denis");
  return p;
}

struct ScenarioResult {
  bool ok = false;
  rt::Scenario s;
  std::vector<ConfigError> errors;
};

// Writes the scenario under a directory named after the runbook, as `runbook test` lays them out.
ScenarioResult LoadScen(const std::string& text, const std::string& dir = "redis_down",
                        const std::string& name = "s.scenario.yaml") {
  auto d = TempDir() / "scenarios" / dir;
  std::filesystem::create_directories(d);
  std::string path = (d / name).string();
  // A scenario must expect something (RB0125): one that checks nothing is added where a test gives none.
  bool has_expect = text.rfind("expect:", 0) == 0 || text.find("\nexpect:") != std::string::npos;
  std::ofstream(path, std::ios::binary) << text << (has_expect || text.find(':') == std::string::npos ? "" : "\nexpect: {pending: {}}\n");
  ScenarioResult r;
  r.ok = rt::LoadScenario(path, RedisDown(), TestRegistry(), r.s, r.errors);
  return r;
}

const char* kFullScenario = R"(runbook: redis_down
description: Redis stops answering at 1m and comes back after the restart
duration: 15m
tick: 15s
probes:
  redis.ping(): [{at: 0s, value: true}, {at: 1m, value: false}, {at: 4m, value: true}]
  redis.memory_used(): 42%
  api.metric("rate_limit_fallback"):
    - {at: 0s, value: 0}
    - {at: 1m, value: 3}
    - {at: 4m, timeout: true}
    - {at: 5m, error: "connection refused"}
    - {at: 6m, unknown: true}
  logs.count("denis*", "ConnectionError", 5m): [{at: 0s, value: 0}, {at: 1m, value: 12}]
  celery.broker_down(): {value: false}
  api.up("/chat"): true
commands:
  redis-cli ping:
    - {at: 0s, stdout: "PONG"}
    - {at: 1m, exit: 1, stderr: "Could not connect to Redis at redis:6379: Connection refused"}
    - {at: 3m, stdout: "PONG"}
  kubectl rollout restart statefulset/redis -n denis: {stdout: "statefulset.apps/redis restarted"}
  curl "http://localhost:8084/metrics": {timeout: true}
answers:
  "¿Datos perdidos?": no
  "¿Data loss?": {at: 2m, answer: yes}
expect:
  symptoms:
    - {at: 0s, clear: [ping_error, rate_fallback]}
    - {at: 2m, hold: [ping_error], unknown: [conn_error]}
  steps:
    - step: state
      at: 1m
      run: ["redis-cli ping", "redis-cli info clients"]
      status: ok
    - {step: restart, run: ["kubectl rollout restart statefulset/redis -n denis"]}
  skipped: []
  escalations:
    - {row: "ping_error   for > 5m", at: 6m}
  pages:
    - {contact: sre, at: 6m}
  severity: P1
  pending:
    rows: ['ask "¿Sin rollback disponible?"']
    steps: []
    asks: ["¿Sin rollback disponible?"]
)";

TEST(ConfigScenario, FullExampleLoads) {
  auto r = LoadScen(kFullScenario, "anywhere", "outage.scenario.yaml");
  ASSERT_TRUE(r.ok) << Render(r.errors);
  const rt::Scenario& s = r.s;
  EXPECT_EQ(s.name, "outage");
  EXPECT_EQ(s.runbook, "redis_down");
  EXPECT_EQ(s.runbook_mark.line, 1);
  EXPECT_EQ(s.description, "Redis stops answering at 1m and comes back after the restart");
  EXPECT_EQ(s.duration_ms, 15 * 60000);
  EXPECT_EQ(s.tick_ms, 15000);
  ASSERT_EQ(s.probes.size(), 6u);

  const rt::ProbeSeries& ping = s.probes[0];
  EXPECT_EQ(ping.key, "redis.ping()");
  EXPECT_EQ(ping.target, "redis");
  EXPECT_EQ(ping.binding, "redis");
  EXPECT_EQ(ping.method, "redis.ping");
  ASSERT_EQ(ping.points.size(), 3u);
  EXPECT_EQ(ping.points[1].at_ms, 60000);
  EXPECT_EQ(rt::ToString(ping.points[1].value), "false");
  EXPECT_EQ(ping.mark.line, 6);
  EXPECT_EQ(ping.mark.col, 3);

  const rt::ProbeSeries& mem = s.probes[1];
  ASSERT_EQ(mem.points.size(), 1u);
  EXPECT_EQ(mem.points[0].at_ms, 0);
  EXPECT_EQ(mem.points[0].value.type, ValueType::kPercent);
  EXPECT_EQ(mem.points[0].value.number, 42);

  const rt::ProbeSeries& rate = s.probes[2];
  EXPECT_EQ(rate.binding, "denis-api");
  EXPECT_EQ(rate.method, "http.metric");
  ASSERT_EQ(rate.args.size(), 1u);
  EXPECT_EQ(rate.args[0].Text(), "rate_limit_fallback");
  ASSERT_EQ(rate.points.size(), 5u);
  EXPECT_EQ(rate.points[2].kind, rt::ProbePoint::Kind::kTimeout);
  EXPECT_EQ(rate.points[2].reason, "timeout");
  EXPECT_EQ(rate.points[3].kind, rt::ProbePoint::Kind::kError);
  EXPECT_EQ(rate.points[3].reason, "connection refused");
  EXPECT_EQ(rate.points[4].kind, rt::ProbePoint::Kind::kUnknown);
  EXPECT_EQ(rate.points[4].at_ms, 6 * 60000);
  EXPECT_EQ(rate.points[4].mark.line, 13);

  const rt::ProbeSeries& logs = s.probes[3];
  EXPECT_EQ(logs.method, "logs.count");
  ASSERT_EQ(logs.args.size(), 3u);
  EXPECT_EQ(logs.args[0].Text(), "denis*");
  EXPECT_EQ(logs.args[2].type, ValueType::kDuration);
  EXPECT_EQ(logs.args[2].number, 300000);
  EXPECT_EQ(s.probes[4].points.size(), 1u);  // a mapping: one point from 0s
  EXPECT_EQ(s.probes[5].target, "api");    // the policy's target

  ASSERT_EQ(s.commands.size(), 3u);
  EXPECT_EQ(s.commands[0].argv, (std::vector<std::string>{"redis-cli", "ping"}));
  ASSERT_EQ(s.commands[0].points.size(), 3u);
  EXPECT_EQ(s.commands[0].points[0].out, "PONG");
  EXPECT_EQ(s.commands[0].points[1].exit_code, 1);
  EXPECT_EQ(s.commands[0].points[1].err, "Could not connect to Redis at redis:6379: Connection refused");
  EXPECT_EQ(s.commands[1].argv.size(), 6u);
  EXPECT_EQ(s.commands[1].points[0].at_ms, 0);
  EXPECT_EQ(s.commands[2].argv, (std::vector<std::string>{"curl", "http://localhost:8084/metrics"}));
  EXPECT_TRUE(s.commands[2].points[0].timeout);

  ASSERT_EQ(s.answers.size(), 2u);
  EXPECT_EQ(s.answers[0].question, "¿Datos perdidos?");
  EXPECT_FALSE(s.answers[0].answer);
  EXPECT_EQ(s.answers[1].at_ms, 120000);
  EXPECT_TRUE(s.answers[1].answer);

  const rt::Expectations& e = s.expect;
  ASSERT_EQ(e.symptoms.size(), 2u);
  EXPECT_EQ(e.symptoms[1].at_ms, 120000);
  EXPECT_EQ(e.symptoms[1].hold, (std::vector<std::string>{"ping_error"}));
  EXPECT_EQ(e.symptoms[1].unknown, (std::vector<std::string>{"conn_error"}));
  ASSERT_TRUE(e.steps);
  ASSERT_EQ(e.steps->size(), 2u);
  EXPECT_EQ((*e.steps)[0].step, "state");
  EXPECT_EQ((*e.steps)[0].at_ms, 60000);
  EXPECT_EQ((*e.steps)[0].run->size(), 2u);
  EXPECT_EQ((*e.steps)[0].status, "ok");
  EXPECT_FALSE((*e.steps)[1].at_ms);
  ASSERT_TRUE(e.skipped);
  EXPECT_TRUE(e.skipped->empty());
  ASSERT_TRUE(e.escalations);
  EXPECT_EQ((*e.escalations)[0].row, "ping_error for > 5m");  // blanks collapse as in the compiled row
  ASSERT_TRUE(e.pages);
  EXPECT_EQ((*e.pages)[0].contact, "sre");
  EXPECT_EQ(e.severity, "P1");
  ASSERT_TRUE(e.pending);
  EXPECT_EQ(e.pending->rows->at(0), "ask \"¿Sin rollback disponible?\"");
  EXPECT_TRUE(e.pending->steps->empty());
}


TEST(ConfigScenario, RunbookFromTheDirectoryAndDefaults) {
  auto r = LoadScen("probes:\n  redis.ping(): false\n", "redis_down", "quiet.scenario.yaml");
  ASSERT_TRUE(r.ok) << Render(r.errors);
  EXPECT_EQ(r.s.runbook, "redis_down");
  EXPECT_EQ(r.s.name, "quiet");
  EXPECT_EQ(r.s.duration_ms, 15 * 60000);
  EXPECT_EQ(r.s.tick_ms, 15000);
  EXPECT_FALSE(r.s.expect.steps);  // not given: not checked
  EXPECT_FALSE(r.s.expect.severity);
  std::string path = (TempDir() / "scenarios" / "redis_down" / "quiet.scenario.yaml").string();
  EXPECT_EQ(rt::ScenarioRunbookName(path), "redis_down");
  auto named = WriteTemp("named.scenario.yaml", "runbook: graph_slow\n");
  EXPECT_EQ(rt::ScenarioRunbookName(named), "graph_slow");
  auto broken = WriteTemp("broken.scenario.yaml", "runbook: [\n");
  EXPECT_EQ(rt::ScenarioRunbookName(broken), TempDir().filename().string());
}

TEST(ConfigScenario, UnknownRunbook) {
  auto written = LoadScen("runbook: redis_dwn\n");
  EXPECT_FALSE(written.ok);
  EXPECT_TRUE(HasError(written.errors, 1, 10, "no runbook `redis_dwn` in the compiled program", "did you mean `redis_down`?"));
  auto inferred = LoadScen("description: x\n", "elsewhere");
  EXPECT_FALSE(inferred.ok);
  EXPECT_TRUE(HasError(inferred.errors, 1, 1, "its directory `elsewhere` names no runbook", "runbooks: `redis_down`"));
}

TEST(ConfigScenario, DurationAndTick) {
  auto r = LoadScen("duration: 31d\ntick: 500ms\n");
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(HasError(r.errors, 1, 11, "duration must be from 1s to 30d"));
  EXPECT_TRUE(HasError(r.errors, 2, 7, "tick must be at least 1s"));
  auto longer = LoadScen("duration: 1m\ntick: 2m\n");
  EXPECT_TRUE(HasError(longer.errors, 2, 7, "tick 2m is longer than the scenario's duration (1m)"));
  auto shortrun = LoadScen("duration: 10s\n");
  ASSERT_TRUE(shortrun.ok) << Render(shortrun.errors);
  EXPECT_EQ(shortrun.s.tick_ms, 10000);
}

TEST(ConfigScenario, UnknownProbeTarget) {
  auto r = LoadScen("probes:\n  cache.ping(): true\n");
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(HasError(r.errors, 2, 3, "no target `cache` in runbook redis_down or the policy", "targets: `redis`, `api`, "
                                       "`celery`, `logs`"));
}

TEST(ConfigScenario, UnknownMethod) {
  auto r = LoadScen("probes:\n  redis.pong(): true\n  redis.memory(): 5%\n");
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(HasError(r.errors, 2, 3, "`redis` is a redis target and redis has no method `pong`", "did you mean `ping`?"));
  EXPECT_TRUE(HasError(r.errors, 3, 3, "redis has no method `memory`", "methods: `config_set`, `connected_clients`"));
}

TEST(ConfigScenario, MalformedProbeKey) {
  auto r = LoadScen("probes:\n  redis.ping: true\n  'api.metric(\"x)': 1\n  api.metric(\"x\") extra: 1\n");
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(HasError(r.errors, 2, 3, "expected `(` after `redis.ping`: write redis.ping() even without arguments"));
  EXPECT_TRUE(HasError(r.errors, 3, 3, "a string argument is not closed"));
  EXPECT_TRUE(HasError(r.errors, 4, 3, "unexpected \"extra\" after `)`"));
}

TEST(ConfigScenario, WrongArgumentCountAndType) {
  auto r = LoadScen(
      "probes:\n"
      "  api.metric(rate_limit_fallback): 1\n"
      "  logs.count(\"denis*\", \"ConnectionError\", \"5m\"): 1\n"
      "  logs.count(\"denis*\", \"ConnectionError\", 5): 1\n"
      "  api.metric(): 1\n");
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(HasError(r.errors, 2, 3, "argument 1 of http.metric is text: quote it, e.g. \"rate_limit_fallback\""));
  EXPECT_TRUE(HasError(r.errors, 3, 3, "argument 3 of logs.count is a duration: write it without quotes, e.g. 5m or 90s"));
  EXPECT_TRUE(HasError(r.errors, 4, 3, "argument 3 of logs.count: expected a duration such as 5m or 90s, got \"5\""));
  EXPECT_TRUE(HasError(r.errors, 5, 3, "http.metric takes 1 argument (string), got 0"));
}

TEST(ConfigScenario, WrongValueType) {
  auto r = LoadScen(
      "probes:\n"
      "  redis.memory_used(): 0.85\n"
      "  redis.ping(): [{at: 0s, value: PONG}]\n"
      "  api.metric(\"rate_limit_fallback\"): {value: [1, 2]}\n");
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(HasError(r.errors, 2, 24, "redis.memory_used() returns a percent: write 85%, got \"0.85\""));
  EXPECT_TRUE(HasError(r.errors, 3, 34, "redis.ping() returns a bool: write true or false, got \"PONG\""));
  EXPECT_TRUE(HasError(r.errors, 4, 46, "returns a number: write 12 or 0.5, got a list"));
}

TEST(ConfigScenario, LinesValues) {
  auto r = LoadScen(
      "probes:\n"
      "  redis.info(\"clients\"): [\"connected_clients:3\", \"blocked_clients:0\"]\n"
      "  redis.info(\"memory\"): |\n"
      "    used_memory:100\n"
      "    maxmemory:200\n"
      "  redis.info(\"stats\"):\n"
      "    - {at: 0s, value: [\"a\"]}\n"
      "    - {at: 1m, value: \"b\\nc\"}\n");
  ASSERT_TRUE(r.ok) << Render(r.errors);
  ASSERT_EQ(r.s.probes.size(), 3u);
  EXPECT_EQ(r.s.probes[0].points[0].value.heap->lines, (std::vector<std::string>{"connected_clients:3", "blocked_clients:0"}));
  EXPECT_EQ(r.s.probes[1].points[0].value.heap->lines, (std::vector<std::string>{"used_memory:100", "maxmemory:200"}));
  EXPECT_EQ(r.s.probes[2].points[1].value.heap->lines, (std::vector<std::string>{"b", "c"}));
}

TEST(ConfigScenario, BadTimes) {
  auto r = LoadScen(
      "duration: 10m\n"
      "probes:\n"
      "  redis.ping():\n"
      "    - {at: 5 minutes, value: true}\n"
      "    - {at: 11m, value: true}\n"
      "  redis.cpu(): [{at: 2m, value: 5%}, {at: 1m, value: 6%}, {at: 1m, value: 7%}]\n"
      "  redis.hit_ratio(): [{value: 5%}]\n");
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(HasError(r.errors, 4, 12, "at: expected a duration such as 5m or 90s, got \"5 minutes\""));
  EXPECT_TRUE(HasError(r.errors, 5, 12, "at 11m is after the end of the scenario (duration: 10m)"));
  EXPECT_TRUE(HasError(r.errors, 6, 43, "at 1m does not come after the previous point (2m)"));
  EXPECT_TRUE(HasError(r.errors, 7, 23, "a point in a list needs `at:`"));
}

TEST(ConfigScenario, ProbePointOutcomes) {
  auto r = LoadScen(
      "probes:\n"
      "  redis.ping(): [{at: 0s, value: true, timeout: true}]\n"
      "  redis.cpu(): [{at: 0s}]\n"
      "  redis.hit_ratio(): [{at: 0s, timeout: false}]\n"
      "  redis.connected_clients(): [{at: 0s, error: \"\"}]\n"
      "  redis.used_memory(): [{at: 0s, valeu: 1GB}]\n");
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(HasError(r.errors, 2, 18, "gives exactly one of value, timeout, error or unknown; this one gives 2"));
  EXPECT_TRUE(HasError(r.errors, 3, 17, "this one gives 0"));
  EXPECT_TRUE(HasError(r.errors, 4, 41, "`timeout: false` says nothing"));
  EXPECT_TRUE(HasError(r.errors, 5, 47, "error: give the error text"));
  EXPECT_TRUE(HasError(r.errors, 6, 34, "unknown key `valeu` in a probe point", "did you mean `value`? allowed: at, value, "
                                        "timeout, error, unknown"));
}

TEST(ConfigScenario, Commands) {
  auto r = LoadScen(
      "commands:\n"
      "  redis-cli ping: [{stdout: PONG}]\n"
      "  redis-cli info: {exit: 300}\n"
      "  \"kubectl get pods\": PONG\n"
      "  'curl \"http://x': {stdout: x}\n"
      "  redis-cli  ping: {stdout: y}\n"
      "  kubectl logs: {at: 0s, stdin: x}\n"
      "  kubectl rollout restart statefulset/redis -n {ns}: {stdout: x}\n");
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(HasError(r.errors, 2, 20, "a point in a list needs `at:`"));
  EXPECT_TRUE(HasError(r.errors, 3, 26, "exit: expected an exit status from 0 to 255, got \"300\""));
  EXPECT_TRUE(HasError(r.errors, 4, 23, "command `kubectl get pods` needs its output"));
  EXPECT_TRUE(HasError(r.errors, 5, 3, "a `\"` is not closed"));
  EXPECT_TRUE(HasError(r.errors, 6, 3, "command `redis-cli  ping` is listed twice"));
  EXPECT_TRUE(HasError(r.errors, 7, 26, "unknown key `stdin` in a command point", "allowed: at, stdout, stderr, exit, timeout"));
  EXPECT_TRUE(HasError(r.errors, 8, 3, "holds `{ns}`: commands are matched as bound, so write its value"));
}

TEST(ConfigScenario, CommandWordsAreQuotedLikeADollarLine) {
  auto r = LoadScen(
      "commands:\n"
      "  'cypher-shell -u neo4j \"MATCH (n) RETURN count(n)\" --format=''plain text''': {stdout: \"1\"}\n");
  ASSERT_TRUE(r.ok) << Render(r.errors);
  ASSERT_EQ(r.s.commands.size(), 1u);
  EXPECT_EQ(r.s.commands[0].argv,
            (std::vector<std::string>{"cypher-shell", "-u", "neo4j", "MATCH (n) RETURN count(n)", "--format=plain text"}));
}

TEST(ConfigScenario, Answers) {
  auto r = LoadScen(
      "answers:\n"
      "  \"¿Datos perdidos?\": [{at: 1m, answer: no}, {at: 3m, answer: yes}]\n"
      "  \"¿Datos perdido?\": yes\n"
      "  \"¿Data loss?\": maybe\n"
      "  \"¿Security breach?\": {at: 1m}\n");
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(HasError(r.errors, 3, 3, "no condition of runbook redis_down or the policy asks \"¿Datos perdido?\"",
                       "did you mean `¿Datos perdidos?`?"));
  EXPECT_TRUE(HasError(r.errors, 4, 18, "an answer: expected true or false, got \"maybe\""));
  EXPECT_TRUE(HasError(r.errors, 5, 24, "an answer needs `answer: yes` or `answer: no`"));
  ASSERT_EQ(r.s.answers.size(), 2u);
  EXPECT_EQ(r.s.answers[1].at_ms, 180000);
  EXPECT_TRUE(r.s.answers[1].answer);
}

TEST(ConfigScenario, UnknownNamesInExpectations) {
  auto r = LoadScen(
      "expect:\n"
      "  symptoms:\n"
      "    - {at: 1m, hold: [ping_eror]}\n"
      "  steps:\n"
      "    - {step: restar, status: finished}\n"
      "  skipped: [reboot]\n"
      "  escalations:\n"
      "    - {row: \"ping_error for > 6m\"}\n"
      "  pages: [{contact: sres, at: 1m}]\n"
      "  severity: P5\n"
      "  pending: {asks: [\"¿Nada?\"], step: []}\n");
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(HasError(r.errors, 3, 23, "no symptom `ping_eror` in runbook redis_down", "did you mean `ping_error`?"));
  EXPECT_TRUE(HasError(r.errors, 5, 14, "no step `restar` in runbook redis_down", "did you mean `restart`?"));
  EXPECT_TRUE(HasError(r.errors, 5, 30, "status must be ok, failed, pending or done, got \"finished\""));
  EXPECT_TRUE(HasError(r.errors, 6, 13, "no step `reboot` in runbook redis_down", "steps: `state`, `memory`, `restart`"));
  EXPECT_TRUE(HasError(r.errors, 8, 13, "no escalation row `ping_error for > 6m` in runbook redis_down or the policy"));
  EXPECT_TRUE(HasError(r.errors, 8, 13, "no escalation row", "did you mean `ping_error for > 5m`?"));
  EXPECT_TRUE(HasError(r.errors, 9, 21, "no contact `sres` in the policy", "did you mean `sre`?"));
  EXPECT_TRUE(HasError(r.errors, 10, 13, "expect.severity must be P1, P2, P3 or P4, got \"P5\""));
  EXPECT_TRUE(HasError(r.errors, 11, 20, "asks \"¿Nada?\""));
  EXPECT_TRUE(HasError(r.errors, 11, 31, "unknown key `step` in expect.pending", "did you mean `steps`?"));
}

TEST(ConfigScenario, SymptomChecks) {
  auto r = LoadScen(
      "expect:\n"
      "  symptoms:\n"
      "    - {hold: [ping_error]}\n"
      "    - {at: 1m, hold: [ping_error], clear: [ping_error]}\n"
      "    - {at: 1m}\n"
      "    - ping_error\n");
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(HasError(r.errors, 3, 7, "a symptom check needs `at:`"));
  EXPECT_TRUE(HasError(r.errors, 4, 44, "symptom `ping_error` is already in `hold` at this time"));
  EXPECT_TRUE(HasError(r.errors, 5, 7, "a symptom check names no symptom"));
  EXPECT_TRUE(HasError(r.errors, 6, 7, "each entry of expect.symptoms must be a mapping"));
}

TEST(ConfigScenario, UnknownKeys) {
  auto r = LoadScen(
      "runbook: redis_down\n"
      "probe:\n"
      "  redis.ping(): true\n"
      "expect:\n"
      "  severty: P1\n");
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(HasError(r.errors, 2, 1, "unknown key `probe` in a scenario", "did you mean `probes`? allowed: runbook, "
                                       "description, duration, tick, params, probes, commands, answers, approvals, done, expect, start"));
  EXPECT_TRUE(HasError(r.errors, 5, 3, "unknown key `severty` in expect", "did you mean `severity`?"));
}

TEST(ConfigScenario, SyntaxErrorNonMappingEmptyAndGarbage) {
  auto syntax = LoadScen("probes:\n  redis.ping(): [true\nexpect: {}\n");
  EXPECT_FALSE(syntax.ok);
  ASSERT_EQ(syntax.errors.size(), 1u) << Render(syntax.errors);
  EXPECT_EQ(syntax.errors[0].mark.line, 3);
  EXPECT_NE(syntax.errors[0].message.find("invalid YAML"), std::string::npos);

  auto list = LoadScen("- probes\n- expect\n");
  EXPECT_FALSE(list.ok);
  EXPECT_TRUE(HasError(list.errors, 1, 1, "a scenario is a mapping of keys such as probes:, commands: and expect:, got a list"));

  auto scalar = LoadScen("\n\n  just words\n");
  EXPECT_TRUE(HasError(scalar.errors, 3, 3, "got a single value"));

  auto empty = LoadScen("");
  EXPECT_FALSE(empty.ok);
  EXPECT_TRUE(HasError(empty.errors, 1, 1, "the scenario is empty"));

  auto nul = LoadScen(std::string("probes:\n  x\0y: 1\n", 16));
  EXPECT_FALSE(nul.ok);
  EXPECT_TRUE(HasError(nul.errors, 2, 4, "the file holds a NUL byte"));

  auto twice = LoadScen("probes: {}\n---\nprobes: {}\n");
  EXPECT_FALSE(twice.ok);
  EXPECT_TRUE(HasError(twice.errors, 2, 1, "a second YAML document"));  // at its `---`

  // Random bytes (no NUL): never a crash, always an error.
  uint32_t seed = 12345;
  for (int round = 0; round < 200; ++round) {
    std::string junk;
    for (int i = 0; i < 300; ++i) {
      seed = seed * 1103515245u + 12345u;
      char c = static_cast<char>((seed >> 16) & 0xFF);
      junk += c == '\0' ? '\x01' : c;
    }
    auto g = LoadScen(junk, "redis_down", "junk.scenario.yaml");
    EXPECT_FALSE(g.ok);
    EXPECT_FALSE(g.errors.empty());
  }
}

TEST(ConfigScenario, HostileInputDoesNotCrash) {
  // Deep nesting: refused past 64 levels.
  auto deep = LoadScen("probes: " + std::string(100000, '[') + "\n");
  EXPECT_FALSE(deep.ok);
  ASSERT_FALSE(deep.errors.empty());
  EXPECT_NE(deep.errors[0].message.find("nest more than 64 deep"), std::string::npos);
  // Over 1 MiB: refused before parsing.
  auto huge = LoadScen("description: x\n#" + std::string(1 << 20, 'x') + "\n");
  EXPECT_FALSE(huge.ok);
  ASSERT_EQ(huge.errors.size(), 1u);
  EXPECT_NE(huge.errors[0].message.find("larger than 1 MiB"), std::string::npos);
  // A self-referencing alias and aliases everywhere.
  auto alias = LoadScen("expect: &a {pending: *a}\nprobes: &p {redis.ping(): *p}\n");
  EXPECT_FALSE(alias.ok);
  // Many errors stop at 50.
  std::string many = "probes:\n";
  for (int i = 0; i < 200; ++i) many += "  nothing" + std::to_string(i) + ".x(): 1\n";
  auto capped = LoadScen(many);
  EXPECT_FALSE(capped.ok);
  EXPECT_EQ(capped.errors.size(), 50u);
  // Keys that are not single values.
  auto complex = LoadScen("? [a, b]\n: 1\nprobes:\n  ? {x: 1}\n  : 2\n");
  EXPECT_FALSE(complex.ok);
  EXPECT_TRUE(HasError(complex.errors, 1, 3, "a key in a scenario must be a single value, got a list"));
  EXPECT_TRUE(HasError(complex.errors, 4, 5, "a key in probes must be a single value, got a mapping"));
}

TEST(ConfigScenario, DuplicateProbesAndEquivalentKeys) {
  auto r = LoadScen("probes:\n  api.metric(\"a\"): 1\n  api.metric( \"a\" ): 2\n");
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(HasError(r.errors, 3, 3, "probe `api.metric( \"a\" )` is listed twice"));
}


// Columns count characters, as the compiler's diagnostics do (yaml-cpp counts bytes); a BOM is no column.
TEST(ConfigScenario, ColumnsCountCharactersAndSkipTheBom) {
  auto r = LoadScen("\xEF\xBB\xBF" "answers: {\"¿Datos perdidos?\": {at: 1m, answer: yes}, \"¿Data loss?\": quizás}\n");
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(HasError(r.errors, 1, 69, "an answer: expected true or false, got \"quizás\""));
  EXPECT_EQ(r.s.answers.size(), 1u);
}


// ---- The documentation's examples ----------------------------------------------------------------
// The first ```yaml block of a document.
std::string FirstYamlBlock(const std::string& doc) {
  std::string text = ReadAll(SourceDir() / doc);
  size_t start = text.find("```yaml\n");
  if (start == std::string::npos) return "";
  start += 8;
  size_t end = text.find("```\n", start);
  return end == std::string::npos ? "" : text.substr(start, end - start);
}

TEST(ConfigDocs, EnvironmentExampleIsTheExampleFile) {
  std::string block = FirstYamlBlock("docs/environment.md");
  ASSERT_FALSE(block.empty());
  EXPECT_EQ(block, ReadAll(SourceDir() / "runbooks" / "environment.example.yaml"));
}

TEST(ConfigDocs, ScenarioExampleLoads) {
  std::string block = FirstYamlBlock("docs/scenarios.md");
  ASSERT_FALSE(block.empty());
  auto r = LoadScen(block, "docs", "long_outage.scenario.yaml");
  ASSERT_TRUE(r.ok) << Render(r.errors);
  EXPECT_EQ(r.s.runbook, "redis_down");
  EXPECT_EQ(r.s.duration_ms, 10 * 60000);
  EXPECT_GE(r.s.probes.size(), 5u);
  EXPECT_GE(r.s.commands.size(), 3u);
  EXPECT_GE(r.s.answers.size(), 4u);
  ASSERT_TRUE(r.s.expect.steps);
  ASSERT_TRUE(r.s.expect.escalations);
  ASSERT_TRUE(r.s.expect.pending);
  EXPECT_EQ(r.s.expect.severity, "P1");
  // And what it promises is what the executor does.
  rt::ScenarioProvider provider(r.s);
  rt::MemoryStateStore state;
  rt::Trace t = rt::Rehearse(RedisDown(), TestRegistry(), 0, r.s, provider, state);
  std::vector<rt::Mismatch> m = rt::Check(r.s, t);
  EXPECT_TRUE(m.empty()) << m[0].what << ": expected " << m[0].expected << ", got " << m[0].actual;
}


TEST(ConfigScenario, Params) {
  auto ok = LoadScen("params:\n  ns: denis-staging\n");
  ASSERT_TRUE(ok.ok) << Render(ok.errors);
  ASSERT_TRUE(ok.s.params.count("ns"));
  EXPECT_EQ(ok.s.params["ns"].text, "denis-staging");
  EXPECT_EQ(ok.s.params["ns"].mark.line, 2);
  EXPECT_EQ(ok.s.params["ns"].mark.col, 7);
  auto bad = LoadScen("params:\n  nss: x\n  ns: [a]\n");
  EXPECT_FALSE(bad.ok);
  EXPECT_TRUE(HasError(bad.errors, 2, 3, "no param `nss` in runbook redis_down", "did you mean `ns`?"));
  EXPECT_TRUE(HasError(bad.errors, 3, 7, "param `ns` must be a single value, got a list"));
}

TEST(ConfigScenario, ParamsAreTypedAndNeverSecrets) {
  static const rt::Program graph = CompileFile("runbooks/graph_slow.rb.denis");
  auto d = TempDir() / "scenarios" / "graph_slow";
  std::filesystem::create_directories(d);
  std::string path = (d / "p.scenario.yaml").string();
  std::ofstream(path, std::ios::binary) << "params:\n  neo4j_pass: hunter2\n";
  rt::Scenario s;
  std::vector<ConfigError> errors;
  EXPECT_FALSE(rt::LoadScenario(path, graph, TestRegistry(), s, errors));
  EXPECT_TRUE(HasError(errors, 2, 3, "param `neo4j_pass` is a secret: a scenario never holds secrets"));

  rt::Program typed = CompileText("typed.rb.denis",
                                  "import std.redis\nimport policy.escalation\n"
                                  "runbook typed \"T\" {\n  severity P2\n  owner sre\n"
                                  "  target redis = redis(\"redis\")\n  param limit = 80%\n"
                                  "  symptoms {\n    high \"h\" : redis.memory_used() > limit\n  }\n"
                                  "  escalate {\n    | when | then |\n    | incident | page sre |\n  }\n}\n");
  auto t = TempDir() / "scenarios" / "typed";
  std::filesystem::create_directories(t);
  std::string tpath = (t / "p.scenario.yaml").string();
  std::ofstream(tpath, std::ios::binary) << "params:\n  limit: 0.8\n";
  errors.clear();
  EXPECT_FALSE(rt::LoadScenario(tpath, typed, TestRegistry(), s, errors));
  EXPECT_TRUE(HasError(errors, 2, 10, "param `limit` is a percent: expected a percent such as 80%, got \"0.8\""));
}


// Mutations of a valid scenario: never a crash, and a load fails exactly when it reports an error.
TEST(ConfigScenario, MutatedScenariosNeverCrash) {
  const std::string base = kFullScenario;
  const char kBytes[] = "[]{}:,-#&*!|>'\"\\ \n\t%@`?0a\xC3";
  uint32_t seed = 2024;
  auto next = [&] {
    seed = seed * 1664525u + 1013904223u;
    return seed >> 8;
  };
  int failed = 0;
  for (int round = 0; round < 300; ++round) {
    std::string text = base;
    int edits = 1 + static_cast<int>(next() % 4);
    for (int e = 0; e < edits; ++e) {
      size_t at = next() % text.size();
      switch (next() % 3) {
        case 0: text[at] = kBytes[next() % (sizeof kBytes - 1)]; break;
        case 1: text.insert(at, 1, kBytes[next() % (sizeof kBytes - 1)]); break;
        default: text.erase(at, 1 + next() % 8); break;
      }
    }
    auto r = LoadScen(text, "redis_down", "mutant.scenario.yaml");
    EXPECT_EQ(r.ok, r.errors.empty()) << text << Render(r.errors);
    for (const auto& e : r.errors) {
      EXPECT_FALSE(e.message.empty());
      EXPECT_GE(e.mark.line, 0);
      EXPECT_LE(e.mark.line, 200);
    }
    failed += r.ok ? 0 : 1;
  }
  EXPECT_GT(failed, 100);  // most mutations break something, and each is reported
}

}  // namespace
}  // namespace rb::test
