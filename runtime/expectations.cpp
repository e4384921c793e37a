#include "runtime/expectations.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "runtime/executor.hpp"  // FormatMs

namespace rb::rt {

namespace {

std::string Join(const std::vector<std::string>& v) {
  if (v.empty()) return "(none)";
  return fmt::format("{}", fmt::join(v, ", "));
}

std::string At(std::optional<int64_t> at) { return at ? " at " + FormatMs(*at) : ""; }

}  // namespace

std::vector<Mismatch> Check(const Scenario& sc, const Trace& t) {
  std::vector<Mismatch> out;
  const Expectations& ex = sc.expect;
  for (const auto& se : ex.symptoms) {
    const SymptomSample* s = t.SampleAt(se.at_ms);
    // A tick the runner skipped because nothing could change there sees what the instant before saw;
    // between ticks nothing is decided: checking the last evaluation would pass on stale data.
    bool tick = sc.tick_ms > 0 && se.at_ms % sc.tick_ms == 0 && se.at_ms <= sc.duration_ms;
    if (s && s->at_ms != se.at_ms && !tick) {
      out.push_back(Mismatch{se.mark, fmt::format("symptoms at {}", FormatMs(se.at_ms)), "an evaluation instant",
                             fmt::format("no evaluation at {}: symptoms are evaluated every {} (and at polls); "
                                         "the nearest before is {}",
                                         FormatMs(se.at_ms), FormatMs(sc.tick_ms), FormatMs(s->at_ms))});
      continue;
    }
    auto state_of = [&](const std::string& name) -> std::optional<Tri> {
      if (!s) return std::nullopt;
      for (size_t i = 0; i < t.symptom_names.size(); ++i) {
        if (t.symptom_names[i] == name) return s->states[i];
      }
      return std::nullopt;
    };
    auto check = [&](const std::vector<std::string>& names, Tri want) {
      for (const auto& n : names) {
        std::optional<Tri> got = state_of(n);
        if (got && *got == want) continue;
        out.push_back(Mismatch{se.mark, fmt::format("symptom {} at {}", n, FormatMs(se.at_ms)), TriName(want),
                               got ? TriName(*got) : "not evaluated"});
      }
    };
    check(se.hold, Tri::kTrue);
    check(se.clear, Tri::kFalse);
    check(se.unknown, Tri::kUnknown);
  }
  if (ex.steps) {
    std::vector<std::string> want, got;
    for (const auto& s : *ex.steps) want.push_back(s.step);
    for (const auto& s : t.steps) got.push_back(s.name);
    if (want != got) {
      out.push_back(Mismatch{ex.MarkOf("steps"), "steps that ran, in order", Join(want), Join(got)});
    } else {
      for (size_t i = 0; i < want.size(); ++i) {
        const StepExpect& se = (*ex.steps)[i];
        const StepRun& sr = t.steps[i];
        if (se.at_ms && *se.at_ms != sr.at_ms) {
          out.push_back(Mismatch{se.mark, fmt::format("step {} started", se.step), FormatMs(*se.at_ms), FormatMs(sr.at_ms)});
        }
        if (se.run && *se.run != sr.commands) {
          std::string w, g;
          for (const auto& c : *se.run) w += "\n      $ " + c;
          for (const auto& c : sr.commands) g += "\n      $ " + c;
          out.push_back(Mismatch{se.mark, fmt::format("step {} commands", se.step), w.empty() ? "(none)" : w,
                                 g.empty() ? "(none)" : g});
        }
        if (se.status && *se.status != sr.status) {
          out.push_back(Mismatch{se.mark, fmt::format("step {} status", se.step), *se.status, sr.status});
        }
      }
    }
  }
  if (ex.skipped && *ex.skipped != t.skipped) {
    out.push_back(Mismatch{ex.MarkOf("skipped"), "steps skipped (guard false)", Join(*ex.skipped), Join(t.skipped)});
  }
  if (ex.escalations) {
    std::vector<std::string> want, got;
    bool with_times = false;
    for (const auto& r : *ex.escalations) with_times |= r.at_ms.has_value();
    for (const auto& r : *ex.escalations) want.push_back(fmt::format("| {} |{}", r.row, At(r.at_ms)));
    for (size_t i = 0; i < t.fired.size(); ++i) {
      bool show = i < ex.escalations->size() ? (*ex.escalations)[i].at_ms.has_value() : with_times;
      got.push_back(fmt::format("| {} |{}", t.fired[i].when, show ? At(t.fired[i].at_ms) : ""));
    }
    if (want != got) out.push_back(Mismatch{ex.MarkOf("escalations"), "escalation rows fired, in order", Join(want), Join(got)});
  }
  if (ex.pages) {
    std::vector<std::string> want, got;
    bool with_times = false;
    for (const auto& pg : *ex.pages) with_times |= pg.at_ms.has_value();
    // A message is compared where the expectation states one: exactly, or `~text` as a substring.
    auto message = [](const std::string& m) { return fmt::format(" \"{}\"", m); };
    for (const auto& pg : *ex.pages) want.push_back(pg.contact + At(pg.at_ms) + (pg.message ? message(*pg.message) : ""));
    for (size_t i = 0; i < t.pages.size(); ++i) {
      const PageExpect* pe = i < ex.pages->size() ? &(*ex.pages)[i] : nullptr;
      bool show = pe ? pe->at_ms.has_value() : with_times;
      std::string text = t.pages[i].contact + (show ? At(t.pages[i].at_ms) : "");
      if (pe && pe->message) {
        const std::string& m = *pe->message;
        bool sub = !m.empty() && m[0] == '~';
        bool match = sub ? t.pages[i].message.find(m.substr(1)) != std::string::npos : t.pages[i].message == m;
        text += message(match ? m : t.pages[i].message);
      }
      got.push_back(std::move(text));
    }
    if (want != got) out.push_back(Mismatch{ex.MarkOf("pages"), "pages sent, in order", Join(want), Join(got)});
  }
  if (ex.severity && *ex.severity != t.severity) {
    out.push_back(Mismatch{ex.MarkOf("severity"), "severity at the end", *ex.severity, t.severity});
  }
  if (ex.pending) {
    const PendingExpect& pe = *ex.pending;
    // Pending items are compared as sets: their order says nothing.
    auto same_set = [&](const std::optional<std::vector<std::string>>& want, std::vector<std::string> got, const char* what) {
      if (!want) return;
      std::vector<std::string> w = *want;
      std::sort(w.begin(), w.end());
      std::sort(got.begin(), got.end());
      if (w != got) out.push_back(Mismatch{pe.mark, what, Join(w), Join(got)});
    };
    same_set(pe.rows, t.pending_rows, "pending rows (unknown at the end, never fired)");
    same_set(pe.steps, t.pending_steps, "pending steps (a guard, an expectation or a check's output unknown)");
    same_set(pe.asks, t.pending_asks, "unanswered questions");
  }
  for (const auto& e : t.errors) out.push_back(Mismatch{Mark{}, "rehearsal error", "(none)", e});
  return out;
}

}  // namespace rb::rt
