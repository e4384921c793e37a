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

// The slots live native implementations fill, one per RB_NATIVE entry, in list order.
enum class Slot : uint16_t {
#define RB_NATIVE(id, name, effect, params, result, program, words) k##id,
#define RB_FILTER(id, name, input, params, result, fn)
#include "runtime/natives.def"
#undef RB_NATIVE
#undef RB_FILTER
};
inline constexpr size_t kSlotCount = 0
#define RB_NATIVE(id, name, effect, params, result, program, words) +1
#define RB_FILTER(id, name, input, params, result, fn)
#include "runtime/natives.def"
#undef RB_NATIVE
#undef RB_FILTER
    ;

// How a command native's text becomes its program's words (natives.def's `words` column).
enum class CommandWords : uint8_t { kNoWords, kSplit, kWhole };
// What a filter takes as its piped input.
enum class FilterInput : uint8_t { kText, kNum };

// One entry of natives.def.
struct NativeInfo {
  const char* name;  // "prom", "redis", "grep"
  bool is_filter;
  Effect effect;     // kPure for filters; for a command native the most its command can do
  DryBehaviour dry;  // kAnswered for reads and filters (computed in every mode), else kRecorded
  std::vector<ValueType> params;  // after the receiver target / the piped text
  ValueType result;
  FilterFn filter;   // filters only; null for the others
  uint16_t slot;     // natives only: index into LiveSlots(); kNoNative for filters
  const char* program = "";  // command natives: the program table ("*": the command's first word)
  CommandWords words = CommandWords::kNoWords;
  FilterInput input = FilterInput::kText;  // filters only
  bool ByCommand() const { return program[0] != 0; }
};

// The effect of a command native's call whose command text (its last argument) is `text`; a
// kSlotChar in it stands for a value not known before the run. Null `text`: not a literal, the
// native's own (most dangerous) effect. `registry` gives the program tables; `carried` those a
// compiled program carries, consulted when the registry has none (may be null). Fails closed: an
// undeclared program or sub-command gives the native's effect and `why` says so.
struct CommandEffect {
  Effect effect = Effect::kDestructive;
  std::string rule;  // what decided: "redis-cli config set", or why nothing could
  bool declared = false;
};
CommandEffect NativeCommandEffect(const NativeInfo& native, const std::string* text, const Registry& registry,
                                  const std::vector<ProgramDecl>* carried = nullptr);

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

// A live implementation of one native: the receiver's environment binding and the
// arguments after the receiver. Empty until live runs provide them.
using LiveCall = std::function<Value(const std::string& binding, const Value* args, size_t argc)>;
std::array<LiveCall, kSlotCount>& LiveSlots();

// One native (not a filter), with the slot a live implementation fills.
struct CapabilitySlot {
  std::string name;  // "prom"
  Effect effect = Effect::kRead;
  DryBehaviour dry = DryBehaviour::kAnswered;
  std::vector<ValueType> params;
  ValueType result = ValueType::kNone;
  uint16_t slot = 0;  // index into LiveSlots()
  bool live = false;  // a live implementation is registered (none yet: live runs come later)
};
// Every native of natives.def, by name (filters are pure and computed, not slots).
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
Value FilterNumber(const Value* args, size_t argc, std::string& error);
Value FilterJson(const Value* args, size_t argc, std::string& error);

}  // namespace rb::rt
