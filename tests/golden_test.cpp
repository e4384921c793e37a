// Golden cases: every tests/golden/**/<case>.rb.denis is linted alone (from the repository root) and
// its text report compared with <case>.rb.denis.golden beside it. Refresh the goldens after an
// intended change with:  RUNBOOK_REFRESH_GOLDENS=1 ctest -R Golden   (or tests/refresh-goldens.sh)
#include <gtest/gtest.h>

#include <cstdlib>

#include "tests/test_util.hpp"

namespace rb::test {
namespace {

std::vector<std::string> GoldenCases() {
  std::vector<std::string> cases;
  for (const auto& e : std::filesystem::recursive_directory_iterator(SourceDir() / "tests" / "golden")) {
    std::string p = e.path().string();
    if (e.is_regular_file() && p.size() > 9 && p.compare(p.size() - 9, 9, ".rb.denis") == 0) {
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
  if (refresh && *refresh) {
    std::ofstream(golden, std::ios::binary) << actual;
    return;
  }
  ASSERT_TRUE(std::filesystem::exists(golden)) << "missing " << golden << "; run tests/refresh-goldens.sh";
  EXPECT_EQ(ReadAll(golden), actual) << "golden mismatch for " << rel
                                     << "; if the change is intended run tests/refresh-goldens.sh";
}

std::string CaseName(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = info.param.substr(std::string("tests/golden/").size());
  name = name.substr(0, name.size() - 9);
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Cases, Golden, ::testing::ValuesIn(GoldenCases()), CaseName);

}  // namespace
}  // namespace rb::test
