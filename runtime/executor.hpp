// The executor's dry modes. `Plan` lays out what a runbook would do with every parameter bound and
// runs nothing. `Rehearse` plays a scenario on a virtual clock: symptoms each tick, `for > D`
// windows from first-seen times in a state store, steps in order with their guards, `expect ...
// within ... every ...` polling, escalation rows (the runbook's and the policy's) in three-valued
// logic. Every capability call and command goes to a Provider; in this mode a scenario provider
// answers them and nothing in the world is touched.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "runtime/bytecode.hpp"
#include "runtime/config.hpp"
#include "runtime/natives.hpp"
#include "runtime/registry.hpp"
#include "runtime/value.hpp"
#include "runtime/vm.hpp"

namespace rb::rt {

// ---- Capabilities --------------------------------------------------------------------------------
// DryBehaviour, CapabilitySlot and CapabilitySlots() are defined with the natives they list, in
// runtime/natives.hpp (included above).

// A probe as the runtime sees it: which target, which method, which arguments.
struct ProbeCall {
  std::string target;   // the runbook's (or policy's) target name: api
  std::string binding;  // its environment binding: denis-api
  std::string method;   // redis.ping
  std::vector<Value> args;
  Effect effect = Effect::kRead;
};
struct ProbeAnswer {
  Value value;         // unknown when the probe failed, timed out or has no data
  std::string reason;  // why it is unknown: "timeout", "connection refused", "no data in scenario"
};
struct ExecAnswer {
  enum class Status : uint8_t { kOk, kFailed, kTimeout, kNoData } status = Status::kNoData;
  int exit_code = 0;
  std::string out, err;
};

// Where the executor's reads go. The scenario provider answers from a timeline; live providers
// (Redis, HTTP, exec with the environment's allowlist) implement the same interface later.
class Provider {
 public:
  virtual ~Provider() = default;
  virtual ProbeAnswer Probe(const ProbeCall& call, int64_t now_ms) = 0;
  // A command; `effect` is re-derived from the bound argv. Dry providers never run writes.
  virtual ExecAnswer Exec(const std::vector<std::string>& argv, Effect effect, int64_t now_ms) = 0;
  // The answer to an `ask` question, if one was given by now.
  virtual std::optional<bool> Answer(const std::string& question, int64_t now_ms) = 0;
};

// Answers from a scenario's timeline: the last point at or before `now_ms`.
class ScenarioProvider : public Provider {
 public:
  explicit ScenarioProvider(const Scenario& scenario) : s_(scenario) {}
  ProbeAnswer Probe(const ProbeCall& call, int64_t now_ms) override;
  ExecAnswer Exec(const std::vector<std::string>& argv, Effect effect, int64_t now_ms) override;
  std::optional<bool> Answer(const std::string& question, int64_t now_ms) override;

 private:
  const Scenario& s_;
};

// ---- State store: first-seen times of `for > D` windows ------------------------------------------
class StateStore {
 public:
  virtual ~StateStore() = default;
  virtual std::optional<int64_t> Get(const std::string& key) = 0;
  virtual void Set(const std::string& key, int64_t value) = 0;
  virtual void Erase(const std::string& key) = 0;
};
class MemoryStateStore : public StateStore {
 public:
  std::optional<int64_t> Get(const std::string& key) override;
  void Set(const std::string& key, int64_t value) override;
  void Erase(const std::string& key) override;

 private:
  std::map<std::string, int64_t> values_;
};
// A JSON object in a local file, rewritten atomically on every change (live runs: survives the
// process, so a window opened by one `runbook run` is seen by the next).
class FileStateStore : public StateStore {
 public:
  explicit FileStateStore(std::string path);
  // Reads the file; false (with `error`) if it exists but is not a state file. Missing is empty.
  bool Load(std::string& error);
  std::optional<int64_t> Get(const std::string& key) override;
  void Set(const std::string& key, int64_t value) override;
  void Erase(const std::string& key) override;
  const std::string& last_error() const { return error_; }

 private:
  void Save();
  std::string path_, error_;
  std::map<std::string, int64_t> values_;
};

// ---- Binding ------------------------------------------------------------------------------------
struct BoundParam {
  std::string name;
  Value value;          // unknown when unbound
  std::string source;   // "default", "environment", "secret", "unbound"
};
struct BoundTarget {
  std::string name, capability, binding;
  std::string address;  // from the environment; empty without one
};
struct Bindings {
  std::vector<BoundParam> params;    // parallel to Runbook::params
  std::vector<BoundTarget> targets;  // parallel to Runbook::targets
  std::vector<BoundTarget> policy_targets;
  std::vector<ConfigError> errors;     // an environment value of the wrong type
};
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
  bool has_secret = false;           // a word holds a secret (shown as ***)
  Effect effect = Effect::kRead;     // re-derived from the bound words
  std::string rule;
  bool unbound = false;              // a slot has no value
  bool undeclared = false;           // no rule of its program gives the bound words an effect: never run
  std::string Display() const;       // argv joined by spaces, quoting words with blanks
};
BoundCommand BindCommand(const Program& program, const Registry& registry, uint32_t runbook,
                         const Command& command, const Bindings& bindings);

// ---- Plan ---------------------------------------------------------------------------------------
struct PlanItem {
  enum class Kind : uint8_t { kCommand, kText, kExpect } kind = Kind::kText;
  BoundCommand command;
  std::string filter;  // the filters after `|>`, as written; empty: none
  bool allowed = true; // the environment's exec.allow lists the program (always true without one)
  bool refused = false; // too dangerous for its step once bound (or undeclared): a run refuses it
  std::string text;    // instruction or expectation source
  int64_t within_ms = 0, every_ms = 0;
};
struct PlanStep {
  std::string name, title;
  StepKind kind = StepKind::kCheck;
  Effect effect = Effect::kPure;  // the most dangerous command of the step
  std::string guard;               // source text; empty: always
  std::vector<PlanItem> items;
};
struct PlanRow {
  std::string when;
  std::vector<std::string> actions;  // "page sre (SRE Lead @sre-lead)"
  bool policy = false;
};
struct Plan {
  std::string runbook, title, severity, owner;
  Bindings bindings;
  std::vector<std::pair<std::string, std::string>> symptoms;  // name, description
  std::vector<PlanStep> steps;
  std::vector<PlanRow> rows;
};
Plan MakePlan(const Program& program, const Registry& registry, uint32_t runbook, const Environment* env,
              const std::vector<const ParamOverrides*>& overrides = {});

// ---- Rehearsal ----------------------------------------------------------------------------------
enum class Tri : uint8_t { kFalse, kTrue, kUnknown };
const char* TriName(Tri t);

struct TraceEvent {
  enum class Kind : uint8_t {
    kSymptom,     // name: symptom; state: its new state
    kIncident,    // the incident opened (any symptom holds)
    kStepStart,   // name: step
    kStepSkip,    // guard false
    kStepPending, // guard unknown: not run, not guessed
    kCommand,     // detail: argv; status: ok/failed/timeout/no data; effect
    kText,        // an instruction for a person
    kExpect,      // detail: condition; state: last result
    kStepEnd,     // status: ok/failed/pending
    kRowFire,     // name: when cell; policy row or not
    kPage,        // name: contact
    kDeclare,     // name: severity
    kManual,      // detail: instruction
    kHandover,    // name: runbook
    kError,       // detail: a runtime error (file:line: message)
  } kind = Kind::kSymptom;
  int64_t at_ms = 0;
  std::string name, detail, status;
  Tri state = Tri::kUnknown;
  Effect effect = Effect::kPure;
  bool policy = false;
};
struct StepRun {
  std::string name;
  int64_t at_ms = 0;
  std::vector<std::string> commands;  // bound, as displayed
  std::string status;                  // ok | failed | pending
};
struct RowFire {
  std::string when;
  int64_t at_ms = 0;
  bool policy = false;
};
struct PageSent {
  std::string contact, display, handle;
  std::vector<std::string> channels;  // from the environment: "slack #sre"
  int64_t at_ms = 0;
};
struct SymptomSample {
  int64_t at_ms = 0;
  std::vector<Tri> states;  // parallel to Runbook::symptoms
};
struct Trace {
  std::string runbook, scenario;
  int64_t duration_ms = 0;
  std::vector<std::string> symptom_names;
  std::vector<SymptomSample> samples;  // one per tick
  std::vector<TraceEvent> events;
  std::vector<StepRun> steps;          // the steps that ran, in order
  std::vector<std::string> skipped;
  std::vector<RowFire> fired;
  std::vector<PageSent> pages;
  std::string severity;                // at the end
  std::vector<std::string> pending_rows, pending_steps, pending_asks;
  std::vector<std::string> unknown_probes;  // "redis.ping(): no data in scenario"
  std::vector<std::string> errors;          // runtime errors; a rehearsal with errors fails
  // Coverage: what this rehearsal exercised.
  std::set<std::string> symptoms_held, steps_run, rows_fired;  // rows as "runbook|when" / "policy|when"
  // The symptom states at a time (the last tick at or before it).
  const SymptomSample* SampleAt(int64_t at_ms) const;
};

struct RehearseOptions {
  VmLimits limits;
  const Environment* env = nullptr;
  const ParamOverrides* params = nullptr;  // --param values; they win over the scenario's `params:`
  // Evaluation instants (ticks and polls) before the rehearsal stops with an error; 24h at 1s
  // ticks is 86,401.
  size_t max_instants = 200000;
};
Trace Rehearse(const Program& program, const Registry& registry, uint32_t runbook, const Scenario& scenario,
               Provider& provider, StateStore& state, const RehearseOptions& options = {});

// ---- Checking a rehearsal against its scenario's expectations -----------------------------------
struct Mismatch {
  Mark mark;             // where the expectation is written
  std::string what;      // "steps", "escalations at 5m", ...
  std::string expected, actual;
};
std::vector<Mismatch> Check(const Scenario& scenario, const Trace& trace);

// "5m30s" for 330000.
std::string FormatMs(int64_t ms);

}  // namespace rb::rt
