#include "runtime/vm.hpp"

#include <fmt/format.h>

#include <cmath>

#include "lang/operators.hpp"
#include "runtime/natives.hpp"
#include "runtime/verifier.hpp"

// Dispatch: a plain switch, or computed goto (GCC/Clang) when RUNBOOK_COMPUTED_GOTO is set. The
// handlers are written once between CASE() labels and end in NEXT().
#if defined(RUNBOOK_COMPUTED_GOTO) && RUNBOOK_COMPUTED_GOTO && (defined(__GNUC__) || defined(__clang__))
#define RB_USE_GOTO 1
#else
#define RB_USE_GOTO 0
#endif

namespace rb::rt {

namespace {

struct RuntimeError {
  std::string message;
};

// The operand view of a value (lang/operators.hpp): no copy, text and lines point into the heap.
inline lang::Operand View(const Value& v) {
  lang::Operand o;
  o.type = v.type;
  o.number = v.number;
  if (v.heap) {
    if (v.type == ValueType::kString) o.text = v.heap->text;
    if (v.type == ValueType::kLines) o.lines = &v.heap->lines;
  }
  return o;
}

[[noreturn]] void Fail(lang::Fault fault, const Value& a, const Value& b) {
  throw RuntimeError{lang::FaultMessage(fault, View(a), View(b))};
}

// Kleene truth for the jumps: 1 true, 0 false, -1 unknown. Anything else is a type error.
inline int Truth(const Value& v) {
  int t = lang::Truth(View(v));
  if (t == -2) Fail(lang::Fault::kNotCondition, v, v);
  return t;
}

// `a op b` into `a`, with the table's evaluation (the same the constant folder uses).
inline void Apply(lang::Operator op, Value& a, const Value& b) {
  lang::Outcome r = lang::Evaluate(op, View(a), View(b));
  if (r.fault != lang::Fault::kNone) Fail(r.fault, a, b);
  a = Value{r.type, r.number, nullptr};
}

// `op a` in place.
inline void Apply(lang::Operator op, Value& a) {
  lang::Outcome r = lang::Evaluate(op, View(a));
  if (r.fault != lang::Fault::kNone) Fail(r.fault, a, a);
  a = Value{r.type, r.number, nullptr};
}

// bytes(n), seconds(n), percent(n): a plain number given a unit, `scale` base units per one.
inline void AsUnit(Value& v, ValueType unit, double scale, const char* fn) {
  if (v.IsUnknown()) return;
  if (v.type != ValueType::kNum) throw RuntimeError{fmt::format("{}() takes a plain number, got {}", fn, ValueTypeName(v.type))};
  double r = v.number * scale;
  if (!std::isfinite(r)) throw RuntimeError{"arithmetic overflow"};
  v = Value::Number(unit, r);
}

}  // namespace

Value EvalHost::Now() {
  auto since = std::chrono::system_clock::now().time_since_epoch();
  return Value::Number(ValueType::kTime, std::chrono::duration<double>(since).count());
}

Vm::Vm(const Program& program, VmLimits limits) : program_(program), limits_(limits) {
  constants_.reserve(program.constants.size());
  for (const Constant& k : program.constants) constants_.push_back(FromConstant(program, k));
  stack_.resize((kMaxStack + 1) * (static_cast<size_t>(limits_.call_depth) + 1));
}

EvalResult Vm::Eval(uint32_t chunk, EvalHost& host) {
  if (chunk < program_.chunks.size() && program_.chunks[chunk].cls == ChunkClass::kMethod) {
    // A body has arguments only when its method is called (CALL passes them).
    return EvalResult{false, {}, fmt::format("chunk {} is a method body: it runs when its method is called", chunk)};
  }
  if (depth_ == 0) {
    budget_ = static_cast<int64_t>(limits_.instruction_budget);
    memory_ = 0;
    top_ = 0;
    deadline_ = std::chrono::steady_clock::now() + limits_.deadline;
  }
  return Run(chunk, host);
}

EvalResult Vm::Run(uint32_t chunk_index, EvalHost& host, const Value* method_args, uint32_t caller_owner) {
  if (chunk_index >= program_.chunks.size()) return EvalResult{false, {}, "no such chunk"};
  const Chunk& chunk = program_.chunks[chunk_index];
  static const std::string kNoFile = "?";
  const std::string& file = chunk.file < program_.files.size() ? program_.files[chunk.file] : kNoFile;
  if (depth_ >= limits_.call_depth) {
    return EvalResult{false, {}, fmt::format("{}:{}: evaluation nests deeper than {} (a condition that depends on itself?)",
                                             file, chunk.lines.empty() ? 0 : chunk.lines[0], limits_.call_depth)};
  }
  budget_ -= static_cast<int64_t>(chunk.code.size());
  if (budget_ < 0) {
    return EvalResult{false, {}, fmt::format("{}:{}: instruction budget of {} exhausted", file, chunk.lines[0],
                                             limits_.instruction_budget)};
  }
  if (depth_ > 0 && std::chrono::steady_clock::now() > deadline_) {  // Eval just set it at depth 0
    return EvalResult{false, {}, fmt::format("{}:{}: deadline of {} ms passed", file, chunk.lines[0],
                                             limits_.deadline.count())};
  }
  ++depth_;
  const size_t base = top_;
  top_ += chunk.max_stack;
  Value* sp = stack_.data() + base;  // next free slot
  const uint32_t* code = chunk.code.data();
  size_t pc = 0;
  uint32_t w = 0;
  // A method body belongs to no runbook: the natives it calls run for the runbook that called it.
  const uint32_t owner = chunk.cls == ChunkClass::kMethod ? caller_owner : chunk.owner;
  auto finish = [&](EvalResult r) {
    for (Value* v = stack_.data() + base; v < stack_.data() + top_; ++v) *v = Value();
    top_ = base;
    --depth_;
    return r;
  };
  auto account = [&](const Value& v) {
    memory_ += v.HeapBytes();
    if (memory_ > limits_.memory_bytes) {
      throw RuntimeError{fmt::format("value memory cap of {} bytes exceeded", limits_.memory_bytes)};
    }
  };
  auto check_time = [&] {
    if (std::chrono::steady_clock::now() > deadline_) {
      throw RuntimeError{fmt::format("deadline of {} ms passed", limits_.deadline.count())};
    }
  };

#if RB_USE_GOTO
  static const void* const kLabels[] = {
#define RB_OP(name, shape, pops, pushes, effect, doc) &&L_##name,
#include "runtime/opcodes.def"
#undef RB_OP
  };
#define CASE(name) L_##name:
#define NEXT()                     \
  do {                             \
    w = code[pc++];                \
    goto* kLabels[OpByte(w)];      \
  } while (0)
#else
#define CASE(name) case Op::k##name:
#define NEXT() continue
#endif

  try {
#if RB_USE_GOTO
    NEXT();
#else
    for (;;) {
      w = code[pc++];
      switch (static_cast<Op>(OpByte(w))) {
#endif
    CASE(NOP) { NEXT(); }
    CASE(CONST) {
      *sp++ = constants_[OperandA(w)];
      NEXT();
    }
    CASE(TRUE) { *sp++ = Value::Bool(true); NEXT(); }
    CASE(FALSE) { *sp++ = Value::Bool(false); NEXT(); }
    CASE(UNKNOWN) { *sp++ = Value::Unknown(); NEXT(); }
    CASE(PARAM) { *sp++ = host.Param(owner, OperandA(w)); NEXT(); }
    CASE(TARGET) { *sp++ = Value::Target(OperandA(w)); NEXT(); }
    CASE(SYMPTOM) { *sp++ = host.Symptom(owner, OperandA(w)); NEXT(); }
    CASE(INCIDENT) { *sp++ = host.Incident(owner); NEXT(); }
    CASE(FAILED) { *sp++ = host.StepFailed(owner, OperandA(w)); NEXT(); }
    CASE(OUTPUT) {
      *sp = host.Output();
      account(*sp++);
      NEXT();
    }
    CASE(ASK) {
      *sp++ = host.Ask(program_.strings[program_.constants[OperandA(w)].string]);
      NEXT();
    }
    // The operators' handlers, one per row of lang/operators.def.
#define RB_UNARY_OP(name, text, cls, precedence, opcode, operands, result, doc) \
    CASE(opcode) { Apply(lang::Operator::k##name, sp[-1]); NEXT(); }
#define RB_BINARY_OP(name, text, cls, precedence, opcode, operands, result, doc) \
    CASE(opcode) { --sp; Apply(lang::Operator::k##name, sp[-1], sp[0]); NEXT(); }
#include "lang/operators.def"
    CASE(NOW) { *sp++ = host.Now(); NEXT(); }
    CASE(SEVERITY) { *sp++ = host.Severity(); NEXT(); }
    CASE(OWNER) { *sp++ = host.Owner(); NEXT(); }
    CASE(DOWN) { *sp++ = host.Down(); NEXT(); }
    CASE(AS_SIZE) { AsUnit(sp[-1], ValueType::kSize, 1, "bytes"); NEXT(); }
    CASE(AS_DURATION) { AsUnit(sp[-1], ValueType::kDuration, 1000, "seconds"); NEXT(); }
    CASE(AS_PERCENT) { AsUnit(sp[-1], ValueType::kPercent, 1, "percent"); NEXT(); }
    CASE(WINDOW) { *sp++ = host.Window(owner, OperandA(w)); NEXT(); }
    CASE(LET) {
      *sp = host.Let(owner, OperandA(w));
      account(*sp++);
      NEXT();
    }
    CASE(LIST) {
      {  // locals end before the dispatch jump (an indirect goto may not leave their scope)
        uint32_t n = OperandA(w);
        std::vector<Value> items(sp - n, sp);
        sp -= n;
        *sp = Value::List(std::move(items));
        account(*sp++);
      }
      NEXT();
    }
    CASE(CALL) {
      {  // locals end before the dispatch jump
      check_time();
      const Import& im = program_.imports[CallImport(w)];
      uint8_t argc = CallArgc(w);
      const std::string& name = program_.strings[im.name];
      Value* args = sp - argc;
      Value result;
      if (im.is_filter) {
        // Through the natives table, by the index the verifier resolved: no name compare per call.
        const std::vector<NativeInfo>& natives = Natives();
        if (im.native >= natives.size() || !natives[im.native].filter) {
          throw RuntimeError{fmt::format("filter `{}` has no implementation on this host", name)};
        }
        std::string error;
        result = natives[im.native].filter(args, argc, error);
        if (!error.empty()) throw RuntimeError{name + ": " + error};
        host.Filtered(name, result);
      } else if (im.IsMethod()) {
        // The method as a whole first (a scenario may answer it); else its body, in a new frame
        // under the same budget, memory, depth and deadline.
        if (!host.Method(owner, im, name, args, argc, result)) {
          EvalResult r = Run(im.body, host, args, owner);
          if (!r.ok) return finish(std::move(r));
          result = std::move(r.value);
        }
        if (!result.IsUnknown() && result.type != im.result) {
          throw RuntimeError{fmt::format("`{}` returned {}, declared {}", name, ValueTypeName(result.type),
                                         ValueTypeName(im.result))};
        }
      } else {
        result = host.Call(owner, im, name, args, argc);
        if (!result.IsUnknown() && result.type != im.result) {
          throw RuntimeError{fmt::format("`{}` returned {}, declared {}", name, ValueTypeName(result.type),
                                         ValueTypeName(im.result))};
        }
      }
      for (Value* v = args; v < sp; ++v) *v = Value();
      sp = args;
      *sp = std::move(result);
      account(*sp++);
      }
      NEXT();
    }
    CASE(JUMP_IF_FALSE) {
      if (Truth(sp[-1]) == 0) pc = OperandA(w);
      NEXT();
    }
    CASE(JUMP_IF_TRUE) {
      if (Truth(sp[-1]) == 1) pc = OperandA(w);
      NEXT();
    }
    CASE(POP) { *--sp = Value(); NEXT(); }
    CASE(ARG) { *sp++ = method_args[OperandA(w)]; NEXT(); }
    CASE(RETURN) {
      // The verifier proved, from opcodes.def's pops and pushes, that RETURN finds exactly one value:
      // a handler that pops or pushes other than its row says would show here (tests/vm_stack_test.cpp).
      if (sp != stack_.data() + base + 1) {
        throw RuntimeError{fmt::format("internal: {} values on the stack at RETURN, the verifier computed 1",
                                       sp - (stack_.data() + base))};
      }
      Value result = std::move(*--sp);
      return finish(EvalResult{true, std::move(result), {}});
    }
    CASE(CONCAT) {
      {  // locals end before the dispatch jump
        uint32_t n = OperandA(w);
        // An unknown part (an unbound param or target) leaves the whole text unknown: whoever shows
        // it falls back to the text as written, `{name}` and all.
        std::string text;
        bool unknown = false;
        for (Value* v = sp - n; v < sp; ++v) {
          unknown = unknown || v->IsUnknown();
          if (!unknown) text += ToString(*v);
          *v = Value();
        }
        sp -= n;
        *sp = unknown ? Value::Unknown() : Value::String(std::move(text));
        account(*sp++);
      }
      NEXT();
    }
    CASE(TFIELD) {
      {
        std::string field = sp[-1].type == ValueType::kString ? sp[-1].Text() : std::string();
        sp[-1] = host.TargetField(owner, OperandA(w), field);
        account(sp[-1]);
      }
      NEXT();
    }
    CASE(ASK_TEXT) {
      {
        if (sp[-1].type != ValueType::kString) throw RuntimeError{"a question is not text"};
        std::string question = sp[-1].Text();
        sp[-1] = host.Ask(question);
      }
      NEXT();
    }
#if !RB_USE_GOTO
      }
    }
#endif
  } catch (const RuntimeError& e) {
    uint32_t line = pc > 0 && pc - 1 < chunk.lines.size() ? chunk.lines[pc - 1] : 0;
    return finish(EvalResult{false, {}, fmt::format("{}:{}: {}", file, line, e.message)});
  }
#undef CASE
#undef NEXT
  return finish(EvalResult{false, {}, "unreachable: chunk ended without RETURN"});
}

}  // namespace rb::rt
