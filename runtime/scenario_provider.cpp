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

ProbeAnswer ScenarioProvider::Probe(const ProbeCall& call, int64_t now_ms) {
  for (const auto& series : s_.probes) {
    if (series.binding != call.binding || series.method != call.method || series.args.size() != call.args.size()) continue;
    bool same = true;
    for (size_t i = 0; i < call.args.size() && same; ++i) same = SameValue(series.args[i], call.args[i]);
    if (!same) continue;
    const ProbePoint* p = PointAt(series.points, now_ms);
    if (!p) return {Value::Unknown(), "no data yet in scenario"};
    switch (p->kind) {
      case ProbePoint::Kind::kValue: return {p->value, ""};
      case ProbePoint::Kind::kTimeout: return {Value::Unknown(), "timeout"};
      case ProbePoint::Kind::kError: return {Value::Unknown(), p->reason.empty() ? "error" : p->reason};
      case ProbePoint::Kind::kUnknown: return {Value::Unknown(), "unknown"};
    }
  }
  return {Value::Unknown(), "no data in scenario", false};
}

ExecAnswer ScenarioProvider::Exec(const std::vector<std::string>& argv, Effect effect, int64_t now_ms) {
  for (const auto& series : s_.commands) {
    if (series.argv != argv) continue;
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
  for (const auto& a : s_.answers) {
    if (a.question == question && a.at_ms <= now_ms) out = a.answer;
  }
  return out;
}

}  // namespace rb::rt
