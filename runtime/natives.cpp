#include "runtime/natives.hpp"

#include <algorithm>
#include <map>

namespace rb::rt {

namespace {

// The spellings natives.def uses, without their enum names.
constexpr ValueType kBool = ValueType::kBool, kNum = ValueType::kNum, kDuration = ValueType::kDuration,
                    kPercent = ValueType::kPercent, kSize = ValueType::kSize, kString = ValueType::kString,
                    kLines = ValueType::kLines, kTime = ValueType::kTime;
constexpr Effect kRead = Effect::kRead, kWrite = Effect::kWrite, kDestructive = Effect::kDestructive;
constexpr DryBehaviour kAnswered = DryBehaviour::kAnswered, kRecorded = DryBehaviour::kRecorded;

#define RB_UNPAREN(...) __VA_ARGS__

std::vector<NativeInfo> MakeNatives() {
  std::vector<NativeInfo> out;
#define RB_CAPABILITY(id, name, effect, dry, params, result) \
  out.push_back(NativeInfo{name, false, effect, dry, {RB_UNPAREN params}, result, nullptr, static_cast<uint16_t>(Slot::k##id)});
#define RB_FILTER(id, name, params, result, fn) \
  out.push_back(NativeInfo{name, true, Effect::kPure, kAnswered, {RB_UNPAREN params}, result, fn, kNoNative});
#include "runtime/natives.def"
#undef RB_CAPABILITY
#undef RB_FILTER
  return out;
}

#undef RB_UNPAREN

}  // namespace

const char* DryBehaviourName(DryBehaviour d) {
  switch (d) {
    case DryBehaviour::kAnswered: return "answered";
    case DryBehaviour::kRecorded: return "recorded";
  }
  return "?";
}

const std::vector<NativeInfo>& Natives() {
  static const std::vector<NativeInfo> kNatives = MakeNatives();
  return kNatives;
}

uint16_t FindNative(const std::string& name) {
  static const std::map<std::string, uint16_t> kByName = [] {
    std::map<std::string, uint16_t> m;
    const auto& all = Natives();
    for (size_t i = 0; i < all.size(); ++i) m.emplace(all[i].name, static_cast<uint16_t>(i));
    return m;
  }();
  auto it = kByName.find(name);
  return it == kByName.end() ? kNoNative : it->second;
}

const Registry& DefaultRegistry() {
  static const Registry kRegistry = [] {
    Registry reg;
    const auto& all = Natives();
    for (size_t i = 0; i < all.size(); ++i) {
      const NativeInfo& n = all[i];
      NativeDecl d;
      d.name = n.name;
      d.effect = n.effect;
      d.is_filter = n.is_filter;
      d.params = n.params;
      d.result = n.result;
      d.native = static_cast<uint16_t>(i);
      reg.AddNative(std::move(d));
    }
    return reg;
  }();
  return kRegistry;
}

Registry WithProgramTables(const Registry& host, const Program& program) {
  Registry reg = host;
  for (const ProgramDecl& d : program.programs) {
    if (!reg.Program(d.name)) reg.AddProgram(d);
  }
  return reg;
}

std::array<LiveCall, kSlotCount>& LiveSlots() {
  static std::array<LiveCall, kSlotCount> slots;
  return slots;
}

std::vector<CapabilitySlot> CapabilitySlots() {
  std::vector<CapabilitySlot> out;
  for (const NativeInfo& n : Natives()) {
    if (n.is_filter) continue;
    CapabilitySlot s;
    s.name = n.name;
    s.effect = n.effect;
    s.dry = n.dry;
    s.params = n.params;
    s.result = n.result;
    s.slot = n.slot;
    s.live = static_cast<bool>(LiveSlots()[n.slot]);
    out.push_back(std::move(s));
  }
  std::sort(out.begin(), out.end(), [](const CapabilitySlot& a, const CapabilitySlot& b) { return a.name < b.name; });
  return out;
}

}  // namespace rb::rt
