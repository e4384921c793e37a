#include <sstream>

#include "runtime/regex.hpp"
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

// A count argument, clamped: NaN, negatives and huge values never reach a float-to-int conversion.
size_t Count(const Value& v) {
  if (v.type != ValueType::kNum || !(v.number > 0)) return 0;
  return v.number >= 1e9 ? size_t{1000000000} : static_cast<size_t>(v.number);
}

}  // namespace

Value RunFilter(const std::string& name, const Value* args, size_t argc, std::string& error) {
  if (argc == 0 || args[0].IsUnknown()) return Value::Unknown();
  std::vector<std::string> in = LinesOf(args[0]);
  auto grep = [&](bool icase, size_t after) -> Value {
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
    for (const auto& line : in) {
      if (re->Search(line)) {
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
