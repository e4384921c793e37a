// The operator table (lang/operators.def) and the one definition of each operator's typing and
// evaluation. The checker types with TypeOf, codegen and lint fold constants with Evaluate, and the VM
// runs its EQ/ADD/AND/... handlers with the same Evaluate, so a condition folds, types and evaluates
// the same way everywhere (Lua's lcode.c folds with the VM's own arithmetic the same way).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lang/value_type.hpp"

namespace rb::lang {

enum class Operator : uint8_t {
#define RB_BINARY_OP(name, text, cls, precedence, opcode, operands, result, doc) k##name,
#define RB_UNARY_OP(name, text, cls, precedence, opcode, operands, result, doc) k##name,
#include "lang/operators.def"
};

// Which rules type and evaluate an operator.
enum class OpClass : uint8_t { kLogic, kEquality, kOrdering, kAdditive, kMultiplicative, kNegation, kText };

struct OperatorInfo {
  std::string_view name;      // "Add"
  std::string_view text;      // "+"
  OpClass cls;
  int arity;                  // 1 or 2
  int precedence;             // 1 loosest
  std::string_view opcode;    // "ADD" (runtime/opcodes.def)
  std::string_view operands;  // for the docs: types in
  std::string_view result;    // type out
  std::string_view doc;       // how unknown and errors are handled
};

inline constexpr OperatorInfo kOperators[] = {
#define RB_BINARY_OP(name, text, cls, precedence, opcode, operands, result, doc) \
  {#name, text, OpClass::cls, 2, precedence, #opcode, operands, result, doc},
#define RB_UNARY_OP(name, text, cls, precedence, opcode, operands, result, doc) \
  {#name, text, OpClass::cls, 1, precedence, #opcode, operands, result, doc},
#include "lang/operators.def"
};
inline constexpr size_t kOperatorCount = sizeof(kOperators) / sizeof(kOperators[0]);
inline const OperatorInfo& Info(Operator op) { return kOperators[static_cast<size_t>(op)]; }

// ---- Evaluation ---------------------------------------------------------------------------------

// A read-only view of one operand: the VM's Value and the folder's constants both convert to it
// without copying (text and lines point into the value they view).
struct Operand {
  ValueType type = ValueType::kUnknown;
  double number = 0;                               // numbers in base units, bools 0/1
  std::string_view text;                           // kString
  const std::vector<std::string>* lines = nullptr;  // kLines (null: no lines)
};

// Why an evaluation failed: the VM reports it as a runtime error at the line, the folder does not fold
// and lint reports it.
enum class Fault : uint8_t {
  kNone,
  kNotCondition,    // and/or/not on something that is not a condition
  kSecretCompared,
  kCannotCompare,   // different types, or a type without that comparison
  kNotNumbers,      // arithmetic on non-numbers
  kAddUnits,        // + or - on different units
  kMulUnits,        // two units multiplied
  kDivUnits,        // a unit divided by another unit
  kDivByZero,
  kOverflow,        // an infinite or NaN result
  kNegate,          // - on a non-number
  kTimeArith,       // a time in arithmetic other than time - time, time ± duration
  kNotText,         // contains/matches on something that is not text
  kBadPattern,      // matches with an invalid regex
};

// A result: a bool, a number with its unit, or unknown; or a fault.
struct Outcome {
  ValueType type = ValueType::kUnknown;
  double number = 0;
  Fault fault = Fault::kNone;
};

// The runtime message of a fault, as the VM reports it ("cannot compare duration with percent").
std::string FaultMessage(Fault fault, const Operand& a, const Operand& b);

// Lines equal a text when the text, split into lines the way filters split output (at '\n', a trailing
// '\r' dropped, no empty last line after a final newline), gives the same lines: "PONG" and "PONG\n"
// both equal the lines ["PONG"].
bool LinesEqualText(const std::vector<std::string>& lines, std::string_view text);

// Kleene truth of an operand: 1 true, 0 false, -1 unknown, -2 not a condition.
inline int Truth(const Operand& v) {
  if (v.type == ValueType::kUnknown) return -1;
  if (v.type == ValueType::kBool) return v.number != 0 ? 1 : 0;
  return -2;
}

namespace detail {

inline Outcome Bool(bool b) { return Outcome{ValueType::kBool, b ? 1.0 : 0.0, Fault::kNone}; }
inline Outcome Tri(int t) { return t < 0 ? Outcome{} : Bool(t == 1); }
inline Outcome Failed(Fault f) { return Outcome{ValueType::kUnknown, 0, f}; }
inline bool Texty(ValueType t) { return t == ValueType::kString || t == ValueType::kLines; }

inline bool TextsEqual(const Operand& a, const Operand& b) {
  static const std::vector<std::string> kNoLines;
  const auto& la = a.lines ? *a.lines : kNoLines;
  const auto& lb = b.lines ? *b.lines : kNoLines;
  if (a.type == ValueType::kString && b.type == ValueType::kString) return a.text == b.text;
  if (a.type == ValueType::kLines && b.type == ValueType::kLines) return la == lb;
  return a.type == ValueType::kLines ? LinesEqualText(la, b.text) : LinesEqualText(lb, a.text);
}

inline Outcome Compare(Operator op, const Operand& a, const Operand& b) {
  if (a.type == ValueType::kUnknown || b.type == ValueType::kUnknown) return Outcome{};
  if (a.type == ValueType::kSecret || b.type == ValueType::kSecret) return Failed(Fault::kSecretCompared);
  bool equality = op == Operator::kEq || op == Operator::kNe;
  if (equality && Texty(a.type) && Texty(b.type)) return Bool(TextsEqual(a, b) == (op == Operator::kEq));
  if (a.type != b.type || !(IsNumeric(a.type) || a.type == ValueType::kTime || (equality && a.type == ValueType::kBool))) {
    return Failed(Fault::kCannotCompare);
  }
  double x = a.number, y = b.number;
  switch (op) {
    case Operator::kEq: return Bool(x == y);
    case Operator::kNe: return Bool(x != y);
    case Operator::kLt: return Bool(x < y);
    case Operator::kLe: return Bool(x <= y);
    case Operator::kGt: return Bool(x > y);
    case Operator::kGe: return Bool(x >= y);
    case Operator::kOr:
    case Operator::kAnd:
    case Operator::kAdd:
    case Operator::kSub:
    case Operator::kMul:
    case Operator::kDiv:
    case Operator::kContains:
    case Operator::kMatches:
    case Operator::kNot:
    case Operator::kNeg: break;
  }
  return Failed(Fault::kCannotCompare);
}

// A time (seconds) in arithmetic: time - time is a duration (ms), time ± duration a time.
inline Outcome TimeArith(Operator op, const Operand& a, const Operand& b) {
  Outcome r{ValueType::kTime, 0, Fault::kNone};
  if (op == Operator::kSub && a.type == ValueType::kTime && b.type == ValueType::kTime) {
    r = Outcome{ValueType::kDuration, (a.number - b.number) * 1000.0, Fault::kNone};
  } else if (op == Operator::kAdd && a.type == ValueType::kTime && b.type == ValueType::kDuration) {
    r.number = a.number + b.number / 1000.0;
  } else if (op == Operator::kAdd && a.type == ValueType::kDuration && b.type == ValueType::kTime) {
    r.number = b.number + a.number / 1000.0;
  } else if (op == Operator::kSub && a.type == ValueType::kTime && b.type == ValueType::kDuration) {
    r.number = a.number - b.number / 1000.0;
  } else {
    return Failed(Fault::kTimeArith);
  }
  if (!std::isfinite(r.number)) return Failed(Fault::kOverflow);
  return r;
}

inline Outcome Arith(Operator op, const Operand& a, const Operand& b) {
  if (a.type == ValueType::kUnknown || b.type == ValueType::kUnknown) return Outcome{};
  if (a.type == ValueType::kTime || b.type == ValueType::kTime) return TimeArith(op, a, b);
  if (!IsNumeric(a.type) || !IsNumeric(b.type)) return Failed(Fault::kNotNumbers);
  double r = 0;
  ValueType unit = a.type;
  if (op == Operator::kAdd || op == Operator::kSub) {
    if (a.type != b.type) return Failed(Fault::kAddUnits);
    r = op == Operator::kAdd ? a.number + b.number : a.number - b.number;
  } else if (op == Operator::kMul) {
    if (a.type != ValueType::kNum && b.type != ValueType::kNum) return Failed(Fault::kMulUnits);
    unit = a.type == ValueType::kNum ? b.type : a.type;
    r = a.number * b.number;
  } else {  // kDiv
    if (b.number == 0) return Failed(Fault::kDivByZero);
    if (b.type == ValueType::kNum) {
      unit = a.type;
    } else if (a.type == b.type) {
      unit = ValueType::kNum;
    } else {
      return Failed(Fault::kDivUnits);
    }
    r = a.number / b.number;
  }
  if (!std::isfinite(r)) return Failed(Fault::kOverflow);
  return Outcome{unit, r, Fault::kNone};
}

}  // namespace detail

// `contains` and `matches` (OpClass::kText): text on the left (a string, or lines: any line), a string on
// the right (for `matches`, a regex of lang/regex.hpp compiled at each evaluation).
Outcome TextTest(Operator op, const Operand& a, const Operand& b);

// A binary operator on two operands. `and`/`or` here combine two evaluated sides; skipping the right
// side (`false and x`) is the caller's (codegen's jumps, the folder's absorbing rule).
inline Outcome Evaluate(Operator op, const Operand& a, const Operand& b) {
  switch (Info(op).cls) {
    case OpClass::kLogic: {
      int x = Truth(a), y = Truth(b);
      if (x == -2 || y == -2) return detail::Failed(Fault::kNotCondition);
      if (op == Operator::kAnd) return detail::Tri(x == 0 || y == 0 ? 0 : (x < 0 || y < 0 ? -1 : 1));
      return detail::Tri(x == 1 || y == 1 ? 1 : (x < 0 || y < 0 ? -1 : 0));
    }
    case OpClass::kEquality:
    case OpClass::kOrdering: return detail::Compare(op, a, b);
    case OpClass::kAdditive:
    case OpClass::kMultiplicative: return detail::Arith(op, a, b);
    case OpClass::kText: return TextTest(op, a, b);
    case OpClass::kNegation: break;
  }
  return detail::Failed(Fault::kNotNumbers);
}

// A unary operator: `not` (Kleene) or `-`.
inline Outcome Evaluate(Operator op, const Operand& a) {
  if (op == Operator::kNot) {
    int t = Truth(a);
    if (t == -2) return detail::Failed(Fault::kNotCondition);
    return detail::Tri(t < 0 ? -1 : 1 - t);
  }
  if (a.type == ValueType::kUnknown) return Outcome{};
  if (!IsNumeric(a.type)) return detail::Failed(a.type == ValueType::kTime ? Fault::kTimeArith : Fault::kNegate);
  return Outcome{a.type, -a.number, Fault::kNone};
}

// ---- Typing -------------------------------------------------------------------------------------

// Why the checker refuses an operator on two types (it words the error: RB0040, RB0041, RB0071).
enum class Refusal : uint8_t {
  kNone,
  kSecret,        // a secret used with any operator
  kNotCondition,  // and/or/not on a non-condition (left_bad / right_bad say which side)
  kUnitMismatch,  // two numbers of different units
  kTypeMismatch,  // anything else
};

struct Typing {
  ValueType result = ValueType::kUnknown;  // on refusal: kBool for logic and comparisons, else kUnknown
  Refusal refusal = Refusal::kNone;
  bool left_bad = false, right_bad = false;  // kNotCondition
};

// The static type of `a op b` (of `op a` for the unary ones), decided by evaluating the operator on
// sample values of those types: a type the VM would refuse at run time is refused here, and the other
// way round. kUnknown operands are not types and are not passed.
Typing TypeOf(Operator op, ValueType a, ValueType b);
Typing TypeOf(Operator op, ValueType a);

}  // namespace rb::lang
