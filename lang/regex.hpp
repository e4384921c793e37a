// A small regular-expression matcher for the text filters, linear in the input: patterns compile
// to a Thompson NFA run as a Pike VM, so no pattern can backtrack exponentially or recurse deeply
// (std::regex does both). Supports literals, `.`, classes `[a-z]` `[^...]`, escapes (\d \w \s and
// escaped punctuation), anchors `^` `$`, groups `( )`, alternation `|`, and the quantifiers `*` `+`
// `?` `{n}` `{n,}` `{n,m}` (counted repetition up to 100). Matching is by bytes; search is unanchored.
// It lives in lang/ because the `matches` operator (lang/operators.def) and the checker's regex lint
// use the same engine as the grep filters (runtime/filters.cpp); runtime/regex.hpp re-exports it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rb::lang {

class Regex {
 public:
  // Compiles `pattern`; on a syntax error returns nullopt and sets `error`.
  static std::optional<Regex> Compile(std::string_view pattern, bool icase, std::string& error);
  // The same, and `error_at` is the byte of `pattern` the error is at (the checker points there).
  static std::optional<Regex> Compile(std::string_view pattern, bool icase, std::string& error, size_t& error_at);
  // True when the pattern matches somewhere in `text`.
  bool Search(std::string_view text) const;

  struct Inst {
    enum class Op : uint8_t { kByte, kAny, kClass, kSplit, kJump, kBol, kEol, kMatch } op;
    uint8_t byte = 0;
    uint32_t x = 0, y = 0;  // jump targets (kSplit: both, preferring x; kJump: x); kClass: class index
  };

 private:
  std::vector<Inst> prog_;
  std::vector<std::vector<bool>> classes_;  // 256 entries each
};

}  // namespace rb::lang
