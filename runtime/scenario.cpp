#include "runtime/scenario.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <set>
#include <string_view>

#include "lang/enums.hpp"
#include "lang/literals.hpp"
#include "lang/text.hpp"
#include "lang/units.hpp"
#include "lang/words.hpp"
#include "runtime/config.hpp"
#include "runtime/yaml_reader.hpp"

namespace rb::rt {

using namespace cfg;

namespace {

constexpr int64_t kMaxScenarioMs = 30LL * 24 * 3600 * 1000;  // 30d: a countdown of days, rehearsed sparsely

}  // namespace

std::string ScenarioRunbookName(const std::string& path) {
  // A line scan, not a YAML parse: `runbook test` calls this for every scenario before loading it
  // (which parses it fully and reports any mismatch), and parsing twice doubled its cost.
  std::string text, error;
  ConfigKind kind = ConfigKind::kUnreadable;
  if (ReadFile(path, kScenarioLimit, text, error, kind, Family::kScenario)) {
    size_t at = 0;
    while (at < text.size()) {
      size_t end = text.find('\n', at);
      std::string line = text.substr(at, end == std::string::npos ? std::string::npos : end - at);
      at = end == std::string::npos ? text.size() : end + 1;
      if (line.rfind("runbook:", 0) != 0) continue;
      std::string v = line.substr(8);
      size_t hash = v.find(" #");
      if (hash != std::string::npos) v.resize(hash);
      size_t b = v.find_first_not_of(" \t\r"), e = v.find_last_not_of(" \t\r");
      if (b == std::string::npos) break;
      v = v.substr(b, e - b + 1);
      if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) v = v.substr(1, v.size() - 2);
      // Runbook names are [a-z_][a-z0-9_]*; anything else (`[`, a block) leaves it to the parser.
      bool name = !v.empty() && !std::isdigit(static_cast<unsigned char>(v[0])) &&
                  std::all_of(v.begin(), v.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
      if (name) return v;
      break;
    }
  }
  return ParentDirName(path);
}

namespace {

// A probe key as written: target.method(arg, ...).
struct ProbeArg {
  std::string text;
  bool quoted = false;
};
struct ProbeKey {
  std::string target, method;
  std::vector<ProbeArg> args;
};

bool IsIdentStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsIdentChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

std::optional<ProbeKey> ParseProbeKey(std::string_view s, std::string& error) {
  ProbeKey k;
  size_t i = 0;
  auto blanks = [&] {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  };
  auto ident = [&](std::string& out) {
    if (i >= s.size() || !IsIdentStart(s[i])) return false;
    size_t start = i;
    while (i < s.size() && IsIdentChar(s[i])) ++i;
    out = std::string(s.substr(start, i - start));
    return true;
  };
  blanks();
  if (!ident(k.target)) {
    error = "expected a target name first";
    return std::nullopt;
  }
  blanks();
  if (i >= s.size() || s[i] != '.') {
    error = fmt::format("expected `.` and a method after `{}`", k.target);
    return std::nullopt;
  }
  ++i;
  blanks();
  if (!ident(k.method)) {
    error = fmt::format("expected a method name after `{}.`", k.target);
    return std::nullopt;
  }
  blanks();
  if (i >= s.size() || s[i] != '(') {
    error = fmt::format("expected `(` after `{}.{}`: write {}.{}() even without arguments", k.target, k.method, k.target,
                        k.method);
    return std::nullopt;
  }
  ++i;
  blanks();
  if (i < s.size() && s[i] == ')') {
    ++i;
  } else {
    while (true) {
      blanks();
      ProbeArg a;
      if (i < s.size() && (s[i] == '"' || s[i] == '\'')) {
        // A string argument is read as the runbook's own string literal (lang/literals.hpp).
        a.quoted = true;
        size_t n = lang::MatchString(s.substr(i));
        lang::LiteralProblem problem;
        std::optional<std::string> text = n ? lang::ScanString(s.substr(i, n), problem) : std::nullopt;
        if (!text) {
          error = n ? problem.message : fmt::format("a string argument is not closed: add the closing `{}`", s[i]);
          return std::nullopt;
        }
        a.text = std::move(*text);
        i += n;
      } else {
        size_t start = i;
        while (i < s.size() && (IsIdentChar(s[i]) || s[i] == '.' || s[i] == '%' || s[i] == '-')) ++i;
        if (i == start) {
          error = "expected an argument: a \"string\", a number such as 5m or 80%, true or false";
          return std::nullopt;
        }
        a.text = std::string(s.substr(start, i - start));
      }
      k.args.push_back(std::move(a));
      blanks();
      if (i < s.size() && s[i] == ',') {
        ++i;
        continue;
      }
      if (i < s.size() && s[i] == ')') {
        ++i;
        break;
      }
      error = "expected `,` or `)` after an argument";
      return std::nullopt;
    }
  }
  blanks();
  if (i != s.size()) {
    error = fmt::format("unexpected {} after `)`", Quote(s.substr(i)));
    return std::nullopt;
  }
  return k;
}

// A command key split into words as `runbook plan` shows a bound command, by the language's word
// splitter (lang/words.hpp): blanks separate words; "..." (with the escapes of a `$` line) and '...'
// quote (parts of) a word. A `{name}` part is kept as written; the loader refuses params and targets.
std::optional<std::vector<std::string>> SplitArgv(std::string_view s, std::string& error) {
  lang::LiteralProblem problem;
  auto words = lang::SplitWords(s, lang::WordRule::kBound, problem);
  if (!words) {
    error = problem.message;
    return std::nullopt;
  }
  std::vector<std::string> argv;
  for (const auto& w : *words) argv.push_back(w.Literal());
  return argv;
}

std::string ShowMs(int64_t ms) { return ToString(Value::Number(ValueType::kDuration, static_cast<double>(ms))); }

class ScenarioLoader {
 public:
  ScenarioLoader(Reader& r, const Program& p, const Registry& reg, Scenario& out) : r_(r), p_(p), reg_(reg), out_(out) {}

  void Load(const YAML::Node& root) {
    auto fields = Fields(r_, root,
                         {"runbook", "description", "duration", "tick", "params", "probes", "commands", "answers", "approvals", "done",
                          "expect", "start"},
                         "a scenario");
    // The runbook.
    if (const Field* f = Get(fields, "runbook")) {
      out_.runbook_mark = r_.At(f->v);
      if (auto s = WantScalar(r_, f->v, "runbook")) out_.runbook = *s;
      else return;
    } else {
      out_.runbook = ParentDirName(out_.path);
      out_.runbook_mark = Mark{1, 1};
    }
    if (const Field* f = Get(fields, "description")) {
      if (auto s = WantScalar(r_, f->v, "description", true)) out_.description = *s;
    }
    if (const Field* f = Get(fields, "duration")) {
      if (auto ms = Duration(f->v, "duration")) {
        if (*ms < 1000 || *ms > kMaxScenarioMs)
          r_.Error(ConfigKind::kScenarioDuration, f->v, fmt::format("duration must be from 1s to 30d, got {}", Quote(f->v.Scalar())));
        else out_.duration_ms = *ms;
      }
    }
    if (const Field* f = Get(fields, "start")) {
      // The wall-clock instant the rehearsal starts at: what `now()` reads at 0s.
      if (auto s = WantScalar(r_, f->v, "start")) {
        double seconds = 0;
        std::string why;
        if (lang::ParseTime(*s, seconds, why)) {
          out_.start_s = seconds;
        } else {
          r_.Error(ConfigKind::kScenarioValue, f->v,
                   fmt::format("start must be a time such as 2026-12-01T03:00:00Z (RFC 3339, UTC), got {}", Quote(*s)));
        }
      }
    }
    if (const Field* f = Get(fields, "tick")) {
      if (auto ms = Duration(f->v, "tick")) {
        if (*ms < 1000) r_.Error(ConfigKind::kScenarioDuration, f->v, fmt::format("tick must be at least 1s, got {}", Quote(f->v.Scalar())));
        else if (*ms > out_.duration_ms)
          r_.Error(ConfigKind::kScenarioDuration, f->v, fmt::format("tick {} is longer than the scenario's duration ({})", ShowMs(*ms), ShowMs(out_.duration_ms)));
        else out_.tick_ms = *ms;
      }
    } else if (out_.tick_ms > out_.duration_ms) {
      out_.tick_ms = out_.duration_ms;  // a scenario shorter than the default tick
    }
    if (!FindRunbook(Get(fields, "runbook") != nullptr)) return;
    CollectNames();
    if (const Field* f = Get(fields, "params")) Params(f->v);
    if (const Field* f = Get(fields, "probes")) Probes(f->v);
    if (const Field* f = Get(fields, "commands")) Commands(f->v);
    if (const Field* f = Get(fields, "answers")) Answers(f->v);
    if (const Field* f = Get(fields, "approvals")) Approvals(f->v, false);
    if (const Field* f = Get(fields, "done")) Approvals(f->v, true);
    if (const Field* f = Get(fields, "expect")) {
      Expect(f->v);
      if (out_.expect.key_marks.empty() && (f->v.IsNull() || (f->v.IsMap() && f->v.size() == 0))) {
        r_.Error(ConfigKind::kScenarioNoExpectations, f->k,
                 "`expect:` is empty: a scenario that checks nothing passes whatever the runbook does",
                 "say what the rehearsal must show, e.g. expect: {steps: [state], severity: P2} (docs/scenarios.md)");
      }
    } else {
      r_.Error(ConfigKind::kScenarioNoExpectations, Mark{1, 1},
               "this scenario has no `expect:`: a scenario that checks nothing passes whatever the runbook does",
               "add what the rehearsal must show, e.g. expect: {steps: [state], severity: P2} (docs/scenarios.md)");
    }
  }

 private:
  // ---- Names of the runbook ----------------------------------------------------------------------
  bool FindRunbook(bool written) {
    std::vector<std::string> names;
    for (size_t i = 0; i < p_.runbooks.size(); ++i) {
      const std::string& name = Str(p_.runbooks[i].name);
      names.push_back(name);
      if (name == out_.runbook) {
        rb_ = &p_.runbooks[i];
        rb_index_ = static_cast<uint32_t>(i);
      }
    }
    if (rb_) return true;
    std::string msg = written ? fmt::format("no runbook `{}` in the compiled program", out_.runbook)
                              : fmt::format("this scenario has no `runbook:` key and its directory `{}` names no runbook",
                                            out_.runbook);
    r_.Error(ConfigKind::kScenarioUnknownRunbook, out_.runbook_mark, msg, Hint(out_.runbook, names, "runbooks"),
             written ? static_cast<int>(out_.runbook.size()) : 0);
    return false;
  }

  const std::string& Str(uint32_t i) const {
    static const std::string kEmpty;
    return i < p_.strings.size() ? p_.strings[i] : kEmpty;
  }

  void CollectNames() {
    for (const auto& s : rb_->symptoms) symptoms_.push_back(Str(s.name));
    for (const auto& s : rb_->steps) steps_.push_back(Str(s.name));
    for (const auto& row : rb_->rows) rows_.push_back(Str(row.text));
    if (p_.policy) {
      for (const auto& row : p_.policy->rows) rows_.push_back(Str(row.text));
    }
    for (const auto& c : p_.contacts) contacts_.push_back(Str(c.name));
    // Questions: the operands of ASK in the runbook's and the policy's chunks.
    std::set<std::string> seen;
    for (const auto& chunk : p_.chunks) {
      if (chunk.owner != rb_index_ && chunk.owner != kPolicyOwner) continue;
      for (uint32_t w : chunk.code) {
        if (OpByte(w) != static_cast<uint8_t>(Op::kASK)) continue;
        uint32_t k = OperandA(w);
        if (k >= p_.constants.size() || p_.constants[k].type != ValueType::kString) continue;
        const std::string& q = Str(p_.constants[k].string);
        if (seen.insert(q).second) questions_.push_back(q);
      }
      InterpolatedQuestions(chunk);
    }
  }

  // An interpolated question (`ask "Is {node} drained?"`: CONCAT then ASK_TEXT) is known by its
  // pattern: literal pieces with a hole for each slot. A scenario answers it as the run asks it.
  void InterpolatedQuestions(const Chunk& chunk) {
    const auto& code = chunk.code;
    for (size_t pc = 2; pc < code.size(); ++pc) {
      if (OpByte(code[pc]) != static_cast<uint8_t>(Op::kASK_TEXT)) continue;
      if (OpByte(code[pc - 1]) != static_cast<uint8_t>(Op::kCONCAT)) continue;
      uint32_t n = OperandA(code[pc - 1]);
      std::vector<std::optional<std::string>> parts;  // nullopt: a slot
      size_t at = pc - 1;
      bool ok = true;
      for (uint32_t i = 0; i < n && ok; ++i) {
        if (at == 0) {
          ok = false;
          break;
        }
        uint32_t w = code[--at];
        uint8_t op = OpByte(w);
        if (op == static_cast<uint8_t>(Op::kCONST) && OperandA(w) < p_.constants.size() &&
            p_.constants[OperandA(w)].type == ValueType::kString) {
          parts.push_back(Str(p_.constants[OperandA(w)].string));
        } else if (op == static_cast<uint8_t>(Op::kTFIELD) && at > 0) {
          --at;  // its field name
          parts.push_back(std::nullopt);
        } else if (op == static_cast<uint8_t>(Op::kPARAM)) {
          parts.push_back(std::nullopt);
        } else {
          ok = false;
        }
      }
      if (!ok) {
        question_patterns_.push_back({std::nullopt});  // some slot is computed: any question may match
        continue;
      }
      std::reverse(parts.begin(), parts.end());
      question_patterns_.push_back(std::move(parts));
    }
  }

  static bool MatchesPattern(const std::string& q, const std::vector<std::optional<std::string>>& pattern) {
    // Literal pieces in order; a slot takes any text. Anchored at both ends.
    size_t pos = 0;
    bool hole = false;
    for (size_t i = 0; i < pattern.size(); ++i) {
      if (!pattern[i]) {
        hole = true;
        continue;
      }
      const std::string& lit = *pattern[i];
      bool last = i + 1 == pattern.size();
      size_t found = last ? (q.size() >= lit.size() && q.compare(q.size() - lit.size(), lit.size(), lit) == 0
                                 ? q.size() - lit.size()
                                 : std::string::npos)
                          : q.find(lit, pos);
      if (found == std::string::npos || found < pos || (!hole && found != pos)) return false;
      pos = found + lit.size();
      hole = false;
    }
    return hole || pos == q.size();
  }

  // ---- Scalars -----------------------------------------------------------------------------------
  std::optional<int64_t> Duration(const YAML::Node& n, std::string_view what) {
    auto s = WantScalar(r_, n, what);
    if (!s) return std::nullopt;
    auto ms = ParseDurationMs(*s);
    if (!ms) r_.Error(ConfigKind::kScenarioDuration, n, fmt::format("{}: expected a duration such as 5m or 90s, got {}", what, Quote(*s)));
    return ms;
  }

  // A time inside the scenario: 0s .. duration.
  std::optional<int64_t> Time(const YAML::Node& n) {
    auto ms = Duration(n, "at");
    if (!ms) return std::nullopt;
    if (*ms > out_.duration_ms) {
      r_.Error(ConfigKind::kScenarioTimeRange, n, fmt::format("at {} is after the end of the scenario (duration: {})", ShowMs(*ms), ShowMs(out_.duration_ms)));
      return std::nullopt;
    }
    return ms;
  }

  std::optional<bool> Bool(const YAML::Node& n, std::string_view what) {
    auto s = WantScalar(r_, n, what);
    if (!s) return std::nullopt;
    std::string err;
    auto v = ParseLiteral(*s, ValueType::kBool, err);
    if (!v) {
      r_.Error(ConfigKind::kScenarioValue, n, fmt::format("{}: {}", what, err));
      return std::nullopt;
    }
    return v->number != 0;
  }

  // `true` only: `timeout: true`, `unknown: true`.
  bool Flag(const YAML::Node& n, std::string_view what) {
    auto b = Bool(n, what);
    if (b && !*b) r_.Error(ConfigKind::kScenarioPointOutcome, n, fmt::format("`{}: false` says nothing: write `{}: true` or leave it out", what, what));
    return b.value_or(false);
  }

  // Points strictly increasing in time.
  bool InOrder(std::optional<int64_t>& last, int64_t at, const YAML::Node& at_node) {
    if (last && at <= *last) {
      r_.Error(ConfigKind::kScenarioTimeOrder, at_node, fmt::format("at {} does not come after the previous point ({}): list points in time order, one per time",
                                    ShowMs(at), ShowMs(*last)));
      return false;
    }
    last = at;
    return true;
  }

  // ---- Params ------------------------------------------------------------------------------------
  void Params(const YAML::Node& n) {
    if (!WantMap(r_, n, "params", "{queue: celery}")) return;
    std::vector<std::string> names;
    for (const auto& p : rb_->params) names.push_back(Str(p.name));
    for (const auto& f : Fields(r_, n, {}, "params")) {
      const Param* param = nullptr;
      for (const auto& p : rb_->params) {
        if (Str(p.name) == f.key) param = &p;
      }
      if (!param) {
        r_.Error(ConfigKind::kScenarioUnknownParam, f.k, fmt::format("no param `{}` in runbook {}", f.key, out_.runbook),
                 Hint(f.key, names, "params"));
        continue;
      }
      if (param->type == ValueType::kSecret || param->def == Param::Default::kSecret) {
        r_.Error(ConfigKind::kScenarioSecretParam, f.k, fmt::format("param `{}` is a secret: a scenario never holds secrets (commands show it as ***)", f.key));
        continue;
      }
      auto text = WantScalar(r_, f.v, fmt::format("param `{}`", f.key));
      if (!text) continue;
      std::string err;
      if (!ParseLiteral(*text, param->type, err)) {
        r_.Error(ConfigKind::kScenarioValue, f.v, fmt::format("param `{}` is {}: {}", f.key, LiteralTypePhrase(param->type), err));
        continue;
      }
      out_.params[f.key] = EnvParam{*text, r_.At(f.v), {}};
    }
  }

  // ---- Probes ------------------------------------------------------------------------------------
  const Target* FindTarget(const std::string& name) const {
    for (const auto& t : rb_->targets) {
      if (Str(t.name) == name) return &t;
    }
    if (p_.policy) {
      for (const auto& t : p_.policy->targets) {
        if (Str(t.name) == name) return &t;
      }
    }
    return nullptr;
  }

  void Probes(const YAML::Node& n) {
    if (!WantMap(r_, n, "probes", "redis.ping(): true")) return;
    std::set<std::string> seen;
    for (const auto& f : Fields(r_, n, {}, "probes")) {
      ProbeSeries ps;
      ps.key = f.key;
      ps.mark = r_.At(f.k);
      const NativeDecl* decl = ResolveProbe(f, ps);
      if (!decl) continue;
      // Probes are answered by binding: the runbook's and the policy's targets of one binding are one probe.
      std::string sig = ps.binding + "|" + ps.method + "(";
      for (const auto& a : ps.args) sig += fmt::format("{}:{}:{};", ValueTypeName(a.type), a.type == ValueType::kString ? a.Text().size() : 0, ToString(a));
      if (!seen.insert(sig).second) {
        r_.Error(ConfigKind::kScenarioDuplicateKey, f.k, fmt::format("probe `{}` is listed twice (the same binding, method and arguments): keep one", f.key));
        continue;
      }
      if (ProbeTimeline(f.v, *decl, ps)) out_.probes.push_back(std::move(ps));
    }
  }

  // The signature of method `name`: the host's (the stdlib's), else the one the program imports.
  const NativeDecl* MethodDecl(const std::string& name) {
    if (const NativeDecl* d = reg_.Method(name)) return d;
    for (const auto& im : p_.imports) {
      if (!im.IsMethod() || Str(im.name) != name) continue;
      NativeDecl d;
      d.name = name;
      d.effect = im.effect;
      d.params = im.params;
      d.result = im.result;
      return &method_decls_.emplace(name, std::move(d)).first->second;
    }
    return nullptr;
  }

  const NativeDecl* ResolveProbe(const Field& f, ProbeSeries& ps) {
    std::string err;
    auto key = ParseProbeKey(f.key, err);
    if (!key) {
      r_.Error(ConfigKind::kScenarioProbeKey, f.k, fmt::format("probe {}: {}", Quote(f.key), err),
               "write target.method(args) as the runbook does, e.g. redis.ping() or api.metric(\"name\")");
      return nullptr;
    }
    const Target* t = FindTarget(key->target);
    if (!t) {
      std::vector<std::string> names;
      for (const auto& x : rb_->targets) names.push_back(Str(x.name));
      if (p_.policy) {
        for (const auto& x : p_.policy->targets) {
          if (std::find(names.begin(), names.end(), Str(x.name)) == names.end()) names.push_back(Str(x.name));
        }
      }
      r_.Error(ConfigKind::kScenarioUnknownTarget, f.k, fmt::format("no target `{}` in runbook {} or the policy", key->target, out_.runbook),
               Hint(key->target, names, "targets"));
      return nullptr;
    }
    const std::string& cap = Str(t->capability);
    // A key names a method of the target's capability (`api.metric("x")`) or a native the
    // method bodies call against it (`api.prom("up")`); a method wins where both are spelled alike.
    std::string native = cap + "." + key->method;
    const NativeDecl* decl = MethodDecl(native);
    if (!decl) {
      decl = reg_.Native(key->method);
      if (decl && decl->is_filter) decl = nullptr;
      if (decl) native = key->method;
    }
    if (!decl) {
      std::vector<std::string> methods;
      std::string prefix = cap + ".";
      for (const auto& [name, d] : reg_.methods()) {
        if (name.rfind(prefix, 0) == 0) methods.push_back(name.substr(prefix.size()));
      }
      for (const auto& im : p_.imports) {
        const std::string& name = Str(im.name);
        if (im.IsMethod() && name.rfind(prefix, 0) == 0 &&
            std::find(methods.begin(), methods.end(), name.substr(prefix.size())) == methods.end()) {
          methods.push_back(name.substr(prefix.size()));
        }
      }
      for (const auto& [name, d] : reg_.natives()) {
        if (!d.is_filter) methods.push_back(name);
      }
      r_.Error(ConfigKind::kScenarioUnknownMethod, f.k, fmt::format("`{}` is a {} target and {} has no method `{}`", key->target, cap, cap, key->method),
               Hint(key->method, methods, "methods"));
      return nullptr;
    }
    if (key->args.size() != decl->params.size()) {
      std::vector<std::string> types;
      for (auto p : decl->params) types.push_back(ValueTypeName(p));
      r_.Error(ConfigKind::kScenarioProbeArgs, f.k, fmt::format("{} takes {} argument{} ({}), got {}", native, decl->params.size(),
                                decl->params.size() == 1 ? "" : "s", Join(types), key->args.size()));
      return nullptr;
    }
    bool ok = true;
    for (size_t i = 0; i < key->args.size(); ++i) {
      const ProbeArg& a = key->args[i];
      ValueType want = decl->params[i];
      if (want == ValueType::kString) {
        if (!a.quoted) {
          r_.Error(ConfigKind::kScenarioProbeArgs, f.k, fmt::format("argument {} of {} is text: quote it, e.g. \"{}\"", i + 1, native, a.text));
          ok = false;
        } else {
          ps.args.push_back(Value::String(a.text));
        }
        continue;
      }
      if (a.quoted) {
        r_.Error(ConfigKind::kScenarioProbeArgs, f.k, fmt::format("argument {} of {} is {}: write it without quotes, e.g. {}", i + 1, native, LiteralTypePhrase(want),
                                  LiteralTypeExample(want)));
        ok = false;
        continue;
      }
      std::string lerr;
      auto v = ParseLiteral(a.text, want, lerr);
      if (!v) {
        r_.Error(ConfigKind::kScenarioProbeArgs, f.k, fmt::format("argument {} of {}: {}", i + 1, native, lerr));
        ok = false;
        continue;
      }
      ps.args.push_back(std::move(*v));
    }
    if (!ok) return nullptr;
    ps.target = key->target;
    ps.binding = Str(t->binding);
    ps.method = native;
    return decl;
  }

  // A probe value of the method's result type.
  std::optional<Value> ProbeValue(const YAML::Node& n, const NativeDecl& decl, const std::string& key) {
    if (decl.result == ValueType::kLines && n.IsSequence()) {
      std::vector<std::string> lines;
      for (const auto& item : n) {
        if (!item.IsScalar()) {
          r_.Error(ConfigKind::kScenarioValue, item, fmt::format("{} returns lines: each entry must be one line of text, got {}", key, NodeKind(item)));
          return std::nullopt;
        }
        lines.push_back(item.Scalar());
      }
      return Value::Lines(std::move(lines));
    }
    if (!n.IsScalar()) {
      r_.Error(ConfigKind::kScenarioValue, n, fmt::format("{} returns {}: write {}, got {}", key, LiteralTypePhrase(decl.result), LiteralTypeExample(decl.result),
                              NodeKind(n)));
      return std::nullopt;
    }
    std::string err;
    auto v = ParseLiteral(n.Scalar(), decl.result, err);
    if (!v) {
      r_.Error(ConfigKind::kScenarioValue, n, fmt::format("{} returns {}: write {}, got {}", key, LiteralTypePhrase(decl.result), LiteralTypeExample(decl.result),
                              Quote(n.Scalar())));
    }
    return v;
  }

  bool ProbeTimeline(const YAML::Node& n, const NativeDecl& decl, ProbeSeries& ps) {
    size_t before = r_.count;
    if (n.IsScalar()) {
      if (auto v = ProbeValue(n, decl, ps.key)) ps.points.push_back(ProbePoint{0, ProbePoint::Kind::kValue, *v, "", r_.At(n)});
    } else if (n.IsMap()) {
      std::optional<int64_t> last;
      ProbePointFrom(n, decl, ps, false, last);
    } else if (n.IsSequence()) {
      bool all_scalars = n.size() > 0 || decl.result == ValueType::kLines;
      for (const auto& item : n) all_scalars = all_scalars && item.IsScalar();
      if (decl.result == ValueType::kLines && all_scalars) {
        if (auto v = ProbeValue(n, decl, ps.key)) ps.points.push_back(ProbePoint{0, ProbePoint::Kind::kValue, *v, "", r_.At(n)});
      } else if (n.size() == 0) {
        r_.Error(ConfigKind::kScenarioPointOutcome, n, fmt::format("probe {} has no points: give a value, or a list of {{at: 0s, value: ...}} points", ps.key));
      } else {
        std::optional<int64_t> last;
        for (const auto& item : n) {
          if (!item.IsMap()) {
            r_.Error(Common::kShape, item, fmt::format("each point of probe {} must be a mapping such as {{at: 1m, value: {}}}, got {}", ps.key,
                                       decl.result == ValueType::kLines ? "\"a line\"" : LiteralTypeExample(decl.result), NodeKind(item)));
            continue;
          }
          ProbePointFrom(item, decl, ps, true, last);
        }
      }
    } else {
      r_.Error(ConfigKind::kScenarioPointOutcome, n, fmt::format("probe {} has no value: give a value, or a list of {{at: 0s, value: ...}} points", ps.key));
    }
    return r_.count == before;
  }

  // When a timeline point starts: its `at:` (a time after the previous point's), or 0s when `at:`
  // may be left out. nullopt once the problem is reported.
  std::optional<int64_t> PointStart(const YAML::Node& n, const std::vector<Field>& fields, bool at_required,
                                    std::optional<int64_t>& last, const char* missing_at) {
    if (const Field* at = Get(fields, "at")) {
      auto t = Time(at->v);
      if (!t || !InOrder(last, *t, at->v)) return std::nullopt;
      return t;
    }
    if (at_required) {
      r_.Error(ConfigKind::kScenarioMissingKey, n, missing_at);
      return std::nullopt;
    }
    if (!InOrder(last, 0, n)) return std::nullopt;
    return 0;
  }

  void ProbePointFrom(const YAML::Node& n, const NativeDecl& decl, ProbeSeries& ps, bool at_required,
                      std::optional<int64_t>& last) {
    auto fields = Fields(r_, n, {"at", "value", "timeout", "error", "unknown"}, "a probe point");
    ProbePoint pt;
    pt.mark = r_.At(n);
    auto start = PointStart(n, fields, at_required, last, "a point in a list needs `at:`, the time it starts, e.g. at: 2m");
    if (!start) return;
    pt.at_ms = *start;
    int outcomes = 0;
    for (const char* k : {"value", "timeout", "error", "unknown"}) outcomes += Get(fields, k) ? 1 : 0;
    if (fields.size() != n.size()) return;  // a key was wrong: already reported
    if (outcomes != 1) {
      r_.Error(ConfigKind::kScenarioPointOutcome, n, fmt::format("a probe point gives exactly one of value, timeout, error or unknown; this one gives {}", outcomes));
      return;
    }
    if (const Field* f = Get(fields, "value")) {
      auto v = ProbeValue(f->v, decl, ps.key);
      if (!v) return;
      pt.kind = ProbePoint::Kind::kValue;
      pt.value = std::move(*v);
    } else if (const Field* f = Get(fields, "timeout")) {
      if (!Flag(f->v, "timeout")) return;
      pt.kind = ProbePoint::Kind::kTimeout;
      pt.reason = "timeout";
    } else if (const Field* f = Get(fields, "unknown")) {
      if (!Flag(f->v, "unknown")) return;
      pt.kind = ProbePoint::Kind::kUnknown;
      pt.reason = "unknown";
    } else if (const Field* f = Get(fields, "error")) {
      auto s = WantScalar(r_, f->v, "error");
      if (!s) return;
      if (Trim(*s).empty()) {
        r_.Error(ConfigKind::kScenarioValue, f->v, "error: give the error text, e.g. error: \"connection refused\"");
        return;
      }
      pt.kind = ProbePoint::Kind::kError;
      pt.reason = *s;
    }
    ps.points.push_back(std::move(pt));
  }

  // ---- Commands ----------------------------------------------------------------------------------
  void Commands(const YAML::Node& n) {
    if (!WantMap(r_, n, "commands", "redis-cli ping: {stdout: PONG}")) return;
    std::set<std::vector<std::string>> seen;
    for (const auto& f : Fields(r_, n, {}, "commands")) {
      CommandSeries cs;
      cs.key = f.key;
      cs.mark = r_.At(f.k);
      std::string err;
      auto argv = SplitArgv(f.key, err);
      if (!argv) {
        r_.Error(ConfigKind::kScenarioCommandKey, f.k, fmt::format("command {}: {}", Quote(f.key), err));
        continue;
      }
      if (argv->empty()) {
        r_.Error(ConfigKind::kScenarioCommandKey, f.k, "a command key is empty: write the command as the runbook runs it, e.g. redis-cli ping");
        continue;
      }
      if (!seen.insert(*argv).second) {
        r_.Error(ConfigKind::kScenarioDuplicateKey, f.k, fmt::format("command `{}` is listed twice: keep one", f.key));
        continue;
      }
      if (std::string slot = SlotIn(f.key); !slot.empty()) {
        r_.Error(ConfigKind::kScenarioCommandSlot, f.k, fmt::format("command `{}` holds `{{{}}}`: commands are matched as bound, so write its value "
                                  "(as `runbook plan` shows it) instead",
                                  f.key, slot));
        continue;
      }
      cs.argv = std::move(*argv);
      size_t before = r_.count;
      std::optional<int64_t> last;
      if (f.v.IsMap()) {
        CommandPointFrom(f.v, cs, false, last);
      } else if (f.v.IsSequence() && f.v.size() > 0) {
        for (const auto& item : f.v) {
          if (!item.IsMap()) {
            r_.Error(Common::kShape, item, fmt::format("each point of command `{}` must be a mapping such as {{at: 1m, stdout: PONG}}, got {}",
                                       f.key, NodeKind(item)));
            continue;
          }
          CommandPointFrom(item, cs, true, last);
        }
      } else {
        r_.Error(Common::kShape, f.v, fmt::format("command `{}` needs its output: a mapping such as {{stdout: PONG}} or a list of "
                                  "{{at: 1m, exit: 1, stderr: ...}} points, got {}",
                                  f.key, NodeKind(f.v)));
      }
      if (r_.count == before) out_.commands.push_back(std::move(cs));
    }
  }

  // The first `{name}` in `text` that names a param or target of the runbook, else "".
  std::string SlotIn(const std::string& text) const {
    for (size_t open = text.find('{'); open != std::string::npos; open = text.find('{', open + 1)) {
      size_t close = text.find('}', open);
      if (close == std::string::npos) break;
      std::string name = text.substr(open + 1, close - open - 1);
      for (const auto& p : rb_->params) {
        if (Str(p.name) == name) return name;
      }
      for (const auto& t : rb_->targets) {
        if (Str(t.name) == name) return name;
      }
    }
    return "";
  }

  void CommandPointFrom(const YAML::Node& n, CommandSeries& cs, bool at_required, std::optional<int64_t>& last) {
    auto fields = Fields(r_, n, {"at", "stdout", "stderr", "exit", "timeout"}, "a command point");
    CommandPoint pt;
    pt.mark = r_.At(n);
    auto start = PointStart(n, fields, at_required, last, "a point in a list needs `at:`, the time it starts, e.g. at: 2m");
    if (!start) return;
    pt.at_ms = *start;
    if (const Field* f = Get(fields, "stdout")) {
      auto s = WantScalar(r_, f->v, "stdout", true);
      if (!s) return;
      pt.out = *s;
    }
    if (const Field* f = Get(fields, "stderr")) {
      auto s = WantScalar(r_, f->v, "stderr", true);
      if (!s) return;
      pt.err = *s;
    }
    if (const Field* f = Get(fields, "exit")) {
      auto s = WantScalar(r_, f->v, "exit");
      if (!s) return;
      auto v = PlainNumber(Trim(*s));
      if (!v || *v != std::floor(*v) || *v > 255) {
        r_.Error(ConfigKind::kScenarioValue, f->v, fmt::format("exit: expected an exit status from 0 to 255, got {}", Quote(*s)));
        return;
      }
      pt.exit_code = static_cast<int>(*v);
    }
    if (const Field* f = Get(fields, "timeout")) {
      auto b = Bool(f->v, "timeout");
      if (!b) return;
      pt.timeout = *b;
    }
    cs.points.push_back(std::move(pt));
  }

  // ---- Answers -----------------------------------------------------------------------------------
  void Answers(const YAML::Node& n) {
    if (!WantMap(r_, n, "answers", "\"¿Data loss?\": no")) return;
    for (const auto& f : Fields(r_, n, {}, "answers")) {
      if (!CheckQuestion(f.key, f.k)) continue;
      std::optional<int64_t> last;
      if (f.v.IsScalar()) {
        if (auto b = Bool(f.v, "an answer")) out_.answers.push_back(AnswerPoint{f.key, 0, *b, r_.At(f.v)});
      } else if (f.v.IsMap()) {
        AnswerFrom(f.key, f.v, false, last);
      } else if (f.v.IsSequence() && f.v.size() > 0) {
        for (const auto& item : f.v) {
          if (!item.IsMap()) {
            r_.Error(Common::kShape, item, fmt::format("each answer in a list must be a mapping such as {{at: 2m, answer: yes}}, got {}",
                                       NodeKind(item)));
            continue;
          }
          AnswerFrom(f.key, item, true, last);
        }
      } else {
        r_.Error(ConfigKind::kScenarioValue, f.v, fmt::format("the answer to {} must be yes or no, or {{at: 2m, answer: yes}}, got {}", Quote(f.key),
                                  NodeKind(f.v)));
      }
    }
  }

  void AnswerFrom(const std::string& question, const YAML::Node& n, bool at_required, std::optional<int64_t>& last) {
    auto fields = Fields(r_, n, {"at", "answer"}, "an answer");
    AnswerPoint a;
    a.question = question;
    a.mark = r_.At(n);
    auto start = PointStart(n, fields, at_required, last, "an answer in a list needs `at:`, the time it is given, e.g. at: 2m");
    if (!start) return;
    a.at_ms = *start;
    const Field* ans = Get(fields, "answer");
    if (!ans) {
      r_.Error(ConfigKind::kScenarioMissingKey, n, "an answer needs `answer: yes` or `answer: no`");
      return;
    }
    auto b = Bool(ans->v, "answer");
    if (!b) return;
    a.answer = *b;
    out_.answers.push_back(std::move(a));
  }

  bool CheckQuestion(const std::string& q, const YAML::Node& at) {
    if (std::find(questions_.begin(), questions_.end(), q) != questions_.end()) return true;
    for (const auto& pattern : question_patterns_) {
      if (MatchesPattern(q, pattern)) return true;
    }
    r_.Error(ConfigKind::kScenarioUnknownQuestion, at, fmt::format("no condition of runbook {} or the policy asks {}", out_.runbook, Quote(q)),
             Hint(q, questions_, "questions asked"));
    return false;
  }

  // ---- Approvals and done ------------------------------------------------------------------------
  const Step* FindStep(const std::string& name) const {
    for (const auto& st : rb_->steps) {
      if (Str(st.name) == name) return &st;
    }
    return nullptr;
  }
  // A step nobody but a person completes: `manual`, or a body of instruction lines only.
  static bool NeedsPerson(const Step& st) {
    if (st.kind == StepKind::kManual) return true;
    if (st.items.empty()) return false;
    return std::all_of(st.items.begin(), st.items.end(), [](const StepItem& it) { return it.kind == StepItem::Kind::kText; });
  }

  // `approvals: {restart: {at: 1m, by: bob}}` / `done: {renew: {at: 12m, by: alice}}`: one entry or a
  // list of entries (one per walk of the step, in time order).
  void Approvals(const YAML::Node& n, bool done) {
    const char* key = done ? "done" : "approvals";
    if (!WantMap(r_, n, key, done ? "{renew_by_hand: {at: 12m, by: alice}}" : "{restart: {at: 1m, by: alice}}")) return;
    for (const auto& f : Fields(r_, n, {}, key)) {
      const Step* st = FindStep(f.key);
      if (!st) {
        CheckStep(f.key, f.k);
        continue;
      }
      std::string kind = lang::Name(st->kind);
      kind = (std::string("aeiou").find(kind[0]) != std::string::npos ? "an " : "a ") + kind;
      if (!done && st->kind != StepKind::kAction && st->kind != StepKind::kLastResort) {
        r_.Error(ConfigKind::kScenarioApprovalStep, f.k,
                 fmt::format("step `{}` is {} step: only action and last_resort steps wait for an approval", f.key, kind),
                 NeedsPerson(*st) ? fmt::format("to say a person did it, move it under `done:`") : "remove it from `approvals:`");
        continue;
      }
      if (done && !NeedsPerson(*st)) {
        r_.Error(ConfigKind::kScenarioDoneStep, f.k,
                 fmt::format("step `{}` is {} step with commands: it completes by itself, nobody says it is done", f.key, kind),
                 st->kind == StepKind::kAction || st->kind == StepKind::kLastResort
                     ? "to approve it, move it under `approvals:`"
                     : "remove it from `done:`; only a manual step, or one of instruction lines only, waits for a person");
        continue;
      }
      std::optional<int64_t> last;
      if (f.v.IsMap()) {
        ApprovalFrom(f.key, f.v, done, last);
      } else if (f.v.IsSequence() && f.v.size() > 0) {
        for (const auto& item : f.v) {
          if (!item.IsMap()) {
            r_.Error(Common::kShape, item, fmt::format("each entry of {}.{} must be a mapping such as {{at: 2m, by: alice}}, got {}", key,
                                                       f.key, NodeKind(item)));
            continue;
          }
          ApprovalFrom(f.key, item, done, last);
        }
      } else {
        r_.Error(Common::kShape, f.v, fmt::format("{}.{} must be a mapping such as {{at: 2m, by: alice}} or a list of them, got {}", key,
                                                  f.key, NodeKind(f.v)));
      }
    }
  }

  void ApprovalFrom(const std::string& step, const YAML::Node& n, bool done, std::optional<int64_t>& last) {
    auto fields = done ? Fields(r_, n, {"at", "by"}, "a done entry") : Fields(r_, n, {"at", "by", "approve"}, "an approval");
    ApprovalPoint a;
    a.step = step;
    a.mark = r_.At(n);
    auto start = PointStart(n, fields, false, last, "");
    if (!start) return;
    a.at_ms = *start;
    if (fields.size() != n.size()) return;  // a key was wrong: already reported
    const Field* by = Get(fields, "by");
    if (!by) {
      r_.Error(ConfigKind::kScenarioMissingKey, n,
               fmt::format("{} of step `{}` needs `by:`, who {} it, e.g. by: alice", done ? "a done entry" : "an approval", step,
                           done ? "did" : "approved"));
      return;
    }
    auto who = WantScalar(r_, by->v, "by");
    if (!who) return;
    if (Trim(*who).empty()) {
      r_.Error(ConfigKind::kScenarioValue, by->v, "by: name who it was, e.g. by: alice");
      return;
    }
    a.by = std::string(Trim(*who));
    if (const Field* ap = Get(fields, "approve")) {
      auto b = Bool(ap->v, "approve");
      if (!b) return;
      a.approved = *b;
    }
    (done ? out_.done : out_.approvals).push_back(std::move(a));
  }

  // ---- Expectations ------------------------------------------------------------------------------
  bool CheckName(const std::string& name, const YAML::Node& at, const std::vector<std::string>& names, std::string_view noun,
                 std::string_view owner) {
    if (std::find(names.begin(), names.end(), name) != names.end()) return true;
    r_.Error(ConfigKind::kScenarioUnknownName, at, fmt::format("no {} `{}` in {}", noun, name, owner),
             Hint(name, names, std::string(noun) + "s"));
    return false;
  }
  bool CheckStep(const std::string& s, const YAML::Node& at) {
    return CheckName(s, at, steps_, "step", fmt::format("runbook {}", out_.runbook));
  }
  bool CheckSymptom(const std::string& s, const YAML::Node& at) {
    return CheckName(s, at, symptoms_, "symptom", fmt::format("runbook {}", out_.runbook));
  }
  bool CheckContact(const std::string& s, const YAML::Node& at) {
    return CheckName(s, at, contacts_, "contact", "the policy");
  }
  bool CheckRow(const std::string& s, const YAML::Node& at) {
    if (std::find(rows_.begin(), rows_.end(), s) != rows_.end()) return true;
    r_.Error(ConfigKind::kScenarioUnknownName, at, fmt::format("no escalation row `{}` in runbook {} or the policy (a row is named by its `when` cell as "
                         "written)",
                         s, out_.runbook),
             Hint(s, rows_, "rows"));
    return false;
  }

  // A list of names, each checked by `check`.
  template <typename Check>
  std::optional<std::vector<std::string>> NameList(const YAML::Node& n, std::string_view what, std::string_view example,
                                                   Check check) {
    auto list = WantScalarList(r_, n, what, example);
    if (!list) return std::nullopt;
    std::vector<std::string> out;
    bool ok = true;
    for (auto& [name, node] : *list) {
      if (!check(name, node)) ok = false;
      out.push_back(name);
    }
    if (!ok) return std::nullopt;
    return out;
  }

  void Expect(const YAML::Node& n) {
    if (!WantMap(r_, n, "expect", "{severity: P2}")) return;
    Expectations& e = out_.expect;
    e.mark = r_.At(n);
    for (const auto& f : Fields(r_, n, {"symptoms", "steps", "skipped", "escalations", "pages", "severity", "pending"},
                                "expect")) {
      e.key_marks[f.key] = r_.At(f.k);
      if (f.key == "symptoms") {
        ExpectSymptoms(f.v);
      } else if (f.key == "steps") {
        ExpectSteps(f.v);
      } else if (f.key == "skipped") {
        e.skipped = NameList(f.v, "expect.skipped", "[restart]",
                             [&](const std::string& s, const YAML::Node& at) { return CheckStep(s, at); });
      } else if (f.key == "escalations") {
        ExpectRows(f.v);
      } else if (f.key == "pages") {
        ExpectPages(f.v);
      } else if (f.key == "severity") {
        if (auto s = WantScalar(r_, f.v, "expect.severity")) {
          if (lang::FromName<lang::Severity>(*s)) e.severity = *s;
          else r_.Error(ConfigKind::kScenarioValue, f.v, fmt::format("expect.severity must be {}, got {}", lang::ListOf<lang::Severity>(), Quote(*s)));
        }
      } else if (f.key == "pending") {
        ExpectPending(f.v);
      }
    }
  }

  void ExpectSymptoms(const YAML::Node& n) {
    if (n.IsNull()) return;
    if (!n.IsSequence()) {
      r_.Error(Common::kShape, n, fmt::format("expect.symptoms must be a list such as [{{at: 2m, hold: [ping_error]}}], got {}", NodeKind(n)));
      return;
    }
    for (const auto& item : n) {
      if (!item.IsMap()) {
        r_.Error(Common::kShape, item, fmt::format("each entry of expect.symptoms must be a mapping such as {{at: 2m, hold: [ping_error]}}, got {}",
                                   NodeKind(item)));
        continue;
      }
      auto fields = Fields(r_, item, {"at", "hold", "clear", "unknown"}, "a symptom check");
      SymptomExpect se;
      se.mark = r_.At(item);
      bool ok = true;
      if (const Field* at = Get(fields, "at")) {
        auto t = Time(at->v);
        if (t) se.at_ms = *t;
        else ok = false;
      } else {
        r_.Error(ConfigKind::kScenarioMissingKey, item, "a symptom check needs `at:`, the time to check, e.g. at: 2m");
        ok = false;
      }
      std::map<std::string, std::string> where;  // symptom → the list it is in
      for (const char* key : {"hold", "clear", "unknown"}) {
        const Field* f = Get(fields, key);
        if (!f) continue;
        auto list = WantScalarList(r_, f->v, fmt::format("`{}`", key), "[ping_error]");
        if (!list) {
          ok = false;
          continue;
        }
        auto& dest = std::string_view(key) == "hold" ? se.hold : std::string_view(key) == "clear" ? se.clear : se.unknown;
        for (auto& [name, node] : *list) {
          if (!CheckSymptom(name, node)) {
            ok = false;
            continue;
          }
          auto [it, inserted] = where.emplace(name, key);
          if (!inserted) {
            r_.Error(ConfigKind::kScenarioSymptomCheck, node, fmt::format("symptom `{}` is already in `{}` at this time", name, it->second));
            ok = false;
            continue;
          }
          dest.push_back(name);
        }
      }
      if (ok && se.hold.empty() && se.clear.empty() && se.unknown.empty() && fields.size() == item.size()) {
        r_.Error(ConfigKind::kScenarioSymptomCheck, item, "a symptom check names no symptom: add hold:, clear: or unknown: lists");
        ok = false;
      }
      if (ok) out_.expect.symptoms.push_back(std::move(se));
    }
  }

  // Optional `at` of an expectation entry.
  bool OptionalAt(const std::vector<Field>& fields, std::optional<int64_t>& at_ms) {
    const Field* at = Get(fields, "at");
    if (!at) return true;
    auto t = Time(at->v);
    if (!t) return false;
    at_ms = *t;
    return true;
  }

  void ExpectSteps(const YAML::Node& n) {
    std::vector<StepExpect> out;
    if (!n.IsNull() && !n.IsSequence()) {
      r_.Error(Common::kShape, n, fmt::format("expect.steps must be a list such as [{{step: state, status: ok}}], got {}", NodeKind(n)));
      return;
    }
    bool ok = true;
    for (const auto& item : n) {
      StepExpect se;
      se.mark = r_.At(item);
      if (item.IsScalar()) {
        se.step = item.Scalar();
        if (!CheckStep(se.step, item)) ok = false;
        out.push_back(std::move(se));
        continue;
      }
      if (!item.IsMap()) {
        r_.Error(Common::kShape, item, fmt::format("each entry of expect.steps must be a mapping such as {{step: state, status: ok}}, got {}",
                                   NodeKind(item)));
        ok = false;
        continue;
      }
      size_t before = r_.count;
      auto fields = Fields(r_, item, {"step", "at", "run", "status"}, "a step expectation");
      if (const Field* s = Get(fields, "step")) {
        if (auto v = WantScalar(r_, s->v, "step")) {
          se.step = *v;
          CheckStep(se.step, s->v);
        }
      } else {
        r_.Error(ConfigKind::kScenarioMissingKey, item, "a step expectation needs `step:`, the step's name");
      }
      OptionalAt(fields, se.at_ms);
      if (const Field* run = Get(fields, "run")) {
        if (auto list = WantScalarList(r_, run->v, "run", "[\"redis-cli ping\"]")) {
          std::vector<std::string> cmds;
          for (auto& [cmd, node] : *list) cmds.push_back(cmd);
          se.run = std::move(cmds);
        }
      }
      if (const Field* st = Get(fields, "status")) {
        if (auto v = WantScalar(r_, st->v, "status")) {
          if (lang::FromName<lang::StepStatus>(*v)) se.status = *v;
          else r_.Error(ConfigKind::kScenarioValue, st->v, fmt::format("status must be {}, got {}", lang::ListOf<lang::StepStatus>(), Quote(*v)));
        }
      }
      if (r_.count != before) ok = false;
      out.push_back(std::move(se));
    }
    if (ok) out_.expect.steps = std::move(out);
  }

  void ExpectRows(const YAML::Node& n) {
    std::vector<RowExpect> out;
    if (!n.IsNull() && !n.IsSequence()) {
      r_.Error(Common::kShape, n, fmt::format("expect.escalations must be a list such as [{{row: \"ping_error for > 5m\", at: 6m}}], got {}",
                              NodeKind(n)));
      return;
    }
    bool ok = true;
    for (const auto& item : n) {
      RowExpect re;
      re.mark = r_.At(item);
      size_t before = r_.count;
      if (item.IsScalar()) {
        re.row = lang::CollapseBlanks(item.Scalar());
        CheckRow(re.row, item);
      } else if (item.IsMap()) {
        auto fields = Fields(r_, item, {"row", "at"}, "an escalation expectation");
        if (const Field* row = Get(fields, "row")) {
          if (auto v = WantScalar(r_, row->v, "row")) {
            re.row = lang::CollapseBlanks(*v);
            CheckRow(re.row, row->v);
          }
        } else {
          r_.Error(ConfigKind::kScenarioMissingKey, item, "an escalation expectation needs `row:`, the row's `when` cell as written");
        }
        OptionalAt(fields, re.at_ms);
      } else {
        r_.Error(Common::kShape, item, fmt::format("each entry of expect.escalations must be a mapping such as {{row: \"ping_error for > 5m\", "
                                   "at: 6m}}, got {}",
                                   NodeKind(item)));
      }
      if (r_.count != before) ok = false;
      out.push_back(std::move(re));
    }
    if (ok) out_.expect.escalations = std::move(out);
  }

  void ExpectPages(const YAML::Node& n) {
    std::vector<PageExpect> out;
    if (!n.IsNull() && !n.IsSequence()) {
      r_.Error(Common::kShape, n, fmt::format("expect.pages must be a list such as [{{contact: sre, at: 6m}}], got {}", NodeKind(n)));
      return;
    }
    bool ok = true;
    for (const auto& item : n) {
      PageExpect pe;
      pe.mark = r_.At(item);
      size_t before = r_.count;
      if (item.IsScalar()) {
        pe.contact = item.Scalar();
        CheckContact(pe.contact, item);
      } else if (item.IsMap()) {
        auto fields = Fields(r_, item, {"contact", "at", "message"}, "a page expectation");
        if (const Field* m = Get(fields, "message")) {
          if (auto v = WantScalar(r_, m->v, "message")) pe.message = *v;
        }
        if (const Field* c = Get(fields, "contact")) {
          if (auto v = WantScalar(r_, c->v, "contact")) {
            pe.contact = *v;
            CheckContact(pe.contact, c->v);
          }
        } else {
          r_.Error(ConfigKind::kScenarioMissingKey, item, "a page expectation needs `contact:`, a contact of the policy");
        }
        OptionalAt(fields, pe.at_ms);
      } else {
        r_.Error(Common::kShape, item, fmt::format("each entry of expect.pages must be a mapping such as {{contact: sre, at: 6m}}, got {}",
                                   NodeKind(item)));
      }
      if (r_.count != before) ok = false;
      out.push_back(std::move(pe));
    }
    if (ok) out_.expect.pages = std::move(out);
  }

  void ExpectPending(const YAML::Node& n) {
    if (!WantMap(r_, n, "expect.pending", "{rows: [], steps: [], asks: []}")) return;
    PendingExpect pe;
    pe.mark = r_.At(n);
    for (const auto& f : Fields(r_, n, {"rows", "steps", "asks"}, "expect.pending")) {
      if (f.key == "rows") {
        auto list = WantScalarList(r_, f.v, "pending.rows", "['ask \"¿Data loss?\"']");
        if (!list) continue;
        std::vector<std::string> rows;
        for (auto& [row, node] : *list) {
          rows.push_back(lang::CollapseBlanks(row));
          CheckRow(rows.back(), node);
        }
        pe.rows = std::move(rows);
      } else if (f.key == "steps") {
        pe.steps = NameList(f.v, "pending.steps", "[restart]",
                            [&](const std::string& s, const YAML::Node& at) { return CheckStep(s, at); });
      } else if (f.key == "asks") {
        pe.asks = NameList(f.v, "pending.asks", "[\"¿Data loss?\"]",
                           [&](const std::string& s, const YAML::Node& at) { return CheckQuestion(s, at); });
      }
    }
    out_.expect.pending = std::move(pe);
  }

  Reader& r_;
  const Program& p_;
  const Registry& reg_;
  std::map<std::string, NativeDecl> method_decls_;  // methods known from the program's imports
  Scenario& out_;
  const Runbook* rb_ = nullptr;
  uint32_t rb_index_ = 0;
  std::vector<std::string> symptoms_, steps_, rows_, contacts_, questions_;
  std::vector<std::vector<std::optional<std::string>>> question_patterns_;  // interpolated questions
};

std::string ScenarioName(const std::string& path) {
  std::string name = FileName(path);
  for (std::string_view suffix : {".scenario.yaml", ".scenario.yml", ".yaml", ".yml"}) {
    if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      return name.substr(0, name.size() - suffix.size());
    }
  }
  return name;
}

}  // namespace

bool LoadScenario(const std::string& path, const Program& program, const Registry& registry, Scenario& out,
                  std::vector<ConfigError>& errors) {
  Reader r(path, Family::kScenario, errors);
  out = Scenario{};
  out.path = path;
  out.name = ScenarioName(path);
  std::string text;
  try {
    auto root = ReadRoot(path, kScenarioLimit, r, text, "the scenario is",
                         "a scenario is a mapping of keys such as probes:, commands: and expect:",
                         "probes:, commands: and expect: (see docs/scenarios.md)");
    if (!root) return false;
    ScenarioLoader(r, program, registry, out).Load(*root);
  } catch (const YAML::Exception& e) {  // yaml-cpp says where: the error names file:line:col
    r.Error(Common::kYaml, e.mark.is_null() ? Mark{1, 1} : r.At(e.mark), fmt::format("cannot read the YAML: {}", e.msg));
  } catch (const std::exception& e) {
    r.Error(Common::kYaml, Mark{1, 1}, fmt::format("cannot read the YAML: {}", e.what()));
  }
  return !r.failed;
}

std::string CommandKeyText(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& w : argv) {
    if (!out.empty()) out += ' ';
    bool plain = !w.empty() && w.find_first_of(" \t\"'\\") == std::string::npos;
    if (plain) {
      out += w;
      continue;
    }
    out += '"';
    for (char c : w) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out;
}

std::string ProbeKeyText(const std::string& target, const std::string& method, const std::vector<Value>& args) {
  size_t dot = method.rfind('.');
  std::string out = target + "." + (dot == std::string::npos ? method : method.substr(dot + 1)) + "(";
  for (size_t i = 0; i < args.size(); ++i) {
    if (i) out += ", ";
    const Value& a = args[i];
    if (a.type == ValueType::kString) {
      out += '"';
      for (char c : a.Text()) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
      }
      out += '"';
    } else {
      out += ToString(a);
    }
  }
  return out + ")";
}

namespace {

// The nearest of `asked` (what the run did ask) to `key`, as a hint; "" when nothing is close.
std::string Nearest(const std::string& key, const std::set<std::string>& asked, std::string_view noun) {
  std::vector<std::string> candidates(asked.begin(), asked.end());
  candidates.erase(std::remove(candidates.begin(), candidates.end(), key), candidates.end());
  if (candidates.empty()) return fmt::format("the run asked for no {}", noun);
  return Hint(key, candidates, fmt::format("{} the run asked for", noun));
}

}  // namespace

std::vector<ConfigError> UnreadKeys(const Scenario& s, const ScenarioReads& reads) {
  std::vector<ConfigError> out;
  auto warn = [&](ConfigKind kind, Mark mark, std::string message, std::string hint) {
    out.emplace_back(s.path, mark, std::move(message), kind, std::move(hint));
  };
  for (size_t i = 0; i < s.probes.size(); ++i) {
    if (reads.probes.count(i)) continue;
    const auto& p = s.probes[i];
    warn(ConfigKind::kScenarioUnreadProbe, p.mark, fmt::format("probe `{}` is never read by this rehearsal", p.key),
         Nearest(ProbeKeyText(p.target, p.method, p.args), reads.probes_asked, "probes"));
  }
  for (size_t i = 0; i < s.commands.size(); ++i) {
    if (reads.commands.count(i)) continue;
    const auto& c = s.commands[i];
    warn(ConfigKind::kScenarioUnreadCommand, c.mark, fmt::format("command `{}` is never run by this rehearsal", c.key),
         Nearest(CommandKeyText(c.argv), reads.commands_asked, "commands"));
  }
  std::set<std::string> said;  // one warning per question
  for (size_t i = 0; i < s.answers.size(); ++i) {
    const auto& a = s.answers[i];
    if (reads.answers.count(i)) continue;
    bool asked = reads.questions_asked.count(a.question) > 0;
    if (!said.insert(a.question + "|" + std::to_string(a.at_ms)).second) continue;
    warn(ConfigKind::kScenarioUnreadAnswer, a.mark,
         asked ? fmt::format("the answer to {} at {} is never read: the run stopped asking before then", Quote(a.question), ShowMs(a.at_ms))
               : fmt::format("the answer to {} is never read: the run never asks it", Quote(a.question)),
         asked ? std::string("give it earlier, or remove it") : Nearest(a.question, reads.questions_asked, "questions"));
  }
  for (bool done : {false, true}) {
    const auto& points = done ? s.done : s.approvals;
    const auto& read = done ? reads.done : reads.approvals;
    const auto& asked_steps = done ? reads.done_steps_asked : reads.approval_steps_asked;
    for (size_t i = 0; i < points.size(); ++i) {
      if (read.count(i)) continue;
      const auto& a = points[i];
      bool asked = asked_steps.count(a.step) > 0;
      std::string what = done ? fmt::format("{} saying step `{}` is done at {}", a.by, a.step, ShowMs(a.at_ms))
                              : fmt::format("the {} of step `{}` by {} at {}", a.approved ? "approval" : "denial", a.step, a.by,
                                            ShowMs(a.at_ms));
      warn(done ? ConfigKind::kScenarioUnreadDone : ConfigKind::kScenarioUnreadApproval, a.mark,
           fmt::format("{} is never read: {}", what,
                       asked ? "the run stopped asking before then" : done ? "the run never waits on this step" : "the run never asks to approve this step"),
           asked ? std::string("give it earlier, or remove it") : Nearest(a.step, asked_steps, "steps"));
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const ConfigError& a, const ConfigError& b) {
    return a.mark.line != b.mark.line ? a.mark.line < b.mark.line : a.mark.col < b.mark.col;
  });
  return out;
}

bool IsScenarioFileName(const std::string& path) {
  std::string name = FileName(path);
  for (std::string_view suffix : {".scenario.yaml", ".scenario.yml"}) {
    if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) return true;
  }
  return false;
}

}  // namespace rb::rt
