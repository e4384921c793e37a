// The operator table: one definition typed by the checker, folded by codegen and lint, and run by the
// VM; the drifts between the old copies (lines == string, rows folding to a constant) as regressions.
#include <gtest/gtest.h>

#include <fstream>
#include <functional>

#include "compiler/fold.hpp"
#include "compiler/parser.hpp"
#include "lang/operators.hpp"
#include "runtime/executor.hpp"
#include "runtime/vm.hpp"
#include "tests/compile_util.hpp"

namespace rb::test {
namespace {

using lang::Operator;
using lang::ValueType;

lang::Operand Num(ValueType t, double v) {
  lang::Operand o;
  o.type = t;
  o.number = v;
  return o;
}
lang::Operand Bool(bool b) { return Num(ValueType::kBool, b ? 1 : 0); }
lang::Operand Unknown() { return lang::Operand{}; }
lang::Operand Text(std::string_view s) {
  lang::Operand o;
  o.type = ValueType::kString;
  o.text = s;
  return o;
}
lang::Operand Lines(const std::vector<std::string>& l) {
  lang::Operand o;
  o.type = ValueType::kLines;
  o.lines = &l;
  return o;
}
// 1 true, 0 false, -1 unknown, -9 a fault.
int Tri(const lang::Outcome& r) {
  if (r.fault != lang::Fault::kNone) return -9;
  if (r.type == ValueType::kUnknown) return -1;
  EXPECT_EQ(r.type, ValueType::kBool);
  return r.number != 0 ? 1 : 0;
}

TEST(LangOperators, KleeneTruthTables) {
  const lang::Operand v[] = {Bool(false), Bool(true), Unknown()};
  const int t[] = {0, 1, -1};
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(Tri(lang::Evaluate(Operator::kNot, v[i])), t[i] < 0 ? -1 : 1 - t[i]);
    for (int j = 0; j < 3; ++j) {
      int a = t[i], b = t[j];
      int want_and = a == 0 || b == 0 ? 0 : (a < 0 || b < 0 ? -1 : 1);
      int want_or = a == 1 || b == 1 ? 1 : (a < 0 || b < 0 ? -1 : 0);
      EXPECT_EQ(Tri(lang::Evaluate(Operator::kAnd, v[i], v[j])), want_and) << i << j;
      EXPECT_EQ(Tri(lang::Evaluate(Operator::kOr, v[i], v[j])), want_or) << i << j;
    }
  }
  EXPECT_EQ(lang::Evaluate(Operator::kAnd, Bool(true), Num(ValueType::kNum, 1)).fault, lang::Fault::kNotCondition);
}

TEST(LangOperators, ArithmeticKeepsUnitsAndRefusesWhatTheVmRefuses) {
  auto r = lang::Evaluate(Operator::kMul, Num(ValueType::kNum, 2), Num(ValueType::kDuration, 300000));
  EXPECT_EQ(r.type, ValueType::kDuration);
  EXPECT_EQ(r.number, 600000);
  r = lang::Evaluate(Operator::kDiv, Num(ValueType::kSize, 2048), Num(ValueType::kSize, 1024));
  EXPECT_EQ(r.type, ValueType::kNum);
  EXPECT_EQ(r.number, 2);
  EXPECT_EQ(lang::Evaluate(Operator::kDiv, Num(ValueType::kDuration, 1), Num(ValueType::kNum, 0)).fault,
            lang::Fault::kDivByZero);
  EXPECT_EQ(lang::Evaluate(Operator::kAdd, Num(ValueType::kDuration, 1), Num(ValueType::kPercent, 1)).fault,
            lang::Fault::kAddUnits);
  EXPECT_EQ(lang::Evaluate(Operator::kMul, Num(ValueType::kNum, 1e300), Num(ValueType::kNum, 1e300)).fault,
            lang::Fault::kOverflow);
  EXPECT_EQ(lang::Evaluate(Operator::kAdd, Unknown(), Num(ValueType::kNum, 1)).type, ValueType::kUnknown);
  EXPECT_EQ(lang::FaultMessage(lang::Fault::kCannotCompare, Num(ValueType::kDuration, 1), Num(ValueType::kPercent, 1)),
            "cannot compare duration with percent");
}

TEST(LangOperators, LinesEqualAStringSplitTheWayFiltersSplitOutput) {
  const std::vector<std::string> pong{"PONG"};
  EXPECT_TRUE(lang::LinesEqualText(pong, "PONG"));
  EXPECT_TRUE(lang::LinesEqualText(pong, "PONG\n"));
  EXPECT_TRUE(lang::LinesEqualText(pong, "PONG\r\n"));
  EXPECT_FALSE(lang::LinesEqualText(pong, "PONG\n\n"));
  EXPECT_FALSE(lang::LinesEqualText(pong, "PON"));
  EXPECT_FALSE(lang::LinesEqualText(pong, ""));
  EXPECT_TRUE(lang::LinesEqualText({}, ""));
  EXPECT_TRUE(lang::LinesEqualText({"a", "", "b"}, "a\n\nb\n"));
  EXPECT_EQ(Tri(lang::Evaluate(Operator::kEq, Lines(pong), Text("PONG"))), 1);
  EXPECT_EQ(Tri(lang::Evaluate(Operator::kEq, Text("PONG\n"), Lines(pong))), 1);
  EXPECT_EQ(Tri(lang::Evaluate(Operator::kNe, Lines(pong), Text("PONG"))), 0);
  EXPECT_EQ(Tri(lang::Evaluate(Operator::kEq, Text("PONG\n"), Text("PONG"))), 0);  // strings compare exactly
}

// Typing is evaluation on sample values: every pair of types the checker accepts, the VM evaluates
// without a type fault, and every pair it refuses, the VM refuses.
TEST(LangOperators, TypingAcceptsExactlyWhatEvaluationAccepts) {
  const ValueType types[] = {ValueType::kBool,   ValueType::kNum,   ValueType::kDuration, ValueType::kPercent,
                             ValueType::kSize,   ValueType::kString, ValueType::kLines,   ValueType::kList,
                             ValueType::kTarget};
  static const std::vector<std::string> kSomeLines{"x"};
  auto sample = [](ValueType t) {
    lang::Operand o = Num(t, 7);
    if (t == ValueType::kString) o.text = "x";
    if (t == ValueType::kLines) o.lines = &kSomeLines;
    return o;
  };
  for (const auto& info : lang::kOperators) {
    if (info.arity != 2) continue;
    auto op = static_cast<Operator>(&info - lang::kOperators);
    for (ValueType a : types) {
      for (ValueType b : types) {
        lang::Typing t = lang::TypeOf(op, a, b);
        lang::Outcome r = lang::Evaluate(op, sample(a), sample(b));
        EXPECT_EQ(t.refusal == lang::Refusal::kNone, r.fault == lang::Fault::kNone)
            << info.text << " " << lang::ValueTypeName(a) << " " << lang::ValueTypeName(b);
        if (t.refusal == lang::Refusal::kNone) {
          EXPECT_EQ(t.result, r.type) << info.text;
        }
      }
    }
  }
  EXPECT_EQ(lang::TypeOf(Operator::kEq, ValueType::kLines, ValueType::kString).result, ValueType::kBool);
  EXPECT_EQ(lang::TypeOf(Operator::kLt, ValueType::kDuration, ValueType::kPercent).refusal, lang::Refusal::kUnitMismatch);
  EXPECT_EQ(lang::TypeOf(Operator::kLt, ValueType::kString, ValueType::kString).refusal, lang::Refusal::kTypeMismatch);
  EXPECT_EQ(lang::TypeOf(Operator::kEq, ValueType::kSecret, ValueType::kString).refusal, lang::Refusal::kSecret);
  lang::Typing logic = lang::TypeOf(Operator::kOr, ValueType::kBool, ValueType::kNum);
  EXPECT_EQ(logic.refusal, lang::Refusal::kNotCondition);
  EXPECT_FALSE(logic.left_bad);
  EXPECT_TRUE(logic.right_bad);
}

// The folder (codegen's and lint's) gives what the VM computes from the unfolded instructions.
TEST(LangOperators, FolderAndVmAgreeOnConstantExpressions) {
  const char* cases[] = {"1 + 1 == 3", "2 * 5m == 10m", "not (unknown or false)", "false and unknown",
                         "10m / 4 > 2m", "1GB / 1MB == 1024", "-5m < 0s", "\"a\" == \"a\"", "unknown and true",
                         "3 - 1 - 1 == 1"};
  for (const char* text : cases) {
    std::string src = std::string("runbook r \"T\" {\n  severity P2\n  owner sre\n  symptoms {\n    s \"S\" : ") + text +
                      "\n  }\n}\n";
    Diagnostics diags;
    auto source = std::make_shared<const Source>("case.rb.denis", src);
    ast::File file = Parse(source, diags);
    ASSERT_EQ(diags.errors(), 0u) << text;
    ASSERT_EQ(file.runbooks.size(), 1u);
    const ast::Expr& e = *file.runbooks[0].symptoms.at(0).cond;
    std::optional<Folded> folded = FoldConstant(e);
    ASSERT_TRUE(folded.has_value()) << text;

    // The same expression evaluated by the VM, one instruction per operator (no folding).
    rt::Program p;
    p.files.push_back("case.rb.denis");
    rt::Chunk chunk;
    std::function<void(const ast::Expr&)> emit = [&](const ast::Expr& x) {
      auto push = [&](rt::Op op, uint32_t a) {
        chunk.code.push_back(rt::Encode(op, a));
        chunk.lines.push_back(1);
      };
      switch (x.kind) {
        case ast::ExprKind::kNumber:
        case ast::ExprKind::kString: {
          rt::Constant k;
          k.type = x.kind == ast::ExprKind::kString ? ValueType::kString : ToValueType(x.unit);
          k.number = x.value;
          if (x.kind == ast::ExprKind::kString) {
            p.strings.push_back(x.text);
            k.string = static_cast<uint32_t>(p.strings.size() - 1);
          }
          p.constants.push_back(k);
          return push(rt::Op::kCONST, static_cast<uint32_t>(p.constants.size() - 1));
        }
        case ast::ExprKind::kBool: return push(x.value != 0 ? rt::Op::kTRUE : rt::Op::kFALSE, 0);
        case ast::ExprKind::kUnknown: return push(rt::Op::kUNKNOWN, 0);
        case ast::ExprKind::kNot: emit(*x.kids[0]); return push(rt::Op::kNOT, 0);
        case ast::ExprKind::kNeg: emit(*x.kids[0]); return push(rt::Op::kNEG, 0);
        case ast::ExprKind::kBinary: {
          emit(*x.kids[0]);
          emit(*x.kids[1]);
          static const rt::Op kOps[] = {
#define RB_BINARY_OP(name, text, cls, precedence, opcode, operands, result, doc) rt::Op::k##opcode,
#include "lang/operators.def"
          };
          return push(kOps[static_cast<size_t>(x.op)], 0);
        }
        default: FAIL() << "not constant: " << text;
      }
    };
    emit(e);
    chunk.code.push_back(rt::Encode(rt::Op::kRETURN, 0));
    chunk.lines.push_back(1);
    chunk.max_stack = 16;
    p.chunks.push_back(std::move(chunk));
    rt::Vm vm(p);
    struct NoHost : rt::EvalHost {  // constants read nothing
      rt::Value Param(uint32_t, uint32_t) override { return {}; }
      rt::Value Symptom(uint32_t, uint32_t) override { return {}; }
      rt::Value Incident(uint32_t) override { return {}; }
      rt::Value StepFailed(uint32_t, uint32_t) override { return {}; }
      rt::Value Output() override { return {}; }
      rt::Value Ask(const std::string&) override { return {}; }
      rt::Value Window(uint32_t, uint32_t) override { return {}; }
      rt::Value Call(uint32_t, const rt::Import&, const std::string&, const rt::Value*, size_t) override { return {}; }
    } host;
    rt::EvalResult r = vm.Eval(0, host);
    ASSERT_TRUE(r.ok) << text << ": " << r.error;
    EXPECT_EQ(r.value.type, folded->type) << text;
    EXPECT_EQ(r.value.number, folded->number) << text;
  }
}

// ---- Drift 1: `expect output == "PONG"` after `|> grep("PONG")` ----------------------------------

constexpr const char* kPong = R"(import std.redis
import policy.escalation

runbook pong "Pong" {
  severity P2
  owner    sre
  target redis = redis("redis")

  symptoms {
    down "redis.ping error" : not redis.ping()
  }
  steps {
    verify back "Reconexión" {
      $ redis-cli ping |> grep("PONG")
      expect output == "PONG"
    }
  }
  escalate {
    | when          | then     |
    | down for > 2m | page sre |
    | failed(back)  | page sre |
  }
}
)";

TEST(LangOperators, LinesEqualToAStringLintCleanAndPassInARehearsal) {
  std::string path = WriteTemp("pong.rb.denis", kPong);
  std::filesystem::create_directories(TempDir() / "policy");
  std::filesystem::copy_file(SourceDir() / "tests" / "golden" / "policy" / "escalation.rb.denis",
                             TempDir() / "policy" / "escalation.rb.denis",
                             std::filesystem::copy_options::overwrite_existing);
  LintResult lint = LintFromRoot({path});
  EXPECT_TRUE(lint.diags.all().empty()) << RenderText(lint);

  rt::Program p = CompileText("pong.rb.denis", kPong);
  std::string scenario = WriteTemp("pong.scenario.yaml", R"(runbook: pong
duration: 1m
expect: {pending: {}}
probes:
  redis.ping(): false
commands:
  redis-cli ping: {stdout: "PONG"}
)");
  rt::Scenario sc;
  std::vector<rt::ConfigError> errors;
  ASSERT_TRUE(rt::LoadScenario(scenario, p, TestRegistry(), sc, errors)) << (errors.empty() ? "" : errors[0].ToString());
  rt::ScenarioProvider provider(sc);
  rt::MemoryStateStore state;
  rt::Trace t = rt::Rehearse(p, TestRegistry(), 0, sc, provider, state);
  ASSERT_EQ(t.steps.size(), 1u);
  EXPECT_EQ(t.steps[0].name, "back");
  EXPECT_EQ(t.steps[0].status, "ok");
}

// ---- Drift 2: a row folding to a constant is reported by lint ------------------------------------

LintResult LintRow(const std::string& row) {
  std::string text = R"(import std.redis
import policy.escalation

runbook rows "Rows" {
  severity P2
  owner    sre
  target redis = redis("redis")
  symptoms {
    down "redis.ping error" : not redis.ping()
  }
  escalate {
    | when          | then     |
    | down for > 2m | page sre |
    | )" + row + R"( | page sre |
  }
}
)";
  std::filesystem::create_directories(TempDir() / "policy");
  std::filesystem::copy_file(SourceDir() / "tests" / "golden" / "policy" / "escalation.rb.denis",
                             TempDir() / "policy" / "escalation.rb.denis",
                             std::filesystem::copy_options::overwrite_existing);
  return LintFromRoot({WriteTemp("rows.rb.denis", text)});
}

TEST(LangOperators, ARowFoldingToFalseNeverFiresAndToTrueIsAWarning) {
  LintResult never = LintRow("1 + 1 == 3");
  EXPECT_EQ(Codes(never), std::set<std::string>{"RB0081"}) << RenderText(never);
  EXPECT_NE(RenderText(never).find("always false: the row never fires"), std::string::npos);

  LintResult always = LintRow("1 + 1 == 2");
  EXPECT_EQ(Codes(always), std::set<std::string>{"RB0043"}) << RenderText(always);
  EXPECT_EQ(always.diags.errors(), 0u);

  LintResult skipped = LintRow("false and down");  // the VM's jump never reads `down`
  EXPECT_EQ(Codes(skipped), std::set<std::string>{"RB0081"}) << RenderText(skipped);

  LintResult live = LintRow("down and 1 + 1 == 2");  // not constant: decided by the probe
  EXPECT_TRUE(live.diags.all().empty()) << RenderText(live);

  LintResult fault = LintRow("down and 5m / 0 > 1m");
  EXPECT_EQ(Codes(fault), std::set<std::string>{"RB0045"}) << RenderText(fault);
}

// ---- The table and the docs ----------------------------------------------------------------------

TEST(LangOperators, TheLanguageDocListsEveryOperatorOfTheTable) {
  std::ifstream in(SourceDir() / "docs" / "language.md");
  std::string doc((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (const auto& info : lang::kOperators) {
    // One table row per operator: | `text` | operands | result | doc |
    std::string row = "| `" + std::string(info.text) + "` | " + std::string(info.operands) + " | " +
                      std::string(info.result) + " | " + std::string(info.doc) + " |";
    EXPECT_NE(doc.find(row), std::string::npos) << "docs/language.md lacks the row\n" << row;
  }
}

}  // namespace
}  // namespace rb::test
