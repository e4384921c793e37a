// Team state in Redis (runtime/redis_team.hpp) against a real redis-server on a free loopback port:
// leases across machines (busy with the holder, token-checked release and renewal, fences, expiry,
// LeaseKeeper), window times shared by two "machines", page claims, incident records, the audit
// stream, and every failure a reason (refused, timeout, wrong type), never a hang or a crash.
// Durations are asserted only against generous bounds (a hang, not a speed).
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/redis_team.hpp"
#include "tests/live_server.hpp"

namespace rb::test {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using LeaseResult = rt::RedisTeam::LeaseResult;

rt::RedisTeamConfig TeamConfig(int port, const std::string& env = "staging") {
  rt::RedisTeamConfig c;
  c.host = "127.0.0.1";
  c.port = port;
  c.env = env;
  c.connect_timeout_ms = 500;
  c.timeout_ms = 500;
  return c;
}

// One command on a fresh connection of its own, to look behind the module's back.
struct RawReply {
  int type = 0;  // REDIS_REPLY_*; 0: no reply
  std::string str;
  long long integer = 0;
};
RawReply Raw(int port, const std::vector<std::string>& argv, const std::string& password = "", int db = 0) {
  RawReply out;
  timeval tv{2, 0};
  redisContext* c = redisConnectWithTimeout("127.0.0.1", port, tv);
  if (c == nullptr || c->err) {
    if (c != nullptr) redisFree(c);
    return out;
  }
  redisSetTimeout(c, tv);
  auto run = [&](const std::vector<std::string>& a) {
    std::vector<const char*> p;
    std::vector<size_t> l;
    for (const auto& s : a) {
      p.push_back(s.data());
      l.push_back(s.size());
    }
    return static_cast<redisReply*>(redisCommandArgv(c, static_cast<int>(a.size()), p.data(), l.data()));
  };
  if (!password.empty()) {
    if (redisReply* r = run({"AUTH", password})) freeReplyObject(r);
  }
  if (db != 0) {
    if (redisReply* r = run({"SELECT", std::to_string(db)})) freeReplyObject(r);
  }
  if (redisReply* r = run(argv)) {
    out.type = r->type;
    if (r->str != nullptr) out.str.assign(r->str, r->len);
    out.integer = r->integer;
    freeReplyObject(r);
  }
  redisFree(c);
  return out;
}

// Polls `done` every 20ms for up to `limit`.
bool WaitFor(const std::function<bool()>& done, milliseconds limit = milliseconds(5000)) {
  auto end = Clock::now() + limit;
  while (Clock::now() < end) {
    if (done()) return true;
    std::this_thread::sleep_for(milliseconds(20));
  }
  return done();
}

int64_t ElapsedMs(Clock::time_point since) {
  return std::chrono::duration_cast<milliseconds>(Clock::now() - since).count();
}

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Acquire with throwaway outputs; the token and fence land in `token` / `fence` when given.
LeaseResult Take(rt::RedisTeam& t, const std::string& name, const std::string& who, int64_t ttl_ms,
                 std::string* token = nullptr, int64_t* fence = nullptr, rt::RedisTeam::LeaseHolder* holder = nullptr,
                 int64_t* holder_ttl = nullptr) {
  std::string tok;
  rt::RedisTeam::LeaseHolder h;
  int64_t f = 0;
  LeaseResult r = t.Acquire(name, who, "run-" + who, "2024-05-01T10:00:00Z", ttl_ms, tok, h, f, holder_ttl);
  if (token != nullptr) *token = tok;
  if (fence != nullptr) *fence = f;
  if (holder != nullptr) *holder = h;
  return r;
}

TEST(RedisTeam, KeysArePrefixedByPrefixAndEnvironment) {
  rt::RedisTeamConfig c = TeamConfig(6379);
  rt::RedisTeam team(c);
  EXPECT_EQ(team.Key("lease", "redis_down"), "runbook:staging:lease:redis_down");
  c.prefix = "rb";
  c.env = "prod";
  rt::RedisTeam other(c);
  EXPECT_EQ(other.Key("window", "r/s"), "rb:prod:window:r/s");
}

TEST(RedisTeam, SecondAcquireIsBusyWithTheHolder) {
  RedisServer redis;
  ASSERT_TRUE(redis.up());
  rt::RedisTeam a(TeamConfig(redis.port())), b(TeamConfig(redis.port()));
  std::string token;
  rt::RedisTeam::LeaseHolder holder;
  int64_t fence = 0;
  ASSERT_EQ(a.Acquire("redis_down", "alice@m1", "run-1", "2024-05-01T10:00:00Z", 10000, token, holder, fence),
            LeaseResult::kHeld)
      << a.last_error();
  EXPECT_EQ(token.size(), 32u);
  EXPECT_EQ(token.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_GT(fence, 0);

  // The value is the documented JSON, with a ttl.
  RawReply v = Raw(redis.port(), {"GET", "runbook:staging:lease:redis_down"});
  ASSERT_EQ(v.type, REDIS_REPLY_STRING);
  nlohmann::json j = nlohmann::json::parse(v.str);
  EXPECT_EQ(j["token"], token);
  EXPECT_EQ(j["who"], "alice@m1");
  EXPECT_EQ(j["run"], "run-1");
  EXPECT_EQ(j["since"], "2024-05-01T10:00:00Z");
  EXPECT_EQ(j["fence"], fence);
  RawReply ttl = Raw(redis.port(), {"PTTL", "runbook:staging:lease:redis_down"});
  EXPECT_GT(ttl.integer, 0);
  EXPECT_LE(ttl.integer, 10000);
  EXPECT_EQ(Raw(redis.port(), {"GET", "runbook:staging:fence:redis_down"}).str, std::to_string(fence));

  std::string token2 = "x";
  rt::RedisTeam::LeaseHolder seen;
  int64_t fence2 = 7, holder_ttl = 0;
  EXPECT_EQ(b.Acquire("redis_down", "bob@m2", "run-2", "2024-05-01T10:01:00Z", 10000, token2, seen, fence2, &holder_ttl),
            LeaseResult::kBusy);
  EXPECT_EQ(seen.who, "alice@m1");
  EXPECT_EQ(seen.run, "run-1");
  EXPECT_EQ(seen.since, "2024-05-01T10:00:00Z");
  EXPECT_EQ(seen.fence, fence);
  EXPECT_GT(holder_ttl, 0);
  EXPECT_LE(holder_ttl, 10000);
  EXPECT_EQ(fence2, 0);
  EXPECT_NE(token2, token);
  EXPECT_EQ(b.last_error(), "");
  // The holder too is busy with itself: a lease is not re-entrant.
  EXPECT_EQ(Take(a, "redis_down", "alice@m1", 10000), LeaseResult::kBusy);
  // Another name is another lease.
  EXPECT_EQ(Take(b, "other", "bob@m2", 10000), LeaseResult::kHeld);
}

TEST(RedisTeam, ReleaseByAWrongTokenFailsAndTheLeaseStays) {
  RedisServer redis;
  ASSERT_TRUE(redis.up());
  rt::RedisTeam a(TeamConfig(redis.port())), b(TeamConfig(redis.port()));
  std::string token;
  ASSERT_EQ(Take(a, "deploy", "alice", 10000, &token), LeaseResult::kHeld) << a.last_error();

  EXPECT_FALSE(b.Release("deploy", "0123456789abcdef0123456789abcdef"));
  EXPECT_TRUE(Contains(b.last_error(), "not ours")) << b.last_error();
  EXPECT_FALSE(b.Release("deploy", ""));
  EXPECT_FALSE(b.Renew("deploy", "0123456789abcdef0123456789abcdef", 10000));
  rt::RedisTeam::LeaseHolder h;
  EXPECT_EQ(Take(b, "deploy", "bob", 10000, nullptr, nullptr, &h), LeaseResult::kBusy);
  EXPECT_EQ(h.who, "alice");

  EXPECT_TRUE(a.Release("deploy", token)) << a.last_error();
  EXPECT_EQ(a.last_error(), "");
  EXPECT_EQ(Raw(redis.port(), {"EXISTS", "runbook:staging:lease:deploy"}).integer, 0);
  EXPECT_FALSE(a.Release("deploy", token));  // released already
  EXPECT_FALSE(a.Renew("deploy", token, 10000));
  EXPECT_EQ(Take(b, "deploy", "bob", 10000), LeaseResult::kHeld);
}

TEST(RedisTeam, FencesStrictlyIncreaseAcrossHolders) {
  RedisServer redis;
  ASSERT_TRUE(redis.up());
  rt::RedisTeam a(TeamConfig(redis.port())), b(TeamConfig(redis.port()));
  int64_t last = 0;
  for (int i = 0; i < 6; ++i) {
    rt::RedisTeam& who = i % 2 ? b : a;
    rt::RedisTeam& other = i % 2 ? a : b;
    std::string token;
    int64_t fence = 0;
    ASSERT_EQ(Take(who, "migrate", i % 2 ? "bob" : "alice", 10000, &token, &fence), LeaseResult::kHeld) << who.last_error();
    EXPECT_GT(fence, last);
    last = fence;
    // A busy attempt takes no fence.
    rt::RedisTeam::LeaseHolder h;
    EXPECT_EQ(Take(other, "migrate", "someone", 10000, nullptr, nullptr, &h), LeaseResult::kBusy);
    EXPECT_EQ(h.fence, fence);
    ASSERT_TRUE(who.Release("migrate", token)) << who.last_error();
  }
  EXPECT_EQ(Raw(redis.port(), {"GET", "runbook:staging:fence:migrate"}).str, std::to_string(last));
}

TEST(RedisTeam, AHolderThatStopsRenewingLosesTheLease) {
  RedisServer redis;
  ASSERT_TRUE(redis.up());
  rt::RedisTeam a(TeamConfig(redis.port())), b(TeamConfig(redis.port()));
  std::string old_token;
  int64_t old_fence = 0;
  ASSERT_EQ(Take(a, "failover", "alice", 300, &old_token, &old_fence), LeaseResult::kHeld) << a.last_error();
  EXPECT_EQ(Take(b, "failover", "bob", 300), LeaseResult::kBusy);

  std::string new_token;
  int64_t new_fence = 0;
  EXPECT_TRUE(WaitFor([&] { return Take(b, "failover", "bob", 10000, &new_token, &new_fence) == LeaseResult::kHeld; }));
  EXPECT_GT(new_fence, old_fence);
  // The old holder can neither renew nor release what is now another's.
  EXPECT_FALSE(a.Renew("failover", old_token, 300));
  EXPECT_TRUE(Contains(a.last_error(), "no longer ours")) << a.last_error();
  EXPECT_FALSE(a.Release("failover", old_token));
  rt::RedisTeam::LeaseHolder h;
  EXPECT_EQ(Take(a, "failover", "alice", 300, nullptr, nullptr, &h), LeaseResult::kBusy);
  EXPECT_EQ(h.who, "bob");
  EXPECT_TRUE(b.Renew("failover", new_token, 10000)) << b.last_error();
}

TEST(RedisTeam, AcquireRefusesANonPositiveTtl) {
  RedisServer redis;
  ASSERT_TRUE(redis.up());
  rt::RedisTeam a(TeamConfig(redis.port()));
  EXPECT_EQ(Take(a, "x", "alice", 0), LeaseResult::kError);
  EXPECT_TRUE(Contains(a.last_error(), "ttl")) << a.last_error();
  EXPECT_EQ(Raw(redis.port(), {"EXISTS", "runbook:staging:lease:x"}).integer, 0);
}

TEST(LeaseKeeper, KeepsALeaseAliveAndReleasesItOnDestruction) {
  RedisServer redis;
  ASSERT_TRUE(redis.up());
  rt::RedisTeam a(TeamConfig(redis.port())), b(TeamConfig(redis.port()));
  std::string token;
  ASSERT_EQ(Take(a, "restart", "alice", 300, &token), LeaseResult::kHeld) << a.last_error();
  {
    rt::LeaseKeeper keeper(a, "restart", token, 300);
    auto start = Clock::now();
    int busy = 0, other = 0;
    while (ElapsedMs(start) < 1500) {
      (Take(b, "restart", "bob", 300) == LeaseResult::kBusy ? busy : other)++;
      std::this_thread::sleep_for(milliseconds(50));
    }
    EXPECT_GT(busy, 0);
    EXPECT_EQ(other, 0) << "the lease lapsed while its keeper was renewing it";
    EXPECT_FALSE(keeper.lost()) << keeper.why();
    EXPECT_EQ(keeper.why(), "");
  }
  // Released by the destructor: free at once, not after its ttl.
  EXPECT_EQ(Raw(redis.port(), {"EXISTS", "runbook:staging:lease:restart"}).integer, 0);
  EXPECT_EQ(Take(b, "restart", "bob", 10000), LeaseResult::kHeld);
}

TEST(LeaseKeeper, NoticesALeaseTakenBehindItsBackAndLeavesTheNewHolderAlone) {
  RedisServer redis;
  ASSERT_TRUE(redis.up());
  rt::RedisTeam a(TeamConfig(redis.port())), b(TeamConfig(redis.port()));
  std::string token;
  ASSERT_EQ(Take(a, "scale", "alice", 300, &token), LeaseResult::kHeld) << a.last_error();
  {
    rt::LeaseKeeper keeper(a, "scale", token, 300);
    // Someone deletes it (an operator, an eviction) and another takes it.
    Raw(redis.port(), {"DEL", "runbook:staging:lease:scale"});
    ASSERT_EQ(Take(b, "scale", "bob", 10000), LeaseResult::kHeld) << b.last_error();
    EXPECT_TRUE(WaitFor([&] { return keeper.lost(); }));
    EXPECT_TRUE(Contains(keeper.why(), "no longer ours")) << keeper.why();
  }
  rt::RedisTeam::LeaseHolder h;
  EXPECT_EQ(Take(a, "scale", "alice", 300, nullptr, nullptr, &h), LeaseResult::kBusy);
  EXPECT_EQ(h.who, "bob");
}

TEST(LeaseKeeper, LosesTheLeaseWhenRedisStopsAnswering) {
  RedisServer redis;
  ASSERT_TRUE(redis.up());
  rt::RedisTeamConfig c = TeamConfig(redis.port());
  c.timeout_ms = c.connect_timeout_ms = 200;
  rt::RedisTeam a(c);
  std::string token;
  ASSERT_EQ(Take(a, "drain", "alice", 600, &token), LeaseResult::kHeld) << a.last_error();
  rt::LeaseKeeper keeper(a, "drain", token, 600);
  redis.Pause();
  EXPECT_TRUE(WaitFor([&] { return keeper.lost(); }));
  EXPECT_TRUE(Contains(keeper.why(), "timeout")) << keeper.why();
  redis.Resume();
}

TEST(LeaseKeeper, DestructionIsPromptWithALongTtl) {
  RedisServer redis;
  ASSERT_TRUE(redis.up());
  rt::RedisTeam a(TeamConfig(redis.port()));
  std::string token;
  ASSERT_EQ(Take(a, "long", "alice", 600000, &token), LeaseResult::kHeld) << a.last_error();
  auto start = Clock::now();
  { rt::LeaseKeeper keeper(a, "long", token, 600000); }
  EXPECT_LT(ElapsedMs(start), 5000);  // not the 200s renewal interval
  EXPECT_EQ(Raw(redis.port(), {"EXISTS", "runbook:staging:lease:long"}).integer, 0);
}

TEST(RedisTeam, WindowTimesRoundTripAndAreSharedBetweenMachines) {
  RedisServer redis;
  ASSERT_TRUE(redis.up());
  rt::RedisTeam m1(TeamConfig(redis.port())), m2(TeamConfig(redis.port()));
  bool failed = true;
  EXPECT_EQ(m1.GetTime("redis_down/latency", failed), std::nullopt);
  EXPECT_FALSE(failed);

  ASSERT_TRUE(m1.SetTime("redis_down/latency", 1714557600123)) << m1.last_error();
  EXPECT_EQ(Raw(redis.port(), {"GET", "runbook:staging:window:redis_down/latency"}).str, "1714557600123");
  EXPECT_EQ(Raw(redis.port(), {"TTL", "runbook:staging:window:redis_down/latency"}).integer, -1);  // no expiry
  EXPECT_EQ(m2.GetTime("redis_down/latency", failed), 1714557600123);
  EXPECT_FALSE(failed);
  ASSERT_TRUE(m2.SetTime("redis_down/latency", -5));
  EXPECT_EQ(m1.GetTime("redis_down/latency", failed), -5);

  // Binary-safe keys.
  const std::string odd("a b\n\0c\"", 7);
  ASSERT_TRUE(m1.SetTime(odd, 42));
  EXPECT_EQ(m2.GetTime(odd, failed), 42);
  EXPECT_EQ(m2.GetTime("a b\n", failed), std::nullopt);

  ASSERT_TRUE(m2.EraseTime("redis_down/latency")) << m2.last_error();
  EXPECT_EQ(m1.GetTime("redis_down/latency", failed), std::nullopt);
  EXPECT_FALSE(failed);
  EXPECT_TRUE(m1.EraseTime("never-set"));

  // Another environment is another namespace.
  rt::RedisTeam prod(TeamConfig(redis.port(), "production"));
  EXPECT_EQ(prod.GetTime(odd, failed), std::nullopt);
  EXPECT_FALSE(failed);

  // Through the StateStore interface.
  rt::RedisStateStore s1(m1), s2(m2);
  rt::StateStore& store = s1;
  store.Set("w", 99);
  EXPECT_EQ(s2.Get("w"), 99);
  EXPECT_EQ(s1.Unavailable(), std::nullopt);
  s2.Erase("w");
  EXPECT_EQ(store.Get("w"), std::nullopt);
  EXPECT_EQ(s1.Unavailable(), std::nullopt);
}

TEST(RedisTeam, ClaimPageFirstThenTakenWithWhoPaged) {
  RedisServer redis;
  ASSERT_TRUE(redis.up());
  rt::RedisTeam m1(TeamConfig(redis.port())), m2(TeamConfig(redis.port()));
  std::string by;
  EXPECT_EQ(m1.ClaimPage("redis_down:sre:P1", "alice@m1 run-1", 3600, by), rt::RedisTeam::Claim::kFirst)
      << m1.last_error();
  EXPECT_EQ(by, "alice@m1 run-1");
  RawReply ttl = Raw(redis.port(), {"TTL", "runbook:staging:paged:redis_down:sre:P1"});
  EXPECT_GT(ttl.integer, 0);
  EXPECT_LE(ttl.integer, 3600);

  by.clear();
  EXPECT_EQ(m2.ClaimPage("redis_down:sre:P1", "bob@m2 run-2", 3600, by), rt::RedisTeam::Claim::kTaken);
  EXPECT_EQ(by, "alice@m1 run-1");
  EXPECT_EQ(m1.ClaimPage("redis_down:sre:P1", "alice@m1 run-3", 3600, by), rt::RedisTeam::Claim::kTaken);
  EXPECT_EQ(by, "alice@m1 run-1");
  EXPECT_EQ(m2.ClaimPage("redis_down:sre:P2", "bob@m2 run-2", 3600, by), rt::RedisTeam::Claim::kFirst);

  // No ttl: kept until deleted.
  EXPECT_EQ(m2.ClaimPage("forever", "bob", 0, by), rt::RedisTeam::Claim::kFirst);
  EXPECT_EQ(Raw(redis.port(), {"TTL", "runbook:staging:paged:forever"}).integer, -1);
}

TEST(RedisTeam, PutIncidentStoresTheRecordInTheEnvironmentsHash) {
  RedisServer redis;
  ASSERT_TRUE(redis.up());
  rt::RedisTeam team(TeamConfig(redis.port()));
  ASSERT_TRUE(team.PutIncident("INC-1", R"({"state":"open"})")) << team.last_error();
  ASSERT_TRUE(team.PutIncident("INC-2", R"({"state":"open"})"));
  ASSERT_TRUE(team.PutIncident("INC-1", R"({"state":"resolved"})"));
  EXPECT_EQ(Raw(redis.port(), {"HGET", "runbook:staging:incidents", "INC-1"}).str, R"({"state":"resolved"})");
  EXPECT_EQ(Raw(redis.port(), {"HLEN", "runbook:staging:incidents"}).integer, 2);
}

TEST(RedisTeam, AuditStreamRoundTripsManyRecordsInOrder) {
  RedisServer redis;
  ASSERT_TRUE(redis.up());
  rt::RedisTeam writer(TeamConfig(redis.port())), reader(TeamConfig(redis.port()));
  std::vector<std::string> empty{"stale"};
  ASSERT_TRUE(reader.ReadStream("audit", empty)) << reader.last_error();
  EXPECT_TRUE(empty.empty());

  std::vector<std::string> written;
  std::string last_id;
  for (int i = 0; i < 2500; ++i) {
    nlohmann::json rec = {{"seq", i}, {"step", "restart"}, {"text", "line\n\"quoted\" " + std::to_string(i * 7)}};
    written.push_back(rec.dump());
    std::string id = writer.AppendStream("audit", written.back());
    ASSERT_FALSE(id.empty()) << writer.last_error();
    EXPECT_NE(id, last_id);
    last_id = id;
  }
  EXPECT_EQ(Raw(redis.port(), {"XLEN", "runbook:staging:stream:audit"}).integer, 2500);
  std::vector<std::string> read;
  ASSERT_TRUE(reader.ReadStream("audit", read)) << reader.last_error();
  ASSERT_EQ(read.size(), written.size());
  EXPECT_EQ(read, written);

  // Exactly a page's worth reads the same way.
  for (int i = 0; i < 1000; ++i) ASSERT_FALSE(writer.AppendStream("page", std::to_string(i)).empty());
  ASSERT_TRUE(reader.ReadStream("page", read));
  ASSERT_EQ(read.size(), 1000u);
  EXPECT_EQ(read.front(), "0");
  EXPECT_EQ(read.back(), "999");
}

TEST(RedisTeam, StoppedServerIsRefused) {
  RedisServer redis;
  ASSERT_TRUE(redis.up());
  rt::RedisTeam team(TeamConfig(redis.port()));
  rt::RedisStateStore store(team);
  ASSERT_TRUE(team.SetTime("w", 1)) << team.last_error();  // a kept connection
  EXPECT_EQ(store.Get("w"), 1);
  redis.Stop();

  bool failed = false;
  auto start = Clock::now();
  EXPECT_EQ(team.GetTime("w", failed), std::nullopt);
  EXPECT_TRUE(failed);
  EXPECT_TRUE(Contains(team.last_error(), "refused")) << team.last_error();
  EXPECT_TRUE(Contains(team.last_error(), "127.0.0.1:" + std::to_string(redis.port()))) << team.last_error();

  EXPECT_EQ(store.Get("w"), std::nullopt);
  ASSERT_TRUE(store.Unavailable().has_value());
  EXPECT_TRUE(Contains(*store.Unavailable(), "refused")) << *store.Unavailable();
  store.Set("w", 2);
  EXPECT_TRUE(store.Unavailable().has_value());

  // Every call fails with a reason, none hangs.
  std::string token, by;
  rt::RedisTeam::LeaseHolder h;
  int64_t fence = 0;
  EXPECT_EQ(team.Acquire("l", "a", "r", "s", 1000, token, h, fence), LeaseResult::kError);
  EXPECT_TRUE(Contains(team.last_error(), "refused")) << team.last_error();
  EXPECT_FALSE(team.Renew("l", token, 1000));
  EXPECT_FALSE(team.Release("l", token));
  EXPECT_FALSE(team.SetTime("w", 3));
  EXPECT_FALSE(team.EraseTime("w"));
  EXPECT_EQ(team.ClaimPage("d", "a", 60, by), rt::RedisTeam::Claim::kError);
  EXPECT_FALSE(team.PutIncident("i", "{}"));
  EXPECT_EQ(team.AppendStream("audit", "{}"), "");
  std::vector<std::string> records;
  EXPECT_FALSE(team.ReadStream("audit", records));
  EXPECT_TRUE(Contains(team.last_error(), "refused")) << team.last_error();
  EXPECT_LT(ElapsedMs(start), 5000);
}

TEST(RedisTeam, PausedServerTimesOutThenTheNextCallWorksAgain) {
  RedisServer redis;
  ASSERT_TRUE(redis.up());
  rt::RedisTeamConfig c = TeamConfig(redis.port());
  c.timeout_ms = 300;
  c.connect_timeout_ms = 300;
  rt::RedisTeam team(c);
  rt::RedisStateStore store(team);
  ASSERT_TRUE(team.SetTime("w", 1234)) << team.last_error();

  redis.Pause();
  bool failed = false;
  auto start = Clock::now();
  EXPECT_EQ(team.GetTime("w", failed), std::nullopt);  // on the kept connection
  EXPECT_TRUE(failed);
  EXPECT_TRUE(Contains(team.last_error(), "timeout")) << team.last_error();
  EXPECT_LT(ElapsedMs(start), 5000);

  start = Clock::now();
  EXPECT_EQ(store.Get("w"), std::nullopt);  // on a new connection: the kernel accepts, nobody answers
  ASSERT_TRUE(store.Unavailable().has_value());
  EXPECT_TRUE(Contains(*store.Unavailable(), "timeout")) << *store.Unavailable();
  EXPECT_LT(ElapsedMs(start), 5000);

  start = Clock::now();
  std::string token;
  rt::RedisTeam::LeaseHolder h;
  int64_t fence = 0;
  EXPECT_EQ(team.Acquire("l", "a", "r", "s", 1000, token, h, fence), LeaseResult::kError);
  EXPECT_TRUE(Contains(team.last_error(), "timeout")) << team.last_error();
  EXPECT_LT(ElapsedMs(start), 5000);

  redis.Resume();
  EXPECT_EQ(team.GetTime("w", failed), 1234) << team.last_error();
  EXPECT_FALSE(failed);
  EXPECT_EQ(team.last_error(), "");
  EXPECT_EQ(store.Get("w"), 1234);
  EXPECT_EQ(store.Unavailable(), std::nullopt);
}

TEST(RedisTeam, ReconnectsWhenTheServerClosedTheKeptConnection) {
  RedisServer redis;
  ASSERT_TRUE(redis.up());
  rt::RedisTeam team(TeamConfig(redis.port()));
  ASSERT_TRUE(team.SetTime("w", 5)) << team.last_error();
  Raw(redis.port(), {"CLIENT", "KILL", "TYPE", "normal"});  // as a restart or an idle timeout would
  bool failed = true;
  EXPECT_EQ(team.GetTime("w", failed), 5) << team.last_error();
  EXPECT_FALSE(failed);
  // Also a request that may not be repeated: a closed connection is noticed before sending.
  Raw(redis.port(), {"CLIENT", "KILL", "TYPE", "normal"});
  EXPECT_FALSE(team.AppendStream("audit", "{}").empty()) << team.last_error();
  Raw(redis.port(), {"CLIENT", "KILL", "TYPE", "normal"});
  std::string by;
  EXPECT_EQ(team.ClaimPage("d", "alice", 60, by), rt::RedisTeam::Claim::kFirst) << team.last_error();
  EXPECT_EQ(Raw(redis.port(), {"XLEN", "runbook:staging:stream:audit"}).integer, 1);
}

TEST(RedisTeam, WrongTypesAreErrorsNotCrashes) {
  RedisServer redis;
  ASSERT_TRUE(redis.up());
  const int port = redis.port();
  rt::RedisTeam team(TeamConfig(port));
  bool failed = false;

  Raw(port, {"HSET", "runbook:staging:window:h", "f", "v"});
  EXPECT_EQ(team.GetTime("h", failed), std::nullopt);
  EXPECT_TRUE(failed);
  EXPECT_TRUE(Contains(team.last_error(), "WRONGTYPE")) << team.last_error();
  Raw(port, {"SET", "runbook:staging:window:s", "soon"});
  EXPECT_EQ(team.GetTime("s", failed), std::nullopt);
  EXPECT_TRUE(failed);
  EXPECT_TRUE(Contains(team.last_error(), "not a time")) << team.last_error();
  Raw(port, {"SET", "runbook:staging:window:s", "12abc"});
  EXPECT_EQ(team.GetTime("s", failed), std::nullopt);
  EXPECT_TRUE(failed);
  EXPECT_TRUE(team.SetTime("s", 7));  // SET replaces whatever was there
  EXPECT_EQ(team.GetTime("s", failed), 7);

  // A lease key holding something else: busy when it is a string, an error otherwise.
  Raw(port, {"SET", "runbook:staging:lease:str", "not json"});
  rt::RedisTeam::LeaseHolder h;
  EXPECT_EQ(Take(team, "str", "alice", 1000, nullptr, nullptr, &h), LeaseResult::kBusy);
  EXPECT_TRUE(Contains(h.who, "not a runbook lease")) << h.who;
  EXPECT_FALSE(team.Renew("str", "0123", 1000));
  EXPECT_FALSE(team.Release("str", "0123"));
  EXPECT_EQ(Raw(port, {"GET", "runbook:staging:lease:str"}).str, "not json");
  Raw(port, {"SET", "runbook:staging:lease:num", "[1,2]"});
  EXPECT_FALSE(team.Release("num", "0123"));
  Raw(port, {"RPUSH", "runbook:staging:lease:list", "x"});
  EXPECT_EQ(Take(team, "list", "alice", 1000), LeaseResult::kError);
  EXPECT_TRUE(Contains(team.last_error(), "WRONGTYPE")) << team.last_error();
  EXPECT_FALSE(team.Renew("list", "0123", 1000));
  EXPECT_FALSE(team.Release("list", "0123"));
  Raw(port, {"SET", "runbook:staging:fence:f", "nan"});
  EXPECT_EQ(Take(team, "f", "alice", 1000), LeaseResult::kError);
  EXPECT_EQ(Raw(port, {"EXISTS", "runbook:staging:lease:f"}).integer, 0);

  std::string by;
  Raw(port, {"HSET", "runbook:staging:paged:h", "f", "v"});
  EXPECT_EQ(team.ClaimPage("h", "alice", 60, by), rt::RedisTeam::Claim::kError);
  Raw(port, {"SET", "runbook:staging:incidents", "x"});
  EXPECT_FALSE(team.PutIncident("i", "{}"));
  Raw(port, {"SET", "runbook:staging:stream:s", "x"});
  EXPECT_EQ(team.AppendStream("s", "{}"), "");
  std::vector<std::string> records;
  EXPECT_FALSE(team.ReadStream("s", records));
  Raw(port, {"XADD", "runbook:staging:stream:foreign", "*", "other", "x"});
  EXPECT_FALSE(team.ReadStream("foreign", records));
  EXPECT_TRUE(Contains(team.last_error(), "no record field")) << team.last_error();
  EXPECT_TRUE(records.empty());

  // Still connected and working after all that.
  EXPECT_TRUE(team.SetTime("ok", 1)) << team.last_error();
}

TEST(RedisTeam, AuthenticatesAndSelectsItsDatabase) {
  RedisServer redis({"--requirepass", "s3cret-pass"});
  ASSERT_TRUE(redis.up());
  rt::RedisTeamConfig c = TeamConfig(redis.port());
  c.password = "s3cret-pass";
  c.db = 3;
  rt::RedisTeam team(c);
  ASSERT_TRUE(team.SetTime("w", 11)) << team.last_error();
  EXPECT_EQ(Raw(redis.port(), {"GET", "runbook:staging:window:w"}, "s3cret-pass", 3).str, "11");
  EXPECT_EQ(Raw(redis.port(), {"EXISTS", "runbook:staging:window:w"}, "s3cret-pass", 0).integer, 0);

  c.password = "wrong-pass";
  rt::RedisTeam wrong(c);
  bool failed = false;
  EXPECT_EQ(wrong.GetTime("w", failed), std::nullopt);
  EXPECT_TRUE(failed);
  EXPECT_TRUE(Contains(wrong.last_error(), "AUTH")) << wrong.last_error();
  EXPECT_FALSE(Contains(wrong.last_error(), "wrong-pass")) << wrong.last_error();

  c.password.clear();
  rt::RedisTeam none(c);
  EXPECT_EQ(none.GetTime("w", failed), std::nullopt);
  EXPECT_TRUE(failed);
  EXPECT_TRUE(Contains(none.last_error(), "NOAUTH")) << none.last_error();
}

TEST(RedisTeam, ThreadsShareOneTeamWhileAKeeperRenews) {
  RedisServer redis;
  ASSERT_TRUE(redis.up());
  rt::RedisTeam team(TeamConfig(redis.port()));
  std::string token;
  ASSERT_EQ(Take(team, "shared", "alice", 300, &token), LeaseResult::kHeld) << team.last_error();
  rt::LeaseKeeper keeper(team, "shared", token, 300);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 150; ++i) {
        std::string key = "t" + std::to_string(t);
        bool failed = false;
        if (!team.SetTime(key, i) || team.GetTime(key, failed) != i || failed) failures++;
        if (!team.last_error().empty()) failures++;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_FALSE(keeper.lost()) << keeper.why();
}

TEST(RedisTeam, NothingListeningIsRefused) {
  const int port = FreeLoopbackPort();
  rt::RedisTeam team(TeamConfig(port));
  rt::RedisStateStore store(team);
  EXPECT_EQ(store.Get("w"), std::nullopt);
  ASSERT_TRUE(store.Unavailable().has_value());
  EXPECT_EQ(*store.Unavailable(), "connection refused (127.0.0.1:" + std::to_string(port) + ")");
}

}  // namespace
}  // namespace rb::test
