#include "runtime/vm.hpp"

#include <fmt/format.h>

#include <cmath>

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

bool Same(ValueType a, ValueType b) { return a == b; }

// Kleene truth: 1 true, 0 false, -1 unknown. Anything else is a type error.
int Truth(const Value& v) {
  if (v.type == ValueType::kUnknown) return -1;
  if (v.type == ValueType::kBool) return v.number != 0 ? 1 : 0;
  throw RuntimeError{fmt::format("expected a condition, got {}", ValueTypeName(v.type))};
}

Value FromTruth(int t) { return t < 0 ? Value::Unknown() : Value::Bool(t == 1); }

Value Compare(Op op, const Value& a, const Value& b) {
  if (a.IsUnknown() || b.IsUnknown()) return Value::Unknown();
  if (a.type == ValueType::kSecret || b.type == ValueType::kSecret) throw RuntimeError{"a secret cannot be compared"};
  bool ordering = op != Op::kEQ && op != Op::kNE;
  auto texty = [](const Value& v) { return v.type == ValueType::kString || v.type == ValueType::kLines; };
  if (!ordering && texty(a) && texty(b)) {
    bool eq = ToString(a) == ToString(b);
    return Value::Bool(op == Op::kEQ ? eq : !eq);
  }
  if (!Same(a.type, b.type) || !(a.IsNumeric() || (!ordering && a.type == ValueType::kBool))) {
    throw RuntimeError{fmt::format("cannot compare {} with {}", ValueTypeName(a.type), ValueTypeName(b.type))};
  }
  double x = a.number, y = b.number;
  switch (op) {
    case Op::kEQ: return Value::Bool(x == y);
    case Op::kNE: return Value::Bool(x != y);
    case Op::kLT: return Value::Bool(x < y);
    case Op::kLE: return Value::Bool(x <= y);
    case Op::kGT: return Value::Bool(x > y);
    case Op::kGE: return Value::Bool(x >= y);
    default: break;
  }
  throw RuntimeError{"not a comparison"};
}

Value Arith(Op op, const Value& a, const Value& b) {
  if (a.IsUnknown() || b.IsUnknown()) return Value::Unknown();
  if (!a.IsNumeric() || !b.IsNumeric()) {
    throw RuntimeError{fmt::format("arithmetic on {} and {}", ValueTypeName(a.type), ValueTypeName(b.type))};
  }
  double r = 0;
  ValueType unit = a.type;
  switch (op) {
    case Op::kADD:
    case Op::kSUB:
      if (a.type != b.type) throw RuntimeError{fmt::format("cannot add {} and {}", ValueTypeName(a.type), ValueTypeName(b.type))};
      r = op == Op::kADD ? a.number + b.number : a.number - b.number;
      break;
    case Op::kMUL:
      if (a.type != ValueType::kNum && b.type != ValueType::kNum) throw RuntimeError{"multiplying two units"};
      unit = a.type == ValueType::kNum ? b.type : a.type;
      r = a.number * b.number;
      break;
    case Op::kDIV:
      if (b.number == 0) throw RuntimeError{"division by zero"};
      if (b.type == ValueType::kNum) {
        unit = a.type;
      } else if (a.type == b.type) {
        unit = ValueType::kNum;
      } else {
        throw RuntimeError{"dividing by a different unit"};
      }
      r = a.number / b.number;
      break;
    default: throw RuntimeError{"not arithmetic"};
  }
  if (!std::isfinite(r)) throw RuntimeError{"arithmetic overflow"};
  return Value::Number(unit, r);
}

}  // namespace

Vm::Vm(const Program& program, VmLimits limits) : program_(program), limits_(limits) {
  constants_.reserve(program.constants.size());
  for (const Constant& k : program.constants) constants_.push_back(FromConstant(program, k));
  stack_.resize((kMaxStack + 1) * (static_cast<size_t>(limits_.call_depth) + 1));
}

EvalResult Vm::Eval(uint32_t chunk, EvalHost& host) {
  if (depth_ == 0) {
    budget_ = static_cast<int64_t>(limits_.instruction_budget);
    memory_ = 0;
    top_ = 0;
    deadline_ = std::chrono::steady_clock::now() + limits_.deadline;
  }
  return Run(chunk, host);
}

EvalResult Vm::Run(uint32_t chunk_index, EvalHost& host) {
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
  const uint32_t owner = chunk.owner;
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
    CASE(NOT) {
      int t = Truth(sp[-1]);
      sp[-1] = FromTruth(t < 0 ? -1 : 1 - t);
      NEXT();
    }
    CASE(AND) {
      int a = Truth(sp[-2]), b = Truth(sp[-1]);
      --sp;
      sp[-1] = FromTruth(a == 0 || b == 0 ? 0 : (a < 0 || b < 0 ? -1 : 1));
      NEXT();
    }
    CASE(OR) {
      int a = Truth(sp[-2]), b = Truth(sp[-1]);
      --sp;
      sp[-1] = FromTruth(a == 1 || b == 1 ? 1 : (a < 0 || b < 0 ? -1 : 0));
      NEXT();
    }
    CASE(NEG) {
      Value& v = sp[-1];
      if (!v.IsUnknown()) {
        if (!v.IsNumeric()) throw RuntimeError{fmt::format("cannot negate {}", ValueTypeName(v.type))};
        v.number = -v.number;
      }
      NEXT();
    }
    CASE(ADD) { --sp; sp[-1] = Arith(Op::kADD, sp[-1], sp[0]); NEXT(); }
    CASE(SUB) { --sp; sp[-1] = Arith(Op::kSUB, sp[-1], sp[0]); NEXT(); }
    CASE(MUL) { --sp; sp[-1] = Arith(Op::kMUL, sp[-1], sp[0]); NEXT(); }
    CASE(DIV) { --sp; sp[-1] = Arith(Op::kDIV, sp[-1], sp[0]); NEXT(); }
    CASE(EQ) { --sp; sp[-1] = Compare(Op::kEQ, sp[-1], sp[0]); NEXT(); }
    CASE(NE) { --sp; sp[-1] = Compare(Op::kNE, sp[-1], sp[0]); NEXT(); }
    CASE(LT) { --sp; sp[-1] = Compare(Op::kLT, sp[-1], sp[0]); NEXT(); }
    CASE(LE) { --sp; sp[-1] = Compare(Op::kLE, sp[-1], sp[0]); NEXT(); }
    CASE(GT) { --sp; sp[-1] = Compare(Op::kGT, sp[-1], sp[0]); NEXT(); }
    CASE(GE) { --sp; sp[-1] = Compare(Op::kGE, sp[-1], sp[0]); NEXT(); }
    CASE(WINDOW) {
      Truth(sp[-1]);  // type check: windows hold conditions
      sp[-1] = host.Window(owner, OperandA(w), sp[-1]);
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
