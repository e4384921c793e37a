#include "runtime/pager.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <exception>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "runtime/http.hpp"
#include "runtime/sha256.hpp"

namespace rb::rt {

namespace {

using Steady = std::chrono::steady_clock;
using json = nlohmann::json;

constexpr int64_t kDefaultDeadlineMs = 20000;
constexpr int64_t kDefaultAttemptMs = 5000;
constexpr int64_t kDefaultConnectMs = 2000;
constexpr int64_t kFirstBackoffMs = 250;
constexpr int64_t kMaxBackoffMs = 4000;
constexpr int64_t kMinAttemptMs = 100;   // a retry that would have less than this left is not started
constexpr int64_t kLastAttemptMs = 500;  // what a retry is left at least (its wait shortened for it)
constexpr int64_t kMinGapMs = 100;       // the shortest wait between two attempts
constexpr size_t kSummaryMax = 1024;     // PagerDuty's payload.summary
constexpr size_t kDedupMax = 255;        // PagerDuty's dedup_key
constexpr size_t kMessageMax = 1000;     // the runbook's message inside a one-line text
constexpr size_t kSnippetMax = 160;      // a reply body quoted in a reason

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// At most `max` bytes, cut on a UTF-8 character boundary, "…" marking the cut.
std::string Truncate(const std::string& s, size_t max) {
  if (s.size() <= max) return s;
  static const std::string kEllipsis = "\xE2\x80\xA6";
  if (max < kEllipsis.size()) return s.substr(0, max);
  size_t cut = max - kEllipsis.size();
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return s.substr(0, cut) + kEllipsis;
}

// Whitespace runs (newlines and tabs included) become one space; the ends are trimmed.
std::string OneLine(const std::string& s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\v' || c == '\f') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

std::string TrimSpace(std::string s) {
  auto is_space = [](char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; };
  while (!s.empty() && is_space(s.back())) s.pop_back();
  size_t from = 0;
  while (from < s.size() && is_space(s[from])) ++from;
  return s.substr(from);
}

// Slack's mrkdwn reads &, < and > as markup: they are sent escaped.
std::string SlackEscape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      default: out += c;
    }
  }
  return out;
}

bool IsHttpUrl(const std::string& url) {
  auto starts = [&](const char* p) {
    size_t n = std::char_traits<char>::length(p);
    if (url.size() <= n) return false;
    for (size_t i = 0; i < n; ++i) {
      if (std::tolower(static_cast<unsigned char>(url[i])) != p[i]) return false;
    }
    return true;
  };
  return starts("http://") || starts("https://");
}

// The URL as shown: credentials written into it (user:password@) are starred.
std::string DisplayUrl(const std::string& url) {
  size_t s = url.find("://");
  size_t from = s == std::string::npos ? 0 : s + 3;
  size_t to = url.find_first_of("/?#", from);
  if (to == std::string::npos) to = url.size();
  size_t at = url.substr(from, to - from).rfind('@');
  if (at == std::string::npos) return url;
  return url.substr(0, from) + "***" + url.substr(from + at);
}

// "[P2] redis_down — Redis Caído (staging): MESSAGE" (the parts that are set).
std::string Headline(const PageToSend& p) {
  std::string out;
  if (!p.severity.empty()) out += "[" + p.severity + "] ";
  out += p.runbook.empty() ? std::string("runbook") : p.runbook;
  if (!p.title.empty()) out += " \xE2\x80\x94 " + p.title;
  if (!p.environment.empty()) out += " (" + p.environment + ")";
  std::string message = Truncate(OneLine(p.message), kMessageMax);
  if (!message.empty()) out += ": " + message;
  return OneLine(out);
}

std::string SlackText(const PageToSend& p) {
  std::string out = Headline(p);
  std::string run = OneLine(p.run), op = OneLine(p.operator_name);
  if (!run.empty()) out += " \xC2\xB7 run " + run;
  if (!op.empty()) out += (run.empty() ? " \xC2\xB7 by " : " by ") + op;
  return SlackEscape(out);
}

// PagerDuty keeps dedup keys of at most 255 characters: a longer one keeps its start and ends with
// a digest of the whole, so two long keys stay apart.
std::string PagerDutyDedupKey(const std::string& key) {
  if (key.size() <= kDedupMax) return key;
  std::string digest = Sha256Hex(key);
  size_t keep = kDedupMax - digest.size() - 1;
  while (keep > 0 && (static_cast<unsigned char>(key[keep]) & 0xC0) == 0x80) --keep;
  return key.substr(0, keep) + "~" + digest;
}

json SlackPayload(const PageToSend& p, const std::string& channel) {
  json j = json::object();
  if (!channel.empty()) j["channel"] = channel;
  j["text"] = SlackText(p);
  return j;
}

json PagerDutyPayload(const PageToSend& p, const std::string& address, const std::string& routing_key) {
  json j = json::object();
  j["routing_key"] = routing_key;
  j["event_action"] = "trigger";
  if (!p.dedup_key.empty()) j["dedup_key"] = PagerDutyDedupKey(p.dedup_key);
  json payload = json::object();
  payload["summary"] = Truncate(Headline(p), kSummaryMax);
  payload["source"] = p.environment.empty() ? std::string("runbook") : "runbook/" + p.environment;
  payload["severity"] = PagerDutySeverity(p.severity);
  if (!p.runbook.empty()) payload["component"] = p.runbook;
  if (!p.environment.empty()) payload["group"] = p.environment;
  payload["class"] = "runbook page";
  payload["custom_details"] = json{{"contact", p.contact}, {"pager", address}, {"run", p.run},
                                   {"operator", p.operator_name}, {"message", p.message}};
  j["payload"] = std::move(payload);
  return j;
}

json WebhookPayload(const PageToSend& p) {
  return json{{"kind", "runbook.page"},   {"contact", p.contact},   {"display", p.display},
              {"handle", p.handle},       {"runbook", p.runbook},   {"title", p.title},
              {"environment", p.environment}, {"severity", p.severity}, {"message", p.message},
              {"run", p.run},             {"operator", p.operator_name}, {"dedup_key", p.dedup_key}};
}

// Secret values, each read once, and every form they could be shown in (to star them).
class Secrets {
 public:
  explicit Secrets(const SecretReader& reader) : reader_(reader) {}
  std::optional<std::string> Read(const std::string& name, std::string& why) {
    auto it = read_.find(name);
    if (it == read_.end()) {
      Entry e;
      try {
        if (!reader_) {
          e.why = fmt::format("secret `{}` cannot be read (no secret reader)", name);
        } else {
          e.value = reader_(name, e.why);
          if (!e.value && e.why.empty()) e.why = fmt::format("secret `{}` cannot be read", name);
        }
      } catch (const std::exception& ex) {
        e.value.reset();
        e.why = fmt::format("secret `{}` cannot be read: {}", name, ex.what());
      } catch (...) {
        e.value.reset();
        e.why = fmt::format("secret `{}` cannot be read", name);
      }
      if (e.value) {
        Remember(*e.value);
        Remember(TrimSpace(*e.value));
      }
      it = read_.emplace(name, std::move(e)).first;
    }
    why = it->second.why;
    return it->second.value;
  }
  // A part of a secret that is a secret too (a Slack webhook URL's path), starred like one.
  void AlsoSecret(const std::string& part) {
    if (part.size() >= 8) Remember(part);
  }
  // `text` with every secret value starred (longest first: none is half-starred).
  std::string Redact(std::string text) const {
    for (const auto& s : forms_) {
      for (size_t at = text.find(s); at != std::string::npos; at = text.find(s, at + 3)) text.replace(at, s.size(), "***");
    }
    return text;
  }

 private:
  struct Entry {
    std::optional<std::string> value;
    std::string why;
  };
  void Remember(const std::string& v) {
    auto add = [&](const std::string& f) {
      if (!f.empty() && std::find(forms_.begin(), forms_.end(), f) == forms_.end()) forms_.push_back(f);
    };
    add(v);
    std::string quoted = Dump(json(v));  // as it appears inside JSON
    if (quoted.size() >= 2) add(quoted.substr(1, quoted.size() - 2));
    std::sort(forms_.begin(), forms_.end(), [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  }
  const SecretReader& reader_;
  std::map<std::string, Entry> read_;
  std::vector<std::string> forms_;
};

enum class Service { kSlack, kPagerDuty, kWebhook };

// One channel made ready: what is shown, and (when it can be sent) the request itself.
struct Prepared {
  Delivery d;
  bool sendable = false;
  Service service = Service::kWebhook;
  std::string secret_name;  // the secret the request depends on
  HttpRequest req;
};

HttpRequest PostJson(const std::string& url, const std::string& body) {
  HttpRequest r;
  r.method = "POST";
  r.url = url;
  r.body = body;
  r.headers = {"Content-Type: application/json", "Accept: application/json, text/plain, */*"};
  r.max_body = 1u << 20;
  return r;
}

Prepared Prepare(const std::string& kind, const std::string& address, const PageToSend& page, const DeliveryConfig& config,
                 Secrets& secrets) {
  Prepared p;
  p.d.kind = kind;
  p.d.address = address;
  std::string why;
  if (kind == "slack") {
    p.service = Service::kSlack;
    std::string body = Dump(SlackPayload(page, address));
    p.d.payload = body;
    if (config.slack_webhook_secret.empty()) {
      p.d.reason = "no delivery.slack.webhook in the environment";
      return p;
    }
    p.secret_name = config.slack_webhook_secret;
    p.d.url = fmt::format("slack webhook ({})", config.slack_webhook_secret);
    std::optional<std::string> url = secrets.Read(config.slack_webhook_secret, why);
    if (!url) {
      p.d.reason = why;
      return p;
    }
    std::string u = TrimSpace(*url);
    if (!IsHttpUrl(u)) {
      p.d.reason = fmt::format("secret `{}` does not hold an https:// URL (a Slack incoming-webhook URL)", config.slack_webhook_secret);
      return p;
    }
    size_t path = u.find('/', u.find("://") + 3);
    if (path != std::string::npos) secrets.AlsoSecret(u.substr(path));  // /services/T…/B…/TOKEN
    p.req = PostJson(u, body);
    p.sendable = true;
    return p;
  }
  if (kind == "pager") {
    p.service = Service::kPagerDuty;
    std::string url = config.pagerduty_url.empty() ? DeliveryConfig{}.pagerduty_url : config.pagerduty_url;
    p.d.url = DisplayUrl(url);
    p.d.payload = Dump(PagerDutyPayload(page, address, "***"));
    if (config.pagerduty_key_secret.empty()) {
      p.d.reason = "no delivery.pagerduty.routing_key in the environment";
      return p;
    }
    p.secret_name = config.pagerduty_key_secret;
    if (!IsHttpUrl(url)) {
      p.d.reason = fmt::format("delivery.pagerduty.url {} is not an http:// or https:// URL", p.d.url);
      return p;
    }
    std::optional<std::string> key = secrets.Read(config.pagerduty_key_secret, why);
    if (!key) {
      p.d.reason = why;
      return p;
    }
    std::string k = TrimSpace(*key);
    if (k.empty()) {
      p.d.reason = fmt::format("secret `{}` (the PagerDuty routing key) is empty", config.pagerduty_key_secret);
      return p;
    }
    p.req = PostJson(url, Dump(PagerDutyPayload(page, address, k)));
    p.sendable = true;
    return p;
  }
  if (kind == "webhook") {
    p.service = Service::kWebhook;
    std::string body = Dump(WebhookPayload(page));
    p.d.payload = body;
    p.d.url = DisplayUrl(address);
    if (!IsHttpUrl(address)) {
      p.d.reason = address.empty() ? std::string("the webhook channel has no URL")
                                   : fmt::format("webhook address {} is not an http:// or https:// URL", p.d.url);
      return p;
    }
    p.req = PostJson(address, body);
    p.sendable = true;
    return p;
  }
  p.d.reason = fmt::format("{} channels are not delivered by runbook: page by hand", kind.empty() ? "unnamed" : kind);
  return p;
}

std::vector<Prepared> PrepareAll(const PageToSend& page, const DeliveryConfig& config, Secrets& secrets) {
  std::vector<Prepared> out;
  out.reserve(page.channels.size());
  for (const auto& [kind, address] : page.channels) out.push_back(Prepare(kind, address, page, config, secrets));
  return out;
}

const char* ServiceName(Service s) {
  switch (s) {
    case Service::kSlack: return "Slack";
    case Service::kPagerDuty: return "PagerDuty";
    case Service::kWebhook: return "the webhook";
  }
  return "the server";
}

// A reply body as quoted in a reason: a JSON error's message and errors (PagerDuty's shape), else
// the text itself, on one line and short.
std::string Snippet(const std::string& body) {
  if (body.empty()) return "";
  std::string text;
  json j = json::parse(body, nullptr, false);
  if (j.is_object()) {
    std::vector<std::string> parts;
    for (const char* key : {"message", "error", "status"}) {
      auto it = j.find(key);
      if (it != j.end() && it->is_string()) {
        parts.push_back(it->get<std::string>());
        break;
      }
    }
    auto errs = j.find("errors");
    if (errs != j.end() && errs->is_array()) {
      for (const auto& e : *errs) {
        if (e.is_string()) parts.push_back(e.get<std::string>());
      }
    }
    for (const auto& part : parts) text += (text.empty() ? "" : "; ") + part;
  }
  if (text.empty()) text = body;
  // Control bytes other than whitespace are not shown.
  std::string clean;
  for (char c : text) clean += (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\r' && c != '\t') ? ' ' : c;
  return Truncate(OneLine(clean), kSnippetMax);
}

std::string FinalStatusReason(const Prepared& p, long status, const std::string& body) {
  std::string snippet = Snippet(body);
  std::string quoted = snippet.empty() ? "" : fmt::format(" ({})", snippet);
  const char* who = ServiceName(p.service);
  if (status >= 300 && status < 400) {
    return fmt::format("HTTP {} from {}: a redirect, not followed (is the URL right?){}; not retried", status, who, quoted);
  }
  if (status >= 400 && status < 500) {
    std::string wrong;
    switch (p.service) {
      case Service::kSlack:
        wrong = fmt::format("the payload or the webhook URL in secret `{}` is wrong (or the webhook was revoked)", p.secret_name);
        break;
      case Service::kPagerDuty:
        wrong = fmt::format("the event or the routing key in secret `{}` is wrong", p.secret_name);
        break;
      case Service::kWebhook: wrong = "the payload or the URL is wrong"; break;
    }
    return fmt::format("HTTP {} from {}: {}{}; not retried", status, who, wrong, quoted);
  }
  return fmt::format("HTTP {} from {}: not a success{}; not retried", status, who, quoted);
}

std::string Attempts(int n) { return n == 1 ? "1 attempt" : fmt::format("{} attempts", n); }

int64_t MsBetween(Steady::time_point a, Steady::time_point b) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(b - a).count();
}

// 250 ms, 500 ms, 1 s, 2 s, 4 s, 4 s, ... after attempt n (1-based), each within ±20% at random.
int64_t Backoff(int n, std::minstd_rand& rng) {
  int64_t base = kFirstBackoffMs;
  for (int i = 1; i < n && base < kMaxBackoffMs; ++i) base *= 2;
  base = std::min(base, kMaxBackoffMs);
  std::uniform_int_distribution<int64_t> jitter(-base / 5, base / 5);
  return std::max<int64_t>(1, base + jitter(rng));
}

// Sends one channel until delivered, refused, or out of time. Touches only `p`.
void Deliver(Prepared& p, const DeliveryConfig& config, Steady::time_point start, Steady::time_point deadline, unsigned seed) {
  std::minstd_rand rng(seed == 0 ? 1u : seed);
  int64_t attempt_ms = config.attempt_timeout_ms > 0 ? config.attempt_timeout_ms : kDefaultAttemptMs;
  int64_t connect_ms = config.connect_timeout_ms > 0 ? config.connect_timeout_ms : kDefaultConnectMs;
  Delivery& d = p.d;
  std::string last_failure;  // the last retryable failure
  bool last_was_http = false;
  std::string last_body;
  while (true) {
    int64_t left = MsBetween(Steady::now(), deadline);
    if (left <= 0 || (d.attempts > 0 && left < kMinAttemptMs)) break;
    p.req.timeout_ms = std::max<int64_t>(1, std::min(attempt_ms, left));
    p.req.connect_timeout_ms = std::max<int64_t>(1, std::min(connect_ms, p.req.timeout_ms));
    std::vector<HttpResponse> got = HttpFetchAll({p.req});
    HttpResponse r = got.empty() ? HttpResponse{} : std::move(got.front());
    if (!r.ok && r.reason.empty()) r.reason = "the request did not complete";
    ++d.attempts;
    if (r.ok) {
      d.status = r.status;
      if (r.status >= 200 && r.status < 300) {
        d.delivered = true;
        d.reason.clear();
        break;
      }
      if (r.status < 500 && r.status != 429) {
        d.reason = FinalStatusReason(p, r.status, r.body);
        break;
      }
      last_failure = fmt::format("HTTP {}", r.status);
      last_was_http = true;
      last_body = r.body;
    } else {
      // Not transient: a URL of another scheme, a TLS certificate not trusted.
      if (r.reason.find("not verified") != std::string::npos || r.reason.find("only http://") != std::string::npos) {
        d.reason = r.reason;
        break;
      }
      last_failure = r.reason;
      last_was_http = false;
    }
    // The next attempt after the backoff; when that would leave it too little time, a last one
    // sooner (but not right away), or none.
    int64_t wait = Backoff(d.attempts, rng);
    int64_t left_now = MsBetween(Steady::now(), deadline);
    if (left_now - wait < kLastAttemptMs) {
      wait = left_now - kLastAttemptMs;
      if (wait < kMinGapMs) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(wait));
  }
  if (!d.delivered && d.reason.empty()) {
    if (d.attempts == 0) {
      d.reason = "not sent: the page's deadline had passed";
    } else if (last_was_http) {
      std::string snippet = Snippet(last_body);
      d.reason = fmt::format("{} after {}{}{}", last_failure, Attempts(d.attempts),
                             last_failure == "HTTP 429" ? " (rate limited)" : "", snippet.empty() ? "" : " (" + snippet + ")");
    } else {
      d.reason = d.attempts == 1 ? last_failure : fmt::format("{}; {}", last_failure, Attempts(d.attempts));
    }
  }
  d.elapsed_ms = MsBetween(start, Steady::now());
}

void RedactAll(Delivery& d, const Secrets& s) {
  d.kind = s.Redact(std::move(d.kind));
  d.address = s.Redact(std::move(d.address));
  d.url = s.Redact(std::move(d.url));
  d.payload = s.Redact(std::move(d.payload));
  d.reason = s.Redact(std::move(d.reason));
}

// When even preparing failed (out of memory): one entry per channel saying so.
std::vector<Delivery> Failed(const PageToSend& page, const std::string& why) {
  std::vector<Delivery> out;
  try {
    for (const auto& [kind, address] : page.channels) {
      Delivery d;
      d.kind = kind;
      d.address = address;
      d.reason = why;
      out.push_back(std::move(d));
    }
  } catch (...) {
  }
  return out;
}

}  // namespace

std::string PagerDutySeverity(const std::string& severity) {
  std::string s = severity;
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (s == "P1") return "critical";
  if (s == "P2") return "error";
  if (s == "P3") return "warning";
  return "info";
}

std::vector<Delivery> PagePayloads(const PageToSend& page, const DeliveryConfig& config, const SecretReader& secrets) {
  try {
    Secrets s(secrets);
    std::vector<Prepared> prepared = PrepareAll(page, config, s);
    std::vector<Delivery> out;
    out.reserve(prepared.size());
    for (auto& p : prepared) {
      if (p.sendable) {
        p.d.reason = "dry run: not sent";
      } else if (!p.secret_name.empty() && !p.d.reason.empty()) {
        p.d.reason = "dry run: not sent; a live run could not send it: " + p.d.reason;
      }
      RedactAll(p.d, s);
      out.push_back(std::move(p.d));
    }
    return out;
  } catch (const std::exception& e) {
    return Failed(page, fmt::format("the page's payloads could not be made: {}", e.what()));
  } catch (...) {
    return Failed(page, "the page's payloads could not be made");
  }
}

std::vector<Delivery> SendPage(const PageToSend& page, const DeliveryConfig& config, const SecretReader& secrets) {
  std::vector<Prepared> prepared;
  std::optional<Secrets> s;
  try {
    s.emplace(secrets);
    prepared = PrepareAll(page, config, *s);
  } catch (const std::exception& e) {
    return Failed(page, fmt::format("the page was not sent: {}", e.what()));
  } catch (...) {
    return Failed(page, "the page was not sent");
  }
  Steady::time_point start = Steady::now();
  int64_t deadline_ms = config.deadline_ms > 0 ? config.deadline_ms : kDefaultDeadlineMs;
  Steady::time_point deadline = start + std::chrono::milliseconds(deadline_ms);
  unsigned seed_base = static_cast<unsigned>(Steady::now().time_since_epoch().count()) ^
                       static_cast<unsigned>(std::hash<std::thread::id>{}(std::this_thread::get_id()));

  auto run = [&config, start, deadline](Prepared* p, unsigned seed) {
    try {
      Deliver(*p, config, start, deadline, seed);
    } catch (const std::exception& e) {
      p->d.delivered = false;
      p->d.reason = fmt::format("the page was not sent: {}", e.what());
    } catch (...) {
      p->d.delivered = false;
      p->d.reason = "the page was not sent";
    }
  };
  std::vector<std::thread> threads;
  std::vector<Prepared*> inline_runs;  // when no thread could be started
  try {
    threads.reserve(prepared.size());
  } catch (...) {
  }
  for (size_t i = 0; i < prepared.size(); ++i) {
    if (!prepared[i].sendable) continue;
    unsigned seed = seed_base + static_cast<unsigned>(i) * 2654435761u;
    try {
      threads.emplace_back(run, &prepared[i], seed);
    } catch (...) {
      try {
        inline_runs.push_back(&prepared[i]);
      } catch (...) {
        run(&prepared[i], seed);  // no memory to defer it: now (still within the deadline)
      }
    }
  }
  for (Prepared* p : inline_runs) run(p, seed_base);
  for (auto& t : threads) {
    if (t.joinable()) t.join();
  }

  std::vector<Delivery> out;
  try {
    out.reserve(prepared.size());
    for (auto& p : prepared) {
      RedactAll(p.d, *s);
      out.push_back(std::move(p.d));
    }
  } catch (...) {
  }
  return out;
}

}  // namespace rb::rt
