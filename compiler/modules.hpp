// Team modules: what a non-stdlib module without runbooks (`import team.pg` → team/pg.rb.denis)
// contributes beyond the stdlib. Its `program` declarations add a new program's effect table, or extend
// one the stdlib (or an earlier team module) declares: new sub-commands and options are added, a higher
// effect raises a rule silently, and a lower one takes effect only when written `lower write drain`
// (shown as a note in lint and plan). Its `capability` methods are host methods without a native of
// their own: a scenario answers them by name, as it answers a stdlib method.
//
// There is one table per program for everything compiled together (the verifier checks the whole
// `.rbc` against one registry), built here once from every module loaded: stdlib first, then the team
// modules in load order. The checker, codegen and the CLI's host registry all call this.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "compiler/diagnostics.hpp"
#include "compiler/workspace.hpp"
#include "runtime/registry.hpp"

namespace rb {

// A non-stdlib module that declares no runbook: its capabilities and programs take effect.
bool IsTeamModule(const Module& m);

struct ProgramTables {
  std::map<std::string, rt::ProgramDecl> decls;  // merged, prepared for the matcher
  std::map<std::string, std::string> where;      // name → file:line of the first declaration
};

// Merges the program declarations of `modules` (taken in order; non-stdlib modules with runbooks
// are skipped, their declarations are refused by the checker). Declarations that would clash are
// reported to `diags` when given, and never take effect: a refused lowering leaves the stricter
// effect in place.
ProgramTables MergeProgramTables(const std::vector<const Module*>& modules, Diagnostics* diags);

// The loaded modules in merge order: every stdlib module, then the team modules as loaded.
std::vector<const Module*> MergeOrder(const Workspace& ws);


// The team modules a host offers to a `.rbc`: every *.rb.denis without runbooks under each search
// path directory (a module path found in two directories: the first wins). Parsed into `ws`.
void LoadSearchPathModules(Workspace& ws, const std::vector<std::string>& search_path);

// The search path of a verb: `--path` directories in order, then RUNBOOK_PATH (colon-separated), then
// the `modules:` of the environment file (already resolved against its directory).
std::vector<std::string> ModuleSearchPath(const std::vector<std::string>& flag_dirs,
                                          const std::vector<std::string>& env_modules = {});

}  // namespace rb
