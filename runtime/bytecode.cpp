#include "runtime/bytecode.hpp"

namespace rb::rt {

const OpInfo& Info(Op op) {
  static const OpInfo kInfo[] = {
#define RB_OP(name, shape, pops, pushes, effect, doc) {#name, Shape::shape, pops, pushes, OpEffect::effect, doc},
#include "runtime/opcodes.def"
#undef RB_OP
  };
  return kInfo[static_cast<size_t>(op)];
}

const char* EffectName(Effect e) {
  switch (e) {
    case Effect::kPure: return "pure";
    case Effect::kRead: return "read";
    case Effect::kWrite: return "write";
    case Effect::kDestructive: return "destructive";
  }
  return "?";
}

const char* ValueTypeName(ValueType t) {
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
  }
  return "?";
}

}  // namespace rb::rt
