// Lint: the front end end to end for a set of paths (files or directories of *.rb.denis), and the
// scenario and environment files under them, loaded against the runbooks they name.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "compiler/diagnostics.hpp"
#include "runtime/config_error.hpp"

namespace rb {

struct LintOptions {
  std::vector<std::string> paths;
  std::string stdlib_dir;  // empty: embedded
  std::vector<std::string> search_path;  // team module directories (compiler/modules.hpp ModuleSearchPath)
};

struct LintResult {
  Diagnostics diags;
  size_t files = 0;                    // runbook files named or found under the paths
  size_t scenarios = 0;                // *.scenario.yaml files checked
  size_t environments = 0;             // environment files checked (rt::IsEnvironmentFileName)
  std::vector<std::string> io_errors;  // tool errors: exit 2
};

// The files under `dir` whose names end in `suffix`, sorted, hidden directories skipped.
std::vector<std::string> FilesUnder(const std::string& dir, const std::string& suffix,
                                    std::vector<std::string>& io_errors);
// The same for the files whose paths (as found: dir/sub/name) `match` accepts.
std::vector<std::string> FilesUnder(const std::string& dir, const std::function<bool(const std::string&)>& match,
                                    std::vector<std::string>& io_errors);

// Expands directories into their *.rb.denis files (sorted, hidden directories skipped).
std::vector<std::string> ExpandPaths(const std::vector<std::string>& paths, std::vector<std::string>& io_errors);

// Lints the runbooks under the paths; then loads every scenario found (or named) against the
// runbooks it names (the runbook of runbooks/x/y.scenario.yaml is runbooks/x.rb.denis, linted too)
// and every environment file against all of them. Scenarios are loaded only when the runbooks
// compile without errors.
LintResult Lint(const LintOptions& options);

// The catalogue's kind for a scenario or environment error; nullopt for rt::ConfigKind::kUnreadable.
std::optional<DiagKind> DiagKindOf(rt::ConfigKind kind);
// Adds the errors of the YAML loaders as diagnostics, each with a caret under the YAML it names (the
// files are read again for the snippet); unreadable files become tool errors in `io_errors`.
void AddConfigErrors(const std::vector<rt::ConfigError>& errors, Diagnostics& diags, std::vector<std::string>& io_errors);
// The same rendered as text without the summary line, for verbs that load one scenario or environment.
std::string RenderConfigErrors(const std::vector<rt::ConfigError>& errors, bool color);
// Applies the ignore comments of `sources` (README.md, "Silencing a finding") to `diags`:
//   `# runbook:ignore RB0244, RB0080 -- reason`       the warnings and notes with those codes on its line
//   `# runbook:ignore-file RB0244 -- reason`          ... anywhere in its file
// Silenced findings move to diags.suppressed(). Problems with the comments themselves are added as
// RB0260-RB0264 (never silenced); unused ignores (RB0261) only when `diags` holds no error.
void ApplyIgnores(const std::vector<std::shared_ptr<const Source>>& sources, Diagnostics& diags);
class Workspace;
// The sources of the files a workspace read or was given, without the stdlib's (for ApplyIgnores).
std::vector<std::shared_ptr<const Source>> UserSources(const Workspace& ws);

// Lints one in-memory text as if it were the file `display_path` (as `Lint` of that one file would,
// without reading it; the files it imports are read from disk).
LintResult LintSource(const std::string& display_path, std::string text, const std::string& stdlib_dir = {});

}  // namespace rb
