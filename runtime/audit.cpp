#include "runtime/audit.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <optional>
#include <random>
#include <set>
#include <string_view>

#include <fmt/format.h>

#include "runtime/fd.hpp"
#include "runtime/sha256.hpp"

namespace rb::rt {

namespace {

using nlohmann::json;

constexpr size_t kMaxLogBytes = size_t{1} << 30;      // VerifyAudit / ReadAudit read the whole file
constexpr size_t kMaxRecordBytes = size_t{64} << 20;  // the last line, read back on each append
constexpr size_t kMaxHeadBytes = 4096;                // {"hash": 64 hex, "seq": N}
constexpr size_t kHeadBytes = 128;                    // the head as written: padded to 127 bytes and '\n'
constexpr size_t kTailChunk = 64 * 1024;
const std::string kZeroHash(64, '0');

std::string Errno(int err) { return std::strerror(err); }

// flock(LOCK_EX) for a scope. Locks belong to the open file description: other processes, and
// other AuditLog objects (each opens its own), wait; threads sharing one fd do not (AuditLog::mutex_).
class FileLock {
 public:
  explicit FileLock(int fd, int how = LOCK_EX) : fd_(fd) {
    int rc;
    do rc = flock(fd_, how);
    while (rc != 0 && errno == EINTR);
    if (rc != 0) {
      error_ = errno;
      fd_ = -1;
    }
  }
  ~FileLock() {
    if (fd_ >= 0) flock(fd_, LOCK_UN);
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  bool locked() const { return fd_ >= 0; }
  int error() const { return error_; }

 private:
  int fd_;
  int error_ = 0;
};

std::string NotAFileText(mode_t mode) {
  if (S_ISDIR(mode)) return "is a directory";
  if (S_ISFIFO(mode)) return "is a FIFO, not a file";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "is a device, not a file";
  if (S_ISSOCK(mode)) return "is a socket, not a file";
  return "is not a regular file";
}

bool WriteAll(int fd, std::string_view data, int& err) {
  while (!data.empty()) {
    ssize_t n = write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      err = errno;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool PwriteAll(int fd, std::string_view data, off_t at, int& err) {
  while (!data.empty()) {
    ssize_t n = pwrite(fd, data.data(), data.size(), at);
    if (n < 0) {
      if (errno == EINTR) continue;
      err = errno;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
    at += n;
  }
  return true;
}

bool PreadAll(int fd, char* buf, size_t len, off_t at, int& err) {
  while (len > 0) {
    ssize_t n = pread(fd, buf, len, at);
    if (n < 0) {
      if (errno == EINTR) continue;
      err = errno;
      return false;
    }
    if (n == 0) {
      err = EIO;  // the file shrank under us
      return false;
    }
    buf += n;
    len -= static_cast<size_t>(n);
    at += n;
  }
  return true;
}

enum class Read { kOk, kMissing, kTooLarge, kFailed };

// The whole regular file at `path`, at most `limit` bytes. Opened without blocking (a FIFO with no
// writer) and checked with fstat before any byte is read. `size` is the file's size on kTooLarge.
Read ReadWholeFile(const std::string& path, size_t limit, std::string& text, std::string& error, uint64_t& size) {
  text.clear();
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    if (errno == ENOENT) return Read::kMissing;
    error = Errno(errno);
    return Read::kFailed;
  }
  Fd guard(fd);
  struct stat st;
  if (fstat(fd, &st) != 0) {
    error = Errno(errno);
    return Read::kFailed;
  }
  if (!S_ISREG(st.st_mode)) {
    error = NotAFileText(st.st_mode);
    return Read::kFailed;
  }
  size = static_cast<uint64_t>(st.st_size);
  if (size > limit) return Read::kTooLarge;
  text.resize(static_cast<size_t>(size));
  size_t got = 0;
  while (true) {
    if (got == text.size()) {
      if (text.size() > limit) break;
      text.resize(std::min(limit + 1, text.size() + 65536));  // the file grew since fstat
    }
    ssize_t n = read(fd, &text[got], text.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      error = Errno(errno);
      text.clear();
      return Read::kFailed;
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  text.resize(got);
  if (got > limit) {
    size = got;
    text.clear();
    return Read::kTooLarge;
  }
  return Read::kOk;
}

bool FsyncDir(const std::string& dir, std::string& error) {
  int fd = open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    error = fmt::format("cannot open the directory {}: {}", dir.empty() ? "." : dir, Errno(errno));
    return false;
  }
  Fd guard(fd);
  if (fsync(fd) != 0 && errno != EINVAL) {  // EINVAL: a filesystem that cannot sync directories
    error = fmt::format("cannot sync the directory {}: {}", dir.empty() ? "." : dir, Errno(errno));
    return false;
  }
  return true;
}

std::string DirOf(const std::string& path) { return std::filesystem::path(path).parent_path().string(); }

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// The hash a record should carry: of its canonical text without "hash".
std::string RecordHash(json record) {
  if (record.is_object()) record.erase("hash");
  return Sha256Hex(Dump(record));
}

bool IsHash(const json& j) {
  if (!j.is_string()) return false;
  const std::string& s = j.get_ref<const std::string&>();
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// The chain fields of one record.
struct Link {
  uint64_t seq = 0;
  std::string prev, hash;
  bool deferred = false;    // a kDeferred record: "synced" is a whole number below "seq"
  uint64_t synced = 0;      // its "synced" then
  bool bad_synced = false;  // it has a "synced" that names no earlier record (not deferred then)
};

// False with `why` ("it has no \"seq\"") when `j` lacks the fields of an audit record.
bool ParseLink(const json& j, Link& link, std::string& why) {
  if (!j.is_object()) {
    why = "not a JSON object";
    return false;
  }
  auto seq = j.find("seq");
  if (seq == j.end()) {
    why = "it has no \"seq\"";
    return false;
  }
  if (!seq->is_number_integer() || (seq->is_number_unsigned() ? seq->get<uint64_t>() == 0 : seq->get<int64_t>() < 1)) {
    why = "its \"seq\" is not a whole number from 1";
    return false;
  }
  for (const char* key : {"prev", "hash"}) {
    auto it = j.find(key);
    if (it == j.end()) {
      why = fmt::format("it has no \"{}\"", key);
      return false;
    }
    if (!IsHash(*it)) {
      why = fmt::format("its \"{}\" is not 64 lowercase hex digits", key);
      return false;
    }
  }
  link.seq = seq->get<uint64_t>();
  link.prev = j["prev"].get<std::string>();
  link.hash = j["hash"].get<std::string>();
  link.deferred = link.bad_synced = false;
  link.synced = 0;
  if (auto synced = j.find("synced"); synced != j.end()) {
    if (synced->is_number_unsigned() && synced->get<uint64_t>() < link.seq) {
      link.deferred = true;
      link.synced = synced->get<uint64_t>();
    } else {
      link.bad_synced = true;
    }
  }
  return true;
}

struct Head {
  bool present = false;
  bool empty = false;  // present with no bytes: created and cut off before its first write (a new log)
  bool valid = false;
  uint64_t seq = 0;
  std::string hash;
};

std::string HeadPath(const std::string& path) { return path + ".head"; }

// False with `error` only when the head exists but cannot be read; a head that is not
// {"hash", "seq"} comes back present and not valid. Whitespace around the object (the padding of
// the head as written) is accepted.
bool ReadHead(const std::string& path, Head& head, std::string& error) {
  head = Head{};
  std::string text, why;
  uint64_t size = 0;
  switch (ReadWholeFile(HeadPath(path), kMaxHeadBytes, text, why, size)) {
    case Read::kMissing:
      return true;
    case Read::kTooLarge:
      head.present = true;
      return true;
    case Read::kFailed:
      error = fmt::format("{}: cannot read: {}", HeadPath(path), why);
      return false;
    case Read::kOk:
      break;
  }
  head.present = true;
  head.empty = text.empty();
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return true;
  auto seq = j.find("seq");
  auto hash = j.find("hash");
  if (seq == j.end() || hash == j.end() || !seq->is_number_unsigned() || !IsHash(*hash)) return true;
  head.valid = true;
  head.seq = seq->get<uint64_t>();
  head.hash = hash->get<std::string>();
  return true;
}

std::string RecordRange(uint64_t first, uint64_t last) {
  return first == last ? fmt::format("record {}", first) : fmt::format("records {}..{}", first, last);
}

// Whether `link`, a record after the head's, is a deferred one written while the head named its
// record (or the one before: a synced record whose head write was cut off).
bool DeferredAfterHead(const Link& link, const Head& head) {
  return link.deferred && (link.synced == head.seq || link.synced == head.seq + 1);
}

// Whether HeadProblem needs the record before the last to decide: the last is a synced record more
// than one past the head, which is fine when deferred records come between (its head write was cut off).
bool HeadNeedsPrevious(const Head& head, const Link* last) {
  return head.present && head.valid && last != nullptr && !last->deferred && last->seq > head.seq + 1;
}

// What is wrong with the head against the log's last record (`last`, null: the log has none;
// `before_last`, null: not read or none) under the head rule (audit.hpp); "" when it keeps it.
std::string HeadProblem(const std::string& path, const Head& head, const Link* last, const Link* before_last) {
  std::string head_path = HeadPath(path);
  if (!head.present || head.empty) {
    if (last == nullptr) return {};
    return fmt::format("{} is {}: a truncated log cannot be told from a whole one", head_path,
                       head.present ? "empty" : "missing");
  }
  if (!head.valid) return fmt::format("{} is not a head file (expected {{\"hash\": \"...\", \"seq\": N}})", head_path);
  uint64_t last_seq = last ? last->seq : 0;
  const std::string& last_hash = last ? last->hash : kZeroHash;
  if (head.seq > last_seq) {
    bool one = head.seq == last_seq + 1;
    return fmt::format("{} {} missing at the end: the log was truncated ({} names record {})",
                       RecordRange(last_seq + 1, head.seq), one ? "is" : "are", head_path, head.seq);
  }
  if (head.seq == last_seq) {
    if (head.hash == last_hash) return {};
    if (last == nullptr) return fmt::format("{} is not a head file (seq 0 with a hash not all '0')", head_path);
    return fmt::format("the last record ({}) is not the one {} names: the log's tail was replaced", last_seq, head_path);
  }
  // The head is behind the log's end.
  std::string added = fmt::format("{} names record {}, but the log goes on to record {}: records were added without the head",
                                  head_path, head.seq, last_seq);
  if (head.seq + 1 == last_seq) return head.hash == last->prev ? std::string() : added;  // cut off before its head
  if (DeferredAfterHead(*last, head)) return {};  // deferred records after the last synced one
  // A synced record cut off before its head, after deferred records.
  if (!last->deferred && before_last != nullptr && before_last->seq + 1 == last_seq && before_last->hash == last->prev &&
      DeferredAfterHead(*before_last, head) && (before_last->seq != head.seq + 1 || before_last->prev == head.hash)) {
    return {};
  }
  if (last->deferred) {
    return fmt::format("{} names record {}, but the log's last record ({}) was written when record {} was the last synced one: "
                       "the head was replaced, or records were added without it", head_path, head.seq, last_seq, last->synced);
  }
  return added;
}

enum class Tail { kEmpty, kOk, kTorn, kNotRecord, kTooLong, kFailed };

// The record on the line of the log open on `fd` that ends at `end` (the offset of its '\n'), read
// backwards in chunks to the '\n' before it: the file may be large, and is read back on every
// append. `start` gets the offset of the line's first byte.
Tail ReadLineEndingAt(int fd, off_t end, Link& link, off_t& start, std::string& error) {
  int err = 0;
  std::vector<std::string> chunks;  // last chunk first
  size_t total = 0;
  start = 0;  // the line is [start, end)
  for (off_t at = end; at > 0;) {
    size_t len = static_cast<size_t>(std::min<off_t>(at, static_cast<off_t>(kTailChunk)));
    std::string chunk(len, '\0');
    if (!PreadAll(fd, chunk.data(), len, at - static_cast<off_t>(len), err)) {
      error = Errno(err);
      return Tail::kFailed;
    }
    size_t nl = chunk.rfind('\n');
    if (nl != std::string::npos) {
      chunks.push_back(chunk.substr(nl + 1));
      total += len - nl - 1;
      start = at - static_cast<off_t>(len - nl - 1);
      break;
    }
    total += len;
    chunks.push_back(std::move(chunk));
    at -= static_cast<off_t>(len);
    if (total > kMaxRecordBytes) return Tail::kTooLong;
  }
  std::string line;
  line.reserve(total);
  for (auto it = chunks.rbegin(); it != chunks.rend(); ++it) line += *it;
  json j = json::parse(line, nullptr, false);
  std::string why;
  if (j.is_discarded() || !ParseLink(j, link, why)) return Tail::kNotRecord;
  return Tail::kOk;
}

// The last record of the log open on `fd`. `size` gets the file's size, `start` the offset of the
// last line.
Tail ReadTail(int fd, Link& link, off_t& size, off_t& start, std::string& error) {
  struct stat st;
  if (fstat(fd, &st) != 0) {
    error = Errno(errno);
    return Tail::kFailed;
  }
  size = st.st_size;
  start = 0;
  if (size == 0) return Tail::kEmpty;
  int err = 0;
  char last = 0;
  if (!PreadAll(fd, &last, 1, size - 1, err)) {
    error = Errno(err);
    return Tail::kFailed;
  }
  if (last != '\n') return Tail::kTorn;
  return ReadLineEndingAt(fd, size - 1, link, start, error);
}

// The 1-based number of the last line of the file on `fd` (for messages only: reads it all).
size_t LastLineNumber(int fd, off_t size) {
  size_t newlines = 0;
  char last = '\n';
  std::string buf(1 << 20, '\0');
  for (off_t at = 0; at < size;) {
    ssize_t n = pread(fd, buf.data(), buf.size(), at);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    newlines += static_cast<size_t>(std::count(buf.data(), buf.data() + n, '\n'));
    last = buf[static_cast<size_t>(n) - 1];
    at += n;
  }
  return last == '\n' ? std::max<size_t>(newlines, 1) : newlines + 1;
}

// Why the log on `fd` cannot be appended to, from its tail; "" when it can. `link`/`have_last` get
// its last record, `last_start` the offset of its line.
std::string TailError(const std::string& path, int fd, Link& link, bool& have_last, off_t& size, off_t& last_start) {
  std::string why;
  Tail tail = ReadTail(fd, link, size, last_start, why);
  have_last = tail == Tail::kOk;
  constexpr std::string_view kAdvice = "run `runbook audit verify` to see the damage; the log is never rewritten";
  switch (tail) {
    case Tail::kEmpty:
    case Tail::kOk:
      return {};
    case Tail::kFailed:
      return fmt::format("{}: cannot read the audit log: {}", path, why);
    case Tail::kTorn:
      return fmt::format("{}: the last record is incomplete (line {}): {}", path, LastLineNumber(fd, size), kAdvice);
    case Tail::kNotRecord:
      return fmt::format("{}: the last line is not an audit record (line {}): {}", path, LastLineNumber(fd, size), kAdvice);
    case Tail::kTooLong:
      return fmt::format("{}: the last line is over {} MiB, not an audit record (line {}): {}", path,
                         kMaxRecordBytes >> 20, LastLineNumber(fd, size), kAdvice);
  }
  return {};
}

// What is wrong with `head` against the log on `fd` (under its lock), whose last record is `last`
// (null: none) on the line at `last_start`; "" when it keeps the head rule. Reads the record before
// the last only when the rule needs it.
std::string CheckHead(const std::string& path, int fd, const Head& head, const Link* last, off_t last_start) {
  Link before;
  bool have_before = false;
  if (HeadNeedsPrevious(head, last) && last_start > 0) {
    std::string why;
    off_t start = 0;
    Tail tail = ReadLineEndingAt(fd, last_start - 1, before, start, why);
    if (tail == Tail::kFailed) return fmt::format("cannot read the audit log: {}", why);
    have_before = tail == Tail::kOk;
  }
  std::string problem = HeadProblem(path, head, last, have_before ? &before : nullptr);
  if (problem.empty()) return {};
  return problem + ": run `runbook audit verify` to see the damage; the log is never rewritten";
}

// Overwrites PATH.head in place with the record `seq`/`hash`: {"hash":"...","seq":N} padded with
// spaces to 127 bytes and a '\n', one pwrite at offset 0, then fdatasync. One write of 128 bytes at
// the start of the file lies in one disk sector, so after a power cut the head reads as the old one
// or the new one, never a mix; and since the file's size does not change (128 bytes from the first
// write on) the fdatasync has no metadata to commit: one data write, no journal, where the old
// tmp + fsync + rename + directory fsync cost three syncs. A longer file (a head of another format)
// is cut to 128 bytes after the write; a file this creates gets its directory synced, once.
bool WriteHead(const std::string& path, uint64_t seq, const std::string& hash, std::string& error) {
  std::string head_path = HeadPath(path);
  std::string text = Dump(json{{"seq", seq}, {"hash", hash}});
  if (text.size() > kHeadBytes - 1) {  // 102 bytes at most: a 64-digit hash and a 20-digit seq
    error = fmt::format("{}: cannot write the head: {} bytes, over {}", head_path, text.size(), kHeadBytes - 1);
    return false;
  }
  text.resize(kHeadBytes - 1, ' ');
  text += '\n';
  // Opened without O_CREAT first, so that creating it is known (O_EXCL) and its directory synced.
  // O_NONBLOCK: a FIFO put there fails rather than blocks (and is refused below).
  constexpr int kFlags = O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK;
  bool created = false;
  int fd = -1;
  for (int tries = 0; tries < 8; ++tries) {
    fd = open(head_path.c_str(), kFlags);
    if (fd >= 0 || errno != ENOENT) break;
    fd = open(head_path.c_str(), kFlags | O_CREAT | O_EXCL, 0660);
    if (fd >= 0) {
      created = true;
      break;
    }
    if (errno != EEXIST) break;  // EEXIST: made by another process since; open it again
  }
  if (fd < 0) {
    error = fmt::format("{}: cannot write the head: {}", head_path, Errno(errno));
    return false;
  }
  Fd guard(fd);
  struct stat st;
  if (fstat(fd, &st) != 0) {
    error = fmt::format("{}: cannot write the head: {}", head_path, Errno(errno));
    return false;
  }
  if (!S_ISREG(st.st_mode)) {
    error = fmt::format("{}: cannot write the head: it {}", head_path, NotAFileText(st.st_mode));
    return false;
  }
  int err = 0;
  if (!PwriteAll(fd, text, 0, err)) {
    error = fmt::format("{}: cannot write the head: {}", head_path, Errno(err));
    return false;
  }
  if (st.st_size > static_cast<off_t>(kHeadBytes) && ftruncate(fd, static_cast<off_t>(kHeadBytes)) != 0) {
    error = fmt::format("{}: cannot cut the head to {} bytes: {}", head_path, kHeadBytes, Errno(errno));
    return false;
  }
  if (fdatasync(fd) != 0) {
    error = fmt::format("{}: cannot sync the head: {}", head_path, Errno(errno));
    return false;
  }
  if (close(guard.release()) != 0) {
    error = fmt::format("{}: cannot write the head: {}", head_path, Errno(errno));
    return false;
  }
  std::string why;
  if (created && !FsyncDir(DirOf(path), why)) {
    error = fmt::format("{}: {}", head_path, why);
    return false;
  }
  return true;
}

}  // namespace

bool AuditRecordIntact(const json& record) {
  return record.is_object() && IsHash(record.value("hash", json())) && RecordHash(record) == record["hash"].get<std::string>();
}

AuditLog::AuditLog(std::string path) : path_(std::move(path)) {}

AuditLog::~AuditLog() {
  if (fd_ >= 0) close(fd_);
}

bool AuditLog::Open(std::string& error) {
  try {
    std::lock_guard<std::mutex> guard(mutex_);
    if (fd_ >= 0) {
      close(fd_);
      fd_ = -1;
    }
    if (path_.empty()) {
      error = "the audit log has no path";
      return false;
    }
    std::string dir = DirOf(path_);
    if (!dir.empty()) {
      std::error_code ec;
      std::filesystem::create_directories(dir, ec);
      if (ec) {
        error = fmt::format("{}: cannot create the directory {}: {}", path_, dir, ec.message());
        return false;
      }
    }
    struct stat st;
    bool created = stat(path_.c_str(), &st) != 0 && errno == ENOENT;
    int fd = open(path_.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK | O_NOCTTY, 0660);
    if (fd < 0) {
      error = fmt::format("{}: cannot open the audit log: {}", path_, Errno(errno));
      return false;
    }
    Fd file(fd);
    if (fstat(fd, &st) != 0) {
      error = fmt::format("{}: cannot open the audit log: {}", path_, Errno(errno));
      return false;
    }
    if (!S_ISREG(st.st_mode)) {
      error = fmt::format("{}: the audit log {}", path_, NotAFileText(st.st_mode));
      return false;
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
      error = fmt::format("{}: cannot open the audit log: {}", path_, Errno(errno));
      return false;
    }
    std::string why;
    if (created && !FsyncDir(dir, why)) {
      error = fmt::format("{}: {}", path_, why);
      return false;
    }
    FileLock lock(fd);
    if (!lock.locked()) {
      error = fmt::format("{}: cannot lock the audit log: {}", path_, Errno(lock.error()));
      return false;
    }
    Link last;
    bool have_last = false;
    off_t size = 0, last_start = 0;
    if (std::string e = TailError(path_, fd, last, have_last, size, last_start); !e.empty()) {
      error = std::move(e);
      return false;
    }
    Head head;
    if (!ReadHead(path_, head, error)) return false;
    if (size == 0 && (!head.present || head.empty)) {
      // A new log: a head of record 0, so that a crash after the first record leaves a head behind
      // by one (tolerated) rather than none (which cannot be told from a lost head). An empty head
      // is one created and cut off before its first write.
      if (!WriteHead(path_, 0, kZeroHash, error)) return false;
    } else if (std::string problem = CheckHead(path_, fd, head, have_last ? &last : nullptr, last_start); !problem.empty()) {
      error = fmt::format("{}: {}", path_, problem);
      return false;
    }
    fd_ = file.release();
    return true;
  } catch (const std::exception& e) {
    error = fmt::format("{}: cannot open the audit log: {}", path_, e.what());
    return false;
  }
}

bool AuditLog::Append(json record, std::string& error, json* written, AuditSync sync) {
  try {
    std::lock_guard<std::mutex> guard(mutex_);
    if (fd_ < 0) {
      error = fmt::format("{}: the audit log is not open", path_);
      return false;
    }
    if (!record.is_object()) {
      error = fmt::format("{}: an audit record must be a JSON object, not {}", path_, record.type_name());
      return false;
    }
    for (const char* key : {"run", "kind"}) {
      auto it = record.find(key);
      if (it == record.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) {
        error = fmt::format("{}: an audit record needs a \"{}\" string", path_, key);
        return false;
      }
    }
    FileLock lock(fd_);
    if (!lock.locked()) {
      error = fmt::format("{}: cannot lock the audit log: {}", path_, Errno(lock.error()));
      return false;
    }
    struct stat by_path, by_fd;
    if (fstat(fd_, &by_fd) != 0 || stat(path_.c_str(), &by_path) != 0 || by_path.st_dev != by_fd.st_dev ||
        by_path.st_ino != by_fd.st_ino) {
      error = fmt::format("{}: the audit log was moved or replaced since it was opened; not appending to the old file", path_);
      return false;
    }
    Link last;
    bool have_last = false;
    off_t size = 0, last_start = 0;
    if (std::string e = TailError(path_, fd_, last, have_last, size, last_start); !e.empty()) {
      error = std::move(e);
      return false;
    }
    Head head;
    if (!ReadHead(path_, head, error)) return false;
    if (std::string problem = CheckHead(path_, fd_, head, have_last ? &last : nullptr, last_start); !problem.empty()) {
      error = fmt::format("{}: {}", path_, problem);
      return false;
    }
    bool deferred = sync == AuditSync::kDeferred;
    if (deferred && (!head.present || head.empty)) {
      // An empty log whose head went missing since Open (the rule allows it there): a deferred
      // record does not move the head, so give it one of record 0 first, or the log would then
      // have records and no head.
      if (!WriteHead(path_, 0, kZeroHash, error)) return false;
      head.present = head.valid = true;
      head.empty = false;
      head.seq = 0;
    }

    uint64_t seq = have_last ? last.seq + 1 : 1;
    record.erase("hash");
    record.erase("synced");
    record["seq"] = seq;
    record["prev"] = have_last ? last.hash : kZeroHash;
    record["at"] = AuditTimeNow();
    if (deferred) record["synced"] = head.seq;  // the last synced record: the head keeps the rule (checked above)
    // Through text and back, so that the record hashed is the one a reader parses from the line
    // (odd bytes replaced, NaN as null).
    json canonical = json::parse(Dump(record), nullptr, false);
    if (canonical.is_discarded()) {
      error = fmt::format("{}: the audit record does not survive being written as JSON", path_);
      return false;
    }
    std::string hash = Sha256Hex(Dump(canonical));
    canonical["hash"] = hash;
    std::string line = Dump(canonical) + "\n";

    int err = 0;
    if (!WriteAll(fd_, line, err)) {
      // Our own partial line, under the lock: cut it off so the log does not end torn.
      bool undone = ftruncate(fd_, size) == 0;
      error = fmt::format("{}: cannot write the audit record: {}{}", path_, Errno(err),
                          undone ? "" : "; the log now ends with an incomplete record");
      return false;
    }
    if (!deferred) {
      // Syncs the deferred records before this one too: fdatasync is of the file, whoever wrote them.
      if (fdatasync(fd_) != 0) {
        error = fmt::format("{}: cannot sync the audit log: {}", path_, Errno(errno));
        return false;
      }
      if (!WriteHead(path_, seq, hash, error)) return false;
    }
    if (written != nullptr) *written = std::move(canonical);
    return true;
  } catch (const std::exception& e) {
    error = fmt::format("{}: cannot append to the audit log: {}", path_, e.what());
    return false;
  }
}

AuditCheck VerifyAudit(const std::string& path) {
  AuditCheck check;
  try {
    // Shared with appends' exclusive lock: the log and its head are read as one append left them
    // (the head is overwritten in place). A log that cannot be opened is reported below.
    int lock_fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    Fd lock_guard(lock_fd);
    std::optional<FileLock> shared;
    struct stat lst;
    if (lock_fd >= 0 && fstat(lock_fd, &lst) == 0 && S_ISREG(lst.st_mode)) shared.emplace(lock_fd, LOCK_SH);
    std::string text, why;
    uint64_t size = 0;
    switch (ReadWholeFile(path, kMaxLogBytes, text, why, size)) {
      case Read::kMissing:
        check.problems.push_back({0, fmt::format("no audit log at {}", path)});
        return check;
      case Read::kTooLarge:
        check.problems.push_back({0, fmt::format("{} is {} bytes, over the 1 GiB limit: not checked", path, size)});
        return check;
      case Read::kFailed:
        check.problems.push_back({0, fmt::format("{}: cannot read: {}", path, why)});
        return check;
      case Read::kOk:
        break;
    }
    auto problem = [&](size_t line, std::string message) {
      check.problems.push_back({line, std::move(message)});
    };
    // The head, read right after the log (as before): the record it names is looked for below.
    Head head;
    std::string head_error;
    bool head_read = ReadHead(path, head, head_error);
    shared.reset();  // both read: appends may go on while the records are parsed and hashed
    std::string named_hash;  // of the record with the head's seq, when the log has one
    bool named_seen = false;
    Link last, before_last;
    bool have_last = false, have_before_last = false;
    size_t line_no = 0;
    for (size_t pos = 0; pos < text.size();) {
      ++line_no;
      size_t nl = text.find('\n', pos);
      bool complete = nl != std::string::npos;
      std::string_view line(text.data() + pos, (complete ? nl : text.size()) - pos);
      pos = complete ? nl + 1 : text.size();
      if (!complete) problem(line_no, "the last record is incomplete: it does not end with a newline (a torn write)");
      if (line.empty()) {
        problem(line_no, "an empty line, not a record");
        continue;
      }
      json j = json::parse(line.begin(), line.end(), nullptr, false);
      if (j.is_discarded() || !j.is_object()) {
        if (complete) problem(line_no, "not a JSON record (a torn write?)");
        continue;
      }
      ++check.records;
      Link link;
      if (!ParseLink(j, link, why)) {
        problem(line_no, fmt::format("not an audit record: {}", why));
        continue;
      }
      uint64_t expected = have_last ? last.seq + 1 : 1;
      if (link.seq > expected) {
        bool one = link.seq == expected + 1;
        if (!have_last) {
          problem(line_no, fmt::format("the log starts at record {}: {} {} missing", link.seq,
                                       RecordRange(1, link.seq - 1), one ? "is" : "are"));
        } else {
          problem(line_no, fmt::format("record {} follows record {}: {} {} dropped", link.seq, last.seq,
                                       RecordRange(expected, link.seq - 1), one ? "was" : "were"));
        }
      } else if (link.seq < expected) {
        problem(line_no, fmt::format("record {} follows record {}: out of order (a line copied or moved?)", link.seq, last.seq));
      } else if (link.prev != (have_last ? last.hash : kZeroHash)) {
        if (have_last) {
          problem(line_no, fmt::format("record {} does not chain to record {}: its prev is not that record's hash "
                                       "(one of them was replaced)", link.seq, last.seq));
        } else {
          problem(line_no, "record 1 does not start the chain: its prev is not 64 '0'");
        }
      }
      if (RecordHash(j) != link.hash) problem(line_no, fmt::format("record {} was edited: its hash does not match its content", link.seq));
      if (link.bad_synced) problem(line_no, fmt::format("record {}: its \"synced\" names no earlier record", link.seq));
      if (head_read && head.valid && link.seq == head.seq) {
        named_hash = link.hash;
        named_seen = true;
      }
      if (have_last) {
        before_last = std::move(last);
        have_before_last = true;
      }
      last = std::move(link);
      have_last = true;
    }
    check.last_hash = have_last ? last.hash : "";

    if (!head_read) {
      check.problems.push_back({0, head_error});
    } else if ((!head.present || head.empty) && check.records > 0) {
      check.problems.push_back({0, fmt::format("{} is {}: a truncated log cannot be told from a whole one", HeadPath(path),
                                               head.present ? "empty" : "missing")});
    } else if (std::string p = HeadProblem(path, head, have_last ? &last : nullptr, have_before_last ? &before_last : nullptr);
               !p.empty()) {
      check.problems.push_back({0, p});
    } else if (head.valid && have_last && head.seq < last.seq) {
      // The head is behind the end (deferred records, or a head write cut off): the record it names
      // must still be the one in the log, which only this full read can see.
      if (head.seq == 0 ? head.hash != kZeroHash : named_seen && named_hash != head.hash) {
        check.problems.push_back({0, head.seq == 0 ? fmt::format("{} is not a head file (seq 0 with a hash not all '0')", HeadPath(path))
                                                   : fmt::format("record {} is not the one {} names: its hash differs (the record "
                                                                 "or the head was replaced)", head.seq, HeadPath(path))});
      }
    }
  } catch (const std::exception& e) {
    check.problems.push_back({0, fmt::format("{}: cannot check: {}", path, e.what())});
  }
  return check;
}

bool ReadAudit(const std::string& path, std::vector<json>& records, std::string& error, size_t* skipped) {
  try {
    records.clear();
    if (skipped != nullptr) *skipped = 0;
    std::string text, why;
    uint64_t size = 0;
    switch (ReadWholeFile(path, kMaxLogBytes, text, why, size)) {
      case Read::kMissing:
        error = fmt::format("no audit log at {}", path);
        return false;
      case Read::kTooLarge:
        error = fmt::format("{} is {} bytes, over the 1 GiB limit an audit log is read to", path, size);
        return false;
      case Read::kFailed:
        error = fmt::format("{}: cannot read: {}", path, why);
        return false;
      case Read::kOk:
        break;
    }
    for (size_t pos = 0; pos < text.size();) {
      size_t nl = text.find('\n', pos);
      size_t end = nl == std::string::npos ? text.size() : nl;
      json j = json::parse(text.begin() + static_cast<std::ptrdiff_t>(pos), text.begin() + static_cast<std::ptrdiff_t>(end), nullptr, false);
      pos = end + 1;
      if (j.is_discarded() || !j.is_object()) {
        if (skipped != nullptr) ++*skipped;
        continue;
      }
      records.push_back(std::move(j));
    }
    return true;
  } catch (const std::exception& e) {
    records.clear();
    error = fmt::format("{}: cannot read: {}", path, e.what());
    return false;
  }
}

std::vector<json> RunRecords(const std::vector<json>& records, const std::string& run) {
  std::vector<json> out;
  try {
    for (const json& r : records) {
      if (!run.empty()) {
        if (!r.is_object()) continue;
        auto it = r.find("run");
        if (it == r.end() || !it->is_string() || it->get_ref<const std::string&>() != run) continue;
      }
      out.push_back(r);
    }
  } catch (const std::exception&) {
  }
  return out;
}

namespace {

uint32_t Random24() {
  unsigned char bytes[3];
  int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    Fd guard(fd);
    size_t got = 0;
    while (got < sizeof bytes) {
      ssize_t n = read(fd, bytes + got, sizeof bytes - got);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      got += static_cast<size_t>(n);
    }
    if (got == sizeof bytes) return uint32_t(bytes[0]) << 16 | uint32_t(bytes[1]) << 8 | bytes[2];
  }
  try {
    std::random_device rd;
    return rd() & 0xffffff;
  } catch (const std::exception&) {
    // No entropy source at all: the clock and the pid, still unique within the process below.
    auto now = std::chrono::steady_clock::now().time_since_epoch().count();
    return static_cast<uint32_t>((static_cast<uint64_t>(now) * 0x9e3779b97f4a7c15ull ^ static_cast<uint64_t>(getpid())) >> 40);
  }
}

std::tm UtcTime(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  return tm;
}

}  // namespace

std::string NewRunId() {
  static std::mutex mutex;
  static std::string stamp_used;     // the second the ids in `used` were made in
  static std::set<uint32_t> used;    // their random parts: none repeats within a second
  try {
    std::tm tm = UtcTime(std::time(nullptr));
    std::string stamp = fmt::format("{:04}{:02}{:02}T{:02}{:02}{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                                    tm.tm_hour, tm.tm_min, tm.tm_sec);
    std::lock_guard<std::mutex> guard(mutex);
    if (stamp != stamp_used) {
      used.clear();
      stamp_used = stamp;
    }
    uint32_t r = Random24();
    for (int tries = 0; used.count(r) != 0; ++tries) r = tries < 64 ? Random24() : (r + 1) & 0xffffff;
    used.insert(r);
    return fmt::format("r-{}-{:06x}", stamp, r);
  } catch (const std::exception&) {
    return fmt::format("r-{}-{:06x}", std::time(nullptr), Random24());
  }
}

std::string AuditTimeNow() {
  using namespace std::chrono;
  int64_t ms = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  int64_t secs = ms / 1000, frac = ms % 1000;
  if (frac < 0) {
    frac += 1000;
    secs -= 1;
  }
  std::tm tm = UtcTime(static_cast<std::time_t>(secs));
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec, frac);
}

}  // namespace rb::rt
