// Team state in Redis for live runs (`state: {store: redis, ...}` in the environment): what two
// engineers on two machines must see alike. Leases (locks across machines, with fencing tokens),
// the first-seen times of `for > D` windows, who paged for a dedup key, incident records and the
// audit stream.
//
// Every key starts with PREFIX:ENV: (RedisTeam::Key) and never holds a secret:
//   PREFIX:ENV:lease:NAME      string, a lease: {"token","who","run","since","fence"} JSON, PX ttl
//   PREFIX:ENV:fence:NAME      integer, INCRed by each successful Acquire of lease NAME
//   PREFIX:ENV:window:KEY      string, a decimal time in ms (first seen), no expiry
//   PREFIX:ENV:paged:DEDUP     string, who paged (the caller's value), EX ttl
//   PREFIX:ENV:incidents       hash, incident id -> JSON
//   PREFIX:ENV:stream:NAME     stream, one entry per record, field `record` = the record's JSON
//
// One hiredis connection, blocking, kept between calls; a call first connects when there is no
// connection (connect timeout; AUTH and SELECT pipelined before its commands), then sends and reads
// everything within one deadline of `timeout_ms`. After any failure the connection is closed and the
// next call connects again: a connection that timed out may still deliver a stale reply later.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "runtime/state_store.hpp"

namespace rb::rt {

struct RedisTeamConfig {
  std::string host = "127.0.0.1";
  int port = 6379;
  int db = 0;
  std::string password;  // empty: no AUTH
  int64_t connect_timeout_ms = 500, timeout_ms = 500;  // each request: one deadline for everything it sends
  std::string prefix = "runbook";                      // every key starts with PREFIX:ENV:
  std::string env = "env";                             // the environment's name
};

class LeaseKeeper;

// Thread-safe (one mutex around the connection). A failure is a false / nullopt / kError with
// last_error() saying why: "connection refused (127.0.0.1:6390)", "timeout after 500ms
// (127.0.0.1:6390)", "Redis error: ...", "unexpected reply to GET: an array". last_error() is kept per
// calling thread, so a lease renewal thread never overwrites the reason another thread is reading;
// it is empty after a call that worked.
class RedisTeam {
 public:
  explicit RedisTeam(RedisTeamConfig c);
  ~RedisTeam();
  RedisTeam(const RedisTeam&) = delete;
  RedisTeam& operator=(const RedisTeam&) = delete;

  std::string last_error() const;
  const RedisTeamConfig& config() const { return c_; }
  std::string Key(const std::string& kind, const std::string& name) const;  // PREFIX:ENV:KIND:NAME

  // ---- leases (locks across machines) ----
  struct LeaseHolder {
    std::string who, run, since;
    int64_t fence = 0;
  };
  enum class LeaseResult { kHeld, kBusy, kError };
  // Atomically (one EVAL): when PREFIX:ENV:lease:NAME does not exist, INCR PREFIX:ENV:fence:NAME and
  // SET the lease to {"token": random 128-bit hex, "who", "run", "since", "fence"} with PX ttl_ms.
  // kHeld: `token` and `fence` are ours. kBusy: `holder` from the current value and its PTTL in
  // `*holder_ttl_ms` (-1: no expiry). kError: last_error(); `token` is still set (it is generated
  // before sending), so a caller may Release(name, token) in case the request was applied.
  LeaseResult Acquire(const std::string& name, const std::string& who, const std::string& run, const std::string& since,
                      int64_t ttl_ms, std::string& token, LeaseHolder& holder, int64_t& fence,
                      int64_t* holder_ttl_ms = nullptr);
  // PEXPIRE the lease only if its value still holds `token` (one EVAL). False: lost (expired, maybe
  // taken by another: last_error() says so) or error.
  bool Renew(const std::string& name, const std::string& token, int64_t ttl_ms);
  // DEL the lease only if its value still holds `token` (one EVAL). False: not ours any more, or error.
  bool Release(const std::string& name, const std::string& token);

  // ---- window first-seen times (StateStore) ----
  std::optional<int64_t> GetTime(const std::string& key, bool& failed);  // GET PREFIX:ENV:window:KEY; failed: Redis failed
  bool SetTime(const std::string& key, int64_t ms);                       // SET ... (no expiry)
  bool EraseTime(const std::string& key);                                 // DEL ...

  // ---- pages sent: the first to claim a dedup key pages; the others see who did ----
  enum class Claim { kFirst, kTaken, kError };
  // SET PREFIX:ENV:paged:DEDUP VALUE NX EX ttl_s (ttl_s <= 0: no expiry), then GET, in one pipeline;
  // kTaken: `by` is the value already there.
  Claim ClaimPage(const std::string& dedup, const std::string& value, int64_t ttl_s, std::string& by);

  // ---- incident records ----
  // Deletes claim `dedup` only while it still holds `value` (this run's): false otherwise or on error.
  bool ReleaseClaim(const std::string& dedup, const std::string& value);
  bool PutIncident(const std::string& id, const std::string& json);  // HSET PREFIX:ENV:incidents ID JSON

  // ---- the audit stream: one record per entry ----
  // XADD PREFIX:ENV:stream:STREAM MAXLEN ~ 1000000 * record JSON; the entry id, or "" on error.
  std::string AppendStream(const std::string& stream, const std::string& record_json);
  // XRANGE in pages of 1000 -> every entry's `record` field, oldest first; false on error (an entry
  // without a `record` field is an error too).
  bool ReadStream(const std::string& stream, std::vector<std::string>& records);

 private:
  friend class LeaseKeeper;
  struct Replies;
  enum class RenewResult { kRenewed, kLost, kError };
  // Sends `commands` (connecting first if needed) within one deadline; false with `why` on a
  // connection failure. `idempotent`: may be sent once more on a new connection when a kept one
  // turns out closed by the server before anything was read.
  bool Exchange(const std::vector<std::vector<std::string>>& commands, Replies& out, std::string& why, bool idempotent);
  bool ExchangeOnce(const std::vector<std::vector<std::string>>& commands, Replies& out, std::string& why, bool& retry);
  void Disconnect();
  void SetError(const std::string& why) const;  // for the calling thread; "" clears it
  void ForgetThread() const;                    // drops the calling thread's entry
  RenewResult RenewLease(const std::string& name, const std::string& token, int64_t ttl_ms, std::string& why);

  RedisTeamConfig c_;
  mutable std::mutex mu_;  // the connection
  void* context_ = nullptr;  // redisContext*; null: not connected
  mutable std::mutex errors_mu_;
  mutable std::map<std::thread::id, std::string> errors_;
};

// A StateStore on RedisTeam: Get/Set/Erase of window first-seen times. When Redis fails, Get returns
// nullopt and Unavailable() the reason (the caller treats the window as unknown rather than closed);
// it recovers by itself when Redis answers again.
class RedisStateStore : public StateStore {
 public:
  explicit RedisStateStore(RedisTeam& team);
  std::optional<int64_t> Get(const std::string& key) override;
  void Set(const std::string& key, int64_t value) override;
  void Erase(const std::string& key) override;
  // The last failure's reason while failing; nullopt when the last call worked.
  std::optional<std::string> Unavailable() const override;

 private:
  void Note(bool ok);
  RedisTeam& team_;
  mutable std::mutex mu_;
  std::optional<std::string> unavailable_;
};

// Holds a lease from Acquire until destruction: a background thread renews it every ttl/3. When
// Redis answers that the lease no longer holds our token, it is lost at once. When a renewal fails
// for want of an answer (timeout, refused), it is tried again (every ttl/10) while the lease is
// surely still ours; once 2/3 of the ttl have passed since the last renewal that worked (or since
// construction), it is lost. Lost: lost() true, why() the reason, no more renewals. The destructor
// stops the thread promptly (condition variable) and calls Release (harmless when lost: Release
// only deletes a value still holding our token). Construct it right after a kHeld Acquire.
class LeaseKeeper {
 public:
  LeaseKeeper(RedisTeam& team, std::string name, std::string token, int64_t ttl_ms);
  ~LeaseKeeper();
  LeaseKeeper(const LeaseKeeper&) = delete;
  LeaseKeeper& operator=(const LeaseKeeper&) = delete;
  bool lost() const;
  std::string why() const;
  const std::string& name() const { return name_; }

 private:
  void Loop();
  RedisTeam& team_;
  const std::string name_, token_;
  const int64_t ttl_ms_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false, lost_ = false;
  std::string why_;
  std::thread thread_;
};

}  // namespace rb::rt
