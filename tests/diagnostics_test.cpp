// The catalogue is the contract: codes are unique and well formed, every code is documented, and every
// code is exercised by some case (a golden file, or a generated input for the size limits).
#include <gtest/gtest.h>

#include <regex>

#include "compiler/diagnostics.hpp"
#include "compiler/parser.hpp"
#include "runtime/config.hpp"
#include "tests/test_util.hpp"

namespace rb::test {
namespace {

TEST(Catalogue, CodesAreUniqueAndWellFormed) {
  std::set<std::string> seen;
  for (const auto& info : Catalogue()) {
    EXPECT_TRUE(std::regex_match(info.code, std::regex("RB[0-9]{4}"))) << info.code;
    EXPECT_TRUE(seen.insert(info.code).second) << "duplicate " << info.code;
    EXPECT_GT(std::string(info.title).size(), 3u) << info.code;
    EXPECT_GT(std::string(info.doc).size(), 30u) << info.code;
    EXPECT_FALSE(std::string(info.example).empty()) << info.code;
    EXPECT_EQ(FindCode(info.code), &info);
  }
  EXPECT_EQ(FindCode("rb0001"), &Catalogue()[0]);
  EXPECT_EQ(FindCode("RB9999"), nullptr);
}

TEST(Catalogue, ExplainShowsDocAndExample) {
  std::string text = Explain(*FindCode("RB0060"), false);
  EXPECT_NE(text.find("RB0060"), std::string::npos);
  EXPECT_NE(text.find("|> grep(\"used\")"), std::string::npos);
  EXPECT_NE(text.find("Example:"), std::string::npos);
}

// Codes that need inputs too large to keep in the repository are produced here.
std::set<std::string> GeneratedCaseCodes() {
  std::set<std::string> codes;
  std::string big(kMaxFileBytes + 10, '#');
  big[kMaxFileBytes / 2] = '\n';
  auto r = LintFromRoot({WriteTemp("too_large.rb.denis", big)});
  for (const auto& c : Codes(r)) codes.insert(c);
  for (const auto& c : Codes(LintFromRoot({WriteTemp("huge_condition.rb.denis", HugeConditionRunbook())}))) codes.insert(c);
  for (const auto& c : Codes(LintWithStdlibRedis(kDriftedRedisModule))) codes.insert(c);  // RB0066, RB0067
  // Scenario and environment files past their size limits (1 MiB, 4 MiB).
  std::string scenario = "# " + std::string((1u << 20) + 10, 'x') + "\n";
  ScratchDir dir("too_large_configs");  // alone: a named environment is checked with the runbooks beside it
  std::ofstream(dir / "too_large.scenario.yaml", std::ios::binary) << scenario;
  for (const auto& c : Codes(LintFromRoot({dir / "too_large.scenario.yaml"}))) codes.insert(c);
  std::string env = "# " + std::string((4u << 20) + 10, 'x') + "\n";
  std::ofstream(dir / "too_large.env.yaml", std::ios::binary) << env;
  for (const auto& c : Codes(LintFromRoot({dir / "too_large.env.yaml"}))) codes.insert(c);
  return codes;
}

TEST(Catalogue, EveryCodeIsExercisedByACase) {
  std::set<std::string> exercised = GeneratedCaseCodes();
  std::regex code_re("\\[(RB[0-9]{4})\\]");
  for (const auto& e : std::filesystem::recursive_directory_iterator(SourceDir() / "tests" / "golden")) {
    if (e.path().extension() != ".golden") continue;
    std::string text = ReadAll(e.path());
    for (std::sregex_iterator it(text.begin(), text.end(), code_re), end; it != end; ++it) exercised.insert((*it)[1]);
  }
  for (const auto& info : Catalogue()) {
    EXPECT_TRUE(exercised.count(info.code)) << info.code << " (" << info.title
                                            << ") is exercised by no case: add tests/golden/.../<case>.rb.denis";
  }
}

// Scenario and environment errors map to their own catalogue entries: every loader kind has a code
// in its range, and `explain` knows it.
TEST(Catalogue, ConfigKindsAreCatalogueEntries) {
  EXPECT_FALSE(DiagKindOf(rt::ConfigKind::kUnreadable));
  for (auto kind : {rt::ConfigKind::kScenarioTooLarge, rt::ConfigKind::kScenarioSymptomCheck, rt::ConfigKind::kEnvTooLarge,
                    rt::ConfigKind::kEnvUnknownParam}) {
    auto d = DiagKindOf(kind);
    ASSERT_TRUE(d);
    EXPECT_STREQ(Info(*d).code, rt::ConfigCode(kind));
    EXPECT_EQ(Info(*d).severity == Severity::kWarning, rt::ConfigIsWarning(kind));
  }
  EXPECT_STREQ(rt::ConfigCode(rt::ConfigKind::kScenarioTooLarge), "RB0100");
  EXPECT_STREQ(rt::ConfigCode(rt::ConfigKind::kEnvTooLarge), "RB0150");
  // Exactly the loaders' kinds hold the codes RB0100-RB0179.
  size_t kinds = 0, in_range = 0;
#define RB_DIAG(name, code, sev, title, doc, example) ++kinds;
#include "runtime/config_kinds.def"
#undef RB_DIAG
  for (const auto& info : Catalogue()) {
    std::string code = info.code;
    if (code >= "RB0100" && code < "RB0180") ++in_range;
  }
  EXPECT_EQ(in_range, kinds);
  EXPECT_NE(Explain(*FindCode("RB0123"), false).find("Example:"), std::string::npos);
}

// A loader's line:col (columns in characters) becomes a caret under the same characters, after
// multi-byte text on the line.
TEST(ConfigDiagnostics, CaretUnderTheYamlNode) {
  std::string path = WriteTemp("caret.scenario.yaml", "answers:\n  \"¿Qué?\": {answer: quizás}\n");
  rt::ConfigError e{path, {2, 21}, "an answer: expected true or false", rt::ConfigKind::kScenarioValue, "write yes or no", 6};
  std::string text = RenderConfigErrors({e}, false);
  EXPECT_NE(text.find(path + ":2:21: error[RB0114]: an answer: expected true or false\n"), std::string::npos) << text;
  EXPECT_NE(text.find("    2 |   \"¿Qué?\": {answer: quizás}\n      |                     ^~~~~~\n"), std::string::npos) << text;
  EXPECT_NE(text.find("= hint: write yes or no"), std::string::npos) << text;
  EXPECT_EQ(text.find("checked"), std::string::npos) << text;  // no summary line
}

// Which files lint reads as environments (docs/environment.md).
TEST(ConfigDiagnostics, EnvironmentFileNames) {
  EXPECT_TRUE(rt::IsEnvironmentFileName("runbooks/environment.example.yaml"));
  EXPECT_TRUE(rt::IsEnvironmentFileName("environment.yaml"));
  EXPECT_TRUE(rt::IsEnvironmentFileName("ops/staging.env.yaml"));
  EXPECT_TRUE(rt::IsEnvironmentFileName("ops/environments/production.yml"));
  EXPECT_FALSE(rt::IsEnvironmentFileName("ops/staging.yaml"));
  EXPECT_FALSE(rt::IsEnvironmentFileName("runbooks/redis_down/outage.scenario.yaml"));
  EXPECT_FALSE(rt::IsEnvironmentFileName("environment.json"));
  EXPECT_TRUE(rt::IsScenarioFileName("runbooks/redis_down/outage.scenario.yaml"));
  EXPECT_FALSE(rt::IsScenarioFileName("outage.yaml"));
}

}  // namespace
}  // namespace rb::test
