#include "runtime/report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

namespace rb::rt {

namespace {

struct Style {
  bool on;
  std::string operator()(const char* code, const std::string& text) const {
    return on ? fmt::format("\x1b[{}m{}\x1b[0m", code, text) : text;
  }
};
constexpr const char* kBold = "1";
constexpr const char* kDim = "2";
constexpr const char* kRed = "31";
constexpr const char* kGreen = "32";
constexpr const char* kYellow = "33";
constexpr const char* kBlue = "34";
constexpr const char* kMagenta = "35";
constexpr const char* kCyan = "36";

const char* EffectColor(Effect e) {
  switch (e) {
    case Effect::kPure:
    case Effect::kRead: return kGreen;
    case Effect::kWrite: return kYellow;
    case Effect::kDestructive: return kRed;
  }
  return kBold;
}

std::string Pad(const std::string& s, size_t width) {
  // Pads by code points so Spanish titles line up.
  size_t cps = 0;
  for (unsigned char c : s) cps += (c & 0xC0) != 0x80;
  return cps >= width ? s : s + std::string(width - cps, ' ');
}

}  // namespace

std::string RenderPlan(const Plan& plan, bool color) {
  Style st{color};
  std::string out;
  out += fmt::format("{} {} \"{}\"  severity {}  owner {}\n", st(kBold, "plan"), st(kBold, plan.runbook), plan.title,
                     plan.severity, plan.owner);
  out += st(kDim, "nothing is executed: this is what the runbook would do, with every value bound") + "\n\n";
  if (!plan.bindings.targets.empty()) out += "targets\n";
  for (const auto& t : plan.bindings.targets) {
    out += fmt::format("  {} = {}(\"{}\")  {}\n", Pad(t.name, 8), t.capability, t.binding,
                       t.address.empty() ? st(kDim, "(no environment address)") : "→ " + t.address);
  }
  if (!plan.bindings.params.empty()) out += "params\n";
  for (const auto& p : plan.bindings.params) {
    std::string v = p.value.IsUnknown() ? st(kRed, "UNBOUND: set it under params: in the environment file")
                    : p.value.type == ValueType::kString ? fmt::format("\"{}\"", p.value.Text())
                                                         : ToString(p.value);
    out += fmt::format("  {} = {}  {}\n", Pad(p.name, 8), v, st(kDim, "(" + p.source + ")"));
  }
  out += "symptoms\n";
  for (const auto& [name, desc] : plan.symptoms) out += fmt::format("  {}  {}\n", Pad(name, 16), desc);
  out += "steps\n";
  for (size_t i = 0; i < plan.steps.size(); ++i) {
    const PlanStep& s = plan.steps[i];
    out += fmt::format("  {}. {} {} \"{}\"  [{}]\n", i + 1, st(kBold, lang::Name(s.kind)), st(kBold, s.name), s.title,
                       st(EffectColor(s.effect), EffectName(s.effect)));
    if (!s.guard.empty()) out += fmt::format("       only when {}\n", st(kCyan, s.guard));
    if (s.kind == StepKind::kLastResort) out += st(kDim, "       runs only once a person approves it") + "\n";
    bool person = s.kind == StepKind::kManual ||
                  std::all_of(s.items.begin(), s.items.end(), [](const PlanItem& i) { return i.kind == PlanItem::Kind::kText; });
    if (person) out += st(kDim, "       a person does it: the steps after it wait until they say it is done") + "\n";
    if (s.kind == StepKind::kVerify) {
      out += st(kDim, s.continue_on_failure ? "       on failure continue: the steps after it run even if it fails"
                                            : "       if it fails, the steps after it do not run") + "\n";
    }
    for (const auto& it : s.items) {
      switch (it.kind) {
        case PlanItem::Kind::kCommand:
          out += fmt::format("       $ {}{}  {}{}\n", it.command.Display(), it.filter.empty() ? "" : " |> " + it.filter,
                             st(EffectColor(it.command.effect),
                                fmt::format("{} ({})", EffectName(it.command.effect), it.command.rule)),
                             it.allowed ? "" : st(kRed, "  NOT in exec.allow: a live run would refuse it"));
          for (const auto& l : it.lets) out += "         " + st(kDim, l) + "\n";
          if (!it.note.empty()) out += "         " + st(kYellow, "note: " + it.command.rule + " " + it.note) + "\n";
          if (it.refused) {
            out += "         " + st(kRed, fmt::format("REFUSED: a {} step may not run this {} command",
                                                     lang::Name(s.kind), EffectName(it.command.effect))) + "\n";
          }
          break;
        case PlanItem::Kind::kText: out += fmt::format("       tell: {}\n", it.text); break;
        case PlanItem::Kind::kCapture: out += fmt::format("       let {}  {}\n", it.text, st(kDim, "(captured from the output above)")); break;
        case PlanItem::Kind::kExpect:
          out += fmt::format("       expect {}{}{}\n", it.text, it.within_ms ? " within " + FormatMs(it.within_ms) : "",
                             it.every_ms ? " every " + FormatMs(it.every_ms) : "");
          break;
      }
    }
  }
  out += "escalate\n";
  for (const auto& r : plan.rows) {
    std::string note = r.policy ? (r.source.empty() ? std::string("policy") : r.source) : std::string();
    if (!r.scope.empty()) note += (note.empty() ? "" : ", ") + std::string("only ") + r.scope;
    out += fmt::format("  | {} | {} |{}\n", r.when, fmt::join(r.actions, ", "), note.empty() ? "" : st(kDim, "  (" + note + ")"));
  }
  for (const auto& e : plan.bindings.errors) out += st(kRed, e.ToString()) + "\n";
  return out;
}

// A filter stage's output on one line: its first line, cut at 60 characters (not inside a UTF-8
// sequence), quoted; " …" and the line count when there is more.
static std::string ShortOutput(const std::string& text) {
  size_t nl = text.find('\n');
  std::string first = text.substr(0, nl);
  size_t lines = 1;
  for (char c : text) lines += c == '\n';
  bool cut = false;
  if (first.size() > 60) {
    size_t at = 60;
    while (at > 0 && (static_cast<unsigned char>(first[at]) & 0xC0) == 0x80) --at;
    first.resize(at);
    cut = true;
  }
  std::string out = "\"" + first + "\"";
  if (cut || lines > 1) out += " …";
  if (lines > 1) out += fmt::format(" ({} lines)", lines);
  return out;
}

std::string RenderEvent(const TraceEvent& e, bool color) {
  Style st{color};
  std::string out;
  std::string at = Pad(FormatMs(e.at_ms), 7);
  std::string line;
  switch (e.kind) {
    case TraceEvent::Kind::kSymptom:
      line = fmt::format("symptom {} {}", st(kBold, e.name),
                         st(e.state == Tri::kTrue ? kRed : e.state == Tri::kFalse ? kGreen : kMagenta, TriName(e.state)));
      break;
    case TraceEvent::Kind::kIncident:
      line = fmt::format("{}: {}", st(e.status == "closed" ? kGreen : kRed, "incident " + e.status), e.detail);
      break;
    case TraceEvent::Kind::kStepStart:
      line = fmt::format("step {} {} \"{}\"", st(kBold, e.status), st(kBold, e.name), e.detail);
      break;
    case TraceEvent::Kind::kStepSkip:
      line = fmt::format("step {} skipped: {} is false", st(kBold, e.name), st(kCyan, e.detail));
      break;
    case TraceEvent::Kind::kStepPending:
      line = fmt::format("step {} {}: {} is unknown, not guessed", st(kBold, e.name), st(kMagenta, "pending"),
                         st(kCyan, e.detail));
      break;
    case TraceEvent::Kind::kCommand:
      line = fmt::format("  $ {}  {} → {}", e.detail, st(EffectColor(e.effect), EffectName(e.effect)), e.status);
      break;
    case TraceEvent::Kind::kText: line = fmt::format("  tell: {}", e.detail); break;
    case TraceEvent::Kind::kExpect:
      line = fmt::format("  expect {} → {}", e.detail,
                         st(e.state == Tri::kTrue ? kGreen : e.state == Tri::kFalse ? kRed : kMagenta, e.status));
      break;
    case TraceEvent::Kind::kStepEnd: {
      bool good = e.status == lang::Name(lang::StepStatus::kOk) || e.status == lang::Name(lang::StepStatus::kDone);
      line = fmt::format("step {} {}{}", e.name,
                         st(good ? kGreen : e.status == lang::Name(lang::StepStatus::kFailed) ? kRed : kMagenta, e.status),
                         e.detail.empty() ? "" : ": " + e.detail);
      break;
    }
    case TraceEvent::Kind::kApproval:
      line = e.status == "waiting" || e.status == "abandoned"
                 ? fmt::format("  {} {}", st(kMagenta, "approval " + e.status + ":"), e.detail)
                 : fmt::format("  {} by {}", st(e.status == "approved" ? kGreen : kRed, e.status), st(kBold, e.detail));
      break;
    case TraceEvent::Kind::kDone:
      line = e.status == "waiting" || e.status == "abandoned"
                 ? fmt::format("  {} {}", st(kMagenta, e.status + ":"), e.detail)
                 : fmt::format("  {} by {}", st(kGreen, "done"), st(kBold, e.detail));
      break;
    case TraceEvent::Kind::kStop:
      line = fmt::format("{} after {}: {}", st(kRed, "sequence stopped"), st(kBold, e.name), e.detail);
      break;
    case TraceEvent::Kind::kPageHeld:
      line = fmt::format("{} {}: {}", st(kDim, "page held"), st(kBold, e.name), e.detail);
      break;
    case TraceEvent::Kind::kRowFire:
      line = fmt::format("{} | {} | → {}{}", st(kYellow, "escalate"), e.name, e.detail, e.policy ? st(kDim, " (policy)") : "");
      break;
    case TraceEvent::Kind::kPage: line = fmt::format("{} {}: {}", st(kYellow, "page"), st(kBold, e.name), e.detail); break;
    case TraceEvent::Kind::kDeclare:
      line = e.detail == "severity raised" || e.detail.empty()
                 ? fmt::format("{} {}", st(kRed, "declare"), st(kBold, e.name))
                 : fmt::format("{} {}: {}", st(kBlue, "severity"), st(kBold, e.name), e.detail);
      break;
    case TraceEvent::Kind::kManual:
      line = e.name.empty() ? fmt::format("{} {}", st(kBlue, "manual:"), e.detail)
                            : fmt::format("{} {}: {}", st(kBlue, "run"), e.name, e.detail);
      break;
    case TraceEvent::Kind::kHandover: line = fmt::format("{} runbook {}", st(kBlue, "hand over to"), st(kBold, e.name)); break;
    case TraceEvent::Kind::kError: line = st(kRed, "error: " + e.detail); break;
    case TraceEvent::Kind::kCapture:
      line = e.state == Tri::kUnknown ? fmt::format("  let {} ({})", e.detail, st(kMagenta, e.status))
                                      : fmt::format("  let {}", st(kBold, e.detail));
      break;
  }
  out += fmt::format("  {} {}\n", st(kDim, at), line);
  for (size_t i = 0; i < e.filtered.size() && i < e.filter_stages.size(); ++i) {
    out += fmt::format("  {}     |> {} → {}\n", st(kDim, Pad("", 7)), e.filter_stages[i],
                       e.filtered[i] == "unknown" ? st(kMagenta, "unknown") : ShortOutput(e.filtered[i]));
  }
  return out;
}

std::string RenderTimeline(const Trace& t, bool color) {
  std::string out;
  for (const auto& e : t.events) out += RenderEvent(e, color);
  return out + RenderOutcome(t, color);
}

std::string RenderOutcome(const Trace& t, bool color) {
  Style st{color};
  std::string out;
  bool any_symptom = std::any_of(t.events.begin(), t.events.end(), [](const TraceEvent& e) { return e.kind == TraceEvent::Kind::kSymptom; });
  if (!any_symptom) out += fmt::format("  {} every symptom clear throughout\n", st(kDim, Pad("0s", 7)));
  // A step that was reached but ended pending (an approval or a person never came, an unknown) did not
  // run: it is counted apart.
  size_t failed = 0, waiting = 0;
  for (const auto& s : t.steps) {
    failed += s.status == lang::Name(lang::StepStatus::kFailed);
    waiting += s.status == lang::Name(lang::StepStatus::kPending);
  }
  size_t ran = t.steps.size() - waiting;
  out += fmt::format("\n{}: {} step{} ran ({} failed){}, {} skipped, {} row{} fired, {} page{}; severity {}\n",
                     st(kBold, "outcome"), ran, ran == 1 ? "" : "s", failed,
                     waiting ? fmt::format(", {} not run (pending)", waiting) : "", t.skipped.size(),
                     t.fired.size(), t.fired.size() == 1 ? "" : "s", t.pages.size(), t.pages.size() == 1 ? "" : "s",
                     t.severity);
  if (!t.pending_rows.empty() || !t.pending_steps.empty() || !t.pending_asks.empty()) {
    out += st(kMagenta, "pending") + " (unknown at the end; a person must decide):\n";
    for (const auto& q : t.pending_asks) out += fmt::format("  question \"{}\" unanswered\n", q);
    for (const auto& r : t.pending_rows) out += fmt::format("  row | {} | unknown\n", r);
    for (const auto& s : t.pending_steps) {
      auto why = t.pending_why.find(s);
      out += fmt::format("  step {}: {}\n", s,
                         why != t.pending_why.end() ? why->second
                                                    : "its guard, an expectation, a check's output or a person's answer is missing");
    }
  }
  if (!t.unknown_probes.empty()) {
    out += st(kMagenta, "unknown probes") + ":\n";
    for (const auto& p : t.unknown_probes) out += "  " + p + "\n";
  }
  for (const auto& e : t.errors) out += st(kRed, "error: ") + e + "\n";
  for (const auto& w : t.warnings) out += st(kYellow, w) + "\n";
  return out;
}

std::string RenderTrace(const Trace& t, const Scenario& sc, bool color) {
  Style st{color};
  std::string out;
  out += fmt::format("{} {} · scenario {} · {} of virtual time, evaluated every {}\n", st(kBold, "rehearse"),
                     st(kBold, t.runbook), st(kBold, t.scenario), FormatMs(sc.duration_ms), FormatMs(sc.tick_ms));
  if (!sc.description.empty()) out += st(kDim, sc.description) + "\n";
  out += st(kDim, "nothing is touched: probes and command outputs come from the scenario") + "\n\n";
  return out + RenderTimeline(t, color);
}

namespace {
nlohmann::json EventObject(const TraceEvent& e) {
  using nlohmann::json;
  json ev{{"at_ms", e.at_ms}, {"at", FormatMs(e.at_ms)}, {"kind", lang::Name(e.kind)}};
  if (!e.name.empty()) ev["name"] = e.name;
  if (!e.detail.empty()) ev["detail"] = e.detail;
  if (!e.status.empty()) ev["status"] = e.status;
  if (e.kind == TraceEvent::Kind::kSymptom || e.kind == TraceEvent::Kind::kExpect || e.kind == TraceEvent::Kind::kCapture) {
    ev["state"] = TriName(e.state);
  }
  if (e.kind == TraceEvent::Kind::kCommand) ev["effect"] = EffectName(e.effect);
  if (!e.filtered.empty()) {
    json filters = json::array();
    for (size_t i = 0; i < e.filtered.size() && i < e.filter_stages.size(); ++i) {
      filters.push_back({{"filter", e.filter_stages[i]}, {"output", e.filtered[i]}});
    }
    ev["filters"] = std::move(filters);
  }
  if (e.kind == TraceEvent::Kind::kRowFire) ev["policy"] = e.policy;
  return ev;
}
}  // namespace

std::string EventJsonLine(const TraceEvent& e, const std::string& run) {
  nlohmann::json ev = EventObject(e);
  ev["type"] = "event";
  if (!run.empty()) ev["run"] = run;
  return ev.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string TraceJson(const Trace& t, const std::vector<Mismatch>* mismatches) {
  using nlohmann::json;
  json j;
  j["runbook"] = t.runbook;
  j["scenario"] = t.scenario;
  j["duration_ms"] = t.duration_ms;
  json events = json::array();
  for (const auto& e : t.events) events.push_back(EventObject(e));
  j["events"] = std::move(events);
  json steps = json::array();
  for (const auto& s : t.steps) {
    json step{{"step", s.name}, {"at_ms", s.at_ms}, {"run", s.commands}, {"status", s.status}};
    if (!s.captures.empty()) step["captures"] = s.captures;
    if (!s.approved_by.empty()) step["approved_by"] = s.approved_by;
    if (!s.done_by.empty()) step["done_by"] = s.done_by;
    if (!s.row.empty()) step["row"] = s.row;
    step["walk"] = s.walk;
    steps.push_back(std::move(step));
  }
  j["steps"] = std::move(steps);
  j["skipped"] = t.skipped;
  json rows = json::array();
  for (const auto& r : t.fired) rows.push_back({{"row", r.when}, {"at_ms", r.at_ms}, {"policy", r.policy}});
  j["escalations"] = std::move(rows);
  json pages = json::array();
  for (const auto& p : t.pages) {
    pages.push_back({{"contact", p.contact}, {"display", p.display}, {"handle", p.handle}, {"channels", p.channels}, {"at_ms", p.at_ms}});
    if (!p.message.empty()) pages.back()["message"] = p.message;
  }
  j["pages"] = std::move(pages);
  j["severity"] = t.severity;
  j["incidents"] = t.incidents;
  if (!t.stopped.empty()) j["stopped_after"] = t.stopped;
  j["pending"] = {{"rows", t.pending_rows}, {"steps", t.pending_steps}, {"why", t.pending_why}, {"asks", t.pending_asks}};
  j["unknown_probes"] = t.unknown_probes;
  j["errors"] = t.errors;
  j["warnings"] = t.warnings;
  if (mismatches) {
    json list = json::array();
    for (const auto& m : *mismatches) {
      list.push_back({{"what", m.what}, {"expected", m.expected}, {"actual", m.actual}, {"line", m.mark.line},
                      {"column", m.mark.col}});
    }
    j["expectations"] = {{"met", mismatches->empty()}, {"mismatches", std::move(list)}};
  }
  return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string RenderFailure(const TestCase& test, bool color) {
  Style st{color};
  std::string out = fmt::format("{} {}/{}  ({})\n", st(kRed, "FAIL"), test.runbook, test.scenario, test.path);
  for (const auto& e : test.load_errors) out += "  " + e + "\n";
  for (const auto& m : test.mismatches) {
    std::string where = m.mark.line ? fmt::format("{}:{}:{}: ", test.path, m.mark.line, m.mark.col) : "";
    out += fmt::format("  {}{}\n", st(kDim, where), st(kBold, m.what));
    out += fmt::format("    {} {}\n", st(kGreen, "- expected:"), m.expected);
    out += fmt::format("    {} {}\n", st(kRed, "+ actual:  "), m.actual);
  }
  for (const auto& w : test.warnings) out += "  " + st(kYellow, w) + "\n";
  return out;
}

std::string RenderWarnings(const TestCase& test, bool quiet, bool color) {
  if (test.warnings.empty()) return "";
  Style st{color};
  std::string out = quiet ? fmt::format("{} {}/{}\n", st(kYellow, "warn"), test.runbook, test.scenario) : "";
  for (const auto& w : test.warnings) out += "  " + st(kYellow, w) + "\n";
  return out;
}

namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 if it is not one.
size_t Utf8Length(const std::string& s, size_t i) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
  }
  if (n == 2 && c < 0xC2) return 0;                                 // overlong
  if (n == 3 && c == 0xE0 && b(i + 1) < 0xA0) return 0;             // overlong
  if (n == 3 && c == 0xED && b(i + 1) >= 0xA0) return 0;            // surrogates
  if (n == 4 && (c > 0xF4 || (c == 0xF0 && b(i + 1) < 0x90) || (c == 0xF4 && b(i + 1) >= 0x90))) return 0;
  return n;
}

// Valid XML 1.0 text: escapes markup, drops control characters and replaces invalid UTF-8 with
// U+FFFD, so a file name with a stray byte cannot make the report unreadable.
std::string XmlEscape(const std::string& raw) {
  std::string s;
  for (size_t i = 0; i < raw.size();) {
    size_t n = Utf8Length(raw, i);
    if (n == 0) {
      s += "\xEF\xBF\xBD";
      ++i;
    } else {
      s.append(raw, i, n);
      i += n;
    }
  }
  std::string out;
  for (unsigned char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        if (c < 0x20 && c != '\n' && c != '\t') {
          out += fmt::format("&#x{:X};", c == '\r' ? 0xD : 0xFFFD);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

std::string StripAnsi(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\x1b') {
      while (i < s.size() && s[i] != 'm') ++i;
      continue;
    }
    out += s[i];
  }
  return out;
}

}  // namespace

std::string JUnitXml(const std::vector<TestCase>& tests, double seconds) {
  size_t failures = 0;
  for (const auto& t : tests) failures += !t.passed();
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += fmt::format("<testsuites name=\"runbook test\" tests=\"{}\" failures=\"{}\" time=\"{:.3f}\">\n", tests.size(),
                     failures, seconds);
  out += fmt::format("  <testsuite name=\"runbook scenarios\" tests=\"{}\" failures=\"{}\" errors=\"0\" time=\"{:.3f}\">\n",
                     tests.size(), failures, seconds);
  for (const auto& t : tests) {
    out += fmt::format("    <testcase classname=\"{}\" name=\"{}\" file=\"{}\" time=\"{:.4f}\"", XmlEscape(t.runbook),
                       XmlEscape(t.scenario), XmlEscape(t.path), t.seconds);
    if (t.passed()) {
      out += "/>\n";
      continue;
    }
    std::string first = !t.load_errors.empty() ? t.load_errors[0] : t.mismatches[0].what;
    out += fmt::format(">\n      <failure message=\"{}\" type=\"ScenarioMismatch\">{}</failure>\n    </testcase>\n",
                       XmlEscape(first), XmlEscape(StripAnsi(RenderFailure(t, false))));
  }
  out += "  </testsuite>\n</testsuites>\n";
  return out;
}

Coverage ComputeCoverage(const Program& p, const std::vector<Trace>& traces) {
  Coverage c;
  std::set<std::string> held, run, fired;
  for (const auto& t : traces) {
    for (const auto& s : t.symptoms_held) held.insert(t.runbook + "|" + s);
    for (const auto& s : t.steps_run) run.insert(t.runbook + "|" + s);
    fired.insert(t.rows_fired.begin(), t.rows_fired.end());
  }
  for (const auto& r : p.runbooks) {
    const std::string& name = p.Str(r.name);
    for (const auto& s : r.symptoms) {
      ++c.symptoms;
      if (held.count(name + "|" + p.Str(s.name))) ++c.symptoms_hit;
      else c.missed.push_back(fmt::format("{}: symptom {} never held", name, p.Str(s.name)));
    }
    for (const auto& s : r.steps) {
      ++c.steps;
      if (run.count(name + "|" + p.Str(s.name))) ++c.steps_hit;
      else c.missed.push_back(fmt::format("{}: step {} never ran", name, p.Str(s.name)));
    }
    for (const auto& row : r.rows) {
      ++c.rows;
      if (fired.count(name + "|" + p.Str(row.text))) ++c.rows_hit;
      else c.missed.push_back(fmt::format("{}: row | {} | never fired", name, p.Str(row.text)));
    }
  }
  if (p.policy) {
    for (const auto& row : p.policy->rows) {
      ++c.rows;
      if (fired.count("policy|" + p.Str(row.text))) ++c.rows_hit;
      else c.missed.push_back(fmt::format("policy {}: row | {} | never fired", p.Str(p.policy->name), p.Str(row.text)));
    }
  }
  return c;
}

std::string RenderCoverage(const Coverage& c) {
  std::string out = fmt::format("coverage: {}/{} symptoms held, {}/{} steps ran, {}/{} escalation rows fired\n",
                                c.symptoms_hit, c.symptoms, c.steps_hit, c.steps, c.rows_hit, c.rows);
  if (c.missed.empty()) return out + "every symptom, step and escalation row is exercised by some scenario\n";
  out += "not exercised by any scenario:\n";
  for (const auto& m : c.missed) out += "  " + m + "\n";
  return out;
}

}  // namespace rb::rt
