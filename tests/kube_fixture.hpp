// A Kubernetes API server for the live tests, in-process on a free loopback port over plain HTTP:
// enough of the API (JSON) for a real `kubectl` to run the reads of std.kube in namespace `denis`.
// Discovery in the legacy format (an aggregated-discovery Accept header is answered with it too),
// pods listed by label selector, statefulsets and deployments (get, list by field selector, watch),
// and pod logs. Every request is logged, whatever its method; only GET is served: any other verb is
// answered 405 (and logged), so a test can assert that nothing but reads was ever sent.
//
// Built like HttpFixture (tests/http_fixture.hpp) on cpp-httplib, with its own httplib::Server:
// HttpFixture routes GET and POST only, and a DELETE or PATCH it has no route for is never seen.
#pragma once

#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/http_fixture.hpp"
#include "tests/live_server.hpp"

namespace rb::test {

class KubeApiFixture {
 public:
  static constexpr const char* kNamespace = "denis";

  struct Pod {
    std::string name;
    std::map<std::string, std::string> labels;
    bool ready = true;
    std::vector<std::string> log;  // its container's log, oldest first
    std::string container = "main";
  };
  // A statefulset or a deployment (`kind`: "statefulset" or "deployment") and its status.
  struct Workload {
    std::string kind, name;
    int replicas = 1, ready = 1, updated = 1, available = 1;
    int64_t generation = 1, observed_generation = 1;
  };
  // One request as it arrived: "GET", "/api/v1/namespaces/denis/pods", "labelSelector=app%3Dredis".
  struct Request {
    std::string method, path, query, accept;
  };

  KubeApiFixture() {
    http_.server().set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      Log(req);
      if (req.method == "GET" || req.method == "HEAD") return httplib::Server::HandlerResponse::Unhandled;
      Fail(res, 405, "MethodNotAllowed", "this fixture serves reads only: " + req.method + " " + req.path);
      return httplib::Server::HandlerResponse::Handled;
    });
    http_.Get(".*", [this](const httplib::Request& req, httplib::Response& res) { Serve(req, res); });
  }
  ~KubeApiFixture() { Stop(); }
  KubeApiFixture(const KubeApiFixture&) = delete;
  KubeApiFixture& operator=(const KubeApiFixture&) = delete;

  // The objects served; set them before Start (or under no concurrent request).
  void AddPod(Pod p) { pods_.push_back(std::move(p)); }
  void AddWorkload(Workload w) { workloads_.push_back(std::move(w)); }

  void Start() { http_.Start(); }
  void Stop() { http_.Stop(); }
  int port() const { return http_.port(); }
  std::string url() const { return http_.url(); }

  // A kubeconfig whose current context is this server, namespace denis, with a bearer token
  // (sent over plain HTTP to loopback; the fixture does not check it).
  void WriteKubeconfig(const std::string& path) const { WriteKubeconfigFor(path, url()); }
  static void WriteKubeconfigFor(const std::string& path, const std::string& server) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << "apiVersion: v1\n"
           "kind: Config\n"
           "clusters:\n"
           "- name: fixture\n"
           "  cluster:\n"
           "    server: "
        << server
        << "\n"
           "users:\n"
           "- name: fixture\n"
           "  user:\n"
           "    token: fixture-token\n"
           "contexts:\n"
           "- name: fixture\n"
           "  context:\n"
           "    cluster: fixture\n"
           "    user: fixture\n"
           "    namespace: "
        << kNamespace
        << "\n"
           "current-context: fixture\n";
  }

  std::vector<Request> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  size_t request_count() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_.size();
  }
  // Every request whose method is not GET (or HEAD): a write verb that reached the server.
  std::vector<Request> non_reads() const {
    std::vector<Request> out;
    for (auto& r : requests()) {
      if (r.method != "GET" && r.method != "HEAD") out.push_back(r);
    }
    return out;
  }
  // "GET /api/v1/namespaces/denis/pods?labelSelector=app%3Dredis&limit=500", one a line: for failure messages.
  std::string Shown() const {
    std::string s;
    for (auto& r : requests()) s += r.method + " " + r.path + (r.query.empty() ? "" : "?" + r.query) + "\n";
    return s;
  }
  // Whether a request reached `path` (without its query).
  bool Saw(const std::string& path) const {
    for (auto& r : requests()) {
      if (r.path == path) return true;
    }
    return false;
  }

 private:
  using json = nlohmann::json;

  void Log(const httplib::Request& req) {
    // req.target is the request line's target as sent; the query after '?'.
    std::string target = req.target.empty() ? req.path : req.target;
    size_t q = target.find('?');
    Request r{req.method, req.path, q == std::string::npos ? "" : target.substr(q + 1), req.get_header_value("Accept")};
    std::lock_guard<std::mutex> lock(mu_);
    requests_.push_back(std::move(r));
  }

  static void Send(httplib::Response& res, int status, const json& body) {
    res.status = status;
    res.set_content(body.dump(), "application/json");
  }
  static void Fail(httplib::Response& res, int status, const std::string& reason, const std::string& message) {
    Send(res, status,
         json{{"kind", "Status"},
              {"apiVersion", "v1"},
              {"metadata", json::object()},
              {"status", "Failure"},
              {"message", message},
              {"reason", reason},
              {"code", status}});
  }

  // A label selector of `k=v`, `k==v`, `k!=v`, `k` and `!k` terms joined by commas; false if it is
  // none of these (set-based `in`/`notin` are not served).
  static bool ParseSelector(const std::string& text, std::vector<std::function<bool(const Pod&)>>& terms) {
    std::stringstream in(text);
    std::string term;
    auto trim = [](std::string s) {
      s.erase(0, s.find_first_not_of(' '));
      s.erase(s.find_last_not_of(' ') + 1);
      return s;
    };
    while (std::getline(in, term, ',')) {
      term = trim(term);
      if (term.empty()) continue;
      if (term.find(' ') != std::string::npos || term.find('(') != std::string::npos) return false;
      size_t ne = term.find("!=");
      size_t eq = term.find('=');
      if (ne != std::string::npos) {
        std::string k = term.substr(0, ne), v = term.substr(ne + 2);
        terms.push_back([k, v](const Pod& p) {
          auto it = p.labels.find(k);
          return it == p.labels.end() || it->second != v;
        });
      } else if (eq != std::string::npos) {
        std::string k = term.substr(0, eq);
        std::string v = term.substr(term.compare(eq, 2, "==") == 0 ? eq + 2 : eq + 1);
        terms.push_back([k, v](const Pod& p) {
          auto it = p.labels.find(k);
          return it != p.labels.end() && it->second == v;
        });
      } else if (term[0] == '!') {
        std::string k = term.substr(1);
        terms.push_back([k](const Pod& p) { return p.labels.count(k) == 0; });
      } else {
        terms.push_back([term](const Pod& p) { return p.labels.count(term) != 0; });
      }
    }
    return true;
  }

  json PodJson(const Pod& p) const {
    json labels = json::object();
    for (auto& [k, v] : p.labels) labels[k] = v;
    return json{
        {"apiVersion", "v1"},
        {"kind", "Pod"},
        {"metadata",
         {{"name", p.name},
          {"namespace", kNamespace},
          {"uid", "uid-" + p.name},
          {"resourceVersion", "10"},
          {"creationTimestamp", "2024-01-01T00:00:00Z"},
          {"labels", labels}}},
        {"spec", {{"containers", json::array({json{{"name", p.container}, {"image", "fixture:1"}}})}}},
        {"status",
         {{"phase", "Running"},
          {"conditions", json::array({json{{"type", "Initialized"}, {"status", "True"}},
                                      json{{"type", "Ready"}, {"status", p.ready ? "True" : "False"}},
                                      json{{"type", "ContainersReady"}, {"status", p.ready ? "True" : "False"}}})},
          {"containerStatuses", json::array({json{{"name", p.container},
                                                  {"ready", p.ready},
                                                  {"restartCount", 0},
                                                  {"image", "fixture:1"},
                                                  {"imageID", ""},
                                                  {"state", {{"running", json::object()}}}}})}}}};
  }

  json WorkloadJson(const Workload& w) const {
    bool sts = w.kind == "statefulset";
    json j{{"apiVersion", "apps/v1"},
           {"kind", sts ? "StatefulSet" : "Deployment"},
           {"metadata",
            {{"name", w.name},
             {"namespace", kNamespace},
             {"uid", "uid-" + w.name},
             {"resourceVersion", "20"},
             {"generation", w.generation},
             {"creationTimestamp", "2024-01-01T00:00:00Z"}}},
           {"spec", {{"replicas", w.replicas}, {"selector", {{"matchLabels", {{"app", w.name}}}}}}},
           {"status",
            {{"observedGeneration", w.observed_generation},
             {"replicas", w.replicas},
             {"readyReplicas", w.ready},
             {"updatedReplicas", w.updated},
             {"availableReplicas", w.available}}}};
    if (sts) {
      // As a real API server defaults it: RollingUpdate with partition 0.
      j["spec"]["updateStrategy"] = {{"type", "RollingUpdate"}, {"rollingUpdate", {{"partition", 0}}}};
      j["spec"]["serviceName"] = w.name;
      j["status"]["currentReplicas"] = w.updated;
      j["status"]["currentRevision"] = w.name + "-7d9f8c";
      j["status"]["updateRevision"] = w.name + "-7d9f8c";
    } else {
      j["spec"]["strategy"] = {{"type", "RollingUpdate"}};
      j["status"]["conditions"] =
          json::array({json{{"type", "Available"},
                            {"status", w.available >= w.replicas ? "True" : "False"},
                            {"reason", "MinimumReplicasAvailable"}},
                       json{{"type", "Progressing"}, {"status", "True"}, {"reason", "NewReplicaSetAvailable"}}});
    }
    return j;
  }

  static json ResourceList(const std::string& group_version, const json& resources) {
    return json{
        {"kind", "APIResourceList"}, {"apiVersion", "v1"}, {"groupVersion", group_version}, {"resources", resources}};
  }
  static json Resource(const std::string& name, const std::string& singular, const std::string& kind,
                       std::vector<std::string> verbs, std::vector<std::string> short_names = {}) {
    json r{{"name", name}, {"singularName", singular}, {"namespaced", true}, {"kind", kind}, {"verbs", verbs}};
    if (!short_names.empty()) r["shortNames"] = short_names;
    return r;
  }

  // A watch: headers, then no event (nothing changes here) for 3s or until the fixture stops, then its end.
  void HoldWatch(httplib::Response& res) {
    res.set_chunked_content_provider("application/json", [this](size_t, httplib::DataSink& sink) {
      for (int i = 0; i < 150 && !http_.stopping(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
      sink.done();
      return true;
    });
  }

  void Serve(const httplib::Request& req, httplib::Response& res) {
    const std::string& p = req.path;
    const std::string ns = std::string("/namespaces/") + kNamespace;
    static const std::vector<std::string> kReadVerbs = {"get", "list", "watch"};
    if (p == "/version") {
      Send(res, 200,
           json{{"major", "1"}, {"minor", "32"}, {"gitVersion", "v1.32.0-fixture"}, {"platform", "linux/amd64"}});
      return;
    }
    if (p == "/api") {
      Send(res, 200,
           json{{"kind", "APIVersions"},
                {"versions", {"v1"}},
                {"serverAddressByClientCIDRs",
                 json::array(
                     {json{{"clientCIDR", "0.0.0.0/0"}, {"serverAddress", "127.0.0.1:" + std::to_string(http_.port())}}})}});
      return;
    }
    if (p == "/apis") {
      json gv{{"groupVersion", "apps/v1"}, {"version", "v1"}};
      Send(res, 200,
           json{{"kind", "APIGroupList"},
                {"apiVersion", "v1"},
                {"groups",
                 json::array({json{{"name", "apps"}, {"versions", json::array({gv})}, {"preferredVersion", gv}}})}});
      return;
    }
    if (p == "/api/v1") {
      Send(res, 200,
           ResourceList("v1", json::array({Resource("pods", "pod", "Pod", kReadVerbs, {"po"}),
                                           Resource("pods/log", "", "Pod", {"get"})})));
      return;
    }
    if (p == "/apis/apps/v1") {
      Send(res, 200,
           ResourceList("apps/v1",
                        json::array({Resource("statefulsets", "statefulset", "StatefulSet", kReadVerbs, {"sts"}),
                                     Resource("deployments", "deployment", "Deployment", kReadVerbs, {"deploy"})})));
      return;
    }
    if (p == "/api/v1" + ns + "/pods") {
      std::vector<std::function<bool(const Pod&)>> terms;
      if (!ParseSelector(req.get_param_value("labelSelector"), terms)) {
        Fail(res, 400, "BadRequest", "unable to parse requirement: " + req.get_param_value("labelSelector"));
        return;
      }
      if (IsWatch(req)) return HoldWatch(res);
      json items = json::array();
      for (const auto& pod : pods_) {
        if (std::all_of(terms.begin(), terms.end(), [&](const auto& t) { return t(pod); }))
          items.push_back(PodJson(pod));
      }
      Send(
          res, 200,
          json{{"kind", "PodList"}, {"apiVersion", "v1"}, {"metadata", {{"resourceVersion", "10"}}}, {"items", items}});
      return;
    }
    static const std::regex kPod("^/api/v1/namespaces/([^/]+)/pods/([^/]+)(/log)?$");
    static const std::regex kApps("^/apis/apps/v1/namespaces/([^/]+)/(statefulsets|deployments)(/([^/]+))?$");
    std::smatch m;
    if (std::regex_match(p, m, kPod) && m[1] == kNamespace) {
      const Pod* pod = FindPod(m[2]);
      if (pod == nullptr) {
        Fail(res, 404, "NotFound", "pods \"" + m[2].str() + "\" not found");
        return;
      }
      if (!m[3].matched) {
        Send(res, 200, PodJson(*pod));
        return;
      }
      size_t from = 0;
      if (req.has_param("tailLines")) {
        size_t n = static_cast<size_t>(std::max(0, std::atoi(req.get_param_value("tailLines").c_str())));
        from = pod->log.size() > n ? pod->log.size() - n : 0;
      }
      std::string body;
      for (size_t i = from; i < pod->log.size(); ++i) body += pod->log[i] + "\n";
      res.status = 200;
      res.set_content(body, "text/plain");
      return;
    }
    if (std::regex_match(p, m, kApps) && m[1] == kNamespace) {
      std::string kind = m[2] == "statefulsets" ? "statefulset" : "deployment";
      if (m[4].matched) {
        const Workload* w = FindWorkload(kind, m[4]);
        if (w == nullptr) {
          Fail(res, 404, "NotFound", m[2].str() + ".apps \"" + m[4].str() + "\" not found");
          return;
        }
        Send(res, 200, WorkloadJson(*w));
        return;
      }
      if (IsWatch(req)) return HoldWatch(res);
      std::string name;  // fieldSelector=metadata.name=NAME, as `kubectl rollout status` lists
      std::string fs = req.get_param_value("fieldSelector");
      if (fs.rfind("metadata.name=", 0) == 0) name = fs.substr(std::string("metadata.name=").size());
      json items = json::array();
      for (const auto& w : workloads_) {
        if (w.kind == kind && (name.empty() || w.name == name)) items.push_back(WorkloadJson(w));
      }
      Send(res, 200,
           json{{"kind", kind == "statefulset" ? "StatefulSetList" : "DeploymentList"},
                {"apiVersion", "apps/v1"},
                {"metadata", {{"resourceVersion", "20"}}},
                {"items", items}});
      return;
    }
    Fail(res, 404, "NotFound", "the server could not find the requested resource");
  }

  static bool IsWatch(const httplib::Request& req) {
    std::string w = req.get_param_value("watch");
    return w == "true" || w == "1";
  }
  const Pod* FindPod(const std::string& name) const {
    for (const auto& p : pods_) {
      if (p.name == name) return &p;
    }
    return nullptr;
  }
  const Workload* FindWorkload(const std::string& kind, const std::string& name) const {
    for (const auto& w : workloads_) {
      if (w.kind == kind && w.name == name) return &w;
    }
    return nullptr;
  }

  HttpFixture http_;
  std::vector<Pod> pods_;
  std::vector<Workload> workloads_;
  mutable std::mutex mu_;
  std::vector<Request> requests_;
};

}  // namespace rb::test
