// `runbook run --dry-run` against a real redis-server on a free loopback port: the incident opens
// when the run starts, reads and read commands happen for real, every write, last resort and page is
// shown and not done (the server's data is unchanged afterwards), a window counts on the real clock,
// and a canary secret appears in no output. No timing assertions: the ctest TIMEOUT guards hangs.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "runtime/live.hpp"
#include "tests/live_server.hpp"
#include "tests/process.hpp"
#include "tests/test_util.hpp"

namespace rb::test {
namespace {

class DryRun : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TempDir() / "dry_run";
    std::filesystem::create_directories(dir_ / "policy");
    std::ofstream(dir_ / "policy" / "escalation.rb.denis") << R"(policy escalation "Checklist" {
  contact sre "SRE" "@sre"
  escalate {
    | when     | then     |
    |----------|----------|
    | incident | page sre |
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
    flagged "the flag is set" : redis.ping() and redis.connected_clients() > 0
  }
  steps {
    check flag "Read the flag" {
      $ redis-cli -h {redis.host} -p {redis.port} -a {pass} --no-auth-warning get flag
      expect output == "up" within 3s every 500ms
    }
    action reset "Reset the flag" {
      $ redis-cli -h {redis.host} -p {redis.port} -a {pass} --no-auth-warning set flag down
    }
    manual tell "Tell the team" {
      "Post in #ops that the flag was reset"
    }
    last_resort wipe "Wipe the cache" {
      $ redis-cli -h {redis.host} -p {redis.port} -a {pass} --no-auth-warning flushall
    }
  }
}
)";
  }
  std::string Env(int port) {
    std::string path = (dir_ / "test.env.yaml").string();
    std::ofstream(path) << "name: test\ntargets:\n  cache: {address: \"redis://127.0.0.1:" << port
                        << "\", timeout: 500ms, auth: CACHE_PASSWORD}\n"
                        << "exec:\n  allow: [redis-cli]\n"
                        << "secrets:\n  CACHE_PASSWORD: {env: RB_TEST_CACHE_PASSWORD}\n"
                        << "state:\n  store: file\n  path: " << (dir_ / "state.json").string() << "\n"
                        << "audit: {path: " << (dir_ / "audit.jsonl").string() << "}\n"
                        << "locks: {path: " << (dir_ / "locks").string() << "}\n";
    return path;
  }
  std::filesystem::path dir_;
};

const char* kCanary = "canary-0d1e2f-dry-run";

TEST_F(DryRun, ReadsAreRealAndNothingIsChanged) {
  setenv("RB_TEST_CACHE_PASSWORD", kCanary, 1);
  RedisServer server({"--requirepass", kCanary});
  ASSERT_TRUE(server.up());
  ProcessResult set = RunProcess({"/usr/bin/redis-cli", "-p", std::to_string(server.port()), "-a", kCanary, "--no-auth-warning",
                           "set", "flag", "up"});
  ASSERT_EQ(set.exit_code, 0) << set.err;
  ProcessResult r = Runbook({"run", (dir_ / "cache.rb.denis").string(), "--env", Env(server.port()), "--dry-run",
                             "--tick", "1s"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  // The operator opened the incident; the symptom read the live server.
  EXPECT_NE(r.out.find("incident opened: opened by the operator (runbook run)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("symptom flagged holds"), std::string::npos) << r.out;
  // The read ran for real, and its expectation was met by what the server holds.
  EXPECT_NE(r.out.find("--no-auth-warning get flag  read → ok"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("expect output == \"up\" → met"), std::string::npos) << r.out;
  // The write is shown with its bound words and not done; the last resort is never run; the page is
  // shown, not sent; the manual step is marked done by the dry run, not by a person.
  EXPECT_NE(r.out.find("set flag down  write → would run: not done (dry run: write)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("denied by dry run (a live run needs --allow-last-resort and the step's name typed)"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("done by dry run (a live run waits for the operator)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("page sre"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("nothing was changed"), std::string::npos) << r.out;
  // Progress went to stderr as it happened.
  EXPECT_NE(r.err.find("run --dry-run cache · environment test"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("step check flag"), std::string::npos) << r.err;
  // The secret reached the command (the reads authenticated) and no output.
  EXPECT_NE(r.out.find("-a ***"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find(kCanary), std::string::npos) << r.out;
  EXPECT_EQ(r.err.find(kCanary), std::string::npos) << r.err;
  ProcessResult j = Runbook({"run", (dir_ / "cache.rb.denis").string(), "--env", Env(server.port()), "--dry-run",
                             "--tick", "1s", "--format", "json"});
  EXPECT_EQ(j.exit_code, 0) << j.err;
  // One JSON object per line: the events as they happened, then the summary.
  {
    std::istringstream lines(j.out);
    std::string line, last;
    size_t events = 0;
    while (std::getline(lines, line)) {
      nlohmann::json doc = nlohmann::json::parse(line, nullptr, false);
      ASSERT_TRUE(doc.is_object()) << line;
      events += doc.value("type", "") == "event";
      last = doc.value("type", "");
      if (last == "summary") {
        EXPECT_EQ(doc["trace"].value("runbook", ""), "cache") << line;
      }
    }
    EXPECT_GT(events, 3u) << j.out;
    EXPECT_EQ(last, "summary") << j.out;
  }
  EXPECT_EQ(j.out.find(kCanary), std::string::npos) << j.out;
  // Nothing changed on the server: the flag is still up and nothing was flushed.
  ProcessResult get = RunProcess({"/usr/bin/redis-cli", "-p", std::to_string(server.port()), "-a", kCanary, "--no-auth-warning",
                           "get", "flag"});
  EXPECT_EQ(get.out, "up\n");
  // The state file never holds a secret either.
  std::ifstream state(dir_ / "state.json");
  std::string text((std::istreambuf_iterator<char>(state)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text.find(kCanary), std::string::npos) << text;
  unsetenv("RB_TEST_CACHE_PASSWORD");
}

TEST_F(DryRun, AFailedReadIsAFailedStepWithItsReasonAndTheRunEnds) {
  setenv("RB_TEST_CACHE_PASSWORD", kCanary, 1);
  RedisServer server({"--requirepass", kCanary});
  int port = server.port();
  server.Stop();
  ProcessResult r = Runbook({"run", (dir_ / "cache.rb.denis").string(), "--env", Env(port), "--dry-run", "--tick", "1s"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("symptom flagged unknown"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("connection refused (127.0.0.1:" + std::to_string(port) + ")"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("read → exit 1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("step flag failed"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find(kCanary), std::string::npos) << r.out;
  unsetenv("RB_TEST_CACHE_PASSWORD");
}

TEST_F(DryRun, ForBoundsTheRunAndUsageErrorsExitTwo) {
  setenv("RB_TEST_CACHE_PASSWORD", kCanary, 1);
  RedisServer server({"--requirepass", kCanary});
  std::string env = Env(server.port());
  // Without --dry-run it is a live run: with no terminal and no --yes, the action is refused (exit 3).
  ProcessResult no_flag = Runbook({"run", (dir_ / "cache.rb.denis").string(), "--env", env, "--for", "6s", "--tick", "500ms"});
  EXPECT_EQ(no_flag.exit_code, 3) << no_flag.out << no_flag.err;
  EXPECT_NE(no_flag.err.find("no terminal to ask, and no --yes"), std::string::npos) << no_flag.err;
  ProcessResult mixed = Runbook({"run", (dir_ / "cache.rb.denis").string(), "--env", env, "--dry-run", "--yes"});
  EXPECT_EQ(mixed.exit_code, 2);
  EXPECT_NE(mixed.err.find("are for live runs"), std::string::npos) << mixed.err;
  ProcessResult no_env = Runbook({"run", (dir_ / "cache.rb.denis").string(), "--dry-run"});
  EXPECT_EQ(no_env.exit_code, 2);
  EXPECT_NE(no_env.err.find("--env FILE"), std::string::npos) << no_env.err;
  ProcessResult bad_for = Runbook({"run", (dir_ / "cache.rb.denis").string(), "--env", env, "--dry-run", "--for", "soon"});
  EXPECT_EQ(bad_for.exit_code, 2);
  EXPECT_NE(bad_for.err.find("--for soon: not a duration"), std::string::npos) << bad_for.err;
  // The flag's value is not "up": the expectation polls until --for ends the run first.
  ProcessResult r = Runbook({"run", (dir_ / "cache.rb.denis").string(), "--env", env, "--dry-run", "--tick", "500ms",
                             "--for", "1s"});
  EXPECT_NE(r.out.find("step flag: its expectation was still polling"), std::string::npos) << r.out << r.err;
  unsetenv("RB_TEST_CACHE_PASSWORD");
}

// Ctrl-C ends a dry run at the next instant, with its summary, and says so.
TEST_F(DryRun, CtrlCEndsTheRunWithItsSummary) {
  setenv("RB_TEST_CACHE_PASSWORD", kCanary, 1);
  RedisServer server({"--requirepass", kCanary});
  std::string env = Env(server.port());
  int out[2];
  ASSERT_EQ(pipe(out), 0);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], 1);
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 2);
    close(out[0]);
    std::string bin = RUNBOOK_BINARY, rb = (dir_ / "cache.rb.denis").string();
    // The flag is not "up": the expectation polls, and --for would end it only after an hour.
    execl(bin.c_str(), bin.c_str(), "run", rb.c_str(), "--env", env.c_str(), "--dry-run", "--tick", "200ms", "--for", "1h",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  close(out[1]);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  kill(pid, SIGINT);
  std::string text;
  char buf[4096];
  for (ssize_t n; (n = read(out[0], buf, sizeof buf)) > 0;) text.append(buf, static_cast<size_t>(n));
  close(out[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status)) << "killed by the signal instead of stopping: " << text;
  EXPECT_NE(text.find("stopped by Ctrl-C at "), std::string::npos) << text;
  EXPECT_NE(text.find("outcome: "), std::string::npos) << text;
  EXPECT_NE(text.find("step flag: its expectation was still polling"), std::string::npos) << text;
  unsetenv("RB_TEST_CACHE_PASSWORD");
}

}  // namespace
}  // namespace rb::test
