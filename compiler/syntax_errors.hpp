// The table of syntax errors (compiler/syntax_errors.def) as data: which diagnostic, message and hint
// each failing grammar rule gives. The parser reports from it; tests walk it to prove every entry can
// be produced.
#pragma once

#include <cstddef>
#include <cstdint>

#include "compiler/diagnostics.hpp"

namespace rb {

// One value per entry of syntax_errors.def.
enum class SyntaxError : uint8_t {
#define RB_SYNTAX(name, rule, kind, caret, message, hint) k##name,
#include "compiler/syntax_errors.def"
#undef RB_SYNTAX
};

// Where the caret goes, and how the message reads when the failure is at the end of the file.
enum class SyntaxCaret : uint8_t {
  kHere,         // at the failure; at the end of the file the message gains ": the file ends here"
  kClose,        // a `}` was expected; at the end of the file: "the file ends before a closing `}`"
  kDoubleQuote,  // an unterminated "...": under the opening quote to the end of the line
  kSingleQuote,  // the same for '...'
};

struct SyntaxErrorInfo {
  SyntaxError id;
  const char* name;  // "DqClose"
  DiagKind kind;
  SyntaxCaret caret;
  const char* message;
  const char* hint;  // "" when there is none
};

inline constexpr SyntaxErrorInfo kSyntaxErrors[] = {
#define RB_SYNTAX(name, rule, kind, caret, message, hint) \
  {SyntaxError::k##name, #name, DiagKind::k##kind, SyntaxCaret::k##caret, message, hint},
#include "compiler/syntax_errors.def"
#undef RB_SYNTAX
};
inline constexpr size_t kSyntaxErrorCount = sizeof(kSyntaxErrors) / sizeof(kSyntaxErrors[0]);

inline constexpr const SyntaxErrorInfo& Info(SyntaxError e) { return kSyntaxErrors[static_cast<size_t>(e)]; }

}  // namespace rb
