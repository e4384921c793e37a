// The executor's dry modes. `Plan` lays out what a runbook would do with every parameter bound and
// runs nothing. `Rehearse` plays a scenario on a virtual clock through the runner: symptoms each
// tick, `for > D` windows from first-seen times in a state store, steps in order with their guards,
// `expect ... within ... every ...` polling, escalation rows (the runbook's and the policy's) in
// three-valued logic. Every capability call and command goes to a Provider; in this mode a scenario
// provider answers them and nothing in the world is touched.
//
// This header gathers the executor's parts, one concern each: binding.hpp (params, targets,
// commands), plan.hpp, trace.hpp, state_store.hpp, runner.hpp (the loop and the interfaces it runs
// over: Clock, Provider, Answers, Notifier), scenario_provider.hpp, rehearse.hpp, expectations.hpp.
// The capability slots and the duration printer are declared here.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/binding.hpp"
#include "runtime/bytecode.hpp"
#include "runtime/expectations.hpp"
#include "runtime/plan.hpp"
#include "runtime/registry.hpp"
#include "runtime/rehearse.hpp"
#include "runtime/runner.hpp"
#include "runtime/scenario_provider.hpp"
#include "runtime/state_store.hpp"
#include "runtime/trace.hpp"
#include "runtime/value.hpp"

namespace rb::rt {

// ---- Capabilities --------------------------------------------------------------------------------
// How a native capability behaves when nothing may be touched.
enum class DryBehaviour : uint8_t {
  kAnswered,   // a read: answered by the provider (the scenario's timeline in a rehearsal)
  kRecorded,   // a write or destructive call: recorded as "would call", never performed
};
const char* DryBehaviourName(DryBehaviour d);

// One native capability method the stdlib declares, with the slot a live implementation fills later.
struct CapabilitySlot {
  std::string name;  // "redis.ping"
  Effect effect = Effect::kRead;
  DryBehaviour dry = DryBehaviour::kAnswered;
  std::vector<ValueType> params;
  ValueType result = ValueType::kNone;
  bool live = false;  // a live implementation is registered (none yet: live runs come later)
};
// Every capability method of the registry (filters are pure and built into the VM, not slots).
std::vector<CapabilitySlot> CapabilitySlots(const Registry& registry);

// "5m30s" for 330000.
std::string FormatMs(int64_t ms);

}  // namespace rb::rt
