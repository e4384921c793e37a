// Hostile files: FIFOs, devices and directories where a file is expected, symlink loops and dangling
// links under a linted folder, modules reached through symlinks, and a very long import chain.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>

#include "compiler/lint.hpp"
#include "runtime/files.hpp"
#include "tests/process.hpp"
#include "tests/test_util.hpp"

namespace rb::test {
namespace {

namespace fs = std::filesystem;

// A runbook that lints clean wherever a `policy/escalation.rb.denis` is beside or above it.
const char* kRunbook = R"(import std.redis
import policy.escalation

runbook cache_down "Cache Caído" {
  severity P2
  owner    sre
  target r = redis("cache")
  symptoms {
    down "Down" : not r.ping()
  }
  steps {
    verify back "Verificar" {
      $ redis-cli ping
      expect r.ping() within 2m every 5s
    }
  }
}
)";

void Write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

// A scratch tree with the seed policy, so runbooks written into it lint clean.
void AddPolicy(const fs::path& dir) {
  fs::create_directories(dir / "policy");
  fs::copy_file(SourceDir() / "runbooks" / "policy" / "escalation.rb.denis", dir / "policy" / "escalation.rb.denis");
}

// `runbook ARGS` run in `cwd`, killed after 20 s so that a blocked read fails the test (exit 124)
// instead of hanging the suite.
ProcessResult RunIn(const fs::path& cwd, std::vector<std::string> args) {
  fs::current_path(cwd);
  args.insert(args.begin(), {"/usr/bin/timeout", "20", RUNBOOK_BINARY});
  ProcessResult r = RunProcess(args);
  fs::current_path(SourceDir());
  return r;
}

bool Has(const std::vector<std::string>& errors, const std::string& part) {
  return std::any_of(errors.begin(), errors.end(), [&](const std::string& e) { return e.find(part) != std::string::npos; });
}

std::string Joined(const std::vector<std::string>& errors) {
  std::string s;
  for (const auto& e : errors) s += e + "\n";
  return s;
}

// ---- The bounded reader ---------------------------------------------------------------------------

TEST(ReadRegularFile, ReadsARegularFile) {
  ScratchDir dir("read_ok");
  Write(dir.path() / "a.txt", "hello");
  std::string text, error;
  EXPECT_EQ(rt::ReadRegularFile(dir / "a.txt", 100, text, error), rt::FileRead::kOk);
  EXPECT_EQ(text, "hello");
}

TEST(ReadRegularFile, StopsOneBytePastTheLimit) {
  ScratchDir dir("read_big");
  Write(dir.path() / "big.txt", std::string(5000, 'x'));
  std::string text, error;
  EXPECT_EQ(rt::ReadRegularFile(dir / "big.txt", 1024, text, error), rt::FileRead::kTooLarge);
  EXPECT_EQ(text.size(), 1025u);
  EXPECT_EQ(error, "is larger than 1 KiB");
}

TEST(ReadRegularFile, RefusesAFifoADeviceAndADirectoryAtOnce) {
  ScratchDir dir("read_special");
  ASSERT_EQ(mkfifo((dir / "fifo").c_str(), 0600), 0);
  std::string text, error;
  EXPECT_EQ(rt::ReadRegularFile(dir / "fifo", 100, text, error), rt::FileRead::kFailed);
  EXPECT_EQ(error, "is a FIFO, not a file");
  EXPECT_EQ(rt::ReadRegularFile("/dev/zero", 100, text, error), rt::FileRead::kFailed);
  EXPECT_EQ(error, "is a device, not a file");
  EXPECT_EQ(rt::ReadRegularFile(dir.path().string(), 100, text, error), rt::FileRead::kFailed);
  EXPECT_EQ(error, "is a directory");
  EXPECT_EQ(rt::ReadRegularFile(dir / "missing", 100, text, error), rt::FileRead::kFailed);
  EXPECT_EQ(error, "No such file or directory");
}

// ---- FIFOs, devices and directories named by the user -------------------------------------------

TEST(HostileFiles, FifoNamedAsARunbookIsRefusedWithExit2) {
  ScratchDir dir("fifo_runbook");
  ASSERT_EQ(mkfifo((dir / "x.rb.denis").c_str(), 0600), 0);
  for (const char* verb : {"lint", "compile"}) {
    ProcessResult r = RunIn(dir.path(), {verb, "x.rb.denis"});
    EXPECT_EQ(r.exit_code, 2) << verb << "\n" << r.err;
    EXPECT_NE(r.err.find("cannot read x.rb.denis: is a FIFO, not a file"), std::string::npos) << r.err;
  }
}

TEST(HostileFiles, FifoInsideALintedFolderIsReported) {
  ScratchDir dir("fifo_in_folder");
  AddPolicy(dir.path());
  Write(dir.path() / "ok.rb.denis", kRunbook);
  ASSERT_EQ(mkfifo((dir / "pipe.rb.denis").c_str(), 0600), 0);
  ProcessResult r = RunIn(dir.path(), {"lint", "."});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("pipe.rb.denis: is a FIFO, not a file"), std::string::npos) << r.err;
}

TEST(HostileFiles, FifoDeviceOrDirectoryAsScenarioOrEnvironmentIsRefusedWithExit2) {
  ScratchDir dir("fifo_yaml");
  AddPolicy(dir.path());
  Write(dir.path() / "cache_down.rb.denis", kRunbook);
  ASSERT_EQ(mkfifo((dir / "s.scenario.yaml").c_str(), 0600), 0);
  ASSERT_EQ(mkfifo((dir / "env.yaml").c_str(), 0600), 0);
  fs::create_directories(dir.path() / "adir");
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  std::vector<Case> cases = {
      {{"rehearse", "cache_down.rb.denis", "--scenario", "s.scenario.yaml"}, "s.scenario.yaml: error: cannot read: is a FIFO, not a file"},
      {{"rehearse", "cache_down.rb.denis", "--scenario", "/dev/zero"}, "/dev/zero: error: cannot read: is a device, not a file"},
      {{"rehearse", "cache_down.rb.denis", "--scenario", "adir"}, "adir: error: cannot read: is a directory"},
      {{"plan", "cache_down.rb.denis", "--env", "env.yaml"}, "env.yaml: error: cannot read: is a FIFO, not a file"},
      {{"plan", "cache_down.rb.denis", "--env", "adir"}, "adir: error: cannot read: is a directory"},
      {{"test", "s.scenario.yaml"}, "cannot read s.scenario.yaml: is a FIFO, not a file"},
  };
  for (const auto& c : cases) {
    ProcessResult r = RunIn(dir.path(), c.args);
    EXPECT_EQ(r.exit_code, 2) << c.args[0] << " " << c.args.back() << "\n" << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << c.args.back() << "\n" << r.err;
  }
}

TEST(HostileFiles, FifoAsACompiledProgramIsRefused) {
  ScratchDir dir("fifo_rbc");
  ASSERT_EQ(mkfifo((dir / "x.rbc").c_str(), 0600), 0);
  ProcessResult r = RunIn(dir.path(), {"disasm", "x.rbc"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("cannot read x.rbc: is a FIFO, not a file"), std::string::npos) << r.err;
}

// ---- Symlinks under a linted folder ----------------------------------------------------------------

TEST(HostileFiles, DanglingSymlinkAndSymlinkLoopsUnderALintedFolderAreReported) {
  ScratchDir dir("links");
  AddPolicy(dir.path());
  Write(dir.path() / "ok.rb.denis", kRunbook);
  fs::create_symlink("gone.rb.denis", dir.path() / "dangling.rb.denis");
  fs::create_symlink("l2", dir.path() / "l1");
  fs::create_symlink("l1", dir.path() / "l2");
  fs::create_directories(dir.path() / "sub");
  fs::create_directory_symlink("..", dir.path() / "sub" / "up");
  std::vector<std::string> errors;
  std::vector<std::string> files = FilesUnder(dir.path().string(), ".rb.denis", errors);
  std::string all = Joined(errors);
  EXPECT_TRUE(Has(errors, "dangling.rb.denis: dangling symlink to gone.rb.denis")) << all;
  EXPECT_TRUE(Has(errors, "l1: symlink loop")) << all;
  EXPECT_TRUE(Has(errors, "l2: symlink loop")) << all;
  EXPECT_TRUE(Has(errors, (dir.path() / "sub" / "up").string() + ": symlink loop: it leads back to")) << all;
  EXPECT_EQ(errors.size(), 4u) << all;
  // The walk still finds the real files, once each.
  EXPECT_EQ(files, (std::vector<std::string>{dir / "ok.rb.denis", dir / "policy/escalation.rb.denis"}));

  ProcessResult r = RunIn(dir.path(), {"lint", "."});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("dangling.rb.denis: dangling symlink to gone.rb.denis"), std::string::npos) << r.err;
}

TEST(HostileFiles, SymlinkedDirectoryIsWalked) {
  ScratchDir dir("linked_dir");
  AddPolicy(dir.path() / "tree");
  Write(dir.path() / "elsewhere" / "shared.rb.denis", kRunbook);
  fs::create_directory_symlink("../elsewhere", dir.path() / "tree" / "shared");
  std::vector<std::string> errors;
  std::vector<std::string> files = FilesUnder((dir.path() / "tree").string(), ".rb.denis", errors);
  EXPECT_TRUE(errors.empty()) << Joined(errors);
  EXPECT_NE(std::find(files.begin(), files.end(), dir / "tree/shared/shared.rb.denis"), files.end());
}

TEST(HostileFiles, BrokenLinkNamedOnTheCommandLineSaysWhatItIs) {
  ScratchDir dir("named_link");
  fs::create_symlink("nowhere.rb.denis", dir.path() / "x.rb.denis");
  fs::create_symlink("y.rb.denis", dir.path() / "y.rb.denis");
  ProcessResult r = RunIn(dir.path(), {"lint", "x.rb.denis", "y.rb.denis"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("cannot read x.rb.denis: dangling symlink to nowhere.rb.denis"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("cannot read y.rb.denis: symlink loop"), std::string::npos) << r.err;
}

TEST(HostileFiles, BrokenLinkIsReportedOnceByRunbookTest) {
  ScratchDir dir("test_link");
  AddPolicy(dir.path());
  Write(dir.path() / "cache_down.rb.denis", kRunbook);
  fs::create_symlink("gone", dir.path() / "cache_down.scenario.yaml");
  ProcessResult r = RunIn(dir.path(), {"test", "."});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  const std::string msg = "cache_down.scenario.yaml: dangling symlink to gone";
  size_t first = r.err.find(msg);
  ASSERT_NE(first, std::string::npos) << r.err;
  EXPECT_EQ(r.err.find(msg, first + 1), std::string::npos) << r.err;
}

TEST(HostileFiles, ModuleReachedThroughASymlinkIsReportedUnderTheImportingPath) {
  ScratchDir dir("module_link");
  AddPolicy(dir.path() / "real");
  std::ofstream(dir.path() / "real" / "policy" / "escalation.rb.denis", std::ios::app) << "\nnot_a_declaration\n";
  fs::create_directories(dir.path() / "rb");
  fs::create_directory_symlink("../real/policy", dir.path() / "rb" / "policy");
  Write(dir.path() / "rb" / "cache_down.rb.denis", kRunbook);
  ProcessResult r = RunIn(dir.path(), {"lint", "rb/cache_down.rb.denis"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("rb/policy/escalation.rb.denis:"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("real/policy"), std::string::npos) << r.out;
}

// ---- A long import chain ---------------------------------------------------------------------------

// main imports mods.a0, a0 imports a1, ... a(N-1) imports std.redis.
void WriteChain(const fs::path& dir, int n, bool cycle) {
  AddPolicy(dir);
  std::string main = kRunbook;
  main.insert(main.find("\nrunbook"), "import mods.a0\n");
  Write(dir / "main.rb.denis", main);
  fs::create_directories(dir / "mods");
  for (int i = 0; i < n; ++i) {
    std::ofstream out(dir / "mods" / ("a" + std::to_string(i) + ".rb.denis"), std::ios::binary);
    if (i + 1 < n) out << "import mods.a" << i + 1 << "\n";
    else out << (cycle ? "import mods.a0\n" : "import std.redis\n");
  }
}

TEST(HostileFiles, FiftyThousandModuleImportChainIsCheckedAndCompiled) {
  ScratchDir dir("chain");
  WriteChain(dir.path(), 50000, false);
  ProcessResult lint = RunIn(dir.path(), {"lint", "main.rb.denis"});
  EXPECT_EQ(lint.exit_code, 0) << lint.out.substr(0, 2000) << lint.err;
  EXPECT_NE(lint.out.find("1 file checked: 0 errors"), std::string::npos) << lint.out.substr(0, 2000);
  ProcessResult compile = RunIn(dir.path(), {"compile", "main.rb.denis", "-o", "main.rbc"});
  EXPECT_EQ(compile.exit_code, 0) << compile.out.substr(0, 2000) << compile.err;
}

TEST(HostileFiles, LongImportCycleIsReportedOnOneShortLine) {
  ScratchDir dir("chain_cycle");
  WriteChain(dir.path(), 20000, true);
  ProcessResult r = RunIn(dir.path(), {"lint", "main.rb.denis"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  size_t at = r.out.find("error[RB0021]: import cycle: mods/a0.rb.denis → mods/a1.rb.denis");
  ASSERT_NE(at, std::string::npos) << r.out.substr(0, 2000);
  std::string line = r.out.substr(at, r.out.find('\n', at) - at);
  EXPECT_NE(line.find("… 19992 more …"), std::string::npos) << line;
  EXPECT_LT(line.size(), 400u) << line;
}

// ---- What lint accepts, compile accepts --------------------------------------------------------------

// Each input compiled to an "internal error" (the verifier refusing the program) or was silently
// rounded; now lint reports it at the source position and compile writes nothing.
TEST(CompilerLimits, LintReportsWhatCodegenCannotHold) {
  ScratchDir dir("limits");
  AddPolicy(dir.path());
  struct Case {
    std::string from, to, message;
  };
  std::vector<Case> cases = {
      {"within 2m every 5s", "within 400d every 5s", "`within` is at most 366d"},
      {"within 2m every 5s", "within 9007199254740991ms", "`within` is at most 366d"},
      {"within 2m every 5s", "within 2m every 0.5ms", "`every` is counted in whole milliseconds"},
      {"within 2m every 5s", "within 0.5ms", "`within` is counted in whole milliseconds"},
      {"not r.ping()\n", "not r.ping()\n  }\n  escalate {\n    | when | then |\n    |--|--|\n    | down for > 400d | page sre |\n", "`for` is at most 366d"},
      {"not r.ping()\n", "not r.ping()\n  }\n  escalate {\n    | when | then |\n    |--|--|\n    | down for > 0.5ms | page sre |\n", "`for` is counted in whole milliseconds"},
  };
  for (const auto& c : cases) {
    std::string text = kRunbook;
    size_t at = text.find(c.from);
    ASSERT_NE(at, std::string::npos) << c.from;
    text.replace(at, c.from.size(), c.to);
    Write(dir.path() / "x.rb.denis", text);
    ProcessResult lint = RunIn(dir.path(), {"lint", "x.rb.denis"});
    EXPECT_EQ(lint.exit_code, 1) << c.to << "\n" << lint.out << lint.err;
    EXPECT_NE(lint.out.find("error[RB0082]: " + c.message), std::string::npos) << c.to << "\n" << lint.out;
    ProcessResult compile = RunIn(dir.path(), {"compile", "x.rb.denis"});
    EXPECT_EQ(compile.exit_code, 1) << c.to << "\n" << compile.err;
    EXPECT_EQ(compile.err.find("internal error"), std::string::npos) << compile.err;
  }
}

TEST(CompilerLimits, ConditionLongerThanAChunkIsALintError) {
  ScratchDir dir("huge_condition");
  AddPolicy(dir.path());
  Write(dir.path() / "huge.rb.denis", HugeConditionRunbook());
  ProcessResult lint = RunIn(dir.path(), {"lint", "huge.rb.denis"});
  EXPECT_EQ(lint.exit_code, 1) << lint.err;
  EXPECT_NE(lint.out.find("huge.rb.denis:11:14: error[RB0013]: an expectation compiles to up to"), std::string::npos)
      << lint.out.substr(0, 2000);
  ProcessResult compile = RunIn(dir.path(), {"compile", "huge.rb.denis"});
  EXPECT_EQ(compile.exit_code, 1) << compile.err;
  EXPECT_EQ(compile.err.find("internal error"), std::string::npos) << compile.err;
}

TEST(CompilerLimits, LongestDurationsAndLargeConditionsUnderTheLimitsStillCompile) {
  ScratchDir dir("limits_ok");
  AddPolicy(dir.path());
  std::string text = kRunbook;
  text.replace(text.find("within 2m every 5s"), 18, "within 366d every 1ms");
  Write(dir.path() / "x.rb.denis", text);
  ProcessResult compile = RunIn(dir.path(), {"compile", "x.rb.denis"});
  EXPECT_EQ(compile.exit_code, 0) << compile.out << compile.err;
}

// ---- Hidden characters (Trojan Source) ------------------------------------------------------------

LintResult LintText(const ScratchDir& dir, const std::string& text) {
  AddPolicy(dir.path());
  Write(dir.path() / "x.rb.denis", text);
  fs::current_path(dir.path());
  LintOptions o;
  o.paths = {"x.rb.denis"};
  LintResult r = Lint(o);
  fs::current_path(SourceDir());
  return r;
}

TEST(HiddenCharacters, EachIsAnErrorAtItsColumnNamingTheCodePoint) {
  struct Case {
    const char* utf8;
    const char* name;
  };
  for (const Case& c : {Case{"\u202A", "U+202A LEFT-TO-RIGHT EMBEDDING"}, Case{"\u202B", "U+202B RIGHT-TO-LEFT EMBEDDING"},
                        Case{"\u202C", "U+202C POP DIRECTIONAL FORMATTING"}, Case{"\u202D", "U+202D LEFT-TO-RIGHT OVERRIDE"},
                        Case{"\u202E", "U+202E RIGHT-TO-LEFT OVERRIDE"}, Case{"\u2066", "U+2066 LEFT-TO-RIGHT ISOLATE"},
                        Case{"\u2067", "U+2067 RIGHT-TO-LEFT ISOLATE"}, Case{"\u2068", "U+2068 FIRST STRONG ISOLATE"},
                        Case{"\u2069", "U+2069 POP DIRECTIONAL ISOLATE"}, Case{"\u200B", "U+200B ZERO WIDTH SPACE"},
                        Case{"\u200C", "U+200C ZERO WIDTH NON-JOINER"}, Case{"\u200D", "U+200D ZERO WIDTH JOINER"},
                        Case{"\u2060", "U+2060 WORD JOINER"}, Case{"\uFEFF", "U+FEFF ZERO WIDTH NO-BREAK SPACE"},
                        Case{"\u00AD", "U+00AD SOFT HYPHEN"}, Case{"\u200F", "U+200F RIGHT-TO-LEFT MARK"}}) {
    ScratchDir dir("hidden");
    std::string text = kRunbook;
    text.replace(text.find("Cache Caído"), 5, std::string("Cache") + c.utf8);  // in the title string
    LintResult r = LintText(dir, text);
    ASSERT_EQ(r.diags.errors(), 1u) << c.name << "\n" << RenderText(r);
    const Diagnostic& d = *std::find_if(r.diags.all().begin(), r.diags.all().end(),
                                        [](const Diagnostic& x) { return x.severity() == Severity::kError; });
    EXPECT_EQ(d.kind, DiagKind::kInvisibleChar) << c.name;
    EXPECT_EQ(d.source->At(d.span.begin).line, 4u);
    EXPECT_EQ(d.source->At(d.span.begin).column, 26u) << c.name;
    EXPECT_EQ(d.message.rfind(c.name, 0), 0u) << d.message;
    // The report shows the character as text, never raw (a raw override would reorder the report).
    std::string shown = RenderText(r);
    EXPECT_EQ(shown.find(c.utf8), std::string::npos) << c.name;
  }
}

TEST(HiddenCharacters, InCommentsCommandsAndNamesToo) {
  ScratchDir dir("hidden_places");
  std::string text = kRunbook;
  text.replace(text.find("$ redis-cli ping"), 16, "$ redis-cli ping  # \u202E gnip");
  text.replace(text.find("verify back"), 11, "verify ba\u200Dck");
  LintResult r = LintText(dir, text);
  size_t hidden = 0;
  for (const auto& d : r.diags.all()) hidden += d.kind == DiagKind::kInvisibleChar;
  EXPECT_EQ(hidden, 2u) << RenderText(r);
}

TEST(HiddenCharacters, AByteOrderMarkOpeningTheFileIsAllowed) {
  ScratchDir dir("bom");
  LintResult r = LintText(dir, std::string("\xEF\xBB\xBF") + kRunbook);
  EXPECT_EQ(r.diags.errors(), 0u) << RenderText(r);
}

}  // namespace
}  // namespace rb::test
