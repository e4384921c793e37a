#include "runtime/live.hpp"
#include "runtime/redis_error.hpp"

#include <hiredis/hiredis.h>
#include <sys/prctl.h>
#include <sys/time.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "lang/words.hpp"
#include "runtime/binding.hpp"
#include "runtime/config.hpp"
#include "runtime/executor.hpp"
#include "runtime/exposition.hpp"
#include "runtime/http.hpp"
#include "runtime/natives.hpp"
#include "runtime/sandbox.hpp"

namespace rb::rt {

namespace {

timeval Tv(int64_t ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms % 1000) * 1000);
  return tv;
}

std::string Field(const EnvTarget& t, const char* key) {
  auto it = t.fields.find(key);
  return it == t.fields.end() ? std::string() : it->second;
}

// "a:b:c" from a line "a:b:c\r": INFO lines end in CRLF.
std::vector<std::string> SplitReplyLines(const std::string& text) {
  std::vector<std::string> out;
  std::string line;
  std::istringstream in(text);
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    out.push_back(line);
  }
  return out;
}

void Flatten(const redisReply* r, std::vector<std::string>& out) {
  switch (r->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS: {
      std::vector<std::string> lines = SplitReplyLines(std::string(r->str, r->len));
      out.insert(out.end(), lines.begin(), lines.end());
      break;
    }
    case REDIS_REPLY_INTEGER: out.push_back(std::to_string(r->integer)); break;
    case REDIS_REPLY_NIL: out.emplace_back(); break;
    case REDIS_REPLY_ARRAY:
      for (size_t i = 0; i < r->elements; ++i) Flatten(r->element[i], out);
      break;
    default: break;
  }
}

std::string ContextError(const redisContext* c, const LiveTarget& t, int64_t timeout_ms) {
  return RedisContextError(c, fmt::format("{}:{}", t.host, t.port), timeout_ms);
}

}  // namespace

// Why a hiredis context failed, as an SRE reads it.
std::string RedisContextError(const void* context, const std::string& where, int64_t timeout_ms) {
  const auto* c = static_cast<const redisContext*>(context);
  if (c == nullptr) return "out of memory connecting to " + where;
  std::string err = c->errstr;
  if (c->err == REDIS_ERR_IO) {
    if (err.find("Connection refused") != std::string::npos) return "connection refused (" + where + ")";
    if (err.find("timed out") != std::string::npos || err.find("temporarily unavailable") != std::string::npos ||
        err.find("in progress") != std::string::npos) {
      return fmt::format("timeout after {} ({})", FormatMs(timeout_ms), where);
    }
  }
  if (c->err == REDIS_ERR_EOF) return "the server closed the connection (" + where + ")";
  return fmt::format("{} ({})", err.empty() ? "connection failed" : err, where);
}

namespace {

struct ContextFree {
  void operator()(redisContext* c) const { redisFree(c); }
};
struct ReplyFree {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Context = std::unique_ptr<redisContext, ContextFree>;
using Reply = std::unique_ptr<redisReply, ReplyFree>;

// "8MB", "512KB", "1GiB", "4096": bytes (KB = 1000, KiB = 1024, as in the language).
std::optional<size_t> ParseBytes(const std::string& text) {
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
  if (i == 0) return std::nullopt;
  double n = std::atof(text.substr(0, i).c_str());
  std::string unit = text.substr(i);
  static const std::pair<const char*, double> kUnits[] = {{"", 1},       {"B", 1},          {"KB", 1e3},
                                                          {"MB", 1e6},   {"GB", 1e9},       {"KiB", 1024.0},
                                                          {"MiB", 1048576.0}, {"GiB", 1073741824.0}};
  for (auto [u, scale] : kUnits) {
    if (unit == u) return static_cast<size_t>(n * scale);
  }
  return std::nullopt;
}

std::string ArgsKey(const std::vector<Value>& args) {
  std::string k;
  for (const auto& a : args) k += ToString(a) + "\x1f";
  return k;
}

}  // namespace

std::optional<LiveTarget> LiveTargetOf(const Environment& env, const std::string& binding, std::string& why) {
  auto it = env.targets.find(binding);
  if (it == env.targets.end()) {
    why = fmt::format("target `{}` is not in the environment file {}", binding, env.path);
    return std::nullopt;
  }
  const EnvTarget& e = it->second;
  LiveTarget t;
  std::string a = e.address;
  size_t s = a.find("://");
  if (s == std::string::npos) {
    why = fmt::format("target `{}`: address {} has no scheme (write redis://host:port)", binding, a);
    return std::nullopt;
  }
  t.scheme = a.substr(0, s);
  std::string rest = a.substr(s + 3);
  size_t slash = rest.find('/');
  std::string hostport = rest.substr(0, slash);
  if (slash != std::string::npos && slash + 1 < rest.size()) t.db = std::atoi(rest.c_str() + slash + 1);
  size_t colon = hostport.rfind(':');
  t.host = colon == std::string::npos ? hostport : hostport.substr(0, colon);
  int default_port = t.scheme == "redis" ? 6379 : t.scheme == "http" ? 80 : t.scheme == "https" ? 443 : t.scheme == "bolt" ? 7687 : 0;
  if (colon != std::string::npos && hostport.find(']') != std::string::npos && colon < hostport.find(']')) colon = std::string::npos;
  t.port = colon == std::string::npos ? default_port : std::atoi(hostport.c_str() + colon + 1);
  t.base = a;
  while (!t.base.empty() && t.base.back() == '/') t.base.pop_back();
  if (t.host.empty() || t.port <= 0 || t.port > 65535) {
    why = fmt::format("target `{}`: address {} needs a host and a port", binding, a);
    return std::nullopt;
  }
  for (auto [key, out] : {std::pair<const char*, int64_t*>{"connect_timeout", &t.connect_timeout_ms},
                          std::pair<const char*, int64_t*>{"timeout", &t.timeout_ms},
                          std::pair<const char*, int64_t*>{"exec_timeout", &t.exec_timeout_ms}}) {
    std::string v = Field(e, key);
    if (v.empty()) continue;
    std::optional<int64_t> ms = ParseDurationMs(v);
    if (!ms || *ms <= 0) {
      why = fmt::format("target `{}`: {}: {} is not a duration such as 2s or 500ms", binding, key, v);
      return std::nullopt;
    }
    *out = *ms;
  }
  if (std::string v = Field(e, "max_body"); !v.empty()) {
    std::optional<size_t> bytes = ParseBytes(v);
    if (!bytes || *bytes == 0) {
      why = fmt::format("target `{}`: max_body: {} is not a size such as 8MB or 512KB", binding, v);
      return std::nullopt;
    }
    t.max_body = *bytes;
  }
  t.auth_secret = Field(e, "auth");
  t.token_secret = Field(e, "token");
  return t;
}

std::optional<std::string> ReadSecret(const Environment& env, const std::string& name, std::string& why) {
  auto it = env.secrets.find(name);
  if (it == env.secrets.end()) {
    why = fmt::format("secret `{}` is not under `secrets:` in {}", name, env.path);
    return std::nullopt;
  }
  const std::string& src = it->second.source;
  if (src.rfind("env:", 0) == 0) {
    const char* v = std::getenv(src.c_str() + 4);
    if (v == nullptr) {
      why = fmt::format("secret `{}`: variable {} is not set", name, src.substr(4));
      return std::nullopt;
    }
    // No core dump or ptrace by another user of a process that holds a secret.
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    return std::string(v);
  }
  if (src.rfind("file:", 0) == 0) {
    std::ifstream in(src.substr(5), std::ios::binary);
    if (!in) {
      why = fmt::format("secret `{}`: cannot read {}", name, src.substr(5));
      return std::nullopt;
    }
    std::string v((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    while (!v.empty() && (v.back() == '\n' || v.back() == '\r')) v.pop_back();
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    return v;
  }
  why = fmt::format("secret `{}`: unknown source", name);
  return std::nullopt;
}

namespace {

using Deadline = std::chrono::steady_clock::time_point;
constexpr size_t kMaxRedisReply = 64u << 20;  // a reply past this is abandoned: unknown

std::vector<RedisReply> Pipeline(RedisConnection& conn, const LiveTarget& t, const std::vector<std::vector<std::string>>& commands,
                                 const std::string& password, Deadline deadline, bool may_retry) {
  std::vector<RedisReply> out(commands.size());
  auto fail_all = [&](const std::string& why, size_t from) {
    for (size_t i = from; i < out.size(); ++i) out[i].reason = why;
    conn.Close();  // a connection that failed is not used again
    return out;
  };
  auto left_ms = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
  };
  const std::string timeout = fmt::format("timeout after {} ({}:{})", FormatMs(t.timeout_ms), t.host, t.port);
  auto* c = static_cast<redisContext*>(conn.context);
  const bool reused = c != nullptr;
  // A new connection first authenticates and selects its database, in the same pipeline.
  std::vector<std::vector<std::string>> wire;
  if (c == nullptr) {
    c = redisConnectWithTimeout(t.host.c_str(), t.port, Tv(t.connect_timeout_ms));
    if (c == nullptr || c->err) {
      std::string why = ContextError(c, t, t.connect_timeout_ms);
      if (c != nullptr) redisFree(c);
      return fail_all(why, 0);
    }
    conn.context = c;
    if (!password.empty()) wire.push_back({"AUTH", password});
    if (t.db != 0) wire.push_back({"SELECT", std::to_string(t.db)});
  }
  const size_t setup = wire.size();
  wire.insert(wire.end(), commands.begin(), commands.end());
  for (const auto& argv : wire) {
    std::vector<const char*> ptrs;
    std::vector<size_t> lens;
    for (const auto& a : argv) {
      ptrs.push_back(a.data());
      lens.push_back(a.size());
    }
    redisAppendCommandArgv(c, static_cast<int>(argv.size()), ptrs.data(), lens.data());
  }
  // Every read and write waits at most what is left of the one deadline, so a server that drips
  // bytes cannot stretch a reply past it.
  auto wait_at_most_left = [&]() -> bool {
    int64_t l = left_ms();
    if (l <= 0) return false;
    redisSetTimeout(c, Tv(l));
    return true;
  };
  for (int done = 0; !done;) {
    if (!wait_at_most_left()) return fail_all(timeout, 0);
    if (redisBufferWrite(c, &done) != REDIS_OK) return fail_all(ContextError(c, t, t.timeout_ms), 0);
  }
  for (size_t i = 0; i < wire.size(); ++i) {
    Reply r;
    for (;;) {
      void* raw = nullptr;
      if (redisGetReplyFromReader(c, &raw) != REDIS_OK) {
        return fail_all(fmt::format("not a Redis reply from {}:{}: {}", t.host, t.port, c->errstr), i < setup ? 0 : i - setup);
      }
      if (raw != nullptr) {
        r.reset(static_cast<redisReply*>(raw));
        break;
      }
      if (c->reader != nullptr && c->reader->len > kMaxRedisReply) {
        return fail_all(fmt::format("reply larger than 64 MiB from {}:{}", t.host, t.port), i < setup ? 0 : i - setup);
      }
      if (!wait_at_most_left()) return fail_all(timeout, i < setup ? 0 : i - setup);
      if (redisBufferRead(c) != REDIS_OK) {
        // A kept connection the server closed since (a restart): once more on a new one, within
        // the same deadline.
        if (may_retry && reused && i == 0 && c->err == REDIS_ERR_EOF && left_ms() > 0) {
          conn.Close();
          return Pipeline(conn, t, commands, password, deadline, false);
        }
        if (may_retry && reused && i == 0 && c->err == REDIS_ERR_IO && left_ms() > 0 &&
            std::string(c->errstr).find("temporarily unavailable") == std::string::npos) {
          conn.Close();
          return Pipeline(conn, t, commands, password, deadline, false);
        }
        return fail_all(ContextError(c, t, t.timeout_ms), i < setup ? 0 : i - setup);
      }
    }
    if (i < setup) {
      if (r->type == REDIS_REPLY_ERROR) {
        return fail_all(fmt::format("Redis error on {}: {}", wire[i][0], std::string(r->str, r->len)), 0);
      }
      continue;
    }
    RedisReply& o = out[i - setup];
    if (r->type == REDIS_REPLY_ERROR) {
      o.reason = fmt::format("Redis error: {}", std::string(r->str, r->len));
      continue;
    }
    Flatten(r.get(), o.lines);
    o.ok = true;
  }
  return out;
}

}  // namespace

std::vector<RedisReply> RedisPipeline(RedisConnection& conn, const LiveTarget& t,
                                      const std::vector<std::vector<std::string>>& commands, const std::string& password) {
  // One deadline for AUTH, SELECT and every command: a paused server costs the timeout once.
  return Pipeline(conn, t, commands, password, std::chrono::steady_clock::now() + std::chrono::milliseconds(t.timeout_ms), true);
}

void RedisConnection::Close() {
  if (context != nullptr) redisFree(static_cast<redisContext*>(context));
  context = nullptr;
}

RedisReply RedisCommand(const LiveTarget& t, const std::vector<std::string>& argv, const std::string& password) {
  RedisConnection conn;
  RedisReply r = RedisPipeline(conn, t, {argv}, password)[0];
  conn.Close();
  return r;
}

namespace {

// The natives this build serves live, and why the others are not.
struct LiveNative {
  const char* name;
  const char* not_live;  // null: served
};
constexpr LiveNative kLiveNatives[] = {
    {"redis", nullptr},       {"redis_info", nullptr},  {"http_status", nullptr}, {"http_latency", nullptr},
    {"http_get", nullptr},    {"metric", nullptr},      {"prom", nullptr},        {"prom_series", nullptr},
    {"es_count", nullptr},    {"es_search", nullptr},   {"cypher", nullptr},      {"exec", nullptr},
    {"http_post", "a write: live reads never send it"},
    {"notify", "a write: pages are sent by live runs, not by reads"},
    {"acked", "no pager API is read by this build"},
};

const LiveNative* FindLive(const std::string& name) {
  for (const auto& n : kLiveNatives) {
    if (name == n.name) return &n;
  }
  return nullptr;
}

std::string Quoted(const Value& v) { return v.type == ValueType::kString ? "\"" + v.Text() + "\"" : ToString(v); }

std::string CallText(const ProbeCall& call) {
  std::string args;
  for (const auto& v : call.args) args += (args.empty() ? "" : ", ") + Quoted(v);
  return fmt::format("{}({})", call.method, args);
}

std::string ArgText(const ProbeCall& call, size_t i) {
  return i < call.args.size() ? (call.args[i].type == ValueType::kString ? call.args[i].Text() : ToString(call.args[i])) : std::string();
}

// The words of a bound command text, split as a `$` line's are (quotes group, a backslash
// escapes); braces in it are values, not slots.
std::optional<std::vector<std::string>> BoundWords(const std::string& bound) {
  std::string text;
  for (char c : bound) text += (c == '{' || c == '}') ? std::string(2, c) : std::string(1, c);
  lang::LiteralProblem problem;
  std::optional<std::vector<lang::Word>> words = lang::SplitWords(text, lang::WordRule::kBound, problem);
  if (!words || words->empty()) return std::nullopt;
  std::vector<std::string> out;
  for (const auto& w : *words) out.push_back(w.Literal());
  return out;
}

std::vector<std::string> BodyLines(const std::string& body) {
  std::vector<std::string> out;
  size_t from = 0;
  while (from < body.size()) {
    size_t nl = body.find('\n', from);
    std::string line = body.substr(from, nl == std::string::npos ? std::string::npos : nl - from);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    out.push_back(std::move(line));
    if (nl == std::string::npos) break;
    from = nl + 1;
  }
  return out;
}

// What makes two HTTP requests the same request: the method, URL and body, and who asks and what
// it trusts (the same URL under another token or CA is another request).
std::string HttpKey(const HttpRequest& r) {
  return fmt::format("{} {}\n{}\x1f{}\x1f{}\x1f{:x}\x1f{}\x1f{}\x1f{}", r.method, r.url, r.body, r.ca_file, r.user,
                     std::hash<std::string>{}(r.bearer + "\x1f" + r.password), r.connect_timeout_ms, r.timeout_ms, r.max_body);
}

// The sandbox of a command: the environment's allowlist and folders, and a child environment of
// PATH, the variables `exec.pass` lets through and those `exec.env` sets; nothing else of ours.
SandboxOptions SandboxFor(const Environment& env, int64_t timeout_ms) {
  SandboxOptions o;
  o.allow = env.exec_allow;
  o.path = env.exec_path;
  o.timeout_ms = timeout_ms;
  std::string path;
  for (const auto& d : env.exec_path) path += (path.empty() ? "" : ":") + d;
  o.env.emplace_back("PATH", path);
  auto set = [&](const std::string& name, const std::string& value) {
    for (auto& kv : o.env) {
      if (kv.first == name) {
        kv.second = value;
        return;
      }
    }
    o.env.emplace_back(name, value);
  };
  for (const auto& name : env.exec_pass) {
    if (const char* v = std::getenv(name.c_str())) set(name, v);
  }
  for (const auto& kv : env.exec_env) set(kv.first, kv.second);  // exec.env wins over a passed variable
  return o;
}

std::string HttpWhere(const HttpRequest& r) {
  size_t s = r.url.find("://");
  std::string rest = s == std::string::npos ? r.url : r.url.substr(s + 3);
  size_t q = rest.find('?');
  return q == std::string::npos ? rest : rest.substr(0, q);
}

// `j[key]` when `j` is an object that has it, else null (never an exception, never a new key).
const nlohmann::json& JGet(const nlohmann::json& j, const char* key) {
  static const nlohmann::json kNull;
  if (!j.is_object()) return kNull;
  auto it = j.find(key);
  return it == j.end() ? kNull : *it;
}
// `j[key]` when it is a string, else `def`.
std::string JStr(const nlohmann::json& j, const char* key, const std::string& def = "") {
  const nlohmann::json& v = JGet(j, key);
  return v.is_string() ? v.get<std::string>() : def;
}

// A JSON number or string as the language prints it: 12, 0.5, text.
std::string JsonText(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  if (v.is_number()) return fmt::format("{}", v.get<double>());
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_null()) return "null";
  return v.dump();
}

// Prometheus sample values are strings: "12", "NaN", "+Inf".
std::optional<double> PromNumber(const nlohmann::json& v) {
  if (!v.is_string()) return std::nullopt;
  const std::string s = v.get<std::string>();
  if (s == "NaN") return std::nan("");
  if (s == "+Inf" || s == "Inf") return HUGE_VAL;
  if (s == "-Inf") return -HUGE_VAL;
  char* end = nullptr;
  double d = std::strtod(s.c_str(), &end);
  if (end == s.c_str() || *end != 0) return std::nullopt;
  return d;
}

std::string LabelsText(const nlohmann::json& metric) {
  std::string out = "{";
  bool first = true;
  if (metric.is_object()) {
    for (auto it = metric.begin(); it != metric.end(); ++it) {
      out += fmt::format("{}{}=\"{}\"", first ? "" : ",", it.key(), JsonText(it.value()));
      first = false;
    }
  }
  return out + "}";
}

}  // namespace

struct LiveProvider::Job {
  enum class Kind : uint8_t { kDone, kRedis, kHttp, kExec } kind = Kind::kDone;
  ProbeAnswer answer;   // kDone: the answer already (an unknown with its reason)
  std::string raw_key;  // calls with the same raw key are asked once: one INFO, one scrape
  LiveTarget target;
  std::vector<std::string> argv;  // Redis command, or the command's words
  std::string password;
  HttpRequest http;
  SandboxOptions sandbox;
  RedisReply redis;
  HttpResponse response;
  SandboxResult exec;
  int64_t ms = -1;  // how long its request took; -1: none was sent
};

struct LiveProvider::Replies {
  RedisReply redis;
  HttpResponse response;
  SandboxResult exec;
  int64_t ms = -1;  // how long its request took; -1: none was sent
};

LiveProvider::LiveProvider(const Environment& env, const Registry* registry)
    : env_(env), registry_(registry != nullptr ? registry : &DefaultRegistry()) {
  // Every secret the environment names is known from the start, so that it is redacted from what
  // is printed before (or without) any native reading it. One that cannot be read now is said so
  // by the first native that needs it.
  for (const auto& [name, secret] : env_.secrets) {
    std::string why;
    Secret(name, why);
  }
}
LiveProvider::~LiveProvider() {
  for (auto& [server, conn] : redis_) conn.Close();
}

bool NativeIsLive(const std::string& name) {
  const LiveNative* n = FindLive(name);
  return n != nullptr && n->not_live == nullptr;
}

std::string NativeNotLiveWhy(const std::string& name) {
  const LiveNative* n = FindLive(name);
  if (n == nullptr) return "no live implementation in this build";
  return n->not_live == nullptr ? std::string() : n->not_live;
}

std::string LiveProvider::Secret(const std::string& name, std::string& why) {
  std::optional<std::string> v = ReadSecret(env_, name, why);
  if (!v) return {};
  // Redact may run on other threads (a live run's page deliveries): the list changes under its lock.
  std::lock_guard<std::mutex> hold(secrets_mutex_);
  bool added = false;
  auto add = [&](const std::string& value) {
    if (!value.empty() && std::find(secrets_.begin(), secrets_.end(), value) == secrets_.end()) {
      secrets_.push_back(value);
      added = true;
    }
  };
  add(*v);
  // As it appears inside JSON too (a value with quotes, backslashes or control bytes is escaped there).
  std::string quoted = nlohmann::json(*v).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (quoted.size() >= 2) add(quoted.substr(1, quoted.size() - 2));
  if (added) std::sort(secrets_.begin(), secrets_.end(), [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  return *v;
}

std::string LiveProvider::Redact(std::string text) const {
  std::lock_guard<std::mutex> hold(secrets_mutex_);
  for (const auto& s : secrets_) {  // longest first (Secret keeps them so): no secret is half-starred
    if (s.empty()) continue;
    for (size_t at = text.find(s); at != std::string::npos; at = text.find(s, at + 3)) text.replace(at, s.size(), "***");
  }
  return text;
}

void LiveProvider::NewInstant(int64_t now_ms) {
  if (now_ms == instant_) return;
  instant_ = now_ms;
  last_asked_ = std::move(asked_);
  asked_.clear();
  cache_.clear();
  replies_.clear();
  elapsed_.clear();
  if (warm_ && !last_asked_.empty()) Prefetch(last_asked_, now_ms);
}

void LiveProvider::BeginDiscovery() {
  discovering_ = true;
  noted_.clear();
  noted_keys_.clear();
}

std::vector<ProbeCall> LiveProvider::EndDiscovery() {
  discovering_ = false;
  noted_keys_.clear();
  return std::move(noted_);
}

ProbeAnswer LiveProvider::Probe(const ProbeCall& call, int64_t now_ms) {
  // A capability method runs through its body, whose natives come back here.
  if (call.method.find('.') != std::string::npos) {
    ProbeAnswer a;
    a.answered = false;
    return a;
  }
  NewInstant(now_ms);
  // An argument nobody knows is not sent as a word: the call's answer is unknown too.
  if (std::any_of(call.args.begin(), call.args.end(), [](const Value& v) { return v.IsUnknown(); })) {
    ProbeAnswer a;
    a.value = Value::Unknown();
    a.reason = "an argument is unknown";
    return a;
  }
  std::string key = call.binding + "|" + call.method + "|" + ArgsKey(call.args);
  auto hit = cache_.find(key);
  if (hit == cache_.end()) {
    if (discovering_) {
      if (noted_keys_.insert(key).second) noted_.push_back(call);
      ProbeAnswer a;
      a.value = Value::Unknown();
      a.reason = "not asked yet";
      return a;
    }
    std::vector<Job> jobs;
    jobs.push_back(Plan(call));
    Run(jobs);
    hit = cache_.emplace(key, Finish(call, jobs[0])).first;
    elapsed_[key] = jobs[0].ms;
    asked_.push_back(call);
  }
  const ProbeAnswer& a = hit->second;
  if (!discovering_ && shown_.insert(key).second) {
    std::string shown;
    if (a.value.IsUnknown()) {
      shown = "unknown: " + a.reason;
    } else if (a.value.type == ValueType::kLines) {
      const auto& lines = a.value.heap->lines;
      shown = lines.empty() ? "(no lines)" : "\"" + lines.front() + "\"";
      if (lines.size() > 1) shown += fmt::format(" … ({} lines)", lines.size());
    } else {
      shown = ToString(a.value);
    }
    auto ms = elapsed_.find(key);
    seen_.push_back(Seen{call.target, Redact(CallText(call)), shown, call, ms == elapsed_.end() ? -1 : ms->second});
  }
  return a;
}

void LiveProvider::Prefetch(const std::vector<ProbeCall>& calls, int64_t now_ms) {
  NewInstant(now_ms);
  std::vector<const ProbeCall*> todo;
  std::vector<Job> jobs;
  std::set<std::string> keys;
  for (const auto& c : calls) {
    if (c.method.find('.') != std::string::npos) continue;
    if (std::any_of(c.args.begin(), c.args.end(), [](const Value& v) { return v.IsUnknown(); })) continue;
    std::string key = c.binding + "|" + c.method + "|" + ArgsKey(c.args);
    if (cache_.count(key) != 0 || !keys.insert(key).second) continue;
    todo.push_back(&c);
    jobs.push_back(Plan(c));
  }
  Run(jobs);
  for (size_t i = 0; i < jobs.size(); ++i) {
    const ProbeCall& c = *todo[i];
    std::string key = c.binding + "|" + c.method + "|" + ArgsKey(c.args);
    cache_.emplace(key, Finish(c, jobs[i]));
    elapsed_[key] = jobs[i].ms;
    asked_.push_back(c);
  }
}

LiveProvider::Job LiveProvider::Plan(const ProbeCall& call) {
  Job j;
  j.answer.value = Value::Unknown();
  auto fail = [&](std::string why) {
    j.kind = Job::Kind::kDone;
    j.answer.reason = std::move(why);
    return std::move(j);
  };
  const LiveNative* live = FindLive(call.method);
  if (live == nullptr || live->not_live != nullptr) {
    return fail(fmt::format("`{}` is not read live: {} (runbook capabilities lists what is)", call.method,
                            NativeNotLiveWhy(call.method)));
  }
  std::string why;
  std::optional<LiveTarget> t = LiveTargetOf(env_, call.binding, why);
  if (!t) return fail(why);
  j.target = *t;
  const std::string& m = call.method;
  const std::string a0 = ArgText(call, 0);
  const auto& fields = env_.targets.at(call.binding).fields;
  auto field = [&](const char* k) {
    auto it = fields.find(k);
    return it == fields.end() ? std::string() : it->second;
  };
  // A command native's bound words must be a read, derived from the program's table right now.
  auto must_read = [&](const char* native, const std::string& text) -> std::string {
    uint16_t n = FindNative(native);
    CommandEffect e = NativeCommandEffect(Natives()[n], &text, *registry_);
    if (e.effect == Effect::kRead) return {};
    if (dry_run_) return fmt::format("not done (dry run): `{}` is a {} ({})", Redact(text), EffectName(e.effect), e.rule);
    return fmt::format("refused: `{}` is {} ({}); live reads run only reads", Redact(text), EffectName(e.effect), e.rule);
  };
  auto http = [&](const std::string& url) {
    j.kind = Job::Kind::kHttp;
    j.http.url = url;
    j.http.connect_timeout_ms = t->connect_timeout_ms;
    j.http.timeout_ms = t->timeout_ms;
    j.http.max_body = t->max_body;
    j.http.ca_file = field("ca");
  };
  auto want_http = [&]() -> bool { return t->scheme == "http" || t->scheme == "https"; };

  if (m == "redis" || m == "redis_info") {
    if (t->scheme != "redis") return fail(fmt::format("target `{}` is {}://, not a Redis server", call.binding, t->scheme));
    if (!t->auth_secret.empty()) {
      j.password = Secret(t->auth_secret, why);
      if (!why.empty()) return fail(why);
    }
    if (m == "redis") {
      std::optional<std::vector<std::string>> words = BoundWords(a0);
      if (!words) return fail(fmt::format("redis(\"{}\"): not a Redis command", a0));
      if (std::string r = must_read("redis", a0); !r.empty()) return fail(r);
      // Commands that turn the connection into a stream of pushes would poison the kept connection.
      std::string first = (*words)[0];
      for (auto& ch : first) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      for (const char* stream : {"MONITOR", "SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "SYNC", "PSYNC"}) {
        if (first == stream) return fail(fmt::format("redis(\"{}\"): {} streams without end; a probe reads one reply", a0, stream));
      }
      j.argv = *words;
    } else {
      j.argv = {"INFO"};
    }
    j.kind = Job::Kind::kRedis;
    std::string k = fmt::format("redis|{}:{}/{}|{:x}|{}|{}", t->host, t->port, t->db, std::hash<std::string>{}(j.password),
                                t->connect_timeout_ms, t->timeout_ms);
    for (const auto& w : j.argv) k += "\x1f" + w;
    j.raw_key = k;
    return j;
  }
  if (m == "exec") {
    std::optional<std::vector<std::string>> words = BoundWords(a0);
    if (!words) return fail(fmt::format("exec(\"{}\"): not a command", Redact(a0)));
    if (std::string r = must_read("exec", a0); !r.empty()) return fail(r);
    j.kind = Job::Kind::kExec;
    j.argv = *words;
    j.sandbox = SandboxFor(env_, t->exec_timeout_ms);
    j.raw_key = fmt::format("exec|{}", t->exec_timeout_ms);
    for (const auto& w : j.argv) j.raw_key += "\x1f" + w;
    return j;
  }
  if (m == "prom" || m == "prom_series") {
    std::string server = field("prometheus");
    if (server.empty()) {
      return fail(fmt::format("target `{}` has no `prometheus:` (the Prometheus server its prom() queries are sent to): "
                              "add prometheus: http://HOST:9090 to it in {}", call.binding, env_.path));
    }
    while (!server.empty() && server.back() == '/') server.pop_back();
    http(server + "/api/v1/query?query=" + UrlEncode(a0));
    if (std::string tok = field("prometheus_token"); !tok.empty()) {
      j.http.bearer = Secret(tok, why);
      if (!why.empty()) return fail(why);
    }
    j.raw_key = HttpKey(j.http);
    return j;
  }
  if (!t->token_secret.empty()) {
    j.http.bearer = Secret(t->token_secret, why);
    if (!why.empty()) return fail(why);
  }
  if (m == "cypher") {
    if (std::string r = must_read("cypher", a0); !r.empty()) return fail(r);
    std::string api = field("http");
    if (api.empty() && want_http()) api = t->base;
    if (api.empty()) {
      return fail(fmt::format("target `{}` is {}://: cypher() is read over Neo4j's HTTP API; add http: http://HOST:7474 "
                              "to it in {}", call.binding, t->scheme, env_.path));
    }
    while (!api.empty() && api.back() == '/') api.pop_back();
    std::string db = field("database").empty() ? "neo4j" : field("database");
    std::string bearer = j.http.bearer;
    http(api + "/db/" + db + "/tx/commit");
    j.http.bearer = bearer;
    j.http.method = "POST";
    j.http.headers = {"Content-Type: application/json", "Accept: application/json"};
    j.http.body = nlohmann::json{{"statements", {{{"statement", a0}}}}}.dump();
    if (!t->auth_secret.empty()) {
      j.http.user = field("user").empty() ? "neo4j" : field("user");
      j.http.password = Secret(t->auth_secret, why);
      if (!why.empty()) return fail(why);
    }
    j.raw_key = HttpKey(j.http);
    return j;
  }
  if (!want_http()) {
    return fail(fmt::format("target `{}` is {}://: `{}` reads http:// or https:// addresses", call.binding, t->scheme, m));
  }
  std::string bearer = j.http.bearer;
  if (m == "http_status" || m == "http_latency" || m == "http_get") {
    http(t->base + (a0.empty() || a0[0] != '/' ? "/" : "") + a0);
  } else if (m == "metric") {
    std::string path = field("metrics").empty() ? "/metrics" : field("metrics");
    http(t->base + (path[0] != '/' ? "/" : "") + path);
  } else {  // es_count, es_search
    if (a0.empty() || a0.find_first_of("/?# ") != std::string::npos) return fail(fmt::format("{}: `{}` is not an index name", m, a0));
    const Value* window = call.args.size() > 2 ? &call.args[2] : nullptr;
    int64_t secs = window != nullptr && window->type == ValueType::kDuration ? static_cast<int64_t>(window->number / 1000) : 0;
    nlohmann::json q = {{"bool", {{"must", {{{"query_string", {{"query", ArgText(call, 1)}}}}}},
                                  {"filter", {{{"range", {{"@timestamp", {{"gte", fmt::format("now-{}s", secs)}}}}}}}}}}};
    nlohmann::json body = {{"query", q}};
    if (m == "es_search") {
      body["size"] = 100;
      body["sort"] = {{{"@timestamp", "desc"}}};
    }
    http(t->base + "/" + UrlEncode(a0) + (m == "es_count" ? "/_count" : "/_search"));
    j.http.method = "POST";
    j.http.headers = {"Content-Type: application/json"};
    j.http.body = body.dump();
  }
  j.http.bearer = bearer;
  j.raw_key = HttpKey(j.http);
  return j;
}

void LiveProvider::Run(std::vector<Job>& jobs) {
  // Each distinct request once: the first job of each raw key asks, the others share its reply.
  // A reply this instant already has (one INFO, one scrape) serves every call that reads it.
  std::map<std::string, size_t> first;
  std::vector<size_t> http, other;
  for (size_t i = 0; i < jobs.size(); ++i) {
    Job& j = jobs[i];
    if (j.kind == Job::Kind::kDone) continue;
    if (auto r = replies_.find(j.raw_key); r != replies_.end()) {
      j.redis = r->second.redis;
      j.response = r->second.response;
      j.exec = r->second.exec;
      j.ms = r->second.ms;
      continue;
    }
    if (!first.emplace(jobs[i].raw_key, i).second) continue;
    (jobs[i].kind == Job::Kind::kHttp ? http : other).push_back(i);
  }
  requests_ += http.size() + other.size();
  // The Redis requests to one server go out pipelined on its kept connection: one task per server.
  // Each command is its own task otherwise.
  std::vector<std::vector<size_t>> tasks;
  std::map<std::string, size_t> by_server;
  for (size_t i : other) {
    const Job& j = jobs[i];
    if (j.kind != Job::Kind::kRedis) {
      tasks.push_back({i});
      continue;
    }
    std::string server = fmt::format("{}:{}/{}\x1f{}\x1f{}\x1f{}", j.target.host, j.target.port, j.target.db, j.password,
                                     j.target.connect_timeout_ms, j.target.timeout_ms);
    auto [it, fresh] = by_server.emplace(server, tasks.size());
    if (fresh) tasks.emplace_back();
    tasks[it->second].push_back(i);
  }
  std::vector<RedisConnection*> conns(tasks.size(), nullptr);
  for (const auto& [server, t] : by_server) conns[t] = &redis_[server];  // one task per server: no sharing
  auto run_task = [&](size_t t) {
    auto t0 = std::chrono::steady_clock::now();
    const std::vector<size_t>& ids = tasks[t];
    Job& head = jobs[ids[0]];
    if (head.kind == Job::Kind::kRedis) {
      std::vector<std::vector<std::string>> commands;
      for (size_t i : ids) commands.push_back(jobs[i].argv);
      std::vector<RedisReply> replies = RedisPipeline(*conns[t], head.target, commands, head.password);
      for (size_t k = 0; k < ids.size(); ++k) jobs[ids[k]].redis = std::move(replies[k]);
    } else {
      head.exec = RunSandboxed(head.argv, head.sandbox);
    }
    int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    for (size_t i : ids) jobs[i].ms = ms;
  };
  std::vector<std::thread> threads;
  std::thread http_thread;
  if (!http.empty()) {
    http_thread = std::thread([&] {
      std::vector<HttpRequest> reqs;
      for (size_t i : http) reqs.push_back(jobs[i].http);
      std::vector<HttpResponse> out = HttpFetchAll(reqs);
      for (size_t k = 0; k < http.size(); ++k) {
        jobs[http[k]].ms = out[k].elapsed_ms;
        jobs[http[k]].response = std::move(out[k]);
      }
    });
  }
  std::atomic<size_t> next{0};  // outlives the workers: they are joined below
  if (tasks.size() == 1 && http.empty()) {
    run_task(0);
  } else {
    // A thread per task, up to 64 at once: a dead server costs its own timeout, not the sum.
    size_t n = std::min<size_t>(tasks.size(), 64);
    for (size_t w = 0; w < n; ++w) {
      threads.emplace_back([&] {
        for (size_t k = next++; k < tasks.size(); k = next++) run_task(k);
      });
    }
  }
  for (auto& th : threads) th.join();
  if (http_thread.joinable()) http_thread.join();
  for (const auto& [key, i] : first) replies_[key] = Replies{jobs[i].redis, jobs[i].response, jobs[i].exec, jobs[i].ms};
  for (auto& j : jobs) {
    if (j.kind == Job::Kind::kDone || first.count(j.raw_key) == 0) continue;
    const Job& src = jobs[first.at(j.raw_key)];
    if (&src == &j) continue;
    j.redis = src.redis;
    j.response = src.response;
    j.exec = src.exec;
    j.ms = src.ms;
  }
}

ProbeAnswer LiveProvider::Finish(const ProbeCall& call, Job& j) {
  // A reply of an unexpected shape (JSON that parses, but is not what the API documents) is an
  // unknown with its reason, never an exception that ends the run.
  try {
    return Decode(call, j);
  } catch (const std::exception& e) {
    ProbeAnswer a;
    a.value = Value::Unknown();
    a.reason = Redact(fmt::format("{}: the reply of {} is not of the shape its API documents ({})", call.method,
                                  j.kind == Job::Kind::kHttp ? HttpWhere(j.http) : j.target.host, e.what()));
    return a;
  }
}

ProbeAnswer LiveProvider::Decode(const ProbeCall& call, Job& j) {
  ProbeAnswer a;
  a.value = Value::Unknown();
  const std::string& m = call.method;
  const std::string a0 = ArgText(call, 0);
  auto unknown = [&](std::string why) {
    a.value = Value::Unknown();
    a.reason = Redact(std::move(why));
    return a;
  };
  switch (j.kind) {
    case Job::Kind::kDone: return unknown(j.answer.reason);
    case Job::Kind::kRedis: {
      if (!j.redis.ok) return unknown(j.redis.reason);
      if (m == "redis") {
        std::vector<std::string> lines = j.redis.lines;
        for (auto& l : lines) l = Redact(l);
        a.value = Value::Lines(std::move(lines));
        return a;
      }
      for (const auto& line : j.redis.lines) {
        if (line.size() > a0.size() && line.compare(0, a0.size(), a0) == 0 && line[a0.size()] == ':') {
          a.value = Value::String(Redact(line.substr(a0.size() + 1)));
          return a;
        }
      }
      return unknown(fmt::format("INFO has no field `{}`", a0));
    }
    case Job::Kind::kExec: {
      const SandboxResult& r = j.exec;
      std::string shown = j.argv.empty() ? std::string() : j.argv[0];
      if (r.status != SandboxResult::Status::kExited || r.exit_code != 0) return unknown(fmt::format("`{}`: {}", shown, r.reason));
      if (r.out_truncated) {
        return unknown(fmt::format("`{}`: {} (output past the cap is not read: it would be a guess)", shown, r.reason));
      }
      std::vector<std::string> lines = BodyLines(r.out);
      for (auto& l : lines) l = Redact(l);
      a.value = Value::Lines(std::move(lines));
      return a;
    }
    case Job::Kind::kHttp: break;
  }
  const HttpResponse& r = j.response;
  if (!r.ok) return unknown(r.reason);
  std::string where = HttpWhere(j.http);
  if (m == "http_status") {
    a.value = Value::Number(ValueType::kNum, static_cast<double>(r.status));
    return a;
  }
  if (m == "http_latency") {
    a.value = Value::Number(ValueType::kDuration, static_cast<double>(r.elapsed_ms));
    return a;
  }
  auto json = [&](const char* what, nlohmann::json& out) -> std::string {
    out = nlohmann::json::parse(r.body, nullptr, false);
    if (out.is_discarded()) return fmt::format("{} at {} did not answer JSON (HTTP {})", what, where, r.status);
    return {};
  };
  if (m == "prom" || m == "prom_series") {
    nlohmann::json doc;
    if (std::string e = json("Prometheus", doc); !e.empty()) return unknown(e);
    if (!doc.is_object()) return unknown(fmt::format("Prometheus at {} answered JSON that is not an object (HTTP {})", where, r.status));
    if (JStr(doc, "status") != "success") {
      return unknown(fmt::format("Prometheus: {}: {} (HTTP {})", JStr(doc, "errorType", "error"), JStr(doc, "error", "no reason given"), r.status));
    }
    const nlohmann::json& data = JGet(doc, "data");
    std::string type = JStr(data, "resultType");
    const nlohmann::json& result = data.is_object() && data.contains("result") ? data["result"] : nlohmann::json();
    std::vector<std::pair<std::string, double>> series;
    if (type == "scalar" && result.is_array() && result.size() == 2) {
      std::optional<double> v = PromNumber(result[1]);
      if (!v) return unknown(fmt::format("Prometheus answered a scalar that is not a number for `{}`", a0));
      series.emplace_back("", *v);
    } else if (type == "vector" && result.is_array()) {
      for (const auto& s : result) {
        const nlohmann::json& value = JGet(s, "value");
        std::optional<double> v = value.is_array() && value.size() == 2 ? PromNumber(value[1]) : std::nullopt;
        if (!v) return unknown(fmt::format("Prometheus answered a sample that is not a number for `{}`", a0));
        series.emplace_back(LabelsText(JGet(s, "metric")), *v);
      }
    } else {
      return unknown(fmt::format("Prometheus answered a {} for `{}`: prom() takes an instant query of a scalar or a vector",
                                 type.empty() ? "result of no type" : type, a0));
    }
    if (m == "prom_series") {
      std::vector<std::string> lines;
      for (const auto& [labels, v] : series) lines.push_back(Redact(fmt::format("{}{}{}", labels, labels.empty() ? "" : " ", v)));
      a.value = Value::Lines(std::move(lines));
      return a;
    }
    if (series.empty()) return unknown(fmt::format("no series for `{}` in Prometheus (nothing scraped, or no match)", a0));
    if (series.size() > 1) {
      return unknown(fmt::format("{} series for `{}`: prom() needs one number; aggregate in the query (sum(...), max(...))",
                                 series.size(), a0));
    }
    if (std::isnan(series[0].second)) return unknown(fmt::format("Prometheus answered NaN for `{}` (0/0: nothing to divide)", a0));
    a.value = Value::Number(ValueType::kNum, series[0].second);
    return a;
  }
  if (r.status >= 400) {
    std::string detail;
    nlohmann::json doc = nlohmann::json::parse(r.body, nullptr, false);
    if (!doc.is_discarded() && doc.is_object()) {
      detail = JStr(JGet(doc, "error"), "reason");
      const nlohmann::json& errors = JGet(doc, "errors");
      if (errors.is_array() && !errors.empty()) detail = JStr(errors[0], "message");
    }
    return unknown(fmt::format("HTTP {} from {}{}", r.status, where, detail.empty() ? "" : ": " + detail));
  }
  if (m == "http_get") {
    std::vector<std::string> lines = BodyLines(r.body);
    for (auto& l : lines) l = Redact(l);
    a.value = Value::Lines(std::move(lines));
    return a;
  }
  if (m == "metric") {
    ExpositionError err;
    std::optional<Exposition> e = ParseExposition(r.body, err);
    if (!e) return unknown(fmt::format("{} ({})", Describe(err), where));
    std::string why;
    std::optional<double> v = SumMatching(*e, a0, why);
    if (!v) return unknown(fmt::format("{} ({})", why, where));
    a.value = Value::Number(ValueType::kNum, *v);
    return a;
  }
  if (m == "es_count" || m == "es_search") {
    nlohmann::json doc;
    if (std::string e = json("Elasticsearch", doc); !e.empty()) return unknown(e);
    if (m == "es_count") {
      if (!doc.is_object() || !doc.contains("count") || !doc["count"].is_number()) {
        return unknown(fmt::format("Elasticsearch at {} answered no `count`", where));
      }
      a.value = Value::Number(ValueType::kNum, doc["count"].get<double>());
      return a;
    }
    std::vector<std::string> lines;
    const nlohmann::json* hits = doc.is_object() && doc.contains("hits") && doc["hits"].is_object() && doc["hits"].contains("hits")
                                     ? &doc["hits"]["hits"] : nullptr;
    if (hits == nullptr || !hits->is_array()) return unknown(fmt::format("Elasticsearch at {} answered no hits", where));
    for (const auto& h : *hits) {
      const nlohmann::json src = h.is_object() && h.contains("_source") ? h["_source"] : nlohmann::json::object();
      lines.push_back(Redact(src.is_object() && src.contains("message") ? JsonText(src["message"]) : src.dump()));
    }
    a.value = Value::Lines(std::move(lines));
    return a;
  }
  // cypher: Neo4j's transactional HTTP API; the lines are cypher-shell's: the columns, then a row each.
  nlohmann::json doc;
  if (std::string e = json("Neo4j", doc); !e.empty()) return unknown(e);
  if (doc.is_object() && doc.contains("errors") && doc["errors"].is_array() && !doc["errors"].empty()) {
    const auto& e = doc["errors"][0];
    return unknown(fmt::format("Neo4j: {}: {}", JStr(e, "code", "error"), JStr(e, "message")));
  }
  if (!doc.is_object() || !doc.contains("results") || !doc["results"].is_array() || doc["results"].empty()) {
    return unknown(fmt::format("Neo4j at {} answered no results", where));
  }
  const auto& res = doc["results"][0];
  std::vector<std::string> lines;
  std::string header;
  const nlohmann::json& columns = JGet(res, "columns");
  if (columns.is_array()) {
    for (const auto& c : columns) header += (header.empty() ? "" : ", ") + JsonText(c);
  }
  lines.push_back(Redact(header));
  const nlohmann::json& rows = JGet(res, "data");
  for (const auto& d : rows.is_array() ? rows : nlohmann::json::array()) {
    std::string row;
    bool first = true;
    const nlohmann::json& cells = JGet(d, "row");
    for (const auto& v : cells.is_array() ? cells : nlohmann::json::array()) {
      row += (first ? "" : ", ") + JsonText(v);
      first = false;
    }
    lines.push_back(Redact(row));
  }
  a.value = Value::Lines(std::move(lines));
  return a;
}

ExecAnswer LiveProvider::Exec(const std::vector<std::string>& argv, Effect effect, int64_t now_ms) {
  (void)now_ms;
  ExecAnswer a;
  if (argv.empty()) {
    a.status = ExecAnswer::Status::kFailed;
    a.err = "an empty command";
    return a;
  }
  if (effect != Effect::kRead && !writes_) {
    // Shown as it would be done (its bound words are in the trace), never done.
    a.status = ExecAnswer::Status::kNotRun;
    a.err = fmt::format("not done ({}: {})", dry_run_ ? "dry run" : "live reads run only reads", EffectName(effect));
    return a;
  }
  // The secrets' values go into the words now, and only here (BoundCommand::secret_argv).
  std::vector<std::string> words = argv;
  for (auto& w : words) {
    for (size_t at = w.find(kSecretMark); at != std::string::npos; at = w.find(kSecretMark, at)) {
      size_t close = w.find(kSecretMark, at + 1);
      if (close == std::string::npos) break;
      std::string why;
      std::string value = Secret(w.substr(at + 1, close - at - 1), why);
      if (!why.empty()) {
        a.status = ExecAnswer::Status::kFailed;
        a.exit_code = -1;
        a.err = "not run: " + why;
        return a;
      }
      w.replace(at, close - at + 1, value);
      at += value.size();
    }
  }
  ++requests_;
  SandboxResult r = RunSandboxed(words, SandboxFor(env_, 10000));
  a.out = Redact(r.out);
  // An exit status: the runner shows it with the command's own stderr; anything else (refused, not
  // found, timeout), the sandbox's reason.
  a.err = Redact(r.status == SandboxResult::Status::kExited ? r.err : r.reason);
  a.exit_code = r.exit_code;
  a.status = r.status == SandboxResult::Status::kTimeout ? ExecAnswer::Status::kTimeout
             : r.status == SandboxResult::Status::kExited && r.exit_code == 0 ? ExecAnswer::Status::kOk
                                                                             : ExecAnswer::Status::kFailed;
  return a;
}

}  // namespace rb::rt
