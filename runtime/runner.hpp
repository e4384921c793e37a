// The runner: one loop that plays a runbook over time. At each evaluation instant it evaluates the
// symptoms, opens the incident, runs the steps in order with their guards and `expect` polls, and
// fires the escalation rows (the runbook's, then the policy's). Everything it reads or does in the
// world goes through the interfaces below, so a rehearsal (virtual clock, scenario provider) and a
// live run (real clock, live providers) are the same runner with other parts plugged in.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/binding.hpp"
#include "runtime/bytecode.hpp"
#include "runtime/config.hpp"
#include "runtime/registry.hpp"
#include "runtime/state_store.hpp"
#include "runtime/trace.hpp"
#include "runtime/value.hpp"
#include "runtime/vm.hpp"

namespace rb::rt {

// ---- Clock: when the next evaluation instant is --------------------------------------------------
// Times are ms since the run started. The runner asks for the instant it needs next (a tick or an
// `expect` poll); a virtual clock jumps there, a real one waits for it.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t Now() = 0;
  virtual void AdvanceTo(int64_t at_ms) = 0;
  // The wall-clock instant (UTC seconds since the epoch) of run time `at_ms`, what `now()` reads.
  // A live clock reads the system clock.
  virtual double WallSeconds(int64_t at_ms);
};
// The instant a rehearsal starts at when its scenario gives no `start:`: 2026-01-01T00:00:00Z.
inline constexpr double kDefaultRehearsalStart = 1767225600.0;
// A rehearsal's clock: starts at 0 and moves only when the runner advances it; `now()` reads the
// scenario's `start:` plus the virtual time.
class VirtualClock : public Clock {
 public:
  int64_t Now() override { return now_; }
  void AdvanceTo(int64_t at_ms) override { now_ = at_ms; }
  double WallSeconds(int64_t at_ms) override { return start_s_ + static_cast<double>(at_ms) / 1000.0; }
  void SetStart(double epoch_seconds) { start_s_ = epoch_seconds; }

 private:
  int64_t now_ = 0;
  double start_s_ = kDefaultRehearsalStart;
};

// ---- Provider: probes and commands ---------------------------------------------------------------
// A probe as the runtime sees it: which target, which method, which arguments.
struct ProbeCall {
  std::string target;   // the runbook's (or policy's) target name: api
  std::string binding;  // its environment binding: denis-api
  std::string method;   // a method "redis.ping", or a native "prom" (a method's body calling it)
  std::vector<Value> args;
  Effect effect = Effect::kRead;
};
struct ProbeAnswer {
  Value value;         // unknown when the probe failed, timed out or has no data
  std::string reason;  // why it is unknown: "timeout", "connection refused", "no data in scenario"
  // False when the provider has nothing for this probe at all (a scenario with no key for it): a
  // method is then run through its body, whose natives are asked in turn.
  bool answered = true;
};
struct ExecAnswer {
  // kNotRun: a dry run's write, shown as it would be done and not done (`err` says so).
  enum class Status : uint8_t { kOk, kFailed, kTimeout, kNoData, kNotRun } status = Status::kNoData;
  int exit_code = 0;
  std::string out, err;
};

// Where the runner's reads and commands go. The scenario provider answers from a timeline; live
// providers (Redis, HTTP, exec with the environment's allowlist) implement the same interface later.
class Provider {
 public:
  virtual ~Provider() = default;
  virtual ProbeAnswer Probe(const ProbeCall& call, int64_t now_ms) = 0;
  // A command; `effect` is re-derived from the bound argv. Dry providers never run writes.
  virtual ExecAnswer Exec(const std::vector<std::string>& argv, Effect effect, int64_t now_ms) = 0;
  // The same command with the words a scenario's command keys are matched by (`key_argv`: bound under
  // the scenario's own bindings, see ScenarioKeyArgv; empty: match on `argv`). Live worlds ignore it.
  virtual ExecAnswer Exec(const std::vector<std::string>& argv, Effect effect, int64_t now_ms,
                          const std::vector<std::string>& key_argv) {
    (void)key_argv;
    return Exec(argv, effect, now_ms);
  }
  // Whether Exec is given the words with secrets as markers (BoundCommand::secret_argv) to put the
  // values in itself (a live world), or as *** (a rehearsal, which never needs them).
  virtual bool RunsSecrets() const { return false; }
  // Whether a write given to Exec is really done (a live run) rather than shown as it would be.
  virtual bool RunsWrites() const { return false; }
  // The bindings a scenario's command keys are written under (its `params:`, the defaults, targets by
  // binding name); null: keys are the bound argv itself (a live world).
  virtual const Bindings* KeyBindings() const { return nullptr; }
  // The first instant after `after_ms` at which anything this world answers can change (a probe's or
  // command's next timeline point, an answer, approval or done time); nullopt: nothing changes any more.
  // A live world returns after_ms + 1 (anything can change at any time).
  virtual std::optional<int64_t> NextChange(int64_t after_ms) { return after_ms + 1; }
};

// ---- Answers: the replies to `ask` questions, approvals, manual steps done -----------------------
// A scenario's `answers:`, `approvals:` and `done:` in a rehearsal; the on-call person in a live run.
// One approval (or denial) of a step, or one person saying a manual step is done.
struct Approval {
  bool approved = false;
  std::string by;     // who
  int64_t at_ms = 0;  // when
};
// What a person is asked about a step: which step, and the commands it will run with their words
// bound as they are at this instant (secrets as ***), so the approval is of the exact argv.
struct PersonAsk {
  std::string step, kind, title;       // kind: action, last_resort, manual, ...
  std::vector<std::string> commands;  // each `$` line bound: "kubectl rollout restart statefulset/redis -n denis"
  std::string guard;                  // Vouch: the guard's text ("ping_error")
  std::vector<std::string> unknowns;  // Vouch: why the probes read so far are unknown
};
class Answers {
 public:
  virtual ~Answers() = default;
  // The answer given by `now_ms`, if any (nullopt: not answered yet, the question stays unknown).
  virtual std::optional<bool> Answer(const std::string& question, int64_t now_ms) = 0;
  // The same, without counting as a read (the run's end looks at what stayed unanswered).
  virtual std::optional<bool> Peek(const std::string& question, int64_t now_ms) { return Answer(question, now_ms); }
  // The approvals of step `step` given at or before `now_ms`, in time order (a scenario's `approvals:`;
  // live: the operator). The runner consumes them one per walk.
  virtual std::vector<Approval> Approvals(const std::string& step, int64_t now_ms) {
    (void)step;
    (void)now_ms;
    return {};
  }
  // The same, with what the step will run: a live run shows it to the person it asks.
  virtual std::vector<Approval> Approvals(const PersonAsk& ask, int64_t now_ms) { return Approvals(ask.step, now_ms); }
  // Who said manual step `step` is done, at or before `now_ms`, in time order. An entry that is not
  // `approved` is a person saying it is not done: the step ends pending.
  virtual std::vector<Approval> Done(const std::string& step, int64_t now_ms) {
    (void)step;
    (void)now_ms;
    return {};
  }
  virtual std::vector<Approval> Done(const PersonAsk& ask, int64_t now_ms) { return Done(ask.step, now_ms); }
  // A step whose guard is unknown (a probe it reads failed): whether a person, having seen why
  // (`ask.guard`, `ask.unknowns`), says it holds, so the step runs (its approval is still asked).
  // Asked once per step and walk. Nullopt, the default: nobody says; the step stays pending.
  virtual std::optional<Approval> Vouch(const PersonAsk& ask, int64_t now_ms) {
    (void)ask;
    (void)now_ms;
    return std::nullopt;
  }
  // Who approves an `action` that no approval names: a rehearsal approves actions itself (they are
  // recorded, never performed). Nullopt, the default, so that no live world approves by omission:
  // an action waits for an approval, as a last resort always does.
  virtual std::optional<std::string> DefaultApprover() { return std::nullopt; }
};

// ---- Notifier: pages ----------------------------------------------------------------------------
// Receives every page the escalation rows decide, complete with the contact's channels. It records
// what it did in the trace: the recording notifier of a rehearsal only records; a live one sends too.
class Notifier {
 public:
  virtual ~Notifier() = default;
  virtual void Page(const PageSent& page, Trace& trace) = 0;
};
// Sends nothing: records the page and a `page` event in the trace (rehearsals, dry runs).
class RecordingNotifier : public Notifier {
 public:
  void Page(const PageSent& page, Trace& trace) override;
};

// ---- Journal: a live run's write-ahead record of what it changes --------------------------------
// Asked before every command that changes something (a write or destructive effect, re-derived from
// its bound words) and told when it ended; told when each step starts and ends. A rehearsal and a
// dry run have none. A resumed run's journal answers from the audit of the run it continues.
class Journal {
 public:
  virtual ~Journal() = default;
  struct Verdict {
    enum class Kind : uint8_t {
      kRun,       // recorded as starting: run it
      kRecorded,  // it ran in the run being resumed and its end is recorded: `recorded` is that end
      kRefused,   // it must not start: `why` (the record could not be written; its outcome is unknown
                  // and nobody said to run it again)
    } kind = Kind::kRun;
    ExecAnswer recorded;
    std::string why;
  };
  virtual Verdict Starting(const std::string& step, const BoundCommand& command) = 0;
  virtual void Ended(const std::string& step, const BoundCommand& command, const ExecAnswer& answer, int64_t ms) = 0;
  // A step starts; when the run being resumed recorded this start's end, its status ("passed",
  // "failed", "pending", ...): the step is not run again. `reads_only`: a check or verify, which
  // changes nothing and is read again (its captures are what the system says now).
  virtual std::optional<std::string> StepStarting(const std::string& step, bool reads_only) {
    (void)step;
    (void)reads_only;
    return std::nullopt;
  }
  virtual void StepEnded(const std::string& step, const std::string& status, const std::string& why, bool reads_only) {
    (void)step;
    (void)status;
    (void)why;
    (void)reads_only;
  }
};

// ---- The runner ---------------------------------------------------------------------------------
// The parts a run is played against. All must outlive the runner.
struct RunnerWorld {
  Clock& clock;
  Provider& provider;
  Answers& answers;
  StateStore& state;  // first-seen times of `for > D` windows
  Notifier& notifier;
  Journal* journal = nullptr;  // a live run's audit; none: nothing is recorded
};
struct RunnerOptions {
  VmLimits limits;
  const Environment* env = nullptr;  // contacts' channels for pages; none: pages name no channel
  std::string name;                  // what is played (the scenario's name), shown in the trace
  int64_t duration_ms = 0;           // the run evaluates from 0 to this instant, inclusive
  int64_t tick_ms = 15000;           // between evaluation instants; also an `expect`'s default poll
  // Evaluation instants (ticks and polls) before the run stops with an error.
  size_t max_instants = 200000;
  // Skip the ticks at which nothing can change (no timeline point, poll, window deadline or person's
  // answer, and nothing read the clock): a month-long scenario with five points takes a few instants.
  bool sparse = true;
  // A run the operator started (`runbook run`): the incident is open from its first instant, whatever
  // the symptoms say, and stays open until the run ends; symptoms still drive guards, windows and rows.
  bool operator_opens = false;
  // End at the first instant after which nothing is left to do: the walk has reached the end of the
  // sequence, no step is in progress or waiting, and no `for > D` window is counting toward a row.
  bool end_when_settled = false;
  // Called after each instant with the trace so far; false stops the run there (Ctrl-C).
  std::function<bool(const Trace&)> after_instant;
  // Asked after each wait for the next instant; true stops the run there (Ctrl-C).
  std::function<bool()> stop;
  // Called with the trace so far right before a person is asked (an approval, a "done?"), so what
  // led to the question is shown before it.
  std::function<void(const Trace&)> before_asking;
};

class Runner {
 public:
  // `bindings` are the run's params and targets; their errors are the trace's first errors.
  Runner(const Program& program, const Registry& registry, uint32_t runbook, Bindings bindings,
         const RunnerWorld& world, const RunnerOptions& options);
  ~Runner();
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;
  // An error found before the run starts (a param without a value): the run reports it and fails.
  void AddError(std::string message);
  // Plays the run from the clock's current instant to `duration_ms`. Call once.
  Trace Run();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rb::rt
