// A scenario as the runner's world: its timelines answer probes and commands, its `answers:`
// answer `ask` questions, its `approvals:` and `done:` speak for the people. Nothing is sent
// anywhere. Both record what the run read (and asked in vain) for the unread-key warnings.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "runtime/config.hpp"
#include "runtime/runner.hpp"
#include "runtime/scenario.hpp"

namespace rb::rt {

// Answers from a scenario's timeline: the last point at or before `now_ms`.
class ScenarioProvider : public Provider {
 public:
  explicit ScenarioProvider(const Scenario& scenario);
  ProbeAnswer Probe(const ProbeCall& call, int64_t now_ms) override;
  ExecAnswer Exec(const std::vector<std::string>& argv, Effect effect, int64_t now_ms) override;
  ExecAnswer Exec(const std::vector<std::string>& argv, Effect effect, int64_t now_ms,
                  const std::vector<std::string>& key_argv) override;
  const Bindings* KeyBindings() const override { return key_bindings_ ? &*key_bindings_ : nullptr; }
  std::optional<int64_t> NextChange(int64_t after_ms) override;
  // The scenario's own bindings, which its command keys are written under (rehearse.cpp sets them).
  void SetKeyBindings(Bindings b) { key_bindings_ = std::move(b); }
  ScenarioReads& reads() { return reads_; }

 private:
  const Scenario& s_;
  std::vector<int64_t> changes_;  // every instant a timeline point, answer, approval or done starts; sorted, unique
  std::optional<Bindings> key_bindings_;
  ScenarioReads reads_;
};

// A scenario's `answers:`: a question is answered from its answer's `at:` on (the last one wins).
// `approvals:` and `done:` are given from their `at:` on.
class ScenarioAnswers : public Answers {
 public:
  // `reads`: where to record what was read (the provider's, so one set covers the run); null: none.
  explicit ScenarioAnswers(const Scenario& scenario, ScenarioReads* reads = nullptr) : s_(scenario), reads_(reads) {}
  std::optional<bool> Answer(const std::string& question, int64_t now_ms) override;
  std::optional<bool> Peek(const std::string& question, int64_t now_ms) override;
  std::vector<Approval> Approvals(const std::string& step, int64_t now_ms) override;
  std::vector<Approval> Done(const std::string& step, int64_t now_ms) override;
  // A rehearsal's actions are recorded, never performed: it approves them itself.
  std::optional<std::string> DefaultApprover() override { return std::string("the rehearsal"); }

 private:
  std::vector<Approval> Given(const std::vector<ApprovalPoint>& points, std::set<size_t>* read, std::set<std::string>* asked,
                              const std::string& step, int64_t now_ms);
  const Scenario& s_;
  ScenarioReads* reads_;
};

}  // namespace rb::rt
