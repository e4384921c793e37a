// How plans, rehearsals and test results are shown: a timeline for people (colour on a terminal),
// JSON for tools, JUnit XML for CI. Secrets never reach any of them (commands carry *** already).
#pragma once

#include <string>
#include <vector>

#include "runtime/executor.hpp"

namespace rb::rt {

std::string RenderPlan(const Plan& plan, bool color);
std::string RenderTrace(const Trace& trace, const Scenario& scenario, bool color);
// The timeline and outcome of a trace, without the rehearsal's header (a dry run has its own).
std::string RenderTimeline(const Trace& trace, bool color);
// The outcome alone: counts, what is pending, unknown probes, errors and warnings.
std::string RenderOutcome(const Trace& trace, bool color);
// One event's line (and its filter stages' lines), as the timeline shows it.
std::string RenderEvent(const TraceEvent& event, bool color);
// One JSON object, pretty-printed; with `mismatches`, also the scenario's expectation results.
std::string TraceJson(const Trace& trace, const std::vector<Mismatch>* mismatches = nullptr);
// One event as one line of JSON ({"type": "event", "kind": ..., "run": RUN}), for a live run's stream.
std::string EventJsonLine(const TraceEvent& event, const std::string& run = {});

// The outcome of one scenario in `runbook test`.
struct TestCase {
  std::string runbook, scenario, path;
  double seconds = 0;
  std::vector<std::string> load_errors;  // the scenario (or its runbook) could not be loaded
  std::vector<Mismatch> mismatches;
  std::vector<std::string> warnings;     // scenario keys the rehearsal never read (they do not fail it)
  bool passed() const { return load_errors.empty() && mismatches.empty(); }
};
// "FAIL redis_down/outage" and the expected-vs-actual diff, one block per mismatch.
std::string RenderFailure(const TestCase& test, bool color);
// A passing scenario's warnings, one indented line each ("" without any); `quiet`: headed by
// "warn runbook/scenario", as no "ok" line names it.
std::string RenderWarnings(const TestCase& test, bool quiet, bool color);
std::string JUnitXml(const std::vector<TestCase>& tests, double seconds);

// What no scenario exercised, over every runbook of a program (and its policy's rows).
struct Coverage {
  size_t symptoms = 0, symptoms_hit = 0, steps = 0, steps_hit = 0, rows = 0, rows_hit = 0;
  std::vector<std::string> missed;  // "redis_down: step rate_limit", "policy: row | ask ... |"
};
Coverage ComputeCoverage(const Program& program, const std::vector<Trace>& traces);
std::string RenderCoverage(const Coverage& coverage);

}  // namespace rb::rt
