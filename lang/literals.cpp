#include "lang/literals.hpp"

#include <fmt/format.h>

#include <tao/pegtl.hpp>

#include "grammar/grammar.hpp"

namespace rb::lang {
namespace {

namespace g = rb::grammar;
namespace pegtl = tao::pegtl;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// How many bytes of `text` the grammar rule R matches from the start (0: none).
template <typename R>
size_t Matched(std::string_view text) {
  pegtl::memory_input<> in(text.data(), text.size(), "");
  try {
    if (!pegtl::parse<R>(in)) return 0;
  } catch (const pegtl::parse_error&) {
    return 0;
  }
  return static_cast<size_t>(in.current() - text.data());
}

std::string Shown(char c) {
  if (c == ' ') return "a blank";
  if (c == '\t') return "a tab";
  if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7F) return "a special character";
  return fmt::format("`{}`", c);
}

std::string UnitHint() {
  return fmt::format("durations: {}; percentages: %; sizes: {}", SuffixList(Dimension::kDuration),
                     SuffixList(Dimension::kSize));
}

// Fills `problem` with why a literal was refused.
void Refuse(LiteralProblem& problem, LiteralError kind, size_t begin, size_t end, std::string message, std::string hint) {
  problem.kind = kind;
  problem.begin = begin;
  problem.end = end;
  problem.message = std::move(message);
  problem.hint = std::move(hint);
}

}  // namespace

std::optional<Quantity> ScanNumber(std::string_view text, LiteralProblem& problem) {
  size_t used = Matched<g::number>(text);
  if (used == 0 || used != text.size()) {
    Refuse(problem, LiteralError::kSyntax, used, used < text.size() ? used + 1 : used,
           used == 0 ? "expected a number (digits, then an optional unit)"
                     : fmt::format("unexpected {} after `{}`", Shown(text[used]), text.substr(0, used)),
           "write digits and a unit with nothing between them: 12, 0.5, 80%, 5m, 1h30m, 512MB");
    return std::nullopt;
  }
  // The grammar has matched: digits [. digits] [unit (digits [. digits] unit)*].
  Quantity q;
  long double total = 0;
  const Unit* prev = nullptr;
  bool overflow = false;
  size_t i = 0;
  while (i < text.size()) {
    long double whole = 0;
    for (; i < text.size() && IsDigit(text[i]); ++i) {
      whole = whole * 10 + (text[i] - '0');
      if (whole > kExactLimit) overflow = true;
    }
    long double frac = 0, scale = 1;
    if (i < text.size() && text[i] == '.') {
      int kept = 0;
      for (++i; i < text.size() && IsDigit(text[i]); ++i) {
        if (kept++ < 18) frac = frac * 10 + (text[i] - '0'), scale *= 10;
      }
    }
    size_t unit_begin = i;
    while (i < text.size() && !IsDigit(text[i])) ++i;
    std::string_view suffix = text.substr(unit_begin, i - unit_begin);
    const Unit* u = FindUnit(suffix);
    if (!u) {
      Refuse(problem, LiteralError::kUnknownUnit, unit_begin, i,
             fmt::format("unknown unit `{}`", suffix),
             UnitHint());
      return std::nullopt;
    }
    if (prev) {
      // A compound: `1h30m`. Only durations, from the largest unit down, each once.
      if (prev->dimension != Dimension::kDuration || u->dimension != Dimension::kDuration) {
        Refuse(problem, LiteralError::kCompound, 0, text.size(),
               fmt::format("`{}` combines units that are not durations", text),
               "only durations combine (1h30m); write one number per size or percentage");
        return std::nullopt;
      }
      if (u->scale >= prev->scale) {
        Refuse(problem, LiteralError::kCompound, unit_begin, i,
               fmt::format("`{}`: `{}` after `{}` in a compound duration", text, suffix, prev->suffix),
               "write the units from the largest to the smallest, each once: 1h30m, 2m30s, 1s500ms");
        return std::nullopt;
      }
    }
    q.dimension = u->dimension;
    auto factor = static_cast<long double>(u->scale);
    total += whole * factor + frac * factor / scale;
    prev = u;
  }
  if (overflow || total > kExactLimit) {
    Refuse(problem, LiteralError::kRange, 0, text.size(),
           fmt::format("`{}` is too large", text),
           "numbers are exact up to 2^53 in base units (milliseconds, bytes)");
    return std::nullopt;
  }
  q.value = static_cast<double>(total);
  return q;
}

std::optional<std::string> Unescape(std::string_view body, LiteralProblem& problem) {
  std::string out;
  out.reserve(body.size());
  for (size_t i = 0; i < body.size(); ++i) {
    if (body[i] != '\\') {
      out += body[i];
      continue;
    }
    char e = i + 1 < body.size() ? body[i + 1] : '\0';
    switch (e) {
      case '"': out += '"'; break;
      case '\\': out += '\\'; break;
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case '{': out += '{'; break;
      case '}': out += '}'; break;
      default:
        Refuse(problem, LiteralError::kBadEscape, i, i + 2,
               fmt::format("invalid escape `\\{}` in string", e),
               "write `\\\\` for a backslash, or use '...' for raw text");
        return std::nullopt;
    }
    ++i;
  }
  return out;
}

size_t MatchString(std::string_view text) { return Matched<g::string>(text); }

std::optional<std::string> ScanString(std::string_view text, LiteralProblem& problem) {
  size_t used = Matched<g::string>(text);
  if (used == 0 || used != text.size()) {
    Refuse(problem, LiteralError::kSyntax, used, used + 1,
           used == 0 ? "expected a quoted string, \"...\" or '...', closed on the same line"
                     : fmt::format("unexpected {} after the closing quote", Shown(text[used])),
           "inside \"...\" write \\\" for a quote; '...' holds any text but `'`");
    return std::nullopt;
  }
  std::string_view body = text.substr(1, text.size() - 2);
  if (text.front() == '\'') return std::string(body);
  auto out = Unescape(body, problem);
  if (!out) problem.begin += 1, problem.end += 1;
  return out;
}

}  // namespace rb::lang
