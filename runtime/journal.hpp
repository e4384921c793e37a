// A live run's journal on the audit log (docs/live.md, "The audit"): every change is recorded,
// durably, before it starts and again when it ends; every step's start and end too. A resumed run
// (`runbook run --resume RUN`) reads the records of the run it continues: a step whose end is
// recorded is not run again, a change whose end is recorded is not done again, and a change whose
// start is recorded without an end has an unknown outcome: the operator is asked before it runs again.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/approvals.hpp"
#include "runtime/audit.hpp"
#include "runtime/runner.hpp"

namespace rb::rt {

// A record's fields, whatever shape a damaged or hand-made log gives them: never an exception.
// "" / `def` / false when the field is missing or of another type.
std::string RecordText(const nlohmann::json& record, const char* key);
int64_t RecordInt(const nlohmann::json& record, const char* key, int64_t def = 0);
bool RecordFlag(const nlohmann::json& record, const char* key);

// Who runs what, in every record.
struct RunIdentity {
  std::string run;          // r-20261203T150405Z-1a2b3c
  std::string who;          // alice@host
  std::string environment;  // the environment's name
  std::string runbook;      // its name
  std::string file;         // the source it was compiled from
  std::string source_hash;  // the bytecode's source hash, hex
};

class AuditJournal : public Journal {
 public:
  // `redact` masks secret values in anything recorded; `resumed`: the records of the run being
  // resumed (empty: a new run); `prompter` asks whether to run again a change of unknown outcome
  // (null: nobody to ask; it is run again only when `confirm` names its step: --confirm STEP).
  AuditJournal(AuditLog& log, RunIdentity id, std::function<std::string(std::string)> redact,
               std::vector<nlohmann::json> resumed, Prompter* prompter, std::set<std::string> confirm = {});

  Verdict Starting(const std::string& step, const BoundCommand& command) override;
  void Ended(const std::string& step, const BoundCommand& command, const ExecAnswer& answer, int64_t ms) override;
  std::optional<std::string> StepStarting(const std::string& step, bool reads_only) override;
  void StepEnded(const std::string& step, const std::string& status, const std::string& why, bool reads_only) override;

  // A record of another kind (run_start, approval, page, lock, run_end): its identity fields are
  // added. False with `error` when it could not be made durable.
  // `sync`: kDeferred for a record nothing waits on (a read-only step's start and end), synced by
  // the next record that something does wait on.
  bool Record(const std::string& kind, nlohmann::json fields, std::string& error, AuditSync sync = AuditSync::kNow);
  // Write failures seen so far (each also refused what it guarded).
  std::vector<std::string> failures() {
    std::lock_guard<std::mutex> hold(record_mutex_);
    return failures_;
  }
  // Changes whose outcome the run being resumed left unknown, as found when reached.
  const std::vector<std::string>& unknown_outcomes() const { return unknown_; }
  // Changes the run being resumed started without an end that this run never reached (their step
  // was not run again): their outcome stays unknown, and the run says so (exit 3).
  std::vector<std::string> OpenChangesNotReached() const;
  // The fencing token of the locks held, recorded in every change's record (0: none).
  void SetFence(int64_t fence) { fence_ = fence; }
  // Asked before every change: a reason it must not start (a lease that was lost); nullopt: go on.
  void SetGuard(std::function<std::optional<std::string>()> guard) { guard_ = std::move(guard); }
  // Given every record once it is durable locally (the team's Redis Stream copy).
  void SetMirror(std::function<void(const nlohmann::json&)> mirror) { mirror_ = std::move(mirror); }

 private:
  struct Occurrence {
    int n = 0;    // this step's start number in the run (1, 2, ...)
    int cmd = 0;  // its changes started so far in this start
  };
  const nlohmann::json* Find(const std::string& kind, const std::string& step, int n, int cmd) const;

  AuditLog& log_;
  RunIdentity id_;
  std::function<std::string(std::string)> redact_;
  std::vector<nlohmann::json> resumed_;
  Prompter* prompter_;
  std::set<std::string> confirm_;
  std::map<std::string, Occurrence> at_;  // by step
  std::vector<std::string> failures_, unknown_;
  int64_t fence_ = 0;
  std::set<std::string> visited_;  // "step|n|cmd" of every change this run reached
  std::function<std::optional<std::string>()> guard_;
  std::function<void(const nlohmann::json&)> mirror_;
  std::vector<nlohmann::json> held_;  // deferred records not yet copied: they go with the next synced one
  std::mutex record_mutex_;  // pages are recorded from their delivery threads too
};

// The story of one run (or of every run) from its records, for `runbook audit show`.
std::string RenderAuditStory(const std::vector<nlohmann::json>& records);

}  // namespace rb::rt
