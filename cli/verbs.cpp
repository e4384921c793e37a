#include "cli/verbs.hpp"
#include "cli/common.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <map>
#include <memory>
#include <filesystem>
#include <iostream>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "compiler/build.hpp"
#include "compiler/codegen.hpp"
#include "compiler/diagnostics.hpp"
#include "compiler/modules.hpp"
#include "runtime/config.hpp"
#include "runtime/executor.hpp"
#include "runtime/files.hpp"
#include "runtime/natives.hpp"
#include "runtime/live.hpp"
#include "runtime/live_run.hpp"
#include "runtime/redis_team.hpp"
#include "runtime/report.hpp"
#include "runtime/run_host.hpp"

namespace fs = std::filesystem;

namespace rb::cli {

bool UseColor(const std::string& mode) {
  if (mode == "always") return true;
  if (mode == "never") return false;
  const char* no_color = std::getenv("NO_COLOR");
  if (no_color && *no_color) return false;
  return isatty(STDOUT_FILENO) != 0;
}

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Prints why a program could not be loaded; returns the exit code.
int ReportLoadFailure(const LoadedProgram& loaded, const std::string& color) {
  for (const auto& e : loaded.lint.io_errors) std::cerr << "runbook: " << e << "\n";
  if (!loaded.error.empty()) std::cerr << "runbook: " << loaded.error << "\n";
  if (loaded.lint.diags.errors() > 0) {
    RenderOptions render;
    render.color = UseColor(color);
    render.files_checked = loaded.lint.files;
    std::cout << Render(loaded.lint.diags, render);
    std::cerr << "runbook: fix the errors above first (`runbook lint` shows them too)\n";
    return 1;
  }
  return 2;
}

bool LoadEnv(const std::string& path, rt::Environment& env) {
  std::vector<rt::ConfigError> errors;
  if (rt::LoadEnvironment(path, env, errors)) return true;
  std::cerr << RenderConfigErrors(errors, false);
  return false;
}

// `--param NAME=VALUE` flags; false (with a message) on a malformed one.
bool ParseParams(const std::vector<std::string>& flags, rt::ParamOverrides& out) {
  out.source = "--param";
  out.file = "--param";
  for (const auto& f : flags) {
    size_t eq = f.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::cerr << "runbook: --param " << f << ": write NAME=VALUE, e.g. --param queue=reports\n";
      return false;
    }
    out.values[f.substr(0, eq)] = rt::EnvParam{f.substr(eq + 1), rt::Mark{}, {}};
  }
  return true;
}

std::optional<uint32_t> FindRunbook(const rt::Program& p, const std::string& name) {
  for (uint32_t i = 0; i < p.runbooks.size(); ++i) {
    if (p.Str(p.runbooks[i].name) == name) return i;
  }
  return std::nullopt;
}

std::string RunbookNames(const rt::Program& p) {
  std::string s;
  for (const auto& r : p.runbooks) s += (s.empty() ? "" : ", ") + p.Str(r.name);
  return s.empty() ? "(none)" : s;
}


std::vector<std::string> SearchPath(const std::vector<std::string>& flag_dirs, const std::string& env) {
  std::vector<std::string> modules;
  if (!env.empty()) {
    rt::Environment e;
    std::vector<rt::ConfigError> errors;
    if (rt::LoadEnvironment(env, e, errors)) modules = e.modules;
  }
  return ModuleSearchPath(flag_dirs, modules);
}

int RunCapabilities(const std::string& stdlib_dir) {
  // The natives are the runtime's (runtime/natives.def), whatever the stdlib says; the methods are
  // the stdlib's, each written over them.
  std::vector<rt::CapabilitySlot> slots = rt::CapabilitySlots();
  auto signature = [](const std::string& name, const std::vector<rt::ValueType>& params, rt::ValueType result) {
    std::string sig = name + "(";
    for (size_t i = 0; i < params.size(); ++i) sig += (i ? ", " : "") + std::string(rt::ValueTypeName(params[i]));
    return sig + ") -> " + rt::ValueTypeName(result);
  };
  // Live: what `runbook triage` and `run --dry-run` read from real servers (docs/live.md).
  auto live_of = [](const std::string& name) {
    return rt::NativeIsLive(name) ? std::string("yes") : "no: " + rt::NativeNotLiveWhy(name);
  };
  std::cout << fmt::format("{:<48} {:<28} {:<12} {}\n", "native", "effect", "dry run", "live");
  for (const auto& s : slots) {
    const rt::NativeInfo& n = rt::Natives()[rt::FindNative(s.name)];
    std::string effect = n.ByCommand() ? fmt::format("the command's ({})", std::string(n.program) == "*" ? "its program" : n.program)
                                       : std::string(rt::EffectName(s.effect));
    std::cout << fmt::format("{:<48} {:<28} {:<12} {}\n", signature(s.name, s.params, s.result), effect,
                             n.ByCommand() ? "per command" : rt::DryBehaviourName(s.dry), live_of(s.name));
  }
  std::cout << slots.size() << " natives; in plan and rehearse every read is answered by the scenario "
               "and every write is recorded, never performed\n\n";
  std::vector<MethodListing> methods = StdlibMethods(stdlib_dir);
  std::cout << fmt::format("{:<52} {:<12} {:<40} {}\n", "method", "effect", "natives and filters its body calls", "live");
  std::string cap;
  for (const auto& m : methods) {
    std::string this_cap = m.name.substr(0, m.name.find('.'));
    if (this_cap != cap && !cap.empty()) std::cout << "\n";
    cap = this_cap;
    // A live read runs only reads: a write method is performed by live runs, not by triage.
    std::string natives, live = !m.has_body                            ? "no: no body to run"
                                : m.signature.effect != rt::Effect::kRead ? fmt::format("no: a {}, not a read", rt::EffectName(m.signature.effect))
                                                                          : "yes";
    for (const auto& n : m.natives) {
      natives += (natives.empty() ? "" : ", ") + n;
      if (live == "yes" && rt::FindNative(n) != rt::kNoNative && !rt::NativeIsLive(n)) live = fmt::format("no: `{}`: {}", n, rt::NativeNotLiveWhy(n));
    }
    std::cout << fmt::format("{:<52} {:<12} {:<40} {}\n", signature(m.name, m.signature.params, m.signature.result),
                             rt::EffectName(m.signature.effect), m.has_body ? natives : "(no body)", live);
  }
  std::cout << methods.size() << " capability methods\n";
  return 0;
}

int LoadInputs(const std::string& file, const std::string& env, const std::string& color,
               const std::string& stdlib_dir, const std::vector<std::string>& module_path, Inputs& in) {
  in.has_env = !env.empty();
  if (in.has_env && !LoadEnv(env, in.env)) return 2;
  const std::vector<std::string> search_path = ModuleSearchPath(module_path, in.has_env ? in.env.modules : std::vector<std::string>{});
  // A `.rbc` is verified against the runtime's natives and the host's program tables: the stdlib's and
  // those of the team modules on the search path (docs/security.md); a table the file carries decides
  // for no other program. A source is verified against the stdlib and the team modules it loads.
  const rt::Registry host = HostRegistry(stdlib_dir, search_path);
  in.loaded = LoadAny(file, host, stdlib_dir, search_path);
  if (!in.loaded.program) return ReportLoadFailure(in.loaded, color);
  in.registry = rt::WithProgramTables(in.loaded.registry ? *in.loaded.registry : host, *in.loaded.program);
  return 0;
}

int RunPlan(const PlanArgs& args) {
  Inputs in;
  if (int rc = LoadInputs(args.file, args.env, args.color, args.stdlib_dir, args.module_path, in)) return rc;
  const rt::Program& p = *in.loaded.program;
  const rt::Registry& registry = in.registry;
  std::vector<uint32_t> which;
  if (!args.runbook.empty()) {
    auto i = FindRunbook(p, args.runbook);
    if (!i) {
      std::cerr << "runbook: no runbook `" << args.runbook << "` in " << args.file << "; it has: " << RunbookNames(p) << "\n";
      return 2;
    }
    which.push_back(*i);
  } else {
    for (uint32_t i = 0; i < p.runbooks.size(); ++i) which.push_back(i);
  }
  if (which.empty()) {
    std::cerr << "runbook: " << args.file << " holds no runbook to plan\n";
    return 2;
  }
  rt::ParamOverrides overrides;
  if (!ParseParams(args.params, overrides)) return 2;
  bool color = UseColor(args.color);
  int rc = 0;
  for (size_t k = 0; k < which.size(); ++k) {
    rt::Plan plan = rt::MakePlan(p, registry, which[k], in.Env(), {&overrides});
    if (k) std::cout << "\n";
    std::cout << rt::RenderPlan(plan, color);
    size_t unbound = 0;
    for (const auto& bp : plan.bindings.params) unbound += bp.value.IsUnknown();
    if (unbound || !plan.bindings.errors.empty()) {
      std::cerr << "runbook: " << plan.runbook << ": "
                << (unbound ? std::to_string(unbound) + " param(s) unbound: set them under `params:` in the environment file (--env)"
                            : "a given value does not fit this runbook (see above)")
                << "\n";
      rc = 1;
    }
  }
  return rc;
}

int RunRehearse(const RehearseArgs& args) {
  Inputs in;
  if (int rc = LoadInputs(args.file, args.env, args.color, args.stdlib_dir, args.module_path, in)) return rc;
  const rt::Program& p = *in.loaded.program;
  const rt::Registry& registry = in.registry;
  rt::Scenario sc;
  std::vector<rt::ConfigError> errors;
  if (!rt::LoadScenario(args.scenario, p, registry, sc, errors)) {
    std::cerr << RenderConfigErrors(errors, false);
    // An unreadable file is an I/O error (2); a scenario with mistakes in it is a finding (1).
    bool io = std::any_of(errors.begin(), errors.end(), [](const rt::ConfigError& e) { return e.mark.line == 0; });
    return io ? 2 : 1;
  }
  auto index = FindRunbook(p, sc.runbook);
  if (!index) {
    std::cerr << "runbook: " << args.scenario << " rehearses `" << sc.runbook << "`, which " << args.file
              << " does not hold (it has: " << RunbookNames(p) << ")\n";
    return 2;
  }
  rt::ParamOverrides overrides;
  if (!ParseParams(args.params, overrides)) return 2;
  for (const auto& entry : overrides.values) {
    const std::string& name = entry.first;  // not a structured binding: the lambda below captures it
    const auto& params = p.runbooks[*index].params;
    if (std::none_of(params.begin(), params.end(), [&](const rt::Param& q) { return p.Str(q.name) == name; })) {
      std::cerr << "runbook: --param " << name << ": " << sc.runbook << " has no such param\n";
      return 2;
    }
  }
  rt::ScenarioProvider provider(sc);
  rt::MemoryStateStore state;
  rt::RehearseOptions options;
  options.env = in.Env();
  options.params = &overrides;
  rt::Trace trace = rt::Rehearse(p, registry, *index, sc, provider, state, options);
  std::vector<rt::Mismatch> mismatches = rt::Check(sc, trace);
  if (args.format == "json") {
    std::cout << rt::TraceJson(trace, &mismatches);
  } else {
    bool color = UseColor(args.color);
    std::cout << rt::RenderTrace(trace, sc, color);
    rt::TestCase tc{sc.runbook, sc.name, sc.path, 0, {}, mismatches, {}};  // the trace above shows the warnings;
    if (!mismatches.empty()) {
      std::cout << "\n" << rt::RenderFailure(tc, color);
    } else {
      std::cout << "expectations: all met\n";
    }
  }
  return mismatches.empty() ? 0 : 1;
}

namespace {

void FindScenarios(const fs::path& dir, std::vector<std::string>& out, std::vector<std::string>& io_errors) {
  std::vector<std::string> found = FilesUnder(dir.string(), ".scenario.yaml", io_errors);
  out.insert(out.end(), found.begin(), found.end());
}

// "is a FIFO, not a file" for a path that exists but is neither a regular file nor a directory.
std::string NotAFileAt(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0 || S_ISDIR(st.st_mode)) return {};
  return rt::NotAFile(st.st_mode);
}

std::string Key(const std::string& path) {
  std::error_code ec;
  fs::path c = fs::weakly_canonical(path, ec);
  return ec ? path : c.string();
}

}  // namespace

int RunTest(const TestArgs& args) {
  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::string> paths = args.paths.empty() ? std::vector<std::string>{"runbooks"} : args.paths;
  std::vector<std::string> scenarios, sources, io_errors;
  std::set<std::string> seen_sources;
  auto add_source = [&](const std::string& s) {
    if (seen_sources.insert(Key(s)).second) sources.push_back(s);
  };
  for (const auto& p : paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      FindScenarios(p, scenarios, io_errors);
      for (const auto& f : ExpandPaths({p}, io_errors)) add_source(f);
    } else if (std::string what = NotAFileAt(p); !what.empty()) {
      io_errors.push_back("cannot read " + p + ": " + what);
    } else if (EndsWith(p, ".scenario.yaml") && fs::exists(p, ec)) {
      scenarios.push_back(p);
    } else if (EndsWith(p, ".rb.denis") && fs::exists(p, ec)) {
      add_source(p);
      fs::path dir = fs::path(p).parent_path() / fs::path(p).filename().string().substr(0, fs::path(p).filename().string().size() - 9);
      if (fs::is_directory(dir, ec)) FindScenarios(dir, scenarios, io_errors);
    } else if (!fs::exists(p, ec)) {
      io_errors.push_back("cannot read " + p + ": no such file or directory");
    } else {
      io_errors.push_back(p + ": not a directory, *.rb.denis or *.scenario.yaml file");
    }
  }
  // A scenario's runbook lives beside its directory: runbooks/redis_down/x.scenario.yaml → runbooks/redis_down.rb.denis.
  for (const auto& s : scenarios) {
    std::string name = rt::ScenarioRunbookName(s);
    fs::path dir = fs::path(s).parent_path();
    for (const fs::path& candidate : {dir.parent_path() / (name + ".rb.denis"), dir / (name + ".rb.denis")}) {
      std::error_code ec;
      if (fs::exists(candidate, ec)) {
        add_source(candidate.lexically_normal().string());
        break;
      }
    }
  }
  std::set<std::string> said;  // a broken link is found by both walks (scenarios and sources)
  for (const auto& e : io_errors) {
    if (said.insert(e).second) std::cerr << "runbook: " << e << "\n";
  }
  if (!io_errors.empty()) return 2;
  if (scenarios.empty()) {
    std::cerr << "runbook: no *.scenario.yaml under " << paths[0] << (paths.size() > 1 ? " ..." : "")
              << "; scenarios live in <runbook>/NAME.scenario.yaml beside <runbook>.rb.denis\n";
    return 2;
  }
  rt::Environment env;
  if (!args.env.empty() && !LoadEnv(args.env, env)) return 2;
  const std::vector<std::string> search_path = ModuleSearchPath(args.module_path, env.modules);
  const rt::Registry host = HostRegistry(args.stdlib_dir, search_path);
  LoadedProgram loaded = LoadSources(sources, host, args.stdlib_dir, search_path);
  if (!loaded.program) return ReportLoadFailure(loaded, args.color);
  const rt::Program& p = *loaded.program;
  const rt::Registry registry = rt::WithProgramTables(loaded.registry ? *loaded.registry : host, p);

  bool color = UseColor(args.color);
  std::vector<rt::TestCase> results;
  std::vector<rt::Trace> traces;
  size_t failed = 0;
  for (const auto& path : scenarios) {
    auto s0 = std::chrono::steady_clock::now();
    rt::TestCase tc;
    tc.path = path;
    rt::Scenario sc;
    std::vector<rt::ConfigError> errors;
    if (!rt::LoadScenario(path, p, registry, sc, errors)) {
      tc.runbook = rt::ScenarioRunbookName(path);
      tc.scenario = fs::path(path).filename().string();
      // Rendered as `runbook lint` shows them (caret, hint), one report line per entry.
      std::string shown = RenderConfigErrors(errors, false);
      for (size_t at = 0; at < shown.size();) {
        size_t nl = shown.find('\n', at);
        tc.load_errors.push_back(shown.substr(at, nl == std::string::npos ? std::string::npos : nl - at));
        at = nl == std::string::npos ? shown.size() : nl + 1;
      }
    } else {
      tc.runbook = sc.runbook;
      tc.scenario = sc.name;
      rt::ScenarioProvider provider(sc);
      rt::MemoryStateStore state;
      rt::RehearseOptions options;
      options.env = args.env.empty() ? nullptr : &env;
      rt::Trace trace = rt::Rehearse(p, registry, *FindRunbook(p, sc.runbook), sc, provider, state, options);
      tc.mismatches = rt::Check(sc, trace);
      tc.warnings = trace.warnings;  // unread scenario keys
      traces.push_back(std::move(trace));
    }
    tc.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - s0).count();
    if (!tc.passed()) {
      ++failed;
      std::cout << rt::RenderFailure(tc, color);
    } else if (!args.quiet) {
      std::cout << (color ? "\x1b[32mok\x1b[0m" : "ok") << "   " << tc.runbook << "/" << tc.scenario << "\n";
    }
    if (tc.passed()) std::cout << rt::RenderWarnings(tc, args.quiet, color);
    results.push_back(std::move(tc));
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (args.coverage) std::cout << "\n" << rt::RenderCoverage(rt::ComputeCoverage(p, traces));
  std::cout << "\n" << results.size() - failed << " passed, " << failed << " failed\n";
  if (!args.junit.empty()) {
    std::string xml = rt::JUnitXml(results, seconds);
    std::string err = WriteFileAtomic(args.junit, std::vector<uint8_t>(xml.begin(), xml.end()));
    if (!err.empty()) {
      std::cerr << "runbook: " << err << "\n";
      return 2;
    }
  }
  return failed ? 1 : 0;
}


std::atomic<bool> g_interrupted{false};
extern "C" void OnInterrupt(int) {
  if (g_interrupted.exchange(true)) _exit(130);
}

bool TeamConfig(const rt::Environment& env, rt::RedisTeamConfig& c, std::string& error) {
  rt::EnvTarget t;
  t.name = "state";
  t.address = env.state.address;
  rt::Environment probe;
  probe.targets["state"] = t;
  std::string why;
  std::optional<rt::LiveTarget> lt = rt::LiveTargetOf(probe, "state", why);
  if (!lt) {
    error = "state.address: " + why;
    return false;
  }
  c.host = lt->host;
  c.port = lt->port;
  c.db = lt->db;
  c.connect_timeout_ms = c.timeout_ms = env.state.timeout_ms;
  c.prefix = env.state.prefix;
  c.env = env.name.empty() ? std::string("env") : env.name;
  if (!env.state.auth.empty()) {
    std::optional<std::string> pw = rt::ReadSecret(env, env.state.auth, why);
    if (!pw) {
      error = "state.auth: " + why;
      return false;
    }
    c.password = *pw;
  }
  return true;
}

std::unique_ptr<rt::StateStore> OpenStateStore(const rt::Environment& env) {
  if (env.state.store == "redis") {
    rt::RedisTeamConfig c;
    std::string error;
    if (!TeamConfig(env, c, error)) {
      std::cerr << "runbook: " << error << "\n";
      return nullptr;
    }
    return std::make_unique<TeamStore>(std::move(c));
  }
  if (env.state.store != "file") return std::make_unique<rt::MemoryStateStore>();
  auto file = std::make_unique<rt::FileStateStore>(env.state.path);
  std::string error;
  if (!file->Load(error)) {
    std::cerr << "runbook: " << error << "\n";
    return nullptr;
  }
  return file;
}

struct TriageRow {
  std::string name, title, severity, file;
  std::vector<std::string> holds, unknown, clear;
  std::vector<std::string> windows;             // "for > 5m (escalation.rb.denis:7): counting, 1m of 5m"
  std::vector<std::string> unknown_probes;      // "redis.ping(): connection refused (127.0.0.1:6390)"
  std::vector<rt::LiveProvider::Seen> seen;     // what the natives answered
  int Rank() const { return !holds.empty() ? 0 : !unknown.empty() ? 1 : 2; }
};


int RunTriage(const TriageArgs& args) {
  if (args.env.empty()) {
    std::cerr << "runbook: triage reads live servers: name them with --env FILE (see runbooks/environment.example.yaml)\n";
    return 2;
  }
  int64_t tick_ms = 15000;
  if (!args.tick_text.empty()) {
    std::optional<int64_t> ms = rt::ParseDurationMs(args.tick_text);
    if (!ms || *ms <= 0) {
      std::cerr << "runbook: --tick " << args.tick_text << ": not a duration such as 15s or 1m\n";
      return 2;
    }
    tick_ms = *ms;
  }
  rt::Environment env;
  if (!LoadEnv(args.env, env)) return 2;
  std::vector<std::string> paths = args.paths.empty() ? std::vector<std::string>{"runbooks"} : args.paths;
  std::vector<std::string> io_errors;
  std::vector<std::string> sources = ExpandPaths(paths, io_errors);
  for (const auto& e : io_errors) std::cerr << "runbook: " << e << "\n";
  if (!io_errors.empty()) return 2;
  if (sources.empty()) {
    std::cerr << "runbook: no *.rb.denis under " << paths[0] << (paths.size() > 1 ? " ..." : "") << "\n";
    return 2;
  }
  const std::vector<std::string> search_path = ModuleSearchPath(args.module_path, env.modules);
  const rt::Registry host = HostRegistry(args.stdlib_dir, search_path);
  LoadedProgram loaded = LoadSources(sources, host, args.stdlib_dir, search_path);
  if (!loaded.program) {
    // Exit 1 means "something holds" here: a runbook that does not compile is an input error.
    ReportLoadFailure(loaded, args.color);
    return 2;
  }
  const rt::Program& p = *loaded.program;

  const rt::Registry registry = rt::WithProgramTables(host, p);
  rt::LiveProvider provider(env, &registry);
  NoAnswers answers;
  // `for > D` windows in the environment's state store, on wall-clock time: a window that a run or an
  // earlier triage saw open is still counting.
  std::unique_ptr<rt::StateStore> store = OpenStateStore(env);
  if (!store) return 2;
  const int64_t start_epoch_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  rt::WallClockStateStore state(*store, start_epoch_ms);
  rt::RealClock clock(&g_interrupted);

  // One instant for every runbook: a probe several runbooks read is asked once. First find what
  // every symptom and window reads (calls not asked yet read unknown), ask all of it at once, and
  // again for what the answers lead to, until nothing new is asked; then evaluate from the answers.
  auto evaluate = [&](int64_t now_ms, double& secs) {
    rt::RunFacts facts;
    facts.now_ms = now_ms;
    // Discovery reads the windows as they are (a call behind a reached window is found too) and
    // keeps what it would write to itself: its unknowns must not open or close anything.
    class ReadThrough : public rt::StateStore {
     public:
      explicit ReadThrough(rt::StateStore& under) : under_(under) {}
      std::optional<int64_t> Get(const std::string& key) override {
        if (erased_.count(key) != 0) return std::nullopt;
        auto it = own_.find(key);
        return it != own_.end() ? std::optional<int64_t>(it->second) : under_.Get(key);
      }
      void Set(const std::string& key, int64_t value) override {
        own_[key] = value;
        erased_.erase(key);
      }
      void Erase(const std::string& key) override {
        own_.erase(key);
        erased_.insert(key);
      }

     private:
      rt::StateStore& under_;
      std::map<std::string, int64_t> own_;
      std::set<std::string> erased_;
    } scratch(state);
    const auto started = std::chrono::steady_clock::now();
    for (int round = 0; round < 8; ++round) {
      provider.BeginDiscovery();
      for (uint32_t i = 0; i < p.runbooks.size(); ++i) {
        if (p.runbooks[i].symptoms.empty()) continue;
        rt::Bindings bindings = rt::Bind(p, i, &env);
        rt::Trace trace;
        rt::RunHost h(p, i, bindings, facts, provider, answers, scratch, trace, rt::VmLimits{});
        h.NewInstant();
        for (uint32_t s = 0; s < p.runbooks[i].symptoms.size(); ++s) h.SymptomValue(s);
        h.UpdateWindows();
      }
      std::vector<rt::ProbeCall> wanted = provider.EndDiscovery();
      if (wanted.empty()) break;
      provider.Prefetch(wanted, now_ms);
    }
    std::vector<TriageRow> rows;
    for (uint32_t i = 0; i < p.runbooks.size(); ++i) {
      const rt::Runbook& r = p.runbooks[i];
      if (r.symptoms.empty()) continue;
      rt::Bindings bindings = rt::Bind(p, i, &env);
      rt::Trace trace;
      trace.runbook = p.Str(r.name);
      rt::RunHost h(p, i, bindings, facts, provider, answers, state, trace, rt::VmLimits{});
      h.NewInstant();
      provider.ClearSeen();
      TriageRow row;
      row.name = p.Str(r.name);
      row.title = p.Str(r.title);
      row.severity = p.Str(r.severity);
      row.file = r.file < p.files.size() ? p.files[r.file] : std::string();
      for (uint32_t s = 0; s < r.symptoms.size(); ++s) {
        rt::Tri t = rt::ToTri(h.SymptomValue(s));
        const std::string& name = p.Str(r.symptoms[s].name);
        (t == rt::Tri::kTrue ? row.holds : t == rt::Tri::kUnknown ? row.unknown : row.clear).push_back(name);
      }
      h.UpdateWindows();
      for (const auto& w : h.windows_seen()) {
        if (!w.first) continue;  // closed
        int64_t held = now_ms - *w.first;
        row.windows.push_back(fmt::format("for > {} ({}): {} {}{}", rt::FormatMs(w.bound_ms), w.where,
                                          held >= w.bound_ms ? "reached, held" : "counting,", rt::FormatMs(std::max<int64_t>(held, 0)),
                                          held >= w.bound_ms ? "" : " of " + rt::FormatMs(w.bound_ms)));
      }
      row.unknown_probes = trace.unknown_probes;
      for (const auto& e : trace.errors) row.unknown_probes.push_back("error: " + e);
      row.seen = provider.seen();
      rows.push_back(std::move(row));
    }
    std::stable_sort(rows.begin(), rows.end(), [](const TriageRow& a, const TriageRow& b) {
      if (a.Rank() != b.Rank()) return a.Rank() < b.Rank();
      return a.severity < b.severity;  // P1 before P2
    });
    secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return rows;
  };

  // What to do next: walk the runbook live with nothing changed.
  auto next = [&](const TriageRow& r) { return fmt::format("runbook run {} --env {} --dry-run", r.file, args.env); };
  auto print = [&](const std::vector<TriageRow>& rows, double secs, size_t requests) -> int {
    size_t holding = 0, unknown = 0;
    for (const auto& r : rows) {
      holding += r.Rank() == 0;
      unknown += r.Rank() == 1;
    }
    if (args.format == "json") {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& r : rows) {
        nlohmann::json seen = nlohmann::json::array();
        for (const auto& s : r.seen) {
          // The call itself too, so a tool (bench/live.sh) can ask it again alone.
          nlohmann::json args = nlohmann::json::array();
          for (const auto& a : s.probe.args) {
            args.push_back({{"type", rt::ValueTypeName(a.type)}, {"text", a.type == rt::ValueType::kString ? a.Text() : rt::ToString(a)},
                            {"number", a.number}});
          }
          seen.push_back({{"target", s.target}, {"call", s.call}, {"value", s.value}, {"binding", s.probe.binding},
                          {"native", s.probe.method}, {"args", args}, {"ms", s.ms}});
        }
        out.push_back({{"runbook", r.name}, {"title", r.title}, {"severity", r.severity}, {"file", r.file},
                       {"state", r.Rank() == 0 ? "holds" : r.Rank() == 1 ? "unknown" : "clear"},
                       {"holds", r.holds}, {"unknown", r.unknown}, {"clear", r.clear}, {"windows", r.windows},
                       {"unknown_probes", r.unknown_probes}, {"seen", seen}, {"next", r.Rank() == 2 ? "" : next(r)}});
      }
      // One line per evaluation when watching, so a tool can read them as they come.
      nlohmann::json doc{{"environment", env.name}, {"runbooks", out}, {"requests", requests}, {"seconds", secs}};
      // Values seen may hold any bytes (a Redis value, a command's output): never a reason to fail.
      std::cout << provider.Redact(doc.dump(args.watch ? -1 : 2, ' ', false, nlohmann::json::error_handler_t::replace)) << std::endl;
      return holding ? 1 : 0;
    }
    bool color = UseColor(args.color);
    auto st = [&](const char* code, const std::string& text) { return color ? fmt::format("\x1b[{}m{}\x1b[0m", code, text) : text; };
    std::string out = fmt::format("triage · {} runbooks · environment {} · live reads, nothing changed\n\n", rows.size(),
                                  env.name.empty() ? args.env : env.name);
    auto join = [](const std::vector<std::string>& v) {
      std::string s;
      for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
      return s;
    };
    for (const auto& r : rows) {
      if (r.Rank() == 2 && r.windows.empty()) continue;
      std::string head = r.Rank() == 0 ? st("1;31", "HOLDS  ") : r.Rank() == 1 ? st("1;35", "UNKNOWN") : st("1;32", "CLEAR  ");
      out += fmt::format("{} {} {} \"{}\"\n", head, r.severity, st("1", r.name), r.title);
      if (!r.holds.empty()) out += "  holds:   " + join(r.holds) + "\n";
      if (!r.unknown.empty()) out += "  unknown: " + join(r.unknown) + "\n";
      for (const auto& w : r.windows) out += "  window:  " + w + "\n";
      for (const auto& s : r.seen) {
        if (s.value.rfind("unknown: ", 0) == 0) continue;  // under `why:`
        out += fmt::format("  seen:    {}: {} → {}\n", s.target, s.call, s.value);
      }
      for (const auto& u : r.unknown_probes) out += "  why:     " + u + "\n";
      if (r.Rank() != 2) out += "  next:    " + next(r) + "\n";
      out += "\n";
    }
    out += fmt::format("{} hold, {} unknown, {} clear · {} requests in {:.2f}s\n", holding, unknown,
                       rows.size() - holding - unknown, requests, secs);
    std::cout << provider.Redact(out) << std::flush;
    return holding ? 1 : 0;
  };

  if (!args.watch) {
    double secs = 0;
    std::vector<TriageRow> rows = evaluate(0, secs);
    return print(rows, secs, provider.requests());
  }
  // --watch: every tick, until Ctrl-C (or --count evaluations).
  std::signal(SIGINT, OnInterrupt);
  std::signal(SIGTERM, OnInterrupt);
  int rc = 0;
  bool tty = isatty(1) && args.format != "json";
  for (int n = 0; !g_interrupted.load() && (args.count <= 0 || n < args.count); ++n) {
    if (n > 0) clock.AdvanceTo(static_cast<int64_t>(n) * tick_ms);
    if (g_interrupted.load()) break;
    size_t before = provider.requests();
    double secs = 0;
    std::vector<TriageRow> rows = evaluate(clock.Now(), secs);
    if (tty) std::cout << "\x1b[H\x1b[2J";  // a screen that updates in place
    if (args.format != "json") {
      auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
      char at[32];
      std::strftime(at, sizeof at, "%H:%M:%S", std::localtime(&now));
      std::cout << fmt::format("── {} · evaluation {} · every {} (Ctrl-C stops)\n", at, n + 1, rt::FormatMs(tick_ms));
    }
    rc = print(rows, secs, provider.requests() - before);
  }
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  return rc;
}

}  // namespace rb::cli
