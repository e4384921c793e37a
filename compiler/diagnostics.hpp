// User-facing findings (the first of the two error channels): one catalogue of kinds
// (diagnostic_kinds.def), collected Diagnostics, and the renderers for text, JSON, SARIF and GitHub.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/ast.hpp"
#include "compiler/source.hpp"

namespace rb {

enum class Severity : uint8_t { kError, kWarning, kNote };
const char* SeverityName(Severity s);

enum class DiagKind : uint16_t {
#define RB_DIAG(name, code, sev, title, doc, example) k##name,
#include "compiler/diagnostic_kinds.def"
#undef RB_DIAG
};

struct DiagInfo {
  DiagKind kind;
  const char* code;  // "RB0001"
  Severity severity;
  const char* title;
  const char* doc;
  const char* example;
};
const DiagInfo& Info(DiagKind kind);
const std::vector<DiagInfo>& Catalogue();
const DiagInfo* FindCode(std::string_view code);  // nullptr when unknown

struct Diagnostic {
  DiagKind kind;
  std::shared_ptr<const Source> source;  // null for findings about no particular file
  ast::Span span;
  std::string message;
  std::string hint;  // may be empty
  Severity severity() const { return Info(kind).severity; }
};

// A finding silenced by a `# runbook:ignore` comment, with the comment's reason.
struct SuppressedDiagnostic {
  Diagnostic diag;
  std::string justification;
};

// Collects diagnostics for one check run; renderers sort by file and position.
class Diagnostics {
 public:
  void Add(DiagKind kind, std::shared_ptr<const Source> source, ast::Span span, std::string message,
           std::string hint = {});
  // Marks a span of a source as a credential: every snippet that shows it prints `*` instead.
  void Mask(std::shared_ptr<const Source> source, ast::Span span) { masks_.push_back({std::move(source), span}); }
  const std::vector<Diagnostic>& all() const { return diags_; }
  size_t errors() const;
  size_t warnings() const;
  void Sort();
  // Takes every finding `why` gives a justification for out of all(): it is no longer counted or
  // shown (SARIF lists it as suppressed in source, with the justification).
  void Suppress(const std::function<std::optional<std::string>(const Diagnostic&)>& why);
  const std::vector<SuppressedDiagnostic>& suppressed() const { return suppressed_; }

 private:
  std::vector<Diagnostic> diags_;
  std::vector<SuppressedDiagnostic> suppressed_;
  struct Masked {
    std::shared_ptr<const Source> source;
    ast::Span span;
  };
  std::vector<Masked> masks_;

 public:
  // The masked spans of `source` (for renderers).
  std::vector<ast::Span> MasksOf(const Source* source) const {
    std::vector<ast::Span> out;
    for (const auto& m : masks_) {
      if (m.source.get() == source) out.push_back(m.span);
    }
    return out;
  }
};

enum class OutputFormat { kText, kJson, kSarif, kGithub };

struct RenderOptions {
  OutputFormat format = OutputFormat::kText;
  bool color = false;
  size_t files_checked = 0;
  size_t scenarios_checked = 0;     // of them, scenario files (shown in the text summary when any)
  size_t environments_checked = 0;  // of them, environment files
  bool summary = true;              // text: end with the "N files checked" line
};

// Renders all diagnostics (and, for text, a one-line summary) as a string ready to print.
std::string Render(const Diagnostics& diags, const RenderOptions& options);

// `runbook explain RB0123`.
std::string Explain(const DiagInfo& info, bool color);

}  // namespace rb
