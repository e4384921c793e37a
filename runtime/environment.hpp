// The environment file: where targets live, what may run, who is paged how, where secrets come from
// (docs/environment.md). Read with the bounded YAML reader; every error names file:line:col and a
// catalogue kind (RB0150-RB0179).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "runtime/config_error.hpp"
#include "runtime/pager.hpp"

namespace rb::rt {

struct EnvTarget {
  std::string name;        // the binding name runbooks use: target redis = redis("redis")
  std::string capability;  // optional check: "redis"
  std::string address;     // "redis://127.0.0.1:6379", "http://denis-api:8084", "kibana.internal:5601"
  Mark mark;
  std::map<std::string, std::string> fields;  // extra keys of the entry (`namespace: denis`), for {target.field}
};
struct EnvParam {
  std::string text;  // the value as written; typed against the runbook's param when bound
  Mark mark;
  // A list (`nodes: [node-1, node-2]`): a fleet. `runbook run` walks the runbook once per value
  // (--max-concurrency, --max-errors); elsewhere the param is unbound unless --param gives one.
  std::vector<std::string> fleet;
};
struct EnvChannel {
  std::string kind;     // "slack", "pager", "phone", "email"
  std::string address;  // "#sre-oncall", "+1-555-0199"
};
struct EnvContact {
  std::string name;  // a contact of the policy: sre, ops, emergency
  std::vector<EnvChannel> channels;
  Mark mark;
};
struct EnvSecret {
  std::string name;    // NEO4J_PASSWORD
  std::string source;  // "env:NEO4J_PASSWORD" or "file:/run/secrets/neo4j"
  Mark mark;
};
struct Environment {
  std::string path;
  std::string name;  // "staging", "production"
  std::map<std::string, EnvTarget> targets;  // by binding name
  // Params by runbook name, then param name; the runbook "*" applies to every runbook.
  std::map<std::string, std::map<std::string, EnvParam>> params;
  // Where each runbook's entry under `params:` and each param name in it are written (for lint).
  std::map<std::string, Mark> params_marks;
  std::map<std::string, std::map<std::string, Mark>> param_key_marks;
  std::map<std::string, EnvContact> contacts;
  std::vector<std::string> exec_allow;  // programs live runs may start; empty: none
  bool exec_allow_given = false;
  // `exec.path`: the folders a program is looked up in (never the caller's PATH).
  std::vector<std::string> exec_path = {"/usr/local/bin", "/usr/bin", "/bin"};
  // `exec.env`: variables set for every command; `exec.pass`: the caller's variables passed through.
  // Nothing else of the caller's environment reaches a command.
  std::vector<std::pair<std::string, std::string>> exec_env;
  std::vector<std::string> exec_pass = {"HOME", "LANG", "LC_ALL", "TZ", "USER", "LOGNAME"};
  std::map<std::string, EnvSecret> secrets;
  struct State {
    std::string store = "file";               // "file", "memory" or "redis"
    std::string path = ".runbook/state.json";  // for "file"
    // For "redis" (a team's shared state: windows, pages sent, leases): redis://HOST:PORT[/DB].
    std::string address, auth;                // auth: a secret's name
    int64_t timeout_ms = 500;
    std::string prefix = "runbook";
  } state;
  // `audit:`: the write-ahead log of live runs (docs/live.md), an append-only local file.
  struct Audit {
    std::string path = ".runbook/audit.jsonl";
    std::string stream;  // a Redis Stream on the state store's server the records are copied to
  } audit;
  // `locks:`: where a live run's local locks (flocked files) are kept.
  // `delivery:`: how pages reach the contacts' channels (Slack webhook, PagerDuty Events v2).
  DeliveryConfig delivery;
  struct Locks {
    std::string path = ".runbook/locks";
    int64_t ttl_ms = 30000;  // a Redis lease's time to live, renewed every third of it while held
  } locks;
  // `modules: [dir, ...]`: directories searched for team modules (`import team.pg`) after --path and
  // RUNBOOK_PATH, each resolved against the environment file's directory (docs/environment.md).
  std::vector<std::string> modules;
  std::vector<Mark> modules_marks;  // parallel to `modules`
};
// Returns false (and fills `errors`) when the file cannot be read or is invalid.
bool LoadEnvironment(const std::string& path, Environment& out, std::vector<ConfigError>& errors);

// Whether `path` is named as an environment file: environment.yaml, environment.NAME.yaml,
// NAME.env.yaml, or any *.yaml in a directory named `environments` (.yml as well). `runbook lint`
// checks the files so named under the paths it is given.
bool IsEnvironmentFileName(const std::string& path);

}  // namespace rb::rt
