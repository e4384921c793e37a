// A rehearsal: the runner on a virtual clock, with the scenario's answers and a notifier that
// only records. Every probe and command goes to the given provider (the scenario provider: nothing
// in the world is touched).
#pragma once

#include <cstddef>
#include <cstdint>

#include "runtime/binding.hpp"
#include "runtime/bytecode.hpp"
#include "runtime/config.hpp"
#include "runtime/registry.hpp"
#include "runtime/runner.hpp"
#include "runtime/state_store.hpp"
#include "runtime/trace.hpp"
#include "runtime/vm.hpp"

namespace rb::rt {

struct RehearseOptions {
  VmLimits limits;
  const Environment* env = nullptr;
  const ParamOverrides* params = nullptr;  // --param values; they win over the scenario's `params:`
  // Evaluation instants (ticks and polls) before the rehearsal stops with an error; 24h at 1s
  // ticks is 86,401.
  size_t max_instants = 200000;
};
Trace Rehearse(const Program& program, const Registry& registry, uint32_t runbook, const Scenario& scenario,
               Provider& provider, StateStore& state, const RehearseOptions& options = {});

}  // namespace rb::rt
