// The sandbox runs real subprocesses: what may start, what the child sees (environment, stdin, descriptors,
// limits, session), how it ends (exit, signal, timeout with a stubborn grandchild), capped output, and that
// nothing leaks (descriptors, processes) even when called from several threads at once. Timing bounds are
// generous sanity limits only.
#include "runtime/sandbox.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace rb::test {
namespace {

using rt::RunSandboxed;
using rt::SandboxOptions;
using rt::SandboxResult;
using Status = SandboxResult::Status;

SandboxOptions Allow(std::vector<std::string> names) {
  SandboxOptions o;
  o.allow = std::move(names);
  return o;
}

SandboxResult RunAllowed(const std::vector<std::string>& argv, SandboxOptions o = {}) {
  if (o.allow.empty() && !argv.empty()) o.allow = {argv[0]};
  return RunSandboxed(argv, o);
}

std::string Describe(const SandboxResult& r) {
  return "status " + std::to_string(static_cast<int>(r.status)) + " exit " + std::to_string(r.exit_code) +
         " signal " + std::to_string(r.signal) + " reason [" + r.reason + "] out [" + r.out.substr(0, 500) +
         "] err [" + r.err.substr(0, 500) + "]";
}

// A fresh directory, removed at the end of the test.
class ScratchDir {
 public:
  ScratchDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "rb-sandbox-XXXXXX").string();
    if (mkdtemp(tmpl.data())) path_ = tmpl;
  }
  ~ScratchDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string Write(const std::string& rel, const std::string& text, mode_t mode) const {
    std::filesystem::path p = std::filesystem::path(path_) / rel;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
    chmod(p.c_str(), mode);
    return p.string();
  }

 private:
  std::string path_;
};

int CountOpenFds() {
  int n = 0;
  DIR* d = opendir("/proc/self/fd");
  if (!d) return -1;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  closedir(d);
  return n;
}

// Fields of /proc/PID/stat after the command name: state, ppid, pgrp, session, ...
std::vector<std::string> StatFields(const std::string& stat) {
  std::vector<std::string> fields;
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return fields;
  std::istringstream in(stat.substr(close + 1));
  for (std::string f; in >> f;) fields.push_back(f);
  return fields;
}

// True while some live (not zombie) process is in the group. A zombie whose parent does not reap it (a
// container's init may not) still answers kill(-pgid, 0), so /proc is the judge when that succeeds.
bool GroupAlive(pid_t pgid) {
  if (kill(-pgid, 0) != 0 && errno == ESRCH) return false;
  DIR* d = opendir("/proc");
  if (!d) return true;
  bool alive = false;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    std::ifstream f(std::string("/proc/") + e->d_name + "/stat");
    std::stringstream ss;
    ss << f.rdbuf();
    std::vector<std::string> fields = StatFields(ss.str());
    if (fields.size() > 2 && fields[2] == std::to_string(pgid) && fields[0] != "Z" && fields[0] != "X") alive = true;
  }
  closedir(d);
  return alive;
}

bool WaitGroupGone(pid_t pgid) {
  for (int i = 0; i < 100; ++i) {
    if (!GroupAlive(pgid)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

bool PidAlive(pid_t pid) {
  if (kill(pid, 0) != 0 && errno == ESRCH) return false;
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::stringstream ss;
  ss << f.rdbuf();
  std::vector<std::string> fields = StatFields(ss.str());
  return !fields.empty() && fields[0] != "Z" && fields[0] != "X";
}

// --- What may start

TEST(Sandbox, EchoRuns) {
  SandboxResult r = RunAllowed({"echo", "hello"});
  ASSERT_EQ(r.status, Status::kExited) << Describe(r);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "hello\n");
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.reason, "");
  EXPECT_FALSE(r.out_truncated);
  EXPECT_EQ(r.out_bytes, 6u);
  EXPECT_TRUE(r.resolved == "/usr/bin/echo" || r.resolved == "/bin/echo") << r.resolved;
  EXPECT_LT(r.elapsed_ms, 5000);
}

TEST(Sandbox, ProgramNotAllowedIsRefused) {
  SandboxResult r = RunSandboxed({"celery", "inspect"}, Allow({"kubectl", "redis-cli"}));
  EXPECT_EQ(r.status, Status::kRefused);
  EXPECT_EQ(r.reason, "`celery` is not in the environment's exec.allow (allowed: kubectl, redis-cli)");
  EXPECT_TRUE(r.resolved.empty());
  r = RunSandboxed({"echo", "hi"}, SandboxOptions{});  // empty allow: nothing may run
  EXPECT_EQ(r.status, Status::kRefused);
  EXPECT_NE(r.reason.find("allowed: none"), std::string::npos) << r.reason;
  r = RunSandboxed({"echo"}, Allow({"echo2", "ech"}));  // exact match only
  EXPECT_EQ(r.status, Status::kRefused);
}

TEST(Sandbox, PathsAndEmptyCommandsAreRefused) {
  SandboxOptions o = Allow({"/bin/echo", "./echo", "echo", "bin/echo"});
  for (std::string name : {"/bin/echo", "./echo", "bin/echo"}) {
    SandboxResult r = RunSandboxed({name, "x"}, o);
    EXPECT_EQ(r.status, Status::kRefused) << name;
    EXPECT_NE(r.reason.find("is a path"), std::string::npos) << r.reason;
  }
  EXPECT_EQ(RunSandboxed({}, o).status, Status::kRefused);
  EXPECT_EQ(RunSandboxed({""}, Allow({""})).status, Status::kRefused);
  EXPECT_EQ(RunSandboxed({"echo", std::string("a\0b", 3)}, o).status, Status::kRefused);
}

TEST(Sandbox, NotFoundInPathNamesThePath) {
  SandboxResult r = RunAllowed({"rb-no-such-program-xyz"});
  EXPECT_EQ(r.status, Status::kStartFailed);
  EXPECT_EQ(r.reason, "`rb-no-such-program-xyz` not found in exec.path (/usr/local/bin:/usr/bin:/bin)");
  SandboxOptions o = Allow({"echo"});
  o.path = {"/nonexistent-dir"};
  r = RunSandboxed({"echo", "x"}, o);
  EXPECT_EQ(r.status, Status::kStartFailed);
  EXPECT_NE(r.reason.find("/nonexistent-dir"), std::string::npos) << r.reason;
  o.path = {};
  EXPECT_EQ(RunSandboxed({"echo", "x"}, o).status, Status::kStartFailed);
  o.path = {"usr/bin", "."};  // relative folders are never searched
  EXPECT_EQ(RunSandboxed({"echo", "x"}, o).status, Status::kStartFailed);
}

TEST(Sandbox, ResolvesFirstRegularExecutable) {
  ScratchDir dir;
  ASSERT_FALSE(dir.path().empty());
  std::filesystem::create_directories(dir.path() + "/a/probe");     // a directory: skipped
  dir.Write("b/probe", "#!/bin/sh\necho from-b\n", 0644);            // not executable: skipped
  std::string c = dir.Write("c/probe", "#!/bin/sh\necho from-c\n", 0755);
  dir.Write("d/probe", "#!/bin/sh\necho from-d\n", 0755);            // later in the path
  SandboxOptions o = Allow({"probe"});
  o.path = {dir.path() + "/a", dir.path() + "/b", dir.path() + "/c", dir.path() + "/d"};
  SandboxResult r = RunSandboxed({"probe"}, o);
  ASSERT_EQ(r.status, Status::kExited) << Describe(r);
  EXPECT_EQ(r.out, "from-c\n");
  EXPECT_EQ(r.resolved, c);
}

TEST(Sandbox, CallerPathIsIgnored) {
  ScratchDir dir;
  ASSERT_FALSE(dir.path().empty());
  dir.Write("echo", "#!/bin/sh\necho fake\n", 0755);
  const char* old = getenv("PATH");
  std::string saved = old ? old : "";
  setenv("PATH", dir.path().c_str(), 1);
  SandboxResult r = RunAllowed({"echo", "hello"});
  if (old) setenv("PATH", saved.c_str(), 1); else unsetenv("PATH");
  ASSERT_EQ(r.status, Status::kExited) << Describe(r);
  EXPECT_EQ(r.out, "hello\n");
  EXPECT_TRUE(r.resolved == "/usr/bin/echo" || r.resolved == "/bin/echo") << r.resolved;
}

TEST(Sandbox, ExecFailureIsAStartFailure) {
  ScratchDir dir;
  ASSERT_FALSE(dir.path().empty());
  dir.Write("garbage", std::string("\x01\x02\x03 not a program\n"), 0755);  // no #!, no ELF: ENOEXEC
  SandboxOptions o = Allow({"garbage"});
  o.path = {dir.path()};
  SandboxResult r = RunSandboxed({"garbage"}, o);
  EXPECT_EQ(r.status, Status::kStartFailed) << Describe(r);
  EXPECT_NE(r.reason.find("exec failed: Exec format error"), std::string::npos) << r.reason;
  EXPECT_EQ(r.resolved, dir.path() + "/garbage");
}

// --- What the child sees

TEST(Sandbox, EnvironmentIsOnlyWhatIsGiven) {
  setenv("RB_CANARY_SECRET", "hunter2", 1);
  SandboxOptions o = Allow({"env"});
  o.env = {{"A", "1"}};
  SandboxResult r = RunSandboxed({"env"}, o);
  unsetenv("RB_CANARY_SECRET");
  ASSERT_EQ(r.status, Status::kExited) << Describe(r);
  EXPECT_NE(r.out.find("A=1\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("PATH=/usr/local/bin:/usr/bin:/bin\n"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("RB_CANARY_SECRET"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("hunter2"), std::string::npos) << r.out;

  o.env = {{"PATH", "/opt/tools"}, {"B", "two words"}};  // a given PATH wins
  r = RunSandboxed({"env"}, o);
  ASSERT_EQ(r.status, Status::kExited) << Describe(r);
  EXPECT_EQ(r.out, "PATH=/opt/tools\nB=two words\n");

  o.env = {{"BAD=KEY", "x"}};
  r = RunSandboxed({"env"}, o);
  EXPECT_EQ(r.status, Status::kStartFailed) << Describe(r);
}

TEST(Sandbox, StdinIsDevNull) {
  SandboxResult r = RunAllowed({"cat"});
  ASSERT_EQ(r.status, Status::kExited) << Describe(r);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "");
  EXPECT_LT(r.elapsed_ms, 5000);
  r = RunAllowed({"readlink", "/proc/self/fd/0"});
  struct stat st{};
  if (stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode)) {
    EXPECT_EQ(r.out, "/dev/null\n") << Describe(r);
  } else {  // a container with a regular file there: an empty pipe stands in
    EXPECT_EQ(r.out.rfind("pipe:", 0), 0u) << Describe(r);
  }
}

TEST(Sandbox, OtherDescriptorsAreClosed) {
  int leaked = open("/dev/null", O_RDONLY);  // not close-on-exec: the child must close it itself
  ASSERT_GE(leaked, 0);
  SandboxResult r = RunAllowed({"ls", "/proc/self/fd"});
  close(leaked);
  ASSERT_EQ(r.status, Status::kExited) << Describe(r);
  // ls sees 0, 1, 2 and the descriptor it opened to list the folder (the lowest free one, 3).
  EXPECT_EQ(r.out, "0\n1\n2\n3\n");
}

TEST(Sandbox, OwnSessionAndProcessGroup) {
  SandboxResult r = RunAllowed({"cat", "/proc/self/stat"});
  ASSERT_EQ(r.status, Status::kExited) << Describe(r);
  std::string pid = r.out.substr(0, r.out.find(' '));
  std::vector<std::string> f = StatFields(r.out);
  ASSERT_GT(f.size(), 3u) << r.out;
  EXPECT_EQ(f[1], std::to_string(getpid()));  // our child
  EXPECT_EQ(f[2], pid);                       // its own process group
  EXPECT_EQ(f[3], pid);                       // and session
}

TEST(Sandbox, SignalMaskAndDispositionsAreReset) {
  struct sigaction ign {}, old_pipe {}, old_usr {};
  ign.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &ign, &old_pipe);
  sigaction(SIGUSR1, &ign, &old_usr);
  sigset_t block, old_mask;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR2);
  pthread_sigmask(SIG_BLOCK, &block, &old_mask);
  SandboxResult r = RunAllowed({"cat", "/proc/self/status"});
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  sigaction(SIGPIPE, &old_pipe, nullptr);
  sigaction(SIGUSR1, &old_usr, nullptr);
  ASSERT_EQ(r.status, Status::kExited) << Describe(r);
  EXPECT_NE(r.out.find("SigBlk:\t0000000000000000\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("SigIgn:\t0000000000000000\n"), std::string::npos) << r.out;
}

TEST(Sandbox, ResourceLimits) {
  SandboxResult r = RunAllowed({"sh", "-c", "ulimit -n"});
  ASSERT_EQ(r.status, Status::kExited) << Describe(r);
  EXPECT_EQ(r.out, "256\n");
  SandboxOptions o = Allow({"sh"});
  o.max_open_files = 100;
  r = RunSandboxed({"sh", "-c", "ulimit -n; ulimit -v; ulimit -f; ulimit -t; ulimit -c"}, o);
  ASSERT_EQ(r.status, Status::kExited) << Describe(r);
  // -v in KiB, -f in 512-byte blocks, -t in seconds; no core files.
  EXPECT_EQ(r.out, "100\n2097152\n32768\n10\n0\n");
}

TEST(Sandbox, Workdir) {
  EXPECT_EQ(RunAllowed({"pwd"}).out, "/\n");
  SandboxOptions o = Allow({"pwd"});
  o.workdir = "/tmp";
  EXPECT_EQ(RunSandboxed({"pwd"}, o).out, "/tmp\n");
  o.workdir = "/nonexistent-workdir";
  SandboxResult r = RunSandboxed({"pwd"}, o);
  EXPECT_EQ(r.status, Status::kStartFailed) << Describe(r);
  EXPECT_NE(r.reason.find("chdir"), std::string::npos) << r.reason;
  EXPECT_NE(r.reason.find("/nonexistent-workdir"), std::string::npos) << r.reason;
}

// --- How it ends

TEST(Sandbox, ExitStatusWithStderrLine) {
  SandboxResult r = RunAllowed({"sh", "-c", "echo; echo '  oops: it broke  ' >&2; echo more >&2; exit 3"});
  ASSERT_EQ(r.status, Status::kExited) << Describe(r);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.reason, "exit status 3: oops: it broke");
  EXPECT_EQ(r.err, "  oops: it broke  \nmore\n");
  r = RunAllowed({"sh", "-c", "exit 1"});
  EXPECT_EQ(r.reason, "exit status 1");
  r = RunAllowed({"sh", "-c", "printf '%0300d\\n' 0 >&2; exit 2"});
  EXPECT_EQ(r.reason, "exit status 2: " + std::string(200, '0') + "...");
}

TEST(Sandbox, KilledBySignal) {
  SandboxResult r = RunAllowed({"sh", "-c", "kill -9 $$"});
  ASSERT_EQ(r.status, Status::kSignaled) << Describe(r);
  EXPECT_EQ(r.signal, 9);
  EXPECT_EQ(r.reason, "killed by signal 9 (SIGKILL)");
}

TEST(Sandbox, Timeout) {
  SandboxOptions o = Allow({"sleep"});
  o.timeout_ms = 500;
  SandboxResult r = RunSandboxed({"sleep", "30"}, o);
  ASSERT_EQ(r.status, Status::kTimeout) << Describe(r);
  EXPECT_EQ(r.reason.rfind("timeout after 500ms", 0), 0u) << r.reason;
  EXPECT_EQ(r.signal, SIGTERM);
  EXPECT_GE(r.elapsed_ms, 450);
  EXPECT_LT(r.elapsed_ms, 10000);

  o.timeout_ms = 1500;
  r = RunSandboxed({"sleep", "30"}, o);
  EXPECT_EQ(r.reason.rfind("timeout after 1.5s: killed the process group (TERM)", 0), 0u) << r.reason;

  o.timeout_ms = -5;  // killed at once, never waited on forever
  r = RunSandboxed({"sleep", "30"}, o);
  EXPECT_EQ(r.status, Status::kTimeout) << Describe(r);
  EXPECT_LT(r.elapsed_ms, 10000);
}

TEST(Sandbox, GrandchildIgnoringTermIsKilledWithTheGroup) {
  SandboxOptions o = Allow({"sh"});
  o.timeout_ms = 1000;
  o.kill_grace_ms = 300;
  SandboxResult r = RunSandboxed(
      {"sh", "-c", "trap '' TERM; (trap '' TERM; exec sleep 60) & echo $$ $!; wait; echo survived"}, o);
  ASSERT_EQ(r.status, Status::kTimeout) << Describe(r);
  EXPECT_LT(r.elapsed_ms, 10000);
  EXPECT_EQ(r.reason, "timeout after 1s: killed the process group (TERM, then KILL)");
  EXPECT_EQ(r.signal, SIGKILL);
  std::istringstream in(r.out);
  pid_t pgid = 0, grandchild = 0;
  in >> pgid >> grandchild;
  ASSERT_GT(pgid, 1) << r.out;
  ASSERT_GT(grandchild, 1) << r.out;
  EXPECT_TRUE(WaitGroupGone(pgid));
  EXPECT_FALSE(PidAlive(grandchild));
  EXPECT_EQ(r.out.find("survived"), std::string::npos);
}

TEST(Sandbox, GrandchildHoldingThePipeAfterTheChildExits) {
  SandboxOptions o = Allow({"sh"});
  o.timeout_ms = 1000;
  o.kill_grace_ms = 200;
  SandboxResult r = RunSandboxed({"sh", "-c", "(trap '' TERM; exec sleep 60) & echo $$ $!"}, o);
  ASSERT_EQ(r.status, Status::kTimeout) << Describe(r);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_LT(r.elapsed_ms, 10000);
  EXPECT_NE(r.reason.find("kept its output open"), std::string::npos) << r.reason;
  std::istringstream in(r.out);
  pid_t pgid = 0, grandchild = 0;
  in >> pgid >> grandchild;
  ASSERT_GT(pgid, 1) << r.out;
  EXPECT_TRUE(WaitGroupGone(pgid));
  EXPECT_FALSE(PidAlive(grandchild));
}

TEST(Sandbox, LeftoverBackgroundProcessIsKilled) {
  SandboxResult r = RunAllowed({"sh", "-c", "sleep 60 >/dev/null 2>&1 & echo $$ $!"});
  ASSERT_EQ(r.status, Status::kExited) << Describe(r);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_LT(r.elapsed_ms, 5000);
  std::istringstream in(r.out);
  pid_t pgid = 0, grandchild = 0;
  in >> pgid >> grandchild;
  ASSERT_GT(grandchild, 1) << r.out;
  EXPECT_TRUE(WaitGroupGone(pgid));
  EXPECT_FALSE(PidAlive(grandchild));
}

// --- Output caps

TEST(Sandbox, HugeOutputIsCappedAndDrained) {
  SandboxResult r = RunAllowed({"head", "-c", "100000000", "/dev/zero"});
  ASSERT_EQ(r.status, Status::kExited) << Describe(r);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.size(), size_t(1) << 20);
  EXPECT_TRUE(r.out_truncated);
  EXPECT_EQ(r.out_bytes, 100000000u);
  EXPECT_FALSE(r.err_truncated);
  EXPECT_EQ(r.reason, "stdout truncated at 1 MiB (100000000 bytes written)");
  EXPECT_LT(r.elapsed_ms, 30000);
}

TEST(Sandbox, StderrCapAndTruncationAfterAFailure) {
  SandboxOptions o = Allow({"sh"});
  o.max_stderr = 10;
  o.max_stdout = 0;
  SandboxResult r = RunSandboxed({"sh", "-c", "echo hello; echo 0123456789abcdef >&2; exit 4"}, o);
  ASSERT_EQ(r.status, Status::kExited) << Describe(r);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.out_bytes, 6u);
  EXPECT_EQ(r.err, "0123456789");
  EXPECT_EQ(r.err_bytes, 17u);
  EXPECT_TRUE(r.err_truncated);
  EXPECT_EQ(r.reason,
            "exit status 4: 0123456789; stdout truncated at 0 bytes (6 bytes written); "
            "stderr truncated at 10 bytes (17 bytes written)");
}

// --- Nothing leaks

TEST(Sandbox, NoDescriptorLeak) {
  int before = CountOpenFds();
  SandboxOptions quick = Allow({"sleep"});
  quick.timeout_ms = 100;
  quick.kill_grace_ms = 50;
  for (int i = 0; i < 20; ++i) {
    switch (i % 4) {
      case 0: EXPECT_EQ(RunAllowed({"echo", std::to_string(i)}).out, std::to_string(i) + "\n"); break;
      case 1: EXPECT_EQ(RunAllowed({"rb-no-such-program-xyz"}).status, Status::kStartFailed); break;
      case 2: EXPECT_EQ(RunSandboxed({"sleep", "5"}, quick).status, Status::kTimeout); break;
      default: EXPECT_EQ(RunAllowed({"sh", "-c", "exit 7"}).exit_code, 7); break;
    }
  }
  EXPECT_EQ(CountOpenFds(), before);
}

TEST(Sandbox, ConcurrentRuns) {
  constexpr int kThreads = 8;
  std::vector<std::string> outs(kThreads);
  std::vector<Status> statuses(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t, &outs, &statuses] {
      for (int i = 0; i < 5; ++i) {
        SandboxResult r = RunAllowed({"echo", std::to_string(t)});
        if (r.status != Status::kExited || r.out != std::to_string(t) + "\n") {
          outs[t] = r.out;
          statuses[t] = r.status;
          return;
        }
        outs[t] = r.out;
        statuses[t] = r.status;
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(statuses[t], Status::kExited) << t;
    EXPECT_EQ(outs[t], std::to_string(t) + "\n") << t;
  }
}

}  // namespace
}  // namespace rb::test
