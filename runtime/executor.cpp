#include "runtime/executor.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <tuple>

#include "runtime/files.hpp"

namespace rb::rt {

const char* TriName(Tri t) {
  switch (t) {
    case Tri::kFalse: return "clear";
    case Tri::kTrue: return "holds";
    case Tri::kUnknown: return "unknown";
  }
  return "?";
}

std::string FormatMs(int64_t ms) {
  if (ms == 0) return "0s";
  std::string out = ms < 0 ? "-" : "";
  int64_t v = ms < 0 ? -ms : ms;
  struct U { const char* name; int64_t ms; };
  for (U u : {U{"h", 3600000}, U{"m", 60000}, U{"s", 1000}}) {
    if (v >= u.ms) {
      out += std::to_string(v / u.ms) + u.name;
      v %= u.ms;
    }
  }
  if (v) out += std::to_string(v) + "ms";
  return out;
}

// ---- Scenario provider ---------------------------------------------------------------------------

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

std::string ArgsText(const std::vector<Value>& args) {
  std::string s;
  for (size_t i = 0; i < args.size(); ++i) {
    if (i) s += ", ";
    s += args[i].type == ValueType::kString ? fmt::format("\"{}\"", args[i].Text()) : ToString(args[i]);
  }
  return s;
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
  return {Value::Unknown(), "no data in scenario"};
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

std::optional<bool> ScenarioProvider::Answer(const std::string& question, int64_t now_ms) {
  std::optional<bool> out;
  for (const auto& a : s_.answers) {
    if (a.question == question && a.at_ms <= now_ms) out = a.answer;
  }
  return out;
}

// ---- State stores --------------------------------------------------------------------------------

std::optional<int64_t> MemoryStateStore::Get(const std::string& key) {
  auto it = values_.find(key);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}
void MemoryStateStore::Set(const std::string& key, int64_t value) { values_[key] = value; }
void MemoryStateStore::Erase(const std::string& key) { values_.erase(key); }

namespace {
constexpr size_t kMaxStateBytes = 16u << 20;  // one timestamp per open window: far below this
}  // namespace

FileStateStore::FileStateStore(std::string path) : path_(std::move(path)) {}

bool FileStateStore::Load(std::string& error) {
  values_.clear();
  std::error_code ec;
  if (!std::filesystem::exists(std::filesystem::symlink_status(path_, ec))) return true;  // no file yet: no window is open
  std::string text, read_error;
  if (ReadRegularFile(path_, kMaxStateBytes, text, read_error) != FileRead::kOk) {
    error = fmt::format("{}: cannot read the state file: {}", path_, read_error);
    return false;
  }
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("first_seen") || !j["first_seen"].is_object()) {
    error = fmt::format("{}: not a runbook state file (expected {{\"first_seen\": {{...}}}}); move it away to start afresh", path_);
    return false;
  }
  for (const auto& [k, v] : j["first_seen"].items()) {
    if (!v.is_number_integer()) {
      error = fmt::format("{}: first_seen.{} is not an integer time in ms", path_, k);
      return false;
    }
    values_[k] = v.get<int64_t>();
  }
  return true;
}

std::optional<int64_t> FileStateStore::Get(const std::string& key) {
  auto it = values_.find(key);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}
void FileStateStore::Set(const std::string& key, int64_t value) {
  auto it = values_.find(key);
  if (it != values_.end() && it->second == value) return;
  values_[key] = value;
  Save();
}
void FileStateStore::Erase(const std::string& key) {
  if (values_.erase(key)) Save();
}

void FileStateStore::Save() {
  nlohmann::json j;
  j["first_seen"] = nlohmann::json::object();
  for (const auto& [k, v] : values_) j["first_seen"][k] = v;
  std::filesystem::path p(path_);
  std::error_code ec;
  if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path(), ec);
  std::string tmp = path_ + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << j.dump(1) << "\n";
    if (!out) {
      error_ = fmt::format("cannot write {}: {}", tmp, std::strerror(errno));
      return;
    }
  }
  std::filesystem::rename(tmp, p, ec);
  if (ec) error_ = fmt::format("cannot replace {}: {}", path_, ec.message());
}

// ---- Binding -------------------------------------------------------------------------------------

namespace {

const EnvParam* FindEnvParam(const Environment* env, const std::string& runbook, const std::string& param) {
  if (!env) return nullptr;
  for (const std::string& scope : {runbook, std::string("*")}) {
    auto it = env->params.find(scope);
    if (it == env->params.end()) continue;
    auto p = it->second.find(param);
    if (p != it->second.end()) return &p->second;
  }
  return nullptr;
}

std::vector<BoundTarget> BindTargets(const Program& p, const std::vector<Target>& targets, const Environment* env,
                                     std::vector<ConfigError>& errors) {
  std::vector<BoundTarget> out;
  for (const auto& t : targets) {
    BoundTarget b{p.Str(t.name), p.Str(t.capability), p.Str(t.binding), ""};
    if (env) {
      auto it = env->targets.find(b.binding);
      if (it != env->targets.end()) {
        b.address = it->second.address;
        if (!it->second.capability.empty() && it->second.capability != b.capability) {
          errors.push_back(ConfigError{env->path, it->second.mark,
                                     fmt::format("target `{}` is a {} in the environment, but runbooks use it as a {}",
                                                 b.binding, it->second.capability, b.capability)});
        }
      }
    }
    out.push_back(std::move(b));
  }
  return out;
}

}  // namespace

Bindings Bind(const Program& program, uint32_t runbook, const Environment* env,
              const std::vector<const ParamOverrides*>& overrides) {
  Bindings b;
  const Runbook& r = program.runbooks.at(runbook);
  const std::string& rname = program.Str(r.name);
  std::string names;
  for (const auto& p : r.params) names += (names.empty() ? "" : ", ") + program.Str(p.name);
  for (const ParamOverrides* o : overrides) {
    if (!o) continue;
    for (const auto& entry : o->values) {
      // Plain references, not a structured binding: C++17 lambdas cannot capture one (clang refuses).
      const std::string& name = entry.first;
      const auto& value = entry.second;
      bool known = std::any_of(r.params.begin(), r.params.end(), [&](const Param& p) { return program.Str(p.name) == name; });
      if (!known) {
        b.errors.push_back(ConfigError{o->file, value.mark,
                                       fmt::format("{} has no param `{}` (it has: {})", rname, name,
                                                   names.empty() ? "none" : names)});
      }
    }
  }
  for (const auto& p : r.params) {
    BoundParam bp;
    bp.name = program.Str(p.name);
    // The first that names the param wins: overrides in order, then the environment.
    std::vector<std::tuple<const EnvParam*, std::string, std::string>> given;
    for (const ParamOverrides* o : overrides) {
      if (!o) continue;
      auto it = o->values.find(bp.name);
      if (it != o->values.end()) given.emplace_back(&it->second, o->source, o->file);
    }
    if (const EnvParam* e = FindEnvParam(env, rname, bp.name)) given.emplace_back(e, "environment", env->path);
    for (const auto& [e, source, file] : given) {
      std::string error;
      std::optional<Value> v = ParseLiteral(e->text, p.type, error);
      if (v) {
        bp.value = *v;
        bp.source = source;
        break;
      }
      b.errors.push_back(ConfigError{file, e->mark, fmt::format("param `{}` of {}: {}", bp.name, rname, error)});
    }
    if (bp.source.empty()) {
      if (p.def == Param::Default::kConstant) {
        bp.value = FromConstant(program, program.constants.at(p.value));
        bp.source = "default";
      } else if (p.def == Param::Default::kSecret) {
        bp.value = Value::Secret(program.Str(p.value));
        bp.source = "secret";
      } else {
        bp.source = "unbound";
      }
    }
    b.params.push_back(std::move(bp));
  }
  b.targets = BindTargets(program, r.targets, env, b.errors);
  if (program.policy) b.policy_targets = BindTargets(program, program.policy->targets, env, b.errors);
  return b;
}

std::string BoundCommand::Display() const {
  std::string s;
  for (const auto& w : argv) {
    if (!s.empty()) s += ' ';
    bool quote = w.empty() || w.find_first_of(" \t\"'") != std::string::npos;
    if (!quote) {
      s += w;
      continue;
    }
    s += '"';
    for (char c : w) {
      if (c == '"' || c == '\\') s += '\\';
      s += c;
    }
    s += '"';
  }
  return s;
}

BoundCommand BindCommand(const Program& program, const Registry& registry, uint32_t runbook, const Command& command,
                         const Bindings& bindings) {
  BoundCommand out;
  out.effect = command.effect;
  out.rule = program.Str(command.rule);
  for (const auto& word : command.argv) {
    std::string w;
    for (const auto& part : word) {
      switch (part.kind) {
        case WordPart::Kind::kLiteral: w += program.Str(part.value); break;
        case WordPart::Kind::kParam: {
          const BoundParam& p = bindings.params.at(part.value);
          if (p.value.type == ValueType::kSecret) out.has_secret = true;
          if (p.value.IsUnknown()) {
            out.unbound = true;
            w += "{" + p.name + "}";
          } else {
            w += ToString(p.value);
          }
          break;
        }
        case WordPart::Kind::kTarget: {
          const BoundTarget& t = bindings.targets.at(part.value);
          w += t.address.empty() ? t.binding : t.address;
          break;
        }
      }
    }
    out.argv.push_back(std::move(w));
  }
  // The effect the compiler derived matched slots on their defaults; the bound words decide now.
  if (!out.argv.empty() && !out.unbound) {
    const ProgramDecl* decl = registry.Program(out.argv[0]);
    std::optional<CommandMatch> m;
    if (decl) {
      std::vector<std::optional<std::string>> words(out.argv.begin() + 1, out.argv.end());
      if (CommandMatch found = MatchCommand(*decl, words); found.declared) m = std::move(found);
    }
    if (m) {
      out.effect = std::max(m->effect, command.effect);
      if (m->effect >= command.effect) out.rule = m->rule;
    } else {
      // The bound words (say `kubectl cordon`) match no rule of the program: their effect is not
      // declared anywhere, so nothing may run them.
      out.undeclared = true;
      out.effect = Effect::kDestructive;
      out.rule = out.argv[0] + ": no rule for these words";
    }
  }
  return out;
}

// ---- Plan ----------------------------------------------------------------------------------------

namespace {

std::string ContactText(const Program& p, uint32_t index) {
  if (index >= p.contacts.size()) return "?";
  const Contact& c = p.contacts[index];
  return fmt::format("{} ({} {})", p.Str(c.name), p.Str(c.display), p.Str(c.handle));
}

std::vector<std::string> ActionTexts(const Program& p, const std::vector<Step>* steps, const EscRow& row) {
  std::vector<std::string> out;
  for (const auto& a : row.actions) {
    switch (a.kind) {
      case EscAction::Kind::kPage: out.push_back("page " + ContactText(p, a.value)); break;
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

}  // namespace

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
    for (const auto& it : s.items) {
      PlanItem pi;
      switch (it.kind) {
        case StepItem::Kind::kCommand:
          pi.kind = PlanItem::Kind::kCommand;
          pi.command = BindCommand(program, registry, runbook, it.command, plan.bindings);
          pi.filter = it.command.filter != kNoChunk ? program.Str(it.command.filter_text) : "";
          pi.refused = pi.command.undeclared || pi.command.effect > MaxEffect(s.kind);
          if (env && env->exec_allow_given && !pi.command.argv.empty()) {
            pi.allowed = std::find(env->exec_allow.begin(), env->exec_allow.end(), pi.command.argv[0]) != env->exec_allow.end();
          }
          ps.effect = std::max(ps.effect, pi.command.effect);
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
  for (const auto& row : r.rows) plan.rows.push_back(PlanRow{program.Str(row.text), ActionTexts(program, &r.steps, row), false});
  if (program.policy) {
    for (const auto& row : program.policy->rows) {
      plan.rows.push_back(PlanRow{program.Str(row.text), ActionTexts(program, nullptr, row), true});
    }
  }
  return plan;
}

// ---- Rehearsal -----------------------------------------------------------------------------------

namespace {

Tri ToTri(const Value& v) {
  if (v.type == ValueType::kBool) return v.number != 0 ? Tri::kTrue : Tri::kFalse;
  return Tri::kUnknown;
}

}  // namespace

Effect MaxEffect(StepKind k) {
  switch (k) {
    case StepKind::kCheck:
    case StepKind::kVerify:
    case StepKind::kManual: return Effect::kRead;
    case StepKind::kAction: return Effect::kWrite;
    case StepKind::kLastResort: return Effect::kDestructive;
  }
  return Effect::kRead;
}

namespace {

int SeverityRank(const std::string& s) {
  if (s.size() == 2 && s[0] == 'P' && s[1] >= '1' && s[1] <= '4') return s[1] - '0';
  return 9;
}

std::string TrimEnd(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

class Rehearsal : public EvalHost {
 public:

  Rehearsal(const Program& p, const Registry& reg, uint32_t rb, const Scenario& sc, Provider& prov, StateStore& state,
            const RehearseOptions& opt)
      : p_(p), reg_(reg), rb_(rb), r_(p.runbooks.at(rb)), sc_(sc), prov_(prov), state_(state), opt_(opt),
        vm_(p, opt.limits) {
    scenario_params_.file = sc.path;
    scenario_params_.source = "scenario";
    scenario_params_.values = sc.params;
    bindings_ = Bind(p, rb, opt.env, {opt.params, &scenario_params_});
    for (const auto& e : bindings_.errors) trace_.errors.push_back(e.ToString());
    for (const auto& bp : bindings_.params) {
      if (bp.source != "unbound") continue;
      // A rehearsal with a missing value would only show unknowns everywhere it is used.
      trace_.errors.push_back(fmt::format(
          "{}: param `{}` of {} has no value: give it under `params:` in the scenario, in the environment, or with "
          "--param {}=VALUE",
          sc.path, bp.name, p.Str(r_.name), bp.name));
    }
    symptom_cache_.resize(r_.symptoms.size());
    step_failed_.assign(r_.steps.size(), 0);  // `failed(step)` is false until the step ran and failed
    step_done_.assign(r_.steps.size(), false);
    rows_.resize(r_.rows.size() + (p.policy ? p.policy->rows.size() : 0));
    trace_.runbook = p.Str(r_.name);
    trace_.scenario = sc.name;
    trace_.duration_ms = sc.duration_ms;
    trace_.severity = p.Str(r_.severity);
    for (const auto& s : r_.symptoms) trace_.symptom_names.push_back(p.Str(s.name));
  }

  Trace Run() {
    const int64_t tick = std::max<int64_t>(sc_.tick_ms, 1);
    int64_t next_tick = 0;
    size_t instants = 0;
    for (now_ = 0; now_ <= sc_.duration_ms;) {
      if (++instants > opt_.max_instants) {
        // A fast poll over a long scenario: stop with an error instead of running for minutes.
        Error(fmt::format("rehearsal stopped at {}: more than {} evaluation instants (a tick or an `every` "
                          "too short for the scenario's duration)",
                          FormatMs(now_), opt_.max_instants));
        break;
      }
      Evaluate();
      if (now_ == next_tick) next_tick += tick;
      int64_t next = next_tick;
      if (wake_ >= 0 && wake_ > now_) next = std::min(next, wake_);
      now_ = next;
    }
    Finish();
    return std::move(trace_);
  }

  // ---- EvalHost ----
  Value Param(uint32_t owner, uint32_t index) override {
    if (owner == kPolicyOwner || index >= bindings_.params.size()) return Value::Unknown();
    return bindings_.params[index].value;
  }
  Value Symptom(uint32_t owner, uint32_t index) override {
    if (owner != rb_) return Value::Unknown();
    return SymptomValue(index);
  }
  Value Incident(uint32_t) override { return Bool3(incident_); }
  Value StepFailed(uint32_t owner, uint32_t step) override {
    if (owner != rb_ || step >= step_failed_.size() || step_failed_[step] < 0) return Value::Unknown();
    return Value::Bool(step_failed_[step] == 1);
  }
  Value Output() override { return output_; }
  Value Ask(const std::string& question) override {
    if (std::find(asked_.begin(), asked_.end(), question) == asked_.end()) asked_.push_back(question);
    std::optional<bool> a = prov_.Answer(question, now_);
    return a ? Value::Bool(*a) : Value::Unknown();
  }
  Value Window(uint32_t owner, uint32_t window, const Value& cond) override {
    const std::vector<rt::Window>& ws = owner == kPolicyOwner ? p_.policy->windows : r_.windows;
    if (window >= ws.size()) return Value::Unknown();
    std::string key = fmt::format("{}/{}/{}", trace_.runbook, owner == kPolicyOwner ? "policy" : "runbook", window);
    Tri t = ToTri(cond);
    if (t == Tri::kFalse) {
      state_.Erase(key);
      return Value::Bool(false);
    }
    std::optional<int64_t> first = state_.Get(key);
    if (t == Tri::kUnknown) return Value::Unknown();  // a gap in the data neither opens nor closes it
    if (!first) {
      state_.Set(key, now_);
      first = now_;
    }
    int64_t held = now_ - *first, bound = static_cast<int64_t>(ws[window].bound_ms);
    return Value::Bool(ws[window].inclusive ? held >= bound : held > bound);
  }
  Value Call(uint32_t owner, const Import& import, const std::string& name, const Value* args, size_t argc) override {
    if (argc == 0 || args[0].type != ValueType::kTarget) return Value::Unknown();
    const auto& targets = owner == kPolicyOwner ? bindings_.policy_targets : bindings_.targets;
    auto ti = static_cast<size_t>(args[0].number);
    if (ti >= targets.size()) return Value::Unknown();
    ProbeCall call;
    call.target = targets[ti].name;
    call.binding = targets[ti].binding;
    call.method = name;
    call.args.assign(args + 1, args + argc);
    call.effect = import.effect;
    ProbeAnswer a = prov_.Probe(call, now_);
    if (a.value.IsUnknown()) {
      std::string what = fmt::format("{}.{}({}): {}", call.target, name.substr(name.find('.') + 1), ArgsText(call.args),
                                     a.reason);
      if (std::find(trace_.unknown_probes.begin(), trace_.unknown_probes.end(), what) == trace_.unknown_probes.end()) {
        trace_.unknown_probes.push_back(what);
      }
    }
    return a.value;
  }

 private:
  static Value Bool3(Tri t) { return t == Tri::kUnknown ? Value::Unknown() : Value::Bool(t == Tri::kTrue); }

  TraceEvent& Event(TraceEvent::Kind kind, std::string name = {}, std::string detail = {}) {
    TraceEvent e;
    e.kind = kind;
    e.at_ms = now_;
    e.name = std::move(name);
    e.detail = std::move(detail);
    trace_.events.push_back(std::move(e));
    return trace_.events.back();
  }

  Value Eval(uint32_t chunk) {
    EvalResult r = vm_.Eval(chunk, *this);
    if (!r.ok) {
      Error(r.error);
      return Value::Unknown();
    }
    return r.value;
  }
  void Error(const std::string& message) {
    if (std::find(trace_.errors.begin(), trace_.errors.end(), message) == trace_.errors.end()) {
      trace_.errors.push_back(message);
      Event(TraceEvent::Kind::kError, "", message);
    }
  }

  Value SymptomValue(uint32_t index) {
    if (index >= symptom_cache_.size()) return Value::Unknown();
    if (!symptom_cache_[index]) {
      symptom_cache_[index] = Value::Unknown();  // a cycle reads unknown (the checker rejects cycles anyway)
      symptom_cache_[index] = Eval(r_.symptoms[index].chunk);
    }
    return *symptom_cache_[index];
  }

  // One evaluation instant: symptoms, the incident, the steps, then the escalation rows.
  void Evaluate() {
    for (auto& c : symptom_cache_) c.reset();
    SymptomSample sample;
    sample.at_ms = now_;
    bool any_true = false, any_unknown = false;
    for (uint32_t i = 0; i < r_.symptoms.size(); ++i) {
      Tri t = ToTri(SymptomValue(i));
      sample.states.push_back(t);
      any_true |= t == Tri::kTrue;
      any_unknown |= t == Tri::kUnknown;
      Tri before = trace_.samples.empty() ? Tri::kFalse : trace_.samples.back().states[i];
      if (t != before) Event(TraceEvent::Kind::kSymptom, trace_.symptom_names[i]).state = t;
      if (t == Tri::kTrue) trace_.symptoms_held.insert(trace_.symptom_names[i]);
    }
    trace_.samples.push_back(std::move(sample));
    incident_ = any_true ? Tri::kTrue : any_unknown ? Tri::kUnknown : Tri::kFalse;
    if (incident_ == Tri::kTrue && !opened_) {
      opened_ = true;
      Event(TraceEvent::Kind::kIncident, trace_.runbook, "incident opened: a symptom holds");
    }
    Steps();
    Rows();
    if (!queue_.empty() && !cur_.active) Steps();  // a row's `run <step>` starts at once
  }

  // ---- Steps ----
  struct Cursor {
    bool active = false;   // a step is in progress
    uint32_t step = 0;
    size_t item = 0;
    bool failed = false, pending = false;
    int64_t expect_deadline = -1;  // the current expectation is polling until then
    int polls = 0;
  };

  void Steps() {
    if (wake_ > now_) return;  // an expectation is waiting for its next poll
    wake_ = -1;
    for (;;) {
      if (!cur_.active) {
        if (!queue_.empty()) {  // a `run <step>` from an escalation row goes first, guard or not
          uint32_t s = queue_.front();
          queue_.erase(queue_.begin());
          Start(s);
        } else if (opened_ && next_ < r_.steps.size()) {
          uint32_t s = next_++;
          if (step_done_[s]) continue;
          const Step& st = r_.steps[s];
          if (st.guard != kNoChunk) {
            Tri g = ToTri(Eval(st.guard));
            if (g == Tri::kFalse) {
              step_done_[s] = true;
              trace_.skipped.push_back(p_.Str(st.name));
              Event(TraceEvent::Kind::kStepSkip, p_.Str(st.name), p_.Str(st.guard_text)).state = g;
              continue;
            }
            if (g == Tri::kUnknown) {
              step_done_[s] = true;
              step_failed_[s] = -1;  // it did not run, and whether it would have failed is unknown
              trace_.pending_steps.push_back(p_.Str(st.name));
              Event(TraceEvent::Kind::kStepPending, p_.Str(st.name), p_.Str(st.guard_text)).state = g;
              continue;
            }
          }
          Start(s);
        } else {
          return;
        }
      }
      if (!Continue()) return;  // waiting for the next poll
    }
  }

  void Start(uint32_t s) {
    step_done_[s] = true;
    cur_ = Cursor{};
    cur_.active = true;
    cur_.step = s;
    output_ = Value::Unknown();
    const Step& st = r_.steps[s];
    step_failed_[s] = -1;  // unknown while it runs
    // A step pending on its guard that a row's `run` starts is no longer pending.
    auto& pend = trace_.pending_steps;
    pend.erase(std::remove(pend.begin(), pend.end(), p_.Str(st.name)), pend.end());
    trace_.steps.push_back(StepRun{p_.Str(st.name), now_, {}, ""});
    trace_.steps_run.insert(p_.Str(st.name));
    Event(TraceEvent::Kind::kStepStart, p_.Str(st.name), p_.Str(st.title)).status = StepKindName(st.kind);
  }

  // Runs the current step's items from the cursor on. False: an expectation waits until wake_.
  bool Continue() {
    const Step& st = r_.steps[cur_.step];
    while (cur_.item < st.items.size()) {
      const StepItem& it = st.items[cur_.item];
      switch (it.kind) {
        case StepItem::Kind::kCommand: RunCommand(st, it.command, true, JudgedByExpect(st, cur_.item)); break;
        case StepItem::Kind::kText: Event(TraceEvent::Kind::kText, p_.Str(st.name), p_.Str(it.text)); break;
        case StepItem::Kind::kExpect:
          if (!Expect(st, it)) return false;
          break;
      }
      ++cur_.item;
    }
    bool only_text = std::all_of(st.items.begin(), st.items.end(),
                                 [](const StepItem& i) { return i.kind == StepItem::Kind::kText; });
    // A step that only tells a person what to do is `manual`, whatever its kind: nothing was done.
    std::string status = cur_.failed ? "failed" : cur_.pending ? "pending" : only_text ? "manual" : "ok";
    step_failed_[cur_.step] = cur_.failed ? 1 : cur_.pending ? -1 : 0;
    trace_.steps.back().status = status;
    if (status == "pending") trace_.pending_steps.push_back(p_.Str(st.name));
    Event(TraceEvent::Kind::kStepEnd, p_.Str(st.name)).status = status;
    cur_.active = false;
    return true;
  }

  // The command an `expect` polls is the last one before it (instruction lines aside): when it is
  // a read, its exit status does not fail the step; the expectation's verdict does.
  static bool JudgedByExpect(const Step& st, size_t item) {
    for (size_t i = item + 1; i < st.items.size(); ++i) {
      if (st.items[i].kind != StepItem::Kind::kText) return st.items[i].kind == StepItem::Kind::kExpect;
    }
    return false;
  }

  void RunCommand(const Step& st, const Command& c, bool record, bool judged) {
    BoundCommand bc = BindCommand(p_, reg_, rb_, c, bindings_);
    if (!record && bc.effect > Effect::kRead) return;  // a poll re-runs reads only
    judged = judged && bc.effect <= Effect::kRead;  // a failed write is never excused
    std::string shown = bc.Display();
    if (record) trace_.steps.back().commands.push_back(shown);
    // A re-poll of an expectation runs its read commands again without adding to the timeline.
    TraceEvent scratch;
    TraceEvent& e = record ? Event(TraceEvent::Kind::kCommand, p_.Str(st.name), shown) : scratch;
    e.effect = bc.effect;
    if (bc.unbound) {
      e.status = "not run: a parameter is unbound";
      cur_.pending = true;
      output_ = Value::Unknown();
      return;
    }
    if (bc.undeclared) {
      e.status = fmt::format("refused: no rule of program `{}` gives these bound words an effect",
                             bc.argv.empty() ? std::string("?") : bc.argv[0]);
      cur_.failed = true;
      output_ = Value::Unknown();
      return;
    }
    if (bc.effect > MaxEffect(st.kind)) {
      e.status = fmt::format("refused: with its bound words this is a {} command ({}); a {} step may not run it",
                             EffectName(bc.effect), bc.rule, StepKindName(st.kind));
      cur_.failed = true;
      output_ = Value::Unknown();
      return;
    }
    ExecAnswer a = prov_.Exec(bc.argv, bc.effect, now_);
    bool write = bc.effect >= Effect::kWrite;
    switch (a.status) {
      case ExecAnswer::Status::kOk: e.status = write ? "would run: ok" : "ok"; break;
      case ExecAnswer::Status::kFailed:
        e.status = fmt::format("{}exit {}", write ? "would run: " : "", a.exit_code);
        cur_.failed |= !judged;
        break;
      case ExecAnswer::Status::kTimeout:
        e.status = "timeout";
        cur_.failed |= !judged;
        break;
      case ExecAnswer::Status::kNoData:
        // What a check would have seen is unknown: the step is pending, not passed.
        e.status = "no output in scenario: unknown";
        cur_.pending |= !judged;
        break;
    }
    if (a.status == ExecAnswer::Status::kNoData || a.status == ExecAnswer::Status::kTimeout) {
      output_ = Value::Unknown();
    } else {
      output_ = Value::String(TrimEnd(a.out));
      if (!a.err.empty() && a.status == ExecAnswer::Status::kFailed) e.status += ": " + TrimEnd(a.err);
    }
    if (c.filter != kNoChunk && !output_.IsUnknown()) output_ = Eval(c.filter);
  }

  // True when the expectation is settled (held, or its deadline passed); false to wait for wake_.
  bool Expect(const Step& st, const StepItem& it) {
    if (cur_.expect_deadline < 0) {
      cur_.expect_deadline = now_ + static_cast<int64_t>(it.within_ms);
    } else {
      // A poll: run the command this expectation reads again, if it is a read, for fresh output.
      for (size_t i = cur_.item; i-- > 0;) {
        const StepItem& prev = st.items[i];
        if (prev.kind == StepItem::Kind::kText) continue;
        if (prev.kind == StepItem::Kind::kCommand) RunCommand(st, prev.command, false, true);
        break;
      }
    }
    Tri t = ToTri(Eval(it.chunk));
    ++cur_.polls;
    int64_t every = it.every_ms ? static_cast<int64_t>(it.every_ms) : std::max<int64_t>(sc_.tick_ms, 1);
    if (t != Tri::kTrue && now_ + every <= cur_.expect_deadline) {
      wake_ = now_ + every;
      return false;
    }
    TraceEvent& e = Event(TraceEvent::Kind::kExpect, p_.Str(st.name), p_.Str(it.text));
    e.state = t;
    e.status = t == Tri::kTrue ? "met" : t == Tri::kFalse ? "not met" : "unknown";
    if (it.within_ms) {
      e.status += fmt::format(" after {} poll{} (within {} every {})", cur_.polls, cur_.polls == 1 ? "" : "s",
                              FormatMs(static_cast<int64_t>(it.within_ms)), FormatMs(every));
    }
    cur_.polls = 0;
    if (t == Tri::kFalse) cur_.failed = true;
    if (t == Tri::kUnknown) cur_.pending = true;
    cur_.expect_deadline = -1;
    return true;
  }

  // ---- Escalation ----
  struct RowState {
    bool fired = false, armed = true;
    Tri last = Tri::kFalse;
  };

  void Rows() {
    size_t n = r_.rows.size();
    for (size_t i = 0; i < rows_.size(); ++i) {
      bool policy = i >= n;
      const EscRow& row = policy ? p_.policy->rows[i - n] : r_.rows[i];
      Tri t = ToTri(Eval(row.chunk));
      RowState& rs = rows_[i];
      rs.last = t;
      if (t == Tri::kFalse) rs.armed = true;
      if (t != Tri::kTrue || !rs.armed) continue;
      rs.armed = false;
      rs.fired = true;
      std::string when = p_.Str(row.text);
      trace_.fired.push_back(RowFire{when, now_, policy});
      trace_.rows_fired.insert((policy ? "policy|" : trace_.runbook + "|") + when);
      TraceEvent& e = Event(TraceEvent::Kind::kRowFire, when);
      e.policy = policy;
      e.detail = fmt::format("{}", fmt::join(ActionTexts(p_, policy ? nullptr : &r_.steps, row), ", "));
      for (const auto& a : row.actions) Act(a);
    }
  }

  void Act(const EscAction& a) {
    switch (a.kind) {
      case EscAction::Kind::kPage: {
        const Contact& c = p_.contacts.at(a.value);
        PageSent page{p_.Str(c.name), p_.Str(c.display), p_.Str(c.handle), {}, now_};
        bool again = std::any_of(trace_.pages.begin(), trace_.pages.end(),
                                 [&](const PageSent& x) { return x.contact == page.contact && x.at_ms == now_; });
        if (again) break;  // two rows paging the same person at the same moment send one page
        if (opt_.env) {
          auto it = opt_.env->contacts.find(page.contact);
          if (it != opt_.env->contacts.end()) {
            for (const auto& ch : it->second.channels) page.channels.push_back(ch.kind + " " + ch.address);
          }
        }
        Event(TraceEvent::Kind::kPage, page.contact,
              fmt::format("{} {}{}", page.display, page.handle,
                          page.channels.empty() ? "" : fmt::format(" via {}", fmt::join(page.channels, ", "))));
        trace_.pages.push_back(std::move(page));
        break;
      }
      case EscAction::Kind::kRun:
        if (a.value < r_.steps.size()) {
          const std::string& name = p_.Str(r_.steps[a.value].name);
          if (trace_.steps_run.count(name)) {
            Event(TraceEvent::Kind::kManual, name, "already ran: not run twice");
          } else if (std::find(queue_.begin(), queue_.end(), a.value) == queue_.end()) {
            step_done_[a.value] = true;  // the sequence will not run it again
            queue_.push_back(a.value);
          }
        }
        break;
      case EscAction::Kind::kRunbook: Event(TraceEvent::Kind::kHandover, p_.Str(a.value), "hand over to runbook"); break;
      case EscAction::Kind::kManual: Event(TraceEvent::Kind::kManual, "", p_.Str(a.value)); break;
      case EscAction::Kind::kDeclare: {
        const std::string& sev = p_.Str(a.value);
        if (SeverityRank(sev) < SeverityRank(trace_.severity)) {
          trace_.severity = sev;
          Event(TraceEvent::Kind::kDeclare, sev, "severity raised");
        }
        break;
      }
    }
  }

  void Finish() {
    size_t n = r_.rows.size();
    for (size_t i = 0; i < rows_.size(); ++i) {
      if (rows_[i].fired || rows_[i].last != Tri::kUnknown) continue;
      const EscRow& row = i >= n ? p_.policy->rows[i - n] : r_.rows[i];
      std::string when = p_.Str(row.text);
      if (std::find(trace_.pending_rows.begin(), trace_.pending_rows.end(), when) == trace_.pending_rows.end()) {
        trace_.pending_rows.push_back(when);
      }
    }
    if (cur_.active) {  // the scenario ended while an expectation was still polling
      trace_.steps.back().status = "pending";
      trace_.pending_steps.push_back(p_.Str(r_.steps[cur_.step].name));
    }
    for (const auto& q : asked_) {
      if (!prov_.Answer(q, sc_.duration_ms)) trace_.pending_asks.push_back(q);
    }
  }

  const Program& p_;
  const Registry& reg_;
  uint32_t rb_;
  const Runbook& r_;
  const Scenario& sc_;
  Provider& prov_;
  StateStore& state_;
  const RehearseOptions& opt_;
  Vm vm_;
  ParamOverrides scenario_params_;
  Bindings bindings_;
  Trace trace_;

  int64_t now_ = 0;
  int64_t wake_ = -1;
  Tri incident_ = Tri::kFalse;
  bool opened_ = false;
  std::vector<std::optional<Value>> symptom_cache_;
  std::vector<int> step_failed_;  // -1 not run (or pending), 0 ok, 1 failed
  std::vector<bool> step_done_;
  std::vector<uint32_t> queue_;
  uint32_t next_ = 0;
  Cursor cur_;
  Value output_;
  std::vector<RowState> rows_;
  std::vector<std::string> asked_;
};

}  // namespace

const SymptomSample* Trace::SampleAt(int64_t at_ms) const {
  const SymptomSample* found = nullptr;
  for (const auto& s : samples) {
    if (s.at_ms > at_ms) break;
    found = &s;
  }
  return found;
}

Trace Rehearse(const Program& program, const Registry& registry, uint32_t runbook, const Scenario& scenario,
               Provider& provider, StateStore& state, const RehearseOptions& options) {
  Rehearsal r(program, registry, runbook, scenario, provider, state, options);
  return r.Run();
}

// ---- Expectations --------------------------------------------------------------------------------

namespace {

std::string Join(const std::vector<std::string>& v) {
  if (v.empty()) return "(none)";
  return fmt::format("{}", fmt::join(v, ", "));
}

std::string At(std::optional<int64_t> at) { return at ? " at " + FormatMs(*at) : ""; }

}  // namespace

std::vector<Mismatch> Check(const Scenario& sc, const Trace& t) {
  std::vector<Mismatch> out;
  const Expectations& ex = sc.expect;
  for (const auto& se : ex.symptoms) {
    const SymptomSample* s = t.SampleAt(se.at_ms);
    if (s && s->at_ms != se.at_ms) {
      // Between evaluations nothing was decided: checking the last one would pass on stale data.
      out.push_back(Mismatch{se.mark, fmt::format("symptoms at {}", FormatMs(se.at_ms)), "an evaluation instant",
                             fmt::format("no evaluation at {}: symptoms are evaluated every {} (and at polls); "
                                         "the nearest before is {}",
                                         FormatMs(se.at_ms), FormatMs(sc.tick_ms), FormatMs(s->at_ms))});
      continue;
    }
    auto state_of = [&](const std::string& name) -> std::optional<Tri> {
      if (!s) return std::nullopt;
      for (size_t i = 0; i < t.symptom_names.size(); ++i) {
        if (t.symptom_names[i] == name) return s->states[i];
      }
      return std::nullopt;
    };
    auto check = [&](const std::vector<std::string>& names, Tri want) {
      for (const auto& n : names) {
        std::optional<Tri> got = state_of(n);
        if (got && *got == want) continue;
        out.push_back(Mismatch{se.mark, fmt::format("symptom {} at {}", n, FormatMs(se.at_ms)), TriName(want),
                               got ? TriName(*got) : "not evaluated"});
      }
    };
    check(se.hold, Tri::kTrue);
    check(se.clear, Tri::kFalse);
    check(se.unknown, Tri::kUnknown);
  }
  if (ex.steps) {
    std::vector<std::string> want, got;
    for (const auto& s : *ex.steps) want.push_back(s.step);
    for (const auto& s : t.steps) got.push_back(s.name);
    if (want != got) {
      out.push_back(Mismatch{ex.MarkOf("steps"), "steps that ran, in order", Join(want), Join(got)});
    } else {
      for (size_t i = 0; i < want.size(); ++i) {
        const StepExpect& se = (*ex.steps)[i];
        const StepRun& sr = t.steps[i];
        if (se.at_ms && *se.at_ms != sr.at_ms) {
          out.push_back(Mismatch{se.mark, fmt::format("step {} started", se.step), FormatMs(*se.at_ms), FormatMs(sr.at_ms)});
        }
        if (se.run && *se.run != sr.commands) {
          std::string w, g;
          for (const auto& c : *se.run) w += "\n      $ " + c;
          for (const auto& c : sr.commands) g += "\n      $ " + c;
          out.push_back(Mismatch{se.mark, fmt::format("step {} commands", se.step), w.empty() ? "(none)" : w,
                                 g.empty() ? "(none)" : g});
        }
        if (se.status && *se.status != sr.status) {
          out.push_back(Mismatch{se.mark, fmt::format("step {} status", se.step), *se.status, sr.status});
        }
      }
    }
  }
  if (ex.skipped && *ex.skipped != t.skipped) {
    out.push_back(Mismatch{ex.MarkOf("skipped"), "steps skipped (guard false)", Join(*ex.skipped), Join(t.skipped)});
  }
  if (ex.escalations) {
    std::vector<std::string> want, got;
    bool with_times = false;
    for (const auto& r : *ex.escalations) with_times |= r.at_ms.has_value();
    for (const auto& r : *ex.escalations) want.push_back(fmt::format("| {} |{}", r.row, At(r.at_ms)));
    for (size_t i = 0; i < t.fired.size(); ++i) {
      bool show = i < ex.escalations->size() ? (*ex.escalations)[i].at_ms.has_value() : with_times;
      got.push_back(fmt::format("| {} |{}", t.fired[i].when, show ? At(t.fired[i].at_ms) : ""));
    }
    if (want != got) out.push_back(Mismatch{ex.MarkOf("escalations"), "escalation rows fired, in order", Join(want), Join(got)});
  }
  if (ex.pages) {
    std::vector<std::string> want, got;
    bool with_times = false;
    for (const auto& pg : *ex.pages) with_times |= pg.at_ms.has_value();
    for (const auto& pg : *ex.pages) want.push_back(pg.contact + At(pg.at_ms));
    for (size_t i = 0; i < t.pages.size(); ++i) {
      bool show = i < ex.pages->size() ? (*ex.pages)[i].at_ms.has_value() : with_times;
      got.push_back(t.pages[i].contact + (show ? At(t.pages[i].at_ms) : ""));
    }
    if (want != got) out.push_back(Mismatch{ex.MarkOf("pages"), "pages sent, in order", Join(want), Join(got)});
  }
  if (ex.severity && *ex.severity != t.severity) {
    out.push_back(Mismatch{ex.MarkOf("severity"), "severity at the end", *ex.severity, t.severity});
  }
  if (ex.pending) {
    const PendingExpect& pe = *ex.pending;
    // Pending items are compared as sets: their order says nothing.
    auto same_set = [&](const std::optional<std::vector<std::string>>& want, std::vector<std::string> got, const char* what) {
      if (!want) return;
      std::vector<std::string> w = *want;
      std::sort(w.begin(), w.end());
      std::sort(got.begin(), got.end());
      if (w != got) out.push_back(Mismatch{pe.mark, what, Join(w), Join(got)});
    };
    same_set(pe.rows, t.pending_rows, "pending rows (unknown at the end, never fired)");
    same_set(pe.steps, t.pending_steps, "pending steps (a guard, an expectation or a check's output unknown)");
    same_set(pe.asks, t.pending_asks, "unanswered questions");
  }
  for (const auto& e : t.errors) out.push_back(Mismatch{Mark{}, "rehearsal error", "(none)", e});
  return out;
}

}  // namespace rb::rt
