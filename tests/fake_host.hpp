// An EvalHost for tests: probe results by "capability.method" name, params, answers and window
// results set by the test; symptoms evaluated through the VM (so nesting and cycles are real).
#pragma once

#include <functional>
#include <map>
#include <string>

#include "runtime/vm.hpp"

namespace rb::test {

class FakeHost : public rt::EvalHost {
 public:
  explicit FakeHost(const rt::Program& p) : program_(p) {}
  void SetVm(rt::Vm* vm) { vm_ = vm; }

  std::map<std::string, rt::Value> probes;      // "redis.ping" → result
  std::map<uint32_t, rt::Value> params;         // param index → value
  std::map<std::string, rt::Value> answers;     // question → answer
  std::map<uint32_t, rt::Value> windows;        // window index → result
  rt::Value output = rt::Value::Unknown();
  std::function<void()> on_call;                // runs inside every capability call (e.g. to sleep)
  int calls = 0;

  rt::Value Param(uint32_t, uint32_t i) override { return params.count(i) ? params[i] : rt::Value::Unknown(); }
  rt::Value Symptom(uint32_t owner, uint32_t i) override {
    rt::EvalResult r = vm_->Eval(program_.runbooks.at(owner).symptoms.at(i).chunk, *this);
    if (!r.ok) nested_error = r.error;
    return r.ok ? r.value : rt::Value::Unknown();
  }
  rt::Value Incident(uint32_t) override { return rt::Value::Unknown(); }
  rt::Value StepFailed(uint32_t, uint32_t) override { return rt::Value::Unknown(); }
  rt::Value Output() override { return output; }
  rt::Value Ask(const std::string& q) override { return answers.count(q) ? answers[q] : rt::Value::Unknown(); }
  rt::Value Window(uint32_t, uint32_t w) override {
    return windows.count(w) ? windows[w] : rt::Value::Unknown();
  }
  rt::Value Call(uint32_t, const rt::Import&, const std::string& name, const rt::Value*, size_t) override {
    ++calls;
    if (on_call) on_call();
    auto it = probes.find(name);
    return it == probes.end() ? rt::Value::Unknown() : it->second;
  }

  std::string nested_error;

 private:
  const rt::Program& program_;
  rt::Vm* vm_ = nullptr;
};

// A value of each declared type, for probes that answer.
inline rt::Value Sample(rt::ValueType t) {
  switch (t) {
    case rt::ValueType::kBool: return rt::Value::Bool(true);
    case rt::ValueType::kNum: return rt::Value::Number(t, 3);
    case rt::ValueType::kDuration: return rt::Value::Number(t, 5000);
    case rt::ValueType::kPercent: return rt::Value::Number(t, 85);
    case rt::ValueType::kSize: return rt::Value::Number(t, 1024);
    case rt::ValueType::kString: return rt::Value::String("PONG");
    case rt::ValueType::kLines: return rt::Value::Lines({"used_memory:1024", "ConnectionError", "rate_limit 0"});
    default: return rt::Value::Unknown();
  }
}

// Evaluates every chunk of a verified program under `limits`: once with probes, answers, params,
// windows and command output all known, once with everything unknown; `each` sees every result.
inline void EvalEveryChunk(const rt::Program& p, const rt::VmLimits& limits,
                           const std::function<void(uint32_t chunk, const rt::EvalResult&)>& each) {
  FakeHost host(p);
  rt::Vm vm(p, limits);
  host.SetVm(&vm);
  for (int pass = 0; pass < 2; ++pass) {
    host.probes.clear();
    host.answers.clear();
    host.params.clear();
    host.windows.clear();
    host.output = rt::Value::Unknown();
    if (pass == 0) {
      for (const rt::Import& im : p.imports) {
        if (!im.is_filter) host.probes[p.strings[im.name]] = Sample(im.result);
      }
      for (const rt::Constant& k : p.constants) {
        if (k.type == rt::ValueType::kString) host.answers[p.strings[k.string]] = rt::Value::Bool(k.string % 2 == 0);
      }
      host.params[0] = rt::Value::String("denis");
      host.windows[0] = rt::Value::Bool(true);
      host.output = rt::Value::String("PONG\nused_memory:1024\nrate_limit_fallback 0\nError x\n");
    }
    for (uint32_t c = 0; c < p.chunks.size(); ++c) each(c, vm.Eval(c, host));
  }
}

}  // namespace rb::test
