#include "runtime/locks.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "runtime/rbc.hpp"  // Fnv1a32

namespace rb::rt {

std::string LockFileName(const std::string& name) {
  std::string safe;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    safe += ok ? c : '_';
    if (safe.size() >= 96) break;
  }
  return fmt::format("{}-{:08x}.lock", safe, Fnv1a32(name.data(), name.size()));
}

LocalLock::~LocalLock() {
  if (fd_ >= 0) {
    if (ftruncate(fd_, 0) != 0) {
      // Nothing to do: the lock is released by close() all the same.
    }
    close(fd_);  // releases the flock
  }
}

namespace {
LockHolder ReadHolder(int fd) {
  LockHolder h;
  std::string text;
  char buf[4096];
  ssize_t n = pread(fd, buf, sizeof buf, 0);
  if (n > 0) text.assign(buf, static_cast<size_t>(n));
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  auto str = [&](const char* k) {
    auto it = j.find(k);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  if (j.is_object()) {
    h.who = str("who");
    h.run = str("run");
    auto pid = j.find("pid");
    h.pid = pid != j.end() && pid->is_number_integer() ? pid->get<int64_t>() : 0;
    h.since = str("since");
  }
  if (h.who.empty()) h.who = "another process (it has not said who yet)";
  return h;
}
}  // namespace

LocalLock::Result LocalLock::Acquire(const std::string& dir, const std::string& name, const LockHolder& me, int64_t wait_ms,
                                     std::unique_ptr<LocalLock>& out, LockHolder& holder, std::string& error) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    error = fmt::format("cannot create the lock folder {}: {} (set locks.path in the environment)", dir, ec.message());
    return Result::kError;
  }
  std::string path = (std::filesystem::path(dir) / LockFileName(name)).string();
  // Readable and writable by the group: the engineers of one bastion share the folder.
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0664);
  if (fd < 0) {
    error = fmt::format("cannot open the lock file {}: {}", path, std::strerror(errno));
    return Result::kError;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(std::max<int64_t>(wait_ms, 0));
  for (;;) {
    if (flock(fd, LOCK_EX | LOCK_NB) == 0) break;
    if (errno != EWOULDBLOCK && errno != EINTR) {
      error = fmt::format("cannot lock {}: {}", path, std::strerror(errno));
      close(fd);
      return Result::kError;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      holder = ReadHolder(fd);
      close(fd);
      return Result::kBusy;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  nlohmann::json j{{"lock", name}, {"who", me.who}, {"run", me.run}, {"pid", me.pid}, {"since", me.since}};
  std::string text = j.dump() + "\n";
  if (ftruncate(fd, 0) != 0 || pwrite(fd, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
    error = fmt::format("cannot write the lock file {}: {}", path, std::strerror(errno));
    close(fd);
    return Result::kError;
  }
  out.reset(new LocalLock(name, path, fd));
  return Result::kHeld;
}

}  // namespace rb::rt
