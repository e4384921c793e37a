// The verifier trusts nothing: one negative test per rule, and sweeps of corrupted files.
//
// Every negative test starts from a valid compiled program, changes exactly one thing (in the
// rt::Program, in the serialised bytes, or in the host registry) and checks that LoadProgram (or
// Verify) rejects it with a message naming the problem and the byte offset of the offending record.
// The sweeps flip, truncate and scramble the bytes of a compiled runbook: every mutant is rejected,
// or accepted and then every chunk runs within the VM's limits without crashing.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>
#include <random>
#include <sstream>

#include <unistd.h>

#include "runtime/rbc.hpp"
#include "runtime/verifier.hpp"
#include "runtime/vm.hpp"
#include "tests/compile_util.hpp"
#include "tests/fake_host.hpp"

namespace rb::test {
namespace {

using rt::Op;
constexpr auto npos = std::string::npos;
constexpr uint64_t kDayMs = 86400000;

// ---- Fixtures ------------------------------------------------------------------------------------

// A small runbook with what redis_down lacks: a last_resort step running a destructive command, a
// verify step with only an expectation, a manual step, a `run` action, and a filter pipeline with
// numeric arguments.
const char* kRulesRunbook = R"(import std.redis
import std.kube
import policy.escalation

runbook rules "Verifier rules" {
  severity P2
  owner    sre

  target redis = redis("redis")
  param  pod   = "redis-0"

  symptoms {
    down "Redis down" : not redis.ping()
  }

  steps {
    check state "State" {
      $ redis-cli ping
      $ kubectl logs {pod} |> grep_after("Error", 2) |> tail(5) |> head(3)
    }
    verify back "Back" {
      expect not down within 1m every 5s
    }
    manual call "Call" {
      "Call the owner"
    }
    last_resort kill "Delete the pod" when down and failed(back) {
      $ kubectl delete pod {pod}
    }
  }

  escalate {
    | when | then                     |
    | down | run state, then page sre |
  }
}
)";

// The seed runbook with the restart guard it had when these fixtures were pinned: a three-operand
// and/or (the runbook now restarts on `ping_error` alone), whose jumps and merge the mutations need.
const rt::Program& RedisDown() {
  static const rt::Program p = [] {
    namespace fs = std::filesystem;
    fs::path dir = TempDir() / "verifier-redis";
    fs::create_directories(dir / "policy");
    fs::copy_file(SourceDir() / "runbooks/policy/escalation.rb.denis", dir / "policy/escalation.rb.denis",
                  fs::copy_options::overwrite_existing);
    std::string text = ReadAll(SourceDir() / "runbooks/redis_down.rb.denis");
    const std::string now = "when ping_error {", then = "when ping_error or (broker_down and conn_error) {";
    size_t at = text.find(now);
    EXPECT_NE(at, std::string::npos);
    if (at != std::string::npos) text.replace(at, now.size(), then);
    std::ofstream(dir / "redis_down.rb.denis", std::ios::binary) << text;
    LoadedProgram l = LoadAny((dir / "redis_down.rb.denis").string(), TestRegistry());
    EXPECT_TRUE(l.program.has_value()) << l.error << RenderText(l.lint);
    return l.program ? std::move(*l.program) : rt::Program{};
  }();
  return p;
}
const rt::Program& Rules() {
  static const rt::Program p = CompileText("verifier_rules.rb.denis", kRulesRunbook);
  return p;
}

// The chunks of redis_down the tests mutate (their shape is pinned by FixturesHaveTheExpectedShape).
struct RedisChunks {
  uint32_t ping;       // symptom ping_error:  TARGET 0, CALL redis.ping/1, NOT, RETURN
  uint32_t metric;     // symptom rate_fallback: TARGET 1, CONST, CALL http.metric/2, CONST 0, GT, RETURN
  uint32_t filter;     // step memory's `|> grep("used")`: OUTPUT, CONST, CALL grep/2, RETURN
  uint32_t guard;      // step restart's `when`: SYMPTOM, JIT 7, SYMPTOM, JIF 6, SYMPTOM, AND, OR, RETURN
  uint32_t window;     // row 0: WINDOW 0, RETURN (a read of what the runner computed)
  uint32_t failed;     // row 2: FAILED 3, RETURN
  uint32_t ask;        // row 3: ASK, RETURN
  uint32_t policy_up;  // policy row 0: TARGET 0, CONST, CALL http.up/2, NOT, RETURN
  uint32_t policy_window;  // policy row 3: WINDOW 0, RETURN
  uint32_t window_cond;         // window 0's condition: SYMPTOM 0, RETURN
  uint32_t policy_window_cond;  // the policy's window 0's condition: INCIDENT, RETURN
};
RedisChunks Chunks(const rt::Program& p) {
  const rt::Runbook& rb = p.runbooks.at(0);
  return RedisChunks{rb.symptoms.at(0).chunk, rb.symptoms.at(1).chunk, rb.steps.at(1).items.at(0).command.filter,
                     rb.steps.at(2).guard,    rb.rows.at(0).chunk,     rb.rows.at(2).chunk,
                     rb.rows.at(3).chunk,     p.policy->rows.at(0).chunk, p.policy->rows.at(3).chunk,
                     rb.windows.at(0).chunk,  p.policy->windows.at(0).chunk};
}

// ---- Helpers -------------------------------------------------------------------------------------

uint32_t Get32(const std::vector<uint8_t>& b, size_t at) {
  uint32_t v = 0;
  std::memcpy(&v, &b.at(at), 4);
  return v;
}
void Put32(std::vector<uint8_t>& b, size_t at, uint32_t v) {
  EXPECT_LE(at + 4, b.size());
  std::memcpy(&b.at(at), &v, 4);
}
// Makes the header agree with the bytes again: what a deliberate tamperer would do.
void FixSizeAndReseal(std::vector<uint8_t>& b) {
  if (b.size() >= rt::kHeaderSize) Put32(b, 20, static_cast<uint32_t>(b.size()));
  rt::Reseal(b);
}

// The offset of a section's tag in a serialised program.
size_t SectionAt(const std::vector<uint8_t>& b, const char* tag) {
  size_t at = rt::kHeaderSize;
  while (at + 8 <= b.size()) {
    if (std::memcmp(&b[at], tag, 4) == 0) return at;
    at += 8 + Get32(b, at + 4);
  }
  ADD_FAILURE() << "no section " << tag;
  return 0;
}

// Reads (without verifying) a serialised program: its records carry their byte offsets.
rt::Program Parse(const std::vector<uint8_t>& bytes) {
  auto r = rt::Deserialize(bytes);
  if (auto* e = std::get_if<rt::LoadError>(&r)) {
    ADD_FAILURE() << "does not even parse: @" << e->offset << ": " << e->message;
    return {};
  }
  return std::move(std::get<rt::Program>(r));
}

struct Rejection {
  rt::LoadError error;
  rt::Program parsed;  // the mutant read back without verification, for the offsets of its records
};

Rejection RejectBytes(const std::vector<uint8_t>& bytes, const rt::Registry& reg = TestRegistry()) {
  Rejection out;
  auto r = rt::LoadProgram(bytes, reg);
  if (auto* e = std::get_if<rt::LoadError>(&r)) {
    out.error = *e;
    EXPECT_FALSE(e->message.empty());
    EXPECT_LE(e->offset, bytes.size()) << "the offset is outside the file: " << e->message;
  } else {
    ADD_FAILURE() << "the mutant was accepted";
    out.error = rt::LoadError{~uint64_t{0}, "<accepted>"};
  }
  return out;
}

// Serialises a mutated program and loads it.
Rejection Reject(const rt::Program& mutant, const rt::Registry& reg = TestRegistry()) {
  std::vector<uint8_t> bytes = rt::Serialize(mutant);
  Rejection out = RejectBytes(bytes, reg);
  out.parsed = Parse(bytes);
  return out;
}

#define EXPECT_MESSAGE(rejection, needle)                                                       \
  do {                                                                                           \
    const Rejection& rej_ = (rejection);                                                         \
    const std::string needle_ = (needle);                                                        \
    EXPECT_NE(rej_.error.message.find(needle_), npos) << "message: " << rej_.error.message       \
                                                      << "\nexpected to contain: " << needle_;   \
  } while (0)

void ExpectLoads(const rt::Program& p, const rt::Registry& reg = TestRegistry()) {
  auto r = rt::LoadProgram(rt::Serialize(p), reg);
  if (auto* e = std::get_if<rt::LoadError>(&r)) ADD_FAILURE() << "rejected: @" << e->offset << ": " << e->message;
}

uint32_t Word(Op op, uint32_t a = 0) { return rt::Encode(op, a); }
Op OpAt(const rt::Chunk& c, size_t pc) { return static_cast<Op>(rt::OpByte(c.code.at(pc))); }
std::vector<Op> Ops(const rt::Chunk& c) {
  std::vector<Op> ops;
  for (size_t pc = 0; pc < c.code.size(); ++pc) ops.push_back(OpAt(c, pc));
  return ops;
}
uint64_t InstrAt(const Rejection& r, uint32_t chunk, size_t pc) {
  return r.parsed.chunks.size() > chunk ? r.parsed.chunks[chunk].byte_offset + 4 * pc : ~uint64_t{0};
}
uint64_t RunbookAt(const Rejection& r) { return r.parsed.runbooks.empty() ? ~uint64_t{0} : r.parsed.runbooks[0].byte_offset; }

void SetCode(rt::Chunk& c, std::vector<uint32_t> code) {
  c.code = std::move(code);
  c.lines.assign(c.code.size(), c.lines.empty() ? 1 : c.lines[0]);
}

uint32_t StrIndex(const rt::Program& p, const std::string& s) {
  for (uint32_t i = 0; i < p.strings.size(); ++i) {
    if (p.strings[i] == s) return i;
  }
  ADD_FAILURE() << "no string " << s;
  return 0;
}
uint32_t AddString(rt::Program& p, const std::string& s) {
  for (uint32_t i = 0; i < p.strings.size(); ++i) {
    if (p.strings[i] == s) return i;
  }
  p.strings.push_back(s);
  return static_cast<uint32_t>(p.strings.size() - 1);
}
uint32_t ImportIndex(const rt::Program& p, const std::string& name) {
  for (uint32_t i = 0; i < p.imports.size(); ++i) {
    if (p.strings[p.imports[i].name] == name) return i;
  }
  ADD_FAILURE() << "no import " << name;
  return 0;
}
uint32_t ConstantOfType(const rt::Program& p, rt::ValueType t) {
  for (uint32_t i = 0; i < p.constants.size(); ++i) {
    if (p.constants[i].type == t) return i;
  }
  ADD_FAILURE() << "no constant of type " << rt::ValueTypeName(t);
  return 0;
}
rt::Command& CommandOf(rt::Program& p, size_t step, size_t item) {
  return p.runbooks.at(0).steps.at(step).items.at(item).command;
}

std::string Str(uint64_t v) { return std::to_string(v); }

// ---- The fixtures ---------------------------------------------------------------------------------

TEST(Verifier, AcceptsACompiledRunbook) {
  rt::Program p = CompileFile("runbooks/redis_down.rb.denis");
  EXPECT_FALSE(rt::Verify(p, TestRegistry()).has_value());
}

TEST(Verifier, FixturesHaveTheExpectedShape) {
  const rt::Program& p = RedisDown();
  ASSERT_EQ(p.runbooks.size(), 1u);
  ASSERT_TRUE(p.policy.has_value());
  const rt::Runbook& rb = p.runbooks[0];
  ASSERT_EQ(rb.params.size(), 1u);
  ASSERT_EQ(rb.targets.size(), 4u);
  ASSERT_EQ(rb.symptoms.size(), 4u);
  ASSERT_EQ(rb.steps.size(), 5u);
  ASSERT_EQ(rb.windows.size(), 1u);
  ASSERT_EQ(p.contacts.size(), 3u);
  ASSERT_EQ(p.policy->targets.size(), 1u);
  ASSERT_EQ(p.policy->windows.size(), 1u);
  RedisChunks c = Chunks(p);
  EXPECT_EQ(Ops(p.chunks[c.ping]), (std::vector<Op>{Op::kTARGET, Op::kCALL, Op::kNOT, Op::kRETURN}));
  EXPECT_EQ(Ops(p.chunks[c.metric]),
            (std::vector<Op>{Op::kTARGET, Op::kCONST, Op::kCALL, Op::kCONST, Op::kGT, Op::kRETURN}));
  EXPECT_EQ(Ops(p.chunks[c.filter]), (std::vector<Op>{Op::kOUTPUT, Op::kCONST, Op::kCALL, Op::kRETURN}));
  EXPECT_EQ(p.chunks[c.filter].cls, rt::ChunkClass::kFilter);
  EXPECT_EQ(Ops(p.chunks[c.guard]), (std::vector<Op>{Op::kSYMPTOM, Op::kJUMP_IF_TRUE, Op::kSYMPTOM, Op::kJUMP_IF_FALSE,
                                                     Op::kSYMPTOM, Op::kAND, Op::kOR, Op::kRETURN}));
  EXPECT_EQ(p.chunks[c.guard].code[1], Word(Op::kJUMP_IF_TRUE, 7));
  EXPECT_EQ(p.chunks[c.guard].code[3], Word(Op::kJUMP_IF_FALSE, 6));
  EXPECT_EQ(Ops(p.chunks[c.window]), (std::vector<Op>{Op::kWINDOW, Op::kRETURN}));
  EXPECT_EQ(Ops(p.chunks[c.window_cond]), (std::vector<Op>{Op::kSYMPTOM, Op::kRETURN}));
  EXPECT_EQ(p.chunks[c.window_cond].owner, 0u);
  EXPECT_EQ(Ops(p.chunks[c.failed]), (std::vector<Op>{Op::kFAILED, Op::kRETURN}));
  EXPECT_EQ(Ops(p.chunks[c.ask]), (std::vector<Op>{Op::kASK, Op::kRETURN}));
  EXPECT_EQ(Ops(p.chunks[c.policy_up]), (std::vector<Op>{Op::kTARGET, Op::kCONST, Op::kCALL, Op::kNOT, Op::kRETURN}));
  EXPECT_EQ(p.chunks[c.policy_up].owner, rt::kPolicyOwner);
  EXPECT_EQ(Ops(p.chunks[c.policy_window]), (std::vector<Op>{Op::kWINDOW, Op::kRETURN}));
  EXPECT_EQ(Ops(p.chunks[c.policy_window_cond]), (std::vector<Op>{Op::kDOWN, Op::kRETURN}));
  EXPECT_EQ(p.chunks[c.policy_window_cond].owner, rt::kPolicyOwner);
  EXPECT_EQ(rb.steps[0].kind, rt::StepKind::kCheck);
  EXPECT_EQ(rb.steps[2].kind, rt::StepKind::kAction);
  EXPECT_EQ(rb.steps[2].items[0].command.effect, rt::Effect::kWrite);
  EXPECT_EQ(rb.steps[3].kind, rt::StepKind::kVerify);
  EXPECT_EQ(rb.steps[3].items[1].kind, rt::StepItem::Kind::kExpect);
  EXPECT_EQ(rb.rows[0].actions[0].kind, rt::EscAction::Kind::kPage);
  EXPECT_EQ(rb.rows[1].actions[1].kind, rt::EscAction::Kind::kManual);
  EXPECT_EQ(p.policy->rows[0].actions[0].kind, rt::EscAction::Kind::kDeclare);
  EXPECT_EQ(p.policy->rows[0].actions[2].kind, rt::EscAction::Kind::kPage);

  const rt::Program& q = Rules();
  ASSERT_EQ(q.runbooks.size(), 1u);
  const rt::Runbook& r = q.runbooks[0];
  ASSERT_EQ(r.steps.size(), 4u);
  EXPECT_EQ(r.steps[1].kind, rt::StepKind::kVerify);
  EXPECT_EQ(r.steps[1].items.size(), 1u);
  EXPECT_EQ(r.steps[2].kind, rt::StepKind::kManual);
  EXPECT_EQ(r.steps[3].kind, rt::StepKind::kLastResort);
  EXPECT_EQ(r.steps[3].items[0].command.effect, rt::Effect::kDestructive);
  EXPECT_EQ(r.rows[0].actions[0].kind, rt::EscAction::Kind::kRun);

  // Both load from bytes and serialise back to the same bytes.
  for (const rt::Program* prog : {&p, &q}) {
    std::vector<uint8_t> bytes = rt::Serialize(*prog);
    auto loaded = rt::LoadProgram(bytes, TestRegistry());
    ASSERT_TRUE(std::holds_alternative<rt::Program>(loaded)) << std::get<rt::LoadError>(loaded).message;
    EXPECT_EQ(rt::Serialize(std::get<rt::Program>(loaded)), bytes);
  }
}

// ---- The file: header and sections ------------------------------------------------------------------

TEST(VerifierFile, BadMagic) {
  for (size_t i = 0; i < 4; ++i) {
    std::vector<uint8_t> b = rt::Serialize(RedisDown());
    b[i] ^= 0x20;
    Rejection r = RejectBytes(b);
    EXPECT_MESSAGE(r, "bad magic");
    EXPECT_EQ(r.error.offset, 0u);
  }
}

TEST(VerifierFile, UnsupportedVersion) {
  for (uint16_t v : {uint16_t{0}, uint16_t{1}, uint16_t{2}, uint16_t{3}, uint16_t{4}, uint16_t{5}, uint16_t{6}, uint16_t{7}, uint16_t{9}, uint16_t{0x0100},
                     uint16_t{0xFFFF}}) {
    std::vector<uint8_t> b = rt::Serialize(RedisDown());
    std::memcpy(&b[4], &v, 2);
    Rejection r = RejectBytes(b);
    EXPECT_MESSAGE(r, "format version " + Str(v) + " is not supported");
    EXPECT_EQ(r.error.offset, 4u);
  }
}

TEST(VerifierFile, TruncatedHeader) {
  for (size_t n : {size_t{0}, size_t{3}, size_t{4}, size_t{20}, size_t{31}}) {
    std::vector<uint8_t> b = rt::Serialize(RedisDown());
    b.resize(n);
    Rejection r = RejectBytes(b);
    EXPECT_MESSAGE(r, Str(n) + " bytes is shorter than the 32-byte header");
    EXPECT_EQ(r.error.offset, n);
  }
}

TEST(VerifierFile, SizeMismatch) {
  std::vector<uint8_t> b = rt::Serialize(RedisDown());
  const size_t n = b.size();
  std::vector<uint8_t> padded = b;
  padded.push_back(0);
  Rejection r = RejectBytes(padded);
  EXPECT_MESSAGE(r, "the header says " + Str(n) + " bytes, the file has " + Str(n + 1));
  EXPECT_EQ(r.error.offset, 20u);

  std::vector<uint8_t> cut = b;
  cut.pop_back();
  r = RejectBytes(cut);
  EXPECT_MESSAGE(r, "the header says " + Str(n) + " bytes, the file has " + Str(n - 1));
  EXPECT_EQ(r.error.offset, 20u);

  std::vector<uint8_t> lying = b;  // the size field itself
  Put32(lying, 20, static_cast<uint32_t>(n - 4));
  r = RejectBytes(lying);
  EXPECT_MESSAGE(r, "truncated or padded");
  EXPECT_EQ(r.error.offset, 20u);
}

TEST(VerifierFile, ChecksumMismatch) {
  std::vector<uint8_t> b = rt::Serialize(RedisDown());
  b.back() ^= 1;
  Rejection r = RejectBytes(b);
  EXPECT_MESSAGE(r, "checksum mismatch");
  EXPECT_EQ(r.error.offset, 24u);

  b = rt::Serialize(RedisDown());
  b[24] ^= 0x80;  // the checksum field itself
  r = RejectBytes(b);
  EXPECT_MESSAGE(r, "checksum mismatch");
  EXPECT_EQ(r.error.offset, 24u);
}

TEST(VerifierFile, UnexpectedSectionCount) {
  for (uint32_t n : {0u, 7u, 10u, 0xFFFFFFFFu}) {
    std::vector<uint8_t> b = rt::Serialize(RedisDown());
    Put32(b, 16, n);
    Rejection r = RejectBytes(b);
    EXPECT_MESSAGE(r, "unexpected section count " + Str(n));
    EXPECT_EQ(r.error.offset, 16u);
  }
  // Eight sections where the file has a policy: the POLI section is left over.
  std::vector<uint8_t> b = rt::Serialize(RedisDown());
  size_t poli = SectionAt(b, "POLI");
  Put32(b, 16, 8);
  Rejection r = RejectBytes(b);
  EXPECT_MESSAGE(r, Str(b.size() - poli) + " unexpected bytes after the last section");
  EXPECT_EQ(r.error.offset, poli);
  // Nine sections where the file has none.
  rt::Program p = RedisDown();
  p.policy.reset();
  for (auto& c : p.chunks) {
    if (c.owner == rt::kPolicyOwner) c.owner = 0;  // keep the chunks valid without the policy
  }
  b = rt::Serialize(p);
  Put32(b, 16, 9);
  r = RejectBytes(b);
  EXPECT_MESSAGE(r, "section tag");  // truncated: the POLI tag needs 4 bytes
  EXPECT_EQ(r.error.offset, b.size());
}

TEST(VerifierFile, WrongSectionTag) {
  for (const char* tag : {"STRS", "FILE", "CONS", "IMPT", "PROG", "CONT", "CODE", "RUNB", "POLI"}) {
    std::vector<uint8_t> b = rt::Serialize(RedisDown());
    size_t at = SectionAt(b, tag);
    b[at + 3] = 'X';
    rt::Reseal(b);
    Rejection r = RejectBytes(b);
    EXPECT_MESSAGE(r, std::string("expected section ") + tag);
    EXPECT_EQ(r.error.offset, at) << tag;
  }
}

TEST(VerifierFile, CountExceedsTheBytesLeft) {
  const std::vector<uint8_t> base = rt::Serialize(RedisDown());
  const rt::Program parsed = Parse(base);
  struct Case {
    size_t at;
    uint32_t value;
    std::string needle;
  };
  std::vector<Case> cases = {
      {SectionAt(base, "STRS") + 8, 0xFFFFFFFF, "strings count 4294967295 does not fit"},
      {SectionAt(base, "STRS") + 12, 0x7FFFFFFF, "string count 2147483647 does not fit"},  // the first string's length
      {SectionAt(base, "FILE") + 8, 1000000, "files count 1000000 does not fit"},
      {SectionAt(base, "CONS") + 8, 1000000, "constants count 1000000 does not fit"},
      {SectionAt(base, "IMPT") + 8, 1000000, "imports count 1000000 does not fit"},
      {SectionAt(base, "PROG") + 8, 1000000, "program tables count 1000000 does not fit"},
      {SectionAt(base, "CONT") + 8, 1000000, "contacts count 1000000 does not fit"},
      {SectionAt(base, "CODE") + 8, 1000000, "chunks count 1000000 does not fit"},
      {parsed.chunks.at(0).byte_offset - 4, 1000000, "instructions count 1000000 does not fit"},
      {SectionAt(base, "RUNB") + 8, 1000000, "runbooks count 1000000 does not fit"},
      {parsed.runbooks.at(0).byte_offset + 20, 1000000, "tags count 1000000 does not fit"},
  };
  for (const Case& c : cases) {
    std::vector<uint8_t> b = base;
    Put32(b, c.at, c.value);
    rt::Reseal(b);
    Rejection r = RejectBytes(b);
    EXPECT_MESSAGE(r, c.needle);
    EXPECT_EQ(r.error.offset, c.at) << c.needle;
  }
}

// Counts that fit the bytes left but whose records take far more memory than their bytes: a file of
// nothing but empty step items (5 bytes each, 72 in memory) or empty strings is refused before the
// reader allocates more than 4 bytes per byte of file (tests/rbc_alloc_test.cpp measures it).
TEST(VerifierFile, CountWithinTheBytesLeftButOverTheMemoryBudget) {
  rt::Program p = RedisDown();
  p.runbooks[0].steps.back().items.resize(200000);  // text items naming string 0
  std::vector<uint8_t> b = rt::Serialize(p);
  Rejection r = RejectBytes(b);
  EXPECT_MESSAGE(r, "step items count 200000 would need " + Str(200000 * sizeof(rt::StepItem)) + " bytes of memory");
  EXPECT_MESSAGE(r, "of the 4x-the-file-size limit; the file is corrupt or crafted");
  EXPECT_LT(r.error.offset, b.size());

  p = RedisDown();
  p.strings.resize(p.strings.size() + 200000);  // empty strings: 4 bytes in the file, 32 in memory
  r = RejectBytes(rt::Serialize(p));
  EXPECT_MESSAGE(r, "strings count " + Str(p.strings.size()) + " would need");
  EXPECT_EQ(r.error.offset, SectionAt(rt::Serialize(RedisDown()), "STRS") + 8);
}

TEST(VerifierFile, SectionLengthPastTheEnd) {
  std::vector<uint8_t> b = rt::Serialize(RedisDown());
  size_t at = SectionAt(b, "CODE");
  Put32(b, at + 4, 0x7FFFFFFF);
  rt::Reseal(b);
  Rejection r = RejectBytes(b);
  EXPECT_MESSAGE(r, "truncated: CODE needs 2147483647 bytes");
  EXPECT_EQ(r.error.offset, at + 8);
}

TEST(VerifierFile, TrailingBytesAfterTheLastSection) {
  std::vector<uint8_t> b = rt::Serialize(RedisDown());
  const size_t n = b.size();
  b.insert(b.end(), {0, 0, 0, 0});
  FixSizeAndReseal(b);
  Rejection r = RejectBytes(b);
  EXPECT_MESSAGE(r, "4 unexpected bytes after the last section");
  EXPECT_EQ(r.error.offset, n);
}

TEST(VerifierFile, TrailingBytesInsideASection) {
  std::vector<uint8_t> b = rt::Serialize(RedisDown());
  size_t cont = SectionAt(b, "CONT");
  size_t code = SectionAt(b, "CODE");
  b.insert(b.begin() + static_cast<long>(code), {0, 0, 0, 0});
  Put32(b, cont + 4, Get32(b, cont + 4) + 4);
  FixSizeAndReseal(b);
  Rejection r = RejectBytes(b);
  EXPECT_MESSAGE(r, "section CONT has 4 unexpected trailing bytes");
  EXPECT_EQ(r.error.offset, code);
}

// A section whose length is shorter than its records: the reader runs past the section's end. It is
// rejected; the message must say so (not report a wrapped-around count of "trailing bytes").
TEST(VerifierFile, SectionShorterThanItsRecords) {
  std::vector<uint8_t> b = rt::Serialize(RedisDown());
  size_t cont = SectionAt(b, "CONT");
  size_t code = SectionAt(b, "CODE");
  Put32(b, cont + 4, Get32(b, cont + 4) - 4);
  rt::Reseal(b);
  Rejection r = RejectBytes(b);
  EXPECT_MESSAGE(r, "section CONT is shorter than its records");
  EXPECT_EQ(r.error.message.find("18446744073709551612"), npos)
      << "the overrun is reported as a size_t wrap-around: " << r.error.message;
  EXPECT_EQ(r.error.offset, code - 4);  // where the section says it ends
}

TEST(VerifierFile, InvalidEnumValue) {
  const std::vector<uint8_t> base = rt::Serialize(RedisDown());
  const rt::Program parsed = Parse(base);
  struct Case {
    size_t at;
    uint8_t value;
    std::string needle;
  };
  std::vector<Case> cases = {
      {parsed.chunks.at(0).byte_offset - 17, 3, "chunk class has invalid value 3"},
      {parsed.imports.at(0).byte_offset + 4, 4, "import effect has invalid value 4"},
      {parsed.imports.at(0).byte_offset + 5, 2, "import filter flag has invalid value 2"},
      {parsed.imports.at(0).byte_offset + 6, 14, "import result has invalid value 14"},
      {SectionAt(base, "CONS") + 12, 0xFF, "constant type has invalid value 255"},
  };
  for (const Case& c : cases) {
    std::vector<uint8_t> b = base;
    b[c.at] = c.value;
    rt::Reseal(b);
    Rejection r = RejectBytes(b);
    EXPECT_MESSAGE(r, c.needle);
    EXPECT_EQ(r.error.offset, c.at) << c.needle;
  }
}

TEST(VerifierFile, LargerThanTheLimit) {
  std::vector<uint8_t> b(rt::kMaxRbcBytes + 1, 0);
  std::memcpy(b.data(), rt::kMagic, 4);
  Rejection r = RejectBytes(b);
  EXPECT_MESSAGE(r, "larger than 64 MiB");
}

// ---- Tables: strings, constants, imports ----------------------------------------------------------

TEST(VerifierTables, StringTableStartsWithTheEmptyString) {
  rt::Program p = RedisDown();
  p.strings[0] = "x";
  EXPECT_MESSAGE(Reject(p), "string table must start with the empty string");
  p.strings.clear();
  EXPECT_MESSAGE(Reject(p), "string table must start with the empty string");
}

TEST(VerifierTables, StringIndexOutOfRange) {
  enum Where { kRunbook, kPolicy, kImport, kNowhere };
  struct Case {
    std::string what;
    Where where;
    std::function<void(rt::Program&, uint32_t)> mutate;
  };
  const std::vector<Case> cases = {
      {"constant", kNowhere,
       [](rt::Program& p, uint32_t n) { p.constants[ConstantOfType(p, rt::ValueType::kString)].string = n; }},
      {"import", kImport, [](rt::Program& p, uint32_t n) { p.imports[0].name = n; }},
      {"contact", kNowhere, [](rt::Program& p, uint32_t n) { p.contacts[1].handle = n; }},
      {"runbook", kRunbook, [](rt::Program& p, uint32_t n) { p.runbooks[0].title = n; }},
      {"runbook", kRunbook, [](rt::Program& p, uint32_t n) { p.runbooks[0].severity = n; }},
      {"tag", kRunbook, [](rt::Program& p, uint32_t n) { p.runbooks[0].tags[2] = n; }},
      {"target", kRunbook, [](rt::Program& p, uint32_t n) { p.runbooks[0].targets[1].binding = n; }},
      {"param", kRunbook, [](rt::Program& p, uint32_t n) { p.runbooks[0].params[0].name = n; }},
      {"symptom", kRunbook, [](rt::Program& p, uint32_t n) { p.runbooks[0].symptoms[3].description = n; }},
      {"dashboard", kRunbook, [](rt::Program& p, uint32_t n) { p.runbooks[0].dashboards[0].title = n; }},
      {"panel", kRunbook, [](rt::Program& p, uint32_t n) { p.runbooks[0].dashboards[0].panels[3].title = n; }},
      {"kibana", kRunbook, [](rt::Program& p, uint32_t n) { p.runbooks[0].kibana[0].query = n; }},
      {"step", kRunbook, [](rt::Program& p, uint32_t n) { p.runbooks[0].steps[4].title = n; }},
      {"command word", kRunbook, [](rt::Program& p, uint32_t n) { CommandOf(p, 0, 1).argv[2][0].value = n; }},
      {"command rule", kRunbook, [](rt::Program& p, uint32_t n) { CommandOf(p, 2, 0).rule = n; }},
      {"escalation action", kRunbook, [](rt::Program& p, uint32_t n) { p.runbooks[0].rows[1].actions[1].value = n; }},
      {"declare", kPolicy, [](rt::Program& p, uint32_t n) { p.policy->rows[0].actions[0].value = n; }},
      {"policy", kPolicy, [](rt::Program& p, uint32_t n) { p.policy->title = n; }},
      {"target", kPolicy, [](rt::Program& p, uint32_t n) { p.policy->targets[0].capability = n; }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    rt::Program p = RedisDown();
    const uint32_t n = static_cast<uint32_t>(p.strings.size());
    c.mutate(p, n);
    Rejection r = Reject(p);
    EXPECT_MESSAGE(r, c.what + " names string " + Str(n) + ", the table has " + Str(n));
    switch (c.where) {
      case kRunbook: EXPECT_EQ(r.error.offset, RunbookAt(r)); break;
      case kPolicy: EXPECT_EQ(r.error.offset, r.parsed.policy_offset); break;
      case kImport: EXPECT_EQ(r.error.offset, r.parsed.imports.at(0).byte_offset); break;
      case kNowhere: break;  // constants and contacts do not record their offsets
    }
  }
  // The step text of a manual step.
  rt::Program q = Rules();
  q.runbooks[0].steps[2].items[0].text = static_cast<uint32_t>(q.strings.size());
  EXPECT_MESSAGE(Reject(q), "step text names string");
}

TEST(VerifierTables, ConstantNotFinite) {
  for (double v : {std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(),
                   std::numeric_limits<double>::quiet_NaN()}) {
    rt::Program p = RedisDown();
    uint32_t k = ConstantOfType(p, rt::ValueType::kPercent);
    p.constants[k].number = v;
    EXPECT_MESSAGE(Reject(p), "constant " + Str(k) + " is not a finite number");
  }
}

TEST(VerifierTables, ConstantOfATypeThatCannotBeAConstant) {
  for (rt::ValueType t : {rt::ValueType::kUnknown, rt::ValueType::kLines, rt::ValueType::kList, rt::ValueType::kMap,
                          rt::ValueType::kSecret, rt::ValueType::kTarget, rt::ValueType::kNone}) {
    rt::Program p = RedisDown();
    uint32_t k = ConstantOfType(p, rt::ValueType::kNum);
    p.constants[k].type = t;
    EXPECT_MESSAGE(Reject(p), "constant " + Str(k) + " has type " + rt::ValueTypeName(t) + ", which cannot be a constant");
  }
}

TEST(VerifierImports, UnknownToTheHost) {
  rt::Program p = RedisDown();
  uint32_t redis = ImportIndex(p, "redis");
  p.imports[redis].name = AddString(p, "rediss");
  Rejection r = Reject(p);
  EXPECT_MESSAGE(r, "import `rediss` is not a capability this host provides");
  EXPECT_EQ(r.error.offset, r.parsed.imports.at(redis).byte_offset);
  // A method name without a body is not a native either.
  p = RedisDown();
  uint32_t ping = ImportIndex(p, "redis.ping");
  p.imports[ping].body = rt::kNoChunk;
  EXPECT_MESSAGE(Reject(p), "import `redis.ping` is not a capability this host provides");
  // The same file against a host without those natives.
  rt::Registry bare;
  r = Reject(RedisDown(), bare);
  EXPECT_MESSAGE(r, "is not a capability this host provides");
}

// A native import relabelled: the host knows better. `prom` (read) renamed to `http_post` keeping
// its effect and signature where they agree.
TEST(VerifierImports, RelabelledAsRead) {
  rt::Program p = RedisDown();
  uint32_t prom = ImportIndex(p, "prom");
  p.imports[prom].name = AddString(p, "notify");
  p.imports[prom].params = {rt::ValueType::kString, rt::ValueType::kString};
  p.imports[prom].result = rt::ValueType::kBool;
  Rejection r = Reject(p);
  EXPECT_MESSAGE(r, "import `notify` is declared read in the file but is write on this host");
  EXPECT_EQ(r.error.offset, r.parsed.imports.at(prom).byte_offset);

  p = RedisDown();  // and the other way: any disagreement is rejected
  p.imports[prom].effect = rt::Effect::kWrite;
  EXPECT_MESSAGE(Reject(p), "import `prom` is declared write in the file but is read on this host");

  // A method may be declared more dangerous than its body; a condition then may not call it.
  p = RedisDown();
  p.imports[ImportIndex(p, "redis.ping")].effect = rt::Effect::kWrite;
  EXPECT_MESSAGE(Reject(p), "a condition calls `redis.ping`, which is write");
}

TEST(VerifierImports, SignatureMismatch) {
  std::vector<std::function<void(rt::Program&)>> mutations = {
      [](rt::Program& p) { p.imports[ImportIndex(p, "metric")].params.clear(); },
      [](rt::Program& p) { p.imports[ImportIndex(p, "metric")].params.push_back(rt::ValueType::kNum); },
      [](rt::Program& p) { p.imports[ImportIndex(p, "metric")].params[0] = rt::ValueType::kDuration; },
      [](rt::Program& p) { p.imports[ImportIndex(p, "metric")].result = rt::ValueType::kPercent; },
      [](rt::Program& p) { p.imports[ImportIndex(p, "grep")].is_filter = false; },
      [](rt::Program& p) { p.imports[ImportIndex(p, "metric")].is_filter = true; },
      // A rename to a read native of another signature.
      [](rt::Program& p) { p.imports[ImportIndex(p, "metric")].name = AddString(p, "es_count"); },
  };
  for (size_t i = 0; i < mutations.size(); ++i) {
    SCOPED_TRACE(i);
    rt::Program p = RedisDown();
    mutations[i](p);
    EXPECT_MESSAGE(Reject(p), "has a different signature than on this host");
  }
}

// A method import's body must be a method chunk taking the receiver and its formals.
TEST(VerifierImports, MethodBodyShape) {
  rt::Program p = RedisDown();
  uint32_t metric = ImportIndex(p, "http.metric");
  p.imports[metric].params.push_back(rt::ValueType::kNum);
  EXPECT_MESSAGE(Reject(p), "method `http.metric` takes 3 arguments but its body reads 2");
  p = RedisDown();
  p.imports[metric].body = static_cast<uint32_t>(p.chunks.size());
  EXPECT_MESSAGE(Reject(p), "names body chunk");
  p = RedisDown();
  p.imports[metric].body = Chunks(p).ping;
  EXPECT_MESSAGE(Reject(p), "has a body that is not a method chunk");
  p = RedisDown();
  p.imports[metric].is_filter = true;
  EXPECT_MESSAGE(Reject(p), "method `http.metric` is marked a filter or pure");
}

// ---- Chunks ---------------------------------------------------------------------------------------

TEST(VerifierChunks, FileIndexOutOfRange) {
  rt::Program p = RedisDown();
  uint32_t ping = Chunks(p).ping;
  uint32_t n = static_cast<uint32_t>(p.files.size());
  p.chunks[ping].file = n;
  Rejection r = Reject(p);
  EXPECT_MESSAGE(r, "file index " + Str(n) + " out of range (" + Str(n) + " files)");
  EXPECT_EQ(r.error.offset, r.parsed.chunks.at(ping).byte_offset);

  p = RedisDown();
  p.runbooks[0].file = 0xFFFFFFFF;
  r = Reject(p);
  EXPECT_MESSAGE(r, "file index 4294967295 out of range");
  EXPECT_EQ(r.error.offset, RunbookAt(r));

  p = RedisDown();
  p.policy->file = n;
  r = Reject(p);
  EXPECT_MESSAGE(r, "file index " + Str(n) + " out of range");
  EXPECT_EQ(r.error.offset, r.parsed.policy_offset);
}

TEST(VerifierChunks, EmptyChunk) {
  rt::Program p = RedisDown();
  uint32_t ping = Chunks(p).ping;
  SetCode(p.chunks[ping], {});
  Rejection r = Reject(p);
  EXPECT_MESSAGE(r, "chunk " + Str(ping) + " is empty");
  EXPECT_EQ(r.error.offset, r.parsed.chunks.at(ping).byte_offset);
}

TEST(VerifierChunks, TooLong) {
  rt::Program p = RedisDown();
  uint32_t ask = Chunks(p).ask;
  std::vector<uint32_t> code(rt::kMaxChunkInstructions - 2, Word(Op::kNOP));
  code.push_back(Word(Op::kTRUE));
  code.push_back(Word(Op::kRETURN));
  SetCode(p.chunks[ask], code);  // exactly the limit: accepted, and it runs within the default budget
  ASSERT_FALSE(rt::Verify(p, TestRegistry()).has_value());
  FakeHost host(p);
  rt::Vm vm(p);
  host.SetVm(&vm);
  rt::EvalResult res = vm.Eval(ask, host);
  EXPECT_TRUE(res.ok) << res.error;

  code.insert(code.begin(), Word(Op::kNOP));
  SetCode(p.chunks[ask], code);
  auto err = rt::Verify(p, TestRegistry());
  ASSERT_TRUE(err.has_value());
  EXPECT_NE(err->message.find("chunk " + Str(ask) + " is too long"), npos) << err->message;
}

// Only reachable in memory: the file format writes one line per instruction.
TEST(VerifierChunks, LineTableSizeMismatch) {
  for (int delta : {-1, +1}) {
    rt::Program p = RedisDown();
    uint32_t ping = Chunks(p).ping;
    if (delta < 0) p.chunks[ping].lines.pop_back();
    else p.chunks[ping].lines.push_back(1);
    auto err = rt::Verify(p, TestRegistry());
    ASSERT_TRUE(err.has_value());
    EXPECT_NE(err->message.find("chunk " + Str(ping) + " line table does not match its code"), npos) << err->message;
  }
}

TEST(VerifierChunks, OwnerInvalid) {
  for (uint32_t owner : {1u, 2u, 0xFFFFFFFEu}) {
    rt::Program p = RedisDown();
    uint32_t ping = Chunks(p).ping;
    p.chunks[ping].owner = owner;
    Rejection r = Reject(p);
    EXPECT_MESSAGE(r, "chunk owner " + Str(owner) + " is not a runbook");
    EXPECT_EQ(r.error.offset, r.parsed.chunks.at(ping).byte_offset);
  }
  rt::Program p = RedisDown();
  p.policy.reset();  // its chunks stay
  EXPECT_MESSAGE(Reject(p), "chunk belongs to a policy but the file has none");
}

// ---- Instructions -----------------------------------------------------------------------------------

TEST(VerifierCode, UnknownOpcode) {
  for (uint32_t opb : {static_cast<uint32_t>(rt::kOpCount), 0x7Fu, 0xFFu}) {
    rt::Program p = RedisDown();
    uint32_t ping = Chunks(p).ping;
    p.chunks[ping].code[2] = opb;
    Rejection r = Reject(p);
    EXPECT_MESSAGE(r, "chunk " + Str(ping) + " instruction 2: unknown opcode " + Str(opb));
    EXPECT_EQ(r.error.offset, InstrAt(r, ping, 2));
  }
}

TEST(VerifierCode, NonZeroOperandOnAShapelessInstruction) {
  struct Case {
    size_t pc;
    uint32_t word;
    std::string needle;
  };
  for (const Case& c : {Case{2, Word(Op::kNOT, 1), "instruction 2 (NOT): operand must be 0"},
                        Case{3, Word(Op::kRETURN, rt::kMaxOperand), "instruction 3 (RETURN): operand must be 0"},
                        Case{0, Word(Op::kTRUE, 0x100), "instruction 0 (TRUE): operand must be 0"}}) {
    rt::Program p = RedisDown();
    uint32_t ping = Chunks(p).ping;
    if (c.pc == 0) {
      SetCode(p.chunks[ping], {c.word, Word(Op::kRETURN)});
    } else {
      p.chunks[ping].code[c.pc] = c.word;
    }
    Rejection r = Reject(p);
    EXPECT_MESSAGE(r, c.needle);
    EXPECT_EQ(r.error.offset, InstrAt(r, ping, c.pc));
  }
}

// One case per operand shape, in runbook chunks and in policy chunks (whose tables are the policy's).
TEST(VerifierCode, OperandOutOfRange) {
  const rt::Program& base = RedisDown();
  const RedisChunks c = Chunks(base);
  const uint32_t nk = static_cast<uint32_t>(base.constants.size());
  const uint32_t ni = static_cast<uint32_t>(base.imports.size());
  struct Case {
    uint32_t chunk;
    size_t pc;
    uint32_t word;
    std::string needle;
  };
  const std::vector<Case> cases = {
      {c.metric, 1, Word(Op::kCONST, nk),
       "(CONST): constant " + Str(nk) + " out of range (" + Str(nk) + " in the table)"},
      {c.metric, 1, Word(Op::kCONST, rt::kMaxOperand), "(CONST): constant 16777215 out of range"},
      {c.ask, 0, Word(Op::kASK, nk), "(ASK): constant " + Str(nk) + " out of range"},
      {c.ping, 0, Word(Op::kPARAM, 1), "(PARAM): param 1 out of range (1 in the table)"},
      {c.ping, 0, Word(Op::kTARGET, 4), "(TARGET): target 4 out of range (4 in the table)"},
      {c.guard, 0, Word(Op::kSYMPTOM, 4), "(SYMPTOM): symptom 4 out of range (4 in the table)"},
      {c.failed, 0, Word(Op::kFAILED, 5), "(FAILED): step 5 out of range (5 in the table)"},
      {c.window, 0, Word(Op::kWINDOW, 1), "(WINDOW): window 1 out of range (1 in the table)"},
      {c.ping, 1, rt::EncodeCall(static_cast<uint16_t>(ni), 1),
       "(CALL): import " + Str(ni) + " out of range (" + Str(ni) + " imports)"},
      {c.ping, 1, rt::EncodeCall(0xFFFF, 1), "(CALL): import 65535 out of range"},
      {c.ping, 2, Word(Op::kLIST, 256), "(LIST): list too long"},
      // Policy chunks index the policy's tables: one target, one window, no params/symptoms/steps.
      {c.policy_up, 0, Word(Op::kTARGET, 1), "(TARGET): target 1 out of range (1 in the table)"},
      {c.policy_up, 0, Word(Op::kPARAM, 0), "(PARAM): param 0 out of range (0 in the table)"},
      {c.policy_up, 0, Word(Op::kSYMPTOM, 0), "(SYMPTOM): symptom 0 out of range (0 in the table)"},
      {c.policy_up, 0, Word(Op::kFAILED, 0), "(FAILED): step 0 out of range (0 in the table)"},
      {c.policy_window, 0, Word(Op::kWINDOW, 1), "(WINDOW): window 1 out of range (1 in the table)"},
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(k.needle);
    rt::Program p = base;
    p.chunks[k.chunk].code.at(k.pc) = k.word;
    Rejection r = Reject(p);
    EXPECT_MESSAGE(r, "chunk " + Str(k.chunk) + " instruction " + Str(k.pc) + " " + k.needle);
    EXPECT_EQ(r.error.offset, InstrAt(r, k.chunk, k.pc));
  }
}

TEST(VerifierCode, AskOfANonStringConstant) {
  rt::Program p = RedisDown();
  uint32_t ask = Chunks(p).ask;
  p.chunks[ask].code[0] = Word(Op::kASK, ConstantOfType(p, rt::ValueType::kNum));
  Rejection r = Reject(p);
  EXPECT_MESSAGE(r, "(ASK): question is not a string");
  EXPECT_EQ(r.error.offset, InstrAt(r, ask, 0));
}

TEST(VerifierCode, JumpsOnlyForwardInsideTheChunk) {
  struct Case {
    size_t pc;
    Op op;
    uint32_t target;
  };
  // guard: 0 SYMPTOM, 1 JIT 7, 2 SYMPTOM, 3 JIF 6, 4 SYMPTOM, 5 AND, 6 OR, 7 RETURN
  for (const Case& c : {Case{3, Op::kJUMP_IF_FALSE, 2}, Case{3, Op::kJUMP_IF_FALSE, 0},   // backwards
                        Case{3, Op::kJUMP_IF_FALSE, 3}, Case{1, Op::kJUMP_IF_TRUE, 1},    // to itself
                        Case{3, Op::kJUMP_IF_FALSE, 8}, Case{1, Op::kJUMP_IF_TRUE, 8},    // to the end
                        Case{3, Op::kJUMP_IF_FALSE, rt::kMaxOperand}}) {                  // far past it
    rt::Program p = RedisDown();
    uint32_t guard = Chunks(p).guard;
    p.chunks[guard].code[c.pc] = Word(c.op, c.target);
    Rejection r = Reject(p);
    EXPECT_MESSAGE(r, "instruction " + Str(c.pc) + " (" + rt::Info(c.op).name + "): jump target " + Str(c.target) +
                          " is not a later instruction of the chunk");
    EXPECT_EQ(r.error.offset, InstrAt(r, guard, c.pc));
  }
}

TEST(VerifierCode, StackUnderflow) {
  const RedisChunks c = Chunks(RedisDown());
  struct Case {
    uint32_t chunk;
    size_t pc;
    uint32_t word;
    size_t at;
    std::string needle;
  };
  for (const Case& k : {
           Case{c.ping, 0, Word(Op::kNOP), 1, "instruction 1 (CALL): needs 1 values, the stack has 0"},
           Case{c.metric, 3, Word(Op::kNOP), 4, "instruction 4 (GT): needs 2 values, the stack has 1"},
           Case{c.failed, 0, Word(Op::kNOP), 1, "instruction 1 (RETURN): needs 1 values, the stack has 0"},
           Case{c.ping, 2, Word(Op::kLIST, 2), 2, "instruction 2 (LIST): needs 2 values, the stack has 1"},
           Case{c.ping, 2, Word(Op::kPOP), 3, "instruction 3 (RETURN): needs 1 values, the stack has 0"},
           Case{c.window_cond, 0, Word(Op::kNOP), 1, "instruction 1 (RETURN): needs 1 values, the stack has 0"},
       }) {
    SCOPED_TRACE(k.needle);
    rt::Program p = RedisDown();
    p.chunks[k.chunk].code[k.pc] = k.word;
    Rejection r = Reject(p);
    EXPECT_MESSAGE(r, k.needle);
    EXPECT_EQ(r.error.offset, InstrAt(r, k.chunk, k.at));
  }
}

TEST(VerifierCode, InconsistentDepthAtAMerge) {
  // Falling through with 3 values into an instruction a jump reaches with 2.
  rt::Program p = RedisDown();
  uint32_t guard = Chunks(p).guard;
  p.chunks[guard].code[5] = Word(Op::kNOP);  // AND
  Rejection r = Reject(p);
  EXPECT_MESSAGE(r, "instruction 6 (OR): stack depth 3 here but 2 from a jump");
  EXPECT_EQ(r.error.offset, InstrAt(r, guard, 6));

  // Two jumps into one instruction with different depths.
  p = RedisDown();
  p.chunks[guard].code[3] = Word(Op::kJUMP_IF_FALSE, 7);
  r = Reject(p);
  EXPECT_MESSAGE(r, "instruction 3 (JUMP_IF_FALSE): jumps into an instruction with different stack depths");
  EXPECT_EQ(r.error.offset, InstrAt(r, guard, 3));
}

TEST(VerifierCode, StackTooDeep) {
  for (size_t pushes : {size_t{256}, size_t{257}}) {
    rt::Program p = RedisDown();
    uint32_t ask = Chunks(p).ask;
    std::vector<uint32_t> code(pushes, Word(Op::kTRUE));
    code.insert(code.end(), pushes - 1, Word(Op::kPOP));
    code.push_back(Word(Op::kRETURN));
    SetCode(p.chunks[ask], code);
    if (pushes == rt::kMaxStack) {
      ExpectLoads(p);  // the deepest allowed: it runs
      ASSERT_FALSE(rt::Verify(p, TestRegistry()).has_value());
      FakeHost host(p);
      rt::Vm vm(p);
      host.SetVm(&vm);
      rt::EvalResult res = vm.Eval(ask, host);
      EXPECT_TRUE(res.ok) << res.error;
    } else {
      Rejection r = Reject(p);
      EXPECT_MESSAGE(r, "instruction 256 (TRUE): stack too deep");
      EXPECT_EQ(r.error.offset, InstrAt(r, ask, 256));
    }
  }
}

// The deepest frames nested as deep as the VM allows: a symptom that pushes 255 values and then reads
// itself. Every frame stays inside the VM's stack (ASan checks it), and the cycle ends at the cap.
TEST(VerifierCode, DeepestStackNestedToTheCallDepthCap) {
  rt::Program p = RedisDown();
  uint32_t ping = Chunks(p).ping;
  std::vector<uint32_t> code(rt::kMaxStack - 1, Word(Op::kTRUE));
  code.push_back(Word(Op::kSYMPTOM, 0));  // itself: depth 256
  code.insert(code.end(), rt::kMaxStack - 1, Word(Op::kAND));
  code.push_back(Word(Op::kRETURN));
  SetCode(p.chunks[ping], code);
  ASSERT_FALSE(rt::Verify(p, TestRegistry()).has_value());
  EXPECT_EQ(p.chunks[ping].max_stack, rt::kMaxStack + 1);
  FakeHost host(p);
  rt::Vm vm(p);
  host.SetVm(&vm);
  rt::EvalResult res = vm.Eval(ping, host);
  EXPECT_TRUE(res.ok) << res.error;  // the innermost read fails (nesting cap) and is unknown
  EXPECT_NE(host.nested_error.find("nests deeper than 16"), npos) << host.nested_error;
}

TEST(VerifierCode, ReturnWithExtraValues) {
  rt::Program p = RedisDown();
  uint32_t ping = Chunks(p).ping;
  p.chunks[ping].code[2] = Word(Op::kTRUE);  // NOT → TRUE: two values at RETURN
  Rejection r = Reject(p);
  EXPECT_MESSAGE(r, "instruction 3 (RETURN): returns with 1 extra values on the stack");
  EXPECT_EQ(r.error.offset, InstrAt(r, ping, 3));
}

TEST(VerifierCode, FallingOffTheEnd) {
  rt::Program p = RedisDown();
  uint32_t ping = Chunks(p).ping;
  p.chunks[ping].code[3] = Word(Op::kPOP);  // RETURN → POP
  Rejection r = Reject(p);
  EXPECT_MESSAGE(r, "chunk " + Str(ping) + " falls off its end without RETURN");
  EXPECT_EQ(r.error.offset, InstrAt(r, ping, 3));

  // Only one path falls off: the jump from 1 lands on the last instruction, which no longer returns.
  p = RedisDown();
  uint32_t guard = Chunks(p).guard;
  p.chunks[guard].code[7] = Word(Op::kNOP);
  r = Reject(p);
  EXPECT_MESSAGE(r, "chunk " + Str(guard) + " falls off its end without RETURN");
  EXPECT_EQ(r.error.offset, InstrAt(r, guard, 7));
}

// Code after RETURN never runs, but its operands are still checked.
TEST(VerifierCode, DeadCodeIsCheckedButNeverRuns) {
  rt::Program p = RedisDown();
  uint32_t ping = Chunks(p).ping;
  p.chunks[ping].code.push_back(Word(Op::kPOP));  // would underflow, but is unreachable
  p.chunks[ping].lines.push_back(1);
  ExpectLoads(p);
  p.chunks[ping].code.back() = Word(Op::kTARGET, 9);
  Rejection r = Reject(p);
  EXPECT_MESSAGE(r, "instruction 4 (TARGET): target 9 out of range");
  EXPECT_EQ(r.error.offset, InstrAt(r, ping, 4));
}

TEST(VerifierCode, CallArgumentCount) {
  for (uint8_t argc : {uint8_t{0}, uint8_t{2}, uint8_t{255}}) {
    rt::Program p = RedisDown();
    uint32_t ping = Chunks(p).ping;
    p.chunks[ping].code[1] = rt::EncodeCall(static_cast<uint16_t>(ImportIndex(p, "redis.ping")), argc);
    Rejection r = Reject(p);
    EXPECT_MESSAGE(r, "instruction 1 (CALL): argument count does not match the import");
    EXPECT_EQ(r.error.offset, InstrAt(r, ping, 1));
  }
}

// A condition may only read. Construct one calling a write native registered in a copy of the host.
TEST(VerifierCode, ConditionCallsAWriteImport) {
  rt::Registry reg = TestRegistry();
  reg.AddNative(rt::NativeDecl{"redis.poke", rt::Effect::kWrite, false, {}, rt::ValueType::kBool});
  rt::Program p = RedisDown();
  rt::Import poke;
  poke.name = AddString(p, "redis.poke");
  poke.effect = rt::Effect::kWrite;
  poke.result = rt::ValueType::kBool;
  p.imports.push_back(poke);
  ExpectLoads(p, reg);  // importing it is fine...
  uint32_t ping = Chunks(p).ping;
  p.chunks[ping].code[1] = rt::EncodeCall(static_cast<uint16_t>(p.imports.size() - 1), 1);
  Rejection r = Reject(p, reg);  // ...calling it from a condition is not
  EXPECT_MESSAGE(r, "instruction 1 (CALL): a condition calls `redis.poke`, which is write");
  EXPECT_EQ(r.error.offset, InstrAt(r, ping, 1));

  // A destructive one from the real registry, in a guard.
  p = RedisDown();
  rt::Import flush;  // the `redis` native: a command's effect, destructive at most
  flush.name = AddString(p, "redis");
  flush.effect = rt::Effect::kDestructive;
  flush.params = {rt::ValueType::kString};
  flush.result = rt::ValueType::kLines;
  p.imports.push_back(flush);
  uint32_t guard = Chunks(p).guard;
  SetCode(p.chunks[guard], {Word(Op::kTARGET, 0), Word(Op::kCONST, ConstantOfType(p, rt::ValueType::kString)),
                            rt::EncodeCall(static_cast<uint16_t>(p.imports.size() - 1), 2), Word(Op::kRETURN)});
  r = Reject(p);
  EXPECT_MESSAGE(r, "a condition calls `redis`, which is destructive");
  EXPECT_EQ(r.error.offset, InstrAt(r, guard, 2));
}

TEST(VerifierCode, FilterCallsANonFilter) {
  rt::Program p = RedisDown();
  uint32_t filter = Chunks(p).filter;
  p.chunks[filter].code[2] = rt::EncodeCall(static_cast<uint16_t>(ImportIndex(p, "http.metric")), 2);
  Rejection r = Reject(p);
  EXPECT_MESSAGE(r, "instruction 2 (CALL): an output filter calls `http.metric`, which is not a filter");
  EXPECT_EQ(r.error.offset, InstrAt(r, filter, 2));
}

// The effect column of opcodes.def, per chunk class. A filter shapes its input: it may compute, read
// a param (a binding, fixed for the run) and OUTPUT, and call filters; every other read of the run's
// state (kState) is rejected, naming the instruction. Conditions may read all of it.
TEST(VerifierEffects, FilterReadingTheRunsStateIsRejected) {
  rt::Program base = RedisDown();
  const RedisChunks c = Chunks(base);
  // A let for LET 0 to read (its chunk: any condition of the runbook).
  base.runbooks[0].lets.push_back(rt::Let{base.runbooks[0].name, c.guard, rt::kNoStep, base.runbooks[0].name});
  // filter: 0 OUTPUT, 1 CONST "used", 2 CALL grep/2, 3 RETURN; instruction 1 becomes a state read.
  const uint32_t question = ConstantOfType(base, rt::ValueType::kString);
  std::vector<uint32_t> reads = {Word(Op::kSYMPTOM, 0), Word(Op::kINCIDENT), Word(Op::kFAILED, 0),
                                 Word(Op::kWINDOW, 0), Word(Op::kASK, question), Word(Op::kLET, 0),
                                 Word(Op::kNOW), Word(Op::kSEVERITY), Word(Op::kOWNER), Word(Op::kDOWN)};
  size_t state_ops = 0;
  for (size_t o = 0; o < rt::kOpCount; ++o) {
    const rt::OpInfo& info = rt::Info(static_cast<Op>(o));
    if (info.effect == rt::OpEffect::kState && static_cast<Op>(o) != Op::kOUTPUT && static_cast<Op>(o) != Op::kASK_TEXT) ++state_ops;
  }
  EXPECT_EQ(reads.size(), state_ops) << "a state opcode of opcodes.def has no case here";
  {  // ASK_TEXT pops its question: a filter that asks the text it shapes is rejected the same way
    rt::Program p = base;
    p.chunks[c.filter].code = {Word(Op::kOUTPUT), Word(Op::kASK_TEXT), Word(Op::kRETURN)};
    p.chunks[c.filter].lines.assign(3, 1);
    Rejection r = Reject(p);
    EXPECT_MESSAGE(r, "chunk " + Str(c.filter) + " instruction 1 (ASK_TEXT): an output filter reads the run's state");
  }
  for (uint32_t word : reads) {
    const char* name = rt::Info(static_cast<Op>(rt::OpByte(word))).name;
    SCOPED_TRACE(name);
    rt::Program p = base;
    p.chunks[c.filter].code[1] = word;
    Rejection r = Reject(p);
    EXPECT_MESSAGE(r, "chunk " + Str(c.filter) + " instruction 1 (" + name +
                          "): an output filter reads the run's state; a filter may only shape `output`, its input");
    EXPECT_EQ(r.error.offset, InstrAt(r, c.filter, 1));
    // The same read in a condition is what conditions do.
    rt::Program q = base;
    q.chunks[c.failed].code[0] = word;
    EXPECT_FALSE(rt::Verify(q, TestRegistry()).has_value()) << name;
  }
  // A param is a binding of the run, not state of the instant: filters' arguments may name one.
  rt::Program p = base;
  p.chunks[c.filter].code[1] = Word(Op::kPARAM, 0);
  EXPECT_FALSE(rt::Verify(p, TestRegistry()).has_value());
  EXPECT_EQ(rt::Info(Op::kPARAM).effect, rt::OpEffect::kBinding);
}

// WINDOW reads what the runner computed: it pops nothing, and a window's own condition may not read
// a window (the runner evaluates each window once per instant, in table order).
TEST(VerifierEffects, WindowIsAReadAndWindowsDoNotNest) {
  EXPECT_EQ(rt::Info(Op::kWINDOW).pops, 0);
  EXPECT_EQ(rt::Info(Op::kWINDOW).effect, rt::OpEffect::kState);
  EXPECT_EQ(rt::Info(Op::kASK).effect, rt::OpEffect::kState);
  rt::Program p = RedisDown();
  const RedisChunks c = Chunks(p);
  p.chunks[c.window_cond].code[0] = Word(Op::kWINDOW, 0);
  Rejection r = Reject(p);
  EXPECT_MESSAGE(r, "chunk " + Str(c.window_cond) +
                        " instruction 0 (WINDOW): the condition of window 0 reads window 0; windows do not nest");
  EXPECT_EQ(r.error.offset, InstrAt(r, c.window_cond, 0));
}

// ---- References to chunks ---------------------------------------------------------------------------

TEST(VerifierChunkRefs, WrongClassOrOwnerOrMissing) {
  const RedisChunks c = Chunks(RedisDown());
  const uint32_t n = static_cast<uint32_t>(RedisDown().chunks.size());
  struct Case {
    std::string needle;
    bool policy;
    std::function<void(rt::Program&)> mutate;
  };
  const std::vector<Case> cases = {
      {"symptom uses chunk " + Str(c.filter) + " of the wrong class", false,
       [&](rt::Program& p) { p.runbooks[0].symptoms[0].chunk = c.filter; }},
      {"panel uses chunk " + Str(c.filter) + " of the wrong class", false,
       [&](rt::Program& p) { p.runbooks[0].dashboards[0].panels[0].chunk = c.filter; }},
      {"command filter uses chunk " + Str(c.ping) + " of the wrong class", false,
       [&](rt::Program& p) { CommandOf(p, 1, 0).filter = c.ping; }},
      {"step guard uses chunk " + Str(c.filter) + " of the wrong class", false,
       [&](rt::Program& p) { p.runbooks[0].steps[2].guard = c.filter; }},
      {"symptom uses chunk " + Str(c.policy_up) + " of another runbook", false,
       [&](rt::Program& p) { p.runbooks[0].symptoms[0].chunk = c.policy_up; }},
      {"escalation row uses chunk " + Str(c.ping) + " of another runbook", true,
       [&](rt::Program& p) { p.policy->rows[0].chunk = c.ping; }},
      {"step guard names chunk " + Str(n) + ", there are " + Str(n), false,
       [&](rt::Program& p) { p.runbooks[0].steps[2].guard = n; }},
      {"expectation names chunk 4294967294", false,
       [&](rt::Program& p) { p.runbooks[0].steps[3].items[1].chunk = 0xFFFFFFFE; }},
      {"symptom has no code", false, [&](rt::Program& p) { p.runbooks[0].symptoms[2].chunk = rt::kNoChunk; }},
      {"expectation has no code", false, [&](rt::Program& p) { p.runbooks[0].steps[3].items[1].chunk = rt::kNoChunk; }},
      {"escalation row has no code", false, [&](rt::Program& p) { p.runbooks[0].rows[1].chunk = rt::kNoChunk; }},
      {"escalation row has no code", true, [&](rt::Program& p) { p.policy->rows[6].chunk = rt::kNoChunk; }},
      // A window's condition: a condition chunk of the window's owner, always present.
      {"window 0 has no code", false, [&](rt::Program& p) { p.runbooks[0].windows[0].chunk = rt::kNoChunk; }},
      {"window 0 uses chunk " + Str(c.filter) + " of the wrong class", false,
       [&](rt::Program& p) { p.runbooks[0].windows[0].chunk = c.filter; }},
      {"window 0 uses chunk " + Str(c.ping) + " of another runbook", true,
       [&](rt::Program& p) { p.policy->windows[0].chunk = c.ping; }},
      {"window 0 names chunk " + Str(n) + ", there are " + Str(n), true,
       [&](rt::Program& p) { p.policy->windows[0].chunk = n; }},
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(k.needle);
    rt::Program p = RedisDown();
    k.mutate(p);
    Rejection r = Reject(p);
    EXPECT_MESSAGE(r, k.needle);
    EXPECT_EQ(r.error.offset, k.policy ? r.parsed.policy_offset : RunbookAt(r));
  }
  // A chunk of another runbook: a second runbook owning the symptom chunk of the first.
  rt::Program p = RedisDown();
  p.runbooks.push_back(p.runbooks[0]);
  Rejection r = Reject(p);
  EXPECT_MESSAGE(r, "symptom uses chunk " + Str(c.ping) + " of another runbook");
  EXPECT_EQ(r.error.offset, r.parsed.runbooks.at(1).byte_offset);
}

// ---- Commands ---------------------------------------------------------------------------------------

TEST(VerifierCommands, EffectRelabelled) {
  rt::Program p = RedisDown();
  CommandOf(p, 2, 0).effect = rt::Effect::kRead;  // kubectl rollout restart, recorded as read
  Rejection r = Reject(p);
  EXPECT_MESSAGE(r, "command `kubectl rollout restart` is recorded as read but is write");
  EXPECT_EQ(r.error.offset, RunbookAt(r));

  p = Rules();
  CommandOf(p, 3, 0).effect = rt::Effect::kWrite;  // kubectl delete, recorded as write
  EXPECT_MESSAGE(Reject(p), "command `kubectl delete` is recorded as write but is destructive");

  p = RedisDown();
  CommandOf(p, 0, 0).effect = rt::Effect::kWrite;  // over-stating is a disagreement too
  EXPECT_MESSAGE(Reject(p), "command `redis-cli ping` is recorded as write but is read");
}

// The host's program table decides, not the file: a host where `redis-cli ping` writes rejects the file.
TEST(VerifierCommands, HostProgramTableDecides) {
  rt::Registry reg = TestRegistry();
  rt::ProgramDecl cli;
  cli.name = "redis-cli";
  cli.rules = {rt::ProgramRule{rt::Effect::kWrite, {"ping"}}, rt::ProgramRule{rt::Effect::kRead, {"info"}}};
  reg.AddProgram(cli);
  // redis.ping's body runs `PING` through the same table: the method is refused first.
  EXPECT_MESSAGE(Reject(RedisDown(), reg), "method `redis.ping` is declared read but its body is write");
  rt::Program p = RedisDown();
  p.imports[ImportIndex(p, "redis.ping")].effect = rt::Effect::kWrite;  // declared as its body is, now
  EXPECT_MESSAGE(Reject(p, reg), "a condition calls `redis.ping`, which is write");

  cli.rules = {rt::ProgramRule{rt::Effect::kRead, {"ping"}}};  // no rule for `info`, no default
  reg.AddProgram(cli);
  Rejection r = Reject(RedisDown(), reg);
  EXPECT_MESSAGE(r, "`redis-cli` has no declared effect for this sub-command");
  EXPECT_EQ(r.error.offset, RunbookAt(r));
}

TEST(VerifierCommands, WriteCommandInAReadOnlyStep) {
  for (rt::StepKind kind : {rt::StepKind::kCheck, rt::StepKind::kVerify}) {
    rt::Program p = RedisDown();
    p.runbooks[0].steps[2].kind = kind;
    Rejection r = Reject(p);
    EXPECT_MESSAGE(r, std::string("a ") + lang::Name(kind) + " step runs `kubectl rollout restart`, which is write");
    EXPECT_EQ(r.error.offset, RunbookAt(r));
  }
}

TEST(VerifierCommands, DestructiveOutsideLastResort) {
  rt::Program p = Rules();
  p.runbooks[0].steps[3].kind = rt::StepKind::kAction;
  Rejection r = Reject(p);
  EXPECT_MESSAGE(r, "destructive `kubectl delete` outside a last_resort step");
  EXPECT_EQ(r.error.offset, RunbookAt(r));

  p = Rules();
  p.runbooks[0].steps[3].kind = rt::StepKind::kCheck;
  EXPECT_MESSAGE(Reject(p), "a check step runs `kubectl delete`, which is destructive");
}

TEST(VerifierCommands, CommandInAManualStep) {
  rt::Program p = RedisDown();
  p.runbooks[0].steps[0].kind = rt::StepKind::kManual;
  Rejection r = Reject(p);
  EXPECT_MESSAGE(r, "a manual step runs a command");
  EXPECT_EQ(r.error.offset, RunbookAt(r));
}

TEST(VerifierCommands, ExpectationInAManualStep) {
  rt::Program p = Rules();
  p.runbooks[0].steps[1].kind = rt::StepKind::kManual;
  Rejection r = Reject(p);
  EXPECT_MESSAGE(r, "a manual step has an expectation");
  EXPECT_EQ(r.error.offset, RunbookAt(r));
}

TEST(VerifierCommands, UnknownProgram) {
  rt::Program p = RedisDown();
  CommandOf(p, 0, 0).argv[0][0].value = StrIndex(p, "ping");
  Rejection r = Reject(p);
  EXPECT_MESSAGE(r, "program `ping` is not allowed by this host");
  EXPECT_EQ(r.error.offset, RunbookAt(r));

  p = RedisDown();  // a program name glued from two literal parts
  CommandOf(p, 0, 0).argv[0].push_back(rt::WordPart{rt::WordPart::Kind::kLiteral, StrIndex(p, "ping")});
  EXPECT_MESSAGE(Reject(p), "the program of a command must be one literal word");
}

TEST(VerifierCommands, SlotAsTheProgramName) {
  for (auto kind : {rt::WordPart::Kind::kParam, rt::WordPart::Kind::kTarget}) {
    rt::Program p = RedisDown();
    CommandOf(p, 0, 0).argv[0][0] = rt::WordPart{kind, 0};
    Rejection r = Reject(p);
    EXPECT_MESSAGE(r, "the program of a command must be one literal word");
    EXPECT_EQ(r.error.offset, RunbookAt(r));
  }
  rt::Program p = RedisDown();  // a literal program name with a slot glued on
  CommandOf(p, 0, 0).argv[0].push_back(rt::WordPart{rt::WordPart::Kind::kParam, 0});
  EXPECT_MESSAGE(Reject(p), "the program of a command must be one literal word");
}

// A `{param}` word whose param has a literal string default is matched on that default, by the
// compiler and again by the verifier: changing the default (only) changes the derived effect.
TEST(VerifierCommands, ParamSlotMatchedOnItsDefault) {
  rt::Program base = CompileText("verbs.rb.denis", R"(import std.kube
import policy.escalation

runbook verbs "Verbs" {
  severity P3
  owner    sre
  param    verb = "delete"

  steps {
    last_resort wipe "Wipe" {
      $ kubectl {verb} pod x
    }
  }
}
)");
  ASSERT_EQ(base.runbooks.size(), 1u);
  ASSERT_EQ(CommandOf(base, 0, 0).effect, rt::Effect::kDestructive);
  ExpectLoads(base);
  const rt::Param& verb = base.runbooks[0].params.at(0);
  ASSERT_EQ(verb.def, rt::Param::Default::kConstant);

  rt::Program p = base;
  p.constants[verb.value].string = AddString(p, "get");
  Rejection r = Reject(p);
  EXPECT_MESSAGE(r, "command `kubectl get` is recorded as destructive but is read");
  EXPECT_EQ(r.error.offset, RunbookAt(r));

  // No default: the slot in sub-command position may be any sub-command, so the most dangerous rule
  // of kubectl applies (fail closed): destructive, as recorded; recorded as a read it is refused.
  p = base;
  p.runbooks[0].params[0].def = rt::Param::Default::kNone;
  ExpectLoads(p);
  CommandOf(p, 0, 0).effect = rt::Effect::kRead;
  EXPECT_MESSAGE(Reject(p), "is recorded as read but is destructive");
}

TEST(VerifierCommands, SlotOfAMissingParamOrTarget) {
  rt::Program p = RedisDown();
  rt::Command& cmd = CommandOf(p, 2, 0);  // kubectl rollout restart statefulset/redis -n {ns}
  ASSERT_EQ(cmd.argv.back()[0].kind, rt::WordPart::Kind::kParam);
  cmd.argv.back()[0].value = 1;
  EXPECT_MESSAGE(Reject(p), "command slot names a missing param");

  p = RedisDown();
  CommandOf(p, 2, 0).argv.back()[0] = rt::WordPart{rt::WordPart::Kind::kTarget, 4};
  EXPECT_MESSAGE(Reject(p), "command slot names a missing target");
}

TEST(VerifierCommands, EmptyArgvOrWord) {
  rt::Program p = RedisDown();
  CommandOf(p, 0, 0).argv.clear();
  EXPECT_MESSAGE(Reject(p), "command has no argv");
  p = RedisDown();
  CommandOf(p, 0, 0).argv[1].clear();
  EXPECT_MESSAGE(Reject(p), "command word has no parts");
}

// ---- Expectations, windows, runbooks, escalation ----------------------------------------------------

TEST(VerifierRunbook, EverySlowerThanWithin) {
  struct Case {
    uint64_t within, every;
  };
  for (const Case& c : {Case{120000, 120001}, Case{120000, 200000}, Case{0, 5000}}) {
    rt::Program p = RedisDown();
    rt::StepItem& e = p.runbooks[0].steps[3].items[1];
    e.within_ms = c.within;
    e.every_ms = c.every;
    Rejection r = Reject(p);
    EXPECT_MESSAGE(r, "expectation polls more slowly than its deadline");
    EXPECT_EQ(r.error.offset, RunbookAt(r));
  }
  rt::Program p = RedisDown();  // polling exactly at the deadline is fine
  p.runbooks[0].steps[3].items[1].every_ms = p.runbooks[0].steps[3].items[1].within_ms;
  ExpectLoads(p);
}

TEST(VerifierRunbook, ExpectationDeadlineOutOfRange) {
  rt::Program p = RedisDown();
  p.runbooks[0].steps[3].items[1].within_ms = 366 * kDayMs + 1;
  EXPECT_MESSAGE(Reject(p), "expectation deadline out of range");
  p.runbooks[0].steps[3].items[1].within_ms = 366 * kDayMs;
  ExpectLoads(p);
}

TEST(VerifierRunbook, WindowBoundOutOfRange) {
  for (uint64_t bound : {uint64_t{0}, 366 * kDayMs + 1, ~uint64_t{0}}) {
    rt::Program p = RedisDown();
    p.runbooks[0].windows[0].bound_ms = bound;
    Rejection r = Reject(p);
    EXPECT_MESSAGE(r, "window bound out of range");
    EXPECT_EQ(r.error.offset, RunbookAt(r));

    p = RedisDown();
    p.policy->windows[0].bound_ms = bound;
    r = Reject(p);
    EXPECT_MESSAGE(r, "window bound out of range");
    EXPECT_EQ(r.error.offset, r.parsed.policy_offset);
  }
}

TEST(VerifierRunbook, DeclareOfANonSeverity) {
  for (const char* s : {"sre", "P0", "P5", "p1", ""}) {
    rt::Program p = RedisDown();
    p.policy->rows[0].actions[0].value = AddString(p, s);
    Rejection r = Reject(p);
    EXPECT_MESSAGE(r, std::string("declare `") + s + "` is not a severity");
    EXPECT_EQ(r.error.offset, r.parsed.policy_offset);
  }
}

TEST(VerifierRunbook, PageOfAMissingContact) {
  rt::Program p = RedisDown();
  p.runbooks[0].rows[0].actions[0].value = 3;
  Rejection r = Reject(p);
  EXPECT_MESSAGE(r, "page names contact 3, there are 3");
  EXPECT_EQ(r.error.offset, RunbookAt(r));

  p = RedisDown();
  p.policy->rows[0].actions[1].value = 0xFFFFFFFE;  // 0xFFFFFFFF is `page owner` (format 7)
  r = Reject(p);
  EXPECT_MESSAGE(r, "page names contact 4294967294, there are 3");
  EXPECT_EQ(r.error.offset, r.parsed.policy_offset);
}

TEST(VerifierRunbook, RunOfAMissingStep) {
  rt::Program p = Rules();
  p.runbooks[0].rows[0].actions[0].value = 4;  // run state → run step 4 of 4
  Rejection r = Reject(p);
  EXPECT_MESSAGE(r, "run names step 4, there are 4");
  EXPECT_EQ(r.error.offset, RunbookAt(r));

  p = RedisDown();  // the policy has no steps: `page emergency` (contact 2) relabelled `run` step 2
  p.policy->rows[0].actions[2].kind = rt::EscAction::Kind::kRun;
  r = Reject(p);
  EXPECT_MESSAGE(r, "run names step 2, there are 0");
  EXPECT_EQ(r.error.offset, r.parsed.policy_offset);
}

TEST(VerifierRunbook, OwnerIsNotAContact) {
  rt::Program p = RedisDown();
  p.runbooks[0].owner = 3;
  Rejection r = Reject(p);
  EXPECT_MESSAGE(r, "runbook owner is not a contact");
  EXPECT_EQ(r.error.offset, RunbookAt(r));
}

TEST(VerifierRunbook, ParamDefaults) {
  rt::Program p = RedisDown();
  ASSERT_EQ(p.runbooks[0].params[0].def, rt::Param::Default::kConstant);
  p.runbooks[0].params[0].value = static_cast<uint32_t>(p.constants.size());
  Rejection r = Reject(p);
  EXPECT_MESSAGE(r, "param default out of range");
  EXPECT_EQ(r.error.offset, RunbookAt(r));

  p = RedisDown();
  p.runbooks[0].params[0].def = rt::Param::Default::kSecret;
  p.runbooks[0].params[0].value = static_cast<uint32_t>(p.strings.size());
  EXPECT_MESSAGE(Reject(p), "secret name names string");
}

// ---- Sweeps -------------------------------------------------------------------------------------------

struct EvalStats {
  size_t evals = 0, ok = 0, errors = 0;
  std::vector<std::string> problems;  // the first few
  void Problem(const std::string& s) {
    if (problems.size() < 20) problems.push_back(s);
  }
};

// Evaluates every chunk of a verified program with the default limits: once with probes answering
// (values of their declared types), once with everything unknown. Each result is a value or an error.
void EvalEveryChunk(const rt::Program& p, EvalStats& stats, const std::string& what) {
  test::EvalEveryChunk(p, rt::VmLimits{}, [&](uint32_t c, const rt::EvalResult& r) {
    ++stats.evals;
    if (r.ok) {
      ++stats.ok;
      (void)rt::ToString(r.value);
    } else {
      ++stats.errors;
      if (r.error.empty()) stats.Problem(what + ": chunk " + Str(c) + " failed without an error message");
    }
  });
}

struct SweepStats {
  size_t mutants = 0, rejected = 0, accepted = 0;
  EvalStats eval;
  std::vector<std::string> problems;
  void Problem(const std::string& s) {
    if (problems.size() < 20) problems.push_back(s);
  }
};

// Loads a mutant; if accepted, runs every chunk. With `roundtrip`, an accepted mutant must serialise
// back to the same bytes (nothing the reader accepts is silently dropped or normalised).
void TryMutant(const std::vector<uint8_t>& bytes, SweepStats& s, const std::string& what, bool roundtrip) {
  ++s.mutants;
  auto r = rt::LoadProgram(bytes, TestRegistry());
  if (auto* e = std::get_if<rt::LoadError>(&r)) {
    ++s.rejected;
    if (e->message.empty()) s.Problem(what + ": rejected without a message");
    if (e->offset > bytes.size()) s.Problem(what + ": offset " + Str(e->offset) + " outside the file: " + e->message);
    return;
  }
  ++s.accepted;
  const rt::Program& p = std::get<rt::Program>(r);
  if (roundtrip && rt::Serialize(p) != bytes) s.Problem(what + ": accepted but does not serialise back to its bytes");
  EvalEveryChunk(p, s.eval, what);
}

void Report(const char* name, const SweepStats& s, double ms) {
  std::cout << "[ sweep    ] " << name << ": " << s.mutants << " mutants, " << s.rejected << " rejected, " << s.accepted
            << " accepted (" << s.eval.evals << " chunk evaluations: " << s.eval.ok << " ok, " << s.eval.errors
            << " errors) in " << static_cast<long>(ms) << " ms\n";
  ::testing::Test::RecordProperty(std::string(name) + "_mutants", static_cast<int>(s.mutants));
  ::testing::Test::RecordProperty(std::string(name) + "_rejected", static_cast<int>(s.rejected));
  ::testing::Test::RecordProperty(std::string(name) + "_accepted", static_cast<int>(s.accepted));
  ::testing::Test::RecordProperty(std::string(name) + "_ms", static_cast<int>(ms));
}

std::string Join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += "\n  " + x;
  return s;
}

class Stopwatch {
 public:
  double ms() const { return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start_).count(); }

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

const char* HeaderField(size_t at) {
  if (at < 4) return "magic";
  if (at < 6) return "version";
  if (at < 8) return "flags";
  if (at < 16) return "source hash";
  if (at < 20) return "section count";
  if (at < 24) return "file size";
  if (at < 28) return "checksum";
  return "reserved";
}

// (a) Any single-byte change after the header is caught by the checksum.
TEST(VerifierSweep, FlipEveryBodyByteTheChecksumCatchesIt) {
  const std::vector<uint8_t> base = rt::Serialize(RedisDown());
  Stopwatch t;
  SweepStats s;
  for (size_t i = rt::kHeaderSize; i < base.size(); ++i) {
    std::vector<uint8_t> b = base;
    b[i] ^= 0xFF;
    ++s.mutants;
    auto r = rt::LoadProgram(b, TestRegistry());
    auto* e = std::get_if<rt::LoadError>(&r);
    if (!e) {
      ++s.accepted;
      s.Problem("byte " + Str(i) + " flipped: accepted");
    } else {
      ++s.rejected;
      if (e->offset != 24 || e->message.find("checksum mismatch") == npos) {
        s.Problem("byte " + Str(i) + ": @" + Str(e->offset) + " " + e->message);
      }
    }
  }
  Report("flip_body", s, t.ms());
  EXPECT_EQ(s.rejected, base.size() - rt::kHeaderSize);
  EXPECT_TRUE(s.problems.empty()) << Join(s.problems);
}

// (a) The header is not covered by the checksum. Its checked fields (magic, version, section count,
// size, checksum) reject any flip, at their own offset. docs/bytecode.md declares the rest unchecked:
// flags and reserved ("written as 0, not checked") and the source hash ("informational"); a flip there
// loads, and must change nothing but the source hash.
TEST(VerifierSweep, FlipEveryHeaderByte) {
  const std::vector<uint8_t> base = rt::Serialize(RedisDown());
  std::vector<std::string> problems, unchecked;
  for (size_t i = 0; i < rt::kHeaderSize; ++i) {
    std::vector<uint8_t> b = base;
    b[i] ^= 0xFF;
    auto r = rt::LoadProgram(b, TestRegistry());
    const std::string field = HeaderField(i);
    const bool documented_unchecked = field == "flags" || field == "source hash" || field == "reserved";
    if (auto* e = std::get_if<rt::LoadError>(&r)) {
      uint64_t want = i < 4 ? 0 : i < 6 ? 4 : i < 16 ? ~uint64_t{0} : i < 20 ? 16 : i < 24 ? 20 : 24;
      if (e->offset != want) problems.push_back("byte " + Str(i) + " (" + field + "): @" + Str(e->offset) + " " + e->message);
      continue;
    }
    if (!documented_unchecked) {
      problems.push_back("byte " + Str(i) + " (" + field + ") flipped: accepted");
      continue;
    }
    unchecked.push_back(Str(i));
    std::vector<uint8_t> back = rt::Serialize(std::get<rt::Program>(r));
    std::memcpy(&back[8], &base[8], 8);  // the source hash is carried through
    if (back != base) problems.push_back("byte " + Str(i) + " (" + field + ") changed the loaded program");
  }
  std::cout << "[ sweep    ] header: " << unchecked.size() << " of " << rt::kHeaderSize
            << " header bytes are unchecked by design (flags, source hash, reserved)\n";
  EXPECT_TRUE(problems.empty()) << Join(problems);
}

// (b) A deliberate tamper: flip each byte (XOR 0xFF, and XOR 0x01 for off-by-one indices), fix the
// checksum. Rejected, or accepted and then every chunk evaluates safely.
TEST(VerifierSweep, FlipEveryByteAndResealRejectedOrRunsSafely) {
  for (const rt::Program* prog : {&RedisDown(), &Rules()}) {
    const std::vector<uint8_t> base = rt::Serialize(*prog);
    Stopwatch t;
    SweepStats s;
    for (uint8_t mask : {uint8_t{0xFF}, uint8_t{0x01}}) {
      for (size_t i = 0; i < base.size(); ++i) {
        std::vector<uint8_t> b = base;
        b[i] ^= mask;
        rt::Reseal(b);
        // Flags and reserved bytes are not kept, so they do not serialise back (FlipEveryHeaderByte).
        TryMutant(b, s, "byte " + Str(i) + " ^ " + Str(mask), i >= rt::kHeaderSize);
      }
    }
    Report(prog == &RedisDown() ? "flip_reseal_redis_down" : "flip_reseal_rules", s, t.ms());
    EXPECT_GT(s.rejected, 0u);
    EXPECT_TRUE(s.problems.empty()) << Join(s.problems);
    EXPECT_TRUE(s.eval.problems.empty()) << Join(s.eval.problems);
  }
}

// (c) Every proper prefix is rejected: as cut (size mismatch), and with the header's size and
// checksum fixed to match (then the section reader must notice).
TEST(VerifierSweep, TruncateAtEveryLengthIsRejected) {
  const std::vector<uint8_t> base = rt::Serialize(RedisDown());
  Stopwatch t;
  SweepStats s;
  for (size_t n = 0; n < base.size(); ++n) {
    for (bool fix : {false, true}) {
      std::vector<uint8_t> b(base.begin(), base.begin() + static_cast<long>(n));
      if (fix) FixSizeAndReseal(b);
      ++s.mutants;
      auto r = rt::LoadProgram(b, TestRegistry());
      if (auto* e = std::get_if<rt::LoadError>(&r)) {
        ++s.rejected;
        if (e->offset > n) s.Problem("cut at " + Str(n) + ": offset " + Str(e->offset) + " past the end: " + e->message);
        if (!fix && n >= rt::kHeaderSize && e->offset != 20) s.Problem("cut at " + Str(n) + ": " + e->message);
      } else {
        ++s.accepted;
        s.Problem("cut at " + Str(n) + (fix ? " (resealed)" : "") + ": accepted");
      }
    }
  }
  Report("truncate", s, t.ms());
  EXPECT_EQ(s.rejected, 2 * base.size());
  EXPECT_TRUE(s.problems.empty()) << Join(s.problems);
}

// (d) Random multi-byte mutations of the body (overwrites, bit flips, small integers written over
// fields, inserted and erased bytes), resealed. Fixed seed: the same mutants every run.
TEST(VerifierSweep, RandomMultiByteMutationsRejectedOrRunSafely) {
  for (const rt::Program* prog : {&RedisDown(), &Rules()}) {
    const std::vector<uint8_t> base = rt::Serialize(*prog);
    std::mt19937 rng(20240611);
    Stopwatch t;
    SweepStats s;
    const int kMutants = prog == &RedisDown() ? 10000 : 5000;
    for (int k = 0; k < kMutants; ++k) {
      std::vector<uint8_t> b = base;
      std::ostringstream what;
      what << "mutant " << k << ":";
      int edits = 1 + static_cast<int>(rng() % 6);
      for (int e = 0; e < edits; ++e) {
        size_t body = b.size() - rt::kHeaderSize;
        if (body < 8) break;
        size_t at = rt::kHeaderSize + rng() % body;
        switch (rng() % 5) {
          case 0: {
            uint8_t v = static_cast<uint8_t>(rng());
            what << " [" << at << "]=" << int(v);
            b[at] = v;
            break;
          }
          case 1: {
            int bit = static_cast<int>(rng() % 8);
            what << " [" << at << "]^=" << (1 << bit);
            b[at] ^= static_cast<uint8_t>(1 << bit);
            break;
          }
          case 2: {  // a small integer over a 32-bit field: plausible counts and indices
            if (at + 4 > b.size()) break;
            uint32_t v = rng() % 64;
            what << " u32[" << at << "]=" << v;
            Put32(b, at, v);
            break;
          }
          case 3: {
            size_t n = 1 + rng() % 8;
            what << " insert " << n << "@" << at;
            for (size_t i = 0; i < n; ++i) b.insert(b.begin() + static_cast<long>(at), static_cast<uint8_t>(rng()));
            break;
          }
          default: {
            size_t n = std::min<size_t>(1 + rng() % 8, b.size() - at);
            what << " erase " << n << "@" << at;
            b.erase(b.begin() + static_cast<long>(at), b.begin() + static_cast<long>(at + n));
            break;
          }
        }
      }
      FixSizeAndReseal(b);
      TryMutant(b, s, what.str(), true);
    }
    Report(prog == &RedisDown() ? "random_redis_down" : "random_rules", s, t.ms());
    EXPECT_GT(s.rejected, 0u);
    EXPECT_TRUE(s.problems.empty()) << Join(s.problems);
    EXPECT_TRUE(s.eval.problems.empty()) << Join(s.eval.problems);
  }
}

// Every opcode, with a spread of operands, at every instruction of every chunk: the verifier and the
// VM must agree. Whatever the verifier accepts runs safely.
TEST(VerifierSweep, EveryOpcodeAtEveryInstruction) {
  for (const rt::Program* prog : {&RedisDown(), &Rules()}) {
    rt::Program p = *prog;
    Stopwatch t;
    SweepStats s;
    for (uint32_t ci = 0; ci < p.chunks.size(); ++ci) {
      const size_t n = p.chunks[ci].code.size();
      for (size_t pc = 0; pc < n; ++pc) {
        const uint32_t original = p.chunks[ci].code[pc];
        std::vector<uint32_t> words;
        for (uint32_t op = 0; op < rt::kOpCount; ++op) {
          rt::Shape shape = rt::Info(static_cast<Op>(op)).shape;
          if (shape == rt::Shape::kCall) {
            for (uint32_t im = 0; im <= p.imports.size(); ++im) {
              size_t want = im < p.imports.size() ? p.imports[im].params.size() + 1 : 1;
              for (size_t argc : {size_t{0}, want, want + 1}) {
                words.push_back(rt::EncodeCall(static_cast<uint16_t>(im), static_cast<uint8_t>(argc)));
              }
            }
          } else if (shape == rt::Shape::kJump) {
            for (uint32_t a = 0; a <= n + 1; ++a) words.push_back(Word(static_cast<Op>(op), a));
          } else {
            for (uint32_t a : {0u, 1u, 2u, 3u, 4u, 9u, 255u, 256u, rt::kMaxOperand}) {
              words.push_back(Word(static_cast<Op>(op), a));
            }
          }
        }
        words.push_back(static_cast<uint32_t>(rt::kOpCount));
        for (uint32_t w : words) {
          p.chunks[ci].code[pc] = w;
          ++s.mutants;
          if (auto err = rt::Verify(p, TestRegistry())) {
            ++s.rejected;
          } else {
            ++s.accepted;
            EvalEveryChunk(p, s.eval, "chunk " + Str(ci) + " pc " + Str(pc) + " word " + Str(w));
          }
        }
        p.chunks[ci].code[pc] = original;
      }
    }
    Report(prog == &RedisDown() ? "opcodes_redis_down" : "opcodes_rules", s, t.ms());
    EXPECT_TRUE(s.eval.problems.empty()) << Join(s.eval.problems);
  }
}

// ---- Runs safely: cases that may crash the process run in a child (a death test), so a crash or a
// sanitizer abort fails one test instead of ending the run. -------------------------------------------

// Numbers the verifier accepts (any finite value) reach the filters as counts: huge, negative and
// fractional ones must be safe. head/tail/grep_after convert a double to a size_t.
TEST(VerifierRunsSafelyDeathTest, ExtremeFiniteConstants) {
  const std::vector<double> values = {0.0, -0.0, -1.0, 0.5, 1e-300, 1e18, 1.8446744073709552e19, 1e300,
                                      -1e300, std::numeric_limits<double>::max(), std::numeric_limits<double>::denorm_min()};
  for (const rt::Program* prog : {&RedisDown(), &Rules()}) {
    EXPECT_EXIT(
        {
          SweepStats s;
          for (uint32_t k = 0; k < prog->constants.size(); ++k) {
            if (prog->constants[k].type == rt::ValueType::kString) continue;
            for (double v : values) {
              rt::Program p = *prog;
              p.constants[k].number = v;
              TryMutant(rt::Serialize(p), s, "constant " + Str(k) + " = " + std::to_string(v), true);
            }
          }
          std::cerr << s.rejected << " rejected" << Join(s.problems) << Join(s.eval.problems) << "\n";
          std::_Exit(s.rejected == 0 && s.problems.empty() && s.eval.problems.empty() ? 0 : 1);
        },
        ::testing::ExitedWithCode(0), "");
  }
}

const char* kHttpHeader = "import std.http\nimport std.kube\nimport policy.escalation\n"
                          "runbook t \"T\" {\n  severity P2\n  owner sre\n"
                          "  target api = http(\"denis-api\")\n  target kube = kube(\"denis\")\n";
std::string SymptomRunbook(const std::string& symptom) {
  return std::string(kHttpHeader) + "  symptoms {\n    " + symptom + "\n  }\n  escalate {\n    | when | then |\n" +
         "    | incident | page sre |\n  }\n}\n";
}

// Not only a tampered file: constant folding of valid source gives a count of 8.1e31, and the cast to
// size_t in the filters is undefined behaviour (UBSan: "outside the range of representable values").
TEST(VerifierRunsSafelyDeathTest, HugeFilterCountFromSource) {
  rt::Program p = CompileText("huge_count.rb.denis",
                              SymptomRunbook("noisy \"n\" : kube.logs(\"app=x\", 100) |> head(9007199254740992 * 9007199254740992) "
                                             "|> count() > 5"));
  ASSERT_FALSE(p.chunks.empty());
  EXPECT_EXIT(
      {
        FakeHost host(p);
        host.probes["kube.logs"] = rt::Value::Lines({"a", "b", "c"});
        rt::Vm vm(p);
        host.SetVm(&vm);
        rt::EvalResult r = vm.Eval(SymptomChunk(p, "noisy"), host);
        // head(8.1e31) keeps all three lines: `count() > 5` is false, computed, not an error.
        bool as_named = r.ok && r.value.type == rt::ValueType::kBool && r.value.number == 0;
        std::_Exit(as_named ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

// The deadline holds whatever a filter does: `grep` with nested quantifiers backtracks exponentially
// on a line that almost matches (a valid pattern in valid source; the output is the host's). The
// child is killed by SIGALRM if the evaluation does not return well after its deadline.
TEST(VerifierRunsSafelyDeathTest, GrepBacktrackingRespectsTheDeadline) {
  rt::Program p = CompileText("backtrack.rb.denis",
                              SymptomRunbook("slow \"s\" : api.get(\"/\") |> grep(\"(a|aa)*b\") |> count() > 0"));
  ASSERT_FALSE(p.chunks.empty());
  EXPECT_EXIT(
      {
        alarm(3);
        FakeHost host(p);
        host.probes["http.get"] = rt::Value::Lines({std::string(64, 'a')});
        rt::VmLimits limits;
        limits.deadline = std::chrono::milliseconds(200);
        rt::Vm vm(p, limits);
        host.SetVm(&vm);
        rt::EvalResult r = vm.Eval(SymptomChunk(p, "slow"), host);
        // Matching is linear, so the answer (no line matches: false) comes well inside the deadline;
        // were it to backtrack, the deadline would end it with an error naming the deadline.
        bool answered = r.ok && r.value.type == rt::ValueType::kBool && r.value.number == 0;
        bool cut = !r.ok && r.error.find("deadline") != std::string::npos;
        std::_Exit(answered || cut ? 0 : 1);  // and alarm(3) kills a child that never returns
      },
      ::testing::ExitedWithCode(0), "");
}

// A filter over one long line of command output (a minified JSON body, a stack trace joined by a log
// shipper): `grep` with a `.*` pattern must return (a value or an error), not overflow the stack.
TEST(VerifierRunsSafelyDeathTest, GrepOverAVeryLongLine) {
  rt::Program p = CompileText("long_line.rb.denis",
                              SymptomRunbook("a \"a\" : api.get(\"/\") |> grep(\"ERROR.*timeout\") |> count() > 0\n"
                                             "    b \"b\" : api.get(\"/\") |> grep_i(\"(x|y)*z\") |> count() > 0\n"
                                             "    c \"c\" : api.get(\"/\") |> grep_after(\"[a-z]*[0-9]\", 2) |> count() > 0"));
  ASSERT_FALSE(p.chunks.empty());
  EXPECT_EXIT(
      {
        FakeHost host(p);
        host.probes["http.get"] = rt::Value::Lines({"ERROR " + std::string(200000, 'x') + " timeout"});
        rt::Vm vm(p);
        host.SetVm(&vm);
        // a: the line matches; b: no `z` in it; c: no digit in it. Each a value, none an error.
        bool ok = true;
        for (auto [s, want] : {std::pair{"a", true}, std::pair{"b", false}, std::pair{"c", false}}) {
          rt::EvalResult r = vm.Eval(SymptomChunk(p, s), host);
          ok = ok && r.ok && r.value.type == rt::ValueType::kBool && (r.value.number != 0) == want;
        }
        std::_Exit(ok ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

// The .rbc fuzz target's seeds are compiled runbooks this build loads: after a format or stdlib
// change they would all be rejected at the header and the fuzzer would never reach the sections.
TEST(FuzzCorpus, RbcSeedsLoadWithThisBuild) {
  size_t loaded = 0;
  for (const auto& e : std::filesystem::directory_iterator(SourceDir() / "tests" / "fuzz" / "corpus" / "fuzz_rbc")) {
    if (e.path().filename() == "header_only.rbc") continue;
    std::string text = ReadAll(e.path());
    auto r = rt::LoadProgram(std::vector<uint8_t>(text.begin(), text.end()), TestRegistry());
    const auto* err = std::get_if<rt::LoadError>(&r);
    EXPECT_EQ(err, nullptr) << e.path() << ": " << (err ? err->message : "")
                            << "; recompile the seeds: for f in runbooks/*.rb.denis; do build/runbook compile $f -o "
                               "tests/fuzz/corpus/fuzz_rbc/$(basename $f .rb.denis).rbc; done; build/runbook compile "
                               "runbooks -o tests/fuzz/corpus/fuzz_rbc/all_runbooks.rbc";
    loaded += err == nullptr;
  }
  EXPECT_GE(loaded, 9u);
}

}  // namespace
}  // namespace rb::test
