// Live reads against a real redis-server on a free loopback port (docs/live.md): answers, AUTH from a
// secret, and every failure an unknown with its reason (refused, stopped, paused), never a guess.
// `runbook triage` end to end. No timing assertions: the ctest TIMEOUT guards against hangs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>

#include "runtime/live.hpp"
#include "tests/compile_util.hpp"
#include "tests/http_fixture.hpp"
#include "tests/live_server.hpp"
#include "tests/process.hpp"

namespace rb::test {
namespace {

rt::Environment EnvFor(int port, std::map<std::string, std::string> fields = {}) {
  rt::Environment env;
  env.path = "test.env.yaml";
  rt::EnvTarget t;
  t.name = "cache";
  t.address = "redis://127.0.0.1:" + std::to_string(port);
  t.fields = std::move(fields);
  env.targets["cache"] = t;
  return env;
}

rt::ProbeCall NativeCall(const std::string& native, const std::string& arg) {
  rt::ProbeCall c;
  c.target = "redis";
  c.binding = "cache";
  c.method = native;
  c.args = {rt::Value::String(arg)};
  return c;
}

TEST(LiveRedis, ANativeCallIsAnsweredByTheServer) {
  RedisServer server;
  ASSERT_TRUE(server.up());
  rt::Environment env = EnvFor(server.port());
  rt::LiveProvider live(env, &TestRegistry());
  rt::ProbeAnswer a = live.Probe(NativeCall("redis", "PING"), 0);
  ASSERT_FALSE(a.value.IsUnknown()) << a.reason;
  EXPECT_EQ(rt::ToString(a.value), "PONG\n");
  rt::ProbeAnswer info = live.Probe(NativeCall("redis_info", "tcp_port"), 0);
  ASSERT_FALSE(info.value.IsUnknown()) << info.reason;
  EXPECT_EQ(info.value.Text(), std::to_string(server.port()));
  // A field INFO does not have is unknown, with the field named.
  rt::ProbeAnswer none = live.Probe(NativeCall("redis_info", "no_such_field"), 0);
  EXPECT_TRUE(none.value.IsUnknown());
  EXPECT_EQ(none.reason, "INFO has no field `no_such_field`");
  // Another field of the same instant comes from the same INFO reply; a new instant asks again.
  size_t before = live.requests();
  rt::ProbeAnswer clients = live.Probe(NativeCall("redis_info", "connected_clients"), 0);
  EXPECT_EQ(clients.value.Text(), "1");
  EXPECT_EQ(live.requests(), before);
  live.Probe(NativeCall("redis_info", "connected_clients"), 1000);
  EXPECT_EQ(live.requests(), before + 1);
  // A capability method is not answered whole: its body runs, over these natives.
  rt::ProbeCall method = NativeCall("redis.ping", "");
  EXPECT_FALSE(live.Probe(method, 0).answered);
}

TEST(LiveRedis, TheSameCallIsAskedOncePerInstant) {
  RedisServer server;
  rt::Environment env = EnvFor(server.port());
  rt::LiveProvider live(env, &TestRegistry());
  std::string why;
  std::optional<rt::LiveTarget> t = rt::LiveTargetOf(env, "cache", why);
  ASSERT_TRUE(t) << why;
  ASSERT_TRUE(rt::RedisCommand(*t, {"SET", "n", "1"}, "").ok);
  rt::ProbeAnswer a = live.Probe(NativeCall("redis", "GET n"), 0);
  // Someone else changes the key: the same instant still reads what it read, the next asks again.
  ASSERT_TRUE(rt::RedisCommand(*t, {"SET", "n", "2"}, "").ok);
  rt::ProbeAnswer b = live.Probe(NativeCall("redis", "GET n"), 0);
  rt::ProbeAnswer c = live.Probe(NativeCall("redis", "GET n"), 1000);
  EXPECT_EQ(rt::ToString(a.value), "1\n");
  EXPECT_EQ(rt::ToString(b.value), "1\n");
  EXPECT_EQ(rt::ToString(c.value), "2\n");
  EXPECT_EQ(live.requests(), 2u);
}

TEST(LiveRedis, AWriteIsRefusedBeforeAnythingIsSent) {
  RedisServer server;
  rt::Environment env = EnvFor(server.port());
  rt::LiveProvider live(env, &TestRegistry());
  for (const char* cmd : {"INCR n", "FLUSHALL", "CONFIG SET maxmemory 1"}) {
    rt::ProbeAnswer a = live.Probe(NativeCall("redis", cmd), 0);
    EXPECT_TRUE(a.value.IsUnknown()) << cmd;
    EXPECT_EQ(a.reason.rfind(std::string("refused: `") + cmd + "` is ", 0), 0u) << a.reason;
    EXPECT_NE(a.reason.find("live reads run only reads"), std::string::npos) << a.reason;
  }
  EXPECT_EQ(live.requests(), 0u);
  // A command that turns the connection into a stream would poison the kept connection: refused.
  rt::ProbeAnswer monitor = live.Probe(NativeCall("redis", "MONITOR"), 0);
  EXPECT_TRUE(monitor.value.IsUnknown());
  EXPECT_NE(monitor.reason.find("streams without end"), std::string::npos) << monitor.reason;
  EXPECT_EQ(live.requests(), 0u);
  std::string why;
  std::optional<rt::LiveTarget> t = rt::LiveTargetOf(env, "cache", why);
  rt::RedisReply r = rt::RedisCommand(*t, {"EXISTS", "n"}, "");
  ASSERT_TRUE(r.ok) << r.reason;
  EXPECT_EQ(r.lines, std::vector<std::string>{"0"});  // INCR never reached the server
}

TEST(LiveRedis, AuthComesFromASecretThatAppearsInNoReason) {
  const std::string canary = "canary-5f3a9d";
  RedisServer server({"--requirepass", canary});
  ASSERT_TRUE(server.up());
  {
    rt::Environment env = EnvFor(server.port());
    rt::LiveProvider live(env, &TestRegistry());
    rt::ProbeAnswer a = live.Probe(NativeCall("redis", "PING"), 0);
    EXPECT_TRUE(a.value.IsUnknown());
    EXPECT_EQ(a.reason.rfind("Redis error: NOAUTH", 0), 0u) << a.reason;
  }
  rt::Environment env = EnvFor(server.port(), {{"auth", "CACHE_PASSWORD"}});
  env.secrets["CACHE_PASSWORD"] = rt::EnvSecret{"CACHE_PASSWORD", "env:RUNBOOK_TEST_CACHE_PASSWORD", {}};
  {
    rt::LiveProvider live(env, &TestRegistry());
    rt::ProbeAnswer a = live.Probe(NativeCall("redis", "PING"), 0);
    EXPECT_TRUE(a.value.IsUnknown());
    EXPECT_EQ(a.reason, "secret `CACHE_PASSWORD`: variable RUNBOOK_TEST_CACHE_PASSWORD is not set");
  }
  setenv("RUNBOOK_TEST_CACHE_PASSWORD", "wrong-password", 1);
  {
    rt::LiveProvider live(env, &TestRegistry());
    rt::ProbeAnswer a = live.Probe(NativeCall("redis", "PING"), 0);
    EXPECT_TRUE(a.value.IsUnknown());
    EXPECT_NE(a.reason.find("on AUTH"), std::string::npos) << a.reason;
    EXPECT_EQ(a.reason.find("wrong-password"), std::string::npos) << a.reason;
  }
  setenv("RUNBOOK_TEST_CACHE_PASSWORD", canary.c_str(), 1);
  rt::LiveProvider live(env, &TestRegistry());
  rt::ProbeAnswer a = live.Probe(NativeCall("redis", "PING"), 0);
  ASSERT_FALSE(a.value.IsUnknown()) << a.reason;
  EXPECT_EQ(rt::ToString(a.value), "PONG\n");
  for (const auto& s : live.seen()) EXPECT_EQ(s.value.find(canary), std::string::npos) << s.value;
  unsetenv("RUNBOOK_TEST_CACHE_PASSWORD");
}

TEST(LiveRedisFaults, AStoppedServerIsUnknownConnectionRefused) {
  RedisServer server;
  int port = server.port();
  server.Stop();
  rt::Environment env = EnvFor(port);
  rt::LiveProvider live(env, &TestRegistry());
  rt::ProbeAnswer a = live.Probe(NativeCall("redis", "PING"), 0);
  EXPECT_TRUE(a.value.IsUnknown());
  EXPECT_EQ(a.reason, "connection refused (127.0.0.1:" + std::to_string(port) + ")");
}

// The connection kept between instants: a server stopped since is "connection refused" at the next
// instant, not an error of the old connection; one that answers is asked on the same connection.
TEST(LiveRedisFaults, AKeptConnectionToAStoppedServerIsRefusedNextInstant) {
  RedisServer server;
  int port = server.port();
  rt::Environment env = EnvFor(port);
  rt::LiveProvider live(env, &TestRegistry());
  ASSERT_EQ(rt::ToString(live.Probe(NativeCall("redis", "PING"), 0).value), "PONG\n");
  ASSERT_EQ(rt::ToString(live.Probe(NativeCall("redis", "PING"), 1000).value), "PONG\n");
  // Two instants, one connection: the others counted are the start-up check's and this INFO's own.
  std::string why;
  rt::RedisReply info = rt::RedisCommand(*rt::LiveTargetOf(env, "cache", why), {"INFO", "stats"}, "");
  ASSERT_TRUE(info.ok) << info.reason;
  EXPECT_NE(std::find(info.lines.begin(), info.lines.end(), "total_connections_received:3"), info.lines.end())
      << ::testing::PrintToString(info.lines);
  server.Stop();
  rt::ProbeAnswer a = live.Probe(NativeCall("redis", "PING"), 2000);
  EXPECT_TRUE(a.value.IsUnknown());
  EXPECT_EQ(a.reason, "connection refused (127.0.0.1:" + std::to_string(port) + ")");
}

TEST(LiveRedisFaults, APausedServerIsUnknownAfterItsTimeout) {
  RedisServer server;
  server.Pause();  // SIGSTOP: the kernel still accepts the connection; nothing answers
  rt::Environment env = EnvFor(server.port(), {{"timeout", "300ms"}});
  rt::LiveProvider live(env, &TestRegistry());
  rt::ProbeAnswer a = live.Probe(NativeCall("redis", "PING"), 0);
  server.Resume();
  EXPECT_TRUE(a.value.IsUnknown());
  EXPECT_EQ(a.reason, "timeout after 300ms (127.0.0.1:" + std::to_string(server.port()) + ")");
}

TEST(LiveRedisFaults, ABadTargetIsUnknownWithTheFix) {
  rt::Environment env = EnvFor(6379, {{"timeout", "soon"}});
  rt::LiveProvider live(env, &TestRegistry());
  rt::ProbeAnswer a = live.Probe(NativeCall("redis", "PING"), 0);
  EXPECT_EQ(a.reason, "target `cache`: timeout: soon is not a duration such as 2s or 500ms");
  rt::ProbeCall other = NativeCall("redis", "PING");
  other.binding = "elsewhere";
  EXPECT_EQ(live.Probe(other, 0).reason, "target `elsewhere` is not in the environment file test.env.yaml");
  EXPECT_EQ(live.Probe(NativeCall("notify", "up"), 0).reason,
            "`notify` is not read live: a write: pages are sent by live runs, not by reads (runbook capabilities lists what is)");
}

// `runbook triage` over a runbook of the test's own, against the server.
class Triage : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TempDir() / "triage";
    std::filesystem::create_directories(dir_ / "policy");
    std::ofstream(dir_ / "policy" / "escalation.rb.denis") << R"(policy escalation "Checklist" {
  contact sre "SRE" "@sre"
  escalate {
    | when          | then     |
    |---------------|----------|
    | down for > 5m | page sre |
  }
}
)";
    std::ofstream(dir_ / "cache.rb.denis") << R"(import std.redis
import policy.escalation

runbook cache "Cache" {
  severity P2
  owner    sre
  target redis = redis("cache")
  symptoms {
    clients "someone is connected"    : redis.connected_clients() > 0
    crowded "over a thousand clients" : redis.connected_clients() > 1000
  }
  steps {
    check state "State" {
      $ redis-cli ping
    }
  }
}
)";
  }
  std::string Env(int port) {
    std::string path = (dir_ / "test.env.yaml").string();
    std::ofstream(path) << "name: test\ntargets:\n  cache: {address: \"redis://127.0.0.1:" << port
                        << "\", timeout: 300ms}\n";
    return path;
  }
  std::filesystem::path dir_;
};

TEST_F(Triage, ASymptomThatHoldsExitsOneAndSaysWhatWasSeen) {
  RedisServer server;
  ProcessResult r = Runbook({"triage", dir_.string(), "--env", Env(server.port())});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("HOLDS   P2 cache \"Cache\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("holds:   clients"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("seen:    redis: redis_info(\"connected_clients\") → 1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1 hold, 0 unknown, 0 clear"), std::string::npos) << r.out;
  ProcessResult j = Runbook({"triage", dir_.string(), "--env", Env(server.port()), "--format", "json"});
  EXPECT_EQ(j.exit_code, 1);
  EXPECT_NE(j.out.find("\"state\": \"holds\""), std::string::npos) << j.out;
  // Both symptoms read connected_clients: the server was asked once.
  size_t calls = 0;
  for (size_t at = j.out.find("\"call\""); at != std::string::npos; at = j.out.find("\"call\"", at + 1)) ++calls;
  EXPECT_EQ(calls, 1u) << j.out;
}

// --watch evaluates every tick; a window counts in the environment's state store across
// evaluations (and across processes: a second watch sees the window already open).
TEST_F(Triage, WatchReEvaluatesAndAWindowCountsInTheStateStore) {
  std::ofstream(dir_ / "down.rb.denis") << R"(import std.redis
import policy.escalation

runbook busy "Busy" {
  severity P1
  owner    sre
  target redis = redis("cache")
  down when clients
  symptoms {
    clients "someone is connected" : redis.connected_clients() > 0
  }
}
)";
  RedisServer server;
  std::string env = Env(server.port());
  std::ofstream(env, std::ios::app) << "state: {store: file, path: " << (dir_ / "state.json").string() << "}\n";
  ProcessResult r = Runbook({"triage", dir_.string(), "--env", env, "--watch", "--tick", "200ms", "--count", "3"});
  std::filesystem::remove(dir_ / "down.rb.denis");
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("evaluation 1 · every 200ms"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("evaluation 3 · every 200ms"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("evaluation 4"), std::string::npos) << r.out;
  // The policy's `down for > 5m` opened at the first evaluation and counts on.
  EXPECT_NE(r.out.find("window:  for > 5m (escalation.rb.denis:6): counting,"), std::string::npos) << r.out;
  std::ifstream state(dir_ / "state.json");
  std::string text((std::istreambuf_iterator<char>(state)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("busy/policy/0"), std::string::npos) << text;
  // JSON while watching: one object per evaluation, one per line.
  ProcessResult j = Runbook({"triage", dir_.string(), "--env", env, "--watch", "--tick", "100ms", "--count", "2",
                             "--format", "json"});
  size_t lines = 0;
  for (char c : j.out) lines += c == '\n';
  EXPECT_EQ(lines, 2u) << j.out;
  EXPECT_EQ(j.out.rfind("{\"environment\":\"test\"", 0), 0u) << j.out;
}

// An HTTP body read by a JSON path (the `json` filter over http.get): a symptom on a status endpoint.
TEST_F(Triage, AJsonPathOverAnHttpBody) {
  HttpFixture api;
  api.Get("/status", [](const httplib::Request&, httplib::Response& r) {
    r.set_content(R"({"queue": {"state": "stalled", "depth": 42}})", "application/json");
  });
  api.Start();
  std::filesystem::create_directories(dir_ / "json");
  std::filesystem::copy(dir_ / "policy", dir_ / "json" / "policy", std::filesystem::copy_options::recursive |
                                                                     std::filesystem::copy_options::overwrite_existing);
  std::ofstream(dir_ / "json" / "status.rb.denis") << R"(import std.http
import policy.escalation

runbook stalled "Stalled queue" {
  severity P2
  owner    sre
  target api = http("status-api")
  symptoms {
    stalled "the queue says it is stalled" : api.get("/status") |> json("queue.state") == "stalled"
  }
}
)";
  std::string env = (dir_ / "json" / "test.env.yaml").string();
  std::ofstream(env) << "name: test\ntargets:\n  status-api: {address: \"" << api.url() << "\"}\n";
  ProcessResult r = Runbook({"triage", (dir_ / "json").string(), "--env", env});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("holds:   stalled"), std::string::npos) << r.out;
}

TEST_F(Triage, ADeadServerIsUnknownWithItsReasonAndExitsZero) {
  RedisServer server;
  int port = server.port();
  server.Stop();
  ProcessResult r = Runbook({"triage", dir_.string(), "--env", Env(port)});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("UNKNOWN P2 cache"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("why:     redis.redis_info(\"connected_clients\"): connection refused (127.0.0.1:" + std::to_string(port) + ")"),
            std::string::npos)
      << r.out;
}

TEST_F(Triage, ARunbookThatDoesNotCompileIsAnInputErrorNotAHold) {
  std::ofstream(dir_ / "broken.rb.denis") << "runbook broken \"Broken\" {\n  severity P9\n}\n";
  ProcessResult r = Runbook({"triage", dir_.string(), "--env", Env(6379)});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.out.find("broken.rb.denis:2:"), std::string::npos) << r.out;
  std::filesystem::remove(dir_ / "broken.rb.denis");
}

TEST_F(Triage, WithoutAnEnvironmentItIsAUsageError) {
  ProcessResult r = Runbook({"triage", dir_.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("name them with --env FILE"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace rb::test
