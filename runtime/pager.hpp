// Paging a contact during a live run (an escalation row's `page sre`): each channel the environment
// lists for the contact is sent its own JSON over HTTP (runtime/http.hpp), all at once, each retried
// on its own until delivered or the page's deadline passes.
//
//   slack    Slack incoming webhook: {"channel": ADDRESS, "text": one line}, POSTed to the URL held by
//            the secret `delivery.slack.webhook` names (the URL is the secret: never shown)
//   pager    PagerDuty Events API v2 (`trigger`), POSTed to `delivery.pagerduty.url` with the routing
//            key held by the secret `delivery.pagerduty.routing_key` (shown as "***")
//   webhook  a generic {"kind": "runbook.page", ...} POSTed to the contact's address
//   others   (phone, email, sms, ...) are not delivered here: the SRE pages by hand
//
// A 2xx is delivered. 5xx, 429, connection failures and timeouts are retried with exponential
// backoff (250 ms, 500 ms, 1 s, ... capped at 4 s, each ±20% at random) while the deadline allows
// another attempt (a wait that would leave the next attempt less than 500 ms is shortened to leave
// it that, or the channel is given up); any other status is final (the payload, URL or key is wrong:
// the reason says so), and so is a TLS certificate not trusted.
// No secret's value appears in any string returned (URL, payload, reason): every value read is
// replaced by "***" wherever it would appear, raw or JSON-escaped.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace rb::rt {

// The environment's `delivery:` section (the integrator parses the YAML into it).
struct DeliveryConfig {
  std::string slack_webhook_secret;  // `slack: {webhook: NAME}`: the secret holding the incoming-webhook URL; empty: slack channels are not delivered
  std::string pagerduty_key_secret;  // `pagerduty: {routing_key: NAME}`: the secret holding the routing key; empty: pager channels are not delivered
  std::string pagerduty_url = "https://events.pagerduty.com/v2/enqueue";  // `pagerduty: {url: ...}` (empty: this default)
  int64_t deadline_ms = 20000;        // `deadline:`: every retry of one page ends by then (<= 0: the default)
  int64_t attempt_timeout_ms = 5000;  // one attempt, capped by what is left of the deadline (<= 0: the default)
  int64_t connect_timeout_ms = 2000;  // (<= 0: the default)
};

struct PageToSend {
  std::string contact, display, handle;                      // sre, "SRE Lead", "@sre-lead"
  std::vector<std::pair<std::string, std::string>> channels;  // (kind, address): ("slack", "#sre-oncall"), ("pager", "sre-primary"), ("webhook", "http://...")
  std::string message, runbook, title, environment, severity /*P1..P4*/, run, operator_name;
  std::string dedup_key;  // one per incident and escalation level (the caller makes it: ENV/RUNBOOK/INCIDENT/P2)
};

// What became of one channel of a page.
struct Delivery {
  std::string kind, address;  // the channel
  std::string url;            // where it was sent, without secrets: "slack webhook (SLACK_WEBHOOK_URL)"
  std::string payload;        // the JSON body as sent, without secrets (PagerDuty's routing_key "***")
  bool delivered = false;
  int attempts = 0;
  long status = 0;     // the last HTTP status (0: none arrived)
  std::string reason;  // not delivered: why ("HTTP 500 after 4 attempts", "connection refused (127.0.0.1:9); 3 attempts")
  int64_t elapsed_ms = 0;
};

// The value of a secret (the integrator passes the project's ReadSecret bound to the environment);
// nullopt with the reason, never the value, in `why`.
using SecretReader = std::function<std::optional<std::string>(const std::string& name, std::string& why)>;

// The payload of every channel of `page` without sending anything (a dry run prints them): for a
// channel that would be sent, delivered false, attempts 0 and reason "dry run: not sent" (followed by
// "; ..." when its secret cannot be read now: the live run would fail); for one that would not, the
// reason it would not. Reads the secrets (to check them) but never shows them.
std::vector<Delivery> PagePayloads(const PageToSend& page, const DeliveryConfig& config, const SecretReader& secrets);

// Sends every deliverable channel of `page` concurrently (one thread each; secrets are read first, on
// the calling thread), retrying as described above, each channel on its own. Returns one Delivery per
// channel in the order of `page.channels`. Never throws; returns by the deadline plus a poll interval.
std::vector<Delivery> SendPage(const PageToSend& page, const DeliveryConfig& config, const SecretReader& secrets);

// PagerDuty's severity for the runbook's: P1 critical, P2 error, P3 warning, P4 (or anything else) info.
std::string PagerDutySeverity(const std::string& severity);

}  // namespace rb::rt
