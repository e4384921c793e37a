#include "runtime/live_run.hpp"

#include <thread>

#include <fmt/format.h>

#include "runtime/executor.hpp"

namespace rb::rt {

int64_t RealClock::Now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start_).count();
}

void RealClock::AdvanceTo(int64_t at_ms) {
  for (int64_t now = Now(); now < at_ms; now = Now()) {
    if (stop_ != nullptr && stop_->load()) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min<int64_t>(at_ms - now, 100)));
  }
}

std::optional<int64_t> WallClockStateStore::Get(const std::string& key) {
  std::optional<int64_t> v = inner_.Get(key);
  if (!v) return v;
  return *v - start_;
}

std::optional<bool> DryRunAnswers::Answer(const std::string& question, int64_t now_ms) {
  (void)now_ms;
  auto it = answers_.find(question);
  if (it == answers_.end()) return std::nullopt;
  return it->second;
}

std::vector<Approval> DryRunAnswers::Approvals(const std::string& step, int64_t now_ms) {
  if (last_resorts_.count(step) == 0) return {};
  return {Approval{false, "dry run (a live run needs --allow-last-resort and the step's name typed)", now_ms}};
}

std::vector<Approval> DryRunAnswers::Done(const std::string& step, int64_t now_ms) {
  (void)step;
  return {Approval{true, "dry run (a live run waits for the operator)", now_ms}};
}

namespace {

// The walk both live modes share: the real clock, windows on wall-clock time, the incident opened by
// the operator, and the answers, notifier and journal each mode brings.
Trace PlayLive(const Program& program, const Registry& registry, uint32_t runbook, LiveProvider& provider,
               StateStore& state, Answers& answers, Notifier& notifier, Journal* journal, const DryRunOptions& options,
               const char* name) {
  Bindings bindings = Bind(program, runbook, options.env, {options.params});
  std::vector<std::string> unbound;
  for (const auto& bp : bindings.params) {
    if (bp.source != "unbound") continue;
    unbound.push_back(fmt::format("param `{}` of {} has no value: give it in the environment's params: or with --param {}=VALUE",
                                  bp.name, program.Str(program.runbooks.at(runbook).name), bp.name));
  }
  RealClock clock(options.stop);
  int64_t start_epoch_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  WallClockStateStore windows(state, start_epoch_ms);
  provider.SetWarmPrefetch(true);
  RunnerOptions run;
  run.limits = options.limits;
  run.env = options.env;
  run.name = name;
  run.duration_ms = options.for_ms > 0 ? options.for_ms : 24 * 3600 * 1000;
  run.tick_ms = options.tick_ms;
  run.sparse = false;  // the world can change at any instant
  run.operator_opens = true;
  run.end_when_settled = options.for_ms <= 0;
  run.stop = [&] { return options.stop != nullptr && options.stop->load(); };
  run.after_instant = [&](const Trace& t) {
    if (options.after_instant && !options.after_instant(t)) return false;
    return options.stop == nullptr || !options.stop->load();
  };
  run.before_asking = options.before_asking;
  RunnerWorld world{clock, provider, answers, windows, notifier};
  world.journal = journal;
  Runner runner(program, registry, runbook, std::move(bindings), world, run);
  for (auto& e : unbound) runner.AddError(std::move(e));
  Trace trace = runner.Run();
  trace.duration_ms = clock.Now();
  if (options.stop != nullptr && options.stop->load()) trace.warnings.push_back(fmt::format("stopped by Ctrl-C at {}", FormatMs(trace.duration_ms)));
  return trace;
}

}  // namespace

Trace DryRun(const Program& program, const Registry& registry, uint32_t runbook, LiveProvider& provider,
             StateStore& state, const DryRunOptions& options) {
  std::set<std::string> last_resorts;
  for (const auto& s : program.runbooks.at(runbook).steps) {
    if (s.kind == StepKind::kLastResort) last_resorts.insert(program.Str(s.name));
  }
  DryRunAnswers answers(options.answers, std::move(last_resorts));
  RecordingNotifier recording;  // pages are shown, never sent
  Notifier& notifier = options.notifier != nullptr ? *options.notifier : recording;
  provider.SetDryRun(true);
  provider.SetWrites(false);
  return PlayLive(program, registry, runbook, provider, state, answers, notifier, nullptr, options, "dry run");
}

Trace LiveRun(const Program& program, const Registry& registry, uint32_t runbook, LiveProvider& provider,
              StateStore& state, const LiveParts& parts, const DryRunOptions& options) {
  provider.SetDryRun(false);
  provider.SetWrites(true);
  return PlayLive(program, registry, runbook, provider, state, parts.answers, parts.notifier, parts.journal, options, "live run");
}

}  // namespace rb::rt
