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
// The duration printer is declared here; the capability slots are in natives.hpp.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/binding.hpp"
#include "runtime/bytecode.hpp"
#include "runtime/expectations.hpp"
#include "runtime/natives.hpp"
#include "runtime/plan.hpp"
#include "runtime/registry.hpp"
#include "runtime/rehearse.hpp"
#include "runtime/runner.hpp"
#include "runtime/scenario_provider.hpp"
#include "runtime/state_store.hpp"
#include "runtime/trace.hpp"
#include "runtime/value.hpp"

namespace rb::rt {

// DryBehaviour, CapabilitySlot and CapabilitySlots() are defined with the natives they list, in
// runtime/natives.hpp (included above).

// "5m30s" for 330000.
std::string FormatMs(int64_t ms);

}  // namespace rb::rt
