#include "runtime/run_host.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace rb::rt {

namespace {

std::string ArgsText(const std::vector<Value>& args) {
  std::string s;
  for (size_t i = 0; i < args.size(); ++i) {
    if (i) s += ", ";
    s += args[i].type == ValueType::kString ? fmt::format("\"{}\"", args[i].Text()) : ToString(args[i]);
  }
  return s;
}

Value Bool3(Tri t) { return t == Tri::kUnknown ? Value::Unknown() : Value::Bool(t == Tri::kTrue); }

}  // namespace

RunHost::RunHost(const Program& program, uint32_t runbook, const Bindings& bindings, const RunFacts& facts,
                 Provider& provider, Answers& answers, StateStore& state, Trace& trace, const VmLimits& limits)
    : p_(program), rb_(runbook), r_(program.runbooks.at(runbook)), bindings_(bindings), facts_(facts),
      prov_(provider), answers_(answers), state_(state), trace_(trace), vm_(program, limits) {
  symptom_cache_.resize(r_.symptoms.size());
}

void RunHost::NewInstant() {
  for (auto& c : symptom_cache_) c.reset();
}

Value RunHost::Eval(uint32_t chunk) {
  EvalResult r = vm_.Eval(chunk, *this);
  if (!r.ok) {
    Error(r.error);
    return Value::Unknown();
  }
  return r.value;
}

void RunHost::Error(const std::string& message) {
  if (std::find(trace_.errors.begin(), trace_.errors.end(), message) == trace_.errors.end()) {
    trace_.errors.push_back(message);
    trace_.AddEvent(TraceEvent::Kind::kError, facts_.now_ms, "", message);
  }
}

Value RunHost::SymptomValue(uint32_t index) {
  if (index >= symptom_cache_.size()) return Value::Unknown();
  if (!symptom_cache_[index]) {
    symptom_cache_[index] = Value::Unknown();  // a cycle reads unknown (the checker rejects cycles anyway)
    symptom_cache_[index] = Eval(r_.symptoms[index].chunk);
  }
  return *symptom_cache_[index];
}

Value RunHost::Param(uint32_t owner, uint32_t index) {
  if (owner == kPolicyOwner || index >= bindings_.params.size()) return Value::Unknown();
  return bindings_.params[index].value;
}

Value RunHost::Symptom(uint32_t owner, uint32_t index) {
  if (owner != rb_) return Value::Unknown();
  return SymptomValue(index);
}

Value RunHost::Incident(uint32_t) { return Bool3(facts_.incident); }

Value RunHost::StepFailed(uint32_t owner, uint32_t step) {
  const std::vector<int>& failed = facts_.step_failed;
  if (owner != rb_ || step >= failed.size() || failed[step] < 0) return Value::Unknown();
  return Value::Bool(failed[step] == 1);
}

Value RunHost::Output() { return facts_.output; }

Value RunHost::Ask(const std::string& question) {
  if (std::find(asked_.begin(), asked_.end(), question) == asked_.end()) asked_.push_back(question);
  std::optional<bool> a = answers_.Answer(question, facts_.now_ms);
  return a ? Value::Bool(*a) : Value::Unknown();
}

Value RunHost::Window(uint32_t owner, uint32_t window, const Value& cond) {
  const std::vector<rt::Window>& ws = owner == kPolicyOwner ? p_.policy->windows : r_.windows;
  if (window >= ws.size()) return Value::Unknown();
  std::string key = fmt::format("{}/{}/{}", trace_.runbook, owner == kPolicyOwner ? "policy" : "runbook", window);
  Tri t = ToTri(cond);
  if (t == Tri::kFalse) {
    state_.Erase(key);
    return Value::Bool(false);
  }
  std::optional<int64_t> first = state_.Get(key);
  if (t == Tri::kUnknown) return Value::Unknown();  // a gap in the data neither opens nor closes it
  const int64_t now = facts_.now_ms;
  if (!first) {
    state_.Set(key, now);
    first = now;
  }
  int64_t held = now - *first, bound = static_cast<int64_t>(ws[window].bound_ms);
  return Value::Bool(ws[window].inclusive ? held >= bound : held > bound);
}

Value RunHost::Call(uint32_t owner, const Import& import, const std::string& name, const Value* args, size_t argc) {
  if (argc == 0 || args[0].type != ValueType::kTarget) return Value::Unknown();
  const auto& targets = owner == kPolicyOwner ? bindings_.policy_targets : bindings_.targets;
  auto ti = static_cast<size_t>(args[0].number);
  if (ti >= targets.size()) return Value::Unknown();
  ProbeCall call;
  call.target = targets[ti].name;
  call.binding = targets[ti].binding;
  call.method = name;
  call.args.assign(args + 1, args + argc);
  call.effect = import.effect;
  ProbeAnswer a = prov_.Probe(call, facts_.now_ms);
  if (a.value.IsUnknown()) {
    std::string what = fmt::format("{}.{}({}): {}", call.target, name.substr(name.find('.') + 1), ArgsText(call.args),
                                   a.reason);
    if (std::find(trace_.unknown_probes.begin(), trace_.unknown_probes.end(), what) == trace_.unknown_probes.end()) {
      trace_.unknown_probes.push_back(what);
    }
  }
  return a.value;
}

}  // namespace rb::rt
