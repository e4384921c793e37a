// vm_bench: nanoseconds per evaluation of a compiled symptom condition in rt::Vm, and in-process
// compile throughput over the eight seed runbooks. bench/vm.sh runs it next to Lua and LuaJIT;
// bench/README.md has the figures.
//
// Usage: vm_bench [--evals N] [--batches B] [--compile-reps R] [--repo DIR] [--show-chunk]
//   --evals N         evaluations per timed batch (default 1000000)
//   --batches B       timed batches; the median batch is reported (default 9, plus one warm-up)
//   --compile-reps R  timed compiles of the eight seeds; the median is reported (default 30)
//   --repo DIR        repository root (default: the source tree this binary was built from)
//   --show-chunk      print the condition's instructions
// Output: one `key value` pair per line (bench/vm.sh reads them); `#` lines are comments.
// Times are process CPU time (what Lua's os.clock reads); `*wall*` keys give wall-clock time.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <variant>
#include <vector>

#include "compiler/build.hpp"
#include "compiler/checker.hpp"
#include "compiler/codegen.hpp"
#include "compiler/workspace.hpp"
#include "runtime/rbc.hpp"
#include "runtime/verifier.hpp"
#include "runtime/vm.hpp"

#ifndef RUNBOOK_SOURCE_DIR
#define RUNBOOK_SOURCE_DIR "."
#endif

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

// The condition under test. bench/vm.sh runs the same expression in Lua (units as plain numbers:
// 80% -> 80, 10s -> 10000 ms) and must be kept in step with it.
const char* kCondition =
    "redis.memory_used() > 80% and (api.metric_seconds(\"chat_latency_p99\") * 2 > 10s or "
    "celery.queue_len() + 10 > 500)";

// Probe results. Chosen so every instruction runs: 91% > 80% is true, so `and` reads its right side;
// 4s * 2 > 10s is false, so `or` reads its right side; 600 + 10 > 500 is true. The result is true.
constexpr double kMemoryUsedPct = 91;
constexpr double kLatencyMs = 4000;
constexpr double kQueueLen = 600;

std::string RunbookText() {
  return std::string(
             "import std.redis\nimport std.http\nimport std.celery\nimport policy.escalation\n\n"
             "runbook vm_bench \"VM benchmark\" {\n"
             "  severity P2\n  owner    sre\n\n"
             "  target redis  = redis(\"redis\")\n"
             "  target api    = http(\"denis-api\")\n"
             "  target celery = celery(\"denis-workers\")\n\n"
             "  symptoms {\n    hot \"memoria alta y latencia o cola\" : ") +
         kCondition +
         "\n  }\n\n  escalate {\n    | when | then     |\n    | hot  | page sre |\n  }\n}\n";
}

// A host whose probes return fixed numbers: one vector lookup by import index, no maps, no strings.
class BenchHost final : public rb::rt::EvalHost {
 public:
  explicit BenchHost(const rb::rt::Program& p) : imports_(p.imports.data()), results_(p.imports.size()) {}
  bool Set(const rb::rt::Program& p, const std::string& name, rb::rt::Value v) {
    for (size_t i = 0; i < p.imports.size(); ++i) {
      if (p.strings[p.imports[i].name] == name) {
        results_[i] = std::move(v);
        return true;
      }
    }
    return false;
  }
  rb::rt::Value Param(uint32_t, uint32_t) override { return {}; }
  rb::rt::Value Symptom(uint32_t, uint32_t) override { return {}; }
  rb::rt::Value Incident(uint32_t) override { return {}; }
  rb::rt::Value StepFailed(uint32_t, uint32_t) override { return {}; }
  rb::rt::Value Output() override { return {}; }
  rb::rt::Value Ask(const std::string&) override { return {}; }
  rb::rt::Value Window(uint32_t, uint32_t) override { return {}; }
  rb::rt::Value Call(uint32_t, const rb::rt::Import& im, const std::string&, const rb::rt::Value*, size_t) override {
    ++calls;
    return results_[static_cast<size_t>(&im - imports_)];
  }
  uint64_t calls = 0;

 private:
  const rb::rt::Import* imports_;
  std::vector<rb::rt::Value> results_;
};

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}
double Min(const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); }

double Seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

// Process CPU time in seconds: the clock Lua's os.clock reads (clock(3)), so bench/vm.sh compares
// like with like, and time the scheduler gives to other processes is not counted.
double CpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

fs::path g_tmp;  // the scratch directory, removed on every exit

void RemoveTemp() {
  std::error_code ec;
  if (!g_tmp.empty()) fs::remove_all(g_tmp, ec);
  g_tmp.clear();
}

[[noreturn]] void Die(const std::string& msg) {
  std::fprintf(stderr, "vm_bench: %s\n", msg.c_str());
  RemoveTemp();
  std::exit(2);
}

struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "runbook-vmbench.XXXXXX").string();
    if (!mkdtemp(tmpl.data())) Die("cannot create a temporary directory");
    path = g_tmp = tmpl;
  }
  ~TempDir() { RemoveTemp(); }
};

std::vector<double> Batches(int batches, const std::function<double()>& one) {
  one();  // warm-up
  std::vector<double> out;
  for (int b = 0; b < batches; ++b) out.push_back(one());
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  long evals = 1000000;
  int batches = 9, compile_reps = 30;
  bool show_chunk = false;
  fs::path repo = RUNBOOK_SOURCE_DIR;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) Die("missing value after " + a);
      return argv[++i];
    };
    if (a == "--evals") evals = std::stol(next());
    else if (a == "--batches") batches = std::stoi(next());
    else if (a == "--compile-reps") compile_reps = std::stoi(next());
    else if (a == "--repo") repo = next();
    else if (a == "--show-chunk") show_chunk = true;
    else Die("unknown argument " + a + " (see the comment at the top of bench/vm_bench.cpp)");
  }
  if (evals < 1 || batches < 1 || compile_reps < 1) Die("counts must be positive");
  const fs::path policy = repo / "runbooks" / "policy" / "escalation.rb.denis";
  if (!fs::exists(policy)) Die("no " + policy.string() + " (pass --repo)");

  TempDir tmp;
  const rb::rt::Registry registry = rb::StdlibRegistry();

  // ---- 1. VM evaluation ------------------------------------------------------------------------
  fs::create_directories(tmp.path / "policy");
  fs::copy_file(policy, tmp.path / "policy" / "escalation.rb.denis");
  const fs::path source = tmp.path / "vm_bench.rb.denis";
  std::ofstream(source, std::ios::binary) << RunbookText();
  rb::LoadedProgram loaded = rb::LoadAny(source.string(), registry);
  if (!loaded.program) Die("the benchmark runbook does not compile: " + loaded.error);
  const rb::rt::Program& program = *loaded.program;
  const uint32_t chunk = program.runbooks.at(0).symptoms.at(0).chunk;
  const auto& code = program.chunks.at(chunk).code;

  BenchHost host(program);
  using rb::rt::Value;
  using rb::rt::ValueType;
  if (!host.Set(program, "redis.memory_used", Value::Number(ValueType::kPercent, kMemoryUsedPct)) ||
      !host.Set(program, "http.metric_seconds", Value::Number(ValueType::kDuration, kLatencyMs)) ||
      !host.Set(program, "celery.queue_len", Value::Number(ValueType::kNum, kQueueLen))) {
    Die("the program does not import the expected probes");
  }
  rb::rt::Vm vm(program);
  {
    rb::rt::EvalResult r = vm.Eval(chunk, host);
    if (!r.ok) Die("evaluation failed: " + r.error);
    if (r.value.type != ValueType::kBool || r.value.number != 1) Die("the condition should be true, got " + rb::rt::ToString(r.value));
    if (host.calls != 3) Die("expected 3 probe calls per evaluation");
  }
  if (show_chunk) {
    for (size_t pc = 0; pc < code.size(); ++pc) {
      const auto op = static_cast<rb::rt::Op>(rb::rt::OpByte(code[pc]));
      if (op == rb::rt::Op::kCALL) {
        const auto& im = program.imports[rb::rt::CallImport(code[pc])];
        std::printf("# %04zu  CALL          %s/%u\n", pc, program.strings[im.name].c_str(), rb::rt::CallArgc(code[pc]));
      } else {
        std::printf("# %04zu  %-13s %u\n", pc, rb::rt::Info(op).name, rb::rt::OperandA(code[pc]));
      }
    }
  }

  uint64_t failures = 0;
  std::vector<double> wall_ns;
  std::vector<double> eval_ns = Batches(batches, [&] {
    double c0 = CpuSeconds();
    auto t0 = Clock::now();
    for (long i = 0; i < evals; ++i) {
      rb::rt::EvalResult r = vm.Eval(chunk, host);
      failures += !r.ok || r.value.number != 1;
    }
    wall_ns.push_back(Seconds(t0, Clock::now()) * 1e9 / static_cast<double>(evals));
    return (CpuSeconds() - c0) * 1e9 / static_cast<double>(evals);
  });
  wall_ns.erase(wall_ns.begin());  // the warm-up batch
  if (failures) Die(std::to_string(failures) + " evaluations failed or were not true");

  std::printf("# condition: %s\n", kCondition);
  std::printf("vm.instructions %zu\n", code.size());
  std::printf("vm.calls_per_eval 3\n");
  std::printf("vm.evals_per_batch %ld\n", evals);
  std::printf("vm.batches %d\n", batches);
  std::printf("vm.ns_per_eval %.1f\n", Median(eval_ns));
  std::printf("vm.ns_per_eval_min %.1f\n", Min(eval_ns));
  std::printf("vm.wall_ns_per_eval %.1f\n", Median(wall_ns));

  // ---- 2. Compile throughput -------------------------------------------------------------------
  const char* seeds[] = {"chat_timeout", "graph_slow", "mutations_blocked", "queue_growing", "redis_down",
                         "telemetry_inconsistent", "websocket_disconnects", "workers_hung"};
  std::vector<std::string> files;
  uintmax_t bytes = 0;
  for (const char* s : seeds) {
    fs::path p = repo / "runbooks" / (std::string(s) + ".rb.denis");
    if (!fs::exists(p)) Die("missing seed " + p.string());
    bytes += fs::file_size(p);
    files.push_back(p.string());
  }
  const std::string out = (tmp.path / "seeds.rbc").string();
  rb::CompileOptions options;
  options.paths = files;
  options.output = out;

  // End to end, as `runbook compile runbooks/*.rb.denis -o FILE` does it in-process: read, parse,
  // check, codegen, serialise, verify, atomic write (and the host registry, which it builds each time).
  std::vector<double> compile_wall_s;
  std::vector<double> compile_s = Batches(compile_reps, [&] {
    double c0 = CpuSeconds();
    auto t0 = Clock::now();
    rb::CompileResult r = rb::CompileToFiles(options);
    compile_wall_s.push_back(Seconds(t0, Clock::now()));
    double s = CpuSeconds() - c0;
    if (!r.errors.empty() || r.lint.diags.errors() > 0 || r.written.size() != 1) Die("the seed runbooks do not compile");
    return s;
  });
  compile_wall_s.erase(compile_wall_s.begin());  // the warm-up compile
  const uintmax_t rbc_bytes = fs::file_size(out);

  // The same work in stages (median of each stage over the same number of repetitions).
  std::vector<double> front_s, codegen_s, serialize_s, verify_s, registry_s;
  for (int rep = 0; rep <= compile_reps; ++rep) {
    double t0 = CpuSeconds();
    rb::Diagnostics diags;
    rb::Workspace ws(rb::WorkspaceOptions{}, diags);
    std::vector<const rb::Module*> roots;
    for (const auto& f : files) {
      const rb::Module* m = ws.AddFile(f);
      if (!m) Die("cannot read " + f);
      roots.push_back(m);
    }
    rb::Check(ws, diags);
    double t1 = CpuSeconds();
    rb::rt::Program p = rb::Codegen(ws, roots);
    double t2 = CpuSeconds();
    std::vector<uint8_t> rbc = rb::rt::Serialize(p);
    double t3 = CpuSeconds();
    auto v = rb::rt::LoadProgram(rbc, registry);
    double t4 = CpuSeconds();
    rb::rt::Registry reg = rb::StdlibRegistry();
    double t5 = CpuSeconds();
    if (diags.errors() > 0 || std::holds_alternative<rb::rt::LoadError>(v) || rbc.size() != rbc_bytes) Die("stage run differs");
    if (rep == 0) continue;  // warm-up
    front_s.push_back(t1 - t0);
    codegen_s.push_back(t2 - t1);
    serialize_s.push_back(t3 - t2);
    verify_s.push_back(t4 - t3);
    registry_s.push_back(t5 - t4);
  }

  const double median_s = Median(compile_s);
  std::printf("compile.runbooks %zu\n", files.size());
  std::printf("compile.source_bytes %ju\n", bytes);
  std::printf("compile.rbc_bytes %ju\n", rbc_bytes);
  std::printf("compile.reps %d\n", compile_reps);
  std::printf("compile.ms %.3f\n", median_s * 1e3);
  std::printf("compile.ms_min %.3f\n", Min(compile_s) * 1e3);
  std::printf("compile.wall_ms %.3f\n", Median(compile_wall_s) * 1e3);
  std::printf("compile.mb_per_s %.2f\n", static_cast<double>(bytes) / median_s / 1e6);
  std::printf("compile.runbooks_per_s %.0f\n", static_cast<double>(files.size()) / median_s);
  std::printf("compile.stage.parse_check_ms %.3f\n", Median(front_s) * 1e3);
  std::printf("compile.stage.codegen_ms %.3f\n", Median(codegen_s) * 1e3);
  std::printf("compile.stage.serialize_ms %.3f\n", Median(serialize_s) * 1e3);
  std::printf("compile.stage.load_verify_ms %.3f\n", Median(verify_s) * 1e3);
  std::printf("compile.stage.registry_ms %.3f\n", Median(registry_s) * 1e3);
  return 0;
}
