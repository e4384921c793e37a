// What a live run holds while it may change things (docs/live.md, "Locks"): by default the runbook
// itself and every target it declares, so two people never walk the same remediation at once.
// Locally each lock is an flock()ed file under the environment's `locks.path`; the kernel releases
// it when its holder dies, however it dies. The file says who holds it, for the one refused.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace rb::rt {

struct LockHolder {
  std::string who;    // alice@host
  std::string run;    // the run id
  int64_t pid = 0;
  std::string since;  // UTC, as the audit writes it
};

class LocalLock {
 public:
  ~LocalLock();  // releases it
  LocalLock(const LocalLock&) = delete;
  LocalLock& operator=(const LocalLock&) = delete;
  const std::string& name() const { return name_; }
  const std::string& path() const { return path_; }

  enum class Result : uint8_t { kHeld, kBusy, kError };
  // Takes lock `name` under `dir`, waiting up to `wait_ms` (0: not at all) for its holder to let go.
  // kBusy: `holder` says who holds it; kError: `error` says why it could not be taken.
  static Result Acquire(const std::string& dir, const std::string& name, const LockHolder& me, int64_t wait_ms,
                        std::unique_ptr<LocalLock>& out, LockHolder& holder, std::string& error);

 private:
  LocalLock(std::string name, std::string path, int fd) : name_(std::move(name)), path_(std::move(path)), fd_(fd) {}
  std::string name_, path_;
  int fd_;
};

// The file a lock named `name` is kept in, under `dir`: its name made safe, with a short hash so
// that names differing only in unsafe characters do not share one.
std::string LockFileName(const std::string& name);

}  // namespace rb::rt
