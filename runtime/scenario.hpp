// Scenario files: a timeline of what the world answers, and what the rehearsal must show
// (docs/scenarios.md). Read with the bounded YAML reader and checked against the compiled runbook;
// every error names file:line:col and a catalogue kind (RB0100-RB0149).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "runtime/bytecode.hpp"
#include "runtime/config_error.hpp"
#include "runtime/environment.hpp"
#include "runtime/registry.hpp"
#include "runtime/value.hpp"

namespace rb::rt {

// One point of a probe's timeline: from `at_ms` on (until the next point) the probe answers this.
struct ProbePoint {
  int64_t at_ms = 0;
  enum class Kind : uint8_t { kValue, kError, kTimeout, kUnknown } kind = Kind::kValue;
  Value value;         // kValue: typed as the method's result
  std::string reason;  // kError: the error text
  Mark mark;
};
struct ProbeSeries {
  std::string key;         // as written: api.metric("rate_limit_fallback")
  std::string target;      // the target name in the runbook (or the policy): api
  std::string binding;     // its binding in the environment: denis-api (runbook and policy share it)
  std::string method;      // capability method: http.metric
  std::vector<Value> args;  // typed as the method's parameters
  std::vector<ProbePoint> points;  // sorted by at_ms
  Mark mark;
};
struct CommandPoint {
  int64_t at_ms = 0;
  int exit_code = 0;
  bool timeout = false;
  std::string out, err;  // stdout, stderr
  Mark mark;
};
struct CommandSeries {
  std::string key;                // as written: kubectl rollout restart statefulset/redis -n denis
  std::vector<std::string> argv;  // the key split like a `$` line (blanks; "..." and '...' quote)
  std::vector<CommandPoint> points;
  Mark mark;
};
struct AnswerPoint {
  std::string question;  // exactly as in the runbook: ¿Datos perdidos?
  int64_t at_ms = 0;     // answered from this time on; unknown before
  bool answer = false;
  Mark mark;
};

// `approvals:` and `done:`: a person approving (or denying) a step, or saying a manual step is done.
struct ApprovalPoint {
  std::string step;    // a step of the runbook
  int64_t at_ms = 0;
  bool approved = true;  // `approve: no`: denied (approvals only)
  std::string by;        // who
  Mark mark;
};

// ---- Expectations: what the rehearsal must show -------------------------------------------------
struct SymptomExpect {
  int64_t at_ms = 0;
  std::vector<std::string> hold, clear, unknown;  // symptom names
  Mark mark;
};
struct StepExpect {
  std::string step;
  std::optional<int64_t> at_ms;                 // when it started
  std::optional<std::vector<std::string>> run;  // its commands exactly as bound, space-joined
  std::optional<std::string> status;            // ok | failed | pending | manual
  Mark mark;
};
struct RowExpect {
  std::string row;  // the `when` cell as written: "ping_error for > 5m"
  std::optional<int64_t> at_ms;
  Mark mark;
};
struct PageExpect {
  std::string contact;
  std::optional<int64_t> at_ms;
  Mark mark;
  // `message:` the page's message, exactly; `~text`: containing text. Not given: not checked.
  std::optional<std::string> message;
};
struct PendingExpect {
  std::optional<std::vector<std::string>> rows;   // `when` cells still unknown at the end, never fired
  std::optional<std::vector<std::string>> steps;  // steps whose guard stayed unknown
  std::optional<std::vector<std::string>> asks;   // questions read but never answered
  Mark mark;
};
struct Expectations {
  std::vector<SymptomExpect> symptoms;
  std::optional<std::vector<StepExpect>> steps;    // exactly the steps that ran, in order
  std::optional<std::vector<std::string>> skipped; // steps whose guard was false
  std::optional<std::vector<RowExpect>> escalations;  // exactly the rows that fired, in order
  std::optional<std::vector<PageExpect>> pages;    // exactly the pages sent, in order
  std::optional<std::string> severity;             // at the end: P1..P4
  std::optional<PendingExpect> pending;
  Mark mark;
  std::map<std::string, Mark> key_marks;  // where each key of `expect:` is written, for mismatches
  Mark MarkOf(const std::string& key) const {
    auto it = key_marks.find(key);
    return it == key_marks.end() ? mark : it->second;
  }
};

struct Scenario {
  std::string path;
  std::string name;         // the file name without .scenario.yaml
  std::string runbook;      // runbook name
  std::string description;
  int64_t duration_ms = 15 * 60000;  // virtual time the rehearsal covers
  int64_t tick_ms = 15000;           // symptoms and escalation rows are evaluated every tick
  std::vector<ProbeSeries> probes;
  std::vector<CommandSeries> commands;
  std::vector<AnswerPoint> answers;
  std::vector<ApprovalPoint> approvals;  // by step, each step's in time order
  std::vector<ApprovalPoint> done;       // manual steps a person said are done
  Expectations expect;
  Mark runbook_mark;
  // Values for the runbook's params in this scenario (`params: {queue: celery}`); they win over
  // the environment and the defaults.
  std::map<std::string, EnvParam> params;
  // `start: 2026-12-01T03:00:00Z`: the wall-clock instant the rehearsal starts at, what `now()` reads
  // at 0s (UTC seconds); unset: kDefaultRehearsalStart.
  std::optional<double> start_s;
};

// The runbook a scenario file rehearses without parsing all of it: its `runbook:` key, else the name
// of the directory it lives in (runbooks/redis_down/outage.scenario.yaml → redis_down).
std::string ScenarioRunbookName(const std::string& path);

// Reads a scenario and checks it against the compiled runbook it rehearses (found in `program` by
// name) and the host registry: probe keys name a target of the runbook or of the policy and a method
// of its capability, with arguments of the declared types; values fit the method's result type;
// times are durations inside the scenario; steps, symptoms, rows and contacts named in expectations
// exist. Returns false (and fills `errors`) on any problem.
bool LoadScenario(const std::string& path, const Program& program, const Registry& registry, Scenario& out,
                  std::vector<ConfigError>& errors);

// What a rehearsal read of its scenario, recorded by ScenarioProvider and ScenarioAnswers, and
// asked for in vain (for the did-you-mean of an unread key).
struct ScenarioReads {
  std::set<size_t> probes, commands, answers, approvals, done;  // indices into the scenario's lists
  // What the run asked for, as a scenario would write it: probes `api.metric("x")`, commands' key
  // words, questions, steps asked for approval or done.
  std::set<std::string> probes_asked, commands_asked, questions_asked, approval_steps_asked, done_steps_asked;
};
// A probe as a scenario key writes it: target.method("text", 5m). `method` is the capability method
// (`http.metric`: shown as `metric`) or a native.
std::string ProbeKeyText(const std::string& target, const std::string& method, const std::vector<Value>& args);

// A command's words as one key, as a scenario writes it (a word with blanks or quotes quoted).
std::string CommandKeyText(const std::vector<std::string>& argv);

// The keys of `scenario` the rehearsal never read, as warnings (RB0128-RB0132), each naming the
// nearest thing the run did read or ask (or the runbook declares).
std::vector<ConfigError> UnreadKeys(const Scenario& scenario, const ScenarioReads& reads);

// Whether `path` is named as a scenario: NAME.scenario.yaml (or .yml).
bool IsScenarioFileName(const std::string& path);

}  // namespace rb::rt
