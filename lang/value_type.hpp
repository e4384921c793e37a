// The types of the language's values, shared by the operator table (lang/operators.hpp), the
// bytecode (constants, signatures) and the VM. `rt::ValueType` is this type.
#pragma once

#include <cstdint>

namespace rb::lang {

enum class ValueType : uint8_t {
  kUnknown,
  kBool,
  kNum,
  kDuration,  // milliseconds
  kPercent,   // percentage points
  kSize,      // bytes
  kString,
  kLines,
  kList,
  kMap,
  kSecret,
  kTarget,
  kNone,
  kTime,  // a point in time: UTC seconds since the Unix epoch
};

// The name a signature spells the type with: "duration", "lines"; "unknown" for kUnknown.
inline const char* ValueTypeName(ValueType t) {
  switch (t) {
    case ValueType::kUnknown: return "unknown";
    case ValueType::kBool: return "bool";
    case ValueType::kNum: return "num";
    case ValueType::kDuration: return "duration";
    case ValueType::kPercent: return "percent";
    case ValueType::kSize: return "size";
    case ValueType::kString: return "string";
    case ValueType::kLines: return "lines";
    case ValueType::kList: return "list";
    case ValueType::kMap: return "map";
    case ValueType::kSecret: return "secret";
    case ValueType::kTarget: return "target";
    case ValueType::kNone: return "none";
    case ValueType::kTime: return "time";
  }
  return "?";
}

// A number with a unit (or none): the operands of arithmetic and ordering.
inline bool IsNumeric(ValueType t) {
  return t == ValueType::kNum || t == ValueType::kDuration || t == ValueType::kPercent || t == ValueType::kSize;
}

}  // namespace rb::lang
