// Codegen and the .rbc file: golden disassembly, round trips, determinism, atomic output.
//
// Golden disassembly (like Lua's code.lua): every tests/disasm/**/<case>.rb.denis (except the policy
// files they import) is compiled from the repository root and its disassembly, with source lines, is
// compared with <case>.rb.denis.disasm beside it. Refresh after an intended codegen change with
//   RUNBOOK_REFRESH_GOLDENS=1 ./build/tests/runbook_tests --gtest_filter='*DisasmGolden*'
// and read the diff: it is the change in what the constructs compile to.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <set>

#include "compiler/build.hpp"
#include "compiler/disasm.hpp"
#include "runtime/rbc.hpp"
#include "runtime/verifier.hpp"
#include "tests/compile_util.hpp"

namespace rb::test {
namespace {

namespace fs = std::filesystem;

TEST(Codegen, SeedRunbooksRoundTrip) {
  std::filesystem::current_path(SourceDir());
  for (const char* name : {"redis_down", "workers_hung", "graph_slow", "queue_growing", "mutations_blocked",
                           "telemetry_inconsistent", "chat_timeout", "websocket_disconnects"}) {
    rt::Program p = CompileFile(std::string("runbooks/") + name + ".rb.denis");
    std::vector<uint8_t> bytes = rt::Serialize(p);
    auto loaded = rt::LoadProgram(bytes, TestRegistry());
    ASSERT_TRUE(std::holds_alternative<rt::Program>(loaded)) << name << ": " << std::get<rt::LoadError>(loaded).message;
    EXPECT_EQ(rt::Serialize(std::get<rt::Program>(loaded)), bytes) << name;
  }
}

// ---- Helpers --------------------------------------------------------------------------------------


std::vector<uint8_t> ReadBytes(const fs::path& p) {
  std::string s = ReadAll(p);
  return std::vector<uint8_t>(s.begin(), s.end());
}

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The eight seed runbooks, as paths relative to the repository root (the policy directory excluded).
std::vector<std::string> SeedRunbooks() {
  std::vector<std::string> seeds;
  for (const auto& e : fs::directory_iterator(SourceDir() / "runbooks")) {
    std::string name = e.path().filename().string();
    if (e.is_regular_file() && EndsWith(name, ".rb.denis")) seeds.push_back("runbooks/" + name);
  }
  std::sort(seeds.begin(), seeds.end());
  return seeds;
}

// Files in `dir` (recursively) whose name contains `.tmp.`: leftovers of an interrupted atomic write.
std::vector<std::string> TempLeftovers(const fs::path& dir) {
  std::vector<std::string> left;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.path().filename().string().find(".tmp.") != std::string::npos) left.push_back(e.path().string());
  }
  return left;
}

std::string Errors(const CompileResult& r) {
  std::string s = RenderText(r.lint);
  for (const auto& e : r.lint.io_errors) s += "io: " + e + "\n";
  for (const auto& e : r.errors) s += "tool: " + e + "\n";
  return s;
}

size_t LineCount(const fs::path& p) {
  std::string text = ReadAll(p);
  size_t n = static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
  return !text.empty() && text.back() != '\n' ? n + 1 : n;
}

// ---- Golden disassembly ---------------------------------------------------------------------------

const char* const kDisasmDir = "tests/disasm";

// Every case under tests/disasm/, relative to the repository root; files inside a `policy`
// directory are the policies the cases import, not cases.
std::vector<std::string> DisasmCases() {
  std::vector<std::string> cases;
  for (const auto& e : fs::recursive_directory_iterator(SourceDir() / kDisasmDir)) {
    if (!e.is_regular_file() || !EndsWith(e.path().string(), ".rb.denis")) continue;
    fs::path rel = fs::relative(e.path(), SourceDir());
    bool in_policy = false;
    for (const auto& part : rel.parent_path()) in_policy = in_policy || part == "policy";
    if (!in_policy) cases.push_back(rel.generic_string());
  }
  std::sort(cases.begin(), cases.end());
  return cases;
}

class DisasmGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(DisasmGolden, MatchesExpectedBytecode) {
  const std::string& rel = GetParam();
  rt::Program p = CompileFile(rel);  // from the repository root: file names in the output are relative
  ASSERT_EQ(p.runbooks.size(), 1u) << rel << ": each case holds one runbook";
  ASSERT_FALSE(p.chunks.empty()) << rel;

  // Every instruction has a line inside the file it names.
  for (size_t i = 0; i < p.chunks.size(); ++i) {
    const rt::Chunk& c = p.chunks[i];
    ASSERT_LT(c.file, p.files.size()) << rel << " chunk " << i;
    ASSERT_EQ(c.lines.size(), c.code.size()) << rel << " chunk " << i;
    size_t lines = LineCount(SourceDir() / p.files[c.file]);
    for (size_t pc = 0; pc < c.lines.size(); ++pc) {
      EXPECT_GE(c.lines[pc], 1u) << rel << " chunk " << i << " pc " << pc;
      EXPECT_LE(c.lines[pc], lines) << rel << " chunk " << i << " pc " << pc << " in " << p.files[c.file];
    }
  }

  // The sources are found under the repository root, by the relative names the program records.
  DisasmOptions options;
  options.source_dirs = {SourceDir().string()};
  std::string actual = Disassemble(p, options);
  EXPECT_NE(actual.find("  ; " + rel + ":"), std::string::npos) << "no source line of the case:\n" << actual;
  EXPECT_EQ(actual.find("source lines not shown"), std::string::npos) << actual;

  // The program read back from its .rbc disassembles identically (nothing is lost in the file).
  std::vector<uint8_t> bytes = rt::Serialize(p);
  auto loaded = rt::LoadProgram(bytes, TestRegistry());
  ASSERT_TRUE(std::holds_alternative<rt::Program>(loaded)) << rel << ": " << std::get<rt::LoadError>(loaded).message;
  EXPECT_EQ(Disassemble(std::get<rt::Program>(loaded), options), actual) << rel;

  fs::path golden = SourceDir() / (rel + ".disasm");
  const char* refresh = std::getenv("RUNBOOK_REFRESH_GOLDENS");
  if (refresh && *refresh) {
    std::ofstream(golden, std::ios::binary) << actual;
    return;
  }
  ASSERT_TRUE(fs::exists(golden)) << "missing " << golden << "; run with RUNBOOK_REFRESH_GOLDENS=1";
  EXPECT_EQ(ReadAll(golden), actual) << "disassembly golden mismatch for " << rel
                                     << "; if the change is intended, refresh with RUNBOOK_REFRESH_GOLDENS=1";
}

std::string DisasmCaseName(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = info.param.substr(std::string(kDisasmDir).size() + 1);
  name = name.substr(0, name.size() - std::string(".rb.denis").size());
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Cases, DisasmGolden, ::testing::ValuesIn(DisasmCases()), DisasmCaseName);

TEST(DisasmGoldenFiles, EveryCaseHasAGoldenAndEveryGoldenACase) {
  std::vector<std::string> cases = DisasmCases();
  EXPECT_GE(cases.size(), 8u);
  std::set<std::string> expected;
  for (const auto& c : cases) expected.insert(c + ".disasm");
  std::set<std::string> goldens;
  for (const auto& e : fs::recursive_directory_iterator(SourceDir() / kDisasmDir)) {
    if (e.is_regular_file() && EndsWith(e.path().string(), ".disasm")) {
      goldens.insert(fs::relative(e.path(), SourceDir()).generic_string());
    }
  }
  const char* refresh = std::getenv("RUNBOOK_REFRESH_GOLDENS");
  if (refresh && *refresh) return;  // the parameterised test is writing them
  EXPECT_EQ(goldens, expected);
}

// A few facts the goldens show, checked directly so that a refresh cannot silently accept a
// regression in them.
const rt::Chunk& OnlyChunkOf(const rt::Program& p, const std::string& symptom) { return p.chunks.at(SymptomChunk(p, symptom)); }

std::vector<rt::Op> Ops(const rt::Chunk& c) {
  std::vector<rt::Op> ops;
  for (uint32_t w : c.code) ops.push_back(static_cast<rt::Op>(rt::OpByte(w)));
  return ops;
}

TEST(DisasmFacts, ShortCircuitJumpsSkipTheRightSideAndLandAfterTheMerge) {
  rt::Program p = CompileFile("tests/disasm/and_or.rb.denis");
  for (const char* s : {"both", "either"}) {
    const rt::Chunk& c = OnlyChunkOf(p, s);
    std::vector<rt::Op> ops = Ops(c);
    auto jump = std::find_if(ops.begin(), ops.end(),
                             [](rt::Op op) { return op == rt::Op::kJUMP_IF_FALSE || op == rt::Op::kJUMP_IF_TRUE; });
    ASSERT_NE(jump, ops.end()) << s;
    size_t pc = static_cast<size_t>(jump - ops.begin());
    uint32_t target = rt::OperandA(c.code[pc]);
    // The jump lands on the instruction after the merging AND/OR (here the RETURN).
    ASSERT_GE(target, 1u);
    ASSERT_LT(target, ops.size());
    rt::Op merge = *jump == rt::Op::kJUMP_IF_FALSE ? rt::Op::kAND : rt::Op::kOR;
    EXPECT_EQ(ops[target - 1], merge) << s;
    EXPECT_EQ(ops[target], rt::Op::kRETURN) << s;
    // The skipped right side holds the call of the second probe.
    EXPECT_TRUE(std::count(ops.begin() + pc + 1, ops.begin() + target, rt::Op::kCALL) >= 1) << s;
  }
}

TEST(DisasmFacts, LiteralArithmeticOfOneUnitIsFolded) {
  rt::Program p = CompileFile("tests/disasm/constant_folding.rb.denis");
  EXPECT_EQ(Ops(OnlyChunkOf(p, "lit_cmp")), (std::vector<rt::Op>{rt::Op::kTRUE, rt::Op::kRETURN}));
  const rt::Chunk& threshold = OnlyChunkOf(p, "threshold");  // 50% + 30%: one 80% constant, no ADD
  std::vector<rt::Op> ops = Ops(threshold);
  EXPECT_EQ(std::count(ops.begin(), ops.end(), rt::Op::kADD), 0);
  ASSERT_EQ(ops.size(), 5u);
  ASSERT_EQ(ops[2], rt::Op::kCONST);
  const rt::Constant& k = p.constants.at(rt::OperandA(threshold.code[2]));
  EXPECT_EQ(k.type, rt::ValueType::kPercent);
  EXPECT_EQ(k.number, 80);
  // 5m + 30s > 2m folds all the way: the sum, then the comparison of the folded sum.
  EXPECT_EQ(Ops(OnlyChunkOf(p, "sum_cmp")), (std::vector<rt::Op>{rt::Op::kTRUE, rt::Op::kRETURN}));
  // 2 * 40%: one 80% constant, no MUL.
  const rt::Chunk& scaled = OnlyChunkOf(p, "scaled");
  std::vector<rt::Op> scaled_ops = Ops(scaled);
  EXPECT_EQ(std::count(scaled_ops.begin(), scaled_ops.end(), rt::Op::kMUL), 0);
  ASSERT_EQ(scaled_ops.size(), 5u);
  EXPECT_EQ(p.constants.at(rt::OperandA(scaled.code[2])).type, rt::ValueType::kPercent);
  EXPECT_EQ(p.constants.at(rt::OperandA(scaled.code[2])).number, 80);
}

TEST(DisasmFacts, WindowsAndCommandFiltersAreRecordedInTheirTables) {
  rt::Program w = CompileFile("tests/disasm/window.rb.denis");
  ASSERT_EQ(w.runbooks.size(), 1u);
  const auto& windows = w.runbooks[0].windows;
  ASSERT_EQ(windows.size(), 5u);
  EXPECT_EQ(windows[0].bound_ms, 5u * 60 * 1000);
  EXPECT_FALSE(windows[0].inclusive);
  EXPECT_EQ(windows[1].bound_ms, 10u * 60 * 1000);
  EXPECT_TRUE(windows[1].inclusive);
  // Each window's condition is a condition chunk of its own, of the runbook: `ping_error` alone.
  for (const auto& win : windows) {
    ASSERT_NE(win.chunk, rt::kNoChunk);
    EXPECT_EQ(w.chunks.at(win.chunk).cls, rt::ChunkClass::kCondition);
    EXPECT_EQ(w.chunks.at(win.chunk).owner, 0u);
  }
  EXPECT_EQ(Ops(w.chunks.at(windows[0].chunk)), (std::vector<rt::Op>{rt::Op::kSYMPTOM, rt::Op::kRETURN}));
  // `api.up("/") or ping_error for > 2m` short-circuits past the window like past anything: WINDOW
  // only reads, the runner evaluated the window's condition already.
  EXPECT_EQ(Ops(w.chunks.at(w.runbooks[0].rows.at(4).chunk)),
            (std::vector<rt::Op>{rt::Op::kTARGET, rt::Op::kCONST, rt::Op::kCALL, rt::Op::kJUMP_IF_TRUE, rt::Op::kWINDOW,
                                 rt::Op::kOR, rt::Op::kRETURN}));
  // `ping_error for > 1m and api.up("/chat")`: the window on the left, the probe skipped when it is false.
  EXPECT_EQ(Ops(w.chunks.at(w.runbooks[0].rows.at(3).chunk)),
            (std::vector<rt::Op>{rt::Op::kWINDOW, rt::Op::kJUMP_IF_FALSE, rt::Op::kTARGET, rt::Op::kCONST,
                                 rt::Op::kCALL, rt::Op::kAND, rt::Op::kRETURN}));

  rt::Program c = CompileFile("tests/disasm/command_slots.rb.denis");
  ASSERT_EQ(c.runbooks.size(), 1u);
  const rt::Step& logs = c.runbooks[0].steps.at(0);
  const rt::Command& cmd = logs.items.at(0).command;
  ASSERT_NE(cmd.filter, rt::kNoChunk);
  EXPECT_EQ(c.chunks.at(cmd.filter).cls, rt::ChunkClass::kFilter);
  EXPECT_EQ(Ops(c.chunks.at(cmd.filter)).front(), rt::Op::kOUTPUT);
  // `app={app}` is one word: a literal part and a param slot.
  bool found = false;
  for (const auto& word : cmd.argv) {
    if (word.size() == 2 && c.strings.at(word[0].value) == "app=" && word[1].kind == rt::WordPart::Kind::kParam) found = true;
  }
  EXPECT_TRUE(found);
  EXPECT_EQ(logs.items.at(1).command.filter, rt::kNoChunk);  // no `|>`: no chunk
}

// ---- All seed runbooks in one program ------------------------------------------------------------

TEST(Codegen, AllSeedRunbooksInOneProgramRoundTrip) {
  fs::current_path(SourceDir());
  ScratchDir dir("codegen-seeds");
  std::vector<std::string> seeds = SeedRunbooks();
  ASSERT_EQ(seeds.size(), 8u);
  CompileOptions o;
  o.paths = seeds;
  o.output = dir / "all.rbc";
  CompileResult r = CompileToFiles(o);
  ASSERT_TRUE(r.lint.io_errors.empty() && r.errors.empty() && r.lint.diags.errors() == 0) << Errors(r);
  EXPECT_EQ(r.written, std::vector<std::string>{o.output});

  std::vector<uint8_t> bytes = ReadBytes(o.output);
  ASSERT_GE(bytes.size(), rt::kHeaderSize);
  EXPECT_EQ(std::memcmp(bytes.data(), rt::kMagic, 4), 0);
  auto loaded = rt::LoadProgram(bytes, TestRegistry());
  ASSERT_TRUE(std::holds_alternative<rt::Program>(loaded))
      << "rejected at byte " << std::get<rt::LoadError>(loaded).offset << ": " << std::get<rt::LoadError>(loaded).message;
  const rt::Program& p = std::get<rt::Program>(loaded);
  EXPECT_EQ(rt::Serialize(p), bytes);

  // All eight runbooks, each pointing at its own source, and the seed policy once.
  ASSERT_EQ(p.runbooks.size(), 8u);
  std::set<std::string> names, files;
  for (const auto& rb : p.runbooks) {
    names.insert(p.Str(rb.name));
    ASSERT_LT(rb.file, p.files.size());
    files.insert(p.files[rb.file]);
  }
  EXPECT_EQ(names, (std::set<std::string>{"redis_down", "workers_hung", "graph_slow", "queue_growing",
                                          "mutations_blocked", "telemetry_inconsistent", "chat_timeout",
                                          "websocket_disconnects"}));
  EXPECT_EQ(files, std::set<std::string>(seeds.begin(), seeds.end()));
  ASSERT_TRUE(p.policy.has_value());
  EXPECT_EQ(p.Str(p.policy->name), "escalation");
  EXPECT_EQ(p.policy->rows.size(), 7u);
  EXPECT_EQ(p.contacts.size(), 3u);
  EXPECT_EQ(std::count(p.files.begin(), p.files.end(), "runbooks/policy/escalation.rb.denis"), 1);
  // Shared tables are shared: every string and every import appears once.
  EXPECT_EQ(std::set<std::string>(p.strings.begin(), p.strings.end()).size(), p.strings.size());
  std::set<uint32_t> import_names;
  for (const auto& im : p.imports) import_names.insert(im.name);
  EXPECT_EQ(import_names.size(), p.imports.size());

  // The file on disk is the program the in-memory pipeline builds for each runbook: same runbook
  // tables (by name) as compiling the runbook alone.
  rt::Program alone = CompileFile("runbooks/redis_down.rb.denis");
  ASSERT_EQ(alone.runbooks.size(), 1u);
  for (const auto& rb : p.runbooks) {
    if (p.Str(rb.name) != "redis_down") continue;
    EXPECT_EQ(rb.symptoms.size(), alone.runbooks[0].symptoms.size());
    EXPECT_EQ(rb.steps.size(), alone.runbooks[0].steps.size());
    EXPECT_EQ(rb.rows.size(), alone.runbooks[0].rows.size());
  }
}

// ---- Determinism ----------------------------------------------------------------------------------

TEST(Codegen, CompilingTwiceGivesIdenticalBytes) {
  fs::current_path(SourceDir());
  ScratchDir dir("codegen-determinism");
  std::vector<std::string> seeds = SeedRunbooks();
  ASSERT_EQ(seeds.size(), 8u);
  std::vector<std::vector<uint8_t>> outputs;
  for (const char* name : {"first.rbc", "second.rbc"}) {
    CompileOptions o;
    o.paths = seeds;
    o.output = dir / name;
    CompileResult r = CompileToFiles(o);
    ASSERT_TRUE(r.errors.empty() && r.lint.diags.errors() == 0) << Errors(r);
    ASSERT_EQ(r.written.size(), 1u);
    outputs.push_back(ReadBytes(o.output));
  }
  ASSERT_GT(outputs[0].size(), rt::kHeaderSize);
  EXPECT_TRUE(outputs[0] == outputs[1]) << "two compiles of the same sources differ ("
                                        << outputs[0].size() << " vs " << outputs[1].size() << " bytes)";
}

TEST(Codegen, CompilingEachSourceWritesARbcBesideIt) {
  // Without -o each source gets SOURCE.rbc beside it: compile copies in a temporary directory.
  ScratchDir dir("codegen-beside");
  fs::create_directories(dir.path() / "policy");
  fs::copy_file(SourceDir() / "runbooks" / "policy" / "escalation.rb.denis", dir.path() / "policy" / "escalation.rb.denis");
  std::vector<std::string> paths;
  for (const auto& seed : SeedRunbooks()) {
    fs::path copy = dir.path() / fs::path(seed).filename();
    fs::copy_file(SourceDir() / seed, copy);
    paths.push_back(copy.string());
  }
  ASSERT_EQ(paths.size(), 8u);
  CompileOptions o;
  o.paths = paths;
  CompileResult r = CompileToFiles(o);
  ASSERT_TRUE(r.errors.empty() && r.lint.diags.errors() == 0) << Errors(r);
  ASSERT_EQ(r.written.size(), 8u);
  for (const auto& src : paths) {
    std::string rbc = src.substr(0, src.size() - std::string(".rb.denis").size()) + ".rbc";
    EXPECT_NE(std::find(r.written.begin(), r.written.end(), rbc), r.written.end()) << rbc;
    ASSERT_TRUE(fs::exists(rbc)) << rbc;
    auto loaded = rt::LoadProgram(ReadBytes(rbc), TestRegistry());
    ASSERT_TRUE(std::holds_alternative<rt::Program>(loaded)) << rbc << ": " << std::get<rt::LoadError>(loaded).message;
    EXPECT_EQ(std::get<rt::Program>(loaded).runbooks.size(), 1u) << rbc;
  }
  EXPECT_FALSE(fs::exists(dir.path() / "policy" / "escalation.rbc"));  // an import is not an output
  EXPECT_TRUE(TempLeftovers(dir.path()).empty());
}

// ---- Atomic output --------------------------------------------------------------------------------

const char* const kBrokenRunbook =
    "import std.redis\nimport policy.escalation\n"
    "runbook broken \"Broken\" {\n  severity P3\n  owner sre\n  target redis = redis(\"redis\")\n"
    "  steps {\n    check memory \"Memory\" {\n      $ redis-cli info memory | grep used\n    }\n  }\n}\n";
const char* const kGoodRunbook =
    "import std.redis\nimport policy.escalation\n"
    "runbook good \"Good\" {\n  severity P3\n  owner sre\n  target redis = redis(\"redis\")\n"
    "  steps {\n    check state \"State\" {\n      $ redis-cli ping\n    }\n  }\n}\n";

void WritePolicyBeside(const ScratchDir& dir) {
  fs::create_directories(dir.path() / "policy");
  fs::copy_file(SourceDir() / "tests" / "golden" / "policy" / "escalation.rb.denis",
                dir.path() / "policy" / "escalation.rb.denis", fs::copy_options::overwrite_existing);
}

TEST(Codegen, FailedCompileLeavesExistingOutputUntouched) {
  ScratchDir dir("codegen-failed");
  WritePolicyBeside(dir);
  std::ofstream(dir / "broken.rb.denis", std::ios::binary) << kBrokenRunbook;
  const std::string previous = "previous output, not bytecode\n";
  std::ofstream(dir / "out.rbc", std::ios::binary) << previous;

  CompileOptions o;
  o.paths = {dir / "broken.rb.denis"};
  o.output = dir / "out.rbc";
  CompileResult r = CompileToFiles(o);
  EXPECT_GT(r.lint.diags.errors(), 0u);
  EXPECT_NE(RenderText(r.lint).find("RB0060"), std::string::npos) << RenderText(r.lint);
  EXPECT_TRUE(r.written.empty());
  EXPECT_EQ(ReadAll(dir.path() / "out.rbc"), previous);
  EXPECT_TRUE(TempLeftovers(dir.path()).empty());
}

TEST(Codegen, OneBadSourceWritesNothingForAnySource) {
  ScratchDir dir("codegen-one-bad");
  WritePolicyBeside(dir);
  std::ofstream(dir / "broken.rb.denis", std::ios::binary) << kBrokenRunbook;
  std::ofstream(dir / "good.rb.denis", std::ios::binary) << kGoodRunbook;
  CompileOptions o;
  o.paths = {dir / "good.rb.denis", dir / "broken.rb.denis"};
  CompileResult r = CompileToFiles(o);
  EXPECT_GT(r.lint.diags.errors(), 0u);
  EXPECT_TRUE(r.written.empty());
  EXPECT_FALSE(fs::exists(dir / "good.rbc"));
  EXPECT_FALSE(fs::exists(dir / "broken.rbc"));
  EXPECT_TRUE(TempLeftovers(dir.path()).empty());
}

TEST(Codegen, WriteFileAtomicReplacesAndCleansUp) {
  ScratchDir dir("codegen-atomic");
  std::string path = dir / "x.rbc";
  std::ofstream(path, std::ios::binary) << "old contents that are longer than the new ones";
  EXPECT_EQ(WriteFileAtomic(path, {'R', 'B', 'C', 0x1A, 0, 1}), "");
  EXPECT_EQ(ReadAll(path), std::string("RBC\x1a\0\x01", 6));
  EXPECT_TRUE(TempLeftovers(dir.path()).empty());

  // Into a directory that does not exist: an error naming the path, and nothing created.
  std::string missing = dir / "no/such/dir/x.rbc";
  std::string err = WriteFileAtomic(missing, {1, 2, 3});
  EXPECT_NE(err, "");
  EXPECT_NE(err.find("no/such/dir/x.rbc"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(dir.path() / "no"));

  // Over a directory: the rename fails, the directory survives and the temporary file is removed.
  fs::create_directories(dir.path() / "occupied");
  std::ofstream(dir.path() / "occupied" / "keep", std::ios::binary) << "keep";
  err = WriteFileAtomic(dir / "occupied", {1, 2, 3});
  EXPECT_NE(err, "");
  EXPECT_TRUE(fs::is_directory(dir.path() / "occupied"));
  EXPECT_EQ(ReadAll(dir.path() / "occupied" / "keep"), "keep");
  EXPECT_TRUE(TempLeftovers(dir.path()).empty()) << TempLeftovers(dir.path()).front();
}

}  // namespace
}  // namespace rb::test
