// A small regular-expression matcher for the text filters, linear in the input: patterns compile
// to a Thompson NFA run as a Pike VM, so no pattern can backtrack exponentially or recurse deeply
// (std::regex does both). Supports literals, `.`, classes `[a-z]` `[^...]`, escapes (\d \w \s and
// escaped punctuation), anchors `^` `$`, groups `( )`, alternation `|`, and the quantifiers `*` `+`
// `?` `{n}` `{n,}` `{n,m}` (counted repetition up to 100). Matching is by bytes; search is unanchored.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rb::rt {

class Regex {
 public:
  // Compiles `pattern`; on a syntax error returns nullopt and sets `error`.
  static std::optional<Regex> Compile(std::string_view pattern, bool icase, std::string& error);
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

}  // namespace rb::rt
