// The plan: what a runbook would do with every param bound, laid out step by step, and its
// escalation table with the policy's rows. Nothing runs.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "runtime/binding.hpp"
#include "runtime/bytecode.hpp"
#include "runtime/config.hpp"
#include "runtime/registry.hpp"

namespace rb::rt {

struct PlanItem {
  enum class Kind : uint8_t { kCommand, kText, kExpect, kCapture } kind = Kind::kText;
  BoundCommand command;
  std::string filter;  // the filters after `|>`, as written; empty: none
  bool allowed = true; // the environment's exec.allow lists the program (always true without one)
  bool refused = false; // too dangerous for its step once bound (or undeclared): a run refuses it
  std::string text;    // instruction or expectation source
  int64_t within_ms = 0, every_ms = 0;
  // Commands: where each `{name}` of a let or capture comes from ("{usage}: captured by step usage").
  // kCapture: text is "NAME = EXPR".
  std::vector<std::string> lets;
  std::string note;    // a command whose effect a team module lowered: by what, from what (ProgramDecl::notes)
};
struct PlanStep {
  std::string name, title;
  StepKind kind = StepKind::kCheck;
  Effect effect = Effect::kPure;  // the most dangerous command of the step
  std::string guard;               // source text; empty: always
  bool continue_on_failure = false;  // a verify marked `on failure continue`
  std::vector<PlanItem> items;
};
struct PlanRow {
  std::string when;
  std::vector<std::string> actions;  // "page sre (SRE Lead @sre-lead)", "page owner dba (...) every time"
  bool policy = false;
  std::string source;                // a policy row: "policy escalation"
  std::string scope;                 // "severity P1, P2; owner dba"; empty: every incident
};
struct Plan {
  std::string runbook, title, severity, owner;
  Bindings bindings;
  std::vector<std::pair<std::string, std::string>> symptoms;  // name, description
  std::vector<PlanStep> steps;
  std::vector<PlanRow> rows;
};
Plan MakePlan(const Program& program, const Registry& registry, uint32_t runbook, const Environment* env,
              const std::vector<const ParamOverrides*>& overrides = {});

// An escalation row's actions as people read them: "page sre (SRE Lead @sre-lead)", "run drain".
// `steps` names `run` targets (the runbook's steps; null for a policy row).
std::vector<std::string> ActionTexts(const Program& p, const std::vector<Step>* steps, const EscRow& row);
// The same for runbook `runbook`: `page owner` shows the owner contact it pages.
inline constexpr uint32_t kNoRunbook = 0xFFFFFFFF;
std::vector<std::string> ActionTexts(const Program& p, uint32_t runbook, const std::vector<Step>* steps, const EscRow& row);
// A row's scope as people read it: "severity P1, P2; owner dba"; empty when it has none.
std::string ScopeText(const Program& p, const EscRow& row);

}  // namespace rb::rt
