// Grammar: PEGTL's analyzer finds no rule that can loop without progress, and each rule accepts and
// rejects what docs/language.md says (table-driven, PEGTL's verify_rule style).
#include <gtest/gtest.h>

#include <tao/pegtl/contrib/analyze.hpp>

#include "grammar/grammar.hpp"

namespace rb::grammar {
namespace {

TEST(Grammar, AnalyzeFindsNoProblems) {
  EXPECT_EQ(pegtl::analyze<file>(-1), 0u);
  EXPECT_EQ(pegtl::analyze<next_decl>(-1), 0u);
}

enum class Result { kMatch, kNoMatch, kRaise };

// Does `Rule` consume all of `text`? A `must<>` failure counts as kRaise.
template <typename Rule>
Result Verify(const std::string& text) {
  pegtl::memory_input in(text, "test");
  try {
    return pegtl::parse<seq<Rule, eof>>(in) ? Result::kMatch : Result::kNoMatch;
  } catch (const pegtl::parse_error&) {
    return Result::kRaise;
  }
}

struct Case {
  std::string text;
  Result want;
};

#define RULE_TEST(rule, ...)                                                           \
  TEST(GrammarRule, rule) {                                                            \
    for (const Case& c : std::vector<Case>{__VA_ARGS__}) {                             \
      EXPECT_EQ(Verify<rule>(c.text), c.want) << #rule << " on [" << c.text << "]";   \
    }                                                                                  \
  }

constexpr Result M = Result::kMatch;
constexpr Result N = Result::kNoMatch;
constexpr Result R = Result::kRaise;

RULE_TEST(ident, {"redis", M}, {"_x1", M}, {"ping_error", M}, {"1abc", N}, {"and", N}, {"for", N}, {"order", M},
          {"", N})
RULE_TEST(number, {"5", M}, {"0.5", M}, {"10s", M}, {"5m", M}, {"80%", M}, {"1GB", M}, {"500ms", M},
          {"5min", M} /* unit validated by the compiler */, {"5.", N}, {".5", N})
RULE_TEST(string, {"\"Redis Caído\"", M}, {"'raw \\ text'", M}, {"\"a\\\"b\"", M}, {"\"open", R}, {"'open", R},
          {"\"two\nlines\"", R})
RULE_TEST(expr, {"not redis.ping()", M}, {"api.metric(\"x\") > 0", M}, {"a and b or not c", M},
          {"redis.memory_used() > 80%", M}, {"x |> grep(\"a\") |> count() > 3", M}, {"ask \"¿Datos perdidos?\"", M},
          {"failed(reconnect)", M}, {"[a, b,]", M}, {"(a or b) and c", M}, {"-5m + 2m", M}, {"a ==", R},
          {"(a", R}, {"ask", R}, {"a and", R}, {"x |> 3", R}, {"ping_error for > 5m", M}, {"ping_error for 5m", R})
RULE_TEST(command, {"$ redis-cli ping", M}, {"$ kubectl rollout restart statefulset/redis -n {ns}", M},
          {"$ cypher-shell -u neo4j -p {pass} \"RETURN 1\"", M}, {"$ curl -s http://x:8084/metrics |> head(20)", M},
          {"$ a | grep x", M} /* shell_op, rejected by the checker */, {"$ a && b; c > d `e` $(f) $HOME", M},
          {"$ echo '{raw}' \"{{lit}}\" {x}", M}, {"$ redis-cli ping   # PONG = OK", M}, {"$ a \"open", R},
          {"$ a |> 5", R})
RULE_TEST(step, {"check s \"T\" { $ redis-cli ping }", M},
          {"action r \"T\" when down and not ok {\n  $ kubectl rollout restart x\n}", M},
          {"manual m \"T\" {\n  \"Editar connections.py: timeout=5s\"\n}", M},
          {"verify v \"T\" {\n  $ redis-cli ping\n  expect output == \"PONG\" within 2m every 5s\n}", M},
          {"check s \"T\" { kubectl get pods }", R}, {"check \"T\" { }", R}, {"check s { }", R}, {"checks s \"T\" {}", N})
RULE_TEST(escalate_block,
          {"escalate {\n  | when | then |\n  |---|---|\n  | a for > 5m | page sre |\n  | ask \"¿x?\" | manual \"y\" |\n}", M},
          {"escalate {\n  | when | then |\n  | a | page ops, then run cleanup, runbook graph_slow |\n}", M},
          {"escalate {\n  | when | then |\n  | a | declare P1, page sre |\n}", M},
          {"escalate {\n  | a | page sre |\n}", R}, {"escalate {\n  | when | then |\n  | a | shout sre |\n}", R},
          {"escalate {\n  | when | then |\n  | a | page sre\n}", R})
RULE_TEST(look_block, {"look {\n  grafana \"Redis\" {\n    panel \"Memory used\" : m > 80%\n    panel \"CPU\"\n  }\n  kibana \"denis*\" query \"redis error\"\n}", M},
          {"look { kibana query 'a OR b' }", M}, {"look { kibana \"i\" \"q\" }", R}, {"look { grafana { } }", R})
RULE_TEST(runbook_decl, {"runbook r \"T\" {\n  severity P2\n  owner sre\n  tags [a, b]\n  target x = redis(\"x\")\n  param n = \"d\"\n  param q : string\n}", M},
          {"runbook r \"T\" { bogus }", R}, {"runbook \"T\" {}", R}, {"runbook r {}", R})
RULE_TEST(policy_decl, {"policy p \"T\" {\n  contact sre \"SRE Lead\" \"@sre-lead\"\n}", M}, {"policy p \"T\" { contact sre }", R})
RULE_TEST(capability_decl, {"capability redis \"R\" {\n  read ping() -> bool \"PING\"\n  write set(k: string, v: num) -> bool \"SET\"\n}", M},
          {"capability redis \"R\" { read ping -> bool \"x\" }", R})
RULE_TEST(program_decl, {"program kubectl {\n  read get, logs\n  write \"rollout restart\", scale\n  destructive delete\n}", M},
          {"program redis-cli { default read }", M}, {"program x { maybe y }", R})
RULE_TEST(import_decl, {"import std.redis", M}, {"import policy.escalation", M}, {"import", R})
RULE_TEST(file, {"", M}, {"\xEF\xBB\xBF# only a comment\r\n", M}, {"import std.redis\r\nrunbook r \"T\" {\r\n}\r\n", M})

}  // namespace
}  // namespace rb::grammar
