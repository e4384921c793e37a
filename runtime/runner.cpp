#include "runtime/runner.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>

#include "lang/enums.hpp"
#include "runtime/executor.hpp"  // FormatMs
#include "runtime/plan.hpp"      // ActionTexts
#include "runtime/run_host.hpp"

namespace rb::rt {

void RecordingNotifier::Page(const PageSent& page, Trace& trace) {
  trace.AddEvent(TraceEvent::Kind::kPage, page.at_ms, page.contact,
                 fmt::format("{} {}{}{}", page.display, page.handle,
                             page.channels.empty() ? "" : fmt::format(" via {}", fmt::join(page.channels, ", ")),
                             page.message.empty() ? "" : fmt::format(": \"{}\"", page.message)));
  trace.pages.push_back(page);
}

namespace {

// Lower is more urgent (lang/severity.def lists P1 first); no severity yet ranks last.
size_t SeverityRank(const std::string& s) {
  auto sev = lang::FromName<lang::Severity>(s);
  return sev ? static_cast<size_t>(*sev) : lang::kCount<lang::Severity>;
}

std::string TrimEnd(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

// The step, escalation and window loop. Its clock, provider, answers, state and notifier are the
// world it was given; conditions are evaluated through the host adapter.
//
// Once the incident opens, the steps are *walked* in order. An escalation row's `run <step>` starts
// that step beside the walk, at once. Each step in progress is a cursor: where it is in its body, its
// `output`, the poll it waits for, or the person it waits for (an approval, a "done").
class Runner::Impl {
 public:
  Impl(const Program& p, const Registry& reg, uint32_t rb, Bindings bindings, const RunnerWorld& world,
       const RunnerOptions& opt)
      : p_(p), reg_(reg), rb_(rb), r_(p.runbooks.at(rb)), world_(world), opt_(opt), bindings_(std::move(bindings)),
        host_(p, rb, bindings_, facts_, world.provider, world.answers, world.state, trace_, opt.limits) {
    for (const auto& e : bindings_.errors) trace_.errors.push_back(e.ToString());
    facts_.clock = &world_.clock;
    facts_.step_failed.assign(r_.steps.size(), 0);  // `failed(step)` is false until the step ran and failed
    state_.assign(r_.steps.size(), StepState::kNotReached);
    passed_at_.assign(r_.steps.size(), -1);
    guard_seen_.assign(r_.steps.size(), Tri::kUnknown);
    vouched_.assign(r_.steps.size(), 0);
    rows_.resize(r_.rows.size() + (p.policy ? p.policy->rows.size() : 0));
    trace_.runbook = p.Str(r_.name);
    trace_.scenario = opt.name;
    trace_.duration_ms = opt.duration_ms;
    trace_.severity = p.Str(r_.severity);
    for (const auto& s : r_.symptoms) trace_.symptom_names.push_back(p.Str(s.name));
  }

  void AddError(std::string message) { trace_.errors.push_back(std::move(message)); }

  Trace Run() {
    Clock& clock = world_.clock;
    const int64_t tick = std::max<int64_t>(opt_.tick_ms, 1);
    size_t instants = 0;
    for (facts_.now_ms = clock.Now(); facts_.now_ms <= opt_.duration_ms;) {
      if (++instants > opt_.max_instants) {
        // A fast poll over a long scenario: stop with an error instead of running for minutes.
        host_.Error(fmt::format("rehearsal stopped at {}: more than {} evaluation instants (a tick or an `every` "
                                "too short for the scenario's duration)",
                                FormatMs(facts_.now_ms), opt_.max_instants));
        break;
      }
      Evaluate();
      if (opt_.after_instant && !opt_.after_instant(trace_)) break;
      if (opt_.end_when_settled && Settled()) break;
      clock.AdvanceTo(NextInstant(tick));
      facts_.now_ms = clock.Now();
      if (opt_.stop && opt_.stop()) break;  // Ctrl-C while waiting: no further instant is evaluated
    }
    Finish();
    return std::move(trace_);
  }

 private:
  TraceEvent& Event(TraceEvent::Kind kind, std::string name = {}, std::string detail = {}) {
    return trace_.AddEvent(kind, facts_.now_ms, std::move(name), std::move(detail));
  }
  const std::string& StepName(uint32_t s) const { return p_.Str(r_.steps[s].name); }
  static void AddOnce(std::vector<std::string>& list, const std::string& name) {
    if (std::find(list.begin(), list.end(), name) == list.end()) list.push_back(name);
  }
  static void Remove(std::vector<std::string>& list, const std::string& name) {
    list.erase(std::remove(list.begin(), list.end(), name), list.end());
  }

  // The next evaluation instant: the next tick, an expectation's poll, or a window reaching its
  // bound, whichever is first. When nothing read the clock, the ticks before the world's next change
  // would see what this instant saw, so the clock goes to the first tick at or after that change.
  int64_t NextInstant(int64_t tick) {
    const int64_t now = facts_.now_ms;
    const int64_t end = opt_.duration_ms + 1;  // past the end: the run is over
    auto tick_at_or_after = [&](int64_t t) { return t <= 0 ? 0 : ((t + tick - 1) / tick) * tick; };
    int64_t next = (now / tick + 1) * tick;
    if (opt_.sparse && !host_.clock_read() && !settle_) {
      std::optional<int64_t> change = world_.provider.NextChange(now);
      next = std::max(next, change && *change < end ? tick_at_or_after(*change) : end);
    }
    for (const auto& c : cursors_) {
      if (c.wake > now) next = std::min(next, c.wake);
    }
    if (auto d = host_.window_deadline(); d && *d > now) next = std::min(next, *d);
    return std::min(next, end);
  }

  // Nothing left to do: the walk went through the whole sequence, no step is in progress or waits
  // for a person, and no window is counting toward a row.
  bool Settled() const {
    return walk_.started && (walk_.stopped || walk_.next >= r_.steps.size()) && cursors_.empty() &&
           !host_.window_deadline();
  }

  // One evaluation instant: symptoms, the incident, the steps, the `for` windows, then the
  // escalation rows (which read the windows); a row's `run <step>` starts at once.
  void Evaluate() {
    host_.NewInstant();
    SymptomSample sample;
    sample.at_ms = facts_.now_ms;
    bool any_true = false, any_unknown = false;
    for (uint32_t i = 0; i < r_.symptoms.size(); ++i) {
      Tri t = ToTri(host_.SymptomValue(i));
      sample.states.push_back(t);
      any_true |= t == Tri::kTrue;
      any_unknown |= t == Tri::kUnknown;
      Tri before = trace_.samples.empty() ? Tri::kFalse : trace_.samples.back().states[i];
      if (t != before) Event(TraceEvent::Kind::kSymptom, trace_.symptom_names[i]).state = t;
      if (t == Tri::kTrue) trace_.symptoms_held.insert(trace_.symptom_names[i]);
    }
    trace_.samples.push_back(std::move(sample));
    facts_.incident = opt_.operator_opens || any_true ? Tri::kTrue : any_unknown ? Tri::kUnknown : Tri::kFalse;
    IncidentEvents();
    Steps();
    host_.UpdateWindows();  // every window sees its condition at every instant, whatever a row reads
    Rows();
    size_t after_rows = trace_.events.size();
    Steps();
    // A step that ended (or started) after the rows read the world changes what they would see: the
    // next tick evaluates them again, sparse or not.
    settle_ = trace_.events.size() != after_rows;
  }

  // Opened when a symptom holds; closed when every symptom is clear (unknown changes nothing);
  // reopened when one holds again: a new incident, whose steps are walked again.
  void IncidentEvents() {
    if (facts_.incident == Tri::kTrue && !open_) {
      open_ = true;
      opened_at_ = facts_.now_ms;
      ++trace_.incidents;
      paged_.clear();  // a contact is paged once per incident and level
      if (trace_.incidents == 1) {
        Event(TraceEvent::Kind::kIncident, trace_.runbook,
              opt_.operator_opens ? "opened by the operator (runbook run): the steps start" : "a symptom holds: the steps start")
            .status = "opened";
        walk_.started = true;
      } else {
        Event(TraceEvent::Kind::kIncident, trace_.runbook,
              fmt::format("a symptom holds again (incident #{}): the steps are walked again", trace_.incidents))
            .status = "reopened";
        walk_.restart = true;
        // A new incident starts at the runbook's severity; a `declare` of the one before is not carried over.
        const std::string& base = p_.Str(r_.severity);
        if (trace_.severity != base) {
          trace_.severity = base;
          facts_.severity = base;
          Event(TraceEvent::Kind::kDeclare, base, "a new incident starts at the runbook's severity");
        }
      }
    } else if (facts_.incident == Tri::kFalse && open_) {
      open_ = false;
      Event(TraceEvent::Kind::kIncident, trace_.runbook, "every symptom is clear").status = "closed";
      for (auto& s : state_) {
        if (s == StepState::kWaiting) s = StepState::kPassed;  // passed-over steps stop waiting
      }
      for (auto& c : cursors_) c.incident_closed = true;  // a wait for a person ends unanswered
    }
  }

  // ---- Steps ----
  enum class StepState : uint8_t {
    kNotReached,  // the walk has not come to it
    kWaiting,     // passed over (guard false or unknown): looked at again while the incident is open
    kPassed,      // passed over, and the incident closed since: no longer looked at
    kRan,         // started in this walk (by the walk or by a row)
  };
  enum class Phase : uint8_t { kApproval, kItems, kDone, kEnded };
  struct Cursor {
    uint32_t step = 0;
    bool walk = false;  // the walk's step (else a row's `run`)
    size_t run = 0;     // its StepRun in the trace
    Phase phase = Phase::kItems;
    size_t item = 0;
    bool failed = false, pending = false, done = false;
    std::string not_run;           // why it ended without running: "approval denied by bob"
    bool announced = false;        // its wait for a person is in the trace
    bool incident_closed = false;  // the incident closed since it started: a person is no longer waited for
    bool resumed = false;          // its end is recorded by the run being resumed: not run again
    int64_t expect_deadline = -1;  // the current expectation is polling until then
    int64_t wake = -1;             // ... and polls next at this instant
    int polls = 0;
    std::string last_unknown;  // why the last command's output is not there to capture; empty: it ran ok
    Value output = Value::Unknown();
    std::vector<std::string> approved;  // the commands as shown when a person approved the step
    bool approval_asked = false;        // a person approved it (approved holds what they saw)
  };
  struct Walk {
    bool started = false, restart = false, stopped = false;
    uint32_t next = 0;
    int number = 1;
    Value output = Value::Unknown();  // the walk's last command output, what its guards read
  };

  bool InProgress(uint32_t s) const {
    return std::any_of(cursors_.begin(), cursors_.end(), [&](const Cursor& c) { return c.step == s; });
  }
  bool WalkBusy() const {
    return std::any_of(cursors_.begin(), cursors_.end(), [](const Cursor& c) { return c.walk; });
  }

  // Every step in progress goes on; then the walk takes its next step.
  void Steps() {
    for (size_t i = 0; i < cursors_.size();) {
      if (Progress(cursors_[i])) {
        End(cursors_[i]);
        cursors_.erase(cursors_.begin() + static_cast<std::ptrdiff_t>(i));
      } else {
        ++i;
      }
    }
    WalkOn();
  }

  void WalkOn() {
    if (WalkBusy()) return;  // its step is in progress, or waits for a person
    if (walk_.restart) NewWalk();
    if (!walk_.started) return;
    while (!walk_.stopped) {
      facts_.output = walk_.output;
      std::optional<uint32_t> s = Reexamine();
      if (!s) {
        if (walk_.next >= r_.steps.size()) return;
        uint32_t n = walk_.next++;
        if (state_[n] == StepState::kRan) continue;  // a row ran it in this walk
        if (InProgress(n)) {  // a row's run of it, started in an earlier incident, still goes on
          state_[n] = StepState::kRan;
          continue;
        }
        const Step& st = r_.steps[n];
        if (st.guard != kNoChunk) {
          Tri g = ToTri(host_.Eval(st.guard));
          if (g != Tri::kTrue && !(g == Tri::kUnknown && Vouched(n))) {
            PassOver(n, g);
            continue;
          }
        }
        s = n;
      }
      cursors_.push_back(NewCursor(*s, true));
      if (!Progress(cursors_.back())) return;
      End(cursors_.back());
      cursors_.pop_back();
    }
  }

  void NewWalk() {
    int number = walk_.number + 1;
    walk_ = Walk{};
    walk_.started = true;
    walk_.number = number;
    state_.assign(r_.steps.size(), StepState::kNotReached);
    passed_at_.assign(r_.steps.size(), -1);
    vouched_.assign(r_.steps.size(), 0);
    facts_.step_failed.assign(r_.steps.size(), 0);
    host_.ResetCaptures();
  }

  // A passed-over step is looked at again at each later instant while the incident is open and the
  // walk has no step in progress: the first, in order, whose guard now holds is the one to run.
  std::optional<uint32_t> Reexamine() {
    if (!open_) return std::nullopt;
    for (uint32_t s = 0; s < r_.steps.size(); ++s) {
      if (state_[s] != StepState::kWaiting || passed_at_[s] >= facts_.now_ms || InProgress(s)) continue;
      Tri g = ToTri(host_.Eval(r_.steps[s].guard));
      if (g == Tri::kTrue || (g == Tri::kUnknown && Vouched(s))) return s;
      if (g != guard_seen_[s]) PassOver(s, g);  // from unknown to false, or back
      passed_at_[s] = facts_.now_ms;
    }
    return std::nullopt;
  }

  // A guard that reads unknown: whether a person says it holds (live: at the prompt, or --vouch
  // STEP). Asked once per step and walk, shown in the trace as the step's approval of its guard.
  bool Vouched(uint32_t s) {
    if (s >= vouched_.size()) return false;
    if (vouched_[s] != 0) return vouched_[s] > 0;
    const Step& st = r_.steps[s];
    PersonAsk ask = Ask(s);
    ask.guard = p_.Str(st.guard_text);
    ask.unknowns = trace_.unknown_probes;
    if (opt_.before_asking) opt_.before_asking(trace_);
    std::optional<Approval> a = world_.answers.Vouch(ask, facts_.now_ms);
    vouched_[s] = a && a->approved ? 1 : -1;
    if (a) {
      TraceEvent& e = Event(TraceEvent::Kind::kApproval, StepName(s),
                            fmt::format("{}, for its guard `{}`, which is unknown", a->by, ask.guard));
      e.status = a->approved ? "approved" : "denied";
    }
    return vouched_[s] > 0;
  }

  void PassOver(uint32_t s, Tri g) {
    const Step& st = r_.steps[s];
    const std::string& name = StepName(s);
    state_[s] = open_ ? StepState::kWaiting : StepState::kPassed;
    passed_at_[s] = facts_.now_ms;
    guard_seen_[s] = g;
    if (g == Tri::kFalse) {
      facts_.step_failed[s] = 0;
      AddOnce(trace_.skipped, name);
      Remove(trace_.pending_steps, name);
      trace_.pending_why.erase(name);
      Event(TraceEvent::Kind::kStepSkip, name, p_.Str(st.guard_text)).state = g;
    } else {
      facts_.step_failed[s] = -1;  // it did not run, and whether it would have failed is unknown
      AddOnce(trace_.pending_steps, name);
      trace_.pending_why[name] = fmt::format("its guard `{}` is unknown", p_.Str(st.guard_text));
      Remove(trace_.skipped, name);
      Event(TraceEvent::Kind::kStepPending, name, p_.Str(st.guard_text)).state = g;
    }
  }

  // A step that needs a person's approval before it does anything: a last resort always, an action
  // unless the answers approve actions themselves (a rehearsal does).
  static bool NeedsApproval(const Step& st) {
    return st.kind == StepKind::kLastResort || st.kind == StepKind::kAction;
  }

  // A step a person does: a `manual` step, or one of instruction lines only, whatever its kind.
  static bool NeedsPerson(const Step& st) {
    return st.kind == StepKind::kManual ||
           std::all_of(st.items.begin(), st.items.end(), [](const StepItem& i) { return i.kind == StepItem::Kind::kText; });
  }

  // A check or a verify of commands and expectations: it only reads, and a resumed run reads it again.
  static bool ReadsOnly(const Step& st) { return (st.kind == StepKind::kCheck || st.kind == StepKind::kVerify) && !NeedsPerson(st); }

  Cursor NewCursor(uint32_t s, bool walk, const std::string& row = {}) {
    const Step& st = r_.steps[s];
    const std::string& name = StepName(s);
    Cursor c;
    c.step = s;
    c.walk = walk;
    c.phase = NeedsApproval(st) ? Phase::kApproval : Phase::kItems;
    c.incident_closed = trace_.incidents > 0 && !open_;  // reached after the incident closed
    c.output = Value::Unknown();
    state_[s] = StepState::kRan;
    facts_.step_failed[s] = -1;  // unknown while it runs
    // A step passed over that now runs (its guard holds, or a row's `run`) is no longer listed so.
    Remove(trace_.pending_steps, name);
    trace_.pending_why.erase(name);
    Remove(trace_.skipped, name);
    StepRun run;
    run.name = name;
    run.at_ms = facts_.now_ms;
    run.row = row;
    run.walk = walk_.number;
    trace_.steps.push_back(std::move(run));
    c.run = trace_.steps.size() - 1;
    trace_.steps_run.insert(name);
    Event(TraceEvent::Kind::kStepStart, name, p_.Str(st.title)).status = lang::Name(st.kind);
    if (world_.journal != nullptr) {
      if (std::optional<std::string> ended = world_.journal->StepStarting(name, ReadsOnly(st))) {
        c.resumed = true;
        c.phase = Phase::kEnded;
        c.failed = *ended == lang::Name(lang::StepStatus::kFailed);
        c.pending = *ended == lang::Name(lang::StepStatus::kPending);
        c.done = *ended == lang::Name(lang::StepStatus::kDone);
        c.not_run = fmt::format("ended {} in the run resumed: not run again", *ended);
      }
    }
    return c;
  }

  // Moves a cursor on at this instant. True when its step has ended.
  bool Progress(Cursor& c) {
    if (c.wake > facts_.now_ms) return false;  // an expectation waits for its next poll
    c.wake = -1;
    facts_.output = c.output;
    cur_ = &c;
    const Step& st = r_.steps[c.step];
    bool ended = true;
    if (c.phase == Phase::kApproval && !Approve(c, st)) ended = c.phase == Phase::kEnded;
    if (c.phase == Phase::kItems) {
      if (Items(c, st)) {
        c.phase = NeedsPerson(st) ? Phase::kDone : Phase::kEnded;
      } else {
        ended = false;
      }
    }
    if (c.phase == Phase::kDone) {
      if (DoneByPerson(c, st)) {
        c.phase = Phase::kEnded;
        ended = true;
      } else {
        ended = false;
      }
    }
    c.output = facts_.output;
    cur_ = nullptr;
    return ended;
  }

  // What a person is asked about step `s`: its commands bound as they are now (secrets as ***).
  PersonAsk Ask(uint32_t s) {
    const Step& st = r_.steps[s];
    PersonAsk ask;
    ask.step = StepName(s);
    ask.kind = lang::Name(st.kind);
    ask.title = p_.Str(st.title);
    for (const auto& it : st.items) {
      if (it.kind == StepItem::Kind::kCommand) ask.commands.push_back(Bound(it.command).Display());
    }
    return ask;
  }
  // A command's words bound at this instant, with the lets and captures known now.
  BoundCommand Bound(const Command& c) {
    std::vector<Value> lets(r_.lets.size());
    for (const auto& word : c.argv) {
      for (const auto& part : word) {
        if (part.kind == WordPart::Kind::kLet && part.value < lets.size()) lets[part.value] = host_.Let(rb_, part.value);
      }
    }
    return BindCommand(p_, reg_, rb_, c, bindings_, &lets);
  }

  // True when the step may go on (approved). False while it waits, or when it ends without running
  // (denied, or the incident closed first): then its phase is kEnded.
  bool Approve(Cursor& c, const Step& st) {
    const std::string& name = StepName(c.step);
    if (opt_.before_asking) opt_.before_asking(trace_);
    PersonAsk asked = Ask(c.step);
    std::vector<Approval> given = world_.answers.Approvals(asked, facts_.now_ms);
    size_t& used = approvals_used_[name];
    SkipStale(given, used);
    // A last resort is for an incident that holds: once it closed, no approval runs it.
    if (c.incident_closed && st.kind == StepKind::kLastResort) return Abandon(c, name);
    std::optional<Approval> a;
    if (given.size() > used) a = given[used++];
    if (!a && st.kind == StepKind::kAction) {
      if (std::optional<std::string> by = world_.answers.DefaultApprover()) a = Approval{true, *by, facts_.now_ms};
    }
    if (a) {
      TraceEvent& e = Event(TraceEvent::Kind::kApproval, name, a->by);
      if (a->approved) {
        e.status = "approved";
        trace_.steps[c.run].approved_by = a->by;
        c.approved = asked.commands;
        c.approval_asked = true;
        // Approved after a wait: the walk's guard must still hold, or the step is not needed now.
        Tri still = c.announced && c.walk && st.guard != kNoChunk ? ToTri(host_.Eval(st.guard)) : Tri::kTrue;
        if (still == Tri::kFalse || (still == Tri::kUnknown && !Vouched(c.step))) {
          c.pending = true;
          c.not_run = fmt::format("not run: its guard `{}` no longer holds", p_.Str(st.guard_text));
          c.phase = Phase::kEnded;
          return false;
        }
        c.phase = Phase::kItems;
        return true;
      }
      e.status = "denied";
      c.pending = true;
      c.not_run = fmt::format("not run: approval denied by {}", a->by);
      c.phase = Phase::kEnded;
      return false;
    }
    if (c.incident_closed) return Abandon(c, name);
    if (!c.announced) {
      c.announced = true;
      Event(TraceEvent::Kind::kApproval, name,
            st.kind == StepKind::kLastResort ? "a last resort runs only once a person approves it"
                                             : "an action runs once a person approves it")
          .status = "waiting";
    }
    return false;
  }

  bool Abandon(Cursor& c, const std::string& name) {
    Event(TraceEvent::Kind::kApproval, name, "the incident closed before anyone approved it").status = "abandoned";
    c.pending = true;
    c.not_run = "not run: the incident closed before anyone approved it";
    c.phase = Phase::kEnded;
    return false;
  }

  // An answer given before a reopened incident opened belonged to an earlier one (a wait that was
  // abandoned, or one no walk reached): it does not approve this incident's step. Before the first
  // incident, answers given ahead of time count (approved in advance).
  void SkipStale(const std::vector<Approval>& given, size_t& used) const {
    while (trace_.incidents > 1 && used < given.size() && given[used].at_ms < opened_at_) ++used;
  }

  // A person's step ends when someone says it is done; until then it, and the walk, wait. If the
  // incident closes first, it ends pending: nobody needs it done any more.
  bool DoneByPerson(Cursor& c, const Step& st) {
    (void)st;
    const std::string& name = StepName(c.step);
    if (opt_.before_asking) opt_.before_asking(trace_);
    std::vector<Approval> given = world_.answers.Done(Ask(c.step), facts_.now_ms);
    size_t& used = done_used_[name];
    SkipStale(given, used);
    if (given.size() > used) {
      const Approval& a = given[used++];
      if (!a.approved) {  // a person said it is not done: it ends pending, never taken as done
        Event(TraceEvent::Kind::kDone, name, a.by).status = "not done";
        c.pending = true;
        c.not_run = a.by.rfind("nobody", 0) == 0 ? "not done: " + a.by : fmt::format("not done: {} said it is not done", a.by);
        return true;
      }
      Event(TraceEvent::Kind::kDone, name, a.by).status = "done";
      trace_.steps[c.run].done_by = a.by;
      c.done = true;
      return true;
    }
    if (c.incident_closed) {
      Event(TraceEvent::Kind::kDone, name, "the incident closed before anyone said it was done").status = "abandoned";
      c.pending = true;
      c.not_run = "not done: the incident closed before anyone said it was done";
      return true;
    }
    if (!c.announced) {
      c.announced = true;
      Event(TraceEvent::Kind::kDone, name, "waiting for a person to say it is done").status = "waiting";
    }
    return false;
  }

  void End(Cursor& c) {
    const Step& st = r_.steps[c.step];
    const std::string& name = StepName(c.step);
    lang::StepStatus ended = c.failed    ? lang::StepStatus::kFailed
                             : c.pending ? lang::StepStatus::kPending
                             : c.done    ? lang::StepStatus::kDone
                                         : lang::StepStatus::kOk;
    std::string status = lang::Name(ended);
    facts_.step_failed[c.step] = c.failed ? 1 : c.pending ? -1 : 0;
    trace_.steps[c.run].status = status;
    if (ended == lang::StepStatus::kPending) {
      AddOnce(trace_.pending_steps, name);
      std::string why = !c.not_run.empty() ? c.not_run : c.last_unknown;
      if (why.rfind("not ", 0) == 0 && why.find(": ") != std::string::npos) why = why.substr(why.find(": ") + 2);
      trace_.pending_why[name] = why.empty() ? "something it needed is unknown" : why;
    }
    TraceEvent& e = Event(TraceEvent::Kind::kStepEnd, name, c.not_run);
    e.status = status;
    if (world_.journal != nullptr && !c.resumed) world_.journal->StepEnded(name, status, c.not_run, ReadsOnly(st));
    if (!c.walk) return;
    walk_.output = c.output;
    if (st.kind == StepKind::kVerify && c.failed && !st.continue_on_failure) {
      walk_.stopped = true;
      trace_.stopped = name;
      Event(TraceEvent::Kind::kStop, name,
            "the verification failed: the steps after it do not run (`on failure continue` after its title lets them)");
    }
  }

  // Runs the cursor's items from where it is. False: an expectation waits until its wake.
  bool Items(Cursor& c, const Step& st) {
    while (c.item < st.items.size()) {
      const StepItem& it = st.items[c.item];
      switch (it.kind) {
        case StepItem::Kind::kCommand: RunCommand(st, it.command, true, JudgedByExpect(st, c.item)); break;
        case StepItem::Kind::kText: Event(TraceEvent::Kind::kText, p_.Str(st.name), Text(it.text, it.chunk)); break;
        case StepItem::Kind::kCapture: Capture(st, it.text); break;
        case StepItem::Kind::kExpect:
          if (!Expect(st, it)) return false;
          break;
      }
      ++c.item;
    }
    return true;
  }

  // The command an `expect` polls is the last one before it (instruction lines aside): when it is
  // a read, its exit status does not fail the step; the expectation's verdict does.
  static bool JudgedByExpect(const Step& st, size_t item) {
    for (size_t i = item + 1; i < st.items.size(); ++i) {
      if (st.items[i].kind != StepItem::Kind::kText) return st.items[i].kind == StepItem::Kind::kExpect;
    }
    return false;
  }

  // A step's `let`: taken once, now, from the output of the command before it; fixed for the walk.
  // It is unknown when that command did not run, failed or had no output, and says why.
  void Capture(const Step& st, uint32_t index) {
    const rt::Let& l = r_.lets.at(index);
    Value v = Value::Unknown();
    std::string why = cur_->last_unknown;
    if (why.empty()) {
      v = host_.Eval(l.chunk);
      if (v.IsUnknown()) why = "its expression is unknown";
    }
    host_.SetCapture(index, v);
    bool text = v.type == ValueType::kString || v.type == ValueType::kLines;
    std::string shown = v.IsUnknown() ? "unknown" : text ? fmt::format("\"{}\"", LetWord(v)) : LetWord(v);
    std::string detail = fmt::format("{} = {}", p_.Str(l.name), shown);
    TraceEvent& e = Event(TraceEvent::Kind::kCapture, p_.Str(st.name), detail);
    e.status = v.IsUnknown() ? "unknown: " + why : "captured";
    e.state = v.IsUnknown() ? Tri::kUnknown : Tri::kTrue;
    trace_.steps[cur_->run].captures.push_back(v.IsUnknown() ? detail + " (" + why + ")" : detail);
  }

  // Why a command that reads unknown lets does not run, one clause per let.
  std::string UnknownLetsReason(const std::vector<std::string>& names) const {
    std::vector<std::string> parts;
    for (const auto& name : names) {
      std::string why = fmt::format("`{{{}}}` is unknown", name);
      for (const auto& l : r_.lets) {
        if (p_.Str(l.name) != name) continue;
        if (l.step == kNoStep) {
          why += " at this instant";
        } else {
          const std::string& taker = p_.Str(r_.steps.at(l.step).name);
          why += trace_.steps_run.count(taker) ? fmt::format(" (step {} did not capture it)", taker)
                                               : fmt::format(" (step {} has not run)", taker);
        }
      }
      parts.push_back(why);
    }
    return fmt::format("{}", fmt::join(parts, ", "));
  }

  void RunCommand(const Step& st, const Command& c, bool record, bool judged) {
    Cursor& cur = *cur_;
    std::vector<Value> lets(r_.lets.size());
    for (const auto& word : c.argv) {
      for (const auto& part : word) {
        if (part.kind == WordPart::Kind::kLet && part.value < lets.size()) lets[part.value] = host_.Let(rb_, part.value);
      }
    }
    BoundCommand bc = BindCommand(p_, reg_, rb_, c, bindings_, &lets);  // right before it starts
    if (!record && bc.effect > Effect::kRead) return;  // a poll re-runs reads only (its output stays)
    cur.last_unknown = "the command before it did not run";
    judged = judged && bc.effect <= Effect::kRead;  // a failed write is never excused
    std::string shown = bc.Display();
    // A live change runs with the words a person approved: one whose words were not known then (a
    // capture of the command before it in the step) is shown and asked about again, now. Asked
    // before its event is added (the approval's event comes first, and `e` below stays valid).
    bool approved_again = true;
    if (bc.effect >= Effect::kWrite && record && world_.provider.RunsWrites() && cur.approval_asked && !bc.unbound &&
        bc.unknown_lets.empty() && !bc.undeclared && std::find(cur.approved.begin(), cur.approved.end(), shown) == cur.approved.end()) {
      PersonAsk ask = Ask(cur.step);
      ask.commands = {shown};
      if (opt_.before_asking) opt_.before_asking(trace_);
      std::vector<Approval> again = world_.answers.Approvals(ask, facts_.now_ms);
      approved_again = !again.empty() && again.back().approved;
      approvals_used_[StepName(cur.step)] = again.size();  // consumed: a later run of the step is asked afresh
      Event(TraceEvent::Kind::kApproval, p_.Str(st.name), again.empty() ? std::string("nobody") : again.back().by).status =
          approved_again ? "approved" : "denied";
      if (approved_again) cur.approved.push_back(shown);
    }
    if (record) trace_.steps[cur.run].commands.push_back(shown);
    // A re-poll of an expectation runs its read commands again without adding to the timeline.
    TraceEvent scratch;
    TraceEvent& e = record ? Event(TraceEvent::Kind::kCommand, p_.Str(st.name), shown) : scratch;
    const size_t event_at = trace_.events.size() - 1;  // `e` again once evaluating may have added events
    e.effect = bc.effect;
    if (bc.unbound) {
      e.status = "not run: a parameter is unbound";
      cur.pending = true;
      facts_.output = Value::Unknown();
      return;
    }
    if (!bc.unknown_lets.empty()) {
      // A command needing a value nobody has is not run, and what it would have done is unknown.
      e.status = "not run: " + UnknownLetsReason(bc.unknown_lets);
      cur.pending = true;
      facts_.output = Value::Unknown();
      return;
    }
    if (bc.undeclared) {
      e.status = fmt::format("refused: no rule of program `{}` gives these bound words an effect",
                             bc.argv.empty() ? std::string("?") : bc.argv[0]);
      cur.failed = true;
      facts_.output = Value::Unknown();
      return;
    }
    if (bc.effect > MaxEffect(st.kind)) {
      e.status = fmt::format("refused: with its bound words this is a {} command ({}); a {} step may not run it",
                             EffectName(bc.effect), bc.rule, lang::Name(st.kind));
      cur.failed = true;
      facts_.output = Value::Unknown();
      return;
    }
    if (!approved_again) {
      e.status = "not started: its words are known only now, and were not approved as they are";
      cur.pending = true;
      cur.not_run = "not run: its words are known only now, and were not approved as they are";
      cur.last_unknown = "the command before it did not start";
      facts_.output = Value::Unknown();
      return;
    }
    const bool write = bc.effect >= Effect::kWrite;
    // A live run records a change before it starts, and its end after; a resumed run does not run
    // again what the run it continues recorded as ended.
    Journal* journal = write ? world_.journal : nullptr;
    std::optional<ExecAnswer> recorded;
    std::string recorded_why;  // how the change recorded differs from its words now
    if (journal != nullptr) {
      Journal::Verdict v = journal->Starting(p_.Str(st.name), bc);
      if (v.kind == Journal::Verdict::Kind::kRefused) {
        e.status = "not started: " + v.why;
        cur.pending = true;
        cur.not_run = "not run: " + v.why;
        cur.last_unknown = "the command before it did not start";
        facts_.output = Value::Unknown();
        return;
      }
      if (v.kind == Journal::Verdict::Kind::kRecorded) {
        recorded = v.recorded;
        recorded_why = v.why;
      }
    }
    const auto exec_started = std::chrono::steady_clock::now();
    ExecAnswer a = recorded ? *recorded
                            : world_.provider.Exec(world_.provider.RunsSecrets() ? bc.secret_argv : bc.argv, bc.effect, facts_.now_ms,
                                                   ScenarioKeyArgv(p_, reg_, rb_, c, world_.provider.KeyBindings(), &lets));  // scenario key
    if (journal != nullptr && !recorded) {
      journal->Ended(p_.Str(st.name), bc, a,
                     std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - exec_started).count());
    }
    // A live run's write really ran: its status is its own, not "would run".
    const bool would = write && !world_.provider.RunsWrites();
    switch (a.status) {
      case ExecAnswer::Status::kOk: e.status = would ? "would run: ok" : "ok"; break;
      case ExecAnswer::Status::kFailed:
        e.status = fmt::format("{}exit {}", would ? "would run: " : "", a.exit_code);
        cur.failed |= !judged;
        break;
      case ExecAnswer::Status::kTimeout:
        e.status = "timeout";
        cur.failed |= !judged;
        break;
      case ExecAnswer::Status::kNoData:
        // What a check would have seen is unknown: the step is pending, not passed.
        e.status = a.err.empty() ? "no output in scenario: unknown" : "unknown: " + a.err;
        cur.pending |= !judged;
        break;
      case ExecAnswer::Status::kNotRun:
        // A dry run's write: shown as it would be done, not done; what it would print is unknown.
        e.status = "would run: " + (a.err.empty() ? std::string("not done (dry run)") : a.err);
        break;
    }
    if (recorded) e.status += recorded_why.empty() ? " (recorded by the run resumed: not run again)"
                                                   : " (recorded by the run resumed: " + recorded_why + ")";
    cur.last_unknown = a.status == ExecAnswer::Status::kOk       ? ""
                       : a.status == ExecAnswer::Status::kFailed ? fmt::format("the command before it failed: exit {}", a.exit_code)
                       : a.status == ExecAnswer::Status::kTimeout ? "the command before it timed out"
                       : a.status == ExecAnswer::Status::kNotRun  ? "the command before it was not run (dry run)"
                                                                  : "the command before it has no output in the scenario";
    if (a.status == ExecAnswer::Status::kNoData || a.status == ExecAnswer::Status::kTimeout ||
        a.status == ExecAnswer::Status::kNotRun) {
      facts_.output = Value::Unknown();
    } else {
      // A change recorded by the run resumed kept only its output's digest: what it printed is unknown.
      facts_.output = recorded ? Value::Unknown() : Value::String(TrimEnd(a.out));
      if (!a.err.empty() && a.status == ExecAnswer::Status::kFailed) e.status += ": " + TrimEnd(a.err);
    }
    if (c.filter != kNoChunk && !facts_.output.IsUnknown()) {  // filter stages
      // Evaluating the filters may add events (a runtime error), so `e` may have moved.
      std::vector<std::string> stages, filtered;
      facts_.output = host_.EvalFilters(c.filter, p_.Str(c.filter_text), stages, filtered);
      TraceEvent& after = record ? trace_.events[event_at] : scratch;
      after.filter_stages = std::move(stages);
      after.filtered = std::move(filtered);
    }
  }

  // True when the expectation is settled (held, or its deadline passed); false to wait for wake.
  bool Expect(const Step& st, const StepItem& it) {
    Cursor& cur = *cur_;
    if (cur.expect_deadline < 0) {
      cur.expect_deadline = facts_.now_ms + static_cast<int64_t>(it.within_ms);
    } else {
      // A poll: run the command this expectation reads again, if it is a read, for fresh output.
      for (size_t i = cur.item; i-- > 0;) {
        const StepItem& prev = st.items[i];
        if (prev.kind == StepItem::Kind::kText) continue;
        if (prev.kind == StepItem::Kind::kCommand) RunCommand(st, prev.command, false, true);
        break;
      }
    }
    Tri t = ToTri(host_.Eval(it.chunk));
    ++cur.polls;
    int64_t every = it.every_ms ? static_cast<int64_t>(it.every_ms) : std::max<int64_t>(opt_.tick_ms, 1);
    if (t != Tri::kTrue && facts_.now_ms + every <= cur.expect_deadline) {
      cur.wake = facts_.now_ms + every;
      return false;
    }
    TraceEvent& e = Event(TraceEvent::Kind::kExpect, p_.Str(st.name), p_.Str(it.text));
    e.state = t;
    e.status = t == Tri::kTrue ? "met" : t == Tri::kFalse ? "not met" : "unknown";
    if (it.within_ms) {
      e.status += fmt::format(" after {} poll{} (within {} every {})", cur.polls, cur.polls == 1 ? "" : "s",
                              FormatMs(static_cast<int64_t>(it.within_ms)), FormatMs(every));
    }
    cur.polls = 0;
    if (t == Tri::kFalse) cur.failed = true;
    if (t == Tri::kUnknown) cur.pending = true;
    cur.expect_deadline = -1;
    return true;
  }

  // ---- Escalation ----
  struct RowState {
    bool fired = false, armed = true;
    Tri last = Tri::kFalse;
  };

  void Rows() {
    size_t n = r_.rows.size();
    for (size_t i = 0; i < rows_.size(); ++i) {
      bool policy = i >= n;
      const EscRow& row = policy ? p_.policy->rows[i - n] : r_.rows[i];
      if (policy && !p_.PolicyRowApplies(rb_, row)) continue;  // a row of a policy this runbook does not import
      Tri t = ToTri(host_.Eval(row.chunk));
      RowState& rs = rows_[i];
      rs.last = t;
      if (t == Tri::kFalse) rs.armed = true;
      if (t != Tri::kTrue || !rs.armed) continue;
      rs.armed = false;
      rs.fired = true;
      std::string when = p_.Str(row.text);
      trace_.fired.push_back(RowFire{when, facts_.now_ms, policy});
      trace_.rows_fired.insert((policy ? "policy|" : trace_.runbook + "|") + when);
      TraceEvent& e = Event(TraceEvent::Kind::kRowFire, when);
      e.policy = policy;
      e.detail = fmt::format("{}", fmt::join(ActionTexts(p_, rb_, policy ? nullptr : &r_.steps, row), ", "));
      for (const auto& a : row.actions) Act(a, when);
    }
  }

  // An instruction, manual action or page message: its chunk's text when it interpolates, else (and
  // when a slot is unbound, so the text is unknown) the text as written.
  std::string Text(uint32_t text, uint32_t chunk) {
    if (chunk != kNoChunk) {
      Value v = host_.Eval(chunk);
      if (v.type == ValueType::kString) return v.Text();
    }
    return p_.Str(text);
  }

  // A page without a message of its own says what the runbook is, how severe, and what holds.
  std::string DefaultMessage() const {
    std::vector<std::string> held;
    if (!trace_.samples.empty()) {
      const auto& states = trace_.samples.back().states;
      for (size_t i = 0; i < states.size(); ++i) {
        if (states[i] == Tri::kTrue) held.push_back(trace_.symptom_names[i]);
      }
    }
    return fmt::format("{} ({}): {}", p_.Str(r_.title), trace_.severity,
                       held.empty() ? std::string("no symptom holds now")
                                    : fmt::format("{} {}", fmt::join(held, ", "), held.size() == 1 ? "holds" : "hold"));
  }

  void Page(const EscAction& a) {
    uint32_t contact = p_.PageContact(rb_, a);  // `page owner`: the runbook's owner
    if (contact >= p_.contacts.size()) return;   // the checker refuses a `page owner` without one
    const Contact& c = p_.contacts.at(contact);
    PageSent page{p_.Str(c.name), p_.Str(c.display), p_.Str(c.handle), {}, facts_.now_ms, {}};
    page.message = a.message != 0 || a.chunk != kNoChunk ? Text(a.message, a.chunk) : DefaultMessage();
    // Once per incident and level: the same contact is not paged again for this incident at this
    // severity, unless the row says `every time`. Rows paging one contact at one instant send one
    // page, even when one of them raised the severity first.
    auto last = last_page_.find(page.contact);
    if (last != last_page_.end() && last->second == facts_.now_ms) {
      paged_.emplace(trace_.severity + "|" + page.contact, facts_.now_ms);  // that page covers this level too
      return;
    }
    auto [it, fresh] = paged_.emplace(trace_.severity + "|" + page.contact, facts_.now_ms);
    if (!fresh) {
      if (it->second == facts_.now_ms) return;
      if (!RepeatsPage(a)) {
        Event(TraceEvent::Kind::kPageHeld, page.contact,
              fmt::format("paged at {} for this incident at {}: not paged again", FormatMs(it->second), trace_.severity));
        return;
      }
      it->second = facts_.now_ms;
    }
    last_page_[page.contact] = facts_.now_ms;
    if (opt_.env) {
      auto ch = opt_.env->contacts.find(page.contact);
      if (ch != opt_.env->contacts.end()) {
        for (const auto& x : ch->second.channels) page.channels.push_back(x.kind + " " + x.address);
      }
    }
    world_.notifier.Page(page, trace_);
  }
  static bool RepeatsPage(const EscAction& a) { return a.repeat; }

  void Act(const EscAction& a, const std::string& when) {
    switch (a.kind) {
      case EscAction::Kind::kPage: Page(a); break;
      case EscAction::Kind::kRun:
        // The row's step starts now, beside the walk, whether the walk skipped it, has not reached it
        // or already ran it; a step in progress, or one that started at this very instant, is not
        // started twice (the same restart twice in one instant helps nobody).
        if (a.value < r_.steps.size()) {
          bool running = InProgress(a.value);
          bool just_ran = std::any_of(trace_.steps.rbegin(), trace_.steps.rend(), [&](const StepRun& sr) {
            return sr.at_ms == facts_.now_ms && sr.name == StepName(a.value);
          });
          if (running) {
            Event(TraceEvent::Kind::kManual, StepName(a.value), "in progress: not started twice");
          } else if (just_ran) {
            Event(TraceEvent::Kind::kManual, StepName(a.value), "ran at this instant: not started again");
          } else {
            cursors_.push_back(NewCursor(a.value, false, when));
          }
        }
        break;
      case EscAction::Kind::kRunbook: Event(TraceEvent::Kind::kHandover, p_.Str(a.value), "hand over to runbook"); break;
      case EscAction::Kind::kManual: Event(TraceEvent::Kind::kManual, "", Text(a.value, a.chunk)); break;
      case EscAction::Kind::kDeclare: {
        const std::string& sev = p_.Str(a.value);
        if (SeverityRank(sev) < SeverityRank(trace_.severity)) {
          trace_.severity = sev;
          facts_.severity = sev;
          Event(TraceEvent::Kind::kDeclare, sev, "severity raised");
        }
        break;
      }
    }
  }

  void Finish() {
    size_t n = r_.rows.size();
    for (size_t i = 0; i < rows_.size(); ++i) {
      if (rows_[i].fired || rows_[i].last != Tri::kUnknown) continue;
      const EscRow& row = i >= n ? p_.policy->rows[i - n] : r_.rows[i];
      if (i >= n && !p_.PolicyRowApplies(rb_, row)) continue;
      AddOnce(trace_.pending_rows, p_.Str(row.text));
    }
    // The scenario ended while a step was still polling, or waiting for an approval or a "done".
    for (const auto& c : cursors_) {
      trace_.steps[c.run].status = lang::Name(lang::StepStatus::kPending);
      AddOnce(trace_.pending_steps, StepName(c.step));
      trace_.pending_why[StepName(c.step)] = c.phase == Phase::kApproval ? "it waits for an approval nobody gave"
                                             : c.phase == Phase::kDone   ? "it waits for a person to say it is done"
                                                                         : "its expectation was still polling";
    }
    for (const auto& q : host_.asked()) {
      if (!world_.answers.Peek(q, opt_.duration_ms)) trace_.pending_asks.push_back(q);
    }
  }

  const Program& p_;
  const Registry& reg_;
  uint32_t rb_;
  const Runbook& r_;
  RunnerWorld world_;
  RunnerOptions opt_;
  Bindings bindings_;
  Trace trace_;
  RunFacts facts_;
  RunHost host_;  // after what it reads: bindings_, facts_, trace_

  bool open_ = false;  // the incident holds (opened or reopened, not closed since)
  int64_t opened_at_ = 0;  // when the current (or last) incident opened
  bool settle_ = false;    // something changed after this instant's rows: the next tick is not skipped
  Walk walk_;
  std::vector<StepState> state_;    // per step, in this walk
  std::vector<int64_t> passed_at_;  // when a passed-over step's guard was last looked at
  std::vector<Tri> guard_seen_;     // what it was then
  std::vector<int> vouched_;        // per step in this walk: 0 not asked, 1 a person said its unknown guard holds, -1 not
  std::vector<Cursor> cursors_;     // the steps in progress: the walk's and the rows'
  Cursor* cur_ = nullptr;           // the one being moved on
  std::map<std::string, size_t> approvals_used_, done_used_;  // per step: the answers consumed so far
  std::vector<RowState> rows_;
  std::map<std::string, int64_t> paged_;  // "severity|contact" → when it was paged, this incident
  std::map<std::string, int64_t> last_page_;  // contact → its last page's instant
};

Runner::Runner(const Program& program, const Registry& registry, uint32_t runbook, Bindings bindings,
               const RunnerWorld& world, const RunnerOptions& options)
    : impl_(std::make_unique<Impl>(program, registry, runbook, std::move(bindings), world, options)) {}

Runner::~Runner() = default;

double Clock::WallSeconds(int64_t at_ms) {
  (void)at_ms;  // a live clock's instants are the system clock's
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void Runner::AddError(std::string message) { impl_->AddError(std::move(message)); }

Trace Runner::Run() { return impl_->Run(); }

}  // namespace rb::rt
