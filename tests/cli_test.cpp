// The `runbook` binary end to end, as CI and an SRE run it: exit codes, output formats, colour rules
// and `explain`.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "runtime/rbc.hpp"
#include "tests/process.hpp"
#include "tests/test_util.hpp"

namespace rb::test {
namespace {

const std::string kBad = "tests/golden/cli/bad.rb.denis";

TEST(Cli, LintSeedRunbooksIsClean) {
  ProcessResult r = Runbook({"lint", "runbooks"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  // The runbooks, their scenarios and the example environment, each checked against the others.
  EXPECT_NE(r.out.find("49 files checked (9 runbook files, 39 scenarios, 1 environment): 0 errors, 0 warnings"),
            std::string::npos)
      << r.out;
}

// A scenario mistake is a diagnostic like a runbook's: code, caret and hint in text, and the same
// position in every machine format; exit 1.
TEST(Cli, LintChecksScenariosAgainstTheirRunbook) {
  ScratchDir dir("lint_scenarios");
  std::filesystem::create_directories(dir.path() / "redis_down");
  std::filesystem::create_directories(dir.path() / "policy");
  std::filesystem::copy_file(SourceDir() / "runbooks" / "redis_down.rb.denis", dir / "redis_down.rb.denis");
  std::filesystem::copy_file(SourceDir() / "runbooks" / "policy" / "escalation.rb.denis", dir / "policy/escalation.rb.denis");
  std::ofstream(dir / "redis_down/bad.scenario.yaml") << "probes:\n  redis.ping(): true\nexpect:\n  steps: [restar]\n";
  std::string scenario = dir / "redis_down/bad.scenario.yaml";

  ProcessResult text = Runbook({"lint", dir.path().string()});
  EXPECT_EQ(text.exit_code, 1) << text.out << text.err;
  EXPECT_NE(text.out.find(scenario + ":4:11: error[RB0123]: no step `restar` in runbook redis_down"), std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("    4 |   steps: [restar]\n      |           ^~~~~~\n      = hint: did you mean `restart`?"),
            std::string::npos)
      << text.out;
  // Named alone, the scenario is checked with the runbook beside its directory.
  EXPECT_EQ(Runbook({"lint", scenario}).exit_code, 1);

  auto json = nlohmann::json::parse(Runbook({"lint", dir.path().string(), "--format", "json"}).out);
  ASSERT_EQ(json["diagnostics"].size(), 1u) << json.dump(2);
  EXPECT_EQ(json["diagnostics"][0]["code"], "RB0123");
  EXPECT_EQ(json["diagnostics"][0]["line"], 4);
  EXPECT_EQ(json["diagnostics"][0]["column"], 11);
  EXPECT_EQ(json["diagnostics"][0]["end_column"], 17);
  EXPECT_EQ(json["diagnostics"][0]["hint"], "did you mean `restart`?");
  EXPECT_EQ(json["summary"]["scenarios"], 1);

  auto sarif = nlohmann::json::parse(Runbook({"lint", dir.path().string(), "--format", "sarif"}).out);
  const auto& result = sarif["runs"][0]["results"][0];
  EXPECT_EQ(result["ruleId"], "RB0123");
  EXPECT_EQ(sarif["runs"][0]["tool"]["driver"]["rules"][result["ruleIndex"].get<size_t>()]["id"], "RB0123");
  EXPECT_EQ(result["locations"][0]["physicalLocation"]["region"]["startLine"], 4);

  ProcessResult gh = Runbook({"lint", dir.path().string(), "--format", "github"});
  EXPECT_NE(gh.out.find("::error file=" + scenario + ",line=4,col=11,endLine=4,endColumn=17,title=RB0123 "), std::string::npos)
      << gh.out;

  // `rehearse` prints the same report.
  ProcessResult rehearse = Runbook({"rehearse", dir / "redis_down.rb.denis", "--scenario", scenario});
  EXPECT_EQ(rehearse.exit_code, 1);
  EXPECT_NE(rehearse.err.find("error[RB0123]: no step `restar`"), std::string::npos) << rehearse.err;
  EXPECT_NE(rehearse.err.find("= hint: did you mean `restart`?"), std::string::npos) << rehearse.err;
}

// Scenarios are checked against compiled runbooks: when a runbook has errors, they are reported and
// its scenarios wait.
TEST(Cli, LintSkipsScenariosOfRunbooksWithErrors) {
  ScratchDir dir("lint_scenarios_broken");
  std::filesystem::create_directories(dir.path() / "x");
  std::ofstream(dir / "x.rb.denis") << "runbook x \"X\" {\n  severity P2\n  owner\n}\n";
  std::ofstream(dir / "x/s.scenario.yaml") << "probes: {nothing.here(): 1}\n";
  ProcessResult r = Runbook({"lint", dir.path().string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("error[RB0001]"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("RB01"), std::string::npos) << r.out;
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
    if (pos + 1 < r.out.size()) {
      EXPECT_EQ(r.out.substr(pos + 1, 2), "::");
    }
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
  std::ofstream(dir / "sub" / "a.rb.denis") << "capability c \"C\" { read x() -> bool \"x\" = prom(\"up\") == 1 }\n";
  std::ofstream(dir / "sub" / ".hidden" / "b.rb.denis") << "garbage\n";
  std::ofstream(dir / "notes.md") << "garbage\n";
  ProcessResult r = Runbook({"lint", dir.string()});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("1 file checked"), std::string::npos) << r.out;
}

// ---- compile and disasm ------------------------------------------------------------------------

namespace fs = std::filesystem;


const std::string kRedisDown = "runbooks/redis_down.rb.denis";
const std::string kRbcMagic("RBC\x1a", 4);

std::vector<std::string> TmpFilesIn(const fs::path& dir) {
  std::vector<std::string> left;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.path().filename().string().find(".tmp.") != std::string::npos) left.push_back(e.path().string());
  }
  return left;
}

std::vector<std::string> SeedRunbookPaths() {
  std::vector<std::string> seeds;
  for (const auto& e : fs::directory_iterator(SourceDir() / "runbooks")) {
    std::string name = e.path().filename().string();
    if (e.is_regular_file() && name.size() > 9 && name.compare(name.size() - 9, 9, ".rb.denis") == 0) {
      seeds.push_back("runbooks/" + name);
    }
  }
  std::sort(seeds.begin(), seeds.end());
  return seeds;
}

// A runbook with a compile error (a shell pipe in a command: RB0060), beside a copy of the test policy.
void WriteBrokenRunbook(const ScratchDir& dir) {
  fs::create_directories(dir.path() / "policy");
  fs::copy_file(SourceDir() / "tests" / "golden" / "policy" / "escalation.rb.denis",
                dir.path() / "policy" / "escalation.rb.denis", fs::copy_options::overwrite_existing);
  std::ofstream(dir / "broken.rb.denis", std::ios::binary)
      << "import std.redis\nimport policy.escalation\n"
         "runbook broken \"Broken\" {\n  severity P3\n  owner sre\n  target redis = redis(\"redis\")\n"
         "  steps {\n    check memory \"Memory\" {\n      $ redis-cli info memory | grep used\n    }\n  }\n}\n";
}

TEST(CliCompile, WritesOneRbcWithTheMagic) {
  ScratchDir dir("cli-compile-o");
  std::string out = dir / "redis_down.rbc";
  ProcessResult r = Runbook({"compile", kRedisDown, "-o", out});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("wrote " + out), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("error"), std::string::npos) << r.out;
  ASSERT_TRUE(fs::exists(out));
  std::string bytes = ReadAll(out);
  ASSERT_GE(bytes.size(), rt::kHeaderSize);
  EXPECT_EQ(bytes.substr(0, 4), kRbcMagic);
  EXPECT_TRUE(TmpFilesIn(dir.path()).empty());
  EXPECT_FALSE(fs::exists(SourceDir() / "runbooks" / "redis_down.rbc"));  // -o: nothing beside the source
}

TEST(CliCompile, WithoutOutputWritesBesideTheSource) {
  ScratchDir dir("cli-compile-beside");
  fs::create_directories(dir.path() / "policy");
  fs::copy_file(SourceDir() / "runbooks" / "policy" / "escalation.rb.denis", dir.path() / "policy" / "escalation.rb.denis");
  fs::copy_file(SourceDir() / kRedisDown, dir.path() / "redis_down.rb.denis");
  std::string src = dir / "redis_down.rb.denis";
  ProcessResult r = Runbook({"compile", src});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  std::string beside = dir / "redis_down.rbc";
  EXPECT_NE(r.out.find("wrote " + beside), std::string::npos) << r.out;
  ASSERT_TRUE(fs::exists(beside));
  EXPECT_EQ(ReadAll(beside).substr(0, 4), kRbcMagic);
  EXPECT_FALSE(fs::exists(dir.path() / "policy" / "escalation.rbc"));  // an import is not an output
  EXPECT_TRUE(TmpFilesIn(dir.path()).empty());

  // The same source with -o gives the same bytes: the output's name is not part of the program.
  std::string named = dir / "named.rbc";
  ASSERT_EQ(Runbook({"compile", src, "-o", named}).exit_code, 0);
  EXPECT_TRUE(ReadAll(named) == ReadAll(beside));
}

TEST(CliCompile, ErrorsExitOneAndLeaveTheExistingOutputUntouched) {
  ScratchDir dir("cli-compile-error");
  WriteBrokenRunbook(dir);
  const std::string previous("previous \x00\x01 output\n", 19);
  std::ofstream(dir / "out.rbc", std::ios::binary) << previous;
  std::ofstream(dir / "broken.rbc", std::ios::binary) << previous;
  ASSERT_EQ(ReadAll(dir / "out.rbc"), previous);

  ProcessResult r = Runbook({"compile", dir / "broken.rb.denis", "-o", dir / "out.rbc"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("error[RB0060]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(dir / "broken.rb.denis:9:"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("nothing written"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("wrote"), std::string::npos) << r.out;
  EXPECT_EQ(ReadAll(dir / "out.rbc"), previous);
  EXPECT_TRUE(TmpFilesIn(dir.path()).empty());

  // Without -o: the stale FILE.rbc beside the source is not replaced either.
  ProcessResult beside = Runbook({"compile", dir / "broken.rb.denis"});
  EXPECT_EQ(beside.exit_code, 1) << beside.out << beside.err;
  EXPECT_EQ(ReadAll(dir / "broken.rbc"), previous);
  EXPECT_TRUE(TmpFilesIn(dir.path()).empty());
}

TEST(CliCompile, TwoRunsWriteIdenticalBytes) {
  ScratchDir dir("cli-compile-twice");
  std::vector<std::string> seeds = SeedRunbookPaths();
  ASSERT_EQ(seeds.size(), 8u);
  std::vector<std::string> outputs;
  for (const char* name : {"first.rbc", "second.rbc"}) {
    std::vector<std::string> args{"compile"};
    args.insert(args.end(), seeds.begin(), seeds.end());
    args.push_back("-o");
    args.push_back(dir / name);
    ProcessResult r = Runbook(args);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    outputs.push_back(ReadAll(dir / name));
  }
  ASSERT_GT(outputs[0].size(), rt::kHeaderSize);
  EXPECT_EQ(outputs[0].substr(0, 4), kRbcMagic);
  EXPECT_TRUE(outputs[0] == outputs[1]) << "two `runbook compile` runs differ";
}

TEST(CliDisasm, ShowsInstructionsAndSourceLines) {
  ScratchDir dir("cli-disasm");
  std::string rbc = dir / "redis_down.rbc";
  ASSERT_EQ(Runbook({"compile", kRedisDown, "-o", rbc}).exit_code, 0);
  ProcessResult r = Runbook({"disasm", rbc, "--source-dir", "runbooks"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  for (const char* want : {"runbook redis_down \"Redis Caído\"", "CALL          redis.ping/1", "NOT", "RETURN",
                           "WINDOW", "; for > 5m", "FAILED", "OUTPUT", "CALL          grep/2",
                           "; runbooks/redis_down.rb.denis:24", "not redis.ping()", "policy escalation"}) {
    EXPECT_NE(r.out.find(want), std::string::npos) << want << "\n" << r.out;
  }
  EXPECT_EQ(r.out.find("source lines not shown"), std::string::npos) << r.out;
  EXPECT_TRUE(r.err.empty()) << r.err;

  ProcessResult bare = Runbook({"disasm", rbc, "--no-source"});
  ASSERT_EQ(bare.exit_code, 0) << bare.err;
  EXPECT_NE(bare.out.find("CALL          redis.ping/1"), std::string::npos) << bare.out;
  EXPECT_NE(bare.out.find("; runbooks/redis_down.rb.denis:24"), std::string::npos) << bare.out;
  EXPECT_EQ(bare.out.find("not redis.ping()"), std::string::npos) << bare.out;
  EXPECT_EQ(bare.out.find("source lines not shown"), std::string::npos) << bare.out;  // none were asked for
}

TEST(CliDisasm, SourceFileIsCompiledInMemory) {
  ScratchDir dir("cli-disasm-source");
  ProcessResult src = Runbook({"disasm", kRedisDown});
  ASSERT_EQ(src.exit_code, 0) << src.out << src.err;
  EXPECT_NE(src.out.find("CALL          redis.ping/1"), std::string::npos) << src.out;
  EXPECT_NE(src.out.find("not redis.ping()"), std::string::npos) << src.out;  // the texts just compiled
  EXPECT_EQ(src.out.find("source lines not shown"), std::string::npos) << src.out;
  EXPECT_FALSE(fs::exists(SourceDir() / "runbooks" / "redis_down.rbc"));  // nothing written

  // The same program as the compiled file, its sources found under the folder it was compiled from.
  std::string rbc = dir / "redis_down.rbc";
  ASSERT_EQ(Runbook({"compile", kRedisDown, "-o", rbc}).exit_code, 0);
  EXPECT_EQ(Runbook({"disasm", rbc, "--source-dir", "."}).out, src.out);

  // A source with errors: its diagnostics and exit 1; a missing file: exit 2.
  WriteBrokenRunbook(dir);
  ProcessResult broken = Runbook({"disasm", dir / "broken.rb.denis"});
  EXPECT_EQ(broken.exit_code, 1) << broken.out << broken.err;
  EXPECT_NE(broken.out.find("error[RB0060]"), std::string::npos) << broken.out;
  EXPECT_EQ(Runbook({"disasm", dir / "missing.rbc"}).exit_code, 2);
}

TEST(CliDisasm, RejectsAFlippedByteInTheCode) {
  ScratchDir dir("cli-disasm-flip");
  std::string rbc = dir / "redis_down.rbc";
  ASSERT_EQ(Runbook({"compile", kRedisDown, "-o", rbc}).exit_code, 0);
  std::string text = ReadAll(rbc);
  std::vector<uint8_t> bytes(text.begin(), text.end());
  auto parsed = rt::Deserialize(bytes);
  ASSERT_TRUE(std::holds_alternative<rt::Program>(parsed)) << std::get<rt::LoadError>(parsed).message;
  const rt::Program& p = std::get<rt::Program>(parsed);
  ASSERT_FALSE(p.chunks.empty());
  // The opcode byte of the first instruction of the first chunk, inside the CODE section.
  const size_t at = static_cast<size_t>(p.chunks[0].byte_offset);
  ASSERT_GT(at, rt::kHeaderSize);
  ASSERT_LT(at, bytes.size());
  std::vector<uint8_t> flipped = bytes;
  flipped[at] ^= 0xFF;
  ASSERT_GE(flipped[at], rt::kOpCount);

  // As found on disk: the checksum catches it.
  std::string corrupt = dir / "corrupt.rbc";
  std::ofstream(corrupt, std::ios::binary).write(reinterpret_cast<const char*>(flipped.data()),
                                                 static_cast<std::streamsize>(flipped.size()));
  ProcessResult r = Runbook({"disasm", corrupt});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("rejected at byte"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("checksum"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;

  // Edited and resealed: the verifier names the flipped instruction's byte.
  rt::Reseal(flipped);
  std::string resealed = dir / "resealed.rbc";
  std::ofstream(resealed, std::ios::binary).write(reinterpret_cast<const char*>(flipped.data()),
                                                  static_cast<std::streamsize>(flipped.size()));
  ProcessResult v = Runbook({"disasm", resealed});
  EXPECT_EQ(v.exit_code, 2) << v.out << v.err;
  EXPECT_NE(v.err.find("rejected at byte " + std::to_string(at) + ":"), std::string::npos) << v.err;
  EXPECT_NE(v.err.find("unknown opcode"), std::string::npos) << v.err;
  EXPECT_TRUE(v.out.empty()) << v.out;

  // The untouched file still loads.
  EXPECT_EQ(Runbook({"disasm", rbc, "--no-source"}).exit_code, 0);
}

// ---- disasm finds sources only by content hash, beside the .rbc or under --source-dir ---------------

std::vector<uint8_t> ReadBytes(const std::string& path) {
  std::string text = ReadAll(path);
  return std::vector<uint8_t>(text.begin(), text.end());
}
void WriteBytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                              static_cast<std::streamsize>(bytes.size()));
}
uint64_t ContentHash(const std::string& text) { return rt::Fnv1a64(text.data(), text.size()); }

// Rewrites the FILE section of a real .rbc in place, byte by byte, and makes the header agree again:
// what someone crafting a file would do.
std::vector<uint8_t> WithFileTable(std::vector<uint8_t> b, const std::vector<std::string>& paths, uint64_t hash) {
  auto get32 = [&](size_t at) {
    uint32_t v;
    std::memcpy(&v, &b.at(at), 4);
    return v;
  };
  size_t file = rt::kHeaderSize + 8 + get32(rt::kHeaderSize + 4);  // after STRS
  EXPECT_EQ(std::memcmp(&b.at(file), "FILE", 4), 0);
  size_t end = file + 8 + get32(file + 4);
  std::vector<uint8_t> body;
  auto put = [&](const void* p, size_t n) { body.insert(body.end(), static_cast<const uint8_t*>(p), static_cast<const uint8_t*>(p) + n); };
  uint32_t n = static_cast<uint32_t>(paths.size());
  put(&n, 4);
  for (const auto& path : paths) {
    uint32_t len = static_cast<uint32_t>(path.size());
    put(&len, 4);
    put(path.data(), path.size());
    put(&hash, 8);
  }
  uint32_t len = static_cast<uint32_t>(body.size());
  std::memcpy(&b[file + 4], &len, 4);
  b.erase(b.begin() + static_cast<long>(file + 8), b.begin() + static_cast<long>(end));
  b.insert(b.begin() + static_cast<long>(file + 8), body.begin(), body.end());
  uint32_t size = static_cast<uint32_t>(b.size());
  std::memcpy(&b[20], &size, 4);
  rt::Reseal(b);
  return b;
}

// Whether the disassembly shows any text after a `; FILE:LINE` comment of this recorded file.
bool ShowsLinesOf(const std::string& out, const std::string& recorded) {
  const std::string marker = "; " + recorded + ":";
  for (size_t at = out.find(marker); at != std::string::npos; at = out.find(marker, at + 1)) {
    size_t eol = out.find('\n', at);
    std::string rest = out.substr(at + marker.size(), eol - at - marker.size());
    if (rest.find_first_not_of("0123456789") != std::string::npos) return true;
  }
  return false;
}

// The name a .rbc records for a file whose path ends with `suffix` (imports are recorded as resolved,
// e.g. `../../tmp/x/policy/escalation.rb.denis`).
std::string RecordedName(const std::string& rbc, const std::string& suffix) {
  auto parsed = rt::Deserialize(ReadBytes(rbc));
  if (!std::holds_alternative<rt::Program>(parsed)) return "<unreadable " + rbc + ">";
  for (const auto& f : std::get<rt::Program>(parsed).files) {
    if (f.size() >= suffix.size() && f.compare(f.size() - suffix.size(), suffix.size(), suffix) == 0) return f;
  }
  return "<no file " + suffix + " in " + rbc + ">";
}

// A copy of redis_down and its policy in `dir`, compiled beside itself.
std::string CompileCopyBeside(const ScratchDir& dir) {
  fs::create_directories(dir.path() / "policy");
  fs::copy_file(SourceDir() / "runbooks" / "policy" / "escalation.rb.denis", dir.path() / "policy" / "escalation.rb.denis");
  fs::copy_file(SourceDir() / kRedisDown, dir.path() / "redis_down.rb.denis");
  ProcessResult r = Runbook({"compile", dir / "redis_down.rb.denis"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  return dir / "redis_down.rbc";
}

// A crafted .rbc whose file table names a file elsewhere on the machine, even with that file's true
// content hash, shows none of its lines: recorded paths are never opened as given.
TEST(CliDisasm, CraftedFileTableDoesNotReadTheMachine) {
  ScratchDir secret_dir("cli-disasm-secret");
  std::string secret = secret_dir / "shadow";
  std::string secret_text;
  for (int i = 1; i <= 300; ++i) secret_text += "root:SECRET-" + std::to_string(i) + ":19000:0:99999:7:::\n";
  std::ofstream(secret, std::ios::binary) << secret_text;

  ScratchDir dir("cli-disasm-crafted");
  std::string rbc = dir / "redis_down.rbc";
  ASSERT_EQ(Runbook({"compile", kRedisDown, "-o", rbc}).exit_code, 0);
  const std::vector<uint8_t> real = ReadBytes(rbc);
  auto parsed = rt::Deserialize(real);
  ASSERT_TRUE(std::holds_alternative<rt::Program>(parsed)) << std::get<rt::LoadError>(parsed).message;
  const size_t files = std::get<rt::Program>(parsed).files.size();

  for (const std::string& named : {secret, std::string("../cli-disasm-secret/shadow"), std::string("/etc/shadow")}) {
    SCOPED_TRACE(named);
    std::string crafted = dir / "crafted.rbc";
    WriteBytes(crafted, WithFileTable(real, std::vector<std::string>(files, named), ContentHash(secret_text)));
    for (const std::vector<std::string>& extra : {std::vector<std::string>{}, {"--source-dir", "runbooks"}}) {
      std::vector<std::string> args = {"disasm", crafted};
      args.insert(args.end(), extra.begin(), extra.end());
      ProcessResult r = Runbook(args);
      ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
      EXPECT_NE(r.out.find("CALL          redis.ping/1"), std::string::npos) << r.out;
      EXPECT_EQ(r.out.find("SECRET"), std::string::npos) << r.out;
      EXPECT_FALSE(ShowsLinesOf(r.out, named)) << r.out;
      EXPECT_NE(r.out.find("; source lines not shown for " + named), std::string::npos) << r.out;
      EXPECT_NE(r.out.find("no file with the recorded content hash beside " + crafted), std::string::npos) << r.out;
      EXPECT_NE(r.out.find("pass --source-dir DIR"), std::string::npos) << r.out;
    }
  }
}

// The source beside the .rbc is shown while it is the file compiled; once edited, its lines go and
// the note names it, while the unchanged policy beside it still shows.
TEST(CliDisasm, SourceEditedAfterTheCompileIsNotShown) {
  ScratchDir dir("cli-disasm-edited");
  std::string rbc = CompileCopyBeside(dir);
  std::string src = dir / "redis_down.rb.denis";
  std::string policy = RecordedName(rbc, "/policy/escalation.rb.denis");
  ProcessResult r = Runbook({"disasm", rbc});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(ShowsLinesOf(r.out, src)) << r.out;
  EXPECT_TRUE(ShowsLinesOf(r.out, policy)) << r.out;
  EXPECT_EQ(r.out.find("source lines not shown"), std::string::npos) << r.out;

  std::ofstream(src, std::ios::binary | std::ios::app) << "\n// edited after the compile\n";
  r = Runbook({"disasm", rbc});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_FALSE(ShowsLinesOf(r.out, src)) << r.out;
  EXPECT_TRUE(ShowsLinesOf(r.out, policy)) << r.out;
  EXPECT_NE(r.out.find("; source lines not shown for " + src + ": no file with the recorded content hash beside " + rbc +
                       "; pass --source-dir DIR"),
            std::string::npos)
      << r.out;
  size_t note = r.out.find("; source lines not shown");
  ASSERT_NE(note, std::string::npos);
  std::string note_line = r.out.substr(note, r.out.find('\n', note) - note);
  EXPECT_EQ(note_line.find(policy), std::string::npos) << "the note names only the edited file: " << note_line;
}

// --source-dir finds a source compiled elsewhere, by its trailing path components, passing over a
// folder whose copy of the file has another hash.
TEST(CliDisasm, SourceDirFindsTheFileWithTheRecordedHash) {
  ScratchDir dir("cli-disasm-source-dir");
  std::string rbc = dir / "out.rbc";
  ASSERT_EQ(Runbook({"compile", kRedisDown, "-o", rbc}).exit_code, 0);
  ScratchDir decoy("cli-disasm-decoy");
  std::ofstream(decoy / "redis_down.rb.denis", std::ios::binary) << ReadAll(SourceDir() / kRedisDown) << "\n// edited\n";

  ProcessResult none = Runbook({"disasm", rbc});
  ASSERT_EQ(none.exit_code, 0) << none.err;
  EXPECT_FALSE(ShowsLinesOf(none.out, kRedisDown)) << none.out;
  EXPECT_NE(none.out.find("; source lines not shown for " + kRedisDown + ", runbooks/policy/escalation.rb.denis: "
                          "no file with the recorded content hash beside " + rbc + "; pass --source-dir DIR"),
            std::string::npos)
      << none.out;

  ProcessResult wrong = Runbook({"disasm", rbc, "--source-dir", decoy.path().string()});
  EXPECT_FALSE(ShowsLinesOf(wrong.out, kRedisDown)) << wrong.out;
  EXPECT_NE(wrong.out.find("beside " + rbc + " or under " + decoy.path().string() + ";"), std::string::npos) << wrong.out;

  ProcessResult found = Runbook({"disasm", rbc, "--source-dir", decoy.path().string(), "--source-dir",
                                 (SourceDir() / "runbooks").string()});
  ASSERT_EQ(found.exit_code, 0) << found.err;
  EXPECT_TRUE(ShowsLinesOf(found.out, kRedisDown)) << found.out;
  EXPECT_TRUE(ShowsLinesOf(found.out, "runbooks/policy/escalation.rb.denis")) << found.out;  // as policy/escalation.rb.denis
  EXPECT_NE(found.out.find("not redis.ping()"), std::string::npos) << found.out;
  EXPECT_EQ(found.out.find("source lines not shown"), std::string::npos) << found.out;
  EXPECT_EQ(found.out.find("// edited"), std::string::npos) << found.out;
}

// A FIFO or a directory where a source should be is passed over at once, not waited on (ctest's
// timeout catches a hang); a FIFO named as the .rbc itself is refused.
TEST(CliDisasm, FifoOrDirectoryAsASourceDoesNotBlock) {
  ScratchDir dir("cli-disasm-fifo");
  std::string rbc = CompileCopyBeside(dir);
  std::string src = dir / "redis_down.rb.denis";
  std::string policy = RecordedName(rbc, "/policy/escalation.rb.denis");
  fs::remove(src);
  ASSERT_EQ(mkfifo(src.c_str(), 0600), 0) << std::strerror(errno);
  fs::remove(dir / "policy/escalation.rb.denis");
  fs::create_directory(dir / "policy/escalation.rb.denis");

  ProcessResult r = Runbook({"disasm", rbc});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("CALL          redis.ping/1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("; source lines not shown for " + src + ", " + policy + ":"), std::string::npos) << r.out;

  std::string fifo_rbc = dir / "fifo.rbc";
  ASSERT_EQ(mkfifo(fifo_rbc.c_str(), 0600), 0) << std::strerror(errno);
  ProcessResult f = Runbook({"disasm", fifo_rbc});
  EXPECT_EQ(f.exit_code, 2) << f.out << f.err;
  EXPECT_NE(f.err.find("cannot read " + fifo_rbc + ": is a FIFO, not a file"), std::string::npos) << f.err;
}


// Drift: importing two policies linted clean, then `plan` and `rehearse` aborted with an uncaught
// std::out_of_range (exit 134) on a row paging the second policy's contact. Since issue 11 the
// policies merge: the second policy's contact is paged, in one file and across files compiled together.
TEST(Cli, SecondPolicyIsMergedNotACrash) {
  const std::string two = "tests/golden/escalation/second_policy.rb.denis";
  EXPECT_EQ(Runbook({"lint", two}).exit_code, 0);
  ProcessResult plan = Runbook({"plan", two});
  EXPECT_EQ(plan.exit_code, 0) << plan.out << plan.err;
  EXPECT_NE(plan.out.find("page dba (DBA on call @dba)"), std::string::npos) << plan.out;
  ProcessResult both = Runbook({"compile", "tests/golden/clean/redis_memory.rb.denis",
                                "tests/golden/escalation/oncall_only.rb.denis", "-o", "/dev/null"});
  EXPECT_EQ(both.exit_code, 0) << both.out << both.err;
  // Two policies that disagree on a contact are still refused, naming both places.
  ProcessResult clash = Runbook({"lint", "tests/golden/policies/contact_clash.rb.denis"});
  EXPECT_EQ(clash.exit_code, 1) << clash.out << clash.err;
  EXPECT_NE(clash.out.find("clash.rb.denis:3:11: error[RB0022]"), std::string::npos) << clash.out;
  EXPECT_NE(clash.out.find("escalation.rb.denis:3:11"), std::string::npos) << clash.out;
}

// `compile -o /dev/null` (run as root in CI) renamed its temporary file over /dev/null, replacing the
// device with a regular file every later command then read back. A device is written to, never replaced.
TEST(Cli, CompileToADeviceWritesToItAndLeavesItADevice) {
  struct stat before{};
  ASSERT_EQ(stat("/dev/null", &before), 0);
  if (!S_ISCHR(before.st_mode)) GTEST_SKIP() << "/dev/null is not a device on this machine";
  ProcessResult r = Runbook({"compile", "tests/golden/clean/redis_memory.rb.denis", "-o", "/dev/null"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  struct stat after{};
  ASSERT_EQ(stat("/dev/null", &after), 0);
  EXPECT_TRUE(S_ISCHR(after.st_mode));
  EXPECT_EQ(after.st_rdev, before.st_rdev);
  EXPECT_FALSE(std::filesystem::exists("/dev/null.tmp." + std::to_string(getpid())));
}

// A policy file that is a root of the run (linting a folder) but that no runbook imports must not
// become the program's policy: codegen took it, then aborted (exit 134) on the contact of the policy
// the runbook does import.
TEST(Cli, APolicyNoRunbookImportsIsNotTheProgramsPolicy) {
  ScratchDir dir("policy_root");
  std::filesystem::create_directories(dir.path() / "policy");
  std::filesystem::copy_file(SourceDir() / "tests" / "golden" / "policy" / "escalation.rb.denis", dir / "policy/escalation.rb.denis");
  std::filesystem::copy_file(SourceDir() / "tests" / "golden" / "policy" / "oncall.rb.denis", dir / "policy/oncall.rb.denis");
  std::ofstream(dir / "night.rb.denis", std::ios::binary)
      << "import std.redis\nimport policy.oncall\n"
         "runbook night \"Night\" {\n  severity P2\n  owner dba\n  target redis = redis(\"redis\")\n"
         "  symptoms {\n    down \"Down\" : not redis.ping()\n  }\n"
         "  escalate {\n    | when | then |\n    | down | page dba |\n  }\n}\n";
  EXPECT_EQ(Runbook({"lint", dir.path().string()}).exit_code, 0);
  ProcessResult c = Runbook({"compile", dir.path().string(), "-o", dir / "all.rbc"});
  ASSERT_EQ(c.exit_code, 0) << c.out << c.err;
  ProcessResult plan = Runbook({"plan", dir / "all.rbc"});
  EXPECT_EQ(plan.exit_code, 0) << plan.out << plan.err;
  EXPECT_NE(plan.out.find("page dba (DBA on call @dba)"), std::string::npos) << plan.out;
}

// The program tables a .rbc carries (format 4+) do not decide for the CLI: it holds the stdlib's.
// A file compiled against a tampered stdlib (flushall read; a `bash` program reading anything) is
// refused by plan with the embedded stdlib, as a hand-edited table would be.
TEST(Cli, ACarriedProgramTableCannotRelabelOrAddAProgram) {
  ScratchDir dir("carried_tables");
  std::filesystem::create_directories(dir.path() / "stdlib");
  std::filesystem::create_directories(dir.path() / "policy");
  for (const auto& e : std::filesystem::directory_iterator(SourceDir() / "stdlib")) {
    std::filesystem::copy_file(e.path(), dir.path() / "stdlib" / e.path().filename());
  }
  std::filesystem::copy_file(SourceDir() / "tests" / "golden" / "policy" / "escalation.rb.denis", dir / "policy/escalation.rb.denis");
  std::string redis = ReadAll(SourceDir() / "stdlib" / "redis.rb.denis");
  size_t read = redis.find("read        ping,");
  size_t destructive = redis.find("destructive flushall, ");
  ASSERT_NE(read, std::string::npos);
  ASSERT_NE(destructive, std::string::npos);
  redis.erase(destructive + 12, 10);  // "flushall, "
  redis.insert(read + 17, " flushall,");
  std::ofstream(dir.path() / "stdlib" / "redis.rb.denis", std::ios::binary | std::ios::trunc) << redis;
  std::ofstream(dir.path() / "stdlib" / "shell.rb.denis", std::ios::binary) << "program bash {\n  options -c SCRIPT\n  default read\n}\n";
  auto runbook = [&](const std::string& name, const std::string& imports, const std::string& command) {
    std::ofstream(dir / (name + ".rb.denis"), std::ios::binary)
        << "import std.redis\n" << imports << "import policy.escalation\n"
        << "runbook " << name << " \"T\" {\n  severity P2\n  owner sre\n  target redis = redis(\"redis\")\n"
        << "  symptoms {\n    down \"Down\" : not redis.ping()\n  }\n"
        << "  steps {\n    check look \"Look\" {\n      $ " << command << "\n    }\n  }\n"
        << "  escalate {\n    | when | then |\n    | down | page sre |\n  }\n}\n";
  };
  runbook("relabel", "", "redis-cli flushall");
  runbook("added", "import std.shell\n", "bash -c \"rm -rf /\"");
  for (const std::string name : {"relabel", "added"}) {
    ProcessResult c = Runbook({"compile", "--stdlib", dir / "stdlib", dir / (name + ".rb.denis"), "-o", dir / (name + ".rbc")});
    ASSERT_EQ(c.exit_code, 0) << name << c.out << c.err;  // clean against the tampered stdlib
    ProcessResult plan = Runbook({"plan", dir / (name + ".rbc")});
    EXPECT_EQ(plan.exit_code, 2) << name << plan.out << plan.err;
    EXPECT_NE(plan.err.find("rejected at byte"), std::string::npos) << name << plan.err;
  }
  EXPECT_NE(Runbook({"plan", dir / "relabel.rbc"}).err.find("recorded as read but is destructive"), std::string::npos);
  EXPECT_NE(Runbook({"plan", dir / "added.rbc"}).err.find("program `bash` is not allowed by this host"), std::string::npos);
}

}  // namespace
}  // namespace rb::test
