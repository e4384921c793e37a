#include "lang/operators.hpp"

#include <fmt/format.h>

#include "lang/regex.hpp"
#include "lang/text.hpp"

namespace rb::lang {

std::string FaultMessage(Fault fault, const Operand& a, const Operand& b) {
  const char* x = ValueTypeName(a.type);
  const char* y = ValueTypeName(b.type);
  switch (fault) {
    case Fault::kNone: return {};
    case Fault::kNotCondition:
      return fmt::format("expected a condition, got {}", Truth(a) == -2 ? x : y);
    case Fault::kSecretCompared: return "a secret cannot be compared";
    case Fault::kCannotCompare: return fmt::format("cannot compare {} with {}", x, y);
    case Fault::kNotNumbers: return fmt::format("arithmetic on {} and {}", x, y);
    case Fault::kAddUnits: return fmt::format("cannot add {} and {}", x, y);
    case Fault::kMulUnits: return "multiplying two units";
    case Fault::kDivUnits: return "dividing by a different unit";
    case Fault::kDivByZero: return "division by zero";
    case Fault::kOverflow: return "arithmetic overflow";
    case Fault::kNegate: return fmt::format("cannot negate {}", x);
    case Fault::kTimeArith:
      return fmt::format("cannot use {} and {} here: a time takes `time - time` (a duration) and `time + duration`", x, y);
    case Fault::kNotText: return fmt::format("`contains` and `matches` need text and a string, got {} and {}", x, y);
    case Fault::kBadPattern: {
      std::string why;
      Regex::Compile(b.text, false, why);
      return fmt::format("invalid pattern `{}`: {}", b.text, why);
    }
  }
  return "?";
}

bool LinesEqualText(const std::vector<std::string>& lines, std::string_view text) {
  size_t i = 0;
  bool same = true;
  ForEachLine(text, [&](std::string_view line) {
    same = same && i < lines.size() && lines[i] == line;
    ++i;
  });
  return same && i == lines.size();
}

Outcome TextTest(Operator op, const Operand& a, const Operand& b) {
  if (a.type == ValueType::kUnknown || b.type == ValueType::kUnknown) return Outcome{};
  if (a.type == ValueType::kSecret || b.type == ValueType::kSecret) return detail::Failed(Fault::kSecretCompared);
  if (!detail::Texty(a.type) || b.type != ValueType::kString) return detail::Failed(Fault::kNotText);
  static const std::vector<std::string> kNoLines;
  const std::vector<std::string>& lines = a.lines ? *a.lines : kNoLines;
  if (op == Operator::kContains) {
    if (a.type == ValueType::kString) return detail::Bool(a.text.find(b.text) != std::string_view::npos);
    for (const auto& line : lines) {
      if (line.find(b.text) != std::string::npos) return detail::Bool(true);
    }
    return detail::Bool(b.text.empty() && !lines.empty());
  }
  std::string why;
  std::optional<Regex> re = Regex::Compile(b.text, false, why);
  if (!re) return detail::Failed(Fault::kBadPattern);
  bool any = false;
  if (a.type == ValueType::kString) {
    ForEachLine(a.text, [&](std::string_view line) { any = any || re->Search(line); });
    if (a.text.empty()) any = re->Search("");
  } else {
    for (const auto& line : lines) any = any || re->Search(line);
  }
  return detail::Bool(any);
}

namespace {

// A value of type `t` for typing by evaluation: a non-zero number, empty text, no lines.
Operand Sample(ValueType t) {
  static const std::vector<std::string> kNoLines;
  Operand o;
  o.type = t;
  o.number = 1;
  if (t == ValueType::kLines) o.lines = &kNoLines;
  return o;
}

Typing FromOutcome(Operator op, const Outcome& r, const Operand& a, const Operand& b) {
  Typing t;
  OpClass cls = Info(op).cls;
  bool boolean = cls == OpClass::kLogic || cls == OpClass::kEquality || cls == OpClass::kOrdering || cls == OpClass::kText;
  if (r.fault == Fault::kNone) {
    t.result = r.type;
    return t;
  }
  t.result = boolean ? ValueType::kBool : ValueType::kUnknown;
  switch (r.fault) {
    case Fault::kNone: break;
    case Fault::kNotCondition:
      t.refusal = Refusal::kNotCondition;
      t.left_bad = Truth(a) == -2;
      t.right_bad = Info(op).arity == 2 && Truth(b) == -2;
      break;
    case Fault::kSecretCompared: t.refusal = Refusal::kSecret; break;
    case Fault::kCannotCompare:
    case Fault::kAddUnits:
    case Fault::kMulUnits:
    case Fault::kDivUnits:
      t.refusal = IsNumeric(a.type) && IsNumeric(b.type) ? Refusal::kUnitMismatch : Refusal::kTypeMismatch;
      break;
    case Fault::kNotNumbers:
    case Fault::kNegate:
    case Fault::kTimeArith:
    case Fault::kNotText:
    case Fault::kBadPattern:
    case Fault::kDivByZero:  // not with the samples' non-zero numbers; refused to stay total
    case Fault::kOverflow: t.refusal = Refusal::kTypeMismatch; break;
  }
  return t;
}

}  // namespace

Typing TypeOf(Operator op, ValueType a, ValueType b) {
  if (a == ValueType::kSecret || b == ValueType::kSecret) {
    Typing t;
    t.refusal = Refusal::kSecret;
    return t;
  }
  Operand x = Sample(a), y = Sample(b);
  return FromOutcome(op, Evaluate(op, x, y), x, y);
}

Typing TypeOf(Operator op, ValueType a) {
  Operand x = Sample(a);
  return FromOutcome(op, Evaluate(op, x), x, Operand{});
}

}  // namespace rb::lang
