// Loading and verifying compiled runbooks with the runtime alone. This binary links rbruntime and
// no compiler: the natives come from runtime/natives.def, and each command's effect is re-derived
// from the program tables the `.rbc` carries. The seeds are the compiled runbooks of
// tests/fuzz/corpus/fuzz_rbc (FuzzCorpus.RbcSeedsLoadWithThisBuild keeps them current).
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "runtime/natives.hpp"
#include "runtime/rbc.hpp"
#include "runtime/verifier.hpp"

namespace rb::rt {
namespace {

std::vector<uint8_t> Seed(const std::string& name) {
  std::filesystem::path path = std::filesystem::path(RUNBOOK_SOURCE_DIR) / "tests/fuzz/corpus/fuzz_rbc" / name;
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

Program Load(const std::vector<uint8_t>& bytes, const Registry& reg = DefaultRegistry()) {
  auto r = LoadProgram(bytes, reg);
  if (auto* e = std::get_if<LoadError>(&r)) {
    ADD_FAILURE() << "rejected at byte " << e->offset << ": " << e->message;
    return {};
  }
  return std::move(std::get<Program>(r));
}

// The first command of the runbook whose program is `program` and whose first argument is `word`.
Command* FindCommand(Program& p, const std::string& program, const std::string& word) {
  for (auto& rb : p.runbooks) {
    for (auto& step : rb.steps) {
      for (auto& item : step.items) {
        auto& argv = item.command.argv;
        if (item.kind == StepItem::Kind::kCommand && argv.size() >= 2 && argv[0].size() == 1 && argv[1].size() == 1 &&
            p.Str(argv[0][0].value) == program && argv[1][0].kind == WordPart::Kind::kLiteral &&
            p.Str(argv[1][0].value) == word) {
          return &item.command;
        }
      }
    }
  }
  return nullptr;
}

ProgramDecl* Table(Program& p, const std::string& name) {
  for (auto& d : p.programs) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

TEST(RuntimeOnly, CompiledSeedRunbooksLoadAndVerify) {
  for (const char* seed : {"redis_down.rbc", "queue_growing.rbc", "graph_slow.rbc", "all_runbooks.rbc"}) {
    Program p = Load(Seed(seed));
    EXPECT_FALSE(p.runbooks.empty()) << seed;
    EXPECT_FALSE(p.programs.empty()) << seed << " carries no program table";
    size_t methods = 0;
    for (const auto& im : p.imports) {
      if (im.IsMethod()) {  // written in the language: its body chunk, verified with the natives it calls
        ++methods;
        EXPECT_EQ(im.native, kNoNative) << seed << ": " << p.Str(im.name);
        continue;
      }
      ASSERT_NE(im.native, kNoNative) << seed << ": " << p.Str(im.name);
      EXPECT_EQ(Natives()[im.native].name, p.Str(im.name));
    }
    EXPECT_GT(methods, 0u) << seed;
  }
}

// With no table of its own, the host derives each command's effect from the table the file carries:
// a table edited to call `redis-cli ping` a write rejects the read method whose body runs `PING`
// (and the command recorded as a read).
TEST(RuntimeOnly, CarriedTableDecidesWhereTheHostHasNone) {
  Program p = Load(Seed("redis_down.rbc"));
  ASSERT_NE(FindCommand(p, "redis-cli", "ping"), nullptr);
  ProgramDecl* cli = Table(p, "redis-cli");
  ASSERT_NE(cli, nullptr);
  cli->rules.insert(cli->rules.begin(), ProgramRule{Effect::kWrite, {"ping"}});
  cli->prepared.reset();
  auto r = LoadProgram(Serialize(p), DefaultRegistry());
  ASSERT_TRUE(std::holds_alternative<LoadError>(r));
  EXPECT_NE(std::get<LoadError>(r).message.find("method `redis.ping` is declared read but its body is write"),
            std::string::npos)
      << std::get<LoadError>(r).message;
  // Every method declared as dangerous as any body can be, and no condition calling one: then the
  // step's command is what is refused.
  for (auto& im : p.imports) {
    if (im.IsMethod()) im.effect = Effect::kDestructive;
  }
  for (auto& c : p.chunks) {
    if (c.cls != ChunkClass::kCondition) continue;
    c.code = {Encode(Op::kTRUE), Encode(Op::kRETURN)};
    c.lines.resize(2);
  }
  r = LoadProgram(Serialize(p), DefaultRegistry());
  ASSERT_TRUE(std::holds_alternative<LoadError>(r));
  EXPECT_NE(std::get<LoadError>(r).message.find("command `redis-cli ping` is recorded as read but is write"),
            std::string::npos)
      << std::get<LoadError>(r).message;

  // A program the file carries no table for is not allowed.
  Program q = Load(Seed("redis_down.rbc"));
  q.programs.erase(q.programs.begin(), q.programs.end());
  auto s = LoadProgram(Serialize(q), DefaultRegistry());
  ASSERT_TRUE(std::holds_alternative<LoadError>(s));
  // The first refusal is a method body whose command no table reads: it counts as destructive.
  EXPECT_NE(std::get<LoadError>(s).message.find("method `redis.ping` is declared read but its body is destructive"),
            std::string::npos)
      << std::get<LoadError>(s).message;
}

// A host with its own table for a program decides with it, whatever the file's table says.
TEST(RuntimeOnly, HostTableDecidesOverTheCarriedOne) {
  Program p = Load(Seed("redis_down.rbc"));
  ProgramDecl* cli = Table(p, "redis-cli");
  ASSERT_NE(cli, nullptr);
  ProgramDecl lax = *cli;  // the file claims everything is read
  cli->rules.clear();
  cli->default_effect = Effect::kDestructive;
  cli->prepared.reset();
  Registry host = DefaultRegistry();
  host.AddProgram(lax);
  std::vector<uint8_t> bytes = Serialize(p);
  EXPECT_TRUE(std::holds_alternative<LoadError>(LoadProgram(bytes, DefaultRegistry())));
  EXPECT_TRUE(std::holds_alternative<Program>(LoadProgram(bytes, host)));
}

// Tables are checked as records: two tables for one program, or a rule without a pattern.
TEST(RuntimeOnly, MalformedCarriedTablesAreRejected) {
  Program p = Load(Seed("redis_down.rbc"));
  ASSERT_FALSE(p.programs.empty());
  Program twice = p;
  twice.programs.push_back(twice.programs.front());
  auto r = LoadProgram(Serialize(twice), DefaultRegistry());
  ASSERT_TRUE(std::holds_alternative<LoadError>(r));
  EXPECT_NE(std::get<LoadError>(r).message.find("has two effect tables"), std::string::npos) << std::get<LoadError>(r).message;

  Program empty_rule = p;
  empty_rule.programs.front().rules.push_back(ProgramRule{Effect::kRead, {}});
  auto s = LoadProgram(Serialize(empty_rule), DefaultRegistry());
  ASSERT_TRUE(std::holds_alternative<LoadError>(s));
  EXPECT_NE(std::get<LoadError>(s).message.find("a rule with no pattern"), std::string::npos) << std::get<LoadError>(s).message;
}

// A file of the previous format (no PROG section) is refused with a clear message.
TEST(RuntimeOnly, PreviousFormatVersionIsRefused) {
  std::vector<uint8_t> bytes = Seed("redis_down.rbc");
  ASSERT_GE(bytes.size(), kHeaderSize);
  uint16_t old = kFormatVersion - 1;
  std::memcpy(&bytes[4], &old, 2);
  Reseal(bytes);
  auto r = LoadProgram(bytes, DefaultRegistry());
  ASSERT_TRUE(std::holds_alternative<LoadError>(r));
  EXPECT_NE(std::get<LoadError>(r).message.find("recompile the source"), std::string::npos);
}

}  // namespace
}  // namespace rb::rt
