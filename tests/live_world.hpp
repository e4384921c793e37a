// The example environment's world, live on loopback, for the end-to-end triage tests and the live
// benchmark: a real redis-server (the cache and the Celery broker), a real Prometheus scraping an
// exporter fixture with the Celery, Redis, Neo4j and Kubernetes series the stdlib's queries read, the
// API (denis-api: /metrics, /chat, /health), Elasticsearch's `_count`/`_search` and Neo4j's HTTP API
// as fixtures. Healthy by default; Exposition() and the fixtures' state can be changed while it runs.
#pragma once

#include <ctime>
#include <fstream>
#include <mutex>
#include <string>

#include "tests/http_fixture.hpp"
#include "tests/live_server.hpp"

namespace rb::test {

class LiveWorld {
 public:
  // `delays`: each fixture answers after a delay of its own, as over a network (the benchmark).
  explicit LiveWorld(bool delays = false) : delays_(delays) {
    exporter_.Get("/metrics", [this](const httplib::Request&, httplib::Response& r) {
      r.set_content(ExporterText(), "text/plain; version=0.0.4");
    });
    exporter_.Start();
    api_.Get("/metrics", [this](const httplib::Request&, httplib::Response& r) {
      Delay(100);
      std::lock_guard<std::mutex> g(m_);
      r.set_content(api_metrics_, "text/plain; version=0.0.4");
    });
    for (const char* path : {"/chat", "/health", "/"}) {
      api_.Get(path, [this](const httplib::Request&, httplib::Response& r) {
        Delay(100);
        r.set_content("ok\n", "text/plain");
      });
    }
    api_.Start();
    es_.Post(R"(/([^/]+)/_count)", [this](const httplib::Request&, httplib::Response& r) {
      Delay(150);
      std::lock_guard<std::mutex> g(m_);
      r.set_content("{\"count\": " + std::to_string(log_hits_) + "}", "application/json");
    });
    es_.Post(R"(/([^/]+)/_search)", [this](const httplib::Request&, httplib::Response& r) {
      Delay(150);
      r.set_content(R"({"hits": {"total": {"value": 0}, "hits": []}})", "application/json");
    });
    es_.Start();
    neo4j_.Post("/db/neo4j/tx/commit", [this](const httplib::Request& q, httplib::Response& r) {
      Delay(50);
      std::string column = q.body.find("RETURN 1 AS ok") != std::string::npos ? "ok" : "count(*)";
      std::string value = column == "ok" ? "1" : "0";
      r.set_content("{\"results\": [{\"columns\": [\"" + column + "\"], \"data\": [{\"row\": [" + value + "]}]}], \"errors\": []}",
                    "application/json");
    });
    neo4j_.Start();
    prometheus_ = std::make_unique<PrometheusServer>("127.0.0.1:" + std::to_string(exporter_.port()));
  }
  LiveWorld(const LiveWorld&) = delete;
  LiveWorld& operator=(const LiveWorld&) = delete;

  // Whether every server answers (Prometheus has scraped the exporter).
  bool Ready() { return redis_.up() && prometheus_->Ready(); }

  // The example environment bound to this world. `api_address` replaces the API's (a black hole).
  std::string WriteEnv(const std::string& path, const std::string& api_address = "", const std::string& timeout = "2s") {
    std::string prom = prometheus_->url();
    std::string redis = "redis://127.0.0.1:" + std::to_string(redis_.port());
    std::string common = ", timeout: " + timeout + ", prometheus: \"" + prom + "\"";
    std::ofstream out(path);
    out << "name: loopback\n"
        << "targets:\n"
        << "  redis:         {capability: redis,  address: \"" << redis << "\"" << common << "}\n"
        << "  denis-api:     {capability: http,   address: \"" << (api_address.empty() ? api_.url() : api_address) << "\"" << common << "}\n"
        << "  denis-workers: {capability: celery, address: \"" << redis << "/0\"" << common << "}\n"
        << "  kibana:        {capability: logs,   address: \"" << es_.url() << "\"" << common << "}\n"
        << "  neo4j:         {capability: neo4j,  address: \"bolt://127.0.0.1:7687\", http: \"" << neo4j_.url() << "\"" << common << "}\n"
        << "params:\n  \"*\": {ns: denis}\n  queue_growing: {queue: celery}\n  websocket_disconnects: {max_disconnect_rate: 1}\n"
        << "exec:\n  allow: [redis-cli, celery]\n  env: {CELERY_BROKER_URL: \"" << redis << "/0\"}\n"
        << "state: {store: memory}\n";
    return path;
  }

  RedisServer& redis() { return redis_; }
  void SetLogHits(int n) {
    std::lock_guard<std::mutex> g(m_);
    log_hits_ = n;
  }
  void SetApiMetrics(std::string text) {
    std::lock_guard<std::mutex> g(m_);
    api_metrics_ = std::move(text);
  }

 private:
  void Delay(int ms) const {
    if (delays_) std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  }
  std::string ExporterText() {
    std::string now = std::to_string(static_cast<long long>(std::time(nullptr)));
    return "# TYPE celery_queue_length gauge\n"
           "celery_queue_length{queue_name=\"celery\"} 3\n"
           "celery_queue_length{queue_name=\"tools_mut\"} 0\n"
           "celery_queue_oldest_message_timestamp_seconds{queue_name=\"celery\"} " + now + "\n"
           "celery_task_started_timestamp_seconds{task=\"chat\"} " + now + "\n"
           "celery_worker_last_heartbeat_timestamp_seconds{worker=\"w1\"} " + now + "\n"
           "celery_worker_tasks_active{worker=\"w1\"} 1\n"
           "celery_worker_pool_size{worker=\"w1\"} 4\n"
           "celery_active_consumer_count{queue_name=\"celery\"} 1\n"
           "celery_active_consumer_count{queue_name=\"tools_mut\"} 1\n"
           "# TYPE celery_task_sent_total counter\ncelery_task_sent_total 100\n"
           "# TYPE celery_task_succeeded_total counter\ncelery_task_succeeded_total 100\n"
           "# TYPE celery_task_failed_total counter\ncelery_task_failed_total 0\n"
           "process_resident_memory_bytes{job=\"celery-worker\"} 1.5e+08\n"
           "redis_rejected_connections_total 0\nredis_cpu_sys_seconds_total 1\nredis_cpu_user_seconds_total 1\n"
           "neo4j_dbms_bolt_connections_running 2\nneo4j_dbms_bolt_connections_max 100\n"
           "neo4j_database_transaction_active_write 0\nneo4j_dbms_page_cache_hit_ratio 0.98\n"
           "gate_policy_block 0\nmutations_403 0\ndecision_trace_writes 10\n";
  }

  bool delays_ = false;
  std::mutex m_;
  int log_hits_ = 0;
  std::string api_metrics_ =
      "rate_limit_fallback 0\nws_disconnect_rate 0\nchat_latency_p99 0.8\nhttp_error_rate 0.01\nchat_timeout 0\n"
      "policy_block_rate 0\nspans_dropped 0\n";
  RedisServer redis_;
  HttpFixture exporter_, api_, es_, neo4j_;
  std::unique_ptr<PrometheusServer> prometheus_;
};

}  // namespace rb::test
