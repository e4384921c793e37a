// The eight seed runbooks triaged live against the example environment's world on loopback
// (tests/live_world.hpp: a real redis-server and Prometheus, HTTP fixtures for the API, Elasticsearch
// and Neo4j), and a canary secret that no verb prints. No timing assertions.
#include <gtest/gtest.h>

#include <sys/prctl.h>

#include <filesystem>
#include <set>
#include <fstream>

#include <nlohmann/json.hpp>

#include "runtime/live.hpp"
#include "tests/live_world.hpp"
#include "tests/process.hpp"
#include "tests/test_util.hpp"

namespace rb::test {
namespace {

nlohmann::json RunbookState(const nlohmann::json& doc, const std::string& name) {
  for (const auto& r : doc["runbooks"]) {
    if (r.value("runbook", "") == name) return r;
  }
  return nlohmann::json::object();
}

TEST(LiveWorldTriage, TheSeedRunbooksAgainstTheWorld) {
  LiveWorld world;
  ASSERT_TRUE(world.Ready()) << "redis-server or prometheus did not come up";
  std::filesystem::create_directories(TempDir());
  std::string env = world.WriteEnv((TempDir() / "world.env.yaml").string());
  ProcessResult r = Runbook({"triage", "runbooks", "--env", env, "--format", "json"});
  ASSERT_LE(r.exit_code, 1) << r.err << r.out;
  nlohmann::json doc = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << r.out;
  ASSERT_EQ(doc["runbooks"].size(), 8u) << r.out;
  // Healthy: Redis answers PING, no ConnectionError in the logs, the API's fallback is off.
  nlohmann::json redis_down = RunbookState(doc, "redis_down");
  EXPECT_EQ(redis_down["state"], "clear") << redis_down.dump(2);
  nlohmann::json workers = RunbookState(doc, "workers_hung");
  EXPECT_NE(workers["clear"].dump().find("queue_len_high"), std::string::npos) << workers.dump(2);  // 3 waiting, from Prometheus
  // Every probe was asked once however many runbooks read it.
  size_t calls = 0;
  std::set<std::string> distinct;
  for (const auto& rb : doc["runbooks"]) {
    for (const auto& s : rb["seen"]) {
      ++calls;
      distinct.insert(s.value("binding", "") + "|" + s.value("call", ""));
    }
  }
  EXPECT_LE(doc.value("requests", 0), static_cast<int>(distinct.size())) << r.out;
  EXPECT_GT(calls, distinct.size()) << "no probe is shared between runbooks?";

  // The logs now show ConnectionErrors: redis_down's conn_error holds; exit 1.
  world.SetLogHits(12);
  ProcessResult held = Runbook({"triage", "runbooks", "--env", env});
  EXPECT_EQ(held.exit_code, 1) << held.out << held.err;
  EXPECT_NE(held.out.find("HOLDS   P2 redis_down"), std::string::npos) << held.out;
  EXPECT_NE(held.out.find("holds:   conn_error"), std::string::npos) << held.out;
  EXPECT_NE(held.out.find("next:    runbook run runbooks/redis_down.rb.denis --env"), std::string::npos) << held.out;

  // Redis stopped: ping_error holds (PING is not PONG... it is unknown: the server is not there to
  // say), and every Redis probe says why; the other runbooks are still read.
  world.redis().Stop();
  ProcessResult down = Runbook({"triage", "runbooks", "--env", env});
  EXPECT_EQ(down.exit_code, 1) << down.out << down.err;
  EXPECT_NE(down.out.find("redis.redis(\"PING\"): connection refused (127.0.0.1:"), std::string::npos) << down.out;
  EXPECT_NE(down.out.find("8 runbooks"), std::string::npos) << down.out;
}

TEST(LiveWorldTriage, ABlackHoledEndpointIsUnknownAndTheRestIsRead) {
  LiveWorld world;
  ASSERT_TRUE(world.Ready());
  BlackHole hole;
  std::filesystem::create_directories(TempDir());
  std::string env = world.WriteEnv((TempDir() / "hole.env.yaml").string(), hole.url(), "1s");
  ProcessResult r = Runbook({"triage", "runbooks", "--env", env});
  EXPECT_LE(r.exit_code, 1) << r.err;
  EXPECT_NE(r.out.find("api.metric(\"rate_limit_fallback\"): timeout after 1s (127.0.0.1:" + std::to_string(hole.port()) + ")"),
            std::string::npos)
      << r.out;
  // Redis and Prometheus were still read.
  EXPECT_NE(r.out.find("seen:    redis: redis(\"PING\") → \"PONG\""), std::string::npos) << r.out;
}

// A canary secret, read by the natives and a command, appears in no output of any verb.
TEST(LiveSecrets, ACanaryAppearsInNoOutputOfAnyVerb) {
  const std::string canary = "canary-93b1e7-never-printed";
  RedisServer server({"--requirepass", canary});
  ASSERT_TRUE(server.up());
  auto dir = TempDir() / "canary";
  std::filesystem::create_directories(dir);
  std::string env = (dir / "canary.env.yaml").string();
  {
    std::ifstream in(SourceDir() / "runbooks" / "environment.example.yaml");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::string from = "redis://127.0.0.1:6379\",";
    for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + 1)) {
      text.replace(at, from.size(), "redis://127.0.0.1:" + std::to_string(server.port()) + "\", auth: REDIS_PASSWORD,");
    }
    text += "\n";
    text.replace(text.find("secrets:\n"), 9, "secrets:\n  REDIS_PASSWORD: {env: RB_CANARY}\n");
    text.replace(text.find("path: .runbook/state.json"), 25, "path: " + (dir / "state.json").string());
    std::ofstream(env) << text;
  }
  std::vector<std::string> penv{"RB_CANARY=" + canary, "NEO4J_PASSWORD=" + canary};
  std::vector<std::vector<std::string>> verbs = {
      {"triage", "runbooks", "--env", env},
      {"triage", "runbooks", "--env", env, "--format", "json"},
      {"run", "runbooks/redis_down.rb.denis", "--env", env, "--dry-run", "--tick", "500ms", "--for", "1s"},
      {"run", "runbooks/redis_down.rb.denis", "--env", env, "--dry-run", "--for", "1s", "--format", "json"},
      {"plan", "runbooks/redis_down.rb.denis", "--env", env},
      {"rehearse", "runbooks/redis_down.rb.denis", "--scenario", "runbooks/redis_down/outage.scenario.yaml", "--env", env},
      {"lint", "--env", env, "runbooks"},
      {"capabilities"},
  };
  for (const auto& v : verbs) {
    ProcessResult r = Runbook(v, penv);
    EXPECT_LE(r.exit_code, 1) << v[0] << ": " << r.err;
    EXPECT_EQ(r.out.find(canary), std::string::npos) << v[0] << " printed the secret:\n" << r.out;
    EXPECT_EQ(r.err.find(canary), std::string::npos) << v[0] << " printed the secret:\n" << r.err;
  }
  // The triage did authenticate with it: PING answered.
  ProcessResult t = Runbook({"triage", "runbooks", "--env", env}, penv);
  EXPECT_NE(t.out.find("redis(\"PING\") → \"PONG\""), std::string::npos) << t.out;
  if (std::filesystem::exists(dir / "state.json")) {
    std::ifstream state(dir / "state.json");
    std::string text((std::istreambuf_iterator<char>(state)), std::istreambuf_iterator<char>());
    EXPECT_EQ(text.find(canary), std::string::npos);
  }
}

TEST(LiveSecrets, HoldingASecretMakesTheProcessNotDumpable) {
  setenv("RB_TEST_DUMPABLE", "x", 1);
  rt::Environment env;
  env.secrets["S"] = rt::EnvSecret{"S", "env:RB_TEST_DUMPABLE", {}};
  std::string why;
  ASSERT_TRUE(rt::ReadSecret(env, "S", why)) << why;
  EXPECT_EQ(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0);
  prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);  // the rest of this test binary may dump again
  unsetenv("RB_TEST_DUMPABLE");
}

}  // namespace
}  // namespace rb::test
