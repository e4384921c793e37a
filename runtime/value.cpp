#include "runtime/value.hpp"

#include <fmt/format.h>

#include <cmath>

#include "lang/units.hpp"

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

std::string ToString(const Value& v) {
  switch (v.type) {
    case ValueType::kUnknown: return "unknown";
    case ValueType::kBool: return v.number != 0 ? "true" : "false";
    case ValueType::kNum: return lang::FormatNumber(v.number);
    case ValueType::kDuration: return lang::FormatDuration(v.number);
    case ValueType::kPercent: return lang::FormatQuantity(lang::Dimension::kPercent, v.number);
    case ValueType::kSize: return lang::FormatSize(v.number);
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
    case ValueType::kTime: return lang::FormatTime(v.number);
  }
  return "?";
}

Value FromConstant(const Program& program, const Constant& c) {
  if (c.type == ValueType::kString) return Value::String(program.strings.at(c.string));
  if (c.type == ValueType::kBool) return Value::Bool(c.number != 0);
  return Value::Number(c.type, c.number);
}

}  // namespace rb::rt
