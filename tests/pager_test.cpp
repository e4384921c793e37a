// Paging (runtime/pager.hpp) against in-process HTTP fixtures on free loopback ports
// (tests/http_fixture.hpp): the Slack, PagerDuty and generic webhook payloads as the server received
// them; retries of 500 and 429 until accepted, giving up at the deadline, a 400 not retried, a refused
// port, a black-holed channel that does not hold back another; channels paged by hand; a dry run that
// sends nothing; and no secret's value in anything returned. No tight timing assertions: only bounds
// far above what each case takes.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>

#include "runtime/pager.hpp"
#include "tests/http_fixture.hpp"

namespace rb::test {
namespace {

using nlohmann::json;

// What a fixture route received, kept for the test to read once the call returned.
struct Received {
  std::mutex mu;
  std::vector<std::string> bodies;
  std::vector<std::string> content_types;
  std::atomic<int> count{0};
  void Add(const httplib::Request& req) {
    std::lock_guard<std::mutex> lock(mu);
    bodies.push_back(req.body);
    content_types.push_back(req.get_header_value("Content-Type"));
    ++count;
  }
  json Last() {
    std::lock_guard<std::mutex> lock(mu);
    return bodies.empty() ? json() : json::parse(bodies.back(), nullptr, false);
  }
};

// A route answering `statuses` in turn (the last one from then on), recording every request.
void Route(HttpFixture& f, const std::string& path, Received& got, std::vector<int> statuses,
           std::string body = "ok", std::string content_type = "text/plain") {
  auto n = std::make_shared<std::atomic<size_t>>(0);
  f.Post(path, [&got, n, statuses, body, content_type](const httplib::Request& req, httplib::Response& res) {
    got.Add(req);
    size_t i = (*n)++;
    res.status = statuses[std::min(i, statuses.size() - 1)];
    res.set_content(body, content_type);
  });
}

rt::SecretReader Reader(std::map<std::string, std::string> values) {
  return [values](const std::string& name, std::string& why) -> std::optional<std::string> {
    auto it = values.find(name);
    if (it == values.end()) {
      why = "secret `" + name + "`: variable " + name + " is not set";
      return std::nullopt;
    }
    return it->second;
  };
}

rt::PageToSend Page(std::vector<std::pair<std::string, std::string>> channels) {
  rt::PageToSend p;
  p.contact = "sre";
  p.display = "SRE Lead";
  p.handle = "@sre-lead";
  p.channels = std::move(channels);
  p.message = "Redis is down";
  p.runbook = "redis_down";
  p.title = "Redis Caído";
  p.environment = "staging";
  p.severity = "P2";
  p.run = "r-123";
  p.operator_name = "alice@host";
  p.dedup_key = "staging/redis_down/inc-7/P2";
  return p;
}

rt::DeliveryConfig Config() {
  rt::DeliveryConfig c;
  c.slack_webhook_secret = "SLACK_WEBHOOK_URL";
  c.pagerduty_key_secret = "PD_ROUTING_KEY";
  return c;
}

const char* kKey = "R0UT1NGKEYcanary0123456789abcdef";  // the PagerDuty routing key's value

// Every string a Delivery carries, for "the secret is in none of them".
std::string AllText(const std::vector<rt::Delivery>& ds) {
  std::string all;
  for (const auto& d : ds) all += d.kind + "\n" + d.address + "\n" + d.url + "\n" + d.payload + "\n" + d.reason + "\n";
  return all;
}

TEST(Pager, PagerDutySeverityMapsTheRunbooksSeverity) {
  EXPECT_EQ(rt::PagerDutySeverity("P1"), "critical");
  EXPECT_EQ(rt::PagerDutySeverity("P2"), "error");
  EXPECT_EQ(rt::PagerDutySeverity("P3"), "warning");
  EXPECT_EQ(rt::PagerDutySeverity("P4"), "info");
  EXPECT_EQ(rt::PagerDutySeverity("p1"), "critical");
  EXPECT_EQ(rt::PagerDutySeverity(""), "info");
  EXPECT_EQ(rt::PagerDutySeverity("sev0"), "info");
}

TEST(Pager, SlackWebhookReceivesTheChannelAndOneLineText) {
  HttpFixture f;
  Received got;
  Route(f, "/services/T0/B0/secretpath", got, {200});
  f.Start();
  std::string webhook = f.url() + "/services/T0/B0/secretpath";
  auto ds = rt::SendPage(Page({{"slack", "#sre-oncall"}}), Config(), Reader({{"SLACK_WEBHOOK_URL", webhook}}));
  ASSERT_EQ(ds.size(), 1u);
  const auto& d = ds[0];
  EXPECT_TRUE(d.delivered) << d.reason;
  EXPECT_EQ(d.attempts, 1);
  EXPECT_EQ(d.status, 200);
  EXPECT_EQ(d.kind, "slack");
  EXPECT_EQ(d.address, "#sre-oncall");
  EXPECT_EQ(d.url, "slack webhook (SLACK_WEBHOOK_URL)");
  ASSERT_EQ(got.count.load(), 1);
  json j = got.Last();
  ASSERT_TRUE(j.is_object()) << got.bodies[0];
  EXPECT_EQ(j["channel"], "#sre-oncall");
  EXPECT_EQ(j["text"], "[P2] redis_down \xE2\x80\x94 Redis Ca\xC3\xAD" "do (staging): Redis is down \xC2\xB7 run r-123 by alice@host");
  EXPECT_EQ(got.content_types[0], "application/json");
  EXPECT_EQ(json::parse(d.payload), j);  // the copy is what was sent (a Slack body holds no secret)
  EXPECT_EQ(AllText(ds).find(webhook), std::string::npos);
  EXPECT_EQ(AllText(ds).find("secretpath"), std::string::npos);
}

TEST(Pager, SlackTextIsOneLineWithMarkupEscaped) {
  auto page = Page({{"slack", "#sre"}});
  page.message = "p99 > 2s\n  & rising <fast>\n";
  page.run.clear();
  auto ds = rt::PagePayloads(page, Config(), Reader({{"SLACK_WEBHOOK_URL", "https://hooks.example/x"}}));
  ASSERT_EQ(ds.size(), 1u);
  json j = json::parse(ds[0].payload);
  EXPECT_EQ(j["text"], "[P2] redis_down \xE2\x80\x94 Redis Ca\xC3\xAD" "do (staging): p99 &gt; 2s &amp; rising &lt;fast&gt; \xC2\xB7 by alice@host");
}

TEST(Pager, PagerDutyReceivesTheRoutingKeyButTheCopyShowsStars) {
  HttpFixture f;
  Received got;
  Route(f, "/v2/enqueue", got, {202}, R"({"status":"success","message":"Event processed","dedup_key":"x"})", "application/json");
  f.Start();
  auto config = Config();
  config.pagerduty_url = f.url() + "/v2/enqueue";
  auto ds = rt::SendPage(Page({{"pager", "sre-primary"}}), config, Reader({{"PD_ROUTING_KEY", kKey}}));
  ASSERT_EQ(ds.size(), 1u);
  const auto& d = ds[0];
  EXPECT_TRUE(d.delivered) << d.reason;
  EXPECT_EQ(d.status, 202);
  EXPECT_EQ(d.attempts, 1);
  EXPECT_EQ(d.url, config.pagerduty_url);
  ASSERT_EQ(got.count.load(), 1);
  EXPECT_EQ(got.content_types[0], "application/json");
  json j = got.Last();
  ASSERT_TRUE(j.is_object()) << got.bodies[0];
  EXPECT_EQ(j["routing_key"], kKey);
  EXPECT_EQ(j["event_action"], "trigger");
  EXPECT_EQ(j["dedup_key"], "staging/redis_down/inc-7/P2");
  const json& p = j["payload"];
  EXPECT_EQ(p["severity"], "error");
  EXPECT_EQ(p["source"], "runbook/staging");
  EXPECT_EQ(p["component"], "redis_down");
  EXPECT_EQ(p["group"], "staging");
  EXPECT_EQ(p["class"], "runbook page");
  EXPECT_EQ(p["summary"], "[P2] redis_down \xE2\x80\x94 Redis Ca\xC3\xAD" "do (staging): Redis is down");
  EXPECT_EQ(p["custom_details"]["contact"], "sre");
  EXPECT_EQ(p["custom_details"]["pager"], "sre-primary");
  EXPECT_EQ(p["custom_details"]["run"], "r-123");
  EXPECT_EQ(p["custom_details"]["operator"], "alice@host");
  EXPECT_EQ(p["custom_details"]["message"], "Redis is down");
  // The copy returned is the body sent, the key starred.
  json copy = json::parse(d.payload);
  EXPECT_EQ(copy["routing_key"], "***");
  copy["routing_key"] = kKey;
  EXPECT_EQ(copy, j);
  EXPECT_EQ(AllText(ds).find(kKey), std::string::npos);
}

TEST(Pager, PagerDutySummaryAndDedupKeyKeepTheirLimits) {
  auto page = Page({{"pager", "sre-primary"}});
  page.severity = "P1";
  page.message = std::string(3000, 'x');
  page.dedup_key = std::string(300, 'k');
  auto ds = rt::PagePayloads(page, Config(), Reader({{"PD_ROUTING_KEY", kKey}}));
  ASSERT_EQ(ds.size(), 1u);
  json j = json::parse(ds[0].payload);
  EXPECT_EQ(j["payload"]["severity"], "critical");
  EXPECT_LE(j["payload"]["summary"].get<std::string>().size(), 1024u);
  std::string key = j["dedup_key"];
  EXPECT_EQ(key.size(), 255u);
  EXPECT_EQ(key.substr(0, 10), std::string(10, 'k'));
  auto other = page;
  other.dedup_key = std::string(299, 'k') + "j";  // same start, another key
  EXPECT_NE(json::parse(rt::PagePayloads(other, Config(), Reader({}))[0].payload)["dedup_key"], key);
  EXPECT_EQ(j["payload"]["custom_details"]["message"].get<std::string>().size(), 3000u);  // in full there
}

TEST(Pager, GenericWebhookReceivesThePage) {
  HttpFixture f;
  Received got;
  Route(f, "/hook", got, {204});
  f.Start();
  auto ds = rt::SendPage(Page({{"webhook", f.url() + "/hook"}}), rt::DeliveryConfig{}, Reader({}));
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_TRUE(ds[0].delivered) << ds[0].reason;
  EXPECT_EQ(ds[0].url, f.url() + "/hook");
  json j = got.Last();
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j["kind"], "runbook.page");
  EXPECT_EQ(j["contact"], "sre");
  EXPECT_EQ(j["display"], "SRE Lead");
  EXPECT_EQ(j["handle"], "@sre-lead");
  EXPECT_EQ(j["runbook"], "redis_down");
  EXPECT_EQ(j["title"], "Redis Ca\xC3\xAD" "do");
  EXPECT_EQ(j["environment"], "staging");
  EXPECT_EQ(j["severity"], "P2");
  EXPECT_EQ(j["message"], "Redis is down");
  EXPECT_EQ(j["run"], "r-123");
  EXPECT_EQ(j["operator"], "alice@host");
  EXPECT_EQ(j["dedup_key"], "staging/redis_down/inc-7/P2");
  EXPECT_EQ(got.content_types[0], "application/json");
}

TEST(Pager, WebhookCredentialsInTheUrlAreStarredInTheCopy) {
  auto ds = rt::PagePayloads(Page({{"webhook", "https://bot:hunter2@hooks.example:8443/p?x=1"}}), rt::DeliveryConfig{}, Reader({}));
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds[0].url, "https://***@hooks.example:8443/p?x=1");
}

TEST(Pager, ServerErrorsAreRetriedUntilAccepted) {
  HttpFixture f;
  Received got;
  Route(f, "/v2/enqueue", got, {500, 500, 202});
  f.Start();
  auto config = Config();
  config.pagerduty_url = f.url() + "/v2/enqueue";
  auto ds = rt::SendPage(Page({{"pager", "sre-primary"}}), config, Reader({{"PD_ROUTING_KEY", kKey}}));
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_TRUE(ds[0].delivered) << ds[0].reason;
  EXPECT_EQ(ds[0].attempts, 3);
  EXPECT_EQ(ds[0].status, 202);
  EXPECT_TRUE(ds[0].reason.empty()) << ds[0].reason;
  EXPECT_EQ(got.count.load(), 3);
  // Every attempt is the same event (PagerDuty dedups on its key).
  std::lock_guard<std::mutex> lock(got.mu);
  EXPECT_EQ(got.bodies[0], got.bodies[2]);
}

TEST(Pager, RateLimitedIsRetried) {
  HttpFixture f;
  Received got;
  Route(f, "/hook", got, {429, 200});
  f.Start();
  auto ds = rt::SendPage(Page({{"webhook", f.url() + "/hook"}}), rt::DeliveryConfig{}, Reader({}));
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_TRUE(ds[0].delivered) << ds[0].reason;
  EXPECT_EQ(ds[0].attempts, 2);
}

TEST(Pager, AlwaysFailingServerIsGivenUpAtTheDeadline) {
  HttpFixture f;
  Received got;
  Route(f, "/hook", got, {500}, "upstream down");
  f.Start();
  rt::DeliveryConfig config;
  config.deadline_ms = 1500;
  auto t0 = std::chrono::steady_clock::now();
  auto ds = rt::SendPage(Page({{"webhook", f.url() + "/hook"}}), config, Reader({}));
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_LT(took, std::chrono::seconds(10));
  ASSERT_EQ(ds.size(), 1u);
  const auto& d = ds[0];
  EXPECT_FALSE(d.delivered);
  EXPECT_EQ(d.status, 500);
  EXPECT_GE(d.attempts, 2);
  EXPECT_EQ(d.attempts, got.count.load());
  EXPECT_NE(d.reason.find("HTTP 500"), std::string::npos) << d.reason;
  EXPECT_NE(d.reason.find(std::to_string(d.attempts) + " attempts"), std::string::npos) << d.reason;
  EXPECT_NE(d.reason.find("upstream down"), std::string::npos) << d.reason;
}

TEST(Pager, ClientErrorIsNotRetriedAndSaysWhatIsWrong) {
  HttpFixture f;
  Received got;
  Route(f, "/v2/enqueue", got, {400},
        R"({"status":"invalid event","message":"Event object is invalid","errors":["Length of 'routing_key' is incorrect"]})",
        "application/json");
  f.Start();
  auto config = Config();
  config.pagerduty_url = f.url() + "/v2/enqueue";
  auto ds = rt::SendPage(Page({{"pager", "sre-primary"}}), config, Reader({{"PD_ROUTING_KEY", kKey}}));
  ASSERT_EQ(ds.size(), 1u);
  const auto& d = ds[0];
  EXPECT_FALSE(d.delivered);
  EXPECT_EQ(d.attempts, 1);
  EXPECT_EQ(got.count.load(), 1);
  EXPECT_EQ(d.status, 400);
  EXPECT_NE(d.reason.find("HTTP 400"), std::string::npos) << d.reason;
  EXPECT_NE(d.reason.find("routing key in secret `PD_ROUTING_KEY`"), std::string::npos) << d.reason;
  EXPECT_NE(d.reason.find("Event object is invalid"), std::string::npos) << d.reason;
  EXPECT_NE(d.reason.find("not retried"), std::string::npos) << d.reason;
}

TEST(Pager, RefusedPortIsNotDelivered) {
  int port = FreeLoopbackPort();  // bound, then closed: nobody listens there
  ASSERT_GT(port, 0);
  rt::DeliveryConfig config;
  config.deadline_ms = 1000;
  auto ds = rt::SendPage(Page({{"webhook", "http://127.0.0.1:" + std::to_string(port) + "/hook"}}), config, Reader({}));
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_FALSE(ds[0].delivered);
  EXPECT_GE(ds[0].attempts, 1);
  EXPECT_EQ(ds[0].status, 0);
  EXPECT_NE(ds[0].reason.find("refused"), std::string::npos) << ds[0].reason;
  EXPECT_NE(ds[0].reason.find("127.0.0.1:" + std::to_string(port)), std::string::npos) << ds[0].reason;
}

TEST(Pager, BlackHoledChannelDoesNotHoldBackAnother) {
  BlackHole hole;
  ASSERT_GT(hole.port(), 0);
  HttpFixture f;
  Received got;
  Route(f, "/hook", got, {200});
  f.Start();
  rt::DeliveryConfig config;
  config.deadline_ms = 3000;
  config.attempt_timeout_ms = 2000;
  auto ds = rt::SendPage(Page({{"webhook", hole.url() + "/hook"}, {"webhook", f.url() + "/hook"}}), config, Reader({}));
  ASSERT_EQ(ds.size(), 2u);
  EXPECT_FALSE(ds[0].delivered);
  EXPECT_NE(ds[0].reason.find("timeout"), std::string::npos) << ds[0].reason;
  EXPECT_TRUE(ds[1].delivered) << ds[1].reason;
  // Sent at once: the good channel was done long before the black hole's first attempt ended.
  EXPECT_GE(ds[0].elapsed_ms, 2000);
  EXPECT_LT(ds[1].elapsed_ms, ds[0].elapsed_ms / 2);
}

TEST(Pager, HandChannelsAreNotDelivered) {
  HttpFixture f;
  Received got;
  Route(f, "/hook", got, {200});
  f.Start();
  auto ds = rt::SendPage(Page({{"phone", "+15550100"}, {"email", "sre@example.com"}, {"webhook", f.url() + "/hook"}}),
                         rt::DeliveryConfig{}, Reader({}));
  ASSERT_EQ(ds.size(), 3u);
  EXPECT_FALSE(ds[0].delivered);
  EXPECT_EQ(ds[0].attempts, 0);
  EXPECT_EQ(ds[0].reason, "phone channels are not delivered by runbook: page by hand");
  EXPECT_EQ(ds[0].address, "+15550100");
  EXPECT_EQ(ds[1].reason, "email channels are not delivered by runbook: page by hand");
  EXPECT_TRUE(ds[2].delivered) << ds[2].reason;
  EXPECT_EQ(got.count.load(), 1);
}

TEST(Pager, MissingDeliveryConfigOrSecretIsSaid) {
  auto page = Page({{"slack", "#sre"}, {"pager", "sre-primary"}});
  auto ds = rt::SendPage(page, rt::DeliveryConfig{}, Reader({}));
  ASSERT_EQ(ds.size(), 2u);
  EXPECT_FALSE(ds[0].delivered);
  EXPECT_EQ(ds[0].reason, "no delivery.slack.webhook in the environment");
  EXPECT_FALSE(ds[1].delivered);
  EXPECT_EQ(ds[1].reason, "no delivery.pagerduty.routing_key in the environment");
  EXPECT_FALSE(ds[0].payload.empty());  // what would have been sent is still shown

  ds = rt::SendPage(page, Config(), Reader({}));
  ASSERT_EQ(ds.size(), 2u);
  EXPECT_EQ(ds[0].attempts, 0);
  EXPECT_EQ(ds[0].reason, "secret `SLACK_WEBHOOK_URL`: variable SLACK_WEBHOOK_URL is not set");
  EXPECT_EQ(ds[1].reason, "secret `PD_ROUTING_KEY`: variable PD_ROUTING_KEY is not set");

  ds = rt::SendPage(page, Config(), rt::SecretReader{});  // no reader at all
  ASSERT_EQ(ds.size(), 2u);
  EXPECT_NE(ds[0].reason.find("cannot be read"), std::string::npos) << ds[0].reason;
}

TEST(Pager, PagePayloadsSendsNothing) {
  HttpFixture f;
  Received got;
  Route(f, "/slack", got, {200});
  Route(f, "/v2/enqueue", got, {202});
  Route(f, "/hook", got, {200});
  f.Start();
  auto config = Config();
  config.pagerduty_url = f.url() + "/v2/enqueue";
  auto ds = rt::PagePayloads(Page({{"slack", "#sre"}, {"pager", "sre-primary"}, {"webhook", f.url() + "/hook"}, {"sms", "+1555"}}),
                             config, Reader({{"SLACK_WEBHOOK_URL", f.url() + "/slack"}, {"PD_ROUTING_KEY", kKey}}));
  ASSERT_EQ(ds.size(), 4u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_FALSE(ds[i].delivered);
    EXPECT_EQ(ds[i].attempts, 0);
    EXPECT_EQ(ds[i].status, 0);
    EXPECT_EQ(ds[i].reason, "dry run: not sent");
    EXPECT_TRUE(json::parse(ds[i].payload, nullptr, false).is_object()) << ds[i].payload;
  }
  EXPECT_EQ(json::parse(ds[1].payload)["routing_key"], "***");
  EXPECT_EQ(ds[0].url, "slack webhook (SLACK_WEBHOOK_URL)");
  EXPECT_EQ(ds[3].reason, "sms channels are not delivered by runbook: page by hand");
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(got.count.load(), 0);
  EXPECT_EQ(AllText(ds).find(kKey), std::string::npos);

  // A secret that cannot be read now is said (the live run would fail), still nothing is sent.
  ds = rt::PagePayloads(Page({{"pager", "sre-primary"}}), config, Reader({}));
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds[0].reason.rfind("dry run: not sent; ", 0), 0u) << ds[0].reason;
  EXPECT_NE(ds[0].reason.find("PD_ROUTING_KEY"), std::string::npos) << ds[0].reason;
  EXPECT_EQ(got.count.load(), 0);
}

TEST(Pager, CanarySecretNeverAppearsInAnyDelivery) {
  const std::string canary = "CANARY-8f2e4d1c-\"quoted\"";
  const std::string slack_path = "/services/CANARY-8f2e4d1c";
  HttpFixture f;
  Received slack, pd, hook;
  // Servers that echo what they were sent (the key and URL included) in their error bodies.
  f.Post(slack_path, [&](const httplib::Request& req, httplib::Response& res) {
    slack.Add(req);
    res.status = 404;
    res.set_content("no_service " + req.path, "text/plain");
  });
  f.Post("/v2/enqueue", [&](const httplib::Request& req, httplib::Response& res) {
    pd.Add(req);
    res.status = 400;
    json r = json::parse(req.body, nullptr, false);
    std::string key = r.is_object() && r["routing_key"].is_string() ? r["routing_key"].get<std::string>() : "";
    res.set_content(json{{"status", "invalid event"}, {"message", "bad key " + key}, {"errors", {key}}}.dump(), "application/json");
  });
  f.Post("/hook", [&](const httplib::Request& req, httplib::Response& res) {
    hook.Add(req);
    res.status = 503;
    res.set_content(req.body, "application/json");
  });
  f.Start();
  auto config = Config();
  config.pagerduty_url = f.url() + "/v2/enqueue";
  config.deadline_ms = 800;
  std::string slack_url = f.url() + slack_path;
  auto reader = Reader({{"SLACK_WEBHOOK_URL", slack_url}, {"PD_ROUTING_KEY", canary}});
  auto page = Page({{"slack", "#sre"}, {"pager", "sre-primary"}, {"webhook", f.url() + "/hook"}});
  page.message = "someone pasted the key " + canary + " into the message";

  auto sent = rt::SendPage(page, config, reader);
  auto dry = rt::PagePayloads(page, config, reader);
  ASSERT_EQ(sent.size(), 3u);
  ASSERT_EQ(pd.count.load(), 1);
  EXPECT_EQ(pd.Last()["routing_key"], canary);  // the server did get the key
  EXPECT_EQ(slack.count.load(), 1);
  EXPECT_NE(sent[0].reason.find("HTTP 404"), std::string::npos) << sent[0].reason;
  EXPECT_NE(sent[1].reason.find("HTTP 400"), std::string::npos) << sent[1].reason;
  EXPECT_NE(sent[2].reason.find("HTTP 503"), std::string::npos) << sent[2].reason;
  json escaped = canary;
  for (const std::string& text : {AllText(sent), AllText(dry)}) {
    EXPECT_EQ(text.find("CANARY-8f2e4d1c"), std::string::npos) << text;
    EXPECT_EQ(text.find(slack_url), std::string::npos) << text;
    EXPECT_EQ(text.find(escaped.dump()), std::string::npos) << text;
  }
}

}  // namespace
}  // namespace rb::test
