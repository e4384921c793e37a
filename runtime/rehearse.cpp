#include "runtime/rehearse.hpp"

#include <fmt/format.h>

#include "runtime/scenario_provider.hpp"

namespace rb::rt {

Trace Rehearse(const Program& program, const Registry& registry, uint32_t runbook, const Scenario& scenario,
               Provider& provider, StateStore& state, const RehearseOptions& options) {
  ParamOverrides scenario_params;
  scenario_params.file = scenario.path;
  scenario_params.source = "scenario";
  scenario_params.values = scenario.params;
  Bindings bindings = Bind(program, runbook, options.env, {options.params, &scenario_params});
  std::vector<std::string> unbound;
  for (const auto& bp : bindings.params) {
    if (bp.source != "unbound") continue;
    // A rehearsal with a missing value would only show unknowns everywhere it is used.
    unbound.push_back(fmt::format(
        "{}: param `{}` of {} has no value: give it under `params:` in the scenario, in the environment, or with "
        "--param {}=VALUE",
        scenario.path, bp.name, program.Str(program.runbooks.at(runbook).name), bp.name));
  }

  // The scenario's own bindings (no environment, no --param): what its command keys are written under.
  auto* scenario_provider = dynamic_cast<ScenarioProvider*>(&provider);
  if (scenario_provider) scenario_provider->SetKeyBindings(Bind(program, runbook, nullptr, {&scenario_params}));
  ScenarioReads local_reads;

  VirtualClock clock;
  if (scenario.start_s) clock.SetStart(*scenario.start_s);
  ScenarioAnswers answers(scenario, scenario_provider ? &scenario_provider->reads() : &local_reads);
  RecordingNotifier notifier;
  RunnerOptions run;
  run.limits = options.limits;
  run.env = options.env;
  run.name = scenario.name;
  run.duration_ms = scenario.duration_ms;
  run.tick_ms = scenario.tick_ms;
  run.max_instants = options.max_instants;
  Runner runner(program, registry, runbook, std::move(bindings), RunnerWorld{clock, provider, answers, state, notifier},
                run);
  for (auto& e : unbound) runner.AddError(std::move(e));
  Trace trace = runner.Run();
  if (scenario_provider) {
    for (const auto& w : UnreadKeys(scenario, scenario_provider->reads())) trace.warnings.push_back(w.ToString());
  }
  return trace;
}

}  // namespace rb::rt
