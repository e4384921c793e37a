// A parser of the Prometheus text exposition format (version 0.0.4), for runbook checks that read a
// `/metrics` page: the samples with their labels, values and timestamps, and the families named by
// `# HELP` / `# TYPE` lines. Garbage (an HTML error page, a JSON document, a truncated line) is an error
// with a line and column, never a silent empty result. Linear time, no recursion, safe on any bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rb::rt {

struct Sample {
  std::string name;                                         // metric name as written, e.g. rpc_seconds_bucket
  std::vector<std::pair<std::string, std::string>> labels;  // in written order, values unescaped
  double value = 0;                                         // NaN, +Inf, -Inf supported
  std::optional<int64_t> timestamp_ms;                      // optional trailing timestamp
};
// From `# HELP` / `# TYPE` lines; a sample with no TYPE belongs to an "untyped" family of its own name.
struct Family {
  std::string name, type, help;  // type: counter gauge histogram summary untyped
};
struct Exposition {
  std::vector<Sample> samples;
  std::vector<Family> families;  // in order of first appearance
};
struct ExpositionError {
  int line = 0;    // 1-based
  int column = 0;  // 1-based, in bytes
  std::string message;
};

// Parses `text`; on failure returns nullopt and fills `err` with the 1-based line and column and a short message.
std::optional<Exposition> ParseExposition(std::string_view text, ExpositionError& err);

// "not a Prometheus exposition at line 3, column 7: <message>".
std::string Describe(const ExpositionError& err);

// A selector "name" or name{label="v",other!="w",x=~"re",y!~"re"} (PromQL-style matchers; a missing
// label matches as ""; regexes fully anchored). Returns the sum of the values of the samples whose name
// equals the selector's name and whose labels match every matcher; nullopt with `why` set when no sample
// matches ("no sample of `name{...}` in the exposition") or when the selector does not parse
// ("bad selector ...: ...").
std::optional<double> SumMatching(const Exposition& e, std::string_view selector, std::string& why);

}  // namespace rb::rt
