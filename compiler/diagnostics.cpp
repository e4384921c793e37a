#include "compiler/diagnostics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

namespace rb {

const char* SeverityName(Severity s) {
  switch (s) {
    case Severity::kError: return "error";
    case Severity::kWarning: return "warning";
    case Severity::kNote: return "note";
  }
  return "error";
}

const std::vector<DiagInfo>& Catalogue() {
  static const std::vector<DiagInfo> kCatalogue = {
#define RB_DIAG(name, code, sev, title, doc, example) \
  DiagInfo{DiagKind::k##name, code, Severity::sev, title, doc, example},
#include "compiler/diagnostic_kinds.def"
#undef RB_DIAG
  };
  return kCatalogue;
}

const DiagInfo& Info(DiagKind kind) { return Catalogue()[static_cast<size_t>(kind)]; }

const DiagInfo* FindCode(std::string_view code) {
  for (const auto& info : Catalogue()) {
    if (code.size() == 6 && std::equal(code.begin(), code.end(), info.code,
                                       [](char a, char b) { return std::toupper(a) == b; })) {
      return &info;
    }
  }
  return nullptr;
}

void Diagnostics::Add(DiagKind kind, std::shared_ptr<const Source> source, ast::Span span, std::string message,
                      std::string hint) {
  diags_.push_back(Diagnostic{kind, std::move(source), span, std::move(message), std::move(hint)});
}

size_t Diagnostics::errors() const {
  return std::count_if(diags_.begin(), diags_.end(),
                       [](const Diagnostic& d) { return d.severity() == Severity::kError; });
}

size_t Diagnostics::warnings() const {
  return std::count_if(diags_.begin(), diags_.end(),
                       [](const Diagnostic& d) { return d.severity() == Severity::kWarning; });
}

namespace {
bool Before(const Diagnostic& a, const Diagnostic& b) {
  const std::string& pa = a.source ? a.source->path() : std::string();
  const std::string& pb = b.source ? b.source->path() : std::string();
  if (pa != pb) return pa < pb;
  return a.span.begin < b.span.begin;
}
}  // namespace

void Diagnostics::Sort() {
  std::stable_sort(diags_.begin(), diags_.end(), Before);
  std::stable_sort(suppressed_.begin(), suppressed_.end(),
                   [](const SuppressedDiagnostic& a, const SuppressedDiagnostic& b) { return Before(a.diag, b.diag); });
}

void Diagnostics::Suppress(const std::function<std::optional<std::string>(const Diagnostic&)>& why) {
  std::vector<Diagnostic> kept;
  for (auto& d : diags_) {
    if (std::optional<std::string> reason = why(d)) {
      suppressed_.push_back(SuppressedDiagnostic{std::move(d), std::move(*reason)});
    } else {
      kept.push_back(std::move(d));
    }
  }
  diags_ = std::move(kept);
}

namespace {

struct Located {
  std::string path;
  LineCol start;
  LineCol end;
};

Located Locate(const Diagnostic& d) {
  if (!d.source) return Located{"<none>", {}, {}};
  return Located{d.source->path(), d.source->At(d.span.begin), d.source->At(std::max(d.span.end, d.span.begin))};
}

// Makes a slice of a source line printable: control bytes become their Unicode pictures (NUL → ␀) and
// bytes that are not UTF-8 become \xHH, so a report never carries binary data. Tabs are kept.
std::string Printable(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '\t') {
      out += '\t';
      ++i;
    } else if (c < 0x20 || c == 0x7F) {
      uint32_t pic = c == 0x7F ? 0x2421 : 0x2400 + c;  // U+2400 CONTROL PICTURES
      out += static_cast<char>(0xE0 | (pic >> 12));
      out += static_cast<char>(0x80 | ((pic >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (pic & 0x3F));
      ++i;
    } else if (c < 0x80) {
      out += static_cast<char>(c);
      ++i;
    } else {
      size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
      bool ok = n > 0 && c <= 0xF4 && i + n <= s.size();
      for (size_t k = 1; ok && k < n; ++k) ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
      if (ok && InvisibleName(DecodeUtf8(s.substr(i), n))) {
        // Shown, not obeyed: a raw override would reorder the snippet in the terminal too.
        out += fmt::format("<U+{:04X}>", DecodeUtf8(s.substr(i), n));
        i += n;
      } else if (ok) {
        out.append(s.substr(i, n));
        i += n;
      } else {
        out += fmt::format("\\x{:02X}", c);
        ++i;
      }
    }
  }
  return out;
}

// The source line (cut around the span when long) and a caret line under the span.
void AppendSnippet(std::string& out, const Diagnostic& d, const Located& loc, bool color,
                   const std::vector<ast::Span>& masks) {
  if (!d.source) return;
  std::string masked;  // the line with every credential's code points replaced by `*`
  std::string_view line = d.source->Line(loc.start.line);
  if (!masks.empty()) {
    uint32_t base = d.source->LineStart(loc.start.line);
    for (size_t i = 0; i < line.size(); ++i) {
      uint32_t at = base + static_cast<uint32_t>(i);
      bool hide = std::any_of(masks.begin(), masks.end(), [&](const ast::Span& m) { return at >= m.begin && at < m.end; });
      masked += hide ? '*' : line[i];  // byte for byte, so offsets and columns stay where they were
    }
    line = masked;
  }
  constexpr size_t kMaxShown = 160;  // bytes of context: a 5 MB line does not flood the terminal
  uint32_t line_start = d.source->LineStart(loc.start.line);
  size_t start = std::min<size_t>(d.span.begin - line_start, line.size());
  size_t stop = loc.end.line == loc.start.line ? std::min<size_t>(d.span.end - line_start, line.size()) : line.size();
  stop = std::max(stop, start);
  size_t cut = start > kMaxShown / 2 ? start - kMaxShown / 2 : 0;
  while (cut > 0 && cut < line.size() && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80) --cut;
  size_t shown_end = std::min(line.size(), std::max(stop, cut + kMaxShown));
  shown_end = std::min(shown_end, start + kMaxShown);
  stop = std::min(stop, shown_end);
  std::string before = Printable(line.substr(cut, start - cut));
  std::string under = Printable(line.substr(start, stop - start));
  std::string after = Printable(line.substr(stop, shown_end - stop));
  std::string gutter = fmt::format("{:>5}", loc.start.line);
  const char* lead = cut ? "…" : "";
  const char* trail = shown_end < line.size() ? "…" : "";
  out += fmt::format("{} | {}{}{}{}{}\n", gutter, lead, before, under, after, trail);
  std::string pad = cut ? " " : "";
  for (size_t i = 0; i < before.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(before[i]);
    if (c == '\t') pad += '\t';
    else if ((c & 0xC0) != 0x80) pad += ' ';
  }
  size_t width = std::max<uint32_t>(1, CodePoints(under));
  std::string carets = "^" + std::string(width - 1, '~');
  const char* on = color ? (d.severity() == Severity::kError ? "\x1b[1;31m" : "\x1b[1;33m") : "";
  const char* off = color ? "\x1b[0m" : "";
  out += fmt::format("{} | {}{}{}{}\n", std::string(gutter.size(), ' '), pad, on, carets, off);
}

std::string RenderText(const Diagnostics& diags, const RenderOptions& o) {
  std::string out;
  const char* bold = o.color ? "\x1b[1m" : "";
  const char* off = o.color ? "\x1b[0m" : "";
  for (const auto& d : diags.all()) {
    Located loc = Locate(d);
    const DiagInfo& info = Info(d.kind);
    const char* sev_color = !o.color ? "" : d.severity() == Severity::kError ? "\x1b[1;31m" : "\x1b[1;33m";
    out += fmt::format("{}{}:{}:{}:{} {}{}[{}]{}: {}{}{}\n", bold, loc.path, loc.start.line, loc.start.column, off,
                       sev_color, SeverityName(d.severity()), info.code, off, bold, d.message, off);
    AppendSnippet(out, d, loc, o.color, diags.MasksOf(d.source.get()));
    if (!d.hint.empty()) out += fmt::format("      = hint: {}\n", d.hint);
  }
  if (!o.summary) return out;
  size_t e = diags.errors(), w = diags.warnings();
  size_t total = o.files_checked + o.scenarios_checked + o.environments_checked;
  std::string parts;
  if (o.scenarios_checked + o.environments_checked > 0) {
    auto part = [&](size_t n, const char* one, const char* many) {
      if (n == 0) return;
      parts += fmt::format("{}{} {}", parts.empty() ? " (" : ", ", n, n == 1 ? one : many);
    };
    part(o.files_checked, "runbook file", "runbook files");
    part(o.scenarios_checked, "scenario", "scenarios");
    part(o.environments_checked, "environment", "environments");
    parts += ")";
  }
  out += fmt::format("{} file{} checked{}: {} error{}, {} warning{}", total, total == 1 ? "" : "s", parts, e,
                     e == 1 ? "" : "s", w, w == 1 ? "" : "s");
  if (size_t s = diags.suppressed().size()) out += fmt::format(", {} ignored (runbook:ignore)", s);
  return out + "\n";
}

std::string RenderJson(const Diagnostics& diags, const RenderOptions& o) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& d : diags.all()) {
    Located loc = Locate(d);
    nlohmann::json j = {{"file", loc.path},
                        {"line", loc.start.line},
                        {"column", loc.start.column},
                        {"end_line", loc.end.line},
                        {"end_column", loc.end.column},
                        {"severity", SeverityName(d.severity())},
                        {"code", Info(d.kind).code},
                        {"message", d.message}};
    if (!d.hint.empty()) j["hint"] = d.hint;
    arr.push_back(std::move(j));
  }
  nlohmann::json root = {{"diagnostics", arr},
                         {"summary", {{"files", o.files_checked}, {"errors", diags.errors()}, {"warnings", diags.warnings()}}}};
  if (o.scenarios_checked + o.environments_checked > 0) {
    root["summary"]["scenarios"] = o.scenarios_checked;
    root["summary"]["environments"] = o.environments_checked;
  }
  if (!diags.suppressed().empty()) root["summary"]["ignored"] = diags.suppressed().size();
  return root.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

// A SARIF artifactLocation: a relative reference (percent-encoded, RFC 3986) resolved against
// %SRCROOT%, or a file:// URI for an absolute path.
nlohmann::json ArtifactLocation(const std::string& path) {
  std::string enc;
  for (unsigned char c : path) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '/') {
      enc += static_cast<char>(c);
    } else {
      enc += fmt::format("%{:02X}", c);
    }
  }
  if (!path.empty() && path[0] == '/') return {{"uri", "file://" + enc}};
  return {{"uri", enc}, {"uriBaseId", "%SRCROOT%"}};
}

std::string RenderSarif(const Diagnostics& diags, const RenderOptions&) {
  nlohmann::json rules = nlohmann::json::array();
  for (const auto& info : Catalogue()) {
    rules.push_back({{"id", info.code},
                     {"name", info.title},
                     {"shortDescription", {{"text", info.title}}},
                     {"fullDescription", {{"text", info.doc}}},
                     {"help", {{"text", std::string(info.doc) + "\nExample:\n" + info.example}}},
                     {"defaultConfiguration", {{"level", info.severity == Severity::kError ? "error" : "warning"}}}});
  }
  nlohmann::json results = nlohmann::json::array();
  // The findings, then those a `# runbook:ignore` comment silenced, as results suppressed in source
  // (SARIF 2.1.0 `suppressions`), so a viewer can show them as dismissed with the comment's reason.
  std::vector<std::pair<const Diagnostic*, const std::string*>> all;
  for (const auto& d : diags.all()) all.emplace_back(&d, nullptr);
  for (const auto& s : diags.suppressed()) all.emplace_back(&s.diag, &s.justification);
  for (const auto& [dp, justification] : all) {
    const Diagnostic& d = *dp;
    Located loc = Locate(d);
    const DiagInfo& info = Info(d.kind);
    std::string text = d.message;
    if (!d.hint.empty()) text += " (hint: " + d.hint + ")";
    nlohmann::json region = {{"startLine", loc.start.line},
                             {"startColumn", loc.start.column},
                             {"endLine", loc.end.line},
                             {"endColumn", std::max(loc.end.column, loc.start.column + (loc.end.line == loc.start.line ? 1u : 0u))}};
    nlohmann::json result = {{"ruleId", info.code},
                              {"ruleIndex", static_cast<size_t>(d.kind)},
                              {"level", d.severity() == Severity::kError ? "error" : "warning"},
                              {"message", {{"text", text}}},
                              {"locations",
                               {{{"physicalLocation",
                                  {{"artifactLocation", ArtifactLocation(loc.path)}, {"region", region}}}}}}};
    if (justification) result["suppressions"] = {{{"kind", "inSource"}, {"justification", *justification}}};
    results.push_back(std::move(result));
  }
  nlohmann::json sarif = {
      {"$schema", "https://json.schemastore.org/sarif-2.1.0.json"},
      {"version", "2.1.0"},
      {"runs",
       {{{"tool",
          {{"driver",
            {{"name", "runbook"},
             {"version", "0.1.0"},
             {"rules", rules}}}}},
         {"columnKind", "unicodeCodePoints"},
         {"results", results}}}}};
  return sarif.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

// GitHub workflow commands: property values escape % \r \n : , and messages escape % \r \n.
std::string GhEscape(std::string_view s, bool property) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '%': out += "%25"; break;
      case '\r': out += "%0D"; break;
      case '\n': out += "%0A"; break;
      case ':': out += property ? "%3A" : ":"; break;
      case ',': out += property ? "%2C" : ","; break;
      default: out += c;
    }
  }
  return out;
}

std::string RenderGithub(const Diagnostics& diags, const RenderOptions&) {
  std::string out;
  for (const auto& d : diags.all()) {
    Located loc = Locate(d);
    const DiagInfo& info = Info(d.kind);
    std::string msg = d.message;
    if (!d.hint.empty()) msg += "\nhint: " + d.hint;
    out += fmt::format("::{} file={},line={},col={},endLine={},endColumn={},title={}::{}\n",
                       d.severity() == Severity::kError ? "error" : "warning", GhEscape(loc.path, true), loc.start.line,
                       loc.start.column, loc.end.line, loc.end.column,
                       GhEscape(fmt::format("{} {}", info.code, info.title), true), GhEscape(msg, false));
  }
  return out;
}

}  // namespace

std::string Render(const Diagnostics& diags, const RenderOptions& options) {
  switch (options.format) {
    case OutputFormat::kText: return RenderText(diags, options);
    case OutputFormat::kJson: return RenderJson(diags, options);
    case OutputFormat::kSarif: return RenderSarif(diags, options);
    case OutputFormat::kGithub: return RenderGithub(diags, options);
  }
  return {};
}

std::string Explain(const DiagInfo& info, bool color) {
  const char* bold = color ? "\x1b[1m" : "";
  const char* off = color ? "\x1b[0m" : "";
  std::string example;
  for (std::string_view rest = info.example; !rest.empty();) {
    size_t nl = rest.find('\n');
    example += "    " + std::string(rest.substr(0, nl)) + "\n";
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
  }
  return fmt::format("{}{} ({}): {}{}\n\n{}\n\nExample:\n{}", bold, info.code, SeverityName(info.severity), info.title,
                     off, info.doc, example);
}

}  // namespace rb
