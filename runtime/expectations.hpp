// Checking a run's trace against its scenario's `expect:` block: each difference is a mismatch
// that names where the expectation is written.
#pragma once

#include <string>
#include <vector>

#include "runtime/config.hpp"
#include "runtime/trace.hpp"

namespace rb::rt {

struct Mismatch {
  Mark mark;             // where the expectation is written
  std::string what;      // "steps", "escalations at 5m", ...
  std::string expected, actual;
};
std::vector<Mismatch> Check(const Scenario& scenario, const Trace& trace);

}  // namespace rb::rt
