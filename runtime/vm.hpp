// The VM: runs verified chunks. It can only compute and call what the host registered (capability
// methods go through EvalHost::Call; text filters are pure and built in). Every evaluation is bounded
// by an instruction budget, a value-memory cap, a call-depth cap and a wall-clock deadline.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "runtime/bytecode.hpp"
#include "runtime/value.hpp"

namespace rb::rt {

struct VmLimits {
  // Instructions per top-level evaluation, charged at chunk entry: code only jumps forward, so a
  // chunk runs at most its length (a short-circuit may use less than it was charged).
  uint64_t instruction_budget = 100000;
  // Bytes of heap values (text, lines, lists) one top-level evaluation may create.
  size_t memory_bytes = 16u << 20;
  // Nested chunk evaluations: a condition reading a symptom evaluates the symptom's chunk.
  uint32_t call_depth = 16;
  // Wall-clock time for one top-level evaluation, checked at every capability call and at the entry
  // of nested chunks (computing alone cannot take long: chunks are short and loop-free).
  std::chrono::milliseconds deadline{5000};
};

// What the code reads from the world, supplied by the executor (and by tests).
class EvalHost {
 public:
  virtual ~EvalHost() = default;
  virtual Value Param(uint32_t owner, uint32_t index) = 0;
  virtual Value Symptom(uint32_t owner, uint32_t index) = 0;  // may evaluate the symptom's chunk
  virtual Value Incident(uint32_t owner) = 0;
  virtual Value StepFailed(uint32_t owner, uint32_t step) = 0;
  virtual Value Output() = 0;
  // The current answer to `question`: a read. Which questions a run asks the runner knows from the
  // chunks it evaluates, not from this call.
  virtual Value Ask(const std::string& question) = 0;
  // Whether window `window` of `owner` has held for its bound at this instant, as the runner
  // computed it from the window's own chunk: a read, whatever the code around it skips.
  virtual Value Window(uint32_t owner, uint32_t window) = 0;
  // A native (or, through the default Method, a capability method); args[0] is the receiver target.
  // Returns unknown when the probe fails.
  virtual Value Call(uint32_t owner, const Import& import, const std::string& name, const Value* args, size_t argc) = 0;
  // A field of target `index`'s bound address ("host", "port", ..., an extra key of its environment
  // entry; "" the whole address) as a string: a binding, fixed for the run. Unknown when unbound.
  virtual Value TargetField(uint32_t /*owner*/, uint32_t /*index*/, const std::string& /*field*/) {
    return Value::Unknown();
  }
  // LET A: a let (evaluated at most once per instant) or a step's capture (unknown until taken).
  virtual Value Let(uint32_t owner, uint32_t index) { (void)owner, (void)index; return Value::Unknown(); }
  // The current instant, a kTime value (`now()`). By default the system clock; the runner's host
  // reads its clock (a rehearsal's is virtual).
  virtual Value Now();
  // Escalation scope (`severity in [P1, P2]`, `owner == dba`, `down`): the incident's current
  // severity ("P1"), the owner contact's name of the runbook being run, and whether its `down when`
  // condition holds (false when it declares none). Unknown by default.
  virtual Value Severity() { return Value::Unknown(); }
  virtual Value Owner() { return Value::Unknown(); }
  virtual Value Down() { return Value::Unknown(); }
  // A capability method answered as a whole (a scenario scripting `api.metric("x")`): true with
  // `out` set, or false to have the VM run the method's body with these arguments. By default every
  // method is answered by Call.
  virtual bool Method(uint32_t owner, const Import& import, const std::string& name, const Value* args, size_t argc,
                      Value& out) {
    out = Call(owner, import, name, args, argc);
    return true;
  }
  // What filter `name` returned: called after each filter call, so a trace can show each `|>` stage.
  virtual void Filtered(const std::string& name, const Value& result) { (void)name, (void)result; }
};

struct EvalResult {
  bool ok = false;
  Value value;
  std::string error;  // "file:line: message" when !ok
};

// The interface a second backend (the optional LLVM ORC JIT) implements.
class Backend {
 public:
  virtual ~Backend() = default;
  virtual EvalResult Eval(uint32_t chunk, EvalHost& host) = 0;
};

class Vm : public Backend {
 public:
  // `program` must have passed Verify (LoadProgram guarantees it).
  Vm(const Program& program, VmLimits limits = {});
  EvalResult Eval(uint32_t chunk, EvalHost& host) override;

 private:
  struct Frame;
  // `args` and `caller_owner`: a method body's arguments and the owner of the chunk that called it.
  EvalResult Run(uint32_t chunk, EvalHost& host, const Value* args = nullptr, uint32_t caller_owner = 0);

  const Program& program_;
  VmLimits limits_;
  std::vector<Value> constants_;  // the constant pool as Values, built once (no allocation per CONST)
  std::vector<Value> stack_;  // frames stack on top of each other; sized once, never reallocated
  size_t top_ = 0;
  uint32_t depth_ = 0;
  int64_t budget_ = 0;
  size_t memory_ = 0;
  std::chrono::steady_clock::time_point deadline_;
};

// The text filters are in runtime/natives.hpp (Natives(), FilterGrep, ...).

}  // namespace rb::rt
