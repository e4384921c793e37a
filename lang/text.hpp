// Text normalisation, defined once: how the language compares texts that people write in more
// than one way (a row's `when` cell, a condition's source, a `~` pattern and the command it matches).
#pragma once

#include <string>
#include <string_view>
#include <vector>

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

// Text as lines, the way filters read command output and a scenario writes `lines`: split at `\n`,
// a `\r` before it dropped, and no empty line after a final `\n` ("PONG\n" is one line, "PONG").
// `each` sees every line in order as a view into `text`.
template <typename F>
void ForEachLine(std::string_view text, F&& each) {
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    size_t end = nl == std::string_view::npos ? text.size() : nl;
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    each(line);
    start = end + 1;
  }
}
std::vector<std::string> SplitLines(std::string_view text);

}  // namespace rb::lang
