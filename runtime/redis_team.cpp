#include "runtime/redis_team.hpp"
#include "runtime/redis_error.hpp"

#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <memory>
#include <random>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace rb::rt {

namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kMaxReply = 64u << 20;   // a reply past this is abandoned
constexpr int kStreamPage = 1000;         // XRANGE COUNT
constexpr const char* kStreamMaxLen = "1000000";

// The lease scripts. A lease's value is JSON written by Acquire; Renew and Release decode it (cjson,
// bundled with Redis's Lua) and act only when its "token" is the caller's.
//
// Acquire: KEYS[1] the lease, KEYS[2] its fence counter; ARGV[1] the value up to `"fence":`,
// ARGV[2] the rest, ARGV[3] the ttl in ms. Taken: {0, current value, its PTTL}. Free: INCR the fence,
// SET the value with the fence in it and PX ttl, {1, fence}. Atomic, so fences are handed out in the
// order leases are taken.
constexpr const char* kAcquireScript =
    "local cur = redis.call('GET', KEYS[1])\n"
    "if cur then return {0, cur, redis.call('PTTL', KEYS[1])} end\n"
    "local fence = redis.call('INCR', KEYS[2])\n"
    "redis.call('SET', KEYS[1], ARGV[1] .. string.format('%d', fence) .. ARGV[2], 'PX', ARGV[3])\n"
    "return {1, fence}\n";
// Renew: KEYS[1] the lease; ARGV[1] the token, ARGV[2] the ttl in ms. 1 when extended, 0 when the
// lease is gone or holds another token.
constexpr const char* kRenewScript =
    "local v = redis.call('GET', KEYS[1])\n"
    "if not v then return 0 end\n"
    "local ok, d = pcall(cjson.decode, v)\n"
    "if not ok or type(d) ~= 'table' or d['token'] ~= ARGV[1] then return 0 end\n"
    "return redis.call('PEXPIRE', KEYS[1], ARGV[2])\n";
// Release: KEYS[1] the lease; ARGV[1] the token. 1 when deleted, 0 when gone or another's.
constexpr const char* kReleaseScript =
    "local v = redis.call('GET', KEYS[1])\n"
    "if not v then return 0 end\n"
    "local ok, d = pcall(cjson.decode, v)\n"
    "if not ok or type(d) ~= 'table' or d['token'] ~= ARGV[1] then return 0 end\n"
    "return redis.call('DEL', KEYS[1])\n";

timeval Tv(int64_t ms) {
  if (ms < 1) ms = 1;  // a zero timeval would mean "wait forever"
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms % 1000) * 1000);
  return tv;
}

// 500 -> "500ms", 2000 -> "2s", 1500 -> "1s500ms", 90000 -> "1m30s" (as durations read elsewhere).
std::string Ms(int64_t ms) {
  if (ms <= 0) return "0s";
  std::string out;
  static const std::pair<int64_t, const char*> kUnits[] = {{3600000, "h"}, {60000, "m"}, {1000, "s"}, {1, "ms"}};
  for (auto [scale, suffix] : kUnits) {
    if (ms >= scale) {
      out += std::to_string(ms / scale) + suffix;
      ms %= scale;
    }
  }
  return out;
}

struct ReplyFree {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyFree>;

std::string Str(const redisReply* r) { return r->str != nullptr ? std::string(r->str, r->len) : std::string(); }

const char* TypeName(const redisReply* r) {
  switch (r->type) {
    case REDIS_REPLY_STRING: return "a string";
    case REDIS_REPLY_ARRAY: return "an array";
    case REDIS_REPLY_INTEGER: return "an integer";
    case REDIS_REPLY_NIL: return "nil";
    case REDIS_REPLY_STATUS: return "a status";
    case REDIS_REPLY_ERROR: return "an error";
    default: return "an unknown reply type";
  }
}

// An error reply as the reason, or "unexpected reply to WHAT: TYPE".
std::string Unexpected(const std::string& what, const redisReply* r) {
  if (r->type == REDIS_REPLY_ERROR) return "Redis error: " + Str(r);
  return fmt::format("unexpected reply to {}: {}", what, TypeName(r));
}

// Text from Redis shown in a reason: short, one line.
std::string Shown(const std::string& s) {
  std::string out;
  for (char ch : s.substr(0, 40)) out += (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) ? '?' : ch;
  return s.size() > 40 ? out + "..." : out;
}

// Why a hiredis context failed: the live reads' wording (runtime/live.hpp).
std::string ContextError(const redisContext* c, const std::string& where, int64_t timeout_ms) {
  return RedisContextError(c, where, timeout_ms);
}

bool IsTimeout(const redisContext* c) {
  std::string err = c->errstr;
  return c->err == REDIS_ERR_IO && (err.find("temporarily unavailable") != std::string::npos ||
                                    err.find("timed out") != std::string::npos);
}

// Blocks SIGPIPE in this thread while writing to a socket the server may have closed (hiredis uses
// write(), not send(MSG_NOSIGNAL)), and consumes a SIGPIPE the write raised, without changing the
// process's disposition (which programs started later would inherit).
class SigpipeBlock {
 public:
  SigpipeBlock() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    sigset_t pending;
    sigemptyset(&pending);
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }
  ~SigpipeBlock() {
    if (!was_pending_) {
      sigset_t pending;
      sigemptyset(&pending);
      sigpending(&pending);
      if (sigismember(&pending, SIGPIPE) == 1) {
        timespec zero{0, 0};
        while (sigtimedwait(&pipe_, nullptr, &zero) < 0 && errno == EINTR) {
        }
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeBlock(const SigpipeBlock&) = delete;
  SigpipeBlock& operator=(const SigpipeBlock&) = delete;

 private:
  sigset_t pipe_, old_;
  bool was_pending_ = false;
};

// 128 random bits as 32 hex digits: /dev/urandom, else std::random_device.
std::string RandomHex128() {
  unsigned char b[16];
  size_t got = 0;
  int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    while (got < sizeof b) {
      ssize_t n = read(fd, b + got, sizeof b - got);
      if (n > 0) {
        got += static_cast<size_t>(n);
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else {
        break;
      }
    }
    close(fd);
  }
  if (got < sizeof b) {
    std::random_device rd;
    for (auto& x : b) x = static_cast<unsigned char>(rd() & 0xff);
  }
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char x : b) {
    out += kHex[x >> 4];
    out += kHex[x & 15];
  }
  return out;
}

std::string JsonString(const std::string& s) {
  return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<int64_t> ParseInt(const std::string& s) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

// The stream id just after `id` ("ms-seq"), for the next XRANGE page (exclusive ranges need 6.2).
std::optional<std::string> NextStreamId(const std::string& id) {
  size_t dash = id.find('-');
  if (dash == std::string::npos) return std::nullopt;
  uint64_t ms = 0, seq = 0;
  const char* b = id.data();
  auto [p1, e1] = std::from_chars(b, b + dash, ms);
  auto [p2, e2] = std::from_chars(b + dash + 1, b + id.size(), seq);
  if (e1 != std::errc() || p1 != b + dash || e2 != std::errc() || p2 != b + id.size() || dash == 0) return std::nullopt;
  if (seq == UINT64_MAX) {
    if (ms == UINT64_MAX) return std::nullopt;
    return fmt::format("{}-0", ms + 1);
  }
  return fmt::format("{}-{}", ms, seq + 1);
}

}  // namespace

struct RedisTeam::Replies {
  std::vector<ReplyPtr> r;
};

RedisTeam::RedisTeam(RedisTeamConfig c) : c_(std::move(c)) {}

RedisTeam::~RedisTeam() {
  std::lock_guard<std::mutex> lock(mu_);
  Disconnect();
}

std::string RedisTeam::Key(const std::string& kind, const std::string& name) const {
  return c_.prefix + ":" + c_.env + ":" + kind + ":" + name;
}

std::string RedisTeam::last_error() const {
  std::lock_guard<std::mutex> lock(errors_mu_);
  auto it = errors_.find(std::this_thread::get_id());
  return it == errors_.end() ? std::string() : it->second;
}

void RedisTeam::SetError(const std::string& why) const {
  std::lock_guard<std::mutex> lock(errors_mu_);
  if (why.empty()) {
    errors_.erase(std::this_thread::get_id());
  } else {
    errors_[std::this_thread::get_id()] = why;
  }
}

void RedisTeam::ForgetThread() const { SetError(""); }

void RedisTeam::Disconnect() {
  if (context_ != nullptr) redisFree(static_cast<redisContext*>(context_));
  context_ = nullptr;
}

bool RedisTeam::Exchange(const std::vector<std::vector<std::string>>& commands, Replies& out, std::string& why,
                         bool idempotent) {
  bool retry = false;
  if (ExchangeOnce(commands, out, why, retry)) return true;
  // A kept connection the server had closed (restart, idle timeout) fails before anything is read:
  // a request that may be repeated is sent once more on a new connection.
  if (retry && idempotent) return ExchangeOnce(commands, out, why, retry);
  return false;
}

bool RedisTeam::ExchangeOnce(const std::vector<std::vector<std::string>>& commands, Replies& out, std::string& why,
                             bool& retry) {
  retry = false;
  out.r.clear();
  const std::string where = fmt::format("{}:{}", c_.host, c_.port);
  // A kept connection is idle between requests: anything to read on it is the server closing it
  // (a restart, an idle timeout). Such a one is replaced before anything is sent on it, which is
  // safe for every request, repeatable or not.
  if (context_ != nullptr) {
    pollfd p{static_cast<redisContext*>(context_)->fd, POLLIN, 0};
    if (poll(&p, 1, 0) != 0) Disconnect();
  }
  auto* c = static_cast<redisContext*>(context_);
  const bool reused = c != nullptr;
  std::vector<std::vector<std::string>> wire;
  if (c == nullptr) {
    c = redisConnectWithTimeout(c_.host.c_str(), c_.port, Tv(c_.connect_timeout_ms));
    if (c == nullptr || c->err) {
      why = ContextError(c, where, c_.connect_timeout_ms);
      if (c != nullptr) redisFree(c);
      return false;
    }
    context_ = c;
    if (!c_.password.empty()) wire.push_back({"AUTH", c_.password});
    if (c_.db != 0) wire.push_back({"SELECT", std::to_string(c_.db)});
  }
  // One deadline, from here, for AUTH, SELECT and every command: each write and read waits at most
  // what is left of it, so a server that drips bytes cannot stretch a reply past it.
  const Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(c_.timeout_ms);
  const std::string timeout = fmt::format("timeout after {} ({})", Ms(c_.timeout_ms), where);
  auto fail = [&](std::string reason) {
    why = std::move(reason);
    out.r.clear();
    Disconnect();  // never used again: it may still deliver a stale reply
    return false;
  };
  auto arm = [&]() -> bool {
    int64_t left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    redisSetTimeout(c, Tv(left));
    return true;
  };
  const size_t setup = wire.size();
  wire.insert(wire.end(), commands.begin(), commands.end());
  for (const auto& argv : wire) {
    std::vector<const char*> ptrs;
    std::vector<size_t> lens;
    for (const auto& a : argv) {
      ptrs.push_back(a.data());
      lens.push_back(a.size());
    }
    if (redisAppendCommandArgv(c, static_cast<int>(argv.size()), ptrs.data(), lens.data()) != REDIS_OK) {
      return fail("out of memory preparing a Redis request (" + where + ")");
    }
  }
  {
    SigpipeBlock no_sigpipe;
    for (int done = 0; !done;) {
      if (!arm()) return fail(timeout);
      if (redisBufferWrite(c, &done) != REDIS_OK) {
        retry = reused && !IsTimeout(c);
        return fail(ContextError(c, where, c_.timeout_ms));
      }
    }
  }
  for (size_t i = 0; i < wire.size(); ++i) {
    ReplyPtr r;
    for (;;) {
      void* raw = nullptr;
      if (redisGetReplyFromReader(c, &raw) != REDIS_OK) {
        return fail(fmt::format("not a Redis reply from {}: {}", where, c->errstr));
      }
      if (raw != nullptr) {
        r.reset(static_cast<redisReply*>(raw));
        break;
      }
      if (c->reader != nullptr && c->reader->len > kMaxReply) {
        return fail("reply larger than 64 MiB from " + where);
      }
      if (!arm()) return fail(timeout);
      if (redisBufferRead(c) != REDIS_OK) {
        retry = reused && i == 0 && c->reader != nullptr && c->reader->pos == c->reader->len &&
                (c->err == REDIS_ERR_EOF || (c->err == REDIS_ERR_IO && !IsTimeout(c)));
        return fail(ContextError(c, where, c_.timeout_ms));
      }
    }
    if (i < setup) {
      if (r->type == REDIS_REPLY_ERROR) return fail(fmt::format("Redis error on {}: {}", wire[i][0], Str(r.get())));
      continue;
    }
    out.r.push_back(std::move(r));
  }
  return true;
}

// ---- leases ----

RedisTeam::LeaseResult RedisTeam::Acquire(const std::string& name, const std::string& who, const std::string& run,
                                          const std::string& since, int64_t ttl_ms, std::string& token,
                                          LeaseHolder& holder, int64_t& fence, int64_t* holder_ttl_ms) {
  holder = LeaseHolder{};
  fence = 0;
  if (holder_ttl_ms != nullptr) *holder_ttl_ms = 0;
  token = RandomHex128();
  if (ttl_ms <= 0) {
    SetError(fmt::format("lease {}: the ttl must be positive", name));
    return LeaseResult::kError;
  }
  const std::string head = fmt::format(R"({{"token":"{}","who":{},"run":{},"since":{},"fence":)", token, JsonString(who),
                                       JsonString(run), JsonString(since));
  Replies rep;
  std::string why;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!Exchange({{"EVAL", kAcquireScript, "2", Key("lease", name), Key("fence", name), head, "}", std::to_string(ttl_ms)}},
                  rep, why, false)) {
      SetError(fmt::format("lease {}: {}", name, why));
      return LeaseResult::kError;
    }
  }
  const redisReply* r = rep.r[0].get();
  auto bad = [&] {
    SetError(fmt::format("lease {}: {}", name, Unexpected("the acquire script", r)));
    return LeaseResult::kError;
  };
  if (r->type != REDIS_REPLY_ARRAY || r->elements < 2 || r->element[0]->type != REDIS_REPLY_INTEGER) return bad();
  if (r->element[0]->integer == 1) {
    if (r->element[1]->type != REDIS_REPLY_INTEGER) return bad();
    fence = r->element[1]->integer;
    SetError("");
    return LeaseResult::kHeld;
  }
  if (r->elements < 3 || r->element[1]->type != REDIS_REPLY_STRING || r->element[2]->type != REDIS_REPLY_INTEGER) return bad();
  nlohmann::json j = nlohmann::json::parse(Str(r->element[1]), nullptr, false);
  if (j.is_object()) {
    auto text = [&](const char* k) { return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : std::string(); };
    holder.who = text("who");
    holder.run = text("run");
    holder.since = text("since");
    if (j.contains("fence") && j["fence"].is_number_integer()) holder.fence = j["fence"].get<int64_t>();
  } else {
    holder.who = "(not a runbook lease: " + Shown(Str(r->element[1])) + ")";
  }
  if (holder_ttl_ms != nullptr) *holder_ttl_ms = r->element[2]->integer;
  SetError("");
  return LeaseResult::kBusy;
}

RedisTeam::RenewResult RedisTeam::RenewLease(const std::string& name, const std::string& token, int64_t ttl_ms,
                                             std::string& why) {
  if (token.empty() || ttl_ms <= 0) {
    why = fmt::format("lease {}: no token or no ttl to renew it with", name);
    return RenewResult::kError;
  }
  Replies rep;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!Exchange({{"EVAL", kRenewScript, "1", Key("lease", name), token, std::to_string(ttl_ms)}}, rep, why, true)) {
      why = fmt::format("lease {}: {}", name, why);
      return RenewResult::kError;
    }
  }
  const redisReply* r = rep.r[0].get();
  if (r->type != REDIS_REPLY_INTEGER) {
    why = fmt::format("lease {}: {}", name, Unexpected("the renew script", r));
    return RenewResult::kError;
  }
  if (r->integer != 1) {
    why = fmt::format("lease {}: no longer ours (it expired, and may have been taken by another)", name);
    return RenewResult::kLost;
  }
  why.clear();
  return RenewResult::kRenewed;
}

bool RedisTeam::Renew(const std::string& name, const std::string& token, int64_t ttl_ms) {
  std::string why;
  bool ok = RenewLease(name, token, ttl_ms, why) == RenewResult::kRenewed;
  SetError(ok ? std::string() : why);
  return ok;
}

bool RedisTeam::Release(const std::string& name, const std::string& token) {
  if (token.empty()) {
    SetError(fmt::format("lease {}: no token to release it with", name));
    return false;
  }
  Replies rep;
  std::string why;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!Exchange({{"EVAL", kReleaseScript, "1", Key("lease", name), token}}, rep, why, false)) {
      SetError(fmt::format("lease {}: {}", name, why));
      return false;
    }
  }
  const redisReply* r = rep.r[0].get();
  if (r->type != REDIS_REPLY_INTEGER) {
    SetError(fmt::format("lease {}: {}", name, Unexpected("the release script", r)));
    return false;
  }
  if (r->integer != 1) {
    SetError(fmt::format("lease {}: not ours any more (it expired, and may have been taken by another)", name));
    return false;
  }
  SetError("");
  return true;
}

// ---- windows ----

std::optional<int64_t> RedisTeam::GetTime(const std::string& key, bool& failed) {
  failed = true;
  Replies rep;
  std::string why;
  const std::string k = Key("window", key);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!Exchange({{"GET", k}}, rep, why, true)) {
      SetError(why);
      return std::nullopt;
    }
  }
  const redisReply* r = rep.r[0].get();
  if (r->type == REDIS_REPLY_NIL) {
    failed = false;
    SetError("");
    return std::nullopt;
  }
  if (r->type != REDIS_REPLY_STRING) {
    SetError(fmt::format("window {}: {}", key, Unexpected("GET", r)));
    return std::nullopt;
  }
  std::optional<int64_t> v = ParseInt(Str(r));
  if (!v) {
    SetError(fmt::format("window {}: {} is not a time in ms: \"{}\"", key, k, Shown(Str(r))));
    return std::nullopt;
  }
  failed = false;
  SetError("");
  return v;
}

bool RedisTeam::SetTime(const std::string& key, int64_t ms) {
  Replies rep;
  std::string why;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!Exchange({{"SET", Key("window", key), std::to_string(ms)}}, rep, why, true)) {
      SetError(why);
      return false;
    }
  }
  const redisReply* r = rep.r[0].get();
  if (r->type != REDIS_REPLY_STATUS) {
    SetError(fmt::format("window {}: {}", key, Unexpected("SET", r)));
    return false;
  }
  SetError("");
  return true;
}

bool RedisTeam::EraseTime(const std::string& key) {
  Replies rep;
  std::string why;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!Exchange({{"DEL", Key("window", key)}}, rep, why, true)) {
      SetError(why);
      return false;
    }
  }
  const redisReply* r = rep.r[0].get();
  if (r->type != REDIS_REPLY_INTEGER) {
    SetError(fmt::format("window {}: {}", key, Unexpected("DEL", r)));
    return false;
  }
  SetError("");
  return true;
}

// ---- pages ----

RedisTeam::Claim RedisTeam::ClaimPage(const std::string& dedup, const std::string& value, int64_t ttl_s, std::string& by) {
  by.clear();
  const std::string k = Key("paged", dedup);
  std::vector<std::string> set{"SET", k, value, "NX"};
  if (ttl_s > 0) {
    set.push_back("EX");
    set.push_back(std::to_string(ttl_s));
  }
  Replies rep;
  std::string why;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!Exchange({set, {"GET", k}}, rep, why, false)) {
      SetError(fmt::format("page {}: {}", dedup, why));
      return Claim::kError;
    }
  }
  const redisReply* s = rep.r[0].get();
  const redisReply* g = rep.r[1].get();
  if (s->type == REDIS_REPLY_STATUS) {
    by = value;
    SetError("");
    return Claim::kFirst;
  }
  if (s->type != REDIS_REPLY_NIL) {
    SetError(fmt::format("page {}: {}", dedup, Unexpected("SET NX", s)));
    return Claim::kError;
  }
  if (g->type == REDIS_REPLY_STRING) {
    by = Str(g);
  } else if (g->type != REDIS_REPLY_NIL) {  // nil: it expired between the two; taken all the same
    SetError(fmt::format("page {}: {}", dedup, Unexpected("GET", g)));
    return Claim::kError;
  }
  SetError("");
  return Claim::kTaken;
}

// ---- incidents ----

bool RedisTeam::ReleaseClaim(const std::string& dedup, const std::string& value) {
  // Only the claim this run made (its value): compare-and-delete, as a lease's release.
  static const char* kScript = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";
  Replies rep;
  std::string why;
  std::lock_guard<std::mutex> lock(mu_);
  if (!Exchange({{"EVAL", kScript, "1", Key("paged", dedup), value}}, rep, why, true)) {
    SetError(fmt::format("page {}: {}", dedup, why));
    return false;
  }
  SetError("");
  return rep.r[0]->type == REDIS_REPLY_INTEGER && rep.r[0]->integer == 1;
}

bool RedisTeam::PutIncident(const std::string& id, const std::string& json) {
  Replies rep;
  std::string why;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!Exchange({{"HSET", c_.prefix + ":" + c_.env + ":incidents", id, json}}, rep, why, true)) {
      SetError(fmt::format("incident {}: {}", id, why));
      return false;
    }
  }
  const redisReply* r = rep.r[0].get();
  if (r->type != REDIS_REPLY_INTEGER) {
    SetError(fmt::format("incident {}: {}", id, Unexpected("HSET", r)));
    return false;
  }
  SetError("");
  return true;
}

// ---- the audit stream ----

std::string RedisTeam::AppendStream(const std::string& stream, const std::string& record_json) {
  Replies rep;
  std::string why;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!Exchange({{"XADD", Key("stream", stream), "MAXLEN", "~", kStreamMaxLen, "*", "record", record_json}}, rep, why,
                  false)) {
      SetError(fmt::format("stream {}: {}", stream, why));
      return "";
    }
  }
  const redisReply* r = rep.r[0].get();
  if (r->type != REDIS_REPLY_STRING || r->len == 0) {
    SetError(fmt::format("stream {}: {}", stream, Unexpected("XADD", r)));
    return "";
  }
  SetError("");
  return Str(r);
}

bool RedisTeam::ReadStream(const std::string& stream, std::vector<std::string>& records) {
  records.clear();
  const std::string k = Key("stream", stream);
  auto fail = [&](const std::string& why) {
    SetError(fmt::format("stream {}: {}", stream, why));
    records.clear();
    return false;
  };
  std::string start = "-";
  for (;;) {
    Replies rep;
    std::string why;
    {
      std::lock_guard<std::mutex> lock(mu_);  // per page: a lease renewal is not held up by a long read
      if (!Exchange({{"XRANGE", k, start, "+", "COUNT", std::to_string(kStreamPage)}}, rep, why, true)) return fail(why);
    }
    const redisReply* r = rep.r[0].get();
    if (r->type != REDIS_REPLY_ARRAY) return fail(Unexpected("XRANGE", r));
    std::string last;
    for (size_t i = 0; i < r->elements; ++i) {
      const redisReply* e = r->element[i];
      if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 || e->element[0]->type != REDIS_REPLY_STRING ||
          e->element[1]->type != REDIS_REPLY_ARRAY) {
        return fail("unexpected entry in the XRANGE reply");
      }
      last = Str(e->element[0]);
      const redisReply* fields = e->element[1];
      const redisReply* record = nullptr;
      for (size_t f = 0; f + 1 < fields->elements; f += 2) {
        const redisReply* n = fields->element[f];
        if (n->type == REDIS_REPLY_STRING && Str(n) == "record" && fields->element[f + 1]->type == REDIS_REPLY_STRING) {
          record = fields->element[f + 1];
          break;
        }
      }
      if (record == nullptr) return fail(fmt::format("entry {} has no record field", Shown(last)));
      records.push_back(Str(record));
    }
    if (r->elements < static_cast<size_t>(kStreamPage)) break;
    std::optional<std::string> next = NextStreamId(last);
    if (!next) return fail(fmt::format("entry id {} is not an id", Shown(last)));
    start = *next;
  }
  SetError("");
  return true;
}

// ---- RedisStateStore ----

RedisStateStore::RedisStateStore(RedisTeam& team) : team_(team) {}

void RedisStateStore::Note(bool ok) {
  std::string why = ok ? std::string() : team_.last_error();
  std::lock_guard<std::mutex> lock(mu_);
  if (ok) {
    unavailable_.reset();
  } else {
    unavailable_ = why.empty() ? std::string("Redis failed") : why;
  }
}

std::optional<int64_t> RedisStateStore::Get(const std::string& key) {
  bool failed = false;
  std::optional<int64_t> v = team_.GetTime(key, failed);
  Note(!failed);
  return failed ? std::nullopt : v;
}

void RedisStateStore::Set(const std::string& key, int64_t value) { Note(team_.SetTime(key, value)); }

void RedisStateStore::Erase(const std::string& key) { Note(team_.EraseTime(key)); }

std::optional<std::string> RedisStateStore::Unavailable() const {
  std::lock_guard<std::mutex> lock(mu_);
  return unavailable_;
}

// ---- LeaseKeeper ----

LeaseKeeper::LeaseKeeper(RedisTeam& team, std::string name, std::string token, int64_t ttl_ms)
    : team_(team), name_(std::move(name)), token_(std::move(token)), ttl_ms_(ttl_ms) {
  thread_ = std::thread([this] { Loop(); });
}

LeaseKeeper::~LeaseKeeper() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  team_.Release(name_, token_);
}

bool LeaseKeeper::lost() const {
  std::lock_guard<std::mutex> lock(mu_);
  return lost_;
}

std::string LeaseKeeper::why() const {
  std::lock_guard<std::mutex> lock(mu_);
  return why_;
}

void LeaseKeeper::Loop() {
  using std::chrono::milliseconds;
  const milliseconds ttl(ttl_ms_ > 0 ? ttl_ms_ : 1);
  const milliseconds every = std::max(milliseconds(1), ttl / 3);
  const milliseconds again = std::max(milliseconds(1), std::min(every, ttl / 10));
  const milliseconds grace = ttl * 2 / 3;  // past this since the last renewal, it may have expired
  Clock::time_point last_ok = Clock::now();
  Clock::time_point next = last_ok + every;
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    if (cv_.wait_until(lock, next, [this] { return stop_; })) break;
    lock.unlock();
    const Clock::time_point sent = Clock::now();
    std::string why;
    RedisTeam::RenewResult r = team_.RenewLease(name_, token_, ttl_ms_, why);
    lock.lock();
    if (r == RedisTeam::RenewResult::kRenewed) {
      last_ok = sent;
      next = sent + every;
      continue;
    }
    if (r == RedisTeam::RenewResult::kLost) {
      lost_ = true;
      why_ = "lost: " + why;
      break;
    }
    const Clock::time_point now = Clock::now();
    if (now - last_ok >= grace) {
      lost_ = true;
      why_ = fmt::format("lost: not renewed for {}: {}",
                         Ms(std::chrono::duration_cast<milliseconds>(now - last_ok).count()), why);
      break;
    }
    next = std::min(now + again, last_ok + grace);
  }
  lock.unlock();
  team_.ForgetThread();
}

}  // namespace rb::rt
