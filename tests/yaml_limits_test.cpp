// Scenario and environment YAML that once hung or ballooned the loaders: a lone `,` (yaml-cpp 0.7's
// LoadAll never ends on it), aliases repeated thousands of times, "billion laughs", deep nesting and
// a second document. Each case loads in a child process held to a CPU and memory budget, so a loader
// that loops or balloons fails its test instead of freezing the suite or the machine.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include "runtime/config.hpp"
#include "tests/compile_util.hpp"

namespace rb::test {
namespace {

using rt::ConfigError;

std::string Render(const std::vector<ConfigError>& errors) {
  std::string s;
  for (const auto& e : errors) s += e.ToString() + "\n";
  return s;
}

bool HasError(const std::vector<ConfigError>& errors, int line, int col, const std::string& phrase) {
  for (const auto& e : errors) {
    if (e.mark.line == line && e.mark.col == col && e.message.find(phrase) != std::string::npos) return true;
  }
  return false;
}

const rt::Program& RedisDown() {
  static const rt::Program p = CompileFile("runbooks/redis_down.rb.denis");
  return p;
}

std::string WriteScenario(const std::string& text, const std::string& name) {
  auto d = TempDir() / "yaml-limits" / "redis_down";
  std::filesystem::create_directories(d);
  std::string path = (d / (name + ".scenario.yaml")).string();
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

// Holds this (child) process to 20 s of CPU and, outside AddressSanitizer (which reserves far more
// address space), 1 GiB of memory: yaml-cpp's LoadAll loop on `,` allocates about 800 MB/s.
void LimitChild() {
  rlimit cpu{20, 20};
  setrlimit(RLIMIT_CPU, &cpu);
#if !defined(__SANITIZE_ADDRESS__)
  rlimit as{1ull << 30, 1ull << 30};
  setrlimit(RLIMIT_AS, &as);
#endif
}

using Load = std::function<bool(std::vector<ConfigError>&)>;

Load Scenario(const std::string& text, const std::string& name) {
  std::string path = WriteScenario(text, name);
  RedisDown();  // compiled here, not once per child
  return [path](std::vector<ConfigError>& errors) {
    rt::Scenario s;
    return rt::LoadScenario(path, RedisDown(), TestRegistry(), s, errors);
  };
}

Load Environment(const std::string& text, const std::string& name) {
  std::string path = WriteTemp(name + ".yaml", text);
  return [path](std::vector<ConfigError>& errors) {
    rt::Environment env;
    return rt::LoadEnvironment(path, env, errors);
  };
}

// Expects `load` to fail with an error at line:col containing `phrase`, run in a bounded child.
void ExpectRefused(const std::string& what, const Load& load, int line, int col, const std::string& phrase) {
  SCOPED_TRACE(what);
  EXPECT_EXIT(
      {
        LimitChild();
        std::vector<ConfigError> errors;
        bool ok = load(errors);
        bool found = HasError(errors, line, col, phrase);
        if (!found) {
          std::fprintf(stderr, "%s: expected an error at %d:%d containing \"%s\"; %s\n%s", what.c_str(), line, col,
                       phrase.c_str(), ok ? "it loaded" : "errors:", Render(errors).c_str());
        }
        std::_Exit(!ok && found ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

// ---- One document, parsed once -------------------------------------------------------------------
TEST(YamlLimitsDeathTest, LoneCommaIsAPositionedError) {
  const std::string comma = "invalid YAML: unexpected `,`: a comma separates items only inside [ ] or { }";
  ExpectRefused("scenario `,`", Scenario(",", "comma"), 1, 1, comma);
  ExpectRefused("environment `,`", Environment(",", "comma"), 1, 1, comma);
  ExpectRefused("environment `,` with a newline", Environment(",\n", "comma_nl"), 1, 1, comma);
}

TEST(YamlLimitsDeathTest, OtherGarbageIsAPositionedError) {
  const std::string comma = "unexpected `,`";
  ExpectRefused("`--- ,`", Scenario("--- ,\n", "doc_comma"), 1, 5, comma);
  ExpectRefused("`,,,`", Scenario(",,,", "commas"), 1, 1, comma);
  ExpectRefused("anchored comma", Scenario("&a ,\n", "anchor_comma"), 1, 4, comma);
  ExpectRefused("tagged comma", Environment("!x ,\n", "tag_comma"), 1, 4, comma);
  ExpectRefused("comment, then comma", Environment("# staging\n\n  ,\n", "comment_comma"), 3, 3, comma);
  ExpectRefused("text after a flow list", Scenario("[]a\n", "after_flow"), 1, 3,
                "invalid YAML: unexpected \"a\" after the end of the document");
  ExpectRefused("unterminated flow list", Scenario("probes: [1, 2\n", "unterminated"), 2, 1,
                "invalid YAML: end of sequence flow not found");
  ExpectRefused("unterminated flow map", Environment("targets: {redis: {address: x}\n", "unterminated_map"), 2, 1,
                "invalid YAML: end of map flow not found");
}

TEST(YamlLimitsDeathTest, SecondDocumentIsRefused) {
  ExpectRefused("after ---", Scenario("runbook: redis_down\n---\nrunbook: redis_down\n", "two_dashes"), 2, 1,
                "a second YAML document (after `---`): write one document per file");
  ExpectRefused("after ...", Scenario("runbook: redis_down\n...\nrunbook: redis_down\n", "two_dots"), 3, 1,
                "a second YAML document (after `...`): write one document per file");
  ExpectRefused("environment after ...", Environment("name: a\n...\n# b\nname: b\n", "two_dots"), 4, 1,
                "a second YAML document (after `...`)");
}

// ---- Nesting -------------------------------------------------------------------------------------
TEST(YamlLimitsDeathTest, NestingIsBounded) {
  const std::string deep = "lists and mappings nest more than 64 deep here";
  // `probes:` is the second level, so the 64th `[` (column 72) opens the 65th.
  ExpectRefused("100 flow lists", Scenario("probes: " + std::string(100, '[') + std::string(100, ']') + "\n", "flow100"),
                1, 72, deep);
  std::string block = "probes:\n";
  for (int i = 0; i < 100; ++i) block += std::string(2 * (i + 1), ' ') + "k" + std::to_string(i) + ":\n";
  ExpectRefused("100 block mappings", Environment(block, "block100"), 65, 129, deep);
  ExpectRefused("100,000 unterminated `[`", Scenario("probes: " + std::string(100000, '[') + "\n", "flow100k"), 1, 41,
                deep);
}

// ---- Aliases -------------------------------------------------------------------------------------
// A scenario whose first probe's timeline (`points` points) is aliased by `aliases` more probes.
std::string AliasedTimeline(int points, int aliases) {
  std::string s = "runbook: redis_down\nduration: 15m\ntick: 15s\nprobes:\n  api.metric(\"m0\"): &t\n";
  for (int i = 0; i < points; ++i) s += "    - {at: " + std::to_string(i * 300) + "ms, value: " + std::to_string(i) + "}\n";
  for (int i = 1; i <= aliases; ++i) s += "  api.metric(\"m" + std::to_string(i) + "\"): *t\n";
  return s;
}

// The 124 KB file that took 57 s and 361 MiB: 2,500 points (12,501 values) aliased 2,000 times. The
// first 50,000 values aliases add are allowed (the 4th alias); the 5th, on line 5 + 2,500 + 5, is
// named, and counting stops past 1,000,000 added values, so the loaders never walk the expansion.
TEST(YamlLimitsDeathTest, AliasExpansionIsBounded) {
  std::string big = AliasedTimeline(2500, 2000);
  ASSERT_GT(big.size(), 100000u);
  ExpectRefused("2,000 aliases of a 2,500-point timeline", Scenario(big, "aliases2000"), 2510, 21,
                "aliases expand this file by more than 1,000,000 values, more than any file may: *t here repeats the "
                "12,501 values of &t (line 5)");
  // Within the absolute cap but past three times the file's own values (and past 50,000): 100 points
  // (501 values) aliased 200 times add 100,000 values to a file of 911.
  ExpectRefused("200 aliases of a 100-point timeline", Scenario(AliasedTimeline(100, 200), "aliases200"), 206, 23,
                "aliases expand this file from 911 to 100,911 values; at most 50,000 may come from aliases: *t here "
                "repeats the 501 values of &t (line 5)");
}

TEST(YamlLimitsDeathTest, BillionLaughsIsRefused) {
  std::string laughs = "name: lol\nparams:\n  a0: &a0 [lol]\n";
  for (int i = 1; i < 10; ++i) {
    laughs += "  a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int k = 0; k < 10; ++k) laughs += (k ? ", *a" : "*a") + std::to_string(i - 1);
    laughs += "]\n";
  }
  // &a4 stands for 21,111 values; its second alias on line 8 pushes the additions past 50,000.
  ExpectRefused("billion laughs", Environment(laughs, "laughs"), 8, 17,
                "aliases expand this file by more than 1,000,000 values, more than any file may: *a4 here repeats "
                "the 21,111 values of &a4 (line 7)");
}

TEST(YamlLimitsDeathTest, AliasInsideItsOwnAnchorIsRefused) {
  ExpectRefused("self alias", Scenario("runbook: redis_down\nprobes: &p\n  redis.ping(): *p\n", "cycle"), 3, 17,
                "the alias *p sits inside the value &p names (line 2): an alias cannot contain itself");
  ExpectRefused("self alias in a list", Environment("targets: &t [1, [2, *t]]\n", "cycle"), 1, 21,
                "the alias *t sits inside the value &t names (line 1)");
}

// A normal scenario using aliases the way people do (one timeline shared by a few probes) still loads.
TEST(YamlLimits, FewAliasesStillLoad) {
  std::string path = WriteScenario(AliasedTimeline(40, 3) + "expect: {pending: {}}\n", "aliases3");
  rt::Scenario s;
  std::vector<ConfigError> errors;
  ASSERT_TRUE(rt::LoadScenario(path, RedisDown(), TestRegistry(), s, errors)) << Render(errors);
  ASSERT_EQ(s.probes.size(), 4u);
  for (const auto& p : s.probes) EXPECT_EQ(p.points.size(), 40u) << p.key;
  // As many added values as the floor allows: 50 aliases of 1,001 values is 50,000 added.
  path = WriteScenario(AliasedTimeline(200, 50) + "expect: {pending: {}}\n", "aliases50");
  errors.clear();
  EXPECT_TRUE(rt::LoadScenario(path, RedisDown(), TestRegistry(), s, errors)) << Render(errors);
  EXPECT_EQ(s.probes.size(), 51u);
}

}  // namespace
}  // namespace rb::test
