// Text normalisation, defined once: how the language compares texts that people write in more
// than one way (a row's `when` cell, a condition's source, a `~` pattern and the command it matches).
#pragma once

#include <string>
#include <string_view>

namespace rb::lang {

// Runs of blanks and newlines as one space, none at the ends: `ping_error  for > 5m` reads
// `ping_error for > 5m`. Rows, guards and conditions are named by their text in this form.
std::string CollapseBlanks(std::string_view text);

// Text as `~` patterns compare it: lower case, `/* */` and `//` comments and backticks removed,
// runs of blanks as one space (`CALL  /* x */ `dbms`.killQuery` reads `call dbms.killquery`).
// A `//` right after `:` is kept (`http://`).
std::string NormalizePattern(std::string_view text);

// ASCII letters in lower case; other bytes unchanged (UTF-8 stays valid).
std::string LowerAscii(std::string_view text);

}  // namespace rb::lang
