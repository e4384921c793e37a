// Where a run keeps what must outlive one evaluation instant: the first-seen time of each open
// `for > D` window. A rehearsal keeps it in memory; a live run in a file, so the next run sees it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace rb::rt {

class StateStore {
 public:
  virtual ~StateStore() = default;
  virtual std::optional<int64_t> Get(const std::string& key) = 0;
  virtual void Set(const std::string& key, int64_t value) = 0;
  virtual void Erase(const std::string& key) = 0;
  // Why the store cannot be read right now (a Redis store whose server fails); nullopt: it can. A
  // window whose state cannot be read is unknown, never closed or reached.
  virtual std::optional<std::string> Unavailable() const { return std::nullopt; }
};
class MemoryStateStore : public StateStore {
 public:
  std::optional<int64_t> Get(const std::string& key) override;
  void Set(const std::string& key, int64_t value) override;
  void Erase(const std::string& key) override;

 private:
  std::map<std::string, int64_t> values_;
};
// A JSON object in a local file, rewritten atomically on every change (live runs: survives the
// process, so a window opened by one `runbook run` is seen by the next).
class FileStateStore : public StateStore {
 public:
  explicit FileStateStore(std::string path);
  // Reads the file; false (with `error`) if it exists but is not a state file. Missing is empty.
  bool Load(std::string& error);
  std::optional<int64_t> Get(const std::string& key) override;
  void Set(const std::string& key, int64_t value) override;
  void Erase(const std::string& key) override;
  const std::string& last_error() const { return error_; }

 private:
  void Save();
  std::string path_, error_;
  std::map<std::string, int64_t> values_;
};

}  // namespace rb::rt
