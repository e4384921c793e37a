#include "runtime/config.hpp"

#include <fmt/format.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iterator>
#include <set>
#include <sstream>
#include <string_view>
#include <utility>

#include "lang/enums.hpp"
#include "lang/literals.hpp"
#include "lang/text.hpp"
#include "lang/words.hpp"
#include "runtime/files.hpp"

namespace rb::rt {

std::string ConfigError::ToString() const {
  if (mark.line == 0) return fmt::format("{}: error: {}", file, message);
  return fmt::format("{}:{}:{}: error: {}", file, mark.line, mark.col, message);
}

namespace {

constexpr size_t kMaxErrors = 50;
constexpr size_t kEnvironmentLimit = 4u << 20;  // 4 MiB
constexpr size_t kScenarioLimit = 1u << 20;     // 1 MiB
constexpr int64_t kMaxScenarioMs = 24LL * 3600 * 1000;

// ---- Small text helpers --------------------------------------------------------------------------
std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

// A value quoted for a message: control characters escaped, long text cut (at a UTF-8 boundary).
std::string Quote(std::string_view s) {
  constexpr size_t kMax = 60;
  bool cut = false;
  if (s.size() > kMax) {
    size_t n = kMax;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    s = s.substr(0, n);
    cut = true;
  }
  std::string out = "\"";
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"') out += "\\\"";
    else if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (u < 0x20 || u == 0x7F) out += fmt::format("\\x{:02x}", u);
    else out += c;
  }
  if (cut) out += "...";
  return out + "\"";
}

std::string Join(const std::vector<std::string>& items, std::string_view sep = ", ") {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += sep;
    out += items[i];
  }
  return out;
}

// Levenshtein distance, giving up (returning limit + 1) once it cannot be within `limit`.
size_t EditDistance(std::string_view a, std::string_view b, size_t limit) {
  size_t diff = a.size() > b.size() ? a.size() - b.size() : b.size() - a.size();
  if (diff > limit) return limit + 1;
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    size_t best = cur[0];
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
      best = std::min(best, cur[j]);
    }
    if (best > limit) return limit + 1;
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

// "did you mean `x`?" when a candidate is close, else the list of candidates (`noun`: "steps").
std::string Hint(std::string_view got, const std::vector<std::string>& candidates, std::string_view noun) {
  if (candidates.empty()) return fmt::format("there are no {}", noun);
  const std::string* best = nullptr;
  size_t best_d = 0;
  if (got.size() <= 200) {
    size_t limit = got.size() <= 3 ? 1 : std::max<size_t>(2, got.size() / 5);
    for (const auto& c : candidates) {
      size_t d = EditDistance(got, c, limit);
      if (d <= limit && (!best || d < best_d)) best = &c, best_d = d;
    }
  }
  if (best) return fmt::format("did you mean `{}`?", *best);
  std::vector<std::string> shown;
  for (size_t i = 0; i < candidates.size() && i < 12; ++i) shown.push_back("`" + candidates[i] + "`");
  std::string list = Join(shown);
  if (candidates.size() > shown.size()) list += fmt::format(" and {} more", candidates.size() - shown.size());
  return fmt::format("{}: {}", noun, list);
}

// ---- Literals ------------------------------------------------------------------------------------
// Scalars are read by the language's literal scanner (lang/literals.hpp), as a runbook writes them.

// `s` as a number of dimension `d`, with a leading '-' when `allow_minus`. A refusal that says more
// than "not this type" (an unknown unit, a compound out of order, too large) is left in `detail`.
std::optional<long double> NumberOf(std::string_view s, lang::Dimension d, bool allow_minus, std::string* detail = nullptr) {
  bool neg = false;
  if (allow_minus && !s.empty() && s.front() == '-') neg = true, s.remove_prefix(1);
  lang::LiteralProblem problem;
  auto q = lang::ScanNumber(s, problem);
  if (!q) {
    if (detail && problem.kind != lang::LiteralError::kSyntax) *detail = problem.message;
    return std::nullopt;
  }
  if (q->dimension != d) return std::nullopt;
  return neg ? -static_cast<long double>(q->value) : static_cast<long double>(q->value);
}

// A number with an optional leading '-' followed by exactly `unit` ("" for plain numbers).
std::optional<long double> NumberWithUnit(std::string_view s, std::string_view unit, bool allow_minus) {
  const lang::Unit* u = lang::FindUnit(unit);
  if (!u) return std::nullopt;
  return NumberOf(s, u->dimension, allow_minus);
}

std::vector<std::string> SplitLines(std::string_view text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) {
      lines.emplace_back(text.substr(start));
      break;
    }
    lines.emplace_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

// "a percent", "a duration", ... for messages.
std::string TypePhrase(ValueType t) {
  switch (t) {
    case ValueType::kBool: return "a bool";
    case ValueType::kNum: return "a number";
    case ValueType::kDuration: return "a duration";
    case ValueType::kPercent: return "a percent";
    case ValueType::kSize: return "a size";
    case ValueType::kString: return "text";
    case ValueType::kLines: return "lines of text";
    default: return fmt::format("a {}", ValueTypeName(t));
  }
}

// How to write a value of this type, for messages.
const char* TypeExample(ValueType t) {
  switch (t) {
    case ValueType::kBool: return "true or false";
    case ValueType::kNum: return "12 or 0.5";
    case ValueType::kDuration: return "5m or 90s";
    case ValueType::kPercent: return "85%";
    case ValueType::kSize: return "512MB or 1GB";
    case ValueType::kString: return "\"some text\"";
    case ValueType::kLines: return "a block of text or a list of lines";
    default: return "?";
  }
}

}  // namespace

std::optional<int64_t> ParseDurationMs(const std::string& text) {
  std::string_view s = Trim(text);
  if (s == "0") return 0;
  auto ms = NumberOf(s, lang::Dimension::kDuration, false);
  if (!ms) return std::nullopt;
  return static_cast<int64_t>(std::llround(static_cast<double>(*ms)));
}

std::optional<Value> ParseLiteral(const std::string& text, ValueType want, std::string& error) {
  std::string_view s = Trim(text);
  std::string detail;
  auto fail = [&](const char* expected) -> std::optional<Value> {
    error = fmt::format("expected {}, got {}", expected, Quote(text));
    if (!detail.empty()) error += ": " + detail;
    return std::nullopt;
  };
  switch (want) {
    case ValueType::kBool: {
      std::string lower = lang::LowerAscii(s);
      if (lower == "true" || lower == "yes") return Value::Bool(true);
      if (lower == "false" || lower == "no") return Value::Bool(false);
      return fail("true or false");
    }
    case ValueType::kNum:
      if (auto v = NumberOf(s, lang::Dimension::kNone, true, &detail)) return Value::Number(ValueType::kNum, static_cast<double>(*v));
      return fail("a number such as 12 or 0.5");
    case ValueType::kDuration:
      if (s == "0") return Value::Number(ValueType::kDuration, 0);
      if (auto ms = NumberOf(s, lang::Dimension::kDuration, false, &detail))
        return Value::Number(ValueType::kDuration, static_cast<double>(std::llround(static_cast<double>(*ms))));
      return fail("a duration such as 5m or 90s");
    case ValueType::kPercent:
      if (auto v = NumberOf(s, lang::Dimension::kPercent, true, &detail)) return Value::Number(ValueType::kPercent, static_cast<double>(*v));
      return fail("a percent such as 80%");
    case ValueType::kSize:
      if (auto v = NumberOf(s, lang::Dimension::kSize, false, &detail)) return Value::Number(ValueType::kSize, static_cast<double>(*v));
      return fail("a size such as 512MB or 1GB (B, KB, MB, GB, TB)");
    case ValueType::kString: return Value::String(text);
    case ValueType::kLines: return Value::Lines(SplitLines(text));
    default:
      error = fmt::format("a value of type {} cannot be written in a file", ValueTypeName(want));
      return std::nullopt;
  }
}

namespace {

// ---- Reading YAML --------------------------------------------------------------------------------
// Collects errors for one file, at most kMaxErrors of them, and turns yaml-cpp's positions (0-based,
// columns in bytes) into 1-based lines and columns in characters, as the compiler's diagnostics count.
struct Reader {
  Reader(std::string f, std::vector<ConfigError>& e) : file(std::move(f)), errors(e) {}

  std::string file;
  std::vector<ConfigError>& errors;
  size_t added = 0;  // errors kept (at most kMaxErrors)
  size_t count = 0;  // errors found, kept or not
  bool failed = false;
  const std::string* text = nullptr;
  std::vector<size_t> line_starts;

  void SetText(const std::string& t) {
    text = &t;
    line_starts.assign(1, t.compare(0, 3, "\xEF\xBB\xBF") == 0 ? 3 : 0);  // yaml-cpp skips a BOM
    for (size_t i = 0; i < t.size(); ++i) {
      if (t[i] == '\n') line_starts.push_back(i + 1);
    }
  }

  Mark At(int line0, int col0) const {
    if (line0 < 0 || col0 < 0) return {};
    Mark m{line0 + 1, col0 + 1};
    if (!text || static_cast<size_t>(line0) >= line_starts.size()) return m;
    size_t start = line_starts[static_cast<size_t>(line0)];
    size_t end = start + static_cast<size_t>(col0);
    if (end > text->size()) return m;
    int chars = 0;
    for (size_t i = start; i < end; ++i) chars += (static_cast<unsigned char>((*text)[i]) & 0xC0) != 0x80;
    m.col = chars + 1;
    return m;
  }
  Mark At(const YAML::Mark& m) const { return m.is_null() ? Mark{} : At(m.line, m.column); }
  Mark At(const YAML::Node& n) const { return n.IsDefined() ? At(n.Mark()) : Mark{}; }

  void Error(Mark m, std::string message) {
    failed = true;
    ++count;
    if (added >= kMaxErrors) return;
    ++added;
    errors.push_back(ConfigError{file, m, std::move(message)});
  }
  void Error(const YAML::Node& n, std::string message) { Error(At(n), std::move(message)); }
};

// Reads at most `limit` bytes; larger files are refused before anything parses them.
bool ReadFile(const std::string& path, size_t limit, std::string& text, std::string& error) {
  switch (ReadRegularFile(path, limit, text, error)) {
    case FileRead::kOk: return true;
    case FileRead::kFailed: error = fmt::format("cannot read: {}", error); return false;
    case FileRead::kTooLarge:
      error = fmt::format("the file is larger than {} MiB: this is not a {} file", limit >> 20,
                          limit == kScenarioLimit ? "scenario" : "configuration");
      return false;
  }
  return false;
}

Mark MarkAtOffset(const std::string& text, size_t offset) {
  Mark m{1, 1};
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') ++m.line, m.col = 1;
    else if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) ++m.col;
  }
  return m;
}

// ---- One YAML document, bounded -------------------------------------------------------------------
// Limits on any scenario or environment file (docs/scenarios.md, docs/environment.md): nesting depth,
// and how many values aliases may add. yaml-cpp shares an aliased node, but the loaders walk it once
// per alias, so without a bound a small file could make them walk millions of values.
constexpr size_t kMaxYamlDepth = 64;
constexpr uint64_t kAliasFloor = 50'000;     // values aliases may add to any file
constexpr uint64_t kAliasFactor = 3;         // ... or this many per value the file holds, if more
constexpr uint64_t kAliasCap = 1'000'000;    // ... but never more than this

// Why the first pass stopped early: a refusal worded where it is found, a second document, or aliases
// past kAliasCap (both worded by ParseYaml, which knows the text and the counts).
enum class YamlStop { kRefused, kSecondDocument, kAliasCap };
struct YamlRefusal {
  YamlStop stop;
  YAML::Mark mark;
  std::string message;  // for kRefused
};

// Counts the events of the file's first document, with what every anchor expands to, and refuses
// (throws YamlRefusal) nesting beyond kMaxYamlDepth, an alias inside its own anchor, aliases adding
// more than kAliasCap values, and the start of a second document.
class YamlBudget final : public YAML::EventHandler {
 public:
  // One alias event: the values aliases had added once it was counted, for naming the culprit.
  struct Use {
    uint64_t added_after;
    YAML::Mark mark;
    YAML::anchor_t anchor;
  };
  // An anchor's name, where it is defined and, once its node is complete, how many values it stands for.
  struct Anchor {
    std::string name;
    YAML::Mark mark;
    uint64_t size = 0;
    bool open = false;
  };

  uint64_t own() const { return own_; }
  uint64_t added() const { return added_; }
  const std::vector<Use>& uses() const { return uses_; }
  const Anchor& anchor(YAML::anchor_t a) const { return anchors_[a]; }

  void OnDocumentStart(const YAML::Mark& mark) override {
    if (documents_++ > 0) throw YamlRefusal{YamlStop::kSecondDocument, mark, ""};
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t anchor) override { Leaf(anchor); }
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t anchor, const std::string&) override { Leaf(anchor); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    ++own_;
    if (anchor >= anchors_.size())
      throw YamlRefusal{YamlStop::kRefused, mark, "invalid YAML: the alias names no anchor"};
    const Anchor& a = anchors_[anchor];
    if (a.open) {
      throw YamlRefusal{YamlStop::kRefused, mark,
                        fmt::format("the alias *{0} sits inside the value &{0} names (line {1}): an alias "
                                    "cannot contain itself; write the value out",
                                    a.name, a.mark.line + 1)};
    }
    added_ += a.size > 0 ? a.size - 1 : 0;
    uses_.push_back({added_, mark, anchor});
    if (added_ > kAliasCap) throw YamlRefusal{YamlStop::kAliasCap, mark, ""};
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor, YAML::EmitterStyle::value) override {
    Open(mark, anchor);
  }
  void OnSequenceEnd() override { Close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor, YAML::EmitterStyle::value) override {
    Open(mark, anchor);
  }
  void OnMapEnd() override { Close(); }
  void OnAnchor(const YAML::Mark& mark, const std::string& name) override { pending_ = {name, mark}; }

 private:
  // The values counted so far, aliases expanded.
  uint64_t Total() const { return own_ + added_; }

  Anchor& Define(YAML::anchor_t anchor) {
    if (anchor >= anchors_.size()) anchors_.resize(anchor + 1);
    anchors_[anchor] = std::move(pending_);
    pending_ = {};
    return anchors_[anchor];
  }
  void Leaf(YAML::anchor_t anchor) {
    ++own_;
    if (anchor != YAML::NullAnchor) Define(anchor).size = 1;
  }
  void Open(const YAML::Mark& mark, YAML::anchor_t anchor) {
    if (open_.size() >= kMaxYamlDepth) {
      throw YamlRefusal{YamlStop::kRefused, mark,
                        fmt::format("lists and mappings nest more than {} deep here: a scenario or environment "
                                    "needs a few levels; flatten the file",
                                    kMaxYamlDepth)};
    }
    uint64_t before = Total();
    ++own_;
    if (anchor != YAML::NullAnchor) Define(anchor).open = true;
    open_.push_back({anchor, before});
  }
  void Close() {
    if (open_.empty()) return;
    auto [anchor, before] = open_.back();
    open_.pop_back();
    if (anchor == YAML::NullAnchor) return;
    anchors_[anchor].open = false;
    anchors_[anchor].size = Total() - before;
  }

  size_t documents_ = 0;
  uint64_t own_ = 0;    // events in the file, an alias counting one
  uint64_t added_ = 0;  // values aliases add beyond their own event
  std::vector<Anchor> anchors_;  // by yaml-cpp's anchor number (1, 2, ...)
  Anchor pending_;               // the anchor named just before the next node
  std::vector<std::pair<YAML::anchor_t, uint64_t>> open_;  // open lists and mappings: anchor, Total() before
  std::vector<Use> uses_;
};

// The values aliases may add to a file holding `own` values of its own.
uint64_t AliasLimit(uint64_t own) { return std::min(kAliasCap, std::max(kAliasFloor, kAliasFactor * own)); }

// "12,345": counts in messages.
std::string Count(uint64_t n) {
  std::string s = std::to_string(n);
  for (size_t i = s.size(); i > 3; i -= 3) s.insert(i - 3, ",");
  return s;
}

// The message for something after the end of the first document, at byte `offset` of `text`.
std::string AfterDocument(const std::string& text, size_t offset) {
  if (text.compare(offset, 3, "---") == 0) return "a second YAML document (after `---`): write one document per file";
  // A `...` line ended the first document.
  size_t dots = offset == 0 ? std::string::npos : text.rfind("\n...", offset - 1);
  if (dots != std::string::npos && (dots + 4 == text.size() || std::isspace(static_cast<unsigned char>(text[dots + 4]))))
    return "a second YAML document (after `...`): write one document per file";
  size_t end = offset < text.size() ? offset + 1 : offset;
  while (end < text.size() && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) ++end;
  std::string what = text.substr(offset, end - offset);
  if (what == ",") return "invalid YAML: unexpected `,`: a comma separates items only inside [ ] or { }";
  return fmt::format("invalid YAML: unexpected {} after the end of the document: a file holds one YAML document",
                     Quote(what));
}

// The single document of a file; nullopt (with an error) on a syntax error or a refused limit.
// Loads with one HandleNextDocument: yaml-cpp 0.7's LoadAll never ends on a file such as `,`.
std::optional<YAML::Node> ParseYaml(const std::string& text, Reader& r) {
  r.SetText(text);
  if (size_t nul = text.find('\0'); nul != std::string::npos) {
    r.Error(MarkAtOffset(text, nul), "the file holds a NUL byte: it is not a YAML text file");
    return std::nullopt;
  }
  auto offset_of = [&](const YAML::Mark& m) {
    if (m.line < 0 || static_cast<size_t>(m.line) >= r.line_starts.size()) return text.size();
    return std::min(text.size(), r.line_starts[static_cast<size_t>(m.line)] + static_cast<size_t>(std::max(m.column, 0)));
  };
  YamlBudget budget;
  try {
    // First pass: events only, no nodes; a second document stops it at its first event.
    std::istringstream in(text);
    YAML::Parser parser(in);
    if (!parser.HandleNextDocument(budget)) return YAML::Node();
    parser.HandleNextDocument(budget);
  } catch (const YamlRefusal& refusal) {
    switch (refusal.stop) {
      case YamlStop::kRefused:
        r.Error(r.At(refusal.mark), refusal.message);
        return std::nullopt;
      case YamlStop::kSecondDocument:
        r.Error(r.At(refusal.mark), AfterDocument(text, offset_of(refusal.mark)));
        return std::nullopt;
      case YamlStop::kAliasCap:
        break;  // worded below, with the alias that first went past the limit
    }
  } catch (const YAML::Exception& e) {
    r.Error(r.At(e.mark), fmt::format("invalid YAML: {}", e.msg));
    return std::nullopt;
  } catch (const std::exception& e) {
    r.Error(Mark{}, fmt::format("invalid YAML: {}", e.what()));
    return std::nullopt;
  }
  uint64_t limit = AliasLimit(budget.own());
  if (budget.added() > limit) {
    const auto& uses = budget.uses();
    auto first = std::find_if(uses.begin(), uses.end(), [&](const YamlBudget::Use& u) { return u.added_after > limit; });
    const auto& a = budget.anchor(first->anchor);
    std::string culprit = fmt::format("*{} here repeats the {} values of &{} (line {}); write them out, or alias less",
                                      a.name, Count(a.size), a.name, a.mark.line + 1);
    if (budget.added() > kAliasCap) {
      r.Error(r.At(first->mark), fmt::format("aliases expand this file by more than {} values, more than any file may: {}",
                                             Count(kAliasCap), culprit));
    } else {
      r.Error(r.At(first->mark), fmt::format("aliases expand this file from {} to {} values; at most {} may come from "
                                             "aliases: {}",
                                             Count(budget.own()), Count(budget.own() + budget.added()), Count(limit),
                                             culprit));
    }
    return std::nullopt;
  }
  try {
    return YAML::Load(text);  // one document, as the first pass saw it
  } catch (const YAML::Exception& e) {
    r.Error(r.At(e.mark), fmt::format("invalid YAML: {}", e.msg));
  } catch (const std::exception& e) {
    r.Error(Mark{}, fmt::format("invalid YAML: {}", e.what()));
  }
  return std::nullopt;
}

const char* NodeKind(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map: return "a mapping";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Scalar: return "a single value";
    default: return "nothing";
  }
}

struct Field {
  std::string key;
  YAML::Node k, v;
};

// The entries of a mapping. Keys must be single values, appear once and (when `allowed` is not
// empty) be among `allowed`; `what` names the mapping in messages ("a target").
std::vector<Field> Fields(Reader& r, const YAML::Node& map, const std::vector<std::string>& allowed, std::string_view what) {
  std::vector<Field> out;
  if (!map.IsMap()) return out;
  std::set<std::string> seen;
  for (const auto& entry : map) {
    // The iterator's pair is a proxy: copy the nodes (they are handles) before it goes away.
    YAML::Node k = entry.first;
    YAML::Node v = entry.second;
    if (!k.IsScalar()) {
      r.Error(k, fmt::format("a key in {} must be a single value, got {}", what, NodeKind(k)));
      continue;
    }
    std::string key = k.Scalar();
    if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string msg = fmt::format("unknown key `{}` in {}", key, what);
      std::string hint = Hint(key, allowed, "allowed");
      if (hint.rfind("did you mean", 0) == 0) msg += fmt::format(" ({})", hint);
      msg += fmt::format("; allowed: {}", Join(allowed));
      r.Error(k, msg);
      continue;
    }
    if (!seen.insert(key).second) {
      r.Error(k, fmt::format("`{}` appears twice in {}: keep one", key, what));
      continue;
    }
    out.push_back(Field{key, k, v});
  }
  return out;
}

const Field* Get(const std::vector<Field>& fields, std::string_view key) {
  for (const auto& f : fields) {
    if (f.key == key) return &f;
  }
  return nullptr;
}

// A mapping (null reads as an empty one). Reports and returns false otherwise.
bool WantMap(Reader& r, const YAML::Node& n, std::string_view what, std::string_view example) {
  if (n.IsMap() || n.IsNull()) return true;
  r.Error(n, fmt::format("{} must be a mapping of key: value lines such as {}, got {}", what, example, NodeKind(n)));
  return false;
}

// A single value; null reads as "" when `null_ok`.
std::optional<std::string> WantScalar(Reader& r, const YAML::Node& n, std::string_view what, bool null_ok = false) {
  if (n.IsScalar()) return n.Scalar();
  if (n.IsNull() && null_ok) return std::string();
  if (n.IsNull()) {
    r.Error(n, fmt::format("{} has no value", what));
  } else {
    r.Error(n, fmt::format("{} must be a single value, got {}", what, NodeKind(n)));
  }
  return std::nullopt;
}

// A list of single values (null reads as an empty list).
std::optional<std::vector<std::pair<std::string, YAML::Node>>> WantScalarList(Reader& r, const YAML::Node& n,
                                                                            std::string_view what, std::string_view example) {
  std::vector<std::pair<std::string, YAML::Node>> out;
  if (n.IsNull()) return out;
  if (!n.IsSequence()) {
    r.Error(n, fmt::format("{} must be a list such as {}, got {}", what, example, NodeKind(n)));
    return std::nullopt;
  }
  bool ok = true;
  for (const auto& item : n) {
    if (!item.IsScalar()) {
      r.Error(item, fmt::format("each entry of {} must be a single value, got {}", what, NodeKind(item)));
      ok = false;
      continue;
    }
    out.emplace_back(item.Scalar(), item);
  }
  if (!ok) return std::nullopt;
  return out;
}

std::string FileName(const std::string& path) { return std::filesystem::path(path).filename().string(); }

std::string ParentDirName(const std::string& path) {
  std::error_code ec;
  std::filesystem::path p = std::filesystem::absolute(std::filesystem::path(path), ec);
  if (ec) p = std::filesystem::path(path);
  return p.lexically_normal().parent_path().filename().string();
}

// ---- The environment file ------------------------------------------------------------------------
void LoadTargets(Reader& r, const YAML::Node& n, Environment& out) {
  if (!WantMap(r, n, "targets", "redis: {capability: redis, address: \"redis://127.0.0.1:6379\"}")) return;
  for (const auto& f : Fields(r, n, {}, "targets")) {
    std::string what = fmt::format("target `{}`", f.key);
    if (!f.v.IsMap()) {
      r.Error(f.v, fmt::format("{} must be a mapping such as {{capability: redis, address: \"redis://127.0.0.1:6379\"}}, got {}",
                               what, NodeKind(f.v)));
      continue;
    }
    EnvTarget t;
    t.name = f.key;
    t.mark = r.At(f.k);
    auto fields = Fields(r, f.v, {"capability", "address"}, fmt::format("target `{}`", f.key));
    if (const Field* c = Get(fields, "capability")) {
      if (auto s = WantScalar(r, c->v, what + "'s capability")) t.capability = *s;
    }
    if (const Field* a = Get(fields, "address")) {
      if (auto s = WantScalar(r, a->v, what + "'s address")) t.address = *s;
    } else {
      r.Error(f.k, fmt::format("{} has no address: add one, e.g. address: \"http://127.0.0.1:8084\"", what));
    }
    out.targets[f.key] = std::move(t);
  }
}

void LoadParams(Reader& r, const YAML::Node& n, Environment& out) {
  if (!WantMap(r, n, "params", "\"*\": {ns: denis}")) return;
  for (const auto& f : Fields(r, n, {}, "params")) {
    std::string what = f.key == "*" ? std::string("params for every runbook (\"*\")") : fmt::format("params of runbook `{}`", f.key);
    if (!f.v.IsMap()) {
      if (!f.v.IsNull())
        r.Error(f.v, fmt::format("{} must be a mapping of param: value such as {{ns: denis}}, got {}", what, NodeKind(f.v)));
      out.params[f.key];
      continue;
    }
    auto& params = out.params[f.key];
    for (const auto& p : Fields(r, f.v, {}, what)) {
      if (auto s = WantScalar(r, p.v, fmt::format("param `{}`", p.key))) params[p.key] = EnvParam{*s, r.At(p.v)};
    }
  }
}

void LoadContacts(Reader& r, const YAML::Node& n, Environment& out) {
  if (!WantMap(r, n, "contacts", "sre: {slack: \"#sre-oncall\", pager: sre-primary}")) return;
  for (const auto& f : Fields(r, n, {}, "contacts")) {
    std::string what = fmt::format("contact `{}`", f.key);
    EnvContact c;
    c.name = f.key;
    c.mark = r.At(f.k);
    if (!f.v.IsMap() && !f.v.IsNull()) {
      r.Error(f.v, fmt::format("{} must be a mapping of channel: address such as {{slack: \"#sre-oncall\"}}, got {}", what,
                               NodeKind(f.v)));
      continue;
    }
    for (const auto& ch : Fields(r, f.v, {}, what)) {
      if (auto s = WantScalar(r, ch.v, fmt::format("{}'s {} channel", what, ch.key))) c.channels.push_back(EnvChannel{ch.key, *s});
    }
    out.contacts[f.key] = std::move(c);
  }
}

void LoadExec(Reader& r, const YAML::Node& n, Environment& out) {
  if (!WantMap(r, n, "exec", "{allow: [kubectl, redis-cli]}")) return;
  auto fields = Fields(r, n, {"allow"}, "exec");
  if (const Field* a = Get(fields, "allow")) {
    out.exec_allow_given = true;
    if (auto list = WantScalarList(r, a->v, "exec.allow", "[redis-cli, kubectl, curl]")) {
      for (auto& [name, node] : *list) {
        if (Trim(name).empty() || name.find_first_of(" \t/") != std::string::npos) {
          r.Error(node, fmt::format("exec.allow lists program names such as kubectl, got {}", Quote(name)));
          continue;
        }
        out.exec_allow.push_back(name);
      }
    }
  }
}

void LoadSecrets(Reader& r, const YAML::Node& n, Environment& out) {
  if (!WantMap(r, n, "secrets", "NEO4J_PASSWORD: {env: NEO4J_PASSWORD}")) return;
  for (const auto& f : Fields(r, n, {}, "secrets")) {
    std::string what = fmt::format("secret `{}`", f.key);
    if (!f.v.IsMap()) {
      r.Error(f.v, fmt::format("{} must be a mapping such as {{env: {}}} or {{file: /run/secrets/name}}, got {}", what, f.key,
                               NodeKind(f.v)));
      continue;
    }
    auto fields = Fields(r, f.v, {"env", "file"}, what);
    const Field* env = Get(fields, "env");
    const Field* file = Get(fields, "file");
    if ((env != nullptr) == (file != nullptr)) {
      if (fields.size() == f.v.size())  // no other error was reported for this secret
        r.Error(f.v, fmt::format("{} needs exactly one source: env: VARIABLE or file: /path", what));
      continue;
    }
    const Field* src = env ? env : file;
    auto s = WantScalar(r, src->v, fmt::format("{}'s {}", what, src->key));
    if (!s) continue;
    if (Trim(*s).empty()) {
      r.Error(src->v, fmt::format("{}'s {} is empty", what, src->key));
      continue;
    }
    out.secrets[f.key] = EnvSecret{f.key, src->key + ":" + *s, r.At(f.k)};
  }
}

void LoadState(Reader& r, const YAML::Node& n, Environment& out) {
  if (!WantMap(r, n, "state", "{store: file, path: .runbook/state.json}")) return;
  auto fields = Fields(r, n, {"store", "path"}, "state");
  if (const Field* s = Get(fields, "store")) {
    if (auto v = WantScalar(r, s->v, "state.store")) {
      if (*v == "file" || *v == "memory") {
        out.state.store = *v;
      } else {
        r.Error(s->v, fmt::format("state.store must be file or memory, got {}", Quote(*v)));
      }
    }
  }
  if (const Field* p = Get(fields, "path")) {
    if (auto v = WantScalar(r, p->v, "state.path")) {
      if (Trim(*v).empty()) r.Error(p->v, "state.path is empty: give a file such as .runbook/state.json");
      else out.state.path = *v;
    }
  }
}

// Reads a YAML file whose top level must be a mapping; nullopt (with the error recorded) otherwise.
// `text` holds the file for as long as `r` reports positions in it.
std::optional<YAML::Node> ReadRoot(const std::string& path, size_t limit, Reader& r, std::string& text,
                                   const char* subject, const char* mapping_of, const char* expected_keys) {
  std::string error;
  if (!ReadFile(path, limit, text, error)) {
    r.Error(Mark{}, error);
    return std::nullopt;
  }
  auto root = ParseYaml(text, r);
  if (!root) return std::nullopt;
  if (root->IsNull()) {
    r.Error(Mark{1, 1}, fmt::format("{} empty: expected keys such as {}", subject, expected_keys));
    return std::nullopt;
  }
  if (!root->IsMap()) {
    r.Error(*root, fmt::format("{}, got {}", mapping_of, NodeKind(*root)));
    return std::nullopt;
  }
  return root;
}

}  // namespace

bool LoadEnvironment(const std::string& path, Environment& out, std::vector<ConfigError>& errors) {
  Reader r(path, errors);
  out = Environment{};
  out.path = path;
  std::string text;
  try {
    auto root = ReadRoot(path, kEnvironmentLimit, r, text, "the environment file is",
                         "an environment file is a mapping of keys such as name:, targets: and contacts:",
                         "name:, targets: and contacts: (see docs/environment.md)");
    if (!root) return false;
    for (const auto& f : Fields(r, *root, {"name", "targets", "params", "contacts", "exec", "secrets", "state"},
                                "the environment file")) {
      if (f.key == "name") {
        if (auto s = WantScalar(r, f.v, "name")) out.name = *s;
      } else if (f.key == "targets") {
        LoadTargets(r, f.v, out);
      } else if (f.key == "params") {
        LoadParams(r, f.v, out);
      } else if (f.key == "contacts") {
        LoadContacts(r, f.v, out);
      } else if (f.key == "exec") {
        LoadExec(r, f.v, out);
      } else if (f.key == "secrets") {
        LoadSecrets(r, f.v, out);
      } else if (f.key == "state") {
        LoadState(r, f.v, out);
      }
    }
  } catch (const std::exception& e) {
    r.Error(Mark{}, fmt::format("cannot read the YAML: {}", e.what()));
  }
  return !r.failed;
}

// ---- Scenario files ------------------------------------------------------------------------------
std::string ScenarioRunbookName(const std::string& path) {
  // A line scan, not a YAML parse: `runbook test` calls this for every scenario before loading it
  // (which parses it fully and reports any mismatch), and parsing twice doubled its cost.
  std::string text, error;
  if (ReadFile(path, kScenarioLimit, text, error)) {
    size_t at = 0;
    while (at < text.size()) {
      size_t end = text.find('\n', at);
      std::string line = text.substr(at, end == std::string::npos ? std::string::npos : end - at);
      at = end == std::string::npos ? text.size() : end + 1;
      if (line.rfind("runbook:", 0) != 0) continue;
      std::string v = line.substr(8);
      size_t hash = v.find(" #");
      if (hash != std::string::npos) v.resize(hash);
      size_t b = v.find_first_not_of(" \t\r"), e = v.find_last_not_of(" \t\r");
      if (b == std::string::npos) break;
      v = v.substr(b, e - b + 1);
      if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) v = v.substr(1, v.size() - 2);
      // Runbook names are [a-z_][a-z0-9_]*; anything else (`[`, a block) leaves it to the parser.
      bool name = !v.empty() && !std::isdigit(static_cast<unsigned char>(v[0])) &&
                  std::all_of(v.begin(), v.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
      if (name) return v;
      break;
    }
  }
  return ParentDirName(path);
}

namespace {

// A probe key as written: target.method(arg, ...).
struct ProbeArg {
  std::string text;
  bool quoted = false;
};
struct ProbeKey {
  std::string target, method;
  std::vector<ProbeArg> args;
};

bool IsIdentStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsIdentChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

std::optional<ProbeKey> ParseProbeKey(std::string_view s, std::string& error) {
  ProbeKey k;
  size_t i = 0;
  auto blanks = [&] {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  };
  auto ident = [&](std::string& out) {
    if (i >= s.size() || !IsIdentStart(s[i])) return false;
    size_t start = i;
    while (i < s.size() && IsIdentChar(s[i])) ++i;
    out = std::string(s.substr(start, i - start));
    return true;
  };
  blanks();
  if (!ident(k.target)) {
    error = "expected a target name first";
    return std::nullopt;
  }
  blanks();
  if (i >= s.size() || s[i] != '.') {
    error = fmt::format("expected `.` and a method after `{}`", k.target);
    return std::nullopt;
  }
  ++i;
  blanks();
  if (!ident(k.method)) {
    error = fmt::format("expected a method name after `{}.`", k.target);
    return std::nullopt;
  }
  blanks();
  if (i >= s.size() || s[i] != '(') {
    error = fmt::format("expected `(` after `{}.{}`: write {}.{}() even without arguments", k.target, k.method, k.target,
                        k.method);
    return std::nullopt;
  }
  ++i;
  blanks();
  if (i < s.size() && s[i] == ')') {
    ++i;
  } else {
    while (true) {
      blanks();
      ProbeArg a;
      if (i < s.size() && s[i] == '"') {
        a.quoted = true;
        ++i;
        bool closed = false;
        while (i < s.size()) {
          char c = s[i++];
          if (c == '"') {
            closed = true;
            break;
          }
          if (c == '\\') {
            if (i >= s.size()) break;
            char e = s[i++];
            if (e == '"' || e == '\\') a.text += e;
            else if (e == 'n') a.text += '\n';
            else if (e == 't') a.text += '\t';
            else {
              error = fmt::format("unknown escape `\\{}` in a string: use \\\" or \\\\", e);
              return std::nullopt;
            }
            continue;
          }
          a.text += c;
        }
        if (!closed) {
          error = "a string argument is not closed: add the closing `\"`";
          return std::nullopt;
        }
      } else {
        size_t start = i;
        while (i < s.size() && (IsIdentChar(s[i]) || s[i] == '.' || s[i] == '%' || s[i] == '-')) ++i;
        if (i == start) {
          error = "expected an argument: a \"string\", a number such as 5m or 80%, true or false";
          return std::nullopt;
        }
        a.text = std::string(s.substr(start, i - start));
      }
      k.args.push_back(std::move(a));
      blanks();
      if (i < s.size() && s[i] == ',') {
        ++i;
        continue;
      }
      if (i < s.size() && s[i] == ')') {
        ++i;
        break;
      }
      error = "expected `,` or `)` after an argument";
      return std::nullopt;
    }
  }
  blanks();
  if (i != s.size()) {
    error = fmt::format("unexpected {} after `)`", Quote(s.substr(i)));
    return std::nullopt;
  }
  return k;
}

// A command key split into words as `runbook plan` shows a bound command, by the language's word
// splitter (lang/words.hpp): blanks separate words; "..." (with the escapes of a `$` line) and '...'
// quote (parts of) a word. A `{name}` part is kept as written; the loader refuses params and targets.
std::optional<std::vector<std::string>> SplitArgv(std::string_view s, std::string& error) {
  lang::LiteralProblem problem;
  auto words = lang::SplitWords(s, lang::WordRule::kBound, problem);
  if (!words) {
    error = problem.message;
    return std::nullopt;
  }
  std::vector<std::string> argv;
  for (const auto& w : *words) argv.push_back(w.Literal());
  return argv;
}

std::string CollapseBlanks(std::string_view s) { return lang::CollapseBlanks(s); }

std::string ShowMs(int64_t ms) { return ToString(Value::Number(ValueType::kDuration, static_cast<double>(ms))); }

class ScenarioLoader {
 public:
  ScenarioLoader(Reader& r, const Program& p, const Registry& reg, Scenario& out) : r_(r), p_(p), reg_(reg), out_(out) {}

  void Load(const YAML::Node& root) {
    auto fields = Fields(r_, root,
                         {"runbook", "description", "duration", "tick", "params", "probes", "commands", "answers", "expect"},
                         "a scenario");
    // The runbook.
    if (const Field* f = Get(fields, "runbook")) {
      out_.runbook_mark = r_.At(f->v);
      if (auto s = WantScalar(r_, f->v, "runbook")) out_.runbook = *s;
      else return;
    } else {
      out_.runbook = ParentDirName(out_.path);
      out_.runbook_mark = Mark{1, 1};
    }
    if (const Field* f = Get(fields, "description")) {
      if (auto s = WantScalar(r_, f->v, "description", true)) out_.description = *s;
    }
    if (const Field* f = Get(fields, "duration")) {
      if (auto ms = Duration(f->v, "duration")) {
        if (*ms < 1000 || *ms > kMaxScenarioMs)
          r_.Error(f->v, fmt::format("duration must be from 1s to 24h, got {}", Quote(f->v.Scalar())));
        else out_.duration_ms = *ms;
      }
    }
    if (const Field* f = Get(fields, "tick")) {
      if (auto ms = Duration(f->v, "tick")) {
        if (*ms < 1000) r_.Error(f->v, fmt::format("tick must be at least 1s, got {}", Quote(f->v.Scalar())));
        else if (*ms > out_.duration_ms)
          r_.Error(f->v, fmt::format("tick {} is longer than the scenario's duration ({})", ShowMs(*ms), ShowMs(out_.duration_ms)));
        else out_.tick_ms = *ms;
      }
    } else if (out_.tick_ms > out_.duration_ms) {
      out_.tick_ms = out_.duration_ms;  // a scenario shorter than the default tick
    }
    if (!FindRunbook(Get(fields, "runbook") != nullptr)) return;
    CollectNames();
    if (const Field* f = Get(fields, "params")) Params(f->v);
    if (const Field* f = Get(fields, "probes")) Probes(f->v);
    if (const Field* f = Get(fields, "commands")) Commands(f->v);
    if (const Field* f = Get(fields, "answers")) Answers(f->v);
    if (const Field* f = Get(fields, "expect")) Expect(f->v);
  }

 private:
  // ---- Names of the runbook ----------------------------------------------------------------------
  bool FindRunbook(bool written) {
    std::vector<std::string> names;
    for (size_t i = 0; i < p_.runbooks.size(); ++i) {
      const std::string& name = Str(p_.runbooks[i].name);
      names.push_back(name);
      if (name == out_.runbook) {
        rb_ = &p_.runbooks[i];
        rb_index_ = static_cast<uint32_t>(i);
      }
    }
    if (rb_) return true;
    std::string msg = written ? fmt::format("no runbook `{}` in the compiled program", out_.runbook)
                              : fmt::format("this scenario has no `runbook:` key and its directory `{}` names no runbook",
                                            out_.runbook);
    r_.Error(out_.runbook_mark, fmt::format("{}; {}", msg, Hint(out_.runbook, names, "runbooks")));
    return false;
  }

  const std::string& Str(uint32_t i) const {
    static const std::string kEmpty;
    return i < p_.strings.size() ? p_.strings[i] : kEmpty;
  }

  void CollectNames() {
    for (const auto& s : rb_->symptoms) symptoms_.push_back(Str(s.name));
    for (const auto& s : rb_->steps) steps_.push_back(Str(s.name));
    for (const auto& row : rb_->rows) rows_.push_back(Str(row.text));
    if (p_.policy) {
      for (const auto& row : p_.policy->rows) rows_.push_back(Str(row.text));
    }
    for (const auto& c : p_.contacts) contacts_.push_back(Str(c.name));
    // Questions: the operands of ASK in the runbook's and the policy's chunks.
    std::set<std::string> seen;
    for (const auto& chunk : p_.chunks) {
      if (chunk.owner != rb_index_ && chunk.owner != kPolicyOwner) continue;
      for (uint32_t w : chunk.code) {
        if (OpByte(w) != static_cast<uint8_t>(Op::kASK)) continue;
        uint32_t k = OperandA(w);
        if (k >= p_.constants.size() || p_.constants[k].type != ValueType::kString) continue;
        const std::string& q = Str(p_.constants[k].string);
        if (seen.insert(q).second) questions_.push_back(q);
      }
    }
  }

  // ---- Scalars -----------------------------------------------------------------------------------
  std::optional<int64_t> Duration(const YAML::Node& n, std::string_view what) {
    auto s = WantScalar(r_, n, what);
    if (!s) return std::nullopt;
    auto ms = ParseDurationMs(*s);
    if (!ms) r_.Error(n, fmt::format("{}: expected a duration such as 5m or 90s, got {}", what, Quote(*s)));
    return ms;
  }

  // A time inside the scenario: 0s .. duration.
  std::optional<int64_t> Time(const YAML::Node& n) {
    auto ms = Duration(n, "at");
    if (!ms) return std::nullopt;
    if (*ms > out_.duration_ms) {
      r_.Error(n, fmt::format("at {} is after the end of the scenario (duration: {})", ShowMs(*ms), ShowMs(out_.duration_ms)));
      return std::nullopt;
    }
    return ms;
  }

  std::optional<bool> Bool(const YAML::Node& n, std::string_view what) {
    auto s = WantScalar(r_, n, what);
    if (!s) return std::nullopt;
    std::string err;
    auto v = ParseLiteral(*s, ValueType::kBool, err);
    if (!v) {
      r_.Error(n, fmt::format("{}: {}", what, err));
      return std::nullopt;
    }
    return v->number != 0;
  }

  // `true` only: `timeout: true`, `unknown: true`.
  bool Flag(const YAML::Node& n, std::string_view what) {
    auto b = Bool(n, what);
    if (b && !*b) r_.Error(n, fmt::format("`{}: false` says nothing: write `{}: true` or leave it out", what, what));
    return b.value_or(false);
  }

  // Points strictly increasing in time.
  bool InOrder(std::optional<int64_t>& last, int64_t at, const YAML::Node& at_node) {
    if (last && at <= *last) {
      r_.Error(at_node, fmt::format("at {} does not come after the previous point ({}): list points in time order, one per time",
                                    ShowMs(at), ShowMs(*last)));
      return false;
    }
    last = at;
    return true;
  }

  // ---- Params ------------------------------------------------------------------------------------
  void Params(const YAML::Node& n) {
    if (!WantMap(r_, n, "params", "{queue: celery}")) return;
    std::vector<std::string> names;
    for (const auto& p : rb_->params) names.push_back(Str(p.name));
    for (const auto& f : Fields(r_, n, {}, "params")) {
      const Param* param = nullptr;
      for (const auto& p : rb_->params) {
        if (Str(p.name) == f.key) param = &p;
      }
      if (!param) {
        r_.Error(f.k, fmt::format("no param `{}` in runbook {}; {}", f.key, out_.runbook, Hint(f.key, names, "params")));
        continue;
      }
      if (param->type == ValueType::kSecret || param->def == Param::Default::kSecret) {
        r_.Error(f.k, fmt::format("param `{}` is a secret: a scenario never holds secrets (commands show it as ***)", f.key));
        continue;
      }
      auto text = WantScalar(r_, f.v, fmt::format("param `{}`", f.key));
      if (!text) continue;
      std::string err;
      if (!ParseLiteral(*text, param->type, err)) {
        r_.Error(f.v, fmt::format("param `{}` is {}: {}", f.key, TypePhrase(param->type), err));
        continue;
      }
      out_.params[f.key] = EnvParam{*text, r_.At(f.v)};
    }
  }

  // ---- Probes ------------------------------------------------------------------------------------
  const Target* FindTarget(const std::string& name) const {
    for (const auto& t : rb_->targets) {
      if (Str(t.name) == name) return &t;
    }
    if (p_.policy) {
      for (const auto& t : p_.policy->targets) {
        if (Str(t.name) == name) return &t;
      }
    }
    return nullptr;
  }

  void Probes(const YAML::Node& n) {
    if (!WantMap(r_, n, "probes", "redis.ping(): true")) return;
    std::set<std::string> seen;
    for (const auto& f : Fields(r_, n, {}, "probes")) {
      ProbeSeries ps;
      ps.key = f.key;
      ps.mark = r_.At(f.k);
      const NativeDecl* decl = ResolveProbe(f, ps);
      if (!decl) continue;
      // Probes are answered by binding: the runbook's and the policy's targets of one binding are one probe.
      std::string sig = ps.binding + "|" + ps.method + "(";
      for (const auto& a : ps.args) sig += fmt::format("{}:{}:{};", ValueTypeName(a.type), a.type == ValueType::kString ? a.Text().size() : 0, ToString(a));
      if (!seen.insert(sig).second) {
        r_.Error(f.k, fmt::format("probe `{}` is listed twice (the same binding, method and arguments): keep one", f.key));
        continue;
      }
      if (ProbeTimeline(f.v, *decl, ps)) out_.probes.push_back(std::move(ps));
    }
  }

  const NativeDecl* ResolveProbe(const Field& f, ProbeSeries& ps) {
    std::string err;
    auto key = ParseProbeKey(f.key, err);
    if (!key) {
      r_.Error(f.k, fmt::format("probe {}: {}; write target.method(args) as the runbook does, e.g. redis.ping() or "
                                "api.metric(\"name\")",
                                Quote(f.key), err));
      return nullptr;
    }
    const Target* t = FindTarget(key->target);
    if (!t) {
      std::vector<std::string> names;
      for (const auto& x : rb_->targets) names.push_back(Str(x.name));
      if (p_.policy) {
        for (const auto& x : p_.policy->targets) {
          if (std::find(names.begin(), names.end(), Str(x.name)) == names.end()) names.push_back(Str(x.name));
        }
      }
      r_.Error(f.k, fmt::format("no target `{}` in runbook {} or the policy; {}", key->target, out_.runbook,
                                Hint(key->target, names, "targets")));
      return nullptr;
    }
    const std::string& cap = Str(t->capability);
    std::string native = cap + "." + key->method;
    const NativeDecl* decl = reg_.Native(native);
    if (!decl || decl->is_filter) {
      std::vector<std::string> methods;
      std::string prefix = cap + ".";
      for (const auto& [name, d] : reg_.natives()) {
        if (!d.is_filter && name.rfind(prefix, 0) == 0) methods.push_back(name.substr(prefix.size()));
      }
      r_.Error(f.k, fmt::format("`{}` is a {} target and {} has no method `{}`; {}", key->target, cap, cap, key->method,
                                Hint(key->method, methods, "methods")));
      return nullptr;
    }
    if (key->args.size() != decl->params.size()) {
      std::vector<std::string> types;
      for (auto p : decl->params) types.push_back(ValueTypeName(p));
      r_.Error(f.k, fmt::format("{} takes {} argument{} ({}), got {}", native, decl->params.size(),
                                decl->params.size() == 1 ? "" : "s", Join(types), key->args.size()));
      return nullptr;
    }
    bool ok = true;
    for (size_t i = 0; i < key->args.size(); ++i) {
      const ProbeArg& a = key->args[i];
      ValueType want = decl->params[i];
      if (want == ValueType::kString) {
        if (!a.quoted) {
          r_.Error(f.k, fmt::format("argument {} of {} is text: quote it, e.g. \"{}\"", i + 1, native, a.text));
          ok = false;
        } else {
          ps.args.push_back(Value::String(a.text));
        }
        continue;
      }
      if (a.quoted) {
        r_.Error(f.k, fmt::format("argument {} of {} is {}: write it without quotes, e.g. {}", i + 1, native, TypePhrase(want),
                                  TypeExample(want)));
        ok = false;
        continue;
      }
      std::string lerr;
      auto v = ParseLiteral(a.text, want, lerr);
      if (!v) {
        r_.Error(f.k, fmt::format("argument {} of {}: {}", i + 1, native, lerr));
        ok = false;
        continue;
      }
      ps.args.push_back(std::move(*v));
    }
    if (!ok) return nullptr;
    ps.target = key->target;
    ps.binding = Str(t->binding);
    ps.method = native;
    return decl;
  }

  // A probe value of the method's result type.
  std::optional<Value> ProbeValue(const YAML::Node& n, const NativeDecl& decl, const std::string& key) {
    if (decl.result == ValueType::kLines && n.IsSequence()) {
      std::vector<std::string> lines;
      for (const auto& item : n) {
        if (!item.IsScalar()) {
          r_.Error(item, fmt::format("{} returns lines: each entry must be one line of text, got {}", key, NodeKind(item)));
          return std::nullopt;
        }
        lines.push_back(item.Scalar());
      }
      return Value::Lines(std::move(lines));
    }
    if (!n.IsScalar()) {
      r_.Error(n, fmt::format("{} returns {}: write {}, got {}", key, TypePhrase(decl.result), TypeExample(decl.result),
                              NodeKind(n)));
      return std::nullopt;
    }
    std::string err;
    auto v = ParseLiteral(n.Scalar(), decl.result, err);
    if (!v) {
      r_.Error(n, fmt::format("{} returns {}: write {}, got {}", key, TypePhrase(decl.result), TypeExample(decl.result),
                              Quote(n.Scalar())));
    }
    return v;
  }

  bool ProbeTimeline(const YAML::Node& n, const NativeDecl& decl, ProbeSeries& ps) {
    size_t before = r_.count;
    if (n.IsScalar()) {
      if (auto v = ProbeValue(n, decl, ps.key)) ps.points.push_back(ProbePoint{0, ProbePoint::Kind::kValue, *v, "", r_.At(n)});
    } else if (n.IsMap()) {
      std::optional<int64_t> last;
      ProbePointFrom(n, decl, ps, false, last);
    } else if (n.IsSequence()) {
      bool all_scalars = n.size() > 0 || decl.result == ValueType::kLines;
      for (const auto& item : n) all_scalars = all_scalars && item.IsScalar();
      if (decl.result == ValueType::kLines && all_scalars) {
        if (auto v = ProbeValue(n, decl, ps.key)) ps.points.push_back(ProbePoint{0, ProbePoint::Kind::kValue, *v, "", r_.At(n)});
      } else if (n.size() == 0) {
        r_.Error(n, fmt::format("probe {} has no points: give a value, or a list of {{at: 0s, value: ...}} points", ps.key));
      } else {
        std::optional<int64_t> last;
        for (const auto& item : n) {
          if (!item.IsMap()) {
            r_.Error(item, fmt::format("each point of probe {} must be a mapping such as {{at: 1m, value: {}}}, got {}", ps.key,
                                       decl.result == ValueType::kLines ? "\"a line\"" : TypeExample(decl.result), NodeKind(item)));
            continue;
          }
          ProbePointFrom(item, decl, ps, true, last);
        }
      }
    } else {
      r_.Error(n, fmt::format("probe {} has no value: give a value, or a list of {{at: 0s, value: ...}} points", ps.key));
    }
    return r_.count == before;
  }

  // When a timeline point starts: its `at:` (a time after the previous point's), or 0s when `at:`
  // may be left out. nullopt once the problem is reported.
  std::optional<int64_t> PointStart(const YAML::Node& n, const std::vector<Field>& fields, bool at_required,
                                    std::optional<int64_t>& last, const char* missing_at) {
    if (const Field* at = Get(fields, "at")) {
      auto t = Time(at->v);
      if (!t || !InOrder(last, *t, at->v)) return std::nullopt;
      return t;
    }
    if (at_required) {
      r_.Error(n, missing_at);
      return std::nullopt;
    }
    if (!InOrder(last, 0, n)) return std::nullopt;
    return 0;
  }

  void ProbePointFrom(const YAML::Node& n, const NativeDecl& decl, ProbeSeries& ps, bool at_required,
                      std::optional<int64_t>& last) {
    auto fields = Fields(r_, n, {"at", "value", "timeout", "error", "unknown"}, "a probe point");
    ProbePoint pt;
    pt.mark = r_.At(n);
    auto start = PointStart(n, fields, at_required, last, "a point in a list needs `at:`, the time it starts, e.g. at: 2m");
    if (!start) return;
    pt.at_ms = *start;
    int outcomes = 0;
    for (const char* k : {"value", "timeout", "error", "unknown"}) outcomes += Get(fields, k) ? 1 : 0;
    if (fields.size() != n.size()) return;  // a key was wrong: already reported
    if (outcomes != 1) {
      r_.Error(n, fmt::format("a probe point gives exactly one of value, timeout, error or unknown; this one gives {}", outcomes));
      return;
    }
    if (const Field* f = Get(fields, "value")) {
      auto v = ProbeValue(f->v, decl, ps.key);
      if (!v) return;
      pt.kind = ProbePoint::Kind::kValue;
      pt.value = std::move(*v);
    } else if (const Field* f = Get(fields, "timeout")) {
      if (!Flag(f->v, "timeout")) return;
      pt.kind = ProbePoint::Kind::kTimeout;
      pt.reason = "timeout";
    } else if (const Field* f = Get(fields, "unknown")) {
      if (!Flag(f->v, "unknown")) return;
      pt.kind = ProbePoint::Kind::kUnknown;
      pt.reason = "unknown";
    } else if (const Field* f = Get(fields, "error")) {
      auto s = WantScalar(r_, f->v, "error");
      if (!s) return;
      if (Trim(*s).empty()) {
        r_.Error(f->v, "error: give the error text, e.g. error: \"connection refused\"");
        return;
      }
      pt.kind = ProbePoint::Kind::kError;
      pt.reason = *s;
    }
    ps.points.push_back(std::move(pt));
  }

  // ---- Commands ----------------------------------------------------------------------------------
  void Commands(const YAML::Node& n) {
    if (!WantMap(r_, n, "commands", "redis-cli ping: {stdout: PONG}")) return;
    std::set<std::vector<std::string>> seen;
    for (const auto& f : Fields(r_, n, {}, "commands")) {
      CommandSeries cs;
      cs.key = f.key;
      cs.mark = r_.At(f.k);
      std::string err;
      auto argv = SplitArgv(f.key, err);
      if (!argv) {
        r_.Error(f.k, fmt::format("command {}: {}", Quote(f.key), err));
        continue;
      }
      if (argv->empty()) {
        r_.Error(f.k, "a command key is empty: write the command as the runbook runs it, e.g. redis-cli ping");
        continue;
      }
      if (!seen.insert(*argv).second) {
        r_.Error(f.k, fmt::format("command `{}` is listed twice: keep one", f.key));
        continue;
      }
      if (std::string slot = SlotIn(f.key); !slot.empty()) {
        r_.Error(f.k, fmt::format("command `{}` holds `{{{}}}`: commands are matched as bound, so write its value "
                                  "(as `runbook plan` shows it) instead",
                                  f.key, slot));
        continue;
      }
      cs.argv = std::move(*argv);
      size_t before = r_.count;
      std::optional<int64_t> last;
      if (f.v.IsMap()) {
        CommandPointFrom(f.v, cs, false, last);
      } else if (f.v.IsSequence() && f.v.size() > 0) {
        for (const auto& item : f.v) {
          if (!item.IsMap()) {
            r_.Error(item, fmt::format("each point of command `{}` must be a mapping such as {{at: 1m, stdout: PONG}}, got {}",
                                       f.key, NodeKind(item)));
            continue;
          }
          CommandPointFrom(item, cs, true, last);
        }
      } else {
        r_.Error(f.v, fmt::format("command `{}` needs its output: a mapping such as {{stdout: PONG}} or a list of "
                                  "{{at: 1m, exit: 1, stderr: ...}} points, got {}",
                                  f.key, NodeKind(f.v)));
      }
      if (r_.count == before) out_.commands.push_back(std::move(cs));
    }
  }

  // The first `{name}` in `text` that names a param or target of the runbook, else "".
  std::string SlotIn(const std::string& text) const {
    for (size_t open = text.find('{'); open != std::string::npos; open = text.find('{', open + 1)) {
      size_t close = text.find('}', open);
      if (close == std::string::npos) break;
      std::string name = text.substr(open + 1, close - open - 1);
      for (const auto& p : rb_->params) {
        if (Str(p.name) == name) return name;
      }
      for (const auto& t : rb_->targets) {
        if (Str(t.name) == name) return name;
      }
    }
    return "";
  }

  void CommandPointFrom(const YAML::Node& n, CommandSeries& cs, bool at_required, std::optional<int64_t>& last) {
    auto fields = Fields(r_, n, {"at", "stdout", "stderr", "exit", "timeout"}, "a command point");
    CommandPoint pt;
    pt.mark = r_.At(n);
    auto start = PointStart(n, fields, at_required, last, "a point in a list needs `at:`, the time it starts, e.g. at: 2m");
    if (!start) return;
    pt.at_ms = *start;
    if (const Field* f = Get(fields, "stdout")) {
      auto s = WantScalar(r_, f->v, "stdout", true);
      if (!s) return;
      pt.out = *s;
    }
    if (const Field* f = Get(fields, "stderr")) {
      auto s = WantScalar(r_, f->v, "stderr", true);
      if (!s) return;
      pt.err = *s;
    }
    if (const Field* f = Get(fields, "exit")) {
      auto s = WantScalar(r_, f->v, "exit");
      if (!s) return;
      auto v = NumberWithUnit(Trim(*s), "", false);
      if (!v || *v != std::floor(*v) || *v > 255) {
        r_.Error(f->v, fmt::format("exit: expected an exit status from 0 to 255, got {}", Quote(*s)));
        return;
      }
      pt.exit_code = static_cast<int>(*v);
    }
    if (const Field* f = Get(fields, "timeout")) {
      auto b = Bool(f->v, "timeout");
      if (!b) return;
      pt.timeout = *b;
    }
    cs.points.push_back(std::move(pt));
  }

  // ---- Answers -----------------------------------------------------------------------------------
  void Answers(const YAML::Node& n) {
    if (!WantMap(r_, n, "answers", "\"¿Data loss?\": no")) return;
    for (const auto& f : Fields(r_, n, {}, "answers")) {
      if (!CheckQuestion(f.key, f.k)) continue;
      std::optional<int64_t> last;
      if (f.v.IsScalar()) {
        if (auto b = Bool(f.v, "an answer")) out_.answers.push_back(AnswerPoint{f.key, 0, *b, r_.At(f.v)});
      } else if (f.v.IsMap()) {
        AnswerFrom(f.key, f.v, false, last);
      } else if (f.v.IsSequence() && f.v.size() > 0) {
        for (const auto& item : f.v) {
          if (!item.IsMap()) {
            r_.Error(item, fmt::format("each answer in a list must be a mapping such as {{at: 2m, answer: yes}}, got {}",
                                       NodeKind(item)));
            continue;
          }
          AnswerFrom(f.key, item, true, last);
        }
      } else {
        r_.Error(f.v, fmt::format("the answer to {} must be yes or no, or {{at: 2m, answer: yes}}, got {}", Quote(f.key),
                                  NodeKind(f.v)));
      }
    }
  }

  void AnswerFrom(const std::string& question, const YAML::Node& n, bool at_required, std::optional<int64_t>& last) {
    auto fields = Fields(r_, n, {"at", "answer"}, "an answer");
    AnswerPoint a;
    a.question = question;
    a.mark = r_.At(n);
    auto start = PointStart(n, fields, at_required, last, "an answer in a list needs `at:`, the time it is given, e.g. at: 2m");
    if (!start) return;
    a.at_ms = *start;
    const Field* ans = Get(fields, "answer");
    if (!ans) {
      r_.Error(n, "an answer needs `answer: yes` or `answer: no`");
      return;
    }
    auto b = Bool(ans->v, "answer");
    if (!b) return;
    a.answer = *b;
    out_.answers.push_back(std::move(a));
  }

  bool CheckQuestion(const std::string& q, const YAML::Node& at) {
    if (std::find(questions_.begin(), questions_.end(), q) != questions_.end()) return true;
    r_.Error(at, fmt::format("no condition of runbook {} or the policy asks {}; {}", out_.runbook, Quote(q),
                             Hint(q, questions_, "questions asked")));
    return false;
  }

  // ---- Expectations ------------------------------------------------------------------------------
  bool CheckName(const std::string& name, const YAML::Node& at, const std::vector<std::string>& names, std::string_view noun,
                 std::string_view owner) {
    if (std::find(names.begin(), names.end(), name) != names.end()) return true;
    r_.Error(at, fmt::format("no {} `{}` in {}; {}", noun, name, owner, Hint(name, names, std::string(noun) + "s")));
    return false;
  }
  bool CheckStep(const std::string& s, const YAML::Node& at) {
    return CheckName(s, at, steps_, "step", fmt::format("runbook {}", out_.runbook));
  }
  bool CheckSymptom(const std::string& s, const YAML::Node& at) {
    return CheckName(s, at, symptoms_, "symptom", fmt::format("runbook {}", out_.runbook));
  }
  bool CheckContact(const std::string& s, const YAML::Node& at) {
    return CheckName(s, at, contacts_, "contact", "the policy");
  }
  bool CheckRow(const std::string& s, const YAML::Node& at) {
    if (std::find(rows_.begin(), rows_.end(), s) != rows_.end()) return true;
    r_.Error(at, fmt::format("no escalation row `{}` in runbook {} or the policy (a row is named by its `when` cell as "
                             "written); {}",
                             s, out_.runbook, Hint(s, rows_, "rows")));
    return false;
  }

  // A list of names, each checked by `check`.
  template <typename Check>
  std::optional<std::vector<std::string>> NameList(const YAML::Node& n, std::string_view what, std::string_view example,
                                                   Check check) {
    auto list = WantScalarList(r_, n, what, example);
    if (!list) return std::nullopt;
    std::vector<std::string> out;
    bool ok = true;
    for (auto& [name, node] : *list) {
      if (!check(name, node)) ok = false;
      out.push_back(name);
    }
    if (!ok) return std::nullopt;
    return out;
  }

  void Expect(const YAML::Node& n) {
    if (!WantMap(r_, n, "expect", "{severity: P2}")) return;
    Expectations& e = out_.expect;
    e.mark = r_.At(n);
    for (const auto& f : Fields(r_, n, {"symptoms", "steps", "skipped", "escalations", "pages", "severity", "pending"},
                                "expect")) {
      e.key_marks[f.key] = r_.At(f.k);
      if (f.key == "symptoms") {
        ExpectSymptoms(f.v);
      } else if (f.key == "steps") {
        ExpectSteps(f.v);
      } else if (f.key == "skipped") {
        e.skipped = NameList(f.v, "expect.skipped", "[restart]",
                             [&](const std::string& s, const YAML::Node& at) { return CheckStep(s, at); });
      } else if (f.key == "escalations") {
        ExpectRows(f.v);
      } else if (f.key == "pages") {
        ExpectPages(f.v);
      } else if (f.key == "severity") {
        if (auto s = WantScalar(r_, f.v, "expect.severity")) {
          if (lang::FromName<lang::Severity>(*s)) e.severity = *s;
          else r_.Error(f.v, fmt::format("expect.severity must be {}, got {}", lang::ListOf<lang::Severity>(), Quote(*s)));
        }
      } else if (f.key == "pending") {
        ExpectPending(f.v);
      }
    }
  }

  void ExpectSymptoms(const YAML::Node& n) {
    if (n.IsNull()) return;
    if (!n.IsSequence()) {
      r_.Error(n, fmt::format("expect.symptoms must be a list such as [{{at: 2m, hold: [ping_error]}}], got {}", NodeKind(n)));
      return;
    }
    for (const auto& item : n) {
      if (!item.IsMap()) {
        r_.Error(item, fmt::format("each entry of expect.symptoms must be a mapping such as {{at: 2m, hold: [ping_error]}}, got {}",
                                   NodeKind(item)));
        continue;
      }
      auto fields = Fields(r_, item, {"at", "hold", "clear", "unknown"}, "a symptom check");
      SymptomExpect se;
      se.mark = r_.At(item);
      bool ok = true;
      if (const Field* at = Get(fields, "at")) {
        auto t = Time(at->v);
        if (t) se.at_ms = *t;
        else ok = false;
      } else {
        r_.Error(item, "a symptom check needs `at:`, the time to check, e.g. at: 2m");
        ok = false;
      }
      std::map<std::string, std::string> where;  // symptom → the list it is in
      for (const char* key : {"hold", "clear", "unknown"}) {
        const Field* f = Get(fields, key);
        if (!f) continue;
        auto list = WantScalarList(r_, f->v, fmt::format("`{}`", key), "[ping_error]");
        if (!list) {
          ok = false;
          continue;
        }
        auto& dest = std::string_view(key) == "hold" ? se.hold : std::string_view(key) == "clear" ? se.clear : se.unknown;
        for (auto& [name, node] : *list) {
          if (!CheckSymptom(name, node)) {
            ok = false;
            continue;
          }
          auto [it, inserted] = where.emplace(name, key);
          if (!inserted) {
            r_.Error(node, fmt::format("symptom `{}` is already in `{}` at this time", name, it->second));
            ok = false;
            continue;
          }
          dest.push_back(name);
        }
      }
      if (ok && se.hold.empty() && se.clear.empty() && se.unknown.empty() && fields.size() == item.size()) {
        r_.Error(item, "a symptom check names no symptom: add hold:, clear: or unknown: lists");
        ok = false;
      }
      if (ok) out_.expect.symptoms.push_back(std::move(se));
    }
  }

  // Optional `at` of an expectation entry.
  bool OptionalAt(const std::vector<Field>& fields, std::optional<int64_t>& at_ms) {
    const Field* at = Get(fields, "at");
    if (!at) return true;
    auto t = Time(at->v);
    if (!t) return false;
    at_ms = *t;
    return true;
  }

  void ExpectSteps(const YAML::Node& n) {
    std::vector<StepExpect> out;
    if (!n.IsNull() && !n.IsSequence()) {
      r_.Error(n, fmt::format("expect.steps must be a list such as [{{step: state, status: ok}}], got {}", NodeKind(n)));
      return;
    }
    bool ok = true;
    for (const auto& item : n) {
      StepExpect se;
      se.mark = r_.At(item);
      if (item.IsScalar()) {
        se.step = item.Scalar();
        if (!CheckStep(se.step, item)) ok = false;
        out.push_back(std::move(se));
        continue;
      }
      if (!item.IsMap()) {
        r_.Error(item, fmt::format("each entry of expect.steps must be a mapping such as {{step: state, status: ok}}, got {}",
                                   NodeKind(item)));
        ok = false;
        continue;
      }
      size_t before = r_.count;
      auto fields = Fields(r_, item, {"step", "at", "run", "status"}, "a step expectation");
      if (const Field* s = Get(fields, "step")) {
        if (auto v = WantScalar(r_, s->v, "step")) {
          se.step = *v;
          CheckStep(se.step, s->v);
        }
      } else {
        r_.Error(item, "a step expectation needs `step:`, the step's name");
      }
      OptionalAt(fields, se.at_ms);
      if (const Field* run = Get(fields, "run")) {
        if (auto list = WantScalarList(r_, run->v, "run", "[\"redis-cli ping\"]")) {
          std::vector<std::string> cmds;
          for (auto& [cmd, node] : *list) cmds.push_back(cmd);
          se.run = std::move(cmds);
        }
      }
      if (const Field* st = Get(fields, "status")) {
        if (auto v = WantScalar(r_, st->v, "status")) {
          if (lang::FromName<lang::StepStatus>(*v)) se.status = *v;
          else r_.Error(st->v, fmt::format("status must be {}, got {}", lang::ListOf<lang::StepStatus>(), Quote(*v)));
        }
      }
      if (r_.count != before) ok = false;
      out.push_back(std::move(se));
    }
    if (ok) out_.expect.steps = std::move(out);
  }

  void ExpectRows(const YAML::Node& n) {
    std::vector<RowExpect> out;
    if (!n.IsNull() && !n.IsSequence()) {
      r_.Error(n, fmt::format("expect.escalations must be a list such as [{{row: \"ping_error for > 5m\", at: 6m}}], got {}",
                              NodeKind(n)));
      return;
    }
    bool ok = true;
    for (const auto& item : n) {
      RowExpect re;
      re.mark = r_.At(item);
      size_t before = r_.count;
      if (item.IsScalar()) {
        re.row = CollapseBlanks(item.Scalar());
        CheckRow(re.row, item);
      } else if (item.IsMap()) {
        auto fields = Fields(r_, item, {"row", "at"}, "an escalation expectation");
        if (const Field* row = Get(fields, "row")) {
          if (auto v = WantScalar(r_, row->v, "row")) {
            re.row = CollapseBlanks(*v);
            CheckRow(re.row, row->v);
          }
        } else {
          r_.Error(item, "an escalation expectation needs `row:`, the row's `when` cell as written");
        }
        OptionalAt(fields, re.at_ms);
      } else {
        r_.Error(item, fmt::format("each entry of expect.escalations must be a mapping such as {{row: \"ping_error for > 5m\", "
                                   "at: 6m}}, got {}",
                                   NodeKind(item)));
      }
      if (r_.count != before) ok = false;
      out.push_back(std::move(re));
    }
    if (ok) out_.expect.escalations = std::move(out);
  }

  void ExpectPages(const YAML::Node& n) {
    std::vector<PageExpect> out;
    if (!n.IsNull() && !n.IsSequence()) {
      r_.Error(n, fmt::format("expect.pages must be a list such as [{{contact: sre, at: 6m}}], got {}", NodeKind(n)));
      return;
    }
    bool ok = true;
    for (const auto& item : n) {
      PageExpect pe;
      pe.mark = r_.At(item);
      size_t before = r_.count;
      if (item.IsScalar()) {
        pe.contact = item.Scalar();
        CheckContact(pe.contact, item);
      } else if (item.IsMap()) {
        auto fields = Fields(r_, item, {"contact", "at"}, "a page expectation");
        if (const Field* c = Get(fields, "contact")) {
          if (auto v = WantScalar(r_, c->v, "contact")) {
            pe.contact = *v;
            CheckContact(pe.contact, c->v);
          }
        } else {
          r_.Error(item, "a page expectation needs `contact:`, a contact of the policy");
        }
        OptionalAt(fields, pe.at_ms);
      } else {
        r_.Error(item, fmt::format("each entry of expect.pages must be a mapping such as {{contact: sre, at: 6m}}, got {}",
                                   NodeKind(item)));
      }
      if (r_.count != before) ok = false;
      out.push_back(std::move(pe));
    }
    if (ok) out_.expect.pages = std::move(out);
  }

  void ExpectPending(const YAML::Node& n) {
    if (!WantMap(r_, n, "expect.pending", "{rows: [], steps: [], asks: []}")) return;
    PendingExpect pe;
    pe.mark = r_.At(n);
    for (const auto& f : Fields(r_, n, {"rows", "steps", "asks"}, "expect.pending")) {
      if (f.key == "rows") {
        auto list = WantScalarList(r_, f.v, "pending.rows", "['ask \"¿Data loss?\"']");
        if (!list) continue;
        std::vector<std::string> rows;
        for (auto& [row, node] : *list) {
          rows.push_back(CollapseBlanks(row));
          CheckRow(rows.back(), node);
        }
        pe.rows = std::move(rows);
      } else if (f.key == "steps") {
        pe.steps = NameList(f.v, "pending.steps", "[restart]",
                            [&](const std::string& s, const YAML::Node& at) { return CheckStep(s, at); });
      } else if (f.key == "asks") {
        pe.asks = NameList(f.v, "pending.asks", "[\"¿Data loss?\"]",
                           [&](const std::string& s, const YAML::Node& at) { return CheckQuestion(s, at); });
      }
    }
    out_.expect.pending = std::move(pe);
  }

  Reader& r_;
  const Program& p_;
  const Registry& reg_;
  Scenario& out_;
  const Runbook* rb_ = nullptr;
  uint32_t rb_index_ = 0;
  std::vector<std::string> symptoms_, steps_, rows_, contacts_, questions_;
};

std::string ScenarioName(const std::string& path) {
  std::string name = FileName(path);
  for (std::string_view suffix : {".scenario.yaml", ".scenario.yml", ".yaml", ".yml"}) {
    if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      return name.substr(0, name.size() - suffix.size());
    }
  }
  return name;
}

}  // namespace

bool LoadScenario(const std::string& path, const Program& program, const Registry& registry, Scenario& out,
                  std::vector<ConfigError>& errors) {
  Reader r(path, errors);
  out = Scenario{};
  out.path = path;
  out.name = ScenarioName(path);
  std::string text;
  try {
    auto root = ReadRoot(path, kScenarioLimit, r, text, "the scenario is",
                         "a scenario is a mapping of keys such as probes:, commands: and expect:",
                         "probes:, commands: and expect: (see docs/scenarios.md)");
    if (!root) return false;
    ScenarioLoader(r, program, registry, out).Load(*root);
  } catch (const std::exception& e) {
    r.Error(Mark{}, fmt::format("cannot read the YAML: {}", e.what()));
  }
  return !r.failed;
}

}  // namespace rb::rt
