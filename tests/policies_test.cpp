// Several policies merged, rows scoped by severity and owner, `down when` and `down`, `page owner`
// and `page ... every time` (issue 11, item 3): compile-level tests, and the .rbc round trip.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "compiler/build.hpp"
#include "runtime/rbc.hpp"
#include "runtime/verifier.hpp"
#include "runtime/vm.hpp"
#include "tests/compile_util.hpp"
#include "tests/fake_host.hpp"
#include "tests/test_util.hpp"

namespace rb::test {
namespace {

const char* kEscalation =
    "policy escalation \"General\" {\n"
    "  contact sre \"SRE Lead\" \"@sre-lead\"\n"
    "  contact ops \"On-call\"  \"@on-call\"\n"
    "  escalate {\n"
    "    | when          | then     |\n"
    "    | down for > 5m | page sre |\n"
    "  }\n"
    "}\n";

struct Files {
  explicit Files(const std::string& name) : dir(name) { std::filesystem::create_directories(dir.path() / "policy"); }
  void Write(const std::string& rel, const std::string& text) { std::ofstream(dir / rel, std::ios::binary) << text; }
  LoadedProgram Load(const std::string& rel) { return LoadAny(dir / rel, TestRegistry()); }
  ScratchDir dir;
};

std::string Runbook(const std::string& imports, const std::string& head, const std::string& rows,
                    const std::string& symptoms = "    ping_error \"Redis does not answer\" : not cache.ping()\n") {
  return "import std.redis\n" + imports + "runbook r \"R\" {\n  severity P2\n" + head +
         "  target cache = redis(\"cache\")\n  symptoms {\n" + symptoms + "  }\n" +
         "  steps {\n    check s \"S\" when ping_error {\n      $ redis-cli ping\n    }\n  }\n"
         "  escalate {\n    | when | then |\n" + rows + "  }\n}\n";
}

std::string Text(const LoadedProgram& l) { return RenderText(l.lint); }

bool IsTrue(const rt::EvalResult& r) { return r.ok && r.value.type == rt::ValueType::kBool && r.value.number != 0; }
bool IsFalse(const rt::EvalResult& r) { return r.ok && r.value.type == rt::ValueType::kBool && r.value.number == 0; }

// A host that answers the scope and `down` as the runner does.
class ScopeHost : public FakeHost {
 public:
  using FakeHost::FakeHost;
  rt::Value severity = rt::Value::Unknown(), owner = rt::Value::Unknown(), down = rt::Value::Bool(false);
  rt::Value Severity() override { return severity; }
  rt::Value Owner() override { return owner; }
  rt::Value Down() override { return down; }
};

TEST(Policies, SeveralPoliciesMergeContactsAndRows) {
  Files f("policies_merge");
  f.Write("policy/escalation.rb.denis", kEscalation);
  f.Write("policy/dba.rb.denis",
          "policy dba \"DBA\" {\n  contact dba \"DBA on call\" \"@dba\"\n  escalate {\n    | when | then |\n"
          "    | ask \"Data lost?\" | page dba |\n  }\n}\n");
  f.Write("r.rb.denis", Runbook("import policy.escalation\nimport policy.dba\n",
                                "  owner dba\n  down when ping_error\n", "    | ping_error | page dba |\n"));
  LoadedProgram l = f.Load("r.rb.denis");
  ASSERT_TRUE(l.program) << l.error << Text(l);
  EXPECT_EQ(Text(l).find("RB0022"), std::string::npos) << Text(l);
  const rt::Program& p = *l.program;
  ASSERT_TRUE(p.policy);
  ASSERT_EQ(p.policy->parts.size(), 2u);
  EXPECT_EQ(p.Str(p.policy->parts[0].name), "escalation");
  EXPECT_EQ(p.Str(p.policy->parts[1].name), "dba");
  EXPECT_EQ(p.contacts.size(), 3u);
  ASSERT_EQ(p.policy->rows.size(), 2u);
  EXPECT_EQ(p.RowSource(p.policy->rows[0]), "policy escalation");
  EXPECT_EQ(p.RowSource(p.policy->rows[1]), "policy dba");
  EXPECT_EQ(p.RowSource(p.runbooks[0].rows[0]), "");
  EXPECT_EQ(p.runbooks[0].policies, (std::vector<uint32_t>{0, 1}));
  EXPECT_TRUE(p.PolicyRowApplies(0, p.policy->rows[1]));
  EXPECT_EQ(p.Str(p.contacts[p.runbooks[0].owner].name), "dba");
}

TEST(Policies, ARowAppliesOnlyToTheRunbooksImportingItsPolicy) {
  Files f("policies_apply");
  f.Write("policy/escalation.rb.denis", kEscalation);
  f.Write("policy/dba.rb.denis",
          "policy dba \"DBA\" {\n  contact dba \"DBA on call\" \"@dba\"\n  escalate {\n    | when | then |\n"
          "    | ask \"Data lost?\" | page dba |\n  }\n}\n");
  f.Write("a.rb.denis", Runbook("import policy.escalation\nimport policy.dba\n", "  owner dba\n", "    | ping_error | page dba |\n"));
  std::string b = Runbook("import policy.escalation\n", "  owner sre\n", "    | ping_error | page sre |\n");
  b.replace(b.find("runbook r "), 10, "runbook b ");
  f.Write("b.rb.denis", b);
  LoadedProgram l = LoadSources({f.dir / "a.rb.denis", f.dir / "b.rb.denis"}, TestRegistry());
  ASSERT_TRUE(l.program) << l.error << Text(l);
  const rt::Program& p = *l.program;
  ASSERT_EQ(p.runbooks.size(), 2u);
  const rt::EscRow* dba_row = nullptr;
  for (const auto& row : p.policy->rows) {
    if (p.RowSource(row) == "policy dba") dba_row = &row;
  }
  ASSERT_TRUE(dba_row);
  uint32_t a = p.Str(p.runbooks[0].name) == "r" ? 0 : 1;
  EXPECT_TRUE(p.PolicyRowApplies(a, *dba_row));
  EXPECT_FALSE(p.PolicyRowApplies(1 - a, *dba_row));
}

TEST(Policies, AContactDeclaredDifferentlyIsAnErrorNamingBothPlaces) {
  Files f("policies_clash");
  f.Write("policy/escalation.rb.denis", kEscalation);
  f.Write("policy/oncall.rb.denis", "policy oncall \"On call\" {\n  contact sre \"Night SRE\" \"@night\"\n}\n");
  f.Write("r.rb.denis", Runbook("import policy.escalation\nimport policy.oncall\n", "  owner sre\n", "    | ping_error | page sre |\n"));
  LoadedProgram l = f.Load("r.rb.denis");
  EXPECT_FALSE(l.program);
  std::string t = Text(l);
  EXPECT_NE(t.find("oncall.rb.denis:2:11: error[RB0022]"), std::string::npos) << t;
  EXPECT_NE(t.find("escalation.rb.denis:2:11"), std::string::npos) << t;
}

TEST(Policies, DuplicatesAreWarnings) {
  Files f("policies_dups");
  f.Write("policy/escalation.rb.denis", kEscalation);
  f.Write("policy/dba.rb.denis",
          "policy dba \"DBA\" {\n  contact sre \"SRE Lead\" \"@sre-lead\"\n  contact dba \"DBA\" \"@dba\"\n"
          "  escalate {\n    | when | then |\n    | down for > 5m | page sre |\n  }\n}\n");
  f.Write("policy/dba2.rb.denis",
          "policy dba2 \"DBA 2\" {\n  contact dba \"DBA\" \"@dba\"\n  escalate {\n    | when | then |\n    | down for > 5m | page dba |\n  }\n}\n");
  f.Write("r.rb.denis", Runbook("import policy.escalation\nimport policy.dba\nimport policy.dba2\n",
                                "  owner sre\n  down when ping_error\n", "    | ping_error | page sre |\n"));
  LoadedProgram l = f.Load("r.rb.denis");
  ASSERT_TRUE(l.program) << l.error << Text(l);
  std::string t = Text(l);
  EXPECT_NE(t.find("dba.rb.denis:2:11: warning[RB0270]"), std::string::npos) << t;
  EXPECT_NE(t.find("dba.rb.denis:6:5: warning[RB0271]"), std::string::npos) << t;
  EXPECT_NE(t.find("dba2.rb.denis:5:5: warning[RB0272]"), std::string::npos) << t;
  EXPECT_EQ(l.program->contacts.size(), 3u);  // sre once
}

TEST(Policies, RowsScopedBySeverityAndOwner) {
  Files f("policies_scope");
  f.Write("policy/escalation.rb.denis", kEscalation);
  f.Write("r.rb.denis", Runbook("import policy.escalation\n", "  owner sre\n",
                                "    | severity in [P1, P2] and owner == sre and ping_error | page ops |\n"
                                "    | severity != P3 | page sre every time |\n"));
  LoadedProgram l = f.Load("r.rb.denis");
  ASSERT_TRUE(l.program) << l.error << Text(l);
  const rt::Program& p = *l.program;
  const rt::EscRow& row = p.runbooks[0].rows[0];
  ASSERT_EQ(row.severities.size(), 2u);
  EXPECT_EQ(p.Str(row.severities[0]), "P1");
  EXPECT_EQ(p.Str(row.severities[1]), "P2");
  ASSERT_EQ(row.owners.size(), 1u);
  EXPECT_EQ(p.Str(row.owners[0]), "sre");
  EXPECT_TRUE(p.runbooks[0].rows[1].actions[0].repeat);
  EXPECT_FALSE(row.actions[0].repeat);

  rt::Vm vm(p);
  ScopeHost host(p);
  host.SetVm(&vm);
  host.probes["redis.ping"] = rt::Value::Bool(false);
  host.owner = rt::Value::String("sre");
  host.severity = rt::Value::String("P2");
  EXPECT_TRUE(IsTrue(vm.Eval(row.chunk, host)));
  host.severity = rt::Value::String("P3");
  EXPECT_TRUE(IsFalse(vm.Eval(row.chunk, host)));
  EXPECT_TRUE(IsFalse(vm.Eval(p.runbooks[0].rows[1].chunk, host)));
  host.severity = rt::Value::String("P1");
  host.owner = rt::Value::String("ops");
  EXPECT_TRUE(IsFalse(vm.Eval(row.chunk, host)));
  host.severity = rt::Value::Unknown();
  host.owner = rt::Value::String("sre");
  EXPECT_TRUE(vm.Eval(row.chunk, host).value.IsUnknown());
}

struct Case {
  const char* head;
  const char* rows;
  const char* symptoms;
  const char* expect;
};

TEST(Policies, ScopeAndDownMistakesAreReported) {
  const char* kSym = "    ping_error \"Redis does not answer\" : not cache.ping()\n";
  const Case cases[] = {
      {"  owner sre\n", "    | severity in [P1, P5] | page sre |\n", kSym, "error[RB0273]: `P5` is not a severity"},
      {"  owner sre\n", "    | severity == p1 | page sre |\n", kSym, "did you mean `P1`?"},
      {"  owner sre\n", "    | owner in [sre, opz] | page sre |\n", kSym, "did you mean `ops`?"},
      {"  owner sre\n", "    | ping_error | page sre |\n",
       "    ping_error \"x\" : not cache.ping() and severity == P1\n", "error[RB0274]"},
      {"  owner sre\n  down when down\n", "    | ping_error | page sre |\n", kSym, "error[RB0274]"},
      {"  owner sre\n", "    | severity > P2 | page sre |\n", kSym, "error[RB0277]"},
      {"  owner sre\n", "    | ping_error in [P1] | page sre |\n", kSym, "error[RB0277]"},
      {"  owner sre\n", "    | severity and ping_error | page sre |\n", kSym, "error[RB0277]"},
      {"  owner sre\n  down when cache.ping() == false\n", "    | ping_error | page sre |\n", kSym,
       "warning[RB0275]"},
      {"  owner sre\n", "    | down for > 5m | page sre |\n", kSym, "warning[RB0278]"},
      {"  owner sre\n  down when ping_error\n  down when ping_error\n", "    | ping_error | page sre |\n", kSym,
       "`down when` is given twice"},
      {"  owner nobody\n", "    | ping_error | page owner |\n", kSym, "error[RB0276]"},
  };
  for (const auto& c : cases) {
    Files f("policies_mistakes");
    f.Write("policy/escalation.rb.denis", kEscalation);
    f.Write("r.rb.denis", Runbook("import policy.escalation\n", c.head, c.rows, c.symptoms));
    LoadedProgram l = f.Load("r.rb.denis");
    EXPECT_NE(Text(l).find(c.expect), std::string::npos) << c.rows << c.head << Text(l);
  }
}

TEST(Policies, DownWhenCompilesToTheRunbooksDownChunk) {
  Files f("policies_down");
  f.Write("policy/escalation.rb.denis", kEscalation);
  f.Write("r.rb.denis", Runbook("import policy.escalation\n", "  owner sre\n  down when ping_error\n",
                                "    | down | page sre |\n"));
  LoadedProgram l = f.Load("r.rb.denis");
  ASSERT_TRUE(l.program) << l.error << Text(l);
  const rt::Program& p = *l.program;
  const rt::Runbook& r = p.runbooks[0];
  ASSERT_NE(r.down, rt::kNoChunk);
  EXPECT_EQ(p.Str(r.down_text), "ping_error");
  rt::Vm vm(p);
  FakeHost host(p);
  host.SetVm(&vm);
  host.probes["redis.ping"] = rt::Value::Bool(false);
  EXPECT_TRUE(IsTrue(vm.Eval(r.down, host)));
  // The policy's `down for > 5m` is a window over DOWN.
  ASSERT_EQ(p.policy->windows.size(), 1u);
  const rt::Chunk& w = p.chunks[p.policy->windows[0].chunk];
  EXPECT_EQ(static_cast<rt::Op>(rt::OpByte(w.code[0])), rt::Op::kDOWN);
  // A runbook declaring none has no chunk (DOWN reads false), and the policy reading `down` is fine.
  Files g("policies_no_down");
  g.Write("policy/escalation.rb.denis", kEscalation);
  g.Write("r.rb.denis", Runbook("import policy.escalation\n", "  owner sre\n", "    | ping_error | page sre |\n"));
  LoadedProgram m = g.Load("r.rb.denis");
  ASSERT_TRUE(m.program) << m.error << Text(m);
  EXPECT_EQ(m.program->runbooks[0].down, rt::kNoChunk);
  EXPECT_EQ(Text(m).find("RB0278"), std::string::npos) << Text(m);
}

TEST(Policies, PageOwnerPagesTheRunbooksOwner) {
  Files f("policies_owner");
  f.Write("policy/escalation.rb.denis",
          "policy escalation \"General\" {\n  contact sre \"SRE\" \"@sre\"\n  contact dba \"DBA\" \"@dba\"\n"
          "  escalate {\n    | when | then |\n    | down for > 5m | page owner every time |\n  }\n}\n");
  f.Write("r.rb.denis", Runbook("import policy.escalation\n", "  owner dba\n  down when ping_error\n",
                                "    | ping_error | page owner \"Redis down\" |\n"));
  LoadedProgram l = f.Load("r.rb.denis");
  ASSERT_TRUE(l.program) << l.error << Text(l);
  const rt::Program& p = *l.program;
  const rt::EscAction& own = p.runbooks[0].rows[0].actions[0];
  EXPECT_EQ(own.value, rt::kOwnerContact);
  EXPECT_EQ(p.Str(p.contacts[p.PageContact(0, own)].name), "dba");
  const rt::EscAction& pol = p.policy->rows[0].actions[0];
  EXPECT_EQ(pol.value, rt::kOwnerContact);
  EXPECT_TRUE(pol.repeat);
  // A runbook whose owner is no contact, importing that policy: RB0276 at its owner.
  f.Write("bad.rb.denis", Runbook("import policy.escalation\n", "  owner nobody\n", "    | ping_error | page sre |\n"));
  LoadedProgram bad = f.Load("bad.rb.denis");
  EXPECT_FALSE(bad.program);
  EXPECT_NE(Text(bad).find("bad.rb.denis:5:9: error[RB0276]"), std::string::npos) << Text(bad);
  EXPECT_NE(Text(bad).find("policy escalation"), std::string::npos) << Text(bad);
  // No contact may be called `owner`.
  f.Write("policy/escalation.rb.denis", "policy escalation \"G\" {\n  contact owner \"O\" \"@o\"\n}\n");
  LoadedProgram reserved = f.Load("r.rb.denis");
  EXPECT_NE(Text(reserved).find("error[RB0279]"), std::string::npos) << Text(reserved);
}

TEST(Policies, RoundTripThroughRbcAndTheVerifierRefusesBadFields) {
  Files f("policies_rbc");
  f.Write("policy/escalation.rb.denis", kEscalation);
  f.Write("policy/dba.rb.denis", "policy dba \"DBA\" {\n  contact dba \"DBA\" \"@dba\"\n}\n");
  f.Write("r.rb.denis", Runbook("import policy.escalation\nimport policy.dba\n", "  owner dba\n  down when ping_error\n",
                                "    | severity in [P1] and owner == dba and ping_error | page owner every time |\n"));
  LoadedProgram l = f.Load("r.rb.denis");
  ASSERT_TRUE(l.program) << l.error << Text(l);
  std::vector<uint8_t> bytes = rt::Serialize(*l.program);
  auto back = rt::LoadProgram(bytes, TestRegistry());
  ASSERT_TRUE(std::holds_alternative<rt::Program>(back)) << std::get<rt::LoadError>(back).message;
  const rt::Program& p = std::get<rt::Program>(back);
  EXPECT_EQ(rt::Serialize(p), bytes);
  EXPECT_EQ(p.policy->parts.size(), 2u);
  EXPECT_EQ(p.runbooks[0].policies.size(), 2u);
  EXPECT_NE(p.runbooks[0].down, rt::kNoChunk);
  const rt::EscRow& row = p.runbooks[0].rows[0];
  EXPECT_EQ(row.severities.size(), 1u);
  EXPECT_EQ(row.owners.size(), 1u);
  EXPECT_EQ(row.actions[0].value, rt::kOwnerContact);
  EXPECT_TRUE(row.actions[0].repeat);
  EXPECT_EQ(p.policy->rows[0].part, 0u);

  auto refused = [&](auto edit, const char* what) {
    rt::Program q = std::get<rt::Program>(rt::LoadProgram(bytes, TestRegistry()));
    edit(q);
    auto err = rt::Verify(q, TestRegistry());
    ASSERT_TRUE(err) << what;
    EXPECT_NE(err->message.find(what), std::string::npos) << err->message;
  };
  refused([](rt::Program& q) { q.policy->rows[0].part = 7; }, "policy row names policy 7");
  refused([](rt::Program& q) { q.runbooks[0].rows[0].part = 0; }, "a runbook's own row names a policy");
  refused([](rt::Program& q) { q.runbooks[0].policies.push_back(9); }, "runbook imports policy 9");
  refused([](rt::Program& q) { q.runbooks[0].rows[0].severities[0] = q.runbooks[0].name; }, "is not a severity");
  refused([](rt::Program& q) { q.runbooks[0].rows[0].owners[0] = q.runbooks[0].name; }, "is not a contact");
  refused([](rt::Program& q) { q.runbooks[0].rows[0].actions[0].value = 0xFFFFFFFE; }, "page names contact");
  refused([](rt::Program& q) { q.runbooks[0].down = 0xFFFFFF; }, "down condition");
  refused(
      [](rt::Program& q) {
        rt::EscAction a;
        a.kind = rt::EscAction::Kind::kManual;
        a.value = q.runbooks[0].name;
        a.repeat = true;
        q.runbooks[0].rows[0].actions.push_back(a);
      },
      "only a page repeats");
}

}  // namespace
}  // namespace rb::test
