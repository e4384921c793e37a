#include "compiler/checker.hpp"

#include "compiler/codegen.hpp"
#include "compiler/fold.hpp"
#include "lang/regex.hpp"
#include "lang/text.hpp"
#include "compiler/modules.hpp"
#include "runtime/natives.hpp"
#include "runtime/registry.hpp"
#include "runtime/verifier.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <set>

namespace rb {
namespace {

namespace fs = std::filesystem;

using ast::Effect;
using ast::Expr;
using ast::ExprKind;
using ast::Type;

bool IsNumeric(Type t) {
  return t == Type::kNum || t == Type::kDuration || t == Type::kPercent || t == Type::kSize;
}

// Levenshtein distance, for "did you mean" hints.
size_t Distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string DidYouMean(const std::string& name, const std::vector<std::string>& candidates) {
  // Bounded: no hint for very long names, and only candidates whose length could be close enough.
  if (name.size() > 64) return {};
  const std::string* best = nullptr;
  size_t best_d = std::max<size_t>(2, name.size() / 3) + 1;
  size_t compared = 0;
  for (const auto& c : candidates) {
    size_t diff = c.size() > name.size() ? c.size() - name.size() : name.size() - c.size();
    if (diff >= best_d || c.size() > 64) continue;
    if (++compared > 2000) break;
    size_t d = Distance(name, c);
    if (d < best_d) best_d = d, best = &c;
  }
  return best ? fmt::format("did you mean `{}`?", *best) : std::string();
}

bool ValidSeverity(const std::string& s) { return lang::FromName<lang::Severity>(s).has_value(); }

// What a name in an expression refers to.
enum class SymKind { kSymptom, kParam, kTarget, kStep, kLet };
struct Symbol {
  SymKind kind;
  Type type;
  const ast::Capability* capability = nullptr;  // targets
  ast::Symptom* symptom = nullptr;
  ast::Param* param = nullptr;
  ast::Let* let = nullptr;  // lets and captures
};

// Where an expression sits decides what it may do.
struct Ctx {
  bool condition = false;       // evaluated repeatedly: read-only capabilities only
  bool allow_window = false;    // the top of an escalation `when` cell
  bool escalation = false;      // inside an escalation `when` cell: `severity`, `owner`, `down` are read
  bool allow_output = false;    // an `expect` after a command of the same step
  bool target_init = false;     // `target x = cap("name")`
  bool param_default = false;   // `param x = ...`: literals and secret("NAME")
  bool filter = false;          // a command's `|>` filters: pure, no lets
  const char* where = "expression";
  const ast::Signature* method = nullptr;  // a method's body: its formals, natives, filters only
};

class Checker {
 public:
  Checker(Workspace& ws, Diagnostics& diags) : ws_(ws), diags_(diags) {}

  void Run() {
    // Index the stdlib once for "import std.X" hints.
    for (const auto& name : ws_.StdlibNames()) {
      if (Module* m = ws_.Stdlib(name)) {
        for (const auto& c : m->file.capabilities) cap_home_[c.name] = name;
        for (const auto& p : m->file.programs) program_home_[p.name] = name;
      }
    }
    ws_.ResolveImports();
    // One effect table per program for everything checked together: the stdlib's, extended by the
    // team modules (compiler/modules.hpp); the clashes are reported here, once.
    tables_ = MergeProgramTables(MergeOrder(ws_), &diags_);
    CheckTeamCapabilities();
    // Index-based: FindRunbook may load more modules while we check.
    for (size_t i = 0; i < ws_.modules().size(); ++i) {
      Module* m = ws_.modules()[i].get();
      if (checked_.insert(m).second) CheckModule(*m);
    }
    CheckDuplicatesAcrossFiles();  // after the loop: hand-overs may have loaded more files
    CheckPolicyMerge();
  }

 private:
  void Error(DiagKind kind, ast::Span span, std::string message, std::string hint = {}) {
    // In a runbook whose entries were partly skipped after syntax errors, a missing name is most
    // likely one of the skipped entries: do not pile follow-on findings on the real one.
    if (runbook_ && runbook_->had_syntax_errors &&
        (kind == DiagKind::kUnknownName || kind == DiagKind::kUnknownStep || kind == DiagKind::kUnusedSymptom ||
         kind == DiagKind::kUnknownSlot || kind == DiagKind::kMissingMetadata || kind == DiagKind::kUnusedLet)) {
      return;
    }
    diags_.Add(kind, mod_->source, span, std::move(message), std::move(hint));
  }

  // ---- Global -----------------------------------------------------------------------------------

  // The policies the runbooks import, in the order codegen merges them: each runbook module's
  // visible policies, in module order, each once.
  std::vector<const Module*> ImportedPolicies() const {
    std::vector<const Module*> out;
    auto add = [&](const Module* p) {
      if (p && !p->file.policies.empty() && std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
    };
    for (const auto& owner : ws_.modules()) {
      const Module& m = *owner;
      if (m.is_stdlib || m.file.runbooks.empty()) continue;
      for (const Module* v : m.Visible()) add(v);
      add(&m);
    }
    return out;
  }

  static std::string ActionsKey(const ast::EscRow& row) {
    std::string k;
    for (const auto& a : row.then) {
      k += fmt::format("{}:{}:{}:{};", static_cast<int>(a.kind), a.arg, a.message.value_or(""), a.repeat ? 1 : 0);
    }
    return k;
  }

  // Several policies merge into one table (their contacts and rows): a contact two of them declare
  // differently cannot be merged (RB0022); one declared alike, and a row two of them repeat, are
  // reported as duplicates; a row with the same condition and other actions fires with both.
  void CheckPolicyMerge() {
    std::vector<const Module*> pols = ImportedPolicies();
    std::map<std::string, std::pair<const Module*, const ast::Contact*>> contacts;
    auto where = [](const Module* m, ast::Span at) {
      LineCol lc = m->source->At(at.begin);
      return fmt::format("{}:{}:{}", m->source->path(), lc.line, lc.column);
    };
    for (const Module* pm : pols) {
      for (const auto& pol : pm->file.policies) {
        for (const auto& c : pol.contacts) {
          auto [it, fresh] = contacts.emplace(c.name, std::make_pair(pm, &c));
          if (fresh || it->second.second == &c) continue;
          const ast::Contact& first = *it->second.second;
          if (first.display == c.display && first.handle == c.handle) {
            diags_.Add(DiagKind::kDuplicateContact, pm->source, c.name_span,
                       fmt::format("contact `{}` is also declared at {}, alike", c.name, where(it->second.first, first.name_span)),
                       "the policies are merged: keep the contact in one of them");
          } else {
            diags_.Add(DiagKind::kSecondPolicy, pm->source, c.name_span,
                       fmt::format("contact `{}` is \"{}\" \"{}\" here but \"{}\" \"{}\" at {}", c.name, c.display,
                                   c.handle, first.display, first.handle, where(it->second.first, first.name_span)),
                       "a page to it would reach one of two people: rename one contact, or declare it in one policy");
          }
        }
      }
    }
    // Rows: only policies one runbook imports together fire together (a row applies to the runbooks
    // that import its policy), so two trees with policies of their own are not compared.
    std::set<const ast::EscRow*> reported;
    for (const auto& owner : ws_.modules()) {
      const Module& m = *owner;
      if (m.is_stdlib || m.file.runbooks.empty()) continue;
      std::vector<const Module*> together;
      for (const Module* v : m.Visible()) {
        if (!v->file.policies.empty() && std::find(together.begin(), together.end(), v) == together.end()) together.push_back(v);
      }
      if (!m.file.policies.empty()) together.push_back(&m);
      std::map<std::string, std::pair<const Module*, const ast::EscRow*>> rows;
      for (const Module* pm : together) {
        for (const auto& pol : pm->file.policies) {
          for (const auto& row : pol.rows) {
            if (!row.when) continue;
            std::string text = lang::CollapseBlanks(std::string_view(pm->source->text()).substr(row.when->span.begin, row.when->span.end - row.when->span.begin));
            auto [it, fresh] = rows.emplace(text, std::make_pair(pm, &row));
            if (fresh || it->second.first == pm) continue;
            if (!reported.insert(&row).second) continue;
            std::string first = where(it->second.first, it->second.second->span);
            if (ActionsKey(row) == ActionsKey(*it->second.second)) {
              diags_.Add(DiagKind::kDuplicatePolicyRow, pm->source, row.span,
                         fmt::format("row `| {} |` is also in {} with the same actions", text, first),
                         "both fire at once: keep the row in one policy");
            } else {
              diags_.Add(DiagKind::kOverlappingPolicyRow, pm->source, row.span,
                         fmt::format("row `| {} |` is also in {} with other actions: both fire", text, first),
                         "if both are meant, leave them; otherwise merge them into one row");
            }
          }
        }
      }
    }
  }

  // A capability is declared by one module: a team module cannot declare a stdlib capability (its
  // methods are the host's natives) or one another team module declares.
  void CheckTeamCapabilities() {
    std::map<std::string, const Module*> home;
    for (const Module* m : MergeOrder(ws_)) {
      for (const auto& c : m->file.capabilities) {
        auto [it, fresh] = home.emplace(c.name, m);
        if (fresh || it->second == m) continue;  // twice in one module: CheckStdlibDecls says so
        // `runbook lint stdlib/`: the stdlib's own file, loaded by its path as well as by std.NAME.
        if (it->second->is_stdlib && it->second->source->text() == m->source->text()) continue;
        diags_.Add(DiagKind::kModuleCapabilityClash, m->source, c.name_span,
                   fmt::format("capability `{}` is already declared at {}:{}", c.name, it->second->source->path(),
                               it->second->source->At(FindCapability(*it->second, c.name)).line),
                   fmt::format("a capability is declared once: name this one after your system, e.g. `{}_{}`",
                               fs::path(m->source->path()).stem().stem().string(), c.name));
      }
    }
  }
  static size_t FindCapability(const Module& m, const std::string& name) {
    for (const auto& c : m.file.capabilities) {
      if (c.name == name) return c.name_span.begin;
    }
    return 0;
  }

  void CheckDuplicatesAcrossFiles() {
    std::map<std::string, std::pair<const Module*, const ast::Runbook*>> seen;
    for (const auto& m : ws_.modules()) {
      for (const auto& rb : m->file.runbooks) {
        auto [it, fresh] = seen.emplace(rb.name, std::make_pair(m.get(), &rb));
        if (!fresh) {
          const Module* first = it->second.first;
          LineCol lc = first->source->At(it->second.second->name_span.begin);
          diags_.Add(DiagKind::kDuplicate, m->source, rb.name_span,
                     fmt::format("runbook `{}` is already declared at {}:{}:{}", rb.name, first->source->path(),
                                 lc.line, lc.column),
                     "runbook names are global: rename one of them");
        }
      }
    }
  }

  void CheckModule(Module& m) {
    for (Module* v : m.Visible()) ResolveSignatures(*v);
    ResolveSignatures(m);
    mod_ = &m;
    caps_.clear();
    programs_.clear();
    program_where_.clear();
    filters_.clear();
    contacts_.clear();
    for (Module* v : m.Visible()) Collect(*v, /*own=*/false);
    Collect(m, /*own=*/true);
    CheckStdlibDecls(m);
    for (auto& p : m.file.policies) CheckPolicy(p);
    for (auto& rb : m.file.runbooks) CheckRunbook(rb);
  }

  // Gathers the declarations module `v` contributes to the current module's scope. Capabilities and
  // programs come from the stdlib and from team modules (non-stdlib modules without runbooks,
  // compiler/modules.hpp), filters from the stdlib only. A runbook file declares neither: a reviewer
  // reads a program's effects where every runbook that runs it takes them from, so a runbook cannot
  // declare `program kubectl { default read }` for itself and relabel `kubectl delete`.
  void Collect(const Module& v, bool own) {
    if (own && !v.is_stdlib && !v.file.runbooks.empty()) {
      auto move = [](std::string stem) {  // a module name is an identifier: redis-cli → redis_cli
        for (char& ch : stem) {
          if (ch == '-' || ch == '.') ch = '_';
        }
        return fmt::format("move it to a team module, e.g. team/{}.rb.denis, and `import team.{}`", stem, stem);
      };
      for (const auto& p : v.file.programs) {
        Error(DiagKind::kUnknownProgram, p.name_span, fmt::format("program `{}` is declared in a runbook file", p.name),
              move(p.name));
      }
      for (const auto& c : v.file.capabilities) {
        Error(DiagKind::kUnknownCapability, c.name_span, fmt::format("capability `{}` is declared in a runbook file", c.name),
              move(c.name));
      }
    }
    if (v.is_stdlib || IsTeamModule(v)) {
      for (const auto& c : v.file.capabilities) caps_.emplace(c.name, &c);
      for (const auto& p : v.file.programs) {
        if (programs_.emplace(p.name, &p).second) {
          auto w = tables_.where.find(p.name);
          program_where_[p.name] = w != tables_.where.end() ? w->second
                                   : fmt::format("{}:{}", v.source->path(), v.source->At(p.name_span.begin).line);
        }
      }
    }
    if (v.is_stdlib) {
      for (const auto& f : v.file.filters) filters_.emplace(f.name, &f);
    }
    if (!own) {  // own contacts are added, with duplicate checks, by CheckPolicy
      for (const auto& pol : v.file.policies) {
        for (const auto& c : pol.contacts) contacts_.emplace(c.name, &c);
      }
    }
  }

  // Resolves the declared types of a module's capability methods and filters, once per module,
  // before any module that sees them is checked.
  void ResolveSignatures(Module& m) {
    if (!sigs_resolved_.insert(&m).second) return;
    Module* saved = mod_;
    mod_ = &m;
    auto resolve = [&](ast::Signature& s) {
      for (auto& f : s.formals) {
        auto t = ast::TypeFromName(f.type_name);
        if (!t) Error(DiagKind::kTypeMismatch, f.span, fmt::format("unknown type `{}`", f.type_name));
        f.type = t.value_or(Type::kError);
      }
      auto r = ast::TypeFromName(s.result_name);
      if (!r) Error(DiagKind::kTypeMismatch, s.span, fmt::format("unknown result type `{}`", s.result_name));
      s.result = r.value_or(Type::kError);
    };
    for (auto& c : m.file.capabilities) {
      for (auto& s : c.methods) resolve(s);
    }
    for (auto& f : m.file.filters) resolve(f);
    mod_ = saved;
  }

  // Duplicate declarations within a stdlib-style module.
  void CheckStdlibDecls(Module& m) {
    std::set<std::string> names;
    for (auto& c : m.file.capabilities) {
      if (!names.insert(c.name).second) Error(DiagKind::kDuplicate, c.name_span, fmt::format("capability `{}` declared twice", c.name));
      std::set<std::string> methods;
      for (auto& s : c.methods) {
        if (!methods.insert(s.name).second)
          Error(DiagKind::kDuplicate, s.name_span, fmt::format("method `{}.{}` declared twice", c.name, s.name));
      }
    }
    for (auto& f : m.file.filters) {
      if (!names.insert(f.name).second) Error(DiagKind::kDuplicate, f.name_span, fmt::format("filter `{}` declared twice", f.name));
    }
    // Filters are the runtime's natives; capability methods, in the stdlib and in team modules alike,
    // are bodies over the natives (CheckMethodBody), so a team method is checked as a stdlib one is.
    if (m.is_stdlib) {
      for (auto& f : m.file.filters) CheckNative(f.name, f, true);
    }
    for (auto& c : m.file.capabilities) {
      for (auto& s : c.methods) CheckMethodBody(c, s);
    }
    std::set<std::string> programs;
    for (auto& p : m.file.programs) {
      if (!programs.insert(p.name).second)
        Error(DiagKind::kDuplicate, p.name_span, fmt::format("program `{}` declared twice", p.name));
      CheckProgramTable(p);
    }
  }

  // ---- Method bodies ----------------------------------------------------------------------------

  // The program tables a method body's command natives are read against: the stdlib's extended by
  // every team module loaded (compiler/modules.hpp), the one table per program that codegen carries
  // and the verifier reads. A module extending `kubectl` keeps the stdlib's rules for its own bodies.
  const rt::Registry& CommandTables() {
    auto it = command_tables_.find(nullptr);
    if (it != command_tables_.end()) return it->second;
    rt::Registry reg;
    for (const auto& name : ws_.StdlibNames()) {
      if (Module* sm = ws_.Stdlib(name)) {
        for (const auto& p : sm->file.programs) reg.AddProgram(ast::ToProgramDecl(p));
      }
    }
    for (const auto& [name, decl] : tables_.decls) reg.AddProgram(decl);
    return command_tables_.emplace(nullptr, std::move(reg)).first->second;
  }

  // A method's body: typed against its declared result, and its effect (from the natives it calls)
  // no more than the method declares.
  void CheckMethodBody(const ast::Capability& cap, ast::Signature& s) {
    std::string what = cap.name + "." + s.name;
    if (!s.body) {
      Error(DiagKind::kMethodWithoutBody, s.name_span, fmt::format("method `{}` has no body", what),
            fmt::format("write what it computes after its title: {} {}({}) -> {} \"...\" = <expression over the "
                        "natives>, e.g. = redis_info(\"connected_clients\") |> number()",
                        ast::EffectName(s.effect), s.name, FormalsText(s), s.result_name));
      return;
    }
    for (const auto& f : s.formals) {
      if (f.type == Type::kError) return;  // an unknown type, already reported
    }
    Ctx ctx;
    ctx.where = "a method body";
    ctx.method = &s;
    worst_effect_ = Effect::kPure;
    body_worst_.clear();
    Type t = CheckExpr(*s.body, ctx);
    if (t != Type::kError && s.result != Type::kError && t != s.result &&
        !(s.result == Type::kLines && t == Type::kString)) {
      std::string hint;
      if (t == Type::kNum && IsNumeric(s.result)) {
        hint = s.result == Type::kDuration  ? "convert the number: `seconds(...)` reads it as seconds"
               : s.result == Type::kPercent ? "convert the number: `percent(...)` for 0..100, `percent(100 * ...)` for a 0..1 ratio"
                                            : "convert the number: `bytes(...)` reads it as bytes";
      } else if ((t == Type::kString || t == Type::kLines) && IsNumeric(s.result)) {
        hint = "read a number from the text: `... |> number()`";
      } else if (s.result == Type::kBool) {
        hint = "compare it, e.g. `== \"PONG\"` or `> 0`";
      }
      Error(DiagKind::kMethodResultType, s.body->span,
            fmt::format("the body of `{}` is {}, but the method returns {}", what, ast::TypeName(t), s.result_name), hint);
    }
    if (s.body->effect > s.effect) {
      Error(DiagKind::kMethodEffectTooLow, s.name_span,
            fmt::format("method `{}` is declared {}, but its body calls {}, which is {}", what, ast::EffectName(s.effect),
                        body_worst_, ast::EffectName(s.body->effect)),
            fmt::format("declare it `{}`, or call only read natives and read commands", ast::EffectName(s.body->effect)));
    }
  }

  static std::string FormalsText(const ast::Signature& s) {
    std::string out;
    for (const auto& f : s.formals) out += (out.empty() ? "" : ", ") + f.name + ": " + f.type_name;
    return out;
  }

  // A bare call inside a method body: a native of the host, against the method's receiver.
  Type CheckNativeCall(Expr& e, const Ctx& ctx) {
    const std::string& name = e.kids[0]->text;
    uint16_t index = rt::FindNative(name);
    if (index == rt::kNoNative || rt::Natives()[index].is_filter) {
      for (size_t i = 1; i < e.kids.size(); ++i) CheckExpr(*e.kids[i], ctx);
      std::vector<std::string> names;
      for (const auto& n : rt::Natives()) {
        if (!n.is_filter) names.push_back(n.name);
      }
      std::string hint = DidYouMean(name, names);
      if (index != rt::kNoNative) hint = fmt::format("`{}` is a filter: TEXT |> {}(...)", name, name);
      Error(DiagKind::kUnknownNativeCall, e.kids[0]->span, fmt::format("`{}` is not a native of this host", name),
            hint.empty() ? "natives: " + Join(names) : hint);
      return Type::kError;
    }
    const rt::NativeInfo& n = rt::Natives()[index];
    ast::Signature sig;
    sig.name = name;
    for (size_t i = 0; i < n.params.size(); ++i) {
      ast::Formal f;
      f.type = ToAstType(n.params[i]);
      f.type_name = rt::ValueTypeName(n.params[i]);
      f.name = fmt::format("{}", i + 1);
      sig.formals.push_back(std::move(f));
    }
    bool ok = CheckArgs(e, sig, 1, ctx, name);
    rt::Effect effect = n.effect;
    std::string rule;
    if (ok && n.ByCommand()) {
      const Expr& cmd = *e.kids.back();
      // An interpolated command is matched as its template: literal text, and a slot for each `{...}`.
      std::string templ;
      if (cmd.kind == ExprKind::kInterp) {
        for (const auto& part : cmd.kids) {
          if (part->kind != ExprKind::kString) {
            templ += "{slot}";
            continue;
          }
          for (char c : part->text) templ += (c == '{' || c == '}') ? std::string(2, c) : std::string(1, c);
        }
      }
      const std::string* text = cmd.kind == ExprKind::kString ? &cmd.text : cmd.kind == ExprKind::kInterp ? &templ : nullptr;
      rt::CommandEffect ce = rt::NativeCommandEffect(n, text, CommandTables());
      effect = ce.effect;
      rule = ce.declared ? ce.rule : ce.rule + ", so it counts as " + rt::EffectName(ce.effect);
    }
    Effect eff = effect;
    if (eff > worst_effect_) {
      worst_effect_ = eff;
      body_worst_ = rule.empty() ? fmt::format("`{}`", name) : fmt::format("`{}` ({})", name, rule);
    }
    e.effect = std::max(e.effect, eff);
    return ToAstType(n.result);
  }

  // A declared capability method or filter is a native of the runtime (runtime/natives.def) with the
  // same effect and signature: what the checker types runbooks against is what runs.
  void CheckNative(const std::string& name, const ast::Signature& s, bool is_filter) {
    const char* what = is_filter ? "filter" : "capability method";
    uint16_t index = rt::FindNative(name);
    if (index == rt::kNoNative || rt::Natives()[index].is_filter != is_filter) {
      Error(DiagKind::kUnknownNative, s.name_span, fmt::format("{} `{}` is not a native of this host", what, name),
            "the runtime's natives are in runtime/natives.def (`runbook capabilities` lists the methods): "
            "declare one of them, or add the native there first");
      return;
    }
    if (s.result == Type::kError) return;  // an unknown type, already reported
    std::vector<rt::ValueType> params;
    for (const auto& f : s.formals) {
      if (f.type == Type::kError) return;
      params.push_back(ToValueType(f.type));
    }
    const rt::NativeInfo& n = rt::Natives()[index];
    rt::Effect effect = is_filter ? rt::Effect::kPure : s.effect;
    if (effect == n.effect && params == n.params && ToValueType(s.result) == n.result) return;
    auto describe = [&](rt::Effect e, const std::vector<rt::ValueType>& ps, rt::ValueType r) {
      std::string text = is_filter ? "(" : std::string(rt::EffectName(e)) + " (";
      for (size_t i = 0; i < ps.size(); ++i) text += (i ? ", " : "") + std::string(rt::ValueTypeName(ps[i]));
      return text + ") -> " + rt::ValueTypeName(r);
    };
    Error(DiagKind::kNativeSignature, s.name_span,
          fmt::format("{} `{}` is declared {}, but the host's native is {}", what, name,
                      describe(effect, params, ToValueType(s.result)), describe(n.effect, n.params, n.result)),
          "make the declaration say what runtime/natives.def says");
  }

  // Whether a team module's extension of `p` may name option `name` declared by an earlier declaration.
  bool InheritedOption(const ast::Program& p, const std::string& name) const {
    auto merged = tables_.decls.find(p.name);
    if (merged == tables_.decls.end()) return false;
    for (const auto& o : merged->second.options) {
      if (std::find(o.names.begin(), o.names.end(), name) != o.names.end()) return true;
    }
    return false;
  }

  // A program's options are declared once each, and every option pattern names a declared option
  // (whose value-taking the matcher needs), with a value only when the option takes one.
  void CheckProgramTable(const ast::Program& p) {
    std::map<std::string, const ast::ProgramOption*> names;
    for (const auto& o : p.options) {
      for (const auto& n : o.names) {
        if (!names.emplace(n, &o).second) {
          Error(DiagKind::kProgramTable, o.span, fmt::format("option `{}` of `{}` declared twice", n, p.name),
                "declare each option once, with all its spellings: `-n|--namespace NS`");
        }
      }
    }
    for (const auto& r : p.rules) {
      if (r.words.empty() || r.words[0].size() < 2 || r.words[0][0] != '-') continue;
      auto it = names.find(r.words[0]);
      if (it == names.end() && InheritedOption(p, r.words[0])) continue;  // declared by the program it extends
      if (it == names.end()) {
        Error(DiagKind::kProgramTable, r.span,
              fmt::format("`{}` is not among `{}`'s options", r.words[0], p.name),
              fmt::format("declare it first, with a value name if it takes one: `options {} VALUE`", r.words[0]));
      } else if ((r.words.size() > 2 && r.words[1][0] != '~') || (r.words.size() >= 2 && it->second->value.empty())) {
        Error(DiagKind::kProgramTable, r.span,
              fmt::format("`{}` takes {}, so the pattern `{}` never matches", r.words[0],
                          it->second->value.empty() ? "no value" : "one value", fmt::join(r.words, " ")),
              it->second->value.empty() ? fmt::format("write `{}` alone, or declare `options {} VALUE`", r.words[0], r.words[0])
                                        : fmt::format("write `\"{} VALUE\"`", r.words[0]));
      }
    }
    CheckWrapRules(p);
  }

  // `wraps exec POD --`: each pattern can match (positional words only, nothing another word of it
  // takes first), and no two start with the same literal words.
  void CheckWrapRules(const ast::Program& p) {
    auto env = [](const std::string& w) { return rt::IsWrapEnv(w); };
    auto slot = [](const std::string& w) { return rt::IsWrapSlot(w); };
    std::map<std::string, const ast::ProgramWrap*> leading;
    for (const auto& w : p.wraps) {
      std::string text = fmt::format("wraps {}", fmt::join(w.words, " "));
      for (size_t i = 0; i < w.words.size(); ++i) {
        const std::string& word = w.words[i];
        std::string why;
        if (word.size() > 1 && word[0] == '-' && word != "--") {
          why = fmt::format("`{}` is read as an option, never as a positional word", word);
        } else if (i > 0 && env(w.words[i - 1]) && (env(word) || word.find('=') != std::string::npos)) {
          why = fmt::format("`{}` right after `{}` never gets a word: that one takes every word holding `=`", word,
                            w.words[i - 1]);
        }
        if (!why.empty()) {
          Error(DiagKind::kWrapNeverMatches, w.span, fmt::format("`{}` of `{}` never matches: {}", text, p.name, why),
                word[0] == '-' && word != "--"
                    ? fmt::format("leave `{}` out of the pattern: options are declared with `options` and read up to the inner command", word)
                    : "drop the word from the pattern");
          break;
        }
      }
      std::string key;
      for (const auto& word : w.words) {
        if (slot(word) || env(word)) break;
        key += rt::LowerAscii(word) + " ";
      }
      auto [it, fresh] = leading.emplace(key, &w);
      if (!fresh) {
        Error(DiagKind::kWrapDuplicate, w.span,
              fmt::format("`{}` and `wraps {}` of `{}` start with the same words", text, fmt::join(it->second->words, " "), p.name),
              "keep one wrapper rule per leading word: a command matches one pattern");
      }
    }
  }

  // ---- Policy -----------------------------------------------------------------------------------

  void CheckPolicy(ast::Policy& p) {
    symbols_.clear();
    decl_spans_.clear();
    runbook_ = nullptr;
    for (auto& c : p.contacts) {
      CheckNameCase(c.name, c.name_span, "contact");
      if (c.name == ast::kOwnerContact) {
        Error(DiagKind::kReservedContactName, c.name_span, "a contact cannot be named `owner`",
              "`page owner` pages the runbook's owner contact: name this contact after the team, e.g. `service_owner`");
      }
      auto [it, fresh] = contacts_.emplace(c.name, &c);
      if (!fresh && it->second != &c) {
        Error(DiagKind::kDuplicate, c.name_span, fmt::format("contact `{}` is declared twice", c.name));
      }
    }
    for (auto& t : p.targets) DeclareTarget(t);
    used_lets_.clear();
    let_state_.clear();
    pos_step_ = -1;
    for (auto& l : p.lets) Declare(l.name, l.name_span, LetSymbol(l));
    for (auto& l : p.lets) EnsureLet(l);
    CheckLetCycles(nullptr, p.lets);
    for (auto& row : p.rows) CheckRow(row);
    ReportUnusedLets(p.lets);
  }

  // ---- Runbooks ---------------------------------------------------------------------------------

  static bool SnakeCase(const std::string& name) {
    if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
    for (char c : name) {
      if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '_')) return false;
    }
    return true;
  }

  void CheckNameCase(const std::string& name, ast::Span span, const char* what) {
    if (SnakeCase(name)) return;
    std::string fixed;
    for (size_t i = 0; i < name.size(); ++i) {
      unsigned char c = static_cast<unsigned char>(name[i]);
      if (std::isupper(c) && i > 0 && name[i - 1] != '_' && !std::isupper(static_cast<unsigned char>(name[i - 1]))) fixed += '_';
      fixed += static_cast<char>(std::tolower(c));
    }
    Error(DiagKind::kNameCase, span, fmt::format("{} `{}` is not lower snake case", what, name), fmt::format("write `{}`", fixed));
  }

  void Declare(const std::string& name, ast::Span span, Symbol sym) {
    CheckNameCase(name, span, sym.kind == SymKind::kSymptom ? "symptom" : sym.kind == SymKind::kParam ? "param"
                              : sym.kind == SymKind::kTarget ? "target" : sym.kind == SymKind::kLet ? "let" : "step");
    auto [it, fresh] = symbols_.emplace(name, sym);
    if (!fresh && (sym.kind == SymKind::kLet || it->second.kind == SymKind::kLet)) {
      LetClash(name, span, sym, it->second);
      return;
    }
    if (!fresh) {
      LineCol lc = mod_->source->At(decl_spans_[name].begin);
      Error(DiagKind::kDuplicate, span,
            fmt::format("`{}` is already declared in this runbook at line {}", name, lc.line),
            "targets, params, symptoms and steps share one namespace: rename one");
      return;
    }
    decl_spans_[name] = span;
  }

  void DeclareTarget(ast::Target& t) {
    Ctx ctx;
    ctx.target_init = true;
    ctx.where = "target";
    const ast::Capability* cap = nullptr;
    Expr* init = t.init.get();
    if (init->kind == ExprKind::kCall && init->kids[0]->kind == ExprKind::kName) {
      const std::string& cname = init->kids[0]->text;
      auto it = caps_.find(cname);
      if (it == caps_.end()) {
        auto home = cap_home_.find(cname);
        Error(DiagKind::kUnknownCapability, init->kids[0]->span, fmt::format("unknown capability `{}`", cname),
              home != cap_home_.end() ? fmt::format("add `import std.{}`", home->second)
                                      : DidYouMean(cname, Keys(caps_)));
      } else {
        cap = it->second;
        t.capability = cname;
      }
      if (init->kids.size() != 2 || init->kids[1]->kind != ExprKind::kString) {
        Error(DiagKind::kBadArguments, init->span,
              fmt::format("`{}(...)` takes one quoted name, bound in the environment file", cname),
              fmt::format("target {} = {}(\"{}\")", t.name, cname, t.name));
      }
    } else {
      Error(DiagKind::kTypeMismatch, init->span, "a target is created by a capability constructor",
            fmt::format("e.g. target {} = redis(\"{}\")", t.name, t.name));
    }
    Symbol sym{SymKind::kTarget, Type::kTarget, cap};
    Declare(t.name, t.name_span, sym);
  }

  void CheckRunbook(ast::Runbook& rb) {
    symbols_.clear();
    decl_spans_.clear();
    used_symptoms_.clear();
    runbook_ = &rb;

    CheckNameCase(rb.name, rb.name_span, "runbook");
    // Metadata.
    if (!rb.severity) {
      Error(DiagKind::kMissingMetadata, rb.name_span, fmt::format("runbook `{}` has no `severity`", rb.name),
            "add `severity P2` (P1..P4)");
    } else if (!ValidSeverity(rb.severity->name)) {
      Error(DiagKind::kBadSeverity, rb.severity->span, fmt::format("`{}` is not a severity", rb.severity->name),
            "use P1, P2, P3 or P4");
    }
    if (!rb.owner) {
      Error(DiagKind::kMissingMetadata, rb.name_span, fmt::format("runbook `{}` has no `owner`", rb.name),
            "add `owner sre` (a contact of the policy)");
    } else {
      CheckContact(rb.owner->name, rb.owner->span);
    }
    for (const auto& r : rb.repeated) {
      Error(DiagKind::kDuplicate, r.span, fmt::format("`{}` is given twice; the last one would silently win", r.name),
            "keep one");
    }
    std::set<std::string> tags;
    for (const auto& t : rb.tags) {
      // Tags are lower case words that may hold dashes (`cert-expiry`); each dash-separated piece is
      // checked like a name.
      std::string pieces = t.name;
      std::replace(pieces.begin(), pieces.end(), '-', '_');
      if (!SnakeCase(pieces)) CheckNameCase(t.name, t.span, "tag");
      if (!tags.insert(t.name).second) Error(DiagKind::kDuplicate, t.span, fmt::format("tag `{}` is listed twice", t.name));
    }

    // Declarations first so references can point forwards.
    for (auto& t : rb.targets) DeclareTarget(t);
    for (auto& p : rb.params) CheckParam(p);
    for (auto& s : rb.symptoms) Declare(s.name, s.name_span, Symbol{SymKind::kSymptom, Type::kBool, nullptr, &s});
    for (auto& s : rb.steps) Declare(s.name, s.name_span, Symbol{SymKind::kStep, Type::kError});
    used_lets_.clear();
    let_state_.clear();
    pos_step_ = -1;
    lets_ = &rb.lets;
    for (auto& l : rb.lets) Declare(l.name, l.name_span, LetSymbol(l));
    for (auto& l : rb.lets) {
      if (l.step < 0) EnsureLet(l);
    }

    for (auto& s : rb.symptoms) {
      Ctx ctx;
      ctx.condition = true;
      ctx.where = "symptom";
      ExpectBool(*s.cond, ctx, "a symptom's condition");
      CheckConstant(*s.cond, Cond::kSymptom);
    }
    CheckSymptomCycles(rb);
    CheckLetCycles(&rb.symptoms, rb.lets);
    if (rb.down) CheckDown(rb);
    for (auto& l : rb.locks) CheckLock(l);
    CheckOwnerPaged(rb);
    for (auto& d : rb.dashboards) {
      for (auto& p : d.panels) {
        if (!p.threshold) continue;
        Ctx ctx;
        ctx.condition = true;
        ctx.where = "panel threshold";
        ExpectBool(*p.threshold, ctx, "a panel threshold");
      }
    }
    for (size_t i = 0; i < rb.steps.size(); ++i) {
      pos_step_ = static_cast<int>(i);
      pos_item_ = 0;
      CheckStep(rb.steps[i]);
    }
    pos_step_ = -1;
    for (auto& l : rb.lets) EnsureLet(l);  // a capture in a step its sequence never reached (syntax errors)
    for (auto& row : rb.rows) {
      reads_down_ = false;
      CheckRow(row);
      if (reads_down_ && !rb.down) {
        Error(DiagKind::kDownUndeclared, row.when->span,
              "this row reads `down`, but the runbook declares no `down when ...`: `down` is false here",
              "declare which symptoms make the service down, e.g. `down when ping_error or conn_error`");
      }
    }
    ReportUnusedLets(rb.lets);

    // The steps start the first instant the incident (any symptom) holds, so in a runbook with steps
    // every symptom drives them, guarded or not (a step keeps a guard only where the text says "si").
    for (const auto& s : rb.symptoms) {
      if (rb.steps.empty() && !used_symptoms_.count(s.name)) {
        Error(DiagKind::kUnusedSymptom, s.name_span, fmt::format("symptom `{}` drives nothing", s.name),
              fmt::format("use it in a step guard (`when {}`) or an escalation row (`| {} for > 5m | page ... |`)",
                          s.name, s.name));
      }
    }
  }

  // `down when EXPR`: a condition over the runbook's symptoms (a warning when it names none).
  void CheckDown(ast::Runbook& rb) {
    Ctx ctx;
    ctx.condition = true;
    ctx.where = "down condition";
    ExpectBool(*rb.down, ctx, "a `down when` condition");
    std::map<std::string, size_t> index;
    for (size_t i = 0; i < rb.symptoms.size(); ++i) index.emplace(rb.symptoms[i].name, i);
    std::vector<size_t> refs;
    NameRefs(*rb.down, index, refs);
    if (refs.empty()) {
      Error(DiagKind::kDownReadsNoSymptom, rb.down->span, "`down when` names no symptom of this runbook",
            rb.symptoms.empty() ? "declare the symptoms that make the service down and name them here"
                                : fmt::format("name the symptoms that make the service down, e.g. `down when {}`",
                                              rb.symptoms.front().name));
    }
  }

  // A `page owner` row (the runbook's own, or of a policy it imports) needs the runbook's owner to be
  // a declared contact.
  void CheckOwnerPaged(const ast::Runbook& rb) {
    bool owner_ok = rb.owner && contacts_.count(rb.owner->name);
    if (owner_ok) return;
    auto pages_owner = [](const ast::EscRow& row) {
      for (const auto& a : row.then) {
        if (a.kind == ast::ActionKind::kPage && a.arg == ast::kOwnerContact) return true;
      }
      return false;
    };
    std::string where;
    for (const auto& row : rb.rows) {
      if (pages_owner(row)) {
        where = fmt::format("line {}", mod_->source->At(row.span.begin).line);
        break;
      }
    }
    for (const Module* v : mod_->Visible()) {
      for (const auto& pol : v->file.policies) {
        for (const auto& row : pol.rows) {
          if (where.empty() && pages_owner(row)) {
            where = fmt::format("policy {} at {}:{}", pol.name, v->source->path(), v->source->At(row.span.begin).line);
          }
        }
      }
    }
    if (where.empty()) return;
    Error(DiagKind::kPageOwnerWithoutOwner, rb.owner ? rb.owner->span : rb.name_span,
          rb.owner ? fmt::format("a row says `page owner` ({}), but owner `{}` is not a contact", where, rb.owner->name)
                   : fmt::format("a row says `page owner` ({}), but runbook `{}` has no `owner`", where, rb.name),
          contacts_.empty() ? "add `owner NAME` with a contact of the imported policy"
                            : fmt::format("add `owner NAME` with a contact: {}", Join(Keys(contacts_))));
  }

  // Depth-first over `edges` with an explicit stack (a chain of thousands of nodes must not overflow
  // ours); for each edge i → j closing a cycle, `on_cycle(i, path)` with the path j ... i → j.
  template <typename F>
  static void ForEachCycle(const std::vector<std::vector<size_t>>& edges, F on_cycle) {
    std::vector<int> colour(edges.size(), 0);
    std::vector<std::pair<size_t, size_t>> stack;  // (node, next edge)
    for (size_t root = 0; root < edges.size(); ++root) {
      if (colour[root] != 0) continue;
      colour[root] = 1;
      stack.push_back({root, 0});
      while (!stack.empty()) {
        auto& [i, next] = stack.back();
        if (next == edges[i].size()) {
          colour[i] = 2;
          stack.pop_back();
          continue;
        }
        size_t j = edges[i][next++];
        if (colour[j] == 1) {
          std::vector<size_t> path;
          bool on = false;
          for (const auto& entry : stack) {
            on = on || entry.first == j;
            if (on) path.push_back(entry.first);
          }
          path.push_back(j);
          on_cycle(i, path);
        } else if (colour[j] == 0) {
          colour[j] = 1;
          stack.push_back({j, 0});
        }
      }
    }
  }

  // Symptoms may read symptoms; a cycle would never finish evaluating.
  void CheckSymptomCycles(const ast::Runbook& rb) {
    std::map<std::string, size_t> index;
    for (size_t i = 0; i < rb.symptoms.size(); ++i) index.emplace(rb.symptoms[i].name, i);
    std::vector<std::vector<size_t>> edges(rb.symptoms.size());
    for (size_t i = 0; i < rb.symptoms.size(); ++i) NameRefs(*rb.symptoms[i].cond, index, edges[i]);
    ForEachCycle(edges, [&](size_t i, const std::vector<size_t>& path) {
      std::string chain;
      for (size_t k : path) chain += (chain.empty() ? "" : " → ") + rb.symptoms[k].name;
      Error(DiagKind::kSymptomCycle, rb.symptoms[i].name_span, fmt::format("symptoms depend on each other: {}", chain),
            "read the probe directly in one of them");
    });
  }

  void CheckContact(const std::string& name, ast::Span span) {
    if (contacts_.count(name)) return;
    // A failed import was reported already; its missing contacts would only repeat it.
    if (contacts_.empty() && std::count(mod_->resolved.begin(), mod_->resolved.end(), nullptr) > 0) return;
    std::string hint = contacts_.empty() ? "no policy with contacts is imported: add `import policy.escalation`"
                                         : DidYouMean(name, Keys(contacts_));
    if (hint.empty()) hint = "contacts: " + Join(Keys(contacts_));
    Error(DiagKind::kUnknownContact, span, fmt::format("unknown contact `{}`", name), hint);
  }

  void CheckParam(ast::Param& p) {
    Type declared = Type::kError;
    if (p.type_name) {
      auto t = ast::TypeFromName(*p.type_name);
      if (!t) {
        Error(DiagKind::kTypeMismatch, p.type_span, fmt::format("unknown type `{}`", *p.type_name),
              "types: bool, num, duration, percent, size, string, lines, secret, time");
      }
      declared = t.value_or(Type::kError);
    }
    Type actual = declared;
    if (p.init) {
      Ctx ctx;
      ctx.where = "param default";
      ctx.param_default = true;
      const ast::Expr& d = *p.init;
      bool literal = d.kind == ExprKind::kNumber || d.kind == ExprKind::kString || d.kind == ExprKind::kBool ||
                     (d.kind == ExprKind::kNeg && d.kids[0]->kind == ExprKind::kNumber) ||
                     (d.kind == ExprKind::kCall && d.kids[0]->kind == ExprKind::kName && d.kids[0]->text == "secret");
      if (!literal) {
        Error(DiagKind::kTypeMismatch, d.span, fmt::format("the default of param `{}` must be a literal", p.name),
              "write a value (\"denis\", 6, 5m) or secret(\"NAME\"); computed values belong in conditions");
      }
      actual = CheckExpr(*p.init, ctx);
      if (p.type_name && declared != Type::kError && actual != Type::kError && actual != declared) {
        if (actual == Type::kSecret) {
          Error(DiagKind::kSecretLeak, p.init->span,
                fmt::format("param `{}` is declared {} but its default is a secret", p.name, ast::TypeName(declared)),
                fmt::format("declare it `param {} : secret` or bind it to secret(\"NAME\")", p.name));
        } else if (declared == Type::kSecret) {
          Error(DiagKind::kLiteralPassword, p.init->span,
                fmt::format("secret param `{}` has a literal default", p.name),
                fmt::format("bind it to a secret: param {} = secret(\"NAME\")", p.name));
        } else {
          Error(DiagKind::kTypeMismatch, p.init->span,
                fmt::format("param `{}` is declared {} but its default is {}", p.name, ast::TypeName(declared),
                            ast::TypeName(actual)));
        }
      }
    }
    p.type = p.type_name ? declared : actual;
    Declare(p.name, p.name_span, Symbol{SymKind::kParam, p.type, nullptr, nullptr, &p});
  }

  // ---- Steps and commands -----------------------------------------------------------------------

  void CheckStep(ast::Step& s) {
    if (s.continue_on_failure && s.kind != ast::StepKind::kVerify) {
      Error(DiagKind::kContinueNotVerify, s.continue_span,
            fmt::format("`on failure continue` on the {} step `{}`: only a failed `verify` stops the steps after it",
                        lang::Name(s.kind), s.name),
            "remove `on failure continue`, or make the step a `verify`");
    }
    if (s.guard) {
      Ctx ctx;
      ctx.condition = true;
      ctx.where = "guard";
      ExpectBool(*s.guard, ctx, "a `when` guard");
      CheckConstant(*s.guard, Cond::kGuard);
    }
    if (s.items.empty()) {
      Error(DiagKind::kEmptyStep, s.name_span, fmt::format("step `{}` does nothing", s.name),
            s.kind == ast::StepKind::kManual ? "add the instruction as a \"text\" line" : "add a `$ command` line");
    }
    bool has_command = false, has_expect = false, any_write = false, all_known = true;
    Effect effect = Effect::kPure;
    for (size_t item_index = 0; item_index < s.items.size(); ++item_index) {
      auto& item = s.items[item_index];
      pos_item_ = item_index;
      switch (item.kind) {
        case ast::ItemKind::kCapture: {
          ast::Let& l = lets_->at(item.let);
          if (!has_command) {
            Error(DiagKind::kCaptureWithoutCommand, l.span,
                  fmt::format("`let {}` in step `{}` comes before any command: a capture reads the output of the "
                              "command before it",
                              l.name, s.name),
                  "put the `$ command` line before the `let`, or move the `let` out of the step to read a probe");
          }
          EnsureLet(l);
          break;
        }
        case ast::ItemKind::kCommand: {
          if (s.kind == ast::StepKind::kManual) {
            Error(DiagKind::kManualHasCommand, item.span, fmt::format("manual step `{}` runs a command", s.name),
                  "a manual step is text for a person; put commands in a check, action or last_resort step");
          }
          CheckCommand(item.command);
          has_command = true;
          Effect e = item.command.effect;
          effect = std::max(effect, e);
          if (e >= Effect::kWrite) any_write = true;
          if (!item.command.effect_known) {
            all_known = false;  // already reported; its effect is not guessed
          } else if (s.kind == ast::StepKind::kManual) {
            // RB0052 said it all: the command does not belong here at all.
          } else if ((s.kind == ast::StepKind::kCheck || s.kind == ast::StepKind::kVerify) && e >= Effect::kWrite) {
            Error(DiagKind::kEffectInRead, item.command.span,
                  fmt::format("{} step `{}` runs a {} command: {}", lang::Name(s.kind), s.name,
                              ast::EffectName(e), item.command.matched_rule),
                  e == Effect::kDestructive
                      ? "make the step `last_resort`, or run a read-only sub-command"
                      : "make it an `action` step, or run a read-only sub-command");
          } else if (e == Effect::kDestructive && s.kind != ast::StepKind::kLastResort) {
            Error(DiagKind::kDestructiveNotLastResort, item.command.span,
                  fmt::format("`{}` is destructive but step `{}` is `{}`", item.command.matched_rule, s.name,
                              lang::Name(s.kind)),
                  "make the step `last_resort`");
          }
          break;
        }
        case ast::ItemKind::kText:
          if (item.text_expr) {
            Ctx ctx;
            ctx.condition = true;
            ctx.where = "instruction";
            CheckInterp(*item.text_expr, ctx, "an instruction");
          }
          break;
        case ast::ItemKind::kExpect: {
          has_expect = true;
          if (s.kind == ast::StepKind::kManual) {
            Error(DiagKind::kManualHasCommand, item.span, fmt::format("manual step `{}` has an expectation", s.name),
                  "use a verify step for expectations");
          }
          Ctx ctx;
          ctx.condition = true;
          ctx.allow_output = has_command;
          ctx.where = "expectation";
          ExpectBool(*item.expect.cond, ctx, "an expectation");
          CheckConstant(*item.expect.cond, Cond::kExpect);
          effect = std::max(effect, item.expect.cond->effect);
          CheckPolling(item.expect);
          break;
        }
      }
    }
    s.effect = effect;
    for (auto& l : s.locks) CheckLock(l);
    if (s.kind == ast::StepKind::kAction && has_command && all_known && !any_write) {
      Error(DiagKind::kActionReadsOnly, s.name_span,
            fmt::format("action step `{}` only runs read-only commands", s.name), "make it a `check` step");
    }
    if (s.kind == ast::StepKind::kVerify && !has_expect) {
      Error(DiagKind::kUnusedStepExpect, s.name_span, fmt::format("verify step `{}` states no expectation", s.name),
            "add `expect CONDITION within 2m every 5s`");
    }
  }

  // A lock's name is known when the run starts, before anything is read: text, params and target
  // fields only (`lock "redis/{redis.host}"`, `lock "pg/{cluster}"`).
  void CheckLock(ast::Lock& l) {
    std::string text = l.name;
    text.erase(0, text.find_first_not_of(" \t"));
    if (text.empty()) {
      Error(DiagKind::kLockName, l.span, "the lock's name is empty", "name what is held, e.g. lock \"redis/{redis.host}\"");
      return;
    }
    if (!l.name_expr) return;
    Ctx ctx;
    ctx.condition = true;
    ctx.where = "lock";
    CheckInterp(*l.name_expr, ctx, "a lock name");
    for (const auto& part : l.name_expr->kids) {
      if (part->kind == ExprKind::kString || part->type == Type::kError || part->type == Type::kSecret) continue;
      const Expr* base = part->kind == ExprKind::kMember ? part->kids[0].get() : part.get();
      auto sym = base->kind == ExprKind::kName ? symbols_.find(base->text) : symbols_.end();
      bool ok = sym != symbols_.end() &&
                ((part->kind == ExprKind::kMember && sym->second.kind == SymKind::kTarget) ||
                 (part->kind == ExprKind::kName && sym->second.kind == SymKind::kParam && part->type != Type::kSecret));
      if (!ok) {
        std::string what = sym == symbols_.end() ? "this" : fmt::format("`{}` ({})", base->text, KindWord(sym->second.kind));
        Error(DiagKind::kLockName, part->span,
              fmt::format("a lock's name is made when the run starts, before anything is read: {} is not known then", what),
              "interpolate params and target fields only, e.g. lock \"redis/{redis.host}\"");
      }
    }
  }

  std::optional<double> DurationLiteral(Expr& e, const char* what) {
    Ctx ctx;
    Type t = CheckExpr(e, ctx);
    if (t == Type::kError) return std::nullopt;
    if (t != Type::kDuration) {
      Error(DiagKind::kTypeMismatch, e.span, fmt::format("`{}` takes a duration, this is {}", what, ast::TypeName(t)),
            "add a unit, e.g. 2m or 30s");
      return std::nullopt;
    }
    if (e.kind != ExprKind::kNumber || e.value <= 0) {
      Error(DiagKind::kBadWindow, e.span, fmt::format("`{}` takes a positive duration literal", what),
            "e.g. 2m, 30s, 500ms");
      return std::nullopt;
    }
    if (!DurationInRange(e, what)) return std::nullopt;
    return e.value;
  }

  // The program keeps `within`, `every` and `for` bounds as whole milliseconds up to 366 days; a
  // value outside that is reported here rather than rounded away or refused by the verifier.
  bool DurationInRange(const Expr& e, const char* what) {
    if (e.value > static_cast<double>(rt::kMaxDurationMs)) {
      Error(DiagKind::kBadWindow, e.span, fmt::format("`{}` is at most 366d", what),
            "an incident runbook waits minutes or hours; write e.g. 30m");
      return false;
    }
    if (e.value < 1 || e.value != std::floor(e.value)) {
      Error(DiagKind::kBadWindow, e.span, fmt::format("`{}` is counted in whole milliseconds", what),
            fmt::format("write a whole number of ms, e.g. {}ms", std::max(1.0, std::round(e.value))));
      return false;
    }
    return true;
  }

  void CheckPolling(ast::Expect& x) {
    std::optional<double> within, every;
    if (x.within) within = DurationLiteral(*x.within, "within");
    if (x.every) {
      every = DurationLiteral(*x.every, "every");
      if (!x.within) {
        Error(DiagKind::kBadWindow, x.every->span, "`every` needs a `within` to bound the polling",
              "expect ... within 2m every 5s");
      }
    }
    if (within && every && *every > *within) {
      Error(DiagKind::kBadWindow, x.every->span, "`every` is longer than `within`: it would poll once",
            "poll more often than the deadline, e.g. within 2m every 5s");
    }
  }

  static const char* ShellHint(const std::string& op) {
    if (op == "|") return "there is no shell pipe: shape output with a stdlib filter after `|>`";
    if (op == "||" || op == "&&" || op == ";")
      return "write one `$` line per command; a step runs its lines in order and stops at the first failure";
    if (op == ">" || op == ">>" || op == "<") return "redirections are not supported; the executor captures output";
    if (op == "&") return "background jobs are not supported";
    if (op == "`" || op == "$(") return "command substitution is not supported; bind the value to a param";
    if (op == "(" || op == ")") return "subshells are not supported; quote the word if the parentheses are literal";
    if (op == "{") return "write `{{` for a literal brace, or `{name}` to insert a param";
    if (!op.empty() && op[0] == '$') return "shell variables are not expanded; declare a param and write {name}";
    return "there is no shell";
  }

  // `| grep -i x` → `|> grep_i("x")`, etc.: the exact replacement for a pipe into a known filter.
  static std::string FilterSuggestion(const std::vector<std::string>& words) {
    if (words.empty()) return {};
    const std::string& prog = words[0];
    std::vector<std::string> flags, args;
    for (size_t i = 1; i < words.size(); ++i) (words[i].size() > 1 && words[i][0] == '-' ? flags : args).push_back(words[i]);
    auto has = [&](const std::string& f) { return std::find(flags.begin(), flags.end(), f) != flags.end(); };
    std::string pat = args.empty() ? "PATTERN" : args[0];
    if (prog == "grep") {
      for (const auto& f : flags) {
        if (f.rfind("-A", 0) == 0 && f.size() > 2) return fmt::format("|> grep_after(\"{}\", {})", pat, f.substr(2));
      }
      return fmt::format("|> {}(\"{}\")", has("-i") ? "grep_i" : "grep", pat);
    }
    if (prog == "head" || prog == "tail") {
      std::string n = "10";
      for (const auto& f : flags) {
        if (f.size() > 1 && std::isdigit(static_cast<unsigned char>(f[1]))) n = f.substr(1);
      }
      if (has("-n") && !args.empty()) n = args[0];
      return fmt::format("|> {}({})", prog, n);
    }
    if (prog == "wc") return "|> count()";
    if (prog == "sort" || prog == "uniq" || prog == "awk" || prog == "sed" || prog == "jq")
      return "|> lines() and a filter from std.text";
    return {};
  }

  void CheckCommand(ast::Command& c) {
    std::set<size_t> placeholders = CheckShellOps(c);
    if (c.argv.empty()) {
      Error(DiagKind::kEmptyCommand, c.span, "empty command", "write the program and its arguments after `$`");
      c.effect = Effect::kRead;
      return;
    }
    // Slots resolve to params or targets.
    for (const auto& w : c.argv) {
      for (const auto& part : w.parts) {
        if (!part.is_slot) continue;
        if (size_t dot = part.text.find('.'); dot != std::string::npos) {
          CheckTargetFieldSlot(part);  // {primary.host}
          continue;
        }
        auto it = symbols_.find(part.text);
        if (it != symbols_.end() && it->second.kind == SymKind::kLet) {
          UseLet(*it->second.let, part.span);
          continue;
        }
        if (it == symbols_.end() || (it->second.kind != SymKind::kParam && it->second.kind != SymKind::kTarget)) {
          std::vector<std::string> names;
          for (const auto& [n, s] : symbols_) {
            if (s.kind == SymKind::kParam || s.kind == SymKind::kTarget || s.kind == SymKind::kLet) names.push_back(n);
          }
          std::string hint = DidYouMean(part.text, names);
          Error(DiagKind::kUnknownSlot, part.span, fmt::format("`{{{}}}` is not a param or target", part.text),
                hint.empty() ? fmt::format("declare `param {} = \"...\"`, or write `{{{{` for a literal brace", part.text)
                             : hint);
        }
      }
    }
    // Effect from the program table.
    const ast::Word& prog = c.argv[0];
    c.effect = Effect::kRead;
    if (prog.HasSlot()) {
      c.effect_known = false;
      Error(DiagKind::kUnknownProgram, prog.span, "the program name must be literal",
            "interpolate arguments, not the program");
    } else {
      std::string name = prog.Literal();
      auto it = programs_.find(name);
      if (it == programs_.end()) {
        c.effect_known = false;
        auto home = program_home_.find(name);
        auto team = tables_.where.find(name);
        std::string stem = name;  // a module name is an identifier: redis-cli → redis_cli
        for (char& ch : stem) {
          if (ch == '-' || ch == '.') ch = '_';
        }
        Error(DiagKind::kUnknownProgram, prog.span, fmt::format("program `{}` is not declared", name),
              home != program_home_.end()   ? fmt::format("add `import std.{}`", home->second)
              : team != tables_.where.end() ? fmt::format("import the team module that declares it ({})", team->second)
                                            : fmt::format("declare it with its effects in a team module, e.g. "
                                                          "team/{}.rb.denis: program {} {{ read ...  write ... }}, "
                                                          "and `import team.{}`",
                                                          stem, name, stem));
      } else {
        MatchEffect(*it->second, c);
      }
    }
    auto known = prog.HasSlot() ? programs_.end() : programs_.find(prog.Literal());
    CheckPasswords(c, placeholders, known == programs_.end() ? nullptr : &ProgramDecl(*known->second));
    for (auto& f : c.filters) {
      Ctx ctx;
      ctx.where = "command filter";
      ctx.filter = true;
      CheckFilterCall(*f, ctx);
    }
  }

  // `{target.field}` in a command word: the target must be declared, the field one of an address's
  // parts or (not close to one of those) an extra key of the environment entry.
  void CheckTargetFieldSlot(const ast::WordPart& part) {
    size_t dot = part.text.find('.');
    std::string base = part.text.substr(0, dot), field = part.text.substr(dot + 1);
    auto it = symbols_.find(base);
    if (it == symbols_.end() || it->second.kind != SymKind::kTarget) {
      std::vector<std::string> names;
      for (const auto& [n, s] : symbols_) {
        if (s.kind == SymKind::kTarget) names.push_back(n);
      }
      std::string hint = DidYouMean(base, names);
      Error(DiagKind::kUnknownSlot, part.span, fmt::format("`{{{}}}`: `{}` is not a target", part.text, base),
            hint.empty() ? "fields are read from a target: {primary.host}, with target primary = ..." : hint);
      return;
    }
    const auto& fixed = TargetFields();
    if (std::find(fixed.begin(), fixed.end(), field) != fixed.end()) return;
    std::string hint = DidYouMean(field, fixed);
    if (!hint.empty()) {
      Error(DiagKind::kUnknownTargetField, part.span, fmt::format("target `{}` has no field `{}`", base, field), hint);
    }
  }

  // Reports shell syntax, one finding per construct: `<pass>`-style placeholders (the seed's notation)
  // as what they are, a backtick pair or `$( ... )` once. Returns the argv indices of placeholders.
  std::set<size_t> CheckShellOps(const ast::Command& c) {
    std::set<size_t> placeholders;
    std::vector<bool> done(c.shell_ops.size(), false);
    auto word_at = [&](uint32_t begin) -> std::optional<size_t> {
      for (size_t k = 0; k < c.argv.size(); ++k) {
        if (c.argv[k].span.begin == begin) return k;
      }
      return std::nullopt;
    };
    for (size_t i = 0; i < c.shell_ops.size(); ++i) {
      const ast::ShellOp& op = c.shell_ops[i];
      if (op.op != "<" || i + 1 >= c.shell_ops.size() || c.shell_ops[i + 1].op != ">") continue;
      auto w = word_at(op.span.end);
      if (!w || c.argv[*w].span.end != c.shell_ops[i + 1].span.begin || c.argv[*w].HasSlot()) continue;
      done[i] = done[i + 1] = true;
      placeholders.insert(*w);
      std::string name = c.argv[*w].Literal();
      ast::Span span{op.span.begin, c.shell_ops[i + 1].span.end};
      static const std::set<std::string> kSecretWords = {"pass", "password", "passwd", "pwd", "token", "secret",
                                                         "api_key", "apikey"};
      if (kSecretWords.count(name)) {
        Error(DiagKind::kLiteralPassword, span, fmt::format("placeholder `<{}>` where a password goes", name),
              "bind a param to a secret (param neo4j_pass = secret(\"NEO4J_PASSWORD\")) and write {neo4j_pass}");
      } else {
        Error(DiagKind::kUnknownSlot, span, fmt::format("placeholder `<{}>`: the runbook does not bind it", name),
              fmt::format("declare `param {} : string` and write {{{}}}", name, name));
      }
    }
    for (size_t i = 0; i < c.shell_ops.size(); ++i) {
      if (done[i]) continue;
      const ast::ShellOp& op = c.shell_ops[i];
      ast::Span span = op.span;
      std::string what = fmt::format("`{}` is shell syntax", op.op);
      const char* closer = op.op == "`" ? "`" : op.op == "$(" ? ")" : nullptr;
      if (closer) {
        for (size_t j = i + 1; j < c.shell_ops.size(); ++j) {
          if (!done[j] && c.shell_ops[j].op == closer) {
            done[j] = true;
            span.end = c.shell_ops[j].span.end;
            break;
          }
        }
        what = op.op == "`" ? "a backtick command substitution is shell syntax"
                            : "`$(...)` command substitution is shell syntax";
      }
      std::string hint = ShellHint(op.op);
      if (op.op == "|") {
        std::vector<std::string> after;
        for (const auto& w : c.argv) {
          if (w.span.begin > op.span.begin) after.push_back(w.Literal());
        }
        std::string suggestion = FilterSuggestion(after);
        if (!suggestion.empty()) hint = fmt::format("there is no shell pipe: write `{}`", suggestion);
      }
      Error(DiagKind::kShellSyntax, span, what + "; commands run without a shell", hint);
    }
    return placeholders;
  }

  // The argv after the program as the matcher (and the verifier) sees it: literal parts, a param's
  // literal string default in its place (`param verb = "delete"` makes `kubectl {verb} pod x`
  // destructive), rt::kSlotChar for any other slot; nullopt for a word of nothing but such slots.
  std::vector<std::optional<std::string>> MatcherWords(const ast::Command& c) const {
    std::vector<std::optional<std::string>> words;
    for (size_t i = 1; i < c.argv.size(); ++i) {
      std::string text;
      bool known = false;
      for (const auto& part : c.argv[i].parts) {
        if (!part.is_slot) {
          text += part.text;
          known = true;
          continue;
        }
        auto it = symbols_.find(part.text);
        if (it != symbols_.end() && it->second.param && it->second.param->init &&
            it->second.param->init->kind == ExprKind::kString) {
          text += it->second.param->init->text;
          known = true;
        } else {
          text += rt::kSlotChar;
        }
      }
      words.push_back(known ? std::optional<std::string>(text) : std::nullopt);
    }
    return words;
  }

  void MatchEffect(const ast::Program& p, ast::Command& c) {
    std::vector<std::optional<std::string>> words = MatcherWords(c);
    rt::CommandMatch m = rt::MatchCommand(ProgramDecl(p), words, ProgramLookup());
    if (!m.declared && m.refusal != rt::CommandMatch::Refusal::kSubcommand) {
      WrapRefusal(c, m);
      return;
    }
    if (!m.declared) {
      // Point at the word in sub-command position, else at the program.
      ast::Span at = c.argv[0].span;
      for (size_t i = 1; i < c.argv.size(); ++i) {
        if (!c.argv[i].HasSlot() && c.argv[i].Literal() == m.subcommand) {
          at = c.argv[i].span;
          break;
        }
      }
      // In a wrapped command the sub-command may be the inner program's (`sudo kubectl cordon`).
      const std::string& pname = m.program.empty() ? p.name : m.program;
      std::string hint = fmt::format("add `{}` to `program {}` ({}) as read, write or destructive", m.subcommand,
                                     pname, program_where_[pname]);
      if (!m.guess.empty()) {
        hint = fmt::format("`{}` is not among `{}`'s options, so the word after it may be its value; declare it "
                           "in `program {}` ({}): `options {}` (no value) or `options {} VALUE`",
                           m.guess, pname, pname, program_where_[pname], m.guess, m.guess);
      }
      Error(DiagKind::kUnknownSubcommand, at,
            fmt::format("`{}` has no declared effect for sub-command `{}`", pname, m.subcommand), hint);
      c.effect = Effect::kWrite;  // assume the worst for the code generator
      c.effect_known = false;
      c.matched_rule = m.rule;
      return;
    }
    c.effect = m.effect;
    c.matched_rule = m.rule;
  }

  // The programs this module sees, by name, for a wrapper's inner command.
  rt::ProgramLookup ProgramLookup() {
    return [this](const std::string& name) -> const rt::ProgramDecl* {
      auto it = programs_.find(name);
      return it == programs_.end() ? nullptr : &ProgramDecl(*it->second);
    };
  }

  // A wrapped command refused: an inner program nobody declares, too many wrappers, a cycle.
  void WrapRefusal(ast::Command& c, const rt::CommandMatch& m) {
    c.effect = Effect::kWrite;  // assume the worst for the code generator
    c.effect_known = false;
    c.matched_rule = m.rule;
    ast::Span at = m.inner_word + 1 < c.argv.size() ? c.argv[m.inner_word + 1].span : c.argv[0].span;
    switch (m.refusal) {
      case rt::CommandMatch::Refusal::kInnerProgram: {
        auto home = program_home_.find(m.inner_program);
        Error(DiagKind::kUnknownProgram, at,
              fmt::format("program `{}` is not declared (`{}` runs it as a command of its own)", m.inner_program, m.program),
              home != program_home_.end()
                  ? fmt::format("add `import std.{}`", home->second)
                  : fmt::format("declare it with its effects: program {} {{ read ...  write ... }}", m.inner_program));
        break;
      }
      case rt::CommandMatch::Refusal::kTooDeep:
        Error(DiagKind::kWrapTooDeep, at,
              fmt::format("`{}` is wrapped more than {} deep", m.inner_program, rt::kMaxWrapDepth),
              "drop the wrappers that add nothing: each one runs the rest of the line");
        break;
      case rt::CommandMatch::Refusal::kCycle:
        Error(DiagKind::kWrapCycle, at, fmt::format("`{}` wraps itself with the same words", m.inner_program),
              fmt::format("write `{}` once", m.inner_program));
        break;
      default: break;
    }
  }

  // The runtime's view of a program declaration (one matcher serves the checker and the verifier).
  const rt::ProgramDecl& ProgramDecl(const ast::Program& p) {
    // The merged table (stdlib + team modules), the one codegen carries and the verifier checks.
    if (auto merged = tables_.decls.find(p.name); merged != tables_.decls.end()) return merged->second;
    auto it = program_decls_.find(&p);
    if (it != program_decls_.end()) return it->second;
    return program_decls_.emplace(&p, ast::ToProgramDecl(p)).first->second;
  }

  // Credentials written into a command, in any spelling: a value of an option the program's table
  // marks secret (`-p X`, `-pX`, `-p=X`, `--password=X`), a well-known credential option of a program
  // that does not declare it, user:password in a URL, an Authorization (or API-key, cookie) header in
  // any word or option value, `password=`-style pairs, and the seed's `<pass>` placeholders. Each
  // finding masks the literal in every printed source line.
  void CheckPasswords(const ast::Command& c, const std::set<size_t>& placeholders, const rt::ProgramDecl* prog) {
    static const std::set<std::string> kCredentialOptions = {
        "--password", "--passwd", "--pass", "--token", "--secret", "--api-key", "--apikey",
        "--access-token", "--auth-token", "--client-secret", "--private-key-password"};
    auto secret_slot = [&](const ast::Word& w) {
      for (const auto& part : w.parts) {
        if (!part.is_slot) continue;
        auto it = symbols_.find(part.text);
        if (it != symbols_.end() && it->second.type == Type::kSecret) return true;
      }
      return false;
    };
    std::set<size_t> reported;  // argv indices already reported
    // Reports the literal `value`, found in argv word `argv_index`'s source at or after byte `hint`
    // (quotes and escapes only move it later); masks it, or the whole word when it is not found.
    auto literal = [&](size_t argv_index, const std::string& value, size_t hint, const std::string& what,
                       const std::string& hint_text) {
      const ast::Word& w = c.argv[argv_index];
      if (!reported.insert(argv_index).second) return;
      std::string_view text = std::string_view(mod_->source->text()).substr(w.span.begin, w.span.end - w.span.begin);
      size_t at = value.empty() ? std::string::npos : text.find(value, std::min(hint, text.size()));
      ast::Span span = at == std::string::npos
                           ? w.span
                           : ast::Span{static_cast<uint32_t>(w.span.begin + at), static_cast<uint32_t>(w.span.begin + at + value.size())};
      diags_.Mask(mod_->source, span);
      Error(DiagKind::kLiteralPassword, span, what, hint_text);
    };
    const std::string kHint = "bind a param to a secret (param pass = secret(\"NAME\")) and write {pass}";
    // Each word as text, with rt::kSlotChar for its slots: a credential that holds a slot is not literal.
    std::vector<std::optional<std::string>> words;
    for (size_t i = 1; i < c.argv.size(); ++i) {
      const ast::Word& w = c.argv[i];
      std::string lit = w.Literal();
      if (!w.HasSlot() && (lit == "<pass>" || lit == "<password>" || lit == "<token>" || lit == "<secret>")) {
        reported.insert(i);
        Error(DiagKind::kLiteralPassword, w.span, fmt::format("placeholder `{}` where a password goes", lit),
              "param pass = secret(\"NAME\") and write {pass}");
      }
      std::string text;
      for (const auto& part : w.parts) text += part.is_slot ? std::string(1, rt::kSlotChar) : part.text;
      words.emplace_back(text);
    }
    rt::ProgramDecl none;
    for (const rt::OptionUse& u : rt::OptionUses(prog ? *prog : none, words, ProgramLookup())) {
      bool secret = u.option ? u.option->secret : kCredentialOptions.count(u.spelled) > 0;
      std::optional<size_t> vw = u.value_word;
      if (!vw && !u.option && secret && u.word + 1 < words.size()) vw = u.word + 1;  // `--password X`, undeclared
      if (!vw) continue;
      size_t argv_index = *vw + 1;
      if (placeholders.count(argv_index) || reported.count(argv_index)) continue;
      const ast::Word& v = c.argv[argv_index];
      size_t offset = *vw == u.word ? u.value_offset : 0;
      std::string value = words[*vw]->substr(std::min(offset, words[*vw]->size()));
      if (!secret) {
        // Any option's value may carry a header or a URL: `-HAuthorization: Bearer ...`.
        if (auto cred = CredentialIn(value)) literal(argv_index, cred->value, offset + cred->offset, cred->what, cred->hint);
        continue;
      }
      if (value.find(rt::kSlotChar) != std::string::npos) {
        if (!secret_slot(v)) {
          reported.insert(argv_index);
          std::string name;
          for (const auto& part : v.parts) {
            if (part.is_slot) name = part.text;
          }
          Error(DiagKind::kLiteralPassword, v.span,
                fmt::format("`{}` takes a credential but `{}` is not a secret", u.spelled, name), kHint);
        }
        continue;
      }
      if (value.empty()) continue;
      literal(argv_index, value, offset, fmt::format("credential written after `{}`", u.spelled),
              offset > 0 ? fmt::format("write {}{{pass}} with param pass = secret(\"NAME\")", words[*vw]->substr(0, offset))
                         : kHint);
    }
    // Credentials inside any word: a URL's user:password, headers, `password=` pairs.
    for (size_t i = 1; i < c.argv.size(); ++i) {
      if (placeholders.count(i) || reported.count(i)) continue;
      if (auto cred = CredentialIn(*words[i - 1])) literal(i, cred->value, cred->offset, cred->what, cred->hint);
    }
  }

  struct Credential {
    std::string value;
    size_t offset = 0;  // of the value in the text
    std::string what, hint;
  };
  // A credential written literally in `text` (slots appear as rt::kSlotChar), if any.
  static std::optional<Credential> CredentialIn(const std::string& text) {
    const std::string lower = rt::LowerAscii(text);
    auto literal = [](const std::string& v) { return !v.empty() && v.find(rt::kSlotChar) == std::string::npos; };
    // scheme://user:password@host
    for (size_t at = lower.find("://"); at != std::string::npos; at = lower.find("://", at + 3)) {
      size_t auth = at + 3;
      size_t end = text.find_first_of("/?#", auth);
      std::string authority = text.substr(auth, end == std::string::npos ? std::string::npos : end - auth);
      size_t atsign = authority.rfind('@');
      if (atsign == std::string::npos) continue;
      size_t colon = authority.find(':');
      if (colon == std::string::npos || colon > atsign) continue;
      std::string value = authority.substr(colon + 1, atsign - colon - 1);
      if (!literal(value)) continue;
      return Credential{value, auth + colon + 1, "user:password written in a URL",
                        "write scheme://user:{pass}@host with param pass = secret(\"NAME\")"};
    }
    // Authorization: Bearer|Basic|Token ..., and API-key and cookie headers.
    static const char* kHeaders[] = {"authorization:", "proxy-authorization:", "x-api-key:", "api-key:",
                                     "x-auth-token:", "private-token:", "x-vault-token:", "cookie:"};
    size_t b = lower.find_first_not_of(" \t");
    for (const char* h : kHeaders) {
      size_t n = std::strlen(h);
      if (b == std::string::npos || lower.compare(b, n, h) != 0) continue;
      size_t v = lower.find_first_not_of(" \t", b + n);
      if (v == std::string::npos) return std::nullopt;
      // The scheme (Bearer, Basic, ...) stays readable; the credential after it is the secret.
      bool scheme = std::strstr(h, "authorization") != nullptr;
      size_t sp = text.find(' ', v);
      size_t from = scheme && sp != std::string::npos ? text.find_first_not_of(" \t", sp) : v;
      if (from == std::string::npos) return std::nullopt;
      std::string value = text.substr(from);
      if (!literal(value)) return std::nullopt;
      std::string name = text.substr(b, n - 1);
      return Credential{value, from, fmt::format("credential written in the `{}` header", name),
                        fmt::format("write \"{}: {}{{token}}\" with param token = secret(\"NAME\")", name,
                                    scheme && sp != std::string::npos ? text.substr(v, sp - v) + " " : "")};
    }
    // password=..., token=... pairs (connection strings, query strings, KEY=value), `MY_PASSWORD=` too.
    for (const char* k : {"password=", "passwd=", "pwd=", "token=", "secret=", "api_key=", "apikey="}) {
      for (size_t at = lower.find(k); at != std::string::npos; at = lower.find(k, at + 1)) {
        if (at > 0 && std::isalnum(static_cast<unsigned char>(lower[at - 1]))) continue;  // `mypassword=`
        size_t vb = at + std::strlen(k);
        size_t ve = text.find_first_of("&; ", vb);
        std::string value = text.substr(vb, ve == std::string::npos ? std::string::npos : ve - vb);
        if (!literal(value)) continue;
        return Credential{value, vb, "credential written in the command",
                          fmt::format("write {}{{pass}} with param pass = secret(\"NAME\")", text.substr(at, std::strlen(k)))};
      }
    }
    return std::nullopt;
  }

  // ---- Escalation -------------------------------------------------------------------------------

  void CheckRow(ast::EscRow& row) {
    Ctx ctx;
    ctx.condition = true;
    ctx.allow_window = true;
    ctx.escalation = true;
    ctx.where = "escalation condition";
    ExpectBool(*row.when, ctx, "an escalation condition");
    CheckConstant(*row.when, Cond::kRow);
    for (auto& a : row.then) {
      if (a.text_expr) {
        Ctx tctx;
        tctx.condition = true;
        tctx.where = a.kind == ast::ActionKind::kPage ? "page message" : "manual action";
        CheckInterp(*a.text_expr, tctx, a.kind == ast::ActionKind::kPage ? "a page message" : "a manual action");
      }
      switch (a.kind) {
        case ast::ActionKind::kPage:
          if (a.arg == ast::kOwnerContact) break;  // the runbook's owner (CheckOwnerPaged)
          CheckContact(a.arg, a.span);
          break;
        case ast::ActionKind::kRun: {
          auto it = symbols_.find(a.arg);
          if (!runbook_ || it == symbols_.end() || it->second.kind != SymKind::kStep) {
            Error(DiagKind::kUnknownStep, a.span,
                  runbook_ ? fmt::format("`{}` is not a step of this runbook", a.arg)
                           : fmt::format("`run {}`: a policy has no steps", a.arg),
                  runbook_ ? DidYouMean(a.arg, StepNames()) : "use `runbook NAME` or `manual \"...\"`");
          }
          break;
        }
        case ast::ActionKind::kRunbook: {
          if (!ws_.FindRunbook(a.arg, *mod_)) {
            Error(DiagKind::kUnknownRunbook, a.span, fmt::format("no runbook `{}`", a.arg),
                  fmt::format("it is looked up among the checked files and in {}.rb.denis next to this file", a.arg));
          } else if (runbook_ && a.arg == runbook_->name) {
            Error(DiagKind::kUnknownRunbook, a.span, fmt::format("runbook `{}` hands over to itself", a.arg),
                  "hand over to another runbook or use `run STEP`");
          }
          break;
        }
        case ast::ActionKind::kDeclare:
          if (!ValidSeverity(a.arg)) {
            Error(DiagKind::kBadSeverity, a.span, fmt::format("`declare {}`: not a severity", a.arg), "use P1..P4");
          }
          break;
        case ast::ActionKind::kManual: break;
      }
    }
  }

  std::vector<std::string> StepNames() const {
    std::vector<std::string> v;
    for (const auto& [n, s] : symbols_) {
      if (s.kind == SymKind::kStep) v.push_back(n);
    }
    return v;
  }

  enum class Cond { kSymptom, kGuard, kExpect, kRow };
  // Reports a condition that folds to a constant, with the folder codegen compiles it with
  // (compiler/fold.hpp): always true is a warning (RB0043), always false or unknown an error (RB0081
  // for rows, RB0044 otherwise); literals that fail at run time (`10m / 0`) are RB0045.
  void CheckConstant(const Expr& e, Cond where) {
    if (e.type != Type::kBool) return;  // a type error is already reported
    FoldFault fault;
    std::optional<Folded> v = FoldConstant(e, &fault);
    if (fault.fault == lang::Fault::kDivByZero || fault.fault == lang::Fault::kOverflow) {
      Error(DiagKind::kConstantFault, fault.span, fmt::format("this fails every time it is evaluated: {}", fault.message),
            "fix the literal");
    }
    if (!v) return;
    lang::Operand o;
    o.type = v->type;
    o.number = v->number;
    int truth = lang::Truth(o);
    const char* value = truth == 1 ? "true" : truth == 0 ? "false" : "unknown";
    if (truth == 1) {
      switch (where) {
        case Cond::kRow:
          Error(DiagKind::kConstantTrue, e.span, "this condition is always true: the row fires on every evaluation",
                  "use a symptom, a probe or `ask \"...\"`");
          break;
        case Cond::kGuard:
          Error(DiagKind::kConstantTrue, e.span, "this guard is always true: the step always runs",
                  "guard on a symptom or a probe, or drop the `when`");
          break;
        case Cond::kExpect:
          Error(DiagKind::kConstantTrue, e.span, "this expectation always holds: it checks nothing",
                  "compare `output` or a probe, e.g. expect output == \"PONG\"");
          break;
        case Cond::kSymptom:
          Error(DiagKind::kConstantTrue, e.span, "this symptom always holds: it tells nothing about the incident",
                  "read a probe, e.g. redis.ping() == false");
          break;
      }
      return;
    }
    switch (where) {
      case Cond::kRow:
        Error(DiagKind::kRowNeverFires, e.span, fmt::format("this condition is always {}: the row never fires", value),
              "use a symptom, a probe or `ask \"...\"`");
        break;
      case Cond::kGuard:
        Error(DiagKind::kConstantFalse, e.span, fmt::format("this guard is always {}: the step never runs", value),
              "guard on a symptom or a probe, or delete the step");
        break;
      case Cond::kExpect:
        Error(DiagKind::kConstantFalse, e.span, truth == 0 ? "this expectation is always false: the step always fails"
                          : "this expectation is always unknown: it never passes",
              "compare `output` or a probe, e.g. expect output == \"PONG\"");
        break;
      case Cond::kSymptom:
        Error(DiagKind::kConstantFalse, e.span, fmt::format("this symptom is always {}: it is never observed", value),
              "read a probe, e.g. redis.ping() == false");
        break;
    }
  }

  // True when the expression's value can change over time in a way the executor records: it reads a
  // probe, a symptom or `incident`. Asks and constants have no history for `for` windows.
  bool HasHistory(const Expr& e) const {
    switch (e.kind) {
      case ExprKind::kName:    // symptoms, `incident`
      case ExprKind::kCall:    // probes, failed(step)
      case ExprKind::kMember:
        return true;
      default:
        for (const auto& k : e.kids) {
          if (HasHistory(*k)) return true;
        }
        return false;
    }
  }

  // ---- Expressions ------------------------------------------------------------------------------

  void ExpectBool(Expr& e, const Ctx& ctx, const char* what) {
    // Each condition compiles to one chunk, which the verifier caps in length.
    if (size_t n = InstructionBound(e); n > rt::kMaxChunkInstructions) {
      Error(DiagKind::kConditionTooLarge, e.span,
            fmt::format("{} compiles to up to {} instructions; one condition holds at most {}", what, n, rt::kMaxChunkInstructions),
            "split it into symptoms and combine them by name, e.g. `a or b`");
      return;
    }
    Type t = CheckExpr(e, ctx);
    if (t != Type::kBool && t != Type::kError) {
      std::string hint = IsNumeric(t) ? "compare it, e.g. `> 0`" : "";
      Error(DiagKind::kTypeMismatch, e.span, fmt::format("{} must be a bool, this is {}", what, ast::TypeName(t)),
            hint);
    }
  }

  // An upper bound on the instructions codegen emits for `e` (it emits fewer where it folds
  // constants), with the final RETURN. Walked with an explicit stack: chains can be long.
  static size_t InstructionBound(const Expr& root) {
    size_t n = 1;
    std::vector<const Expr*> todo{&root};
    while (!todo.empty()) {
      const Expr& e = *todo.back();
      todo.pop_back();
      switch (e.kind) {
        case ExprKind::kBinary:
          n += (e.op == ast::BinOp::kAnd || e.op == ast::BinOp::kOr) ? 2 : 1;  // jump and operator
          break;
        case ExprKind::kWindow:
          n += 1;
          todo.push_back(e.kids[0].get());  // the bound is an operand, not code
          continue;
        case ExprKind::kMember:
          n += 1;  // the target
          continue;
        case ExprKind::kInterp:
          n += 1 + 2 * e.kids.size();  // CONCAT; a target slot is a CONST and a TFIELD
          continue;
        case ExprKind::kNumber:
        case ExprKind::kString:
        case ExprKind::kBool:
        case ExprKind::kUnknown:
        case ExprKind::kAsk:
        case ExprKind::kName:
        case ExprKind::kList:
        case ExprKind::kNot:
        case ExprKind::kNeg:
        case ExprKind::kPipe:
        case ExprKind::kCall:
          n += 1;
          break;
      }
      for (const auto& k : e.kids) {
        if (k) todo.push_back(k.get());
      }
    }
    return n;
  }

  Type SetType(Expr& e, Type t) {
    e.type = t;
    return t;
  }

  void NoteEffect(Expr& e, Effect eff, const Ctx& ctx, ast::Span span, const std::string& what) {
    e.effect = std::max(e.effect, eff);
    if (ctx.condition && eff >= Effect::kWrite) {
      Error(DiagKind::kEffectInCondition, span,
            fmt::format("{} calls `{}`, which is {}", ctx.where, what, ast::EffectName(eff)),
            "conditions are evaluated repeatedly and in rehearsals: call only read capabilities; do the "
            "change in an `action` step");
    }
  }

  Type CheckExpr(Expr& e, const Ctx& ctx_in) {
    Ctx ctx = ctx_in;
    if (e.kind != ExprKind::kWindow && e.kind != ExprKind::kBinary) ctx.allow_window = false;
    if (e.kind == ExprKind::kBinary && e.op != ast::BinOp::kAnd && e.op != ast::BinOp::kOr) ctx.allow_window = false;
    switch (e.kind) {
      case ExprKind::kNumber: return SetType(e, e.unit);
      case ExprKind::kString: return SetType(e, Type::kString);
      case ExprKind::kBool:
      case ExprKind::kUnknown: return SetType(e, Type::kBool);
      case ExprKind::kAsk:
        if (ctx.method) {
          Error(DiagKind::kMethodBodyScope, e.span, "a method body cannot ask a question",
                "ask in the runbook that calls the method: `ask \"...\"` in a symptom or guard");
        }
        if (!e.kids.empty()) {
          CheckInterp(*e.kids[0], ctx, "an `ask` question");
          e.effect = std::max(e.effect, e.kids[0]->effect);
        }
        return SetType(e, Type::kBool);
      case ExprKind::kInterp: return SetType(e, CheckInterp(e, ctx, "a string"));
      case ExprKind::kList: {
        for (auto& k : e.kids) CheckExpr(*k, ctx);
        return SetType(e, Type::kList);
      }
      case ExprKind::kName: return SetType(e, CheckName(e, ctx));
      case ExprKind::kMember: {
        if (ctx.method) {
          Error(DiagKind::kMethodBodyScope, e.span, "a method body reads only its arguments, not members of targets",
                "call a native against the receiver instead, e.g. prom(\"...\") or redis(\"PING\")");
          return SetType(e, Type::kError);
        }
        Type t = CheckExpr(*e.kids[0], ctx);
        if (t == Type::kTarget) {
          Error(DiagKind::kUnknownMethod, e.span, fmt::format("`{}` is a method: call it", e.text),
                fmt::format("write {}()", e.text));
        } else if (t != Type::kError) {
          Error(DiagKind::kTypeMismatch, e.span, fmt::format("{} has no member `{}`", ast::TypeName(t), e.text));
        }
        return SetType(e, Type::kError);
      }
      case ExprKind::kCall: return SetType(e, CheckCall(e, ctx));
      case ExprKind::kPipe: {
        Type in = CheckExpr(*e.kids[0], ctx);
        e.effect = std::max(e.effect, e.kids[0]->effect);
        // Text filters take string or lines; the unit conversions (`seconds()`...) a plain number.
        uint16_t native = rt::FindNative(e.kids[1]->kids[0]->text);
        bool takes_num = native != rt::kNoNative && rt::Natives()[native].is_filter &&
                         rt::Natives()[native].input == rt::FilterInput::kNum;
        if (takes_num && in != Type::kError && in != Type::kNum) {
          Error(DiagKind::kTypeMismatch, e.kids[0]->span,
                fmt::format("`{}()` converts a plain number, this is {}", e.kids[1]->kids[0]->text, ast::TypeName(in)),
                in == Type::kString || in == Type::kLines ? "read the number first: `... |> number() |> ...`" : "");
        } else if (!takes_num && in != Type::kError && in != Type::kString && in != Type::kLines) {
          Error(DiagKind::kTypeMismatch, e.kids[0]->span,
                fmt::format("filters take text (string or lines), this is {}", ast::TypeName(in)));
        }
        return SetType(e, CheckFilterCall(*e.kids[1], ctx));
      }
      case ExprKind::kNot: {
        Type t = CheckExpr(*e.kids[0], ctx);
        e.effect = e.kids[0]->effect;
        if (t != Type::kError && lang::TypeOf(lang::Operator::kNot, ToValueType(t)).refusal != lang::Refusal::kNone) {
          Error(DiagKind::kTypeMismatch, e.kids[0]->span, fmt::format("`not` needs a condition, this is {}", ast::TypeName(t)));
        }
        return SetType(e, Type::kBool);
      }
      case ExprKind::kNeg: {
        Type t = CheckExpr(*e.kids[0], ctx);
        e.effect = e.kids[0]->effect;
        if (t == Type::kError) return SetType(e, t);
        lang::Typing typing = lang::TypeOf(lang::Operator::kNeg, ToValueType(t));
        if (typing.refusal != lang::Refusal::kNone) {
          Error(DiagKind::kTypeMismatch, e.span, fmt::format("cannot negate {}", ast::TypeName(t)));
          return SetType(e, Type::kError);
        }
        return SetType(e, ToAstType(typing.result));
      }
      case ExprKind::kWindow: {
        if (ctx.method) {
          Error(DiagKind::kMethodBodyScope, e.span, "a method body cannot hold a `for` window",
                "window the method's result in the runbook: | api.up() == false for > 5m | page sre |");
          return SetType(e, Type::kBool);
        }
        if (!ctx_in.allow_window && ctx_in.where == std::string("escalation condition")) {
          // In a row, but under `not` or inside an operand: `not X for > 5m` reads `not (X for > 5m)`.
          Error(DiagKind::kMisplacedWindow, e.span,
                "a `for` window must be the whole cell, or an operand of `and`/`or`: here it sits inside another operator",
                "put the condition it windows in parentheses: `(not X) for > 5m`, not `not X for > 5m`");
        } else if (!ctx_in.allow_window) {
          Error(DiagKind::kMisplacedWindow, e.span, "`for` windows are only allowed in escalation conditions",
                "move the time condition to an escalation row: | cond for > 5m | page sre |");
        }
        Ctx inner = ctx;
        inner.allow_window = false;
        Type t = CheckExpr(*e.kids[0], inner);
        e.effect = e.kids[0]->effect;
        if (t != Type::kBool && t != Type::kError) {
          Error(DiagKind::kTypeMismatch, e.kids[0]->span, fmt::format("`for` needs a condition, this is {}", ast::TypeName(t)));
        }
        const Expr& bound = *e.kids[1];
        if (bound.unit != Type::kDuration || bound.value <= 0) {
          Error(DiagKind::kBadWindow, bound.span, "the `for` window needs a positive duration", "e.g. for > 5m");
        } else if (!DurationInRange(bound, "for")) {
        } else if (t == Type::kBool && !HasHistory(*e.kids[0])) {
          Error(DiagKind::kRowNeverFires, e.span,
                "this `for` window waits on something with no history (an answer or a constant): it never fires",
                "drop the window, or window a symptom or probe");
        }
        return SetType(e, Type::kBool);
      }
      case ExprKind::kBinary: return SetType(e, CheckBinary(e, ctx));
    }
    return SetType(e, Type::kError);
  }

  // ---- Interpolated strings ---------------------------------------------------------------------

  // The fields `{target.field}` reads from a target's environment address; others are extra keys of
  // the target's entry in the environment file.
  static const std::vector<std::string>& TargetFields() {
    static const std::vector<std::string> kFields = {"host", "port", "address", "scheme", "path", "user"};
    return kFields;
  }

  // A kInterp: each slot resolves like a name in an expression and must be showable as text; a
  // secret is refused wherever the text goes (`where`: "an instruction", "a page message", ...).
  Type CheckInterp(Expr& e, const Ctx& ctx, const char* where) {
    if (e.kids.size() > 255) {  // CONCAT's count
      Error(DiagKind::kNotText, e.span,
            fmt::format("this string has {} literal and interpolated parts; one string holds at most 255", e.kids.size()),
            "split the text, or move parts of it into params");
      return Type::kString;
    }
    for (auto& part : e.kids) {
      if (part->kind == ExprKind::kString) {
        part->type = Type::kString;
        continue;
      }
      Type t = Type::kError;
      if (part->kind == ExprKind::kMember) {
        Expr& base = *part->kids[0];
        t = CheckExpr(base, ctx);
        if (t == Type::kTarget) {
          const auto& fixed = TargetFields();
          if (std::find(fixed.begin(), fixed.end(), part->text) == fixed.end()) {
            std::string hint = DidYouMean(part->text, fixed);
            if (!hint.empty()) {
              Error(DiagKind::kUnknownTargetField, part->span,
                    fmt::format("target `{}` has no field `{}`", base.text, part->text), hint);
              part->type = Type::kError;
              continue;
            }
          }
          t = Type::kString;  // an address part, or an extra key of the environment entry
        } else if (t == Type::kSecret) {
          // reported below
        } else if (t != Type::kError) {
          Error(DiagKind::kNotText, part->span,
                fmt::format("`{}` is {}: it has no field `{}`", base.text, ast::TypeName(t), part->text),
                "fields are read from targets: {primary.host}");
          t = Type::kError;
        }
      } else if (auto st = symbols_.find(part->text); !ctx.method && st != symbols_.end() && st->second.kind == SymKind::kStep) {
        Error(DiagKind::kNotText, part->span, fmt::format("`{}` is a step: it cannot be written into text", part->text),
              fmt::format("interpolate a param or a target; `failed({})` is a condition", part->text));
        t = Type::kError;
      } else {
        t = CheckExpr(*part, ctx);
      }
      part->type = t;
      e.effect = std::max(e.effect, part->effect);
      if (t == Type::kSecret) {
        std::string name = part->kind == ExprKind::kMember ? part->kids[0]->text : part->text;
        Error(DiagKind::kSecretInText, part->span,
              fmt::format("secret `{}` interpolated into {}: it would be shown in plain text", name, where),
              fmt::format("pass the secret in a command word ($ ... {{{}}}), where it shows as ***; write the text without it",
                          name));
      } else if (t == Type::kList) {
        Error(DiagKind::kNotText, part->span, fmt::format("`{}` is a list: it cannot be written into text", part->text),
              "interpolate a param, a target or one value");
      }
    }
    return Type::kString;
  }

  Type CheckName(Expr& e, const Ctx& ctx) {
    if (ctx.method) {
      for (const auto& f : ctx.method->formals) {
        if (f.name == e.text) return f.type;
      }
      std::vector<std::string> names;
      for (const auto& f : ctx.method->formals) names.push_back(f.name);
      std::string hint = DidYouMean(e.text, names);
      Error(DiagKind::kMethodBodyScope, e.span,
            fmt::format("`{}` is not an argument of `{}`: a method body reads only its formals", e.text, ctx.method->name),
            hint.empty() ? (names.empty() ? std::string("the method takes no arguments") : "its formals: " + Join(names))
                         : hint);
      return Type::kError;
    }
    if (e.text == "incident") return Type::kBool;
    if (e.text == "output") {
      if (!ctx.allow_output) {
        Error(DiagKind::kMisplacedOutput, e.span, "`output` is only defined in an `expect` after a command",
              ctx.where == std::string("expectation")
                  ? "put the `$ command` line before the `expect` in the same step"
                  : "conditions outside a step read probes (e.g. redis.ping()), not command output");
        return Type::kError;
      }
      return Type::kString;
    }
    auto it = symbols_.find(e.text);
    if (it == symbols_.end() && IsScopeName(e.text)) {
      if (!ctx.escalation) {
        Error(DiagKind::kScopeOutsideEscalation, e.span,
              fmt::format("`{}` is read by escalation rows only, not in a {}", e.text, ctx.where),
              e.text == "down" ? "name the symptoms themselves, e.g. `when ping_error`"
                               : "scope an escalation row instead: `| severity in [P1, P2] and ... | page sre |`");
        return Type::kError;
      }
      if (e.text == "down") {
        reads_down_ = true;
        return Type::kBool;
      }
      Error(DiagKind::kScopeForm, e.span, fmt::format("`{}` is compared with names", e.text),
            e.text == "severity" ? "write `severity == P1` or `severity in [P1, P2]`"
                                 : "write `owner == dba` or `owner in [sre, dba]`");
      return Type::kError;
    }
    if (it == symbols_.end()) {
      std::vector<std::string> names = Keys(symbols_);
      names.push_back("incident");
      std::string hint = DidYouMean(e.text, names);
      if (hint.empty() && caps_.count(e.text)) hint = fmt::format("declare a target: target {} = {}(\"name\")", e.text, e.text);
      Error(DiagKind::kUnknownName, e.span, fmt::format("unknown name `{}`", e.text), hint);
      return Type::kError;
    }
    switch (it->second.kind) {
      case SymKind::kSymptom: used_symptoms_.insert(e.text); return Type::kBool;
      case SymKind::kParam: return it->second.type;
      case SymKind::kTarget: return Type::kTarget;
      case SymKind::kStep:
        Error(DiagKind::kTypeMismatch, e.span, fmt::format("`{}` is a step; a condition can use `failed({})`", e.text, e.text));
        return Type::kError;
      case SymKind::kLet:
        if (ctx.filter) {
          used_lets_.insert(it->second.let);
          Error(DiagKind::kLetInFilter, e.span, fmt::format("a command's filters cannot read `{}`", e.text),
                "filters shape the output with params and literals; compare with the let in an `expect` instead");
          return Type::kError;
        }
        return UseLet(*it->second.let, e.span);
    }
    return Type::kError;
  }

  // ---- Lets and captures ------------------------------------------------------------------------

  static Symbol LetSymbol(ast::Let& l) { return Symbol{SymKind::kLet, Type::kError, nullptr, nullptr, nullptr, &l}; }

  static const char* KindWord(SymKind k) {
    switch (k) {
      case SymKind::kSymptom: return "symptom";
      case SymKind::kParam: return "param";
      case SymKind::kTarget: return "target";
      case SymKind::kStep: return "step";
      case SymKind::kLet: return "let";
    }
    return "name";
  }

  void LetClash(const std::string& name, ast::Span span, const Symbol& now, const Symbol& before) {
    if (now.let) used_lets_.insert(now.let);  // its uses read the other declaration: no RB0244 on top
    LineCol lc = mod_->source->At(decl_spans_[name].begin);
    auto what = [](const Symbol& s) {
      return s.kind == SymKind::kLet && s.let && s.let->step >= 0 ? std::string("capture") : std::string(KindWord(s.kind));
    };
    Error(DiagKind::kLetClash, span,
          fmt::format("{} `{}` clashes with the {} `{}` declared at line {}", what(now), name, what(before), name, lc.line),
          "lets, captures, params, targets, symptoms and steps share one namespace: rename the let, e.g. `" + name +
              "_value`");
  }

  // Reads let `l` at the current position: a capture must be taken before (in sequence order).
  Type UseLet(ast::Let& l, ast::Span at) {
    used_lets_.insert(&l);
    if (l.step >= 0 && pos_step_ >= 0 &&
        (l.step > pos_step_ || (l.step == pos_step_ && l.item >= pos_item_))) {
      const std::string& taker = runbook_->steps.at(static_cast<size_t>(l.step)).name;
      bool same = l.step == pos_step_;
      Error(DiagKind::kCaptureBeforeTaken, at,
            same ? fmt::format("`{}` is read before step `{}` captures it", l.name, taker)
                 : fmt::format("`{}` is captured by step `{}`, which comes later in the sequence", l.name, taker),
            same ? fmt::format("move this line after `let {} = ...`", l.name)
                 : fmt::format("move step `{}` before this step, or read the value with a probe here", taker));
      return Type::kError;
    }
    return EnsureLet(l);
  }

  // The let's type, checking its expression the first time (lets may read lets declared later).
  Type EnsureLet(ast::Let& l) {
    int& state = let_state_[&l];
    if (state == 2) return l.type;
    if (state == 1) return Type::kError;  // a cycle: CheckLetCycles reports it with the chain
    state = 1;
    int saved_step = pos_step_;
    size_t saved_item = pos_item_;
    Ctx ctx;
    ctx.condition = true;
    if (l.step >= 0) {
      pos_step_ = l.step;
      pos_item_ = l.item;
      ctx.allow_output = true;
      ctx.where = "capture";
    } else {
      pos_step_ = -1;
      ctx.where = "let";
    }
    Type t = Type::kError;
    if (size_t n = InstructionBound(*l.init); n > rt::kMaxChunkInstructions) {
      Error(DiagKind::kConditionTooLarge, l.init->span,
            fmt::format("`let {}` compiles to up to {} instructions; one expression holds at most {}", l.name, n,
                        rt::kMaxChunkInstructions),
            "split it into several lets");
    } else {
      t = CheckExpr(*l.init, ctx);
    }
    pos_step_ = saved_step;
    pos_item_ = saved_item;
    if (t == Type::kTarget || t == Type::kNone) {
      Error(DiagKind::kLetNotValue, l.init->span,
            fmt::format("`let {}` names {}, not a value", l.name, t == Type::kTarget ? "a target" : "nothing"),
            t == Type::kTarget ? "use the target by its own name; a let holds what a probe returns, e.g. "
                                 "`let up = api.ping()`"
                               : "give it an expression with a value");
      t = Type::kError;
    }
    l.type = t;
    let_state_[&l] = 2;
    return t;
  }

  void ReportUnusedLets(const std::vector<ast::Let>& lets) {
    for (const auto& l : lets) {
      if (used_lets_.count(&l)) continue;
      Error(DiagKind::kUnusedLet, l.name_span,
            fmt::format("{} `{}` is never read", l.step >= 0 ? "capture" : "let", l.name),
            l.step >= 0 ? fmt::format("read it in a later step (`expect`, `when`, or `{{{}}}` in a command), or drop it",
                                      l.name)
                        : fmt::format("use it in a symptom, guard, row or command (`{{{}}}`), or drop it", l.name));
    }
  }

  static void NameRefs(const ast::Expr& e, const std::map<std::string, size_t>& index, std::vector<size_t>& out) {
    if (e.kind == ExprKind::kName) {
      auto it = index.find(e.text);
      if (it != index.end()) out.push_back(it->second);
    }
    for (const auto& k : e.kids) NameRefs(*k, index, out);
  }

  // Lets read symptoms and lets, symptoms read lets: a cycle through a let never finishes evaluating.
  // (Cycles of symptoms alone are CheckSymptomCycles'.) Captures are fixed once taken: not nodes.
  void CheckLetCycles(const std::vector<ast::Symptom>* symptoms, const std::vector<ast::Let>& lets) {
    std::vector<std::string> names;
    std::vector<ast::Span> spans;
    std::vector<const ast::Expr*> exprs;
    std::vector<bool> is_let;
    if (symptoms) {
      for (const auto& s : *symptoms) {
        names.push_back(s.name), spans.push_back(s.name_span), exprs.push_back(s.cond.get()), is_let.push_back(false);
      }
    }
    for (const auto& l : lets) {
      if (l.step >= 0) continue;
      names.push_back(l.name), spans.push_back(l.name_span), exprs.push_back(l.init.get()), is_let.push_back(true);
    }
    std::map<std::string, size_t> index;
    for (size_t i = 0; i < names.size(); ++i) index.emplace(names[i], i);
    std::vector<std::vector<size_t>> edges(names.size());
    for (size_t i = 0; i < names.size(); ++i) NameRefs(*exprs[i], index, edges[i]);
    ForEachCycle(edges, [&](size_t i, const std::vector<size_t>& path) {
      std::string chain;
      bool through_let = false;
      for (size_t n = 0; n < path.size(); ++n) {
        chain += (n ? " → " : "") + names[path[n]];
        if (n + 1 < path.size()) through_let = through_let || is_let[path[n]];
      }
      if (through_let) {  // symptoms alone: RB0086 already
        Error(DiagKind::kLetCycle, spans[i], fmt::format("named values depend on each other: {}", chain),
              "break the cycle: let one of them read the probe directly");
      }
    });
  }

  bool CheckArgs(Expr& call, const ast::Signature& sig, size_t first, const Ctx& ctx, const std::string& what) {
    size_t given = call.kids.size() - first;
    std::vector<Type> types;
    for (size_t i = first; i < call.kids.size(); ++i) {
      types.push_back(CheckExpr(*call.kids[i], ctx));
      call.effect = std::max(call.effect, call.kids[i]->effect);
    }
    std::string sig_text;
    for (const auto& f : sig.formals) sig_text += (sig_text.empty() ? "" : ", ") + f.name + ": " + f.type_name;
    if (given != sig.formals.size()) {
      Error(DiagKind::kBadArguments, call.span,
            fmt::format("`{}` takes {} argument{}, {} given", what, sig.formals.size(), sig.formals.size() == 1 ? "" : "s",
                        given),
            fmt::format("{}({})", what, sig_text));
      return false;
    }
    bool ok = true;
    for (size_t i = 0; i < given; ++i) {
      Type want = sig.formals[i].type, got = types[i];
      if (got == Type::kError || want == Type::kError || got == want) continue;
      if (got == Type::kSecret) {
        Error(DiagKind::kSecretLeak, call.kids[first + i]->span,
              fmt::format("a secret passed as `{}` of `{}`, which is not declared secret", sig.formals[i].name, what),
              "the value would reach URLs, queries or logs; secrets go only into command words and secret parameters");
        ok = false;
        continue;
      }
      Error(DiagKind::kBadArguments, call.kids[first + i]->span,
            fmt::format("argument `{}` of `{}` expects {}, got {}", sig.formals[i].name, what,
                        sig.formals[i].type_name, ast::TypeName(got)),
            fmt::format("{}({})", what, sig_text));
      ok = false;
    }
    return ok;
  }

  Type CheckCall(Expr& e, const Ctx& ctx) {
    Expr& callee = *e.kids[0];
    if (ctx.method) {
      if (callee.kind == ExprKind::kMember) {
        for (size_t i = 1; i < e.kids.size(); ++i) CheckExpr(*e.kids[i], ctx);
        Error(DiagKind::kMethodBodyScope, e.span,
              fmt::format("a method body cannot call the method `{}`", callee.text),
              "call the natives under it directly (`runbook capabilities` lists each method's natives)");
        return Type::kError;
      }
      if (callee.kind == ExprKind::kName) {
        const std::string& fn = callee.text;
        if (fn == "bytes" || fn == "seconds" || fn == "percent" || fn == "now") return CheckClockOrUnit(e, ctx);
        return CheckNativeCall(e, ctx);
      }
    }
    if (callee.kind == ExprKind::kMember) {
      Type t = CheckExpr(*callee.kids[0], ctx);
      if (t == Type::kError) return Type::kError;
      if (t != Type::kTarget) {
        Error(DiagKind::kTypeMismatch, callee.span, fmt::format("{} has no methods", ast::TypeName(t)));
        return Type::kError;
      }
      auto sit = callee.kids[0]->kind == ExprKind::kName ? symbols_.find(callee.kids[0]->text) : symbols_.end();
      if (sit == symbols_.end()) {
        Error(DiagKind::kTypeMismatch, callee.kids[0]->span, "methods are called on a declared target",
              "declare it: target redis = redis(\"name\"), then call redis.ping()");
        return Type::kError;
      }
      const Symbol& sym = sit->second;
      if (!sym.capability) return Type::kError;  // unknown capability, already reported
      const ast::Signature* m = nullptr;
      for (const auto& s : sym.capability->methods) {
        if (s.name == callee.text) m = &s;
      }
      if (!m) {
        std::vector<std::string> names;
        for (const auto& s : sym.capability->methods) names.push_back(s.name);
        std::string hint = DidYouMean(callee.text, names);
        Error(DiagKind::kUnknownMethod, callee.span,
              fmt::format("capability `{}` has no method `{}`", sym.capability->name, callee.text),
              hint.empty() ? fmt::format("see stdlib/{}.rb.denis", cap_home_.count(sym.capability->name)
                                                                     ? cap_home_[sym.capability->name]
                                                                     : sym.capability->name)
                           : hint);
        return Type::kError;
      }
      std::string what = callee.kids[0]->text + "." + m->name;
      CheckArgs(e, *m, 1, ctx, what);
      NoteEffect(e, m->effect, ctx, e.span, what);
      return m->result;
    }
    if (callee.kind != ExprKind::kName) {
      Error(DiagKind::kTypeMismatch, callee.span, "only functions and methods can be called");
      return Type::kError;
    }
    const std::string& name = callee.text;
    if (name == "secret") {
      if (!ctx.param_default) {
        Error(DiagKind::kSecretLeak, e.span, "`secret(...)` is only allowed as a param's default",
              "bind it once: param pass = secret(\"NAME\"), then pass {pass} or pass");
      }
      if (e.kids.size() != 2 || e.kids[1]->kind != ExprKind::kString || e.kids[1]->text.empty()) {
        Error(DiagKind::kBadArguments, e.span, "`secret` takes the secret's name as a quoted string",
              "secret(\"NEO4J_PASSWORD\")");
      }
      return Type::kSecret;
    }
    if (name == "failed") {
      if (e.kids.size() != 2 || e.kids[1]->kind != ExprKind::kName) {
        Error(DiagKind::kBadArguments, e.span, "`failed` takes a step name", "failed(reconnect)");
        return Type::kBool;
      }
      auto it = symbols_.find(e.kids[1]->text);
      if (it == symbols_.end() || it->second.kind != SymKind::kStep) {
        Error(DiagKind::kUnknownStep, e.kids[1]->span, fmt::format("`{}` is not a step of this runbook", e.kids[1]->text),
              DidYouMean(e.kids[1]->text, StepNames()));
      }
      return Type::kBool;
    }
    if (name == "now" || name == "bytes" || name == "seconds" || name == "percent") return CheckClockOrUnit(e, ctx);
    if (caps_.count(name)) {
      if (!ctx.target_init) {
        Error(DiagKind::kTypeMismatch, e.span, fmt::format("`{}(...)` creates a target; declare it once", name),
              fmt::format("target {} = {}(\"name\") and call its methods", name, name));
      }
      return Type::kTarget;
    }
    if (filters_.count(name)) {
      Error(DiagKind::kUnknownFilter, callee.span, fmt::format("filter `{}` is used after `|>`", name),
            fmt::format("TEXT |> {}(...)", name));
      return Type::kError;
    }
    if (cap_home_.count(name)) {
      Error(DiagKind::kUnknownCapability, callee.span, fmt::format("capability `{}` is not imported", name),
            fmt::format("add `import std.{}`", cap_home_[name]));
      return Type::kError;
    }
    Error(DiagKind::kUnknownName, callee.span, fmt::format("unknown function `{}`", name),
          "functions: secret(\"NAME\"), failed(step), now(), bytes(n), seconds(n), percent(n); methods are "
          "called on targets: redis.ping()");
    return Type::kError;
  }

  Type CheckFilterCall(Expr& call, const Ctx& ctx) {
    const std::string& name = call.kids[0]->text;
    auto it = filters_.find(name);
    if (it == filters_.end()) {
      Error(DiagKind::kUnknownFilter, call.kids[0]->span, fmt::format("unknown filter `{}`", name),
            DidYouMean(name, Keys(filters_)).empty() ? "filters: " + Join(Keys(filters_))
                                                     : DidYouMean(name, Keys(filters_)));
      for (size_t i = 1; i < call.kids.size(); ++i) CheckExpr(*call.kids[i], ctx);
      return SetType(call, Type::kError);
    }
    CheckArgs(call, *it->second, 1, ctx, name);
    if ((name == "grep" || name == "grep_i" || name == "grep_after") && call.kids.size() > 1) {
      CheckPattern(*call.kids[1], name == "grep_i");
    }
    return SetType(call, it->second->result);
  }

  // `now()`, and `bytes(n)`, `seconds(n)`, `percent(n)`: a plain number given a unit.
  Type CheckClockOrUnit(Expr& e, const Ctx& ctx) {
    const std::string& name = e.kids[0]->text;
    if (name == "now") {
      if (e.kids.size() != 1) {
        Error(DiagKind::kBadArguments, e.span, "`now()` takes no arguments", "now() - 1h, cert_expiry() - now() < 14d");
      }
      for (size_t i = 1; i < e.kids.size(); ++i) CheckExpr(*e.kids[i], ctx);
      if (!ctx.condition) {
        Error(DiagKind::kClockOutsideCondition, e.span, fmt::format("`now()` in a {} reads no clock", ctx.where),
              "use now() in a condition: a symptom, guard, expectation, panel or escalation row");
      }
      return Type::kTime;
    }
    Type unit = name == "bytes" ? Type::kSize : name == "seconds" ? Type::kDuration : Type::kPercent;
    const char* example = name == "bytes" ? "bytes(http.metric(\"rss_bytes\")) > 1GB"
                          : name == "seconds" ? "seconds(http.metric(\"lag_seconds\")) > 30s"
                                              : "percent(http.metric(\"used_ratio\") * 100) > 80%";
    if (e.kids.size() != 2) {
      for (size_t i = 1; i < e.kids.size(); ++i) CheckExpr(*e.kids[i], ctx);
      Error(DiagKind::kBadArguments, e.span, fmt::format("`{}` takes one plain number", name), example);
      return unit;
    }
    Type t = CheckExpr(*e.kids[1], ctx);
    e.effect = std::max(e.effect, e.kids[1]->effect);
    if (t == Type::kSecret) {
      Error(DiagKind::kSecretLeak, e.kids[1]->span, fmt::format("a secret passed to `{}`", name),
            "secrets go only into command words and secret parameters");
    } else if (t != Type::kError && t != Type::kNum) {
      Error(DiagKind::kBadArguments, e.kids[1]->span,
            fmt::format("`{}` converts a plain number, this is {}", name, ast::TypeName(t)),
            t == unit ? fmt::format("it is already a {}: drop `{}(...)`", ast::TypeName(t), name) : example);
    }
    return unit;
  }

  // A constant regex (the argument of grep/grep_i/grep_after, the right side of `matches`) compiles
  // now with the engine the runtime matches with; an error points at the offending character.
  void CheckPattern(const Expr& lit, bool icase) {
    if (lit.kind != ExprKind::kString) return;
    std::string why;
    size_t at = 0;
    if (lang::Regex::Compile(lit.text, icase, why, at)) return;
    uint32_t pos = LiteralOffset(lit, at);
    Error(DiagKind::kInvalidRegex, ast::Span{pos, pos + 1}, fmt::format("invalid regex `{}`: {}", lit.text, why),
          RegexHint(why));
  }

  static std::string RegexHint(const std::string& why) {
    if (why.find("`]`") != std::string::npos) return "close the class, e.g. [a-z]; a literal `[` is written \\[";
    if (why.find("`)`") != std::string::npos) return "balance the group; a literal parenthesis is written \\( or \\)";
    if (why.find("nothing to repeat") != std::string::npos) return "put the quantifier after something to repeat; a literal one is written \\*, \\+, \\?";
    if (why.find("escape") != std::string::npos) return "escapes: \\d \\w \\s (and upper case), \\n \\t, or a backslash before punctuation";
    return "patterns are extended regular expressions (grep -E): . [a-z] ( | ) * + ? {n,m} ^ $";
  }

  // The source offset of byte `index` of a string literal's decoded text: every escape of a "..."
  // literal is two bytes of source for one byte of text; a '...' literal has none.
  uint32_t LiteralOffset(const Expr& lit, size_t index) const {
    std::string_view src = mod_->source->text();
    uint32_t pos = lit.span.begin + 1;
    bool dq = lit.span.begin < src.size() && src[lit.span.begin] == '"';
    for (size_t k = 0; k < index && pos + 1 < lit.span.end; ++k) pos += dq && src[pos] == '\\' ? 2 : 1;
    return std::min(pos, lit.span.end > 0 ? lit.span.end - 1 : 0);
  }

  // RB0089: `a or b and c` reads as `a or (b and c)`; a reader (and the redis_down restart guard's
  // author) may have meant `(a or b) and c`. Called on an `or` before its operands are checked, so
  // the outermost `or` of a chain reports once, showing the chain with the parentheses the parser used.
  void CheckMixedAndOr(const Expr& top) {
    auto bare = [](const Expr& x, ast::BinOp op) {
      return x.kind == ExprKind::kBinary && x.op == op && !x.parenthesised;
    };
    if (!mixed_seen_.insert(&top).second) return;
    std::vector<const Expr*> operands;  // the chain's operands, right to left
    const Expr* cur = &top;  // an `or`, parenthesised or not; the chain goes on through bare `or`s
    for (;;) {
      operands.push_back(cur->kids[1].get());
      cur = cur->kids[0].get();
      if (!bare(*cur, ast::BinOp::kOr)) break;
      mixed_seen_.insert(cur);
    }
    operands.push_back(cur);
    std::vector<const Expr*> ands;
    for (auto it = operands.rbegin(); it != operands.rend(); ++it) {
      if (bare(**it, ast::BinOp::kAnd)) ands.push_back(*it);
    }
    if (ands.empty()) return;
    const Expr* first_and = ands.front();
    while (bare(*first_and->kids[0], ast::BinOp::kAnd)) first_and = first_and->kids[0].get();
    std::string_view src = mod_->source->text();
    std::string fixed;
    size_t at = top.span.begin;
    if (top.parenthesised) ++at;  // the span covers the parentheses around the chain
    size_t end = top.parenthesised ? top.span.end - 1 : top.span.end;
    if (at >= end || end > src.size()) return;
    for (const Expr* a : ands) {
      if (a->span.begin < at || a->span.end > end || a->span.begin > a->span.end) return;
      fixed += src.substr(at, a->span.begin - at);
      fixed += "(";
      fixed += src.substr(a->span.begin, a->span.end - a->span.begin);
      fixed += ")";
      at = a->span.end;
    }
    fixed += src.substr(at, end - at);
    fixed = lang::CollapseBlanks(fixed);
    while (!fixed.empty() && fixed.front() == ' ') fixed.erase(0, 1);
    while (!fixed.empty() && fixed.back() == ' ') fixed.pop_back();
    if (fixed.size() > 100) fixed = fixed.substr(0, 97) + "...";
    Error(DiagKind::kMixedAndOr, first_and->op_span, "`and` and `or` mixed without parentheses: `and` binds first",
          fmt::format("write {} if that is what you mean", fixed));
  }

  static bool IsScopeName(const std::string& n) { return n == "severity" || n == "owner" || n == "down"; }

  // `severity == P1` / `owner != dba` (and `in [...]`, spelled out by the parser as `==` ... `or`):
  // the right side is a severity or a contact name, compiled as a string constant.
  Type CheckScope(Expr& e, const Ctx& ctx) {
    Expr& lhs = *e.kids[0];
    Expr& rhs = *e.kids[1];
    if (!ctx.escalation) {
      Error(DiagKind::kScopeOutsideEscalation, lhs.span,
            fmt::format("`{}` is read by escalation rows only, not in a {}", lhs.text, ctx.where),
            "scope an escalation row instead: `| severity in [P1, P2] and ... | page sre |`");
      return Type::kError;
    }
    bool sev = lhs.text == "severity";
    if (e.op != ast::BinOp::kEq && e.op != ast::BinOp::kNe) {
      Error(DiagKind::kScopeForm, e.op_span, fmt::format("`{}` is compared with `==`, `!=` or `in`", lhs.text),
            sev ? "severities are names, not ranks: write `severity in [P1, P2]`" : "write `owner in [sre, dba]`");
      return Type::kError;
    }
    if (rhs.kind != ExprKind::kName && rhs.kind != ExprKind::kString) {
      Error(DiagKind::kScopeForm, rhs.span, fmt::format("`{}` is compared with a name", lhs.text),
            sev ? "e.g. `severity == P1`" : "e.g. `owner == dba`");
      return Type::kError;
    }
    lhs.type = Type::kString;
    if (sev) {
      if (!ValidSeverity(rhs.text)) {
        std::string hint = DidYouMean(rhs.text, {"P1", "P2", "P3", "P4"});
        Error(DiagKind::kUnknownScopeName, rhs.span, fmt::format("`{}` is not a severity", rhs.text),
              hint.empty() ? "severities: P1, P2, P3, P4" : hint);
        return Type::kError;
      }
    } else if (!contacts_.count(rhs.text)) {
      std::string hint = DidYouMean(rhs.text, Keys(contacts_));
      Error(DiagKind::kUnknownScopeName, rhs.span, fmt::format("`{}` is not a contact", rhs.text),
            hint.empty() ? (contacts_.empty() ? std::string("no policy with contacts is imported")
                                              : "contacts: " + Join(Keys(contacts_)))
                         : hint);
      return Type::kError;
    }
    rhs.kind = ExprKind::kString;  // codegen: CONST "P1"
    rhs.type = Type::kString;
    return Type::kBool;
  }

  Type CheckBinary(Expr& e, const Ctx& ctx) {
    if (e.op == ast::BinOp::kOr) CheckMixedAndOr(e);
    if (e.kids[0]->kind == ExprKind::kName && (e.kids[0]->text == "severity" || e.kids[0]->text == "owner") &&
        !symbols_.count(e.kids[0]->text) && !ctx.method) {
      return CheckScope(e, ctx);
    }
    Type a = CheckExpr(*e.kids[0], ctx);
    Type b = CheckExpr(*e.kids[1], ctx);
    e.effect = std::max(e.kids[0]->effect, e.kids[1]->effect);
    using ast::BinOp;
    if (a == Type::kError || b == Type::kError) {
      return e.op == BinOp::kAdd || e.op == BinOp::kSub || e.op == BinOp::kMul || e.op == BinOp::kDiv ? Type::kError
                                                                                                       : Type::kBool;
    }
    if (a == Type::kSecret || b == Type::kSecret) {
      Error(DiagKind::kSecretLeak, e.span, fmt::format("a secret cannot be used with `{}`", ast::BinOpText(e.op)),
            "secrets can only be passed to commands ({name}) and capabilities");
      return Type::kError;
    }
    lang::Operator op = ToOperator(e.op);
    lang::Typing typing = lang::TypeOf(op, ToValueType(a), ToValueType(b));
    if (e.op == BinOp::kMatches) CheckPattern(*e.kids[1], false);
    if (typing.refusal != lang::Refusal::kNone && lang::Info(op).cls == lang::OpClass::kText) {
      Error(DiagKind::kTypeMismatch, e.span,
            fmt::format("`{}` tests text against a string, got {} and {}", ast::BinOpText(e.op), ast::TypeName(a),
                        ast::TypeName(b)),
            e.op == BinOp::kContains ? "e.g. output contains \"True\"" : "e.g. output matches \"^ok [0-9]+$\"");
      return Type::kBool;
    }
    if (typing.refusal != lang::Refusal::kNone && (a == Type::kTime || b == Type::kTime)) {
      Error(DiagKind::kTypeMismatch, e.span,
            fmt::format("cannot use {} and {} with `{}`", ast::TypeName(a), ast::TypeName(b), ast::BinOpText(e.op)),
            "a time takes `time - time` (a duration), `time + duration`, `time - duration` and comparisons with "
            "another time, e.g. (output |> time()) - now() < 14d");
      return typing.result == lang::ValueType::kBool ? Type::kBool : Type::kError;
    }
    switch (typing.refusal) {
      case lang::Refusal::kNone: return ToAstType(typing.result);
      case lang::Refusal::kSecret:  // reported above
      case lang::Refusal::kNotCondition:
        for (int i = 0; i < 2; ++i) {
          Type t = i == 0 ? a : b;
          if (i == 0 ? typing.left_bad : typing.right_bad) {
            Error(DiagKind::kTypeMismatch, e.kids[i]->span,
                  fmt::format("`{}` needs conditions on both sides, this is {}", ast::BinOpText(e.op), ast::TypeName(t)),
                  IsNumeric(t) ? "compare it, e.g. `> 0`" : "");
          }
        }
        break;
      case lang::Refusal::kUnitMismatch:
      case lang::Refusal::kTypeMismatch: {
        lang::OpClass cls = lang::Info(op).cls;
        bool comparison = cls == lang::OpClass::kEquality || cls == lang::OpClass::kOrdering;
        bool units = typing.refusal == lang::Refusal::kUnitMismatch;
        if (units && (a == Type::kNum) != (b == Type::kNum)) {
          // A plain number (a metric, a count) against a quantity: convert the number.
          size_t plain = a == Type::kNum ? 0 : 1;
          Type unit = a == Type::kNum ? b : a;
          const char* fn = unit == Type::kSize ? "bytes" : unit == Type::kDuration ? "seconds" : "percent";
          std::string left = SourceOf(e.kids[0]->span), right = SourceOf(e.kids[1]->span);
          std::string fixed = plain == 0 ? fmt::format("{}({}) {} {}", fn, left, ast::BinOpText(e.op), right)
                                         : fmt::format("{} {} {}({})", left, ast::BinOpText(e.op), fn, right);
          std::string verb = comparison ? "compares" : e.op == BinOp::kAdd ? "adds" : e.op == BinOp::kSub ? "subtracts"
                             : e.op == BinOp::kMul ? "multiplies" : "divides";
          Error(DiagKind::kUnitMismatch, e.span,
                fmt::format("`{} {} {}` {} {} with {}", left, ast::BinOpText(e.op), right, verb, ast::TypeName(a),
                            ast::TypeName(b)),
                fmt::format("write `{}`{}", fixed, unit == Type::kDuration ? " (seconds(n) reads n as seconds)" : ""));
        } else if (comparison && units) {
          Error(DiagKind::kUnitMismatch, e.span,
                fmt::format("cannot compare {} with {}", ast::TypeName(a), ast::TypeName(b)), UnitHint(a));
        } else if (comparison) {
          Error(DiagKind::kTypeMismatch, e.span,
                fmt::format("cannot compare {} with {} using `{}`", ast::TypeName(a), ast::TypeName(b),
                            ast::BinOpText(e.op)));
        } else if (units) {
          bool additive = cls == lang::OpClass::kAdditive;
          Error(DiagKind::kUnitMismatch, e.span,
                fmt::format("cannot {} {} and {}", e.op == BinOp::kAdd ? "add" : e.op == BinOp::kSub ? "subtract"
                                                   : e.op == BinOp::kMul ? "multiply" : "divide",
                            ast::TypeName(a), ast::TypeName(b)),
                additive ? fmt::format("both sides of `{}` need the same unit", ast::BinOpText(e.op))
                         : "multiply or divide a unit by a plain number, e.g. 2 * 5m");
        } else {
          Error(DiagKind::kTypeMismatch, e.span,
                fmt::format("`{}` needs numbers, got {} and {}", ast::BinOpText(e.op), ast::TypeName(a), ast::TypeName(b)));
        }
        break;
      }
    }
    return typing.result == lang::ValueType::kBool ? Type::kBool : Type::kError;
  }

  // An expression's source text, blanks collapsed, for hints that rewrite it.
  std::string SourceOf(ast::Span span) const {
    std::string_view src = mod_->source->text();
    if (span.begin >= span.end || span.end > src.size()) return "...";
    std::string out = lang::CollapseBlanks(src.substr(span.begin, span.end - span.begin));
    return out.size() > 60 ? out.substr(0, 57) + "..." : out;
  }

  static std::string UnitHint(Type left) {
    switch (left) {
      case Type::kDuration: return "the left side is a duration: compare with e.g. 5m or 30s";
      case Type::kPercent: return "the left side is a percentage: compare with e.g. 80%";
      case Type::kSize: return "the left side is a size: compare with e.g. 1GB";
      case Type::kNum: return "the left side is a plain count: compare with a number without unit";
      default: return {};
    }
  }

  template <typename M>
  static std::vector<std::string> Keys(const M& m) {
    std::vector<std::string> v;
    for (const auto& kv : m) v.push_back(kv.first);
    return v;
  }
  static std::string Join(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
    return s;
  }

  Workspace& ws_;
  Diagnostics& diags_;
  Module* mod_ = nullptr;
  const ast::Runbook* runbook_ = nullptr;
  std::set<const Module*> checked_;
  std::set<const Expr*> mixed_seen_;  // `or` nodes already looked at by CheckMixedAndOr
  std::set<const Module*> sigs_resolved_;
  std::map<std::string, std::string> cap_home_, program_home_;  // name → stdlib module
  std::map<std::string, const ast::Capability*> caps_;
  std::map<std::string, const ast::Program*> programs_;
  ProgramTables tables_;  // every program's merged table (compiler/modules.hpp)
  std::map<std::string, std::string> program_where_;
  std::map<const ast::Program*, rt::ProgramDecl> program_decls_;  // name → file:line of its declaration
  std::map<std::string, const ast::Signature*> filters_;
  std::map<const Module*, rt::Registry> command_tables_;  // per module: the tables of CommandTables()
  Effect worst_effect_ = Effect::kPure;  // the method body being checked: its most dangerous call
  std::string body_worst_;               // and what that call is, for the message
  std::map<std::string, const ast::Contact*> contacts_;
  std::map<std::string, Symbol> symbols_;
  std::map<std::string, ast::Span> decl_spans_;
  std::set<std::string> used_symptoms_;
  bool reads_down_ = false;  // the row being checked reads `down`
  std::set<const ast::Let*> used_lets_;
  std::map<const ast::Let*, int> let_state_;  // 1 being checked, 2 done
  std::vector<ast::Let>* lets_ = nullptr;  // the runbook's lets and captures
  int pos_step_ = -1;    // the step being checked (captures must be taken before they are read)
  size_t pos_item_ = 0;  // the item of that step being checked (a guard: 0)
};

}  // namespace

void Check(Workspace& ws, Diagnostics& diags) { Checker(ws, diags).Run(); }

}  // namespace rb
