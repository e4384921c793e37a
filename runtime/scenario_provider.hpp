// A scenario as the runner's world: its timelines answer probes and commands, its `answers:`
// answer `ask` questions. Nothing is sent anywhere.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "runtime/config.hpp"
#include "runtime/runner.hpp"

namespace rb::rt {

// Answers from a scenario's timeline: the last point at or before `now_ms`.
class ScenarioProvider : public Provider {
 public:
  explicit ScenarioProvider(const Scenario& scenario) : s_(scenario) {}
  ProbeAnswer Probe(const ProbeCall& call, int64_t now_ms) override;
  ExecAnswer Exec(const std::vector<std::string>& argv, Effect effect, int64_t now_ms) override;

 private:
  const Scenario& s_;
};

// A scenario's `answers:`: a question is answered from its answer's `at:` on (the last one wins).
class ScenarioAnswers : public Answers {
 public:
  explicit ScenarioAnswers(const Scenario& scenario) : s_(scenario) {}
  std::optional<bool> Answer(const std::string& question, int64_t now_ms) override;

 private:
  const Scenario& s_;
};

}  // namespace rb::rt
