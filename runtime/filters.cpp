#include <regex>
#include <sstream>

#include "runtime/vm.hpp"

namespace rb::rt {
namespace {

std::vector<std::string> LinesOf(const Value& v) {
  if (v.type == ValueType::kLines && v.heap) return v.heap->lines;
  std::vector<std::string> out;
  std::stringstream ss(v.Text());
  for (std::string line; std::getline(ss, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    out.push_back(line);
  }
  return out;
}

size_t Count(const Value& v) { return v.type == ValueType::kNum && v.number > 0 ? static_cast<size_t>(v.number) : 0; }

}  // namespace

Value RunFilter(const std::string& name, const Value* args, size_t argc, std::string& error) {
  if (argc == 0 || args[0].IsUnknown()) return Value::Unknown();
  std::vector<std::string> in = LinesOf(args[0]);
  auto grep = [&](bool icase, size_t after) -> Value {
    if (argc < 2 || args[1].type != ValueType::kString) return Value::Unknown();
    std::regex re;
    try {
      re = std::regex(args[1].Text(), icase ? std::regex::ECMAScript | std::regex::icase : std::regex::ECMAScript);
    } catch (const std::regex_error&) {
      error = "invalid pattern `" + args[1].Text() + "`";
      return Value::Unknown();
    }
    // std::regex matches recursively: a very long line could exhaust the stack. Patterns are matched
    // against the first kMaxMatchBytes of each line (the whole line is kept in the result).
    constexpr size_t kMaxMatchBytes = 2048;
    std::vector<std::string> out;
    size_t keep = 0;
    for (const auto& line : in) {
      bool hit = line.size() <= kMaxMatchBytes
                     ? std::regex_search(line, re)
                     : std::regex_search(line.begin(), line.begin() + static_cast<long>(kMaxMatchBytes), re);
      if (hit) {
        out.push_back(line);
        keep = after;
      } else if (keep > 0) {
        out.push_back(line);
        --keep;
      }
    }
    return Value::Lines(std::move(out));
  };
  if (name == "grep") return grep(false, 0);
  if (name == "grep_i") return grep(true, 0);
  if (name == "grep_after") return grep(false, argc > 2 ? Count(args[2]) : 0);
  if (name == "head" || name == "tail") {
    size_t n = argc > 1 ? Count(args[1]) : 10;
    n = std::min(n, in.size());
    if (name == "head") in.resize(n);
    else in.erase(in.begin(), in.end() - static_cast<long>(n));
    return Value::Lines(std::move(in));
  }
  if (name == "count") return Value::Number(ValueType::kNum, static_cast<double>(in.size()));
  if (name == "lines") return Value::Lines(std::move(in));
  error = "unknown filter `" + name + "`";
  return Value::Unknown();
}

}  // namespace rb::rt
