// The text filters of natives.def (std.text): pure functions of the piped text and their arguments.
// The VM calls them through Natives()[import.native].filter, resolved once by the verifier.
#include "lang/text.hpp"
#include "lang/units.hpp"
#include "runtime/natives.hpp"
#include "runtime/regex.hpp"

#include <nlohmann/json.hpp>

#include <charconv>
#include <cmath>

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

// The piped text as one string: lines joined back with newlines.
static std::string TextOf(const Value& v) {
  if (v.type != ValueType::kLines || !v.heap) return v.Text();
  std::string out;
  for (size_t i = 0; i < v.heap->lines.size(); ++i) out += (i ? "\n" : "") + v.heap->lines[i];
  return out;
}

// number(): the first non-empty line, trimmed, as a plain number. Text that is not a number is an
// error naming it (the run records it and the condition reads unknown), never a silent zero.
Value FilterNumber(const Value* args, size_t argc, std::string& error) {
  if (NoInput(args, argc)) return Value::Unknown();
  for (const auto& raw : LinesOf(args[0])) {
    size_t b = raw.find_first_not_of(" \t\r");
    if (b == std::string::npos) continue;
    size_t e = raw.find_last_not_of(" \t\r");
    std::string t = raw.substr(b, e - b + 1);
    if (!t.empty() && t[0] == '+') t.erase(0, 1);
    double v = 0;
    auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (ec != std::errc() || ptr != t.data() + t.size() || !std::isfinite(v)) {
      error = "`" + (t.size() > 80 ? t.substr(0, 80) + "..." : t) + "` is not a number";
      return Value::Unknown();
    }
    return Value::Number(ValueType::kNum, v);
  }
  return Value::Unknown();  // no line: no value yet
}

namespace {

// The deepest nesting of brackets outside strings: the JSON parser recurses per level.
size_t JsonDepth(const std::string& s) {
  size_t depth = 0, max = 0;
  bool in_string = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      max = std::max(max, ++depth);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return max;
}

}  // namespace

// json("a.b[0].c"): the value at the path of the piped JSON document, as text (a string as is,
// other scalars and sub-documents as JSON). A path the document does not have reads unknown; text
// that is not JSON, or a malformed path, is an error.
Value FilterJson(const Value* args, size_t argc, std::string& error) {
  if (NoInput(args, argc)) return Value::Unknown();
  if (argc < 2 || args[1].type != ValueType::kString) return Value::Unknown();
  std::string text = TextOf(args[0]);
  if (JsonDepth(text) > 128) {
    error = "the document nests deeper than 128 levels";
    return Value::Unknown();
  }
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded()) {
    error = "the text is not JSON";
    return Value::Unknown();
  }
  const std::string& path = args[1].Text();
  const nlohmann::json* at = &doc;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '.') {
      if (i == 0 || i + 1 == path.size() || path[i + 1] == '.' || path[i + 1] == '[') {
        error = "path `" + path + "`: a `.` must separate two keys";
        return Value::Unknown();
      }
      ++i;
      continue;
    }
    if (path[i] == '[') {
      size_t close = path.find(']', i);
      std::string digits = close == std::string::npos ? "" : path.substr(i + 1, close - i - 1);
      size_t index = 0;
      auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
      if (digits.empty() || ec != std::errc() || ptr != digits.data() + digits.size()) {
        error = "path `" + path + "`: write an index as [0]";
        return Value::Unknown();
      }
      if (!at->is_array() || index >= at->size()) return Value::Unknown();
      at = &(*at)[index];
      i = close + 1;
      continue;
    }
    size_t end = path.find_first_of(".[", i);
    std::string key = path.substr(i, end == std::string::npos ? std::string::npos : end - i);
    if (!at->is_object()) return Value::Unknown();
    auto it = at->find(key);
    if (it == at->end()) return Value::Unknown();
    at = &*it;
    i = end == std::string::npos ? path.size() : end;
  }
  if (at->is_null()) return Value::Unknown();
  if (at->is_string()) return Value::String(at->get<std::string>());
  return Value::String(at->dump());
}

}  // namespace rb::rt
