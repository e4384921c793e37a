#include "runtime/approvals.hpp"

#include <poll.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <climits>

#include <fmt/format.h>

namespace rb::rt {

bool TerminalPrompter::Usable() const { return isatty(in_) != 0; }

std::optional<std::string> TerminalPrompter::Ask(const std::string& question) {
  if (!Usable()) return std::nullopt;
  std::string text = question;
  for (size_t off = 0; off < text.size();) {
    ssize_t n = write(out_, text.data() + off, text.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::nullopt;
    off += static_cast<size_t>(n);
  }
  std::string line;
  for (;;) {
    if (stop_ != nullptr && stop_->load()) return std::nullopt;
    pollfd p{in_, POLLIN, 0};
    int r = poll(&p, 1, 200);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return std::nullopt;
    if (r == 0) continue;
    char c;
    ssize_t n = read(in_, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::nullopt;  // end of input: nobody answers
    if (c == '\n' || c == '\r') break;
    if (line.size() < 4096) line += c;
  }
  while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.pop_back();
  size_t b = line.find_first_not_of(" \t");
  return b == std::string::npos ? std::string() : line.substr(b);
}

OperatorAnswers::OperatorAnswers(OperatorOptions options, Prompter* prompter, RecordApproval record)
    : o_(std::move(options)), prompter_(prompter), record_(std::move(record)) {}

std::optional<std::string> OperatorAnswers::Prompt(const std::string& text) {
  if (prompter_ == nullptr) return std::nullopt;
  return prompter_->Ask(text);
}

namespace {
bool Yes(const std::string& s) { return s == "y" || s == "Y" || s == "yes" || s == "YES" || s == "Yes"; }
bool No(const std::string& s) { return s == "n" || s == "N" || s == "no" || s == "NO" || s == "No"; }

std::string Shown(const PersonAsk& ask) {
  std::string s;
  for (const auto& c : ask.commands) s += "    $ " + c + "\n";
  if (ask.commands.empty()) s += "    (no command: its instructions are for a person)\n";
  return s;
}
}  // namespace

std::optional<bool> OperatorAnswers::Peek(const std::string& question, int64_t now_ms) {
  (void)now_ms;
  auto given = o_.answers.find(question);
  if (given != o_.answers.end()) return given->second;
  auto it = asked_.find(question);
  return it == asked_.end() ? std::nullopt : it->second;
}

std::optional<bool> OperatorAnswers::Answer(const std::string& question, int64_t now_ms) {
  auto given = o_.answers.find(question);
  if (given != o_.answers.end()) return given->second;
  auto it = asked_.find(question);
  if (it != asked_.end()) return it->second;  // asked once per run; an empty answer stays unknown
  std::optional<bool> a;
  std::optional<std::string> line = Prompt(fmt::format("\n  ? {}  [y/n, empty: unknown] ", question));
  if (line && Yes(*line)) a = true;
  if (line && No(*line)) a = false;
  asked_[question] = a;
  if (a && record_) record_("answer", question, *a, o_.who, "typed at the prompt");
  (void)now_ms;
  return a;
}

Approval OperatorAnswers::Decide(const PersonAsk& ask, int64_t now_ms) {
  const bool last = ask.kind == "last_resort";
  auto deny = [&](std::string by, std::string how) {
    refusals_.push_back(fmt::format("{}: {}", ask.step, how));
    return Approval{false, std::move(by), now_ms};
  };
  if (o_.stop != nullptr && o_.stop->load()) return deny("nobody: the run was stopped by Ctrl-C", "the run was stopped by Ctrl-C");
  if (last) {
    if (!o_.allow_last_resort) {
      return deny("nobody: a last resort needs --allow-last-resort and its name typed",
                  "a last resort; the run did not have --allow-last-resort");
    }
    if (prompter_ != nullptr) {
      std::optional<std::string> typed = Prompt(fmt::format(
          "\n  LAST RESORT {} \"{}\" will run:\n{}  Type the step's name ({}) to run it; anything else refuses it: ",
          ask.step, ask.title, Shown(ask), ask.step));
      if (typed && *typed == ask.step) return Approval{true, o_.who + " (typed its name)", now_ms};
      if (typed) return deny(o_.who, fmt::format("its name was not typed (got \"{}\")", *typed));
      // At a terminal only the typed name runs it: Ctrl-C or Ctrl-D at the prompt refuses it.
      return deny("nobody: the prompt for its name got no answer", "its name was not typed (the prompt got no answer)");
    }
    if (o_.confirm.count(ask.step) != 0) return Approval{true, o_.who + " (--confirm " + ask.step + ")", now_ms};
    return deny("nobody: no terminal to type its name, and no --confirm " + ask.step,
                "a last resort with no terminal to type its name and no --confirm " + ask.step);
  }
  if (o_.yes) return Approval{true, o_.who + " (--yes)", now_ms};
  std::optional<std::string> line =
      Prompt(fmt::format("\n  {} {} \"{}\" will run:\n{}  Run it? [y/N] ", ask.kind, ask.step, ask.title, Shown(ask)));
  if (line && Yes(*line)) return Approval{true, o_.who, now_ms};
  if (line) return deny(o_.who, "denied at the prompt");
  return deny("nobody: no terminal to ask, and no --yes", "no terminal to ask, and no --yes");
}

std::vector<Approval> OperatorAnswers::Approvals(const PersonAsk& ask, int64_t now_ms) {
  // Called once per wait for an approval: each call is one question asked (or answered ahead).
  std::vector<Approval>& given = approvals_[ask.step];
  Approval a = Decide(ask, now_ms);
  if (record_ && !record_("approval", ask.step, a.approved, a.by, "")) {
    // What cannot be recorded is not approved: the step stays pending.
    a = Approval{false, "nobody: the approval could not be written to the audit", now_ms};
    refusals_.push_back(ask.step + ": the approval could not be written to the audit");
  }
  given.push_back(a);
  return given;
}

Approval OperatorAnswers::DecideDone(const PersonAsk& ask, int64_t now_ms) {
  std::optional<std::string> line = Prompt(fmt::format("\n  manual {} \"{}\": do it by hand. Done? [y/N] ", ask.step, ask.title));
  if (line && Yes(*line)) return Approval{true, o_.who, now_ms};
  if (line) return Approval{false, o_.who, now_ms};
  if (o_.confirm.count(ask.step) != 0) return Approval{true, o_.who + " (--confirm " + ask.step + ")", now_ms};
  return Approval{false, "nobody (no terminal to ask, and no --confirm " + ask.step + ")", now_ms};
}

std::vector<Approval> OperatorAnswers::Done(const PersonAsk& ask, int64_t now_ms) {
  std::vector<Approval>& given = done_[ask.step];
  Approval a = DecideDone(ask, now_ms);
  if (record_ && !record_("done", ask.step, a.approved, a.by, "")) {
    a = Approval{false, "nobody: the answer could not be written to the audit", now_ms};
  }
  given.push_back(a);
  return given;
}

std::optional<Approval> OperatorAnswers::Vouch(const PersonAsk& ask, int64_t now_ms) {
  if (o_.stop != nullptr && o_.stop->load()) return std::nullopt;
  Approval a;
  std::string why;
  for (const auto& u : ask.unknowns) why += "    " + u + "\n";
  std::optional<std::string> line = Prompt(fmt::format(
      "\n  UNKNOWN: {} {} \"{}\" runs when `{}`, and that is unknown:\n{}  Check the system. Does `{}` hold? [y/N] ", ask.kind,
      ask.step, ask.title, ask.guard, why.empty() ? "    (a probe it reads did not answer)\n" : why, ask.guard));
  if (line) {
    a = Approval{Yes(*line), o_.who, now_ms};
  } else if (prompter_ == nullptr && o_.vouch.count(ask.step) != 0) {
    a = Approval{true, o_.who + " (--vouch " + ask.step + ")", now_ms};
  } else {
    return std::nullopt;  // nobody said (or no answer at the prompt): the step stays pending
  }
  if (record_ && !record_("vouch", ask.step, a.approved, a.by, "its guard `" + ask.guard + "` was unknown")) {
    return Approval{false, "nobody: the answer could not be written to the audit", now_ms};
  }
  return a;
}

std::string OperatorName() {
  const char* user = std::getenv("USER");
  if (user == nullptr || *user == '\0') user = std::getenv("LOGNAME");
  std::string u = user != nullptr && *user != '\0' ? user : std::string();
  if (u.empty()) {
    const passwd* pw = getpwuid(getuid());
    u = pw != nullptr && pw->pw_name != nullptr ? pw->pw_name : fmt::format("uid{}", getuid());
  }
  char host[HOST_NAME_MAX + 1] = {0};
  if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  return u + "@" + (host[0] != '\0' ? host : "localhost");
}

}  // namespace rb::rt
