// Check: names and references (across files), types and units, effects, commands, secrets, metadata,
// duplicates, unused symptoms and dead escalation rows. Annotates the AST (Expr::type, Expr::effect,
// Command::effect, Step::effect, Target::capability, Param::type) for the code generator.
#pragma once

#include "compiler/diagnostics.hpp"
#include "compiler/workspace.hpp"

namespace rb {

// Checks every non-stdlib module loaded in `ws` (and the stdlib declarations it uses).
void Check(Workspace& ws, Diagnostics& diags);

}  // namespace rb
