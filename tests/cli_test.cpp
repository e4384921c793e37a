// The `runbook` binary end to end, as CI and an SRE run it: exit codes, output formats, colour rules
// and `explain`.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/process.hpp"
#include "tests/test_util.hpp"

namespace rb::test {
namespace {

ProcessResult Runbook(std::vector<std::string> args, const std::vector<std::string>& env = {}) {
  std::filesystem::current_path(SourceDir());
  args.insert(args.begin(), RUNBOOK_BINARY);
  return RunProcess(args, env);
}

const std::string kBad = "tests/golden/cli/bad.rb.denis";

TEST(Cli, LintSeedRunbooksIsClean) {
  ProcessResult r = Runbook({"lint", "runbooks"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("9 files checked: 0 errors, 0 warnings"), std::string::npos) << r.out;
}

TEST(Cli, ErrorsExitOneAndNameFileLineColumn) {
  ProcessResult r = Runbook({"lint", kBad});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find(kBad + ":"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("error[RB0060]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("^"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("= hint:"), std::string::npos) << r.out;
}

TEST(Cli, WarningsAloneExitZero) {
  ProcessResult r = Runbook({"lint", "tests/golden/cli/warn.rb.denis"});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("warning[RB0080]"), std::string::npos) << r.out;
}

TEST(Cli, UsageAndIoErrorsExitTwo) {
  EXPECT_EQ(Runbook({"lint", "no/such/file.rb.denis"}).exit_code, 2);
  EXPECT_EQ(Runbook({"lint", "runbooks", "--format", "xml"}).exit_code, 2);
  EXPECT_EQ(Runbook({"frobnicate"}).exit_code, 2);
  EXPECT_EQ(Runbook({}).exit_code, 2);
  ProcessResult missing = Runbook({"lint", "no/such/file.rb.denis"});
  EXPECT_NE(missing.err.find("no/such/file.rb.denis"), std::string::npos);
}

TEST(Cli, JsonFormat) {
  ProcessResult r = Runbook({"lint", "--format", "json", kBad});
  EXPECT_EQ(r.exit_code, 1);
  auto j = nlohmann::json::parse(r.out);
  ASSERT_FALSE(j["diagnostics"].empty());
  const auto& d = j["diagnostics"][0];
  EXPECT_EQ(d["file"], kBad);
  EXPECT_GT(d["line"].get<int>(), 0);
  EXPECT_GT(d["column"].get<int>(), 0);
  EXPECT_EQ(d["severity"], "error");
  EXPECT_TRUE(d["code"].get<std::string>().rfind("RB", 0) == 0);
  EXPECT_GT(j["summary"]["errors"].get<int>(), 0);
}

TEST(Cli, SarifFormatAsCodeScanningWantsIt) {
  ProcessResult r = Runbook({"lint", "--format", "sarif", kBad});
  EXPECT_EQ(r.exit_code, 1);
  auto s = nlohmann::json::parse(r.out);
  EXPECT_EQ(s["version"], "2.1.0");
  EXPECT_TRUE(s.contains("$schema"));
  const auto& run = s["runs"][0];
  EXPECT_EQ(run["tool"]["driver"]["name"], "runbook");
  const auto& rules = run["tool"]["driver"]["rules"];
  ASSERT_FALSE(run["results"].empty());
  for (const auto& res : run["results"]) {
    size_t idx = res["ruleIndex"].get<size_t>();
    ASSERT_LT(idx, rules.size());
    EXPECT_EQ(rules[idx]["id"], res["ruleId"]);
    EXPECT_FALSE(res["message"]["text"].get<std::string>().empty());
    const auto& loc = res["locations"][0]["physicalLocation"];
    EXPECT_EQ(loc["artifactLocation"]["uri"], kBad);
    EXPECT_GE(loc["region"]["startLine"].get<int>(), 1);
    EXPECT_GE(loc["region"]["startColumn"].get<int>(), 1);
  }
}

TEST(Cli, GithubAnnotations) {
  ProcessResult r = Runbook({"lint", "--format", "github", kBad});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out.rfind("::error file=" + kBad + ",line=", 0), 0u) << r.out;
  EXPECT_NE(r.out.find(",title=RB0060 shell syntax in a command::"), std::string::npos) << r.out;
  // A message with a newline (message + hint) stays on one workflow-command line.
  for (size_t pos = 0; (pos = r.out.find('\n', pos)) != std::string::npos; ++pos) {
    if (pos + 1 < r.out.size()) EXPECT_EQ(r.out.substr(pos + 1, 2), "::");
  }
}

TEST(Cli, ColourOnlyWhenAskedOrOnATerminal) {
  EXPECT_EQ(Runbook({"lint", kBad}).out.find("\x1b["), std::string::npos);  // a pipe is not a terminal
  EXPECT_NE(Runbook({"lint", "--color", "always", kBad}).out.find("\x1b["), std::string::npos);
  EXPECT_EQ(Runbook({"lint", "--color", "auto", kBad}, {"NO_COLOR=1"}).out.find("\x1b["), std::string::npos);
  EXPECT_EQ(Runbook({"lint", "--color", "always", "--format", "json", kBad}).out.find("\x1b["), std::string::npos);
}

TEST(Cli, ExplainPrintsTheRule) {
  ProcessResult r = Runbook({"explain", "RB0060"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("RB0060"), std::string::npos);
  EXPECT_NE(r.out.find("Example:"), std::string::npos);
  EXPECT_NE(r.out.find("|> grep"), std::string::npos);
  EXPECT_EQ(Runbook({"explain", "rb0060"}).exit_code, 0);
  ProcessResult unknown = Runbook({"explain", "RB9999"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("RB9999"), std::string::npos);
}

TEST(Cli, CodesListsTheCatalogue) {
  ProcessResult r = Runbook({"codes"});
  EXPECT_EQ(r.exit_code, 0);
  for (const auto& info : Catalogue()) EXPECT_NE(r.out.find(info.code), std::string::npos) << info.code;
}

TEST(Cli, LintWalksDirectoriesForRunbookFilesOnly) {
  auto dir = std::filesystem::temp_directory_path() / "runbook-cli-walk";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir / "sub" / ".hidden");
  std::ofstream(dir / "sub" / "a.rb.denis") << "capability c \"C\" { read x() -> bool \"x\" }\n";
  std::ofstream(dir / "sub" / ".hidden" / "b.rb.denis") << "garbage\n";
  std::ofstream(dir / "notes.md") << "garbage\n";
  ProcessResult r = Runbook({"lint", dir.string()});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("1 file checked"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace rb::test
