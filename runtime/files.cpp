#include "runtime/files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "runtime/fd.hpp"

namespace rb::rt {

std::string NotAFile(unsigned mode) {
  if (S_ISREG(mode)) return {};
  if (S_ISDIR(mode)) return "is a directory";
  if (S_ISFIFO(mode)) return "is a FIFO, not a file";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "is a device, not a file";
  if (S_ISSOCK(mode)) return "is a socket, not a file";
  return "is not a regular file";
}

namespace {

std::string SizeText(size_t limit) {
  if (limit >= (1u << 20) && limit % (1u << 20) == 0) return fmt::format("{} MiB", limit >> 20);
  if (limit >= (1u << 10) && limit % (1u << 10) == 0) return fmt::format("{} KiB", limit >> 10);
  return fmt::format("{} bytes", limit);
}

}  // namespace

FileRead ReadRegularFile(const std::string& path, size_t limit, std::string& text, std::string& error) {
  text.clear();
  error.clear();
  // O_NONBLOCK: opening a FIFO with no writer or a terminal returns at once instead of waiting.
  Fd fd(open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
  if (fd.get() < 0) {
    error = errno == EISDIR ? "is a directory" : errno == ELOOP ? "symlink loop" : std::strerror(errno);
    return FileRead::kFailed;
  }
  struct stat st {};
  if (fstat(fd.get(), &st) != 0) {
    error = std::strerror(errno);
    return FileRead::kFailed;
  }
  if (std::string what = NotAFile(st.st_mode); !what.empty()) {
    error = what;
    return FileRead::kFailed;
  }
  // The size is a hint (the file may change while read); the loop stops one byte past the limit.
  size_t want = static_cast<size_t>(st.st_size > 0 ? st.st_size : 0);
  text.reserve(want < limit ? want + 1 : limit + 1);
  char buf[65536];
  while (text.size() <= limit) {
    ssize_t n = read(fd.get(), buf, std::min(sizeof buf, limit + 1 - text.size()));
    if (n < 0) {
      if (errno == EINTR) continue;
      error = std::strerror(errno);
      text.clear();
      return FileRead::kFailed;
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  if (text.size() > limit) {
    error = fmt::format("is larger than {}", SizeText(limit));
    return FileRead::kTooLarge;
  }
  return FileRead::kOk;
}

}  // namespace rb::rt
