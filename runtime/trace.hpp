// What a run decided, instant by instant: the trace a rehearsal prints, checks and reports. The
// runner writes it; a notifier records its pages into it; reports and expectations read it.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "lang/enums.hpp"
#include "runtime/bytecode.hpp"
#include "runtime/value.hpp"

namespace rb::rt {

// Three-valued truth of a condition: data missing is unknown, never guessed.
enum class Tri : uint8_t { kFalse, kTrue, kUnknown };
const char* TriName(Tri t);
// A condition's value as a truth: anything but a bool (unknown, an error) is unknown.
inline Tri ToTri(const Value& v) {
  if (v.type == ValueType::kBool) return v.number != 0 ? Tri::kTrue : Tri::kFalse;
  return Tri::kUnknown;
}

struct TraceEvent {
  using Kind = lang::TraceEventKind;  // lang/trace_event.def: each kind and what its fields hold
  Kind kind = Kind::kSymptom;
  int64_t at_ms = 0;
  std::string name, detail, status;
  Tri state = Tri::kUnknown;
  Effect effect = Effect::kPure;
  bool policy = false;
  // A command's output after each `|>` stage, in order (parallel to filter_stages); empty: no filters
  // ran (no filters, or no output to filter).
  std::vector<std::string> filtered;
  std::vector<std::string> filter_stages;  // each stage as written: grep("used")
};
struct StepRun {
  std::string name;
  int64_t at_ms = 0;
  std::vector<std::string> commands;  // bound, as displayed
  std::string status;                  // ok | failed | pending | done
  std::vector<std::string> captures;   // what its `let` lines took: "usage = 91%"
  std::string approved_by;             // an action or last resort: who approved it
  std::string done_by;                 // a manual step: who said it is done
  std::string row;                     // started by this escalation row's `run` (empty: by the sequence)
  int walk = 1;                        // which walk of the steps: a reopened incident walks them again
};
struct RowFire {
  std::string when;
  int64_t at_ms = 0;
  bool policy = false;
};
struct PageSent {
  std::string contact, display, handle;
  std::vector<std::string> channels;  // from the environment: "slack #sre"
  int64_t at_ms = 0;
  std::string message;                // `page sre "..."`, interpolated; empty: none
};
struct SymptomSample {
  int64_t at_ms = 0;
  std::vector<Tri> states;  // parallel to Runbook::symptoms
};
struct Trace {
  std::string runbook, scenario;
  int64_t duration_ms = 0;
  std::vector<std::string> symptom_names;
  std::vector<SymptomSample> samples;  // one per tick
  std::vector<TraceEvent> events;
  std::vector<StepRun> steps;          // the steps that ran, in order
  std::vector<std::string> skipped;
  std::vector<RowFire> fired;
  std::vector<PageSent> pages;
  std::string severity;                // at the end
  int incidents = 0;                   // how many times the incident opened (1 + reopenings)
  std::string stopped;                 // the verify whose failure stopped the sequence; empty: none
  std::vector<std::string> pending_rows, pending_steps, pending_asks;
  std::map<std::string, std::string> pending_why;  // a pending step: why, as an SRE reads it
  std::vector<std::string> unknown_probes;  // "redis.ping(): no data in scenario"
  std::vector<std::string> errors;          // runtime errors; a rehearsal with errors fails
  // Scenario keys the rehearsal never read (RB0128-RB0132), as "file:line:col: warning[RB0128]: ...";
  // a warning never fails a rehearsal.
  std::vector<std::string> warnings;
  // Coverage: what this rehearsal exercised.
  std::set<std::string> symptoms_held, steps_run, rows_fired;  // rows as "runbook|when" / "policy|when"
  // The symptom states at a time (the last tick at or before it).
  const SymptomSample* SampleAt(int64_t at_ms) const {
    const SymptomSample* found = nullptr;
    for (const auto& s : samples) {
      if (s.at_ms > at_ms) break;
      found = &s;
    }
    return found;
  }
  // Appends an event at `at_ms` and returns it for its kind's other fields.
  TraceEvent& AddEvent(TraceEvent::Kind kind, int64_t at_ms, std::string name = {}, std::string detail = {}) {
    TraceEvent e;
    e.kind = kind;
    e.at_ms = at_ms;
    e.name = std::move(name);
    e.detail = std::move(detail);
    events.push_back(std::move(e));
    return events.back();
  }
};

}  // namespace rb::rt
