// The effect matcher against hostile spellings: option values that look like sub-commands, attached
// and `=` forms, short-option clusters, abbreviations, options after the sub-command, options the
// stdlib does not declare, slots. Each line is a command as an SRE (or an attacker) could write it
// after `$`, and the effect the stdlib's tables must give it.
#include <gtest/gtest.h>

#include "runtime/registry.hpp"
#include "tests/compile_util.hpp"

namespace rb::test {
namespace {

using rt::Effect;

// Splits like a `$`-line for these tests: blanks separate words, "double quotes" group, `{x}` alone
// is a slot (nullopt).
std::vector<std::optional<std::string>> Words(const std::string& line) {
  std::vector<std::optional<std::string>> out;
  std::string cur;
  bool in_word = false, quoted = false;
  auto flush = [&] {
    if (!in_word) return;
    if (cur.size() > 2 && cur.front() == '{' && cur.back() == '}' && cur.find('}') == cur.size() - 1) {
      out.emplace_back(std::nullopt);  // only a slot
    } else {
      // A slot inside a word is the matcher's slot character, as the compiler passes it.
      std::string w;
      for (size_t i = 0; i < cur.size(); ++i) {
        size_t close = cur[i] == '{' ? cur.find('}', i) : std::string::npos;
        if (close != std::string::npos && close > i + 1 && cur.find(' ', i) > close) {
          w += rt::kSlotChar;
          i = close;
        } else {
          w += cur[i];
        }
      }
      out.emplace_back(w);
    }
    cur.clear();
    in_word = false;
  };
  for (char c : line) {
    if (c == '"') {
      quoted = !quoted;
      in_word = true;
      continue;
    }
    if (c == ' ' && !quoted) {
      flush();
      continue;
    }
    cur += c;
    in_word = true;
  }
  flush();
  return out;
}

struct Case {
  const char* command;
  std::optional<Effect> effect;  // nullopt: no rule and no default covers it (refused)
};

rt::CommandMatch Match(const std::string& command) {
  auto words = Words(command);
  std::string program = *words.front();
  words.erase(words.begin());
  const rt::ProgramDecl* decl = TestRegistry().Program(program);
  EXPECT_NE(decl, nullptr) << program;
  // A wrapper's inner command (`kubectl exec POD -- redis-cli ...`) is judged by the stdlib's tables too.
  rt::ProgramLookup lookup = [](const std::string& name) { return TestRegistry().Program(name); };
  return decl ? rt::MatchCommand(*decl, words, lookup) : rt::CommandMatch{};
}

const Effect R = Effect::kRead, W = Effect::kWrite, D = Effect::kDestructive;

const Case kHostile[] = {
    // redis-cli: options before the command, each with its value.
    {"redis-cli -h ping shutdown", D},             // `ping` is the host
    {"redis-cli del info", D},                     // `info` later never lowers `del`
    {"redis-cli -h host -p 6379 info", R},
    {"redis-cli -n 0 flushdb", D},
    {"redis-cli -n ping flushall", D},
    {"redis-cli --user info config set maxmemory 1gb", W},
    {"redis-cli -u redis://cache ping", R},
    {"redis-cli -u ping shutdown", D},
    {"redis-cli info shutdown", D},
    {"redis-cli PING", R},
    {"redis-cli SHUTDOWN NOSAVE", D},
    {"redis-cli -hcache -p6379 ping", R},
    {"redis-cli -hping shutdown", D},
    {"redis-cli --eval wipe.lua", D},
    {"redis-cli -x set key", W},
    {"redis-cli --raw ping", R},
    {"redis-cli --scan --pattern flushall", R},    // the pattern is a value
    {"redis-cli --bigkeys", R},
    {"redis-cli config get maxmemory", R},
    {"redis-cli config set maxmemory 1gb", W},
    {"redis-cli eval \"return 1\" 0", D},
    {"redis-cli replicaof other 6379", D},
    {"redis-cli --frobnicate info shutdown", D},
    {"redis-cli --frobnicate ping anything", W},   // if --frobnicate takes `ping`, the command is `anything`
    {"redis-cli -c -h ping --cluster call h:1 flushall", D},
    {"redis-cli --cluster fix h:1", D},
    {"redis-cli --cluster=fix h:1", D},
    {"redis-cli unknowncmd", W},
    {"redis-cli {cmd} key", D},                    // a slot in command position may be any command
    // kubectl: flags anywhere, with values.
    {"kubectl rollout -n get restart statefulset/redis", W},
    {"kubectl get pods", R},
    {"kubectl -n delete get pods", R},            // a namespace called delete
    {"kubectl get pods delete", D},               // a positional `delete` anywhere: fail closed
    {"kubectl --namespace=get delete pod x", D},
    {"kubectl --context prod drain node-1", D},
    {"kubectl -nfoo delete pod x", D},
    {"kubectl --insecure-skip-tls-verify delete pod x", D},
    {"kubectl rollout status deployment/x", R},
    {"kubectl rollout undo deployment/x", W},
    {"kubectl rollout --watch=false restart deploy/x", W},
    {"kubectl logs -f pod/x", R},
    {"kubectl exec redis-0 -- redis-cli flushall", D},
    {"kubectl exec redis-0 -- redis-cli ping", R},  // exec wraps: the command inside decides (issue 10)
    {"kubectl exec redis-0 redis-cli ping", D},     // no `--`: the command inside could be anything
    {"kubectl attach redis-0", D},
    {"kubectl debug node/n1 -it --image=busybox", D},
    {"kubectl --kubeconfig /tmp/k get pods", R},
    {"kubectl -v 9 delete pod x", D},
    {"kubectl --as admin scale deploy/x --replicas=0", W},
    {"kubectl DELETE pod x", D},
    {"kubectl cordon node-1", std::nullopt},       // no rule, no default: refused
    {"kubectl --frob get pods", std::nullopt},     // if --frob takes `get`, the sub-command is `pods`
    {"kubectl get --raw /api", R},
    {"kubectl {verb} pod x", D},
    // curl: the method and payload options decide, in any spelling and position.
    {"curl -XDELETE http://api/v1/jobs", D},
    {"curl --request DELETE http://api", D},
    {"curl --request=DELETE http://api", D},
    {"curl -X delete http://api", D},
    {"curl --req DELETE http://api", D},           // an unambiguous abbreviation, as curl accepts
    {"curl -sXDELETE http://api", D},
    {"curl -sSfX DELETE http://api", D},
    {"curl -XPOST http://api", W},
    {"curl -X PURGE http://api", W},               // a method no rule names
    {"curl -X {method} http://api", D},            // a slot may be any method
    {"curl --data-binary @f http://api", W},
    {"curl -d@f http://api", W},
    {"curl --data=x http://api", W},
    {"curl --json {} http://api", W},
    {"curl -F file=@x http://api", W},
    {"curl -T f http://api", W},
    {"curl -H \"X-Trace: 1\" http://api", R},
    {"curl -o /dev/null -w %{http_code} http://api", R},
    {"curl -o /etc/cron.d/x http://api", W},
    {"curl -K more-options.txt http://api", D},
    {"curl http://api -X DELETE", D},
    {"curl -s http://api", R},
    {"curl -I http://api", R},
    {"curl -X GET http://api", R},
    {"curl --url http://api -XDELETE", D},
    {"curl -dx http://api", W},
    // celery: global options before the sub-command.
    {"celery -A inspect control shutdown", D},
    {"celery -A app inspect active", R},
    {"celery --app=inspect purge", D},
    {"celery -Aapp purge -f", D},
    {"celery -b redis://broker inspect stats", R},
    {"celery -A app control rate_limit t 10", W},
    {"celery -A app inspect active purge", D},
    {"celery -A app --frob inspect active", W},    // if --frob takes `inspect`, the sub-command is `active`
    {"celery -A app worker", W},
    {"celery -A app amqp queue.delete q", D},
    {"celery -A app multi kill w1", D},
    // cypher-shell: the query is positional; option values are not.
    {"cypher-shell -u neo4j -p {pass} \"RETURN 1\"", R},
    {"cypher-shell \"MATCH (n) DETACH DELETE n\"", D},
    {"cypher-shell -f script.cypher", W},
    {"cypher-shell --file=script.cypher", W},
    {"cypher-shell -fscript.cypher", W},
    {"cypher-shell -d neo4j \"CREATE (n)\"", W},
    {"cypher-shell --format plain \"match (n) delete n\"", D},
    {"cypher-shell -a bolt://x \"CALL dbms.killQuery('q')\"", D},
    {"cypher-shell -u DELETE \"RETURN 1\"", R},    // DELETE is the user name
    {"cypher-shell --param \"x => 1\" \"MATCH (n) SET n.x = $x\"", W},
    {"cypher-shell --change-password", W},
    // Found in review: unknown letters inside clusters, values the tables missed, other URL schemes,
    // Cypher written to dodge a pattern, modes with no sub-command, slots inside option words.
    {"curl -PH -XDELETE http://api/v1/jobs", D},   // `-P H`: the -XDELETE is an option, not -H's value
    {"curl -tH -XDELETE http://api", D},
    {"curl -PH --data-binary @f http://api/v1/jobs", W},
    {"redis-cli --show-pushes ping hset k f v", W},   // --show-pushes takes `ping`: the command is HSET
    {"curl gopher://redis:6379/_FLUSHALL", D},
    {"curl dict://redis:6379/FLUSHALL", D},
    {"curl --url gopher://redis:6379/_FLUSHALL", D},
    {"curl --trace /tmp/t http://api", W},
    {"curl http://{host}/health", R},
    {"curl -X{m} http://api/v1/jobs", D},
    {"curl --request={m} http://api/v1/jobs", D},
    {"cypher-shell {query}", D},
    {"cypher-shell \"CALL  dbms.killQuery('q-1')\"", D},
    {"cypher-shell \"CALL `dbms`.`killQuery`('q-1')\"", D},
    {"cypher-shell \"CALL /* x */ dbms.killQuery('q-1')\"", D},
    {"cypher-shell \"CALL dbms.killTransaction('tx-1')\"", D},
    {"cypher-shell \"TERMINATE TRANSACTIONS 'tx-1'\"", D},
    {"cypher-shell \"STOP DATABASE neo4j\"", D},
    {"cypher-shell \"GRANT ROLE admin TO bob\"", W},
    {"cypher-shell \"CALL dbms.setConfigValue('a', 'b')\"", W},
    {"cypher-shell \"CALL apoc.schema.assert({}, {})\"", D},
    {"cypher-shell \"CALL db.createLabel('X')\"", W},
    {"redis-cli --bigkeys --rdb /tmp/dump.rdb", W},
    {"redis-cli getdel k", D},
    {"redis-cli module load /tmp/x.so", D},
    {"celery -A app control terminate t1", D},
};

TEST(Effects, HostileSpellingsGetTheirTrueEffect) {
  EXPECT_GE(std::size(kHostile), 50u);
  for (const Case& c : kHostile) {
    rt::CommandMatch m = Match(c.command);
    if (!c.effect) {
      EXPECT_FALSE(m.declared) << c.command << " → " << m.rule;
      continue;
    }
    EXPECT_TRUE(m.declared) << c.command << " → " << m.rule;
    EXPECT_EQ(rt::EffectName(m.effect), std::string(rt::EffectName(*c.effect))) << c.command << " → " << m.rule;
  }
}

// The same command in every spelling the programs accept gets one effect.
TEST(Effects, SpellingsOfOneCommandAgree) {
  const std::vector<std::vector<const char*>> groups = {
      {"curl -X DELETE http://a", "curl -XDELETE http://a", "curl --request DELETE http://a",
       "curl --request=DELETE http://a", "curl -sX DELETE http://a", "curl http://a -X DELETE", "curl --req=DELETE http://a"},
      {"kubectl -n ns rollout restart d/x", "kubectl rollout restart d/x -n ns", "kubectl rollout -n ns restart d/x",
       "kubectl -nns rollout restart d/x", "kubectl --namespace=ns rollout restart d/x", "kubectl rollout restart -n=ns d/x"},
      {"redis-cli -h h -p 1 -n 2 flushdb", "redis-cli -hh -p1 -n2 flushdb", "redis-cli -n 2 -h h flushdb"},
      {"celery -A app purge", "celery --app app purge", "celery --app=app purge", "celery -Aapp purge"},
      {"cypher-shell -f x.cypher", "cypher-shell --file x.cypher", "cypher-shell --file=x.cypher", "cypher-shell -fx.cypher"},
  };
  for (const auto& g : groups) {
    rt::CommandMatch first = Match(g[0]);
    ASSERT_TRUE(first.declared) << g[0];
    for (const char* spelling : g) {
      rt::CommandMatch m = Match(spelling);
      EXPECT_TRUE(m.declared) << spelling;
      EXPECT_EQ(m.effect, first.effect) << spelling << " vs " << g[0] << " (" << m.rule << ")";
    }
  }
}

// The undeclared option's two readings: the message names the option to declare.
TEST(Effects, AnUndeclaredOptionThatCouldTakeTheSubCommandIsNamed) {
  rt::CommandMatch m = Match("kubectl --frob get pods");
  EXPECT_FALSE(m.declared);
  EXPECT_EQ(m.subcommand, "pods");
  EXPECT_EQ(m.guess, "--frob");
}

// Every seed runbook keeps the effect each of its commands had before the tables knew options.
TEST(Effects, SeedRunbooksKeepTheirEffects) {
  const std::map<std::string, Effect> kExpected = {
      {"celery -A {app} inspect active", R}, {"celery -A {app} inspect active_queues", R},
      {"celery -A {app} inspect stats", R}, {"celery -A {app} inspect reserved", R}, {"celery -A {app} purge -f", D},
      {"curl http://localhost:8084/health", R}, {"curl -s http://localhost:8084/metrics", R},
      {"cypher-shell -u neo4j -p {p} \"RETURN 1\"", R},
      {"kubectl get pods -l app=denis -n {ns}", R}, {"kubectl logs -l app=denis -n {ns} --tail=100", R},
      {"kubectl rollout restart deployment/denis -n {ns}", W}, {"kubectl scale deployment/denis-workers --replicas=6 -n {ns}", W},
      {"kubectl get svc -n {ns}", R}, {"redis-cli ping", R}, {"redis-cli info clients", R}, {"redis-cli info memory", R},
      {"kubectl rollout restart statefulset/redis -n {ns}", W},
  };
  for (const auto& [command, effect] : kExpected) {
    rt::CommandMatch m = Match(command);
    EXPECT_TRUE(m.declared) << command;
    EXPECT_EQ(m.effect, effect) << command << " → " << m.rule;
  }
  // And through the compiler and the verifier: every command of every seed runbook in a check or
  // verify step is a read.
  size_t commands = 0;
  for (const char* name : {"redis_down", "workers_hung", "graph_slow", "queue_growing", "mutations_blocked",
                           "telemetry_inconsistent", "chat_timeout", "websocket_disconnects"}) {
    rt::Program p = CompileFile(std::string("runbooks/") + name + ".rb.denis");
    for (const auto& rb : p.runbooks) {
      for (const auto& s : rb.steps) {
        for (const auto& item : s.items) {
          if (item.kind != rt::StepItem::Kind::kCommand) continue;
          ++commands;
          if (s.kind == rt::StepKind::kCheck || s.kind == rt::StepKind::kVerify) {
            EXPECT_EQ(item.command.effect, R) << name << " " << p.strings[item.command.rule];
          }
        }
      }
    }
  }
  EXPECT_GE(commands, 30u);
}

}  // namespace
}  // namespace rb::test
