// The people a live run asks (docs/live.md, "Approvals"): the operator at the terminal, or, without
// one, what the command line said ahead (--yes, --confirm STEP, --answer). Nothing is guessed: a
// question nobody answered stays unknown, an approval nobody gave leaves its step pending.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "runtime/runner.hpp"

namespace rb::rt {

// Shows a question and reads one line of answer.
class Prompter {
 public:
  virtual ~Prompter() = default;
  // The line typed (without its newline); nullopt when nobody can answer (no terminal, end of
  // input, Ctrl-C).
  virtual std::optional<std::string> Ask(const std::string& question) = 0;
};

// A terminal: prompts on `out` (a file descriptor, stderr), reads `in` (stdin) when it is a
// terminal, polling so that `stop` (Ctrl-C) ends the wait.
class TerminalPrompter : public Prompter {
 public:
  TerminalPrompter(int in, int out, const std::atomic<bool>* stop) : in_(in), out_(out), stop_(stop) {}
  std::optional<std::string> Ask(const std::string& question) override;
  // Whether `in` is a terminal: without one nothing is asked.
  bool Usable() const;

 private:
  int in_, out_;
  const std::atomic<bool>* stop_;
};

struct OperatorOptions {
  std::string who;                       // "alice@host": who approves, in the trace and the audit
  bool yes = false;                      // --yes: every action approved as shown, without asking
  bool allow_last_resort = false;        // --allow-last-resort: a last resort may be asked at all
  std::set<std::string> confirm;         // --confirm STEP: without a terminal, approves that last resort
                                         // (or says that manual step is done)
  std::set<std::string> vouch;           // --vouch STEP: without a terminal, that step's unknown guard holds
  std::map<std::string, bool> answers;   // --answer "QUESTION=yes"
  const std::atomic<bool>* stop = nullptr;  // Ctrl-C: nothing more is approved
};

// What a person said, for the audit: written (and flushed) before the step goes on. False: it could
// not be recorded, and the approval does not count.
using RecordApproval = std::function<bool(const std::string& kind, const std::string& step, bool approved,
                                          const std::string& by, const std::string& how)>;

class OperatorAnswers : public Answers {
 public:
  // `prompter` null: no terminal. `record` may be empty (nothing recorded).
  OperatorAnswers(OperatorOptions options, Prompter* prompter, RecordApproval record);
  std::optional<bool> Answer(const std::string& question, int64_t now_ms) override;
  std::optional<bool> Peek(const std::string& question, int64_t now_ms) override;
  std::vector<Approval> Approvals(const PersonAsk& ask, int64_t now_ms) override;
  std::vector<Approval> Done(const PersonAsk& ask, int64_t now_ms) override;
  // An unknown guard: at a terminal the operator is shown why and asked whether it holds (no answer:
  // nobody said); without one it holds only when --vouch names the step. Neither --yes nor
  // --confirm says so: they approve commands, not what the system's state is.
  std::optional<Approval> Vouch(const PersonAsk& ask, int64_t now_ms) override;
  // Approvals refused or not given (denied at the prompt, no terminal, a last resort not allowed):
  // the run ends with exit 3.
  const std::vector<std::string>& refusals() const { return refusals_; }

 private:
  Approval Decide(const PersonAsk& ask, int64_t now_ms);
  Approval DecideDone(const PersonAsk& ask, int64_t now_ms);
  std::optional<std::string> Prompt(const std::string& text);

  OperatorOptions o_;
  Prompter* prompter_;
  RecordApproval record_;
  std::map<std::string, std::vector<Approval>> approvals_, done_;
  std::map<std::string, std::optional<bool>> asked_;
  std::vector<std::string> refusals_;
};

// "user@host" of this process, for the audit and the lock holder.
std::string OperatorName();

}  // namespace rb::rt
