// Named values: runbook `let`s and step captures. Parsing, types, cycles, clashes and the unused
// warning through lint; LET evaluated once per instant (provider calls counted); captures taken by
// one step and read by later ones, inserted into argv as one word; an unknown capture keeps the
// command that needs it from running; a rehearsal of a scenario shows what was captured.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "compiler/disasm.hpp"
#include "compiler/parser.hpp"
#include "runtime/binding.hpp"
#include "runtime/executor.hpp"
#include "runtime/plan.hpp"
#include "runtime/rbc.hpp"
#include "runtime/rehearse.hpp"
#include "runtime/report.hpp"
#include "runtime/runner.hpp"
#include "runtime/scenario.hpp"
#include "runtime/scenario_provider.hpp"
#include "runtime/state_store.hpp"
#include "runtime/verifier.hpp"
#include "tests/compile_util.hpp"

namespace rb::test {
namespace {

// Lints runbook text written beside a copy of the test policy.
LintResult LintText(const std::string& name, const std::string& text) {
  auto dir = TempDir() / "lets";
  std::filesystem::create_directories(dir / "policy");
  std::filesystem::copy_file(SourceDir() / "tests" / "golden" / "policy" / "escalation.rb.denis",
                             dir / "policy" / "escalation.rb.denis", std::filesystem::copy_options::overwrite_existing);
  std::ofstream(dir / name, std::ios::binary) << text;
  LintOptions o;
  o.paths = {(dir / name).string()};
  return Lint(o);
}

std::string Runbook(const std::string& members, const std::string& steps, const std::string& rows = "") {
  return "import std.redis\nimport policy.escalation\n\nrunbook cache \"Cache\" {\n  severity P2\n  owner sre\n"
         "  target redis = redis(\"redis\")\n" +
         members + "\n  steps {\n" + steps + "\n  }\n" +
         (rows.empty() ? "" : "  escalate {\n    | when | then |\n" + rows + "\n  }\n") + "}\n";
}

// ---- Parse and check ---------------------------------------------------------------------------

TEST(Lets, ParseRunbookLetsAndStepCaptures) {
  std::string text = Runbook("  let clients = redis.connected_clients()\n  symptoms { crowded \"c\" : clients > 100 }",
                             "    check find \"Find\" when crowded {\n      $ redis-cli client list\n"
                             "      let addr = output |> tail(1)\n      \"look at it\"\n    }");
  Diagnostics diags;
  auto src = std::make_shared<Source>("t.rb.denis", text);
  ast::File f = Parse(src, diags);
  ASSERT_EQ(f.runbooks.size(), 1u) << diags.all().size();
  const ast::Runbook& rb = f.runbooks[0];
  ASSERT_EQ(rb.lets.size(), 2u);
  EXPECT_EQ(rb.lets[0].name, "clients");
  EXPECT_EQ(rb.lets[0].step, -1);
  EXPECT_EQ(rb.lets[0].init->kind, ast::ExprKind::kCall);
  EXPECT_EQ(rb.lets[1].name, "addr");
  EXPECT_EQ(rb.lets[1].step, 0);
  EXPECT_EQ(rb.lets[1].item, 1u);
  EXPECT_EQ(rb.lets[1].init->kind, ast::ExprKind::kPipe);
  ASSERT_EQ(rb.steps[0].items.size(), 3u);
  EXPECT_EQ(rb.steps[0].items[1].kind, ast::ItemKind::kCapture);
  EXPECT_EQ(rb.steps[0].items[1].let, 1u);
  EXPECT_EQ(rb.steps[0].items[2].kind, ast::ItemKind::kText);
}

TEST(Lets, ALetWithoutItsValueIsASyntaxErrorWithTheForm) {
  LintResult r = LintText("syntax.rb.denis", Runbook("  let lag\n  symptoms { s \"s\" : redis.ping() }",
                                                     "    check a \"A\" when s { $ redis-cli ping }"));
  EXPECT_EQ(Codes(r), std::set<std::string>{"RB0001"}) << RenderText(r);
  EXPECT_NE(RenderText(r).find("let NAME = EXPRESSION"), std::string::npos) << RenderText(r);
}

TEST(Lets, ALetHasItsExpressionsTypeAndUnit) {
  // `clients` is a num: comparing it with a duration is a type error at the use, naming both types.
  LintResult r = LintText("types.rb.denis", Runbook("  let clients = redis.connected_clients()\n"
                                                    "  symptoms { s \"s\" : clients > 5m }",
                                                    "    check a \"A\" when s { $ redis-cli ping }"));
  ASSERT_EQ(Codes(r), std::set<std::string>{"RB0041"}) << RenderText(r);
  EXPECT_NE(RenderText(r).find("compares num with duration"), std::string::npos) << RenderText(r);
  // The same let compared with a number checks clean.
  LintResult ok = LintText("types_ok.rb.denis", Runbook("  let clients = redis.connected_clients()\n"
                                                        "  symptoms { s \"s\" : clients > 5 }",
                                                        "    check a \"A\" when s { $ redis-cli ping }"));
  EXPECT_TRUE(ok.diags.all().empty()) << RenderText(ok);
}

TEST(Lets, ALetFollowsTheConditionRules) {
  // A write capability in a let, and `output` outside a step.
  LintResult r = LintText("rules.rb.denis", Runbook("  let set = redis.config_set(\"maxmemory\", \"1gb\")\n"
                                                    "  let out = output |> count()\n"
                                                    "  symptoms { s \"s\" : set and out > 1 }",
                                                    "    check a \"A\" when s { $ redis-cli ping }"));
  std::set<std::string> codes = Codes(r);
  EXPECT_TRUE(codes.count("RB0051")) << RenderText(r);
  EXPECT_TRUE(codes.count("RB0084")) << RenderText(r);
}

TEST(Lets, ACycleThroughLetsAndSymptomsIsSpelledOut) {
  LintResult r = LintText("cycle.rb.denis", Runbook("  let a = b\n  let b = hot and redis.ping()\n"
                                                    "  symptoms { hot \"h\" : a }",
                                                    "    check x \"X\" when hot { $ redis-cli ping }"));
  ASSERT_EQ(Codes(r), std::set<std::string>{"RB0241"}) << RenderText(r);
  EXPECT_NE(RenderText(r).find("hot → a → b → hot"), std::string::npos) << RenderText(r);
}

TEST(Lets, NamesClashWithParamsTargetsSymptomsStepsAndLets) {
  for (const std::string& clash : {"param n = 1\n  let n = 2", "let redis = 2", "let s = 2",
                                   "let a = 1\n  let a = 2"}) {
    LintResult r = LintText("clash.rb.denis", Runbook("  " + clash + "\n  symptoms { s \"s\" : redis.ping() }",
                                                      "    check a \"A\" when s { $ redis-cli ping }"));
    EXPECT_TRUE(Codes(r).count("RB0240")) << clash << "\n" << RenderText(r);
  }
  // A capture named like a step.
  LintResult r = LintText("clash2.rb.denis", Runbook("  symptoms { s \"s\" : redis.ping() }",
                                                     "    check a \"A\" when s { $ redis-cli ping\n      let a = output }"));
  EXPECT_TRUE(Codes(r).count("RB0240")) << RenderText(r);
  EXPECT_NE(RenderText(r).find("capture `a` clashes with the step `a`"), std::string::npos) << RenderText(r);
}

TEST(Lets, AnUnusedLetOrCaptureIsAWarning) {
  LintResult r = LintText("unused.rb.denis", Runbook("  let n = redis.connected_clients()\n"
                                                     "  symptoms { s \"s\" : redis.ping() }",
                                                     "    check a \"A\" when s { $ redis-cli ping\n      let out = output }"));
  ASSERT_EQ(Codes(r), std::set<std::string>{"RB0244"}) << RenderText(r);
  EXPECT_EQ(r.diags.all().size(), 2u) << RenderText(r);
  EXPECT_EQ(r.diags.errors(), 0u);
}

TEST(Lets, ACaptureReadBeforeItIsTakenIsAnErrorWithTheFix) {
  LintResult r = LintText("order.rb.denis",
                          Runbook("  symptoms { s \"s\" : redis.ping() }",
                                  "    check a \"A\" when s and n > 1 { $ redis-cli ping }\n"
                                  "    check b \"B\" { $ redis-cli info\n      let n = output |> count() }"));
  ASSERT_EQ(Codes(r), std::set<std::string>{"RB0242"}) << RenderText(r);
  EXPECT_NE(RenderText(r).find("move step `b` before this step"), std::string::npos) << RenderText(r);
  // Read later in the sequence (and by a row), it checks clean.
  LintResult ok = LintText("order_ok.rb.denis",
                           Runbook("  symptoms { s \"s\" : redis.ping() }",
                                   "    check b \"B\" when s { $ redis-cli info\n      let n = output |> count() }\n"
                                   "    check a \"A\" when n > 1 { $ redis-cli get {n} }",
                                   "    | n > 100 | page sre |"));
  EXPECT_TRUE(ok.diags.all().empty()) << RenderText(ok);
}

TEST(Lets, ACaptureWithoutACommandBeforeItIsAnError) {
  LintResult r = LintText("nocmd.rb.denis",
                          Runbook("  symptoms { s \"s\" : redis.ping() }",
                                  "    check a \"A\" when s { let n = output |> count()\n      $ redis-cli ping\n"
                                  "      expect n > 0 }"));
  EXPECT_EQ(Codes(r), std::set<std::string>{"RB0243"}) << RenderText(r);
}

// ---- The VM and the runner ---------------------------------------------------------------------

constexpr const char* kRunbook = R"(import std.redis
import policy.escalation

runbook cache "Cache" {
  severity P2
  owner    sre
  target redis = redis("redis")
  let clients = redis.connected_clients()

  symptoms {
    crowded "too many clients" : clients > 100
    very "far too many" : clients > 1000 or crowded
  }
  steps {
    check find "Find the noisy client" when very {
      $ redis-cli client list
      let addr = output |> tail(1)
    }
    action kill "Kill it" when clients > 100 {
      $ redis-cli client kill {addr}
      $ redis-cli get "seen {clients}"
    }
  }
  escalate {
    | when          | then     |
    | clients > 500 | page sre |
    | very          | page ops |
  }
}
)";

// connected_clients() answers 150, counted per instant; `client list` prints two lines, or fails.
class CountingProvider : public rt::Provider {
 public:
  explicit CountingProvider(bool list_fails = false) : list_fails_(list_fails) {}
  rt::ProbeAnswer Probe(const rt::ProbeCall& call, int64_t now_ms) override {
    ++calls[call.method][now_ms];
    if (call.method == "redis.connected_clients") return {rt::Value::Number(rt::ValueType::kNum, 150), ""};
    return {rt::Value::Unknown(), "not scripted"};
  }
  rt::ExecAnswer Exec(const std::vector<std::string>& argv, rt::Effect, int64_t) override {
    execs.push_back(argv);
    rt::ExecAnswer a;
    a.status = rt::ExecAnswer::Status::kOk;
    if (argv.size() > 2 && argv[1] == "client" && argv[2] == "list") {
      if (list_fails_) {
        a.status = rt::ExecAnswer::Status::kFailed;
        a.exit_code = 1;
        return a;
      }
      a.out = "id=3 addr=127.0.0.3:4000\nid=9 addr=127.0.0.9:5123 name=noisy\n";
    }
    return a;
  }
  std::map<std::string, std::map<int64_t, int>> calls;  // method → instant → calls
  std::vector<std::vector<std::string>> execs;

 private:
  bool list_fails_;
};

class NoAnswers : public rt::Answers {
 public:
  std::optional<bool> Answer(const std::string&, int64_t) override { return std::nullopt; }
  std::optional<std::string> DefaultApprover() override { return std::string("the rehearsal"); }  // a dry run
};

rt::Trace RunCache(const rt::Program& p, CountingProvider& provider) {
  rt::VirtualClock clock;
  NoAnswers answers;
  rt::MemoryStateStore state;
  rt::RecordingNotifier notifier;
  rt::RunnerOptions options;
  options.name = "by hand";
  options.duration_ms = 60000;
  options.tick_ms = 15000;
  rt::Runner runner(p, TestRegistry(), 0, rt::Bind(p, 0, nullptr),
                    rt::RunnerWorld{clock, provider, answers, state, notifier}, options);
  return runner.Run();
}

TEST(LetsVm, ALetIsEvaluatedOncePerInstantHoweverManyReadIt) {
  rt::Program p = CompileText("cache.rb.denis", kRunbook);
  CountingProvider provider;
  rt::Trace t = RunCache(p, provider);
  ASSERT_TRUE(t.errors.empty()) << t.errors.front();
  // Two symptoms, a guard, two rows and a command word read `clients`: one probe call per instant.
  const auto& per_instant = provider.calls["redis.connected_clients"];
  ASSERT_EQ(per_instant.size(), 5u);  // 0s, 15s, 30s, 45s, 1m
  for (const auto& [at, n] : per_instant) EXPECT_EQ(n, 1) << "at " << at;
  EXPECT_EQ(t.pages.size(), 1u);  // `very` pages ops; 150 is not > 500
}

TEST(LetsVm, LetTableAndOpcodeSurviveTheRbcRoundTripAndTheVerifierBoundsThem) {
  rt::Program p = CompileText("cache.rb.denis", kRunbook);
  ASSERT_EQ(p.runbooks.at(0).lets.size(), 2u);
  EXPECT_EQ(p.runbooks[0].lets[0].step, rt::kNoStep);
  EXPECT_EQ(p.runbooks[0].lets[1].step, 0u);
  auto bytes = rt::Serialize(p);
  auto loaded = rt::LoadProgram(bytes, TestRegistry());
  ASSERT_TRUE(std::holds_alternative<rt::Program>(loaded)) << std::get<rt::LoadError>(loaded).message;
  const rt::Program& q = std::get<rt::Program>(loaded);
  ASSERT_EQ(q.runbooks[0].lets.size(), 2u);
  EXPECT_EQ(q.Str(q.runbooks[0].lets[1].name), "addr");
  EXPECT_EQ(q.Str(q.runbooks[0].lets[1].text), "output |> tail(1)");
  EXPECT_NE(Disassemble(q, {}).find("LET"), std::string::npos);

  // A LET past the table is refused.
  rt::Program bad = p;
  uint32_t chunk = bad.runbooks[0].symptoms[0].chunk;
  for (uint32_t& w : bad.chunks[chunk].code) {
    if (rt::OpByte(w) == static_cast<uint8_t>(rt::Op::kLET)) w = rt::Encode(rt::Op::kLET, 7);
  }
  auto err = rt::Verify(bad, TestRegistry());
  ASSERT_TRUE(err.has_value());
  EXPECT_NE(err->message.find("let 7 out of range"), std::string::npos) << err->message;
  // A capture item naming another step's let is refused.
  rt::Program bad2 = p;
  bad2.runbooks[0].lets[1].step = 1;
  auto err2 = rt::Verify(bad2, TestRegistry());
  ASSERT_TRUE(err2.has_value());
  EXPECT_NE(err2->message.find("not one of its captures"), std::string::npos) << err2->message;
}

const rt::TraceEvent* FindEvent(const rt::Trace& t, rt::TraceEvent::Kind kind, const std::string& detail_part) {
  for (const auto& e : t.events) {
    if (e.kind == kind && e.detail.find(detail_part) != std::string::npos) return &e;
  }
  return nullptr;
}

TEST(LetsVm, ACaptureIsTakenOnceAndFillsALaterCommandAsOneWord) {
  rt::Program p = CompileText("cache.rb.denis", kRunbook);
  CountingProvider provider;
  rt::Trace t = RunCache(p, provider);
  ASSERT_TRUE(t.errors.empty()) << t.errors.front();
  ASSERT_EQ(provider.execs.size(), 3u);
  // The captured last line of `client list`, blanks and all, is one argv word.
  EXPECT_EQ(provider.execs[1], (std::vector<std::string>{"redis-cli", "client", "kill", "id=9 addr=127.0.0.9:5123 name=noisy"}));
  // A let inside a quoted word: still one word.
  EXPECT_EQ(provider.execs[2], (std::vector<std::string>{"redis-cli", "get", "seen 150"}));
  // The trace shows the value at the step that took it, and the bound command.
  const rt::TraceEvent* cap = FindEvent(t, rt::TraceEvent::Kind::kCapture, "addr = ");
  ASSERT_NE(cap, nullptr);
  EXPECT_EQ(cap->name, "find");
  EXPECT_EQ(cap->detail, "addr = \"id=9 addr=127.0.0.9:5123 name=noisy\"");
  ASSERT_EQ(t.steps.size(), 2u);
  EXPECT_EQ(t.steps[0].captures, std::vector<std::string>{"addr = \"id=9 addr=127.0.0.9:5123 name=noisy\""});
  EXPECT_NE(FindEvent(t, rt::TraceEvent::Kind::kCommand, "client kill \"id=9 addr=127.0.0.9:5123 name=noisy\""), nullptr);
  EXPECT_EQ(t.steps[1].status, "ok");
  std::string json = rt::TraceJson(t, nullptr);
  EXPECT_NE(json.find("\"kind\": \"capture\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"captures\""), std::string::npos) << json;
}

TEST(LetsVm, AnUnknownCaptureKeepsTheCommandThatNeedsItFromRunning) {
  rt::Program p = CompileText("cache.rb.denis", kRunbook);
  CountingProvider provider(/*list_fails=*/true);
  rt::Trace t = RunCache(p, provider);
  ASSERT_TRUE(t.errors.empty()) << t.errors.front();
  const rt::TraceEvent* cap = FindEvent(t, rt::TraceEvent::Kind::kCapture, "addr = ");
  ASSERT_NE(cap, nullptr);
  EXPECT_EQ(cap->detail, "addr = unknown");
  EXPECT_EQ(cap->status, "unknown: the command before it failed: exit 1");
  // `client kill {addr}` never reached the provider; the step is pending with the reason.
  for (const auto& argv : provider.execs) EXPECT_FALSE(argv.size() > 2 && argv[2] == "kill");
  const rt::TraceEvent* kill = FindEvent(t, rt::TraceEvent::Kind::kCommand, "client kill");
  ASSERT_NE(kill, nullptr);
  EXPECT_EQ(kill->detail, "redis-cli client kill {addr}");
  EXPECT_EQ(kill->status, "not run: `{addr}` is unknown (step find did not capture it)");
  ASSERT_EQ(t.steps.size(), 2u);
  EXPECT_EQ(t.steps[1].status, "pending");
}

TEST(LetsVm, ThePlanShowsWhereACapturedWordComesFrom) {
  rt::Program p = CompileText("cache.rb.denis", kRunbook);
  rt::Plan plan = rt::MakePlan(p, TestRegistry(), 0, nullptr);
  ASSERT_EQ(plan.steps.size(), 2u);
  ASSERT_EQ(plan.steps[0].items.size(), 2u);
  EXPECT_EQ(plan.steps[0].items[1].kind, rt::PlanItem::Kind::kCapture);
  EXPECT_EQ(plan.steps[0].items[1].text, "addr = output |> tail(1)");
  const rt::PlanItem& kill = plan.steps[1].items[0];
  EXPECT_EQ(kill.command.Display(), "redis-cli client kill {addr}");
  EXPECT_EQ(kill.lets, std::vector<std::string>{"{addr}: captured by step find"});
  EXPECT_EQ(kill.command.effect, rt::Effect::kWrite);
}

TEST(LetsVm, APolicyLetIsReadByThePolicysRows) {
  auto dir = TempDir() / "policy_let";
  std::filesystem::create_directories(dir / "policy");
  std::ofstream(dir / "policy" / "escalation.rb.denis", std::ios::binary)
      << "import std.redis\npolicy escalation \"P\" {\n  contact sre \"SRE\" \"@sre\"\n"
         "  target cache = redis(\"redis\")\n  let clients = cache.connected_clients()\n"
         "  escalate {\n    | when | then |\n    | clients > 100 | page sre |\n  }\n}\n";
  std::ofstream(dir / "r.rb.denis", std::ios::binary)
      << "import std.redis\nimport policy.escalation\nrunbook r \"R\" {\n  severity P2\n  owner sre\n"
         "  target redis = redis(\"redis\")\n  symptoms { s \"s\" : redis.connected_clients() > 1 }\n"
         "  steps { check a \"A\" when s { $ redis-cli ping } }\n}\n";
  LoadedProgram l = LoadAny((dir / "r.rb.denis").string(), TestRegistry());
  ASSERT_TRUE(l.program.has_value()) << l.error << RenderText(l.lint);
  const rt::Program& p = *l.program;
  ASSERT_TRUE(p.policy.has_value());
  ASSERT_EQ(p.policy->lets.size(), 1u);
  CountingProvider provider;
  rt::Trace t = RunCache(p, provider);
  ASSERT_TRUE(t.errors.empty()) << t.errors.front();
  ASSERT_EQ(t.fired.size(), 1u);
  EXPECT_TRUE(t.fired[0].policy);
  EXPECT_EQ(t.fired[0].when, "clients > 100");
}

// ---- A rehearsal of a scenario -------------------------------------------------------------------

constexpr const char* kDiskRunbook = R"(import std.redis
import policy.escalation

runbook disk "Disk" {
  severity P2
  owner    sre
  target redis = redis("redis")

  symptoms {
    down "no PONG" : not redis.ping()
  }
  steps {
    check usage "Find the biggest key" when down {
      $ redis-cli --bigkeys
      let key = output |> tail(1)
      let keys = output |> count()
    }
    action expire "Expire it" when keys > 1 {
      $ redis-cli expire {key} 60
    }
  }
}
)";

constexpr const char* kDiskScenario = R"(runbook: disk
expect: {pending: {}}
duration: 1m
tick: 15s
probes:
  redis.ping():
    - {at: 0s, value: true}
    - {at: 30s, value: false}
commands:
  redis-cli --bigkeys:
    stdout: |
      scanning
      session:42
  redis-cli expire session:42 60:
    stdout: "1"
)";

TEST(LetsRehearsal, CapturesCarryAcrossStepsInAScenario) {
  rt::Program p = CompileText("disk.rb.denis", kDiskRunbook);
  std::string path = WriteTemp("capture.scenario.yaml", kDiskScenario);
  rt::Scenario sc;
  std::vector<rt::ConfigError> errors;
  ASSERT_TRUE(rt::LoadScenario(path, p, TestRegistry(), sc, errors)) << (errors.empty() ? "" : errors[0].ToString());
  rt::ScenarioProvider provider(sc);
  rt::MemoryStateStore state;
  rt::Trace t = rt::Rehearse(p, TestRegistry(), 0, sc, provider, state);
  ASSERT_TRUE(t.errors.empty()) << t.errors.front();
  ASSERT_EQ(t.steps.size(), 2u);
  EXPECT_EQ(t.steps[0].captures, (std::vector<std::string>{"key = \"session:42\"", "keys = 2"}));
  ASSERT_EQ(t.steps[1].commands.size(), 1u);
  EXPECT_EQ(t.steps[1].commands[0], "redis-cli expire session:42 60");
  EXPECT_EQ(t.steps[1].status, "ok");
  std::string text = rt::RenderTrace(t, sc, false);
  EXPECT_NE(text.find("let key = \"session:42\""), std::string::npos) << text;
}

}  // namespace
}  // namespace rb::test
