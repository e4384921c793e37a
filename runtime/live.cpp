#include "runtime/live.hpp"

#include <hiredis/hiredis.h>
#include <sys/time.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

#include <fmt/format.h>

#include "lang/words.hpp"
#include "runtime/config.hpp"
#include "runtime/executor.hpp"

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

// Why a hiredis context failed, as an SRE reads it.
std::string ContextError(const redisContext* c, const LiveTarget& t, int64_t timeout_ms) {
  std::string where = fmt::format("{}:{}", t.host, t.port);
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

struct ContextFree {
  void operator()(redisContext* c) const { redisFree(c); }
};
struct ReplyFree {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Context = std::unique_ptr<redisContext, ContextFree>;
using Reply = std::unique_ptr<redisReply, ReplyFree>;

Reply Send(redisContext* c, const std::vector<std::string>& argv) {
  std::vector<const char*> ptrs;
  std::vector<size_t> lens;
  for (const auto& a : argv) {
    ptrs.push_back(a.data());
    lens.push_back(a.size());
  }
  return Reply(static_cast<redisReply*>(redisCommandArgv(c, static_cast<int>(argv.size()), ptrs.data(), lens.data())));
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
  t.port = colon == std::string::npos ? (t.scheme == "redis" ? 6379 : 0) : std::atoi(hostport.c_str() + colon + 1);
  if (t.host.empty() || t.port <= 0 || t.port > 65535) {
    why = fmt::format("target `{}`: address {} needs a host and a port", binding, a);
    return std::nullopt;
  }
  for (auto [key, out] : {std::pair<const char*, int64_t*>{"connect_timeout", &t.connect_timeout_ms},
                          std::pair<const char*, int64_t*>{"timeout", &t.timeout_ms}}) {
    std::string v = Field(e, key);
    if (v.empty()) continue;
    std::optional<int64_t> ms = ParseDurationMs(v);
    if (!ms || *ms <= 0) {
      why = fmt::format("target `{}`: {}: {} is not a duration such as 2s or 500ms", binding, key, v);
      return std::nullopt;
    }
    *out = *ms;
  }
  t.auth_secret = Field(e, "auth");
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
    return v;
  }
  why = fmt::format("secret `{}`: unknown source", name);
  return std::nullopt;
}

RedisReply RedisCommand(const LiveTarget& t, const std::vector<std::string>& argv, const std::string& password) {
  RedisReply out;
  Context c(redisConnectWithTimeout(t.host.c_str(), t.port, Tv(t.connect_timeout_ms)));
  if (!c || c->err) {
    out.reason = ContextError(c.get(), t, t.connect_timeout_ms);
    return out;
  }
  redisSetTimeout(c.get(), Tv(t.timeout_ms));
  auto step = [&](const std::vector<std::string>& words, const char* what) -> Reply {
    Reply r = Send(c.get(), words);
    if (!r) {
      out.reason = ContextError(c.get(), t, t.timeout_ms);
      return nullptr;
    }
    if (r->type == REDIS_REPLY_ERROR) {
      out.reason = fmt::format("Redis error{}: {}", what, std::string(r->str, r->len));
      return nullptr;
    }
    return r;
  };
  if (!password.empty() && !step({"AUTH", password}, " on AUTH")) return out;
  if (t.db != 0 && !step({"SELECT", std::to_string(t.db)}, " on SELECT")) return out;
  Reply r = step(argv, "");
  if (!r) return out;
  Flatten(r.get(), out.lines);
  out.ok = true;
  return out;
}

bool NativeIsLive(const std::string& name) { return name == "redis" || name == "redis_info"; }

ProbeAnswer LiveProvider::Probe(const ProbeCall& call, int64_t now_ms) {
  // A capability method runs through its body, whose natives come back here.
  if (call.method.find('.') != std::string::npos) {
    ProbeAnswer a;
    a.answered = false;
    return a;
  }
  if (now_ms != instant_) {
    instant_ = now_ms;
    cache_.clear();
    info_.clear();
  }
  std::string key = call.binding + "|" + call.method + "|" + ArgsKey(call.args);
  auto hit = cache_.find(key);
  if (hit != cache_.end()) return hit->second;
  ProbeAnswer a = Native(call);
  std::string args;
  for (const auto& v : call.args) args += (args.empty() ? "" : ", ") + (v.type == ValueType::kString ? "\"" + ToString(v) + "\"" : ToString(v));
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
  seen_.push_back(Seen{call.target, fmt::format("{}({})", call.method, args), shown});
  cache_.emplace(key, a);
  return a;
}

ProbeAnswer LiveProvider::Native(const ProbeCall& call) {
  ProbeAnswer a;
  a.value = Value::Unknown();
  if (!NativeIsLive(call.method)) {
    a.reason = fmt::format("no live `{}` native in this build yet (runbook capabilities lists the live ones)", call.method);
    return a;
  }
  std::string why;
  std::optional<LiveTarget> t = LiveTargetOf(env_, call.binding, why);
  if (!t) {
    a.reason = why;
    return a;
  }
  if (t->scheme != "redis") {
    a.reason = fmt::format("target `{}` is {}://, not a Redis server", call.binding, t->scheme);
    return a;
  }
  std::string password;
  if (!t->auth_secret.empty()) {
    std::optional<std::string> s = ReadSecret(env_, t->auth_secret, why);
    if (!s) {
      a.reason = why;
      return a;
    }
    password = *s;
  }
  std::vector<std::string> argv;
  if (call.method == "redis") {
    if (call.args.empty() || call.args[0].type != ValueType::kString) {
      a.reason = "redis(): no command text";
      return a;
    }
    // The bound text, split as a `$` line's words are (quotes group, a backslash escapes); braces
    // in it are values, not slots.
    std::string text;
    for (char c : call.args[0].Text()) text += (c == '{' || c == '}') ? std::string(2, c) : std::string(1, c);
    lang::LiteralProblem problem;
    std::optional<std::vector<lang::Word>> words = lang::SplitWords(text, lang::WordRule::kBound, problem);
    if (!words || words->empty()) {
      a.reason = fmt::format("redis(\"{}\"): not a Redis command", call.args[0].Text());
      return a;
    }
    for (const auto& w : *words) argv.push_back(w.Literal());
  } else {
    argv = {"INFO"};
  }
  // One INFO per target and instant serves every redis_info field read from it.
  auto cached = call.method == "redis_info" ? info_.find(call.binding) : info_.end();
  RedisReply r;
  if (cached != info_.end()) {
    r = cached->second;
  } else {
    ++requests_;
    r = RedisCommand(*t, argv, password);
  }
  if (call.method == "redis_info") info_[call.binding] = r;
  if (!r.ok) {
    a.reason = r.reason;
    return a;
  }
  if (call.method == "redis") {
    a.value = Value::Lines(std::move(r.lines));
    return a;
  }
  // redis_info(FIELD): the value of `FIELD:value` in INFO.
  std::string field = call.args.empty() ? std::string() : ToString(call.args[0]);
  for (const auto& line : r.lines) {
    if (line.size() > field.size() && line.compare(0, field.size(), field) == 0 && line[field.size()] == ':') {
      a.value = Value::String(line.substr(field.size() + 1));
      return a;
    }
  }
  a.reason = fmt::format("INFO has no field `{}`", field);
  return a;
}

ExecAnswer LiveProvider::Exec(const std::vector<std::string>& argv, Effect effect, int64_t now_ms) {
  (void)argv;
  (void)effect;
  (void)now_ms;
  ExecAnswer a;
  a.status = ExecAnswer::Status::kNoData;
  a.err = "commands are not run live by this build yet";
  return a;
}

}  // namespace rb::rt
