// The text filters of natives.def (std.text): pure functions of the piped text and their arguments.
// The VM calls them through Natives()[import.native].filter, resolved once by the verifier.
#include "lang/text.hpp"
#include "lang/units.hpp"
#include "runtime/natives.hpp"
#include "runtime/regex.hpp"

namespace rb::rt {
namespace {

// The piped text as lines, split as the language splits text (lang::SplitLines).
std::vector<std::string> LinesOf(const Value& v) {
  if (v.type == ValueType::kLines && v.heap) return v.heap->lines;
  return lang::SplitLines(v.Text());
}

// A count argument, clamped: NaN, negatives and huge values never reach a float-to-int conversion.
size_t Count(const Value& v) {
  if (v.type != ValueType::kNum || !(v.number > 0)) return 0;
  return v.number >= 1e9 ? size_t{1000000000} : static_cast<size_t>(v.number);
}

bool NoInput(const Value* args, size_t argc) { return argc == 0 || args[0].IsUnknown(); }

// The lines matching args[1] and the `after` lines following each match.
Value Grep(const Value* args, size_t argc, bool icase, size_t after, std::string& error) {
  if (NoInput(args, argc)) return Value::Unknown();
  if (argc < 2 || args[1].type != ValueType::kString) return Value::Unknown();
  // Linear-time matching (runtime/regex.hpp): no pattern can backtrack past the deadline.
  std::string why;
  std::optional<Regex> re = Regex::Compile(args[1].Text(), icase, why);
  if (!re) {
    error = "invalid pattern `" + args[1].Text() + "`: " + why;
    return Value::Unknown();
  }
  std::vector<std::string> out;
  size_t keep = 0;
  for (const auto& line : LinesOf(args[0])) {
    if (re->Search(line)) {
      out.push_back(line);
      keep = after;
    } else if (keep > 0) {
      out.push_back(line);
      --keep;
    }
  }
  return Value::Lines(std::move(out));
}

// The first (or last) args[1] lines; 10 when no count is given.
Value Take(const Value* args, size_t argc, bool first) {
  if (NoInput(args, argc)) return Value::Unknown();
  std::vector<std::string> in = LinesOf(args[0]);
  size_t n = std::min(argc > 1 ? Count(args[1]) : size_t{10}, in.size());
  if (first) in.resize(n);
  else in.erase(in.begin(), in.end() - static_cast<long>(n));
  return Value::Lines(std::move(in));
}

}  // namespace

Value FilterGrep(const Value* args, size_t argc, std::string& error) { return Grep(args, argc, false, 0, error); }
Value FilterGrepI(const Value* args, size_t argc, std::string& error) { return Grep(args, argc, true, 0, error); }
Value FilterGrepAfter(const Value* args, size_t argc, std::string& error) {
  return Grep(args, argc, false, argc > 2 ? Count(args[2]) : 0, error);
}
Value FilterHead(const Value* args, size_t argc, std::string&) { return Take(args, argc, true); }
Value FilterTail(const Value* args, size_t argc, std::string&) { return Take(args, argc, false); }
Value FilterCount(const Value* args, size_t argc, std::string&) {
  if (NoInput(args, argc)) return Value::Unknown();
  return Value::Number(ValueType::kNum, static_cast<double>(LinesOf(args[0]).size()));
}
Value FilterLines(const Value* args, size_t argc, std::string&) {
  if (NoInput(args, argc)) return Value::Unknown();
  return Value::Lines(LinesOf(args[0]));
}

// A point in time read from the text (lang::ParseTime): RFC 3339, openssl's `notAfter=...`, or epoch
// seconds; the first line that is not blank when the input is lines. Anything else reads unknown: a
// timestamp the command did not print is missing data, not an error of the runbook.
Value FilterTime(const Value* args, size_t argc, std::string&) {
  if (NoInput(args, argc)) return Value::Unknown();
  std::string text;
  for (const auto& line : LinesOf(args[0])) {
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    text = line;
    break;
  }
  double seconds = 0;
  std::string why;
  if (!lang::ParseTime(text, seconds, why)) return Value::Unknown();
  return Value::Number(ValueType::kTime, seconds);
}

}  // namespace rb::rt
