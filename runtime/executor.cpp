#include "runtime/executor.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <tuple>

#include "lang/units.hpp"
#include "runtime/files.hpp"

namespace rb::rt {

const char* DryBehaviourName(DryBehaviour d) { return d == DryBehaviour::kAnswered ? "answered" : "recorded"; }

const char* TriName(Tri t) {
  switch (t) {
    case Tri::kFalse: return "clear";
    case Tri::kTrue: return "holds";
    case Tri::kUnknown: return "unknown";
  }
  return "?";
}

std::string FormatMs(int64_t ms) { return lang::FormatDuration(static_cast<double>(ms)); }

std::vector<CapabilitySlot> CapabilitySlots(const Registry& registry) {
  std::vector<CapabilitySlot> out;
  for (const auto& [name, decl] : registry.natives()) {
    if (decl.is_filter) continue;
    CapabilitySlot s;
    s.name = name;
    s.effect = decl.effect;
    s.dry = decl.effect == Effect::kRead || decl.effect == Effect::kPure ? DryBehaviour::kAnswered : DryBehaviour::kRecorded;
    s.params = decl.params;
    s.result = decl.result;
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace rb::rt
