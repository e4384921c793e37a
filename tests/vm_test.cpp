// The VM on compiled conditions: units, Kleene logic, short-circuit, filters, and each limit.
#include <gtest/gtest.h>

#include <thread>

#include "tests/compile_util.hpp"
#include "tests/fake_host.hpp"

namespace rb::test {
namespace {

const char* kHeader = "import std.redis\nimport std.http\nimport policy.escalation\n"
                      "runbook t \"T\" {\n  severity P2\n  owner sre\n"
                      "  target redis = redis(\"redis\")\n  target api = http(\"denis-api\")\n";

std::string Runbook(const std::string& symptoms) {
  return std::string(kHeader) + "  symptoms {\n" + symptoms + "  }\n  escalate {\n    | when | then |\n" +
         "    | incident | page sre |\n  }\n}\n";
}

rt::Value Eval(const rt::Program& p, const std::string& symptom, FakeHost& host, rt::VmLimits limits = {}) {
  rt::Vm vm(p, limits);
  host.SetVm(&vm);
  rt::EvalResult r = vm.Eval(SymptomChunk(p, symptom), host);
  EXPECT_TRUE(r.ok) << r.error;
  return r.value;
}

TEST(Vm, UnitsAndComparisons) {
  rt::Program p = CompileText("units.rb.denis", Runbook("    mem \"m\" : redis.memory_used() > 80%\n"));
  FakeHost host(p);
  host.probes["redis.memory_used"] = rt::Value::Number(rt::ValueType::kPercent, 91);
  EXPECT_EQ(rt::ToString(Eval(p, "mem", host)), "true");
  host.probes["redis.memory_used"] = rt::Value::Number(rt::ValueType::kPercent, 12);
  EXPECT_EQ(rt::ToString(Eval(p, "mem", host)), "false");
  host.probes.erase("redis.memory_used");  // the probe failed: unknown, not false
  EXPECT_EQ(rt::ToString(Eval(p, "mem", host)), "unknown");
}

TEST(Vm, KleeneLogicAndShortCircuit) {
  rt::Program p = CompileText("kleene.rb.denis",
                              Runbook("    a \"a\" : not redis.ping() and api.metric(\"x\") > 0\n"
                                      "    b \"b\" : redis.ping() or api.metric(\"x\") > 0\n"));
  FakeHost host(p);
  host.probes["redis.ping"] = rt::Value::Bool(true);  // not true = false: `and` skips the metric
  EXPECT_EQ(rt::ToString(Eval(p, "a", host)), "false");
  EXPECT_EQ(host.calls, 1);
  host.calls = 0;
  EXPECT_EQ(rt::ToString(Eval(p, "b", host)), "true");  // true: `or` skips the metric
  EXPECT_EQ(host.calls, 1);
  host.probes.erase("redis.ping");  // unknown and true = unknown... unknown or true = true
  host.probes["http.metric"] = rt::Value::Number(rt::ValueType::kNum, 3);
  EXPECT_EQ(rt::ToString(Eval(p, "a", host)), "unknown");
  EXPECT_EQ(rt::ToString(Eval(p, "b", host)), "true");
  host.probes["http.metric"] = rt::Value::Number(rt::ValueType::kNum, 0);
  EXPECT_EQ(rt::ToString(Eval(p, "a", host)), "false");  // unknown and false = false
  EXPECT_EQ(rt::ToString(Eval(p, "b", host)), "unknown");
}

TEST(Vm, InstructionBudget) {
  rt::Program p = CompileText("budget.rb.denis", Runbook("    a \"a\" : redis.cpu() > 50% and redis.cpu() < 90%\n"));
  FakeHost host(p);
  rt::VmLimits limits;
  limits.instruction_budget = 3;
  rt::Vm vm(p, limits);
  host.SetVm(&vm);
  rt::EvalResult r = vm.Eval(SymptomChunk(p, "a"), host);
  ASSERT_FALSE(r.ok);
  EXPECT_NE(r.error.find("instruction budget"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("budget.rb.denis:"), std::string::npos) << r.error;  // names the source line
}

TEST(Vm, Deadline) {
  rt::Program p = CompileText("deadline.rb.denis", Runbook("    a \"a\" : redis.cpu() > 50% and redis.cpu() < 90%\n"));
  FakeHost host(p);
  host.probes["redis.cpu"] = rt::Value::Number(rt::ValueType::kPercent, 60);
  host.on_call = [] { std::this_thread::sleep_for(std::chrono::milliseconds(30)); };
  rt::VmLimits limits;
  limits.deadline = std::chrono::milliseconds(10);
  rt::Vm vm(p, limits);
  host.SetVm(&vm);
  rt::EvalResult r = vm.Eval(SymptomChunk(p, "a"), host);
  ASSERT_FALSE(r.ok);
  EXPECT_NE(r.error.find("deadline"), std::string::npos) << r.error;
}

TEST(Vm, MemoryCap) {
  rt::Program p = CompileText("memory.rb.denis", Runbook("    a \"a\" : api.scrape() |> grep(\"x\") |> count() > 0\n"));
  FakeHost host(p);
  host.probes["http.scrape"] = rt::Value::Lines(std::vector<std::string>(100000, std::string(100, 'x')));
  rt::VmLimits limits;
  limits.memory_bytes = 1u << 20;
  rt::Vm vm(p, limits);
  host.SetVm(&vm);
  rt::EvalResult r = vm.Eval(SymptomChunk(p, "a"), host);
  ASSERT_FALSE(r.ok);
  EXPECT_NE(r.error.find("memory cap"), std::string::npos) << r.error;
  limits.memory_bytes = 256u << 20;  // with room, the same condition evaluates
  rt::Vm roomy(p, limits);
  host.SetVm(&roomy);
  EXPECT_TRUE(roomy.Eval(SymptomChunk(p, "a"), host).ok);
}

TEST(Vm, SecretsPrintAsStars) { EXPECT_EQ(rt::ToString(rt::Value::Secret("NEO4J_PASSWORD")), "***"); }

}  // namespace
}  // namespace rb::test

#include "runtime/regex.hpp"

namespace rb::test {
namespace {

TEST(Regex, MatchesLikeGrep) {
  struct Case {
    const char* pattern;
    const char* text;
    bool icase;
    bool want;
  };
  const Case kCases[] = {
      {"used", "used_memory:1024", false, true},       {"used", "USED", false, false},
      {"used", "USED", true, true},                    {"ws|websocket", "closing websocket", false, true},
      {"^gate", "gate_policy_block 3", false, true},   {"^gate", "x gate", false, false},
      {"block$", "policy_block", false, true},         {"[0-9]+ms", "took 250ms", false, true},
      {"[^a-z]", "abc", false, false},                 {"\\d{3}", "HTTP 408", false, true},
      {"a{2,3}b", "ab", false, false},                 {"a{2,3}b", "xaab", false, true},
      {"(a|b)*c", "ababc", false, true},               {"colou?r", "color", false, true},
      {"\\.", "a.b", false, true},                     {"\\.", "ab", false, false},
      {"", "anything", false, true},                   {"x*", "", false, true},
  };
  for (const Case& c : kCases) {
    std::string error;
    auto re = rt::Regex::Compile(c.pattern, c.icase, error);
    ASSERT_TRUE(re.has_value()) << c.pattern << ": " << error;
    EXPECT_EQ(re->Search(c.text), c.want) << c.pattern << " on " << c.text;
  }
}

TEST(Regex, RejectsBadPatternsWithAReason) {
  for (const char* bad : {"(a", "a)", "[a-", "*a", "a{3,1}", "\\q", "a{1000}"}) {
    std::string error;
    EXPECT_FALSE(rt::Regex::Compile(bad, false, error).has_value()) << bad;
    EXPECT_FALSE(error.empty()) << bad;
  }
}

TEST(Regex, NoCatastrophicBacktracking) {
  // Exponential for a backtracking matcher; linear here. The bound is generous: a hang would not end.
  std::string error;
  auto re = rt::Regex::Compile("(a|aa)*b", false, error);
  ASSERT_TRUE(re.has_value());
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(re->Search(std::string(100000, 'a')));
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 5.0);
}

}  // namespace
}  // namespace rb::test
