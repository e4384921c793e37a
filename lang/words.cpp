#include "lang/words.hpp"

#include <fmt/format.h>

#include <tao/pegtl.hpp>

#include "grammar/grammar.hpp"

namespace rb::lang {
namespace {

namespace g = rb::grammar;
namespace pegtl = tao::pegtl;

// What the actions below build while the grammar reads one word.
struct WordState {
  const char* base = nullptr;
  Word word;
  std::optional<LiteralProblem> problem;

  TextSpan SpanOf(const char* b, const char* e) const {
    return TextSpan{static_cast<size_t>(b - base), static_cast<size_t>(e - base)};
  }
  void Literal(std::string text, TextSpan sp) {
    auto& parts = word.parts;
    if (!parts.empty() && !parts.back().is_slot) {
      parts.back().text += text;
      parts.back().span.end = sp.end;
    } else {
      parts.push_back(WordPart{false, std::move(text), sp});
    }
  }
};

template <typename Rule>
struct Action : pegtl::nothing<Rule> {};

template <>
struct Action<g::cmd_interp> {
  template <typename In>
  static void apply(const In& in, WordState& st) {
    std::string_view v(in.begin(), in.size());
    st.word.parts.push_back(WordPart{true, std::string(v.substr(1, v.size() - 2)), st.SpanOf(in.begin(), in.end())});
  }
};
template <>
struct Action<g::cmd_lbrace> {
  template <typename In>
  static void apply(const In& in, WordState& st) { st.Literal("{", st.SpanOf(in.begin(), in.end())); }
};
template <>
struct Action<g::cmd_rbrace> {
  template <typename In>
  static void apply(const In& in, WordState& st) { st.Literal("}", st.SpanOf(in.begin(), in.end())); }
};
// Text taken as written: bare words, '...' contents, a lone brace inside "...".
struct RawText {
  template <typename In>
  static void apply(const In& in, WordState& st) { st.Literal(in.string(), st.SpanOf(in.begin(), in.end())); }
};
template <>
struct Action<g::cmd_bare> : RawText {};
template <>
struct Action<g::bound_bare> : RawText {};
template <>
struct Action<g::cmd_dq_brace> : RawText {};
template <>
struct Action<g::cmd_sq_text> : RawText {};
template <>
struct Action<g::cmd_dq_text> {
  template <typename In>
  static void apply(const In& in, WordState& st) {
    LiteralProblem p;
    TextSpan sp = st.SpanOf(in.begin(), in.end());
    if (auto text = Unescape(std::string_view(in.begin(), in.size()), p)) {
      st.Literal(std::move(*text), sp);
    } else if (!st.problem) {
      p.begin += sp.begin, p.end += sp.begin;
      st.problem = std::move(p);
    }
  }
};
// A quoted piece marks the word quoted; `""` alone still makes an (empty) literal part.
template <>
struct Action<g::cmd_dq> {
  template <typename In>
  static void apply(const In& in, WordState& st) {
    st.word.quoted = true;
    if (in.size() == 2) st.Literal("", st.SpanOf(in.begin(), in.end()));
  }
};
template <>
struct Action<g::cmd_sq> {
  template <typename In>
  static void apply(const In&, WordState& st) { st.word.quoted = true; }
};

// Where the quote left open in `text` starts, for the message (npos: none).
size_t OpenQuote(std::string_view text) {
  size_t open = std::string_view::npos;
  for (size_t k = 0; k < text.size(); ++k) {
    char c = text[k];
    if (open != std::string_view::npos) {
      if (text[open] == '"' && c == '\\') ++k;
      else if (c == text[open]) open = std::string_view::npos;
    } else if (c == '"' || c == '\'') {
      open = k;
    }
  }
  return open;
}

// Fills `problem` for a word the grammar ended at `text[at]`, which is not a blank.
void StoppedAt(std::string_view text, size_t at, LiteralProblem& problem) {
  problem.kind = LiteralError::kSyntax;
  problem.begin = at;
  problem.end = at + 1;
  problem.message = text[at] == '{' || text[at] == '}'
                        ? std::string("a lone brace: write `{{` or `}}` for a brace, `{name}` for a param")
                        : fmt::format("unexpected `{}` in a word", text.substr(at, 1));
  problem.hint = "quote the word: \"...\"";
}

// Reads one word under rule R from the start of `text`; `used` is how far it reached.
template <typename R>
std::optional<Word> Decode(std::string_view text, size_t& used, LiteralProblem& problem) {
  WordState st;
  st.base = text.data();
  pegtl::memory_input<> in(text.data(), text.size(), "");
  used = 0;
  try {
    if (pegtl::parse<R, Action>(in, st)) used = static_cast<size_t>(in.current() - text.data());
  } catch (const pegtl::parse_error&) {
    // An opened quote not closed on the line (the grammar's must<dq_close> / must<sq_close>).
    size_t open = OpenQuote(text);
    char q = open == std::string_view::npos ? '"' : text[open];
    problem.kind = LiteralError::kSyntax;
    problem.begin = open == std::string_view::npos ? 0 : open;
    problem.end = text.size();
    problem.message = fmt::format("a `{}` is not closed", q);
    problem.hint = fmt::format("close the quote with `{}` on the same line", q);
    return std::nullopt;
  }
  if (st.problem) {
    problem = std::move(*st.problem);
    return std::nullopt;
  }
  if (used == 0) {
    if (text.empty()) {
      problem = LiteralProblem{LiteralError::kSyntax, 0, 0, "expected a word", ""};
    } else {
      StoppedAt(text, 0, problem);
    }
    return std::nullopt;
  }
  st.word.span = TextSpan{0, used};
  return std::move(st.word);
}

template <typename R>
std::optional<Word> DecodeAll(std::string_view text, LiteralProblem& problem) {
  size_t used = 0;
  auto w = Decode<R>(text, used, problem);
  if (w && used != text.size()) {
    StoppedAt(text, used, problem);
    return std::nullopt;
  }
  return w;
}

}  // namespace

bool Word::HasSlot() const {
  for (const auto& p : parts) {
    if (p.is_slot) return true;
  }
  return false;
}

std::string Word::Literal() const {
  std::string out;
  for (const auto& p : parts) out += p.is_slot ? "{" + p.text + "}" : p.text;
  return out;
}

std::optional<Word> DecodeWord(std::string_view text, WordRule rule, LiteralProblem& problem) {
  switch (rule) {
    case WordRule::kDollarLine: return DecodeAll<g::cmd_word>(text, problem);
    case WordRule::kBound: return DecodeAll<g::bound_word>(text, problem);
  }
  return std::nullopt;
}

std::optional<std::vector<Word>> SplitWords(std::string_view text, WordRule rule, LiteralProblem& problem) {
  std::vector<Word> words;
  size_t i = 0;
  auto blank = [&](size_t k) { return text[k] == ' ' || text[k] == '\t'; };
  while (true) {
    while (i < text.size() && blank(i)) ++i;
    if (i >= text.size()) break;
    std::string_view rest = text.substr(i);
    size_t used = 0;
    std::optional<Word> w = rule == WordRule::kBound ? Decode<g::bound_word>(rest, used, problem)
                                                     : Decode<g::cmd_word>(rest, used, problem);
    if (w && used < rest.size() && !blank(i + used)) {
      // The grammar ended the word at something that is not a blank: a shell operator, a lone brace.
      w = std::nullopt;
      StoppedAt(rest, used, problem);
    }
    if (!w) {
      problem.begin += i, problem.end += i;
      return std::nullopt;
    }
    w->span = TextSpan{i, i + used};
    for (auto& p : w->parts) p.span.begin += i, p.span.end += i;
    words.push_back(std::move(*w));
    i += used;
  }
  return words;
}

}  // namespace rb::lang
