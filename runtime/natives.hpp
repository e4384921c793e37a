// The natives this host offers (runtime/natives.def): each capability method and text filter with
// its effect, signature and dry behaviour; the function that computes each filter; the slot a live
// implementation of each capability fills. The host registry, the VM's filter dispatch and the
// capability listing are generated from that one list, so loading and verifying a `.rbc` needs
// neither the compiler nor the stdlib text.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "runtime/bytecode.hpp"
#include "runtime/registry.hpp"
#include "runtime/value.hpp"

namespace rb::rt {

// How a native capability behaves when nothing may be touched.
enum class DryBehaviour : uint8_t {
  kAnswered,   // a read: answered by the provider (the scenario's timeline in a rehearsal)
  kRecorded,   // a write or destructive call: recorded as "would call", never performed
};
const char* DryBehaviourName(DryBehaviour d);

// A filter's implementation: args[0] is the piped text, then the declared params. Returns unknown
// when the input is unknown; sets `error` for a bad argument (e.g. an invalid regex).
using FilterFn = Value (*)(const Value* args, size_t argc, std::string& error);

// The slots live capability implementations fill, one per RB_CAPABILITY entry, in list order.
enum class Slot : uint16_t {
#define RB_CAPABILITY(id, name, effect, dry, params, result) k##id,
#define RB_FILTER(id, name, params, result, fn)
#include "runtime/natives.def"
#undef RB_CAPABILITY
#undef RB_FILTER
};
inline constexpr size_t kSlotCount = 0
#define RB_CAPABILITY(id, name, effect, dry, params, result) +1
#define RB_FILTER(id, name, params, result, fn)
#include "runtime/natives.def"
#undef RB_CAPABILITY
#undef RB_FILTER
    ;

// One entry of natives.def.
struct NativeInfo {
  const char* name;  // "redis.ping", "grep"
  bool is_filter;
  Effect effect;     // kPure for filters
  DryBehaviour dry;  // kAnswered for filters: pure functions are computed in every mode
  std::vector<ValueType> params;  // after the receiver target / the piped text
  ValueType result;
  FilterFn filter;   // filters only; null for capabilities
  uint16_t slot;     // capabilities only: index into LiveSlots(); kNoNative for filters
};

// Every native, in natives.def order; an index into it is what NativeDecl::native and
// Import::native hold.
const std::vector<NativeInfo>& Natives();
// The index of the native named `name`, or kNoNative.
uint16_t FindNative(const std::string& name);

// The registry of a host that offers exactly natives.def and no program tables of its own: every
// command's effect is then derived from the tables its program carries.
const Registry& DefaultRegistry();
// A registry for running `program`: the host's, plus the tables the program carries for programs
// the host has no table of (the executor binds commands against them).
Registry WithProgramTables(const Registry& host, const Program& program);

// A live implementation of one capability method: the receiver's environment binding and the
// arguments after the receiver. Empty until live runs provide them.
using LiveCall = std::function<Value(const std::string& binding, const Value* args, size_t argc)>;
std::array<LiveCall, kSlotCount>& LiveSlots();

// One native capability method, with the slot a live implementation fills.
struct CapabilitySlot {
  std::string name;  // "redis.ping"
  Effect effect = Effect::kRead;
  DryBehaviour dry = DryBehaviour::kAnswered;
  std::vector<ValueType> params;
  ValueType result = ValueType::kNone;
  uint16_t slot = 0;  // index into LiveSlots()
  bool live = false;  // a live implementation is registered (none yet: live runs come later)
};
// Every capability method of natives.def, by name (filters are pure and computed, not slots).
std::vector<CapabilitySlot> CapabilitySlots();

// The filter functions natives.def names (runtime/filters.cpp).
Value FilterGrep(const Value* args, size_t argc, std::string& error);
Value FilterGrepI(const Value* args, size_t argc, std::string& error);
Value FilterGrepAfter(const Value* args, size_t argc, std::string& error);
Value FilterHead(const Value* args, size_t argc, std::string& error);
Value FilterTail(const Value* args, size_t argc, std::string& error);
Value FilterCount(const Value* args, size_t argc, std::string& error);
Value FilterLines(const Value* args, size_t argc, std::string& error);
Value FilterTime(const Value* args, size_t argc, std::string& error);

}  // namespace rb::rt
