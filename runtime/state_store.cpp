#include "runtime/state_store.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "runtime/files.hpp"

namespace rb::rt {

std::optional<int64_t> MemoryStateStore::Get(const std::string& key) {
  auto it = values_.find(key);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}
void MemoryStateStore::Set(const std::string& key, int64_t value) { values_[key] = value; }
void MemoryStateStore::Erase(const std::string& key) { values_.erase(key); }

namespace {
constexpr size_t kMaxStateBytes = 16u << 20;  // one timestamp per open window: far below this
}  // namespace

FileStateStore::FileStateStore(std::string path) : path_(std::move(path)) {}

bool FileStateStore::Load(std::string& error) {
  values_.clear();
  std::error_code ec;
  if (!std::filesystem::exists(std::filesystem::symlink_status(path_, ec))) return true;  // no file yet: no window is open
  std::string text, read_error;
  if (ReadRegularFile(path_, kMaxStateBytes, text, read_error) != FileRead::kOk) {
    error = fmt::format("{}: cannot read the state file: {}", path_, read_error);
    return false;
  }
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("first_seen") || !j["first_seen"].is_object()) {
    error = fmt::format("{}: not a runbook state file (expected {{\"first_seen\": {{...}}}}); move it away to start afresh", path_);
    return false;
  }
  for (const auto& [k, v] : j["first_seen"].items()) {
    if (!v.is_number_integer()) {
      error = fmt::format("{}: first_seen.{} is not an integer time in ms", path_, k);
      return false;
    }
    values_[k] = v.get<int64_t>();
  }
  return true;
}

std::optional<int64_t> FileStateStore::Get(const std::string& key) {
  auto it = values_.find(key);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}
void FileStateStore::Set(const std::string& key, int64_t value) {
  auto it = values_.find(key);
  if (it != values_.end() && it->second == value) return;
  values_[key] = value;
  Save();
}
void FileStateStore::Erase(const std::string& key) {
  if (values_.erase(key)) Save();
}

void FileStateStore::Save() {
  nlohmann::json j;
  j["first_seen"] = nlohmann::json::object();
  for (const auto& [k, v] : values_) j["first_seen"][k] = v;
  std::filesystem::path p(path_);
  std::error_code ec;
  std::filesystem::file_status st = std::filesystem::status(p, ec);
  if (std::filesystem::exists(st) && !std::filesystem::is_regular_file(st)) {
    error_ = fmt::format("cannot keep window state in {}: not a regular file (set state.path to a file)", path_);
    return;
  }
  if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path(), ec);
  std::string tmp = path_ + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << j.dump(1) << "\n";
    if (!out) {
      error_ = fmt::format("cannot write {}: {}", tmp, std::strerror(errno));
      return;
    }
  }
  std::filesystem::rename(tmp, p, ec);
  if (ec) error_ = fmt::format("cannot replace {}: {}", path_, ec.message());
}

}  // namespace rb::rt
