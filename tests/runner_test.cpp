// The runner over its interfaces, driven by parts of the test's own (no scenario): a clock that
// records the instants asked for, a provider whose probe flips at 2m, answers given at 5m, and a
// notifier that keeps the pages to itself.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <utility>

#include "runtime/binding.hpp"
#include "runtime/executor.hpp"
#include "runtime/runner.hpp"
#include "runtime/state_store.hpp"
#include "runtime/verifier.hpp"
#include "tests/compile_util.hpp"

namespace rb::test {
namespace {

constexpr const char* kRunbook = R"(import std.redis
import std.kube
import policy.escalation

runbook cache "Cache" {
  severity P2
  owner    sre
  target redis = redis("redis")

  symptoms {
    down "redis.ping error" : not redis.ping()
  }
  steps {
    check state "Estado" {
      $ redis-cli ping
    }
    action restart "Reiniciar" when down {
      $ kubectl rollout restart statefulset/redis -n denis
    }
  }
  escalate {
    | when                   | then      |
    | down for > 1m          | page sre  |
    | ask "¿Datos perdidos?" | page ops  |
  }
}
)";

// Lands `late_ms` after every instant it is asked for, as a real clock that woke up late would.
class TestClock : public rt::Clock {
 public:
  explicit TestClock(int64_t late_ms = 0) : late_ms_(late_ms) {}
  int64_t Now() override { return now_; }
  void AdvanceTo(int64_t at_ms) override {
    asked.push_back(at_ms);
    now_ = at_ms + late_ms_;
  }
  std::vector<int64_t> asked;

 private:
  int64_t late_ms_;
  int64_t now_ = 0;
};

// redis.ping() answers true before 2m and false from 2m on; every command exits 0 with "PONG".
class FlipProvider : public rt::Provider {
 public:
  rt::ProbeAnswer Probe(const rt::ProbeCall& call, int64_t now_ms) override {
    probes.push_back(call.binding + " " + call.method + "@" + rt::FormatMs(now_ms));
    if (call.method != "redis.ping") return {rt::Value::Unknown(), "not scripted"};
    return {rt::Value::Bool(now_ms < 2 * 60000), ""};
  }
  rt::ExecAnswer Exec(const std::vector<std::string>& argv, rt::Effect effect, int64_t now_ms) override {
    std::string line;
    for (const auto& w : argv) line += (line.empty() ? "" : " ") + w;
    execs.push_back(line + " [" + rt::EffectName(effect) + "]@" + rt::FormatMs(now_ms));
    rt::ExecAnswer a;
    a.status = rt::ExecAnswer::Status::kOk;
    a.out = "PONG\n";
    return a;
  }
  std::vector<std::string> probes, execs;
};

// Says yes to every question from 5m on.
class YesFrom5m : public rt::Answers {
 public:
  std::optional<bool> Answer(const std::string& question, int64_t now_ms) override {
    if (now_ms < 5 * 60000) return std::nullopt;
    return true;
  }
  std::optional<std::string> DefaultApprover() override { return std::string("the rehearsal"); }  // a dry run
};

// Keeps the pages: records nothing into the trace.
class KeepingNotifier : public rt::Notifier {
 public:
  void Page(const rt::PageSent& page, rt::Trace&) override {
    pages.push_back(page.contact + "@" + rt::FormatMs(page.at_ms));
  }
  std::vector<std::string> pages;
};

struct Parts {
  rt::Program program = CompileText("cache.rb.denis", kRunbook);
  FlipProvider provider;
  YesFrom5m answers;
  rt::MemoryStateStore state;
  KeepingNotifier notifier;

  rt::Trace Run(rt::Clock& clock, int64_t duration_ms = 6 * 60000) {
    rt::RunnerOptions options;
    options.name = "by hand";
    options.duration_ms = duration_ms;
    options.tick_ms = 30000;
    rt::Runner runner(program, TestRegistry(), 0, rt::Bind(program, 0, nullptr),
                      rt::RunnerWorld{clock, provider, answers, state, notifier}, options);
    return runner.Run();
  }
};

std::vector<int64_t> SampleTimes(const rt::Trace& t) {
  std::vector<int64_t> out;
  for (const auto& s : t.samples) out.push_back(s.at_ms);
  return out;
}

TEST(Runner, RunsOverAClockProviderAnswersAndNotifierOfItsOwn) {
  Parts parts;
  TestClock clock;
  rt::Trace t = parts.Run(clock);
  ASSERT_TRUE(t.errors.empty()) << t.errors.front();
  EXPECT_EQ(t.scenario, "by hand");

  // The runner asks the clock for each next tick and evaluates at the instant the clock reports.
  std::vector<int64_t> ticks;
  for (int64_t at = 0; at <= 6 * 60000; at += 30000) ticks.push_back(at);
  EXPECT_EQ(SampleTimes(t), ticks);
  std::vector<int64_t> asked(ticks.begin() + 1, ticks.end());
  asked.push_back(6 * 60000 + 1);  // just past the end, which it does not evaluate
  EXPECT_EQ(clock.asked, asked);

  // The probe flips at 2m: the symptom holds from then, the incident opens and the steps run
  // through the provider, the write with its effect.
  ASSERT_EQ(t.samples.size(), ticks.size());
  EXPECT_EQ(t.samples[3].states, std::vector<rt::Tri>{rt::Tri::kFalse});  // 1m30s
  EXPECT_EQ(t.samples[4].states, std::vector<rt::Tri>{rt::Tri::kTrue});   // 2m
  EXPECT_EQ(parts.provider.execs, (std::vector<std::string>{
                                      "redis-cli ping [read]@2m",
                                      "kubectl rollout restart statefulset/redis -n denis [write]@2m",
                                  }));
  ASSERT_EQ(t.steps.size(), 2u);
  EXPECT_EQ(t.steps[0].status, "ok");
  EXPECT_EQ(t.steps[1].status, "ok");

  // The window opened at 2m, in the given state store; `down for > 1m` holds from 3m, 1m after.
  EXPECT_EQ(parts.state.Get("cache/runbook/0"), std::optional<int64_t>(2 * 60000));
  // The question is answered by the answers given, at 5m.
  ASSERT_EQ(t.fired.size(), 2u);
  EXPECT_EQ(t.fired[0].at_ms, 3 * 60000);
  EXPECT_EQ(t.fired[1].at_ms, 5 * 60000);
  EXPECT_TRUE(t.pending_asks.empty());

  // Pages went to the notifier, which kept them: the runner itself records none.
  EXPECT_EQ(parts.notifier.pages, (std::vector<std::string>{"sre@3m", "ops@5m"}));
  EXPECT_TRUE(t.pages.empty());
  for (const auto& e : t.events) EXPECT_NE(e.kind, rt::TraceEvent::Kind::kPage) << e.name;
}

TEST(Runner, EvaluatesWhenAClockThatWakesLateSays) {
  Parts parts;
  TestClock clock(5000);  // every wake-up 5s after the instant asked for
  rt::Trace t = parts.Run(clock);
  ASSERT_TRUE(t.errors.empty()) << t.errors.front();
  // Evaluated at 0, 35s, 1m5s, ...: the instants the clock reported; the ticks stay on the 30s grid.
  std::vector<int64_t> want{0};
  for (int64_t at = 35000; at <= 6 * 60000; at += 30000) want.push_back(at);
  EXPECT_EQ(SampleTimes(t), want);
  std::vector<int64_t> asked;
  for (int64_t at = 30000; at <= 6 * 60000; at += 30000) asked.push_back(at);
  EXPECT_EQ(clock.asked, asked);
  // Windows and answers read the reported time: first seen at 2m5s, held 1m at the 3m5s wake-up.
  EXPECT_EQ(parts.state.Get("cache/runbook/0"), std::optional<int64_t>(2 * 60000 + 5000));
  EXPECT_EQ(parts.notifier.pages, (std::vector<std::string>{"sre@3m5s", "ops@5m5s"}));
}

// ---- Windows and questions: the runner's, not a side effect of the code that reads them ----------

// `api.up("/")` holds until 3m and again from 5m; redis.ping fails from 1m on (so `down` holds
// from 1m and the incident opens then).
class WindowProvider : public rt::Provider {
 public:
  rt::ProbeAnswer Probe(const rt::ProbeCall& call, int64_t now_ms) override {
    if (call.method == "redis.ping") return {rt::Value::Bool(now_ms < 60000), ""};
    if (call.method == "http.up") return {rt::Value::Bool(now_ms < 3 * 60000 || now_ms >= 5 * 60000), ""};
    return {rt::Value::Unknown(), "not scripted"};
  }
  rt::ExecAnswer Exec(const std::vector<std::string>&, rt::Effect, int64_t) override { return {}; }
};
class NoAnswers : public rt::Answers {
 public:
  std::optional<bool> Answer(const std::string&, int64_t) override { return std::nullopt; }
  std::optional<std::string> DefaultApprover() override { return std::string("the rehearsal"); }  // a dry run
};
// A memory store that logs every opening and closing of a window.
class LoggingStateStore : public rt::MemoryStateStore {
 public:
  void Set(const std::string& key, int64_t value) override {
    log.push_back("open " + key + "@" + rt::FormatMs(value));
    rt::MemoryStateStore::Set(key, value);
  }
  void Erase(const std::string& key) override {
    if (Get(key)) log.push_back("close " + key);
    rt::MemoryStateStore::Erase(key);
  }
  std::vector<std::string> log;
};

constexpr const char* kWindowPolicy = R"(import std.http

policy escalation "Windows policy" {
  target api = http("denis-api")
  contact sre "SRE Lead" "@sre-lead"
  contact ops "On-call"  "@on-call"
  escalate {
    | when                             | then     |
    | api.up("/") or incident for > 2m | page ops |
  }
}
)";
constexpr const char* kWindowRunbook = R"(import std.redis
import std.http
import policy.escalation

runbook shortcut "Short circuits" {
  severity P2
  owner    sre
  target redis = redis("redis")
  target api   = http("denis-api")

  symptoms {
    down "redis.ping error" : not redis.ping()
  }
  escalate {
    | when                                  | then     |
    | api.up("/") or down for > 2m          | page sre |
    | api.up("/") and down for > 1m         | page sre |
    | api.up("/") or ask "¿Datos perdidos?" | page sre |
  }
}
)";

struct WindowParts {
  rt::Program program;
  WindowProvider provider;
  NoAnswers answers;
  LoggingStateStore state;
  KeepingNotifier notifier;

  WindowParts() {
    auto dir = TempDir() / "runner-windows";
    std::filesystem::create_directories(dir / "policy");
    std::ofstream(dir / "policy" / "escalation.rb.denis", std::ios::binary) << kWindowPolicy;
    std::ofstream(dir / "shortcut.rb.denis", std::ios::binary) << kWindowRunbook;
    LoadedProgram l = LoadAny((dir / "shortcut.rb.denis").string(), TestRegistry());
    EXPECT_TRUE(l.program.has_value()) << l.error << RenderText(l.lint);
    if (l.program) program = std::move(*l.program);
  }
  rt::Trace Run() {
    rt::VirtualClock clock;
    rt::RunnerOptions options;
    options.duration_ms = 7 * 60000;
    options.tick_ms = 30000;
    rt::Runner runner(program, TestRegistry(), 0, rt::Bind(program, 0, nullptr),
                      rt::RunnerWorld{clock, provider, answers, state, notifier}, options);
    return runner.Run();
  }
};

std::vector<std::string> FiredAt(const rt::Trace& t) {
  std::vector<std::string> out;
  for (const auto& f : t.fired) out.push_back((f.policy ? "policy " : "") + f.when + "@" + rt::FormatMs(f.at_ms));
  return out;
}

// `a or (b for > D)` with `a` true at some instants: the row's code skips the window then (the
// jump is there), yet the window opens and holds on b's own history, here and in the policy.
TEST(RunnerWindows, AWindowPastAShortCircuitKeepsItsOwnHistory) {
  WindowParts parts;
  ASSERT_EQ(parts.program.runbooks.size(), 1u);
  const rt::Chunk& row = parts.program.chunks.at(parts.program.runbooks[0].rows.at(0).chunk);
  ASSERT_EQ(static_cast<rt::Op>(rt::OpByte(row.code.at(3))), rt::Op::kJUMP_IF_TRUE);  // skips the WINDOW
  rt::Trace t = parts.Run();
  ASSERT_TRUE(t.errors.empty()) << t.errors.front();
  // `down` from 1m, while api.up("/") holds and the rows skip their windows: each window opened at 1m
  // and never closed, the policy's on the incident, which also opened at 1m.
  EXPECT_EQ(parts.state.log, (std::vector<std::string>{"open shortcut/runbook/0@1m", "open shortcut/runbook/1@1m",
                                                       "open shortcut/policy/0@1m"}));
  // api.up("/") fails at 3m, when `down for > 2m` has held 2m: the `or` rows stay true (they would go
  // false, and fire again at 5m, with a window first seen at 3m). The `and` row fires when its window
  // reaches 1m, at 2m; it goes false while api is down from 3m, and fires again at 5m.
  EXPECT_EQ(FiredAt(t), (std::vector<std::string>{
                            "api.up(\"/\") or down for > 2m@0s",
                            "api.up(\"/\") or ask \"¿Datos perdidos?\"@0s",
                            "policy api.up(\"/\") or incident for > 2m@0s",
                            "api.up(\"/\") and down for > 1m@2m",
                            "api.up(\"/\") and down for > 1m@5m",
                        }));
}

// A window whose row never reads it (the row's code replaced by `false`) still tracks its condition:
// the runner evaluates every window's own chunk at every instant.
TEST(RunnerWindows, AWindowNoRowReadsStillTracksItsCondition) {
  WindowParts parts;
  ASSERT_EQ(parts.program.runbooks.size(), 1u);
  for (uint32_t* chunk : {&parts.program.runbooks[0].rows.at(0).chunk, &parts.program.policy->rows.at(0).chunk}) {
    rt::Chunk& c = parts.program.chunks.at(*chunk);
    c.code = {rt::Encode(rt::Op::kFALSE), rt::Encode(rt::Op::kRETURN)};
    c.lines.resize(2);
  }
  ASSERT_FALSE(rt::Verify(parts.program, TestRegistry()).has_value());
  rt::Trace t = parts.Run();
  ASSERT_TRUE(t.errors.empty()) << t.errors.front();
  EXPECT_EQ(parts.state.Get("shortcut/runbook/0"), std::optional<int64_t>(60000));
  EXPECT_EQ(parts.state.Get("shortcut/policy/0"), std::optional<int64_t>(60000));
  EXPECT_EQ(parts.state.log, (std::vector<std::string>{"open shortcut/runbook/0@1m", "open shortcut/runbook/1@1m",
                                                       "open shortcut/policy/0@1m"}));
}

// A question in a row the runner evaluates is asked, even where the code short-circuits past it
// (api.up("/") holds at the end): unanswered at the end, it is pending.
TEST(RunnerWindows, AQuestionPastAShortCircuitIsStillAsked) {
  WindowParts parts;
  rt::Trace t = parts.Run();
  ASSERT_TRUE(t.errors.empty()) << t.errors.front();
  EXPECT_EQ(t.pending_asks, std::vector<std::string>{"¿Datos perdidos?"});
}

TEST(Runner, RecordingNotifierWritesThePageAndItsEventIntoTheTrace) {
  rt::RecordingNotifier notifier;
  rt::Trace t;
  notifier.Page(rt::PageSent{"sre", "SRE Lead", "@sre-lead", {"slack #sre"}, 90000}, t);
  ASSERT_EQ(t.pages.size(), 1u);
  EXPECT_EQ(t.pages[0].contact, "sre");
  ASSERT_EQ(t.events.size(), 1u);
  EXPECT_EQ(t.events[0].kind, rt::TraceEvent::Kind::kPage);
  EXPECT_EQ(t.events[0].at_ms, 90000);
  EXPECT_EQ(t.events[0].detail, "SRE Lead @sre-lead via slack #sre");
}

}  // namespace
}  // namespace rb::test
