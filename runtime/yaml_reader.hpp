// The bounded YAML reader shared by the environment and scenario loaders (internal to runtime/): one
// document per file, limits on depth and aliases, positions in characters, collected errors of the
// catalogue's kinds, and helpers that read a mapping's fields and check the kind of each node.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runtime/config_error.hpp"

namespace rb::rt::cfg {

constexpr size_t kMaxErrors = 50;
constexpr size_t kEnvironmentLimit = 4u << 20;  // 4 MiB
constexpr size_t kScenarioLimit = 1u << 20;     // 1 MiB

// ---- Small text helpers --------------------------------------------------------------------------
std::string_view Trim(std::string_view s);
// A value quoted for a message: control characters escaped, long text cut (at a UTF-8 boundary).
std::string Quote(std::string_view s);
std::string Join(const std::vector<std::string>& items, std::string_view sep = ", ");
// "did you mean `x`?" when a candidate is close, else the list of candidates (`noun`: "steps").
std::string Hint(std::string_view got, const std::vector<std::string>& candidates, std::string_view noun);
// "12,345": counts in messages.
std::string Count(uint64_t n);
std::string FileName(const std::string& path);
// The name of the directory `path` is in (runbooks/redis_down/x.yaml → redis_down).
std::string ParentDirName(const std::string& path);

// ---- Errors --------------------------------------------------------------------------------------
// Which kind of file a Reader reads: the problems both kinds share have a code in each range.
enum class Family : uint8_t { kScenario, kEnvironment };
// The problems of any YAML file of ours.
enum class Common : uint8_t { kTooLarge, kYaml, kYamlLimit, kEmpty, kUnknownKey, kDuplicateKey, kShape };
ConfigKind KindOf(Family family, Common common);

// Collects errors for one file, at most kMaxErrors of them, and turns yaml-cpp's positions (0-based,
// columns in bytes) into 1-based lines and columns in characters, as the compiler's diagnostics count.
struct Reader {
  Reader(std::string f, Family fam, std::vector<ConfigError>& e) : file(std::move(f)), family(fam), errors(e) {}

  std::string file;
  Family family;
  std::vector<ConfigError>& errors;
  size_t added = 0;  // errors kept (at most kMaxErrors)
  size_t count = 0;  // errors found, kept or not
  bool failed = false;
  const std::string* text = nullptr;
  std::vector<size_t> line_starts;

  void SetText(const std::string& t);
  Mark At(int line0, int col0) const;
  Mark At(const YAML::Mark& m) const { return m.is_null() ? Mark{} : At(m.line, m.column); }
  Mark At(const YAML::Node& n) const { return n.IsDefined() ? At(n.Mark()) : Mark{}; }
  // How many characters of the line the node spans from its mark: a plain or quoted scalar, or a
  // flow [ ] / { } on one line; 0 when it cannot tell (block scalars, block collections).
  int Length(const YAML::Node& n) const;

  void Error(ConfigKind kind, Mark m, std::string message, std::string hint = {}, int length = 0);
  void Error(ConfigKind kind, const YAML::Node& n, std::string message, std::string hint = {}) {
    Error(kind, At(n), std::move(message), std::move(hint), Length(n));
  }
  void Error(Common c, Mark m, std::string message, std::string hint = {}, int length = 0) {
    Error(KindOf(family, c), m, std::move(message), std::move(hint), length);
  }
  void Error(Common c, const YAML::Node& n, std::string message, std::string hint = {}) {
    Error(KindOf(family, c), n, std::move(message), std::move(hint));
  }
};

// ---- Reading a file ------------------------------------------------------------------------------
// Reads at most `limit` bytes; larger files are refused before anything parses them. On failure
// `kind` says whether the file was unreadable or too large.
bool ReadFile(const std::string& path, size_t limit, std::string& text, std::string& error, ConfigKind& kind,
              Family family);

// The single document of a file; nullopt (with an error) on a syntax error or a refused limit.
std::optional<YAML::Node> ParseYaml(const std::string& text, Reader& r);

// Reads a YAML file whose top level must be a mapping; nullopt (with the error recorded) otherwise.
// `text` holds the file for as long as `r` reports positions in it.
std::optional<YAML::Node> ReadRoot(const std::string& path, size_t limit, Reader& r, std::string& text,
                                   const char* subject, const char* mapping_of, const char* expected_keys);

// ---- Fields of a mapping -------------------------------------------------------------------------
const char* NodeKind(const YAML::Node& n);

struct Field {
  std::string key;
  YAML::Node k, v;
};

// The entries of a mapping. Keys must be single values, appear once and (when `allowed` is not
// empty) be among `allowed`; `what` names the mapping in messages ("a target").
std::vector<Field> Fields(Reader& r, const YAML::Node& map, const std::vector<std::string>& allowed, std::string_view what);
const Field* Get(const std::vector<Field>& fields, std::string_view key);

// A mapping (null reads as an empty one). Reports and returns false otherwise.
bool WantMap(Reader& r, const YAML::Node& n, std::string_view what, std::string_view example);
// A single value; null reads as "" when `null_ok`.
std::optional<std::string> WantScalar(Reader& r, const YAML::Node& n, std::string_view what, bool null_ok = false);
// A list of single values (null reads as an empty list).
std::optional<std::vector<std::pair<std::string, YAML::Node>>> WantScalarList(Reader& r, const YAML::Node& n,
                                                                            std::string_view what, std::string_view example);

}  // namespace rb::rt::cfg
