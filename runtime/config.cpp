// Literals as scenario and environment files write them (see config.hpp). The YAML reader, the
// environment and the scenario loaders are in yaml_reader.cpp, environment.cpp and scenario.cpp.
#include "runtime/config.hpp"

#include <fmt/format.h>

#include <cctype>
#include <cmath>
#include <iterator>
#include <string_view>

#include "runtime/yaml_reader.hpp"

namespace rb::rt {

using cfg::Quote;
using cfg::Trim;

namespace {

constexpr long double kExact = 9007199254740992.0L;  // 2^53: numbers stay exact in base units

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// ---- Literals ------------------------------------------------------------------------------------
// digits [. digits] at s[i...]; advances i. Fraction digits past 18 are ignored.
bool ScanNumber(std::string_view s, size_t& i, long double& value) {
  size_t start = i;
  long double whole = 0;
  while (i < s.size() && IsDigit(s[i])) whole = whole * 10 + (s[i++] - '0');
  if (i == start) return false;
  value = whole;
  if (i < s.size() && s[i] == '.') {
    size_t j = i + 1;
    long double frac = 0, scale = 1;
    int kept = 0;
    while (j < s.size() && IsDigit(s[j])) {
      if (kept++ < 18) frac = frac * 10 + (s[j] - '0'), scale *= 10;
      ++j;
    }
    if (j == i + 1) return false;  // "5." is not a number
    value += frac / scale;
    i = j;
  }
  return true;
}

// A number with an optional leading '-' followed by exactly `unit` ("" for plain numbers).
std::optional<long double> NumberWithUnit(std::string_view s, std::string_view unit, bool allow_minus) {
  bool neg = false;
  if (allow_minus && !s.empty() && s.front() == '-') neg = true, s.remove_prefix(1);
  size_t i = 0;
  long double v = 0;
  if (!ScanNumber(s, i, v)) return std::nullopt;
  if (s.substr(i) != unit) return std::nullopt;
  if (v > kExact) return std::nullopt;
  return neg ? -v : v;
}

std::vector<std::string> SplitLines(std::string_view text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) {
      lines.emplace_back(text.substr(start));
      break;
    }
    lines.emplace_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
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
    default: return "?";
  }
}

}  // namespace

std::optional<int64_t> ParseDurationMs(const std::string& text) {
  std::string_view s = Trim(text);
  if (s == "0") return 0;
  if (s.empty()) return std::nullopt;
  struct Unit {
    std::string_view name;
    long double ms;
  };
  static constexpr Unit kUnits[] = {{"d", 86400000.0L}, {"h", 3600000.0L}, {"m", 60000.0L}, {"s", 1000.0L}, {"ms", 1.0L}};
  size_t i = 0;
  size_t last = 0;  // index into kUnits + 1 of the previous unit: units go from large to small
  long double total = 0;
  while (i < s.size()) {
    long double v = 0;
    if (!ScanNumber(s, i, v)) return std::nullopt;
    size_t u = i;
    while (u < s.size() && std::isalpha(static_cast<unsigned char>(s[u]))) ++u;
    std::string_view name = s.substr(i, u - i);
    size_t k = 0;
    while (k < std::size(kUnits) && kUnits[k].name != name) ++k;
    if (k == std::size(kUnits) || k + 1 <= last) return std::nullopt;
    last = k + 1;
    total += v * kUnits[k].ms;
    i = u;
  }
  if (total > kExact) return std::nullopt;
  return static_cast<int64_t>(std::llround(static_cast<double>(total)));
}

std::optional<Value> ParseLiteral(const std::string& text, ValueType want, std::string& error) {
  std::string_view s = Trim(text);
  auto fail = [&](const char* expected) -> std::optional<Value> {
    error = fmt::format("expected {}, got {}", expected, Quote(text));
    return std::nullopt;
  };
  switch (want) {
    case ValueType::kBool: {
      std::string lower;
      for (char c : s) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (lower == "true" || lower == "yes") return Value::Bool(true);
      if (lower == "false" || lower == "no") return Value::Bool(false);
      return fail("true or false");
    }
    case ValueType::kNum:
      if (auto v = NumberWithUnit(s, "", true)) return Value::Number(ValueType::kNum, static_cast<double>(*v));
      return fail("a number such as 12 or 0.5");
    case ValueType::kDuration:
      if (auto ms = ParseDurationMs(std::string(s))) return Value::Number(ValueType::kDuration, static_cast<double>(*ms));
      return fail("a duration such as 5m or 90s");
    case ValueType::kPercent:
      if (auto v = NumberWithUnit(s, "%", true)) return Value::Number(ValueType::kPercent, static_cast<double>(*v));
      return fail("a percent such as 80%");
    case ValueType::kSize: {
      struct Unit {
        std::string_view name;
        long double bytes;
      };
      static constexpr Unit kUnits[] = {{"B", 1.0L},
                                        {"KB", 1024.0L},
                                        {"MB", 1048576.0L},
                                        {"GB", 1073741824.0L},
                                        {"TB", 1099511627776.0L}};
      size_t i = 0;
      long double v = 0;
      if (ScanNumber(s, i, v)) {
        for (const auto& u : kUnits) {
          if (s.substr(i) == u.name && v * u.bytes <= kExact)
            return Value::Number(ValueType::kSize, static_cast<double>(v * u.bytes));
        }
      }
      return fail("a size such as 512MB or 1GB (B, KB, MB, GB, TB)");
    }
    case ValueType::kString: return Value::String(text);
    case ValueType::kLines: return Value::Lines(SplitLines(text));
    default:
      error = fmt::format("a value of type {} cannot be written in a file", ValueTypeName(want));
      return std::nullopt;
  }
}


std::optional<long double> PlainNumber(std::string_view text) { return NumberWithUnit(text, "", false); }
std::string LiteralTypePhrase(ValueType t) { return TypePhrase(t); }
const char* LiteralTypeExample(ValueType t) { return TypeExample(t); }

}  // namespace rb::rt
