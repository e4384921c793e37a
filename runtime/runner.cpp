#include "runtime/runner.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
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
class Runner::Impl {
 public:
  Impl(const Program& p, const Registry& reg, uint32_t rb, Bindings bindings, const RunnerWorld& world,
       const RunnerOptions& opt)
      : p_(p), reg_(reg), rb_(rb), r_(p.runbooks.at(rb)), world_(world), opt_(opt), bindings_(std::move(bindings)),
        host_(p, rb, bindings_, facts_, world.provider, world.answers, world.state, trace_, opt.limits) {
    for (const auto& e : bindings_.errors) trace_.errors.push_back(e.ToString());
    facts_.clock = &world_.clock;
    facts_.step_failed.assign(r_.steps.size(), 0);  // `failed(step)` is false until the step ran and failed
    step_done_.assign(r_.steps.size(), false);
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
    int64_t next_tick = 0;
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
      while (next_tick <= facts_.now_ms) next_tick += tick;  // a real clock may have passed several ticks
      int64_t next = next_tick;
      if (wake_ >= 0 && wake_ > facts_.now_ms) next = std::min(next, wake_);
      clock.AdvanceTo(next);
      facts_.now_ms = clock.Now();
    }
    Finish();
    return std::move(trace_);
  }

 private:
  TraceEvent& Event(TraceEvent::Kind kind, std::string name = {}, std::string detail = {}) {
    return trace_.AddEvent(kind, facts_.now_ms, std::move(name), std::move(detail));
  }

  // One evaluation instant: symptoms, the incident, the steps, the `for` windows, then the
  // escalation rows (which read the windows).
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
    facts_.incident = any_true ? Tri::kTrue : any_unknown ? Tri::kUnknown : Tri::kFalse;
    if (facts_.incident == Tri::kTrue && !opened_) {
      opened_ = true;
      Event(TraceEvent::Kind::kIncident, trace_.runbook, "incident opened: a symptom holds");
    }
    Steps();
    host_.UpdateWindows();  // every window sees its condition at every instant, whatever a row reads
    Rows();
    if (!queue_.empty() && !cur_.active) Steps();  // a row's `run <step>` starts at once
  }

  // ---- Steps ----
  struct Cursor {
    bool active = false;   // a step is in progress
    uint32_t step = 0;
    size_t item = 0;
    bool failed = false, pending = false;
    int64_t expect_deadline = -1;  // the current expectation is polling until then
    int polls = 0;
    std::string last_unknown;  // why the last command's output is not there to capture; empty: it ran ok
  };

  void Steps() {
    if (wake_ > facts_.now_ms) return;  // an expectation is waiting for its next poll
    wake_ = -1;
    for (;;) {
      if (!cur_.active) {
        if (!queue_.empty()) {  // a `run <step>` from an escalation row goes first, guard or not
          uint32_t s = queue_.front();
          queue_.erase(queue_.begin());
          Start(s);
        } else if (opened_ && next_ < r_.steps.size()) {
          uint32_t s = next_++;
          if (step_done_[s]) continue;
          const Step& st = r_.steps[s];
          if (st.guard != kNoChunk) {
            Tri g = ToTri(host_.Eval(st.guard));
            if (g == Tri::kFalse) {
              step_done_[s] = true;
              trace_.skipped.push_back(p_.Str(st.name));
              Event(TraceEvent::Kind::kStepSkip, p_.Str(st.name), p_.Str(st.guard_text)).state = g;
              continue;
            }
            if (g == Tri::kUnknown) {
              step_done_[s] = true;
              facts_.step_failed[s] = -1;  // it did not run, and whether it would have failed is unknown
              trace_.pending_steps.push_back(p_.Str(st.name));
              Event(TraceEvent::Kind::kStepPending, p_.Str(st.name), p_.Str(st.guard_text)).state = g;
              continue;
            }
          }
          Start(s);
        } else {
          return;
        }
      }
      if (!Continue()) return;  // waiting for the next poll
    }
  }

  void Start(uint32_t s) {
    step_done_[s] = true;
    cur_ = Cursor{};
    cur_.active = true;
    cur_.step = s;
    facts_.output = Value::Unknown();
    const Step& st = r_.steps[s];
    facts_.step_failed[s] = -1;  // unknown while it runs
    // A step pending on its guard that a row's `run` starts is no longer pending.
    auto& pend = trace_.pending_steps;
    pend.erase(std::remove(pend.begin(), pend.end(), p_.Str(st.name)), pend.end());
    trace_.steps.push_back(StepRun{p_.Str(st.name), facts_.now_ms, {}, "", {}});
    trace_.steps_run.insert(p_.Str(st.name));
    Event(TraceEvent::Kind::kStepStart, p_.Str(st.name), p_.Str(st.title)).status = lang::Name(st.kind);
  }

  // Runs the current step's items from the cursor on. False: an expectation waits until wake_.
  bool Continue() {
    const Step& st = r_.steps[cur_.step];
    while (cur_.item < st.items.size()) {
      const StepItem& it = st.items[cur_.item];
      switch (it.kind) {
        case StepItem::Kind::kCommand: RunCommand(st, it.command, true, JudgedByExpect(st, cur_.item)); break;
        case StepItem::Kind::kText: Event(TraceEvent::Kind::kText, p_.Str(st.name), Text(it.text, it.chunk)); break;
        case StepItem::Kind::kCapture: Capture(st, it.text); break;
        case StepItem::Kind::kExpect:
          if (!Expect(st, it)) return false;
          break;
      }
      ++cur_.item;
    }
    bool only_text = std::all_of(st.items.begin(), st.items.end(),
                                 [](const StepItem& i) { return i.kind == StepItem::Kind::kText; });
    // A step that only tells a person what to do is `manual`, whatever its kind: nothing was done.
    lang::StepStatus ended = cur_.failed    ? lang::StepStatus::kFailed
                             : cur_.pending ? lang::StepStatus::kPending
                             : only_text    ? lang::StepStatus::kManual
                                            : lang::StepStatus::kOk;
    std::string status = lang::Name(ended);
    facts_.step_failed[cur_.step] = cur_.failed ? 1 : cur_.pending ? -1 : 0;
    trace_.steps.back().status = status;
    if (ended == lang::StepStatus::kPending) trace_.pending_steps.push_back(p_.Str(st.name));
    Event(TraceEvent::Kind::kStepEnd, p_.Str(st.name)).status = status;
    cur_.active = false;
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

  // A step's `let`: taken once, now, from the output of the command before it; fixed for the run.
  // It is unknown when that command did not run, failed or had no output, and says why.
  void Capture(const Step& st, uint32_t index) {
    const rt::Let& l = r_.lets.at(index);
    Value v = Value::Unknown();
    std::string why = cur_.last_unknown;
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
    trace_.steps.back().captures.push_back(v.IsUnknown() ? detail + " (" + why + ")" : detail);
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
    std::vector<Value> lets(r_.lets.size());
    for (const auto& word : c.argv) {
      for (const auto& part : word) {
        if (part.kind == WordPart::Kind::kLet && part.value < lets.size()) lets[part.value] = host_.Let(rb_, part.value);
      }
    }
    BoundCommand bc = BindCommand(p_, reg_, rb_, c, bindings_, &lets);
    cur_.last_unknown = "the command before it did not run";
    if (!record && bc.effect > Effect::kRead) return;  // a poll re-runs reads only
    judged = judged && bc.effect <= Effect::kRead;  // a failed write is never excused
    std::string shown = bc.Display();
    if (record) trace_.steps.back().commands.push_back(shown);
    // A re-poll of an expectation runs its read commands again without adding to the timeline.
    TraceEvent scratch;
    TraceEvent& e = record ? Event(TraceEvent::Kind::kCommand, p_.Str(st.name), shown) : scratch;
    e.effect = bc.effect;
    if (bc.unbound) {
      e.status = "not run: a parameter is unbound";
      cur_.pending = true;
      facts_.output = Value::Unknown();
      return;
    }
    if (!bc.unknown_lets.empty()) {
      // A command needing a value nobody has is not run, and what it would have done is unknown.
      e.status = "not run: " + UnknownLetsReason(bc.unknown_lets);
      cur_.pending = true;
      facts_.output = Value::Unknown();
      return;
    }
    if (bc.undeclared) {
      e.status = fmt::format("refused: no rule of program `{}` gives these bound words an effect",
                             bc.argv.empty() ? std::string("?") : bc.argv[0]);
      cur_.failed = true;
      facts_.output = Value::Unknown();
      return;
    }
    if (bc.effect > MaxEffect(st.kind)) {
      e.status = fmt::format("refused: with its bound words this is a {} command ({}); a {} step may not run it",
                             EffectName(bc.effect), bc.rule, lang::Name(st.kind));
      cur_.failed = true;
      facts_.output = Value::Unknown();
      return;
    }
    ExecAnswer a = world_.provider.Exec(bc.argv, bc.effect, facts_.now_ms, ScenarioKeyArgv(p_, reg_, rb_, c, world_.provider.KeyBindings(), &lets));  // scenario key
    bool write = bc.effect >= Effect::kWrite;
    switch (a.status) {
      case ExecAnswer::Status::kOk: e.status = write ? "would run: ok" : "ok"; break;
      case ExecAnswer::Status::kFailed:
        e.status = fmt::format("{}exit {}", write ? "would run: " : "", a.exit_code);
        cur_.failed |= !judged;
        break;
      case ExecAnswer::Status::kTimeout:
        e.status = "timeout";
        cur_.failed |= !judged;
        break;
      case ExecAnswer::Status::kNoData:
        // What a check would have seen is unknown: the step is pending, not passed.
        e.status = "no output in scenario: unknown";
        cur_.pending |= !judged;
        break;
    }
    cur_.last_unknown = a.status == ExecAnswer::Status::kOk       ? ""
                        : a.status == ExecAnswer::Status::kFailed ? fmt::format("the command before it failed: exit {}", a.exit_code)
                        : a.status == ExecAnswer::Status::kTimeout ? "the command before it timed out"
                                                                   : "the command before it has no output in the scenario";
    if (a.status == ExecAnswer::Status::kNoData || a.status == ExecAnswer::Status::kTimeout) {
      facts_.output = Value::Unknown();
    } else {
      facts_.output = Value::String(TrimEnd(a.out));
      if (!a.err.empty() && a.status == ExecAnswer::Status::kFailed) e.status += ": " + TrimEnd(a.err);
    }
    if (c.filter != kNoChunk && !facts_.output.IsUnknown()) facts_.output = host_.EvalFilters(c.filter, p_.Str(c.filter_text), e);  // filter stages
  }

  // True when the expectation is settled (held, or its deadline passed); false to wait for wake_.
  bool Expect(const Step& st, const StepItem& it) {
    if (cur_.expect_deadline < 0) {
      cur_.expect_deadline = facts_.now_ms + static_cast<int64_t>(it.within_ms);
    } else {
      // A poll: run the command this expectation reads again, if it is a read, for fresh output.
      for (size_t i = cur_.item; i-- > 0;) {
        const StepItem& prev = st.items[i];
        if (prev.kind == StepItem::Kind::kText) continue;
        if (prev.kind == StepItem::Kind::kCommand) RunCommand(st, prev.command, false, true);
        break;
      }
    }
    Tri t = ToTri(host_.Eval(it.chunk));
    ++cur_.polls;
    int64_t every = it.every_ms ? static_cast<int64_t>(it.every_ms) : std::max<int64_t>(opt_.tick_ms, 1);
    if (t != Tri::kTrue && facts_.now_ms + every <= cur_.expect_deadline) {
      wake_ = facts_.now_ms + every;
      return false;
    }
    TraceEvent& e = Event(TraceEvent::Kind::kExpect, p_.Str(st.name), p_.Str(it.text));
    e.state = t;
    e.status = t == Tri::kTrue ? "met" : t == Tri::kFalse ? "not met" : "unknown";
    if (it.within_ms) {
      e.status += fmt::format(" after {} poll{} (within {} every {})", cur_.polls, cur_.polls == 1 ? "" : "s",
                              FormatMs(static_cast<int64_t>(it.within_ms)), FormatMs(every));
    }
    cur_.polls = 0;
    if (t == Tri::kFalse) cur_.failed = true;
    if (t == Tri::kUnknown) cur_.pending = true;
    cur_.expect_deadline = -1;
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
      e.detail = fmt::format("{}", fmt::join(ActionTexts(p_, policy ? nullptr : &r_.steps, row), ", "));
      for (const auto& a : row.actions) Act(a);
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

  void Act(const EscAction& a) {
    switch (a.kind) {
      case EscAction::Kind::kPage: {
        const Contact& c = p_.contacts.at(a.value);
        PageSent page{p_.Str(c.name), p_.Str(c.display), p_.Str(c.handle), {}, facts_.now_ms, {}};
        if (a.message != 0 || a.chunk != kNoChunk) page.message = Text(a.message, a.chunk);
        if (paged_at_ != facts_.now_ms) {
          paged_.clear();
          paged_at_ = facts_.now_ms;
        }
        // Two rows paging the same person at the same moment send one page.
        if (!paged_.insert(page.contact).second) break;
        if (opt_.env) {
          auto it = opt_.env->contacts.find(page.contact);
          if (it != opt_.env->contacts.end()) {
            for (const auto& ch : it->second.channels) page.channels.push_back(ch.kind + " " + ch.address);
          }
        }
        world_.notifier.Page(page, trace_);
        break;
      }
      case EscAction::Kind::kRun:
        if (a.value < r_.steps.size()) {
          const std::string& name = p_.Str(r_.steps[a.value].name);
          if (trace_.steps_run.count(name)) {
            Event(TraceEvent::Kind::kManual, name, "already ran: not run twice");
          } else if (std::find(queue_.begin(), queue_.end(), a.value) == queue_.end()) {
            step_done_[a.value] = true;  // the sequence will not run it again
            queue_.push_back(a.value);
          }
        }
        break;
      case EscAction::Kind::kRunbook: Event(TraceEvent::Kind::kHandover, p_.Str(a.value), "hand over to runbook"); break;
      case EscAction::Kind::kManual: Event(TraceEvent::Kind::kManual, "", Text(a.value, a.chunk)); break;
      case EscAction::Kind::kDeclare: {
        const std::string& sev = p_.Str(a.value);
        if (SeverityRank(sev) < SeverityRank(trace_.severity)) {
          trace_.severity = sev;
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
      std::string when = p_.Str(row.text);
      if (std::find(trace_.pending_rows.begin(), trace_.pending_rows.end(), when) == trace_.pending_rows.end()) {
        trace_.pending_rows.push_back(when);
      }
    }
    if (cur_.active) {  // the scenario ended while an expectation was still polling
      trace_.steps.back().status = lang::Name(lang::StepStatus::kPending);
      trace_.pending_steps.push_back(p_.Str(r_.steps[cur_.step].name));
    }
    for (const auto& q : host_.asked()) {
      if (!world_.answers.Answer(q, opt_.duration_ms)) trace_.pending_asks.push_back(q);
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

  int64_t wake_ = -1;
  bool opened_ = false;
  std::vector<bool> step_done_;
  std::vector<uint32_t> queue_;
  uint32_t next_ = 0;
  Cursor cur_;
  std::vector<RowState> rows_;
  int64_t paged_at_ = -1;          // the instant of the pages in paged_
  std::set<std::string> paged_;    // contacts paged at paged_at_: paged once per instant
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
