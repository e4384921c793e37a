// Live reads: the natives against real servers, behind the runner's Provider interface
// (docs/live.md). Every failure is an unknown with its reason ("connection refused",
// "timeout after 2s", "Redis error: NOAUTH ..."), within the target's timeouts; nothing is guessed.
// Writes are never performed here: a live read provider answers reads only.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "runtime/environment.hpp"
#include "runtime/runner.hpp"

namespace rb::rt {

// A target's connection settings, from its entry in the environment file.
struct LiveTarget {
  std::string scheme, host;  // "redis", "127.0.0.1"
  int port = 0;
  int db = 0;                      // redis://host:port/DB
  int64_t connect_timeout_ms = 1000;  // `connect_timeout:` (default 1s)
  int64_t timeout_ms = 2000;          // `timeout:`, each request (default 2s)
  std::string auth_secret;            // `auth: SECRET`: a name under the environment's `secrets:`
};
// Parses the target `binding` of `env`; on failure returns nullopt and says why in `why`.
std::optional<LiveTarget> LiveTargetOf(const Environment& env, const std::string& binding, std::string& why);

// The value of secret `name` from the environment's `secrets:` (its variable or file), or nullopt
// with the reason (never the value) in `why`.
std::optional<std::string> ReadSecret(const Environment& env, const std::string& name, std::string& why);

// One Redis command over RESP (hiredis), with the target's connect and request timeouts.
struct RedisReply {
  bool ok = false;
  std::vector<std::string> lines;  // a bulk or status reply split into lines; an array, one per element
  std::string reason;              // !ok: "connection refused (127.0.0.1:6390)", "timeout after 2s"
};
RedisReply RedisCommand(const LiveTarget& t, const std::vector<std::string>& argv, const std::string& password);

// The provider of a live read-only world: natives it can serve are answered from the servers the
// environment names; methods run through their bodies; the same native call (target, native,
// arguments) is asked once per instant, however many symptoms read it.
class LiveProvider : public Provider {
 public:
  explicit LiveProvider(const Environment& env) : env_(env) {}
  ProbeAnswer Probe(const ProbeCall& call, int64_t now_ms) override;
  ExecAnswer Exec(const std::vector<std::string>& argv, Effect effect, int64_t now_ms) override;
  // What each native call answered at the last instant, "redis.ping -> PONG", for reports.
  struct Seen {
    std::string target, call, value;  // call: `redis("PING")`; value: its text, or "unknown: reason"
  };
  const std::vector<Seen>& seen() const { return seen_; }
  void ClearSeen() { seen_.clear(); }
  // How many requests reached a server so far (what the per-instant caches save shows here).
  size_t requests() const { return requests_; }

 private:
  ProbeAnswer Native(const ProbeCall& call);
  const Environment& env_;
  int64_t instant_ = -1;
  std::map<std::string, ProbeAnswer> cache_;  // this instant's answers, by "binding|native|args"
  std::map<std::string, RedisReply> info_;    // this instant's INFO of each Redis target, by binding
  std::vector<Seen> seen_;
  size_t requests_ = 0;
};

// Whether this build serves native `name` live (`runbook capabilities` shows it).
bool NativeIsLive(const std::string& name);

}  // namespace rb::rt
