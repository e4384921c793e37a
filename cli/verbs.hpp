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
};
int RunPlan(const PlanArgs& args);

struct RehearseArgs {
  std::string file, scenario, env, format = "text", color = "auto", stdlib_dir;
  std::vector<std::string> params;  // NAME=VALUE
};
int RunRehearse(const RehearseArgs& args);

struct TestArgs {
  std::vector<std::string> paths;
  std::string junit, env, color = "auto", stdlib_dir;
  bool coverage = false;
  bool quiet = false;  // only failures and the summary
};
int RunTest(const TestArgs& args);

}  // namespace rb::cli
