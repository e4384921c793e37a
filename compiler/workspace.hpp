// Loads the files being checked and everything they import: stdlib modules (embedded at build time or
// read from --stdlib DIR), team modules (`import team.pg`: team/pg.rb.denis beside the importing file,
// else in each parent directory up to the root, else in each search-path directory in order; the first
// hit wins), the policy, and runbooks named in escalation hand-overs. Detects import
// cycles. I/O failures are tool errors (exit 2), kept apart from diagnostics about the user's text.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "compiler/ast.hpp"
#include "compiler/diagnostics.hpp"
#include "compiler/source.hpp"

namespace rb {

struct EmbeddedModule {
  const char* name;  // "redis" for std.redis
  const char* text;
};
const std::vector<EmbeddedModule>& EmbeddedStdlib();  // generated: build/stdlib_embed.cpp

struct Module {
  std::string key;  // "std.redis" or the canonical path
  std::shared_ptr<const Source> source;
  ast::File file;
  bool is_stdlib = false;
  std::vector<Module*> resolved;  // parallel to file.imports; null where the import failed
  Module* prelude = nullptr;      // std.text, implicitly imported by every other module
  bool imports_resolved = false;
  // The modules whose declarations this one sees: the prelude, then its resolved imports.
  std::vector<Module*> Visible() const;
};

struct WorkspaceOptions {
  std::string stdlib_dir;  // empty: the embedded stdlib
  // Where `import team.pg` looks after the importing file's directory and its parents: --path
  // directories, then RUNBOOK_PATH, then the environment file's `modules:` (ModuleSearchPath).
  std::vector<std::string> search_path;
};

class Workspace {
 public:
  Workspace(WorkspaceOptions options, Diagnostics& diags);

  // Loads and parses a file named by the user. Returns null and records an I/O error on failure.
  Module* AddFile(const std::string& path);
  // Parses `text` as the file `display_path` without reading it (in-memory lint, fuzzing); its
  // imports still resolve from disk beside `display_path`.
  Module* AddText(const std::string& display_path, std::string text);
  // Resolves imports of every loaded module (loading what they name) and reports cycles.
  void ResolveImports();
  // A runbook by name: among loaded modules, else NAME.rb.denis in `near`'s directory (loaded on demand).
  const ast::Runbook* FindRunbook(const std::string& name, const Module& near);
  // A stdlib module by name ("redis"), loaded on demand; null when there is none.
  Module* Stdlib(const std::string& name);
  // Names of every stdlib module, for hints.
  std::vector<std::string> StdlibNames() const;

  const std::vector<std::unique_ptr<Module>>& modules() const { return modules_; }
  const std::vector<std::string>& io_errors() const { return io_errors_; }

 private:
  Module* LoadPath(const std::string& display_path, bool report_missing);
  Module* ResolveImport(Module& from, const ast::Import& imp);
  Module* Parsed(std::string key, std::string display_path, std::string text, bool is_stdlib);

  WorkspaceOptions options_;
  Diagnostics& diags_;
  std::vector<std::unique_ptr<Module>> modules_;
  std::map<std::string, Module*> by_key_;
  std::vector<std::string> io_errors_;
  std::set<std::pair<const Module*, size_t>> reported_cycles_;  // (module, import index) already reported
};

}  // namespace rb
