#include "runtime/run_host.hpp"

#include "runtime/executor.hpp"  // FormatMs
#include "runtime/natives.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <string_view>

namespace rb::rt {

namespace {

std::string ArgsText(const std::vector<Value>& args) {
  std::string s;
  for (size_t i = 0; i < args.size(); ++i) {
    if (i) s += ", ";
    s += args[i].type == ValueType::kString ? fmt::format("\"{}\"", args[i].Text()) : ToString(args[i]);
  }
  return s;
}

Value Bool3(Tri t) { return t == Tri::kUnknown ? Value::Unknown() : Value::Bool(t == Tri::kTrue); }

}  // namespace

RunHost::RunHost(const Program& program, uint32_t runbook, const Bindings& bindings, const RunFacts& facts,
                 Provider& provider, Answers& answers, StateStore& state, Trace& trace, const VmLimits& limits)
    : p_(program), rb_(runbook), r_(program.runbooks.at(runbook)), bindings_(bindings), facts_(facts),
      prov_(provider), answers_(answers), state_(state), trace_(trace), vm_(program, limits) {
  symptom_cache_.resize(r_.symptoms.size());
  let_cache_.resize(r_.lets.size());
  policy_let_cache_.resize(program.policy ? program.policy->lets.size() : 0);
  windows_.assign(r_.windows.size(), Value::Unknown());
  policy_windows_.assign(program.policy ? program.policy->windows.size() : 0, Value::Unknown());
  // The question table, from the ASK constants of the chunks this run evaluates (verified code).
  questions_.resize(program.chunks.size());
  for (size_t i = 0; i < program.chunks.size(); ++i) {
    const Chunk& c = program.chunks[i];
    if (c.owner != runbook && c.owner != kPolicyOwner) continue;
    for (uint32_t w : c.code) {
      if (static_cast<Op>(OpByte(w)) != Op::kASK) continue;
      uint32_t q = program.constants[OperandA(w)].string;
      auto& qs = questions_[i];
      if (std::find(qs.begin(), qs.end(), q) == qs.end()) qs.push_back(q);
    }
  }
}

void RunHost::MarkAsked(uint32_t chunk) {
  if (chunk >= questions_.size()) return;
  for (uint32_t q : questions_[chunk]) {
    const std::string& text = p_.strings[q];
    if (std::find(asked_.begin(), asked_.end(), text) != asked_.end()) continue;
    asked_.push_back(text);
    asked_at_.push_back(facts_.now_ms);
  }
}

void RunHost::NewInstant() {
  for (auto& c : symptom_cache_) c.reset();
  down_cache_.reset();
  for (size_t i = 0; i < let_cache_.size(); ++i) {
    if (r_.lets[i].step == kNoStep) let_cache_[i].reset();  // a capture keeps its value
  }
  for (auto& c : policy_let_cache_) c.reset();
  clock_read_ = false;
}

void RunHost::ResetCaptures() {
  for (size_t i = 0; i < let_cache_.size(); ++i) {
    if (r_.lets[i].step != kNoStep) let_cache_[i].reset();
  }
}

Value RunHost::Let(uint32_t owner, uint32_t index) {
  bool policy = owner == kPolicyOwner;
  if (!policy && owner != rb_) return Value::Unknown();
  auto& cache = policy ? policy_let_cache_ : let_cache_;
  if (index >= cache.size()) return Value::Unknown();
  const rt::Let& l = policy ? p_.policy->lets[index] : r_.lets[index];
  if (l.step != kNoStep) return cache[index] ? *cache[index] : Value::Unknown();  // not taken yet
  if (!cache[index]) {
    cache[index] = Value::Unknown();  // a cycle reads unknown (the checker rejects cycles, RB0241)
    cache[index] = Eval(l.chunk);
  }
  return *cache[index];
}

void RunHost::SetCapture(uint32_t index, Value v) {
  if (index < let_cache_.size()) let_cache_[index] = std::move(v);
}

Value RunHost::Eval(uint32_t chunk) {
  MarkAsked(chunk);
  EvalResult r = vm_.Eval(chunk, *this);
  if (!r.ok) {
    Error(r.error);
    return Value::Unknown();
  }
  return r.value;
}

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

// The filters as written, split at each top-level `|>` (not inside quotes or brackets).
std::vector<std::string> SplitStages(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  char quote = 0;
  int depth = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quote) {
      cur += c;
      if (c == '\\' && i + 1 < text.size()) cur += text[++i];
      else if (c == quote) quote = 0;
      continue;
    }
    if (c == '"' || c == '\'') quote = c;
    if (c == '(' || c == '[') ++depth;
    if (c == ')' || c == ']') --depth;
    if (depth == 0 && c == '|' && i + 1 < text.size() && text[i + 1] == '>') {
      out.push_back(std::string(Trim(cur)));
      cur.clear();
      ++i;
      continue;
    }
    cur += c;
  }
  if (!Trim(cur).empty()) out.push_back(std::string(Trim(cur)));
  return out;
}

}  // namespace

Value RunHost::EvalFilters(uint32_t chunk, const std::string& filter_text, std::vector<std::string>& stages_out,
                           std::vector<std::string>& filtered) {
  std::vector<std::pair<std::string, Value>> log;
  filter_log_ = &log;
  Value v = Eval(chunk);
  filter_log_ = nullptr;
  std::vector<std::string> stages = SplitStages(filter_text);
  // Calls inside a stage's arguments (a method body's filters) would be logged too: only when the
  // log has one entry per stage is it shown by stage; else by the filters' names.
  bool by_stage = stages.size() == log.size();
  stages_out.clear();
  filtered.clear();
  for (size_t i = 0; i < log.size(); ++i) {
    stages_out.push_back(by_stage ? stages[i] : log[i].first);
    std::string shown = log[i].second.IsUnknown() ? "unknown" : ToString(log[i].second);
    while (!shown.empty() && shown.back() == '\n') shown.pop_back();  // lines print one per line
    filtered.push_back(std::move(shown));
  }
  return v;
}

void RunHost::Filtered(const std::string& name, const Value& result) {
  if (filter_log_) filter_log_->emplace_back(name, result);
}

void RunHost::Error(const std::string& message) {
  if (std::find(trace_.errors.begin(), trace_.errors.end(), message) == trace_.errors.end()) {
    trace_.errors.push_back(message);
    trace_.AddEvent(TraceEvent::Kind::kError, facts_.now_ms, "", message);
  }
}

Value RunHost::SymptomValue(uint32_t index) {
  if (index >= symptom_cache_.size()) return Value::Unknown();
  if (!symptom_cache_[index]) {
    symptom_cache_[index] = Value::Unknown();  // a cycle reads unknown (the checker rejects cycles anyway)
    symptom_cache_[index] = Eval(r_.symptoms[index].chunk);
  }
  return *symptom_cache_[index];
}

Value RunHost::Param(uint32_t owner, uint32_t index) {
  if (owner == kPolicyOwner || index >= bindings_.params.size()) return Value::Unknown();
  return bindings_.params[index].value;
}

Value RunHost::Symptom(uint32_t owner, uint32_t index) {
  if (owner != rb_) return Value::Unknown();
  return SymptomValue(index);
}

Value RunHost::Incident(uint32_t) { return Bool3(facts_.incident); }

Value RunHost::StepFailed(uint32_t owner, uint32_t step) {
  const std::vector<int>& failed = facts_.step_failed;
  if (owner != rb_ || step >= failed.size() || failed[step] < 0) return Value::Unknown();
  return Value::Bool(failed[step] == 1);
}

Value RunHost::Output() { return facts_.output; }

Value RunHost::TargetField(uint32_t owner, uint32_t index, const std::string& field) {
  const auto& targets = owner == kPolicyOwner ? bindings_.policy_targets : bindings_.targets;
  if (index >= targets.size()) return Value::Unknown();
  std::optional<std::string> v = TargetFieldValue(targets[index], field);
  return v ? Value::String(*v) : Value::Unknown();
}

Value RunHost::Ask(const std::string& question) {
  // An interpolated question (ASK_TEXT) is known only once its text is computed: asked from here.
  if (std::find(asked_.begin(), asked_.end(), question) == asked_.end()) {
    asked_.push_back(question);
    asked_at_.push_back(facts_.now_ms);
  }
  std::optional<bool> a = answers_.Answer(question, facts_.now_ms);
  return a ? Value::Bool(*a) : Value::Unknown();
}

Value RunHost::Now() {
  clock_read_ = true;
  if (!facts_.clock) return EvalHost::Now();
  return Value::Number(ValueType::kTime, facts_.clock->WallSeconds(facts_.now_ms));
}

Value RunHost::Severity() {
  if (!facts_.severity.empty()) return Value::String(facts_.severity);
  const std::string& s = p_.Str(r_.severity);
  return s.empty() ? Value::Unknown() : Value::String(s);
}

Value RunHost::Owner() {
  if (r_.owner >= p_.contacts.size()) return Value::Unknown();
  return Value::String(p_.Str(p_.contacts[r_.owner].name));
}

Value RunHost::Down() {
  if (r_.down == kNoChunk) return Value::Bool(false);  // nothing of this runbook is downtime
  if (!down_cache_) {
    down_cache_ = Value::Unknown();  // a cycle reads unknown
    down_cache_ = Eval(r_.down);
  }
  return *down_cache_;
}

Value RunHost::Window(uint32_t owner, uint32_t window) {
  const std::vector<Value>& ws = owner == kPolicyOwner ? policy_windows_ : windows_;
  return window < ws.size() ? ws[window] : Value::Unknown();
}

void RunHost::UpdateWindows() {
  window_deadline_.reset();
  windows_seen_.clear();
  for (uint32_t i = 0; i < r_.windows.size(); ++i) windows_[i] = UpdateWindow(rb_, i, r_.windows[i]);
  for (uint32_t i = 0; i < policy_windows_.size(); ++i) {
    policy_windows_[i] = UpdateWindow(kPolicyOwner, i, p_.policy->windows[i]);
  }
}

Value RunHost::UpdateWindow(uint32_t owner, uint32_t index, const rt::Window& w) {
  Value cond = Eval(w.chunk);
  if (!cond.IsUnknown() && cond.type != ValueType::kBool) {  // only a hand-made file gets here
    const Chunk& c = p_.chunks[w.chunk];
    Error(fmt::format("{}:{}: the condition of a `for` window is {}, not a condition",
                      c.file < p_.files.size() ? p_.files[c.file] : "?", c.lines.empty() ? 0 : c.lines[0],
                      ValueTypeName(cond.type)));
    cond = Value::Unknown();
  }
  std::string key = fmt::format("{}/{}/{}", trace_.runbook, owner == kPolicyOwner ? "policy" : "runbook", index);
  Tri t = ToTri(cond);
  const Chunk& chunk = p_.chunks[w.chunk];
  std::string file = chunk.file < p_.files.size() ? p_.files[chunk.file] : std::string("?");
  windows_seen_.push_back(WindowSeen{fmt::format("{}:{}", file.substr(file.rfind('/') + 1), chunk.lines.empty() ? 0 : chunk.lines[0]),
                                     static_cast<int64_t>(w.bound_ms), t, std::nullopt});
  if (t == Tri::kFalse) {
    state_.Erase(key);
    return Value::Bool(false);
  }
  std::optional<int64_t> first = state_.Get(key);
  if (std::optional<std::string> why = state_.Unavailable()) {
    // The team's window state cannot be read: unknown, never a window that opens afresh or fires.
    std::string what = fmt::format("window for > {} ({}): its state is unknown: {}", FormatMs(static_cast<int64_t>(w.bound_ms)),
                                   windows_seen_.back().where, *why);
    if (std::find(trace_.unknown_probes.begin(), trace_.unknown_probes.end(), what) == trace_.unknown_probes.end()) {
      trace_.unknown_probes.push_back(what);
    }
    return Value::Unknown();
  }
  windows_seen_.back().first = first;
  if (t == Tri::kUnknown) return Value::Unknown();  // a gap in the data neither opens nor closes it
  const int64_t now = facts_.now_ms;
  if (!first) {
    state_.Set(key, now);
    first = now;
    windows_seen_.back().first = first;
  }
  // Seen at instants only, "more than D" and "at least D" cannot be told apart: either fires at the
  // first instant at or after first-seen + D, and the runner evaluates at that instant.
  int64_t held = now - *first, bound = static_cast<int64_t>(w.bound_ms);
  if (held < bound && (!window_deadline_ || *first + bound < *window_deadline_)) window_deadline_ = *first + bound;
  return Value::Bool(held >= bound);
}

// The probe for a call whose args[0] is the receiver target; false when the receiver is no target.
bool RunHost::Probe(uint32_t owner, const Import& import, const std::string& name, const Value* args, size_t argc,
                    ProbeCall& call, ProbeAnswer& answer) {
  if (argc == 0 || args[0].type != ValueType::kTarget) return false;
  const auto& targets = owner == kPolicyOwner ? bindings_.policy_targets : bindings_.targets;
  auto ti = static_cast<size_t>(args[0].number);
  if (ti >= targets.size()) return false;
  call.target = targets[ti].name;
  call.binding = targets[ti].binding;
  call.method = name;
  call.args.assign(args + 1, args + argc);
  call.effect = import.effect;
  answer = prov_.Probe(call, facts_.now_ms);
  return true;
}

void RunHost::NoteUnknown(const ProbeCall& call, const ProbeAnswer& a) {
  const std::string& name = call.method;
  std::string what = fmt::format("{}.{}({}): {}", call.target, name.substr(name.find('.') + 1), ArgsText(call.args),
                                 a.reason);
  if (std::find(trace_.unknown_probes.begin(), trace_.unknown_probes.end(), what) == trace_.unknown_probes.end()) {
    trace_.unknown_probes.push_back(what);
  }
}

// A method the provider answers as a whole (the scenario's `api.metric("x")` key); when it has
// nothing for it the VM runs the body, whose natives come through Call.
bool RunHost::Method(uint32_t owner, const Import& import, const std::string& name, const Value* args, size_t argc,
                     Value& out) {
  ProbeCall call;
  ProbeAnswer a;
  if (!Probe(owner, import, name, args, argc, call, a)) {
    out = Value::Unknown();
    return true;
  }
  if (!a.answered) return false;
  if (a.value.IsUnknown()) NoteUnknown(call, a);
  out = a.value;
  return true;
}

// A native, called by a method's body (or a method the default path answers): a probe unknown at
// both levels is listed by its native-level key, which is what a scenario can script.
Value RunHost::Call(uint32_t owner, const Import& import, const std::string& name, const Value* args, size_t argc) {
  ProbeCall call;
  ProbeAnswer a;
  // A command native's effect was read from its template at compile time, where an interpolated value
  // is any value; the bound text decides now, as a step's bound argv does. A probe runs reads only:
  // a value that turns `MATCH (n:`{label}`)` into a DELETE is refused, never sent.
  if (import.native < Natives().size() && Natives()[import.native].ByCommand() && argc >= 2 &&
      args[1].type == ValueType::kString) {
    std::string bound;
    for (char c : args[1].Text()) bound += (c == '{' || c == '}') ? std::string(2, c) : std::string(1, c);
    CommandEffect ce = NativeCommandEffect(Natives()[import.native], &bound, DefaultRegistry(), &p_.programs);
    if (ce.effect > Effect::kRead) {
      if (argc > 0 && args[0].type == ValueType::kTarget) {
        const auto& targets = owner == kPolicyOwner ? bindings_.policy_targets : bindings_.targets;
        auto ti = static_cast<size_t>(args[0].number);
        if (ti < targets.size()) call.target = targets[ti].name;
      }
      call.method = name;
      call.args.assign(args + 1, args + argc);
      a.reason = fmt::format("refused: the bound command is {} ({}); a probe runs read commands only",
                             EffectName(ce.effect), ce.rule.empty() ? "not declared" : ce.rule);
      NoteUnknown(call, a);
      return Value::Unknown();
    }
  }
  if (!Probe(owner, import, name, args, argc, call, a)) return Value::Unknown();
  if (a.value.IsUnknown()) NoteUnknown(call, a);
  return a.value;
}

}  // namespace rb::rt
