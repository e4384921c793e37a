// Bad input never crashes, hangs or passes silently: each case ends in a diagnostic that names the file
// and a position, quickly. (Timing claims live in bench/; here only a generous sanity bound.)
#include <gtest/gtest.h>

#include <chrono>

#include "tests/test_util.hpp"

namespace rb::test {
namespace {

struct Outcome {
  LintResult result;
  double seconds;
};

Outcome LintText(const std::string& name, const std::string& text) {
  std::string path = WriteTemp(name, text);
  auto t0 = std::chrono::steady_clock::now();
  LintResult r = LintFromRoot({path});
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return Outcome{std::move(r), s};
}

// The first diagnostic has `code`, is an error and sits at line:column.
void ExpectFirst(const Outcome& o, const std::string& code, uint32_t line, uint32_t column) {
  ASSERT_FALSE(o.result.diags.all().empty()) << "no diagnostic";
  const Diagnostic& d = o.result.diags.all().front();
  EXPECT_EQ(Info(d.kind).code, code) << RenderText(o.result).substr(0, 2000);
  EXPECT_EQ(d.severity(), Severity::kError);
  ASSERT_TRUE(d.source);
  LineCol lc = d.source->At(d.span.begin);
  EXPECT_EQ(lc.line, line);
  EXPECT_EQ(lc.column, column);
  EXPECT_LT(o.seconds, 10.0);  // a hang would time out; a second is the target (bench/ measures it)
}

const std::string kMinimal = "runbook r \"T\" {\n  severity P2\n}\n";

TEST(BadInput, EmptyFile) { ExpectFirst(LintText("empty.rb.denis", ""), "RB0009", 1, 1); }

TEST(BadInput, OnlyComments) { ExpectFirst(LintText("comments.rb.denis", "# nada\n\n# nada\n"), "RB0009", 3, 7); }

TEST(BadInput, BomAndCrlfAreAccepted) {
  std::string text = "\xEF\xBB\xBFimport std.redis\r\n# c\r\ncapability c \"C\" {\r\n  read x() -> bool \"x\"\r\n    = redis(\"PING\") == \"PONG\"\r\n}\r\n";
  Outcome o = LintText("bom.rb.denis", text);
  EXPECT_TRUE(o.result.diags.all().empty()) << RenderText(o.result);
}

TEST(BadInput, CrlfPositionsCountLikeLf) {
  Outcome o = LintText("crlf.rb.denis", "import std.redis\r\nrunbook r \"T\" {\r\n  bogus\r\n}\r\n");
  ExpectFirst(o, "RB0001", 3, 3);
}

TEST(BadInput, InvalidUtf8) {
  ExpectFirst(LintText("latin1.rb.denis", "runbook r \"Ca\xED" "do\" {\n}\n"), "RB0002", 1, 14);
}

TEST(BadInput, OverlongUtf8) { ExpectFirst(LintText("overlong.rb.denis", "# \xC0\xAF\n"), "RB0002", 1, 3); }

TEST(BadInput, NulByte) {
  ExpectFirst(LintText("nul.rb.denis", std::string("runbook r \"T\" {\n  sev\0erity P2\n}\n", 31)), "RB0003", 2, 6);
}

TEST(BadInput, DeeplyNestedBrackets) {
  std::string deep = "runbook r \"T\" {\n  symptoms {\n    s \"x\" : " + std::string(200000, '(') + "a" +
                     std::string(200000, ')') + "\n  }\n}\n";
  Outcome o = LintText("deep.rb.denis", deep);
  ASSERT_FALSE(o.result.diags.all().empty());
  // The line is over the line limit, so that is what is reported first; without the line limit the
  // depth limit applies (next test).
  ExpectFirst(o, "RB0005", 3, 16385);
}

TEST(BadInput, DeeplyNestedBracketsOnManyLines) {
  std::string deep = "runbook r \"T\" {\n  symptoms {\n    s \"x\" : ";
  for (int i = 0; i < 200000; ++i) deep += "(\n";
  Outcome o = LintText("deep_lines.rb.denis", deep);
  ASSERT_FALSE(o.result.diags.all().empty());
  EXPECT_EQ(Info(o.result.diags.all().front().kind).code, std::string("RB0006"));
  EXPECT_LT(o.seconds, 10.0);
}

TEST(BadInput, FiveMegabyteLine) {
  std::string text = "runbook r \"" + std::string(5u << 20, 'x') + "\" {}\n";
  Outcome o = LintText("long_line.rb.denis", text);
  ExpectFirst(o, "RB0004", 1, 1);  // 5 MB is also over the file limit, which is checked first
}

TEST(BadInput, LongLineUnderTheFileLimit) {
  std::string text = "runbook r \"" + std::string(100000, 'x') + "\" {}\n";
  ExpectFirst(LintText("long_line2.rb.denis", text), "RB0005", 1, 16385);
}

TEST(BadInput, NumbersAndDurationsThatOverflow) {
  std::string text = "runbook r \"T\" {\n  severity P2\n  owner sre\n  symptoms {\n"
                     "    s \"x\" : incident\n  }\n  steps {\n    verify v \"V\" {\n"
                     "      expect s within 99999999999999999999d every 5s\n    }\n  }\n}\n";
  ExpectFirst(LintText("overflow.rb.denis", text), "RB0007", 9, 23);
  ExpectFirst(LintText("overflow2.rb.denis", "runbook r \"T\" { param p = 9007199254740993 }\n"), "RB0007", 1, 27);
  ExpectFirst(LintText("overflow3.rb.denis", "runbook r \"T\" { param p = 106751991167301d }\n"), "RB0007", 1, 27);
}

TEST(BadInput, ImportCycle) {
  auto dir = std::filesystem::temp_directory_path() / "runbook-tests" / "cycle";
  std::filesystem::create_directories(dir);
  // a's runbook hands over to `other`, which is loaded on demand: the cycle is still reported once.
  std::ofstream(dir / "a.rb.denis") << "import b\ncapability ca \"A\" { read x() -> bool \"x\" }\n"
                                       "runbook r \"R\" {\n  escalate {\n    | when | then |\n"
                                       "    | incident | runbook other |\n  }\n}\n";
  std::ofstream(dir / "other.rb.denis") << "runbook other \"O\" { }\n";
  std::ofstream(dir / "b.rb.denis") << "import a\ncapability cb \"B\" { read y() -> bool \"y\" }\n";
  LintResult r = LintFromRoot({(dir / "a.rb.denis").string()});
  auto codes = Codes(r);
  EXPECT_EQ(std::count_if(r.diags.all().begin(), r.diags.all().end(),
                          [](const Diagnostic& d) { return d.kind == DiagKind::kImportCycle; }),
            1) << RenderText(r);
  EXPECT_FALSE(codes.count("RB0036")) << RenderText(r);  // the hand-over resolved
  for (const auto& d : r.diags.all()) {
    if (d.kind == DiagKind::kImportCycle) {
      EXPECT_NE(d.message.find("a.rb.denis → "), std::string::npos) << d.message;
    }
  }
}

TEST(BadInput, TwentyThousandRunbooksInOneFile) {
  std::string text;
  for (int i = 0; i < 20000; ++i) text += "runbook r" + std::to_string(i) + " \"T\" { severity P2 }\n";
  Outcome o = LintText("many.rb.denis", text);
  // The file-level limit is reported at the first runbook over it; those before it are checked.
  bool found = false;
  for (const auto& d : o.result.diags.all()) {
    if (Info(d.kind).code == std::string("RB0010")) {
      found = true;
      EXPECT_EQ(d.source->At(d.span.begin).line, 1001u);
    }
  }
  EXPECT_TRUE(found);
  EXPECT_LT(o.seconds, 10.0);
}

TEST(BadInput, RecoversAfterASyntaxErrorAndKeepsChecking) {
  std::string text = "runbook a \"A\" {\n  bogus\n}\n\nrunbook b \"B\" {\n  severity P9\n}\n\nrunbook c \"C\" {\n  steps {\n"
                     "    check s \"S\" { nope }\n  }\n}\n";
  Outcome o = LintText("recover.rb.denis", text);
  std::vector<std::pair<std::string, uint32_t>> got;
  for (const auto& d : o.result.diags.all()) got.emplace_back(Info(d.kind).code, d.source->At(d.span.begin).line);
  auto has = [&](const std::string& code, uint32_t line) {
    return std::find(got.begin(), got.end(), std::make_pair(code, line)) != got.end();
  };
  EXPECT_TRUE(has("RB0001", 2));
  EXPECT_TRUE(has("RB0033", 6));
  EXPECT_TRUE(has("RB0001", 11));
}

TEST(BadInput, StepWithoutItsBraceSaysSo) {
  Outcome o = LintText("no_brace.rb.denis", "runbook r \"T\" {\n  steps {\n    check a \"A\" foo\n  }\n}\n");
  ExpectFirst(o, "RB0001", 3, 17);
  EXPECT_NE(o.result.diags.all().front().message.find("expected `{` to open the step body"), std::string::npos)
      << o.result.diags.all().front().message;
}

// Found by fuzz_lint: an unclosed block at the end of a file without a final newline reported a span
// one byte past the end of the file.
TEST(BadInput, UnclosedBlockWithoutFinalNewlineStaysInsideTheFile) {
  std::string text = "runbook r \"T\" {\n  steps {";
  Outcome o = LintText("no_newline.rb.denis", text);
  ASSERT_FALSE(o.result.diags.all().empty());
  for (const Diagnostic& d : o.result.diags.all()) {
    ASSERT_TRUE(d.source);
    EXPECT_LE(d.span.begin, d.span.end);
    EXPECT_LE(d.span.end, text.size()) << d.message;
  }
}

// The in-memory entry point (the lint fuzz target's) reports what linting the same file reports.
TEST(BadInput, LintSourceMatchesLintOfTheFile) {
  std::string text = "runbook r \"T\" {\n  severity P9\n}\n";
  Outcome o = LintText("in_memory.rb.denis", text);
  LintResult m = LintSource(WriteTemp("in_memory.rb.denis", text), text);
  EXPECT_EQ(m.files, 1u);
  EXPECT_EQ(RenderText(m), RenderText(o.result));
  EXPECT_EQ(Codes(m), Codes(o.result));
  EXPECT_FALSE(m.diags.all().empty());
}

TEST(BadInput, MissingFileIsAnIoError) {
  LintResult r = LintFromRoot({"does/not/exist.rb.denis"});
  ASSERT_EQ(r.io_errors.size(), 1u);
  EXPECT_NE(r.io_errors[0].find("does/not/exist.rb.denis"), std::string::npos);
}

TEST(BadInput, RandomBytesNeverCrash) {
  // A fixed-seed sweep of mutated copies of a real runbook: each lints to some result without crashing.
  std::string base = ReadAll(SourceDir() / "runbooks" / "redis_down.rb.denis");
  uint32_t seed = 12345;
  auto next = [&] { return seed = seed * 1103515245u + 12345u; };
  for (int i = 0; i < 300; ++i) {
    std::string text = base;
    for (int k = 0; k < 1 + i % 5; ++k) text[next() % text.size()] = static_cast<char>(next() % 128);
    if (i % 7 == 0) text.resize(next() % text.size());
    Outcome o = LintText("mutant.rb.denis", text);
    for (const auto& d : o.result.diags.all()) ASSERT_TRUE(d.source);
  }
}

}  // namespace
}  // namespace rb::test
