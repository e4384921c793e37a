// The executor's verbs: plan, rehearse and test. Each wires loader → executor → report and returns
// the process exit code (0 ok, 1 findings or failed scenarios, 2 usage or I/O errors).
#pragma once

#include <string>
#include <vector>

namespace rb::cli {

bool UseColor(const std::string& mode);

// The capability slots the host offers (from the stdlib declarations) and how each behaves dry.
int RunCapabilities(const std::string& stdlib_dir);

struct PlanArgs {
  std::string file, env, runbook, color = "auto", stdlib_dir;
  std::vector<std::string> params;  // NAME=VALUE
  std::vector<std::string> module_path;  // --path DIR: team modules (compiler/modules.hpp)
};
int RunPlan(const PlanArgs& args);

struct RehearseArgs {
  std::string file, scenario, env, format = "text", color = "auto", stdlib_dir;
  std::vector<std::string> params;  // NAME=VALUE
  std::vector<std::string> module_path;  // --path DIR
};
int RunRehearse(const RehearseArgs& args);

struct TestArgs {
  std::vector<std::string> paths;
  std::string junit, env, color = "auto", stdlib_dir;
  bool coverage = false;
  bool quiet = false;  // only failures and the summary
  std::vector<std::string> module_path;  // --path DIR
};

// The directories team modules are searched in after the importing file's own tree: `--path` DIRs,
// RUNBOOK_PATH, then the `modules:` of the environment file `env` (when given and readable; its
// errors are reported where the verb loads it).
std::vector<std::string> SearchPath(const std::vector<std::string>& flag_dirs, const std::string& env);
int RunTest(const TestArgs& args);

// `runbook triage [PATH...] --env E`: every symptom of every runbook under the paths, evaluated once
// against the live servers the environment names; most severe first, the runbooks whose symptoms
// hold, then those whose state is unknown (which probes, why). Exit 0 nothing holds, 1 something
// holds, 2 usage or I/O errors.
struct TriageArgs {
  std::vector<std::string> paths;
  std::string env, format = "text", color = "auto", stdlib_dir;
  bool watch = false;    // --watch: every tick until Ctrl-C
  std::string tick_text;  // --tick 15s
  int count = 0;          // --count N: stop a watch after N evaluations (0: never)
  std::vector<std::string> module_path;  // --path DIR
};
int RunTriage(const TriageArgs& args);

struct RunArgs {
  std::string file, env, format = "text", color = "auto", stdlib_dir, runbook;
  bool dry_run = false;
  std::string for_text, tick_text;        // --for 10m, --tick 15s
  std::vector<std::string> params;        // NAME=VALUE
  std::vector<std::string> answers;       // "QUESTION=yes"
  std::vector<std::string> module_path;   // --path DIR
  // A live run (without --dry-run): docs/live.md.
  bool yes = false;                       // --yes: approve every action as shown
  bool allow_last_resort = false;         // --allow-last-resort
  std::vector<std::string> confirm;       // --confirm STEP
  std::vector<std::string> vouch;         // --vouch STEP: its unknown guard holds
  std::string wait_lock_text;             // --wait-lock 2m
  std::string resume;                     // --resume RUN
  int max_concurrency = 1;                // a fleet: runs at once
  std::string max_errors;                 // a fleet: "2" or "20%": no new run once that many failed
};
// Exit codes: 0 the incident closed and every verify passed, 1 not resolved or escalated, 2 usage or
// I/O error, 3 refused (a lock held, an approval denied or not given).
int RunRun(const RunArgs& args);

// `runbook audit verify [FILE] [--env E]` and `runbook audit show [FILE] [--env E] [--run ID]`.
struct AuditArgs {
  std::string action;  // verify | show
  std::string file, env, run, format = "text";
};
int RunAudit(const AuditArgs& args);

}  // namespace rb::cli
