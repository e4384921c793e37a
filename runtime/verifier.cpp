#include "runtime/verifier.hpp"

#include <fmt/format.h>

#include <cmath>

#include "runtime/natives.hpp"

namespace rb::rt {
namespace {

struct Reject {
  uint64_t offset;
  std::string message;
};

class Verifier {
 public:
  Verifier(Program& p, const Registry& reg) : p_(p), reg_(reg) {}

  void Run() {
    if (p_.strings.empty() || !p_.strings[0].empty()) throw Reject{0, "string table must start with the empty string"};
    for (size_t i = 0; i < p_.constants.size(); ++i) {
      const Constant& c = p_.constants[i];
      if (c.type == ValueType::kString) {
        Str(c.string, 0, "constant");
      } else if (c.type == ValueType::kBool || c.type == ValueType::kNum || c.type == ValueType::kDuration ||
                 c.type == ValueType::kPercent || c.type == ValueType::kSize) {
        if (!std::isfinite(c.number)) throw Reject{0, fmt::format("constant {} is not a finite number", i)};
      } else {
        throw Reject{0, fmt::format("constant {} has type {}, which cannot be a constant", i, ValueTypeName(c.type))};
      }
    }
    for (Import& im : p_.imports) CheckImport(im);
    CheckProgramTables();
    for (const Contact& c : p_.contacts) {
      Str(c.name, 0, "contact");
      Str(c.display, 0, "contact");
      Str(c.handle, 0, "contact");
    }
    method_effect_.assign(p_.chunks.size(), Effect::kPure);
    for (size_t i = 0; i < p_.chunks.size(); ++i) CheckChunk(p_.chunks[i], static_cast<uint32_t>(i));
    for (const Import& im : p_.imports) CheckMethodEffect(im);
    for (size_t i = 0; i < p_.runbooks.size(); ++i) CheckRunbook(p_.runbooks[i], static_cast<uint32_t>(i));
    if (p_.policy) CheckPolicy(*p_.policy);
  }

 private:
  void Str(uint32_t i, uint64_t at, const char* what) const {
    if (i >= p_.strings.size()) throw Reject{at, fmt::format("{} names string {}, the table has {}", what, i, p_.strings.size())};
  }
  void File(uint32_t i, uint64_t at) const {
    if (i >= p_.files.size()) throw Reject{at, fmt::format("file index {} out of range ({} files)", i, p_.files.size())};
  }

  // Checks an import against the host and resolves the natives.def entry it calls, once: the VM
  // dispatches a filter through that index.
  void CheckImport(Import& im) const {
    uint64_t at = im.byte_offset;
    Str(im.name, at, "import");
    const std::string& name = p_.strings[im.name];
    if (im.IsMethod()) {  // a method written in the language: its body is its truth (CheckMethodEffect)
      if (im.body >= p_.chunks.size()) {
        throw Reject{at, fmt::format("method `{}` names body chunk {}, there are {}", name, im.body, p_.chunks.size())};
      }
      const Chunk& body = p_.chunks[im.body];
      if (body.cls != ChunkClass::kMethod) throw Reject{at, fmt::format("method `{}` has a body that is not a method chunk", name)};
      if (body.arity != im.params.size() + 1) {
        throw Reject{at, fmt::format("method `{}` takes {} arguments but its body reads {}", name, im.params.size() + 1,
                                     body.arity)};
      }
      if (im.is_filter || im.effect == Effect::kPure) throw Reject{at, fmt::format("method `{}` is marked a filter or pure", name)};
      im.native = kNoNative;
      return;
    }
    const NativeDecl* d = reg_.Native(name);
    if (!d) throw Reject{at, fmt::format("import `{}` is not a capability this host provides", name)};
    if (d->effect != im.effect) {
      throw Reject{at, fmt::format("import `{}` is declared {} in the file but is {} on this host", name,
                                   EffectName(im.effect), EffectName(d->effect))};
    }
    if (d->is_filter != im.is_filter || d->params != im.params || d->result != im.result) {
      throw Reject{at, fmt::format("import `{}` has a different signature than on this host", name)};
    }
    uint16_t native = d->native != kNoNative ? d->native : FindNative(name);
    if (im.is_filter && (native == kNoNative || !Natives()[native].filter)) {
      throw Reject{at, fmt::format("filter `{}` has no implementation on this host", name)};
    }
    im.native = native;
  }

  // The effect tables the file carries: one per program, each named, every rule with a pattern.
  // They decide a command's effect only where the host has no table of its own.
  void CheckProgramTables() {
    uint64_t at = p_.programs_offset;
    for (size_t i = 0; i < p_.programs.size(); ++i) {
      const ProgramDecl& d = p_.programs[i];
      if (d.name.empty()) throw Reject{at, fmt::format("program table {} has no name", i)};
      for (size_t k = 0; k < i; ++k) {
        if (p_.programs[k].name == d.name) throw Reject{at, fmt::format("program `{}` has two effect tables", d.name)};
      }
      for (const ProgramRule& r : d.rules) {
        if (r.words.empty() || r.words[0].empty()) {
          throw Reject{at, fmt::format("program `{}` has a rule with no pattern", d.name)};
        }
      }
      for (const ProgramOption& o : d.options) {
        if (o.names.empty()) throw Reject{at, fmt::format("program `{}` has an option with no name", d.name)};
      }
      for (const ProgramWrap& w : d.wraps) {
        for (const std::string& word : w.words) {
          if (word.empty()) throw Reject{at, fmt::format("program `{}` has a wrapper rule with an empty word", d.name)};
        }
      }
    }
  }

  // The table the file carries for `name`, prepared for the matcher on first use (only tables the
  // host does not replace are ever prepared); null when it carries none.
  const ProgramDecl* CarriedTable(const std::string& name) const {
    for (ProgramDecl& d : p_.programs) {
      if (d.name != name) continue;
      if (!d.prepared) d.Prepare();
      return &d;
    }
    return nullptr;
  }

  // Table sizes a chunk owned by `owner` may index.
  struct Tables {
    size_t params = 0, targets = 0, symptoms = 0, steps = 0, windows = 0;
    size_t lets = 0;
  };
  Tables TablesOf(uint32_t owner, uint64_t at) const {
    if (owner == kPolicyOwner) {
      if (!p_.policy) throw Reject{at, "chunk belongs to a policy but the file has none"};
      return Tables{0, p_.policy->targets.size(), 0, 0, p_.policy->windows.size(), p_.policy->lets.size()};
    }
    if (owner >= p_.runbooks.size()) throw Reject{at, fmt::format("chunk owner {} is not a runbook", owner)};
    const Runbook& r = p_.runbooks[owner];
    return Tables{r.params.size(), r.targets.size(), r.symptoms.size(), r.steps.size(), r.windows.size(), r.lets.size()};
  }

  void CheckChunk(Chunk& c, uint32_t index) {
    uint64_t base = c.byte_offset;
    File(c.file, base);
    if (c.code.empty()) throw Reject{base, fmt::format("chunk {} is empty", index)};
    if (c.code.size() > kMaxChunkInstructions) throw Reject{base, fmt::format("chunk {} is too long", index)};
    if (c.lines.size() != c.code.size()) throw Reject{base, fmt::format("chunk {} line table does not match its code", index)};
    // A method body indexes no runbook's tables: it reads its arguments (ARG), and the natives it
    // calls run against the receiver its caller passed.
    if (c.cls == ChunkClass::kMethod && c.owner != kPolicyOwner) {
      throw Reject{base, fmt::format("method chunk {} names an owner; a method body belongs to no runbook", index)};
    }
    if (c.cls != ChunkClass::kMethod && c.arity != 0) throw Reject{base, fmt::format("chunk {} has an arity but is no method", index)};
    if (c.arity > 256) throw Reject{base, fmt::format("method chunk {} takes too many arguments", index)};
    Tables t = c.cls == ChunkClass::kMethod ? Tables{} : TablesOf(c.owner, base);
    const size_t n = c.code.size();
    std::vector<int> depth_at(n + 1, -1);  // depth on entry, from fall-through or a jump
    int depth = 0;
    bool reachable = true;
    uint32_t max_depth = 0;
    for (size_t pc = 0; pc < n; ++pc) {
      uint64_t at = base + 4 * pc;
      uint32_t w = c.code[pc];
      uint8_t opb = OpByte(w);
      if (opb >= kOpCount) throw Reject{at, fmt::format("chunk {} instruction {}: unknown opcode {}", index, pc, opb)};
      Op op = static_cast<Op>(opb);
      const OpInfo& info = Info(op);
      uint32_t a = OperandA(w);
      auto bad = [&](const std::string& why) {
        return Reject{at, fmt::format("chunk {} instruction {} ({}): {}", index, pc, info.name, why)};
      };
      auto bound = [&](size_t size, const char* what) {
        if (a >= size) throw bad(fmt::format("{} {} out of range ({} in the table)", what, a, size));
      };
      int pops = info.pops, pushes = info.pushes;
      switch (info.shape) {
        case Shape::kNone:
          if (a != 0) throw bad("operand must be 0");
          break;
        case Shape::kConst:
          bound(p_.constants.size(), "constant");
          if (op == Op::kASK && p_.constants[a].type != ValueType::kString) throw bad("question is not a string");
          break;
        case Shape::kParam: bound(t.params, "param"); break;
        case Shape::kTarget: bound(t.targets, "target"); break;
        case Shape::kSymptom: bound(t.symptoms, "symptom"); break;
        case Shape::kStep: bound(t.steps, "step"); break;
        case Shape::kWindow: bound(t.windows, "window"); break;
        case Shape::kLet: bound(t.lets, "let"); break;
        case Shape::kCount:
          if (a > 255) throw bad("list too long");
          pops = static_cast<int>(a);
          break;
        case Shape::kJump:
          if (a <= pc || a >= n) throw bad(fmt::format("jump target {} is not a later instruction of the chunk", a));
          break;
        case Shape::kArg:
          if (c.cls != ChunkClass::kMethod) throw bad("ARG outside a method body");
          if (a >= c.arity) throw bad(fmt::format("argument {} out of range (the method takes {})", a, c.arity));
          break;
        case Shape::kCall: {
          uint16_t im = CallImport(w);
          if (im >= p_.imports.size()) throw bad(fmt::format("import {} out of range ({} imports)", im, p_.imports.size()));
          const Import& imp = p_.imports[im];
          if (CallArgc(w) != imp.params.size() + 1) throw bad("argument count does not match the import");
          pops = CallArgc(w);
          break;
        }
      }
      // The effect column of opcodes.def, per chunk class: conditions compute, read the bindings
      // and the state of the instant and call reads; filters compute over OUTPUT (their input) and
      // the bindings and call filters.
      switch (info.effect) {
        case OpEffect::kPure:
        case OpEffect::kBinding:
          if (c.cls == ChunkClass::kMethod && info.effect == OpEffect::kBinding) {
            throw bad("a method body reads a binding; it reads only its arguments");
          }
          break;
        case OpEffect::kState:
          if (c.cls == ChunkClass::kMethod) throw bad("a method body reads the run's state; it reads only its arguments");
          if (c.cls == ChunkClass::kFilter && op != Op::kOUTPUT) {
            throw bad("an output filter reads the run's state; a filter may only shape `output`, its input");
          }
          break;
        case OpEffect::kImport: {
          const Import& imp = p_.imports[CallImport(w)];
          if (c.cls == ChunkClass::kCondition && imp.effect > Effect::kRead) {
            throw bad(fmt::format("a condition calls `{}`, which is {}", p_.strings[imp.name], EffectName(imp.effect)));
          }
          if (c.cls == ChunkClass::kFilter && !imp.is_filter) {
            throw bad(fmt::format("an output filter calls `{}`, which is not a filter", p_.strings[imp.name]));
          }
          if (c.cls == ChunkClass::kMethod) {
            if (imp.IsMethod()) throw bad(fmt::format("a method body calls the method `{}`; it may call natives only", p_.strings[imp.name]));
            // The host's truth: a command native's effect is its literal command's, read against
            // the program table; anything else (not a literal, a jump landing here) fails closed.
            Effect e = imp.effect;
            if (!imp.is_filter && imp.native != kNoNative && Natives()[imp.native].ByCommand()) {
              const std::string* text = nullptr;
              std::string templ;
              if (pc > 0 && depth_at[pc] < 0 && static_cast<Op>(OpByte(c.code[pc - 1])) == Op::kCONST) {
                const Constant& k = p_.constants[OperandA(c.code[pc - 1])];
                if (k.type == ValueType::kString) text = &p_.strings[k.string];
              } else if (pc > 0 && depth_at[pc] < 0 && static_cast<Op>(OpByte(c.code[pc - 1])) == Op::kCONCAT) {
                // An interpolated command: CONCAT n over n parts, each one push with nothing jumping in.
                // String constants are its literal text; anything else is a slot, any value.
                size_t n = OperandA(c.code[pc - 1]);
                bool plain = n + 1 <= pc && depth_at[pc - 1] < 0;  // nothing jumps onto the CONCAT either
                for (size_t k = pc - 1 - (plain ? n : 0); plain && k < pc - 1; ++k) {
                  Op op = static_cast<Op>(OpByte(c.code[k]));
                  const OpInfo& oi = Info(op);
                  plain = depth_at[k] < 0 && oi.pops == 0 && oi.pushes == 1 && oi.shape != Shape::kJump;
                  if (!plain) break;
                  const Constant* kc = op == Op::kCONST ? &p_.constants[OperandA(c.code[k])] : nullptr;
                  if (kc && kc->type == ValueType::kString) {
                    for (char ch : p_.strings[kc->string]) templ += (ch == '{' || ch == '}') ? std::string(2, ch) : std::string(1, ch);
                  } else {
                    templ += "{slot}";
                  }
                }
                if (plain) text = &templ;
              }
              e = NativeCommandEffect(Natives()[imp.native], text, reg_, &p_.programs).effect;
            }
            method_effect_[index] = std::max(method_effect_[index], e);
          }
          break;
        }
      }
      // Stack depth: merge fall-through with jumps into this instruction.
      if (depth_at[pc] >= 0) {
        if (reachable && depth_at[pc] != depth) {
          throw bad(fmt::format("stack depth {} here but {} from a jump", depth, depth_at[pc]));
        }
        depth = depth_at[pc];
        reachable = true;
      }
      if (!reachable) continue;  // dead code: operands checked above, never runs
      if (depth < pops) throw bad(fmt::format("needs {} values, the stack has {}", pops, depth));
      depth = depth - pops + pushes;
      if (depth > static_cast<int>(kMaxStack)) throw bad("stack too deep");
      max_depth = std::max<uint32_t>(max_depth, static_cast<uint32_t>(depth));
      if (info.shape == Shape::kJump) {
        if (depth_at[a] >= 0 && depth_at[a] != depth) throw bad("jumps into an instruction with different stack depths");
        depth_at[a] = depth;
      }
      if (op == Op::kRETURN) {
        if (depth != 0) throw bad(fmt::format("returns with {} extra values on the stack", depth));
        reachable = false;
      }
    }
    if (reachable) throw Reject{base + 4 * (n - 1), fmt::format("chunk {} falls off its end without RETURN", index)};
    c.max_stack = max_depth + 1;
  }

  // A method's declared effect is at least what its body can do: a read method cannot hide a write.
  void CheckMethodEffect(const Import& im) const {
    if (!im.IsMethod()) return;
    Effect body = method_effect_[im.body];
    if (im.effect < body) {
      throw Reject{im.byte_offset, fmt::format("method `{}` is declared {} but its body is {}", p_.strings[im.name],
                                               EffectName(im.effect), EffectName(body))};
    }
  }

  void ChunkRef(uint32_t chunk, uint32_t owner, ChunkClass cls, bool optional, uint64_t at, const char* what) const {
    if (chunk == kNoChunk) {
      if (!optional) throw Reject{at, fmt::format("{} has no code", what)};
      return;
    }
    if (chunk >= p_.chunks.size()) throw Reject{at, fmt::format("{} names chunk {}, there are {}", what, chunk, p_.chunks.size())};
    const Chunk& c = p_.chunks[chunk];
    if (c.owner != owner) throw Reject{at, fmt::format("{} uses chunk {} of another runbook", what, chunk)};
    if (c.cls != cls) throw Reject{at, fmt::format("{} uses chunk {} of the wrong class", what, chunk)};
  }

  void Targets(const std::vector<Target>& ts, uint64_t at) const {
    for (const auto& t : ts) {
      Str(t.name, at, "target");
      Str(t.capability, at, "target");
      Str(t.binding, at, "target");
    }
  }

  void Rows(const std::vector<EscRow>& rows, uint32_t owner, size_t steps, uint64_t at) const {
    for (const auto& row : rows) {
      ChunkRef(row.chunk, owner, ChunkClass::kCondition, false, at, "escalation row");
      Str(row.text, at, "escalation row text");
      if (owner == kPolicyOwner) {
        size_t parts = p_.policy ? p_.policy->parts.size() : 0;
        if (row.part >= parts) throw Reject{at, fmt::format("policy row names policy {}, there are {}", row.part, parts)};
      } else if (row.part != kNoPart) {
        throw Reject{at, "a runbook's own row names a policy"};
      }
      for (uint32_t sev : row.severities) {
        Str(sev, at, "row scope");
        if (!lang::FromName<lang::Severity>(p_.strings[sev])) {
          throw Reject{at, fmt::format("row scope `{}` is not a severity", p_.strings[sev])};
        }
      }
      for (uint32_t o : row.owners) {
        Str(o, at, "row scope");
        bool known = false;
        for (const auto& c : p_.contacts) known = known || c.name == o;
        if (!known) throw Reject{at, fmt::format("row scope `{}` is not a contact", p_.strings[o])};
      }
      for (const auto& a : row.actions) {
        if (a.repeat && a.kind != EscAction::Kind::kPage) throw Reject{at, "only a page repeats (`every time`)"};
        Str(a.message, at, "page message");
        if (a.message != 0 && a.kind != EscAction::Kind::kPage) throw Reject{at, "only a page carries a message"};
        if (a.chunk != kNoChunk && a.kind != EscAction::Kind::kPage && a.kind != EscAction::Kind::kManual) {
          throw Reject{at, "only a page message or a manual action interpolates"};
        }
        ChunkRef(a.chunk, owner, ChunkClass::kCondition, true, at, "interpolated escalation action");
        switch (a.kind) {
          case EscAction::Kind::kPage:
            if (a.value == kOwnerContact) break;  // `page owner`: each runbook's owner, checked with the runbook
            if (a.value >= p_.contacts.size()) throw Reject{at, fmt::format("page names contact {}, there are {}", a.value, p_.contacts.size())};
            break;
          case EscAction::Kind::kRun:
            if (a.value >= steps) throw Reject{at, fmt::format("run names step {}, there are {}", a.value, steps)};
            break;
          case EscAction::Kind::kRunbook:
          case EscAction::Kind::kManual: Str(a.value, at, "escalation action"); break;
          case EscAction::Kind::kDeclare: {
            Str(a.value, at, "declare");
            const std::string& s = p_.strings[a.value];
            if (!lang::FromName<lang::Severity>(s)) throw Reject{at, fmt::format("declare `{}` is not a severity", s)};
            break;
          }
        }
      }
    }
  }

  // Each let: its name and text, its condition chunk (which may not read a window: a window's
  // condition may read the let, and windows do not nest), and for a capture a step of the runbook.
  void Lets(const std::vector<Let>& lets, uint32_t owner, size_t steps, uint64_t at) const {
    for (size_t i = 0; i < lets.size(); ++i) {
      const Let& l = lets[i];
      Str(l.name, at, "let");
      Str(l.text, at, "let text");
      if (l.step != kNoStep && l.step >= steps) {
        throw Reject{at, fmt::format("let {} is captured by step {}, there are {}", i, l.step, steps)};
      }
      std::string what = fmt::format("let {}", i);
      ChunkRef(l.chunk, owner, ChunkClass::kCondition, false, at, what.c_str());
      const Chunk& c = p_.chunks[l.chunk];
      for (size_t pc = 0; pc < c.code.size(); ++pc) {
        if (static_cast<Op>(OpByte(c.code[pc])) == Op::kWINDOW) {
          throw Reject{c.byte_offset + 4 * pc,
                       fmt::format("chunk {} instruction {} (WINDOW): let {} reads a window", l.chunk, pc, i)};
        }
      }
    }
  }

  // Each window: its bound, and its condition chunk, which the runner evaluates before the rows at
  // every instant. That chunk may not read a window itself: windows do not nest.
  void Windows(const std::vector<Window>& ws, uint32_t owner, uint64_t at) const {
    for (size_t i = 0; i < ws.size(); ++i) {
      const Window& w = ws[i];
      if (w.bound_ms == 0 || w.bound_ms > kMaxDurationMs) throw Reject{at, "window bound out of range"};
      std::string what = fmt::format("window {}", i);
      ChunkRef(w.chunk, owner, ChunkClass::kCondition, false, at, what.c_str());
      const Chunk& c = p_.chunks[w.chunk];
      for (size_t pc = 0; pc < c.code.size(); ++pc) {
        if (static_cast<Op>(OpByte(c.code[pc])) == Op::kWINDOW) {
          throw Reject{c.byte_offset + 4 * pc,
                       fmt::format("chunk {} instruction {} (WINDOW): the condition of window {} reads window {}; "
                                   "windows do not nest",
                                   w.chunk, pc, i, OperandA(c.code[pc]))};
        }
      }
    }
  }

  void CheckCommand(const Command& c, const Runbook& r, uint32_t owner, StepKind kind, uint64_t at) const {
    if (c.argv.empty()) throw Reject{at, "command has no argv"};
    std::vector<std::optional<std::string>> words;
    std::string program;
    const ProgramDecl* table = nullptr;
    size_t literal_bytes = 0;  // of the whole command, checked before each part is joined
    for (size_t i = 0; i < c.argv.size(); ++i) {
      const auto& word = c.argv[i];
      if (word.empty()) throw Reject{at, "command word has no parts"};
      // The word as the matcher sees it (as the compiler builds it): literal parts, a param's literal
      // string default in its place, kSlotChar for any other slot; nullopt when nothing is known.
      std::string lit;
      bool slot = false, known = false;
      auto add = [&](const std::string& text) {
        literal_bytes += text.size();
        if (lit.size() + text.size() > kMaxCommandWordBytes || literal_bytes > kMaxCommandBytes) {
          throw Reject{at, fmt::format("command word {} is longer than {} bytes (or the command's words than {})", i,
                                       kMaxCommandWordBytes, kMaxCommandBytes)};
        }
        lit += text;
      };
      for (const auto& part : word) {
        switch (part.kind) {
          case WordPart::Kind::kLiteral:
            Str(part.value, at, "command word");
            add(p_.strings[part.value]);
            known = true;
            break;
          case WordPart::Kind::kParam: {
            if (part.value >= r.params.size()) throw Reject{at, "command slot names a missing param"};
            slot = true;
            const Param& param = r.params[part.value];
            if (param.def == Param::Default::kConstant && param.value < p_.constants.size() &&
                p_.constants[param.value].type == ValueType::kString && p_.constants[param.value].string < p_.strings.size()) {
              add(p_.strings[p_.constants[param.value].string]);
              known = true;
            } else {
              add(std::string(1, kSlotChar));
            }
            break;
          }
          case WordPart::Kind::kTarget:
            if (part.value >= r.targets.size()) throw Reject{at, "command slot names a missing target"};
            slot = true;
            add(std::string(1, kSlotChar));
            break;
          case WordPart::Kind::kTargetField:
            if (part.value >= r.targets.size()) throw Reject{at, "command slot names a missing target"};
            Str(part.field, at, "command slot field");
            if (p_.strings[part.field].empty()) throw Reject{at, "command slot names an empty target field"};
            break;
          case WordPart::Kind::kLet:
            if (part.value >= r.lets.size()) throw Reject{at, "command slot names a missing let"};
            slot = true;
            add(std::string(1, kSlotChar));
            break;
        }
      }
      if (i == 0) {
        if (slot || word.size() != 1 || word[0].kind != WordPart::Kind::kLiteral) {
          throw Reject{at, "the program of a command must be one literal word"};
        }
        // The host's table decides when it has one; else the table the file carries, if the host
        // lets carried tables decide at all.
        table = reg_.Program(lit);
        if (!table && reg_.TrustsCarriedTables()) table = CarriedTable(lit);
        if (!table) throw Reject{at, fmt::format("program `{}` is not allowed by this host", lit)};
        program = lit;
        continue;
      }
      words.push_back(known ? std::optional<std::string>(lit) : std::nullopt);
    }
    // A wrapper's inner program is judged by a table found the same way.
    const ProgramLookup lookup = [this](const std::string& name) -> const ProgramDecl* {
      const ProgramDecl* t = reg_.Program(name);
      if (!t && reg_.TrustsCarriedTables()) t = CarriedTable(name);
      return t;
    };
    const CommandMatch m = MatchCommand(*table, words, lookup);
    if (!m.declared && m.refusal == CommandMatch::Refusal::kInnerProgram) {
      throw Reject{at, fmt::format("program `{}` (run by `{}`) is not allowed by this host", m.inner_program, m.program)};
    }
    if (!m.declared && m.refusal != CommandMatch::Refusal::kSubcommand) {
      throw Reject{at, fmt::format("command refused: {}", m.rule)};
    }
    if (!m.declared) throw Reject{at, fmt::format("`{}` has no declared effect for this sub-command", m.program.empty() ? program : m.program)};
    if (m.effect != c.effect) {
      throw Reject{at, fmt::format("command `{}` is recorded as {} but is {}", m.rule, EffectName(c.effect),
                                   EffectName(m.effect))};
    }
    Str(c.rule, at, "command rule");
    Str(c.filter_text, at, "command filter text");
    if ((kind == StepKind::kCheck || kind == StepKind::kVerify) && m.effect > Effect::kRead) {
      throw Reject{at, fmt::format("a {} step runs `{}`, which is {}", lang::Name(kind), m.rule, EffectName(m.effect))};
    }
    if (kind == StepKind::kManual) throw Reject{at, "a manual step runs a command"};
    if (m.effect == Effect::kDestructive && kind != StepKind::kLastResort) {
      throw Reject{at, fmt::format("destructive `{}` outside a last_resort step", m.rule)};
    }
    ChunkRef(c.filter, owner, ChunkClass::kFilter, true, at, "command filter");
  }

  void CheckRunbook(const Runbook& r, uint32_t index) const {
    uint64_t at = r.byte_offset;
    Str(r.name, at, "runbook");
    Str(r.title, at, "runbook");
    Str(r.severity, at, "runbook");
    File(r.file, at);
    if (r.owner >= p_.contacts.size()) throw Reject{at, "runbook owner is not a contact"};
    for (uint32_t t : r.tags) Str(t, at, "tag");
    Targets(r.targets, at);
    for (const auto& p : r.params) {
      Str(p.name, at, "param");
      if (p.def == Param::Default::kConstant && p.value >= p_.constants.size()) throw Reject{at, "param default out of range"};
      if (p.def == Param::Default::kSecret) Str(p.value, at, "secret name");
    }
    for (const auto& s : r.symptoms) {
      Str(s.name, at, "symptom");
      Str(s.description, at, "symptom");
      ChunkRef(s.chunk, index, ChunkClass::kCondition, false, at, "symptom");
    }
    for (const auto& d : r.dashboards) {
      Str(d.title, at, "dashboard");
      for (const auto& panel : d.panels) {
        Str(panel.title, at, "panel");
        ChunkRef(panel.chunk, index, ChunkClass::kCondition, true, at, "panel");
      }
    }
    for (const auto& k : r.kibana) {
      Str(k.index, at, "kibana");
      Str(k.query, at, "kibana");
    }
    for (size_t si = 0; si < r.steps.size(); ++si) {
      const Step& s = r.steps[si];
      Str(s.name, at, "step");
      Str(s.title, at, "step");
      ChunkRef(s.guard, index, ChunkClass::kCondition, true, at, "step guard");
      Str(s.guard_text, at, "step guard text");
      for (const auto& it : s.items) {
        switch (it.kind) {
          case StepItem::Kind::kCommand: CheckCommand(it.command, r, index, s.kind, at); break;
          case StepItem::Kind::kText:
            Str(it.text, at, "step text");
            ChunkRef(it.chunk, index, ChunkClass::kCondition, true, at, "interpolated instruction");
            break;
          case StepItem::Kind::kCapture:
            if (it.text >= r.lets.size() || r.lets[it.text].step != si) {
              throw Reject{at, fmt::format("step {} captures let {}, which is not one of its captures", si, it.text)};
            }
            break;
          case StepItem::Kind::kExpect:
            if (s.kind == StepKind::kManual) throw Reject{at, "a manual step has an expectation"};
            ChunkRef(it.chunk, index, ChunkClass::kCondition, false, at, "expectation");
            Str(it.text, at, "expectation text");
            if (it.every_ms > 0 && (it.within_ms == 0 || it.every_ms > it.within_ms)) {
              throw Reject{at, "expectation polls more slowly than its deadline"};
            }
            if (it.within_ms > kMaxDurationMs) throw Reject{at, "expectation deadline out of range"};
            break;
        }
      }
    }
    Rows(r.rows, index, r.steps.size(), at);
    Windows(r.windows, index, at);
    Lets(r.lets, index, r.steps.size(), at);
    ChunkRef(r.down, index, ChunkClass::kCondition, true, at, "down condition");
    Str(r.down_text, at, "down condition text");
    if ((r.down == kNoChunk) != (r.down_text == 0)) throw Reject{at, "down condition without its text, or text without it"};
    size_t parts = p_.policy ? p_.policy->parts.size() : 0;
    for (uint32_t part : r.policies) {
      if (part >= parts) throw Reject{at, fmt::format("runbook imports policy {}, there are {}", part, parts)};
    }
    for (const auto& l : r.locks) {
      Str(l.text, at, "lock name");
      ChunkRef(l.chunk, index, ChunkClass::kCondition, true, at, "lock name");
      if (l.step != kNoStep && l.step >= r.steps.size()) {
        throw Reject{at, fmt::format("a lock of step {}, the runbook has {} steps", l.step, r.steps.size())};
      }
    }
  }

  void CheckPolicy(const Policy& pol) const {
    uint64_t at = p_.policy_offset;
    Str(pol.name, at, "policy");
    Str(pol.title, at, "policy");
    File(pol.file, at);
    if (pol.parts.empty()) throw Reject{at, "policy table names no policy"};
    for (const auto& part : pol.parts) {
      Str(part.name, at, "policy");
      Str(part.title, at, "policy");
      File(part.file, at);
    }
    Targets(pol.targets, at);
    Rows(pol.rows, kPolicyOwner, 0, at);
    Windows(pol.windows, kPolicyOwner, at);
    Lets(pol.lets, kPolicyOwner, 0, at);
  }

  Program& p_;
  std::vector<Effect> method_effect_;  // per chunk: the most dangerous native a method body calls
  const Registry& reg_;
};

}  // namespace

std::optional<LoadError> Verify(Program& program, const Registry& registry) {
  try {
    Verifier(program, registry).Run();
    return std::nullopt;
  } catch (const Reject& r) {
    return LoadError{r.offset, r.message};
  }
}

std::variant<Program, LoadError> LoadProgram(const std::vector<uint8_t>& bytes, const Registry& registry) {
  auto read = Deserialize(bytes);
  if (auto* err = std::get_if<LoadError>(&read)) return *err;
  Program p = std::move(std::get<Program>(read));
  if (auto err = Verify(p, registry)) return *err;
  return p;
}

}  // namespace rb::rt
