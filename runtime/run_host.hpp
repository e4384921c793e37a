// The runner's host adapter: what the VM's conditions read at the current instant. Params and
// targets from the bindings, symptoms (each evaluated once per instant), the incident, `failed(step)`
// and `output` from the runner's facts, `for > D` windows from the state store, `ask` from the
// answers, capability calls from the provider. Internal to the runner.
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
};

class RunHost : public EvalHost {
 public:
  // All references must outlive the host; `trace` receives errors, unknown probes and their events.
  RunHost(const Program& program, uint32_t runbook, const Bindings& bindings, const RunFacts& facts,
          Provider& provider, Answers& answers, StateStore& state, Trace& trace, const VmLimits& limits);

  // A new evaluation instant: symptoms are evaluated afresh.
  void NewInstant();
  // Evaluates a chunk; a runtime error is recorded (once) and reads unknown.
  Value Eval(uint32_t chunk);
  void Error(const std::string& message);
  Value SymptomValue(uint32_t index);
  // The `ask` questions conditions asked, in order, each once.
  const std::vector<std::string>& asked() const { return asked_; }

  // ---- EvalHost ----
  Value Param(uint32_t owner, uint32_t index) override;
  Value Symptom(uint32_t owner, uint32_t index) override;
  Value Incident(uint32_t owner) override;
  Value StepFailed(uint32_t owner, uint32_t step) override;
  Value Output() override;
  Value Ask(const std::string& question) override;
  Value Window(uint32_t owner, uint32_t window, const Value& cond) override;
  Value Call(uint32_t owner, const Import& import, const std::string& name, const Value* args, size_t argc) override;

 private:
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
  std::vector<std::optional<Value>> symptom_cache_;
  std::vector<std::string> asked_;
};

}  // namespace rb::rt
