// run_bench: what a live run's safety costs, side by side in one run (bench/run.sh runs it; figures
// in bench/README.md):
//   1. `runbook run FILE --env E --yes` against a real redis-server, every command a recording shim
//      that sleeps a known time: the process's wall time against the sum of its commands' times;
//   2. audit records per second through rt::AuditLog (each Append durable before it returns) against
//      write()+fdatasync() of lines of the same length in the same directory;
//   3. lease Acquire + Release through rt::RedisTeam against redis-benchmark running a lease's two
//      EVALs (and SET NX PX + DEL) on the same server.
//
//   run_bench --free-port              prints a loopback port nobody listens on
//   run_bench DIR PORT [RUNBOOK [TMPFS_DIR]]
//       DIR: an empty scratch directory on disk (the script's mktemp -d); PORT: a redis-server on
//       127.0.0.1 that the script started; TMPFS_DIR: another on a tmpfs (the script's mktemp -d -p
//       /dev/shm), where the same live run keeps its audit, locks and state as well, to show what the
//       syncs cost (on a tmpfs they return at once).
// Env: RUNS (3), SLEEP_MS (200, each command's sleep), AUDIT_N (500 records), LEASE_N (20000 cycles).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "runtime/audit.hpp"
#include "runtime/redis_team.hpp"
#include "tests/live_server.hpp"
#include "tests/process.hpp"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
double Since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }
double EpochSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

int EnvInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && std::atoi(v) > 0 ? std::atoi(v) : fallback;
}

[[noreturn]] void Fail(const std::string& why) {
  std::cerr << "run_bench: " << why << "\n";
  std::exit(2);
}

// Median and range of a figure over the repetitions.
struct Spread {
  std::vector<double> v;
  void Add(double x) { v.push_back(x); }
  double Median() const {
    std::vector<double> s = v;
    std::sort(s.begin(), s.end());
    if (s.empty()) return 0;
    return s.size() % 2 ? s[s.size() / 2] : (s[s.size() / 2 - 1] + s[s.size() / 2]) / 2;
  }
  double Min() const { return v.empty() ? 0 : *std::min_element(v.begin(), v.end()); }
  double Max() const { return v.empty() ? 0 : *std::max_element(v.begin(), v.end()); }
  // "1.06x [1.04–1.09]": the median, then the range, each formatted with `spec` ("{:.2f}").
  std::string Show(const char* spec, const char* unit = "") const {
    return fmt::format(fmt::runtime(std::string(spec) + "{} [" + spec + "–" + spec + "]"), Median(), unit, Min(), Max());
  }
};

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void Write(const fs::path& p, const std::string& text, bool executable = false) {
  std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
  if (executable) chmod(p.c_str(), 0755);
}

// ---------------------------------------------------------------------------------------------
// 1. A live run against shims.

// A team module: the flag a remediation clears, read with a real GET on the real server.
const char* kFlagModule = R"RB(# team.flag — a flag key on a Redis server (run_bench): "up" while the service is degraded
capability flag "A flag key on a Redis server" {
  read up() -> bool "GET flag answered up"
       = redis("GET flag") == "up"
}
)RB";

// redis_down's shape: checks, a guarded restart, verifies with `expect`. The symptom reads the real
// server (PING, and the flag through GET); every `$` line runs a shim.
const char* kRunbook = R"RB(import std.redis
import std.kube
import team.flag
import policy.escalation

runbook redis_down "Redis Caído (run_bench)" {
  severity P2
  owner    sre
  tags     [redis, cache]
  target redis = redis("redis")
  target flag  = flag("redis")
  param  ns    = "denis"

  symptoms {
    degraded "Redis responde pero está degradado" : redis.ping() and flag.up()
  }

  steps {
    check state "Verificar estado Redis" {
      $ redis-cli ping
      $ redis-cli info clients
    }
    check memory "Verificar uso memoria" {
      $ redis-cli info memory |> grep("used")
    }
    action restart "Si está degradado: reiniciar" when degraded {
      $ kubectl rollout restart statefulset/redis -n {ns}
    }
    verify rollout "Esperar el rollout" {
      $ kubectl rollout status statefulset/redis -n {ns}
    }
    verify reconnect "Verificar reconexión" {
      $ redis-cli ping
      expect output == "PONG" within 2m every 5s
    }
    verify healthy "Ya no degradado" {
      expect not degraded within 2m every 1s
    }
  }
}
)RB";

// A recording shim: sleeps RB_SHIM_SLEEP, prints what the real program would, and logs its own start
// and end ($EPOCHREALTIME) and argv. The restart clears the flag on the real server, as a restart would.
std::string Shim(const std::string& program) {
  std::string out = "#!/bin/bash\nt0=$EPOCHREALTIME\nsleep \"$RB_SHIM_SLEEP\"\ncase \"$*\" in\n";
  if (program == "kubectl") {
    out +=
        "  *\"rollout restart\"*) /usr/bin/redis-cli -h 127.0.0.1 -p \"$RB_REDIS_PORT\" set flag down >/dev/null\n"
        "                       echo \"statefulset.apps/redis restarted\";;\n"
        "  *\"rollout status\"*) echo \"partitioned roll out complete: 1 new pods have been updated...\";;\n"
        "  *) echo \"redis-0   1/1   Running   0   3d\";;\n";
  } else {
    out +=
        "  *ping*) echo PONG;;\n"
        "  *memory*) printf 'used_memory:1048576\\nused_memory_human:1.00M\\nmaxmemory:0\\n';;\n"
        "  *) printf 'connected_clients:3\\nblocked_clients:0\\n';;\n";
  }
  out += "esac\nt1=$EPOCHREALTIME\necho \"$t0 $t1 " + program + " $*\" >> \"$RB_SHIM_LOG\"\n";
  return out;
}

struct ShimCall {
  double t0 = 0, t1 = 0;
  std::string what;
};
std::vector<ShimCall> ReadShimLog(const fs::path& p) {
  std::vector<ShimCall> calls;
  std::istringstream in(Slurp(p));
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream w(line);
    ShimCall c;
    w >> c.t0 >> c.t1;
    std::getline(w >> std::ws, c.what);
    calls.push_back(c);
  }
  std::sort(calls.begin(), calls.end(), [](const ShimCall& a, const ShimCall& b) { return a.t0 < b.t0; });
  return calls;
}

struct LiveRunFigures {
  double wall = 0;         // the whole `runbook run` process
  double trace = 0;        // the run's own duration_ms
  double sleeps = 0;       // commands × SLEEP_MS
  double shims = 0;        // Σ each shim's own start-to-end
  double before = 0;       // process start → first shim starts
  double gaps = 0;         // Σ one shim's end → the next one's start
  double after = 0;        // last shim ends → process exit
  size_t commands = 0, writes = 0, records = 0, deferred = 0;  // deferred: records written without their own sync
  double audited_ms = 0;   // Σ exec_end ms (the writes)
  double audited_shim = 0; // Σ the same writes' shim start-to-end
  std::string run;
  nlohmann::json exec_start;  // one of its records, as the audit benchmark's template
};

LiveRunFigures LiveRunOnce(const std::string& runbook, const fs::path& dir, const fs::path& env, const fs::path& audit, int port,
                           int sleep_ms) {
  rb::test::ProcessResult set = rb::test::RunProcess({"/usr/bin/redis-cli", "-h", "127.0.0.1", "-p", std::to_string(port), "set", "flag", "up"});
  if (set.out.find("OK") == std::string::npos) Fail("redis-cli set flag up: " + set.out + set.err);
  fs::remove(dir / "shim.log");
  LiveRunFigures f;
  const double start = EpochSeconds();
  auto t0 = Clock::now();
  rb::test::ProcessResult r = rb::test::RunProcess({runbook, "run", (dir / "redis_down.rb.denis").string(), "--env",
                                                    env.string(), "--yes", "--tick", "200ms", "--format", "json"});
  f.wall = Since(t0);
  const double end = EpochSeconds();
  nlohmann::json summary;
  std::istringstream lines(r.out);
  std::string line;
  while (std::getline(lines, line)) {
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_object()) continue;
    if (j.value("type", "") == "event" && j.value("kind", "") == "command") {
      ++f.commands;
      f.writes += j.value("effect", "") == "write";
    }
    if (j.value("type", "") == "summary") summary = j;
  }
  if (r.exit_code != 0 || summary.value("exit", -1) != 0) {
    Fail(fmt::format("the live run did not resolve (exit {}): {}\n{}", r.exit_code, r.err, r.out.substr(0, 2000)));
  }
  f.run = summary.value("run", "");
  f.trace = summary["trace"].value("duration_ms", 0) / 1000.0;
  std::vector<ShimCall> calls = ReadShimLog(dir / "shim.log");
  if (calls.size() != f.commands || f.commands == 0) {
    Fail(fmt::format("{} commands in the trace, {} shim starts logged", f.commands, calls.size()));
  }
  f.sleeps = f.commands * sleep_ms / 1000.0;
  for (size_t i = 0; i < calls.size(); ++i) {
    f.shims += calls[i].t1 - calls[i].t0;
    if (i > 0) f.gaps += calls[i].t0 - calls[i - 1].t1;
  }
  f.before = calls.front().t0 - start;
  f.after = end - calls.back().t1;

  std::vector<nlohmann::json> records;
  std::string error;
  if (!rb::rt::ReadAudit(audit.string(), records, error)) Fail(error);
  size_t ends = 0;
  for (const auto& rec : rb::rt::RunRecords(records, f.run)) {
    ++f.records;
    f.deferred += rec.contains("synced");
    if (rec.value("kind", "") == "exec_start" && f.exec_start.is_null()) f.exec_start = rec;
    if (rec.value("kind", "") != "exec_end") continue;
    ++ends;
    f.audited_ms += rec.value("ms", 0);
  }
  if (ends != f.writes || ends == 0) Fail(fmt::format("{} writes in the trace, {} exec_end records in the audit", f.writes, ends));
  for (const auto& c : calls) {
    if (c.what.find("rollout restart") != std::string::npos) f.audited_shim += c.t1 - c.t0;
  }
  return f;
}

// ---------------------------------------------------------------------------------------------
// 2. Audit appends.

bool WriteAllFd(int fd, const std::string& s) {
  size_t at = 0;
  while (at < s.size()) {
    ssize_t n = write(fd, s.data() + at, s.size() - at);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    at += static_cast<size_t>(n);
  }
  return true;
}

struct AuditFigures {
  double ours = 0, floor = 0, by_hand = 0, deferred = 0, write_only = 0;  // records/s
  size_t bytes = 0;                         // mean line length
};

AuditFigures AuditOnce(const fs::path& dir, const nlohmann::json& template_record, int n, int rep) {
  AuditFigures f;
  fs::create_directories(dir);
  // `n` appends of the template (its "cmd" counting) to a fresh log at `path`: records/s.
  auto appends = [&](const fs::path& path, rb::rt::AuditSync sync) {
    rb::rt::AuditLog log(path.string());
    std::string error;
    if (!log.Open(error)) Fail(error);
    auto t0 = Clock::now();
    for (int i = 0; i < n; ++i) {
      nlohmann::json rec = template_record;
      rec["cmd"] = i + 1;
      if (!log.Append(std::move(rec), error, nullptr, sync)) Fail(error);
    }
    return n / Since(t0);
  };
  const fs::path ours = dir / fmt::format("ours-{}.jsonl", rep);
  f.ours = appends(ours, rb::rt::AuditSync::kNow);
  rb::rt::AuditCheck check = rb::rt::VerifyAudit(ours.string());
  if (!check.problems.empty() || check.records != static_cast<size_t>(n)) {
    Fail(fmt::format("the benchmark's audit log does not verify: {} records, {} problems", check.records, check.problems.size()));
  }
  std::vector<std::string> lines;
  {
    std::istringstream in(Slurp(ours));
    std::string line;
    size_t total = 0;
    while (std::getline(in, line)) {
      total += line.size() + 1;
      lines.push_back(line + "\n");
    }
    f.bytes = total / lines.size();
  }
  // The floor: the same lines, each write() then fdatasync() on one O_APPEND descriptor.
  {
    const fs::path peer = dir / fmt::format("floor-{}.jsonl", rep);
    int fd = open(peer.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) Fail("cannot open " + peer.string());
    auto t0 = Clock::now();
    for (const auto& l : lines) {
      if (!WriteAllFd(fd, l) || fdatasync(fd) != 0) Fail("write/fdatasync " + peer.string());
    }
    f.floor = lines.size() / Since(t0);
    close(fd);
  }
  // The same syncs by hand: the line and fdatasync, then the head beside it overwritten in place
  // (128 bytes at offset 0) and fdatasync'ed (what an Append makes durable).
  {
    const fs::path peer = dir / fmt::format("hand-{}.jsonl", rep);
    const std::string head = peer.string() + ".head";
    int fd = open(peer.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) Fail("cannot open " + peer.string());
    auto t0 = Clock::now();
    for (size_t i = 0; i < lines.size(); ++i) {
      if (!WriteAllFd(fd, lines[i]) || fdatasync(fd) != 0) Fail("write/fdatasync " + peer.string());
      int h = open(head.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
      std::string text = fmt::format("{{\"hash\":\"{:064d}\",\"seq\":{}}}", 0, i + 1);
      text.resize(127, ' ');
      text += '\n';
      if (h < 0 || pwrite(h, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size()) || fdatasync(h) != 0 || close(h) != 0) {
        Fail("head " + head);
      }
    }
    f.by_hand = lines.size() / Since(t0);
    close(fd);
  }
  // Deferred appends (a check's step records): written under the lock, no sync; against write() alone.
  {
    f.deferred = appends(dir / fmt::format("deferred-{}.jsonl", rep), rb::rt::AuditSync::kDeferred);
    const fs::path peer = dir / fmt::format("write-{}.jsonl", rep);
    int fd = open(peer.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) Fail("cannot open " + peer.string());
    auto t0 = Clock::now();
    for (const auto& l : lines) {
      if (!WriteAllFd(fd, l)) Fail("write " + peer.string());
    }
    f.write_only = lines.size() / Since(t0);
    close(fd);
  }
  return f;
}

// ---------------------------------------------------------------------------------------------
// 3. Leases.

// A lease's two round trips as Lua of our own, every call taking the full path: the acquire reads
// the lease, INCRs the fence and SETs the value with PX; the release reads a held lease, decodes it,
// compares the token and DELs (a scratch key, so the lease is there for the next call).
const char* kPeerAcquire =
    "local cur = redis.call('GET', KEYS[1]) "
    "local n = redis.call('INCR', KEYS[2]) "
    "redis.call('SET', KEYS[1], ARGV[1] .. n .. ARGV[2], 'PX', ARGV[3]) "
    "return {1, n}";
const char* kPeerRelease =
    "local v = redis.call('GET', KEYS[1]) "
    "if not v then return -1 end "
    "local ok, d = pcall(cjson.decode, v) "
    "if not ok or d['token'] ~= ARGV[1] then return -1 end "
    "return redis.call('DEL', KEYS[2])";

double BenchmarkRps(int port, int n, std::vector<std::string> command) {
  std::vector<std::string> argv{"/usr/bin/redis-benchmark", "-h", "127.0.0.1", "-p", std::to_string(port), "-q", "-n",
                                std::to_string(n), "-c", "1", "-P", "1", "--csv"};
  argv.insert(argv.end(), command.begin(), command.end());
  rb::test::ProcessResult r = rb::test::RunProcess(argv);
  // The header, then "COMMAND ARGS","rps","avg",...: seven numbers after the test's name, which
  // holds the arguments unescaped (quotes and all), so the rps is the seventh field from the end.
  std::string line = r.out.substr(0, r.out.find_last_not_of("\r\n") + 1);
  line = line.substr(line.rfind('\n') + 1);
  size_t at = line.size();
  for (int i = 0; i < 7 && at != std::string::npos && at > 0; ++i) at = line.rfind("\",\"", at - 1);
  double rps = at == std::string::npos ? 0 : std::atof(line.c_str() + at + 3);
  if (r.exit_code != 0 || rps <= 0) Fail("redis-benchmark: " + r.out + r.err);
  return rps;
}

// What the same command answers once through redis-cli (to check a script before timing it).
std::string RedisCli(int port, std::vector<std::string> command) {
  std::vector<std::string> argv{"/usr/bin/redis-cli", "-h", "127.0.0.1", "-p", std::to_string(port)};
  argv.insert(argv.end(), command.begin(), command.end());
  rb::test::ProcessResult r = rb::test::RunProcess(argv);
  return r.out + r.err;
}

struct LeaseFigures {
  double ours = 0, peer_acquire = 0, peer_release = 0, peer = 0, set_nx = 0, del = 0, floor = 0;  // per second
};

LeaseFigures LeaseOnce(rb::rt::RedisTeam& team, int port, int n, const std::string& value_head) {
  LeaseFigures f;
  const std::string since = rb::rt::AuditTimeNow(), run = rb::rt::NewRunId();
  auto cycle = [&](int64_t expect_fence) {
    std::string token;
    rb::rt::RedisTeam::LeaseHolder holder;
    int64_t fence = 0;
    if (team.Acquire("bench/lease", "bench@run_bench", run, since, 30000, token, holder, fence) != rb::rt::RedisTeam::LeaseResult::kHeld) {
      Fail("Acquire did not take the lease: " + team.last_error());
    }
    if (expect_fence > 0 && fence != expect_fence) Fail(fmt::format("fence {} after {}", fence, expect_fence - 1));
    if (!team.Release("bench/lease", token)) Fail("Release: " + team.last_error());
    return fence;
  };
  int64_t fence = cycle(0);
  auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) fence = cycle(fence + 1);
  f.ours = n / Since(t0);

  const std::string token(32, 'a');
  const std::vector<std::string> acquire{"EVAL", kPeerAcquire, "2", "bench:peer:lease", "bench:peer:fence",
                                         fmt::format(R"({{"token":"{}",{})", token, value_head), "}", "30000"};
  const std::vector<std::string> release{"EVAL", kPeerRelease, "2", "bench:peer:lease", "bench:peer:scratch", token};
  // Checked once: the acquire answers {1, fence}, the release finds our token (0: the scratch DEL).
  if (std::string a = RedisCli(port, acquire); a.rfind("1\n", 0) != 0) Fail("the peer's acquire script: " + a);
  if (std::string a = RedisCli(port, release); a != "0\n") Fail("the peer's release script: " + a);
  f.peer_acquire = BenchmarkRps(port, n, acquire);
  f.peer_release = BenchmarkRps(port, n, release);
  f.peer = 1 / (1 / f.peer_acquire + 1 / f.peer_release);
  f.set_nx = BenchmarkRps(port, n, {"SET", "bench:floor:lease", "x", "NX", "PX", "30000"});
  f.del = BenchmarkRps(port, n, {"DEL", "bench:floor:lease"});
  f.floor = 1 / (1 / f.set_nx + 1 / f.del);
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::string(argv[1]) == "--free-port") {
    std::cout << rb::test::FreeLoopbackPort() << "\n";
    return 0;
  }
  if (argc < 3) Fail("usage: run_bench --free-port | run_bench DIR PORT [RUNBOOK [TMPFS_DIR]]");
  const fs::path dir = fs::absolute(argv[1]);
  const int port = std::atoi(argv[2]);
  const std::string runbook = argc > 3 ? argv[3] : RUNBOOK_BINARY;
  const fs::path tmpfs = argc > 4 ? fs::absolute(argv[4]) : fs::path();
  const std::string repo = RUNBOOK_SOURCE_DIR;
  const int runs = EnvInt("RUNS", 3), sleep_ms = EnvInt("SLEEP_MS", 200), audit_n = EnvInt("AUDIT_N", 500),
            lease_n = EnvInt("LEASE_N", 20000);
  if (!fs::is_directory(dir)) Fail(dir.string() + " is not a directory");
  if (!tmpfs.empty() && !fs::is_directory(tmpfs)) Fail(tmpfs.string() + " is not a directory");
  if (!rb::test::CanConnect(port)) Fail(fmt::format("nothing listens on 127.0.0.1:{}", port));

  // The world of the live run, all inside DIR.
  fs::create_directories(dir / "policy");
  fs::create_directories(dir / "team");
  fs::create_directories(dir / "bin");
  fs::copy_file(repo + "/runbooks/policy/escalation.rb.denis", dir / "policy" / "escalation.rb.denis", fs::copy_options::overwrite_existing);
  Write(dir / "team" / "flag.rb.denis", kFlagModule);
  Write(dir / "redis_down.rb.denis", kRunbook);
  Write(dir / "bin" / "kubectl", Shim("kubectl"), true);
  Write(dir / "bin" / "redis-cli", Shim("redis-cli"), true);
  // The environment: the server, the shims, and the audit, locks and state in `keep`.
  auto write_env = [&](const fs::path& path, const fs::path& keep) {
    Write(path, fmt::format("name: bench\n"
                            "targets:\n"
                            "  redis: {{address: \"redis://127.0.0.1:{port}\", timeout: 500ms}}\n"
                            "exec:\n"
                            "  allow: [redis-cli, kubectl]\n"
                            "  path: [{bin}, /usr/bin, /bin]\n"
                            "  env: {{RB_SHIM_SLEEP: \"{sleep}\", RB_SHIM_LOG: {log}, RB_REDIS_PORT: \"{port}\"}}\n"
                            "state: {{store: file, path: {state}}}\n"
                            "audit: {{path: {audit}}}\n"
                            "locks: {{path: {locks}}}\n",
                            fmt::arg("port", port), fmt::arg("bin", (dir / "bin").string()), fmt::arg("sleep", sleep_ms / 1000.0),
                            fmt::arg("log", (dir / "shim.log").string()), fmt::arg("state", (keep / "state.json").string()),
                            fmt::arg("audit", (keep / "audit.jsonl").string()), fmt::arg("locks", (keep / "locks").string())));
  };
  write_env(dir / "bench.env.yaml", dir);
  if (!tmpfs.empty()) write_env(dir / "tmpfs.env.yaml", tmpfs);

  // 1. The live run: one warm-up (page cache, the binary), then RUNS, each followed by the same run
  // with its audit, locks and state on the tmpfs.
  LiveRunFigures first = LiveRunOnce(runbook, dir, dir / "bench.env.yaml", dir / "audit.jsonl", port, sleep_ms);
  Spread ratio, ratio_shims, wall, trace, before, gaps, after, per_write, shm_ratio, shm_wall, shm_gaps;
  LiveRunFigures last;
  for (int i = 0; i < runs; ++i) {
    last = LiveRunOnce(runbook, dir, dir / "bench.env.yaml", dir / "audit.jsonl", port, sleep_ms);
    ratio.Add(last.wall / last.sleeps);
    ratio_shims.Add(last.wall / last.shims);
    wall.Add(last.wall * 1000);
    trace.Add(last.trace * 1000);
    before.Add(last.before * 1000);
    gaps.Add(last.gaps * 1000 / (last.commands - 1));
    after.Add(last.after * 1000);
    per_write.Add(last.audited_ms / last.writes - last.audited_shim * 1000 / last.writes);
    if (tmpfs.empty()) continue;
    LiveRunFigures m = LiveRunOnce(runbook, dir, dir / "tmpfs.env.yaml", tmpfs / "audit.jsonl", port, sleep_ms);
    shm_ratio.Add(m.wall / m.sleeps);
    shm_wall.Add(m.wall * 1000);
    shm_gaps.Add(m.gaps * 1000 / (m.commands - 1));
  }
  std::cout << fmt::format("live run: `runbook run redis_down --yes --tick 200ms` against redis-server :{}, {} commands ({} write), "
                           "each a shim sleeping {} ms; {} audit records per run, {} of them synced\n",
                           port, last.commands, last.writes, sleep_ms, last.records, last.records - last.deferred);
  std::cout << fmt::format("  wall, whole process             {} ms   (the run's own clock: {} ms)\n", wall.Show("{:.0f}"), trace.Show("{:.0f}"));
  std::cout << fmt::format("  sum of command sleeps            {:.0f} ms   (as the shims timed themselves: {:.0f} ms)\n", last.sleeps * 1000,
                           last.shims * 1000);
  std::cout << fmt::format("  ratio wall / sum of commands     {}   (goal <= 1.2; against the shims' own times: {})\n",
                           ratio.Show("{:.3f}", "x"), ratio_shims.Show("{:.3f}", "x"));
  std::cout << fmt::format("  where the rest goes: start to first command {} ms; between commands {} ms each; last command to exit {} ms\n",
                           before.Show("{:.1f}"), gaps.Show("{:.1f}"), after.Show("{:.1f}"));
  std::cout << fmt::format("  the write's exec_end ms minus the shim's own time: {} ms (spawning and reaping it)\n", per_write.Show("{:.1f}"));
  if (!tmpfs.empty()) {
    std::cout << fmt::format("  the same run, audit, locks and state on a tmpfs: wall {} ms, ratio {}, between commands {} ms each\n",
                             shm_wall.Show("{:.0f}"), shm_ratio.Show("{:.3f}", "x"), shm_gaps.Show("{:.1f}"));
  }

  // 2. Audit appends, on the same disk as the run's audit.
  Spread ours_rps, floor_rps, hand_rps, audit_ratio, audit_hand_ratio, deferred_rps, write_rps;
  nlohmann::json tmpl = first.exec_start;
  for (const char* k : {"seq", "prev", "at", "hash"}) tmpl.erase(k);
  size_t bytes = 0;
  for (int i = 0; i < runs; ++i) {
    AuditFigures a = AuditOnce(dir / "audit-bench", tmpl, audit_n, i);
    bytes = a.bytes;
    ours_rps.Add(a.ours);
    floor_rps.Add(a.floor);
    hand_rps.Add(a.by_hand);
    audit_ratio.Add(a.ours / a.floor);
    audit_hand_ratio.Add(a.ours / a.by_hand);
    deferred_rps.Add(a.deferred);
    write_rps.Add(a.write_only);
  }
  std::cout << fmt::format("audit: {} records of {} bytes (the run's exec_start record), each durable before the next\n", audit_n, bytes);
  std::cout << fmt::format("  rt::AuditLog::Append             {} /s\n", ours_rps.Show("{:.0f}"));
  std::cout << fmt::format("  write()+fdatasync() (the floor)  {} /s\n", floor_rps.Show("{:.0f}"));
  std::cout << fmt::format("  ratio ours / floor               {}\n", audit_ratio.Show("{:.2f}"));
  std::cout << fmt::format("  the same syncs by hand           {} /s   (line + fdatasync, head pwrite in place + fdatasync)\n",
                           hand_rps.Show("{:.0f}"));
  std::cout << fmt::format("  ratio ours / by hand             {}\n", audit_hand_ratio.Show("{:.2f}"));
  std::cout << fmt::format("  deferred appends (no sync)       {} /s   (write() alone of the same lines: {} /s)\n", deferred_rps.Show("{:.0f}"),
                           write_rps.Show("{:.0f}"));

  // 3. Leases, on the same server as the run.
  rb::rt::RedisTeamConfig c;
  c.host = "127.0.0.1";
  c.port = port;
  c.prefix = "runbook-bench";
  c.env = "bench";
  rb::rt::RedisTeam team(c);
  const std::string value_head = fmt::format(R"("who":"bench@run_bench","run":"{}","since":"{}","fence":)", rb::rt::NewRunId(),
                                             rb::rt::AuditTimeNow());
  Spread lease_ours, lease_peer, lease_floor, lease_ratio, lease_floor_ratio, pa, pr, sn, dl;
  for (int i = 0; i < runs; ++i) {
    LeaseFigures l = LeaseOnce(team, port, lease_n, value_head);
    lease_ours.Add(l.ours);
    lease_peer.Add(l.peer);
    lease_floor.Add(l.floor);
    lease_ratio.Add(l.ours / l.peer);
    lease_floor_ratio.Add(l.ours / l.floor);
    pa.Add(l.peer_acquire);
    pr.Add(l.peer_release);
    sn.Add(l.set_nx);
    dl.Add(l.del);
  }
  std::cout << fmt::format("leases: {} Acquire + Release cycles, one connection, one at a time\n", lease_n);
  std::cout << fmt::format("  rt::RedisTeam                    {} cycles/s\n", lease_ours.Show("{:.0f}"));
  std::cout << fmt::format("  redis-benchmark, the two EVALs   {} cycles/s   (acquire {} /s, release {} /s)\n", lease_peer.Show("{:.0f}"),
                           pa.Show("{:.0f}"), pr.Show("{:.0f}"));
  std::cout << fmt::format("  ratio ours / EVALs               {}\n", lease_ratio.Show("{:.2f}"));
  std::cout << fmt::format("  redis-benchmark SET NX PX + DEL  {} cycles/s   (SET {} /s, DEL {} /s)\n", lease_floor.Show("{:.0f}"),
                           sn.Show("{:.0f}"), dl.Show("{:.0f}"));
  std::cout << fmt::format("  ratio ours / SET NX PX + DEL     {}\n", lease_floor_ratio.Show("{:.2f}"));
  return 0;
}
