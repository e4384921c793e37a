// live_bench: live reads against real servers on loopback (tests/live_world.hpp), side by side in
// one run (bench/live.sh runs it; figures in bench/README.md):
//   1. `runbook triage runbooks` against the world: its evaluation time against the slowest of its
//      probes asked alone, each with a fresh provider;
//   2. the same with the API black-holed (accepts, never answers) at a 2s timeout: against 2s;
//   3. Redis probes through the native (distinct GETs, 50 per instant, asked at once) against
//      `redis-benchmark -c 50` GET on the same server.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "compiler/codegen.hpp"
#include "runtime/environment.hpp"
#include "runtime/live.hpp"
#include "tests/live_world.hpp"
#include "tests/process.hpp"

namespace {

using Clock = std::chrono::steady_clock;
double Since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

struct Triage {
  double wall = 0, seconds = 0;
  size_t requests = 0;
  nlohmann::json doc;
};
Triage RunTriage(const std::string& runbook, const std::string& repo, const std::string& env) {
  Triage t;
  auto t0 = Clock::now();
  rb::test::ProcessResult r = rb::test::RunProcess({runbook, "triage", repo + "/runbooks", "--env", env, "--format", "json",
                                                    "--stdlib", repo + "/stdlib"});
  t.wall = Since(t0);
  t.doc = nlohmann::json::parse(r.out, nullptr, false);
  if (t.doc.is_discarded() || r.exit_code > 1) {
    std::cerr << "live_bench: triage failed (exit " << r.exit_code << "): " << r.err << r.out.substr(0, 400) << "\n";
    std::exit(2);
  }
  t.seconds = t.doc.value("seconds", 0.0);
  t.requests = t.doc.value("requests", 0);
  return t;
}

rb::rt::Value ArgValue(const nlohmann::json& a) {
  std::string type = a.value("type", "string");
  if (type == "string") return rb::rt::Value::String(a.value("text", ""));
  if (type == "duration") return rb::rt::Value::Number(rb::rt::ValueType::kDuration, a.value("number", 0.0));
  return rb::rt::Value::Number(rb::rt::ValueType::kNum, a.value("number", 0.0));
}

}  // namespace

int main(int argc, char** argv) {
  std::string repo = argc > 1 ? argv[1] : RUNBOOK_SOURCE_DIR;
  std::string runbook = argc > 2 ? argv[2] : repo + "/build/runbook";
  int runs = std::getenv("RUNS") ? std::atoi(std::getenv("RUNS")) : 5;
  std::filesystem::path dir = std::filesystem::temp_directory_path() / fmt::format("runbook-live-bench-{}", getpid());
  std::filesystem::create_directories(dir);

  // Each server answers after a delay of its own, as over a network: the API 100ms, Elasticsearch
  // 150ms, Neo4j 50ms (Redis and Prometheus as they are).
  rb::test::LiveWorld world(/*delays=*/true);
  const rb::rt::Registry registry = rb::StdlibRegistry(repo + "/stdlib");
  if (!world.Ready()) {
    std::cerr << "live_bench: the servers did not come up (redis-server, prometheus)\n";
    return 2;
  }
  std::string env_path = world.WriteEnv((dir / "world.env.yaml").string());
  rb::test::BlackHole hole;
  std::string hole_path = world.WriteEnv((dir / "blackhole.env.yaml").string(), hole.url(), "2s");

  // 1. triage, and each of its probes alone.
  RunTriage(runbook, repo, env_path);  // warm-up: Prometheus' first queries, the page cache
  std::vector<double> evals, walls;
  Triage last;
  for (int i = 0; i < runs; ++i) {
    last = RunTriage(runbook, repo, env_path);
    evals.push_back(last.seconds);
    walls.push_back(last.wall);
  }
  rb::rt::Environment env;
  std::vector<rb::rt::ConfigError> errors;
  if (!rb::rt::LoadEnvironment(env_path, env, errors)) return 2;
  std::map<std::string, nlohmann::json> calls;  // each distinct probe once
  for (const auto& r : last.doc["runbooks"]) {
    for (const auto& s : r["seen"]) calls[s.value("binding", "") + "|" + s.value("call", "")] = s;
  }
  double slowest = 0;
  std::string slowest_call;
  for (const auto& [key, s] : calls) {
    rb::rt::ProbeCall c;
    c.binding = s.value("binding", "");
    c.method = s.value("native", "");
    for (const auto& a : s["args"]) c.args.push_back(ArgValue(a));
    std::vector<double> alone;
    for (int i = 0; i < 3; ++i) {
      rb::rt::LiveProvider provider(env, &registry);
      auto t0 = Clock::now();
      provider.Probe(c, 0);
      alone.push_back(Since(t0));
    }
    double m = Median(alone);
    if (m > slowest) {
      slowest = m;
      slowest_call = s.value("target", "") + "." + s.value("call", "");
    }
  }
  // 2. one endpoint black-holed.
  std::vector<double> holed;
  for (int i = 0; i < runs; ++i) holed.push_back(RunTriage(runbook, repo, hole_path).seconds);

  // 3. Redis probe throughput: the native against redis-benchmark on the same server.
  const int kBatch = 50, kInstants = 200;
  rb::rt::Environment redis_env;
  rb::rt::EnvTarget t;
  t.name = "cache";
  t.address = "redis://127.0.0.1:" + std::to_string(world.redis().port());
  redis_env.targets["cache"] = t;
  rb::rt::LiveProvider redis_live(redis_env, &registry);
  auto t0 = Clock::now();
  for (int n = 0; n < kInstants; ++n) {
    std::vector<rb::rt::ProbeCall> batch;
    for (int k = 0; k < kBatch; ++k) {
      rb::rt::ProbeCall c;
      c.binding = "cache";
      c.method = "redis";
      c.args = {rb::rt::Value::String("GET key:" + std::to_string(k))};
      batch.push_back(c);
    }
    redis_live.Prefetch(batch, n);
  }
  size_t answered = 0;
  for (int k = 0; k < kBatch; ++k) {
    rb::rt::ProbeCall c;
    c.binding = "cache";
    c.method = "redis";
    c.args = {rb::rt::Value::String("GET key:" + std::to_string(k))};
    answered += !redis_live.Probe(c, kInstants - 1).value.IsUnknown();
  }
  if (answered != kBatch || redis_live.requests() != size_t{kBatch} * kInstants) {
    std::cerr << fmt::format("live_bench: {} of {} GETs answered, {} requests: the native did not reach the server\n", answered,
                             kBatch, redis_live.requests());
    return 2;
  }
  double native_rps = kBatch * kInstants / Since(t0);
  rb::test::ProcessResult rbm = rb::test::RunProcess({"/usr/bin/redis-benchmark", "-p", std::to_string(world.redis().port()),
                                                      "-c", "50", "-n", "100000", "-t", "get", "--csv"});
  double bench_rps = 0;
  // "GET","123456.79",... : the second field
  size_t q = rbm.out.find("\"GET\",\"");
  if (q != std::string::npos) bench_rps = std::atof(rbm.out.c_str() + q + 7);

  std::cout << fmt::format("triage of the eight runbooks against the world ({} distinct probes, {} requests):\n", calls.size(), last.requests);
  std::cout << fmt::format("  evaluation (median of {})      {:8.1f} ms   (whole process: {:.1f} ms)\n", runs, Median(evals) * 1000,
                           Median(walls) * 1000);
  std::cout << fmt::format("  slowest probe alone            {:8.1f} ms   {}\n", slowest * 1000, slowest_call);
  std::cout << fmt::format("  ratio                          {:8.2f}     (goal <= 1.2)\n", slowest > 0 ? Median(evals) / slowest : 0);
  std::cout << fmt::format("triage with the API black-holed (timeout 2s):\n");
  std::cout << fmt::format("  evaluation (median of {})      {:8.1f} ms   ratio to 2s: {:.2f} (goal <= 1.10)\n", runs,
                           Median(holed) * 1000, Median(holed) / 2.0);
  std::cout << fmt::format("Redis probes (GET, 50 at once per instant, {} instants):\n", kInstants);
  std::cout << fmt::format("  through the native             {:8.0f} /s\n", native_rps);
  std::cout << fmt::format("  redis-benchmark -c 50 -t get   {:8.0f} /s\n", bench_rps);
  std::cout << fmt::format("  ratio                          {:8.2f}     (goal >= 0.50)\n", bench_rps > 0 ? native_rps / bench_rps : 0);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return 0;
}
