// The `$`-line word splitter: command text → words made of literal parts and `{slot}` parts, with
// their spans and whether any of it was quoted. The compiler decodes each word of a `$` line with it,
// and the scenario loader splits a `commands:` key with it, so a key written as the runbook writes the
// command (`redis-cli info "x\{y"`) names the same argv (`x{y`) the rehearsal binds.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lang/literals.hpp"

namespace rb::lang {

// Byte offsets into the text that was split.
struct TextSpan {
  size_t begin = 0, end = 0;
};

// Literal text, or a slot `{name}` (a param or target whose value is inserted as one word).
struct WordPart {
  bool is_slot = false;
  std::string text;  // literal: decoded text; slot: the name
  TextSpan span;
};

struct Word {
  std::vector<WordPart> parts;  // adjacent literals merged; a quoted empty word has one empty part
  TextSpan span;
  bool quoted = false;          // some of it was "..." or '...'

  bool HasSlot() const;
  std::string Literal() const;  // the literal parts joined (slots as `{name}`)
};

// Which grammar rule reads a word.
enum class WordRule : uint8_t {
  kDollarLine,  // grammar::cmd_word: a word of a `$` line (shell operators end it)
  kBound,       // grammar::bound_word: a word of a bound command, as `runbook plan` shows it
};

// Decodes `text`, which must be exactly one word under `rule`. Spans are offsets into `text`.
std::optional<Word> DecodeWord(std::string_view text, WordRule rule, LiteralProblem& problem);

// Splits `text` at blanks into words under `rule`: a scenario's command key.
std::optional<std::vector<Word>> SplitWords(std::string_view text, WordRule rule, LiteralProblem& problem);

}  // namespace rb::lang
