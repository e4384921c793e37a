#include "runtime/environment.hpp"

#include <fmt/format.h>

#include <filesystem>

#include "runtime/config.hpp"  // ParseDurationMs
#include "runtime/yaml_reader.hpp"

namespace rb::rt {

using namespace cfg;

namespace {

void LoadTargets(Reader& r, const YAML::Node& n, Environment& out) {
  if (!WantMap(r, n, "targets", "redis: {capability: redis, address: \"redis://127.0.0.1:6379\"}")) return;
  for (const auto& f : Fields(r, n, {}, "targets")) {
    std::string what = fmt::format("target `{}`", f.key);
    if (!f.v.IsMap()) {
      r.Error(Common::kShape, f.v, fmt::format("{} must be a mapping such as {{capability: redis, address: \"redis://127.0.0.1:6379\"}}, got {}",
                               what, NodeKind(f.v)));
      continue;
    }
    EnvTarget t;
    t.name = f.key;
    t.mark = r.At(f.k);
    // Keys besides capability and address are the target's own fields, read by {target.field}.
    auto fields = Fields(r, f.v, {}, fmt::format("target `{}`", f.key));
    for (const auto& extra : fields) {
      if (extra.key == "capability" || extra.key == "address") continue;
      // A key spelled like one of the two is a typo, not a field (`adress:`).
      std::string near = Hint(extra.key, {"capability", "address"}, "allowed");
      if (near.rfind("did you mean", 0) == 0) {
        r.Error(Common::kUnknownKey, extra.k, fmt::format("unknown key `{}` in {}", extra.key, what),
                fmt::format("{} other keys are the target's fields, read by {{{}.FIELD}}", near, f.key));
        continue;
      }
      if (auto s = WantScalar(r, extra.v, fmt::format("{}'s {}", what, extra.key))) t.fields[extra.key] = *s;
    }
    if (const Field* c = Get(fields, "capability")) {
      if (auto s = WantScalar(r, c->v, what + "'s capability")) t.capability = *s;
    }
    if (const Field* a = Get(fields, "address")) {
      if (auto s = WantScalar(r, a->v, what + "'s address")) t.address = *s;
    } else {
      r.Error(ConfigKind::kEnvMissingAddress, f.k, fmt::format("{} has no address", what),
              "add one, e.g. address: \"http://127.0.0.1:8084\"");
    }
    out.targets[f.key] = std::move(t);
  }
}

void LoadParams(Reader& r, const YAML::Node& n, Environment& out) {
  if (!WantMap(r, n, "params", "\"*\": {ns: denis}")) return;
  for (const auto& f : Fields(r, n, {}, "params")) {
    std::string what = f.key == "*" ? std::string("params for every runbook (\"*\")") : fmt::format("params of runbook `{}`", f.key);
    if (!f.v.IsMap()) {
      if (!f.v.IsNull())
        r.Error(Common::kShape, f.v, fmt::format("{} must be a mapping of param: value such as {{ns: denis}}, got {}", what, NodeKind(f.v)));
      out.params[f.key];
      out.params_marks[f.key] = r.At(f.k);
      continue;
    }
    auto& params = out.params[f.key];
    out.params_marks[f.key] = r.At(f.k);
    for (const auto& p : Fields(r, f.v, {}, what)) {
      if (p.v.IsSequence()) {  // a fleet: one run per value
        EnvParam fleet{"", r.At(p.v), {}};
        for (const auto& item : p.v) {
          if (auto s = WantScalar(r, item, fmt::format("a value of param `{}`", p.key))) fleet.fleet.push_back(*s);
        }
        if (fleet.fleet.empty()) {
          r.Error(ConfigKind::kEnvValue, p.v, fmt::format("param `{}` is an empty list", p.key),
                  "list the fleet's members, e.g. nodes: [node-1, node-2], or give one value");
          continue;
        }
        params[p.key] = std::move(fleet);
        out.param_key_marks[f.key][p.key] = r.At(p.k);
        continue;
      }
      if (auto s = WantScalar(r, p.v, fmt::format("param `{}`", p.key))) {
        params[p.key] = EnvParam{*s, r.At(p.v), {}};
        out.param_key_marks[f.key][p.key] = r.At(p.k);
      }
    }
  }
}

void LoadContacts(Reader& r, const YAML::Node& n, Environment& out) {
  if (!WantMap(r, n, "contacts", "sre: {slack: \"#sre-oncall\", pager: sre-primary}")) return;
  for (const auto& f : Fields(r, n, {}, "contacts")) {
    std::string what = fmt::format("contact `{}`", f.key);
    EnvContact c;
    c.name = f.key;
    c.mark = r.At(f.k);
    if (!f.v.IsMap() && !f.v.IsNull()) {
      r.Error(Common::kShape, f.v, fmt::format("{} must be a mapping of channel: address such as {{slack: \"#sre-oncall\"}}, got {}", what,
                               NodeKind(f.v)));
      continue;
    }
    // The channel kinds are a fixed set, so a misspelt one (`slak:`) is an unknown key, not a channel.
    for (const auto& ch : Fields(r, f.v, {"slack", "pager", "phone", "email", "sms", "webhook"}, what)) {
      if (auto s = WantScalar(r, ch.v, fmt::format("{}'s {} channel", what, ch.key))) c.channels.push_back(EnvChannel{ch.key, *s});
    }
    out.contacts[f.key] = std::move(c);
  }
}

void LoadExec(Reader& r, const YAML::Node& n, Environment& out) {
  if (!WantMap(r, n, "exec", "{allow: [kubectl, redis-cli]}")) return;
  auto fields = Fields(r, n, {"allow", "path", "env", "pass"}, "exec");
  if (const Field* p = Get(fields, "path")) {
    out.exec_path.clear();
    if (auto list = WantScalarList(r, p->v, "exec.path", "[/usr/local/bin, /usr/bin, /bin]")) {
      for (auto& [dir, node] : *list) {
        if (dir.empty() || dir[0] != '/') {
          r.Error(ConfigKind::kEnvValue, node, fmt::format("exec.path lists absolute folders such as /usr/bin, got {}", Quote(dir)));
          continue;
        }
        out.exec_path.push_back(dir);
      }
    }
  }
  if (const Field* e = Get(fields, "env")) {
    if (WantMap(r, e->v, "exec.env", "{KUBECONFIG: /etc/runbook/kubeconfig}")) {
      for (const auto& v : Fields(r, e->v, {}, "exec.env")) {
        if (auto s = WantScalar(r, v.v, fmt::format("exec.env's {}", v.key), true)) out.exec_env.emplace_back(v.key, *s);
      }
    }
  }
  if (const Field* p = Get(fields, "pass")) {
    out.exec_pass.clear();
    if (auto list = WantScalarList(r, p->v, "exec.pass", "[HOME, LANG]")) {
      for (auto& [name, node] : *list) out.exec_pass.push_back(name);
    }
  }
  if (const Field* a = Get(fields, "allow")) {
    out.exec_allow_given = true;
    if (auto list = WantScalarList(r, a->v, "exec.allow", "[redis-cli, kubectl, curl]")) {
      for (auto& [name, node] : *list) {
        if (Trim(name).empty() || name.find_first_of(" \t/") != std::string::npos) {
          r.Error(ConfigKind::kEnvValue, node, fmt::format("exec.allow lists program names such as kubectl, got {}", Quote(name)));
          continue;
        }
        out.exec_allow.push_back(name);
      }
    }
  }
}

void LoadSecrets(Reader& r, const YAML::Node& n, Environment& out) {
  if (!WantMap(r, n, "secrets", "NEO4J_PASSWORD: {env: NEO4J_PASSWORD}")) return;
  for (const auto& f : Fields(r, n, {}, "secrets")) {
    std::string what = fmt::format("secret `{}`", f.key);
    if (!f.v.IsMap()) {
      r.Error(Common::kShape, f.v, fmt::format("{} must be a mapping such as {{env: {}}} or {{file: /run/secrets/name}}, got {}", what, f.key,
                               NodeKind(f.v)));
      continue;
    }
    auto fields = Fields(r, f.v, {"env", "file"}, what);
    const Field* env = Get(fields, "env");
    const Field* file = Get(fields, "file");
    if ((env != nullptr) == (file != nullptr)) {
      if (fields.size() == f.v.size())  // no other error was reported for this secret
        r.Error(ConfigKind::kEnvSecretSource, f.v, fmt::format("{} needs exactly one source: env: VARIABLE or file: /path", what));
      continue;
    }
    const Field* src = env ? env : file;
    auto s = WantScalar(r, src->v, fmt::format("{}'s {}", what, src->key));
    if (!s) continue;
    if (Trim(*s).empty()) {
      r.Error(ConfigKind::kEnvSecretSource, src->v, fmt::format("{}'s {} is empty", what, src->key));
      continue;
    }
    out.secrets[f.key] = EnvSecret{f.key, src->key + ":" + *s, r.At(f.k)};
  }
}

void LoadState(Reader& r, const YAML::Node& n, Environment& out) {
  if (!WantMap(r, n, "state", "{store: file, path: .runbook/state.json}")) return;
  auto fields = Fields(r, n, {"store", "path", "address", "auth", "timeout", "prefix"}, "state");
  if (const Field* s = Get(fields, "store")) {
    if (auto v = WantScalar(r, s->v, "state.store")) {
      if (*v == "file" || *v == "memory" || *v == "redis") {
        out.state.store = *v;
      } else {
        r.Error(ConfigKind::kEnvValue, s->v, fmt::format("state.store must be file, memory or redis, got {}", Quote(*v)));
      }
    }
  }
  for (const char* key : {"address", "auth", "prefix"}) {
    if (const Field* f = Get(fields, key)) {
      if (auto v = WantScalar(r, f->v, fmt::format("state.{}", key))) {
        std::string& to = std::string(key) == "address" ? out.state.address : std::string(key) == "auth" ? out.state.auth : out.state.prefix;
        to = *v;
      }
    }
  }
  if (const Field* f = Get(fields, "timeout")) {
    if (auto v = WantScalar(r, f->v, "state.timeout")) {
      std::optional<int64_t> ms = ParseDurationMs(*v);
      if (ms && *ms > 0) out.state.timeout_ms = *ms;
      else r.Error(ConfigKind::kEnvValue, f->v, fmt::format("state.timeout must be a duration such as 500ms, got {}", Quote(*v)));
    }
  }
  if (out.state.store == "redis" && out.state.address.rfind("redis://", 0) != 0) {
    const YAML::Node& at = Get(fields, "address") ? Get(fields, "address")->v : n;
    r.Error(ConfigKind::kEnvValue, at,
            out.state.address.empty() ? std::string("state.store redis needs state.address")
                                      : fmt::format("state.address must be redis://HOST:PORT[/DB], got {}", Quote(out.state.address)),
            "e.g. state: {store: redis, address: \"redis://10.0.4.5:6379/2\", auth: STATE_REDIS_PASSWORD}");
  }
  if (const Field* p = Get(fields, "path")) {
    if (auto v = WantScalar(r, p->v, "state.path")) {
      if (Trim(*v).empty()) r.Error(ConfigKind::kEnvValue, p->v, "state.path is empty", "give a file such as .runbook/state.json");
      else out.state.path = *v;
    }
  }
}

// `audit: {path: FILE, stream: NAME}` and `locks: {path: DIR}`: where live runs keep their log and
// their locks.
void LoadPathOf(Reader& r, const YAML::Node& n, const char* key, const char* example, std::string& out,
                std::string* stream = nullptr, int64_t* ttl = nullptr) {
  std::string shape = fmt::format("{{path: {}}}", example);
  if (!WantMap(r, n, key, shape)) return;
  auto fields = stream != nullptr ? Fields(r, n, {"path", "stream"}, key)
                : ttl != nullptr  ? Fields(r, n, {"path", "ttl"}, key)
                                  : Fields(r, n, {"path"}, key);
  if (ttl != nullptr) {
    if (const Field* t = Get(fields, "ttl")) {
      if (auto v = WantScalar(r, t->v, "locks.ttl")) {
        std::optional<int64_t> ms = ParseDurationMs(*v);
        if (ms && *ms >= 300) *ttl = *ms;
        else r.Error(ConfigKind::kEnvValue, t->v, fmt::format("locks.ttl must be a duration of at least 300ms, got {}", Quote(*v)));
      }
    }
  }
  if (stream != nullptr) {
    if (const Field* s = Get(fields, "stream")) {
      if (auto v = WantScalar(r, s->v, "audit.stream")) *stream = *v;
    }
  }
  if (const Field* p = Get(fields, "path")) {
    std::string what = fmt::format("{}.path", key);
    if (auto v = WantScalar(r, p->v, what)) {
      if (Trim(*v).empty()) r.Error(ConfigKind::kEnvValue, p->v, what + " is empty", fmt::format("give a path such as {}", example));
      else out = *v;
    }
  }
}

// `delivery: {slack: {webhook: SECRET}, pagerduty: {routing_key: SECRET, url: URL}, deadline: 20s}`.
void LoadDelivery(Reader& r, const YAML::Node& n, Environment& out) {
  if (!WantMap(r, n, "delivery", "{slack: {webhook: SLACK_WEBHOOK_URL}, pagerduty: {routing_key: PD_ROUTING_KEY}}")) return;
  auto fields = Fields(r, n, {"slack", "pagerduty", "deadline"}, "delivery");
  if (const Field* f = Get(fields, "slack")) {
    if (WantMap(r, f->v, "delivery.slack", "{webhook: SLACK_WEBHOOK_URL}")) {
      auto sf = Fields(r, f->v, {"webhook"}, "delivery.slack");
      if (const Field* w = Get(sf, "webhook")) {
        if (auto v = WantScalar(r, w->v, "delivery.slack.webhook")) out.delivery.slack_webhook_secret = *v;
      }
    }
  }
  if (const Field* f = Get(fields, "pagerduty")) {
    if (WantMap(r, f->v, "delivery.pagerduty", "{routing_key: PD_ROUTING_KEY}")) {
      auto pf = Fields(r, f->v, {"routing_key", "url"}, "delivery.pagerduty");
      if (const Field* k = Get(pf, "routing_key")) {
        if (auto v = WantScalar(r, k->v, "delivery.pagerduty.routing_key")) out.delivery.pagerduty_key_secret = *v;
      }
      if (const Field* u = Get(pf, "url")) {
        if (auto v = WantScalar(r, u->v, "delivery.pagerduty.url")) out.delivery.pagerduty_url = *v;
      }
    }
  }
  if (const Field* f = Get(fields, "deadline")) {
    if (auto v = WantScalar(r, f->v, "delivery.deadline")) {
      std::optional<int64_t> ms = ParseDurationMs(*v);
      if (ms && *ms > 0) out.delivery.deadline_ms = *ms;
      else r.Error(ConfigKind::kEnvValue, f->v, fmt::format("delivery.deadline must be a duration such as 20s, got {}", Quote(*v)));
    }
  }
}

// `modules: [team-modules, ../shared/modules]`: each a directory, relative to the environment file.
void LoadModules(Reader& r, const YAML::Node& n, Environment& out) {
  auto list = WantScalarList(r, n, "modules", "[team-modules, ../shared/modules]");
  if (!list) return;
  std::filesystem::path base = std::filesystem::path(out.path).parent_path();
  for (auto& [dir, node] : *list) {
    if (Trim(dir).empty()) {
      r.Error(ConfigKind::kEnvValue, node, "modules lists directories of team modules, got an empty name",
              "write a directory relative to this file, e.g. modules: [team-modules]");
      continue;
    }
    std::filesystem::path p = std::filesystem::path(dir).is_absolute() ? std::filesystem::path(dir) : base / dir;
    std::error_code ec;
    if (!std::filesystem::is_directory(p, ec)) {
      r.Error(ConfigKind::kEnvValue, node,
              fmt::format("modules: {} is not a directory (resolved against this file: {})", Quote(dir),
                          p.lexically_normal().string()),
              "name a directory that holds team modules such as team/pg.rb.denis, relative to this file");
      continue;
    }
    out.modules.push_back(p.lexically_normal().string());
    out.modules_marks.push_back(r.At(node));
  }
}

}  // namespace

bool LoadEnvironment(const std::string& path, Environment& out, std::vector<ConfigError>& errors) {
  Reader r(path, Family::kEnvironment, errors);
  out = Environment{};
  out.path = path;
  std::string text;
  try {
    auto root = ReadRoot(path, kEnvironmentLimit, r, text, "the environment file is",
                         "an environment file is a mapping of keys such as name:, targets: and contacts:",
                         "name:, targets: and contacts: (see docs/environment.md)");
    if (!root) return false;
    for (const auto& f : Fields(r, *root, {"name", "targets", "params", "contacts", "exec", "secrets", "state", "audit", "locks", "delivery", "modules"},
                                "the environment file")) {
      if (f.key == "name") {
        if (auto s = WantScalar(r, f.v, "name")) out.name = *s;
      } else if (f.key == "targets") {
        LoadTargets(r, f.v, out);
      } else if (f.key == "params") {
        LoadParams(r, f.v, out);
      } else if (f.key == "contacts") {
        LoadContacts(r, f.v, out);
      } else if (f.key == "exec") {
        LoadExec(r, f.v, out);
      } else if (f.key == "secrets") {
        LoadSecrets(r, f.v, out);
      } else if (f.key == "state") {
        LoadState(r, f.v, out);
      } else if (f.key == "audit") {
        LoadPathOf(r, f.v, "audit", ".runbook/audit.jsonl", out.audit.path, &out.audit.stream);
      } else if (f.key == "locks") {
        LoadPathOf(r, f.v, "locks", ".runbook/locks", out.locks.path, nullptr, &out.locks.ttl_ms);
      } else if (f.key == "delivery") {
        LoadDelivery(r, f.v, out);
      } else if (f.key == "modules") {
        LoadModules(r, f.v, out);
      }
    }
    // The audit and the locks are the environment's, wherever the command runs from: a relative
    // path is taken against this file's folder (two engineers in two home folders share them).
    std::filesystem::path base = std::filesystem::path(path).parent_path();
    for (std::string* p : {&out.audit.path, &out.locks.path}) {
      if (!p->empty() && !std::filesystem::path(*p).is_absolute()) *p = (base / *p).lexically_normal().string();
    }
  } catch (const YAML::Exception& e) {  // yaml-cpp says where: the error names file:line:col
    r.Error(Common::kYaml, e.mark.is_null() ? Mark{1, 1} : r.At(e.mark), fmt::format("cannot read the YAML: {}", e.msg));
  } catch (const std::exception& e) {
    r.Error(Common::kYaml, Mark{1, 1}, fmt::format("cannot read the YAML: {}", e.what()));
  }
  return !r.failed;
}

bool IsEnvironmentFileName(const std::string& path) {
  std::filesystem::path p(path);
  std::string name = p.filename().string();
  auto ends = [&](std::string_view suffix) {
    return name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (!ends(".yaml") && !ends(".yml")) return false;
  if (name == "environment.yaml" || name == "environment.yml") return true;
  if (name.rfind("environment.", 0) == 0) return true;  // environment.staging.yaml, environment.example.yaml
  if (ends(".env.yaml") || ends(".env.yml")) return true;
  return p.parent_path().filename() == "environments" && !ends(".scenario.yaml") && !ends(".scenario.yml");
}

}  // namespace rb::rt
