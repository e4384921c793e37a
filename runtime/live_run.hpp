// Runs on the real clock against the live natives (docs/live.md): `runbook run --dry-run`. The same
// runner as a rehearsal, with other parts plugged in: a clock that waits, the live read provider
// (reads happen for real; writes, capability calls and pages are shown as they would be done and not
// done), the environment's state store for `for > D` windows, and answers a dry run can give itself.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>

#include "runtime/binding.hpp"
#include "runtime/bytecode.hpp"
#include "runtime/live.hpp"
#include "runtime/runner.hpp"
#include "runtime/state_store.hpp"
#include "runtime/trace.hpp"
#include "runtime/vm.hpp"

namespace rb::rt {

// The wall clock: instants are ms since the run started, and advancing waits for them (in short
// sleeps, returning early once `stop` is set).
class RealClock : public Clock {
 public:
  explicit RealClock(const std::atomic<bool>* stop = nullptr) : stop_(stop), start_(std::chrono::steady_clock::now()) {}
  int64_t Now() override;
  void AdvanceTo(int64_t at_ms) override;

 private:
  const std::atomic<bool>* stop_;
  std::chrono::steady_clock::time_point start_;
};

// A state store on another store, keeping wall-clock times (ms since the epoch) there and run times
// here: a window first seen by an earlier run is read as first seen before this one started.
class WallClockStateStore : public StateStore {
 public:
  WallClockStateStore(StateStore& inner, int64_t run_start_epoch_ms) : inner_(inner), start_(run_start_epoch_ms) {}
  std::optional<int64_t> Get(const std::string& key) override;
  void Set(const std::string& key, int64_t value) override { inner_.Set(key, value + start_); }
  void Erase(const std::string& key) override { inner_.Erase(key); }
  std::optional<std::string> Unavailable() const override { return inner_.Unavailable(); }

 private:
  StateStore& inner_;
  int64_t start_;
};

// What a dry run answers for the people it would ask: `--answer` for questions; actions approved by
// "dry run" (nothing is done anyway); last resorts never (a live run needs the flag and the name typed);
// manual steps said done by "dry run", so the rest of the sequence is shown.
class DryRunAnswers : public Answers {
 public:
  DryRunAnswers(std::map<std::string, bool> answers, std::set<std::string> last_resorts)
      : answers_(std::move(answers)), last_resorts_(std::move(last_resorts)) {}
  std::optional<bool> Answer(const std::string& question, int64_t now_ms) override;
  std::vector<Approval> Approvals(const std::string& step, int64_t now_ms) override;
  std::vector<Approval> Done(const std::string& step, int64_t now_ms) override;
  std::optional<std::string> DefaultApprover() override { return std::string("dry run"); }

 private:
  std::map<std::string, bool> answers_;
  std::set<std::string> last_resorts_;
};

struct DryRunOptions {
  VmLimits limits;
  const Environment* env = nullptr;
  const ParamOverrides* params = nullptr;  // --param
  int64_t for_ms = 0;                      // --for: stop then (0: when settled, at most 24h)
  int64_t tick_ms = 15000;                 // --tick
  std::map<std::string, bool> answers;     // --answer "QUESTION=yes"
  const std::atomic<bool>* stop = nullptr;  // set by Ctrl-C
  std::function<bool(const Trace&)> after_instant;
  std::function<void(const Trace&)> before_asking;  // RunnerOptions::before_asking
  Notifier* notifier = nullptr;  // a dry run's: shows the pages (with their payloads), sends none
};
// Plays `runbook` live and dry; `provider` must be a read-only live provider (writes are not done).
Trace DryRun(const Program& program, const Registry& registry, uint32_t runbook, LiveProvider& provider,
             StateStore& state, const DryRunOptions& options);

// The parts of a live run that changes things (`runbook run` without --dry-run): the operator's
// answers, the notifier that sends pages, and the journal that records every change before it starts.
struct LiveParts {
  Answers& answers;
  Notifier& notifier;
  Journal* journal = nullptr;
};
// Plays `runbook` live: the same walk as DryRun, with `provider` running the writes it is given
// (SetWrites) once the runner has had them approved and the journal has recorded them. `options`'
// answers are ignored (they are the operator's, in `parts.answers`).
Trace LiveRun(const Program& program, const Registry& registry, uint32_t runbook, LiveProvider& provider,
              StateStore& state, const LiveParts& parts, const DryRunOptions& options);

}  // namespace rb::rt
