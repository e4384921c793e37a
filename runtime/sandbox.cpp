#include "runtime/sandbox.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>
#include <exception>
#include <string_view>

#include <fmt/format.h>

#include "runtime/fd.hpp"

namespace rb::rt {
namespace {

using Clock = std::chrono::steady_clock;
using Status = SandboxResult::Status;

constexpr int64_t kMaxTimeoutMs = int64_t(1000) * 60 * 60 * 24 * 365;  // keeps the clock arithmetic in range
constexpr size_t kReadChunk = 64 << 10;
constexpr int kReadsPerWakeup = 16;  // then back to poll() and the deadline, however fast the child writes
constexpr size_t kMaxLimits = 8;

// Kills and reaps the child on every path out that did not reap it (an exception, an early return).
class ChildGuard {
 public:
  ~ChildGuard() {
    if (pid_ <= 0 || reaped_) return;
    kill(-pid_, SIGKILL);
    kill(pid_, SIGKILL);
    while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  void set(pid_t pid) { pid_ = pid; }
  void reaped() { reaped_ = true; }

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
};

// GNU strerror_r returns the text; the XSI one fills the buffer. Either way a thread-safe strerror.
[[maybe_unused]] std::string StrerrorText(int rc, const char* buf, int err) {
  return rc == 0 ? std::string(buf) : fmt::format("errno {}", err);
}
[[maybe_unused]] std::string StrerrorText(const char* text, const char*, int err) {
  return text ? std::string(text) : fmt::format("errno {}", err);
}
std::string ErrnoText(int err) {
  char buf[256] = {};
  return StrerrorText(strerror_r(err, buf, sizeof buf), buf, err);
}

// 2000 -> "2s", 1500 -> "1.5s", 300 -> "300ms".
std::string DurationText(int64_t ms) {
  if (ms < 0) ms = 0;
  if (ms < 1000) return fmt::format("{}ms", ms);
  if (ms % 1000 == 0) return fmt::format("{}s", ms / 1000);
  std::string s = fmt::format("{}.{:03d}", ms / 1000, ms % 1000);
  while (s.back() == '0') s.pop_back();
  return s + "s";
}

std::string SizeText(size_t n) {
  if (n >= (size_t(1) << 20) && n % (size_t(1) << 20) == 0) return fmt::format("{} MiB", n >> 20);
  if (n >= (size_t(1) << 10) && n % (size_t(1) << 10) == 0) return fmt::format("{} KiB", n >> 10);
  return fmt::format("{} bytes", n);
}

const char* SignalName(int sig) {
  switch (sig) {
    case SIGHUP: return "SIGHUP";
    case SIGINT: return "SIGINT";
    case SIGQUIT: return "SIGQUIT";
    case SIGILL: return "SIGILL";
    case SIGTRAP: return "SIGTRAP";
    case SIGABRT: return "SIGABRT";
    case SIGBUS: return "SIGBUS";
    case SIGFPE: return "SIGFPE";
    case SIGKILL: return "SIGKILL";
    case SIGUSR1: return "SIGUSR1";
    case SIGSEGV: return "SIGSEGV";
    case SIGUSR2: return "SIGUSR2";
    case SIGPIPE: return "SIGPIPE";
    case SIGALRM: return "SIGALRM";
    case SIGTERM: return "SIGTERM";
    case SIGCHLD: return "SIGCHLD";
    case SIGCONT: return "SIGCONT";
    case SIGSTOP: return "SIGSTOP";
    case SIGTSTP: return "SIGTSTP";
    case SIGTTIN: return "SIGTTIN";
    case SIGTTOU: return "SIGTTOU";
    case SIGURG: return "SIGURG";
    case SIGXCPU: return "SIGXCPU";
    case SIGXFSZ: return "SIGXFSZ";
    case SIGVTALRM: return "SIGVTALRM";
    case SIGPROF: return "SIGPROF";
    case SIGWINCH: return "SIGWINCH";
    case SIGIO: return "SIGIO";
    case SIGPWR: return "SIGPWR";
    case SIGSYS: return "SIGSYS";
    default: return nullptr;
  }
}

// Cuts `s` to at most `max` bytes without splitting a UTF-8 sequence.
std::string CutUtf8(std::string s, size_t max) {
  if (s.size() <= max) return s;
  size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  s.resize(end);
  return s + "...";
}

// Text from the command or the caller made fit for a one-line reason: control characters become spaces.
std::string OneLine(std::string_view text, size_t max) {
  std::string s;
  s.reserve(std::min(text.size(), max + 8));
  for (char c : text) {
    if (s.size() > max + 8) break;
    s += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? ' ' : c;
  }
  return CutUtf8(std::move(s), max);
}

// The first non-blank line of `text`, trimmed, at most `max` bytes.
std::string FirstLine(std::string_view text, size_t max) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    size_t b = line.find_first_not_of(" \t\r\f\v");
    if (b != std::string_view::npos) {
      size_t e = line.find_last_not_of(" \t\r\f\v");
      return OneLine(line.substr(b, e - b + 1), max);
    }
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
  return {};
}

std::string Join(const std::vector<std::string>& items, std::string_view sep) {
  std::string s;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) s += sep;
    s += items[i];
  }
  return s;
}

// Moves a descriptor above 0, 1 and 2 (which the child overwrites), keeping it close-on-exec.
int AboveStdio(int fd) {
  if (fd < 0 || fd > 2) return fd;
  int moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  close(fd);
  return moved;
}

bool SetNonBlocking(int fd) {
  int flags = fcntl(fd, F_GETFL);
  return flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0;
}

// What the child tells the parent, through the close-on-exec pipe, when it could not exec.
enum ChildStage : int32_t { kStageNone = 0, kStageSetsid, kStageStdio, kStageLimit, kStageChdir, kStageExec };
struct ChildError {
  int32_t stage = kStageNone;
  int32_t err = 0;
  int32_t detail = 0;  // kStageLimit: the index into ChildPlan::limits
};

struct Limit {
  int resource = 0;
  rlimit value{};
  const char* name = "";
};

// Everything the child needs, prepared before fork: between fork and exec it may only call
// async-signal-safe functions (no allocation, no locks).
struct ChildPlan {
  const char* path = nullptr;
  char* const* argv = nullptr;
  char* const* envp = nullptr;
  const char* workdir = nullptr;
  int stdin_fd = -1, out_fd = -1, err_fd = -1, report_fd = -1;  // all > 2
  Limit limits[kMaxLimits];
  size_t nlimits = 0;
  int max_fd = 1024;  // the descriptor loop's bound when close_range is not there
  pid_t parent = 0;
};

void CloseRange(unsigned first, unsigned last, int max_fd) {
  if (first > last) return;
#ifdef SYS_close_range
  if (syscall(SYS_close_range, first, last, 0) == 0) return;
#endif
  for (long fd = first; fd <= static_cast<long>(last) && fd < max_fd; ++fd) close(static_cast<int>(fd));
}

[[noreturn]] void RunChild(const ChildPlan& p) {
  auto fail = [&p](int32_t stage, int err, int32_t detail) {
    ChildError e;
    e.stage = stage;
    e.err = err;
    e.detail = detail;
    const char* bytes = reinterpret_cast<const char*>(&e);
    size_t done = 0;
    while (done < sizeof e) {
      ssize_t n = write(p.report_fd, bytes + done, sizeof e - done);
      if (n > 0) {
        done += static_cast<size_t>(n);
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else {
        break;
      }
    }
    _exit(127);
  };
  if (setsid() < 0) fail(kStageSetsid, errno, 0);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != p.parent) _exit(127);  // the parent died before the line above
  // Default dispositions for every signal (an ignored one would survive exec); the mask is still full.
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = SIG_DFL;
  sigemptyset(&sa.sa_mask);
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) sigaction(sig, &sa, nullptr);
  }
  if (dup2(p.stdin_fd, 0) < 0 || dup2(p.out_fd, 1) < 0 || dup2(p.err_fd, 2) < 0) fail(kStageStdio, errno, 0);
  // Every other descriptor goes, but the report pipe (close-on-exec, so exec closes it).
  CloseRange(3, static_cast<unsigned>(p.report_fd) - 1, p.max_fd);
  CloseRange(static_cast<unsigned>(p.report_fd) + 1, ~0U, p.max_fd);
  for (size_t i = 0; i < p.nlimits; ++i) {
    if (setrlimit(p.limits[i].resource, &p.limits[i].value) != 0) fail(kStageLimit, errno, static_cast<int32_t>(i));
  }
  if (chdir(p.workdir) != 0) fail(kStageChdir, errno, 0);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  execve(p.path, p.argv, p.envp);
  fail(kStageExec, errno, 0);
  _exit(127);  // not reached
}

// Reads what the pipe has now (at most kReadsPerWakeup chunks), keeping up to `cap` bytes in `keep`.
// False at end of file or on an error: the caller closes it.
bool Drain(int fd, std::string& keep, size_t cap, size_t& total, char* buf) {
  for (int i = 0; i < kReadsPerWakeup; ++i) {
    ssize_t n = read(fd, buf, kReadChunk);
    if (n > 0) {
      size_t got = static_cast<size_t>(n);
      total += got;
      if (keep.size() < cap) keep.append(buf, std::min(got, cap - keep.size()));
      continue;
    }
    if (n == 0) return false;
    if (errno == EINTR) continue;
    return errno == EAGAIN || errno == EWOULDBLOCK;
  }
  return true;
}

void AddLimit(ChildPlan& plan, int resource, const char* name, int64_t value, rlim_t hard_extra) {
  if (value <= 0 || plan.nlimits >= kMaxLimits) return;
  rlimit now{};
  if (getrlimit(resource, &now) != 0) now.rlim_max = RLIM_INFINITY;
  rlim_t soft = static_cast<rlim_t>(value), hard = static_cast<rlim_t>(value) + hard_extra;
  if (now.rlim_max != RLIM_INFINITY) {  // never ask for more than we may have: that fails unprivileged
    soft = std::min(soft, now.rlim_max);
    hard = std::min(hard, now.rlim_max);
  }
  plan.limits[plan.nlimits++] = Limit{resource, rlimit{soft, hard}, name};
}

std::string Truncations(const SandboxResult& r, const SandboxOptions& opt) {
  std::string s;
  if (r.out_truncated) {
    s = fmt::format("stdout truncated at {} ({} bytes written)", SizeText(opt.max_stdout), r.out_bytes);
  }
  if (r.err_truncated) {
    if (!s.empty()) s += "; ";
    s += fmt::format("stderr truncated at {} ({} bytes written)", SizeText(opt.max_stderr), r.err_bytes);
  }
  return s;
}

std::string SignalText(int sig) {
  const char* name = SignalName(sig);
  return name ? fmt::format("signal {} ({})", sig, name) : fmt::format("signal {}", sig);
}

std::string WaitText(int status) {
  if (WIFEXITED(status)) return fmt::format("exit status {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by " + SignalText(WTERMSIG(status));
  return "ended";
}

void Run(const std::vector<std::string>& argv, const SandboxOptions& opt, SandboxResult& r, Clock::time_point start) {
  // --- Policy: what may run, and where it is.
  r.status = Status::kRefused;
  if (argv.empty()) {
    r.reason = "empty command: nothing to run";
    return;
  }
  const std::string& name = argv[0];
  std::string shown = OneLine(name, 100);
  if (name.empty()) {
    r.reason = "empty program name";
    return;
  }
  if (name.find('/') != std::string::npos) {
    r.reason = fmt::format("`{}` is a path: exec runs a bare program name, looked up in exec.path", shown);
    return;
  }
  for (size_t i = 0; i < argv.size(); ++i) {
    if (argv[i].find('\0') != std::string::npos) {
      r.reason = fmt::format("argument {} of `{}` contains a NUL byte", i, shown);
      return;
    }
  }
  if (std::find(opt.allow.begin(), opt.allow.end(), name) == opt.allow.end()) {
    std::string allowed = opt.allow.empty() ? "none" : OneLine(Join(opt.allow, ", "), 300);
    r.reason = fmt::format("`{}` is not in the environment's exec.allow (allowed: {})", shown, allowed);
    return;
  }
  r.status = Status::kStartFailed;
  std::string search = Join(opt.path, ":");
  for (const std::string& dir : opt.path) {
    if (dir.empty() || dir[0] != '/' || dir.find('\0') != std::string::npos) continue;
    std::string candidate = dir.back() == '/' ? dir + name : dir + "/" + name;
    struct stat st {};
    if (stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(candidate.c_str(), X_OK) == 0) {
      r.resolved = std::move(candidate);
      break;
    }
  }
  if (r.resolved.empty()) {
    r.reason = opt.path.empty() ? fmt::format("`{}` not found: exec.path is empty", shown)
                                : fmt::format("`{}` not found in exec.path ({})", shown, OneLine(search, 300));
    return;
  }

  // --- Everything the child needs, built before fork.
  std::vector<char*> child_argv;
  child_argv.reserve(argv.size() + 1);
  for (const std::string& a : argv) child_argv.push_back(const_cast<char*>(a.c_str()));
  child_argv.push_back(nullptr);
  std::vector<std::string> env_strings;
  env_strings.reserve(opt.env.size() + 1);
  bool has_path = false;
  for (const auto& [key, value] : opt.env) {
    if (key.empty() || key.find('=') != std::string::npos || key.find('\0') != std::string::npos ||
        value.find('\0') != std::string::npos) {
      r.reason = fmt::format("environment variable `{}` cannot be passed: a bad name or a NUL byte", OneLine(key, 100));
      return;
    }
    if (key == "PATH") has_path = true;
    env_strings.push_back(key + "=" + value);
  }
  if (!has_path) env_strings.push_back("PATH=" + search);
  std::vector<char*> child_env;
  child_env.reserve(env_strings.size() + 1);
  for (const std::string& e : env_strings) child_env.push_back(const_cast<char*>(e.c_str()));
  child_env.push_back(nullptr);
  if (opt.workdir.find('\0') != std::string::npos) {
    r.reason = "the workdir contains a NUL byte";
    return;
  }
  std::string workdir = opt.workdir.empty() ? "/" : opt.workdir;

  ChildPlan plan;
  plan.path = r.resolved.c_str();
  plan.argv = child_argv.data();
  plan.envp = child_env.data();
  plan.workdir = workdir.c_str();
  plan.parent = getpid();
  AddLimit(plan, RLIMIT_CPU, "RLIMIT_CPU", opt.cpu_seconds, 1);  // SIGXCPU at the soft limit, SIGKILL at the hard
  AddLimit(plan, RLIMIT_AS, "RLIMIT_AS", opt.max_memory, 0);
  AddLimit(plan, RLIMIT_FSIZE, "RLIMIT_FSIZE", opt.max_file_size, 0);
  AddLimit(plan, RLIMIT_NOFILE, "RLIMIT_NOFILE", opt.max_open_files, 0);
  AddLimit(plan, RLIMIT_NPROC, "RLIMIT_NPROC", opt.max_processes, 0);
  plan.limits[plan.nlimits++] = Limit{RLIMIT_CORE, rlimit{0, 0}, "RLIMIT_CORE"};  // a probe leaves no core files
  rlimit nofile{};
  if (getrlimit(RLIMIT_NOFILE, &nofile) == 0) {
    rlim_t bound = std::max(nofile.rlim_cur, nofile.rlim_max == RLIM_INFINITY ? nofile.rlim_cur : nofile.rlim_max);
    plan.max_fd = static_cast<int>(std::min<rlim_t>(bound, rlim_t(1) << 20));
  }

  // --- Descriptors: all close-on-exec (a concurrent fork elsewhere must not keep them), none of 0, 1, 2.
  auto start_failed = [&](const char* what, int err) {
    r.reason = fmt::format("could not start `{}`: {} failed: {}", shown, what, ErrnoText(err));
  };
  Fd out_r, out_w, err_r, err_w, rep_r, rep_w, devnull;
  for (auto [rd, wr] : {std::pair{&out_r, &out_w}, std::pair{&err_r, &err_w}, std::pair{&rep_r, &rep_w}}) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return start_failed("pipe", errno);
    rd->reset(AboveStdio(fds[0]));
    wr->reset(AboveStdio(fds[1]));
    if (!rd->valid() || !wr->valid()) return start_failed("pipe", errno);
    if (!SetNonBlocking(rd->get())) return start_failed("fcntl", errno);
  }
  devnull.reset(AboveStdio(open("/dev/null", O_RDONLY | O_CLOEXEC | O_NOCTTY)));
  if (!devnull.valid()) return start_failed("open /dev/null", errno);
  struct stat null_st{};
  if (fstat(devnull.get(), &null_st) != 0 || !S_ISCHR(null_st.st_mode)) {
    // Some containers have a regular file at /dev/null (whatever was written to it, a command would
    // read): an empty pipe, its write end closed, reads as end of input just the same.
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return start_failed("pipe", errno);
    close(fds[1]);
    devnull.reset(AboveStdio(fds[0]));
    if (!devnull.valid()) return start_failed("pipe", errno);
  }
  plan.stdin_fd = devnull.get();
  plan.out_fd = out_w.get();
  plan.err_fd = err_w.get();
  plan.report_fd = rep_w.get();
  std::vector<char> buffer(kReadChunk);

  // --- Fork with every signal blocked, so no handler of ours runs in the child before it resets them.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pid_t pid = fork();
  if (pid == 0) RunChild(plan);
  int fork_err = errno;
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (pid < 0) return start_failed("fork", fork_err);
  ChildGuard guard;
  guard.set(pid);
  out_w.reset();
  err_w.reset();
  rep_w.reset();
  devnull.reset();
  Fd pidfd;
#ifdef SYS_pidfd_open
  pidfd.reset(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));  // readable when the child exits
#endif

  // --- Read both pipes until both are closed and the child has exited, or the deadline. The child is not
  // reaped until the end: as a zombie it keeps its pid, so kill(-pid) cannot reach an unrelated group.
  int64_t timeout_ms = std::clamp<int64_t>(opt.timeout_ms, 0, kMaxTimeoutMs);
  int64_t grace_ms = std::clamp<int64_t>(opt.kill_grace_ms, 0, kMaxTimeoutMs);
  Clock::time_point deadline = start + std::chrono::milliseconds(timeout_ms), grace_deadline{};
  bool exited = false, lost = false, timed_out = false, exited_before_deadline = false, killed = false;
  ChildError report;
  size_t report_got = 0;
  auto check_exit = [&] {
    if (exited) return;
    siginfo_t si;
    std::memset(&si, 0, sizeof si);
    int rc;
    do {
      rc = waitid(P_PID, static_cast<id_t>(pid), &si, WEXITED | WNOHANG | WNOWAIT);
    } while (rc < 0 && errno == EINTR);
    if (rc == 0 && si.si_pid == pid) {
      exited = true;
    } else if (rc < 0) {
      exited = lost = true;  // ECHILD: reaped elsewhere (SIGCHLD ignored by the process)
    }
  };
  auto read_report = [&] {
    while (rep_r.valid() && report_got < sizeof report) {
      ssize_t n = read(rep_r.get(), reinterpret_cast<char*>(&report) + report_got, sizeof report - report_got);
      if (n > 0) {
        report_got += static_cast<size_t>(n);
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else {
        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) rep_r.reset();
        break;
      }
    }
    if (report_got >= sizeof report) rep_r.reset();
  };
  auto signal_group = [&](int sig) {
    kill(-pid, sig);
    if (!exited) kill(pid, sig);  // not yet in its own group if it has not reached setsid()
  };
  for (;;) {
    check_exit();
    if (exited && !out_r.valid() && !err_r.valid()) break;
    Clock::time_point now = Clock::now();
    if (!timed_out && now >= deadline) {
      timed_out = true;
      exited_before_deadline = exited;
      signal_group(SIGTERM);
      signal_group(SIGCONT);  // a stopped process acts on the TERM
      grace_deadline = now + std::chrono::milliseconds(grace_ms);
    }
    if (timed_out && now >= grace_deadline) {
      killed = true;
      break;
    }
    Clock::time_point until = timed_out ? grace_deadline : deadline;
    int64_t wait_ms = std::chrono::ceil<std::chrono::milliseconds>(until - now).count();
    if (!exited && !pidfd.valid()) wait_ms = std::min<int64_t>(wait_ms, 10);
    pollfd fds[4];
    int nfds = 0;
    auto watch = [&](const Fd& fd) {
      if (fd.valid()) fds[nfds++] = pollfd{fd.get(), POLLIN, 0};
    };
    watch(out_r);
    watch(err_r);
    watch(rep_r);
    if (!exited) watch(pidfd);
    int rc = poll(fds, static_cast<nfds_t>(nfds), static_cast<int>(std::clamp<int64_t>(wait_ms, 0, INT_MAX)));
    if (rc < 0 && errno != EINTR) {  // should not happen; do not spin
      usleep(10000);
      continue;
    }
    if (rc <= 0) continue;
    for (int i = 0; i < nfds; ++i) {
      if (fds[i].revents == 0) continue;
      if (fds[i].fd == out_r.get()) {
        if (!Drain(out_r.get(), r.out, opt.max_stdout, r.out_bytes, buffer.data())) out_r.reset();
      } else if (fds[i].fd == err_r.get()) {
        if (!Drain(err_r.get(), r.err, opt.max_stderr, r.err_bytes, buffer.data())) err_r.reset();
      } else if (fds[i].fd == rep_r.get()) {
        read_report();
      } else if (fds[i].revents & (POLLERR | POLLNVAL)) {
        pidfd.reset();  // fall back to checking every 10ms
      }
    }
  }

  // --- Whatever is left of the group goes (a background process the command started), then the reap.
  signal_group(SIGKILL);
  if (out_r.valid()) Drain(out_r.get(), r.out, opt.max_stdout, r.out_bytes, buffer.data());
  if (err_r.valid()) Drain(err_r.get(), r.err, opt.max_stderr, r.err_bytes, buffer.data());
  out_r.reset();
  err_r.reset();
  read_report();
  rep_r.reset();
  int status = 0;
  if (!lost) {
    pid_t w;
    do {
      w = waitpid(pid, &status, 0);
    } while (w < 0 && errno == EINTR);
    if (w < 0) lost = true;
  }
  guard.reaped();
  r.out_truncated = r.out_bytes > r.out.size();
  r.err_truncated = r.err_bytes > r.err.size();

  // --- What happened, in one line.
  if (report_got >= sizeof report && report.stage != kStageNone) {
    r.status = Status::kStartFailed;
    std::string err = ErrnoText(report.err);
    switch (report.stage) {
      case kStageExec: r.reason = fmt::format("exec failed: {} ({})", err, OneLine(r.resolved, 300)); break;
      case kStageChdir:
        r.reason = fmt::format("could not chdir to workdir `{}`: {}", OneLine(workdir, 300), err);
        break;
      case kStageLimit: {
        size_t i = static_cast<size_t>(report.detail) < plan.nlimits ? static_cast<size_t>(report.detail) : 0;
        r.reason = fmt::format("could not start `{}`: setting {} to {} failed: {}", shown, plan.limits[i].name,
                               static_cast<uint64_t>(plan.limits[i].value.rlim_cur), err);
        break;
      }
      case kStageSetsid: r.reason = fmt::format("could not start `{}`: setsid failed: {}", shown, err); break;
      default: r.reason = fmt::format("could not start `{}`: redirecting stdio failed: {}", shown, err); break;
    }
    return;
  }
  if (!lost && WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (!lost && WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  std::string truncations = Truncations(r, opt);
  if (timed_out) {
    r.status = Status::kTimeout;
    std::string how = killed ? "TERM, then KILL" : "TERM";
    if (exited_before_deadline) {
      r.reason = fmt::format("timeout after {}: `{}` ended ({}) but a process it started kept its output open; "
                             "killed the process group ({})",
                             DurationText(timeout_ms), shown, lost ? "status unknown" : WaitText(status), how);
    } else {
      r.reason = fmt::format("timeout after {}: killed the process group ({})", DurationText(timeout_ms), how);
    }
  } else if (lost) {
    r.status = Status::kExited;
    r.reason = "exit status unknown: the process was reaped elsewhere (is SIGCHLD ignored?)";
  } else if (WIFSIGNALED(status)) {
    r.status = Status::kSignaled;
    r.reason = "killed by " + SignalText(r.signal);
    if (r.signal == SIGXCPU) r.reason += fmt::format(": the cpu limit ({}s) was reached", opt.cpu_seconds);
    if (r.signal == SIGXFSZ) {
      r.reason += fmt::format(": the file size limit ({}) was reached", SizeText(opt.max_file_size));
    }
    if (WCOREDUMP(status)) r.reason += " (core dumped)";
  } else {
    r.status = Status::kExited;
    if (r.exit_code != 0) {
      r.reason = fmt::format("exit status {}", r.exit_code);
      std::string line = FirstLine(r.err, 200);
      if (!line.empty()) r.reason += ": " + line;
    }
  }
  if (!truncations.empty()) r.reason = r.reason.empty() ? truncations : r.reason + "; " + truncations;
}

}  // namespace

SandboxResult RunSandboxed(const std::vector<std::string>& argv, const SandboxOptions& opt) {
  Clock::time_point start = Clock::now();
  SandboxResult r;
  try {
    Run(argv, opt, r, start);
  } catch (const std::exception& e) {
    r.status = SandboxResult::Status::kStartFailed;
    r.reason = std::string("internal error in the sandbox: ") + e.what();
  } catch (...) {
    r.status = SandboxResult::Status::kStartFailed;
    r.reason = "internal error in the sandbox";
  }
  r.elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
  return r;
}

}  // namespace rb::rt
