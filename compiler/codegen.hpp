// Codegen: the checked AST → a bytecode Program (runtime/bytecode.hpp). Deterministic: the same
// sources give the same Program, and so the same `.rbc` bytes.
#pragma once

#include <string>
#include <vector>

#include "compiler/workspace.hpp"
#include "runtime/bytecode.hpp"
#include "runtime/registry.hpp"

namespace rb {

// Compiles the runbooks of `roots` (modules that passed Check without errors) and the policy they
// import into one Program.
rt::Program Codegen(const Workspace& ws, const std::vector<const Module*>& roots);

// The host registry this binary offers: every capability method, filter and program declared by the
// stdlib (embedded, or read from `stdlib_dir`). The verifier checks `.rbc` files against it.
rt::Registry StdlibRegistry(const std::string& stdlib_dir = {});
// The registry the CLI verbs load and run programs with: the runtime's natives (natives.def) and the
// stdlib's program tables as the host's own, so a `.rbc` cannot relabel a stdlib program's commands
// by editing the table it carries; programs the stdlib does not declare use the file's tables.
// With team modules (compiler/modules.hpp): their program tables and capability methods count as the
// host's own when they are on the search path (--path, RUNBOOK_PATH, the environment's `modules:`).
rt::Registry HostRegistry(const std::string& stdlib_dir = {}, const std::vector<std::string>& search_path = {});
// The host registry for sources compiled in `ws`: the stdlib and every team module it loaded.
rt::Registry HostRegistryFrom(const Workspace& ws);
// `host` with the program tables and team methods of the modules `ws` loaded (tables replace the
// host's of the same name: they are the stdlib's, extended by the team modules).
rt::Registry WithModules(rt::Registry host, const Workspace& ws);
// The same, from the stdlib modules a checked workspace already loaded (no second parse).
rt::Registry RegistryFrom(const Workspace& ws);

rt::ValueType ToValueType(ast::Type t);

// A capability method of the stdlib as `runbook capabilities` lists it: its signature and the
// natives its body calls, in order of first call.
struct MethodListing {
  std::string name;  // "redis.ping"
  rt::NativeDecl signature;
  std::vector<std::string> natives;  // "redis", "number"
  bool has_body = false;
};
std::vector<MethodListing> StdlibMethods(const std::string& stdlib_dir = {});

}  // namespace rb
