#include "runtime/binding.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <tuple>

namespace rb::rt {

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

namespace {


std::vector<BoundTarget> BindTargets(const Program& p, const std::vector<Target>& targets, const Environment* env,
                                     std::vector<ConfigError>& errors) {
  std::vector<BoundTarget> out;
  for (const auto& t : targets) {
    BoundTarget b{p.Str(t.name), p.Str(t.capability), p.Str(t.binding), "", {}};
    if (env) {
      auto it = env->targets.find(b.binding);
      if (it != env->targets.end()) {
        b.address = it->second.address;
        b.fields = it->second.fields;
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

std::optional<std::string> TargetFieldValue(const BoundTarget& target, const std::string& field) {
  auto extra = target.fields.find(field);
  if (extra != target.fields.end()) return extra->second;
  const std::string& a = target.address;
  if (a.empty()) return std::nullopt;
  if (field.empty() || field == "address") {  // shown to people: never the password of user:password@
    size_t scheme = a.find("://");
    size_t start = scheme == std::string::npos ? 0 : scheme + 3;
    size_t at = a.find('@', start), slash = a.find('/', start);
    if (at != std::string::npos && (slash == std::string::npos || at < slash)) {
      size_t colon = a.find(':', start);
      if (colon != std::string::npos && colon < at) return a.substr(0, colon) + a.substr(at);
    }
    return a;
  }
  // scheme://user@host:port/path, each part optional but the host.
  std::string scheme, user, host, port, path;
  std::string rest = a;
  size_t sep = rest.find("://");
  if (sep != std::string::npos) {
    scheme = rest.substr(0, sep);
    rest = rest.substr(sep + 3);
  }
  size_t slash = rest.find('/');
  if (slash != std::string::npos) {
    path = rest.substr(slash);
    rest = rest.substr(0, slash);
  }
  size_t at = rest.rfind('@');
  if (at != std::string::npos) {
    user = rest.substr(0, at);
    size_t colon = user.find(':');
    if (colon != std::string::npos) user = user.substr(0, colon);  // never the password
    rest = rest.substr(at + 1);
  }
  size_t colon = rest.rfind(':');
  if (!rest.empty() && rest[0] == '[') {  // [::1]:6379
    size_t close = rest.find(']');
    colon = close != std::string::npos && close + 1 < rest.size() && rest[close + 1] == ':' ? close + 1 : std::string::npos;
  }
  if (colon != std::string::npos) {
    port = rest.substr(colon + 1);
    rest = rest.substr(0, colon);
  }
  host = rest;
  const std::string* v = field == "host"     ? &host
                         : field == "port"   ? &port
                         : field == "scheme" ? &scheme
                         : field == "user"   ? &user
                         : field == "path"   ? &path
                                             : nullptr;
  if (!v || v->empty()) return std::nullopt;
  return *v;
}

std::string LetWord(const Value& v) {
  if (v.type == ValueType::kString) return v.Text();
  if (v.type == ValueType::kLines) {  // `output |> tail(1)`: the line itself, lines joined by newlines
    std::string s = ToString(v);
    if (!s.empty() && s.back() == '\n') s.pop_back();
    return s;
  }
  return ToString(v);
}

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
      if (!e->fleet.empty()) {  // a fleet's list: one value per run (runbook run), none here
        for (const auto& value : e->fleet) {
          std::string error;
          if (!ParseLiteral(value, p.type, error)) {
            b.errors.push_back(ConfigError{file, e->mark, fmt::format("param `{}` of {}: {}: {}", bp.name, rname, value, error)});
          }
        }
        break;
      }
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

std::string SecretMarker(const std::string& name) { return std::string(1, kSecretMark) + name + std::string(1, kSecretMark); }

BoundCommand BindCommand(const Program& program, const Registry& registry, uint32_t runbook, const Command& command,
                         const Bindings& bindings, const std::vector<Value>* lets) {
  BoundCommand out;
  out.effect = command.effect;
  out.rule = program.Str(command.rule);
  for (const auto& word : command.argv) {
    std::string w;
    std::string sw;  // the word with each secret as a marker, for live runs
    auto both = [&](const std::string& text) {
      w += text;
      sw += text;
    };
    for (const auto& part : word) {
      switch (part.kind) {
        case WordPart::Kind::kLiteral: both(program.Str(part.value)); break;
        case WordPart::Kind::kParam: {
          const BoundParam& p = bindings.params.at(part.value);
          if (p.value.type == ValueType::kSecret) out.has_secret = true;
          if (p.value.IsUnknown()) {
            out.unbound = true;
            both("{" + p.name + "}");
          } else if (p.value.type == ValueType::kSecret) {
            w += ToString(p.value);
            sw += SecretMarker(p.value.heap ? p.value.heap->text : std::string());
          } else {
            both(ToString(p.value));
          }
          break;
        }
        case WordPart::Kind::kTarget: {
          const BoundTarget& t = bindings.targets.at(part.value);
          both(t.address.empty() ? t.binding : t.address);
          break;
        }
        case WordPart::Kind::kTargetField: {
          const BoundTarget& t = bindings.targets.at(part.value);
          const std::string& field = program.Str(part.field);
          if (std::optional<std::string> v = TargetFieldValue(t, field)) {
            both(*v);
          } else {
            out.unbound = true;  // shown as written; never run
            both("{" + t.name + "." + field + "}");
          }
          break;
        }
        case WordPart::Kind::kLet: {
          const Let& l = program.runbooks.at(runbook).lets.at(part.value);
          const std::string& name = program.Str(l.name);
          const Value* v = lets && part.value < lets->size() ? &(*lets)[part.value] : nullptr;
          if (!v || v->IsUnknown()) {
            if (std::find(out.unknown_lets.begin(), out.unknown_lets.end(), name) == out.unknown_lets.end()) {
              out.unknown_lets.push_back(name);
            }
            both("{" + name + "}");
          } else if (v->type == ValueType::kSecret) {
            out.has_secret = true;
            w += LetWord(*v);
            sw += SecretMarker(v->heap ? v->heap->text : std::string());
          } else {
            both(LetWord(*v));
          }
          break;
        }
      }
    }
    out.argv.push_back(std::move(w));
    out.secret_argv.push_back(std::move(sw));
  }
  // The effect the compiler derived matched slots on their defaults; the bound words decide now.
  if (!out.argv.empty() && !out.unbound && out.unknown_lets.empty()) {
    const ProgramDecl* decl = registry.Program(out.argv[0]);
    std::optional<CommandMatch> m;
    if (decl) {
      std::vector<std::optional<std::string>> words(out.argv.begin() + 1, out.argv.end());
      // A wrapper's inner program: the host's table, else the one the program carries if the host trusts it.
      const ProgramLookup lookup = [&](const std::string& name) -> const ProgramDecl* {
        const ProgramDecl* t = registry.Program(name);
        if (!t && registry.TrustsCarriedTables()) t = program.ProgramTable(name);
        return t;
      };
      if (CommandMatch found = MatchCommand(*decl, words, lookup); found.declared) m = std::move(found);
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

std::vector<std::string> ScenarioKeyArgv(const Program& program, const Registry& registry, uint32_t runbook,
                                         const Command& command, const Bindings* key_bindings, const std::vector<Value>* lets) {
  if (!key_bindings) return {};
  // A param only the environment gives has no value here: the key is then matched on the words as run.
  for (const auto& word : command.argv) {
    for (const auto& part : word) {
      if (part.kind == WordPart::Kind::kParam && part.value < key_bindings->params.size() &&
          key_bindings->params[part.value].value.IsUnknown()) {
        return {};
      }
    }
  }
  // A `{target.field}` has no value without an environment: it stays as written, `{redis.host}`.
  return BindCommand(program, registry, runbook, command, *key_bindings, lets).argv;
}

}  // namespace rb::rt
