// Incidents as they unfold (docs/rehearsal.md): approvals and people, a failed verify stopping the
// sequence, passed-over steps looked at again, closed and reopened incidents, rows' `run` beside the
// walk, windows firing at first-seen + D, pages once per incident and level, and sparse instants.
// The world is the test's own: probes from timelines, approvals and "done" given at set times.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <utility>

#include "runtime/binding.hpp"
#include "runtime/executor.hpp"
#include "runtime/runner.hpp"
#include "runtime/state_store.hpp"
#include "tests/compile_util.hpp"

namespace rb::test {
namespace {

constexpr int64_t kMin = 60000;

// redis.ping() follows a timeline of (from, answer); commands: `redis-cli ping` answers PONG when
// ping is true, else exits 1; everything else exits 0.
class TimelineProvider : public rt::Provider {
 public:
  std::vector<std::pair<int64_t, bool>> ping{{0, true}};
  std::vector<std::pair<int64_t, bool>> mem_high{{0, false}};
  bool sparse_world = true;
  std::vector<std::string> execs;

  static bool At(const std::vector<std::pair<int64_t, bool>>& tl, int64_t now) {
    bool v = tl.front().second;
    for (const auto& [at, b] : tl) {
      if (at <= now) v = b;
    }
    return v;
  }
  rt::ProbeAnswer Probe(const rt::ProbeCall& call, int64_t now_ms) override {
    if (call.method == "redis.ping") return {rt::Value::Bool(At(ping, now_ms)), ""};
    if (call.method == "redis.memory_used") return {rt::Value::Number(rt::ValueType::kPercent, At(mem_high, now_ms) ? 95 : 10), ""};
    return {rt::Value::Unknown(), "not scripted"};
  }
  rt::ExecAnswer Exec(const std::vector<std::string>& argv, rt::Effect, int64_t now_ms) override {
    std::string line;
    for (const auto& w : argv) line += (line.empty() ? "" : " ") + w;
    execs.push_back(line + "@" + rt::FormatMs(now_ms));
    rt::ExecAnswer a;
    a.status = rt::ExecAnswer::Status::kOk;
    if (line == "redis-cli ping") {
      bool up = At(ping, now_ms);
      a.status = up ? rt::ExecAnswer::Status::kOk : rt::ExecAnswer::Status::kFailed;
      a.exit_code = up ? 0 : 1;
      a.out = up ? "PONG\n" : "";
    }
    return a;
  }
  std::optional<int64_t> NextChange(int64_t after) override {
    if (!sparse_world) return after + 1;
    std::optional<int64_t> best;
    for (const auto* tl : {&ping, &mem_high}) {
      for (const auto& [at, b] : *tl) {
        if (at > after && (!best || at < *best)) best = at;
      }
    }
    for (int64_t at : extra_changes) {
      if (at > after && (!best || at < *best)) best = at;
    }
    return best;
  }
  std::vector<int64_t> extra_changes;  // approval and done times
};

class GivenAnswers : public rt::Answers {
 public:
  std::map<std::string, std::vector<rt::Approval>> approvals, done;
  std::optional<std::string> default_approver = std::string("the rehearsal");
  std::optional<bool> Answer(const std::string&, int64_t) override { return std::nullopt; }
  static std::vector<rt::Approval> Upto(const std::vector<rt::Approval>& list, int64_t now) {
    std::vector<rt::Approval> out;
    for (const auto& a : list) {
      if (a.at_ms <= now) out.push_back(a);
    }
    return out;
  }
  std::vector<rt::Approval> Approvals(const std::string& step, int64_t now) override { return Upto(approvals[step], now); }
  std::vector<rt::Approval> Done(const std::string& step, int64_t now) override { return Upto(done[step], now); }
  std::optional<std::string> DefaultApprover() override { return default_approver; }
};

class VirtualWorld {
 public:
  explicit VirtualWorld(const std::string& text) : program(CompileText("flow.rb.denis", text)) {}
  rt::Program program;
  TimelineProvider provider;
  GivenAnswers answers;
  rt::MemoryStateStore state;
  rt::RecordingNotifier notifier;
  rt::Trace Run(int64_t duration_ms, int64_t tick_ms = 15000, bool sparse = true) {
    for (const auto& m : {&answers.approvals, &answers.done}) {
      for (const auto& [step, list] : *m) {
        for (const auto& a : list) provider.extra_changes.push_back(a.at_ms);
      }
    }
    rt::VirtualClock clock;
    rt::RunnerOptions options;
    options.name = "flow";
    options.duration_ms = duration_ms;
    options.tick_ms = tick_ms;
    options.sparse = sparse;
    rt::Runner runner(program, TestRegistry(), 0, rt::Bind(program, 0, nullptr),
                      rt::RunnerWorld{clock, provider, answers, state, notifier}, options);
    return runner.Run();
  }
};

// The runs of a step, as "status@start".
std::vector<std::string> Runs(const rt::Trace& t, const std::string& step) {
  std::vector<std::string> out;
  for (const auto& s : t.steps) {
    if (s.name == step) out.push_back(s.status + "@" + rt::FormatMs(s.at_ms));
  }
  return out;
}
std::vector<std::string> Events(const rt::Trace& t, rt::TraceEvent::Kind kind) {
  std::vector<std::string> out;
  for (const auto& e : t.events) {
    if (e.kind == kind) out.push_back(e.name + ":" + e.status + "@" + rt::FormatMs(e.at_ms));
  }
  return out;
}
const rt::StepRun* FirstRun(const rt::Trace& t, const std::string& step) {
  for (const auto& s : t.steps) {
    if (s.name == step) return &s;
  }
  return nullptr;
}

std::string Runbook(const std::string& steps, const std::string& rows = "| down for > 1h | page ops |") {
  return R"(import std.redis
import std.kube
import policy.escalation

runbook cache "Cache down" {
  severity P2
  owner    sre
  target redis = redis("redis")

  symptoms {
    down "redis.ping error" : not redis.ping()
  }
  steps {
)" + steps + R"(
  }
  escalate {
    | when | then |
    )" + rows + R"(
  }
}
)";
}

constexpr const char* kLastResort = R"(
    check state "State" {
      $ redis-cli ping
    }
    last_resort wipe "Recreate the volume" {
      $ kubectl delete pvc data-redis-0 -n denis
    }
    check after "After" {
      $ redis-cli info clients
    }
)";

TEST(Approvals, ALastResortWithoutApprovalNeverRuns) {
  VirtualWorld w(Runbook(kLastResort));
  w.provider.ping = {{0, true}, {1 * kMin, false}};
  rt::Trace t = w.Run(10 * kMin);
  ASSERT_TRUE(t.errors.empty()) << t.errors.front();
  EXPECT_EQ(Runs(t, "wipe"), std::vector<std::string>{"pending@1m"});
  for (const auto& e : w.provider.execs) EXPECT_EQ(e.find("kubectl delete"), std::string::npos) << e;
  // The steps after it wait with it.
  EXPECT_TRUE(Runs(t, "after").empty());
  EXPECT_EQ(Events(t, rt::TraceEvent::Kind::kApproval), std::vector<std::string>{"wipe:waiting@1m"});
  EXPECT_NE(std::find(t.pending_steps.begin(), t.pending_steps.end(), "wipe"), t.pending_steps.end());
}

TEST(Approvals, AnApprovedLastResortRunsWhenApprovedAndSaysByWhom) {
  VirtualWorld w(Runbook(kLastResort));
  w.provider.ping = {{0, true}, {1 * kMin, false}};
  w.answers.approvals["wipe"] = {{true, "alice", 3 * kMin}};
  rt::Trace t = w.Run(10 * kMin);
  EXPECT_EQ(Runs(t, "wipe"), std::vector<std::string>{"ok@1m"});
  ASSERT_NE(FirstRun(t, "wipe"), nullptr);
  EXPECT_EQ(FirstRun(t, "wipe")->approved_by, "alice");
  EXPECT_NE(std::find(w.provider.execs.begin(), w.provider.execs.end(), "kubectl delete pvc data-redis-0 -n denis@3m"),
            w.provider.execs.end());
  EXPECT_EQ(Runs(t, "after"), std::vector<std::string>{"ok@3m"});
}

TEST(Approvals, ADeniedApprovalLeavesTheStepPendingAndTheSequenceGoesOn) {
  VirtualWorld w(Runbook(kLastResort));
  w.provider.ping = {{0, true}, {1 * kMin, false}};
  w.answers.approvals["wipe"] = {{false, "bob", 2 * kMin}};
  rt::Trace t = w.Run(10 * kMin);
  EXPECT_EQ(Runs(t, "wipe"), std::vector<std::string>{"pending@1m"});
  EXPECT_EQ(Runs(t, "after"), std::vector<std::string>{"ok@2m"});
  for (const auto& e : w.provider.execs) EXPECT_EQ(e.find("kubectl delete"), std::string::npos) << e;
}

TEST(Approvals, AnActionRecordsWhoApprovedIt) {
  VirtualWorld w(Runbook(R"(
    action restart "Restart" {
      $ kubectl rollout restart statefulset/redis -n denis
    }
)"));
  w.provider.ping = {{0, true}, {1 * kMin, false}};
  rt::Trace t = w.Run(5 * kMin);
  ASSERT_NE(FirstRun(t, "restart"), nullptr);
  EXPECT_EQ(FirstRun(t, "restart")->approved_by, "the rehearsal");
  // Without a default approver (a live run), the action waits for a person like a last resort.
  VirtualWorld live(Runbook(R"(
    action restart "Restart" {
      $ kubectl rollout restart statefulset/redis -n denis
    }
)"));
  live.provider.ping = {{0, true}, {1 * kMin, false}};
  live.answers.default_approver.reset();
  rt::Trace t2 = live.Run(5 * kMin);
  EXPECT_EQ(Runs(t2, "restart"), std::vector<std::string>{"pending@1m"});
}

TEST(People, AManualStepWaitsUntilSomeoneSaysItIsDone) {
  VirtualWorld w(Runbook(R"(
    manual repair "Repair the AOF by hand" {
      "redis-check-aof --fix appendonly.aof"
    }
    check state "State" {
      $ redis-cli ping
    }
)"));
  w.provider.ping = {{0, true}, {1 * kMin, false}};
  w.answers.done["repair"] = {{true, "carol", 4 * kMin}};
  rt::Trace t = w.Run(10 * kMin);
  EXPECT_EQ(Runs(t, "repair"), std::vector<std::string>{"done@1m"});
  EXPECT_EQ(FirstRun(t, "repair")->done_by, "carol");
  EXPECT_EQ(Runs(t, "state"), std::vector<std::string>{"failed@4m"});
  EXPECT_EQ(Events(t, rt::TraceEvent::Kind::kDone), (std::vector<std::string>{"repair:waiting@1m", "repair:done@4m"}));

  VirtualWorld nobody(Runbook(R"(
    manual repair "Repair the AOF by hand" {
      "redis-check-aof --fix appendonly.aof"
    }
    check state "State" {
      $ redis-cli ping
    }
)"));
  nobody.provider.ping = {{0, true}, {1 * kMin, false}};
  rt::Trace t2 = nobody.Run(10 * kMin);
  EXPECT_EQ(Runs(t2, "repair"), std::vector<std::string>{"pending@1m"});
  EXPECT_TRUE(Runs(t2, "state").empty());
}

TEST(People, AManualStepWaitingWhenTheIncidentClosesEndsPendingAndTheWalkGoesOn) {
  VirtualWorld w(Runbook(R"(
    manual repair "Repair the AOF by hand" {
      "redis-check-aof --fix appendonly.aof"
    }
    check state "State" {
      $ redis-cli ping
    }
    last_resort wipe "Recreate the volume" {
      $ kubectl delete pvc data-redis-0 -n denis
    }
)"));
  w.provider.ping = {{0, true}, {1 * kMin, false}, {3 * kMin, true}};
  // Approved in advance: still, a last resort the walk reaches after the close is not run.
  w.answers.approvals["wipe"] = {{true, "alice", 0}};
  w.answers.done["repair"] = {{true, "carol", 5 * kMin}};  // too late: the incident closed at 3m
  rt::Trace t = w.Run(8 * kMin);
  EXPECT_EQ(Runs(t, "repair"), std::vector<std::string>{"pending@1m"});
  EXPECT_EQ(t.pending_why["repair"], "the incident closed before anyone said it was done");
  EXPECT_EQ(Runs(t, "state"), std::vector<std::string>{"ok@3m"});  // the walk goes on: checks confirm the recovery
  EXPECT_EQ(Runs(t, "wipe"), std::vector<std::string>{"pending@3m"});
  EXPECT_EQ(t.pending_why["wipe"], "the incident closed before anyone approved it");
  for (const auto& e : w.provider.execs) EXPECT_EQ(e.find("kubectl delete"), std::string::npos) << e;
}

TEST(Approvals, AnApprovalOfAnEarlierIncidentDoesNotApproveAReopenedOne) {
  VirtualWorld w(Runbook(kLastResort));
  // Incident #1 from 1m to 3m: the wipe waits, is abandoned at 3m; alice approves at 4m, with no
  // incident open. Incident #2 opens at 6m: her approval was for the first one.
  w.provider.ping = {{0, true}, {1 * kMin, false}, {3 * kMin, true}, {6 * kMin, false}};
  w.answers.approvals["wipe"] = {{true, "alice", 4 * kMin}, {true, "bob", 7 * kMin}};
  rt::Trace t = w.Run(10 * kMin);
  EXPECT_EQ(Runs(t, "wipe"), (std::vector<std::string>{"pending@1m", "ok@6m"}));
  ASSERT_EQ(t.steps.size(), 6u);
  EXPECT_EQ(FirstRun(t, "wipe")->approved_by, "");
  const rt::StepRun* second = nullptr;
  for (const auto& s : t.steps) {
    if (s.name == "wipe" && s.walk == 2) second = &s;
  }
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(second->approved_by, "bob");
  EXPECT_NE(std::find(w.provider.execs.begin(), w.provider.execs.end(), "kubectl delete pvc data-redis-0 -n denis@7m"),
            w.provider.execs.end());
}

TEST(Approvals, PendingStepsSayWhy) {
  VirtualWorld w(Runbook(kLastResort + std::string(R"(
    action flush "Flush when memory is high" when redis.memory_used() > 90% {
      $ redis-cli config set maxmemory-policy allkeys-lru
    }
)")));
  w.provider.ping = {{0, true}, {1 * kMin, false}};
  w.answers.approvals["wipe"] = {{false, "bob", 2 * kMin}};
  rt::Trace t = w.Run(5 * kMin);
  EXPECT_EQ(t.pending_why["wipe"], "approval denied by bob");
  VirtualWorld waiting(Runbook(kLastResort));
  waiting.provider.ping = {{0, true}, {1 * kMin, false}};
  rt::Trace t2 = waiting.Run(5 * kMin);
  EXPECT_EQ(t2.pending_why["wipe"], "it waits for an approval nobody gave");
}

constexpr const char* kVerifyRows = "| failed(back) | page sre |";
constexpr const char* kVerify = R"(
    verify back "PONG again" {
      $ redis-cli ping
      expect output == "PONG" within 1m every 10s
    }
    check after "After" {
      $ redis-cli info clients
    }
)";

TEST(Verify, AFailedVerifyStopsTheSequence) {
  VirtualWorld w(Runbook(kVerify, kVerifyRows));
  w.provider.ping = {{0, true}, {1 * kMin, false}};
  rt::Trace t = w.Run(10 * kMin);
  EXPECT_EQ(Runs(t, "back"), std::vector<std::string>{"failed@1m"});
  EXPECT_TRUE(Runs(t, "after").empty());
  EXPECT_EQ(t.stopped, "back");
  EXPECT_EQ(Events(t, rt::TraceEvent::Kind::kStop), std::vector<std::string>{"back:@2m"});
  // The row reading its failure still fires.
  ASSERT_EQ(t.fired.size(), 1u);
  EXPECT_EQ(t.fired[0].at_ms, 2 * kMin);
}

TEST(Verify, OnFailureContinueLetsTheSequenceGoOn) {
  std::string steps = kVerify;
  steps.replace(steps.find("\"PONG again\""), 12, "\"PONG again\" on failure continue");
  VirtualWorld w(Runbook(steps, kVerifyRows));
  w.provider.ping = {{0, true}, {1 * kMin, false}};
  rt::Trace t = w.Run(10 * kMin);
  EXPECT_EQ(Runs(t, "back"), std::vector<std::string>{"failed@1m"});
  EXPECT_EQ(Runs(t, "after"), std::vector<std::string>{"ok@2m"});
  EXPECT_TRUE(t.stopped.empty());
}

TEST(FollowTheIncident, AStepPassedOverIsLookedAtAgainWhileTheIncidentIsOpen) {
  VirtualWorld w(Runbook(R"(
    check state "State" {
      $ redis-cli ping
    }
    action flush "Flush when memory is high" when redis.memory_used() > 90% {
      $ redis-cli config set maxmemory-policy allkeys-lru
    }
)"));
  w.provider.ping = {{0, true}, {1 * kMin, false}};
  w.provider.mem_high = {{0, false}, {8 * kMin, true}};
  rt::Trace t = w.Run(12 * kMin);
  EXPECT_EQ(Runs(t, "flush"), std::vector<std::string>{"ok@8m"});
  EXPECT_TRUE(t.skipped.empty());  // it ran after all
  // Once the incident is closed, a passed-over step is not looked at any more.
  VirtualWorld closed(Runbook(R"(
    action flush "Flush when memory is high" when redis.memory_used() > 90% {
      $ redis-cli config set maxmemory-policy allkeys-lru
    }
)"));
  closed.provider.ping = {{0, true}, {1 * kMin, false}, {3 * kMin, true}};
  closed.provider.mem_high = {{0, false}, {8 * kMin, true}};
  rt::Trace t2 = closed.Run(12 * kMin);
  EXPECT_TRUE(Runs(t2, "flush").empty());
  EXPECT_EQ(t2.skipped, std::vector<std::string>{"flush"});
}

TEST(FollowTheIncident, AClosedIncidentThatReopensWalksItsStepsAgain) {
  VirtualWorld w(Runbook(R"(
    check state "State" {
      $ redis-cli ping
    }
)"));
  w.provider.ping = {{0, true}, {1 * kMin, false}, {3 * kMin, true}, {6 * kMin, false}};
  rt::Trace t = w.Run(10 * kMin);
  EXPECT_EQ(Events(t, rt::TraceEvent::Kind::kIncident),
            (std::vector<std::string>{"cache:opened@1m", "cache:closed@3m", "cache:reopened@6m"}));
  EXPECT_EQ(t.incidents, 2);
  EXPECT_EQ(Runs(t, "state"), (std::vector<std::string>{"failed@1m", "failed@6m"}));
  ASSERT_EQ(t.steps.size(), 2u);
  EXPECT_EQ(t.steps[1].walk, 2);
}

TEST(FollowTheIncident, ARowsRunIsNotHeldBehindAPollingExpectAndRunsAgain) {
  VirtualWorld w(Runbook(R"(
    check state "State" {
      $ redis-cli info clients
    }
    verify back "PONG again" {
      $ redis-cli ping
      expect output == "PONG" within 10m every 30s
    }
)", "| down for > 2m | run state |"));
  w.provider.ping = {{0, true}, {1 * kMin, false}};
  rt::Trace t = w.Run(8 * kMin);
  // The walk ran `state` at 1m and polls `back` until 11m; the row's `run state` at 3m runs it again,
  // at once, beside the poll.
  EXPECT_EQ(Runs(t, "state"), (std::vector<std::string>{"ok@1m", "ok@3m"}));
  ASSERT_EQ(t.steps.size(), 3u);
  EXPECT_EQ(t.steps[2].row, "down for > 2m");
}

TEST(FollowTheIncident, ARowDoesNotStartAStepTheWalkStartedAtTheSameInstant) {
  VirtualWorld w(Runbook(R"(
    action restart "Restart" {
      $ kubectl rollout restart statefulset/redis -n denis
    }
)", "| down | run restart |"));
  w.provider.ping = {{0, true}, {1 * kMin, false}};
  rt::Trace t = w.Run(4 * kMin);
  EXPECT_EQ(Runs(t, "restart"), std::vector<std::string>{"ok@1m"});
  EXPECT_EQ(std::count(w.provider.execs.begin(), w.provider.execs.end(), "kubectl rollout restart statefulset/redis -n denis@1m"), 1);
}

TEST(FollowTheIncident, AReopenedIncidentStartsAtTheRunbooksSeverity) {
  VirtualWorld w(Runbook(R"(
    check state "State" {
      $ redis-cli ping
    }
)", "| down for > 1m | declare P1 |"));
  w.provider.ping = {{0, true}, {1 * kMin, false}, {3 * kMin, true}, {6 * kMin, false}};
  rt::Trace t = w.Run(6 * kMin + 30000);
  EXPECT_EQ(t.severity, "P2");  // incident #2 has not been down a minute yet
  rt::Trace t2 = [&] {
    VirtualWorld again(Runbook(R"(
    check state "State" {
      $ redis-cli ping
    }
)", "| down for > 1m | declare P1 |"));
    again.provider.ping = w.provider.ping;
    return again.Run(10 * kMin);
  }();
  EXPECT_EQ(t2.severity, "P1");  // and once it has, it is P1 again
}

TEST(Sparse, AStepEndingAfterTheRowsIsSeenByTheRowsAtTheNextTick) {
  // The walk passes `again` over (memory is low); the row's `run again` at 3m starts it after this
  // instant's rows were read, and it fails at once: the `failed(again)` row sees it at the next tick
  // even though nothing in the world changes any more.
  const std::string text = Runbook(R"(
    check again "Ping again" when redis.memory_used() > 90% {
      $ redis-cli ping
    }
)", R"(| down for > 2m | run again |
    | failed(again) | page sre |)");
  VirtualWorld sparse(text), dense(text);
  for (auto* w : {&sparse, &dense}) w->provider.ping = {{0, true}, {1 * kMin, false}};
  dense.provider.sparse_world = false;
  rt::Trace a = sparse.Run(60 * kMin);
  rt::Trace b = dense.Run(60 * kMin);
  ASSERT_EQ(b.fired.size(), 2u);
  ASSERT_EQ(a.fired.size(), 2u);
  EXPECT_EQ(rt::FormatMs(b.fired[1].at_ms), "3m15s");
  EXPECT_EQ(rt::FormatMs(a.fired[1].at_ms), "3m15s");
}

TEST(Windows, AWindowFiresAtFirstSeenPlusDWhateverElseIsPolling) {
  VirtualWorld w(Runbook(R"(
    verify back "PONG again" {
      $ redis-cli ping
      expect output == "PONG" within 20m every 30s
    }
)", "| down for > 5m | page sre |"));
  w.provider.ping = {{0, true}, {10 * kMin, false}};
  rt::Trace t = w.Run(20 * kMin, 60000);
  ASSERT_EQ(t.fired.size(), 1u);
  EXPECT_EQ(rt::FormatMs(t.fired[0].at_ms), "15m");
  // First seen at an instant that is not a tick (a poll's): it fires exactly D later, not at a later tick.
  VirtualWorld p(Runbook(R"(
    verify back "PONG again" {
      $ redis-cli ping
      expect output == "OK" within 5m every 30s
    }
)", "| down for > 5m | page sre |"));
  p.provider.ping = {{0, true}, {10 * kMin, false}, {11 * kMin, true}, {11 * kMin + 30000, false}};
  rt::Trace t2 = p.Run(20 * kMin, 60000);
  ASSERT_FALSE(t2.fired.empty());
  EXPECT_EQ(rt::FormatMs(t2.fired.back().at_ms), "16m30s");
}

TEST(Pages, AContactIsPagedOncePerIncidentAndLevelWithAMessage) {
  VirtualWorld w(Runbook(R"(
    check state "State" {
      $ redis-cli ping
    }
)", R"(| down for > 1m | page sre |
    | down for > 3m | page sre |
    | down for > 4m | declare P1, page sre |)"));
  w.provider.ping = {{0, true}, {1 * kMin, false}};
  rt::Trace t = w.Run(8 * kMin);
  ASSERT_EQ(t.pages.size(), 2u);
  EXPECT_EQ(rt::FormatMs(t.pages[0].at_ms), "2m");
  EXPECT_EQ(t.pages[0].message, "Cache down (P2): down holds");
  EXPECT_EQ(rt::FormatMs(t.pages[1].at_ms), "5m");  // P1 is a new level
  EXPECT_EQ(t.pages[1].message, "Cache down (P1): down holds");
  EXPECT_EQ(Events(t, rt::TraceEvent::Kind::kPageHeld), std::vector<std::string>{"sre:@4m"});
}

TEST(Sparse, AnEmptyMonthTakesAFewInstantsAndDecidesTheSame) {
  const std::string text = Runbook(R"(
    check state "State" {
      $ redis-cli ping
    }
    verify back "PONG again" {
      $ redis-cli ping
      expect output == "PONG" within 10m every 1m
    }
)", "| down for > 1h | page sre |");
  VirtualWorld sparse(text), dense(text);
  for (auto* w : {&sparse, &dense}) w->provider.ping = {{0, true}, {5LL * 24 * 60 * kMin, false}, {20LL * 24 * 60 * kMin, true}};
  dense.provider.sparse_world = false;
  const int64_t month = 30LL * 24 * 60 * kMin;
  rt::Trace a = sparse.Run(month, 15000);
  rt::Trace b = dense.Run(month, 60 * kMin);  // a dense month at 15s would be 172,801 instants
  EXPECT_LT(a.samples.size(), 100u);
  ASSERT_EQ(a.fired.size(), 1u);
  EXPECT_EQ(rt::FormatMs(a.fired[0].at_ms), rt::FormatMs(5LL * 24 * 60 * kMin + 60 * kMin));
  EXPECT_EQ(Runs(a, "back"), std::vector<std::string>{"failed@5d"});
  EXPECT_EQ(Events(a, rt::TraceEvent::Kind::kIncident), Events(b, rt::TraceEvent::Kind::kIncident));
  EXPECT_EQ(Runs(a, "state"), Runs(b, "state"));
}

}  // namespace
}  // namespace rb::test
