// Wrappers (issue 10): `kubectl exec POD -- cmd`, `ssh HOST cmd`, `sudo`, `timeout`, `env`. The inner
// command is judged by its own program's table and the more dangerous effect wins; an inner program
// nobody declares, nesting deeper than rt::kMaxWrapDepth and a wrapper inside itself are refused; a
// compiled file carries the inner tables, so the verifier re-derives the wrapped effect.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <vector>
#include <fstream>

#include "compiler/build.hpp"
#include "compiler/codegen.hpp"
#include "runtime/natives.hpp"
#include "runtime/rbc.hpp"
#include "runtime/registry.hpp"
#include "runtime/verifier.hpp"
#include "tests/compile_util.hpp"

namespace rb::test {
namespace {

using rt::Effect;
using Refusal = rt::CommandMatch::Refusal;

// A team's psql table, as a module of a copy of the stdlib (team modules are another part of issue 10).
const char* kPsql =
    "program psql {\n"
    "  options     -c|--command SQL, -A|--no-align, -t|--tuples-only, -h|--host HOST, -p|--port PORT,\n"
    "              -U|--username USER, -d|--dbname DB, -X|--no-psqlrc, -q|--quiet, -f|--file FILE\n"
    "  read        \"-c ~SELECT\", \"-c ~SHOW\"\n"
    "  write       \"-c ~UPDATE\", \"-c ~INSERT\"\n"
    "  destructive \"-c ~DROP\", \"-c ~pg_drop_replication_slot\", \"-c ~TRUNCATE\", -f\n"
    "  default     write\n"
    "}\n";

std::filesystem::path StdlibWithPsql() {
  auto dir = TempDir() / "wrappers" / "stdlib";
  std::filesystem::create_directories(dir);
  for (const auto& e : std::filesystem::directory_iterator(SourceDir() / "stdlib")) {
    std::filesystem::copy_file(e.path(), dir / e.path().filename(), std::filesystem::copy_options::overwrite_existing);
  }
  std::ofstream(dir / "pg.rb.denis", std::ios::binary | std::ios::trunc) << kPsql;
  return dir;
}

const rt::Registry& Reg() {
  static const rt::Registry kReg = StdlibRegistry(StdlibWithPsql().string());
  return kReg;
}

// Blank-separated words; "double quotes" group; `{x}` alone is a slot (nullopt).
std::vector<std::optional<std::string>> Words(const std::string& line) {
  std::vector<std::optional<std::string>> out;
  std::string cur;
  bool in_word = false, quoted = false;
  auto flush = [&] {
    if (!in_word) return;
    if (cur.size() > 2 && cur.front() == '{' && cur.back() == '}') out.emplace_back(std::nullopt);
    else out.emplace_back(cur);
    cur.clear();
    in_word = false;
  };
  for (char c : line) {
    if (c == '"') {
      quoted = !quoted;
      in_word = true;
    } else if (c == ' ' && !quoted) {
      flush();
    } else {
      cur += c;
      in_word = true;
    }
  }
  flush();
  return out;
}

rt::CommandMatch Match(const std::string& command, bool with_lookup = true) {
  auto words = Words(command);
  std::string program = *words.front();
  words.erase(words.begin());
  const rt::ProgramDecl* decl = Reg().Program(program);
  EXPECT_NE(decl, nullptr) << program;
  if (!decl) return {};
  rt::ProgramLookup lookup = [](const std::string& name) { return Reg().Program(name); };
  return rt::MatchCommand(*decl, words, with_lookup ? lookup : rt::ProgramLookup{});
}

const Effect R = Effect::kRead, W = Effect::kWrite, D = Effect::kDestructive;

struct Case {
  const char* command;
  Effect effect;
};

const Case kCases[] = {
    // kubectl exec POD --: exec itself reads; the command after `--` decides.
    {"kubectl exec pg-0 -- psql -Atc \"SELECT 1\"", R},
    {"kubectl exec pg-0 -- psql -Atc \"SELECT pg_drop_replication_slot('r1')\"", D},
    {"kubectl exec pg-0 -- psql -c \"UPDATE t SET x = 1\"", W},
    {"kubectl exec pg-0 -- psql -c \"VACUUM\"", W},  // no value pattern names it: psql's default
    {"kubectl exec -it pg-0 -c postgres -- psql -At -c \"select now()\"", R},
    {"kubectl -n db exec pg-0 -- psql --command=\"DROP TABLE t\"", D},
    {"kubectl exec redis-0 -- redis-cli flushall", D},
    {"kubectl exec redis-0 -- redis-cli -h ping info", R},
    {"kubectl exec pg-0 sh", D},          // no `--`: the command inside could be anything
    {"kubectl exec pg-0", D},
    {"kubectl exec pg-0 --", D},
    {"kubectl exec pg-0 -- {cmd}", D},    // a slot where the program goes
    {"kubectl get exec", R},              // `exec` as a resource name is not the wrapper
    // ssh HOST: options before the host and between it and the command.
    {"ssh db1 kubectl get pods", R},
    {"ssh -p 2222 -i id_ed25519 -o StrictHostKeyChecking=no admin@db1 kubectl delete pod x", D},
    {"ssh db1 -l admin kubectl rollout restart deploy/x", W},
    {"ssh {host} kubectl get pods", R},   // a slot host is just the host
    {"ssh {host} {cmd}", D},
    {"ssh db1", D},                        // an interactive session
    {"ssh -V", R},
    {"ssh -L 5432:localhost:5432 db1 kubectl get pods", W},
    // sudo: the first positional word starts the command.
    {"sudo -u postgres psql -c \"SELECT 1\"", R},
    {"sudo -u postgres -- psql -c \"SELECT 1\"", R},
    {"sudo kubectl delete pod x", D},
    {"sudo -l", R},
    {"sudo -i", D},
    // timeout DURATION
    {"timeout 5 kubectl get pods", R},
    {"timeout -s KILL -k 5s 30s kubectl rollout restart deploy/x", W},
    // env NAME=VALUE...
    {"env PGCONNECT_TIMEOUT=5 PGAPPNAME=runbook psql -c \"SELECT 1\"", R},
    {"env -u HOME -C /tmp kubectl delete pod x", D},
    {"env", R},
    {"env -S \"kubectl delete pod x\"", D},
    // Nesting: each level judged by its own table.
    {"sudo timeout 5 kubectl exec p -- psql -c \"SELECT 1\"", R},
    {"sudo timeout 5 kubectl exec p -- psql -c \"DROP TABLE t\"", D},
    {"ssh bastion ssh db1 sudo -u postgres psql -c \"SHOW lag\"", R},
    {"timeout 1 timeout 2 timeout 3 timeout 4 timeout 5 timeout 6 timeout 7 timeout 8 kubectl get pods", R},
};

TEST(Wrappers, EffectThroughEachWrapper) {
  for (const auto& c : kCases) {
    rt::CommandMatch m = Match(c.command);
    EXPECT_TRUE(m.declared) << c.command << " → " << m.rule;
    EXPECT_EQ(m.effect, c.effect) << c.command << " → " << m.rule;
  }
}

TEST(Wrappers, RuleShowsTheChain) {
  rt::CommandMatch m = Match("sudo timeout 5 kubectl exec p -- psql -c \"DROP TABLE t\"");
  EXPECT_EQ(m.rule, "sudo timeout DURATION kubectl exec POD -- psql -c ~DROP (in its value)");
  EXPECT_EQ(m.programs, (std::vector<std::string>{"sudo", "timeout", "kubectl", "psql"}));
  // The wrapper's own rule wins when it is the more dangerous one.
  rt::CommandMatch fwd = Match("ssh -L 5432:localhost:5432 db1 kubectl get pods");
  EXPECT_EQ(fwd.rule, "ssh -L (wrapping kubectl get)");
  EXPECT_EQ(Match("kubectl exec pg-0 sh").rule.rfind("kubectl exec POD -- (the words do not complete", 0), 0u);
}

TEST(Wrappers, UndeclaredInnerProgramIsRefused) {
  rt::CommandMatch m = Match("kubectl exec pg-0 -- frobctl --all");
  EXPECT_FALSE(m.declared);
  EXPECT_EQ(m.refusal, Refusal::kInnerProgram);
  EXPECT_EQ(m.inner_program, "frobctl");
  EXPECT_EQ(m.program, "kubectl");
  EXPECT_EQ(m.inner_word, 3u);  // exec pg-0 -- frobctl
  rt::CommandMatch deep = Match("sudo timeout 5 frobctl");
  EXPECT_EQ(deep.refusal, Refusal::kInnerProgram);
  EXPECT_EQ(deep.program, "timeout");
  EXPECT_EQ(deep.inner_word, 2u);
  // Without a lookup nothing is declared inside.
  EXPECT_EQ(Match("sudo kubectl get pods", /*with_lookup=*/false).refusal, Refusal::kInnerProgram);
  // An inner sub-command nobody declares names the inner program.
  rt::CommandMatch sub = Match("sudo kubectl frobnicate x");
  EXPECT_EQ(sub.refusal, Refusal::kSubcommand);
  EXPECT_EQ(sub.program, "kubectl");
  EXPECT_EQ(sub.subcommand, "frobnicate");
}

TEST(Wrappers, DepthLimitAndCycles) {
  std::string line;
  for (size_t i = 1; i <= rt::kMaxWrapDepth + 1; ++i) line += "timeout " + std::to_string(i) + " ";
  rt::CommandMatch m = Match(line + "kubectl get pods");
  EXPECT_FALSE(m.declared);
  EXPECT_EQ(m.refusal, Refusal::kTooDeep);
  EXPECT_EQ(m.inner_program, "kubectl");
  rt::CommandMatch cyc = Match("sudo timeout 5 sudo timeout 5 kubectl get pods");
  EXPECT_EQ(cyc.refusal, Refusal::kCycle);
  EXPECT_EQ(cyc.inner_program, "sudo");
  EXPECT_EQ(cyc.inner_word, 2u);  // timeout 5 sudo
  EXPECT_EQ(Match("sudo sudo kubectl get pods").refusal, Refusal::kCycle);
  // The same wrapper with other words is a chain, not a cycle: a jump host.
  EXPECT_TRUE(Match("ssh bastion ssh db1 kubectl get pods").declared);
}

TEST(Wrappers, TildeInsideOptionValues) {
  // `-c ~DROP` reads inside that option's value; a bare `~` pattern still reads positional words only.
  EXPECT_EQ(Match("cypher-shell -d neo4j --format plain \"MATCH (n) DETACH DELETE n\"").effect, D);
  EXPECT_EQ(Match("cypher-shell -u DELETE \"RETURN 1\"").effect, R);
  EXPECT_EQ(Match("psql -Atc \"SELECT 1\"").effect, R);
  EXPECT_EQ(Match("psql -c \"select * from t; drop table t\"").effect, D);  // destructive wins over read
  EXPECT_EQ(Match("psql -c {q}").effect, D);  // a slot value may be anything
}

TEST(Wrappers, CredentialsInsideAWrapperAreFound) {
  auto words = Words("sudo -u neo4j cypher-shell -p hunter2 \"RETURN 1\"");
  words.erase(words.begin());
  rt::ProgramLookup lookup = [](const std::string& name) { return Reg().Program(name); };
  bool found = false;
  for (const rt::OptionUse& u : rt::OptionUses(*Reg().Program("sudo"), words, lookup)) {
    if (u.option && u.option->secret && u.value == "hunter2") found = u.value_word == 4u;
  }
  EXPECT_TRUE(found);
}

// A runbook whose commands go through wrappers, compiled against the stdlib with the psql module.
const char* kRunbook =
    "import std.shell\nimport std.kube\nimport std.pg\nimport std.redis\nimport policy.escalation\n"
    "runbook pg_lag \"Replica lag\" {\n  severity P2\n  owner sre\n  target redis = redis(\"redis\")\n"
    "  symptoms {\n    down \"Down\" : not redis.ping()\n  }\n"
    "  steps {\n"
    "    check lag \"Lag\" {\n      $ kubectl exec pg-0 -- psql -Atc \"SELECT 1\"\n    }\n"
    "    last_resort drop \"Drop the slot\" {\n"
    "      $ sudo timeout 30 kubectl exec pg-0 -- psql -Atc \"SELECT pg_drop_replication_slot('r1')\"\n    }\n"
    "  }\n"
    "  escalate {\n    | when | then |\n    | down | page sre |\n  }\n}\n";

LoadedProgram Build(const std::string& text) {
  auto dir = TempDir() / "wrappers";
  std::filesystem::create_directories(dir / "policy");
  std::filesystem::copy_file(SourceDir() / "tests" / "golden" / "policy" / "escalation.rb.denis",
                             dir / "policy" / "escalation.rb.denis", std::filesystem::copy_options::overwrite_existing);
  std::ofstream(dir / "pg_lag.rb.denis", std::ios::binary | std::ios::trunc) << text;
  return LoadAny((dir / "pg_lag.rb.denis").string(), rt::DefaultRegistry(), StdlibWithPsql().string());
}

const rt::Command* FindCommand(rt::Program& p, const std::string& step) {
  for (auto& rb : p.runbooks) {
    for (auto& s : rb.steps) {
      if (p.Str(s.name) != step) continue;
      for (auto& it : s.items) {
        if (it.kind == rt::StepItem::Kind::kCommand) return &it.command;
      }
    }
  }
  return nullptr;
}

TEST(Wrappers, CompiledFileCarriesInnerTablesAndVerifies) {
  LoadedProgram l = Build(kRunbook);
  ASSERT_TRUE(l.program.has_value()) << l.error << RenderText(l.lint);
  rt::Program& p = *l.program;
  for (const char* name : {"kubectl", "psql", "sudo", "timeout"}) EXPECT_NE(p.ProgramTable(name), nullptr) << name;
  const rt::Command* lag = FindCommand(p, "lag");
  const rt::Command* drop = FindCommand(p, "drop");
  ASSERT_TRUE(lag && drop);
  EXPECT_EQ(lag->effect, R);
  EXPECT_EQ(drop->effect, D);
  EXPECT_EQ(p.Str(drop->rule), "sudo timeout DURATION kubectl exec POD -- psql -c ~pg_drop_replication_slot (in its value)");
  // The verifier re-derives both from the tables the bytes carry (the runtime alone has none).
  std::vector<uint8_t> bytes = rt::Serialize(p);
  auto loaded = rt::LoadProgram(bytes, rt::DefaultRegistry());
  ASSERT_TRUE(std::holds_alternative<rt::Program>(loaded)) << std::get<rt::LoadError>(loaded).message;
  EXPECT_EQ(rt::Serialize(std::get<rt::Program>(loaded)), bytes);
}

TEST(Wrappers, RelabelledWrappedCommandIsRefused) {
  LoadedProgram l = Build(kRunbook);
  ASSERT_TRUE(l.program.has_value()) << l.error << RenderText(l.lint);
  // Hand-edit: the drop recorded as a read.
  rt::Program relabel = *l.program;
  const_cast<rt::Command*>(FindCommand(relabel, "drop"))->effect = R;
  auto r1 = rt::LoadProgram(rt::Serialize(relabel), rt::DefaultRegistry());
  ASSERT_TRUE(std::holds_alternative<rt::LoadError>(r1));
  EXPECT_NE(std::get<rt::LoadError>(r1).message.find("recorded as read but is destructive"), std::string::npos)
      << std::get<rt::LoadError>(r1).message;
  // Hand-edit: psql's table dropped from the file; nobody then knows what psql does.
  rt::Program missing = *l.program;
  missing.programs.erase(std::remove_if(missing.programs.begin(), missing.programs.end(),
                                        [](const rt::ProgramDecl& d) { return d.name == "psql"; }),
                         missing.programs.end());
  auto r2 = rt::LoadProgram(rt::Serialize(missing), rt::DefaultRegistry());
  ASSERT_TRUE(std::holds_alternative<rt::LoadError>(r2));
  EXPECT_NE(std::get<rt::LoadError>(r2).message.find("program `psql` (run by `kubectl`) is not allowed by this host"),
            std::string::npos)
      << std::get<rt::LoadError>(r2).message;
  // Hand-edit: kubectl's wrapper rule removed, so `exec` is only `read exec`: the host's own table
  // (the CLI's, from the stdlib) still decides and refuses the relabel.
  rt::Program unwrapped = *l.program;
  for (auto& d : unwrapped.programs) {
    if (d.name == "kubectl") d.wraps.clear();
  }
  const_cast<rt::Command*>(FindCommand(unwrapped, "drop"))->effect = R;
  auto r3 = rt::LoadProgram(rt::Serialize(unwrapped), Reg());
  EXPECT_TRUE(std::holds_alternative<rt::LoadError>(r3));
}

TEST(Wrappers, CheckerRefusesWrappedDestructiveInACheck) {
  std::string text = kRunbook;
  // The destructive line moved into the check step.
  std::string from = "$ kubectl exec pg-0 -- psql -Atc \"SELECT 1\"";
  text.replace(text.find(from), from.size(), "$ kubectl exec pg-0 -- psql -Atc \"DROP TABLE t\"");
  LoadedProgram l = Build(text);
  EXPECT_FALSE(l.program.has_value());
  EXPECT_NE(RenderText(l.lint).find("psql -c ~DROP"), std::string::npos) << RenderText(l.lint);
}

}  // namespace
}  // namespace rb::test
