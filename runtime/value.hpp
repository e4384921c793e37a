// Runtime values: numbers carry their unit, text and lists live on the heap (shared, immutable),
// secrets are opaque handles that print as ***, and unknown is a value of its own (Kleene logic).
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "runtime/bytecode.hpp"

namespace rb::rt {

struct Value;
struct Heap {
  std::string text;                                   // kString, kSecret (the secret's name)
  std::vector<std::string> lines;                     // kLines
  std::vector<Value> items;                           // kList
  std::vector<std::pair<std::string, Value>> fields;  // kMap
};

struct Value {
  ValueType type = ValueType::kUnknown;
  double number = 0;                  // numbers (in base units), bools (0/1), target index
  std::shared_ptr<const Heap> heap;   // text, lines, lists, maps, secrets

  static Value Unknown() { return {}; }
  static Value Bool(bool b) { return Value{ValueType::kBool, b ? 1.0 : 0.0, nullptr}; }
  static Value Number(ValueType unit, double v) { return Value{unit, v, nullptr}; }
  static Value String(std::string s);
  static Value Lines(std::vector<std::string> lines);
  static Value List(std::vector<Value> items);
  static Value Secret(std::string name);
  static Value Target(uint32_t index) { return Value{ValueType::kTarget, static_cast<double>(index), nullptr}; }

  bool IsUnknown() const { return type == ValueType::kUnknown; }
  bool IsNumeric() const {
    return type == ValueType::kNum || type == ValueType::kDuration || type == ValueType::kPercent ||
           type == ValueType::kSize;
  }
  const std::string& Text() const;  // kString (empty for other types)
  // Approximate bytes this value holds on the heap, for the VM's memory cap.
  size_t HeapBytes() const;
};

// A constant-pool entry as a value.
Value FromConstant(const Program& program, const Constant& constant);

// Human-readable: units kept (5m, 80%, 1GB), secrets as ***, unknown as "unknown".
std::string ToString(const Value& v);

}  // namespace rb::rt
