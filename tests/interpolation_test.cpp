// Interpolated strings: `{name}` and `{target.field}` in probe arguments, `ask` questions, instruction
// lines, manual actions and page messages; target fields in commands; secrets refused; dashed tags.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <variant>

#include "compiler/parser.hpp"
#include "runtime/binding.hpp"
#include "runtime/environment.hpp"
#include "runtime/expectations.hpp"
#include "runtime/report.hpp"
#include "runtime/state_store.hpp"
#include "runtime/plan.hpp"
#include "runtime/rbc.hpp"
#include "runtime/rehearse.hpp"
#include "runtime/scenario.hpp"
#include "runtime/scenario_provider.hpp"
#include "runtime/verifier.hpp"
#include "runtime/vm.hpp"
#include "tests/compile_util.hpp"
#include "tests/fake_host.hpp"

namespace rb {
namespace {

using test::CompileText;
using test::TestRegistry;

// Keeps the arguments of each capability call.
class ArgsHost : public test::FakeHost {
 public:
  using FakeHost::FakeHost;
  std::vector<std::vector<rt::Value>> call_args;
  rt::Value Call(uint32_t owner, const rt::Import& im, const std::string& name, const rt::Value* args, size_t argc) override {
    call_args.emplace_back(args + 1, args + argc);
    return FakeHost::Call(owner, im, name, args, argc);
  }
};

rt::Program RoundTrip(const rt::Program& p) {
  auto r = rt::Deserialize(rt::Serialize(p));
  if (auto* e = std::get_if<rt::LoadError>(&r)) {
    ADD_FAILURE() << e->message;
    return {};
  }
  return std::get<rt::Program>(std::move(r));
}

ast::File ParseText(const std::string& text, Diagnostics& diags) {
  auto src = std::make_shared<Source>("t.rb.denis", text);
  return Parse(src, diags);
}

// The first runbook's expressions after parsing `body` inside a runbook.
ast::File ParseRunbook(const std::string& members, Diagnostics& diags) {
  return ParseText("runbook r \"R\" {\n" + members + "\n}\n", diags);
}

LintResult LintText(const std::string& name, const std::string& text) {
  auto dir = test::TempDir() / "interp-lint";
  std::filesystem::create_directories(dir / "policy");
  std::filesystem::copy_file(test::SourceDir() / "tests" / "golden" / "policy" / "escalation.rb.denis",
                             dir / "policy" / "escalation.rb.denis", std::filesystem::copy_options::overwrite_existing);
  std::ofstream(dir / name, std::ios::binary) << text;
  LintOptions o;
  o.paths = {(dir / name).string()};
  return Lint(o);
}

// ---- Parsing ------------------------------------------------------------------------------------

TEST(InterpolationParse, SlotsBracesAndRawStrings) {
  Diagnostics d;
  ast::File f = ParseRunbook(
      "  symptoms {\n"
      "    a \"A\" : x(\"lag {replica} on {primary.host}\")\n"
      "    b \"B\" : x(\"{{literal}} and x{job=\\\"a\\\"}\")\n"
      "    c \"C\" : x('raw {replica}')\n"
      "  }",
      d);
  ASSERT_FALSE(d.errors() > 0);
  ASSERT_EQ(f.runbooks.size(), 1u);
  const auto& syms = f.runbooks[0].symptoms;
  ASSERT_EQ(syms.size(), 3u);
  const ast::Expr& a = *syms[0].cond->kids[1];
  ASSERT_EQ(a.kind, ast::ExprKind::kInterp);
  ASSERT_EQ(a.kids.size(), 4u);
  EXPECT_EQ(a.kids[0]->kind, ast::ExprKind::kString);
  EXPECT_EQ(a.kids[0]->text, "lag ");
  EXPECT_EQ(a.kids[1]->kind, ast::ExprKind::kName);
  EXPECT_EQ(a.kids[1]->text, "replica");
  EXPECT_EQ(a.kids[2]->text, " on ");
  ASSERT_EQ(a.kids[3]->kind, ast::ExprKind::kMember);
  EXPECT_EQ(a.kids[3]->text, "host");
  EXPECT_EQ(a.kids[3]->kids[0]->text, "primary");
  // No slot: a constant, `{{`/`}}` collapsed, a brace that opens no slot kept as text.
  const ast::Expr& b = *syms[1].cond->kids[1];
  EXPECT_EQ(b.kind, ast::ExprKind::kString);
  EXPECT_EQ(b.text, "{literal} and x{job=\"a\"}");
  const ast::Expr& c = *syms[2].cond->kids[1];
  EXPECT_EQ(c.kind, ast::ExprKind::kString);
  EXPECT_EQ(c.text, "raw {replica}");
}

TEST(InterpolationParse, InstructionsManualActionsPagesAndAsks) {
  Diagnostics d;
  ast::File f = ParseRunbook(
      "  steps {\n"
      "    manual m \"M\" {\n"
      "      \"Drain {node} now\"\n"
      "      \"Plain {{text}}\"\n"
      "    }\n"
      "  }\n"
      "  escalate {\n"
      "    | when | then |\n"
      "    | ask \"Is {node} drained?\" | page sre \"Node {node} is full\", manual \"cordon {node}\" |\n"
      "    | ask \"ok?\" | page sre |\n"
      "  }",
      d);
  ASSERT_FALSE(d.errors() > 0);
  const ast::Runbook& rb = f.runbooks[0];
  ASSERT_EQ(rb.steps[0].items.size(), 2u);
  ASSERT_TRUE(rb.steps[0].items[0].text_expr);
  EXPECT_EQ(rb.steps[0].items[0].text, "Drain {node} now");
  EXPECT_FALSE(rb.steps[0].items[1].text_expr);
  EXPECT_EQ(rb.steps[0].items[1].text, "Plain {text}");
  ASSERT_EQ(rb.rows.size(), 2u);
  const ast::Expr& ask = *rb.rows[0].when;
  ASSERT_EQ(ask.kind, ast::ExprKind::kAsk);
  ASSERT_EQ(ask.kids.size(), 1u);
  EXPECT_EQ(ask.kids[0]->kind, ast::ExprKind::kInterp);
  EXPECT_EQ(ask.text, "Is {node} drained?");
  ASSERT_EQ(rb.rows[0].then.size(), 2u);
  ASSERT_TRUE(rb.rows[0].then[0].message);
  EXPECT_EQ(*rb.rows[0].then[0].message, "Node {node} is full");
  EXPECT_TRUE(rb.rows[0].then[0].text_expr);
  EXPECT_TRUE(rb.rows[0].then[1].text_expr);
  EXPECT_FALSE(rb.rows[1].then[0].message);
  EXPECT_TRUE(rb.rows[1].when->kids.empty());
}

TEST(InterpolationParse, DashedTags) {
  Diagnostics d;
  ast::File f = ParseRunbook("  tags [pg, cert-expiry, node-disk, p99_latency]", d);
  ASSERT_FALSE(d.errors() > 0);
  std::vector<std::string> tags;
  for (const auto& t : f.runbooks[0].tags) tags.push_back(t.name);
  EXPECT_EQ(tags, (std::vector<std::string>{"pg", "cert-expiry", "node-disk", "p99_latency"}));
  Diagnostics d2;
  ParseRunbook("  tags [-pg]", d2);
  EXPECT_TRUE(d2.errors() > 0);
}

// ---- Checking -----------------------------------------------------------------------------------

const char* kHeader =
    "import std.redis\n"
    "import std.kube\n"
    "import policy.escalation\n"
    "runbook r \"R\" {\n"
    "  severity P2\n"
    "  owner sre\n"
    "  target cache = redis(\"cache\")\n"
    "  param section = \"replication\"\n"
    "  param pass = secret(\"REDIS_PASSWORD\")\n";

TEST(InterpolationCheck, SecretsAreRefusedInEveryText) {
  LintResult r = LintText("secret.rb.denis", std::string(kHeader) +
                                                 "  symptoms { s \"S\" : cache.info(\"{pass}\") |> count() > 0 }\n"
                                                 "  steps { manual m \"M\" { \"log in with {pass}\" } }\n"
                                                 "  escalate {\n"
                                                 "    | when | then |\n"
                                                 "    | s and ask \"use {pass}?\" | page sre \"pw {pass}\", manual \"type {pass}\" |\n"
                                                 "  }\n"
                                                 "}\n");
  size_t secrets = 0;
  for (const auto& d : r.diags.all()) secrets += d.kind == DiagKind::kSecretInText;
  EXPECT_EQ(secrets, 5u) << test::RenderText(r);
}

TEST(InterpolationCheck, UnknownNamesAndFieldsAreReportedWithAHint) {
  LintResult r = LintText("names.rb.denis", std::string(kHeader) +
                                                "  symptoms { s \"S\" : cache.info(\"{sectoin}\") |> count() > 0 }\n"
                                                "  steps {\n"
                                                "    check c \"C\" {\n"
                                                "      \"on {cache.hots}\"\n"
                                                "      $ redis-cli -h {cache.host} -p {cache.prot} ping\n"
                                                "    }\n"
                                                "  }\n"
                                                "  escalate {\n"
                                                "    | when | then |\n"
                                                "    | s | page sre \"at {cache.namespace}\" |\n"
                                                "  }\n"
                                                "}\n");
  std::string text = test::RenderText(r);
  EXPECT_TRUE(test::Codes(r).count("RB0060") || test::Codes(r).count("RB0031") || text.find("unknown name `sectoin`") != std::string::npos)
      << text;
  EXPECT_NE(text.find("did you mean `section`?"), std::string::npos) << text;
  size_t fields = 0;
  for (const auto& d : r.diags.all()) fields += d.kind == DiagKind::kUnknownTargetField;
  EXPECT_EQ(fields, 2u) << text;  // hots, prot; `namespace` is an environment key
  EXPECT_NE(text.find("did you mean `host`?"), std::string::npos) << text;
  EXPECT_NE(text.find("did you mean `port`?"), std::string::npos) << text;
}

TEST(InterpolationCheck, AListCannotBeWrittenAsText) {
  LintResult r = LintText("list.rb.denis", std::string(kHeader) +
                                               "  param many = [\"a\", \"b\"]\n"
                                               "  steps { manual m \"M\" { \"all of {many}\" } }\n"
                                               "}\n");
  EXPECT_TRUE(test::Codes(r).count("RB0232")) << test::RenderText(r);
}

// ---- Folding and the VM -------------------------------------------------------------------------

TEST(InterpolationVm, ConcatJoinsValuesAsThePrinterWritesThem) {
  rt::Program p = CompileText("concat.rb.denis", std::string(kHeader) +
                                                     "  param wait = 90s\n"
                                                     "  param full = 80%\n"
                                                     "  param big = 1536MB\n"
                                                     "  symptoms {\n"
                                                     "    s \"S\" : cache.info(\"{section} after {wait} at {full} of {big}\") |> count() > 0\n"
                                                     "  }\n"
                                                     "}\n");
  ASSERT_EQ(p.runbooks.size(), 1u);
  uint32_t chunk = test::SymptomChunk(p, "s");
  const auto& code = p.chunks.at(chunk).code;
  bool concat = std::any_of(code.begin(), code.end(), [](uint32_t w) { return rt::OpByte(w) == static_cast<uint8_t>(rt::Op::kCONCAT); });
  EXPECT_TRUE(concat);
  ASSERT_FALSE(rt::Verify(p, TestRegistry()));

  // Run it: the argument the probe receives is the joined text.
  rt::Bindings b = rt::Bind(p, 0, nullptr);
  ArgsHost host(p);
  for (uint32_t i = 0; i < b.params.size(); ++i) host.params[i] = b.params[i].value;
  rt::Vm vm(p);
  host.SetVm(&vm);
  vm.Eval(chunk, host);
  ASSERT_EQ(host.call_args.size(), 1u);
  ASSERT_EQ(host.call_args[0].size(), 1u);
  EXPECT_EQ(host.call_args[0][0].Text(), "replication after 1m30s at 80% of 1536MB");
}

TEST(InterpolationVm, AllConstantPartsFoldToOneConstant) {
  rt::Program p = CompileText("fold.rb.denis", std::string(kHeader) +
                                                   "  symptoms { s \"S\" : cache.info(\"{{all}} literal\") |> count() > 0 }\n"
                                                   "}\n");
  uint32_t chunk = test::SymptomChunk(p, "s");
  const auto& code = p.chunks.at(chunk).code;
  EXPECT_TRUE(std::none_of(code.begin(), code.end(), [](uint32_t w) { return rt::OpByte(w) == static_cast<uint8_t>(rt::Op::kCONCAT); }));
  EXPECT_NE(std::find(p.strings.begin(), p.strings.end(), "{all} literal"), p.strings.end());
}

TEST(InterpolationVm, AnUnknownPartLeavesTheTextUnknown) {
  rt::Program p = CompileText("unbound.rb.denis", std::string(kHeader) +
                                                      "  param node : string\n"
                                                      "  symptoms { s \"S\" : cache.info(\"{node}\") |> count() > 0 }\n"
                                                      "}\n");
  uint32_t chunk = test::SymptomChunk(p, "s");
  ArgsHost host(p);
  rt::Vm vm(p);
  host.SetVm(&vm);
  vm.Eval(chunk, host);
  ASSERT_EQ(host.call_args.size(), 1u);
  EXPECT_TRUE(host.call_args[0][0].IsUnknown());
}

// ---- Target fields ------------------------------------------------------------------------------

TEST(InterpolationFields, AddressPartsAndExtraKeys) {
  rt::BoundTarget t{"primary", "redis", "pg", "postgres://app:pw@127.0.0.5:5432/appdb", {{"namespace", "denis"}}};
  EXPECT_EQ(rt::TargetFieldValue(t, "host"), std::optional<std::string>("127.0.0.5"));
  EXPECT_EQ(rt::TargetFieldValue(t, "port"), std::optional<std::string>("5432"));
  EXPECT_EQ(rt::TargetFieldValue(t, "scheme"), std::optional<std::string>("postgres"));
  EXPECT_EQ(rt::TargetFieldValue(t, "user"), std::optional<std::string>("app"));  // never the password
  EXPECT_EQ(rt::TargetFieldValue(t, "path"), std::optional<std::string>("/appdb"));
  // Shown to people (strings, page messages): the address without its password.
  EXPECT_EQ(rt::TargetFieldValue(t, "address"), std::optional<std::string>("postgres://app@127.0.0.5:5432/appdb"));
  EXPECT_EQ(rt::TargetFieldValue(t, ""), std::optional<std::string>("postgres://app@127.0.0.5:5432/appdb"));
  EXPECT_EQ(rt::TargetFieldValue(t, "namespace"), std::optional<std::string>("denis"));
  EXPECT_EQ(rt::TargetFieldValue(t, "zone"), std::nullopt);
  rt::BoundTarget bare{"cache", "redis", "cache", "127.0.0.7", {}};
  EXPECT_EQ(rt::TargetFieldValue(bare, "host"), std::optional<std::string>("127.0.0.7"));
  EXPECT_EQ(rt::TargetFieldValue(bare, "port"), std::nullopt);
  rt::BoundTarget unbound{"cache", "redis", "cache", "", {}};
  EXPECT_EQ(rt::TargetFieldValue(unbound, "host"), std::nullopt);
}

const char* kFieldRunbook =
    "import std.redis\n"
    "import policy.escalation\n"
    "runbook f \"F\" {\n"
    "  severity P2\n"
    "  owner sre\n"
    "  target cache = redis(\"cache\")\n"
    "  steps {\n"
    "    check c \"C\" {\n"
    "      \"Connect to {cache.host} port {cache.port} in {cache.namespace}\"\n"
    "      $ redis-cli -h {cache.host} -p {cache.port} ping\n"
    "    }\n"
    "  }\n"
    "}\n";

TEST(InterpolationFields, CommandsBindFieldsFromTheEnvironmentAndStayUnresolvedWithout) {
  rt::Program p = CompileText("fields.rb.denis", kFieldRunbook);
  ASSERT_EQ(p.runbooks.size(), 1u);
  ASSERT_FALSE(rt::Verify(p, TestRegistry()));
  const rt::Command& cmd = p.runbooks[0].steps[0].items[1].command;

  rt::Bindings none = rt::Bind(p, 0, nullptr);
  rt::BoundCommand unbound = rt::BindCommand(p, TestRegistry(), 0, cmd, none);
  EXPECT_TRUE(unbound.unbound);
  EXPECT_EQ(unbound.Display(), "redis-cli -h {cache.host} -p {cache.port} ping");

  std::string env_path = test::WriteTemp("fields.env.yaml",
                                         "name: test\n"
                                         "targets:\n"
                                         "  cache: {capability: redis, address: \"redis://127.1.2.3:6380\", namespace: denis}\n");
  rt::Environment env;
  std::vector<rt::ConfigError> errors;
  ASSERT_TRUE(rt::LoadEnvironment(env_path, env, errors)) << (errors.empty() ? "" : errors[0].message);
  rt::Bindings bound = rt::Bind(p, 0, &env);
  rt::BoundCommand c = rt::BindCommand(p, TestRegistry(), 0, cmd, bound);
  EXPECT_FALSE(c.unbound);
  EXPECT_EQ(c.Display(), "redis-cli -h 127.1.2.3 -p 6380 ping");

  // The .rbc keeps the field part.
  rt::Program back = RoundTrip(p);
  ASSERT_EQ(back.runbooks.size(), 1u);
  const auto& part = back.runbooks[0].steps[0].items[1].command.argv[2][0];
  EXPECT_EQ(part.kind, rt::WordPart::Kind::kTargetField);
  EXPECT_EQ(back.Str(part.field), "host");
}

// ---- Rehearsal: instruction text, asks, manual actions and page messages --------------------------

const char* kRehearsed =
    "import std.redis\n"
    "import policy.escalation\n"
    "runbook lag \"Replica lag\" {\n"
    "  severity P2\n"
    "  owner sre\n"
    "  tags [pg, cert-expiry]\n"
    "  target cache = redis(\"cache\")\n"
    "  param replica = \"pg-1\"\n"
    "  param limit = 30s\n"
    "  symptoms {\n"
    "    lagging \"Replica lags\" : cache.info(\"replication {replica}\") |> count() > 0\n"
    "  }\n"
    "  steps {\n"
    "    manual look \"Look\" {\n"
    "      \"Check {replica} on {cache.host}; the limit is {limit}\"\n"
    "    }\n"
    "  }\n"
    "  escalate {\n"
    "    | when | then |\n"
    "    | lagging and ask \"Is {replica} still behind?\" | page sre \"Replica {replica} lags over {limit}\", manual \"Fail over from {replica}\" |\n"
    "  }\n"
    "}\n";

const char* kScenario =
    "runbook: lag\n"
    "duration: 2m\n"
    "tick: 30s\n"
    "probes:\n"
    "  cache.info(\"replication pg-1\"):\n"
    "    [\"lag:45\"]\n"
    "answers:\n"
    "  \"Is pg-1 still behind?\":\n"
    "    - {at: 1m, answer: yes}\n"
    "expect:\n"
    "  pages:\n"
    "    - {contact: sre, message: \"Replica pg-1 lags over 30s\"}\n";

struct Rehearsed {
  rt::Program program;
  rt::Scenario scenario;
  rt::Trace trace;
  std::vector<rt::Mismatch> mismatches;
};

Rehearsed Rehearse(const std::string& scenario_text, const rt::Environment* env = nullptr) {
  Rehearsed r;
  r.program = CompileText("lag.rb.denis", kRehearsed);
  std::string path = test::WriteTemp("lag.scenario.yaml", scenario_text);
  std::vector<rt::ConfigError> errors;
  bool ok = rt::LoadScenario(path, r.program, TestRegistry(), r.scenario, errors);
  EXPECT_TRUE(ok) << (errors.empty() ? "" : errors[0].message);
  if (!ok) return r;
  rt::ScenarioProvider provider(r.scenario);
  rt::MemoryStateStore state;
  rt::RehearseOptions options;
  options.env = env;
  r.trace = rt::Rehearse(r.program, TestRegistry(), 0, r.scenario, provider, state, options);
  r.mismatches = rt::Check(r.scenario, r.trace);
  return r;
}

std::vector<std::string> Details(const rt::Trace& t, rt::TraceEvent::Kind kind) {
  std::vector<std::string> out;
  for (const auto& e : t.events) {
    if (e.kind == kind) out.push_back(e.detail);
  }
  return out;
}

TEST(InterpolationRehearse, TextsAreInterpolatedInTheTrace) {
  Rehearsed r = Rehearse(kScenario);
  ASSERT_TRUE(r.trace.errors.empty()) << r.trace.errors.front();
  EXPECT_TRUE(r.mismatches.empty()) << r.mismatches.front().expected << " / " << r.mismatches.front().actual;
  // Without --env the target field has no value: the instruction is shown as written.
  EXPECT_EQ(Details(r.trace, rt::TraceEvent::Kind::kText),
            std::vector<std::string>{"Check {replica} on {cache.host}; the limit is {limit}"});
  ASSERT_EQ(r.trace.pages.size(), 1u);
  EXPECT_EQ(r.trace.pages[0].message, "Replica pg-1 lags over 30s");
  EXPECT_EQ(r.trace.pages[0].at_ms, 60000);
  std::vector<std::string> manual = Details(r.trace, rt::TraceEvent::Kind::kManual);
  EXPECT_NE(std::find(manual.begin(), manual.end(), "Fail over from pg-1"), manual.end());
  std::string json = rt::TraceJson(r.trace, &r.mismatches);
  EXPECT_NE(json.find("\"Replica pg-1 lags over 30s\""), std::string::npos) << json;
}

TEST(InterpolationRehearse, WithAnEnvironmentTheInstructionReadsTheField) {
  std::string env_path = test::WriteTemp("lag.env.yaml",
                                         "name: test\n"
                                         "targets:\n"
                                         "  cache: {capability: redis, address: \"redis://127.1.2.3:6380\"}\n");
  rt::Environment env;
  std::vector<rt::ConfigError> errors;
  ASSERT_TRUE(rt::LoadEnvironment(env_path, env, errors));
  Rehearsed r = Rehearse(kScenario, &env);
  EXPECT_EQ(Details(r.trace, rt::TraceEvent::Kind::kText),
            std::vector<std::string>{"Check pg-1 on 127.1.2.3; the limit is 30s"});
}

TEST(InterpolationRehearse, AScenarioChecksThePageMessageExactlyOrBySubstring) {
  std::string wrong = std::string(kScenario);
  wrong.replace(wrong.find("Replica pg-1 lags over 30s"), std::string("Replica pg-1 lags over 30s").size(), "Replica pg-2");
  Rehearsed bad = Rehearse(wrong);
  ASSERT_EQ(bad.mismatches.size(), 1u);
  EXPECT_NE(bad.mismatches[0].actual.find("Replica pg-1 lags over 30s"), std::string::npos) << bad.mismatches[0].actual;

  std::string sub = std::string(kScenario);
  sub.replace(sub.find("Replica pg-1 lags over 30s"), std::string("Replica pg-1 lags over 30s").size(), "~lags over");
  EXPECT_TRUE(Rehearse(sub).mismatches.empty());
}

TEST(InterpolationRehearse, AnAnswerToAQuestionNoSlotFitsIsRefused) {
  std::string other = std::string(kScenario);
  other.replace(other.find("Is pg-1 still behind?"), std::string("Is pg-1 still behind?").size(), "Was it ever behind?");
  rt::Program p = CompileText("lag.rb.denis", kRehearsed);
  std::string path = test::WriteTemp("lag2.scenario.yaml", other);
  rt::Scenario sc;
  std::vector<rt::ConfigError> errors;
  EXPECT_FALSE(rt::LoadScenario(path, p, TestRegistry(), sc, errors));
}

TEST(InterpolationRehearse, PlanShowsTheTextsAsWritten) {
  rt::Program p = CompileText("lag.rb.denis", kRehearsed);
  std::vector<std::string> actions = rt::ActionTexts(p, &p.runbooks[0].steps, p.runbooks[0].rows[0]);
  ASSERT_EQ(actions.size(), 2u);
  EXPECT_NE(actions[0].find("\"Replica {replica} lags over {limit}\""), std::string::npos) << actions[0];
  EXPECT_EQ(actions[1], "manual \"Fail over from {replica}\"");
  // And the program round-trips through the .rbc with its text chunks.
  rt::Program back = RoundTrip(p);
  ASSERT_EQ(back.runbooks.size(), 1u);
  ASSERT_FALSE(rt::Verify(back, TestRegistry()));
  EXPECT_NE(back.runbooks[0].steps[0].items[0].chunk, rt::kNoChunk);
  EXPECT_NE(back.runbooks[0].rows[0].actions[0].chunk, rt::kNoChunk);
  EXPECT_EQ(back.Str(back.runbooks[0].rows[0].actions[0].message), "Replica {replica} lags over {limit}");
}

}  // namespace
}  // namespace rb
