#include "compiler/codegen.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <stdexcept>

#include "compiler/checker.hpp"
#include "compiler/fold.hpp"
#include "compiler/modules.hpp"
#include "lang/text.hpp"
#include "runtime/natives.hpp"
#include "runtime/rbc.hpp"

namespace rb {

rt::ValueType ToValueType(ast::Type t) {
  switch (t) {
    case ast::Type::kBool: return rt::ValueType::kBool;
    case ast::Type::kNum: return rt::ValueType::kNum;
    case ast::Type::kDuration: return rt::ValueType::kDuration;
    case ast::Type::kPercent: return rt::ValueType::kPercent;
    case ast::Type::kSize: return rt::ValueType::kSize;
    case ast::Type::kString: return rt::ValueType::kString;
    case ast::Type::kLines: return rt::ValueType::kLines;
    case ast::Type::kSecret: return rt::ValueType::kSecret;
    case ast::Type::kList: return rt::ValueType::kList;
    case ast::Type::kTarget: return rt::ValueType::kTarget;
    case ast::Type::kNone: return rt::ValueType::kNone;
    case ast::Type::kTime: return rt::ValueType::kTime;
    case ast::Type::kError: return rt::ValueType::kUnknown;
  }
  return rt::ValueType::kUnknown;
}

namespace {

using rt::Op;

rt::NativeDecl NativeOf(const std::string& name, const ast::Signature& s, bool is_filter) {
  rt::NativeDecl d;
  d.name = name;
  d.effect = is_filter ? rt::Effect::kPure : s.effect;
  d.is_filter = is_filter;
  for (const auto& f : s.formals) d.params.push_back(ToValueType(ast::TypeFromName(f.type_name).value_or(ast::Type::kError)));
  d.result = ToValueType(ast::TypeFromName(s.result_name).value_or(ast::Type::kError));
  return d;
}

class Generator {
 public:
  explicit Generator(const Workspace& ws) : natives_(RegistryFrom(ws)) {
    prog_.strings.push_back("");
    strings_[""] = 0;
    for (const auto& m : ws.modules()) {
      for (const auto& c : m->file.capabilities) {
        for (const auto& s : c.methods) methods_.emplace(c.name + "." + s.name, std::make_pair(m.get(), &s));
      }
    }
  }

  rt::Program Run(const std::vector<const Module*>& roots) {
    // The policies: every one the runbooks import, merged in the order the checker reads them
    // (CheckPolicyMerge); a root that is only a policy file counts when no runbook imports any.
    for (const Module* m : roots) {
      if (m->file.runbooks.empty()) continue;
      for (const Module* v : m->Visible()) AddPolicyModule(v);
      AddPolicyModule(m);
    }
    if (policies_.empty()) {
      for (const Module* m : roots) {
        if (m->file.runbooks.empty() && !m->file.policies.empty()) {
          policies_.push_back({m, &m->file.policies.front()});
          break;
        }
      }
    }
    for (const auto& [pm, pol] : policies_) {
      for (const auto& c : pol->contacts) {
        if (contact_index_.count(c.name)) continue;  // declared alike by an earlier policy (or RB0022)
        contact_index_[c.name] = static_cast<uint32_t>(prog_.contacts.size());
        prog_.contacts.push_back(rt::Contact{Intern(c.name), Intern(c.display), Intern(c.handle)});
      }
    }
    uint64_t hash = 0xcbf29ce484222325ull;
    auto hash_module = [&](const Module& m) {
      hash = rt::Fnv1a64(m.source->path().data(), m.source->path().size() + 1, hash);
      hash = rt::Fnv1a64(m.source->text().data(), m.source->text().size(), hash);
    };
    // Everything the output depends on: the roots and, transitively, what they import (stdlib too).
    // Breadth first, without recursion; `listed` keeps a long import chain linear.
    std::vector<const Module*> order;
    std::set<const Module*> listed;
    for (const Module* m : roots) {
      if (listed.insert(m).second) order.push_back(m);
    }
    for (size_t i = 0; i < order.size(); ++i) {
      for (const Module* v : order[i]->Visible()) {
        if (listed.insert(v).second) order.push_back(v);
      }
    }
    for (const Module* m : order) hash_module(*m);
    for (const Module* m : roots) {
      for (const auto& rb : m->file.runbooks) {
        uint32_t index = static_cast<uint32_t>(prog_.runbooks.size());
        prog_.runbooks.emplace_back();
        Runbook(*m, rb, index);
      }
    }
    if (!policies_.empty()) Policies();
    prog_.source_hash = hash;
    CarryProgramTables();
    return std::move(prog_);
  }

  // The effect tables of the programs the commands run travel in the program, by name, so the
  // `.rbc` is verified without the stdlib.
  void CarryProgramTables() {
    std::set<std::string> names;
    for (const auto& rb : prog_.runbooks) {
      for (const auto& step : rb.steps) {
        for (const auto& item : step.items) {
          const auto& argv = item.command.argv;
          if (item.kind != rt::StepItem::Kind::kCommand || argv.empty() || argv[0].size() != 1 ||
              argv[0][0].kind != rt::WordPart::Kind::kLiteral) {
            continue;
          }
          names.insert(prog_.Str(argv[0][0].value));
          // A wrapper's inner program (`sudo kubectl ...`) is a literal word further on: the tables of
          // such words travel too (carrying one too many is harmless).
          const rt::ProgramDecl* outer = natives_.Program(prog_.Str(argv[0][0].value));
          for (size_t i = 1; outer && !outer->wraps.empty() && i < argv.size(); ++i) {
            if (argv[i].size() == 1 && argv[i][0].kind == rt::WordPart::Kind::kLiteral && natives_.Program(prog_.Str(argv[i][0].value))) {
              names.insert(prog_.Str(argv[i][0].value));
            }
          }
        }
      }
    }
    // And those the command natives of method bodies read: `redis(...)` redis-cli's, `exec("kubectl
    // get ...")` its first word's.
    for (const auto& c : prog_.chunks) {
      if (c.cls != rt::ChunkClass::kMethod) continue;
      for (size_t pc = 0; pc < c.code.size(); ++pc) {
        if (static_cast<Op>(rt::OpByte(c.code[pc])) != Op::kCALL) continue;
        const rt::Import& im = prog_.imports[rt::CallImport(c.code[pc])];
        uint16_t n = im.is_filter || im.IsMethod() ? rt::kNoNative : rt::FindNative(prog_.Str(im.name));
        if (n == rt::kNoNative || !rt::Natives()[n].ByCommand()) continue;
        std::string program = rt::Natives()[n].program;
        if (program == "*") {
          program.clear();
          if (pc > 0 && static_cast<Op>(rt::OpByte(c.code[pc - 1])) == Op::kCONST) {
            const rt::Constant& k = prog_.constants[rt::OperandA(c.code[pc - 1])];
            if (k.type == rt::ValueType::kString) {
              const std::string& text = prog_.Str(k.string);
              size_t b = text.find_first_not_of(" \t");
              if (b != std::string::npos) program = text.substr(b, text.find_first_of(" \t", b) - b);
            }
          }
        }
        if (!program.empty()) names.insert(program);
      }
    }
    for (const auto& name : names) {
      if (const rt::ProgramDecl* d = natives_.Program(name)) prog_.programs.push_back(*d);
    }
  }

 private:
  void AddPolicyModule(const Module* v) {
    for (const auto& pol : v->file.policies) {
      bool seen = false;
      for (const auto& e : policies_) seen = seen || e.second == &pol;
      if (!seen) policies_.push_back({v, &pol});
    }
  }
  // The parts (indices into policies_) a runbook of module `m` imports.
  std::vector<uint32_t> PartsOf(const Module& m) const {
    std::vector<uint32_t> out;
    for (uint32_t i = 0; i < policies_.size(); ++i) {
      const Module* pm = policies_[i].first;
      bool visible = pm == &m;
      for (const Module* v : m.Visible()) visible = visible || v == pm;
      if (visible) out.push_back(i);
    }
    return out;
  }

  uint32_t Intern(const std::string& s) {
    auto [it, fresh] = strings_.emplace(s, static_cast<uint32_t>(prog_.strings.size()));
    if (fresh) prog_.strings.push_back(s);
    return it->second;
  }
  uint32_t File(const Module& m) {
    auto [it, fresh] = files_.emplace(m.source->path(), static_cast<uint32_t>(prog_.files.size()));
    if (fresh) {
      prog_.files.push_back(m.source->path());
      prog_.file_hashes.push_back(rt::Fnv1a64(m.source->text().data(), m.source->text().size()));
    }
    return it->second;
  }
  uint32_t Constant(rt::ValueType type, double number, const std::string& text = {}) {
    rt::Constant k;
    k.type = type;
    if (type == rt::ValueType::kString) {
      k.string = Intern(text);
    } else {
      k.number = number;
    }
    auto key = std::make_tuple(static_cast<int>(type), k.number, k.string);
    auto [it, fresh] = constants_.emplace(key, static_cast<uint32_t>(prog_.constants.size()));
    if (fresh) prog_.constants.push_back(k);
    return it->second;
  }
  uint32_t Import(const std::string& name) {
    auto it = imports_.find(name);
    if (it != imports_.end()) return it->second;
    rt::Import im;
    if (auto m = methods_.find(name); m != methods_.end()) {
      // A capability method: its body is a chunk of its own, compiled once per program.
      const ast::Signature& sig = *m->second.second;
      if (!sig.body) throw std::logic_error("codegen: method without a body " + name);
      im.effect = sig.effect;
      for (const auto& f : sig.formals) im.params.push_back(ToValueType(f.type));
      im.result = ToValueType(sig.result);
      im.body = MethodBody(*m->second.first, sig);
    } else {
      const rt::NativeDecl* n = natives_.Native(name);
      if (!n) n = rt::DefaultRegistry().Native(name);
      if (!n) throw std::logic_error("codegen: no declaration for " + name);
      im.effect = n->effect;
      im.is_filter = n->is_filter;
      im.params = n->params;
      im.result = n->result;
    }
    im.name = Intern(name);
    uint32_t index = static_cast<uint32_t>(prog_.imports.size());
    prog_.imports.push_back(std::move(im));
    imports_[name] = index;
    return index;
  }

  // ---- Chunks -----------------------------------------------------------------------------------

  struct Scope {
    std::map<std::string, uint32_t> params, targets, symptoms, steps;
    std::map<std::string, std::string> target_capability;
    std::vector<rt::Window>* windows = nullptr;
    std::map<std::string, uint32_t> lets;  // lets and captures, by index in the owner's let table
  };

  class ChunkBuilder {
   public:
    ChunkBuilder(Generator& g, const Module& m, const Scope& scope, uint32_t owner, rt::ChunkClass cls)
        : g_(g), m_(m), scope_(scope) {
      chunk_.cls = cls;
      chunk_.owner = owner;
      chunk_.file = g.File(m);
    }
    void Emit(Op op, uint32_t a, ast::Span at) {
      chunk_.code.push_back(rt::Encode(op, a));
      chunk_.lines.push_back(m_.source->At(at.begin).line);
    }
    void EmitCall(uint32_t import, size_t argc, ast::Span at) {
      chunk_.code.push_back(rt::EncodeCall(static_cast<uint16_t>(import), static_cast<uint8_t>(argc)));
      chunk_.lines.push_back(m_.source->At(at.begin).line);
    }
    uint32_t Here() const { return static_cast<uint32_t>(chunk_.code.size()); }
    // Compiles a method's body: ARG 0 is the receiver, ARG 1.. its formals.
    void SetMethod(const ast::Signature& sig) {
      method_ = &sig;
      chunk_.arity = static_cast<uint32_t>(sig.formals.size() + 1);
    }
    void Patch(uint32_t at, uint32_t target) {
      chunk_.code[at] = rt::Encode(static_cast<Op>(rt::OpByte(chunk_.code[at])), target);
    }

    void Expr(const ast::Expr& e) {
      using K = ast::ExprKind;
      if (e.kind != K::kNumber && e.kind != K::kBool) {
        if (auto c = FoldConstant(e)) {  // with the VM's operators (compiler/fold.hpp)
          switch (c->type) {
            case rt::ValueType::kBool: return Emit(c->number != 0 ? Op::kTRUE : Op::kFALSE, 0, e.span);
            case rt::ValueType::kUnknown: return Emit(Op::kUNKNOWN, 0, e.span);
            case rt::ValueType::kString: return Emit(Op::kCONST, g_.Constant(c->type, 0, c->text), e.span);
            case rt::ValueType::kNum:
            case rt::ValueType::kDuration:
            case rt::ValueType::kPercent:
            case rt::ValueType::kSize: return Emit(Op::kCONST, g_.Constant(c->type, c->number), e.span);
            case rt::ValueType::kLines:
            case rt::ValueType::kList:
            case rt::ValueType::kMap:
            case rt::ValueType::kSecret:
            case rt::ValueType::kTarget:
            case rt::ValueType::kNone:
            case rt::ValueType::kTime: throw std::logic_error("codegen: folded a non-constant type");
          }
        }
      }
      switch (e.kind) {
        case K::kNumber: Emit(Op::kCONST, g_.Constant(ToValueType(e.unit), e.value), e.span); return;
        case K::kString: Emit(Op::kCONST, g_.Constant(rt::ValueType::kString, 0, e.text), e.span); return;
        case K::kBool: Emit(e.value != 0 ? Op::kTRUE : Op::kFALSE, 0, e.span); return;
        case K::kUnknown: Emit(Op::kUNKNOWN, 0, e.span); return;
        case K::kAsk:
          if (e.kids.empty()) return Emit(Op::kASK, g_.Constant(rt::ValueType::kString, 0, e.text), e.span);
          Expr(*e.kids[0]);  // the question, interpolated
          Emit(Op::kASK_TEXT, 0, e.span);
          return;
        case K::kInterp: Interp(e); return;
        case K::kName: Name(e); return;
        case K::kList:
          for (const auto& k : e.kids) Expr(*k);
          Emit(Op::kLIST, static_cast<uint32_t>(e.kids.size()), e.span);
          return;
        case K::kNot: Expr(*e.kids[0]); Emit(Op::kNOT, 0, e.span); return;  // `not` starts the span
        case K::kNeg:
          if (e.kids[0]->kind == K::kNumber) {
            Emit(Op::kCONST, g_.Constant(ToValueType(e.kids[0]->unit), -e.kids[0]->value), e.span);
          } else {
            Expr(*e.kids[0]);
            Emit(Op::kNEG, 0, e.span);
          }
          return;
        case K::kWindow: {
          // The windowed condition is a chunk of its own, in the owner's window table: the runner
          // evaluates it at every instant, and WINDOW only reads the result.
          ChunkBuilder inner(g_, m_, scope_, chunk_.owner, rt::ChunkClass::kCondition);
          inner.Expr(*e.kids[0]);
          uint32_t chunk = g_.AddChunk(inner.Finish(e.kids[0]->span));
          uint32_t w = static_cast<uint32_t>(scope_.windows->size());
          scope_.windows->push_back(
              rt::Window{static_cast<uint64_t>(e.kids[1]->value), e.op == ast::BinOp::kGe, chunk});
          Emit(Op::kWINDOW, w, e.op_span);
          return;
        }
        case K::kPipe: {
          Expr(*e.kids[0]);
          Filter(*e.kids[1]);
          return;
        }
        case K::kCall: Call(e); return;
        case K::kMember: throw std::logic_error("codegen: bare member");
        case K::kBinary: Binary(e); return;
      }
    }

    // A filter call whose input is already on the stack.
    void Filter(const ast::Expr& call) {
      for (size_t i = 1; i < call.kids.size(); ++i) Expr(*call.kids[i]);
      EmitCall(g_.Import(call.kids[0]->text), call.kids.size(), call.kids[0]->span);
    }

    rt::Chunk Finish(ast::Span at) {
      Emit(Op::kRETURN, 0, at);
      return std::move(chunk_);
    }

   private:
    // "text {name} {target.field}": each part pushed (a target as its address, a field through
    // TFIELD), then CONCAT joins them as the printer writes values.
    void Interp(const ast::Expr& e) {
      for (const auto& part : e.kids) {
        if (part->kind == ast::ExprKind::kString) {
          Emit(Op::kCONST, g_.Constant(rt::ValueType::kString, 0, part->text), part->span);
        } else if (part->kind == ast::ExprKind::kMember) {
          Emit(Op::kCONST, g_.Constant(rt::ValueType::kString, 0, part->text), part->span);
          Emit(Op::kTFIELD, scope_.targets.at(part->kids[0]->text), part->span);
        } else if (auto t = scope_.targets.find(part->text); t != scope_.targets.end()) {
          Emit(Op::kCONST, g_.Constant(rt::ValueType::kString, 0, ""), part->span);
          Emit(Op::kTFIELD, t->second, part->span);
        } else {
          Expr(*part);
        }
      }
      Emit(Op::kCONCAT, static_cast<uint32_t>(e.kids.size()), e.span);
    }

    void Name(const ast::Expr& e) {
      if (method_) {
        for (size_t i = 0; i < method_->formals.size(); ++i) {
          if (method_->formals[i].name == e.text) return Emit(Op::kARG, static_cast<uint32_t>(i + 1), e.span);
        }
        throw std::logic_error("codegen: unresolved formal " + e.text);
      }
      if (e.text == "incident") return Emit(Op::kINCIDENT, 0, e.span);
      if (e.text == "output") return Emit(Op::kOUTPUT, 0, e.span);
      if (auto it = scope_.symptoms.find(e.text); it != scope_.symptoms.end()) return Emit(Op::kSYMPTOM, it->second, e.span);
      if (auto it = scope_.params.find(e.text); it != scope_.params.end()) return Emit(Op::kPARAM, it->second, e.span);
      if (auto it = scope_.targets.find(e.text); it != scope_.targets.end()) return Emit(Op::kTARGET, it->second, e.span);
      if (auto it = scope_.lets.find(e.text); it != scope_.lets.end()) return Emit(Op::kLET, it->second, e.span);
      if (e.text == "severity") return Emit(Op::kSEVERITY, 0, e.span);
      if (e.text == "owner") return Emit(Op::kOWNER, 0, e.span);
      if (e.text == "down") return Emit(Op::kDOWN, 0, e.span);
      throw std::logic_error("codegen: unresolved name " + e.text);
    }

    void Call(const ast::Expr& e) {
      const ast::Expr& callee = *e.kids[0];
      if (callee.kind == ast::ExprKind::kMember) {
        const std::string& target = callee.kids[0]->text;
        Emit(Op::kTARGET, scope_.targets.at(target), callee.kids[0]->span);
        for (size_t i = 1; i < e.kids.size(); ++i) Expr(*e.kids[i]);
        EmitCall(g_.Import(scope_.target_capability.at(target) + "." + callee.text), e.kids.size(), e.span);
        return;
      }
      if (method_ && callee.text != "now" && !UnitOf(callee.text)) {  // a native, run against the method's receiver
        Emit(Op::kARG, 0, callee.span);
        for (size_t i = 1; i < e.kids.size(); ++i) Expr(*e.kids[i]);
        EmitCall(g_.Import(callee.text), e.kids.size(), e.span);
        return;
      }
      if (callee.text == "failed") return Emit(Op::kFAILED, scope_.steps.at(e.kids[1]->text), e.span);
      if (callee.text == "now") return Emit(Op::kNOW, 0, e.span);
      if (auto u = UnitOf(callee.text)) {  // bytes(n), seconds(n), percent(n)
        Expr(*e.kids[1]);
        return Emit(u->unit == rt::ValueType::kSize ? Op::kAS_SIZE
                    : u->unit == rt::ValueType::kDuration ? Op::kAS_DURATION : Op::kAS_PERCENT, 0, e.span);
      }
      throw std::logic_error("codegen: unsupported call " + callee.text);
    }

    void Binary(const ast::Expr& e) {
      using B = ast::BinOp;
      const ast::Expr& a = *e.kids[0];
      const ast::Expr& b = *e.kids[1];
      if (e.op == B::kAnd || e.op == B::kOr) {
        // Short-circuit, Kleene: `false and x` is false and `true or x` is true without reading x.
        // Always safe: reading is all a condition does (windows and questions are the runner's).
        Expr(a);
        uint32_t jump = Here();
        Emit(e.op == B::kAnd ? Op::kJUMP_IF_FALSE : Op::kJUMP_IF_TRUE, 0, e.op_span);
        Expr(b);
        Emit(e.op == B::kAnd ? Op::kAND : Op::kOR, 0, e.op_span);
        Patch(jump, Here());
        return;
      }
      Expr(a);
      Expr(b);
      static const Op kOpcodes[] = {  // indexed by ast::BinOp, in the order of lang/operators.def
#define RB_BINARY_OP(name, text, cls, precedence, opcode, operands, result, doc) Op::k##opcode,
#include "lang/operators.def"
      };
      Op op = kOpcodes[static_cast<size_t>(e.op)];
      Emit(op, 0, e.op_span);
    }

    Generator& g_;
    const Module& m_;
    const Scope& scope_;
    rt::Chunk chunk_;
    const ast::Signature* method_ = nullptr;
  };

  uint32_t MethodBody(const Module& m, const ast::Signature& sig) {
    static const Scope kNoScope;
    ChunkBuilder b(*this, m, kNoScope, rt::kPolicyOwner, rt::ChunkClass::kMethod);
    b.SetMethod(sig);
    b.Expr(*sig.body);
    return AddChunk(b.Finish(sig.body->span));
  }

  uint32_t AddChunk(rt::Chunk c) {
    prog_.chunks.push_back(std::move(c));
    return static_cast<uint32_t>(prog_.chunks.size() - 1);
  }

  // An expression's source text with runs of blanks collapsed, interned: reports quote it.
  uint32_t SourceText(const Module& m, ast::Span span) {
    std::string_view raw = std::string_view(m.source->text()).substr(span.begin, span.end - span.begin);
    return Intern(lang::CollapseBlanks(raw));
  }

  // An interpolated instruction, manual action or page message: a chunk that computes the text.
  uint32_t TextChunk(const Module& m, const Scope& scope, uint32_t owner, const ast::ExprPtr& e) {
    if (!e) return rt::kNoChunk;
    return Condition(m, scope, owner, *e);
  }

  uint32_t Condition(const Module& m, const Scope& scope, uint32_t owner, const ast::Expr& e) {
    ChunkBuilder b(*this, m, scope, owner, rt::ChunkClass::kCondition);
    b.Expr(e);
    return AddChunk(b.Finish(e.span));
  }

  // ---- Declarations -----------------------------------------------------------------------------

  // The owner's let table: each let's (or capture's) expression is a condition chunk of its own.
  std::vector<rt::Let> Lets(const Module& m, const Scope& scope, uint32_t owner, const std::vector<ast::Let>& lets) {
    std::vector<rt::Let> out;
    for (const auto& l : lets) {
      rt::Let rl;
      rl.name = Intern(l.name);
      rl.chunk = Condition(m, scope, owner, *l.init);
      rl.step = l.step >= 0 ? static_cast<uint32_t>(l.step) : rt::kNoStep;
      rl.text = SourceText(m, l.init->span);
      out.push_back(rl);
    }
    return out;
  }

  std::vector<rt::Target> Targets(const std::vector<ast::Target>& ts, Scope& scope, uint32_t base = 0) {
    std::vector<rt::Target> out;
    for (const auto& t : ts) {
      scope.targets[t.name] = base + static_cast<uint32_t>(out.size());
      scope.target_capability[t.name] = t.capability;
      const std::string& binding = t.init->kids.size() > 1 ? t.init->kids[1]->text : t.name;
      out.push_back(rt::Target{Intern(t.name), Intern(t.capability), Intern(binding)});
    }
    return out;
  }

  // The scope a row's `when` states in its leading `and` terms: `severity == P1`, `severity in [...]`
  // (an `or` of `==`), `owner ...` alike, with the names the checker turned into strings.
  void ScopeOf(const ast::Expr& e, const Scope& scope, rt::EscRow& r) {
    if (e.kind == ast::ExprKind::kBinary && e.op == ast::BinOp::kAnd) {
      ScopeOf(*e.kids[0], scope, r);
      ScopeOf(*e.kids[1], scope, r);
      return;
    }
    std::vector<const ast::Expr*> eqs, todo{&e};
    while (!todo.empty()) {
      const ast::Expr* x = todo.back();
      todo.pop_back();
      if (x->kind == ast::ExprKind::kBinary && x->op == ast::BinOp::kOr) {
        todo.push_back(x->kids[1].get());
        todo.push_back(x->kids[0].get());
      } else if (x->kind == ast::ExprKind::kBinary && x->op == ast::BinOp::kEq) {
        eqs.push_back(x);
      } else {
        return;  // not a scope term
      }
    }
    std::string what;
    std::vector<uint32_t> names;
    for (const ast::Expr* x : eqs) {
      const ast::Expr& l = *x->kids[0];
      const ast::Expr& v = *x->kids[1];
      bool builtin = l.kind == ast::ExprKind::kName && (l.text == "severity" || l.text == "owner") &&
                     !scope.symptoms.count(l.text) && !scope.params.count(l.text) && !scope.lets.count(l.text) &&
                     !scope.targets.count(l.text);
      if (!builtin || v.kind != ast::ExprKind::kString || (!what.empty() && what != l.text)) return;
      what = l.text;
      names.push_back(Intern(v.text));
    }
    auto& into = what == "severity" ? r.severities : r.owners;
    for (uint32_t n : names) {
      if (std::find(into.begin(), into.end(), n) == into.end()) into.push_back(n);
    }
  }

  std::vector<rt::EscRow> Rows(const Module& m, const Scope& scope, uint32_t owner, const std::vector<ast::EscRow>& rows,
                               uint32_t part = rt::kNoPart) {
    std::vector<rt::EscRow> out;
    for (const auto& row : rows) {
      rt::EscRow r;
      r.chunk = Condition(m, scope, owner, *row.when);
      r.text = SourceText(m, row.when->span);
      r.part = part;
      ScopeOf(*row.when, scope, r);
      for (const auto& a : row.then) {
        rt::EscAction act;
        switch (a.kind) {
          case ast::ActionKind::kPage:
            act.kind = rt::EscAction::Kind::kPage;
            act.value = a.arg == ast::kOwnerContact ? rt::kOwnerContact : contact_index_.at(a.arg);
            act.repeat = a.repeat;
            if (a.message) act.message = Intern(*a.message);
            act.chunk = TextChunk(m, scope, owner, a.text_expr);
            break;
          case ast::ActionKind::kRun:
            act.kind = rt::EscAction::Kind::kRun;
            act.value = scope.steps.at(a.arg);
            break;
          case ast::ActionKind::kRunbook:
            act.kind = rt::EscAction::Kind::kRunbook;
            act.value = Intern(a.arg);
            break;
          case ast::ActionKind::kManual:
            act.kind = rt::EscAction::Kind::kManual;
            act.value = Intern(a.arg);
            act.chunk = TextChunk(m, scope, owner, a.text_expr);
            break;
          case ast::ActionKind::kDeclare:
            act.kind = rt::EscAction::Kind::kDeclare;
            act.value = Intern(a.arg);
            break;
        }
        r.actions.push_back(act);
      }
      out.push_back(std::move(r));
    }
    return out;
  }

  void Runbook(const Module& m, const ast::Runbook& rb, uint32_t index) {
    rt::Runbook out;
    Scope scope;
    scope.windows = &out.windows;
    out.name = Intern(rb.name);
    out.title = Intern(rb.title);
    out.severity = Intern(rb.severity ? rb.severity->name : "");
    out.owner = rb.owner && contact_index_.count(rb.owner->name) ? contact_index_.at(rb.owner->name) : 0;
    out.file = File(m);
    for (const auto& t : rb.tags) out.tags.push_back(Intern(t.name));
    out.targets = Targets(rb.targets, scope);
    for (const auto& p : rb.params) {
      rt::Param rp;
      rp.name = Intern(p.name);
      rp.type = ToValueType(p.type);
      if (p.init) {
        const ast::Expr& d = *p.init;
        if (d.kind == ast::ExprKind::kCall) {  // secret("NAME")
          rp.def = rt::Param::Default::kSecret;
          rp.value = Intern(d.kids[1]->text);
        } else {
          rp.def = rt::Param::Default::kConstant;
          double v = d.kind == ast::ExprKind::kNeg ? -d.kids[0]->value : d.value;
          rp.value = d.kind == ast::ExprKind::kString ? Constant(rt::ValueType::kString, 0, d.text)
                     : d.kind == ast::ExprKind::kBool ? Constant(rt::ValueType::kBool, d.value)
                     : Constant(ToValueType(d.kind == ast::ExprKind::kNeg ? d.kids[0]->unit : d.unit), v);
        }
      }
      scope.params[p.name] = static_cast<uint32_t>(out.params.size());
      out.params.push_back(rp);
    }
    for (size_t i = 0; i < rb.symptoms.size(); ++i) scope.symptoms[rb.symptoms[i].name] = static_cast<uint32_t>(i);
    for (size_t i = 0; i < rb.steps.size(); ++i) scope.steps[rb.steps[i].name] = static_cast<uint32_t>(i);
    for (size_t i = 0; i < rb.lets.size(); ++i) scope.lets[rb.lets[i].name] = static_cast<uint32_t>(i);
    out.lets = Lets(m, scope, index, rb.lets);

    for (const auto& s : rb.symptoms) {
      out.symptoms.push_back(rt::Symptom{Intern(s.name), Intern(s.description), Condition(m, scope, index, *s.cond)});
    }
    for (const auto& d : rb.dashboards) {
      rt::Dashboard rd;
      rd.title = Intern(d.title);
      for (const auto& p : d.panels) {
        rd.panels.push_back(rt::Panel{Intern(p.title), p.threshold ? Condition(m, scope, index, *p.threshold) : rt::kNoChunk});
      }
      out.dashboards.push_back(std::move(rd));
    }
    for (const auto& k : rb.kibana) out.kibana.push_back(rt::Kibana{Intern(k.index.value_or("")), Intern(k.query)});
    for (const auto& s : rb.steps) {
      rt::Step rs;
      rs.kind = static_cast<rt::StepKind>(s.kind);
      rs.name = Intern(s.name);
      rs.title = Intern(s.title);
      rs.guard = s.guard ? Condition(m, scope, index, *s.guard) : rt::kNoChunk;
      rs.guard_text = s.guard ? SourceText(m, s.guard->span) : 0;
      rs.continue_on_failure = s.continue_on_failure;
      for (const auto& item : s.items) {
        rt::StepItem ri;
        switch (item.kind) {
          case ast::ItemKind::kCommand: {
            ri.kind = rt::StepItem::Kind::kCommand;
            const ast::Command& c = item.command;
            for (const auto& w : c.argv) {
              std::vector<rt::WordPart> parts;
              for (const auto& part : w.parts) {
                rt::WordPart wp;
                if (!part.is_slot) {
                  wp.kind = rt::WordPart::Kind::kLiteral;
                  wp.value = Intern(part.text);
                } else if (scope.lets.count(part.text)) {
                  wp.kind = rt::WordPart::Kind::kLet;
                  wp.value = scope.lets.at(part.text);
                } else if (scope.params.count(part.text)) {
                  wp.kind = rt::WordPart::Kind::kParam;
                  wp.value = scope.params.at(part.text);
                } else if (size_t dot = part.text.find('.'); dot != std::string::npos) {
                  wp.kind = rt::WordPart::Kind::kTargetField;  // {primary.host}
                  wp.value = scope.targets.at(part.text.substr(0, dot));
                  wp.field = Intern(part.text.substr(dot + 1));
                } else {
                  wp.kind = rt::WordPart::Kind::kTarget;
                  wp.value = scope.targets.at(part.text);
                }
                parts.push_back(wp);
              }
              if (parts.empty()) parts.push_back(rt::WordPart{rt::WordPart::Kind::kLiteral, Intern(""), 0});
              ri.command.argv.push_back(std::move(parts));
            }
            ri.command.effect = c.effect;
            ri.command.rule = Intern(c.matched_rule);
            if (!c.filters.empty()) {
              ChunkBuilder b(*this, m, scope, index, rt::ChunkClass::kFilter);
              b.Emit(Op::kOUTPUT, 0, c.span);
              for (const auto& f : c.filters) b.Filter(*f);
              ri.command.filter = AddChunk(b.Finish(c.span));
              ri.command.filter_text = SourceText(m, ast::Span{c.filters.front()->span.begin, c.filters.back()->span.end});
            }
            break;
          }
          case ast::ItemKind::kText:
            ri.kind = rt::StepItem::Kind::kText;
            ri.text = Intern(item.text);
            ri.chunk = TextChunk(m, scope, index, item.text_expr);
            break;
          case ast::ItemKind::kExpect:
            ri.kind = rt::StepItem::Kind::kExpect;
            ri.chunk = Condition(m, scope, index, *item.expect.cond);
            ri.text = SourceText(m, item.expect.cond->span);
            ri.within_ms = item.expect.within ? static_cast<uint64_t>(item.expect.within->value) : 0;
            ri.every_ms = item.expect.every ? static_cast<uint64_t>(item.expect.every->value) : 0;
            break;
          case ast::ItemKind::kCapture:
            ri.kind = rt::StepItem::Kind::kCapture;
            ri.text = static_cast<uint32_t>(item.let);
            break;
        }
        rs.items.push_back(std::move(ri));
      }
      out.steps.push_back(std::move(rs));
    }
    out.rows = Rows(m, scope, index, rb.rows);
    if (rb.down) {
      out.down = Condition(m, scope, index, *rb.down);
      out.down_text = SourceText(m, rb.down->span);
    }
    out.policies = PartsOf(m);
    auto lock = [&](const ast::Lock& l, uint32_t step) {
      out.locks.push_back(rt::Lock{Intern(l.name), TextChunk(m, scope, index, l.name_expr), step});
    };
    for (const auto& l : rb.locks) lock(l, rt::kNoStep);
    for (size_t s = 0; s < rb.steps.size(); ++s) {
      for (const auto& l : rb.steps[s].locks) lock(l, static_cast<uint32_t>(s));
    }
    prog_.runbooks[index] = std::move(out);
  }

  // The imported policies, merged: each one's targets, lets, windows and rows after the previous
  // one's, its chunks indexing the merged tables.
  void Policies() {
    rt::Policy out;
    for (uint32_t i = 0; i < policies_.size(); ++i) {
      const Module& m = *policies_[i].first;
      const ast::Policy& p = *policies_[i].second;
      out.parts.push_back(rt::PolicyPart{Intern(p.name), Intern(p.title), File(m)});
      Scope scope;
      scope.windows = &out.windows;
      for (auto& t : Targets(p.targets, scope, static_cast<uint32_t>(out.targets.size()))) out.targets.push_back(t);
      uint32_t let_base = static_cast<uint32_t>(out.lets.size());
      for (size_t k = 0; k < p.lets.size(); ++k) scope.lets[p.lets[k].name] = let_base + static_cast<uint32_t>(k);
      for (auto& l : Lets(m, scope, rt::kPolicyOwner, p.lets)) out.lets.push_back(l);
      for (auto& r : Rows(m, scope, rt::kPolicyOwner, p.rows, i)) out.rows.push_back(std::move(r));
    }
    out.name = out.parts.front().name;
    out.title = out.parts.front().title;
    out.file = out.parts.front().file;
    prog_.policy = std::move(out);
  }

  rt::Program prog_;
  std::map<std::string, uint32_t> strings_, files_, imports_, contact_index_;
  std::vector<std::pair<const Module*, const ast::Policy*>> policies_;  // merged in this order (Policy::parts)
  std::map<std::tuple<int, double, uint32_t>, uint32_t> constants_;
  rt::Registry natives_;  // the stdlib declarations the imports are taken from
  std::map<std::string, std::pair<const Module*, const ast::Signature*>> methods_;  // "redis.ping" → its declaration
};

}  // namespace

rt::Program Codegen(const Workspace& ws, const std::vector<const Module*>& roots) { return Generator(ws).Run(roots); }

rt::Registry RegistryFrom(const Workspace& ws) {
  rt::Registry reg = rt::DefaultRegistry();  // the natives the method bodies call
  for (const auto& m : ws.modules()) {
    if (!m->is_stdlib) continue;
    for (const auto& c : m->file.capabilities) {
      for (const auto& s : c.methods) reg.AddMethod(NativeOf(c.name + "." + s.name, s, false));
    }
    for (const auto& f : m->file.filters) reg.AddNative(NativeOf(f.name, f, true));
  }
  // Programs: the stdlib's tables extended by every team module loaded (compiler/modules.hpp); the
  // team modules' capability methods after the stdlib's, never replacing one.
  std::vector<const Module*> order = MergeOrder(ws);
  ProgramTables tables = MergeProgramTables(order, nullptr);
  for (auto& [name, decl] : tables.decls) reg.AddProgram(std::move(decl));
  for (const Module* m : order) {  // team capabilities' methods: bodies over the natives, as the stdlib's
    if (m->is_stdlib) continue;
    for (const auto& c : m->file.capabilities) {
      for (const auto& s : c.methods) {
        std::string name = c.name + "." + s.name;
        if (!reg.Method(name)) reg.AddMethod(NativeOf(name, s, false));
      }
    }
  }
  return reg;
}

rt::Registry StdlibRegistry(const std::string& stdlib_dir) {
  Diagnostics diags;
  Workspace ws(WorkspaceOptions{stdlib_dir, {}}, diags);
  for (const auto& name : ws.StdlibNames()) ws.Stdlib(name);
  return RegistryFrom(ws);
}

rt::Registry HostRegistry(const std::string& stdlib_dir, const std::vector<std::string>& search_path) {
  // The stdlib and the team modules on the search path: the host's own tables (docs/security.md).
  Diagnostics diags;
  Workspace ws(WorkspaceOptions{stdlib_dir, search_path}, diags);
  for (const auto& name : ws.StdlibNames()) ws.Stdlib(name);
  LoadSearchPathModules(ws, search_path);
  return HostRegistryFrom(ws);
}

rt::Registry WithModules(rt::Registry host, const Workspace& ws) {
  rt::Registry from = RegistryFrom(ws);
  for (const auto& entry : from.programs()) host.AddProgram(entry.second);
  for (const auto& [name, d] : from.methods()) {
    if (!host.Method(name)) host.AddMethod(d);
  }
  return host;
}

rt::Registry HostRegistryFrom(const Workspace& ws) {
  rt::Registry host = WithModules(rt::DefaultRegistry(), ws);
  host.SetCarriedTables(rt::Registry::CarriedTables::kRefused);
  return host;
}

std::vector<MethodListing> StdlibMethods(const std::string& stdlib_dir) {
  Diagnostics diags;
  Workspace ws(WorkspaceOptions{stdlib_dir, {}}, diags);
  std::vector<MethodListing> out;
  for (const auto& name : ws.StdlibNames()) {
    Module* m = ws.Stdlib(name);
    if (!m) continue;
    for (const auto& c : m->file.capabilities) {
      for (const auto& s : c.methods) {
        MethodListing l;
        l.name = c.name + "." + s.name;
        l.signature = NativeOf(l.name, s, false);
        l.has_body = static_cast<bool>(s.body);
        std::vector<const ast::Expr*> todo;
        if (s.body) todo.push_back(s.body.get());
        while (!todo.empty()) {  // depth first, left to right
          const ast::Expr* e = todo.back();
          todo.pop_back();
          if (e->kind == ast::ExprKind::kCall && !e->kids.empty() && e->kids[0]->kind == ast::ExprKind::kName &&
              std::find(l.natives.begin(), l.natives.end(), e->kids[0]->text) == l.natives.end()) {
            l.natives.push_back(e->kids[0]->text);
          }
          for (auto it = e->kids.rbegin(); it != e->kids.rend(); ++it) {
            if (*it) todo.push_back(it->get());
          }
        }
        out.push_back(std::move(l));
      }
    }
  }
  std::sort(out.begin(), out.end(), [](const MethodListing& a, const MethodListing& b) { return a.name < b.name; });
  return out;
}

}  // namespace rb
