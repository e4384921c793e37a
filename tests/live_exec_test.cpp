// Live reads of the `exec` native through the sandbox (runtime/sandbox.hpp) with real programs: a real
// `kubectl` against an in-process Kubernetes API (tests/kube_fixture.hpp) running std.kube's command
// texts, and a real `celery inspect ping` against a real Celery worker on a real redis-server. Writes
// are refused before anything starts; faults (a dead API server, a grandchild holding the pipe, 100 MB
// of output) are unknowns with their reasons, and the run goes on. No timing assertions: the ctest
// TIMEOUT guards against hangs.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "runtime/binding.hpp"
#include "runtime/live.hpp"
#include "runtime/sandbox.hpp"
#include "tests/compile_util.hpp"
#include "tests/http_fixture.hpp"
#include "tests/kube_fixture.hpp"
#include "tests/live_server.hpp"

namespace rb::test {
namespace {

namespace fs = std::filesystem;

// An environment of one target `binding` at `address` whose commands may start `allow`, with `vars`
// set for them (they win over the caller's variables exec.pass lets through, HOME among them).
rt::Environment ExecEnv(const std::string& binding, const std::string& address, std::vector<std::string> allow,
                        std::vector<std::pair<std::string, std::string>> vars,
                        std::map<std::string, std::string> fields = {}) {
  rt::Environment env;
  env.path = "test.env.yaml";
  rt::EnvTarget t;
  t.name = binding;
  t.address = address;
  t.fields = std::move(fields);
  env.targets[binding] = t;
  env.exec_allow = std::move(allow);
  env.exec_allow_given = true;
  env.exec_env = std::move(vars);
  env.exec_pass = {"LANG", "LC_ALL", "TZ", "USER", "LOGNAME"};
  return env;
}

rt::ProbeCall Exec(const std::string& binding, const std::string& command) {
  rt::ProbeCall c;
  c.target = binding;
  c.binding = binding;
  c.method = "exec";
  c.args = {rt::Value::String(command)};
  return c;
}

std::vector<std::string> LinesOf(const rt::ProbeAnswer& a) {
  if (a.value.type != rt::ValueType::kLines || !a.value.heap) return {};
  return a.value.heap->lines;
}

size_t CountContaining(const std::vector<std::string>& lines, const std::string& word) {
  return static_cast<size_t>(std::count_if(lines.begin(), lines.end(),
                                           [&](const std::string& l) { return l.find(word) != std::string::npos; }));
}

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// std.kube's command texts, bound as a runbook binds them (selector app=redis, workload statefulset/redis,
// tail 5): the exec() argument after the string's escapes and {slots}.
const char* kPodsReady =
    "kubectl get pods -l app=redis --no-headers -o "
    "'custom-columns=READY:.status.conditions[?(@.type==\"Ready\")].status'";
const char* kPodsTotal = "kubectl get pods -l app=redis --no-headers -o name";
const char* kReadyReplicas = "kubectl get statefulset/redis -o jsonpath={.status.readyReplicas}";
const char* kRolloutDone = "kubectl rollout status statefulset/redis --timeout=1s";
const char* kLogs = "kubectl logs -l app=redis --tail=5";

// A cluster: three redis pods (one not Ready) of statefulset redis, one api pod of deployment api.
void Populate(KubeApiFixture& k) {
  for (int i = 0; i < 3; ++i) {
    KubeApiFixture::Pod p;
    p.name = "redis-" + std::to_string(i);
    p.labels = {{"app", "redis"}, {"tier", "cache"}};
    p.ready = i != 2;
    p.container = "redis";
    for (int n = 1; n <= 8; ++n) p.log.push_back(p.name + " log line " + std::to_string(n));
    k.AddPod(p);
  }
  KubeApiFixture::Pod api;
  api.name = "api-5c7d9-x2x4q";
  api.labels = {{"app", "api"}};
  api.log = {"api started"};
  k.AddPod(api);
  KubeApiFixture::Workload sts;
  sts.kind = "statefulset";
  sts.name = "redis";
  sts.replicas = 3;
  sts.ready = 3;
  sts.updated = 3;
  sts.available = 3;
  sts.generation = sts.observed_generation = 4;
  k.AddWorkload(sts);
  KubeApiFixture::Workload dep;
  dep.kind = "deployment";
  dep.name = "api";
  dep.replicas = dep.ready = dep.updated = dep.available = 2;
  dep.generation = dep.observed_generation = 7;
  k.AddWorkload(dep);
}

// A kube target whose kubectl reads the fixture, its cache under a HOME of the test's own.
struct KubeSetup {
  explicit KubeSetup(const std::string& name) : dir(name) {
    fs::create_directories(dir.path() / "home");
    kubeconfig = dir / "kubeconfig";
    home = (dir.path() / "home").string();
  }
  rt::Environment Env(const std::string& server_url, std::vector<std::string> allow = {"kubectl"},
                      std::map<std::string, std::string> fields = {}) const {
    return ExecEnv("kube", server_url, std::move(allow), {{"KUBECONFIG", kubeconfig}, {"HOME", home}},
                   std::move(fields));
  }
  ScratchDir dir;
  std::string kubeconfig, home;
};

TEST(LiveKube, ReadsThroughARealKubectl) {
  KubeApiFixture k;
  Populate(k);
  k.Start();
  KubeSetup s("kube-reads");
  k.WriteKubeconfig(s.kubeconfig);
  rt::Environment env = s.Env(k.url());
  rt::LiveProvider live(env, &TestRegistry());

  rt::ProbeAnswer total = live.Probe(Exec("kube", kPodsTotal), 0);
  ASSERT_FALSE(total.value.IsUnknown()) << total.reason << "\n" << k.Shown();
  EXPECT_EQ(LinesOf(total), (std::vector<std::string>{"pod/redis-0", "pod/redis-1", "pod/redis-2"}));

  rt::ProbeAnswer replicas = live.Probe(Exec("kube", kReadyReplicas), 0);
  ASSERT_FALSE(replicas.value.IsUnknown()) << replicas.reason;
  EXPECT_EQ(LinesOf(replicas), std::vector<std::string>{"3"});

  // A statefulset's rollout, as kubectl words it for a RollingUpdate with a partition (the API server's default).
  rt::ProbeAnswer sts_rollout = live.Probe(Exec("kube", kRolloutDone), 0);
  ASSERT_FALSE(sts_rollout.value.IsUnknown()) << sts_rollout.reason;
  EXPECT_EQ(LinesOf(sts_rollout),
            std::vector<std::string>{"partitioned roll out complete: 3 new pods have been updated..."});
  rt::ProbeAnswer dep_rollout = live.Probe(Exec("kube", "kubectl rollout status deployment/api --timeout=1s"), 0);
  ASSERT_FALSE(dep_rollout.value.IsUnknown()) << dep_rollout.reason;
  EXPECT_EQ(LinesOf(dep_rollout), std::vector<std::string>{"deployment \"api\" successfully rolled out"});

  // The last 5 lines of each matching pod; kubectl goes through the pods in no fixed order.
  rt::ProbeAnswer logs = live.Probe(Exec("kube", kLogs), 0);
  ASSERT_FALSE(logs.value.IsUnknown()) << logs.reason;
  std::vector<std::string> got = LinesOf(logs), want;
  for (int i = 0; i < 3; ++i) {
    for (int n = 4; n <= 8; ++n) want.push_back("redis-" + std::to_string(i) + " log line " + std::to_string(n));
  }
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, want);

  // The Ready column, its word single-quoted so the jsonpath keeps its "Ready" (see PodsReady... below).
  rt::ProbeAnswer ready = live.Probe(Exec("kube",
                                          "kubectl get pods -l app=redis --no-headers -o "
                                          "'custom-columns=READY:.status.conditions[?(@.type==\"Ready\")].status'"),
                                     0);
  ASSERT_FALSE(ready.value.IsUnknown()) << ready.reason;
  EXPECT_EQ(LinesOf(ready), (std::vector<std::string>{"True", "True", "False"}));
  EXPECT_EQ(CountContaining(LinesOf(ready), "True"), 2u);

  // What kubectl asked: discovery in the legacy format, the reads, and never a write.
  EXPECT_TRUE(k.Saw("/api/v1")) << k.Shown();
  EXPECT_TRUE(k.Saw("/apis/apps/v1")) << k.Shown();
  EXPECT_TRUE(k.Saw("/api/v1/namespaces/denis/pods")) << k.Shown();
  EXPECT_TRUE(k.Saw("/apis/apps/v1/namespaces/denis/statefulsets/redis")) << k.Shown();
  bool tail = false;
  for (const auto& r : k.requests()) {
    if (r.path == "/api/v1/namespaces/denis/pods/redis-0/log") tail = Contains(r.query, "tailLines=5");
  }
  EXPECT_TRUE(tail) << k.Shown();
  EXPECT_TRUE(k.non_reads().empty()) << k.Shown();
  // kubectl's discovery cache went to the HOME given in exec.env, not the caller's.
  EXPECT_TRUE(fs::exists(fs::path(s.home) / ".kube" / "cache")) << s.home;
}

// std.kube.pods_ready's text as written: its `"Ready"` is inside a word of the command, and the quotes
// must reach kubectl (jsonpath needs the string quoted: `unrecognized identifier Ready` otherwise).
TEST(LiveKube, PodsReadyThroughARealKubectl) {
  KubeApiFixture k;
  Populate(k);
  k.Start();
  KubeSetup s("kube-ready");
  k.WriteKubeconfig(s.kubeconfig);
  rt::Environment env = s.Env(k.url());
  rt::LiveProvider live(env, &TestRegistry());
  rt::ProbeAnswer ready = live.Probe(Exec("kube", kPodsReady), 0);
  ASSERT_FALSE(ready.value.IsUnknown()) << ready.reason;
  EXPECT_EQ(LinesOf(ready), (std::vector<std::string>{"True", "True", "False"}));
  EXPECT_EQ(CountContaining(LinesOf(ready), "True"), 2u);  // kube.pods_ready("app=redis") == 2
}

// kubectl says "successfully rolled out" of a deployment, not of a statefulset, whose completed rollout
// reads "partitioned roll out complete" (or "statefulset rolling update complete"): std.kube.rollout_done
// greps all three, so rollout_done("statefulset/redis") is true for a finished rollout.
TEST(LiveKube, RolloutDoneOfAFinishedStatefulSet) {
  KubeApiFixture k;
  Populate(k);
  k.Start();
  KubeSetup s("kube-rollout");
  k.WriteKubeconfig(s.kubeconfig);
  rt::Environment env = s.Env(k.url());
  rt::LiveProvider live(env, &TestRegistry());
  rt::ProbeAnswer a = live.Probe(Exec("kube", kRolloutDone), 0);
  ASSERT_FALSE(a.value.IsUnknown()) << a.reason;
  // std.kube.rollout_done's pattern: a deployment's words or a statefulset's.
  size_t done = CountContaining(LinesOf(a), "successfully rolled out") + CountContaining(LinesOf(a), "roll out complete") +
                CountContaining(LinesOf(a), "rolling update complete");
  EXPECT_GT(done, 0u) << "kube.rollout_done(\"statefulset/redis\") reads false; kubectl said: " << rt::ToString(a.value);
}

// exec.env sets a variable for every command, exec.pass lets the caller's through (HOME by default):
// the one exec.env sets is the one the command reads. kubectl (Go, like Python) reads the first of two.
TEST(LiveKube, ExecEnvHomeOverridesThePassedHome) {
  KubeApiFixture k;
  Populate(k);
  k.Start();
  KubeSetup s("kube-home");
  k.WriteKubeconfig(s.kubeconfig);
  fs::create_directories(s.dir.path() / "caller-home");
  const char* saved = std::getenv("HOME");
  std::string caller_home = saved != nullptr ? saved : "";
  setenv("HOME", (s.dir.path() / "caller-home").c_str(), 1);
  rt::Environment env = s.Env(k.url());
  env.exec_pass = rt::Environment{}.exec_pass;  // the default: HOME among them
  ASSERT_NE(std::find(env.exec_pass.begin(), env.exec_pass.end(), "HOME"), env.exec_pass.end());
  rt::LiveProvider live(env, &TestRegistry());
  rt::ProbeAnswer a = live.Probe(Exec("kube", kPodsTotal), 0);
  if (saved != nullptr) {
    setenv("HOME", caller_home.c_str(), 1);
  } else {
    unsetenv("HOME");
  }
  ASSERT_FALSE(a.value.IsUnknown()) << a.reason;
  EXPECT_TRUE(fs::exists(fs::path(s.home) / ".kube" / "cache")) << "kubectl's cache is not under exec.env's HOME";
  EXPECT_FALSE(fs::exists(s.dir.path() / "caller-home" / ".kube")) << "kubectl read the caller's HOME";
}

TEST(LiveKube, AWriteIsRefusedAndNeverStarted) {
  KubeApiFixture k;
  Populate(k);
  k.Start();
  KubeSetup s("kube-writes");
  k.WriteKubeconfig(s.kubeconfig);
  rt::Environment env = s.Env(k.url());
  rt::LiveProvider live(env, &TestRegistry());
  for (const char* cmd : {"kubectl delete pod redis-0", "kubectl rollout restart statefulset/redis",
                          "kubectl -n denis scale statefulset/redis --replicas=0"}) {
    rt::ProbeAnswer a = live.Probe(Exec("kube", cmd), 0);
    EXPECT_TRUE(a.value.IsUnknown()) << cmd;
    EXPECT_EQ(a.reason.rfind("refused: ", 0), 0u) << cmd << ": " << a.reason;
    EXPECT_TRUE(Contains(a.reason, "live reads run only reads")) << a.reason;
  }
  EXPECT_EQ(live.requests(), 0u);
  EXPECT_EQ(k.request_count(), 0u) << k.Shown();
  // The same provider's read does reach the server: nothing above was lost on the way.
  rt::ProbeAnswer read = live.Probe(Exec("kube", kPodsTotal), 0);
  ASSERT_FALSE(read.value.IsUnknown()) << read.reason;
  EXPECT_GT(k.request_count(), 0u);
  EXPECT_TRUE(k.non_reads().empty()) << k.Shown();
}

TEST(LiveKube, ProgramNotAllowed) {
  KubeApiFixture k;
  Populate(k);
  k.Start();
  KubeSetup s("kube-allow");
  k.WriteKubeconfig(s.kubeconfig);
  rt::Environment env = s.Env(k.url(), {});
  rt::LiveProvider live(env, &TestRegistry());
  rt::ProbeAnswer a = live.Probe(Exec("kube", kPodsTotal), 0);
  EXPECT_TRUE(a.value.IsUnknown());
  EXPECT_TRUE(Contains(a.reason, "exec.allow")) << a.reason;
  EXPECT_TRUE(Contains(a.reason, "`kubectl`")) << a.reason;
  EXPECT_EQ(k.request_count(), 0u) << k.Shown();
}

TEST(LiveKube, DeadApiServer) {
  BlackHole hole;
  ASSERT_GT(hole.port(), 0);
  KubeSetup s("kube-dead");
  KubeApiFixture::WriteKubeconfigFor(s.kubeconfig, hole.url());
  rt::Environment env = s.Env(hole.url(), {"kubectl"}, {{"exec_timeout", "2s"}});
  rt::LiveProvider live(env, &TestRegistry());
  rt::ProbeAnswer a = live.Probe(Exec("kube", kPodsTotal), 0);
  EXPECT_TRUE(a.value.IsUnknown());
  EXPECT_FALSE(a.reason.empty());
  EXPECT_TRUE(Contains(a.reason, "timeout") || Contains(a.reason, "exit status")) << a.reason;
  EXPECT_EQ(a.reason.rfind("`kubectl`: ", 0), 0u) << a.reason;
}

// A folder holding one executable `kubectl` shim (std.kube's table judges its words), the only exec.path.
class Shim {
 public:
  Shim(const std::string& name, const std::string& script) : dir_(name) {
    path_ = dir_ / "kubectl";
    std::ofstream(path_, std::ios::binary) << script;
    fs::permissions(path_, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec);
  }
  rt::Environment Env(std::map<std::string, std::string> fields) const {
    rt::Environment env =
        ExecEnv("kube", "http://127.0.0.1:1", {"kubectl"}, {{"HOME", dir_.path().string()}}, std::move(fields));
    env.exec_path = {dir_.path().string()};
    return env;
  }

 private:
  ScratchDir dir_;
  std::string path_;
};

// `kubectl get pods` is the fault; any other words answer "ok WORDS".
std::string ShimScript(const std::string& fault) {
  return "#!/bin/sh\nPATH=/usr/bin:/bin\nif [ \"$*\" != \"get pods\" ]; then echo \"ok $*\"; exit 0; fi\n" + fault;
}

// A process state from /proc/PID/stat ('R', 'S', 'Z', ...), or 0 when there is no such process.
char ProcState(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t paren = stat.rfind(')');  // the name in parentheses may hold anything; the state follows it
  return paren == std::string::npos || paren + 2 >= stat.size() ? 0 : stat[paren + 2];
}

TEST(LiveExecFaults, GrandchildHoldingThePipe) {
  ScratchDir pids("exec-grandchild-pid");
  std::string pidfile = pids / "grandchild.pid";
  Shim shim("exec-grandchild",
            ShimScript("trap '' TERM\n(trap '' TERM; sleep 60) &\necho $! > '" + pidfile + "'\necho started\n"));
  rt::Environment env = shim.Env({{"exec_timeout", "1s"}});
  rt::LiveProvider live(env, &TestRegistry());
  rt::ProbeAnswer a = live.Probe(Exec("kube", "kubectl get pods"), 0);
  EXPECT_TRUE(a.value.IsUnknown());
  EXPECT_TRUE(Contains(a.reason, "timeout after 1s")) << a.reason;
  std::ifstream in(pidfile);
  pid_t grandchild = 0;
  in >> grandchild;
  ASSERT_GT(grandchild, 0) << "the shim wrote no pid";
  char state = ProcState(grandchild);
  for (int i = 0; i < 100 && state != 0 && state != 'Z'; ++i) {  // a killed process may take a moment to go
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    state = ProcState(grandchild);
  }
  EXPECT_TRUE(state == 0 || state == 'Z') << "grandchild " << grandchild << " is still there, state " << state;
  if (state != 0 && state != 'Z') kill(grandchild, SIGKILL);
  // The run goes on: the next probe of the same provider is answered.
  rt::ProbeAnswer next = live.Probe(Exec("kube", "kubectl get nodes"), 1000);
  ASSERT_FALSE(next.value.IsUnknown()) << next.reason;
  EXPECT_EQ(LinesOf(next), std::vector<std::string>{"ok get nodes"});
}

TEST(LiveExecFaults, HundredMegabytes) {
  Shim shim("exec-100mb", ShimScript("head -c 100000000 /dev/zero | tr '\\0' 'a'\n"));
  rt::Environment env = shim.Env({});
  rt::LiveProvider live(env, &TestRegistry());
  rt::ProbeAnswer a = live.Probe(Exec("kube", "kubectl get pods"), 0);
  EXPECT_TRUE(a.value.IsUnknown());
  EXPECT_TRUE(Contains(a.reason, "truncated")) << a.reason;
  EXPECT_TRUE(Contains(a.reason, "100000000 bytes written")) << a.reason;
  rt::ProbeAnswer next = live.Probe(Exec("kube", "kubectl get nodes"), 1000);
  ASSERT_FALSE(next.value.IsUnknown()) << next.reason;
  EXPECT_EQ(LinesOf(next), std::vector<std::string>{"ok get nodes"});
}

// A step's command with a secret in its words (a dry run's `$ kubectl --token {token} get pods`): the
// value goes into the words only as the command starts, and the command echoing it back on stdout and
// stderr shows *** instead.
TEST(LiveSecrets, ACommandEchoingItsSecretShowsStars) {
  const std::string canary = "canary-5c4d3e-echoed";
  setenv("RB_TEST_KUBE_TOKEN", canary.c_str(), 1);
  Shim shim("exec-echo", "#!/bin/sh\necho \"args: $*\"\necho \"err: $*\" >&2\nexit 3\n");
  rt::Environment env = shim.Env({});
  env.secrets["KUBE_TOKEN"] = rt::EnvSecret{"KUBE_TOKEN", "env:RB_TEST_KUBE_TOKEN", {}};
  rt::LiveProvider live(env, &TestRegistry());
  std::vector<std::string> argv{"kubectl", "--token", "x" + rt::SecretMarker("KUBE_TOKEN"), "get", "pods"};
  rt::ExecAnswer a = live.Exec(argv, rt::Effect::kRead, 0);
  EXPECT_EQ(a.status, rt::ExecAnswer::Status::kFailed);
  EXPECT_EQ(a.exit_code, 3);
  EXPECT_EQ(a.out, "args: --token x*** get pods\n");  // the command did receive it: x + the value
  EXPECT_EQ(a.err, "err: --token x*** get pods\n");
  EXPECT_EQ(a.out.find(canary), std::string::npos);
  // A secret that is not there: the command is not started.
  std::vector<std::string> missing{"kubectl", "--token", rt::SecretMarker("NOT_DECLARED"), "get", "pods"};
  size_t before = live.requests();
  rt::ExecAnswer m = live.Exec(missing, rt::Effect::kRead, 0);
  EXPECT_EQ(m.status, rt::ExecAnswer::Status::kFailed);
  EXPECT_NE(m.err.find("secret `NOT_DECLARED` is not under `secrets:`"), std::string::npos) << m.err;
  EXPECT_EQ(live.requests(), before);
  unsetenv("RB_TEST_KUBE_TOKEN");
}

// A Celery worker (`--pool=solo`: one process) started in its own process group, in a folder of its
// own with HOME there, killed with its group when the test ends, and with the test process if it dies.
class CeleryWorker {
 public:
  CeleryWorker(const std::string& broker, const std::string& dir) {
    std::vector<std::string> argv{"/usr/bin/python3",
                                  "-m",
                                  "celery",
                                  "-b",
                                  broker,
                                  "worker",
                                  "--pool=solo",
                                  "-n",
                                  "w1@localhost",
                                  "--without-gossip",
                                  "--without-mingle",
                                  "--without-heartbeat",
                                  "-l",
                                  "WARNING"};
    ServerOptions o;
    o.env = {"PATH=/usr/bin:/bin", "HOME=" + dir, "LANG=C.UTF-8", "PYTHONDONTWRITEBYTECODE=1"};
    o.dir = dir;
    o.own_group = true;
    pid_ = StartServerProcess(argv, o);
  }
  ~CeleryWorker() { Stop(); }
  CeleryWorker(const CeleryWorker&) = delete;
  CeleryWorker& operator=(const CeleryWorker&) = delete;
  void Stop() {
    if (pid_ <= 0) return;
    kill(-pid_, SIGKILL);
    StopServerProcess(pid_);
  }
  // False once the worker has ended (it is reaped here then).
  bool running() {
    if (pid_ <= 0) return false;
    if (waitpid(pid_, nullptr, WNOHANG) == 0) return true;
    pid_ = -1;
    return false;
  }

 private:
  pid_t pid_ = -1;
};

TEST(LiveCelery, ActiveWorkersFromARealWorker) {
  RedisServer redis;
  ASSERT_TRUE(redis.up());
  const std::string broker = "redis://127.0.0.1:" + std::to_string(redis.port()) + "/0";
  ScratchDir dir("celery-worker");
  CeleryWorker worker(broker, dir.path().string());
  // Until the worker answers a ping (python3 and the worker starting take a few seconds).
  rt::SandboxOptions o;
  o.allow = {"python3"};
  o.path = {"/usr/bin"};
  o.env = {{"HOME", dir.path().string()}, {"LANG", "C.UTF-8"}};
  o.timeout_ms = 10000;
  bool up = false;
  std::string last;
  for (auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
       !up && std::chrono::steady_clock::now() < until && worker.running();) {
    rt::SandboxResult r = rt::RunSandboxed({"python3", "-m", "celery", "-b", broker, "inspect", "ping"}, o);
    up = r.status == rt::SandboxResult::Status::kExited && r.exit_code == 0 && Contains(r.out, "pong");
    last = r.reason + " " + r.out;
    if (!up) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_TRUE(up) << "the worker never answered a ping: " << last;

  rt::Environment env =
      ExecEnv("celery", broker, {"celery"}, {{"CELERY_BROKER_URL", broker}, {"HOME", dir.path().string()}},
              {{"exec_timeout", "20s"}});
  rt::LiveProvider live(env, &TestRegistry());
  rt::ProbeAnswer a = live.Probe(Exec("celery", "celery inspect ping"), 0);
  ASSERT_FALSE(a.value.IsUnknown()) << a.reason;
  std::vector<std::string> lines = LinesOf(a);
  EXPECT_EQ(CountContaining(lines, "pong"), 1u) << rt::ToString(a.value);  // celery.active_workers() == 1
  EXPECT_EQ(CountContaining(lines, "w1@localhost"), 1u) << rt::ToString(a.value);

  // The worker is gone: at the next instant nobody answers, and celery says so by its exit status.
  worker.Stop();
  rt::ProbeAnswer b = live.Probe(Exec("celery", "celery inspect ping"), 1000);
  EXPECT_TRUE(b.value.IsUnknown()) << rt::ToString(b.value);
  EXPECT_TRUE(Contains(b.reason, "exit status")) << b.reason;
  EXPECT_TRUE(Contains(b.reason, "No nodes replied")) << b.reason;
  EXPECT_EQ(live.requests(), 2u);
}

}  // namespace
}  // namespace rb::test
