// The parser: each syntax error comes from its entry in compiler/syntax_errors.def (kind, message and
// hint), recovery keeps its state per parse, and comments reach the tree with their spans.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "compiler/parser.hpp"
#include "compiler/syntax_errors.hpp"

namespace rb {
namespace {

struct Parsed {
  std::shared_ptr<const Source> source;
  Diagnostics diags;
  ast::File file;
};

Parsed ParseText(const std::string& text) {
  Parsed p;
  p.source = std::make_shared<Source>("t.rb.denis", text);
  p.file = Parse(p.source, p.diags);
  return p;
}

std::string Show(const Diagnostics& d) {
  std::string out;
  for (const auto& x : d.all()) out += std::string(Info(x.kind).code) + " " + x.message + "\n";
  return out;
}

// Wraps a condition in a symptom, so each expression error has a place to happen.
std::string InSymptom(const std::string& cond) {
  return "runbook r \"T\" {\n  symptoms {\n    s \"S\" : " + cond + "\n  }\n}\n";
}
std::string InStep(const std::string& line) {
  return "runbook r \"T\" {\n  steps {\n    check s \"S\" {\n      " + line + "\n    }\n  }\n}\n";
}
std::string InTable(const std::string& rows) {
  return "runbook r \"T\" {\n  escalate {\n" + rows + "\n  }\n}\n";
}

// One input per entry of the table, each failing first with that entry. `at_end`: the entry fails
// only at the end of the file, where the message says what was left open.
struct Case {
  std::string text;
  bool at_end = false;
};
const std::map<SyntaxError, Case>& Cases() {
  static const std::map<SyntaxError, Case> kCases = {
      {SyntaxError::kTopExpected, {"bogus\n"}},
      {SyntaxError::kDeclName, {"runbook 1x \"T\" {\n}\n"}},
      {SyntaxError::kTitle, {"runbook r T {\n}\n"}},
      {SyntaxError::kBlockOpen, {"runbook r \"T\" x\n"}},
      {SyntaxError::kBlockClose, {"runbook r \"T\" {\n  look {\n    bogus\n  }\n}\n"}},
      {SyntaxError::kRunbookMember, {"runbook r \"T\" {\n  bogus\n}\n"}},
      {SyntaxError::kPolicyMember, {"policy p \"T\" {\n  bogus\n}\n"}},
      {SyntaxError::kStep, {"runbook r \"T\" {\n  steps {\n    bogus\n  }\n}\n"}},
      {SyntaxError::kSymptom, {"runbook r \"T\" {\n  symptoms {\n    1x\n  }\n}\n"}},
      {SyntaxError::kRunbookClose, {"runbook r \"T\" {\n  severity P2\n", true}},
      {SyntaxError::kPolicyClose, {"policy p \"T\" {\n", true}},
      {SyntaxError::kCapabilityClose, {"capability c \"C\" {\n  bogus\n}\n"}},
      {SyntaxError::kProgramClose, {"program p {\n  bogus\n}\n"}},
      {SyntaxError::kOptionSpec, {"program p {\n  options x\n}\n"}},
      {SyntaxError::kOptionAlias, {"program p {\n  options -a|x\n}\n"}},
      {SyntaxError::kBodyClose, {InStep("1")}},
      {SyntaxError::kMissingDollar, {InStep("redis-cli ping")}},
      {SyntaxError::kStepOpen, {"runbook r \"T\" {\n  steps {\n    check s \"S\" x\n  }\n}\n"}},
      {SyntaxError::kExpr, {InSymptom(")")}},
      {SyntaxError::kUnaryExpr, {InSymptom("a * )")}},
      {SyntaxError::kMulExpr, {InSymptom("a + )")}},
      {SyntaxError::kPipeExpr, {InSymptom("a == )")}},
      {SyntaxError::kNotExpr, {InSymptom("a and )")}},
      {SyntaxError::kAndExpr, {InSymptom("a or )")}},
      {SyntaxError::kFilterCall, {InSymptom("a |> )")}},
      {SyntaxError::kCallClose, {InSymptom("f(a b)")}},
      {SyntaxError::kParenClose, {InSymptom("(a b)")}},
      {SyntaxError::kListClose, {InSymptom("[a b]")}},
      {SyntaxError::kAskText, {InSymptom("ask x")}},
      {SyntaxError::kWindowOp, {InSymptom("a for x")}},
      {SyntaxError::kWindowBound, {InSymptom("a for > x")}},
      {SyntaxError::kDqClose, {InSymptom("\"open")}},
      {SyntaxError::kSqClose, {InSymptom("'open")}},
      {SyntaxError::kColon, {"runbook r \"T\" {\n  symptoms {\n    s \"S\" a\n  }\n}\n"}},
      {SyntaxError::kEquals, {"runbook r \"T\" {\n  target x redis(\"x\")\n}\n"}},
      {SyntaxError::kLetEquals, {"runbook r \"T\" {\n  let x redis.ping()\n}\n"}},
      {SyntaxError::kParamSpec, {"runbook r \"T\" {\n  param n x\n}\n"}},
      {SyntaxError::kTypeName, {"runbook r \"T\" {\n  param n : 1\n}\n"}},
      {SyntaxError::kSeverityRef, {"runbook r \"T\" {\n  severity 1\n}\n"}},
      {SyntaxError::kContactRef, {"runbook r \"T\" {\n  owner 1\n}\n"}},
      {SyntaxError::kStepRef, {InTable("    | when | then |\n    | a | run 1 |")}},
      {SyntaxError::kRunbookRef, {InTable("    | when | then |\n    | a | runbook 1 |")}},
      {SyntaxError::kTextLine, {InTable("    | when | then |\n    | a | manual x |")}},
      {SyntaxError::kTagsOpen, {"runbook r \"T\" {\n  tags a\n}\n"}},
      {SyntaxError::kCellBar, {InTable("    | when | then |\n    | a page sre |")}},
      {SyntaxError::kRowEnd, {InTable("    | when | then |\n    | a | page sre | x")}},
      {SyntaxError::kTableHeader, {InTable("    | a | page sre |")}},
      {SyntaxError::kWhenCell, {InTable("    | when | then |\n    | ) | page sre |")}},
      {SyntaxError::kEscAction, {InTable("    | when | then |\n    | a | bogus |")}},
      {SyntaxError::kThenCell, {InTable("    | when | bogus |")}},
      {SyntaxError::kKibanaQueryKey, {"runbook r \"T\" {\n  look {\n    kibana \"i\" \"q\"\n  }\n}\n"}},
      {SyntaxError::kKibanaQuery, {"runbook r \"T\" {\n  look {\n    kibana query x\n  }\n}\n"}},
      {SyntaxError::kContactDisplay, {"policy p \"T\" {\n  contact sre x\n}\n"}},
      {SyntaxError::kContactHandle, {"policy p \"T\" {\n  contact sre \"SRE\" x\n}\n"}},
      {SyntaxError::kFormals, {"filter f x\n"}},
      {SyntaxError::kFormalsClose, {"filter f(a: string b) -> bool \"d\"\n"}},
      {SyntaxError::kArrow, {"filter f() bool \"d\"\n"}},
      {SyntaxError::kEffect, {"program p {\n  default x\n}\n"}},
      {SyntaxError::kSubPattern, {"program p {\n  read ?\n}\n"}},
      {SyntaxError::kProgramName, {"program 1 {\n}\n"}},
      {SyntaxError::kModulePath, {"import 1\n"}},
      {SyntaxError::kTooDeep, {InSymptom(std::string(200, '(') + "a" + std::string(200, ')'))}},
      {SyntaxError::kLowerRule, {"program p {\n  lower x\n}\n"}},
      {SyntaxError::kDownWhen, {"runbook r \"R\" {\n  down if x\n}\n"}},
      {SyntaxError::kPageTime, {"runbook r \"R\" {\n  escalate {\n    | when | then |\n    | x | page sre every 5m |\n  }\n}\n"}},
      {SyntaxError::kLockName, {"runbook r \"R\" {\n  lock redis\n}\n"}},
  };
  return kCases;
}

TEST(SyntaxErrorTable, NamesMatchTheEnum) {
  for (size_t i = 0; i < kSyntaxErrorCount; ++i) {
    EXPECT_EQ(static_cast<size_t>(kSyntaxErrors[i].id), i) << kSyntaxErrors[i].name;
    EXPECT_NE(std::string(kSyntaxErrors[i].message), "") << kSyntaxErrors[i].name;
  }
}

TEST(SyntaxErrorTable, EveryEntryHasAnInput) {
  for (const SyntaxErrorInfo& e : kSyntaxErrors) EXPECT_EQ(Cases().count(e.id), 1u) << e.name << " has no input";
}

// Each input's first diagnostic is its entry's: kind, message and hint all come from the table.
TEST(SyntaxErrorTable, EveryEntryIsReachable) {
  for (const auto& [id, c] : Cases()) {
    const SyntaxErrorInfo& e = Info(id);
    Parsed p = ParseText(c.text);
    ASSERT_FALSE(p.diags.all().empty()) << e.name << ": no diagnostic for [" << c.text << "]";
    const Diagnostic& d = p.diags.all().front();
    std::string want = c.at_end ? "the file ends before a closing `}`: a block is not closed" : e.message;
    EXPECT_EQ(d.kind, e.kind) << e.name << "\n" << Show(p.diags);
    EXPECT_EQ(d.message, want) << e.name << " on [" << c.text << "]\n" << Show(p.diags);
    EXPECT_EQ(d.hint, e.hint) << e.name;
  }
}

// Where the caret goes is the entry's too: at the failure, or under the quote an unterminated
// string opened.
TEST(SyntaxErrorTable, CaretFollowsTheEntry) {
  Parsed open = ParseText(InSymptom("a == \"open"));
  ASSERT_FALSE(open.diags.all().empty());
  const Diagnostic& d = open.diags.all().front();
  EXPECT_EQ(d.message, Info(SyntaxError::kDqClose).message);
  EXPECT_EQ(open.source->text()[d.span.begin], '"');
  LineCol lc = open.source->At(d.span.begin);
  EXPECT_EQ(lc.line, 3u);
  EXPECT_EQ(lc.column, 18u);

  Parsed bare = ParseText(InStep("redis-cli ping"));
  ASSERT_FALSE(bare.diags.all().empty());
  EXPECT_EQ(bare.source->text().substr(bare.diags.all().front().span.begin, 9), "redis-cli");
  EXPECT_EQ(bare.diags.all().front().hint, Info(SyntaxError::kMissingDollar).hint);

  Parsed eof = ParseText("import std.redis\nrunbook r \"T\" {\n  owner ");
  ASSERT_FALSE(eof.diags.all().empty());
  EXPECT_EQ(eof.diags.all().front().message, std::string(Info(SyntaxError::kContactRef).message) + ": the file ends here");
}

// A too-deep input is one diagnostic, and the rest of the file is not parsed again.
TEST(SyntaxErrorTable, TooDeepEndsTheFile) {
  std::string deep = InSymptom(std::string(300, '(') + "a" + std::string(300, ')'));
  Parsed p = ParseText(deep + deep);
  ASSERT_EQ(p.diags.all().size(), 1u) << Show(p.diags);
  EXPECT_EQ(p.diags.all().front().kind, DiagKind::kTooDeep);
}

// Recovery state belongs to one parse: two threads parsing files with different errors each get
// exactly their own, every time.
TEST(Parser, ConcurrentParsesKeepTheirOwnRecoveredErrors) {
  std::string a = "runbook a \"A\" {\n  bogus_a\n  severity P2\n  also_a\n}\n";
  std::string b = "runbook b \"B\" {\n  steps {\n    nope_b\n  }\n  owner 1\n}\n";
  auto run = [](const std::string& text, std::vector<std::string>* first_words, bool* had_errors) {
    for (int i = 0; i < 200; ++i) {
      Parsed p = ParseText(text);
      std::string words;
      for (const auto& d : p.diags.all()) {
        words += std::string(p.source->text().substr(d.span.begin, 6)) + "|";
      }
      first_words->push_back(words);
      *had_errors = !p.file.runbooks.empty() && p.file.runbooks[0].had_syntax_errors;
    }
  };
  std::vector<std::string> wa, wb;
  bool ea = false, eb = false;
  std::thread ta(run, a, &wa, &ea);
  std::thread tb(run, b, &wb, &eb);
  ta.join();
  tb.join();
  for (const auto& w : wa) EXPECT_EQ(w, "bogus_|also_a|");
  for (const auto& w : wb) EXPECT_EQ(w, "nope_b|1\n}\n|");
  EXPECT_TRUE(ea);
  EXPECT_TRUE(eb);
}

// Comments reach the tree in source order with their text, span and placement.
TEST(Parser, CommentsSurviveIntoTheTree) {
  const std::string text =
      "# file header\n"                           // own line, top level
      "import std.redis  # the probes\n"          // trailing, top level
      "runbook r \"T\" {  # opens\n"              // trailing on the declaration line
      "  # inside the runbook\n"                  // own line, in a block
      "  severity P2\n"
      "  steps {\n"
      "    check s \"S\" {\n"
      "      $ redis-cli ping   # after a step line\n"
      "      # between step lines\n"
      "      \"text # not a comment\"\n"
      "    }\n"
      "  }\n"
      "  escalate {\n"
      "    | when | then |   # header\n"
      "    # between rows\n"
      "    | s | page sre | # row\n"
      "  }\n"
      "}\n"
      "# trailer";
  Parsed p = ParseText(text);
  EXPECT_TRUE(p.diags.all().empty()) << Show(p.diags);
  struct Want {
    std::string text;
    bool trailing;
  };
  const std::vector<Want> want = {
      {"# file header", false},       {"# the probes", true},       {"# opens", true},
      {"# inside the runbook", false}, {"# after a step line", true}, {"# between step lines", false},
      {"# header", true},             {"# between rows", false},    {"# row", true},
      {"# trailer", false},
  };
  ASSERT_EQ(p.file.comments.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    const ast::Comment& c = p.file.comments[i];
    EXPECT_EQ(c.text, want[i].text) << i;
    EXPECT_EQ(c.trailing, want[i].trailing) << c.text;
    EXPECT_EQ(text.substr(c.span.begin, c.span.end - c.span.begin), want[i].text) << c.text;
    EXPECT_EQ(text.find(want[i].text), c.span.begin) << c.text;
  }
}

// CRLF line ends and a byte-order mark stay out of the comments.
TEST(Parser, CommentsWithCrlfAndBom) {
  const std::string text = "\xEF\xBB\xBF# first\r\nimport std.redis # probes\r\n";
  Parsed p = ParseText(text);
  EXPECT_TRUE(p.diags.all().empty()) << Show(p.diags);
  ASSERT_EQ(p.file.comments.size(), 2u);
  EXPECT_EQ(p.file.comments[0].text, "# first");
  EXPECT_FALSE(p.file.comments[0].trailing);
  EXPECT_EQ(p.file.comments[0].span.begin, 3u);
  EXPECT_EQ(p.file.comments[1].text, "# probes");
  EXPECT_TRUE(p.file.comments[1].trailing);
}

}  // namespace
}  // namespace rb
