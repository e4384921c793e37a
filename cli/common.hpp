// What the verbs share (cli/verbs.cpp defines it): loading a runbook and its environment, params
// from the command line, Ctrl-C, and the environment's state store.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "compiler/build.hpp"
#include "runtime/config.hpp"
#include "runtime/redis_team.hpp"
#include "runtime/runner.hpp"

namespace rb::cli {

bool EndsWith(const std::string& s, const std::string& suffix);
// Prints why the program did not load; returns the exit code (2).
int ReportLoadFailure(const LoadedProgram& loaded, const std::string& color);
// Loads an environment file; false after printing why not.
bool LoadEnv(const std::string& path, rt::Environment& env);
// --param NAME=VALUE flags; false after printing the one that is malformed.
bool ParseParams(const std::vector<std::string>& flags, rt::ParamOverrides& out);
std::optional<uint32_t> FindRunbook(const rt::Program& p, const std::string& name);
std::string RunbookNames(const rt::Program& p);

// What plan, rehearse and run start from: the host registry, the verified program, the environment.
struct Inputs {
  rt::Registry registry;
  LoadedProgram loaded;
  rt::Environment env;
  bool has_env = false;
  const rt::Environment* Env() const { return has_env ? &env : nullptr; }
};
// Loads them; returns 0, or the exit code after printing why not.
int LoadInputs(const std::string& file, const std::string& env, const std::string& color, const std::string& stdlib_dir,
               const std::vector<std::string>& module_path, Inputs& in);

// Reads, never asks: a question no one is there to answer stays unknown.
class NoAnswers : public rt::Answers {
 public:
  std::optional<bool> Answer(const std::string&, int64_t) override { return std::nullopt; }
};

// Set by Ctrl-C (and TERM) while a watch or a run goes on: it stops at the next instant. The first
// Ctrl-C stops at the next instant; a second one quits at once (a probe stuck in DNS).
extern std::atomic<bool> g_interrupted;
extern "C" void OnInterrupt(int);

// A team's state in Redis (`state: {store: redis, ...}`): the connection, and the windows on it.
class TeamStore : public rt::StateStore {
 public:
  explicit TeamStore(rt::RedisTeamConfig c) : team_(std::move(c)), store_(team_) {}
  std::optional<int64_t> Get(const std::string& key) override { return store_.Get(key); }
  void Set(const std::string& key, int64_t value) override { store_.Set(key, value); }
  void Erase(const std::string& key) override { store_.Erase(key); }
  std::optional<std::string> Unavailable() const override { return store_.Unavailable(); }
  rt::RedisTeam& team() { return team_; }

 private:
  rt::RedisTeam team_;
  rt::RedisStateStore store_;
};
// The Redis connection settings of `state: {store: redis, address: ..., auth: ...}`; false with `error`.
bool TeamConfig(const rt::Environment& env, rt::RedisTeamConfig& c, std::string& error);
// The environment's state store (`state:`), loaded; null after saying why it cannot be read.
std::unique_ptr<rt::StateStore> OpenStateStore(const rt::Environment& env);

}  // namespace rb::cli
