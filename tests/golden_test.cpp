// Golden cases: every tests/golden/**/<case>.rb.denis, <case>.scenario.yaml and environment file
// (<case>.env.yaml, environment.yaml) is linted alone (from the repository root) and its text report
// compared with <case>...golden beside it. A scenario is linted with the runbook it names, an
// environment with the runbooks beside it, as `runbook lint FILE` does. Where <case>...sarif.golden or
// <case>...github.golden exist, the SARIF results and the GitHub annotations are compared too.
// Refresh the goldens after an intended change with:
//   RUNBOOK_REFRESH_GOLDENS=1 ctest -R Golden   (or tests/refresh-goldens.sh)
#include <gtest/gtest.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "runtime/config.hpp"

#include "tests/test_util.hpp"

namespace rb::test {
namespace {

std::vector<std::string> GoldenCases() {
  std::vector<std::string> cases;
  for (const auto& e : std::filesystem::recursive_directory_iterator(SourceDir() / "tests" / "golden")) {
    std::string p = e.path().string();
    bool runbook = p.size() > 9 && p.compare(p.size() - 9, 9, ".rb.denis") == 0;
    if (e.is_regular_file() && (runbook || rt::IsScenarioFileName(p) || rt::IsEnvironmentFileName(p))) {
      cases.push_back(std::filesystem::relative(e.path(), SourceDir()).string());
    }
  }
  std::sort(cases.begin(), cases.end());
  return cases;
}

class Golden : public ::testing::TestWithParam<std::string> {};

TEST_P(Golden, MatchesExpectedDiagnostics) {
  const std::string& rel = GetParam();
  LintResult r = LintFromRoot({rel});
  ASSERT_TRUE(r.io_errors.empty()) << r.io_errors.front();
  std::string actual = RenderText(r);
  auto golden = SourceDir() / (rel + ".golden");
  const char* refresh = std::getenv("RUNBOOK_REFRESH_GOLDENS");
  // The other renderers, where the case has goldens for them.
  std::vector<std::pair<std::filesystem::path, std::string>> others;
  for (auto [suffix, format] : {std::pair{".sarif.golden", OutputFormat::kSarif}, std::pair{".github.golden", OutputFormat::kGithub}}) {
    auto path = SourceDir() / (rel + suffix);
    if (!std::filesystem::exists(path)) continue;
    RenderOptions o;
    o.format = format;
    std::string text = Render(r.diags, o);
    if (format == OutputFormat::kSarif) {
      // The results only: the rules are the whole catalogue, which grows with every new code.
      // ruleIndex too: it is the code's place in the catalogue, which entries appended elsewhere move.
      nlohmann::json results = nlohmann::json::parse(text)["runs"][0]["results"];
      for (auto& result : results) result.erase("ruleIndex");
      text = results.dump(2) + "\n";
    }
    others.emplace_back(path, text);
  }
  if (refresh && *refresh) {
    std::ofstream(golden, std::ios::binary) << actual;
    for (const auto& [path, text] : others) std::ofstream(path, std::ios::binary) << text;
    return;
  }
  ASSERT_TRUE(std::filesystem::exists(golden)) << "missing " << golden << "; run tests/refresh-goldens.sh";
  EXPECT_EQ(ReadAll(golden), actual) << "golden mismatch for " << rel
                                     << "; if the change is intended run tests/refresh-goldens.sh";
  for (const auto& [path, text] : others) {
    EXPECT_EQ(ReadAll(path), text) << "golden mismatch for " << path << "; if the change is intended run tests/refresh-goldens.sh";
  }
}

std::string CaseName(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = info.param.substr(std::string("tests/golden/").size());
  for (std::string suffix : {".rb.denis", ".scenario.yaml", ".yaml"}) {
    if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      name = name.substr(0, name.size() - suffix.size());
      break;
    }
  }
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Cases, Golden, ::testing::ValuesIn(GoldenCases()), CaseName);

}  // namespace
}  // namespace rb::test
