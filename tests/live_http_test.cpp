// Live HTTP reads against in-process fixtures and a real Prometheus server, on free loopback ports
// (tests/http_fixture.hpp): status, latency, body, the exposition format, PromQL, Elasticsearch and
// Neo4j's HTTP API; and every fault an unknown with its reason: refused, black-holed, dripping, 500s,
// garbage, a 1 GB body. No timing assertions: the ctest TIMEOUT guards against hangs, and
// concurrency is shown by what the fixture saw in flight at once.
#include <gtest/gtest.h>

#include <cstdlib>
#include <mutex>

#include "runtime/live.hpp"
#include "tests/compile_util.hpp"
#include "tests/http_fixture.hpp"

namespace rb::test {
namespace {

rt::Environment EnvWith(const std::string& binding, const std::string& address,
                        std::map<std::string, std::string> fields = {}) {
  rt::Environment env;
  env.path = "test.env.yaml";
  rt::EnvTarget t;
  t.name = binding;
  t.address = address;
  t.fields = std::move(fields);
  env.targets[binding] = t;
  return env;
}

rt::ProbeCall Call(const std::string& binding, const std::string& native, std::vector<rt::Value> args) {
  rt::ProbeCall c;
  c.target = "api";
  c.binding = binding;
  c.method = native;
  c.args = std::move(args);
  return c;
}
rt::ProbeCall Call(const std::string& binding, const std::string& native, const std::string& arg) {
  return Call(binding, native, std::vector<rt::Value>{rt::Value::String(arg)});
}

// A self-signed certificate for 127.0.0.1, made with openssl in a folder removed afterwards.
class ScratchTls {
 public:
  ScratchTls() {
    char tmpl[] = "/tmp/runbook-tls-XXXXXX";
    dir_ = mkdtemp(tmpl) != nullptr ? tmpl : "";
    std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 "
                      "-keyout " + key() + " -out " + cert() + " >/dev/null 2>&1";
    ok_ = !dir_.empty() && std::system(cmd.c_str()) == 0;
  }
  ~ScratchTls() {
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }
  bool ok() const { return ok_; }
  std::string cert() const { return dir_ + "/cert.pem"; }
  std::string key() const { return dir_ + "/key.pem"; }

 private:
  std::string dir_;
  bool ok_ = false;
};

const char* kExposition =
    "# HELP celery_queue_length Messages waiting\n"
    "# TYPE celery_queue_length gauge\n"
    "celery_queue_length{queue_name=\"celery\"} 5\n"
    "celery_queue_length{queue_name=\"tools_mut\"} 7\n"
    "# TYPE rpc_seconds histogram\n"
    "rpc_seconds_bucket{le=\"0.1\"} 3\n"
    "rpc_seconds_bucket{le=\"+Inf\"} 4\n"
    "rpc_seconds_sum 0.5\n"
    "rpc_seconds_count 4\n"
    "ws_disconnect_rate NaN\n";

TEST(LiveHttp, StatusLatencyAndBodyOfAnEndpoint) {
  HttpFixture f;
  f.Get("/health", [](const httplib::Request&, httplib::Response& r) { r.set_content("ok\nsecond line\n", "text/plain"); });
  f.Get("/broken", [](const httplib::Request&, httplib::Response& r) {
    r.status = 503;
    r.set_content("upstream down", "text/plain");
  });
  f.Start();
  rt::Environment env = EnvWith("api", f.url());
  rt::LiveProvider live(env, &TestRegistry());
  rt::ProbeAnswer s = live.Probe(Call("api", "http_status", "/health"), 0);
  ASSERT_FALSE(s.value.IsUnknown()) << s.reason;
  EXPECT_EQ(s.value.number, 200);
  rt::ProbeAnswer l = live.Probe(Call("api", "http_latency", "/health"), 0);
  ASSERT_FALSE(l.value.IsUnknown()) << l.reason;
  EXPECT_EQ(l.value.type, rt::ValueType::kDuration);
  EXPECT_GE(l.value.number, 0);
  rt::ProbeAnswer g = live.Probe(Call("api", "http_get", "/health"), 0);
  ASSERT_EQ(g.value.type, rt::ValueType::kLines) << g.reason;
  EXPECT_EQ(g.value.heap->lines, (std::vector<std::string>{"ok", "second line"}));
  // A 503 is an answer for the status (up() is status < 500); its body is not read as data.
  rt::ProbeAnswer bs = live.Probe(Call("api", "http_status", "/broken"), 0);
  EXPECT_EQ(bs.value.number, 503);
  rt::ProbeAnswer bg = live.Probe(Call("api", "http_get", "/broken"), 0);
  EXPECT_TRUE(bg.value.IsUnknown());
  EXPECT_EQ(bg.reason, "HTTP 503 from 127.0.0.1:" + std::to_string(f.port()) + "/broken");
}

TEST(LiveHttp, MetricsAreReadFromTheExposition) {
  HttpFixture f;
  std::atomic<int> scrapes{0};
  f.Get("/metrics", [&](const httplib::Request&, httplib::Response& r) {
    ++scrapes;
    r.set_content(kExposition, "text/plain; version=0.0.4");
  });
  f.Get("/garbage", [](const httplib::Request&, httplib::Response& r) {
    r.set_content("# TYPE x gauge\nx 1\nthis is not a sample\n", "text/plain");
  });
  f.Start();
  rt::Environment env = EnvWith("api", f.url());
  env.targets["bad"] = env.targets["api"];
  env.targets["bad"].fields["metrics"] = "/garbage";
  rt::LiveProvider live(env, &TestRegistry());
  rt::ProbeAnswer sum = live.Probe(Call("api", "metric", "celery_queue_length"), 0);
  ASSERT_FALSE(sum.value.IsUnknown()) << sum.reason;
  EXPECT_EQ(sum.value.number, 12);
  rt::ProbeAnswer one = live.Probe(Call("api", "metric", "celery_queue_length{queue_name=\"tools_mut\"}"), 0);
  EXPECT_EQ(one.value.number, 7) << one.reason;
  rt::ProbeAnswer count = live.Probe(Call("api", "metric", "rpc_seconds_count"), 0);
  EXPECT_EQ(count.value.number, 4) << count.reason;
  // Every metric of the instant came from one scrape.
  EXPECT_EQ(scrapes.load(), 1);
  rt::ProbeAnswer none = live.Probe(Call("api", "metric", "no_such_metric"), 0);
  EXPECT_TRUE(none.value.IsUnknown());
  EXPECT_NE(none.reason.find("no sample of `no_such_metric`"), std::string::npos) << none.reason;
  rt::ProbeAnswer garbage = live.Probe(Call("bad", "metric", "x"), 0);
  EXPECT_TRUE(garbage.value.IsUnknown());
  EXPECT_EQ(garbage.reason.rfind("not a Prometheus exposition at line 3", 0), 0u) << garbage.reason;
}

TEST(LiveHttp, FaultsAreUnknownsWithTheirReasons) {
  HttpFixture f;
  f.Get("/drip", [&](const httplib::Request&, httplib::Response& r) {
    r.set_chunked_content_provider("text/plain", [&](size_t, httplib::DataSink& sink) {
      for (int i = 0; i < 30 && !f.stopping(); ++i) {
        if (!sink.write("x", 1)) return false;
        std::this_thread::sleep_for(std::chrono::seconds(1));
      }
      sink.done();
      return true;
    });
  });
  f.Get("/huge", [&](const httplib::Request&, httplib::Response& r) {
    // 1 GB, chunked: no Content-Length tells the client in advance.
    r.set_chunked_content_provider("text/plain", [&](size_t offset, httplib::DataSink& sink) {
      static const std::string block(1 << 20, 'a');
      if (offset >= (size_t{1} << 30) || f.stopping()) {
        sink.done();
        return true;
      }
      return sink.write(block.data(), block.size());
    });
  });
  f.Get("/error", [](const httplib::Request&, httplib::Response& r) {
    r.status = 500;
    r.set_content("boom", "text/plain");
  });
  f.Start();
  BlackHole hole;
  int closed = FreeLoopbackPort();
  rt::Environment env = EnvWith("api", f.url(), {{"timeout", "700ms"}, {"max_body", "1MB"}});
  env.targets["hole"] = env.targets["api"];
  env.targets["hole"].address = hole.url();
  env.targets["closed"] = env.targets["api"];
  env.targets["closed"].address = "http://127.0.0.1:" + std::to_string(closed);
  rt::LiveProvider live(env, &TestRegistry());
  std::string fport = std::to_string(f.port());

  rt::ProbeAnswer drip = live.Probe(Call("api", "http_get", "/drip"), 0);
  EXPECT_TRUE(drip.value.IsUnknown());
  EXPECT_EQ(drip.reason, "timeout after 700ms (127.0.0.1:" + fport + ")");
  rt::ProbeAnswer huge = live.Probe(Call("api", "http_get", "/huge"), 0);
  EXPECT_TRUE(huge.value.IsUnknown());
  EXPECT_EQ(huge.reason, "body larger than 1000000 bytes from 127.0.0.1:" + fport + " (the target's max_body)");
  rt::ProbeAnswer err = live.Probe(Call("api", "metric", "x"), 0);  // /metrics is not routed: 404
  EXPECT_TRUE(err.value.IsUnknown());
  EXPECT_EQ(err.reason, "HTTP 404 from 127.0.0.1:" + fport + "/metrics");
  rt::ProbeAnswer five = live.Probe(Call("api", "http_get", "/error"), 0);
  EXPECT_EQ(five.reason, "HTTP 500 from 127.0.0.1:" + fport + "/error");
  rt::ProbeAnswer bh = live.Probe(Call("hole", "http_status", "/"), 0);
  EXPECT_TRUE(bh.value.IsUnknown());
  EXPECT_EQ(bh.reason, "timeout after 700ms (127.0.0.1:" + std::to_string(hole.port()) + ")");
  rt::ProbeAnswer refused = live.Probe(Call("closed", "http_status", "/"), 0);
  EXPECT_TRUE(refused.value.IsUnknown());
  EXPECT_EQ(refused.reason, "connection refused (127.0.0.1:" + std::to_string(closed) + ")");
  // The run goes on: the next probe of the same provider is answered.
  rt::ProbeAnswer after = live.Probe(Call("api", "http_status", "/error"), 0);
  EXPECT_EQ(after.value.number, 500) << after.reason;
}

TEST(LiveHttp, TheCallsOfAnInstantAreAskedAtOnceAndEachOnce) {
  HttpFixture f;
  std::mutex m;
  int in_flight = 0, most = 0, hits = 0;
  f.Get(R"(/slow/(\d+))", [&](const httplib::Request&, httplib::Response& r) {
    {
      std::lock_guard<std::mutex> g(m);
      ++hits;
      most = std::max(most, ++in_flight);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    {
      std::lock_guard<std::mutex> g(m);
      --in_flight;
    }
    r.set_content("ok", "text/plain");
  });
  f.Start();
  BlackHole hole;
  rt::Environment env = EnvWith("api", f.url(), {{"timeout", "1500ms"}});
  env.targets["hole"] = env.targets["api"];
  env.targets["hole"].address = hole.url();
  rt::LiveProvider live(env, &TestRegistry());
  std::vector<rt::ProbeCall> calls;
  for (int i = 0; i < 4; ++i) calls.push_back(Call("api", "http_status", "/slow/" + std::to_string(i)));
  calls.push_back(Call("api", "http_status", "/slow/0"));  // the same probe again: asked once
  calls.push_back(Call("hole", "http_status", "/"));
  live.Prefetch(calls, 0);
  EXPECT_EQ(hits, 4);
  EXPECT_EQ(most, 4);  // all four were in flight together
  EXPECT_EQ(live.requests(), 5u);
  // Probes of the instant are answered from what was fetched: nothing more is asked.
  for (int i = 0; i < 4; ++i) EXPECT_EQ(live.Probe(calls[i], 0).value.number, 200);
  EXPECT_TRUE(live.Probe(calls[5], 0).value.IsUnknown());
  EXPECT_EQ(live.requests(), 5u);
  EXPECT_EQ(hits, 4);
}

// A call with an argument nobody knows is not sent with "unknown" as a word, nor noted for discovery.
TEST(LiveHttp, AnUnknownArgumentIsNotSent) {
  rt::Environment env = EnvWith("api", "http://127.0.0.1:1");
  rt::LiveProvider live(env, &TestRegistry());
  live.BeginDiscovery();
  rt::ProbeAnswer a = live.Probe(Call("api", "http_status", std::vector<rt::Value>{rt::Value::Unknown()}), 0);
  EXPECT_TRUE(live.EndDiscovery().empty());
  EXPECT_EQ(a.reason, "an argument is unknown");
  rt::ProbeAnswer b = live.Probe(Call("api", "http_status", std::vector<rt::Value>{rt::Value::Unknown()}), 0);
  EXPECT_EQ(b.reason, "an argument is unknown");
  EXPECT_EQ(live.requests(), 0u);
}

// JSON that parses but is not of the documented shape is an unknown with its reason, never a crash.
TEST(LiveHttp, JsonOfAnotherShapeIsUnknown) {
  HttpFixture f;
  f.Get("/api/v1/query", [](const httplib::Request& q, httplib::Response& r) {
    std::string body = q.get_param_value("query") == "array" ? "[1, 2]"
                       : q.get_param_value("query") == "data"  ? R"({"status": "success", "data": [3]})"
                                                              : R"({"status": "error", "error": {"not": "a string"}})";
    r.set_content(body, "application/json");
  });
  f.Post("/idx/_count", [](const httplib::Request&, httplib::Response& r) { r.set_content(R"({"count": "many"})", "application/json"); });
  f.Post("/db/neo4j/tx/commit", [](const httplib::Request&, httplib::Response& r) {
    r.set_content(R"({"results": [7], "errors": ["oops"]})", "application/json");
  });
  f.Start();
  rt::Environment env = EnvWith("api", f.url(), {{"prometheus", f.url()}, {"http", f.url()}});
  rt::LiveProvider live(env, &TestRegistry());
  for (const char* q : {"array", "data", "other"}) {
    rt::ProbeAnswer a = live.Probe(Call("api", "prom", q), 0);
    EXPECT_TRUE(a.value.IsUnknown()) << q;
    EXPECT_FALSE(a.reason.empty()) << q;
  }
  rt::ProbeAnswer es = live.Probe(Call("api", "es_count", std::vector<rt::Value>{rt::Value::String("idx"), rt::Value::String("x"),
                                                                              rt::Value::Number(rt::ValueType::kDuration, 60000)}), 0);
  EXPECT_EQ(es.reason, "Elasticsearch at 127.0.0.1:" + std::to_string(f.port()) + "/idx/_count answered no `count`");
  rt::ProbeAnswer neo = live.Probe(Call("api", "cypher", "RETURN 1 AS ok"), 0);
  EXPECT_TRUE(neo.value.IsUnknown());
  EXPECT_EQ(neo.reason, "Neo4j: error: ");
}

TEST(LiveHttp, DiscoveryNotesWhatAnInstantWouldAsk) {
  rt::Environment env = EnvWith("api", "http://127.0.0.1:1");
  rt::LiveProvider live(env, &TestRegistry());
  live.BeginDiscovery();
  rt::ProbeAnswer a = live.Probe(Call("api", "http_status", "/a"), 0);
  live.Probe(Call("api", "http_status", "/a"), 0);
  live.Probe(Call("api", "http_status", "/b"), 0);
  EXPECT_TRUE(a.value.IsUnknown());
  std::vector<rt::ProbeCall> noted = live.EndDiscovery();
  ASSERT_EQ(noted.size(), 2u);
  EXPECT_EQ(noted[1].args[0].Text(), "/b");
  EXPECT_EQ(live.requests(), 0u);  // nothing was asked while discovering
  EXPECT_TRUE(live.seen().empty());
}

TEST(LiveHttp, BearerTokensComeFromSecretsAndAreNeverShown) {
  const std::string canary = "canary-7f3a9c2e-secret";
  setenv("RB_TEST_API_TOKEN", canary.c_str(), 1);
  HttpFixture f;
  f.Get("/whoami", [&](const httplib::Request& q, httplib::Response& r) {
    if (q.get_header_value("Authorization") != "Bearer " + canary) {
      r.status = 401;
      r.set_content("bad token " + q.get_header_value("Authorization"), "text/plain");
      return;
    }
    r.set_content("token is " + canary + "\n", "text/plain");  // a server that echoes it
  });
  f.Start();
  rt::Environment env = EnvWith("api", f.url(), {{"token", "API_TOKEN"}});
  env.secrets["API_TOKEN"] = rt::EnvSecret{"API_TOKEN", "env:RB_TEST_API_TOKEN", {}};
  rt::LiveProvider live(env, &TestRegistry());
  rt::ProbeAnswer a = live.Probe(Call("api", "http_get", "/whoami"), 0);
  ASSERT_EQ(a.value.type, rt::ValueType::kLines) << a.reason;
  EXPECT_EQ(a.value.heap->lines, (std::vector<std::string>{"token is ***"}));
  for (const auto& s : live.seen()) EXPECT_EQ(s.value.find(canary), std::string::npos) << s.value;
  // A missing secret is an unknown naming the secret and where it should come from, never a request
  // without the token.
  env.secrets["API_TOKEN"].source = "env:RB_TEST_NOT_SET";
  rt::LiveProvider without(env, &TestRegistry());
  rt::ProbeAnswer b = without.Probe(Call("api", "http_get", "/whoami"), 0);
  EXPECT_TRUE(b.value.IsUnknown());
  EXPECT_EQ(b.reason, "secret `API_TOKEN`: variable RB_TEST_NOT_SET is not set");
  EXPECT_EQ(without.requests(), 0u);
  unsetenv("RB_TEST_API_TOKEN");
}

TEST(LiveHttp, ElasticsearchCountAndSearch) {
  HttpFixture f;
  std::string seen_body;
  f.Post("/denis-logs/_count", [&](const httplib::Request& q, httplib::Response& r) {
    seen_body = q.body;
    r.set_content(R"({"count": 42, "_shards": {"total": 1}})", "application/json");
  });
  f.Post("/denis-logs/_search", [&](const httplib::Request&, httplib::Response& r) {
    r.set_content(R"({"hits": {"hits": [{"_source": {"message": "ConnectionError: redis"}}, {"_source": {"level": "x"}}]}})",
                  "application/json");
  });
  f.Post("/missing/_count", [&](const httplib::Request&, httplib::Response& r) {
    r.status = 404;
    r.set_content(R"({"error": {"type": "index_not_found_exception", "reason": "no such index [missing]"}, "status": 404})",
                  "application/json");
  });
  f.Start();
  rt::Environment env = EnvWith("kibana", f.url());
  rt::LiveProvider live(env, &TestRegistry());
  std::vector<rt::Value> args{rt::Value::String("denis-logs"), rt::Value::String("ConnectionError"),
                              rt::Value::Number(rt::ValueType::kDuration, 300000)};
  rt::ProbeAnswer c = live.Probe(Call("kibana", "es_count", args), 0);
  ASSERT_FALSE(c.value.IsUnknown()) << c.reason;
  EXPECT_EQ(c.value.number, 42);
  EXPECT_NE(seen_body.find("\"query\":\"ConnectionError\""), std::string::npos) << seen_body;
  EXPECT_NE(seen_body.find("now-300s"), std::string::npos) << seen_body;
  rt::ProbeAnswer s = live.Probe(Call("kibana", "es_search", args), 0);
  ASSERT_EQ(s.value.type, rt::ValueType::kLines) << s.reason;
  EXPECT_EQ(s.value.heap->lines.size(), 2u);
  EXPECT_EQ(s.value.heap->lines[0], "ConnectionError: redis");
  args[0] = rt::Value::String("missing");
  rt::ProbeAnswer m = live.Probe(Call("kibana", "es_count", args), 0);
  EXPECT_EQ(m.reason, "HTTP 404 from 127.0.0.1:" + std::to_string(f.port()) + "/missing/_count: no such index [missing]");
}

TEST(LiveHttp, CypherOverNeo4jsHttpApi) {
  setenv("RB_TEST_NEO4J", "neo-pass", 1);
  HttpFixture f;
  f.Post("/db/neo4j/tx/commit", [&](const httplib::Request& q, httplib::Response& r) {
    // neo4j:neo-pass
    if (q.get_header_value("Authorization") != "Basic bmVvNGo6bmVvLXBhc3M=") {
      r.status = 401;
      r.set_content(R"({"errors": [{"code": "Neo.ClientError.Security.Unauthorized", "message": "no auth"}]})", "application/json");
      return;
    }
    if (q.body.find("RETURN 1 AS ok") != std::string::npos) {
      r.set_content(R"({"results": [{"columns": ["ok"], "data": [{"row": [1]}]}], "errors": []})", "application/json");
    } else {
      r.set_content(R"({"results": [], "errors": [{"code": "Neo.ClientError.Statement.SyntaxError", "message": "Invalid input"}]})",
                    "application/json");
    }
  });
  f.Start();
  rt::Environment env = EnvWith("neo4j", "bolt://127.0.0.1:7687", {{"http", f.url()}, {"auth", "NEO4J_PASSWORD"}});
  env.secrets["NEO4J_PASSWORD"] = rt::EnvSecret{"NEO4J_PASSWORD", "env:RB_TEST_NEO4J", {}};
  rt::LiveProvider live(env, &TestRegistry());
  rt::ProbeAnswer ok = live.Probe(Call("neo4j", "cypher", "RETURN 1 AS ok"), 0);
  ASSERT_EQ(ok.value.type, rt::ValueType::kLines) << ok.reason;
  EXPECT_EQ(ok.value.heap->lines, (std::vector<std::string>{"ok", "1"}));
  rt::ProbeAnswer bad = live.Probe(Call("neo4j", "cypher", "RETURN nonsense("), 0);
  EXPECT_EQ(bad.reason, "Neo4j: Neo.ClientError.Statement.SyntaxError: Invalid input");
  // A write is refused before anything is sent.
  size_t before = live.requests();
  rt::ProbeAnswer del = live.Probe(Call("neo4j", "cypher", "MATCH (n) DETACH DELETE n"), 0);
  EXPECT_TRUE(del.value.IsUnknown());
  EXPECT_EQ(del.reason.rfind("refused: `MATCH (n) DETACH DELETE n` is destructive", 0), 0u) << del.reason;
  EXPECT_EQ(live.requests(), before);
  unsetenv("RB_TEST_NEO4J");
}

// TLS is verified: a self-signed server is unknown with the fix, and trusted once the target's `ca:`
// names its certificate.
TEST(LiveHttp, TlsIsVerifiedAndACaFileIsTrusted) {
  ScratchTls tls;
  ASSERT_TRUE(tls.ok()) << "openssl could not make a certificate";
  httplib::SSLServer server(tls.cert().c_str(), tls.key().c_str());
  ASSERT_TRUE(server.is_valid());
  server.Get("/health", [](const httplib::Request&, httplib::Response& r) { r.set_content("ok\n", "text/plain"); });
  int port = server.bind_to_any_port("127.0.0.1");
  std::thread t([&] { server.listen_after_bind(); });
  for (int i = 0; i < 500 && !server.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::string url = "https://127.0.0.1:" + std::to_string(port);
  rt::Environment env = EnvWith("api", url);
  env.targets["trusted"] = env.targets["api"];
  env.targets["trusted"].fields["ca"] = tls.cert();
  rt::LiveProvider live(env, &TestRegistry());
  rt::ProbeAnswer untrusted = live.Probe(Call("api", "http_status", "/health"), 0);
  EXPECT_TRUE(untrusted.value.IsUnknown());
  EXPECT_EQ(untrusted.reason.rfind("TLS to 127.0.0.1:" + std::to_string(port) + " not verified: ", 0), 0u) << untrusted.reason;
  EXPECT_NE(untrusted.reason.find("set the target's `ca:`"), std::string::npos) << untrusted.reason;
  rt::ProbeAnswer trusted = live.Probe(Call("trusted", "http_status", "/health"), 0);
  EXPECT_EQ(trusted.value.number, 200) << trusted.reason;
  server.stop();
  t.join();
}

TEST(LivePrometheus, InstantQueriesAgainstARealServer) {
  HttpFixture f;
  f.Get("/metrics", [](const httplib::Request&, httplib::Response& r) { r.set_content(kExposition, "text/plain; version=0.0.4"); });
  f.Start();
  PrometheusServer prom("127.0.0.1:" + std::to_string(f.port()));
  ASSERT_TRUE(prom.Ready()) << "prometheus did not scrape the fixture";
  rt::Environment env = EnvWith("workers", "redis://127.0.0.1:1", {{"prometheus", prom.url()}});
  rt::LiveProvider live(env, &TestRegistry());
  rt::ProbeAnswer sum = live.Probe(Call("workers", "prom", "sum(celery_queue_length)"), 0);
  ASSERT_FALSE(sum.value.IsUnknown()) << sum.reason;
  EXPECT_EQ(sum.value.number, 12);
  rt::ProbeAnswer scalar = live.Probe(Call("workers", "prom", "scalar(max(celery_queue_length)) * 2"), 0);
  EXPECT_EQ(scalar.value.number, 14) << scalar.reason;
  rt::ProbeAnswer sel = live.Probe(Call("workers", "prom", "celery_queue_length{queue_name=\"celery\"}"), 0);
  EXPECT_EQ(sel.value.number, 5) << sel.reason;
  rt::ProbeAnswer two = live.Probe(Call("workers", "prom", "celery_queue_length"), 0);
  EXPECT_TRUE(two.value.IsUnknown());
  EXPECT_EQ(two.reason.rfind("2 series for `celery_queue_length`", 0), 0u) << two.reason;
  rt::ProbeAnswer series = live.Probe(Call("workers", "prom_series", "celery_queue_length"), 0);
  ASSERT_EQ(series.value.type, rt::ValueType::kLines) << series.reason;
  EXPECT_EQ(series.value.heap->lines.size(), 2u);
  EXPECT_NE(series.value.heap->lines[0].find("queue_name=\"celery\""), std::string::npos);
  rt::ProbeAnswer none = live.Probe(Call("workers", "prom", "sum(no_such_metric)"), 0);
  EXPECT_TRUE(none.value.IsUnknown());
  EXPECT_EQ(none.reason.rfind("no series for `sum(no_such_metric)`", 0), 0u) << none.reason;
  rt::ProbeAnswer nan = live.Probe(Call("workers", "prom", "sum(ws_disconnect_rate)"), 0);
  EXPECT_TRUE(nan.value.IsUnknown());
  EXPECT_NE(nan.reason.find("NaN"), std::string::npos) << nan.reason;
  rt::ProbeAnswer bad = live.Probe(Call("workers", "prom", "sum("), 0);
  EXPECT_TRUE(bad.value.IsUnknown());
  EXPECT_EQ(bad.reason.rfind("Prometheus: bad_data: ", 0), 0u) << bad.reason;
  // A target with no Prometheus named says what to add.
  rt::Environment bare = EnvWith("workers", "redis://127.0.0.1:1");
  rt::LiveProvider without(bare, &TestRegistry());
  rt::ProbeAnswer n = without.Probe(Call("workers", "prom", "sum(x)"), 0);
  EXPECT_NE(n.reason.find("add prometheus: http://HOST:9090"), std::string::npos) << n.reason;
}

}  // namespace
}  // namespace rb::test
