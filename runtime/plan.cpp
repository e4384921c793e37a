#include "runtime/plan.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace rb::rt {

namespace {

std::string ContactText(const Program& p, uint32_t index) {
  if (index >= p.contacts.size()) return "?";
  const Contact& c = p.contacts[index];
  return fmt::format("{} ({} {})", p.Str(c.name), p.Str(c.display), p.Str(c.handle));
}

}  // namespace

std::string ScopeText(const Program& p, const EscRow& row) {
  std::string out;
  auto list = [&](const char* what, const std::vector<uint32_t>& xs) {
    if (xs.empty()) return;
    std::string names;
    for (uint32_t x : xs) names += (names.empty() ? "" : ", ") + p.Str(x);
    out += fmt::format("{}{} {}", out.empty() ? "" : "; ", what, names);
  };
  list("severity", row.severities);
  list("owner", row.owners);
  return out;
}

std::vector<std::string> ActionTexts(const Program& p, const std::vector<Step>* steps, const EscRow& row) {
  return ActionTexts(p, kNoRunbook, steps, row);
}

std::vector<std::string> ActionTexts(const Program& p, uint32_t runbook, const std::vector<Step>* steps, const EscRow& row) {
  std::vector<std::string> out;
  for (const auto& a : row.actions) {
    switch (a.kind) {
      case EscAction::Kind::kPage: {
        std::string who = a.value != kOwnerContact ? ContactText(p, a.value)
                          : runbook < p.runbooks.size() ? "owner " + ContactText(p, p.PageContact(runbook, a))
                                                        : std::string("owner");
        out.push_back("page " + who + (a.message ? " \"" + p.Str(a.message) + "\"" : std::string()) +
                      (a.repeat ? " every time" : ""));
        break;
      }
      case EscAction::Kind::kRun:
        out.push_back("run " + (steps && a.value < steps->size() ? p.Str((*steps)[a.value].name) : std::string("?")));
        break;
      case EscAction::Kind::kRunbook: out.push_back("runbook " + p.Str(a.value)); break;
      case EscAction::Kind::kManual: out.push_back("manual \"" + p.Str(a.value) + "\""); break;
      case EscAction::Kind::kDeclare: out.push_back("declare " + p.Str(a.value)); break;
    }
  }
  return out;
}

Plan MakePlan(const Program& program, const Registry& registry, uint32_t runbook, const Environment* env,
              const std::vector<const ParamOverrides*>& overrides) {
  const Runbook& r = program.runbooks.at(runbook);
  Plan plan;
  plan.runbook = program.Str(r.name);
  plan.title = program.Str(r.title);
  plan.severity = program.Str(r.severity);
  plan.owner = ContactText(program, r.owner);
  plan.bindings = Bind(program, runbook, env, overrides);
  for (const auto& s : r.symptoms) plan.symptoms.emplace_back(program.Str(s.name), program.Str(s.description));
  for (const auto& s : r.steps) {
    PlanStep ps;
    ps.name = program.Str(s.name);
    ps.title = program.Str(s.title);
    ps.kind = s.kind;
    ps.guard = s.guard == kNoChunk ? "" : program.Str(s.guard_text);
    ps.continue_on_failure = s.continue_on_failure;
    for (const auto& it : s.items) {
      PlanItem pi;
      switch (it.kind) {
        case StepItem::Kind::kCommand:
          pi.kind = PlanItem::Kind::kCommand;
          pi.command = BindCommand(program, registry, runbook, it.command, plan.bindings);
          pi.filter = it.command.filter != kNoChunk ? program.Str(it.command.filter_text) : "";
          pi.refused = pi.command.undeclared || pi.command.effect > MaxEffect(s.kind);
          if (!pi.command.argv.empty()) {
            if (const ProgramDecl* d = registry.Program(pi.command.argv[0])) {
              if (auto n = d->notes.find(pi.command.rule); n != d->notes.end()) pi.note = n->second;
            }
          }
          if (env && env->exec_allow_given && !pi.command.argv.empty()) {
            pi.allowed = std::find(env->exec_allow.begin(), env->exec_allow.end(), pi.command.argv[0]) != env->exec_allow.end();
          }
          ps.effect = std::max(ps.effect, pi.command.effect);
          for (const auto& name : pi.command.unknown_lets) {
            for (const auto& l : r.lets) {
              if (program.Str(l.name) != name) continue;
              pi.lets.push_back(l.step == kNoStep
                                    ? fmt::format("{{{}}}: let {} = {}, read when the command runs", name, name, program.Str(l.text))
                                    : fmt::format("{{{}}}: captured by step {}", name, program.Str(r.steps.at(l.step).name)));
            }
          }
          break;
        case StepItem::Kind::kCapture:
          pi.kind = PlanItem::Kind::kCapture;
          if (it.text < r.lets.size()) {
            pi.text = fmt::format("{} = {}", program.Str(r.lets[it.text].name), program.Str(r.lets[it.text].text));
          }
          break;
        case StepItem::Kind::kText:
          pi.kind = PlanItem::Kind::kText;
          pi.text = program.Str(it.text);
          break;
        case StepItem::Kind::kExpect:
          pi.kind = PlanItem::Kind::kExpect;
          pi.text = program.Str(it.text);
          pi.within_ms = static_cast<int64_t>(it.within_ms);
          pi.every_ms = static_cast<int64_t>(it.every_ms);
          ps.effect = std::max(ps.effect, Effect::kRead);
          break;
      }
      ps.items.push_back(std::move(pi));
    }
    plan.steps.push_back(std::move(ps));
  }
  for (const auto& row : r.rows) {
    plan.rows.push_back(PlanRow{program.Str(row.text), ActionTexts(program, runbook, &r.steps, row), false, {}, ScopeText(program, row)});
  }
  if (program.policy) {
    for (const auto& row : program.policy->rows) {
      if (!program.PolicyRowApplies(runbook, row)) continue;  // a policy this runbook does not import
      plan.rows.push_back(PlanRow{program.Str(row.text), ActionTexts(program, runbook, nullptr, row), true,
                                  program.RowSource(row), ScopeText(program, row)});
    }
  }
  return plan;
}

}  // namespace rb::rt
