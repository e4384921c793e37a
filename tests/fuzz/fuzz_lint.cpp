// Source text → parse, check and lint, as `runbook lint` runs them (in memory: the input is the file
// runbooks/fuzz_input.rb.denis, so its imports, the policy and hand-overs resolve against the seed
// runbooks), then every renderer. Properties: no crash, hang or escaping exception; every diagnostic
// lies inside its file; a clean text really has no errors in any format.
#include <cstdint>
#include <string>

#include "compiler/diagnostics.hpp"
#include "compiler/lint.hpp"
#include "tests/fuzz/fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string kPath = (rb::fuzz::SourceDir() / "runbooks" / "fuzz_input.rb.denis").string();
  std::string text(reinterpret_cast<const char*>(data), size);
  rb::LintResult r = rb::LintSource(kPath, text);
  FUZZ_CHECK(r.files == 1);
  for (const rb::Diagnostic& d : r.diags.all()) {
    FUZZ_CHECK(rb::Info(d.kind).code != nullptr);
    FUZZ_CHECK(!d.message.empty());
    if (d.source) {
      FUZZ_CHECK(d.span.begin <= d.span.end);
      FUZZ_CHECK(d.span.end <= d.source->text().size());
      rb::LineCol lc = d.source->At(d.span.begin);
      FUZZ_CHECK(lc.line >= 1 && lc.column >= 1);
    }
  }
  for (rb::OutputFormat f : {rb::OutputFormat::kText, rb::OutputFormat::kJson, rb::OutputFormat::kSarif,
                             rb::OutputFormat::kGithub}) {
    rb::RenderOptions o;
    o.format = f;
    o.files_checked = r.files;
    std::string out = rb::Render(r.diags, o);
    FUZZ_CHECK(!out.empty() || r.diags.all().empty());
  }
  return 0;
}
