// Live reads: the natives against real servers, behind the runner's Provider interface
// (docs/live.md). Every failure is an unknown with its reason ("connection refused",
// "timeout after 2s", "HTTP 503", "not a Prometheus exposition at line 3"), within the target's
// timeouts; nothing is guessed. Only reads are performed here: a native call or command whose bound
// words are not a read is refused, and so are the write natives (http_post, notify).
//
// The same native call (target, native, arguments) is asked once per instant, and the calls of an
// instant can be asked all at once (Prefetch): HTTP on one libcurl multi handle, Redis and commands
// each on a thread of their own, every one bounded by its own deadline. Triage finds what to ask by
// evaluating with discovery on (calls not asked yet read unknown and are noted), asking what was
// noted, and evaluating again until nothing new is asked.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "runtime/environment.hpp"
#include "runtime/registry.hpp"
#include "runtime/runner.hpp"

namespace rb::rt {

// A target's connection settings, from its entry in the environment file.
struct LiveTarget {
  std::string scheme, host;  // "redis", "127.0.0.1"
  int port = 0;
  int db = 0;                         // redis://host:port/DB
  std::string base;                   // http(s)://host:port/BASE: the address as written, without a trailing /
  int64_t connect_timeout_ms = 1000;  // `connect_timeout:` (default 1s)
  int64_t timeout_ms = 2000;          // `timeout:`, each request (default 2s)
  int64_t exec_timeout_ms = 10000;    // `exec_timeout:`, each command (default 10s)
  size_t max_body = 8u << 20;         // `max_body:` (default 8MB), an HTTP body past it is unknown
  std::string auth_secret;            // `auth: SECRET`: a name under the environment's `secrets:`
  std::string token_secret;           // `token: SECRET`: an HTTP bearer token
};
// Parses the target `binding` of `env`; on failure returns nullopt and says why in `why`.
std::optional<LiveTarget> LiveTargetOf(const Environment& env, const std::string& binding, std::string& why);

// The value of secret `name` from the environment's `secrets:` (its variable or file), or nullopt
// with the reason (never the value) in `why`. Reading one makes the process non-dumpable.
std::optional<std::string> ReadSecret(const Environment& env, const std::string& name, std::string& why);

// One Redis command over RESP (hiredis), with the target's connect timeout, then one deadline of
// `timeout_ms` for AUTH, SELECT and the command together.
struct RedisReply {
  bool ok = false;
  std::vector<std::string> lines;  // a bulk or status reply split into lines; an array, one per element
  std::string reason;              // !ok: "connection refused (127.0.0.1:6390)", "timeout after 2s"
};
RedisReply RedisCommand(const LiveTarget& t, const std::vector<std::string>& argv, const std::string& password);
// A connection kept between requests to one server (hiredis context; null: not connected).
struct RedisConnection {
  void* context = nullptr;
  void Close();
};
// Every command on `conn` (connecting, with AUTH and SELECT, when it is not connected), pipelined,
// within one deadline of the target's timeout; on a connection failure the rest fail with its reason
// and the connection is closed.
std::vector<RedisReply> RedisPipeline(RedisConnection& conn, const LiveTarget& t,
                                      const std::vector<std::vector<std::string>>& commands, const std::string& password);

// The provider of a live read-only world.
class LiveProvider : public Provider {
 public:
  // `registry` gives the program tables a command's effect is re-derived from (with the tables the
  // program carries: WithProgramTables); null: the default registry.
  explicit LiveProvider(const Environment& env, const Registry* registry = nullptr);
  ~LiveProvider() override;
  ProbeAnswer Probe(const ProbeCall& call, int64_t now_ms) override;
  // A step's command: run when its bound words are a read the environment allows, else refused.
  ExecAnswer Exec(const std::vector<std::string>& argv, Effect effect, int64_t now_ms) override;
  bool RunsSecrets() const override { return true; }
  bool RunsWrites() const override { return writes_; }

  // Asks every call not answered yet at `now_ms`, all at once, and keeps the answers for the instant.
  void Prefetch(const std::vector<ProbeCall>& calls, int64_t now_ms);
  // While discovery is on, a native call not answered yet reads unknown and is noted; EndDiscovery
  // turns it off and returns the noted calls, each once.
  void BeginDiscovery();
  std::vector<ProbeCall> EndDiscovery();
  // At each new instant, ask at once every call the previous instant asked (a run's ticks read the
  // same probes again); off by default.
  void SetWarmPrefetch(bool on) { warm_ = on; }
  // A dry run: a write is "not done (dry run)" rather than refused.
  void SetDryRun(bool on) { dry_run_ = on; }
  // A live run that changes things (`runbook run` without --dry-run): a step's write or destructive
  // command is run, the runner having had it approved and recorded first. Capability calls that
  // write are still refused.
  void SetWrites(bool on) { writes_ = on; }

  // What each native call answered at this instant, "redis.ping -> PONG", for reports.
  struct Seen {
    std::string target, call, value;  // call: `redis("PING")`; value: its text, or "unknown: reason"
    ProbeCall probe;                  // the call itself (binding, native, arguments)
    int64_t ms = -1;                  // how long the request that answered it took; -1: none was sent
  };
  const std::vector<Seen>& seen() const { return seen_; }
  void ClearSeen() {
    seen_.clear();
    shown_.clear();
  }
  // How many requests reached a server (or started a command) so far.
  size_t requests() const { return requests_.load(); }
  // `text` with every secret value this provider has read replaced by ***.
  std::string Redact(std::string text) const;

  struct Job;  // one native call planned: what to ask which server, how its reply becomes the answer

 private:
  Job Plan(const ProbeCall& call);
  void Run(std::vector<Job>& jobs);
  ProbeAnswer Finish(const ProbeCall& call, Job& job);
  ProbeAnswer Decode(const ProbeCall& call, Job& job);
  void NewInstant(int64_t now_ms);
  std::string Secret(const std::string& name, std::string& why);

  const Environment& env_;
  const Registry* registry_;
  int64_t instant_ = -1;
  std::map<std::string, ProbeAnswer> cache_;  // this instant's answers, by "binding|native|args"
  struct Replies;                              // what a server (or command) replied
  std::map<std::string, Replies> replies_;     // this instant's, by request
  std::map<std::string, int64_t> elapsed_;     // this instant's request times, by "binding|native|args"
  std::vector<ProbeCall> asked_, last_asked_;  // this instant's and the previous instant's calls
  bool discovering_ = false, warm_ = false, dry_run_ = false, writes_ = false;
  std::vector<ProbeCall> noted_;
  std::set<std::string> noted_keys_, shown_;
  std::vector<Seen> seen_;
  std::atomic<size_t> requests_{0};
  std::vector<std::string> secrets_;  // values read, for Redact
  mutable std::mutex secrets_mutex_;
  std::map<std::string, RedisConnection> redis_;  // kept open between instants, by server and credentials
};

// Whether this build serves native `name` live (`runbook capabilities` shows it), and, when it does
// not, why (`write`: a write native, never performed by a read).
bool NativeIsLive(const std::string& name);
std::string NativeNotLiveWhy(const std::string& name);

}  // namespace rb::rt
