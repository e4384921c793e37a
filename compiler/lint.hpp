// Lint: the front end end to end for a set of paths (files or directories of *.rb.denis).
#pragma once

#include <string>
#include <vector>

#include "compiler/diagnostics.hpp"

namespace rb {

struct LintOptions {
  std::vector<std::string> paths;
  std::string stdlib_dir;  // empty: embedded
};

struct LintResult {
  Diagnostics diags;
  size_t files = 0;                    // runbook files named or found under the paths
  std::vector<std::string> io_errors;  // tool errors: exit 2
};

// The files under `dir` whose names end in `suffix`, sorted, hidden directories skipped.
std::vector<std::string> FilesUnder(const std::string& dir, const std::string& suffix,
                                    std::vector<std::string>& io_errors);

// Expands directories into their *.rb.denis files (sorted, hidden directories skipped).
std::vector<std::string> ExpandPaths(const std::vector<std::string>& paths, std::vector<std::string>& io_errors);

LintResult Lint(const LintOptions& options);
// Lints one in-memory text as if it were the file `display_path` (as `Lint` of that one file would,
// without reading it; the files it imports are read from disk).
LintResult LintSource(const std::string& display_path, std::string text, const std::string& stdlib_dir = {});

}  // namespace rb
