// Parse: text → AST. Checks the bytes first (size, UTF-8, NUL, line length), then parses one top-level
// declaration at a time so an error resynchronises at the next declaration and later ones still get
// checked.
#pragma once

#include <memory>

#include "compiler/ast.hpp"
#include "compiler/diagnostics.hpp"
#include "compiler/source.hpp"

namespace rb {

// Limits on input, each reported as a diagnostic rather than a crash or a hang.
inline constexpr size_t kMaxFileBytes = 4u << 20;      // RB0004
inline constexpr size_t kMaxLineBytes = 16u << 10;     // RB0005
inline constexpr size_t kMaxRuleDepth = 1500;          // RB0006: PEGTL rule nesting (~100 brackets)
inline constexpr size_t kMaxRunbooksPerFile = 1000;    // RB0010
inline constexpr size_t kMaxChain = 1000;              // RB0006: operands in one operator chain

ast::File Parse(const std::shared_ptr<const Source>& source, Diagnostics& diags);

}  // namespace rb
