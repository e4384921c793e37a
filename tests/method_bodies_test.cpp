// Capability methods written in the language over the native core: typing and effects of bodies,
// the VM running a body when the host has no method-level answer, scenario keys at both levels, and
// the verifier's checks of method chunks, ARG and method effects.
#include <gtest/gtest.h>

#include <algorithm>

#include "runtime/natives.hpp"
#include "runtime/rbc.hpp"
#include "runtime/rehearse.hpp"
#include "runtime/scenario_provider.hpp"
#include "runtime/state_store.hpp"
#include "runtime/verifier.hpp"
#include "tests/compile_util.hpp"

namespace rb::test {
namespace {

// A std.redis variant with one method under test (and the real redis-cli table), linted with a
// runbook calling redis.ping().
std::string RedisModule(const std::string& extra) {
  std::string real = ReadAll(SourceDir() / "stdlib" / "redis.rb.denis");
  return "capability redis \"Redis\" {\n"
         "  read ping() -> bool \"PING\" = redis(\"PING\") == \"PONG\"\n" +
         extra + "}\n" + real.substr(real.find("program redis-cli"));
}

std::string Lint(const std::string& extra) { return RenderText(LintWithStdlibRedis(RedisModule(extra))); }

bool Has(const std::string& text, const std::string& what) { return text.find(what) != std::string::npos; }

TEST(MethodBodies, TheStdlibAsWrittenIsClean) {
  std::string text = Lint("");
  EXPECT_FALSE(Has(text, "error[")) << text;
}

TEST(MethodBodies, ResultTypeIsChecked) {
  std::string text = Lint("  read used() -> size \"Used\" = redis_info(\"used_memory\") |> number()\n");
  EXPECT_TRUE(Has(text, "error[RB0201]: the body of `redis.used` is num, but the method returns size")) << text;
  EXPECT_TRUE(Has(text, "`bytes(...)`")) << text;
  // With the conversion it is clean.
  text = Lint("  read used() -> size \"Used\" = bytes(redis_info(\"used_memory\") |> number())\n");
  EXPECT_FALSE(Has(text, "RB0201")) << text;
}

TEST(MethodBodies, UnknownNativeIsNamedWithTheNearestOne) {
  std::string text = Lint("  read lag() -> num \"Lag\" = promm(\"x\")\n");
  EXPECT_TRUE(Has(text, "error[RB0202]: `promm` is not a native of this host")) << text;
  EXPECT_TRUE(Has(text, "did you mean `prom`?")) << text;
}

TEST(MethodBodies, BodyCannotCallAMethodOrReadOutsideItsFormals) {
  std::string text = Lint("  read again() -> bool \"Again\" = redis.ping()\n");
  EXPECT_TRUE(Has(text, "error[RB0203]: a method body cannot call the method `ping`")) << text;
  text = Lint("  read over(limit: num) -> bool \"Over\" = prom(\"x\") > limt\n");
  EXPECT_TRUE(Has(text, "error[RB0203]: `limt` is not an argument of `over`")) << text;
  EXPECT_TRUE(Has(text, "did you mean `limit`?")) << text;
}

TEST(MethodBodies, MethodWithoutBodyIsAnError) {
  std::string text = Lint("  read lonely() -> num \"Lonely\"\n");
  EXPECT_TRUE(Has(text, "error[RB0200]: method `redis.lonely` has no body")) << text;
}

TEST(MethodBodies, EffectComesFromTheCommandText) {
  // A write command in a read method: refused, naming the native and the rule.
  std::string text = Lint("  read grow() -> lines \"Grow\" = redis(\"CONFIG SET maxmemory 1gb\")\n");
  EXPECT_TRUE(Has(text, "error[RB0204]: method `redis.grow` is declared read, but its body calls `redis`")) << text;
  EXPECT_TRUE(Has(text, "config set")) << text;
  // A read command is a read; a write method may run the write command.
  EXPECT_FALSE(Has(Lint("  read get() -> lines \"Get\" = redis(\"GET x\")\n"), "RB0204"));
  EXPECT_FALSE(Has(Lint("  write grow() -> lines \"Grow\" = redis(\"CONFIG SET maxmemory 1gb\")\n"), "RB0204"));
  // Declared more dangerous than the body: allowed.
  EXPECT_FALSE(Has(Lint("  destructive get() -> lines \"Get\" = redis(\"GET x\")\n"), "error["));
  // A write native in a read method.
  text = Lint("  read mark() -> num \"Mark\" = http_post(\"/m\", \"x\")\n");
  EXPECT_TRUE(Has(text, "error[RB0204]: method `redis.mark` is declared read, but its body calls `http_post`, which is write"))
      << text;
}

TEST(MethodBodies, CommandEffectTreatsBracesAsSlots) {
  const rt::NativeInfo& redis = rt::Natives()[rt::FindNative("redis")];
  const rt::Registry& reg = TestRegistry();
  std::string get = "GET {key}", flush = "FLUSHALL", set = "{cmd} x";
  EXPECT_EQ(rt::NativeCommandEffect(redis, &get, reg).effect, rt::Effect::kRead);
  EXPECT_EQ(rt::NativeCommandEffect(redis, &flush, reg).effect, rt::Effect::kDestructive);
  // A slot where the command goes may be any command: the most dangerous.
  EXPECT_EQ(rt::NativeCommandEffect(redis, &set, reg).effect, rt::Effect::kDestructive);
  // Not a literal: the native's ceiling.
  EXPECT_EQ(rt::NativeCommandEffect(redis, nullptr, reg).effect, rt::Effect::kDestructive);
}

// ---- Running: method level first, else the body over the natives --------------------------------

constexpr const char* kRunbook = R"(import std.redis
import policy.escalation
runbook cache "Cache" {
  severity P2
  owner sre
  target redis = redis("cache")
  symptoms {
    down "Redis down" : not redis.ping()
    full "Memory high" : redis.used_memory() > 1GB
  }
  escalate {
    | when | then |
    | down or full | page sre |
  }
}
)";

rt::Trace Rehearse(const rt::Program& p, const std::string& probes) {
  std::string path = WriteTemp("bodies.scenario.yaml", "runbook: cache\nduration: 1m\nexpect: {pending: {}}\nprobes:\n" + probes);
  rt::Scenario sc;
  std::vector<rt::ConfigError> errors;
  EXPECT_TRUE(rt::LoadScenario(path, p, TestRegistry(), sc, errors)) << (errors.empty() ? "" : errors[0].ToString());
  rt::ScenarioProvider provider(sc);
  rt::MemoryStateStore state;
  return rt::Rehearse(p, TestRegistry(), 0, sc, provider, state);
}

bool Paged(const rt::Trace& t) {
  for (const auto& e : t.events) {
    if (e.kind == rt::TraceEvent::Kind::kPage) return true;
  }
  return false;
}

std::string Unknown(const rt::Trace& t) {
  std::string s;
  for (const auto& u : t.unknown_probes) s += u + "\n";
  return s;
}

TEST(MethodBodies, AMethodLevelAnswerWins) {
  rt::Program p = CompileText("cache.rb.denis", kRunbook);
  // Both levels scripted, disagreeing: the method's answer decides (redis is up, memory low).
  rt::Trace t = Rehearse(p, "  redis.ping(): true\n  redis.redis(\"PING\"): [\"LOADING\"]\n  redis.used_memory(): 10MB\n");
  EXPECT_FALSE(Paged(t)) << Unknown(t);
  EXPECT_TRUE(t.unknown_probes.empty()) << Unknown(t);
}

TEST(MethodBodies, WithoutAMethodKeyTheBodyRunsOverTheNatives) {
  rt::Program p = CompileText("cache.rb.denis", kRunbook);
  // redis.ping() is not scripted: its body asks redis("PING"), which answers LOADING, so it is down.
  rt::Trace t = Rehearse(p, "  redis.redis(\"PING\"): [\"LOADING\"]\n  redis.redis_info(\"used_memory\"): \"1024\"\n");
  EXPECT_TRUE(Paged(t)) << Unknown(t);
  EXPECT_TRUE(t.unknown_probes.empty()) << Unknown(t);
  // Healthy at native level: PONG and 1 KiB used.
  t = Rehearse(p, "  redis.redis(\"PING\"): [\"PONG\"]\n  redis.redis_info(\"used_memory\"): \"1024\"\n");
  EXPECT_FALSE(Paged(t)) << Unknown(t);
  // 2 GiB through bytes(... |> number()): memory high.
  t = Rehearse(p, "  redis.redis(\"PING\"): [\"PONG\"]\n  redis.redis_info(\"used_memory\"): \"2147483648\"\n");
  EXPECT_TRUE(Paged(t)) << Unknown(t);
}

TEST(MethodBodies, AProbeUnknownAtBothLevelsIsListedByItsNativeKey) {
  rt::Program p = CompileText("cache.rb.denis", kRunbook);
  rt::Trace t = Rehearse(p, "  redis.ping(): true\n");
  std::string u = Unknown(t);
  EXPECT_TRUE(Has(u, "redis.redis_info(\"used_memory\"): no data in scenario")) << u;
  EXPECT_FALSE(Has(u, "used_memory()")) << u;
}

TEST(MethodBodies, NativeKeysAreValidatedLikeMethodKeys) {
  rt::Program p = CompileText("cache.rb.denis", kRunbook);
  std::string path = WriteTemp("bad.scenario.yaml", "runbook: cache\nprobes:\n  redis.prom(1): 3\n  redis.nosuch(): 1\n");
  rt::Scenario sc;
  std::vector<rt::ConfigError> errors;
  EXPECT_FALSE(rt::LoadScenario(path, p, TestRegistry(), sc, errors));
  std::string all;
  for (const auto& e : errors) all += e.ToString() + "\n";
  EXPECT_TRUE(Has(all, "argument 1 of prom is text")) << all;
  EXPECT_TRUE(Has(all, "has no method `nosuch`")) << all;
}

// ---- The verifier ---------------------------------------------------------------------------------

uint32_t MethodImport(const rt::Program& p, const std::string& name) {
  for (uint32_t i = 0; i < p.imports.size(); ++i) {
    if (p.Str(p.imports[i].name) == name) return i;
  }
  ADD_FAILURE() << "no import " << name;
  return 0;
}

std::string VerifyError(rt::Program p) {
  auto e = rt::Verify(p, TestRegistry());
  return e ? e->message : std::string();
}

TEST(MethodBodies, TheCompiledBodyIsAMethodChunkWithArity) {
  rt::Program p = CompileText("cache.rb.denis", kRunbook);
  const rt::Import& ping = p.imports[MethodImport(p, "redis.ping")];
  ASSERT_TRUE(ping.IsMethod());
  const rt::Chunk& body = p.chunks[ping.body];
  EXPECT_EQ(body.cls, rt::ChunkClass::kMethod);
  EXPECT_EQ(body.arity, 1u);
  EXPECT_EQ(static_cast<rt::Op>(rt::OpByte(body.code[0])), rt::Op::kARG);
  EXPECT_TRUE(VerifyError(p).empty()) << VerifyError(p);
}

TEST(MethodBodies, VerifierRefusesArgOutOfArity) {
  rt::Program p = CompileText("cache.rb.denis", kRunbook);
  const rt::Import& ping = p.imports[MethodImport(p, "redis.ping")];
  p.chunks[ping.body].code[0] = rt::Encode(rt::Op::kARG, 1);
  EXPECT_TRUE(Has(VerifyError(p), "argument 1 out of range (the method takes 1)")) << VerifyError(p);
}

TEST(MethodBodies, VerifierRefusesArgOutsideAMethodChunk) {
  rt::Program p = CompileText("cache.rb.denis", kRunbook);
  uint32_t chunk = SymptomChunk(p, "down");
  p.chunks[chunk].code.insert(p.chunks[chunk].code.begin(), {rt::Encode(rt::Op::kARG, 0), rt::Encode(rt::Op::kPOP)});
  p.chunks[chunk].lines.insert(p.chunks[chunk].lines.begin(), 2, p.chunks[chunk].lines[0]);
  EXPECT_TRUE(Has(VerifyError(p), "ARG outside a method body")) << VerifyError(p);
}

TEST(MethodBodies, VerifierRefusesAMethodDeclaredBelowItsBody) {
  rt::Program p = CompileText("cache.rb.denis", kRunbook);
  const rt::Import& ping = p.imports[MethodImport(p, "redis.ping")];
  rt::Chunk& body = p.chunks[ping.body];
  // The body's command constant rewritten to FLUSHALL: the body is destructive, the import read.
  for (uint32_t& w : body.code) {
    if (static_cast<rt::Op>(rt::OpByte(w)) != rt::Op::kCONST) continue;
    rt::Constant& k = p.constants[rt::OperandA(w)];
    if (k.type == rt::ValueType::kString && p.Str(k.string) == "PING") {
      p.strings.push_back("FLUSHALL");
      p.constants.push_back(rt::Constant{rt::ValueType::kString, 0, static_cast<uint32_t>(p.strings.size() - 1)});
      w = rt::Encode(rt::Op::kCONST, static_cast<uint32_t>(p.constants.size() - 1));
      break;
    }
  }
  EXPECT_TRUE(Has(VerifyError(p), "method `redis.ping` is declared read but its body is destructive")) << VerifyError(p);
}

TEST(MethodBodies, VerifierRefusesAMethodBodyReadingState) {
  rt::Program p = CompileText("cache.rb.denis", kRunbook);
  const rt::Import& ping = p.imports[MethodImport(p, "redis.ping")];
  rt::Chunk& body = p.chunks[ping.body];
  body.code.insert(body.code.begin(), {rt::Encode(rt::Op::kINCIDENT), rt::Encode(rt::Op::kPOP)});
  body.lines.insert(body.lines.begin(), 2, body.lines[0]);
  EXPECT_TRUE(Has(VerifyError(p), "a method body reads the run's state")) << VerifyError(p);
}

TEST(MethodBodies, RbcRoundTripKeepsBodiesAndArity) {
  rt::Program p = CompileText("cache.rb.denis", kRunbook);
  std::vector<uint8_t> bytes = rt::Serialize(p);
  auto loaded = rt::LoadProgram(bytes, TestRegistry());
  ASSERT_TRUE(std::holds_alternative<rt::Program>(loaded)) << std::get<rt::LoadError>(loaded).message;
  const rt::Program& q = std::get<rt::Program>(loaded);
  const rt::Import& ping = q.imports[MethodImport(q, "redis.ping")];
  ASSERT_TRUE(ping.IsMethod());
  EXPECT_EQ(q.chunks[ping.body].arity, 1u);
  EXPECT_EQ(q.chunks[ping.body].cls, rt::ChunkClass::kMethod);
}

// ---- The filters the bodies use --------------------------------------------------------------------

rt::Value Filter(const std::string& name, std::vector<rt::Value> args, std::string& error) {
  return rt::Natives()[rt::FindNative(name)].filter(args.data(), args.size(), error);
}

TEST(MethodBodies, NumberAndJsonFilters) {
  std::string error;
  rt::Value v = Filter("number", {rt::Value::Lines({"", "  42.5 ", "7"})}, error);
  EXPECT_EQ(v.type, rt::ValueType::kNum);
  EXPECT_EQ(v.number, 42.5);
  v = Filter("number", {rt::Value::String("PONG")}, error);
  EXPECT_TRUE(v.IsUnknown());
  EXPECT_EQ(error, "`PONG` is not a number");
  error.clear();
  rt::Value doc = rt::Value::String(R"({"a": {"b": [{"c": "x"}, {"c": 2}]}})");
  EXPECT_EQ(Filter("json", {doc, rt::Value::String("a.b[0].c")}, error).Text(), "x");
  EXPECT_EQ(Filter("json", {doc, rt::Value::String("a.b[1].c")}, error).Text(), "2");
  EXPECT_TRUE(Filter("json", {doc, rt::Value::String("a.z")}, error).IsUnknown());
  EXPECT_TRUE(error.empty()) << error;
  Filter("json", {rt::Value::String("{nope"), rt::Value::String("a")}, error);
  EXPECT_EQ(error, "the text is not JSON");
  error.clear();
}

}  // namespace
}  // namespace rb::test

namespace rb::test {
namespace {

// A value interpolated into a command native's text is any value at compile time; the bound text
// decides before the probe is sent. A label that turns the stdlib's node_count Cypher into a
// DETACH DELETE is refused (the probe is unknown with the reason), never sent to the provider.
TEST(MethodBodies, ABoundCommandMoreDangerousThanAReadIsRefused) {
  rt::Program p = CompileText("cache.rb.denis", R"(import std.neo4j
import policy.escalation
runbook cache "Graph" {
  severity P2
  owner sre
  target db = neo4j("graph")
  param label = "Person`) DETACH DELETE n //"
  symptoms { many "Many nodes" : db.node_count(label) > 10 }
  escalate {
    | when | then |
    | many | page sre |
  }
}
)");
  rt::Trace t = Rehearse(p, "  db.cypher(\"MATCH (n:`Person`) DETACH DELETE n //`) RETURN count(n)\"): [\"count(n)\", \"99\"]\n");
  EXPECT_FALSE(Paged(t)) << Unknown(t);
  EXPECT_TRUE(Has(Unknown(t), "refused: the bound command is destructive")) << Unknown(t);
}

// A jump landing on the CONCAT of an interpolated command carries other values into it: the
// verifier cannot read the command from the constants before it, so the body counts as destructive.
TEST(MethodBodies, VerifierRefusesAJumpOntoAnInterpolatedCommand) {
  rt::Program p = CompileText("cache.rb.denis", R"(import std.redis
import policy.escalation
runbook cache "Cache" {
  severity P2
  owner sre
  target redis = redis("cache")
  symptoms { busy "INFO answers" : redis.info("memory") |> count() > 0 }
  escalate {
    | when | then |
    | busy | page sre |
  }
}
)");
  EXPECT_EQ(VerifyError(p), "") << VerifyError(p);
  const rt::Import& info = p.imports[MethodImport(p, "redis.info")];
  rt::Chunk& body = p.chunks[info.body];
  uint32_t call = 0;
  for (uint32_t w : body.code) {
    if (static_cast<rt::Op>(rt::OpByte(w)) == rt::Op::kCALL) call = w;
  }
  ASSERT_NE(call, 0u);
  auto str = [&](const std::string& s) {
    p.strings.push_back(s);
    p.constants.push_back(rt::Constant{rt::ValueType::kString, 0, static_cast<uint32_t>(p.strings.size() - 1)});
    return static_cast<uint32_t>(p.constants.size() - 1);
  };
  uint32_t flush = str("FLUSHALL "), info_word = str("INFO "), memory = str("memory");
  body.code = {rt::Encode(rt::Op::kARG, 0), rt::Encode(rt::Op::kCONST, flush), rt::Encode(rt::Op::kFALSE),
               rt::Encode(rt::Op::kJUMP_IF_FALSE, 8), rt::Encode(rt::Op::kPOP), rt::Encode(rt::Op::kPOP),
               rt::Encode(rt::Op::kCONST, info_word), rt::Encode(rt::Op::kCONST, memory),
               rt::Encode(rt::Op::kCONCAT, 2), call, rt::Encode(rt::Op::kRETURN)};
  body.lines.assign(body.code.size(), body.lines.empty() ? 1 : body.lines[0]);
  EXPECT_TRUE(Has(VerifyError(p), "method `redis.info` is declared read but its body is destructive")) << VerifyError(p);
}

}  // namespace
}  // namespace rb::test
