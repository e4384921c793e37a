#include "compiler/modules.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <sstream>

#include "compiler/codegen.hpp"
#include "compiler/lint.hpp"
#include "compiler/parser.hpp"
#include "runtime/files.hpp"

namespace rb {

namespace fs = std::filesystem;

bool IsTeamModule(const Module& m) { return !m.is_stdlib && m.file.runbooks.empty(); }

namespace {

std::string LowerWords(const std::vector<std::string>& words) {
  std::string k;
  for (const auto& w : words) k += (k.empty() ? "" : " ") + rt::LowerAscii(w);
  return k;
}

std::string Where(const Module& m, ast::Span span) {
  return fmt::format("{}:{}", m.source->path(), m.source->At(span.begin).line);
}

// The merge of one program's declarations, with where each part came from (for messages).
struct Merging {
  rt::ProgramDecl decl;
  std::string where;                                          // the first declaration
  std::map<std::string, std::string> rule_where;              // lower-cased words → file:line
  std::map<std::string, std::string> option_where;            // option spelling → file:line
  std::string default_where;
};

class Merger {
 public:
  explicit Merger(Diagnostics* diags) : diags_(diags) {}

  void Add(const Module& m, const ast::Program& p) {
    auto it = merging_.find(p.name);
    if (it == merging_.end()) {
      Fresh(m, p);
    } else {
      Extend(m, p, it->second);
    }
  }

  ProgramTables Done() {
    ProgramTables t;
    for (auto& [name, mg] : merging_) {
      mg.decl.prepared.reset();
      mg.decl.Prepare();
      t.where[name] = mg.where;
      t.decls.emplace(name, std::move(mg.decl));
    }
    return t;
  }

 private:
  void Report(DiagKind kind, const Module& m, ast::Span span, std::string message, std::string hint) {
    if (diags_) diags_->Add(kind, m.source, span, std::move(message), std::move(hint));
  }

  void Fresh(const Module& m, const ast::Program& p) {
    Merging mg;
    mg.where = Where(m, p.name_span);
    mg.decl.name = p.name;
    mg.decl.default_effect = p.default_effect;
    if (p.default_effect) mg.default_where = mg.where;
    for (const auto& o : p.options) {
      mg.decl.options.push_back(rt::ProgramOption{o.names, o.value, o.secret});
      for (const auto& n : o.names) mg.option_where.emplace(n, Where(m, o.span));
    }
    for (const auto& r : p.rules) {
      if (r.lowered) {
        Report(DiagKind::kModuleLowerNothing, m, r.span,
               fmt::format("`lower {} {}`: no earlier declaration of `{}` to lower", rt::EffectName(r.effect),
                           fmt::join(r.words, " "), p.name),
               fmt::format("`{}` is first declared here: drop `lower`", p.name));
      }
      mg.decl.rules.push_back(rt::ProgramRule{r.effect, r.words});
      mg.rule_where.emplace(LowerWords(r.words), Where(m, r.span));
    }
    for (const auto& w : p.wraps) mg.decl.wraps.push_back(rt::ProgramWrap{w.words});
    merging_.emplace(p.name, std::move(mg));
  }

  void Extend(const Module& m, const ast::Program& p, Merging& mg) {
    rt::ProgramDecl& d = mg.decl;
    for (const auto& w : p.wraps) {  // a wrapper the base does not declare (the same words again: kept once)
      bool known = false;
      for (const auto& bw : d.wraps) known = known || LowerWords(bw.words) == LowerWords(w.words);
      if (!known) d.wraps.push_back(rt::ProgramWrap{w.words});
    }
    for (const auto& o : p.options) {
      rt::ProgramOption* same = nullptr;
      bool clash = false;
      for (const auto& n : o.names) {
        for (auto& bo : d.options) {
          if (std::find(bo.names.begin(), bo.names.end(), n) == bo.names.end()) continue;
          if (bo.TakesValue() != !o.value.empty() || bo.secret != o.secret) {
            clash = true;
            auto w = mg.option_where.find(n);
            Report(DiagKind::kModuleOptionClash, m, o.span,
                   fmt::format("option `{}` of `{}` {}, but {} declares it {}", n, p.name,
                               o.value.empty() ? "takes no value here" : "takes a value here",
                               w == mg.option_where.end() ? mg.where : w->second,
                               bo.TakesValue() ? fmt::format("with a value ({})", bo.value) : std::string("without a value")),
                   bo.TakesValue() ? fmt::format("write `{} {}`{}, or leave it out: it is inherited", n, bo.value,
                                                 bo.secret ? " under `secret`" : "")
                                   : fmt::format("write `{}`{}, or leave it out: it is inherited", n,
                                                 bo.secret ? " under `secret`" : ""));
          } else {
            same = &bo;
          }
        }
      }
      if (clash) continue;
      if (same) {  // further spellings of an option already declared
        for (const auto& n : o.names) {
          if (std::find(same->names.begin(), same->names.end(), n) == same->names.end()) {
            same->names.push_back(n);
            mg.option_where.emplace(n, Where(m, o.span));
          }
        }
      } else {
        d.options.push_back(rt::ProgramOption{o.names, o.value, o.secret});
        for (const auto& n : o.names) mg.option_where.emplace(n, Where(m, o.span));
      }
    }
    if (p.default_effect) {
      if (!d.default_effect || *p.default_effect > *d.default_effect) {
        d.default_effect = p.default_effect;  // a default where none was, or a raised one
        mg.default_where = Where(m, p.span);
      } else if (*p.default_effect < *d.default_effect) {
        Report(DiagKind::kModuleLowersEffect, m, p.name_span,
               fmt::format("`default {}` lowers `{}`'s default, which {} declares {}", rt::EffectName(*p.default_effect),
                           p.name, mg.default_where, rt::EffectName(*d.default_effect)),
               "a default cannot be lowered: declare the sub-commands you mean with their effects, e.g. `read status`");
      }
    }
    for (const auto& r : p.rules) {
      std::string key = LowerWords(r.words);
      std::vector<rt::ProgramRule*> base;
      for (auto& br : d.rules) {
        if (LowerWords(br.words) == key) base.push_back(&br);
      }
      std::string text = fmt::format("{} {}", p.name, fmt::join(r.words, " "));
      auto bw = mg.rule_where.find(key);
      std::string base_where = bw == mg.rule_where.end() ? mg.where : bw->second;
      if (base.empty()) {
        if (r.lowered) {
          Report(DiagKind::kModuleLowerNothing, m, r.span,
                 fmt::format("`lower`: no earlier rule of `{}` is `{}` ({} declares the program)", p.name,
                             fmt::join(r.words, " "), mg.where),
                 "a new sub-command needs no `lower`: write it with its effect, e.g. `write cordon`");
          continue;
        }
        d.rules.push_back(rt::ProgramRule{r.effect, r.words});
        mg.rule_where.emplace(key, Where(m, r.span));
        continue;
      }
      rt::Effect was = rt::Effect::kPure;
      for (const auto* b : base) was = std::max(was, b->effect);
      if (r.effect > was) {  // raised: stricter, silently
        for (auto* b : base) b->effect = r.effect;
        mg.rule_where[key] = Where(m, r.span);
        if (r.lowered) {
          Report(DiagKind::kModuleLowerNothing, m, r.span,
                 fmt::format("`lower {}` raises `{}`: {} declares it {}", rt::EffectName(r.effect), text, base_where,
                             rt::EffectName(was)),
                 "raising an effect needs no keyword: drop `lower`");
        }
        continue;
      }
      if (r.effect == was) {
        if (r.lowered) {
          Report(DiagKind::kModuleLowerNothing, m, r.span,
                 fmt::format("`lower {}` does not lower `{}`: {} already declares it {}", rt::EffectName(r.effect), text,
                             base_where, rt::EffectName(was)),
                 "drop the rule, or name the effect you mean");
        }
        continue;
      }
      if (!r.lowered) {
        Report(DiagKind::kModuleLowersEffect, m, r.span,
               fmt::format("`{} {}` lowers `{}`, which {} declares {}", rt::EffectName(r.effect), fmt::join(r.words, " "),
                           text, base_where, rt::EffectName(was)),
               fmt::format("to lower it on purpose write `lower {} {}` (lint and plan then show it as a note); "
                           "otherwise drop the rule",
                           rt::EffectName(r.effect), fmt::join(r.words, " ")));
        continue;
      }
      for (auto* b : base) b->effect = r.effect;
      std::string by = Where(m, r.span);
      // Keyed as the matcher names the rule that decided (CommandMatch::rule): the earlier spelling.
      d.notes[fmt::format("{} {}", p.name, fmt::join(base.front()->words, " "))] = fmt::format("lowered from {} to {} by {} ({} declares {})", rt::EffectName(was),
                                  rt::EffectName(r.effect), by, base_where, rt::EffectName(was));
      Report(DiagKind::kModuleLowered, m, r.span,
             fmt::format("`{}` is lowered from {} to {} for every runbook compiled with this module", text,
                         rt::EffectName(was), rt::EffectName(r.effect)),
             fmt::format("{} declares it {}; `runbook plan` shows the lowering on each such command", base_where,
                         rt::EffectName(was)));
      mg.rule_where[key] = by;
    }
  }

  Diagnostics* diags_;
  std::map<std::string, Merging> merging_;
};

}  // namespace

ProgramTables MergeProgramTables(const std::vector<const Module*>& modules, Diagnostics* diags) {
  Merger merger(diags);
  for (const Module* m : modules) {
    if (!m->is_stdlib && !IsTeamModule(*m)) continue;
    std::set<std::string> seen;  // a second declaration in the same module is a duplicate (the checker says so)
    for (const auto& p : m->file.programs) {
      if (seen.insert(p.name).second) merger.Add(*m, p);
    }
  }
  return merger.Done();
}

std::vector<const Module*> MergeOrder(const Workspace& ws) {
  std::vector<const Module*> order;
  for (const auto& m : ws.modules()) {
    if (m->is_stdlib) order.push_back(m.get());
  }
  // The stdlib in a fixed order whatever loaded it first: by name.
  std::sort(order.begin(), order.end(), [](const Module* a, const Module* b) { return a->key < b->key; });
  for (const auto& m : ws.modules()) {
    if (IsTeamModule(*m)) order.push_back(m.get());
  }
  return order;
}

void LoadSearchPathModules(Workspace& ws, const std::vector<std::string>& search_path) {
  std::set<std::string> module_paths;  // relative to their search directory: the first directory wins
  for (const auto& dir : search_path) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) continue;
    std::vector<std::string> io_errors;
    for (const auto& file : FilesUnder(dir, ".rb.denis", io_errors)) {
      std::string rel = fs::path(file).lexically_relative(dir).generic_string();
      if (!module_paths.insert(rel).second) continue;
      std::string text, error;
      if (rt::ReadRegularFile(file, kMaxFileBytes, text, error) != rt::FileRead::kOk) continue;
      ws.AddText(file, std::move(text));
    }
  }
  ws.ResolveImports();
}

std::vector<std::string> ModuleSearchPath(const std::vector<std::string>& flag_dirs,
                                          const std::vector<std::string>& env_modules) {
  std::vector<std::string> out = flag_dirs;
  if (const char* env = std::getenv("RUNBOOK_PATH"); env && *env) {
    std::stringstream ss(env);
    for (std::string dir; std::getline(ss, dir, ':');) {
      if (!dir.empty()) out.push_back(dir);
    }
  }
  for (const auto& d : env_modules) out.push_back(d);
  return out;
}

}  // namespace rb
