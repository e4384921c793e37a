// The Prometheus text exposition format, version 0.0.4, read line by line: `# HELP name text`,
// `# TYPE name type`, other comments, and sample lines `name{label="value",...} value [timestamp]`.
// Every loop advances through the input, nothing recurses, and the only per-line state is the label set
// of the current sample, so the parser is linear in the input and safe on any bytes.
#include "runtime/exposition.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <unordered_map>
#include <unordered_set>

#include "lang/regex.hpp"

namespace rb::rt {
namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsLabelStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsLabelChar(char c) { return IsLabelStart(c) || IsDigit(c); }
bool IsNameStart(char c) { return IsLabelStart(c) || c == ':'; }
bool IsNameChar(char c) { return IsNameStart(c) || IsDigit(c); }

size_t SkipBlanks(std::string_view s, size_t i) {
  while (i < s.size() && IsBlank(s[i])) ++i;
  return i;
}
// The end of the run of non-blank bytes starting at i.
size_t TokenEnd(std::string_view s, size_t i) {
  while (i < s.size() && !IsBlank(s[i])) ++i;
  return i;
}

// Input shown in a message: quoted, at most `max` bytes, control and non-ASCII bytes as \xNN.
std::string Quote(std::string_view s, size_t max = 40) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size() && i < max; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  if (s.size() > max) out += "...";
  out += '"';
  return out;
}

// "end of line" or the quoted token at i.
std::string Got(std::string_view line, size_t i) {
  if (i >= line.size()) return "end of line";
  return Quote(line.substr(i, TokenEnd(line, i) - i));
}

bool EqualsIgnoreCase(std::string_view s, std::string_view lower) {
  if (s.size() != lower.size()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower[i]) return false;
  }
  return true;
}

// Whether a syntactically valid unsigned decimal float whose conversion was out of range is at least 1 in
// magnitude (an overflow) rather than below it (an underflow).
bool MagnitudeAtLeastOne(std::string_view s) {
  int64_t exp10 = 0;  // decimal exponent of the first non-zero digit
  bool found = false, after_point = false;
  size_t i = 0;
  int64_t int_digits = 0, leading_frac_zeros = 0;
  for (; i < s.size() && s[i] != 'e' && s[i] != 'E'; ++i) {
    if (s[i] == '.') {
      after_point = true;
    } else if (!found) {
      if (s[i] != '0') {
        found = true;
        if (!after_point) ++int_digits;
      } else if (after_point) {
        ++leading_frac_zeros;
      }
    } else if (!after_point) {
      ++int_digits;
    }
  }
  if (!found) return false;
  exp10 = int_digits > 0 ? int_digits - 1 : -(leading_frac_zeros + 1);
  int64_t e = 0;
  bool neg = false;
  if (i < s.size()) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
    for (; i < s.size(); ++i) {
      if (e < 1000000000) e = e * 10 + (s[i] - '0');
    }
  }
  return exp10 + (neg ? -e : e) >= 0;
}

// A float as Go's strconv.ParseFloat reads it, decimal only: [+-]?(d+(.d*)?|.d+)([eE][+-]?d+)?, or
// [+-]?(inf|infinity) or nan, case-insensitive. Nullopt with `why` on failure.
std::optional<double> ParseFloat(std::string_view s, std::string& why) {
  why.clear();
  if (s.empty()) return std::nullopt;
  size_t i = 0;
  bool neg = false;
  if (s[0] == '+' || s[0] == '-') {
    neg = s[0] == '-';
    i = 1;
  }
  std::string_view body = s.substr(i);
  if (EqualsIgnoreCase(body, "inf") || EqualsIgnoreCase(body, "infinity")) {
    return neg ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
  }
  if (i == 0 && EqualsIgnoreCase(body, "nan")) return std::numeric_limits<double>::quiet_NaN();
  size_t j = i;
  while (j < s.size() && IsDigit(s[j])) ++j;
  size_t digits = j - i;
  if (j < s.size() && s[j] == '.') {
    size_t f = ++j;
    while (j < s.size() && IsDigit(s[j])) ++j;
    digits += j - f;
  }
  if (digits == 0) return std::nullopt;
  if (j < s.size() && (s[j] == 'e' || s[j] == 'E')) {
    ++j;
    if (j < s.size() && (s[j] == '+' || s[j] == '-')) ++j;
    size_t e = j;
    while (j < s.size() && IsDigit(s[j])) ++j;
    if (j == e) return std::nullopt;
  }
  if (j != s.size()) return std::nullopt;
  double v = 0;
  auto [end, ec] = std::from_chars(body.data(), body.data() + body.size(), v, std::chars_format::general);
  if (ec == std::errc::result_out_of_range) {
    if (MagnitudeAtLeastOne(body)) {
      why = "out of range";
      return std::nullopt;
    }
    v = 0;
  } else if (ec != std::errc() || end != body.data() + body.size()) {
    return std::nullopt;
  }
  return neg ? -v : v;
}

// [+-]?d+ as an int64. Nullopt with `why` on failure.
std::optional<int64_t> ParseInt64(std::string_view s, std::string& why) {
  why.clear();
  size_t i = 0;
  bool neg = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    neg = s[0] == '-';
    i = 1;
  }
  if (i == s.size()) return std::nullopt;
  const uint64_t limit = neg ? uint64_t{1} << 63 : (uint64_t{1} << 63) - 1;
  uint64_t acc = 0;
  for (; i < s.size(); ++i) {
    if (!IsDigit(s[i])) return std::nullopt;
    uint64_t d = static_cast<uint64_t>(s[i] - '0');
    if (acc > (limit - d) / 10) {
      why = "out of range";
      return std::nullopt;
    }
    acc = acc * 10 + d;
  }
  if (!neg) return static_cast<int64_t>(acc);
  if (acc == uint64_t{1} << 63) return std::numeric_limits<int64_t>::min();
  return -static_cast<int64_t>(acc);
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

const std::string* FindLabel(const Sample& s, std::string_view name) {
  for (const auto& [k, v] : s.labels) {
    if (k == name) return &v;
  }
  return nullptr;
}

class Parser {
 public:
  Parser(std::string_view text, ExpositionError& err) : text_(text), err_(err) {}

  std::optional<Exposition> Run() {
    size_t pos = 0;
    while (pos < text_.size()) {
      size_t nl = text_.find('\n', pos);
      size_t end = nl == std::string_view::npos ? text_.size() : nl;
      line_ = text_.substr(pos, end - pos);
      if (!line_.empty() && line_.back() == '\r') line_.remove_suffix(1);
      if (line_no_ < std::numeric_limits<int>::max()) ++line_no_;
      if (!Line()) return std::nullopt;
      pos = end == text_.size() ? end : end + 1;
    }
    return std::move(out_);
  }

 private:
  bool Fail(size_t col, std::string message) {
    err_.line = line_no_;
    err_.column = static_cast<int>(std::min<size_t>(col, std::numeric_limits<int>::max() - 1) + 1);
    err_.message = std::move(message);
    return false;
  }

  bool Line() {
    size_t i = SkipBlanks(line_, 0);
    if (i == line_.size()) return true;
    if (line_[i] == '#') return Comment(i + 1);
    return SampleLine(i);
  }

  // The family named `name`, created untyped if there is none yet.
  size_t FamilyIndex(std::string_view name) {
    auto [it, inserted] = family_by_name_.try_emplace(std::string(name), out_.families.size());
    if (inserted) {
      out_.families.push_back(Family{std::string(name), "untyped", ""});
      typed_.push_back(false);
      has_help_.push_back(false);
    }
    return it->second;
  }
  // The typed family named `name`, or nullptr.
  const Family* Typed(std::string_view name) const {
    auto it = family_by_name_.find(std::string(name));
    if (it == family_by_name_.end() || !typed_[it->second]) return nullptr;
    return &out_.families[it->second];
  }

  // After '#': HELP and TYPE lines; any other comment is ignored.
  bool Comment(size_t i) {
    const size_t n = line_.size();
    i = SkipBlanks(line_, i);
    size_t kw_end = TokenEnd(line_, i);
    std::string_view kw = line_.substr(i, kw_end - i);
    if (kw != "HELP" && kw != "TYPE") return true;
    i = SkipBlanks(line_, kw_end);
    size_t ns = i;
    while (i < n && IsNameChar(line_[i])) ++i;
    if (i == ns || !IsNameStart(line_[ns]) || (i < n && !IsBlank(line_[i]))) {
      return Fail(ns, fmt::format("expected a metric name after `# {}`, got {}", kw, Got(line_, ns)));
    }
    std::string_view name = line_.substr(ns, i - ns);
    i = SkipBlanks(line_, i);
    if (kw == "HELP") return Help(name, i);
    return Type(name, i);
  }

  bool Help(std::string_view name, size_t i) {
    size_t end = line_.size();
    while (end > i && IsBlank(line_[end - 1])) --end;
    std::string help;
    help.reserve(end - i);
    for (; i < end; ++i) {
      if (line_[i] == '\\' && i + 1 < end && (line_[i + 1] == '\\' || line_[i + 1] == 'n')) {
        help += line_[i + 1] == 'n' ? '\n' : '\\';
        ++i;
      } else {
        help += line_[i];  // other escapes are kept as written
      }
    }
    size_t f = FamilyIndex(name);
    if (has_help_[f]) return Fail(0, fmt::format("a second `# HELP` line for `{}`", name));
    has_help_[f] = true;
    out_.families[f].help = std::move(help);
    return true;
  }

  bool Type(std::string_view name, size_t i) {
    if (i == line_.size())
      return Fail(i, fmt::format("expected a metric type after `# TYPE {}`, got end of line", name));
    size_t te = TokenEnd(line_, i);
    std::string_view word = line_.substr(i, te - i);
    static constexpr std::string_view kTypes[] = {"counter", "gauge", "histogram", "summary", "untyped"};
    std::string_view type;
    for (std::string_view t : kTypes) {
      if (EqualsIgnoreCase(word, t)) type = t;
    }
    if (type.empty()) {
      return Fail(
          i, fmt::format("unknown metric type {} for `{}` (expected counter, gauge, histogram, summary or untyped)",
                         Quote(word), name));
    }
    size_t rest = SkipBlanks(line_, te);
    if (rest != line_.size()) {
      return Fail(rest, fmt::format("unexpected {} after `# TYPE {} {}`", Got(line_, rest), name, type));
    }
    size_t f = FamilyIndex(name);
    if (typed_[f]) return Fail(0, fmt::format("a second `# TYPE` line for `{}`", name));
    std::vector<std::string> members = {std::string(name)};
    if (type == "histogram") members.push_back(std::string(name) + "_bucket");
    if (type == "histogram" || type == "summary") {
      members.push_back(std::string(name) + "_sum");
      members.push_back(std::string(name) + "_count");
    }
    for (const std::string& m : members) {
      if (sample_names_.count(m) != 0) {
        return Fail(0,
                    fmt::format("`# TYPE {} {}` comes after samples of `{}`; it must come before them", name, type, m));
      }
    }
    typed_[f] = true;
    out_.families[f].type = std::string(type);
    return true;
  }

  bool SampleLine(size_t i) {
    const size_t n = line_.size();
    size_t ns = i;
    while (i < n && IsNameChar(line_[i])) ++i;
    if (i == ns || !IsNameStart(line_[ns])) {
      std::string hint;
      if (line_[ns] == '<') hint = " (this looks like an HTML page, not a metrics endpoint)";
      if (line_[ns] == '{' || line_[ns] == '[') hint = " (this looks like a JSON document, not a metrics endpoint)";
      return Fail(ns, fmt::format("expected a metric name, got {}{}", Got(line_, ns), hint));
    }
    Sample s;
    s.name = std::string(line_.substr(ns, i - ns));
    if (i < n && !IsBlank(line_[i]) && line_[i] != '{') {
      return Fail(i,
                  fmt::format("expected a space or \"{{\" after the metric name `{}`, got {}", s.name, Got(line_, i)));
    }
    i = SkipBlanks(line_, i);
    if (i < n && line_[i] == '{') {
      if (!Labels(i + 1, s, i)) return false;
      i = SkipBlanks(line_, i);
    }
    if (i == n) return Fail(i, fmt::format("expected a value after the metric name `{}`, got end of line", s.name));
    size_t ve = TokenEnd(line_, i);
    std::string why;
    std::optional<double> value = ParseFloat(line_.substr(i, ve - i), why);
    if (!value) {
      if (!why.empty()) return Fail(i, fmt::format("the value {} of `{}` is {}", Got(line_, i), s.name, why));
      return Fail(i, fmt::format("expected a value after the metric name `{}`, got {}", s.name, Got(line_, i)));
    }
    s.value = *value;
    i = SkipBlanks(line_, ve);
    if (i < n) {
      size_t te = TokenEnd(line_, i);
      std::optional<int64_t> ts = ParseInt64(line_.substr(i, te - i), why);
      if (!ts) {
        if (!why.empty()) return Fail(i, fmt::format("the timestamp {} of `{}` is {}", Got(line_, i), s.name, why));
        return Fail(i, fmt::format("expected a timestamp (integer milliseconds) after the value of `{}`, got {}",
                                   s.name, Got(line_, i)));
      }
      s.timestamp_ms = *ts;
      i = SkipBlanks(line_, te);
      if (i < n) return Fail(i, fmt::format("unexpected {} after the timestamp of `{}`", Got(line_, i), s.name));
    }
    if (!Classify(s, ns)) return false;
    if (s.name != last_sample_name_) {
      sample_names_.insert(s.name);
      last_sample_name_ = s.name;
    }
    out_.samples.push_back(std::move(s));
    return true;
  }

  // The label set after '{'; `end` is set past the closing '}'.
  bool Labels(size_t i, Sample& s, size_t& end) {
    const size_t n = line_.size();
    label_names_.clear();
    i = SkipBlanks(line_, i);
    while (true) {
      if (i >= n) return Fail(i, fmt::format("expected \"}}\" to close the labels of `{}`, got end of line", s.name));
      if (line_[i] == '}') break;
      size_t ls = i;
      while (i < n && IsLabelChar(line_[i])) ++i;
      if (i == ls || !IsLabelStart(line_[ls])) {
        return Fail(ls, fmt::format("expected a label name in the labels of `{}`, got {}", s.name, Got(line_, ls)));
      }
      std::string_view label = line_.substr(ls, i - ls);
      if (label == "__name__") return Fail(ls, fmt::format("the label name `__name__` is reserved (in `{}`)", s.name));
      if (!label_names_.insert(label).second) {
        return Fail(ls, fmt::format("duplicate label `{}` in one sample of `{}`", label, s.name));
      }
      i = SkipBlanks(line_, i);
      if (i >= n || line_[i] != '=') {
        return Fail(i, fmt::format("expected \"=\" after the label name `{}`, got {}", label, Got(line_, i)));
      }
      i = SkipBlanks(line_, i + 1);
      if (i >= n || line_[i] != '"') {
        return Fail(i, fmt::format("expected a quoted value for the label `{}`, got {}", label, Got(line_, i)));
      }
      size_t open = i++;
      std::string value;
      while (true) {
        size_t stop = line_.find_first_of("\"\\", i);
        if (stop == std::string_view::npos) {
          return Fail(
              open, fmt::format("the value of the label `{}` has no closing quote before the end of the line", label));
        }
        value.append(line_.substr(i, stop - i));
        i = stop;
        if (line_[i] == '"') {
          ++i;
          break;
        }
        if (i + 1 >= n) {
          return Fail(
              open, fmt::format("the value of the label `{}` has no closing quote before the end of the line", label));
        }
        char e = line_[i + 1];
        if (e == '\\') {
          value += '\\';
        } else if (e == '"') {
          value += '"';
        } else if (e == 'n') {
          value += '\n';
        } else {
          return Fail(
              i, fmt::format("invalid escape {} in the value of the label `{}` (only \\\\, \\\" and \\n are allowed)",
                             Quote(line_.substr(i, 2)), label));
        }
        i += 2;
      }
      s.labels.emplace_back(std::string(label), std::move(value));
      i = SkipBlanks(line_, i);
      if (i < n && line_[i] == ',') {
        i = SkipBlanks(line_, i + 1);
        continue;
      }
      if (i < n && line_[i] == '}') break;
      return Fail(
          i, fmt::format("expected \",\" or \"}}\" after the value of the label `{}`, got {}", label, Got(line_, i)));
    }
    end = i + 1;
    return true;
  }

  // Places the sample in its family and checks the labels its family's type requires.
  bool Classify(const Sample& s, size_t col) {
    auto float_label = [&](std::string_view label, std::string_view kind) {
      const std::string* v = FindLabel(s, label);
      if (v == nullptr) {
        return Fail(col, fmt::format("the {} sample `{}` has no `{}` label", kind, s.name, label));
      }
      std::string why;
      if (!ParseFloat(*v, why)) {
        return Fail(col, fmt::format("the `{}` label of `{}` must be a number, got {}", label, s.name, Quote(*v)));
      }
      return true;
    };
    if (const Family* f = Typed(s.name)) {
      if (f->type == "histogram") {
        return Fail(
            col, fmt::format("`{0}` is a histogram; its samples are `{0}_bucket`, `{0}_sum` and `{0}_count`", s.name));
      }
      if (f->type == "summary") return float_label("quantile", "summary");
      return true;
    }
    if (EndsWith(s.name, "_bucket")) {
      const Family* f = Typed(std::string_view(s.name).substr(0, s.name.size() - 7));
      if (f != nullptr && f->type == "histogram") return float_label("le", "histogram bucket");
    }
    for (std::string_view suffix : {std::string_view("_sum"), std::string_view("_count")}) {
      if (!EndsWith(s.name, suffix)) continue;
      const Family* f = Typed(std::string_view(s.name).substr(0, s.name.size() - suffix.size()));
      if (f != nullptr && (f->type == "histogram" || f->type == "summary")) return true;
    }
    FamilyIndex(s.name);
    return true;
  }

  std::string_view text_;
  std::string_view line_;
  int line_no_ = 0;
  ExpositionError& err_;
  Exposition out_;
  std::vector<bool> typed_, has_help_;  // parallel to out_.families
  std::unordered_map<std::string, size_t> family_by_name_;
  std::unordered_set<std::string> sample_names_;
  std::string last_sample_name_;
  std::unordered_set<std::string_view> label_names_;  // of the current sample; views into the text
};

// ---- selectors ----

struct Matcher {
  enum class Op { kEq, kNe, kRe, kNre };
  std::string label;
  Op op = Op::kEq;
  std::string value;
  std::optional<lang::Regex> re;  // linear in the value (lang/regex.hpp), anchored at both ends
};
struct Selector {
  std::string name;
  std::vector<Matcher> matchers;
};

// Parses `s` (already trimmed); on failure returns nullopt with `why` the part after "bad selector `...`: ".
std::optional<Selector> ParseSelector(std::string_view s, std::string& why) {
  const size_t n = s.size();
  Selector sel;
  size_t i = 0;
  while (i < n && IsNameChar(s[i])) ++i;
  if (i == 0 || !IsNameStart(s[0])) {
    why = fmt::format("expected a metric name, got {}", n == 0 ? std::string("nothing") : Quote(s));
    return std::nullopt;
  }
  sel.name = std::string(s.substr(0, i));
  i = SkipBlanks(s, i);
  if (i == n) return sel;
  if (s[i] != '{') {
    why = fmt::format("expected \"{{\" or the end after the metric name, got {}", Quote(s.substr(i)));
    return std::nullopt;
  }
  i = SkipBlanks(s, i + 1);
  while (true) {
    if (i >= n) {
      why = "expected \"}\" to close the matchers";
      return std::nullopt;
    }
    if (s[i] == '}') break;
    size_t ls = i;
    while (i < n && IsLabelChar(s[i])) ++i;
    if (i == ls || !IsLabelStart(s[ls])) {
      why = fmt::format("expected a label name, got {}", Quote(s.substr(ls)));
      return std::nullopt;
    }
    Matcher m;
    m.label = std::string(s.substr(ls, i - ls));
    i = SkipBlanks(s, i);
    if (s.substr(i, 2) == "=~") {
      m.op = Matcher::Op::kRe;
      i += 2;
    } else if (s.substr(i, 2) == "!=") {
      m.op = Matcher::Op::kNe;
      i += 2;
    } else if (s.substr(i, 2) == "!~") {
      m.op = Matcher::Op::kNre;
      i += 2;
    } else if (s.substr(i, 1) == "=") {
      m.op = Matcher::Op::kEq;
      i += 1;
    } else {
      why = fmt::format("expected =, !=, =~ or !~ after the label `{}`, got {}", m.label,
                        i < n ? Quote(s.substr(i)) : std::string("the end"));
      return std::nullopt;
    }
    i = SkipBlanks(s, i);
    if (i >= n || (s[i] != '"' && s[i] != '\'' && s[i] != '`')) {
      why = fmt::format("expected a quoted value for the label `{}`", m.label);
      return std::nullopt;
    }
    char quote = s[i++];
    bool closed = false;
    while (i < n) {
      char c = s[i];
      if (c == quote) {
        ++i;
        closed = true;
        break;
      }
      if (c == '\\' && quote != '`') {
        if (i + 1 >= n) break;
        char e = s[i + 1];
        if (e == 'n') {
          m.value += '\n';
        } else if (e == 't') {
          m.value += '\t';
        } else if (e == '\\' || e == '"' || e == '\'') {
          m.value += e;
        } else {
          why = fmt::format("invalid escape {} in the value of the label `{}`", Quote(s.substr(i, 2)), m.label);
          return std::nullopt;
        }
        i += 2;
        continue;
      }
      m.value += c;
      ++i;
    }
    if (!closed) {
      why = fmt::format("the value of the label `{}` has no closing quote", m.label);
      return std::nullopt;
    }
    if (m.op == Matcher::Op::kRe || m.op == Matcher::Op::kNre) {
      std::string error;
      m.re = lang::Regex::Compile("^(" + m.value + ")$", false, error);
      if (!m.re) {
        why = fmt::format("invalid regex {} for the label `{}`: {}", Quote(m.value), m.label, error);
        return std::nullopt;
      }
    }
    sel.matchers.push_back(std::move(m));
    i = SkipBlanks(s, i);
    if (i < n && s[i] == ',') {
      i = SkipBlanks(s, i + 1);
      continue;
    }
    if (i < n && s[i] == '}') break;
    why = fmt::format("expected \",\" or \"}}\" after the value of the label `{}`", sel.matchers.back().label);
    return std::nullopt;
  }
  i = SkipBlanks(s, i + 1);
  if (i != n) {
    why = fmt::format("unexpected {} after \"}}\"", Quote(s.substr(i)));
    return std::nullopt;
  }
  return sel;
}

}  // namespace

std::optional<Exposition> ParseExposition(std::string_view text, ExpositionError& err) {
  err = ExpositionError{};
  return Parser(text, err).Run();
}

std::string Describe(const ExpositionError& err) {
  return fmt::format("not a Prometheus exposition at line {}, column {}: {}", err.line, err.column, err.message);
}

std::optional<double> SumMatching(const Exposition& e, std::string_view selector, std::string& why) {
  why.clear();
  size_t b = 0, en = selector.size();
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (b < en && space(selector[b])) ++b;
  while (en > b && space(selector[en - 1])) --en;
  std::string_view text = selector.substr(b, en - b);
  std::string bad;
  std::optional<Selector> sel = ParseSelector(text, bad);
  if (!sel) {
    why = fmt::format("bad selector `{}`: {}", text, bad);
    return std::nullopt;
  }
  double sum = 0;
  size_t named = 0, matched = 0;
  for (const Sample& s : e.samples) {
    if (s.name != sel->name) continue;
    ++named;
    bool ok = true;
    for (const Matcher& m : sel->matchers) {
      const std::string* v = FindLabel(s, m.label);
      static const std::string kAbsent;  // a missing label matches as ""
      const std::string& value = v != nullptr ? *v : kAbsent;
      bool hit = false;
      switch (m.op) {
        case Matcher::Op::kEq:
          hit = value == m.value;
          break;
        case Matcher::Op::kNe:
          hit = value != m.value;
          break;
        case Matcher::Op::kRe:
        case Matcher::Op::kNre:
          hit = m.re->Search(value) == (m.op == Matcher::Op::kRe);
          break;
      }
      if (!hit) {
        ok = false;
        break;
      }
    }
    if (!ok) continue;
    ++matched;
    sum += s.value;
  }
  if (matched == 0) {
    why = fmt::format("no sample of `{}` in the exposition", text);
    if (named > 0)
      why += fmt::format(" ({} sample{} of `{}`, none with matching labels)", named, named == 1 ? "" : "s", sel->name);
    return std::nullopt;
  }
  return sum;
}

}  // namespace rb::rt
