// The audit log of live runs: one JSON record a line, written ahead of every mutation and durable
// before it starts, each record naming the hash of the one before it, so an edited, dropped or
// reordered record shows. Several runs on one machine share one log; a lock on the file keeps
// their records in one chain. The log is only ever appended to: damage is reported, never repaired.
#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace rb::rt {

// How far an appended record is written before Append returns.
enum class AuditSync {
  kNow,       // on disk (fdatasync) with its head before Append returns: the default, for every record that a change, an approval or a page waits on
  kDeferred,  // written (visible to other processes, survives kill -9 of the writer) but not synced, and the head is not moved; the next kNow append's fdatasync makes it durable
};

// One line of the log is a JSON object. The caller gives "run" and "kind" (strings) and any other
// fields; the log sets "seq" (1, 2, ... over the file), "prev" (the previous record's "hash"; 64 '0'
// for the first), "at" (UTC, "2026-12-03T15:04:05.123Z"), on a deferred record "synced" (below) and
// "hash": Sha256Hex of the record without its "hash" key, dumped by nlohmann::json::dump() with no
// indent (keys sorted) and odd bytes replaced by U+FFFD. That canonical text, not the bytes of the
// line, is what the hash covers ("synced" included).
//
// Beside the log, PATH.head holds {"hash": "...", "seq": N} of the last synced (kNow) record, padded
// with spaces to 127 bytes and a '\n', overwritten in place (one 128-byte write at offset 0) after
// each kNow append: the chain alone cannot see records cut off at the end, the head can. A new,
// empty log gets a head of seq 0 (hash 64 '0'). A head without the padding (older versions) reads
// the same; a PATH.head.tmp they may have left is ignored.
//
// The head rule, with L the log's last record and H the head: L is H (same seq and hash); or L is
// the record after H (an append cut off between its record and its head); or L is a deferred record
// whose "synced" is H's seq or the one after (the records after the last synced one are deferred,
// the +1 a synced record whose head write was cut off before them); or L is a kNow record cut off
// before its head whose previous record is such a deferred record. Anything else is damage.
//
// What a deferred record trades: after a power cut (not a process kill: its bytes are in the page
// cache by then), the deferred records written since the last synced one may be lost, or the last
// one torn (a torn last line blocks Open and Append until the log is moved away, as any torn
// record does). And deferred records cut off after the last synced one are not detected by the
// head, which names only synced records (a synced record cut off after them is). The chain still
// detects any edit or drop inside the log, deferred records included.
class AuditLog {
 public:
  explicit AuditLog(std::string path);
  ~AuditLog();  // closes the fd
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Opens the file for appending, creating its parent directories and the file (mode 0660 before the umask: the group of a shared bastion). False
  // with a message naming the path when it cannot be opened or is not a regular file, when its last
  // line is not a complete record (a torn write), or when the head breaks the head rule (the log
  // truncated, or the head missing under a log with records). Then no run can append until the log
  // is moved away: it is never rewritten.
  bool Open(std::string& error);

  // Appends one record. Under flock on the log it reads the file's last record (another process
  // may have appended since) to continue the chain, and checks the head rule against it. Fields
  // "seq", "prev", "at", "synced" and "hash" given by the caller are replaced (or erased). kNow:
  // the record is on disk (fdatasync, which also makes every deferred record before it durable)
  // before it returns, and the head then names it. kDeferred: the record is written but neither
  // synced nor named by the head, and gets "synced": the seq the head names (0 for a new log); a
  // kDeferred append still takes the flock, reads the tail and checks the head rule, exactly like
  // kNow. `written`, when non-null, gets the record as written. False with `error` (naming the
  // path) when any step fails: the caller must not start the mutation then.
  bool Append(nlohmann::json record, std::string& error, nlohmann::json* written = nullptr,
              AuditSync sync = AuditSync::kNow);

  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_ = -1;
  std::mutex mutex_;  // flock does not keep apart two threads sharing fd_
};

struct AuditProblem {
  size_t line;  // 1-based; 0 for the file as a whole (missing, too large, the head)
  std::string message;  // for an SRE, without the line: "record 12 was edited: its hash does not match its content"
};
struct AuditCheck {
  size_t records = 0;                  // lines that are JSON objects
  std::vector<AuditProblem> problems;  // empty: the log is intact
  std::string last_hash;               // of the last record read; "" when there is none
};

// Checks the whole log: every line a JSON object whose seq follows the one before (the first is
// 1), whose prev is that record's hash, whose hash matches its content and whose "synced", when it
// has one, names an earlier record; the last line ends with '\n'; the head keeps the head rule
// (AuditLog) and names a record the log has, with that record's hash.
// A missing head under a log with records is a problem (a truncated log would look whole); a
// missing log file is one at line 0. An empty file with no head is intact with 0 records. Files over
// 1 GiB are not read (a problem says so).
AuditCheck VerifyAudit(const std::string& path);

// Reads every record (for `runbook audit show` and `--resume`): false with `error` (naming the
// path) when the file cannot be read or is over 1 GiB. Lines that are not JSON objects, a torn last
// line among them, are skipped and counted in `skipped`.
bool ReadAudit(const std::string& path, std::vector<nlohmann::json>& records, std::string& error,
               size_t* skipped = nullptr);

// Whether a record's "hash" matches its content (a copy of the log elsewhere, the team's stream,
// is checked record by record: the chain is the local file's).
bool AuditRecordIntact(const nlohmann::json& record);

// The records whose "run" is `run`, oldest first; `run` empty: every record.
std::vector<nlohmann::json> RunRecords(const std::vector<nlohmann::json>& records, const std::string& run);

// A new run id: "r-20261203T150405Z-" and 6 random hex digits (/dev/urandom, else
// std::random_device). No id repeats within a process; across processes 24 random bits apart.
std::string NewRunId();

// The UTC time now as the log writes it: "2026-12-03T15:04:05.123Z".
std::string AuditTimeNow();

}  // namespace rb::rt
