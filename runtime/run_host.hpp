// The runner's host adapter: what the VM's conditions read at the current instant. Params and
// targets from the bindings, symptoms (each evaluated once per instant), the incident, `failed(step)`
// and `output` from the runner's facts, `for > D` windows as UpdateWindows last computed them, `ask`
// from the answers, capability calls from the provider. Every read is a read: the windows' history
// and the questions asked are kept here, by what the runner evaluates, never by what a chunk's
// code happens to reach. Internal to the runner.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "runtime/binding.hpp"
#include "runtime/runner.hpp"
#include "runtime/trace.hpp"
#include "runtime/vm.hpp"

namespace rb::rt {

// What the runner knows at the current instant, which conditions may read. The runner writes it.
struct RunFacts {
  int64_t now_ms = 0;
  Tri incident = Tri::kFalse;
  std::vector<int> step_failed;  // per step: -1 not run (or pending), 0 ok, 1 failed
  Value output;                  // the last command's output, through its filters
  Clock* clock = nullptr;        // for `now()`: the wall-clock instant of now_ms (null: the system clock)
  // The incident's current severity ("P2"; a `declare P1` row raises it), read by `severity` in
  // escalation rows. Empty: the runbook's declared severity.
  std::string severity;
};

class RunHost : public EvalHost {
 public:
  // All references must outlive the host; `trace` receives errors, unknown probes and their events.
  RunHost(const Program& program, uint32_t runbook, const Bindings& bindings, const RunFacts& facts,
          Provider& provider, Answers& answers, StateStore& state, Trace& trace, const VmLimits& limits);

  // A new evaluation instant: symptoms are evaluated afresh.
  void NewInstant();
  // Evaluates a chunk; a runtime error is recorded (once) and reads unknown. Evaluating a chunk asks
  // the questions its code names (its ASK constants), whether or not a short-circuit skips them.
  Value Eval(uint32_t chunk);
  void Error(const std::string& message);
  // Evaluates a command's filter chunk and returns in `stages` and `filtered` what each `|>` stage
  // produced (the stages as written in `filter_text`, and each one's output).
  Value EvalFilters(uint32_t chunk, const std::string& filter_text, std::vector<std::string>& stages,
                    std::vector<std::string>& filtered);
  void Filtered(const std::string& name, const Value& result) override;
  Value SymptomValue(uint32_t index);
  // Evaluates every window's condition (the runbook's, then the policy's) at this instant and keeps
  // its first-seen time in the state store: a false closes it, unknown neither opens nor closes it.
  // The runner calls it once per instant, before the escalation rows that read the windows.
  void UpdateWindows();
  // The earliest instant an open window reaches its bound, as UpdateWindows last saw them.
  std::optional<int64_t> window_deadline() const { return window_deadline_; }
  // Each window as UpdateWindows last saw it (triage shows them).
  struct WindowSeen {
    std::string where;  // "escalation.rb.denis:7": the line of its condition
    int64_t bound_ms = 0;
    Tri state = Tri::kUnknown;     // its condition at this instant
    std::optional<int64_t> first;  // first seen true (run time); none: closed
  };
  const std::vector<WindowSeen>& windows_seen() const { return windows_seen_; }
  // Whether a condition read `now()` since NewInstant: then every tick can change its value.
  bool clock_read() const { return clock_read_; }
  // A new walk of the steps: the captures its steps take start unknown again.
  void ResetCaptures();
  // The `ask` questions the evaluated conditions name, in order of first asking, each once.
  const std::vector<std::string>& asked() const { return asked_; }
  // The instant each of asked() was first asked, parallel to it.
  const std::vector<int64_t>& asked_at() const { return asked_at_; }

  // ---- EvalHost ----
  Value Param(uint32_t owner, uint32_t index) override;
  Value Symptom(uint32_t owner, uint32_t index) override;
  Value Incident(uint32_t owner) override;
  Value StepFailed(uint32_t owner, uint32_t step) override;
  Value Output() override;
  Value Ask(const std::string& question) override;
  Value Window(uint32_t owner, uint32_t window) override;
  Value Call(uint32_t owner, const Import& import, const std::string& name, const Value* args, size_t argc) override;
  Value TargetField(uint32_t owner, uint32_t index, const std::string& field) override;
  // LET: a runbook or policy let, evaluated at most once per instant (a cycle reads unknown); a
  // capture, the value its step took (unknown until then).
  Value Let(uint32_t owner, uint32_t index) override;
  // The runner records what a step's `let` took; it keeps that value for the rest of the run.
  void SetCapture(uint32_t index, Value v);
  Value Now() override;
  // `severity`: RunFacts::severity (the runbook's own when empty); `owner`: the runbook's owner
  // contact name; `down`: the runbook's `down when` chunk (false when it declares none), once per instant.
  Value Severity() override;
  Value Owner() override;
  Value Down() override;
  bool Method(uint32_t owner, const Import& import, const std::string& name, const Value* args, size_t argc,
              Value& out) override;

 private:
  bool Probe(uint32_t owner, const Import& import, const std::string& name, const Value* args, size_t argc,
             ProbeCall& call, ProbeAnswer& answer);
  void NoteUnknown(const ProbeCall& call, const ProbeAnswer& a);
  std::vector<std::pair<std::string, Value>>* filter_log_ = nullptr;  // while EvalFilters runs
  const Program& p_;
  uint32_t rb_;
  const Runbook& r_;
  const Bindings& bindings_;
  const RunFacts& facts_;
  Provider& prov_;
  Answers& answers_;
  StateStore& state_;
  Trace& trace_;
  Vm vm_;
  // One window's state at this instant, from the state store and its condition.
  Value UpdateWindow(uint32_t owner, uint32_t index, const rt::Window& w);
  void MarkAsked(uint32_t chunk);

  std::vector<std::optional<Value>> symptom_cache_;
  std::optional<Value> down_cache_;  // per instant
  std::vector<std::optional<Value>> let_cache_, policy_let_cache_;  // per instant; captures: for the run
  std::vector<Value> windows_, policy_windows_;  // this instant's window values; unknown before
  std::vector<std::vector<uint32_t>> questions_;  // per chunk of this run: the question strings its ASKs read
  std::vector<std::string> asked_;
  std::optional<int64_t> window_deadline_;
  std::vector<WindowSeen> windows_seen_;
  bool clock_read_ = false;
  std::vector<int64_t> asked_at_;
};

}  // namespace rb::rt
