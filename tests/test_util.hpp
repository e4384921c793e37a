// Shared helpers for the tests: lint a file or text and summarise the findings.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "compiler/lint.hpp"

namespace rb::test {

inline std::filesystem::path SourceDir() { return RUNBOOK_SOURCE_DIR; }

// Lints paths relative to the source tree, as `runbook lint` run from the repository root would.
inline LintResult LintFromRoot(const std::vector<std::string>& paths) {
  std::filesystem::current_path(SourceDir());
  LintOptions o;
  o.paths = paths;
  return Lint(o);
}

inline std::string RenderText(const LintResult& r) {
  RenderOptions o;
  o.files_checked = r.files;
  o.scenarios_checked = r.scenarios;
  o.environments_checked = r.environments;
  return Render(r.diags, o);
}

inline std::set<std::string> Codes(const LintResult& r) {
  std::set<std::string> codes;
  for (const auto& d : r.diags.all()) codes.insert(Info(d.kind).code);
  return codes;
}

// Writes `text` to a fresh file under a per-test temporary directory and returns its path.
// Per process: ctest runs tests of this binary in parallel processes.
inline std::filesystem::path TempDir() {
  return std::filesystem::temp_directory_path() / ("runbook-tests-" + std::to_string(getpid()));
}

inline std::string WriteTemp(const std::string& name, const std::string& text) {
  auto dir = TempDir();
  std::filesystem::create_directories(dir);
  auto path = dir / name;
  std::ofstream(path, std::ios::binary) << text;
  return path.string();
}

// Lints a runbook importing std.redis against a copy of the stdlib whose std.redis is `redis_module`
// (natives.def is the runtime's, so the stdlib's declarations must agree with it).
inline LintResult LintWithStdlibRedis(const std::string& redis_module) {
  auto dir = TempDir() / "stdlib-variant";
  std::filesystem::create_directories(dir / "stdlib");
  for (const auto& e : std::filesystem::directory_iterator(SourceDir() / "stdlib")) {
    std::filesystem::copy_file(e.path(), dir / "stdlib" / e.path().filename(),
                               std::filesystem::copy_options::overwrite_existing);
  }
  std::ofstream(dir / "stdlib" / "redis.rb.denis", std::ios::binary | std::ios::trunc) << redis_module;
  std::ofstream(dir / "r.rb.denis", std::ios::binary | std::ios::trunc)
      << "import std.redis\nimport policy.escalation\n"
         "runbook r \"R\" {\n  severity P2\n  owner sre\n  target redis = redis(\"redis\")\n"
         "  symptoms {\n    down \"Down\" : not redis.ping()\n  }\n"
         "  escalate {\n    | when | then |\n    | down | page sre |\n  }\n}\n";
  std::filesystem::create_directories(dir / "policy");
  std::filesystem::copy_file(SourceDir() / "tests" / "golden" / "policy" / "escalation.rb.denis",
                             dir / "policy" / "escalation.rb.denis", std::filesystem::copy_options::overwrite_existing);
  LintOptions o;
  o.paths = {(dir / "r.rb.denis").string()};
  o.stdlib_dir = (dir / "stdlib").string();
  return Lint(o);
}

// A std.redis that declares a filter the runtime lacks and one with another signature than its
// native (capability methods have bodies; filters are natives and must agree with natives.def).
inline const char* kDriftedRedisModule =
    "capability redis \"Redis\" {\n"
    "  read ping() -> bool \"PING\" = prom(\"redis_up\") == 1\n"
    "}\n"
    "filter slowlog_len() -> num \"not a native\"\n"
    "filter tail(n: string) -> lines \"the native takes a num\"\n";

// A fresh directory under TempDir(), removed when the test ends.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& name) : path_(TempDir() / name) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// A runbook whose one expectation compiles to more instructions than a chunk holds (RB0013):
// 600 lines of 60 probes each, about 470 KB.
inline std::string HugeConditionRunbook() {
  std::string inner;
  for (int i = 0; i < 60; ++i) inner += i ? " and r.ping()" : "r.ping()";
  std::string cond;
  for (int i = 0; i < 600; ++i) cond += (i ? " or\n        (" : "(") + inner + ")";
  return "import std.redis\nimport policy.escalation\n\nrunbook huge \"Huge\" {\n  severity P2\n  owner    sre\n"
         "  target r = redis(\"cache\")\n  steps {\n    verify v \"V\" {\n      $ redis-cli ping\n      expect " +
         cond + "\n    }\n  }\n}\n";
}

inline std::string ReadAll(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace rb::test
