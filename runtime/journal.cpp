#include "runtime/journal.hpp"

#include <fmt/format.h>

#include "runtime/sha256.hpp"

namespace rb::rt {

std::string RecordText(const nlohmann::json& r, const char* k) {
  if (!r.is_object()) return {};
  auto it = r.find(k);
  return it != r.end() && it->is_string() ? it->get<std::string>() : std::string();
}
int64_t RecordInt(const nlohmann::json& r, const char* k, int64_t def) {
  if (!r.is_object()) return def;
  auto it = r.find(k);
  return it != r.end() && it->is_number_integer() ? it->get<int64_t>() : def;
}
bool RecordFlag(const nlohmann::json& r, const char* k) {
  if (!r.is_object()) return false;
  auto it = r.find(k);
  return it != r.end() && it->is_boolean() && it->get<bool>();
}

namespace {
std::string S(const nlohmann::json& r, const char* k) { return RecordText(r, k); }
int64_t I(const nlohmann::json& r, const char* k, int64_t def = 0) { return RecordInt(r, k, def); }
std::string SD(const nlohmann::json& r, const char* k, const char* def) {
  std::string v = S(r, k);
  return v.empty() ? std::string(def) : v;
}
bool B(const nlohmann::json& r, const char* k) { return RecordFlag(r, k); }
}  // namespace

AuditJournal::AuditJournal(AuditLog& log, RunIdentity id, std::function<std::string(std::string)> redact,
                           std::vector<nlohmann::json> resumed, Prompter* prompter, std::set<std::string> confirm)
    : log_(log), id_(std::move(id)), redact_(std::move(redact)), resumed_(std::move(resumed)), prompter_(prompter),
      confirm_(std::move(confirm)) {}

bool AuditJournal::Record(const std::string& kind, nlohmann::json fields, std::string& error, AuditSync sync) {
  std::lock_guard<std::mutex> hold(record_mutex_);
  if (!fields.is_object()) fields = nlohmann::json::object();
  fields["run"] = id_.run;
  fields["kind"] = kind;
  fields["operator"] = id_.who;
  fields["env"] = id_.environment;
  fields["runbook"] = id_.runbook;
  fields["source_hash"] = id_.source_hash;
  if (fence_ != 0) fields["fence"] = fence_;
  // Nothing recorded holds a secret's value: every string goes through the redaction.
  std::function<void(nlohmann::json&)> mask = [&](nlohmann::json& j) {
    if (j.is_string()) {
      j = redact_ ? redact_(j.get<std::string>()) : j.get<std::string>();
    } else if (j.is_array() || j.is_object()) {
      for (auto& v : j) mask(v);
    }
  };
  mask(fields);
  nlohmann::json written;
  if (log_.Append(std::move(fields), error, &written, sync)) {
    // The team's copy gets a deferred record once a synced one has made it durable: a power cut
    // could otherwise leave the stream with a record the local log lost (and reused the seq of).
    if (mirror_ && sync == AuditSync::kDeferred) {
      held_.push_back(std::move(written));
    } else if (mirror_) {
      for (const auto& h : held_) mirror_(h);
      held_.clear();
      mirror_(written);
    }
    return true;
  }
  failures_.push_back("the audit could not be written: " + error);
  return false;
}

const nlohmann::json* AuditJournal::Find(const std::string& kind, const std::string& step, int n, int cmd) const {
  for (const auto& r : resumed_) {
    if (S(r, "kind") != kind || S(r, "step") != step || I(r, "n", 0) != n) continue;
    if (cmd != 0 && I(r, "cmd", 0) != cmd) continue;
    return &r;
  }
  return nullptr;
}

namespace {
std::string ArgvText(const nlohmann::json& r) {
  std::string s;
  if (r.contains("argv") && r["argv"].is_string()) s = r["argv"].get<std::string>();
  return s;
}
}  // namespace

Journal::Verdict AuditJournal::Starting(const std::string& step, const BoundCommand& command) {
  Occurrence& o = at_[step];
  if (o.n == 0) o.n = 1;  // a change outside any recorded start (not expected): its own occurrence
  ++o.cmd;
  const std::string shown = command.Display();
  Verdict v;
  visited_.insert(fmt::format("{}|{}|{}", step, o.n, o.cmd));
  if (!resumed_.empty()) {
    const nlohmann::json* start = Find("exec_start", step, o.n, o.cmd);
    const nlohmann::json* end = Find("exec_end", step, o.n, o.cmd);
    // Its end is recorded: it was done, and is never done again, even when its words are now bound
    // otherwise (a check read again captured another pod): that is said, not acted on.
    if (end != nullptr) {
      v.kind = Verdict::Kind::kRecorded;
      if (ArgvText(*end) != shown) {
        v.why = fmt::format("recorded as `{}`; bound now as `{}`, which is not run", ArgvText(*end), shown);
      }
      int exit_code = I(*end, "exit", -1);
      std::string status = S(*end, "status");
      v.recorded.exit_code = exit_code;
      v.recorded.status = status == "ok"        ? ExecAnswer::Status::kOk
                          : status == "timeout" ? ExecAnswer::Status::kTimeout
                                                : ExecAnswer::Status::kFailed;
      v.recorded.err = S(*end, "err");
      return v;
    }
    if (start != nullptr) {
      const nlohmann::json& r = *start;
      std::string when = SD(r, "at", "?");
      std::string what = ArgvText(r) == shown
                             ? fmt::format("`{}` started at {} and its end is not recorded: its outcome is unknown", shown, when)
                             : fmt::format("`{}` was recorded at {}, and is now bound as `{}`: what was done is unknown",
                                           ArgvText(r), when, shown);
      bool again = false;
      std::string by;
      if (prompter_ != nullptr) {
        std::optional<std::string> line =
            prompter_->Ask(fmt::format("\n  OUTCOME UNKNOWN in step {}: {}.\n  Check the system, then: run it again? [y/N] ", step, what));
        again = line && (*line == "y" || *line == "yes" || *line == "Y");
        by = id_.who;
      } else if (confirm_.count(step) != 0) {
        again = true;
        by = id_.who + " (--confirm " + step + ")";
      }
      std::string error;
      Record("outcome_unknown", {{"step", step}, {"n", o.n}, {"cmd", o.cmd}, {"argv", shown}, {"again", again}, {"by", by}}, error);
      if (!again) {
        unknown_.push_back(fmt::format("{}: {}", step, what));
        v.kind = Verdict::Kind::kRefused;
        v.why = fmt::format("outcome unknown: {}; nobody said to run it again (answer at the prompt, or --confirm {})", what, step);
        return v;
      }
    }
  }
  if (guard_) {
    if (std::optional<std::string> why = guard_()) {
      v.kind = Verdict::Kind::kRefused;
      v.why = *why;
      std::lock_guard<std::mutex> hold(record_mutex_);
      failures_.push_back(*why);
      return v;
    }
  }
  std::string error;
  nlohmann::json fields{{"step", step}, {"n", o.n}, {"cmd", o.cmd}, {"argv", shown},
                        {"effect", EffectName(command.effect)}, {"rule", command.rule}};
  if (!Record("exec_start", std::move(fields), error)) {
    v.kind = Verdict::Kind::kRefused;
    v.why = "the audit record could not be written before it started: " + error;
  }
  return v;
}

void AuditJournal::Ended(const std::string& step, const BoundCommand& command, const ExecAnswer& a, int64_t ms) {
  const Occurrence& o = at_[step];
  std::string status = a.status == ExecAnswer::Status::kOk        ? "ok"
                       : a.status == ExecAnswer::Status::kTimeout ? "timeout"
                       : a.status == ExecAnswer::Status::kFailed  ? "failed"
                       : a.status == ExecAnswer::Status::kNotRun  ? "not run"
                                                                  : "unknown";
  std::string err = a.err.size() > 512 ? a.err.substr(0, 512) + "…" : a.err;
  std::string error;
  Record("exec_end",
         {{"step", step}, {"n", o.n}, {"cmd", o.cmd}, {"argv", command.Display()}, {"status", status}, {"exit", a.exit_code},
          {"ms", ms}, {"out_sha256", Sha256Hex(a.out)}, {"out_bytes", a.out.size()}, {"err", err}},
         error);
}

std::optional<std::string> AuditJournal::StepStarting(const std::string& step, bool reads_only) {
  Occurrence& o = at_[step];
  ++o.n;
  o.cmd = 0;
  if (!resumed_.empty()) {
    // Ended, unless a change in it still has an unknown outcome (started, no end): then it runs again
    // and that change is asked about.
    bool open_change = false;
    for (const auto& r : resumed_) {
      if (S(r, "kind") != "exec_start" || S(r, "step") != step || I(r, "n", 0) != o.n) continue;
      if (Find("exec_end", step, o.n, I(r, "cmd", 0)) == nullptr) open_change = true;
    }
    const nlohmann::json* end = nullptr;
    for (const auto& r : resumed_) {  // the last end recorded for this start
      if (S(r, "kind") == "step_end" && S(r, "step") == step && I(r, "n", 0) == o.n) end = &r;
    }
    // A step that only reads is read again: what it captures is what the system says now.
    if (end != nullptr && !open_change && !reads_only) return SD(*end, "status", "pending");
  }
  std::string error;
  Record("step_start", {{"step", step}, {"n", o.n}, {"resumed", !resumed_.empty() && Find("step_start", step, o.n, 0) != nullptr}}, error,
         reads_only ? AuditSync::kDeferred : AuditSync::kNow);
  return std::nullopt;
}

void AuditJournal::StepEnded(const std::string& step, const std::string& status, const std::string& why, bool reads_only) {
  const Occurrence& o = at_[step];
  std::string error;
  Record("step_end", {{"step", step}, {"n", o.n}, {"status", status}, {"why", why}}, error,
         reads_only ? AuditSync::kDeferred : AuditSync::kNow);
}

std::vector<std::string> AuditJournal::OpenChangesNotReached() const {
  std::vector<std::string> out;
  for (const auto& r : resumed_) {
    if (!r.is_object() || S(r, "kind") != "exec_start") continue;
    std::string step = S(r, "step");
    int n = I(r, "n", 0), cmd = I(r, "cmd", 0);
    if (Find("exec_end", step, n, cmd) != nullptr || visited_.count(fmt::format("{}|{}|{}", step, n, cmd)) != 0) continue;
    out.push_back(fmt::format("{}: `{}` started at {} and its end is not recorded: its outcome is unknown, and this run did not reach it "
                              "again; check the system",
                              step, S(r, "argv"), SD(r, "at", "?")));
  }
  return out;
}

std::string RenderAuditStory(const std::vector<nlohmann::json>& records) {
  std::string out, run;
  for (const auto& r : records) {
    std::string kind = SD(r, "kind", "?");
    if (S(r, "run") != run) {
      run = S(r, "run");
      out += fmt::format("{}run {} · {} · {} · environment {} · by {}\n", out.empty() ? "" : "\n", run, SD(r, "runbook", "?"),
                         SD(r, "source_hash", "?"), SD(r, "env", "?"), SD(r, "operator", "?"));
    }
    std::string at = S(r, "at");
    std::string clock = at.size() >= 19 ? at.substr(11, 8) : at;
    std::string step = S(r, "step");
    std::string line;
    if (kind == "run_start") {
      std::string of = S(r, "resume_of");
      line = fmt::format("started{} from {}", of.empty() ? "" : " again (resuming after a crash)", SD(r, "file", "?"));
    } else if (kind == "run_end") {
      line = fmt::format("ended: exit {} — {}", I(r, "exit", -1), S(r, "outcome"));
    } else if (kind == "step_start") {
      line = fmt::format("step {} starts{}", step, B(r, "resumed") ? " again (resumed)" : "");
    } else if (kind == "step_end") {
      std::string why = S(r, "why");
      line = fmt::format("step {} ends {}{}", step, SD(r, "status", "?"), why.empty() ? "" : ": " + why);
    } else if (kind == "exec_start") {
      line = fmt::format("  $ {}  {} — starting", S(r, "argv"), S(r, "effect"));
    } else if (kind == "exec_end") {
      line = fmt::format("  $ {}  → {} (exit {}, {} ms, output sha256 {}…)", S(r, "argv"), SD(r, "status", "?"),
                         I(r, "exit", -1), I(r, "ms", 0), SD(r, "out_sha256", "").substr(0, 12));
    } else if (kind == "approval" || kind == "done" || kind == "answer") {
      line = fmt::format("{} {}: {} by {}", kind, step, B(r, "approved") ? "yes" : "no", SD(r, "by", "?"));
    } else if (kind == "vouch") {
      line = fmt::format("vouch {}: {} ({}) said {}", step, SD(r, "how", "its guard was unknown"), SD(r, "by", "?"),
                         B(r, "approved") ? "it holds" : "it does not hold");
    } else if (kind == "outcome_unknown") {
      line = fmt::format("  $ {}  outcome unknown (the run resumed has no end for it): {}", S(r, "argv"),
                         B(r, "again") ? "run again, said " + SD(r, "by", "?") : "not run again");
    } else if (kind == "lock") {
      line = fmt::format("lock {} {}{}", SD(r, "name", "?"), SD(r, "action", "?"),
                         r.contains("fence") ? fmt::format(" (fence {})", r["fence"].dump()) : "");
    } else if (kind == "page") {
      line = fmt::format("page {} via {}: {}", SD(r, "contact", "?"), SD(r, "channel", "?"), SD(r, "status", "?"));
    } else {
      line = kind;
    }
    out += fmt::format("  {}  #{:<5} {}\n", clock, r.contains("seq") ? r["seq"].dump() : "?", line);
  }
  return out;
}

}  // namespace rb::rt
