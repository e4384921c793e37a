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

}  // namespace rb::rt
