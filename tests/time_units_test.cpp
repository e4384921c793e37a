// Time, units and text tests: the `time` type and its operators, now() on a rehearsal's clock and a
// scenario's `start:`, the time() filter's formats, bytes()/seconds()/percent() (folded when
// constant) and the num-vs-unit hint, `contains` and `matches` on strings and lines (unknown in,
// unknown out), and invalid regex literals reported at the offending character.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "compiler/fold.hpp"
#include "compiler/parser.hpp"
#include "lang/operators.hpp"
#include "lang/regex.hpp"
#include "lang/units.hpp"
#include "runtime/config.hpp"
#include "runtime/natives.hpp"
#include "runtime/rehearse.hpp"
#include "runtime/scenario.hpp"
#include "runtime/scenario_provider.hpp"
#include "runtime/state_store.hpp"
#include "runtime/vm.hpp"
#include "tests/compile_util.hpp"
#include "tests/fake_host.hpp"

namespace rb::test {
namespace {

using lang::Operator;
using lang::ValueType;

constexpr double kNewYear2027 = 1798761600;  // 2027-01-01T00:00:00Z

lang::Operand Num(ValueType t, double v) {
  lang::Operand o;
  o.type = t;
  o.number = v;
  return o;
}
lang::Operand Text(std::string_view s) {
  lang::Operand o;
  o.type = ValueType::kString;
  o.text = s;
  return o;
}
lang::Operand LinesOf(const std::vector<std::string>& l) {
  lang::Operand o;
  o.type = ValueType::kLines;
  o.lines = &l;
  return o;
}
double Parsed(std::string_view text) {
  double s = -1;
  std::string why;
  EXPECT_TRUE(lang::ParseTime(text, s, why)) << text << ": " << why;
  return s;
}
bool Refused(std::string_view text) {
  double s = 0;
  std::string why;
  bool ok = lang::ParseTime(text, s, why);
  EXPECT_TRUE(ok || !why.empty()) << text;
  return !ok;
}

// ---- Timestamps -------------------------------------------------------------------------------

TEST(TimeText, ParsesRfc3339OpensslAndEpochSeconds) {
  EXPECT_EQ(Parsed("2027-01-01T00:00:00Z"), kNewYear2027);
  EXPECT_EQ(Parsed("  2027-01-01T00:00:00Z\n"), kNewYear2027);
  EXPECT_EQ(Parsed("2027-01-01T02:00:00+02:00"), kNewYear2027);
  EXPECT_EQ(Parsed("2026-12-31T19:00:00-05:00"), kNewYear2027);
  EXPECT_EQ(Parsed("2027-01-01t00:00:00.5z"), kNewYear2027 + 0.5);
  EXPECT_EQ(Parsed("2027-01-01 00:00:00Z"), kNewYear2027);
  EXPECT_EQ(Parsed("notAfter=Jan  1 00:00:00 2027 GMT"), kNewYear2027);
  // openssl 3 s_client prints the chain with both bounds on one line: the NotAfter is read.
  EXPECT_EQ(Parsed("   v:NotBefore: Oct  3 00:00:00 2026 GMT; NotAfter: Jan  1 00:00:00 2027 GMT"), kNewYear2027);
  EXPECT_EQ(Parsed("notBefore=Dec 31 23:59:59 2026 GMT"), kNewYear2027 - 1);
  EXPECT_EQ(Parsed("Feb 29 12:00:00 2028 GMT"), Parsed("2028-02-29T12:00:00Z"));
  EXPECT_EQ(Parsed("1798761600"), kNewYear2027);
  EXPECT_EQ(Parsed("0"), 0);
  EXPECT_EQ(Parsed("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(Parsed("1969-12-31T23:59:59Z"), -1);
  EXPECT_EQ(Parsed("2000-03-01T00:00:00Z"), 951868800);
}

TEST(TimeText, RefusesAnythingElseWithAReason) {
  EXPECT_TRUE(Refused(""));
  EXPECT_TRUE(Refused("tomorrow"));
  EXPECT_TRUE(Refused("2027-01-01"));              // no clock
  EXPECT_TRUE(Refused("2027-01-01T00:00:00"));     // no zone: ambiguous
  EXPECT_TRUE(Refused("2027-02-29T00:00:00Z"));    // not a leap year
  EXPECT_TRUE(Refused("2027-13-01T00:00:00Z"));
  EXPECT_TRUE(Refused("2027-01-01T24:00:00Z"));
  EXPECT_TRUE(Refused("notAfter=Foo  1 00:00:00 2027 GMT"));
  EXPECT_TRUE(Refused("notAfter=Jan  1 00:00:00 2027 CET"));
  EXPECT_TRUE(Refused("12abc"));
  double s = 0;
  std::string why;
  ASSERT_FALSE(lang::ParseTime("soon", s, why));
  EXPECT_NE(why.find("RFC 3339"), std::string::npos) << why;
}

TEST(TimeText, PrintsRfc3339AndReadsItBack) {
  EXPECT_EQ(lang::FormatTime(kNewYear2027), "2027-01-01T00:00:00Z");
  EXPECT_EQ(lang::FormatTime(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(lang::FormatTime(-1), "1969-12-31T23:59:59Z");
  EXPECT_EQ(lang::FormatTime(kNewYear2027 + 0.25), "2027-01-01T00:00:00.25Z");
  for (double t : {0.0, 951782400.0, 1767225600.0, kNewYear2027 + 86399, 4102444800.0}) {
    EXPECT_EQ(Parsed(lang::FormatTime(t)), t) << lang::FormatTime(t);
  }
  EXPECT_EQ(rt::ToString(rt::Value::Number(ValueType::kTime, kNewYear2027)), "2027-01-01T00:00:00Z");
  EXPECT_EQ(lang::DaysFromCivil(2027, 1, 1), 20819);
}

TEST(TimeText, TheTimeFilterReadsTheFirstLineAndIsUnknownOtherwise) {
  auto run = [](rt::Value in) {
    std::string error;
    rt::Value out = rt::FilterTime(&in, 1, error);
    EXPECT_TRUE(error.empty()) << error;
    return out;
  };
  rt::Value v = run(rt::Value::String("notAfter=Jan  1 00:00:00 2027 GMT\n"));
  EXPECT_EQ(v.type, ValueType::kTime);
  EXPECT_EQ(v.number, kNewYear2027);
  v = run(rt::Value::Lines({"", "2027-01-01T00:00:00Z", "ignored"}));
  EXPECT_EQ(v.type, ValueType::kTime);
  EXPECT_EQ(v.number, kNewYear2027);
  EXPECT_EQ(run(rt::Value::String("1798761600")).number, kNewYear2027);
  EXPECT_TRUE(run(rt::Value::String("unable to load certificate")).IsUnknown());
  EXPECT_TRUE(run(rt::Value::String("")).IsUnknown());
  EXPECT_TRUE(run(rt::Value::Unknown()).IsUnknown());
}

TEST(TimeText, ScenarioAndParamValuesOfTypeTime) {
  std::string error;
  auto v = rt::ParseLiteral("2026-12-01T03:00:00Z", ValueType::kTime, error);
  ASSERT_TRUE(v.has_value()) << error;
  EXPECT_EQ(v->type, ValueType::kTime);
  EXPECT_EQ(rt::ToString(*v), "2026-12-01T03:00:00Z");
  EXPECT_FALSE(rt::ParseLiteral("next week", ValueType::kTime, error).has_value());
  EXPECT_NE(error.find("2027-01-01T00:00:00Z"), std::string::npos) << error;
}

// ---- Operators on times -------------------------------------------------------------------------

TEST(TimeOperators, DifferenceShiftAndComparison) {
  lang::Operand t = Num(ValueType::kTime, kNewYear2027), u = Num(ValueType::kTime, kNewYear2027 - 90);
  lang::Outcome d = lang::Evaluate(Operator::kSub, t, u);
  EXPECT_EQ(d.type, ValueType::kDuration);
  EXPECT_EQ(d.number, 90000);  // ms
  lang::Outcome later = lang::Evaluate(Operator::kAdd, u, Num(ValueType::kDuration, 90000));
  EXPECT_EQ(later.type, ValueType::kTime);
  EXPECT_EQ(later.number, kNewYear2027);
  lang::Outcome also = lang::Evaluate(Operator::kAdd, Num(ValueType::kDuration, 90000), u);
  EXPECT_EQ(also.type, ValueType::kTime);
  EXPECT_EQ(also.number, kNewYear2027);
  lang::Outcome earlier = lang::Evaluate(Operator::kSub, t, Num(ValueType::kDuration, 90000));
  EXPECT_EQ(earlier.number, kNewYear2027 - 90);
  EXPECT_EQ(lang::Evaluate(Operator::kGt, t, u).number, 1);
  EXPECT_EQ(lang::Evaluate(Operator::kEq, t, t).number, 1);
  EXPECT_EQ(lang::Evaluate(Operator::kLt, t, u).number, 0);
  EXPECT_EQ(lang::Evaluate(Operator::kSub, t, lang::Operand{}).type, ValueType::kUnknown);  // Kleene
}

TEST(TimeOperators, EverythingElseIsATypeError) {
  lang::Operand t = Num(ValueType::kTime, kNewYear2027);
  EXPECT_EQ(lang::Evaluate(Operator::kAdd, t, t).fault, lang::Fault::kTimeArith);
  EXPECT_EQ(lang::Evaluate(Operator::kMul, t, Num(ValueType::kNum, 2)).fault, lang::Fault::kTimeArith);
  EXPECT_EQ(lang::Evaluate(Operator::kSub, Num(ValueType::kDuration, 1), t).fault, lang::Fault::kTimeArith);
  EXPECT_EQ(lang::Evaluate(Operator::kAdd, t, Num(ValueType::kNum, 1)).fault, lang::Fault::kTimeArith);
  EXPECT_EQ(lang::Evaluate(Operator::kGt, t, Num(ValueType::kDuration, 1)).fault, lang::Fault::kCannotCompare);
  EXPECT_EQ(lang::Evaluate(Operator::kNeg, t).fault, lang::Fault::kTimeArith);
  // The checker's typing follows the evaluation.
  EXPECT_EQ(lang::TypeOf(Operator::kSub, ValueType::kTime, ValueType::kTime).result, ValueType::kDuration);
  EXPECT_EQ(lang::TypeOf(Operator::kAdd, ValueType::kTime, ValueType::kDuration).result, ValueType::kTime);
  EXPECT_EQ(lang::TypeOf(Operator::kGe, ValueType::kTime, ValueType::kTime).result, ValueType::kBool);
  EXPECT_EQ(lang::TypeOf(Operator::kAdd, ValueType::kTime, ValueType::kTime).refusal, lang::Refusal::kTypeMismatch);
  EXPECT_EQ(lang::TypeOf(Operator::kDiv, ValueType::kTime, ValueType::kNum).refusal, lang::Refusal::kTypeMismatch);
  std::string msg = lang::FaultMessage(lang::Fault::kTimeArith, t, t);
  EXPECT_NE(msg.find("time - time"), std::string::npos) << msg;
}

// ---- contains / matches --------------------------------------------------------------------------

TEST(TextTests, ContainsAndMatchesOnStringsAndLines) {
  std::vector<std::string> lines = {"worker-1 ok", "worker-2 FAILED", "ok 42"};
  auto is = [](const lang::Outcome& r) {
    EXPECT_EQ(r.fault, lang::Fault::kNone);
    EXPECT_EQ(r.type, ValueType::kBool);
    return r.number != 0;
  };
  EXPECT_TRUE(is(lang::Evaluate(Operator::kContains, Text("status: True\n"), Text("True"))));
  EXPECT_FALSE(is(lang::Evaluate(Operator::kContains, Text("status: False"), Text("True"))));
  EXPECT_TRUE(is(lang::Evaluate(Operator::kContains, LinesOf(lines), Text("FAILED"))));
  EXPECT_FALSE(is(lang::Evaluate(Operator::kContains, LinesOf(lines), Text("1 ok\nworker"))));  // per line
  EXPECT_TRUE(is(lang::Evaluate(Operator::kMatches, LinesOf(lines), Text("^ok [0-9]+$"))));
  EXPECT_FALSE(is(lang::Evaluate(Operator::kMatches, LinesOf(lines), Text("^worker-[3-9]"))));
  // A string is tested line by line too, so `$` anchors at each line's end, as grep does.
  EXPECT_TRUE(is(lang::Evaluate(Operator::kMatches, Text("header\nok 7\n"), Text("^ok [0-9]+$"))));
  EXPECT_FALSE(is(lang::Evaluate(Operator::kMatches, Text("ok 7 extra"), Text("^ok [0-9]+$"))));
}

TEST(TextTests, UnknownInUnknownOutAndBadInputFaults) {
  EXPECT_EQ(lang::Evaluate(Operator::kContains, lang::Operand{}, Text("x")).type, ValueType::kUnknown);
  EXPECT_EQ(lang::Evaluate(Operator::kMatches, Text("x"), lang::Operand{}).type, ValueType::kUnknown);
  EXPECT_EQ(lang::Evaluate(Operator::kMatches, Text("x"), Text("[a-")).fault, lang::Fault::kBadPattern);
  EXPECT_EQ(lang::Evaluate(Operator::kContains, Num(ValueType::kNum, 1), Text("1")).fault, lang::Fault::kNotText);
  std::string msg = lang::FaultMessage(lang::Fault::kBadPattern, Text("x"), Text("[a-"));
  EXPECT_NE(msg.find("missing `]`"), std::string::npos) << msg;
  EXPECT_EQ(lang::TypeOf(Operator::kContains, ValueType::kLines, ValueType::kString).result, ValueType::kBool);
  EXPECT_EQ(lang::TypeOf(Operator::kMatches, ValueType::kString, ValueType::kNum).refusal, lang::Refusal::kTypeMismatch);
}

TEST(TextTests, RegexErrorsSayWhere) {
  struct Case {
    const char* pattern;
    size_t at;
  } cases[] = {{"[a-", 0}, {"ab(c", 2}, {"a)b", 1}, {"x*+?{", 4}, {"*a", 0}, {"a\\q", 1}, {"z{2,1}", 5}};
  for (const auto& c : cases) {
    std::string why;
    size_t at = 99;
    EXPECT_FALSE(lang::Regex::Compile(c.pattern, false, why, at).has_value()) << c.pattern;
    EXPECT_EQ(at, c.at) << c.pattern << ": " << why;
  }
}

// ---- Compiled: folding, the VM, diagnostics ------------------------------------------------------

std::optional<Folded> FoldSymptom(const std::string& cond) {
  std::string src = "runbook r \"T\" {\n  severity P2\n  owner sre\n  symptoms {\n    s \"S\" : " + cond + "\n  }\n}\n";
  Diagnostics diags;
  auto source = std::make_shared<const Source>("case.rb.denis", src);
  ast::File file = Parse(source, diags);
  EXPECT_EQ(diags.errors(), 0u) << cond;
  if (file.runbooks.empty()) return std::nullopt;
  return FoldConstant(*file.runbooks[0].symptoms.at(0).cond);
}

TEST(Units, ConversionsFoldWhenConstant) {
  auto size = FoldSymptom("bytes(1024)");
  ASSERT_TRUE(size);
  EXPECT_EQ(size->type, ValueType::kSize);
  EXPECT_EQ(size->number, 1024);
  auto dur = FoldSymptom("seconds(1.5)");
  ASSERT_TRUE(dur);
  EXPECT_EQ(dur->type, ValueType::kDuration);
  EXPECT_EQ(dur->number, 1500);
  auto pct = FoldSymptom("percent(80) == 80%");
  ASSERT_TRUE(pct);
  EXPECT_EQ(pct->type, ValueType::kBool);
  EXPECT_EQ(pct->number, 1);
  auto unknown = FoldSymptom("bytes(unknown)");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->type, ValueType::kUnknown);
  EXPECT_FALSE(FoldSymptom("bytes(x)").has_value());
  auto text = FoldSymptom("\"ok 42\" matches \"^ok [0-9]+$\" and \"abc\" contains \"b\"");
  ASSERT_TRUE(text);
  EXPECT_EQ(text->number, 1);
}

constexpr const char* kUnitsRunbook = R"(import std.redis
import policy.escalation

runbook units "Units" {
  severity P2
  owner    sre
  target redis = redis("denis-redis")

  symptoms {
    big "Many clients as bytes" : bytes(redis.connected_clients()) > 1KB
    slow "Clients as seconds" : seconds(redis.connected_clients()) >= 30m
    folded "Folded" : redis.used_memory() > bytes(2048)
  }
  escalate {
    | when         | then     |
    | big or slow  | page sre |
    | folded       | page sre |
  }
}
)";

TEST(Units, TheVmConvertsAtRunTime) {
  rt::Program p = CompileText("units.rb.denis", kUnitsRunbook);
  ASSERT_FALSE(p.runbooks.empty());
  FakeHost host(p);
  rt::Vm vm(p);
  host.SetVm(&vm);
  host.probes["redis.connected_clients"] = rt::Value::Number(ValueType::kNum, 2048);
  host.probes["redis.used_memory"] = rt::Value::Number(ValueType::kSize, 4096);
  auto eval = [&](const char* s) {
    rt::EvalResult r = vm.Eval(SymptomChunk(p, s), host);
    EXPECT_TRUE(r.ok) << r.error;
    return r.value;
  };
  EXPECT_EQ(eval("big").number, 1);
  EXPECT_EQ(eval("slow").number, 1);  // 2048 s > 30m
  EXPECT_EQ(eval("folded").number, 1);
  host.probes["redis.connected_clients"] = rt::Value::Number(ValueType::kNum, 100);
  EXPECT_EQ(eval("big").number, 0);
  EXPECT_EQ(eval("slow").number, 0);
  host.probes.erase("redis.connected_clients");
  EXPECT_TRUE(eval("big").IsUnknown());
  // bytes(2048) is folded into a constant: no conversion instruction in the chunk.
  const rt::Chunk& c = p.chunks.at(SymptomChunk(p, "folded"));
  for (uint32_t w : c.code) EXPECT_NE(static_cast<rt::Op>(rt::OpByte(w)), rt::Op::kAS_SIZE);
  const rt::Chunk& b = p.chunks.at(SymptomChunk(p, "big"));
  bool converts = false;
  for (uint32_t w : b.code) converts = converts || static_cast<rt::Op>(rt::OpByte(w)) == rt::Op::kAS_SIZE;
  EXPECT_TRUE(converts);
}

LintResult LintText(const std::string& name, const std::string& text) {
  auto dir = TempDir() / "time-lint";
  std::filesystem::create_directories(dir / "policy");
  std::filesystem::copy_file(SourceDir() / "tests" / "golden" / "policy" / "escalation.rb.denis",
                             dir / "policy" / "escalation.rb.denis", std::filesystem::copy_options::overwrite_existing);
  std::ofstream(dir / name, std::ios::binary) << text;
  std::filesystem::current_path(dir);
  LintOptions o;
  o.paths = {name};
  return Lint(o);
}

std::string Runbook(const std::string& symptom, const std::string& step = "") {
  return "import std.http\nimport std.redis\nimport std.text\nimport policy.escalation\n\n"
         "runbook r \"R\" {\n  severity P2\n  owner sre\n  target http = http(\"denis-api\")\n"
         "  target redis = redis(\"denis-redis\")\n  symptoms {\n    s \"S\" : " + symptom + "\n  }\n" +
         (step.empty() ? "" : "  steps {\n    check c \"C\" {\n" + step + "\n    }\n  }\n") +
         "  escalate {\n    | when | then |\n    | s | page sre |\n  }\n}\n";
}

const Diagnostic* Find(const LintResult& r, const std::string& code) {
  for (const auto& d : r.diags.all()) {
    if (Info(d.kind).code == code) return &d;
  }
  return nullptr;
}

TEST(Units, TheNumVersusUnitHintSaysWhichConversion) {
  LintResult r = LintText("hint.rb.denis", Runbook("http.metric(\"x\") > 1GB"));
  const Diagnostic* d = Find(r, "RB0041");
  ASSERT_NE(d, nullptr) << RenderText(r);
  EXPECT_NE(d->message.find("compares num with size"), std::string::npos) << d->message;
  EXPECT_NE(d->hint.find("bytes(http.metric(\"x\")) > 1GB"), std::string::npos) << d->hint;

  r = LintText("hint2.rb.denis", Runbook("5m < http.metric(\"lag\")"));
  d = Find(r, "RB0041");
  ASSERT_NE(d, nullptr) << RenderText(r);
  EXPECT_NE(d->hint.find("5m < seconds(http.metric(\"lag\"))"), std::string::npos) << d->hint;

  r = LintText("hint3.rb.denis", Runbook("bytes(http.metric(\"x\")) > 1GB"));
  EXPECT_EQ(r.diags.errors(), 0u) << RenderText(r);
  r = LintText("hint4.rb.denis", Runbook("bytes(redis.used_memory()) > 1GB"));
  EXPECT_TRUE(Codes(r).count("RB0039")) << RenderText(r);
}

TEST(TextTests, ContainsAndMatchesCompileInExpectations) {
  LintResult r = LintText("ok.rb.denis", Runbook("redis.ping() == false",
                                                 "      $ redis-cli ping\n      expect output contains \"PONG\"\n"
                                                 "      expect output matches \"^PONG$\" or output |> lines() contains \"x\""));
  EXPECT_EQ(r.diags.errors(), 0u) << RenderText(r);
}

TEST(TextTests, AnInvalidRegexLiteralPointsAtTheCharacter) {
  // The caret goes at the `[` that is never closed: column of the character, not of the string.
  std::string step = "      $ redis-cli ping\n      expect output matches \"ok [a-\"";
  LintResult r = LintText("re.rb.denis", Runbook("redis.ping() == false", step));
  const Diagnostic* d = Find(r, "RB0250");
  ASSERT_NE(d, nullptr) << RenderText(r);
  LineCol lc = d->source->At(d->span.begin);
  std::string text = d->source->text();
  EXPECT_EQ(text[d->span.begin], '[') << RenderText(r);
  EXPECT_EQ(d->span.end, d->span.begin + 1);
  EXPECT_EQ(lc.column, std::string("      expect output matches \"ok ").size() + 1) << RenderText(r);
  EXPECT_NE(d->message.find("missing `]`"), std::string::npos) << d->message;

  // Through escapes: `\\(` is one character of the pattern but two of the source.
  r = LintText("re2.rb.denis", Runbook("redis.ping() == false", "      $ redis-cli info |> grep(\"\\\\(x)\")"));
  d = Find(r, "RB0250");
  ASSERT_NE(d, nullptr) << RenderText(r);
  EXPECT_EQ(d->source->text()[d->span.begin], ')') << RenderText(r);

  for (const char* f : {"grep_i", "grep_after"}) {
    std::string call = std::string(f) == "grep_i" ? "grep_i(\"a{\")" : "grep_after(\"(\", 2)";
    r = LintText("re3.rb.denis", Runbook("redis.ping() == false", "      $ redis-cli info |> " + call));
    EXPECT_TRUE(Codes(r).count("RB0250")) << f << RenderText(r);
  }
  r = LintText("re4.rb.denis", Runbook("redis.ping() == false", "      $ redis-cli info |> grep(\"^[a-z]+ ok$\")"));
  EXPECT_FALSE(Codes(r).count("RB0250")) << RenderText(r);
}

TEST(TimeOperators, NowIsATimeOnlyInConditions) {
  LintResult r = LintText("now.rb.denis", Runbook("now() - now() < 1s and now() > now() - 1h"));
  EXPECT_EQ(r.diags.errors(), 0u) << RenderText(r);
  r = LintText("now2.rb.denis", Runbook("now() > 1h"));
  EXPECT_TRUE(Codes(r).count("RB0040")) << RenderText(r);
  r = LintText("now3.rb.denis", Runbook("redis.ping() == false", "      $ redis-cli ping |> head(now())"));
  EXPECT_TRUE(Codes(r).count("RB0251")) << RenderText(r);
}

// ---- now() in a rehearsal --------------------------------------------------------------------------

constexpr const char* kClockRunbook = R"(import std.redis
import policy.escalation

runbook clock "Clock" {
  severity P2
  owner    sre
  target redis = redis("denis-redis")
  param deadline : time

  symptoms {
    past "Past the deadline" : now() >= deadline
    soon "Deadline within 2m" : deadline - now() <= 2m
  }
  escalate {
    | when | then     |
    | past | page sre |
  }
}
)";

rt::Trace Rehearse(const rt::Program& p, const std::string& yaml) {
  std::string path = WriteTemp("clock.scenario.yaml", "runbook: clock\nduration: 10m\ntick: 1m\nexpect: {pending: {}}\n" + yaml);
  rt::Scenario sc;
  std::vector<rt::ConfigError> errors;
  EXPECT_TRUE(rt::LoadScenario(path, p, TestRegistry(), sc, errors)) << (errors.empty() ? "" : errors[0].ToString());
  rt::ScenarioProvider provider(sc);
  rt::MemoryStateStore state;
  return rt::Rehearse(p, TestRegistry(), 0, sc, provider, state);
}

// The first tick at which symptom `index` holds, or -1.
int64_t FirstHeld(const rt::Trace& t, size_t index) {
  for (const auto& s : t.samples) {
    if (index < s.states.size() && s.states[index] == rt::Tri::kTrue) return s.at_ms;
  }
  return -1;
}

TEST(TimeRehearsal, NowIsTheScenarioStartPlusVirtualTime) {
  rt::Program p = CompileText("clock.rb.denis", kClockRunbook);
  ASSERT_FALSE(p.runbooks.empty());
  rt::Trace t = Rehearse(p, "start: 2026-12-01T03:00:00Z\nparams:\n  deadline: 2026-12-01T03:05:00Z\n");
  EXPECT_TRUE(t.errors.empty()) << (t.errors.empty() ? "" : t.errors[0]);
  EXPECT_EQ(FirstHeld(t, 0), 5 * 60000);
  EXPECT_EQ(FirstHeld(t, 1), 3 * 60000);
  ASSERT_FALSE(t.pages.empty());
  EXPECT_EQ(t.pages[0].at_ms, 5 * 60000);

  // Another start moves every instant with it.
  t = Rehearse(p, "start: 2026-12-01T03:03:00Z\nparams:\n  deadline: 2026-12-01T03:05:00Z\n");
  EXPECT_EQ(FirstHeld(t, 0), 2 * 60000);
}

TEST(TimeRehearsal, WithoutStartTheDocumentedInstant) {
  rt::Program p = CompileText("clock.rb.denis", kClockRunbook);
  ASSERT_FALSE(p.runbooks.empty());
  EXPECT_EQ(lang::FormatTime(rt::kDefaultRehearsalStart), "2026-01-01T00:00:00Z");
  rt::Trace t = Rehearse(p, "params:\n  deadline: 2026-01-01T00:07:00Z\n");
  EXPECT_EQ(FirstHeld(t, 0), 7 * 60000);
}

TEST(TimeRehearsal, ABadStartOrTimeValueIsAScenarioError) {
  rt::Program p = CompileText("clock.rb.denis", kClockRunbook);
  struct Case {
    const char* yaml;
    int line;
  } cases[] = {{"start: next tuesday\nparams:\n  deadline: 2026-01-01T00:07:00Z\n", 2},
               {"params:\n  deadline: 2026-01-01\n", 3}};
  for (const auto& [yaml, line] : cases) {
    std::string path = WriteTemp("bad.scenario.yaml", std::string("runbook: clock\n") + yaml);
    rt::Scenario sc;
    std::vector<rt::ConfigError> errors;
    EXPECT_FALSE(rt::LoadScenario(path, p, TestRegistry(), sc, errors)) << yaml;
    ASSERT_FALSE(errors.empty()) << yaml;
    EXPECT_EQ(errors[0].mark.line, line) << errors[0].ToString();
    EXPECT_EQ(errors[0].kind, rt::ConfigKind::kScenarioValue) << errors[0].ToString();
  }
}

// The certificate case: a command prints openssl's notAfter line, time() reads it, and an expectation
// compares the time left with now().
constexpr const char* kCertRunbook = R"(import std.redis
import std.text
import policy.escalation

runbook cert "Cert" {
  severity P2
  owner    sre
  target redis = redis("denis-redis")

  symptoms {
    down "Redis down" : not redis.ping()
  }
  steps {
    check expiry "Expiry" {
      $ redis-cli get cert_not_after
      expect (output |> time()) - now() > 14d
    }
  }
  escalate {
    | when           | then     |
    | failed(expiry) | page sre |
  }
}
)";

TEST(TimeRehearsal, TimeLeftOnACertificate) {
  rt::Program p = CompileText("cert.rb.denis", kCertRunbook);
  ASSERT_FALSE(p.runbooks.empty());
  auto run = [&](const std::string& stdout_text) {
    std::string path = WriteTemp("cert.scenario.yaml",
                                 "runbook: cert\nduration: 5m\nexpect: {pending: {}}\nstart: 2026-12-20T00:00:00Z\nprobes:\n  redis.ping(): false\n"
                                 "commands:\n  redis-cli get cert_not_after:\n    stdout: \"" + stdout_text + "\"\n");
    rt::Scenario sc;
    std::vector<rt::ConfigError> errors;
    EXPECT_TRUE(rt::LoadScenario(path, p, TestRegistry(), sc, errors)) << (errors.empty() ? "" : errors[0].ToString());
    rt::ScenarioProvider provider(sc);
    rt::MemoryStateStore state;
    return rt::Rehearse(p, TestRegistry(), 0, sc, provider, state);
  };
  auto status = [](const rt::Trace& t) {
    for (const auto& s : t.steps) {
      if (s.name == "expiry") return s.status;
    }
    return std::string("not run");
  };
  rt::Trace ok = run("notAfter=Jan 20 00:00:00 2027 GMT");  // 31 days left
  EXPECT_TRUE(ok.errors.empty()) << (ok.errors.empty() ? "" : ok.errors[0]);
  EXPECT_EQ(status(ok), "ok");
  rt::Trace soon = run("notAfter=Dec 25 00:00:00 2026 GMT");  // 5 days left
  EXPECT_TRUE(soon.errors.empty()) << (soon.errors.empty() ? "" : soon.errors[0]);
  EXPECT_EQ(status(soon), "failed");
  rt::Trace garbled = run("unable to load certificate");  // unknown: the expectation never passes
  EXPECT_TRUE(garbled.errors.empty()) << (garbled.errors.empty() ? "" : garbled.errors[0]);
  EXPECT_NE(status(garbled), "ok");
}

}  // namespace
}  // namespace rb::test
