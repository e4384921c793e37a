// `runbook run` without --dry-run: live runs that change things, against a real redis-server on a
// free loopback port (the writes are real `redis-cli` commands) and recording shims (a `kubectl`
// that logs every argv it is started with). Approvals, the write-ahead audit, locks, resume after
// kill -9, and a canary secret that must appear in no output, audit record or state file. No
// timing assertions: the ctest TIMEOUT guards hangs.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "tests/http_fixture.hpp"
#include "tests/live_server.hpp"
#include "tests/live_world.hpp"
#include "tests/process.hpp"
#include "tests/test_util.hpp"

namespace rb::test {
namespace {

constexpr const char* kCanary = "canary-5ecret-7d1f";

std::string Slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// Kills every process whose command line is `words` (the shim's orphaned `sleep` after its parent
// was killed), without depending on pkill.
void KillCommandLine(const std::string& words) {
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmd = Slurp(e.path() / "cmdline");
    for (auto& c : cmd) c = c == '\0' ? ' ' : c;
    while (!cmd.empty() && cmd.back() == ' ') cmd.pop_back();
    if (cmd == words) kill(std::stoi(name), SIGKILL);
  }
}

// The runbook binary started in the background, its stdout and stderr in files; no terminal.
struct Background {
  pid_t pid = -1;
  std::filesystem::path out, err;
  int Wait() {
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
};
Background Start(const std::vector<std::string>& args, const std::filesystem::path& dir, const std::string& tag) {
  Background b;
  b.out = dir / (tag + ".out");
  b.err = dir / (tag + ".err");
  std::filesystem::current_path(SourceDir());
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, b.out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, b.err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<std::string> argv{RUNBOOK_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  posix_spawn(&b.pid, cargv[0], &fa, nullptr, cargv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  return b;
}

// The runbook binary on a pseudo-terminal, as an operator would run it: `answers` are typed, one
// each time the output shows its prompt. Returns the exit code; `seen` gets everything shown.
int OnTerminal(const std::vector<std::string>& args, const std::vector<std::pair<std::string, std::string>>& answers,
               std::string& seen) {
  std::filesystem::current_path(SourceDir());
  int master = -1;
  pid_t pid = forkpty(&master, nullptr, nullptr, nullptr);
  if (pid == 0) {
    std::vector<std::string> argv{RUNBOOK_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
    cargv.push_back(nullptr);
    execv(cargv[0], cargv.data());
    _exit(127);
  }
  size_t next = 0, from = 0;
  char buf[4096];
  for (;;) {
    pollfd p{master, POLLIN, 0};
    if (poll(&p, 1, 30000) <= 0) break;  // the ctest TIMEOUT is the real guard
    ssize_t n = read(master, buf, sizeof buf);
    if (n <= 0) break;  // EIO: the child closed the terminal
    seen.append(buf, static_cast<size_t>(n));
    if (next < answers.size()) {
      size_t at = seen.find(answers[next].first, from);
      if (at != std::string::npos) {
        std::string line = answers[next].second + "\r";
        if (write(master, line.data(), line.size()) < 0) break;
        from = at + answers[next].first.size();
        ++next;
      }
    }
  }
  close(master);
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

class LiveRun : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TempDir() / ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ / "policy");
    std::filesystem::create_directories(dir_ / "bin");
    std::ofstream(dir_ / "policy" / "escalation.rb.denis") << R"(policy escalation "Checklist" {
  contact sre "SRE" "@sre"
  escalate {
    | when              | then     |
    |-------------------|----------|
    | ask "¿Data loss?" | page sre |
  }
}
)";
    std::ofstream(dir_ / "cache.rb.denis") << R"(import std.redis
import policy.escalation

runbook cache "Cache" {
  severity P2
  owner    sre
  target redis = redis("cache")
  param pass = secret("CACHE_PASSWORD")
  symptoms {
    flagged "the flag is up" : redis.ping() and redis.connected_clients() > 0
  }
  steps {
    check flag "Read the flag" {
      $ redis-cli -h {redis.host} -p {redis.port} -a {pass} --no-auth-warning get flag
    }
    action reset "Reset the flag" {
      $ redis-cli -h {redis.host} -p {redis.port} -a {pass} --no-auth-warning set flag down
    }
    last_resort wipe "Wipe the cache" {
      $ redis-cli -h {redis.host} -p {redis.port} -a {pass} --no-auth-warning flushall
    }
  }
}
)";
    // A recording shim: logs its argv, one line per start, then does what RB_SHIM_SLEEP says.
    std::ofstream(dir_ / "bin" / "kubectl") << "#!/bin/sh\necho \"kubectl $*\" >> " << (dir_ / "shim.log").string()
                                           << "\ncase \"$*\" in *\"${RB_SHIM_SLOW:-}\"*) sleep \"${RB_SHIM_SLEEP:-0}\";; esac\n"
                                           << "for bad in $RB_SHIM_FAIL; do case \"$*\" in *\"$bad\"*) echo \"$bad is broken\" >&2; exit 1;; esac; done\n"
                                           << "echo \"restarted\"\n";
    chmod((dir_ / "bin" / "kubectl").c_str(), 0755);
    std::ofstream(dir_ / "restart.rb.denis") << R"(import std.redis
import std.kube
import policy.escalation

runbook restart_cache "Restart the cache" {
  severity P2
  owner    sre
  target redis = redis("cache")
  lock "redis/{redis.host}:{redis.port}"
  symptoms {
    down "Redis does not answer" : not redis.ping()
  }
  steps {
    action restart "Restart it" {
      $ kubectl rollout restart statefulset/redis -n denis
    }
    check after "Look again" {
      $ redis-cli -h {redis.host} -p {redis.port} ping
    }
  }
}
)";
  }
  // Another runbook on the same server under another binding: only the declared lock is shared.
  void WriteFlush() {
    std::ofstream(dir_ / "flush.rb.denis") << R"(import std.redis
import policy.escalation

runbook flush_cache "Flush the cache" {
  severity P3
  owner    sre
  target redis = redis("cache2")
  lock "redis/{redis.host}:{redis.port}"
  symptoms {
    full "The cache is full" : redis.ping()
  }
  steps {
    action touch "Touch the flag" {
      $ redis-cli -h {redis.host} -p {redis.port} -a {pass} --no-auth-warning set flag touched
    }
  }
  param pass = secret("CACHE_PASSWORD")
}
)";
  }
  // A fleet's runbook: one restart per node, `node` bound to a list in the environment.
  void WriteNodeRunbook() {
    std::ofstream(dir_ / "node.rb.denis") << R"(import std.redis
import std.kube
import policy.escalation

runbook restart_node "Restart a node's agent" {
  severity P3
  owner    sre
  target redis = redis("cache")
  param  node : string
  symptoms {
    down "The cache does not answer" : not redis.ping()
  }
  steps {
    action restart "Restart the node's agent" {
      $ kubectl rollout restart deployment/agent-{node} -n denis
    }
  }
}
)";
  }
  // `team`: the port of a Redis holding the team's state (leases, windows, the audit stream); 0: local.
  std::string Env(int port, const std::string& sleep = "0", int team = 0) {
    std::string path = (dir_ / "test.env.yaml").string();
    std::ofstream(path) << "name: test\ntargets:\n  cache: {address: \"redis://127.0.0.1:" << port
                        << "\", timeout: 500ms, auth: CACHE_PASSWORD}\n"
                        << "  cache2: {address: \"redis://127.0.0.1:" << port << "\", timeout: 500ms, auth: CACHE_PASSWORD}\n"
                        << "exec:\n  allow: [redis-cli, kubectl]\n  path: [" << (dir_ / "bin").string()
                        << ", /usr/bin, /bin]\n  env: {RB_SHIM_SLEEP: \"" << sleep << "\", RB_SHIM_FAIL: \"" << fail_ << "\", RB_SHIM_SLOW: \"" << slow_ << "\"}\n"
                        << "secrets:\n  CACHE_PASSWORD: {env: RB_TEST_CACHE_PASSWORD}\n"
                        << (team ? "state: {store: redis, address: \"redis://127.0.0.1:" + std::to_string(team) + "\", timeout: 300ms}\n"
                                 : "state:\n  store: file\n  path: " + (dir_ / "state.json").string() + "\n")
                        << "audit: {path: " << (dir_ / "audit.jsonl").string() << (team ? ", stream: audit" : "") << "}\n"
                        << "locks: {path: " << (dir_ / "locks").string() << ", ttl: 1s}\n";
    return path;
  }
  std::string Redis(int port, const std::string& cmd) {
    ProcessResult r = RunProcess({"/usr/bin/redis-cli", "-p", std::to_string(port), "-a", kCanary, "--no-auth-warning", "--raw", cmd, "flag"});
    return r.out;
  }
  std::string Audit() { return Slurp(dir_ / "audit.jsonl"); }
  std::filesystem::path dir_;
  std::string fail_;  // the words the kubectl shim fails on
  std::string slow_;  // the words it sleeps on (empty: every command sleeps)
};

// The world: a redis-server with a password, the flag up.
struct CacheServer {
  RedisServer redis{{"--requirepass", kCanary}};
  CacheServer() {
    RunProcess({"/usr/bin/redis-cli", "-p", std::to_string(redis.port()), "-a", kCanary, "--no-auth-warning", "set", "flag", "up"});
  }
};

TEST_F(LiveRun, AnActionApprovedWithYesRunsRecordedBeforeAndAfterAndNoSecretLeaks) {
  setenv("RB_TEST_CACHE_PASSWORD", kCanary, 1);
  CacheServer w;
  std::string env = Env(w.redis.port());
  ProcessResult r = Runbook({"run", (dir_ / "cache.rb.denis").string(), "--env", env, "--yes", "--tick", "200ms"});
  // The action ran for real: the flag is down. The last resort did not: the key is still there.
  EXPECT_EQ(Redis(w.redis.port(), "get"), "down\n") << r.err;
  // The last resort was refused: without --allow-last-resort it is never asked. Exit 3.
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.err.find("--allow-last-resort"), std::string::npos) << r.err;
  std::string audit = Audit();
  // Write-ahead: the start of `set flag down` is recorded before its end, with the argv as shown.
  size_t start = audit.find("\"kind\":\"exec_start\"");
  size_t end = audit.find("\"kind\":\"exec_end\"");
  ASSERT_NE(start, std::string::npos) << audit;
  ASSERT_NE(end, std::string::npos) << audit;
  EXPECT_LT(start, end);
  EXPECT_NE(audit.find("set flag down"), std::string::npos);
  EXPECT_NE(audit.find("\"kind\":\"approval\""), std::string::npos);
  EXPECT_NE(audit.find("\"kind\":\"run_end\""), std::string::npos);
  // The canary is in no output, no audit record, no state file.
  for (const std::string& text : {r.out, r.err, audit, Slurp(dir_ / "state.json")}) {
    EXPECT_EQ(text.find(kCanary), std::string::npos) << text;
  }
  EXPECT_NE(audit.find("-a ***"), std::string::npos) << audit;
  // The log verifies, and its story tells the run.
  ProcessResult v = Runbook({"audit", "verify", "--env", env});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  EXPECT_NE(v.out.find("intact"), std::string::npos) << v.out;
  ProcessResult show = Runbook({"audit", "show", "--env", env});
  EXPECT_EQ(show.exit_code, 0) << show.err;
  EXPECT_NE(show.out.find("$ redis-cli"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("step wipe ends pending"), std::string::npos) << show.out;
  unsetenv("RB_TEST_CACHE_PASSWORD");
}

TEST_F(LiveRun, WithoutATerminalOrYesAnActionIsRefusedAndNothingChanges) {
  setenv("RB_TEST_CACHE_PASSWORD", kCanary, 1);
  CacheServer w;
  ProcessResult r = Runbook({"run", (dir_ / "cache.rb.denis").string(), "--env", Env(w.redis.port()), "--tick", "200ms"});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_EQ(Redis(w.redis.port(), "get"), "up\n");
  EXPECT_NE(r.err.find("no terminal to ask, and no --yes"), std::string::npos) << r.err;
  EXPECT_EQ(Audit().find("\"kind\":\"exec_start\""), std::string::npos);  // nothing started
  // --format json: one event per line as it happens, then the summary with the exit code and run id.
  r = Runbook({"run", (dir_ / "cache.rb.denis").string(), "--env", Env(w.redis.port()), "--tick", "200ms", "--format", "json"});
  EXPECT_EQ(r.exit_code, 3);
  std::istringstream lines(r.out);
  std::string line;
  nlohmann::json last;
  size_t events = 0;
  while (std::getline(lines, line)) {
    last = nlohmann::json::parse(line, nullptr, false);
    ASSERT_TRUE(last.is_object()) << line;
    events += last.value("type", "") == "event";
  }
  EXPECT_GT(events, 3u);
  EXPECT_EQ(last.value("type", ""), "summary");
  EXPECT_EQ(last.value("exit", -1), 3);
  EXPECT_EQ(last.value("run", "").rfind("r-", 0), 0u) << r.out;
  EXPECT_EQ(r.out.find(kCanary), std::string::npos);
  unsetenv("RB_TEST_CACHE_PASSWORD");
}

TEST_F(LiveRun, ALastResortNeedsTheFlagAndItsNameNoFlagAloneRunsIt) {
  setenv("RB_TEST_CACHE_PASSWORD", kCanary, 1);
  CacheServer w;
  std::string env = Env(w.redis.port());
  // --allow-last-resort alone, no terminal to type the name: refused, the data is still there.
  ProcessResult r = Runbook({"run", (dir_ / "cache.rb.denis").string(), "--env", env, "--yes", "--allow-last-resort", "--tick", "200ms"});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_EQ(Redis(w.redis.port(), "exists"), "1\n");
  EXPECT_NE(r.err.find("no --confirm wipe"), std::string::npos) << r.err;
  // --confirm alone, without --allow-last-resort: refused too.
  r = Runbook({"run", (dir_ / "cache.rb.denis").string(), "--env", env, "--yes", "--confirm", "wipe", "--tick", "200ms"});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_EQ(Redis(w.redis.port(), "exists"), "1\n");
  // Both: the last resort runs.
  r = Runbook({"run", (dir_ / "cache.rb.denis").string(), "--env", env, "--yes", "--allow-last-resort", "--confirm", "wipe", "--tick", "200ms"});
  EXPECT_EQ(Redis(w.redis.port(), "exists"), "0\n") << r.out << r.err;
  EXPECT_NE(r.exit_code, 3) << r.out << r.err;
  unsetenv("RB_TEST_CACHE_PASSWORD");
}

TEST_F(LiveRun, AtTheTerminalTheActionIsAskedWithItsArgvAndTheLastResortNeedsItsNameTyped) {
  setenv("RB_TEST_CACHE_PASSWORD", kCanary, 1);
  CacheServer w;
  std::string env = Env(w.redis.port());
  std::string seen;
  // "y" to the action; a wrong name for the last resort: refused, the data stays.
  int rc = OnTerminal({"run", (dir_ / "cache.rb.denis").string(), "--env", env, "--allow-last-resort", "--tick", "200ms"},
                      {{"Run it? [y/N]", "y"}, {"Type the step's name (wipe)", "wpie"}, {"[y/n, empty: unknown]", ""}}, seen);
  EXPECT_EQ(rc, 3) << seen;
  EXPECT_NE(seen.find("$ redis-cli -h 127.0.0.1 -p " + std::to_string(w.redis.port()) + " -a *** --no-auth-warning set flag down"),
            std::string::npos)
      << seen;
  EXPECT_EQ(Redis(w.redis.port(), "get"), "down\n") << seen;
  EXPECT_EQ(Redis(w.redis.port(), "exists"), "1\n") << seen;
  EXPECT_NE(seen.find("its name was not typed"), std::string::npos) << seen;
  // The name typed: the last resort runs.
  seen.clear();
  OnTerminal({"run", (dir_ / "cache.rb.denis").string(), "--env", env, "--allow-last-resort", "--tick", "200ms"},
             {{"Run it? [y/N]", "y"}, {"Type the step's name (wipe)", "wipe"}, {"[y/n, empty: unknown]", ""}}, seen);
  EXPECT_EQ(Redis(w.redis.port(), "exists"), "0\n") << seen;
  EXPECT_EQ(seen.find(kCanary), std::string::npos);
  // Without --allow-last-resort the name is never even asked for.
  seen.clear();
  rc = OnTerminal({"run", (dir_ / "cache.rb.denis").string(), "--env", env, "--tick", "200ms"},
                  {{"Run it? [y/N]", "n"}, {"[y/n, empty: unknown]", ""}}, seen);
  EXPECT_EQ(rc, 3) << seen;
  EXPECT_EQ(seen.find("Type the step's name"), std::string::npos) << seen;
  unsetenv("RB_TEST_CACHE_PASSWORD");
}

TEST_F(LiveRun, AnEditedAuditRecordFailsVerify) {
  setenv("RB_TEST_CACHE_PASSWORD", kCanary, 1);
  CacheServer w;
  std::string env = Env(w.redis.port());
  Runbook({"run", (dir_ / "cache.rb.denis").string(), "--env", env, "--yes", "--tick", "200ms"});
  std::string audit = Audit();
  size_t at = audit.find("set flag down");
  ASSERT_NE(at, std::string::npos);
  audit.replace(at, 13, "set flag gone");
  std::ofstream(dir_ / "audit.jsonl", std::ios::binary | std::ios::trunc) << audit;
  ProcessResult v = Runbook({"audit", "verify", "--env", env});
  EXPECT_EQ(v.exit_code, 1) << v.out;
  EXPECT_NE(v.out.find("edited"), std::string::npos) << v.out;
  EXPECT_NE(v.out.find("NOT intact"), std::string::npos) << v.out;
  unsetenv("RB_TEST_CACHE_PASSWORD");
}

TEST_F(LiveRun, TwoConcurrentRunsOfOneRemediationOnlyOneRestarts) {
  setenv("RB_TEST_CACHE_PASSWORD", kCanary, 1);
  CacheServer w;
  w.redis.Pause();  // down: PING times out, the restart's guard holds
  std::string env = Env(w.redis.port(), "2");
  std::vector<std::string> args{"run", (dir_ / "restart.rb.denis").string(), "--env", env, "--yes", "--tick", "200ms"};
  Background a = Start(args, dir_, "a");
  Background b = Start(args, dir_, "b");
  int ra = a.Wait(), rb = b.Wait();
  w.redis.Resume();
  std::string log = Slurp(dir_ / "shim.log");
  EXPECT_EQ(Count(log, "kubectl rollout restart statefulset/redis -n denis"), 1u) << log;
  // The other one was refused at the lock (exit 3), saying who holds it and since when.
  std::string refused = ra == 3 ? Slurp(a.err) : Slurp(b.err);
  EXPECT_TRUE(ra == 3 || rb == 3) << ra << " " << rb << Slurp(a.err) << Slurp(b.err);
  EXPECT_FALSE(ra == 3 && rb == 3);
  EXPECT_NE(refused.find("is held by"), std::string::npos) << refused;
  EXPECT_NE(refused.find(" since "), std::string::npos) << refused;
  unsetenv("RB_TEST_CACHE_PASSWORD");
}

TEST_F(LiveRun, ADeclaredLockKeepsTwoRunbooksOffOneServer) {
  setenv("RB_TEST_CACHE_PASSWORD", kCanary, 1);
  CacheServer w;
  WriteFlush();
  w.redis.Pause();
  std::string env = Env(w.redis.port(), "3");
  Background a = Start({"run", (dir_ / "restart.rb.denis").string(), "--env", env, "--yes", "--tick", "200ms"}, dir_, "a");
  for (int i = 0; i < 300 && Count(Slurp(dir_ / "shim.log"), "rollout restart") == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  w.redis.Resume();
  ProcessResult b = Runbook({"run", (dir_ / "flush.rb.denis").string(), "--env", env, "--yes", "--tick", "200ms"});
  a.Wait();
  EXPECT_EQ(b.exit_code, 3) << b.out << b.err;
  EXPECT_NE(b.err.find("test/redis/127.0.0.1:" + std::to_string(w.redis.port()) + " is held by"), std::string::npos) << b.err;
  EXPECT_EQ(Redis(w.redis.port(), "get"), "up\n");  // the second run changed nothing
  // Once the first has ended, the lock is free.
  b = Runbook({"run", (dir_ / "flush.rb.denis").string(), "--env", env, "--yes", "--tick", "200ms"});
  EXPECT_EQ(Redis(w.redis.port(), "get"), "touched\n") << b.out << b.err;
  unsetenv("RB_TEST_CACHE_PASSWORD");
}

// The team's state in Redis: two runs on "two machines" (one lease in Redis, no local lock shared)
// never restart twice; the one refused says who holds the lease and its fence; every audit record is
// in the team's stream too.
TEST_F(LiveRun, WithTheTeamsRedisTwoRunsTakeOneLeaseAndTheAuditIsInTheStream) {
  setenv("RB_TEST_CACHE_PASSWORD", kCanary, 1);
  CacheServer w;
  RedisServer team;
  w.redis.Pause();
  std::string env = Env(w.redis.port(), "2", team.port());
  std::vector<std::string> args{"run", (dir_ / "restart.rb.denis").string(), "--env", env, "--yes", "--tick", "200ms"};
  Background a = Start(args, dir_, "a");
  for (int i = 0; i < 300 && Count(Slurp(dir_ / "shim.log"), "rollout restart") == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::filesystem::remove_all(dir_ / "locks");  // another machine: its own folder, the same Redis
  ProcessResult b = Runbook(args);
  a.Wait();
  w.redis.Resume();
  EXPECT_EQ(Count(Slurp(dir_ / "shim.log"), "rollout restart"), 1u);
  EXPECT_EQ(b.exit_code, 3) << b.out << b.err;
  EXPECT_NE(b.err.find("is held by"), std::string::npos) << b.err;
  EXPECT_NE(b.err.find("lease fence"), std::string::npos) << b.err;
  // Released at the end: the next run takes it, with a higher fence.
  ProcessResult c = Runbook(args);
  EXPECT_NE(c.exit_code, 3) << c.out << c.err;
  std::string audit = Audit();
  EXPECT_NE(audit.find("\"fence\":2"), std::string::npos) << audit;
  ProcessResult len = RunProcess({"/usr/bin/redis-cli", "-p", std::to_string(team.port()), "xlen", "runbook:test:stream:audit"});
  EXPECT_EQ(std::stoul(len.out), static_cast<unsigned long>(Count(audit, "\n"))) << len.out;
  // No key and no value of the team's state (leases, fences, windows, incidents, the stream) holds the secret.
  ProcessResult keys = RunProcess({"/usr/bin/redis-cli", "-p", std::to_string(team.port()), "--raw", "keys", "*"});
  std::string everything = keys.out;
  std::istringstream names(keys.out);
  size_t values = 0;
  for (std::string key; std::getline(names, key);) {
    if (key.empty()) continue;
    std::string type = RunProcess({"/usr/bin/redis-cli", "-p", std::to_string(team.port()), "--raw", "type", key}).out;
    std::vector<std::string> read = {"get", key};
    if (type.rfind("stream", 0) == 0) read = {"xrange", key, "-", "+"};
    if (type.rfind("hash", 0) == 0) read = {"hgetall", key};
    if (type.rfind("zset", 0) == 0) read = {"zrange", key, "0", "-1"};
    if (type.rfind("set", 0) == 0) read = {"smembers", key};
    if (type.rfind("list", 0) == 0) read = {"lrange", key, "0", "-1"};
    std::vector<std::string> argv = {"/usr/bin/redis-cli", "-p", std::to_string(team.port()), "--raw"};
    argv.insert(argv.end(), read.begin(), read.end());
    everything += RunProcess(argv).out;
    ++values;
  }
  EXPECT_GE(values, 3u) << keys.out;  // at least the fence, the incident and the stream
  EXPECT_NE(everything.find("kubectl rollout restart"), std::string::npos);  // the stream was read
  EXPECT_EQ(everything.find(kCanary), std::string::npos);
  // The team reads one log: the story of both machines' runs from the stream, and it verifies.
  ProcessResult show = Runbook({"audit", "show", "--env", env});
  EXPECT_EQ(show.exit_code, 0) << show.err;
  EXPECT_NE(show.out.find("kubectl rollout restart"), std::string::npos) << show.out;
  ProcessResult v = Runbook({"audit", "verify", "--env", env});
  EXPECT_EQ(v.exit_code, 0) << v.out;
  // A record added to the stream with an edited field is caught.
  size_t at = audit.find("rollout restart");
  size_t begin = audit.rfind('\n', at) + 1, end = audit.find('\n', at);
  std::string forged = audit.substr(begin, end - begin);
  forged.replace(forged.find("rollout restart"), 15, "rollout  undo  ");
  RunProcess({"/usr/bin/redis-cli", "-p", std::to_string(team.port()), "xadd", "runbook:test:stream:audit", "*", "record", forged});
  v = Runbook({"audit", "verify", "--env", env});
  EXPECT_EQ(v.exit_code, 1) << v.out;
  EXPECT_NE(v.out.find("was edited"), std::string::npos) << v.out;
  unsetenv("RB_TEST_CACHE_PASSWORD");
}

TEST_F(LiveRun, AHolderKilledLosesItsLeaseAfterItsTtl) {
  setenv("RB_TEST_CACHE_PASSWORD", kCanary, 1);
  CacheServer w;
  RedisServer team;
  w.redis.Pause();
  std::string env = Env(w.redis.port(), "30", team.port());
  std::vector<std::string> args{"run", (dir_ / "restart.rb.denis").string(), "--env", env, "--yes", "--tick", "200ms"};
  Background a = Start(args, dir_, "a");
  for (int i = 0; i < 300 && Count(Slurp(dir_ / "shim.log"), "rollout restart") == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  kill(a.pid, SIGKILL);
  a.Wait();
  KillCommandLine("sleep 30");
  w.redis.Resume();
  ProcessResult b = Runbook({"run", (dir_ / "restart.rb.denis").string(), "--env", Env(w.redis.port(), "0", team.port()), "--yes", "--tick", "200ms"});
  EXPECT_EQ(b.exit_code, 3) << b.err;  // still held: its TTL (1s) has not passed
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  b = Runbook({"run", (dir_ / "restart.rb.denis").string(), "--env", Env(w.redis.port(), "0", team.port()), "--yes", "--tick", "200ms"});
  EXPECT_NE(b.exit_code, 3) << b.out << b.err;
  EXPECT_EQ(Count(Slurp(dir_ / "shim.log"), "rollout restart"), 2u);
  unsetenv("RB_TEST_CACHE_PASSWORD");
}

// The team's Redis stopped mid-run: the lease can no longer be renewed, so once it may have expired
// no further change starts (the run says why and exits 3); the change already done is recorded.
TEST_F(LiveRun, TheTeamsRedisStoppedMidRunStopsFurtherChanges) {
  setenv("RB_TEST_CACHE_PASSWORD", kCanary, 1);
  CacheServer w;
  std::ofstream(dir_ / "two.rb.denis") << R"(import std.redis
import std.kube
import policy.escalation

runbook two_restarts "Restart twice" {
  severity P3
  owner    sre
  target redis = redis("cache")
  symptoms {
    down "The cache does not answer" : not redis.ping()
  }
  steps {
    action first "Restart the first" {
      $ kubectl rollout restart deployment/first -n denis
    }
    action second "Restart the second" {
      $ kubectl rollout restart deployment/second -n denis
    }
  }
}
)";
  auto team = std::make_unique<RedisServer>();
  std::string env = Env(w.redis.port(), "2", team->port());
  Background a = Start({"run", (dir_ / "two.rb.denis").string(), "--env", env, "--yes", "--tick", "200ms"}, dir_, "a");
  for (int i = 0; i < 300 && Count(Slurp(dir_ / "shim.log"), "deployment/first") == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  team->Stop();  // during the first restart (the shim sleeps 2s; the lease's TTL is 1s)
  int rc = a.Wait();
  std::string err = Slurp(a.err), log = Slurp(dir_ / "shim.log");
  EXPECT_EQ(rc, 3) << err;
  EXPECT_EQ(Count(log, "deployment/first"), 1u) << log;
  EXPECT_EQ(Count(log, "deployment/second"), 0u) << log;
  EXPECT_NE(err.find("was lost"), std::string::npos) << err;
  std::string audit = Audit();
  EXPECT_NE(audit.find("\"kind\":\"exec_end\""), std::string::npos) << audit;  // the first's end is recorded
  unsetenv("RB_TEST_CACHE_PASSWORD");
}

TEST_F(LiveRun, WithTheTeamsRedisDownNothingStartsAndTheRunSaysWhy) {
  setenv("RB_TEST_CACHE_PASSWORD", kCanary, 1);
  CacheServer w;
  int dead = FreeLoopbackPort();
  ProcessResult r = Runbook({"run", (dir_ / "restart.rb.denis").string(), "--env", Env(w.redis.port(), "0", dead), "--yes", "--tick", "200ms"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("cannot take the lease"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("refused"), std::string::npos) << r.err;
  EXPECT_EQ(Count(Slurp(dir_ / "shim.log"), "rollout restart"), 0u);
  unsetenv("RB_TEST_CACHE_PASSWORD");
}

// Windows kept in the team's Redis: while it fails, a `for > D` window is unknown with the reason,
// never a window that starts afresh or fires; once Redis answers, windows count again.
TEST_F(LiveRun, WhileTheTeamsRedisFailsWindowsAreUnknownNeverFired) {
  setenv("RB_TEST_CACHE_PASSWORD", kCanary, 1);
  CacheServer w;
  std::filesystem::create_directories(dir_ / "win");
  std::filesystem::copy(dir_ / "policy", dir_ / "win" / "policy");
  std::ofstream(dir_ / "win" / "flag.rb.denis") << R"(import std.redis
import policy.escalation

runbook flag_up "The flag is up" {
  severity P3
  owner    sre
  target redis = redis("cache")
  symptoms {
    up "The server answers" : redis.ping()
  }
  escalate {
    | when          | then     |
    |---------------|----------|
    | up for > 10m  | page sre |
  }
}
)";
  RedisServer team;
  std::string env = Env(w.redis.port(), "0", team.port());
  team.Pause();
  ProcessResult r = Runbook({"triage", (dir_ / "win").string(), "--env", env});
  team.Resume();
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;  // the symptom holds
  EXPECT_NE(r.out.find("its state is unknown: timeout"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("window:"), std::string::npos) << r.out;  // no window said to be counting
  // Redis back: the window opens in the team's store.
  r = Runbook({"triage", (dir_ / "win").string(), "--env", env});
  EXPECT_NE(r.out.find("window:  for > 10m"), std::string::npos) << r.out;
  ProcessResult keys = RunProcess({"/usr/bin/redis-cli", "-p", std::to_string(team.port()), "--raw", "keys", "runbook:test:window:*"});
  EXPECT_NE(keys.out.find("runbook:test:window:flag_up/"), std::string::npos) << keys.out;
  unsetenv("RB_TEST_CACHE_PASSWORD");
}

// Pages delivered: a Slack-style webhook, PagerDuty Events v2 and a generic JSON webhook, all to an
// HTTP fixture that checks their JSON; a failing channel is reported and audited, never blocks the
// run; with the team's Redis a second run does not page again; a dry run prints the payloads.
TEST_F(LiveRun, PagesAreDeliveredAuditedAndNotSentTwice) {
  setenv("RB_TEST_CACHE_PASSWORD", kCanary, 1);
  setenv("RB_TEST_PD_KEY", "pd-routing-key-0123456789abcdef", 1);
  CacheServer w;
  RedisServer team;
  std::mutex m;
  std::vector<std::pair<std::string, nlohmann::json>> got;
  HttpFixture hooks;
  for (const char* path : {"/slack", "/pd", "/hook"}) {
    std::string where = path;
    hooks.Post(path, [&, where](const httplib::Request& q, httplib::Response& r) {
      std::lock_guard<std::mutex> g(m);
      got.emplace_back(where, nlohmann::json::parse(q.body, nullptr, false));
      EXPECT_EQ(q.body.find(kCanary), std::string::npos) << q.body;
      r.status = where == "/pd" ? 202 : 200;
      r.set_content("ok", "text/plain");
    });
  }
  hooks.Post("/broken", [](const httplib::Request&, httplib::Response& r) { r.status = 500; });
  hooks.Start();
  setenv("RB_TEST_SLACK_URL", (hooks.url() + "/slack").c_str(), 1);
  std::string env = Env(w.redis.port(), "0", team.port());
  std::ofstream(env, std::ios::app) << "contacts:\n  sre: {slack: \"#sre-oncall\", pager: sre-primary, webhook: \"" << hooks.url()
                                    << "/hook\"}\n"
                                    << "delivery:\n  slack: {webhook: SLACK_URL}\n  pagerduty: {routing_key: PD_KEY, url: \"" << hooks.url()
                                    << "/pd\"}\n  deadline: 3s\n";
  {  // the secrets the delivery reads
    std::string text = Slurp(env);
    text.replace(text.find("secrets:\n"), 9, "secrets:\n  SLACK_URL: {env: RB_TEST_SLACK_URL}\n  PD_KEY: {env: RB_TEST_PD_KEY}\n");
    std::ofstream(env, std::ios::trunc) << text;
  }
  std::vector<std::string> args{"run", (dir_ / "cache.rb.denis").string(), "--env", env, "--yes", "--tick", "200ms", "--answer", "¿Data loss?=yes"};
  ProcessResult r = Runbook(args);
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;  // the last resort is refused, as before
  EXPECT_NE(r.err.find("page sre: delivered to slack #sre-oncall"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("page sre: delivered to pager sre-primary"), std::string::npos) << r.err;
  {
    std::lock_guard<std::mutex> g(m);
    ASSERT_EQ(got.size(), 3u);
    for (const auto& [where, j] : got) {
      ASSERT_TRUE(j.is_object()) << where;
      if (where == "/slack") {
        EXPECT_EQ(j.value("channel", ""), "#sre-oncall");
        EXPECT_NE(j.value("text", "").find("cache"), std::string::npos) << j.dump();
      } else if (where == "/pd") {
        EXPECT_EQ(j.value("routing_key", ""), "pd-routing-key-0123456789abcdef");
        EXPECT_EQ(j.value("event_action", ""), "trigger");
        EXPECT_EQ(j["payload"].value("severity", ""), "error");  // P2
        EXPECT_EQ(j.value("dedup_key", "").rfind("test/cache/", 0), 0u) << j.dump();
      } else {
        EXPECT_EQ(j.value("kind", ""), "runbook.page");
        EXPECT_EQ(j.value("contact", ""), "sre");
      }
    }
  }
  std::string audit = Audit();
  EXPECT_NE(audit.find("\"kind\":\"page\""), std::string::npos);
  EXPECT_NE(audit.find("\"kind\":\"page_end\""), std::string::npos);
  EXPECT_EQ(audit.find("pd-routing-key-0123456789abcdef"), std::string::npos);  // a secret: never in the audit
  EXPECT_EQ(audit.find(kCanary), std::string::npos);
  // Again: the team's Redis says this incident was paged at this level; nobody is paged twice.
  r = Runbook(args);
  EXPECT_NE(r.out.find("not paged again"), std::string::npos) << r.out << r.err;
  {
    std::lock_guard<std::mutex> g(m);
    EXPECT_EQ(got.size(), 3u);
  }
  // A channel that fails is reported and audited, and the run goes on to its end.
  RunProcess({"/usr/bin/redis-cli", "-p", std::to_string(team.port()), "flushall"});
  setenv("RB_TEST_SLACK_URL", (hooks.url() + "/broken").c_str(), 1);
  r = Runbook(args);
  EXPECT_NE(r.err.find("page sre: NOT delivered to slack #sre-oncall: HTTP 500"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("step wipe"), std::string::npos) << r.out;  // the walk went on
  // A dry run shows each payload and sends nothing.
  size_t before = got.size();
  r = Runbook({"run", (dir_ / "cache.rb.denis").string(), "--env", env, "--dry-run", "--tick", "200ms", "--answer", "¿Data loss?=yes"});
  EXPECT_NE(r.err.find("would send to pager sre-primary"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("\"routing_key\":\"***\""), std::string::npos) << r.err;
  {
    std::lock_guard<std::mutex> g(m);
    EXPECT_EQ(got.size(), before);
  }
  hooks.Stop();
  unsetenv("RB_TEST_CACHE_PASSWORD");
}

// A fleet: a param bound to a list in the environment runs the runbook once per value; with
// --max-errors 2 no new run starts after the second failure.
TEST_F(LiveRun, AFleetOfTenStopsAfterTheSecondFailure) {
  setenv("RB_TEST_CACHE_PASSWORD", kCanary, 1);
  CacheServer w;
  WriteNodeRunbook();
  fail_ = "agent-node-3 agent-node-5";
  std::string env = Env(w.redis.port());
  std::ofstream(env, std::ios::app) << "params:\n  restart_node:\n    node: [node-1, node-2, node-3, node-4, node-5, node-6, node-7, "
                                       "node-8, node-9, node-10]\n";
  ProcessResult r = Runbook({"run", (dir_ / "node.rb.denis").string(), "--env", env, "--yes", "--tick", "200ms", "--max-errors", "2"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  std::string log = Slurp(dir_ / "shim.log");
  EXPECT_EQ(Count(log, "rollout restart"), 5u) << log;  // node-1 .. node-5, then the budget is spent
  EXPECT_EQ(Count(log, "agent-node-6"), 0u) << log;
  EXPECT_NE(r.out.find("5 ran: 3 ok, 2 failed; 5 not started"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("not started: the error budget (2) was spent"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("[node=node-3]"), std::string::npos) << r.err;  // each member's lines, tagged
  // Four at once, nothing failing: all ten run, each under its own locks.
  fail_.clear();
  std::filesystem::remove(dir_ / "shim.log");
  env = Env(w.redis.port());
  std::ofstream(env, std::ios::app) << "params:\n  restart_node:\n    node: [node-1, node-2, node-3, node-4, node-5, node-6, node-7, "
                                       "node-8, node-9, node-10]\n";
  r = Runbook({"run", (dir_ / "node.rb.denis").string(), "--env", env, "--yes", "--tick", "200ms", "--max-concurrency", "4"});
  EXPECT_EQ(Count(Slurp(dir_ / "shim.log"), "rollout restart"), 10u) << r.out << r.err;
  EXPECT_NE(r.out.find("10 ran: 10 ok, 0 failed; 0 not started"), std::string::npos) << r.out << r.err;
  EXPECT_EQ(r.exit_code, 0) << r.out;
  unsetenv("RB_TEST_CACHE_PASSWORD");
}

TEST_F(LiveRun, KilledMidChangeTheResumedRunReportsOutcomeUnknownAndRunsNothingUnasked) {
  setenv("RB_TEST_CACHE_PASSWORD", kCanary, 1);
  CacheServer w;
  w.redis.Pause();
  std::string env = Env(w.redis.port(), "30");  // the restart hangs: killed between start and end
  Background a = Start({"run", (dir_ / "restart.rb.denis").string(), "--env", env, "--yes", "--tick", "200ms"}, dir_, "a");
  for (int i = 0; i < 300 && Count(Slurp(dir_ / "shim.log"), "rollout restart") == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(Count(Slurp(dir_ / "shim.log"), "rollout restart"), 1u);
  kill(a.pid, SIGKILL);
  a.Wait();
  KillCommandLine("sleep 30");  // the orphaned shim
  w.redis.Resume();
  std::string audit = Audit();
  ASSERT_NE(audit.find("\"kind\":\"exec_start\""), std::string::npos) << audit;
  EXPECT_EQ(audit.find("\"kind\":\"exec_end\""), std::string::npos) << audit;
  size_t at = audit.find("\"run\":\"");
  ASSERT_NE(at, std::string::npos);
  std::string run = audit.substr(at + 7, audit.find('"', at + 7) - at - 7);
  // Resumed without a terminal: the restart's outcome is unknown, it is not run again unasked.
  ProcessResult r = Runbook({"run", "--resume", run, "--env", env, "--yes", "--tick", "200ms"});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.err.find("outcome unknown"), std::string::npos) << r.err;
  EXPECT_EQ(Count(Slurp(dir_ / "shim.log"), "rollout restart"), 1u);
  // Said so with --confirm: it runs again, once.
  std::string fast = Env(w.redis.port(), "0");
  r = Runbook({"run", "--resume", run, "--env", fast, "--yes", "--confirm", "restart", "--tick", "200ms"});
  EXPECT_EQ(Count(Slurp(dir_ / "shim.log"), "rollout restart"), 2u) << r.out << r.err;
  ProcessResult v = Runbook({"audit", "verify", "--env", fast});
  EXPECT_EQ(v.exit_code, 0) << v.out;
  unsetenv("RB_TEST_CACHE_PASSWORD");
}

TEST_F(LiveRun, AResumedRunReadsItsChecksAgainUnderTheSameParamsAndEnvironment) {
  setenv("RB_TEST_CACHE_PASSWORD", kCanary, 1);
  CacheServer w;
  std::ofstream(dir_ / "roll.rb.denis") << R"(import std.redis
import std.kube
import policy.escalation

runbook roll_workers "Roll the workers" {
  severity P3
  owner    sre
  target redis = redis("cache")
  param  ns : string
  symptoms {
    down "The cache does not answer" : not redis.ping()
  }
  steps {
    check pods "Look at the pods" {
      $ kubectl get pods -n {ns}
    }
    action restart "Restart the workers" {
      $ kubectl rollout restart deployment/workers -n {ns}
    }
  }
}
)";
  w.redis.Pause();
  slow_ = "rollout restart";  // only the restart hangs: killed between its start and its end
  std::string env = Env(w.redis.port(), "30");
  const std::string file = (dir_ / "roll.rb.denis").string();
  Background a = Start({"run", file, "--env", env, "--yes", "--param", "ns=prod", "--tick", "200ms"}, dir_, "a");
  for (int i = 0; i < 300 && Count(Slurp(dir_ / "shim.log"), "rollout restart") == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(Count(Slurp(dir_ / "shim.log"), "rollout restart"), 1u);
  kill(a.pid, SIGKILL);
  a.Wait();
  KillCommandLine("sleep 30");
  w.redis.Resume();
  std::string audit = Audit();
  EXPECT_NE(audit.find("\"synced\":"), std::string::npos) << audit;  // the check's records: not synced on their own
  size_t at = audit.find("\"run\":\"");
  ASSERT_NE(at, std::string::npos);
  std::string run = audit.substr(at + 7, audit.find('"', at + 7) - at - 7);
  std::string fast = Env(w.redis.port(), "0");
  // Other params than the run had: refused, saying which it had; nothing runs.
  ProcessResult r = Runbook({"run", "--resume", run, "--env", fast, "--yes", "--confirm", "restart", "--param", "ns=staging"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("--param ns=prod"), std::string::npos) << r.err;
  // Another environment: refused.
  std::string other = Slurp(fast);
  other.replace(other.find("name: test"), 10, "name: prod-eu");
  std::ofstream(dir_ / "other.env.yaml") << other;
  r = Runbook({"run", "--resume", run, "--env", (dir_ / "other.env.yaml").string(), "--yes", "--confirm", "restart"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("environment test, not prod-eu"), std::string::npos) << r.err;
  EXPECT_EQ(Count(Slurp(dir_ / "shim.log"), "get pods"), 1u);
  // Resumed with the params of its record: the check is read again, the restart asked for runs once more.
  r = Runbook({"run", "--resume", run, "--env", fast, "--yes", "--confirm", "restart", "--tick", "200ms"});
  std::string log = Slurp(dir_ / "shim.log");
  EXPECT_EQ(Count(log, "kubectl get pods -n prod"), 2u) << log << r.err;
  EXPECT_EQ(Count(log, "kubectl rollout restart deployment/workers -n prod"), 2u) << log << r.err;
  EXPECT_NE(r.exit_code, 2) << r.err;
  ProcessResult v = Runbook({"audit", "verify", "--env", fast});
  EXPECT_EQ(v.exit_code, 0) << v.out;
  unsetenv("RB_TEST_CACHE_PASSWORD");
}

TEST_F(LiveRun, AFleetPassesOnARefusalAndStreamsEachMembersEvents) {
  setenv("RB_TEST_CACHE_PASSWORD", kCanary, 1);
  CacheServer w;
  WriteNodeRunbook();
  std::string env = Env(w.redis.port());
  std::ofstream(env, std::ios::app) << "params:\n  restart_node:\n    node: [node-1, node-2, node-3]\n";
  // No --yes and no terminal: every member's restart is refused, and so is the fleet (exit 3).
  ProcessResult r = Runbook({"run", (dir_ / "node.rb.denis").string(), "--env", env, "--tick", "200ms", "--max-errors", "100%"});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_EQ(Count(Slurp(dir_ / "shim.log"), "rollout restart"), 0u);
  // --format json: each member's events on stdout, naming the member, then the fleet's summary.
  r = Runbook({"run", (dir_ / "node.rb.denis").string(), "--env", env, "--yes", "--tick", "200ms", "--format", "json"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  std::set<std::string> members;
  nlohmann::json fleet;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    nlohmann::json e = nlohmann::json::parse(line, nullptr, false);
    ASSERT_TRUE(e.is_object()) << line;
    if (e.value("type", "") == "fleet") {
      fleet = e;
      continue;
    }
    ASSERT_TRUE(e.contains("member")) << line;
    members.insert(e["member"].value("value", ""));
  }
  EXPECT_EQ(members, (std::set<std::string>{"node-1", "node-2", "node-3"}));
  ASSERT_TRUE(fleet.is_object()) << r.out;
  EXPECT_EQ(fleet.value("exit", -1), 0);
  EXPECT_EQ(fleet["members"].size(), 3u);
  unsetenv("RB_TEST_CACHE_PASSWORD");
}

// A change whose words come from a capture of the command before it in its step: the approval
// of the step could not show them, so the change is shown and asked about again once they are known.
TEST_F(LiveRun, AChangeWhoseWordsAreCapturedInItsStepIsAskedAgainWithThem) {
  setenv("RB_TEST_CACHE_PASSWORD", kCanary, 1);
  CacheServer w;
  std::ofstream(dir_ / "drain.rb.denis") << R"(import std.redis
import std.kube
import policy.escalation

runbook drain_worker "Drain the stuck worker" {
  severity P3
  owner    sre
  target redis = redis("cache")
  symptoms {
    up "The cache answers" : redis.ping()
  }
  steps {
    action drain "Restart the stuck worker" {
      $ kubectl get deployment -l app=worker -o name
      let stuck = output
      $ kubectl rollout restart {stuck} -n denis
    }
  }
}
)";
  std::string env = Env(w.redis.port());
  const std::string file = (dir_ / "drain.rb.denis").string();
  std::string seen;
  int rc = OnTerminal({"run", file, "--env", env, "--tick", "200ms", "--for", "2s", "--answer", "¿Data loss?=no"},
                      {{"Run it? [y/N]", "y"}, {"Run it? [y/N]", "n"}}, seen);
  EXPECT_NE(seen.find("$ kubectl rollout restart restarted -n denis\r\n  Run it?"), std::string::npos) << seen;
  EXPECT_EQ(Count(Slurp(dir_ / "shim.log"), "rollout restart"), 0u) << seen;  // refused as it is now
  EXPECT_NE(seen.find("were not approved as they are"), std::string::npos) << seen;
  EXPECT_EQ(rc, 3) << seen;  // denied at the prompt: refused
  // With --yes each is approved as shown, and the audit has both approvals.
  ProcessResult r = Runbook({"run", file, "--env", env, "--yes", "--tick", "200ms", "--for", "2s"});
  EXPECT_EQ(Count(Slurp(dir_ / "shim.log"), "kubectl rollout restart restarted -n denis"), 1u) << r.err;
  EXPECT_GE(Count(Audit(), "\"kind\":\"approval\""), 3u);
  unsetenv("RB_TEST_CACHE_PASSWORD");
}

// runbooks/redis_down itself, live, with Redis stopped: `ping_error` is unknown (a refused
// connection is not an answer to PING), so the restart runs only once a person says the guard holds
// (--confirm restart, or y at the prompt); of two concurrent runs only one restarts.
TEST_F(LiveRun, RedisDownsRestartRunsOnceForTwoRunsAndOnlyWhenAPersonSaysRedisIsDown) {
  LiveWorld world;
  ASSERT_TRUE(world.Ready()) << "redis-server or prometheus did not come up";
  world.redis().Stop();
  const std::string log_path = (dir_ / "shim.log").string();
  std::ofstream(dir_ / "bin" / "redis-cli") << "#!/bin/sh\necho \"redis-cli $*\" >> " << log_path
                                             << "\necho 'Could not connect to Redis at 127.0.0.1:6379: Connection refused' >&2\nexit 1\n";
  std::ofstream(dir_ / "bin" / "curl") << "#!/bin/sh\necho \"curl $*\" >> " << log_path << "\necho 'rate_limit_fallback 0'\n";
  chmod((dir_ / "bin" / "redis-cli").c_str(), 0755);
  chmod((dir_ / "bin" / "curl").c_str(), 0755);
  std::string env = world.WriteEnv((dir_ / "world.env.yaml").string());
  std::string text = Slurp(env);
  const std::string allow = "exec:\n  allow: [redis-cli, celery]\n";
  ASSERT_NE(text.find(allow), std::string::npos) << text;
  text.replace(text.find(allow), allow.size(),
               "exec:\n  allow: [redis-cli, celery, kubectl, curl]\n  path: [" + (dir_ / "bin").string() + ", /usr/bin, /bin]\n");
  text.replace(text.find("  env: {"), 8, "  env: {RB_SHIM_SLEEP: \"2\", ");
  text += "audit: {path: " + (dir_ / "audit.jsonl").string() + "}\nlocks: {path: " + (dir_ / "locks").string() + "}\n";
  std::ofstream(env) << text;
  const std::string file = (SourceDir() / "runbooks" / "redis_down.rb.denis").string();
  const std::string restart = "kubectl rollout restart statefulset/redis -n denis";
  std::vector<std::string> args{"run", file, "--env", env, "--yes", "--vouch", "restart", "--tick", "200ms", "--for", "3s"};
  Background a = Start(args, dir_, "a");
  for (int i = 0; i < 300 && Count(Slurp(dir_ / "shim.log"), restart) == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ProcessResult b = Runbook(args);  // the second engineer, while the first one's restart runs
  EXPECT_EQ(b.exit_code, 3) << b.out << b.err;
  EXPECT_NE(b.err.find("loopback/runbook/redis_down is held by"), std::string::npos) << b.err;
  int rc = a.Wait();
  std::string a_err = Slurp(a.err);
  EXPECT_EQ(Count(Slurp(dir_ / "shim.log"), restart), 1u) << a_err;
  EXPECT_EQ(rc, 1) << a_err << Slurp(a.out);  // restarted, but Redis did not come back within --for
  EXPECT_NE(a_err.find("(--vouch restart), for its guard `ping_error`, which is unknown"), std::string::npos) << a_err;
  EXPECT_NE(Audit().find("\"kind\":\"vouch\""), std::string::npos);
  // Nobody says Redis is down: the restart is pending, never guessed (--yes and --confirm approve
  // commands, not the state of the system).
  ProcessResult c = Runbook({"run", file, "--env", env, "--yes", "--confirm", "restart", "--tick", "200ms", "--for", "1s"});
  EXPECT_EQ(c.exit_code, 1) << c.out << c.err;
  EXPECT_EQ(Count(Slurp(dir_ / "shim.log"), restart), 1u) << c.err;
  EXPECT_NE((c.out + c.err).find("its guard `ping_error` is unknown"), std::string::npos) << c.out << c.err;
  // At a terminal: shown why, asked whether it holds, then asked to approve the restart.
  std::string seen;
  int t = OnTerminal({"run", file, "--env", env, "--tick", "200ms", "--for", "3s", "--answer", "¿Datos perdidos?=no",
                      "--answer", "¿Data loss?=no", "--answer", "¿Security breach?=no",
                      "--answer", "¿Múltiples componentes caídos?=no", "--answer", "¿Sin rollback disponible?=no"},
                     {{"Does `ping_error` hold? [y/N]", "y"}, {"Run it? [y/N]", "y"}}, seen);
  EXPECT_EQ(t, 1) << seen;
  EXPECT_NE(seen.find("connection refused (127.0.0.1:"), std::string::npos) << seen;
  EXPECT_EQ(Count(Slurp(dir_ / "shim.log"), restart), 2u) << seen;
}

}  // namespace
}  // namespace rb::test
