// The literal scanner: numbers with units (`12`, `0.5`, `80%`, `5m`, `1h30m`, `512MB`) and quoted
// strings, decoded once for the compiler and for the environment and scenario loaders. The shapes
// are the grammar's own rules (grammar::number, grammar::dq_string, ...); this file adds what a rule
// cannot say: which units exist, their order in a compound duration, the exact range, the escapes.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "lang/units.hpp"

namespace rb::lang {

// Why a literal was refused; the compiler maps each to its diagnostic code.
enum class LiteralError : uint8_t {
  kSyntax,       // not the shape of the literal at all: `5 m`, `1e5`, `5.`, an unclosed quote
  kUnknownUnit,  // `5min`, `1gb`
  kCompound,     // `30m1h`, `1m1m`, `1GB512MB`: only durations combine, largest unit first, each once
  kRange,        // beyond 2^53 in base units
  kBadEscape,    // `"a\qb"`
};

// A refused literal: what was expected, and where (byte offsets into the scanned text).
struct LiteralProblem {
  LiteralError kind = LiteralError::kSyntax;
  size_t begin = 0, end = 0;
  std::string message;  // "unknown unit `min`"
  std::string hint;     // "durations: ms s m h d; ..."
};

// A number in base units (milliseconds, percentage points, bytes) and what it measures.
struct Quantity {
  Dimension dimension = Dimension::kNone;
  double value = 0;
};

// Largest magnitude kept exactly, in base units.
inline constexpr double kExactLimit = 9007199254740992.0;  // 2^53

// `text` as one grammar::number, all of it: unsigned, no blanks. On failure fills `problem`.
std::optional<Quantity> ScanNumber(std::string_view text, LiteralProblem& problem);

// Decodes the inside of a "..." string: \" \\ \n \t \{ \}. Offsets in `problem` are into `body`.
std::optional<std::string> Unescape(std::string_view body, LiteralProblem& problem);

// The length of the "..." or '...' literal (grammar::string) at the start of `text`; 0 if none.
size_t MatchString(std::string_view text);

// A whole "..." or '...' literal (quotes included), as grammar::string matches it. '...' is raw.
std::optional<std::string> ScanString(std::string_view text, LiteralProblem& problem);

}  // namespace rb::lang
