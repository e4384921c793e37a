#include "runtime/value.hpp"

#include <fmt/format.h>

#include <cmath>

namespace rb::rt {

Value Value::String(std::string s) {
  auto h = std::make_shared<Heap>();
  h->text = std::move(s);
  return Value{ValueType::kString, 0, std::move(h)};
}

Value Value::Lines(std::vector<std::string> lines) {
  auto h = std::make_shared<Heap>();
  h->lines = std::move(lines);
  return Value{ValueType::kLines, 0, std::move(h)};
}

Value Value::List(std::vector<Value> items) {
  auto h = std::make_shared<Heap>();
  h->items = std::move(items);
  return Value{ValueType::kList, 0, std::move(h)};
}

Value Value::Secret(std::string name) {
  auto h = std::make_shared<Heap>();
  h->text = std::move(name);
  return Value{ValueType::kSecret, 0, std::move(h)};
}

const std::string& Value::Text() const {
  static const std::string kEmpty;
  return type == ValueType::kString && heap ? heap->text : kEmpty;
}

size_t Value::HeapBytes() const {
  if (!heap) return 0;
  size_t n = sizeof(Heap) + heap->text.size();
  for (const auto& l : heap->lines) n += l.size() + sizeof(std::string);
  n += heap->items.size() * sizeof(Value);
  for (const auto& f : heap->fields) n += f.first.size() + sizeof(f);
  return n;
}

namespace {
std::string Num(double v) {
  if (std::floor(v) == v && std::fabs(v) < 1e15) return fmt::format("{}", static_cast<long long>(v));
  return fmt::format("{:.6g}", v);
}
}  // namespace

std::string ToString(const Value& v) {
  switch (v.type) {
    case ValueType::kUnknown: return "unknown";
    case ValueType::kBool: return v.number != 0 ? "true" : "false";
    case ValueType::kNum: return Num(v.number);
    case ValueType::kDuration: {
      double ms = v.number;
      struct U { const char* name; double ms; };
      for (U u : {U{"d", 86400000}, U{"h", 3600000}, U{"m", 60000}, U{"s", 1000}}) {
        if (std::fabs(ms) >= u.ms && std::fmod(ms, u.ms) == 0) return Num(ms / u.ms) + u.name;
      }
      return Num(ms) + "ms";
    }
    case ValueType::kPercent: return Num(v.number) + "%";
    case ValueType::kSize: {
      double b = v.number;
      struct U { const char* name; double bytes; };
      for (U u : {U{"TB", 1099511627776.0}, U{"GB", 1073741824.0}, U{"MB", 1048576.0}, U{"KB", 1024.0}}) {
        if (std::fabs(b) >= u.bytes && std::fmod(b, u.bytes) == 0) return Num(b / u.bytes) + u.name;
      }
      return Num(b) + "B";
    }
    case ValueType::kString: return v.Text();
    case ValueType::kLines: {
      std::string s;
      if (v.heap) {
        for (const auto& l : v.heap->lines) s += l + "\n";
      }
      return s;
    }
    case ValueType::kList: {
      std::string s = "[";
      if (v.heap) {
        for (size_t i = 0; i < v.heap->items.size(); ++i) s += (i ? ", " : "") + ToString(v.heap->items[i]);
      }
      return s + "]";
    }
    case ValueType::kMap: {
      std::string s = "{";
      if (v.heap) {
        for (size_t i = 0; i < v.heap->fields.size(); ++i)
          s += (i ? ", " : "") + v.heap->fields[i].first + ": " + ToString(v.heap->fields[i].second);
      }
      return s + "}";
    }
    case ValueType::kSecret: return "***";
    case ValueType::kTarget: return fmt::format("<target {}>", static_cast<uint32_t>(v.number));
    case ValueType::kNone: return "none";
  }
  return "?";
}

Value FromConstant(const Program& program, const Constant& c) {
  if (c.type == ValueType::kString) return Value::String(program.strings.at(c.string));
  if (c.type == ValueType::kBool) return Value::Bool(c.number != 0);
  return Value::Number(c.type, c.number);
}

}  // namespace rb::rt
