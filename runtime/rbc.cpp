#include "runtime/rbc.hpp"

#include <fmt/format.h>

#include <cstring>

namespace rb::rt {

uint64_t Fnv1a64(const void* data, size_t size, uint64_t seed) {
  const auto* p = static_cast<const uint8_t*>(data);
  uint64_t h = seed;
  for (size_t i = 0; i < size; ++i) h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}

uint32_t Fnv1a32(const void* data, size_t size) {
  const auto* p = static_cast<const uint8_t*>(data);
  uint32_t h = 0x811c9dc5u;
  for (size_t i = 0; i < size; ++i) h = (h ^ p[i]) * 0x01000193u;
  return h;
}

namespace {

// The smallest runbook record: five u32 fields and nine empty u32-counted tables.
constexpr size_t kMinRunbookBytes = 5 * 4 + 9 * 4 + 3 * 4;

// Section tags, in file order.
constexpr uint32_t Tag(const char (&s)[5]) {
  return uint32_t(uint8_t(s[0])) | uint32_t(uint8_t(s[1])) << 8 | uint32_t(uint8_t(s[2])) << 16 |
         uint32_t(uint8_t(s[3])) << 24;
}
constexpr uint32_t kStrs = Tag("STRS"), kFile = Tag("FILE"), kCons = Tag("CONS"), kImpt = Tag("IMPT"),
                   kCont = Tag("CONT"), kCode = Tag("CODE"), kRunb = Tag("RUNB"), kPoli = Tag("POLI"),
                   kProg = Tag("PROG");
// The sections every file has (STRS FILE CONS IMPT PROG CONT CODE RUNB), and POLI when it has a policy.
constexpr uint32_t kSections = 8;

class Writer {
 public:
  std::vector<uint8_t> out;
  void U8(uint8_t v) { out.push_back(v); }
  void U16(uint16_t v) { Raw(&v, 2); }
  void U32(uint32_t v) { Raw(&v, 4); }
  void U64(uint64_t v) { Raw(&v, 8); }
  void F64(double v) { Raw(&v, 8); }
  void Str(const std::string& s) {
    U32(static_cast<uint32_t>(s.size()));
    Raw(s.data(), s.size());
  }
  void Raw(const void* p, size_t n) {  // little-endian hosts only (x86-64, aarch64)
    const auto* b = static_cast<const uint8_t*>(p);
    out.insert(out.end(), b, b + n);
  }
  size_t Begin(uint32_t tag) {
    U32(tag);
    U32(0);
    return out.size();
  }
  void End(size_t start) {
    uint32_t len = static_cast<uint32_t>(out.size() - start);
    std::memcpy(&out[start - 4], &len, 4);
  }
};

struct Fail {
  uint64_t offset;
  std::string message;
};

class Reader {
 public:
  // `budget`: the bytes of memory the records read through this reader may take in all.
  Reader(const std::vector<uint8_t>& b, size_t pos, size_t end, size_t budget = 0)
      : b_(b), pos_(pos), end_(end), budget_(budget) {}
  size_t pos() const { return pos_; }
  size_t left() const { return end_ - pos_; }
  void Need(size_t n, const char* what) const {
    if (n > left()) throw Fail{pos_, fmt::format("truncated: {} needs {} bytes, {} left", what, n, left())};
  }
  template <typename T>
  T Get(const char* what) {
    Need(sizeof(T), what);
    T v;
    std::memcpy(&v, b_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  uint8_t U8(const char* what) { return Get<uint8_t>(what); }
  uint32_t U32(const char* what) { return Get<uint32_t>(what); }
  uint64_t U64(const char* what) { return Get<uint64_t>(what); }
  double F64(const char* what) { return Get<double>(what); }
  // A count of elements each at least `min_size` bytes: bounded by what is left, so a corrupt count
  // cannot make us allocate gigabytes.
  uint32_t Count(const char* what, size_t min_size) {
    size_t at = pos_;
    uint32_t n = U32(what);
    if (min_size > 0 && n > left() / min_size) {
      throw Fail{at, fmt::format("{} count {} does not fit in the {} bytes left", what, n, left())};
    }
    return n;
  }
  // Reads a count of elements of `min_size` bytes each in the file and resizes `v` to it, once the
  // memory that takes fits the budget.
  template <typename T>
  void Resize(std::vector<T>& v, const char* what, size_t min_size) {
    size_t at = pos_;
    uint32_t n = Count(what, min_size);
    Charge(at, what, n, size_t{n} * sizeof(T));
    v.resize(n);
  }
  std::string Str(const char* what) {
    size_t at = pos_;
    uint32_t n = Count(what, 1);
    // Beyond the short-string buffer (15 bytes in libstdc++) a string owns a heap block of n + 1.
    if (n >= sizeof(std::string) / 2) Charge(at, what, n, size_t{n} + 1);
    std::string s(reinterpret_cast<const char*>(b_.data() + pos_), n);
    pos_ += n;
    return s;
  }
  template <typename E>
  E Enum(const char* what, uint8_t max) {
    size_t at = pos_;
    uint8_t v = U8(what);
    if (v > max) throw Fail{at, fmt::format("{} has invalid value {}", what, v)};
    return static_cast<E>(v);
  }
  // Takes `bytes` (for `n` elements of `what`) from the budget, or rejects the count at `at`.
  void Charge(size_t at, const char* what, size_t n, size_t bytes) {
    if (bytes > budget_) {
      throw Fail{at, fmt::format("{} count {} would need {} bytes of memory, more than the {} left of the "
                                 "{}x-the-file-size limit; the file is corrupt or crafted",
                                 what, n, bytes, budget_, kMaxMemoryPerFileByte)};
    }
    budget_ -= bytes;
  }
  void Expect(uint32_t tag, const char* name) {
    size_t at = pos_;
    uint32_t t = U32("section tag");
    if (t != tag) throw Fail{at, fmt::format("expected section {}", name)};
  }

 private:
  const std::vector<uint8_t>& b_;
  size_t pos_, end_;
  size_t budget_;
};

// ---- Writing ------------------------------------------------------------------------------------

void PutChunkRef(Writer& w, uint32_t c) { w.U32(c); }

void PutTargets(Writer& w, const std::vector<Target>& ts) {
  w.U32(static_cast<uint32_t>(ts.size()));
  for (const auto& t : ts) {
    w.U32(t.name);
    w.U32(t.capability);
    w.U32(t.binding);
  }
}
void PutRows(Writer& w, const std::vector<EscRow>& rows) {
  w.U32(static_cast<uint32_t>(rows.size()));
  for (const auto& r : rows) {
    PutChunkRef(w, r.chunk);
    w.U32(r.text);
    w.U32(static_cast<uint32_t>(r.actions.size()));
    for (const auto& a : r.actions) {
      w.U8(static_cast<uint8_t>(a.kind));
      w.U32(a.value);
      w.U32(a.message);
      PutChunkRef(w, a.chunk);
      w.U8(a.repeat ? 1 : 0);  // format 7
    }
    w.U32(r.part);  // format 7: the policy, the scope
    w.U32(static_cast<uint32_t>(r.severities.size()));
    for (uint32_t x : r.severities) w.U32(x);
    w.U32(static_cast<uint32_t>(r.owners.size()));
    for (uint32_t x : r.owners) w.U32(x);
  }
}
void PutWindows(Writer& w, const std::vector<Window>& ws) {
  w.U32(static_cast<uint32_t>(ws.size()));
  for (const auto& x : ws) {
    w.U64(x.bound_ms);
    w.U8(x.inclusive ? 1 : 0);
    w.U32(x.chunk);
  }
}

// Let tables: name, chunk, the capturing step (kNoStep for a runbook or policy let), source text.
void PutLets(Writer& w, const std::vector<Let>& lets) {
  w.U32(static_cast<uint32_t>(lets.size()));
  for (const auto& l : lets) {
    w.U32(l.name);
    w.U32(l.chunk);
    w.U32(l.step);
    w.U32(l.text);
  }
}

// Program effect tables: name, options (names, value name, secret), rules (effect, words), default.
void PutPrograms(Writer& w, const std::vector<ProgramDecl>& programs) {
  w.U32(static_cast<uint32_t>(programs.size()));
  for (const auto& d : programs) {
    w.Str(d.name);
    w.U32(static_cast<uint32_t>(d.options.size()));
    for (const auto& o : d.options) {
      w.U32(static_cast<uint32_t>(o.names.size()));
      for (const auto& n : o.names) w.Str(n);
      w.Str(o.value);
      w.U8(o.secret ? 1 : 0);
    }
    w.U32(static_cast<uint32_t>(d.rules.size()));
    for (const auto& r : d.rules) {
      w.U8(static_cast<uint8_t>(r.effect));
      w.U32(static_cast<uint32_t>(r.words.size()));
      for (const auto& word : r.words) w.Str(word);
    }
    w.U8(d.default_effect ? 1 : 0);
    w.U8(static_cast<uint8_t>(d.default_effect.value_or(Effect::kPure)));
    w.U32(static_cast<uint32_t>(d.wraps.size()));  // wrapper rules (format 6)
    for (const auto& wr : d.wraps) {
      w.U32(static_cast<uint32_t>(wr.words.size()));
      for (const auto& word : wr.words) w.Str(word);
    }
  }
}

void PutRunbook(Writer& w, const Runbook& r) {
  w.U32(r.name);
  w.U32(r.title);
  w.U32(r.severity);
  w.U32(r.owner);
  w.U32(r.file);
  w.U32(static_cast<uint32_t>(r.tags.size()));
  for (uint32_t t : r.tags) w.U32(t);
  PutTargets(w, r.targets);
  w.U32(static_cast<uint32_t>(r.params.size()));
  for (const auto& p : r.params) {
    w.U32(p.name);
    w.U8(static_cast<uint8_t>(p.type));
    w.U8(static_cast<uint8_t>(p.def));
    w.U32(p.value);
  }
  w.U32(static_cast<uint32_t>(r.symptoms.size()));
  for (const auto& s : r.symptoms) {
    w.U32(s.name);
    w.U32(s.description);
    PutChunkRef(w, s.chunk);
  }
  w.U32(static_cast<uint32_t>(r.dashboards.size()));
  for (const auto& d : r.dashboards) {
    w.U32(d.title);
    w.U32(static_cast<uint32_t>(d.panels.size()));
    for (const auto& p : d.panels) {
      w.U32(p.title);
      PutChunkRef(w, p.chunk);
    }
  }
  w.U32(static_cast<uint32_t>(r.kibana.size()));
  for (const auto& k : r.kibana) {
    w.U32(k.index);
    w.U32(k.query);
  }
  w.U32(static_cast<uint32_t>(r.steps.size()));
  for (const auto& s : r.steps) {
    w.U8(static_cast<uint8_t>(s.kind));
    w.U32(s.name);
    w.U32(s.title);
    PutChunkRef(w, s.guard);
    w.U32(s.guard_text);
    w.U8(s.continue_on_failure ? 1 : 0);
    w.U32(static_cast<uint32_t>(s.items.size()));
    for (const auto& it : s.items) {
      w.U8(static_cast<uint8_t>(it.kind));
      switch (it.kind) {
        case StepItem::Kind::kCommand: {
          const Command& c = it.command;
          w.U32(static_cast<uint32_t>(c.argv.size()));
          for (const auto& word : c.argv) {
            w.U32(static_cast<uint32_t>(word.size()));
            for (const auto& part : word) {
              w.U8(static_cast<uint8_t>(part.kind));
              w.U32(part.value);
              if (part.kind == WordPart::Kind::kTargetField) w.U32(part.field);
            }
          }
          w.U8(static_cast<uint8_t>(c.effect));
          w.U32(c.rule);
          PutChunkRef(w, c.filter);
          w.U32(c.filter_text);
          break;
        }
        case StepItem::Kind::kText:
          w.U32(it.text);
          PutChunkRef(w, it.chunk);
          break;
        case StepItem::Kind::kCapture: w.U32(it.text); break;
        case StepItem::Kind::kExpect:
          PutChunkRef(w, it.chunk);
          w.U32(it.text);
          w.U64(it.within_ms);
          w.U64(it.every_ms);
          break;
      }
    }
  }
  PutRows(w, r.rows);
  PutWindows(w, r.windows);
  PutLets(w, r.lets);
  PutChunkRef(w, r.down);  // format 7
  w.U32(r.down_text);
  w.U32(static_cast<uint32_t>(r.policies.size()));
  for (uint32_t x : r.policies) w.U32(x);
  w.U32(static_cast<uint32_t>(r.locks.size()));  // format 8
  for (const auto& l : r.locks) {
    w.U32(l.text);
    PutChunkRef(w, l.chunk);
    w.U32(l.step);
  }
}

// ---- Reading ------------------------------------------------------------------------------------

std::vector<Target> GetTargets(Reader& r) {
  std::vector<Target> ts;
  r.Resize(ts, "targets", 12);
  for (auto& t : ts) {
    t.name = r.U32("target name");
    t.capability = r.U32("target capability");
    t.binding = r.U32("target binding");
  }
  return ts;
}
std::vector<EscRow> GetRows(Reader& r) {
  std::vector<EscRow> rows;
  r.Resize(rows, "escalation rows", 24);
  for (auto& row : rows) {
    row.chunk = r.U32("row chunk");
    row.text = r.U32("row text");
    r.Resize(row.actions, "row actions", 14);
    for (auto& a : row.actions) {
      a.kind = r.Enum<EscAction::Kind>("action kind", lang::kCount<lang::ActionKind> - 1);
      a.value = r.U32("action value");
      a.message = r.U32("action message");
      a.chunk = r.U32("action chunk");
      a.repeat = r.Enum<uint8_t>("action repeat", 1) != 0;
    }
    row.part = r.U32("row policy");
    r.Resize(row.severities, "row scope severities", 4);
    for (auto& x : row.severities) x = r.U32("row scope severity");
    r.Resize(row.owners, "row scope owners", 4);
    for (auto& x : row.owners) x = r.U32("row scope owner");
  }
  return rows;
}
std::vector<Window> GetWindows(Reader& r) {
  std::vector<Window> ws;
  r.Resize(ws, "windows", 13);
  for (auto& x : ws) {
    x.bound_ms = r.U64("window bound");
    x.inclusive = r.Enum<uint8_t>("window inclusive", 1) != 0;
    x.chunk = r.U32("window chunk");
  }
  return ws;
}

std::vector<Let> GetLets(Reader& r) {
  std::vector<Let> lets;
  r.Resize(lets, "lets", 16);
  for (auto& l : lets) {
    l.name = r.U32("let name");
    l.chunk = r.U32("let chunk");
    l.step = r.U32("let step");
    l.text = r.U32("let text");
  }
  return lets;
}

Runbook GetRunbook(Reader& r) {
  Runbook rb;
  rb.byte_offset = r.pos();
  rb.name = r.U32("runbook name");
  rb.title = r.U32("runbook title");
  rb.severity = r.U32("runbook severity");
  rb.owner = r.U32("runbook owner");
  rb.file = r.U32("runbook file");
  r.Resize(rb.tags, "tags", 4);
  for (auto& t : rb.tags) t = r.U32("tag");
  rb.targets = GetTargets(r);
  r.Resize(rb.params, "params", 10);
  for (auto& p : rb.params) {
    p.name = r.U32("param name");
    p.type = r.Enum<ValueType>("param type", static_cast<uint8_t>(ValueType::kTime));
    p.def = r.Enum<Param::Default>("param default kind", 2);
    p.value = r.U32("param value");
  }
  r.Resize(rb.symptoms, "symptoms", 12);
  for (auto& s : rb.symptoms) {
    s.name = r.U32("symptom name");
    s.description = r.U32("symptom description");
    s.chunk = r.U32("symptom chunk");
  }
  r.Resize(rb.dashboards, "dashboards", 8);
  for (auto& d : rb.dashboards) {
    d.title = r.U32("dashboard title");
    r.Resize(d.panels, "panels", 8);
    for (auto& p : d.panels) {
      p.title = r.U32("panel title");
      p.chunk = r.U32("panel chunk");
    }
  }
  r.Resize(rb.kibana, "kibana queries", 8);
  for (auto& k : rb.kibana) {
    k.index = r.U32("kibana index");
    k.query = r.U32("kibana query");
  }
  r.Resize(rb.steps, "steps", 21);
  for (auto& s : rb.steps) {
    s.kind = r.Enum<StepKind>("step kind", lang::kCount<lang::StepKind> - 1);
    s.name = r.U32("step name");
    s.title = r.U32("step title");
    s.guard = r.U32("step guard");
    s.guard_text = r.U32("step guard text");
    s.continue_on_failure = r.Enum<uint8_t>("step on-failure flag", 1) != 0;
    r.Resize(s.items, "step items", 5);
    for (auto& it : s.items) {
      it.kind = r.Enum<StepItem::Kind>("item kind", 3);
      switch (it.kind) {
        case StepItem::Kind::kCommand: {
          Command& c = it.command;
          r.Resize(c.argv, "argv", 4);
          for (auto& word : c.argv) {
            r.Resize(word, "word parts", 5);
            for (auto& part : word) {
              part.kind = r.Enum<WordPart::Kind>("word part kind", 4);
              part.value = r.U32("word part value");
              if (part.kind == WordPart::Kind::kTargetField) part.field = r.U32("word part field");
            }
          }
          c.effect = r.Enum<Effect>("command effect", 3);
          c.rule = r.U32("command rule");
          c.filter = r.U32("command filter");
          c.filter_text = r.U32("command filter text");
          break;
        }
        case StepItem::Kind::kText:
          it.text = r.U32("text");
          it.chunk = r.U32("text chunk");
          break;
        case StepItem::Kind::kCapture: it.text = r.U32("capture let"); break;
        case StepItem::Kind::kExpect:
          it.chunk = r.U32("expect chunk");
          it.text = r.U32("expect text");
          it.within_ms = r.U64("within");
          it.every_ms = r.U64("every");
          break;
      }
    }
  }
  rb.rows = GetRows(r);
  rb.windows = GetWindows(r);
  rb.lets = GetLets(r);
  rb.down = r.U32("down chunk");
  rb.down_text = r.U32("down text");
  r.Resize(rb.policies, "runbook policies", 4);
  for (auto& x : rb.policies) x = r.U32("runbook policy");
  r.Resize(rb.locks, "runbook locks", 12);
  for (auto& l : rb.locks) {
    l.text = r.U32("lock name");
    l.chunk = r.U32("lock chunk");
    l.step = r.U32("lock step");
  }
  return rb;
}

std::vector<ProgramDecl> GetPrograms(Reader& r) {
  std::vector<ProgramDecl> out;
  r.Resize(out, "program tables", 18);
  for (auto& d : out) {
    d.name = r.Str("program name");
    r.Resize(d.options, "program options", 9);
    for (auto& o : d.options) {
      r.Resize(o.names, "option names", 4);
      for (auto& n : o.names) n = r.Str("option name");
      o.value = r.Str("option value name");
      o.secret = r.Enum<uint8_t>("option secret flag", 1) != 0;
    }
    r.Resize(d.rules, "program rules", 5);
    for (auto& rule : d.rules) {
      rule.effect = r.Enum<Effect>("rule effect", 3);
      r.Resize(rule.words, "rule words", 4);
      for (auto& word : rule.words) word = r.Str("rule word");
    }
    bool has_default = r.Enum<uint8_t>("program default flag", 1) != 0;
    size_t at = r.pos();
    Effect def = r.Enum<Effect>("program default effect", 3);
    if (has_default) d.default_effect = def;
    else if (def != Effect::kPure) throw Fail{at, "program default effect is set but the table has no default"};
    r.Resize(d.wraps, "program wrappers", 4);
    for (auto& wr : d.wraps) {
      r.Resize(wr.words, "wrapper words", 4);
      for (auto& word : wr.words) word = r.Str("wrapper word");
    }
  }
  return out;
}

}  // namespace

std::vector<uint8_t> Serialize(const Program& p) {
  Writer w;
  w.Raw(kMagic, 4);
  w.U16(kFormatVersion);
  w.U16(0);
  w.U64(p.source_hash);
  w.U32(p.policy ? kSections + 1 : kSections);
  w.U32(0);                 // file size, patched below
  w.U32(0);                 // checksum, patched below
  w.U32(0);                 // reserved

  size_t s = w.Begin(kStrs);
  w.U32(static_cast<uint32_t>(p.strings.size()));
  for (const auto& str : p.strings) w.Str(str);
  w.End(s);

  s = w.Begin(kFile);
  w.U32(static_cast<uint32_t>(p.files.size()));
  for (size_t i = 0; i < p.files.size(); ++i) {
    w.Str(p.files[i]);
    w.U64(i < p.file_hashes.size() ? p.file_hashes[i] : 0);
  }
  w.End(s);

  s = w.Begin(kCons);
  w.U32(static_cast<uint32_t>(p.constants.size()));
  for (const auto& c : p.constants) {
    w.U8(static_cast<uint8_t>(c.type));
    if (c.type == ValueType::kString) {
      w.U32(c.string);
    } else {
      w.F64(c.number);
    }
  }
  w.End(s);

  s = w.Begin(kImpt);
  w.U32(static_cast<uint32_t>(p.imports.size()));
  for (const auto& im : p.imports) {
    w.U32(im.name);
    w.U8(static_cast<uint8_t>(im.effect));
    w.U8(im.is_filter ? 1 : 0);
    w.U8(static_cast<uint8_t>(im.result));
    w.U32(static_cast<uint32_t>(im.params.size()));
    for (ValueType t : im.params) w.U8(static_cast<uint8_t>(t));
    w.U32(im.body);
  }
  w.End(s);

  s = w.Begin(kProg);
  PutPrograms(w, p.programs);
  w.End(s);

  s = w.Begin(kCont);
  w.U32(static_cast<uint32_t>(p.contacts.size()));
  for (const auto& c : p.contacts) {
    w.U32(c.name);
    w.U32(c.display);
    w.U32(c.handle);
  }
  w.End(s);

  s = w.Begin(kCode);
  w.U32(static_cast<uint32_t>(p.chunks.size()));
  for (const auto& c : p.chunks) {
    w.U8(static_cast<uint8_t>(c.cls));
    w.U32(c.owner);
    w.U32(c.file);
    w.U32(c.arity);
    w.U32(static_cast<uint32_t>(c.code.size()));
    for (uint32_t word : c.code) w.U32(word);
    for (uint32_t line : c.lines) w.U32(line);
  }
  w.End(s);

  s = w.Begin(kRunb);
  w.U32(static_cast<uint32_t>(p.runbooks.size()));
  for (const auto& r : p.runbooks) PutRunbook(w, r);
  w.End(s);

  if (p.policy) {
    s = w.Begin(kPoli);
    w.U32(p.policy->name);
    w.U32(p.policy->title);
    w.U32(p.policy->file);
    w.U32(static_cast<uint32_t>(p.policy->parts.size()));  // format 7: the merged policies
    for (const auto& part : p.policy->parts) {
      w.U32(part.name);
      w.U32(part.title);
      w.U32(part.file);
    }
    PutTargets(w, p.policy->targets);
    PutRows(w, p.policy->rows);
    PutWindows(w, p.policy->windows);
    PutLets(w, p.policy->lets);
    w.End(s);
  }

  uint32_t size = static_cast<uint32_t>(w.out.size());
  std::memcpy(&w.out[20], &size, 4);
  Reseal(w.out);
  return w.out;
}

void Reseal(std::vector<uint8_t>& bytes) {
  if (bytes.size() < kHeaderSize) return;
  uint32_t sum = Fnv1a32(bytes.data() + kHeaderSize, bytes.size() - kHeaderSize);
  std::memcpy(&bytes[24], &sum, 4);
}

std::variant<Program, LoadError> Deserialize(const std::vector<uint8_t>& bytes) {
  try {
    if (bytes.size() < kHeaderSize) {
      throw Fail{bytes.size(), fmt::format("truncated: {} bytes is shorter than the {}-byte header", bytes.size(), kHeaderSize)};
    }
    if (bytes.size() > kMaxRbcBytes) throw Fail{0, "file is larger than 64 MiB"};
    if (std::memcmp(bytes.data(), kMagic, 4) != 0) throw Fail{0, "not a runbook bytecode file (bad magic)"};
    Reader h(bytes, 4, kHeaderSize);
    uint16_t version = h.Get<uint16_t>("version");
    if (version != kFormatVersion) {
      throw Fail{4, fmt::format("format version {} is not supported (this runbook reads version {}); recompile the source",
                                version, kFormatVersion)};
    }
    h.Get<uint16_t>("flags");
    Program p;
    p.source_hash = h.U64("source hash");
    uint32_t sections = h.U32("section count");
    uint32_t size = h.U32("file size");
    uint32_t sum = h.U32("checksum");
    if (size != bytes.size()) {
      throw Fail{20, fmt::format("truncated or padded: the header says {} bytes, the file has {}", size, bytes.size())};
    }
    if (sum != Fnv1a32(bytes.data() + kHeaderSize, bytes.size() - kHeaderSize)) {
      throw Fail{24, "checksum mismatch: the file was corrupted or edited after it was compiled"};
    }
    if (sections != kSections && sections != kSections + 1) throw Fail{16, fmt::format("unexpected section count {}", sections)};

    Reader r(bytes, kHeaderSize, bytes.size(), kMaxMemoryPerFileByte * bytes.size());
    auto section = [&](uint32_t tag, const char* name) {
      r.Expect(tag, name);
      uint32_t len = r.U32("section length");
      r.Need(len, name);
      return r.pos() + len;
    };
    auto close = [&](size_t end, const char* name) {
      if (r.pos() > end) {
        throw Fail{end, fmt::format("section {} is shorter than its records: they run {} bytes past its end", name,
                                    r.pos() - end)};
      }
      if (r.pos() < end) throw Fail{r.pos(), fmt::format("section {} has {} unexpected trailing bytes", name, end - r.pos())};
    };

    size_t end = section(kStrs, "STRS");
    r.Resize(p.strings, "strings", 4);
    for (auto& s : p.strings) s = r.Str("string");
    close(end, "STRS");

    end = section(kFile, "FILE");
    size_t files_at = r.pos();
    r.Resize(p.files, "files", 12);
    r.Charge(files_at, "files", p.files.size(), p.files.size() * sizeof(uint64_t));
    p.file_hashes.resize(p.files.size());
    for (size_t i = 0; i < p.files.size(); ++i) {
      p.files[i] = r.Str("file");
      p.file_hashes[i] = r.U64("file content hash");
    }
    close(end, "FILE");

    end = section(kCons, "CONS");
    r.Resize(p.constants, "constants", 5);
    for (auto& c : p.constants) {
      c.type = r.Enum<ValueType>("constant type", static_cast<uint8_t>(ValueType::kNone));
      if (c.type == ValueType::kString) {
        c.string = r.U32("constant string");
      } else {
        c.number = r.F64("constant number");
      }
    }
    close(end, "CONS");

    end = section(kImpt, "IMPT");
    r.Resize(p.imports, "imports", 15);
    for (auto& im : p.imports) {
      im.byte_offset = r.pos();
      im.name = r.U32("import name");
      im.effect = r.Enum<Effect>("import effect", 3);
      im.is_filter = r.Enum<uint8_t>("import filter flag", 1) != 0;
      im.result = r.Enum<ValueType>("import result", static_cast<uint8_t>(ValueType::kTime));
      r.Resize(im.params, "import params", 1);
      for (auto& t : im.params) t = r.Enum<ValueType>("import param", static_cast<uint8_t>(ValueType::kTime));
      im.body = r.U32("import body");
    }
    close(end, "IMPT");

    end = section(kProg, "PROG");
    p.programs_offset = r.pos();
    p.programs = GetPrograms(r);
    close(end, "PROG");

    end = section(kCont, "CONT");
    r.Resize(p.contacts, "contacts", 12);
    for (auto& c : p.contacts) {
      c.name = r.U32("contact name");
      c.display = r.U32("contact display");
      c.handle = r.U32("contact handle");
    }
    close(end, "CONT");

    end = section(kCode, "CODE");
    r.Resize(p.chunks, "chunks", 17);
    for (auto& c : p.chunks) {
      c.cls = r.Enum<ChunkClass>("chunk class", static_cast<uint8_t>(ChunkClass::kMethod));
      c.owner = r.U32("chunk owner");
      c.file = r.U32("chunk file");
      c.arity = r.U32("chunk arity");
      size_t at = r.pos();
      uint32_t n = r.Count("instructions", 8);
      r.Charge(at, "instructions", n, size_t{n} * 2 * sizeof(uint32_t));  // the code and its line table
      c.byte_offset = r.pos();
      c.code.resize(n);
      for (auto& word : c.code) word = r.U32("instruction");
      c.lines.resize(n);
      for (auto& line : c.lines) line = r.U32("line");
    }
    close(end, "CODE");

    end = section(kRunb, "RUNB");
    r.Resize(p.runbooks, "runbooks", kMinRunbookBytes);
    for (auto& rb : p.runbooks) rb = GetRunbook(r);
    close(end, "RUNB");

    if (sections == kSections + 1) {
      end = section(kPoli, "POLI");
      p.policy_offset = r.pos();
      Policy pol;
      pol.name = r.U32("policy name");
      pol.title = r.U32("policy title");
      pol.file = r.U32("policy file");
      r.Resize(pol.parts, "policies", 12);
      for (auto& part : pol.parts) {
        part.name = r.U32("policy part name");
        part.title = r.U32("policy part title");
        part.file = r.U32("policy part file");
      }
      pol.targets = GetTargets(r);
      pol.rows = GetRows(r);
      pol.windows = GetWindows(r);
      pol.lets = GetLets(r);
      p.policy = std::move(pol);
      close(end, "POLI");
    }
    if (r.left() != 0) throw Fail{r.pos(), fmt::format("{} unexpected bytes after the last section", r.left())};
    return p;
  } catch (const Fail& f) {
    return LoadError{f.offset, f.message};
  } catch (const std::bad_alloc&) {
    return LoadError{0, "out of memory while reading the file"};
  }
}

}  // namespace rb::rt
