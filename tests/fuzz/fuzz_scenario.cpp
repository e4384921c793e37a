// Scenario YAML → the scenario loader, checked against the seed runbooks (runbooks/, compiled once),
// and, when it loads, a rehearsal with small limits and the check of its expectations, as
// `runbook test` runs them. The loader reads files only, so each input is written to a scratch file.
// Properties: no crash, hang or escaping exception; a refused file says why; a loaded one rehearses.
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "compiler/build.hpp"
#include "compiler/codegen.hpp"
#include "runtime/config.hpp"
#include "runtime/executor.hpp"
#include "tests/fuzz/fuzz_util.hpp"

namespace {

struct Seed {
  rb::rt::Registry registry = rb::StdlibRegistry();
  rb::rt::Program program;
  Seed() {
    rb::LoadedProgram l = rb::LoadSources({(rb::fuzz::SourceDir() / "runbooks").string()}, registry);
    if (!l.program) {
      std::fprintf(stderr, "fuzz_scenario: the seed runbooks do not compile: %s\n", l.error.c_str());
      std::abort();
    }
    program = std::move(*l.program);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Seed kSeed;
  const std::string kPath = rb::fuzz::WriteScratch("input.scenario.yaml", data, size);
  rb::rt::Scenario sc;
  std::vector<rb::rt::ConfigError> errors;
  bool ok = rb::rt::LoadScenario(kPath, kSeed.program, kSeed.registry, sc, errors);
  for (const auto& e : errors) FUZZ_CHECK(!e.message.empty());
  if (!ok) {
    FUZZ_CHECK(!errors.empty());
    return 0;
  }
  uint32_t index = 0;
  while (index < kSeed.program.runbooks.size() && kSeed.program.Str(kSeed.program.runbooks[index].name) != sc.runbook)
    ++index;
  FUZZ_CHECK(index < kSeed.program.runbooks.size());  // a loaded scenario names a runbook of the program
  rb::rt::ScenarioProvider provider(sc);
  rb::rt::MemoryStateStore state;
  rb::rt::RehearseOptions options;
  options.limits.instruction_budget = 20000;
  options.limits.memory_bytes = 1u << 20;
  options.max_instants = 5000;
  rb::rt::Trace trace = rb::rt::Rehearse(kSeed.program, kSeed.registry, index, sc, provider, state, options);
  (void)rb::rt::Check(sc, trace);
  return 0;
}
