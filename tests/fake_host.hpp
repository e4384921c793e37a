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
  rt::Value Window(uint32_t, uint32_t w, const rt::Value&) override {
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

}  // namespace rb::test
