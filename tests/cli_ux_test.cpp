// The command line as people expect it: typos of verbs and options named with the nearest one,
// `help VERB`, `-V`, `lint` with no path, `--werror` / `--max-warnings`, `# runbook:ignore`
// comments in every output format, and the environment's unknown params and contacts as errors.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/process.hpp"
#include "tests/test_util.hpp"

namespace rb::test {
namespace {

bool Has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A directory holding the seed policy (policy/escalation.rb.denis) and `name` with `text`.
struct Project {
  explicit Project(const std::string& dir_name) : dir(dir_name) {
    std::filesystem::create_directories(dir.path() / "policy");
    std::filesystem::copy_file(SourceDir() / "runbooks" / "policy" / "escalation.rb.denis", dir / "policy/escalation.rb.denis");
  }
  std::string Write(const std::string& name, const std::string& text) {
    std::filesystem::create_directories((dir.path() / name).parent_path());
    std::ofstream(dir / name, std::ios::binary) << text;
    return dir / name;
  }
  ScratchDir dir;
};

// `extra` goes inside the runbook, after the target; the steps read nothing.
std::string CacheRunbook(const std::string& extra) {
  return "import std.redis\nimport policy.escalation\n\nrunbook cache \"Cache\" {\n  severity P2\n  owner    sre\n"
         "  target redis = redis(\"redis\")\n" +
         extra +
         "  symptoms {\n    down \"no PONG\" : not redis.ping()\n  }\n"
         "  steps {\n    check state \"State\" when down {\n      $ redis-cli ping\n    }\n  }\n}\n";
}

// ---- Verbs and options ---------------------------------------------------------------------------

TEST(CliUx, UnknownVerbIsNamedWithTheNearest) {
  ProcessResult r = Runbook({"lnit", "runbooks"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "runbook: unknown command \"lnit\": did you mean `lint`?\n");
  EXPECT_EQ(r.out, "");
  ProcessResult far = Runbook({"frobnicate"});
  EXPECT_EQ(far.exit_code, 2);
  EXPECT_TRUE(Has(far.err, "unknown command \"frobnicate\"; the commands are lint, compile,")) << far.err;
  ProcessResult help = Runbook({"help", "rehaerse"});
  EXPECT_EQ(help.exit_code, 2);
  EXPECT_TRUE(Has(help.err, "did you mean `rehearse`?")) << help.err;
}

TEST(CliUx, UnknownOptionIsNamedWithTheNearest) {
  ProcessResult r = Runbook({"lint", "runbooks", "--formt", "json"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "runbook: unknown option \"--formt\" for lint: did you mean `--format`?\n");
  EXPECT_EQ(r.out, "");  // nothing was linted
  ProcessResult eq = Runbook({"test", "runbooks", "--juint=x.xml"});
  EXPECT_EQ(eq.exit_code, 2);
  EXPECT_EQ(eq.err, "runbook: unknown option \"--juint\" for test: did you mean `--junit`?\n");
  ProcessResult far = Runbook({"plan", "runbooks/redis_down.rb.denis", "--everything"});
  EXPECT_EQ(far.exit_code, 2);
  EXPECT_EQ(far.err, "runbook: unknown option \"--everything\" for plan; `runbook help plan` lists its options\n");
  ProcessResult stray = Runbook({"explain", "RB0050", "RB0060"});
  EXPECT_EQ(stray.exit_code, 2);
  EXPECT_TRUE(Has(stray.err, "unexpected argument \"RB0060\" for explain")) << stray.err;
  ProcessResult top = Runbook({"--verison"});
  EXPECT_EQ(top.exit_code, 2);
  EXPECT_TRUE(Has(top.err, "unknown option \"--verison\": did you mean `--version`?")) << top.err;
}

TEST(CliUx, HelpVerbShowsTheVerbsHelp) {
  ProcessResult help = Runbook({"help", "lint"});
  ProcessResult flag = Runbook({"lint", "--help"});
  EXPECT_EQ(help.exit_code, 0) << help.err;
  EXPECT_EQ(help.out, flag.out);
  EXPECT_TRUE(Has(help.out, "--max-warnings")) << help.out;
  ProcessResult all = Runbook({"help"});
  EXPECT_EQ(all.exit_code, 0) << all.err;
  for (const char* verb : {"lint", "compile", "rehearse", "test", "explain", "help"}) EXPECT_TRUE(Has(all.out, verb)) << verb;
}

TEST(CliUx, ShortVersionFlag) {
  ProcessResult v = Runbook({"-V"});
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_EQ(v.out, Runbook({"--version"}).out);
  EXPECT_TRUE(Has(v.out, "runbook 0.1.0")) << v.out;
}

TEST(CliUx, LintWithoutPathChecksTheCurrentDirectory) {
  Project p("ux_lint_cwd");
  p.Write("team/cache.rb.denis", CacheRunbook("  let unread = redis.connected_clients()\n"));
  std::filesystem::current_path(p.dir.path());
  ProcessResult r = RunProcess({RUNBOOK_BINARY, "lint"});
  std::filesystem::current_path(SourceDir());
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(Has(r.out, "team/cache.rb.denis:8:7: warning[RB0244]")) << r.out;  // found below the directory
  EXPECT_TRUE(Has(r.out, "2 files checked: 0 errors, 1 warning")) << r.out;
}

// ---- Warning limits ------------------------------------------------------------------------------

TEST(CliUx, WerrorAndMaxWarnings) {
  Project p("ux_limits");
  std::string two = p.Write("two.rb.denis", CacheRunbook("  let a = redis.connected_clients()\n  let b = redis.used_memory()\n"));
  EXPECT_EQ(Runbook({"lint", two}).exit_code, 0);
  EXPECT_EQ(Runbook({"lint", two, "--max-warnings", "2"}).exit_code, 0);
  ProcessResult over = Runbook({"lint", two, "--max-warnings", "1"});
  EXPECT_EQ(over.exit_code, 1);
  EXPECT_EQ(over.err, "runbook: 2 warnings, more than --max-warnings 1 allows\n");
  ProcessResult werror = Runbook({"lint", two, "--werror", "--format", "json"});
  EXPECT_EQ(werror.exit_code, 1);
  EXPECT_EQ(nlohmann::json::parse(werror.out)["summary"]["warnings"], 2);  // still reported as warnings
  EXPECT_TRUE(Has(werror.err, "--werror")) << werror.err;
  // Errors exit 1 whatever the limits; a bad limit is a usage error.
  std::string bad = p.Write("bad.rb.denis", CacheRunbook("  let a = nosuch.ping()\n"));
  EXPECT_EQ(Runbook({"lint", bad, "--max-warnings", "100"}).exit_code, 1);
  EXPECT_EQ(Runbook({"lint", two, "--max-warnings", "-1"}).exit_code, 2);
  // A clean file passes --werror.
  std::string clean = p.Write("clean.rb.denis", CacheRunbook(""));
  EXPECT_EQ(Runbook({"lint", clean, "--werror"}).exit_code, 0);
}

// ---- Ignore comments -----------------------------------------------------------------------------

TEST(CliUx, IgnoreCommentSilencesItsLineInEveryFormat) {
  Project p("ux_ignore");
  std::string f = p.Write("cache.rb.denis", CacheRunbook("  let a = redis.connected_clients()   # runbook:ignore RB0244 -- on the dashboard\n"
                                                         "  let b = redis.used_memory()\n"));
  ProcessResult text = Runbook({"lint", f, "--werror"});
  EXPECT_EQ(text.exit_code, 1) << text.out;  // b is still a warning
  EXPECT_FALSE(Has(text.out, "let `a` is never read")) << text.out;
  EXPECT_TRUE(Has(text.out, f + ":9:7: warning[RB0244]: let `b` is never read")) << text.out;
  EXPECT_TRUE(Has(text.out, "0 errors, 1 warning, 1 ignored (runbook:ignore)")) << text.out;

  auto json = nlohmann::json::parse(Runbook({"lint", f, "--format", "json"}).out);
  ASSERT_EQ(json["diagnostics"].size(), 1u) << json.dump(2);
  EXPECT_EQ(json["diagnostics"][0]["line"], 9);
  EXPECT_EQ(json["summary"]["ignored"], 1);

  ProcessResult gh = Runbook({"lint", f, "--format", "github"});
  EXPECT_FALSE(Has(gh.out, "line=8,")) << gh.out;
  EXPECT_TRUE(Has(gh.out, "line=9,")) << gh.out;

  auto sarif = nlohmann::json::parse(Runbook({"lint", f, "--format", "sarif"}).out);
  const auto& results = sarif["runs"][0]["results"];
  ASSERT_EQ(results.size(), 2u) << results.dump(2);
  EXPECT_FALSE(results[0].contains("suppressions"));
  EXPECT_EQ(results[1]["locations"][0]["physicalLocation"]["region"]["startLine"], 8);
  EXPECT_EQ(results[1]["suppressions"][0]["kind"], "inSource");
  EXPECT_EQ(results[1]["suppressions"][0]["justification"], "on the dashboard");

  // Once every finding is silenced, --werror passes; compile applies the same comments.
  std::string all = p.Write("all.rb.denis", "# runbook:ignore-file RB0244 -- dashboard lets\n" +
                                                CacheRunbook("  let a = redis.connected_clients()\n"));
  EXPECT_EQ(Runbook({"lint", all, "--werror"}).exit_code, 0);
  ProcessResult compiled = Runbook({"compile", all, "-o", p.dir / "all.rbc"});
  EXPECT_EQ(compiled.exit_code, 0) << compiled.err;
  EXPECT_FALSE(Has(compiled.out, "RB0244")) << compiled.out;
}

TEST(CliUx, StaleMisplacedAndInvalidIgnoresAreReported) {
  Project p("ux_ignore_bad");
  // On the line before the finding: it does not apply there (its own line only), so both show.
  std::string before = p.Write("before.rb.denis", CacheRunbook("  # runbook:ignore RB0244 -- on the line before\n"
                                                               "  let a = redis.connected_clients()\n"));
  ProcessResult r = Runbook({"lint", before});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_TRUE(Has(r.out, "warning[RB0244]: let `a` is never read")) << r.out;
  EXPECT_TRUE(Has(r.out, "warning[RB0261]: unused ignore for RB0244 at " + before + ":8: no RB0244 finding on this line"))
      << r.out;
  // No reason: silences, and says how to give one.
  std::string bare = p.Write("bare.rb.denis", CacheRunbook("  let a = redis.connected_clients()   # runbook:ignore RB0244\n"));
  ProcessResult b = Runbook({"lint", bare});
  EXPECT_FALSE(Has(b.out, "RB0244]")) << b.out;
  EXPECT_TRUE(Has(b.out, "warning[RB0260]: `runbook:ignore` without a reason")) << b.out;
  EXPECT_TRUE(Has(b.out, "= hint: say why after `--`")) << b.out;
  // An error cannot be ignored: the finding stays and the ignore is an error too.
  std::string err = p.Write("err.rb.denis", "# runbook:ignore-file RB0060 -- we want the pipe\n" +
                                                CacheRunbook("  let a = redis.connected_clients()   # runbook:ignore RB0244 -- ok\n"));
  ProcessResult e = Runbook({"lint", err, "--format", "json"});
  EXPECT_EQ(e.exit_code, 1);
  auto json = nlohmann::json::parse(e.out);
  ASSERT_EQ(json["diagnostics"].size(), 1u) << json.dump(2);
  EXPECT_EQ(json["diagnostics"][0]["code"], "RB0262");
  EXPECT_EQ(json["diagnostics"][0]["message"], "RB0060 is an error: errors cannot be ignored");
  // Unknown codes get the nearest one.
  std::string unknown = p.Write("unknown.rb.denis", CacheRunbook("  let a = redis.connected_clients()   # runbook:ignore RB0424 -- typo\n"));
  ProcessResult u = Runbook({"lint", unknown});
  EXPECT_TRUE(Has(u.out, "warning[RB0263]: no diagnostic code RB0424")) << u.out;
  EXPECT_TRUE(Has(u.out, "warning[RB0244]")) << u.out;
}

// ---- Environment files ---------------------------------------------------------------------------

TEST(CliUx, UnknownParamsContactsAndChannelsAreErrors) {
  Project p("ux_env");
  p.Write("app.rb.denis", CacheRunbook("  param ns = \"denis\"\n"));
  std::string env = p.Write("staging.env.yaml",
                            "name: staging\nparams:\n  cache: {nss: other}\ncontacts:\n  sr: {slack: \"#sre\"}\n");
  // A file with an unknown key is not bound to the runbooks: the channel typo has a file of its own.
  std::string channels = p.Write("channels.env.yaml", "name: prod\ncontacts:\n  ops: {slak: \"#ops\"}\n");
  ProcessResult r = Runbook({"lint", p.dir.path().string()});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_TRUE(Has(r.out, env + ":3:11: error[RB0162]: runbook cache declares no param `nss`")) << r.out;
  EXPECT_TRUE(Has(r.out, env + ":5:3: error[RB0163]: contact `sr` is not a contact of policy")) << r.out;
  EXPECT_TRUE(Has(r.out, channels + ":3:9: error[RB0154]: unknown key `slak` in contact `ops`")) << r.out;
  EXPECT_TRUE(Has(r.out, "did you mean `ns`?")) << r.out;
  EXPECT_TRUE(Has(r.out, "did you mean `sre`?")) << r.out;
  EXPECT_TRUE(Has(r.out, "did you mean `slack`?")) << r.out;
}

}  // namespace
}  // namespace rb::test
