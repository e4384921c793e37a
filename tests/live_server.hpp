// Real servers for the live tests: a `redis-server` on a free loopback port, started by the test and
// stopped when it ends. The server dies with the test process (PR_SET_PDEATHSIG), so a crashed or
// killed test leaves nothing running.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace rb::test {

// A loopback port nobody listens on now (the kernel picks it).
inline int FreeLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  int port = -1;
  if (fd >= 0 && bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  if (fd >= 0) close(fd);
  return port;
}

inline bool CanConnect(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = fd >= 0 && connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  if (fd >= 0) close(fd);
  return ok;
}

// How a server process is started beyond its argv: its whole environment (empty: ours), its working
// folder, and whether it leads a process group of its own (so all it starts can be killed at once).
struct ServerOptions {
  std::vector<std::string> env;  // "NAME=value"
  std::string dir;
  bool own_group = false;
};

// Starts a server program (argv[0] an absolute path) that dies with the test process; its output
// goes to /dev/null (start-up warnings are not the test's output).
inline pid_t StartServerProcess(std::vector<std::string> argv, ServerOptions o = {}) {
  std::vector<char*> cargv, cenv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  for (auto& e : o.env) cenv.push_back(e.data());
  cenv.push_back(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    if (o.own_group) setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int devnull = open("/dev/null", O_RDWR);
    if (devnull >= 0) {
      dup2(devnull, 0);
      dup2(devnull, 1);
      dup2(devnull, 2);
    }
    if (!o.dir.empty() && chdir(o.dir.c_str()) != 0) _exit(126);
    if (o.env.empty()) {
      execv(cargv[0], cargv.data());
    } else {
      execve(cargv[0], cargv.data(), cenv.data());
    }
    _exit(127);
  }
  if (pid > 0 && o.own_group) setpgid(pid, pid);  // either side may win the race; both ask the same
  return pid;
}
inline void StopServerProcess(pid_t& pid) {
  if (pid <= 0) return;
  kill(pid, SIGCONT);
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  pid = -1;
}

class RedisServer {
 public:
  // `extra`: more redis-server arguments, e.g. {"--requirepass", "x"}.
  explicit RedisServer(std::vector<std::string> extra = {}) {
    port_ = FreeLoopbackPort();
    std::vector<std::string> argv{"/usr/bin/redis-server", "--port", std::to_string(port_), "--bind", "127.0.0.1",
                                  "--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    pid_ = StartServerProcess(argv);
    for (int i = 0; i < 200 && !CanConnect(port_); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ~RedisServer() { Stop(); }
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  int port() const { return port_; }
  bool up() const { return pid_ > 0 && CanConnect(port_); }
  void Pause() { kill(pid_, SIGSTOP); }   // accepts connections (the kernel does), answers nothing
  void Resume() { kill(pid_, SIGCONT); }
  void Stop() { StopServerProcess(pid_); }

 private:
  int port_ = -1;
  pid_t pid_ = -1;
};

}  // namespace rb::test
