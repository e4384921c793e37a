// Literals as scenario and environment files write them (see config.hpp). The YAML reader, the
// environment and the scenario loaders are in yaml_reader.cpp, environment.cpp and scenario.cpp.
#include "runtime/config.hpp"

#include <fmt/format.h>

#include <cctype>
#include <cmath>
#include <iterator>
#include <string_view>

#include "lang/literals.hpp"
#include "lang/text.hpp"
#include "lang/units.hpp"
#include "runtime/yaml_reader.hpp"

namespace rb::rt {

using cfg::Quote;
using cfg::Trim;

namespace {

// ---- Literals ------------------------------------------------------------------------------------
// Scalars are read by the language's literal scanner (lang/literals.hpp), as a runbook writes them.

// `s` as a number of dimension `d`, with a leading '-' when `allow_minus`. A refusal that says more
// than "not this type" (an unknown unit, a compound out of order, too large) is left in `detail`.
std::optional<long double> NumberOf(std::string_view s, lang::Dimension d, bool allow_minus, std::string* detail = nullptr) {
  bool neg = false;
  if (allow_minus && !s.empty() && s.front() == '-') neg = true, s.remove_prefix(1);
  lang::LiteralProblem problem;
  auto q = lang::ScanNumber(s, problem);
  if (!q) {
    if (detail && problem.kind != lang::LiteralError::kSyntax) *detail = problem.message;
    return std::nullopt;
  }
  if (q->dimension != d) return std::nullopt;
  return neg ? -static_cast<long double>(q->value) : static_cast<long double>(q->value);
}

// A number with an optional leading '-' followed by exactly `unit` ("" for plain numbers).
std::optional<long double> NumberWithUnit(std::string_view s, std::string_view unit, bool allow_minus) {
  const lang::Unit* u = lang::FindUnit(unit);
  if (!u) return std::nullopt;
  return NumberOf(s, u->dimension, allow_minus);
}


// "a percent", "a duration", ... for messages.
std::string TypePhrase(ValueType t) {
  switch (t) {
    case ValueType::kBool: return "a bool";
    case ValueType::kNum: return "a number";
    case ValueType::kDuration: return "a duration";
    case ValueType::kPercent: return "a percent";
    case ValueType::kSize: return "a size";
    case ValueType::kString: return "text";
    case ValueType::kLines: return "lines of text";
    default: return fmt::format("a {}", ValueTypeName(t));
  }
}

// How to write a value of this type, for messages.
const char* TypeExample(ValueType t) {
  switch (t) {
    case ValueType::kBool: return "true or false";
    case ValueType::kNum: return "12 or 0.5";
    case ValueType::kDuration: return "5m or 90s";
    case ValueType::kPercent: return "85%";
    case ValueType::kSize: return "512MB or 1GB";
    case ValueType::kString: return "\"some text\"";
    case ValueType::kLines: return "a block of text or a list of lines";
    case ValueType::kTime: return "2027-01-01T00:00:00Z";
    default: return "?";
  }
}

}  // namespace

std::optional<int64_t> ParseDurationMs(const std::string& text) {
  std::string_view s = Trim(text);
  if (s == "0") return 0;
  auto ms = NumberOf(s, lang::Dimension::kDuration, false);
  if (!ms) return std::nullopt;
  return static_cast<int64_t>(std::llround(static_cast<double>(*ms)));
}

std::optional<Value> ParseLiteral(const std::string& text, ValueType want, std::string& error) {
  std::string_view s = Trim(text);
  std::string detail;
  auto fail = [&](const char* expected) -> std::optional<Value> {
    error = fmt::format("expected {}, got {}", expected, Quote(text));
    if (!detail.empty()) error += ": " + detail;
    return std::nullopt;
  };
  switch (want) {
    case ValueType::kBool: {
      std::string lower = lang::LowerAscii(s);
      if (lower == "true" || lower == "yes") return Value::Bool(true);
      if (lower == "false" || lower == "no") return Value::Bool(false);
      return fail("true or false");
    }
    case ValueType::kNum:
      if (auto v = NumberOf(s, lang::Dimension::kNone, true, &detail)) return Value::Number(ValueType::kNum, static_cast<double>(*v));
      return fail("a number such as 12 or 0.5");
    case ValueType::kDuration:
      if (s == "0") return Value::Number(ValueType::kDuration, 0);
      if (auto ms = NumberOf(s, lang::Dimension::kDuration, false, &detail))
        return Value::Number(ValueType::kDuration, static_cast<double>(std::llround(static_cast<double>(*ms))));
      return fail("a duration such as 5m or 90s");
    case ValueType::kPercent:
      if (auto v = NumberOf(s, lang::Dimension::kPercent, true, &detail)) return Value::Number(ValueType::kPercent, static_cast<double>(*v));
      return fail("a percent such as 80%");
    case ValueType::kSize:
      if (auto v = NumberOf(s, lang::Dimension::kSize, false, &detail)) return Value::Number(ValueType::kSize, static_cast<double>(*v));
      return fail("a size such as 512MB or 1GB (B, KB, MB, GB, TB)");
    case ValueType::kString: return Value::String(text);
    case ValueType::kLines: return Value::Lines(lang::SplitLines(text));
    case ValueType::kTime: {
      double seconds = 0;
      if (lang::ParseTime(s, seconds, detail)) return Value::Number(ValueType::kTime, seconds);
      detail.clear();
      return fail("a time such as 2027-01-01T00:00:00Z (RFC 3339, UTC with Z or an offset)");
    }
    default:
      error = fmt::format("a value of type {} cannot be written in a file", ValueTypeName(want));
      return std::nullopt;
  }
}

std::optional<long double> PlainNumber(std::string_view text) { return NumberWithUnit(text, "", false); }
std::string LiteralTypePhrase(ValueType t) { return TypePhrase(t); }
const char* LiteralTypeExample(ValueType t) { return TypeExample(t); }

}  // namespace rb::rt
