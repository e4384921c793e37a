// Team modules (compiler/modules.hpp): `import team.pg` resolved beside the file, up the tree, on
// --path, RUNBOOK_PATH and the environment's `modules:`; their capabilities and programs take effect;
// a module extends a stdlib program, lowers an effect only with `lower` (a note in lint and plan); and
// a `.rbc` compiled with a team table loads only on a host that has the module on its search path.
#include <gtest/gtest.h>

#include <fstream>

#include "compiler/lint.hpp"
#include "tests/process.hpp"
#include "tests/test_util.hpp"

namespace rb::test {
namespace {

namespace fs = std::filesystem;

bool Has(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

void Write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

constexpr const char* kPgModule = R"rb(# team.pg: our PostgreSQL replicas
capability pg "PostgreSQL" {
  read replication_lag() -> duration "max(pg_replication_lag_seconds)" = seconds(prom("max(pg_replication_lag_seconds)"))
}

program patronictl {
  options -c|--config-file FILE
  read        list, history, "show-config"
  write       switchover, restart
  destructive reinit, remove
}
)rb";

constexpr const char* kK8sModule = R"rb(# team.k8s: node maintenance
program kubectl {
  write cordon, uncordon
  lower write drain
}
)rb";

constexpr const char* kRunbook = R"rb(import std.kube
import team.pg
import team.k8s
import policy.escalation

runbook pg_lag "Replica lags" {
  severity P2
  owner    sre
  target pg = pg("pg")

  symptoms {
    lagging "Replica lags" : pg.replication_lag() > 30s
  }

  steps {
    check members "List the members" {
      $ patronictl list
    }
    action cordon "Cordon the node" {
      $ kubectl cordon node-1
    }
    action drain "Drain the node" {
      $ kubectl drain node-1 --ignore-daemonsets
    }
  }

  escalate {
    | when    | then     |
    | lagging | page sre |
  }
}
)rb";

constexpr const char* kScenario = R"rb(runbook: pg_lag
description: the replica lags 45s, and is back at 2m
duration: 3m
probes:
  pg.replication_lag():
    - {at: 0s, value: 45s}
    - {at: 2m, value: 1s}
commands:
  patronictl list: {stdout: "| pg-0 | Leader |"}
  kubectl cordon node-1: {stdout: "node/node-1 cordoned"}
  kubectl drain node-1 --ignore-daemonsets: {stdout: "node/node-1 drained"}
expect:
  symptoms: [{at: 0s, hold: [lagging]}, {at: 2m, clear: [lagging]}]
)rb";

// A scratch tree: the policy at the top, the runbook at `runbook_rel`, team modules where each test
// puts them.
struct Tree {
  ScratchDir dir;
  explicit Tree(const std::string& name) : dir(name) {
    // policy.escalation is found up the tree from every runbook below the root.
    Write(Root() / "policy/escalation.rb.denis", ReadAll(SourceDir() / "runbooks/policy/escalation.rb.denis"));
  }
  fs::path Root() const { return dir.path(); }
  std::string Runbook(const std::string& rel, const std::string& text = kRunbook) {
    Write(Root() / rel, text);
    return (Root() / rel).string();
  }
  void Modules(const fs::path& base, const std::string& pg = kPgModule, const std::string& k8s = kK8sModule) {
    Write(base / "team/pg.rb.denis", pg);
    Write(base / "team/k8s.rb.denis", k8s);
  }
};

LintResult LintWith(const std::string& file, std::vector<std::string> search_path = {}) {
  LintOptions o;
  o.paths = {file};
  o.search_path = std::move(search_path);
  return Lint(o);
}

const Diagnostic* Find(const LintResult& r, const std::string& code) {
  for (const auto& d : r.diags.all()) {
    if (Info(d.kind).code == code) return &d;
  }
  return nullptr;
}

// ---- Resolution ---------------------------------------------------------------------------------

TEST(TeamModuleResolution, BesideTheImportingFile) {
  Tree t("team-beside");
  t.Modules(t.Root());
  LintResult r = LintWith(t.Runbook("r.rb.denis"));
  EXPECT_EQ(r.diags.errors(), 0u) << RenderText(r);
  EXPECT_TRUE(r.io_errors.empty());
}

TEST(TeamModuleResolution, UpTheTreeFromANestedRunbook) {
  Tree t("team-up");
  t.Modules(t.Root());
  LintResult r = LintWith(t.Runbook("a/b/c/r.rb.denis"));
  EXPECT_EQ(r.diags.errors(), 0u) << RenderText(r);
}

TEST(TeamModuleResolution, TheNearestDirectoryWins) {
  Tree t("team-nearest");
  // The top-level team.pg lacks the method the runbook calls; the one beside the runbook has it.
  t.Modules(t.Root(), "capability pg \"PostgreSQL\" {\n  read other() -> bool \"x\"\n}\n");
  t.Modules(t.Root() / "a");
  LintResult r = LintWith(t.Runbook("a/r.rb.denis"));
  EXPECT_EQ(r.diags.errors(), 0u) << RenderText(r);
}

TEST(TeamModuleResolution, PathFlagDirectories) {
  Tree t("team-path");
  t.Modules(t.Root() / "mods");
  std::string rb = t.Runbook("r.rb.denis");
  LintResult without = LintWith(rb);
  ASSERT_NE(Find(without, "RB0020"), nullptr) << RenderText(without);
  LintResult with = LintWith(rb, {(t.Root() / "elsewhere").string(), (t.Root() / "mods").string()});
  EXPECT_EQ(with.diags.errors(), 0u) << RenderText(with);
}

TEST(TeamModuleResolution, FirstSearchPathEntryWins) {
  Tree t("team-first");
  t.Modules(t.Root() / "one", "capability pg \"PostgreSQL\" {\n  read other() -> bool \"x\"\n}\n");
  t.Modules(t.Root() / "two");
  std::string rb = t.Runbook("r.rb.denis");
  EXPECT_EQ(LintWith(rb, {(t.Root() / "two").string(), (t.Root() / "one").string()}).diags.errors(), 0u);
  LintResult r = LintWith(rb, {(t.Root() / "one").string(), (t.Root() / "two").string()});
  EXPECT_GT(r.diags.errors(), 0u) << RenderText(r);
  EXPECT_TRUE(Has(RenderText(r), "has no method `replication_lag`")) << RenderText(r);
}

TEST(TeamModuleResolution, MissingModuleListsEveryPlaceLookedAt) {
  Tree t("team-missing");
  std::string rb = t.Runbook("a/r.rb.denis");
  LintResult r = LintWith(rb, {(t.Root() / "mods1").string(), (t.Root() / "mods2").string()});
  const Diagnostic* d = Find(r, "RB0020");
  ASSERT_NE(d, nullptr) << RenderText(r);
  EXPECT_TRUE(Has(d->message, "cannot find module `team.pg`")) << d->message;
  EXPECT_TRUE(Has(d->hint, "looked for team/pg.rb.denis in")) << d->hint;
  EXPECT_TRUE(Has(d->hint, (t.Root() / "a").string())) << d->hint;
  EXPECT_TRUE(Has(d->hint, "each directory above it up to /") || Has(d->hint, t.Root().string())) << d->hint;
  EXPECT_TRUE(Has(d->hint, (t.Root() / "mods1").string() + ", " + (t.Root() / "mods2").string())) << d->hint;
}

TEST(TeamModuleResolution, StdPrefixIsReservedForTheStdlib) {
  Tree t("team-std");
  Write(t.Root() / "std/pg.rb.denis", kPgModule);
  std::string rb = t.Runbook("r.rb.denis", std::string("import std.pg\n") + kRunbook);
  LintResult r = LintWith(rb);
  const Diagnostic* d = Find(r, "RB0020");
  ASSERT_NE(d, nullptr) << RenderText(r);
  EXPECT_TRUE(Has(d->message, "no stdlib module `std.pg`")) << d->message;
}

TEST(TeamModuleResolution, RunbookPathEnvironmentVariable) {
  Tree t("team-runbook-path");
  t.Modules(t.Root() / "mods");
  std::string rb = t.Runbook("r.rb.denis");
  ProcessResult without = Runbook({"lint", rb});
  EXPECT_EQ(without.exit_code, 1) << without.out;
  ProcessResult with = Runbook({"lint", rb}, {"RUNBOOK_PATH=" + (t.Root() / "nothing").string() + ":" + (t.Root() / "mods").string()});
  EXPECT_EQ(with.exit_code, 0) << with.out << with.err;
}

TEST(TeamModuleResolution, EnvironmentModulesKey) {
  Tree t("team-env-key");
  t.Modules(t.Root() / "shared/modules");
  std::string rb = t.Runbook("r.rb.denis");
  Write(t.Root() / "conf/environment.yaml", "name: staging\nmodules: [../shared/modules]\n");
  ProcessResult r = Runbook({"lint", rb, "--env", (t.Root() / "conf/environment.yaml").string()});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  ProcessResult plan = Runbook({"plan", rb, "--env", (t.Root() / "conf/environment.yaml").string(), "--color", "never"});
  EXPECT_EQ(plan.exit_code, 0) << plan.out << plan.err;
  EXPECT_TRUE(Has(plan.out, "$ patronictl list  read (patronictl list)")) << plan.out;
}

TEST(TeamModuleResolution, EnvironmentModulesMustBeDirectories) {
  Tree t("team-env-bad");
  Write(t.Root() / "environment.yaml", "modules: [nowhere, \"\"]\n");
  LintResult r = LintWith((t.Root() / "environment.yaml").string());
  std::string text = RenderText(r);
  EXPECT_TRUE(Has(text, "modules: \"nowhere\" is not a directory")) << text;
  EXPECT_TRUE(Has(text, "empty name")) << text;
  EXPECT_NE(Find(r, "RB0159"), nullptr) << text;
}

// ---- Declarations take effect --------------------------------------------------------------------

TEST(TeamModuleDeclarations, CapabilityAndProgramTypeAndEffect) {
  Tree t("team-decls");
  t.Modules(t.Root());
  // A check step may not run a write: the team table's effect is what the checker uses.
  std::string text = kRunbook;
  text.replace(text.find("$ patronictl list"), 17, "$ patronictl switchover");
  LintResult r = LintWith(t.Runbook("r.rb.denis", text));
  std::string shown = RenderText(r);
  EXPECT_GT(r.diags.errors(), 0u) << shown;
  EXPECT_TRUE(Has(shown, "patronictl switchover")) << shown;
  // The team method's result type: a duration compared with a number is a type error.
  std::string typed = kRunbook;
  typed.replace(typed.find("> 30s"), 5, "> \"x\"");
  LintResult r2 = LintWith(t.Runbook("r.rb.denis", typed));
  EXPECT_GT(r2.diags.errors(), 0u) << RenderText(r2);
}

TEST(TeamModuleDeclarations, RefusedInARunbookFileWithTheFix) {
  Tree t("team-in-runbook");
  std::string text = std::string("program psql {\n  read \"-c\"\n}\n") + kRunbook;
  t.Modules(t.Root());
  LintResult r = LintWith(t.Runbook("pg_lag.rb.denis", text));
  bool found = false;
  for (const auto& d : r.diags.all()) {
    if (Has(d.message, "program `psql` is declared in a runbook file")) {
      found = true;
      EXPECT_EQ(d.hint, "move it to a team module, e.g. team/psql.rb.denis, and `import team.psql`");
    }
  }
  EXPECT_TRUE(found) << RenderText(r);
}

TEST(TeamModuleDeclarations, CapabilityOfTheStdlibCannotBeRedeclared) {
  Tree t("team-cap-clash");
  t.Modules(t.Root(), std::string(kPgModule) + "capability redis \"Ours\" {\n  write ping() -> bool \"p\"\n}\n");
  LintResult r = LintWith(t.Runbook("r.rb.denis"));
  const Diagnostic* d = Find(r, "RB0214");
  ASSERT_NE(d, nullptr) << RenderText(r);
  EXPECT_TRUE(Has(d->message, "stdlib/redis.rb.denis")) << d->message;
}

TEST(TeamModuleDeclarations, ScenarioAnswersATeamMethod) {
  Tree t("team-rehearse");
  t.Modules(t.Root());
  std::string rb = t.Runbook("r.rb.denis");
  Write(t.Root() / "r/lag.scenario.yaml", kScenario);
  ProcessResult r = Runbook({"rehearse", rb, "-s", (t.Root() / "r/lag.scenario.yaml").string(), "--color", "never"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(Has(r.out, "expectations: all met")) << r.out;
  // A wrong answer type for the team method is refused by the scenario loader.
  std::string bad = kScenario;
  bad.replace(bad.find("value: 45s"), 10, "value: true");
  Write(t.Root() / "r/bad.scenario.yaml", bad);
  ProcessResult b = Runbook({"rehearse", rb, "-s", (t.Root() / "r/bad.scenario.yaml").string()});
  EXPECT_NE(b.exit_code, 0) << b.out << b.err;
}

// ---- Program extension and lowering --------------------------------------------------------------

TEST(TeamProgramExtension, AddsSubCommandsAndLowersWithTheKeyword) {
  Tree t("team-extend");
  t.Modules(t.Root());
  std::string rb = t.Runbook("r.rb.denis");
  LintResult r = LintWith(rb);
  EXPECT_EQ(r.diags.errors(), 0u) << RenderText(r);
  const Diagnostic* note = Find(r, "RB0213");
  ASSERT_NE(note, nullptr) << RenderText(r);
  EXPECT_EQ(note->source->path(), (t.Root() / "team/k8s.rb.denis").lexically_proximate(fs::current_path()).string());
  EXPECT_TRUE(Has(note->message, "`kubectl drain` is lowered from destructive to write")) << note->message;
  EXPECT_TRUE(Has(note->hint, "stdlib/kube.rb.denis:49 declares it destructive")) << note->hint;

  ProcessResult plan = Runbook({"plan", rb, "--color", "never"});
  EXPECT_EQ(plan.exit_code, 0) << plan.out << plan.err;
  EXPECT_TRUE(Has(plan.out, "$ kubectl cordon node-1  write (kubectl cordon)")) << plan.out;
  EXPECT_TRUE(Has(plan.out, "write (kubectl drain)")) << plan.out;
  EXPECT_TRUE(Has(plan.out, "note: kubectl drain lowered from destructive to write by ")) << plan.out;
  EXPECT_TRUE(Has(plan.out, "k8s.rb.denis:4 (stdlib/kube.rb.denis:49 declares destructive)")) << plan.out;
}

TEST(TeamProgramExtension, LoweringWithoutTheKeywordNamesBothPlaces) {
  Tree t("team-lower-refused");
  t.Modules(t.Root(), kPgModule, "program kubectl {\n  write cordon, drain\n}\n");
  LintResult r = LintWith(t.Runbook("r.rb.denis"));
  const Diagnostic* d = Find(r, "RB0210");
  ASSERT_NE(d, nullptr) << RenderText(r);
  EXPECT_TRUE(Has(d->message, "`write drain` lowers `kubectl drain`, which stdlib/kube.rb.denis:49 declares destructive"))
      << d->message;
  EXPECT_TRUE(Has(d->hint, "lower write drain")) << d->hint;
  EXPECT_TRUE(Has(d->source->path(), "team/k8s.rb.denis")) << d->source->path();
  // The refused lowering does not take effect: drain stays destructive, refused in an action step.
  EXPECT_TRUE(Has(RenderText(r), "destructive")) << RenderText(r);
}

TEST(TeamProgramExtension, RaisingIsSilent) {
  Tree t("team-raise");
  t.Modules(t.Root(), kPgModule, "program kubectl {\n  write cordon, uncordon\n  destructive scale\n  lower write drain\n}\n");
  std::string text = kRunbook;
  text.replace(text.find("$ kubectl cordon node-1"), 23, "$ kubectl scale sts/pg --replicas=2");
  LintResult r = LintWith(t.Runbook("r.rb.denis", text));
  EXPECT_EQ(Find(r, "RB0210"), nullptr) << RenderText(r);
  EXPECT_TRUE(Has(RenderText(r), "destructive")) << RenderText(r);  // scale in an action step is refused now
  EXPECT_GT(r.diags.errors(), 0u);
}

TEST(TeamProgramExtension, LowerWithNoBaseRuleDuplicateProgramAndOptionClash) {
  Tree t("team-errors");
  t.Modules(t.Root(), std::string(kPgModule) + "program patronictl {\n  read version\n}\n",
            "program kubectl {\n  options -n\n  lower write dran\n  lower destructive delete\n}\n"
            "program brandnew {\n  lower read x\n}\n");
  LintResult r = LintWith(t.Runbook("r.rb.denis"));
  std::string text = RenderText(r);
  const Diagnostic* dup = Find(r, "RB0031");
  ASSERT_NE(dup, nullptr) << text;
  EXPECT_TRUE(Has(dup->message, "program `patronictl` declared twice")) << dup->message;
  const Diagnostic* clash = Find(r, "RB0212");
  ASSERT_NE(clash, nullptr) << text;
  EXPECT_TRUE(Has(clash->message, "option `-n` of `kubectl` takes no value here, but stdlib/kube.rb.denis:29 declares it with a value (NS)"))
      << clash->message;
  size_t nothing = 0;
  for (const auto& d : r.diags.all()) nothing += Info(d.kind).code == std::string("RB0211");
  EXPECT_EQ(nothing, 3u) << text;  // dran (no rule), delete (not lower), brandnew (no earlier declaration)
}

// ---- A .rbc with a team table ---------------------------------------------------------------------

TEST(TeamModuleRbc, LoadsOnlyWithTheModuleOnTheSearchPath) {
  Tree t("team-rbc");
  t.Modules(t.Root() / "mods");
  std::string rb = t.Runbook("src/r.rb.denis");
  std::string rbc = (t.Root() / "r.rbc").string();
  ProcessResult c = Runbook({"compile", rb, "--path", (t.Root() / "mods").string(), "-o", rbc});
  ASSERT_EQ(c.exit_code, 0) << c.out << c.err;

  ProcessResult refused = Runbook({"plan", rbc, "--color", "never"});
  EXPECT_EQ(refused.exit_code, 2) << refused.out;
  EXPECT_TRUE(Has(refused.err, "rejected")) << refused.err;
  EXPECT_TRUE(Has(refused.err, "search path (--path DIR, RUNBOOK_PATH or the environment's modules:)")) << refused.err;

  ProcessResult ok = Runbook({"plan", rbc, "--path", (t.Root() / "mods").string(), "--color", "never"});
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_TRUE(Has(ok.out, "note: kubectl drain lowered from destructive to write")) << ok.out;

  ProcessResult via_env = Runbook({"plan", rbc, "--color", "never"}, {"RUNBOOK_PATH=" + (t.Root() / "mods").string()});
  EXPECT_EQ(via_env.exit_code, 0) << via_env.out << via_env.err;

  // A host whose module no longer lowers drain refuses the file's write drain.
  t.Modules(t.Root() / "other", kPgModule, "program kubectl {\n  write cordon, uncordon\n}\n");
  ProcessResult stricter = Runbook({"plan", rbc, "--path", (t.Root() / "other").string()});
  EXPECT_EQ(stricter.exit_code, 2) << stricter.out;
  EXPECT_TRUE(Has(stricter.err, "is recorded as write but is destructive")) << stricter.err;

  Write(t.Root() / "r/lag.scenario.yaml", kScenario);
  ProcessResult rehearse = Runbook({"rehearse", rbc, "-s", (t.Root() / "r/lag.scenario.yaml").string(), "--path",
                                    (t.Root() / "mods").string()});
  EXPECT_EQ(rehearse.exit_code, 0) << rehearse.out << rehearse.err;
}

}  // namespace
}  // namespace rb::test
