// The one `$`-line word splitter (lang/words.hpp), shared by the compiler and the scenario loader.
#include <gtest/gtest.h>

#include "lang/words.hpp"
#include "runtime/executor.hpp"
#include "tests/compile_util.hpp"

namespace rb::test {
namespace {

lang::Word Decode(std::string_view text) {
  lang::LiteralProblem p;
  auto w = lang::DecodeWord(text, lang::WordRule::kDollarLine, p);
  EXPECT_TRUE(w.has_value()) << text << ": " << p.message;
  return w.value_or(lang::Word{});
}

std::vector<std::string> Split(std::string_view text) {
  lang::LiteralProblem p;
  auto words = lang::SplitWords(text, lang::WordRule::kBound, p);
  EXPECT_TRUE(words.has_value()) << text << ": " << p.message;
  std::vector<std::string> out;
  if (words) {
    for (const auto& w : *words) out.push_back(w.Literal());
  }
  return out;
}

TEST(LangWords, PartsSlotsAndSpans) {
  lang::Word w = Decode("pre{ns}\"a b\"'c'");
  ASSERT_EQ(w.parts.size(), 3u);
  EXPECT_EQ(w.parts[0].text, "pre");
  EXPECT_TRUE(w.parts[1].is_slot);
  EXPECT_EQ(w.parts[1].text, "ns");
  EXPECT_EQ(w.parts[1].span.begin, 3u);
  EXPECT_EQ(w.parts[1].span.end, 7u);
  EXPECT_EQ(w.parts[2].text, "a bc");  // adjacent literals merge
  EXPECT_TRUE(w.quoted);

  EXPECT_EQ(Decode("\"x\\{y\"").Literal(), "x{y");
  EXPECT_EQ(Decode("a{{b}}").Literal(), "a{b}");
  EXPECT_EQ(Decode("\"{ lone }\"").Literal(), "{ lone }");
  EXPECT_FALSE(Decode("plain").quoted);
  lang::Word empty = Decode("''");
  EXPECT_TRUE(empty.quoted);
  ASSERT_EQ(empty.parts.size(), 1u);
  EXPECT_EQ(empty.parts[0].text, "");
}

TEST(LangWords, ErrorsSayWhereAndWhat) {
  lang::LiteralProblem p;
  EXPECT_FALSE(lang::DecodeWord("\"a\\qb\"", lang::WordRule::kDollarLine, p));
  EXPECT_EQ(p.kind, lang::LiteralError::kBadEscape);
  EXPECT_EQ(p.begin, 2u);
  EXPECT_FALSE(lang::SplitWords("curl \"http://x", lang::WordRule::kBound, p));
  EXPECT_EQ(p.message, "a `\"` is not closed");
  EXPECT_EQ(p.begin, 5u);
  EXPECT_FALSE(lang::SplitWords("echo a|b", lang::WordRule::kDollarLine, p));
  EXPECT_EQ(p.message, "unexpected `|` in a word");
  EXPECT_EQ(p.begin, 6u);
}

// A bound command shows a value's shell characters as text, so a scenario key may hold them.
TEST(LangWords, BoundCommandsKeepShellCharactersAsText) {
  EXPECT_EQ(Split("  redis-cli   info  "), (std::vector<std::string>{"redis-cli", "info"}));
  EXPECT_EQ(Split("grep a|b;c"), (std::vector<std::string>{"grep", "a|b;c"}));
  EXPECT_EQ(Split("cypher-shell \"MATCH (n) RETURN n\" --format='plain text'"),
            (std::vector<std::string>{"cypher-shell", "MATCH (n) RETURN n", "--format=plain text"}));
  EXPECT_EQ(Split("kubectl -n {ns}"), (std::vector<std::string>{"kubectl", "-n", "{ns}"}));
}

// Drift: `$ redis-cli info "x\{y"` binds to the word `x{y`, but the same text as a scenario command
// key split to `x\{y` (the loader kept unknown escapes), so the scripted output was never found and
// the step ended pending. Both now split with lang::SplitWords / DecodeWord.
TEST(LangWords, ScenarioKeyWrittenAsTheRunbookWritesItIsFound) {
  ScratchDir dir{"lang_words"};
  std::filesystem::create_directories(dir.path() / "policy");
  std::filesystem::copy_file(SourceDir() / "tests" / "golden" / "policy" / "escalation.rb.denis",
                             dir.path() / "policy" / "escalation.rb.denis");
  std::ofstream(dir / "braces.rb.denis") << R"(import std.redis
import policy.escalation

runbook braces "Braces" {
  severity P3
  owner    sre
  target redis = redis("redis")
  symptoms {
    down "redis.ping error" : not redis.ping()
  }
  steps {
    check info "Info" {
      $ redis-cli info "x\{y"
      expect output == "ok"
    }
  }
}
)";
  LoadedProgram l = LoadAny(dir / "braces.rb.denis", TestRegistry());
  ASSERT_TRUE(l.program.has_value()) << l.error << RenderText(l.lint);
  std::string path = dir / "case.scenario.yaml";
  std::ofstream(path) << R"(runbook: braces
duration: 1m
expect: {pending: {}}
probes:
  redis.ping(): false
commands:
  'redis-cli info "x\{y"': {stdout: "ok"}
)";
  rt::Scenario sc;
  std::vector<rt::ConfigError> errors;
  ASSERT_TRUE(rt::LoadScenario(path, *l.program, TestRegistry(), sc, errors));
  ASSERT_EQ(sc.commands.size(), 1u);
  EXPECT_EQ(sc.commands[0].argv, (std::vector<std::string>{"redis-cli", "info", "x{y"}));

  rt::ScenarioProvider provider(sc);
  rt::MemoryStateStore memory;
  rt::Trace t = rt::Rehearse(*l.program, TestRegistry(), 0, sc, provider, memory, rt::RehearseOptions{});
  ASSERT_EQ(t.steps.size(), 1u);
  EXPECT_EQ(t.steps[0].status, "ok");
  EXPECT_TRUE(t.pending_steps.empty());
}

TEST(LangWords, ScenarioKeyWithAnInvalidEscapeIsRefused) {
  rt::Program program = CompileFile("runbooks/redis_down.rb.denis");
  ScratchDir dir{"lang_words_bad"};
  std::string path = dir / "case.scenario.yaml";
  std::ofstream(path) << "runbook: redis_down\ncommands:\n  'redis-cli get \"a\\qb\"': {stdout: x}\n";
  rt::Scenario sc;
  std::vector<rt::ConfigError> errors;
  EXPECT_FALSE(rt::LoadScenario(path, program, TestRegistry(), sc, errors));
  bool found = false;
  for (const auto& e : errors) found |= e.message.find("invalid escape `\\q` in string") != std::string::npos;
  EXPECT_TRUE(found);
}

}  // namespace
// The same drift in probe keys: `redis.info("x\{y")` in a runbook probes the text `x{y`, while the
// scenario's probe key was read by a hand-written string scanner that refused `\{` (RB0115).
TEST(LangWords, ProbeKeyStringsAreTheRunbooksStringLiterals) {
  ScratchDir dir{"lang_words_probe"};
  std::filesystem::create_directories(dir.path() / "policy");
  std::filesystem::copy_file(SourceDir() / "tests" / "golden" / "policy" / "escalation.rb.denis",
                             dir.path() / "policy" / "escalation.rb.denis");
  std::ofstream(dir / "pk.rb.denis") << R"(import std.redis
import policy.escalation

runbook pk "Probe keys" {
  severity P3
  owner    sre
  target redis = redis("redis")
  symptoms {
    odd "odd" : redis.info("x\{y") == "a" and redis.info('raw\n') == "b"
  }
  escalate {
    | when | then     |
    | odd  | page sre |
  }
}
)";
  LoadedProgram l = LoadAny(dir / "pk.rb.denis", TestRegistry());
  ASSERT_TRUE(l.program.has_value()) << l.error << RenderText(l.lint);
  std::string path = dir / "case.scenario.yaml";
  std::ofstream(path) << "runbook: pk\nduration: 1m\nexpect: {pending: {}}\nprobes:\n  'redis.info(\"x\\{y\")': \"a\"\n"
                         "  \"redis.info('raw\\\\n')\": \"b\"\n";
  rt::Scenario sc;
  std::vector<rt::ConfigError> errors;
  ASSERT_TRUE(rt::LoadScenario(path, *l.program, TestRegistry(), sc, errors)) << (errors.empty() ? "" : errors[0].ToString());
  ASSERT_EQ(sc.probes.size(), 2u);
  EXPECT_EQ(sc.probes[0].args[0].Text(), "x{y");
  EXPECT_EQ(sc.probes[1].args[0].Text(), "raw\\n");
  rt::ScenarioProvider provider(sc);
  rt::MemoryStateStore memory;
  rt::Trace t = rt::Rehearse(*l.program, TestRegistry(), 0, sc, provider, memory, rt::RehearseOptions{});
  EXPECT_EQ(t.symptoms_held.count("odd"), 1u);
  EXPECT_TRUE(t.unknown_probes.empty()) << t.unknown_probes[0];
}

}  // namespace rb::test
