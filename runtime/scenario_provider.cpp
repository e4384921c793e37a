#include "runtime/scenario_provider.hpp"

#include <algorithm>

namespace rb::rt {

namespace {

bool SameValue(const Value& a, const Value& b) {
  if (a.type != b.type) return false;
  if (a.IsNumeric() || a.type == ValueType::kBool) return a.number == b.number;
  return ToString(a) == ToString(b);
}

// The last point at or before `now` (points are strictly increasing in time); null before the first.
template <typename Points>
auto PointAt(const Points& points, int64_t now) -> decltype(&points[0]) {
  auto it = std::upper_bound(points.begin(), points.end(), now,
                             [](int64_t t, const auto& p) { return t < p.at_ms; });
  return it == points.begin() ? nullptr : &*(it - 1);
}

}  // namespace

ScenarioProvider::ScenarioProvider(const Scenario& scenario) : s_(scenario) {
  for (const auto& p : s_.probes) {
    for (const auto& pt : p.points) changes_.push_back(pt.at_ms);
  }
  for (const auto& c : s_.commands) {
    for (const auto& pt : c.points) changes_.push_back(pt.at_ms);
  }
  for (const auto& a : s_.answers) changes_.push_back(a.at_ms);
  for (const auto& a : s_.approvals) changes_.push_back(a.at_ms);
  for (const auto& a : s_.done) changes_.push_back(a.at_ms);
  std::sort(changes_.begin(), changes_.end());
  changes_.erase(std::unique(changes_.begin(), changes_.end()), changes_.end());
}

std::optional<int64_t> ScenarioProvider::NextChange(int64_t after_ms) {
  auto it = std::upper_bound(changes_.begin(), changes_.end(), after_ms);
  if (it == changes_.end()) return std::nullopt;
  return *it;
}

ProbeAnswer ScenarioProvider::Probe(const ProbeCall& call, int64_t now_ms) {
  for (size_t i = 0; i < s_.probes.size(); ++i) {
    const auto& series = s_.probes[i];
    if (series.binding != call.binding || series.method != call.method || series.args.size() != call.args.size()) continue;
    bool same = true;
    for (size_t k = 0; k < call.args.size() && same; ++k) same = SameValue(series.args[k], call.args[k]);
    if (!same) continue;
    reads_.probes.insert(i);
    reads_.probes_asked.insert(ProbeKeyText(call.target, call.method, call.args));
    const ProbePoint* p = PointAt(series.points, now_ms);
    if (!p) return {Value::Unknown(), "no data yet in scenario"};
    switch (p->kind) {
      case ProbePoint::Kind::kValue: return {p->value, ""};
      case ProbePoint::Kind::kTimeout: return {Value::Unknown(), "timeout"};
      case ProbePoint::Kind::kError: return {Value::Unknown(), p->reason.empty() ? "error" : p->reason};
      case ProbePoint::Kind::kUnknown: return {Value::Unknown(), "unknown"};
    }
  }
  reads_.probes_asked.insert(ProbeKeyText(call.target, call.method, call.args));
  return {Value::Unknown(), "no data in scenario", false};
}

ExecAnswer ScenarioProvider::Exec(const std::vector<std::string>& argv, Effect effect, int64_t now_ms) {
  return Exec(argv, effect, now_ms, {});
}

ExecAnswer ScenarioProvider::Exec(const std::vector<std::string>& argv, Effect effect, int64_t now_ms,
                                  const std::vector<std::string>& key_argv) {
  const std::vector<std::string>& key = key_argv.empty() ? argv : key_argv;
  reads_.commands_asked.insert(CommandKeyText(key));
  for (size_t i = 0; i < s_.commands.size(); ++i) {
    const auto& series = s_.commands[i];
    if (series.argv != key) continue;
    reads_.commands.insert(i);
    const CommandPoint* p = PointAt(series.points, now_ms);
    if (!p) break;
    ExecAnswer a;
    a.exit_code = p->exit_code;
    a.out = p->out;
    a.err = p->err;
    a.status = p->timeout ? ExecAnswer::Status::kTimeout
               : p->exit_code != 0 ? ExecAnswer::Status::kFailed
                                   : ExecAnswer::Status::kOk;
    return a;
  }
  ExecAnswer a;
  // Nothing is touched in a rehearsal: a write without a scripted outcome is assumed to succeed.
  a.status = effect == Effect::kRead || effect == Effect::kPure ? ExecAnswer::Status::kNoData : ExecAnswer::Status::kOk;
  return a;
}

std::optional<bool> ScenarioAnswers::Answer(const std::string& question, int64_t now_ms) {
  std::optional<bool> out;
  if (reads_) reads_->questions_asked.insert(question);
  for (size_t i = 0; i < s_.answers.size(); ++i) {
    const auto& a = s_.answers[i];
    if (a.question == question && a.at_ms <= now_ms) {
      out = a.answer;
      if (reads_) reads_->answers.insert(i);
    }
  }
  return out;
}

std::optional<bool> ScenarioAnswers::Peek(const std::string& question, int64_t now_ms) {
  std::optional<bool> out;
  for (const auto& a : s_.answers) {
    if (a.question == question && a.at_ms <= now_ms) out = a.answer;
  }
  return out;
}

std::vector<Approval> ScenarioAnswers::Given(const std::vector<ApprovalPoint>& points, std::set<size_t>* read,
                                             std::set<std::string>* asked, const std::string& step, int64_t now_ms) {
  std::vector<Approval> out;
  if (asked) asked->insert(step);
  for (size_t i = 0; i < points.size(); ++i) {
    const auto& p = points[i];
    if (p.step != step || p.at_ms > now_ms) continue;
    out.push_back(Approval{p.approved, p.by, p.at_ms});
    if (read) read->insert(i);
  }
  std::stable_sort(out.begin(), out.end(), [](const Approval& a, const Approval& b) { return a.at_ms < b.at_ms; });
  return out;
}

std::vector<Approval> ScenarioAnswers::Approvals(const std::string& step, int64_t now_ms) {
  return Given(s_.approvals, reads_ ? &reads_->approvals : nullptr, reads_ ? &reads_->approval_steps_asked : nullptr, step,
               now_ms);
}

std::vector<Approval> ScenarioAnswers::Done(const std::string& step, int64_t now_ms) {
  return Given(s_.done, reads_ ? &reads_->done : nullptr, reads_ ? &reads_->done_steps_asked : nullptr, step, now_ms);
}

}  // namespace rb::rt
