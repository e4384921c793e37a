// Binding: a runbook's params and targets given their values for one run (overrides, the
// environment, defaults), and a command's words filled in, its effect re-derived from the bound words.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "runtime/bytecode.hpp"
#include "runtime/config.hpp"
#include "runtime/registry.hpp"
#include "runtime/value.hpp"

namespace rb::rt {

struct BoundParam {
  std::string name;
  Value value;          // unknown when unbound
  std::string source;   // "default", "environment", "secret", "unbound"
};
struct BoundTarget {
  std::string name, capability, binding;
  std::string address;  // from the environment; empty without one
  std::map<std::string, std::string> fields;  // extra keys of its environment entry (`namespace: denis`)
};
// A field of a bound target's address for `{target.field}`: host, port, address, scheme, path,
// user, or an extra key of its environment entry; "" is the address. Nullopt: no such value (an
// unbound target, an address without a port, a key the entry does not have).
std::optional<std::string> TargetFieldValue(const BoundTarget& target, const std::string& field);
struct Bindings {
  std::vector<BoundParam> params;    // parallel to Runbook::params
  std::vector<BoundTarget> targets;  // parallel to Runbook::targets
  std::vector<BoundTarget> policy_targets;
  std::vector<ConfigError> errors;     // an environment value of the wrong type
};
// The environment's entry for param `param` of runbook `runbook` (its own, else "*"); null: none.
const EnvParam* FindEnvParam(const Environment* env, const std::string& runbook, const std::string& param);
// Param values given for one run, by name: a scenario's `params:` or `--param NAME=VALUE`.
struct ParamOverrides {
  std::string file;    // where they were written ("" for the command line)
  std::string source;  // "scenario", "--param"
  std::map<std::string, EnvParam> values;
};
// Binds params (first override that names them, then the environment, then the default) and
// targets. An override naming no param of the runbook, or a value of the wrong type, is an error.
Bindings Bind(const Program& program, uint32_t runbook, const Environment* env,
              const std::vector<const ParamOverrides*>& overrides = {});

// The most a step of this kind may do: check, verify and manual read; action writes;
// last_resort may destroy.
Effect MaxEffect(StepKind k);

// A command's argv with its slots filled: params by value, targets by their environment address
// (or binding name), secrets by a placeholder that prints as ***.
struct BoundCommand {
  std::vector<std::string> argv;     // secrets shown as ***
  // The same words with each secret as SecretMarker(name): what a live provider runs, once it has put
  // in the secrets' values (never shown, never in a trace).
  std::vector<std::string> secret_argv;
  bool has_secret = false;           // a word holds a secret (shown as ***)
  Effect effect = Effect::kRead;     // re-derived from the bound words
  std::string rule;
  bool unbound = false;              // a slot has no value
  bool undeclared = false;           // no rule of its program gives the bound words an effect: never run
  // The lets and captures (`{usage}`) the words read whose value is unknown, by name: the command
  // does not run (a plan, which runs nothing, has none of their values).
  std::vector<std::string> unknown_lets;
  std::string Display() const;       // argv joined by spaces, quoting words with blanks
};
// A secret inside a bound word, by name: kSecretMark NAME kSecretMark (a byte no word can hold).
inline constexpr char kSecretMark = '\x1e';
std::string SecretMarker(const std::string& name);

// A let's or capture's value as one command word (or as a trace shows it, quoted): a string or the
// lines as they are, a number with its unit.
std::string LetWord(const Value& v);

// `lets` holds the values of the runbook's lets and captures (parallel to Runbook::lets) at this
// instant; null: none known. A let's value is inserted as one word, never split, as a param's is.
BoundCommand BindCommand(const Program& program, const Registry& registry, uint32_t runbook,
                         const Command& command, const Bindings& bindings, const std::vector<Value>* lets = nullptr);

// The words a scenario's command key is matched by: `command` bound under `key_bindings` (the
// scenario's own: its `params:`, the defaults, targets by binding name), never the environment's
// addresses or params, so a key matches with and without --env. Null `key_bindings`: empty (the
// provider then matches on the run's argv).
std::vector<std::string> ScenarioKeyArgv(const Program& program, const Registry& registry, uint32_t runbook,
                                         const Command& command, const Bindings* key_bindings,
                                         const std::vector<Value>* lets = nullptr);

}  // namespace rb::rt
