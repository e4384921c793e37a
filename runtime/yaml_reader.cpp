#include "runtime/yaml_reader.hpp"

#include <fmt/format.h>
#include <yaml-cpp/eventhandler.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <set>
#include <sstream>

#include "runtime/files.hpp"

namespace rb::rt {

namespace {

#define RB_DIAG(name, code, sev, title, doc, example) {code, Severity##sev},
enum : uint8_t { SeveritykError, SeveritykWarning };
struct KindInfo {
  const char* code;
  uint8_t severity;
};
constexpr KindInfo kKinds[] = {
    {"", SeveritykError},
#include "runtime/config_kinds.def"
};
#undef RB_DIAG

}  // namespace

const char* ConfigCode(ConfigKind kind) { return kKinds[static_cast<size_t>(kind)].code; }
bool ConfigIsWarning(ConfigKind kind) { return kKinds[static_cast<size_t>(kind)].severity == SeveritykWarning; }

std::string ConfigError::ToString() const {
  std::string sev = ConfigIsWarning(kind) ? "warning" : "error";
  if (kind != ConfigKind::kUnreadable) sev += fmt::format("[{}]", ConfigCode(kind));
  std::string out = mark.line == 0 ? fmt::format("{}: {}: {}", file, sev, message)
                                   : fmt::format("{}:{}:{}: {}: {}", file, mark.line, mark.col, sev, message);
  if (!hint.empty()) out += fmt::format(" (hint: {})", hint);
  return out;
}

namespace cfg {

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

std::string Join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += sep;
    out += items[i];
  }
  return out;
}

namespace {

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

}  // namespace

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

ConfigKind KindOf(Family family, Common common) {
  bool s = family == Family::kScenario;
  switch (common) {
    case Common::kTooLarge: return s ? ConfigKind::kScenarioTooLarge : ConfigKind::kEnvTooLarge;
    case Common::kYaml: return s ? ConfigKind::kScenarioYaml : ConfigKind::kEnvYaml;
    case Common::kYamlLimit: return s ? ConfigKind::kScenarioYamlLimit : ConfigKind::kEnvYamlLimit;
    case Common::kEmpty: return s ? ConfigKind::kScenarioEmpty : ConfigKind::kEnvEmpty;
    case Common::kUnknownKey: return s ? ConfigKind::kScenarioUnknownKey : ConfigKind::kEnvUnknownKey;
    case Common::kDuplicateKey: return s ? ConfigKind::kScenarioDuplicateKey : ConfigKind::kEnvDuplicateKey;
    case Common::kShape: return s ? ConfigKind::kScenarioShape : ConfigKind::kEnvShape;
  }
  return ConfigKind::kUnreadable;
}

// ---- Reading YAML --------------------------------------------------------------------------------
void Reader::SetText(const std::string& t) {
  text = &t;
  line_starts.assign(1, t.compare(0, 3, "\xEF\xBB\xBF") == 0 ? 3 : 0);  // yaml-cpp skips a BOM
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i] == '\n') line_starts.push_back(i + 1);
  }
}

Mark Reader::At(int line0, int col0) const {
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

int Reader::Length(const YAML::Node& n) const {
  if (!text || !n.IsDefined() || n.Mark().is_null()) return 0;
  const YAML::Mark m = n.Mark();
  if (m.line < 0 || m.column < 0 || static_cast<size_t>(m.line) >= line_starts.size()) return 0;
  const std::string& t = *text;
  size_t begin = line_starts[static_cast<size_t>(m.line)] + static_cast<size_t>(m.column);
  size_t eol = std::min(t.find('\n', begin), t.size());
  if (begin >= eol) return 0;
  size_t end = begin;  // one past the node's last byte on this line
  char c = t[begin];
  if (n.IsScalar() && (c == '"' || c == '\'')) {
    for (size_t i = begin + 1; i < eol; ++i) {
      if (c == '"' && t[i] == '\\') {
        ++i;
      } else if (t[i] == c) {
        if (c == '\'' && i + 1 < eol && t[i + 1] == '\'') {
          ++i;  // '' is a quote inside '...'
          continue;
        }
        end = i + 1;
        break;
      }
    }
  } else if (n.IsScalar()) {
    const std::string& v = n.Scalar();
    if (!v.empty() && t.compare(begin, v.size(), v) == 0 && begin + v.size() <= eol) end = begin + v.size();
  } else if ((n.IsMap() && c == '{') || (n.IsSequence() && c == '[')) {
    int depth = 0;
    char quote = 0;
    for (size_t i = begin; i < eol; ++i) {
      char d = t[i];
      if (quote) {
        if (d == '\\' && quote == '"') ++i;
        else if (d == quote) quote = 0;
      } else if (d == '"' || d == '\'') {
        quote = d;
      } else if (d == '{' || d == '[') {
        ++depth;
      } else if ((d == '}' || d == ']') && --depth == 0) {
        end = i + 1;
        break;
      }
    }
  }
  int chars = 0;
  for (size_t i = begin; i < end; ++i) chars += (static_cast<unsigned char>(t[i]) & 0xC0) != 0x80;
  return chars;
}

void Reader::Error(ConfigKind kind, Mark m, std::string message, std::string hint, int length) {
  failed = true;
  ++count;
  if (added >= kMaxErrors) return;
  ++added;
  errors.push_back(ConfigError{file, m, std::move(message), kind, std::move(hint), length});
}

bool ReadFile(const std::string& path, size_t limit, std::string& text, std::string& error, ConfigKind& kind,
              Family family) {
  kind = ConfigKind::kUnreadable;
  switch (ReadRegularFile(path, limit, text, error)) {
    case FileRead::kOk: return true;
    case FileRead::kFailed: error = fmt::format("cannot read: {}", error); return false;
    case FileRead::kTooLarge:
      kind = KindOf(family, Common::kTooLarge);
      error = fmt::format("the file is larger than {} MiB: this is not a {} file", limit >> 20,
                          limit == kScenarioLimit ? "scenario" : "configuration");
      return false;
  }
  return false;
}

namespace {

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

}  // namespace

std::string Count(uint64_t n) {
  std::string s = std::to_string(n);
  for (size_t i = s.size(); i > 3; i -= 3) s.insert(i - 3, ",");
  return s;
}

namespace {

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

}  // namespace

// Loads with one HandleNextDocument: yaml-cpp 0.7's LoadAll never ends on a file such as `,`.
std::optional<YAML::Node> ParseYaml(const std::string& text, Reader& r) {
  r.SetText(text);
  if (size_t nul = text.find('\0'); nul != std::string::npos) {
    r.Error(Common::kYaml, MarkAtOffset(text, nul), "the file holds a NUL byte: it is not a YAML text file");
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
        r.Error(refusal.message.rfind("invalid YAML", 0) == 0 ? Common::kYaml : Common::kYamlLimit, r.At(refusal.mark),
                refusal.message);
        return std::nullopt;
      case YamlStop::kSecondDocument:
        r.Error(Common::kYaml, r.At(refusal.mark), AfterDocument(text, offset_of(refusal.mark)));
        return std::nullopt;
      case YamlStop::kAliasCap:
        break;  // worded below, with the alias that first went past the limit
    }
  } catch (const YAML::Exception& e) {
    r.Error(Common::kYaml, r.At(e.mark), fmt::format("invalid YAML: {}", e.msg));
    return std::nullopt;
  } catch (const std::exception& e) {
    r.Error(Common::kYaml, Mark{}, fmt::format("invalid YAML: {}", e.what()));
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
      r.Error(Common::kYamlLimit, r.At(first->mark), fmt::format("aliases expand this file by more than {} values, more than any file may: {}",
                                             Count(kAliasCap), culprit));
    } else {
      r.Error(Common::kYamlLimit, r.At(first->mark), fmt::format("aliases expand this file from {} to {} values; at most {} may come from "
                                             "aliases: {}",
                                             Count(budget.own()), Count(budget.own() + budget.added()), Count(limit),
                                             culprit));
    }
    return std::nullopt;
  }
  try {
    return YAML::Load(text);  // one document, as the first pass saw it
  } catch (const YAML::Exception& e) {
    r.Error(Common::kYaml, r.At(e.mark), fmt::format("invalid YAML: {}", e.msg));
  } catch (const std::exception& e) {
    r.Error(Common::kYaml, Mark{}, fmt::format("invalid YAML: {}", e.what()));
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
      r.Error(Common::kShape, k, fmt::format("a key in {} must be a single value, got {}", what, NodeKind(k)));
      continue;
    }
    std::string key = k.Scalar();
    if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string hint = Hint(key, allowed, "allowed");
      hint = hint.rfind("did you mean", 0) == 0 ? fmt::format("{} allowed: {}", hint, Join(allowed))
                                                : fmt::format("allowed: {}", Join(allowed));
      r.Error(Common::kUnknownKey, k, fmt::format("unknown key `{}` in {}", key, what), hint);
      continue;
    }
    if (!seen.insert(key).second) {
      r.Error(Common::kDuplicateKey, k, fmt::format("`{}` appears twice in {}: keep one", key, what));
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
  r.Error(Common::kShape, n, fmt::format("{} must be a mapping of key: value lines such as {}, got {}", what, example, NodeKind(n)));
  return false;
}

// A single value; null reads as "" when `null_ok`.
std::optional<std::string> WantScalar(Reader& r, const YAML::Node& n, std::string_view what, bool null_ok) {
  if (n.IsScalar()) return n.Scalar();
  if (n.IsNull() && null_ok) return std::string();
  if (n.IsNull()) {
    r.Error(Common::kShape, n, fmt::format("{} has no value", what));
  } else {
    r.Error(Common::kShape, n, fmt::format("{} must be a single value, got {}", what, NodeKind(n)));
  }
  return std::nullopt;
}

// A list of single values (null reads as an empty list).
std::optional<std::vector<std::pair<std::string, YAML::Node>>> WantScalarList(Reader& r, const YAML::Node& n,
                                                                            std::string_view what, std::string_view example) {
  std::vector<std::pair<std::string, YAML::Node>> out;
  if (n.IsNull()) return out;
  if (!n.IsSequence()) {
    r.Error(Common::kShape, n, fmt::format("{} must be a list such as {}, got {}", what, example, NodeKind(n)));
    return std::nullopt;
  }
  bool ok = true;
  for (const auto& item : n) {
    if (!item.IsScalar()) {
      r.Error(Common::kShape, item, fmt::format("each entry of {} must be a single value, got {}", what, NodeKind(item)));
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

std::optional<YAML::Node> ReadRoot(const std::string& path, size_t limit, Reader& r, std::string& text,
                                   const char* subject, const char* mapping_of, const char* expected_keys) {
  std::string error;
  ConfigKind kind = ConfigKind::kUnreadable;
  if (!ReadFile(path, limit, text, error, kind, r.family)) {
    r.Error(kind, Mark{}, error);
    return std::nullopt;
  }
  auto root = ParseYaml(text, r);
  if (!root) return std::nullopt;
  if (root->IsNull()) {
    r.Error(Common::kEmpty, Mark{1, 1}, fmt::format("{} empty: expected keys such as {}", subject, expected_keys));
    return std::nullopt;
  }
  if (!root->IsMap()) {
    r.Error(Common::kEmpty, *root, fmt::format("{}, got {}", mapping_of, NodeKind(*root)));
    return std::nullopt;
  }
  return root;
}

}  // namespace cfg
}  // namespace rb::rt
