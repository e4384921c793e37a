// The live verbs: `runbook run` (a dry run, a live run with its approvals, audit, locks, pages and
// resume; a fleet of runs) and `runbook audit` (docs/live.md).
#include "cli/verbs.hpp"
#include "cli/common.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <cmath>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <map>
#include <memory>
#include <thread>
#include <tuple>
#include <iostream>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "compiler/build.hpp"
#include "runtime/config.hpp"
#include "runtime/live.hpp"
#include "runtime/live_run.hpp"
#include "runtime/approvals.hpp"
#include "runtime/audit.hpp"
#include "runtime/journal.hpp"
#include "runtime/locks.hpp"
#include "runtime/redis_team.hpp"
#include "runtime/report.hpp"
#include "runtime/run_host.hpp"

extern char** environ;

namespace rb::cli {

namespace {

// What a live run holds by default: the runbook, and each target it declares when it has a step
// that may change something (docs/live.md, "Locks"). Sorted, so two runs take them in one order.
std::vector<std::string> DefaultLocks(const rt::Program& p, uint32_t index, const rt::Environment& env,
                                      const rt::ParamOverrides& given) {
  const rt::Runbook& r = p.runbooks.at(index);
  bool mutates = std::any_of(r.steps.begin(), r.steps.end(), [](const rt::Step& s) {
    return s.kind == rt::StepKind::kAction || s.kind == rt::StepKind::kLastResort || rt::MaxEffect(s.kind) > rt::Effect::kRead;
  });
  std::set<std::string> names;
  std::string scope = env.name.empty() ? std::string("env") : env.name;
  // A fleet member (a param the environment binds to a list, given one value) holds them for its
  // value only; any other --param leaves the locks as they are (two people, one remediation).
  std::string values;
  for (const auto& [k, v] : given.values) {
    const rt::EnvParam* e = rt::FindEnvParam(&env, p.Str(r.name), k);
    if (e == nullptr || e->fleet.empty()) continue;
    values += fmt::format("{}{}={}", values.empty() ? "[" : ",", k, v.text);
  }
  if (!values.empty()) values += "]";
  if (mutates) {
    names.insert(fmt::format("{}/runbook/{}{}", scope, p.Str(r.name), values));
    rt::Bindings b = rt::Bind(p, index, &env);
    for (const auto& t : b.targets) {
      if (!t.binding.empty()) names.insert(fmt::format("{}/target/{}{}", scope, t.binding, values));
    }
  }
  return {names.begin(), names.end()};
}

// Every `lock "..."` of the runbook and its steps, its name made from the run's params and target
// fields; false (with `error`) when a name cannot be made (an unbound param).
bool DeclaredLocks(const rt::Program& p, uint32_t index, const rt::Environment& env, const rt::ParamOverrides& overrides,
                   rt::Provider& provider, std::vector<std::string>& out, std::string& error) {
  const rt::Runbook& r = p.runbooks.at(index);
  if (r.locks.empty()) return true;
  rt::Bindings b = rt::Bind(p, index, &env, {&overrides});
  rt::RunFacts facts;
  rt::Trace trace;
  rt::MemoryStateStore scratch;
  NoAnswers nobody;
  rt::RunHost h(p, index, b, facts, provider, nobody, scratch, trace, rt::VmLimits{});
  h.NewInstant();
  std::string scope = env.name.empty() ? std::string("env") : env.name;
  for (const auto& l : r.locks) {
    std::string name = p.Str(l.text);
    if (l.chunk != rt::kNoChunk) {
      rt::Value v = h.Eval(l.chunk);
      if (v.type != rt::ValueType::kString) {
        error = fmt::format("the name of `lock \"{}\"` cannot be made: {} (bind it in the environment or with --param)", name,
                            trace.errors.empty() ? std::string("a value it reads is unknown") : trace.errors.front());
        return false;
      }
      name = v.Text();
    }
    out.push_back(fmt::format("{}/{}", scope, name));
  }
  return true;
}

// What a page is sent as: the contact's channels from the environment, and one dedup key per
// incident and escalation level.
rt::PageToSend ToSend(const rt::PageSent& page, const rt::Environment& env, const std::string& runbook, const std::string& title,
                      const std::string& severity, const std::string& run, const std::string& who, const std::string& incident) {
  rt::PageToSend p;
  p.contact = page.contact;
  p.display = page.display;
  p.handle = page.handle;
  if (auto c = env.contacts.find(page.contact); c != env.contacts.end()) {
    for (const auto& ch : c->second.channels) p.channels.emplace_back(ch.kind, ch.address);
  }
  p.message = page.message;
  p.runbook = runbook;
  p.title = title;
  p.environment = env.name;
  p.severity = severity;
  p.run = run;
  p.operator_name = who;
  p.dedup_key = fmt::format("{}/{}/{}/{}", env.name.empty() ? "env" : env.name, runbook, incident, severity);
  return p;
}

// A live run's pages: recorded in the audit before each is sent, sent on a thread of its own (the
// remediation never waits for a pager), retried within `delivery.deadline`, and the outcome of each
// channel recorded when it ends. With the team's Redis, a page another run already sent for this
// incident and level is not sent again.
// Lines the page threads have to say, shown by the run's thread between its own lines (never in
// the middle of a prompt or the status line).
class SayLater {
 public:
  void Add(std::string line) {
    std::lock_guard<std::mutex> hold(m_);
    lines_.push_back(std::move(line));
  }
  std::vector<std::string> Take() {
    std::lock_guard<std::mutex> hold(m_);
    std::vector<std::string> out;
    out.swap(lines_);
    return out;
  }

 private:
  std::mutex m_;
  std::vector<std::string> lines_;
};

class LiveNotifier : public rt::Notifier {
 public:
  LiveNotifier(rt::AuditJournal& journal, const rt::Environment& env, rt::RedisTeam* team, std::string runbook, std::string title,
               std::string run, std::string who, std::function<std::string(std::string)> redact, SayLater& say)
      : journal_(journal), env_(env), team_(team), runbook_(std::move(runbook)), title_(std::move(title)), run_(std::move(run)),
        who_(std::move(who)), redact_(std::move(redact)), say_(say) {
    incident_ = run_;
    if (team_ != nullptr) {  // the team's open incident of this runbook, if another run opened it
      std::string by;
      rt::RedisTeam::Claim c = team_->ClaimPage("incident/" + runbook_, run_, 6 * 3600, by);
      if (c == rt::RedisTeam::Claim::kTaken && !by.empty()) incident_ = by;
      opened_ = c == rt::RedisTeam::Claim::kFirst;
    }
  }
  // The run ended with the incident resolved: the next outage is a new incident, paged afresh.
  void Resolved() {
    if (team_ != nullptr) team_->ReleaseClaim("incident/" + runbook_, incident_);
  }
  ~LiveNotifier() override { Wait(); }
  void Page(const rt::PageSent& page, rt::Trace& trace) override {
    rt::PageToSend p = ToSend(page, env_, runbook_, title_, trace.severity, run_, who_, incident_);
    std::string error, claim;
    if (team_ != nullptr) {
      std::string by;
      std::string mine = fmt::format("{} (run {}) at {}", who_, run_, rt::AuditTimeNow());
      rt::RedisTeam::Claim c = team_->ClaimPage(p.dedup_key + "/" + p.contact, mine, 6 * 3600, by);
      claim = mine;
      if (c == rt::RedisTeam::Claim::kTaken) {
        trace.AddEvent(rt::TraceEvent::Kind::kPageHeld, page.at_ms, page.contact,
                       fmt::format("paged already for this incident at {} by {}: not paged again", trace.severity, by));
        journal_.Record("page", {{"contact", p.contact}, {"dedup_key", p.dedup_key}, {"status", "not sent: already paged by " + by}}, error);
        return;
      }
    }
    nlohmann::json channels = nlohmann::json::array();
    for (const auto& [k, a] : p.channels) channels.push_back(k + " " + a);
    if (p.channels.empty()) {  // nothing to send it through: said, audited, never silent
      journal_.Record("page", {{"contact", p.contact}, {"dedup_key", p.dedup_key}, {"status", "not sent: the environment lists no channel"}}, error);
      rt::PageSent shown = page;
      shown.message += " (NOT SENT: the environment's contacts list no channel for " + page.contact + ": page them by hand)";
      recording_.Page(shown, trace);
      std::lock_guard<std::mutex> hold(m_);
      undelivered_.push_back(fmt::format("page {}: NOT sent: the environment's contacts list no channel for it — page them by hand\n",
                                         page.contact));
      return;
    }
    journal_.Record("page", {{"contact", p.contact}, {"channel", channels}, {"dedup_key", p.dedup_key}, {"message", p.message},
                             {"severity", p.severity}, {"status", "sending"}},
                    error);
    rt::PageSent shown = page;
    shown.message += shown.message.empty() ? "(sending)" : " (sending)";
    recording_.Page(shown, trace);
    std::lock_guard<std::mutex> hold(m_);
    threads_.emplace_back([this, p, claim] {
      const rt::Environment& env = env_;
      std::vector<rt::Delivery> d = rt::SendPage(p, env_.delivery, [&env](const std::string& n, std::string& why) { return rt::ReadSecret(env, n, why); });
      std::string e;
      nlohmann::json out = nlohmann::json::array();
      for (const auto& x : d) {
        out.push_back({{"channel", x.kind + " " + x.address}, {"delivered", x.delivered}, {"attempts", x.attempts}, {"status", x.status},
                       {"reason", x.reason}, {"ms", x.elapsed_ms}});
      }
      journal_.Record("page_end", {{"contact", p.contact}, {"dedup_key", p.dedup_key}, {"deliveries", out}}, e);
      // Delivered nowhere: another run may try; the claim that it was paged is given back.
      bool any = std::any_of(d.begin(), d.end(), [](const rt::Delivery& x) { return x.delivered; });
      if (!any && team_ != nullptr && !claim.empty()) team_->ReleaseClaim(p.dedup_key + "/" + p.contact, claim);
      // Said as soon as it is known (at the run's next line), while the remediation goes on: a page
      // that did not reach anyone is for the operator to make by hand now, not at the end of the run.
      std::lock_guard<std::mutex> hold(m_);
      for (const auto& x : d) {
        std::string line = redact_(x.delivered ? fmt::format("page {}: delivered to {} {} ({}, {} attempt{}, {} ms)\n", p.contact, x.kind,
                                                             x.address, x.url, x.attempts, x.attempts == 1 ? "" : "s", x.elapsed_ms)
                                               : fmt::format("page {}: NOT delivered to {} {}: {} — page them by hand\n", p.contact,
                                                             x.kind, x.address, x.reason));
        if (!x.delivered) undelivered_.push_back(line);
        say_.Add(std::move(line));
      }
    });
  }
  // Waits for every page still being sent (each ends by its deadline), says what is left to say,
  // and lists again every page that reached no one.
  void Wait() {
    std::vector<std::thread> ts;
    {
      std::lock_guard<std::mutex> hold(m_);
      ts.swap(threads_);
    }
    for (auto& t : ts) t.join();
    for (const auto& line : say_.Take()) std::cerr << line;
    std::lock_guard<std::mutex> hold(m_);
    if (!undelivered_.empty()) {
      std::cerr << fmt::format("runbook: {} page{} reached no one:\n", undelivered_.size(), undelivered_.size() == 1 ? "" : "s");
      for (const auto& line : undelivered_) std::cerr << "  " << line;
      undelivered_.clear();
    }
  }
  const std::string& incident() const { return incident_; }

 private:
  rt::AuditJournal& journal_;
  const rt::Environment& env_;
  rt::RedisTeam* team_;
  std::string runbook_, title_, run_, who_, incident_;
  bool opened_ = false;
  std::function<std::string(std::string)> redact_;
  rt::RecordingNotifier recording_;
  std::mutex m_;
  std::vector<std::thread> threads_;
  SayLater& say_;
  std::vector<std::string> undelivered_;
};

// A dry run's pages: shown with each payload that a live run would send, and not sent.
class DryRunNotifier : public rt::Notifier {
 public:
  DryRunNotifier(const rt::Environment& env, std::string runbook, std::string title, std::function<std::string(std::string)> redact)
      : env_(env), runbook_(std::move(runbook)), title_(std::move(title)), redact_(std::move(redact)) {}
  void Page(const rt::PageSent& page, rt::Trace& trace) override {
    recording_.Page(page, trace);
    rt::PageToSend p = ToSend(page, env_, runbook_, title_, trace.severity, "dry-run", rt::OperatorName(), "dry-run");
    const rt::Environment& env = env_;
    for (const auto& d : rt::PagePayloads(p, env_.delivery, [&env](const std::string& n, std::string& why) { return rt::ReadSecret(env, n, why); })) {
      std::cerr << redact_(fmt::format("          would send to {} {}{}: {}\n", d.kind, d.address, d.url.empty() ? "" : " (" + d.url + ")",
                                       d.payload.empty() ? d.reason : d.payload));
    }
  }

 private:
  const rt::Environment& env_;
  std::string runbook_, title_;
  std::function<std::string(std::string)> redact_;
  rt::RecordingNotifier recording_;
};

std::string Hex64(uint64_t v) { return fmt::format("{:016x}", v); }

}  // namespace

namespace {

// A fleet: the runbook walked once per value of a list param, each run a `runbook run` of its own
// (its own run id, audit records and locks, the value given with --param), at most
// --max-concurrency at once; once --max-errors runs have failed, no new one starts.
int RunFleet(const RunArgs& args, const std::string& file, const std::string& param, const std::vector<std::string>& values) {
  const size_t total = values.size();
  size_t budget = 1;
  if (!args.max_errors.empty()) {
    const std::string& m = args.max_errors;
    char* end = nullptr;
    double n = std::strtod(m.c_str(), &end);
    bool percent = end != nullptr && *end == '%' && end[1] == '\0';
    if (end == m.c_str() || (!percent && *end != '\0') || n < 0 || (percent && n > 100) || (!percent && n != std::floor(n))) {
      std::cerr << "runbook: --max-errors " << m << ": write a count (2) or a share of the fleet (20%)\n";
      return 2;
    }
    budget = percent ? static_cast<size_t>(std::floor(n / 100.0 * static_cast<double>(total))) : static_cast<size_t>(n);
    if (budget == 0) budget = 1;
  }
  if (args.max_concurrency < 1) {
    std::cerr << "runbook: --max-concurrency " << args.max_concurrency << ": at least 1\n";
    return 2;
  }
  std::vector<std::string> base{"run", file, "--env", args.env, "--color", "never"};
  auto add = [&](const char* flag, const std::string& v) {
    if (!v.empty()) base.insert(base.end(), {flag, v});
  };
  if (args.dry_run) base.push_back("--dry-run");
  if (args.yes) base.push_back("--yes");
  if (args.allow_last_resort) base.push_back("--allow-last-resort");
  for (const auto& c : args.confirm) add("--confirm", c);
  for (const auto& c : args.vouch) add("--vouch", c);
  for (const auto& a : args.answers) add("--answer", a);
  for (const auto& x : args.params) add("--param", x);
  for (const auto& x : args.module_path) add("--path", x);
  add("--runbook", args.runbook);
  add("--for", args.for_text);
  add("--tick", args.tick_text);
  add("--wait-lock", args.wait_lock_text);
  add("--stdlib", args.stdlib_dir);
  const bool json_out = args.format == "json";
  if (json_out) base.insert(base.end(), {"--format", "json"});
  std::cerr << fmt::format("fleet {} · {} members · at most {} at once · no new run once {} ha{} failed\n", param, total,
                           args.max_concurrency, budget, budget == 1 ? "s" : "ve");
  // Each member's stderr (its progress) and stdout (its summary, or its JSON events) on pipes of
  // their own: tagged lines on stderr, and with --format json its events on stdout, each naming it.
  struct Member {
    pid_t pid = -1;
    int fd[2] = {-1, -1};  // its stdout, its stderr
    std::string value, partial[2], outcome;
    int exit = -1;
  };
  std::vector<Member> members(total);
  size_t next = 0, failed = 0, running = 0;
  std::signal(SIGINT, OnInterrupt);
  std::signal(SIGTERM, OnInterrupt);
  auto launch = [&](size_t i) {
    Member& m = members[i];
    m.value = values[i];
    std::vector<std::string> argv{"/proc/self/exe"};
    argv.insert(argv.end(), base.begin(), base.end());
    argv.insert(argv.end(), {"--param", param + "=" + values[i]});
    int out[2], err[2];
    if (pipe2(out, O_CLOEXEC) != 0) return false;
    if (pipe2(err, O_CLOEXEC) != 0) {
      close(out[0]);
      close(out[1]);
      return false;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err[1], 2);
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    int rc = posix_spawn(&m.pid, cargv[0], &fa, nullptr, cargv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    close(out[1]);
    close(err[1]);
    if (rc != 0) {
      close(out[0]);
      close(err[0]);
      m.exit = 2;
      m.outcome = std::string("could not start: ") + std::strerror(rc);
      return false;
    }
    m.fd[0] = out[0];
    m.fd[1] = err[0];
    ++running;
    return true;
  };
  auto print_line = [&](Member& m, int which, const std::string& line) {
    if (json_out && which == 0) {  // one JSON event: tagged with the member it is of
      nlohmann::json e = nlohmann::json::parse(line, nullptr, false);
      if (e.is_object()) {
        e["member"] = {{"param", param}, {"value", m.value}};
        if (rt::RecordText(e, "type") == "summary") m.outcome = rt::RecordText(e, "outcome");
        std::cout << e.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n" << std::flush;
        return;
      }
    }
    std::cerr << fmt::format("[{}={}] {}\n", param, m.value, line);
    size_t at = line.find("on the real clock; ");
    if (at != std::string::npos) m.outcome = line.substr(at + 19);
  };
  for (;;) {
    while (running < static_cast<size_t>(args.max_concurrency) && next < total && failed < budget && !g_interrupted.load()) {
      if (!launch(next)) ++failed;
      ++next;
    }
    if (running == 0) break;
    std::vector<pollfd> fds;
    std::vector<size_t> who;
    for (size_t i = 0; i < next; ++i) {
      for (int w = 0; w < 2; ++w) {
        if (members[i].fd[w] >= 0) {
          fds.push_back(pollfd{members[i].fd[w], POLLIN, 0});
          who.push_back(i * 2 + static_cast<size_t>(w));
        }
      }
    }
    if (poll(fds.data(), fds.size(), 500) < 0 && errno != EINTR) break;
    for (size_t k = 0; k < fds.size(); ++k) {
      if ((fds[k].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      Member& m = members[who[k] / 2];
      const int w = static_cast<int>(who[k] % 2);
      char buf[8192];
      ssize_t n = read(m.fd[w], buf, sizeof buf);
      if (n > 0) {
        m.partial[w].append(buf, static_cast<size_t>(n));
        for (size_t nl = m.partial[w].find('\n'); nl != std::string::npos; nl = m.partial[w].find('\n')) {
          print_line(m, w, m.partial[w].substr(0, nl));
          m.partial[w].erase(0, nl + 1);
        }
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (!m.partial[w].empty()) print_line(m, w, m.partial[w]);
      m.partial[w].clear();
      close(m.fd[w]);
      m.fd[w] = -1;
      if (m.fd[1 - w] >= 0) continue;  // its other pipe is still open
      int status = 0;
      waitpid(m.pid, &status, 0);
      m.exit = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      --running;
      if (m.exit != 0) ++failed;
    }
  }
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  // The fleet's exit: 0 when every member closed its incident; 3 when one was refused (a lock held,
  // an approval not given); else 1 (not resolved, not started), or 2 when members only failed to
  // start or to read their files.
  size_t ok = 0;
  bool any_refused = false, any_unresolved = total > next, any_error = false;
  std::string out = fmt::format("\nfleet {} · {} members\n", param, total);
  nlohmann::json list = nlohmann::json::array();
  for (size_t i = 0; i < total; ++i) {
    const Member& m = members[i];
    if (i >= next) {
      std::string why = g_interrupted.load() ? "stopped by Ctrl-C" : fmt::format("the error budget ({}) was spent", budget);
      out += fmt::format("  {:<16} not started: {}\n", values[i], why);
      list.push_back({{"value", values[i]}, {"started", false}, {"outcome", "not started: " + why}});
      continue;
    }
    ok += m.exit == 0;
    any_refused |= m.exit == 3;
    any_error |= m.exit == 2;
    any_unresolved |= m.exit != 0 && m.exit != 2 && m.exit != 3;
    out += fmt::format("  {:<16} exit {}  {}\n", m.value, m.exit, m.outcome.empty() ? std::string("-") : m.outcome);
    list.push_back({{"value", m.value}, {"started", true}, {"exit", m.exit}, {"outcome", m.outcome}});
  }
  out += fmt::format("{} ran: {} ok, {} failed; {} not started\n", next, ok, next - ok, total - next);
  int rc = ok == total ? 0 : any_refused ? 3 : any_unresolved ? 1 : any_error ? 2 : 1;
  if (json_out) {
    std::cout << nlohmann::json{{"type", "fleet"}, {"param", param}, {"members", list}, {"ran", next}, {"ok", ok}, {"exit", rc}}.dump(
                     -1, ' ', false, nlohmann::json::error_handler_t::replace)
              << "\n";
  } else {
    std::cout << out;
  }
  return rc;
}

}  // namespace

int RunRun(const RunArgs& args) {
  if (args.env.empty()) {
    std::cerr << "runbook: run reads live servers: name them with --env FILE (see runbooks/environment.example.yaml)\n";
    return 2;
  }
  if (args.dry_run && !args.resume.empty()) {
    std::cerr << "runbook: --resume continues a live run; a dry run has nothing to resume (drop --dry-run or --resume)\n";
    return 2;
  }
  int64_t for_ms = 0, tick_ms = 15000, wait_lock_ms = 0;
  for (auto [text, out, flag] : {std::tuple{&args.for_text, &for_ms, "--for"}, std::tuple{&args.tick_text, &tick_ms, "--tick"},
                                 std::tuple{&args.wait_lock_text, &wait_lock_ms, "--wait-lock"}}) {
    if (text->empty()) continue;
    std::optional<int64_t> ms = rt::ParseDurationMs(*text);
    if (!ms || *ms <= 0) {
      std::cerr << "runbook: " << flag << " " << *text << ": not a duration such as 10m or 30s\n";
      return 2;
    }
    *out = *ms;
  }
  std::map<std::string, bool> answers;
  for (const auto& a : args.answers) {
    size_t eq = a.rfind('=');
    std::string v = eq == std::string::npos ? std::string() : a.substr(eq + 1);
    if (eq == std::string::npos || eq == 0 || (v != "yes" && v != "no")) {
      std::cerr << "runbook: --answer " << a << ": write \"QUESTION=yes\" or \"QUESTION=no\"\n";
      return 2;
    }
    answers[a.substr(0, eq)] = v == "yes";
  }
  if (args.dry_run && (args.yes || args.allow_last_resort || !args.confirm.empty() || !args.vouch.empty() || !args.wait_lock_text.empty())) {
    std::cerr << "runbook: --yes, --allow-last-resort, --confirm, --vouch and --wait-lock are for live runs; a dry run approves nothing "
                 "(drop them, or drop --dry-run)\n";
    return 2;
  }

  // --resume RUN: the run's records say which file, runbook, environment and params it walked.
  std::vector<nlohmann::json> resumed;
  std::string file = args.file, runbook_name = args.runbook, resumed_env;
  std::vector<std::string> params = args.params;
  std::string audit_path;
  // Reads the records of the run resumed into `resumed`: 0 when there is something to resume, else
  // the exit code, said why. Read again once the run's locks are held: another resume of the same
  // run may have gone on in the meantime.
  auto read_resumed = [&]() -> int {
    std::vector<nlohmann::json> all;
    std::string error;
    if (!rt::ReadAudit(audit_path, all, error)) {
      std::cerr << "runbook: --resume " << args.resume << ": " << error << "\n";
      return 2;
    }
    resumed = rt::RunRecords(all, args.resume);
    const nlohmann::json* start = nullptr;
    for (const auto& r : resumed) {
      if (rt::RecordText(r, "kind") == "run_start") {
        start = &r;
        break;
      }
    }
    if (start == nullptr) {
      std::cerr << fmt::format("runbook: --resume {}: no such run in {} (runbook audit show --env {} lists the runs)\n", args.resume,
                               audit_path, args.env);
      return 2;
    }
    // A run that ended is done with, unless a change of it still has an unknown outcome (a start
    // recorded without an end): resuming it is how the operator answers for that change.
    std::set<std::string> open_changes;
    auto key = [](const nlohmann::json& r) {
      return fmt::format("{}|{}|{}", rt::RecordText(r, "step"), rt::RecordInt(r, "n"), rt::RecordInt(r, "cmd"));
    };
    for (const auto& r : resumed) {
      if (rt::RecordText(r, "kind") == "exec_start") open_changes.insert(key(r));
      if (rt::RecordText(r, "kind") == "exec_end") open_changes.erase(key(r));
    }
    const nlohmann::json& last = resumed.back();
    if (rt::RecordText(last, "kind") == "run_end" && open_changes.empty()) {
      std::cerr << fmt::format("runbook: --resume {}: that run ended at {} (exit {}) with every change's end recorded: there is "
                               "nothing to resume; start a new run\n",
                               args.resume, rt::RecordText(last, "at"), rt::RecordInt(last, "exit", -1));
      return 2;
    }
    if (file.empty()) file = rt::RecordText(*start, "file");
    if (runbook_name.empty()) runbook_name = rt::RecordText(*start, "runbook");
    resumed_env = rt::RecordText(*start, "env");
    // The same params, or the resumed run's changes would be matched to other targets.
    std::vector<std::string> was;
    const bool has_params = start->contains("params") && (*start)["params"].is_array();
    if (has_params) {
      for (const auto& v : (*start)["params"]) {
        if (v.is_string()) was.push_back(v.get<std::string>());
      }
    }
    if (!has_params) {
      std::cerr << fmt::format("runbook: warning: --resume {}: its record does not say which --param values it had; resuming "
                               "with {}\n",
                               args.resume, args.params.empty() ? std::string("none") : fmt::format("--param {}", fmt::join(args.params, " --param ")));
    } else if (args.params.empty()) {
      params = was;
    } else if (args.params != was) {  // in order: a later value of one name wins
      std::cerr << fmt::format("runbook: --resume {}: that run was started with {}; resume it with the same --param values, or "
                               "with none (they are taken from its record)\n",
                               args.resume, was.empty() ? std::string("no --param") : fmt::format("--param {}", fmt::join(was, " --param ")));
      return 2;
    }
    return 0;
  };
  if (!args.resume.empty()) {
    rt::Environment env_only;
    if (!LoadEnv(args.env, env_only)) return 2;
    audit_path = env_only.audit.path;
    if (int rc = read_resumed()) return rc;
  }
  if (file.empty()) {
    std::cerr << "runbook: run needs the runbook file: runbook run FILE --env E\n";
    return 2;
  }

  Inputs in;
  if (int rc = LoadInputs(file, args.env, args.color, args.stdlib_dir, args.module_path, in)) return rc;
  const rt::Program& p = *in.loaded.program;
  std::optional<uint32_t> index;
  if (!runbook_name.empty()) {
    index = FindRunbook(p, runbook_name);
  } else if (p.runbooks.size() == 1) {
    index = 0;
  }
  if (!index) {
    std::cerr << "runbook: " << file << (runbook_name.empty() ? " holds several runbooks: name one with --runbook (" : " has no runbook `" + runbook_name + "` (it has: ")
              << RunbookNames(p) << ")\n";
    return 2;
  }
  rt::ParamOverrides overrides;
  if (!ParseParams(params, overrides)) return 2;
  overrides.source = "--param";
  // A param bound to a list in the environment, and not given with --param: a fleet, one run each.
  for (const auto& prm : p.runbooks[*index].params) {
    const std::string pn = p.Str(prm.name);
    if (overrides.values.count(pn) != 0) continue;
    const rt::EnvParam* e = rt::FindEnvParam(&in.env, p.Str(p.runbooks[*index].name), pn);
    if (e != nullptr && !e->fleet.empty()) {
      if (!args.resume.empty()) {
        std::cerr << "runbook: --resume continues one run; resume a fleet member's run, which --param " << pn << "=VALUE names\n";
        return 2;
      }
      return RunFleet(args, file, pn, e->fleet);
    }
  }
  if (args.max_concurrency != 1 || !args.max_errors.empty()) {
    std::cerr << "runbook: --max-concurrency and --max-errors are for fleets: a param bound to a list in the environment "
                 "(params: {\"*\": {node: [node-1, node-2]}})\n";
    return 2;
  }

  const rt::Registry registry = rt::WithProgramTables(in.registry, p);
  rt::LiveProvider provider(in.env, &registry);
  // Windows from the environment's state store, so a window a previous run opened is still counting.
  std::unique_ptr<rt::StateStore> state = OpenStateStore(in.env);
  if (!state) return 2;
  bool color = UseColor(args.color);
  const std::string& name = p.Str(p.runbooks[*index].name);
  const std::string env_name = in.env.name.empty() ? args.env : in.env.name;
  const std::string mode = args.dry_run ? "run --dry-run" : "run";
  size_t shown = 0;
  SayLater said_later;  // what the page threads have to say
  std::string run_id;  // a live run's, once it has one
  rt::DryRunOptions o;
  o.env = &in.env;
  o.params = &overrides;
  o.for_ms = for_ms;
  o.tick_ms = tick_ms;
  o.answers = answers;
  o.stop = &g_interrupted;
  // Progress: each event as it happens on stderr; `--format json` also streams them on stdout, one
  // object per line. On a terminal a status line under them says where the run is.
  const bool status_line = isatty(2) != 0;
  const auto started = std::chrono::steady_clock::now();
  size_t instants = 0;
  std::string current;  // the step in progress
  auto show_events = [&](const rt::Trace& t) {
    if (status_line) std::cerr << "\r\x1b[K";
    for (const auto& line : said_later.Take()) std::cerr << line;
    for (; shown < t.events.size(); ++shown) {
      const rt::TraceEvent& e = t.events[shown];
      if (e.kind == rt::TraceEvent::Kind::kStepStart) current = e.name + " (" + e.status + ")";
      if (e.kind == rt::TraceEvent::Kind::kStepEnd && current.rfind(e.name + " ", 0) == 0) current.clear();
      std::cerr << provider.Redact(rt::RenderEvent(e, color && status_line));
      if (args.format == "json") std::cout << provider.Redact(rt::EventJsonLine(e, run_id)) << std::flush;
    }
  };
  o.before_asking = show_events;
  o.after_instant = [&](const rt::Trace& t) {
    ++instants;
    show_events(t);
    if (status_line) {
      double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      std::cerr << fmt::format("── {} · {} · instant {} · Ctrl-C stops", rt::FormatMs(static_cast<int64_t>(secs * 1000) / 1000 * 1000),
                               current.empty() ? std::string("between steps") : "step " + current, instants)
                << std::flush;
    }
    return true;
  };
  auto summary = [&](const rt::Trace& trace, const std::string& tail, int rc = -1) {
    if (status_line) std::cerr << "\r\x1b[K" << std::flush;
    if (args.format == "json") {
      nlohmann::json doc{{"type", "summary"}, {"trace", nlohmann::json::parse(rt::TraceJson(trace), nullptr, false)}, {"outcome", tail}};
      if (!run_id.empty()) doc["run"] = run_id;
      if (rc >= 0) doc["exit"] = rc;
      std::cout << provider.Redact(doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)) << "\n";
      return;
    }
    std::cout << fmt::format("\n{} {} · environment {} · {} on the real clock; {}\n", mode, name, env_name,
                             rt::FormatMs(trace.duration_ms), tail);
    // On one terminal the timeline was just shown as it happened: the outcome is enough.
    bool shown_here = isatty(1) && isatty(2);
    std::cout << provider.Redact(shown_here ? rt::RenderOutcome(trace, color) : rt::RenderTimeline(trace, color));
  };
  auto step_failed = [](const rt::Trace& trace) {
    return std::any_of(trace.steps.begin(), trace.steps.end(),
                       [](const rt::StepRun& s) { return s.status == lang::Name(lang::StepStatus::kFailed); });
  };

  if (args.dry_run) {
    std::signal(SIGINT, OnInterrupt);
    std::signal(SIGTERM, OnInterrupt);
    // Progress as it happens on stderr; the summary (or the JSON) on stdout.
    std::cerr << fmt::format("run --dry-run {} · environment {} · real clock, evaluated every {}{}\n", name, env_name,
                             rt::FormatMs(tick_ms), for_ms ? " for " + rt::FormatMs(for_ms) : std::string(" until the sequence ends"));
    std::cerr << "nothing is changed: probes and read commands are real; writes, capability calls and pages are shown, "
                 "not done (Ctrl-C stops)\n";
    DryRunNotifier pages(in.env, name, p.Str(p.runbooks[*index].title), [&provider](std::string s) { return provider.Redact(std::move(s)); });
    o.notifier = &pages;
    rt::Trace trace = rt::DryRun(p, registry, *index, provider, *state, o);
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    // 0: the walk went through with no step failing; 1: a step failed, or an error stopped it.
    int rc = trace.errors.empty() && !step_failed(trace) ? 0 : 1;
    summary(trace, "nothing was changed", rc);
    return rc;
  }

  // ---- A live run: locks, the audit, the operator's approvals ----
  const std::string source_hash = Hex64(p.source_hash);
  if (!resumed.empty() && resumed_env != env_name) {
    std::cerr << fmt::format("runbook: --resume {}: that run walked the environment {}, not {}: resume it with that environment's "
                             "file\n",
                             args.resume, resumed_env.empty() ? std::string("?") : resumed_env, env_name);
    return 2;
  }
  if (!resumed.empty()) {
    std::string was = rt::RecordText(resumed.front(), "source_hash");
    if (was != source_hash) {
      std::cerr << fmt::format("runbook: --resume {}: {} changed since that run (source hash {} then, {} now): what was done "
                               "cannot be matched to its steps; restore the runbook as it was, or start a new run\n",
                               args.resume, file, was, source_hash);
      return 2;
    }
  }
  run_id = args.resume.empty() ? rt::NewRunId() : args.resume;
  const std::string who = rt::OperatorName();
  rt::AuditLog log(in.env.audit.path);
  std::string error;
  if (!log.Open(error)) {
    std::cerr << "runbook: " << error << "\n";
    return 2;
  }
  rt::LockHolder me{who, run_id, static_cast<int64_t>(getpid()), rt::AuditTimeNow()};
  std::vector<std::unique_ptr<rt::LocalLock>> locks;
  std::vector<std::string> lock_list = DefaultLocks(p, *index, in.env, overrides);
  if (!DeclaredLocks(p, *index, in.env, overrides, provider, lock_list, error)) {
    std::cerr << "runbook: " << error << "\n";
    return 2;
  }
  std::sort(lock_list.begin(), lock_list.end());  // one order for every run: no two wait on each other
  lock_list.erase(std::unique(lock_list.begin(), lock_list.end()), lock_list.end());
  // With the team's state in Redis, each lock is a lease there (SET NX PX with a token, renewed while
  // held, released by its holder only, a fencing number recorded in the audit); else a local flock.
  TeamStore* team = dynamic_cast<TeamStore*>(state.get());
  std::vector<std::unique_ptr<rt::LeaseKeeper>> leases;
  std::vector<std::pair<std::string, std::string>> lease_tokens;
  std::vector<std::pair<std::string, int64_t>> fences;
  auto release_leases = [&] { leases.clear(); };
  for (const auto& lock : lock_list) {
    if (team != nullptr) {
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_lock_ms);
      for (;;) {
        std::string token;
        rt::RedisTeam::LeaseHolder holder;
        int64_t fence = 0, ttl_left = 0;
        rt::RedisTeam::LeaseResult r = team->team().Acquire(lock, who, run_id, me.since, in.env.locks.ttl_ms, token, holder, fence, &ttl_left);
        if (r == rt::RedisTeam::LeaseResult::kHeld) {
          leases.push_back(std::make_unique<rt::LeaseKeeper>(team->team(), lock, token, in.env.locks.ttl_ms));
          lease_tokens.emplace_back(lock, token);
          fences.emplace_back(lock, fence);
          break;
        }
        if (r == rt::RedisTeam::LeaseResult::kError) {
          team->team().Release(lock, token);  // it may have been taken all the same
          std::cerr << fmt::format("runbook: cannot take the lease {} in the team's Redis ({}): {}; nothing was changed\n", lock,
                                   in.env.state.address, team->team().last_error());
          release_leases();
          return 2;
        }
        if (std::chrono::steady_clock::now() >= deadline) {
          std::cerr << fmt::format("runbook: refused: {} is held by {} (run {}) since {}, lease fence {}, {} left on it unless "
                                   "renewed; wait for it to end, or run with --wait-lock 5m to wait\n",
                                   lock, holder.who, holder.run.empty() ? "?" : holder.run, holder.since.empty() ? "?" : holder.since,
                                   holder.fence, rt::FormatMs(ttl_left));
          release_leases();
          return 3;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
      continue;
    }
    std::unique_ptr<rt::LocalLock> held;
    rt::LockHolder holder;
    rt::LocalLock::Result r = rt::LocalLock::Acquire(in.env.locks.path, lock, me, wait_lock_ms, held, holder, error);
    if (r == rt::LocalLock::Result::kError) {
      std::cerr << "runbook: " << error << "\n";
      return 2;
    }
    if (r == rt::LocalLock::Result::kBusy) {
      std::cerr << fmt::format("runbook: refused: {} is held by {} (run {}, pid {}) since {}{}; wait for it to end, or run with "
                               "--wait-lock 5m to wait\n",
                               lock, holder.who, holder.run.empty() ? "?" : holder.run, holder.pid, holder.since.empty() ? "?" : holder.since,
                               wait_lock_ms ? " (waited " + rt::FormatMs(wait_lock_ms) + ")" : "");
      return 3;
    }
    locks.push_back(std::move(held));
  }
  if (!args.resume.empty()) {  // read again, now that no other run of these locks can append
    if (int rc = read_resumed()) return rc;
  }
  std::unique_ptr<rt::TerminalPrompter> terminal = std::make_unique<rt::TerminalPrompter>(0, 2, &g_interrupted);
  rt::Prompter* prompter = terminal->Usable() ? terminal.get() : nullptr;
  auto redact = [&provider](std::string s) { return provider.Redact(std::move(s)); };
  std::set<std::string> confirm(args.confirm.begin(), args.confirm.end());
  rt::AuditJournal journal(log, rt::RunIdentity{run_id, who, env_name, name, file, source_hash}, redact, resumed, prompter, confirm);
  nlohmann::json lock_names = lock_list;
  if (!fences.empty()) {
    int64_t fence = 0;
    for (const auto& [name, f] : fences) fence = std::max(fence, f);
    journal.SetFence(fence);
  }
  // A lease lost mid-run (Redis gone past its TTL, or taken by another): nothing more is changed.
  journal.SetGuard([&]() -> std::optional<std::string> {
    if (g_interrupted.load()) return std::string("the run was stopped by Ctrl-C: nothing more is changed");
    for (const auto& l : leases) {
      if (l->lost()) return fmt::format("the lease {} was {}: another run may hold it now, so nothing more is changed", l->name(), l->why());
    }
    // Renewed right now, and only while still ours (the keeper's thread may not have noticed a loss
    // yet: a laptop asleep at the prompt, a stalled network).
    for (const auto& [lease, token] : lease_tokens) {
      if (!team->team().Renew(lease, token, in.env.locks.ttl_ms)) {
        std::string why = team->team().last_error();
        return fmt::format("the lease {} could not be renewed right before the change ({}): another run may hold it now, so nothing "
                           "more is changed",
                           lease, why.empty() ? "it is no longer ours" : why);
      }
    }
    return std::nullopt;
  });
  // The team's log: every record copied to the Redis Stream the environment names.
  std::atomic<bool> mirror_warned{false};
  if (team != nullptr && !in.env.audit.stream.empty()) {
    journal.SetMirror([&](const nlohmann::json& record) {
      if (!team->team().AppendStream(in.env.audit.stream, record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)).empty()) return;
      if (!mirror_warned) {
        std::cerr << fmt::format("runbook: warning: the audit copy to the team's stream {} failed ({}); the local log {} has every "
                                 "record\n",
                                 in.env.audit.stream, team->team().last_error(), in.env.audit.path);
      }
      mirror_warned = true;
    });
  }
  nlohmann::json fence_list = nlohmann::json::object();
  for (const auto& [name, f] : fences) fence_list[name] = f;
  if (!journal.Record("run_start",
                      {{"file", file}, {"locks", lock_names}, {"fences", fence_list}, {"yes", args.yes}, {"allow_last_resort", args.allow_last_resort},
                       {"confirm", args.confirm}, {"vouch", args.vouch}, {"params", params}, {"pid", static_cast<int64_t>(getpid())}, {"resume_of", args.resume}},
                      error)) {
    std::cerr << "runbook: refused: the audit log cannot be written, so nothing may change: " << error << "\n";
    return 2;
  }
  rt::OperatorOptions oo;
  oo.who = who;
  oo.yes = args.yes;
  oo.allow_last_resort = args.allow_last_resort;
  oo.confirm = confirm;
  oo.vouch = std::set<std::string>(args.vouch.begin(), args.vouch.end());
  oo.answers = answers;
  oo.stop = &g_interrupted;
  rt::OperatorAnswers people(oo, prompter,
                             [&](const std::string& kind, const std::string& step, bool approved, const std::string& by, const std::string& how) {
                               std::string e;
                               return journal.Record(kind, {{"step", step}, {"approved", approved}, {"by", by}, {"how", how}}, e);
                             });
  LiveNotifier notifier(journal, in.env, team != nullptr ? &team->team() : nullptr, name, p.Str(p.runbooks[*index].title), run_id, who,
                        redact, said_later);
  if (team != nullptr) {  // the team sees who walks which incident, from its start
    nlohmann::json incident{{"runbook", name}, {"run", run_id}, {"operator", who}, {"started", me.since}, {"status", "in progress"}};
    team->team().PutIncident(notifier.incident() + "/" + run_id, incident.dump());
  }
  std::signal(SIGINT, OnInterrupt);
  std::signal(SIGTERM, OnInterrupt);
  std::cerr << fmt::format("run {} · environment {} · run {} · real clock, evaluated every {}{}\n", name, env_name, run_id,
                           rt::FormatMs(tick_ms), for_ms ? " for " + rt::FormatMs(for_ms) : std::string(" until the sequence ends"));
  std::cerr << fmt::format("LIVE: approved commands change {}; each is recorded in {} before it starts; holding {} (Ctrl-C stops{})\n",
                           env_name, in.env.audit.path, fmt::join(lock_names.get<std::vector<std::string>>(), ", "),
                           args.resume.empty() ? "" : "; resuming run " + args.resume);
  rt::Trace trace = rt::LiveRun(p, registry, *index, provider, *state, rt::LiveParts{people, notifier, &journal}, o);
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  notifier.Wait();  // pages still being sent end by their deadline

  // 3: something was refused; 1: not resolved (a symptom still holds or is unknown, a step failed or
  // is pending, a verify did not pass) or escalated (a page); 0: closed, every verify passed.
  std::vector<std::string> refused = people.refusals();
  for (const auto& u : journal.unknown_outcomes()) refused.push_back(u);
  for (const auto& u : journal.OpenChangesNotReached()) refused.push_back(u);
  for (const auto& f : journal.failures()) refused.push_back(f);
  const rt::Runbook& rb = p.runbooks[*index];
  bool clear = !trace.samples.empty() &&
               std::all_of(trace.samples.back().states.begin(), trace.samples.back().states.end(), [](rt::Tri t) { return t == rt::Tri::kFalse; });
  bool verified = true;
  for (const auto& st : rb.steps) {
    if (st.kind != rt::StepKind::kVerify) continue;
    bool passed = false;
    for (const auto& s : trace.steps) {
      if (s.name == p.Str(st.name)) passed = s.status == lang::Name(lang::StepStatus::kOk);
    }
    verified = verified && passed;
  }
  std::string outcome;
  int rc = 0;
  if (!refused.empty()) {
    rc = 3;
    outcome = "refused: " + fmt::format("{}", fmt::join(refused, "; "));
  } else if (!trace.errors.empty() || step_failed(trace) || !trace.pending_steps.empty() || !clear || !verified || !trace.pages.empty()) {
    rc = 1;
    outcome = !trace.pages.empty() ? "escalated: a page was due"
              : step_failed(trace) ? "not resolved: a step failed"
              : !clear             ? "not resolved: a symptom holds or is unknown"
              : !verified          ? "not resolved: a verify step did not pass"
                                   : "not resolved: a step is pending";
  } else {
    outcome = "resolved: every symptom is clear and every verify passed";
  }
  journal.Record("run_end", {{"exit", rc}, {"outcome", outcome}, {"ms", trace.duration_ms}}, error);
  if (team != nullptr) {  // the team's incident record: who walked it, how it ended
    nlohmann::json incident{{"runbook", name}, {"run", run_id}, {"operator", who}, {"severity", trace.severity},
                            {"ended", rt::AuditTimeNow()}, {"exit", rc}, {"outcome", outcome}};
    if (!team->team().PutIncident(notifier.incident() + "/" + run_id, provider.Redact(incident.dump()))) {
      std::cerr << "runbook: warning: the incident record could not be written to the team's Redis: " << team->team().last_error() << "\n";
    }
  }
  if (rc == 0) notifier.Resolved();
  summary(trace, outcome, rc);
  if (rc == 3) {
    for (const auto& r : refused) std::cerr << "runbook: refused: " << provider.Redact(r) << "\n";
  }
  return rc;
}

int RunAudit(const AuditArgs& args) {
  std::string path = args.file;
  rt::Environment env;
  if (!args.env.empty() && !LoadEnv(args.env, env)) return 2;
  if (path.empty()) path = env.audit.path;  // the default when no environment names one
  // The team's copy: the Redis Stream the environment names, when no file is given.
  std::vector<nlohmann::json> stream;
  bool from_stream = false;
  if (args.file.empty() && env.state.store == "redis" && !env.audit.stream.empty()) {
    rt::RedisTeamConfig c;
    std::string error;
    if (!TeamConfig(env, c, error)) {
      std::cerr << "runbook: " << error << "\n";
      return 2;
    }
    rt::RedisTeam team(c);
    std::vector<std::string> texts;
    if (!team.ReadStream(env.audit.stream, texts)) {
      std::cerr << fmt::format("runbook: cannot read the team's audit stream {} ({}): {}\n", env.audit.stream, env.state.address,
                               team.last_error());
      return 2;
    }
    for (const auto& t : texts) stream.push_back(nlohmann::json::parse(t, nullptr, false));
    from_stream = true;
  }
  if (args.action == "verify") {
    rt::AuditCheck check = rt::VerifyAudit(path);
    if (from_stream) {  // every copied record must still match its hash
      size_t n = 0;
      for (const auto& r : stream) {
        ++n;
        if (!rt::AuditRecordIntact(r)) {
          check.problems.push_back({0, fmt::format("the team's stream {}: entry {} (record {} of run {}) was edited: its hash does not "
                                                   "match its content",
                                                   env.audit.stream, n, r.is_object() ? r.value("seq", 0) : 0,
                                                   r.is_object() ? r.value("run", "?") : "?")});
        }
      }
      if (args.format != "json") std::cout << fmt::format("stream {}: {} records, each checked against its hash\n", env.audit.stream, n);
    }
    if (args.format == "json") {
      nlohmann::json problems = nlohmann::json::array();
      for (const auto& pr : check.problems) problems.push_back({{"line", pr.line}, {"message", pr.message}});
      std::cout << nlohmann::json{{"path", path}, {"records", check.records}, {"intact", check.problems.empty()}, {"problems", problems}}.dump(2)
                << "\n";
    } else if (check.problems.empty()) {
      std::cout << fmt::format("{}: intact: {} records, each chained to the one before (last hash {})\n", path, check.records,
                               check.last_hash.empty() ? "none" : check.last_hash.substr(0, 16));
    } else {
      for (const auto& pr : check.problems) {
        std::cout << (pr.line ? fmt::format("{}:{}: {}\n", path, pr.line, pr.message) : fmt::format("{}: {}\n", path, pr.message));
      }
      std::cout << fmt::format("{}: NOT intact: {} problem{} in {} records; the log is never rewritten: keep this copy for the "
                               "investigation\n",
                               path, check.problems.size(), check.problems.size() == 1 ? "" : "s", check.records);
    }
    return check.problems.empty() ? 0 : 1;
  }
  std::vector<nlohmann::json> records;
  std::string error;
  size_t skipped = 0;
  if (from_stream) {
    for (auto& r : stream) {
      if (r.is_object()) records.push_back(std::move(r));
      else ++skipped;
    }
  } else if (!rt::ReadAudit(path, records, error, &skipped)) {
    std::cerr << "runbook: " << error << "\n";
    return 2;
  }
  std::vector<nlohmann::json> story = rt::RunRecords(records, args.run);
  if (!args.run.empty() && story.empty()) {
    std::cerr << fmt::format("runbook: no run {} in {} (runbook audit show {} lists every run)\n", args.run, path, path);
    return 2;
  }
  if (args.format == "json") {
    for (const auto& r : story) std::cout << r.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  } else {
    std::cout << rt::RenderAuditStory(story);
    if (skipped) std::cout << fmt::format("({} line{} not records: runbook audit verify {} says what is wrong)\n", skipped, skipped == 1 ? " is" : "s are", path);
  }
  return 0;
}

}  // namespace rb::cli
