// The compile pipeline end to end: Parse → Check → Codegen → Verify → `.rbc`, and the loader every
// verb uses to get a verified Program from either a `.rb.denis` source or a compiled `.rbc`.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "compiler/lint.hpp"
#include "runtime/bytecode.hpp"
#include "runtime/registry.hpp"

namespace rb {

struct CompileOptions {
  std::vector<std::string> paths;  // files or directories of *.rb.denis
  std::string output;              // one .rbc for everything; empty: FILE.rbc next to each source
  std::string stdlib_dir;
  std::vector<std::string> search_path;  // team modules (compiler/modules.hpp ModuleSearchPath)
};

struct CompileResult {
  LintResult lint;                   // diagnostics and tool errors of the front end
  std::vector<std::string> written;  // .rbc files written
  std::vector<std::string> errors;   // tool errors (I/O, verifier): exit 2
};

// Compiles; on any error-level diagnostic nothing is written and existing outputs stay untouched.
// Each output is written beside its final name and renamed into place.
CompileResult CompileToFiles(const CompileOptions& options);

struct LoadedProgram {
  std::optional<rt::Program> program;  // set on success
  LintResult lint;                     // diagnostics when the input was source with errors
  std::string error;                   // tool error: unreadable file, rejected .rbc
  // The text of each file a source input was compiled from, by the path the program records (empty
  // for a `.rbc`): disasm shows these lines without reading any file again.
  std::map<std::string, std::string> sources;
  // For a source input: the registry it was verified against (the given one with the program tables
  // and methods of the team modules it imports); run it with this one. Unset for a `.rbc`.
  std::optional<rt::Registry> registry;
};

// A verified Program from a `.rb.denis` (compiled in memory) or a `.rbc` (read and verified).
LoadedProgram LoadAny(const std::string& path, const rt::Registry& registry, const std::string& stdlib_dir = {},
                      const std::vector<std::string>& search_path = {});

// One verified Program from every `.rb.denis` in these files and directories, compiled in memory.
LoadedProgram LoadSources(const std::vector<std::string>& paths, const rt::Registry& registry,
                          const std::string& stdlib_dir = {}, const std::vector<std::string>& search_path = {});

// Writes bytes to `path` atomically (temporary file + rename). Returns an error message or "".
std::string WriteFileAtomic(const std::string& path, const std::vector<uint8_t>& bytes);

}  // namespace rb
