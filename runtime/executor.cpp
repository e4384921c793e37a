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

std::string FormatMs(int64_t ms) {
  if (ms == 0) return "0s";
  std::string out = ms < 0 ? "-" : "";
  int64_t v = ms < 0 ? -ms : ms;
  struct U { const char* name; int64_t ms; };
  for (U u : {U{"h", 3600000}, U{"m", 60000}, U{"s", 1000}}) {
    if (v >= u.ms) {
      out += std::to_string(v / u.ms) + u.name;
      v %= u.ms;
    }
  }
  if (v) out += std::to_string(v) + "ms";
  return out;
}

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
