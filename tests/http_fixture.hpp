// HTTP servers for the live tests, in-process on free loopback ports: an HTTP fixture (cpp-httplib)
// that tests give routes to, a black hole that accepts connections and never answers, and a real
// Prometheus server (Debian's `prometheus`) scraping a fixture. Each stops when it goes out of scope.
#pragma once

#include <httplib.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>

#include "tests/live_server.hpp"

namespace rb::test {

class HttpFixture {
 public:
  using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;
  HttpFixture() {
    server_.new_task_queue = [] { return new httplib::ThreadPool(8); };
    port_ = server_.bind_to_any_port("127.0.0.1");
  }
  ~HttpFixture() { Stop(); }
  HttpFixture(const HttpFixture&) = delete;
  HttpFixture& operator=(const HttpFixture&) = delete;

  void Get(const std::string& path, Handler h) { server_.Get(path, std::move(h)); }
  // The server itself, for what Get and Post do not cover (other methods, a pre-routing handler).
  httplib::Server& server() { return server_; }
  void Post(const std::string& path, Handler h) { server_.Post(path, std::move(h)); }
  // Starts serving the routes given so far.
  void Start() {
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // Serving, not only bound: a stop() before the accept loop runs would be missed (and hang).
    for (int i = 0; i < 500 && !server_.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    for (int i = 0; i < 200 && !CanConnect(port_); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  void Stop() {
    stopping_ = true;
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // Set when Stop begins: long responses (a drip, a huge body) end early.
  bool stopping() const { return stopping_; }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = -1;
  std::atomic<bool> stopping_{false};
};

// A server that completes the TCP handshake (the kernel does, from the listen backlog) and never
// reads or answers: the request goes out and nothing ever comes back.
class BlackHole {
 public:
  BlackHole() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd_ >= 0 && bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && listen(fd_, 64) == 0 &&
        getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
      port_ = ntohs(a.sin_port);
    }
  }
  ~BlackHole() {
    if (fd_ >= 0) close(fd_);
  }
  BlackHole(const BlackHole&) = delete;
  BlackHole& operator=(const BlackHole&) = delete;
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  int port_ = -1;
};

// A real Prometheus server on a free loopback port, scraping `target` (host:port) every second as
// job "fixture". Ready() waits until the first scrape has landed.
class PrometheusServer {
 public:
  explicit PrometheusServer(const std::string& target) {
    char tmpl[] = "/tmp/runbook-prom-XXXXXX";
    dir_ = mkdtemp(tmpl) != nullptr ? tmpl : "";
    port_ = FreeLoopbackPort();
    {
      std::ofstream cfg(dir_ + "/prometheus.yml");
      cfg << "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
          << "scrape_configs:\n"
          << "  - job_name: fixture\n"
          << "    honor_labels: true\n"
          << "    static_configs: [{targets: ['" << target << "']}]\n";
    }
    std::vector<std::string> argv{"/usr/bin/prometheus", "--config.file=" + dir_ + "/prometheus.yml",
                                  "--storage.tsdb.path=" + dir_ + "/data",
                                  "--web.listen-address=127.0.0.1:" + std::to_string(port_), "--log.level=error"};
    pid_ = StartServerProcess(argv);
    for (int i = 0; i < 1000 && !CanConnect(port_); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ~PrometheusServer() {
    StopServerProcess(pid_);
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }
  PrometheusServer(const PrometheusServer&) = delete;
  PrometheusServer& operator=(const PrometheusServer&) = delete;

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // True once `up{job="fixture"}` is 1: the fixture has been scraped (within about 30s).
  bool Ready() {
    httplib::Client c("127.0.0.1", port_);
    c.set_connection_timeout(1);
    c.set_read_timeout(2);
    for (int i = 0; i < 300; ++i) {
      auto r = c.Get("/api/v1/query?query=up%7Bjob%3D%22fixture%22%7D");
      if (r && r->status == 200 && r->body.find("\"1\"]") != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }

 private:
  std::string dir_;
  int port_ = -1;
  pid_t pid_ = -1;
};

}  // namespace rb::test
