#include "compiler/lint.hpp"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>

#include <map>
#include <memory>

#include "compiler/checker.hpp"
#include "compiler/codegen.hpp"
#include "compiler/workspace.hpp"
#include "runtime/config.hpp"
#include "runtime/executor.hpp"
#include "runtime/files.hpp"
#include "runtime/yaml_reader.hpp"

namespace rb {

namespace fs = std::filesystem;

namespace {

// Why `path` cannot be followed, or "" when stat succeeds (then `st` is the file it leads to).
std::string Unfollowable(const fs::path& path, struct stat& st) {
  if (stat(path.c_str(), &st) == 0) return {};
  int err = errno;
  struct stat lst {};
  if (err == ELOOP) return "symlink loop: it never resolves to a file; fix or delete the link";
  if (lstat(path.c_str(), &lst) == 0 && S_ISLNK(lst.st_mode)) {
    std::error_code ec;
    fs::path target = fs::read_symlink(path, ec);
    return fmt::format("dangling symlink to {}: fix or delete the link", ec ? std::string("a missing file") : target.string());
  }
  return err == ENOENT ? "no such file or directory" : std::strerror(err);
}

bool HasSuffix(const std::string& name, const std::string& suffix) {
  return name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

std::vector<std::string> FilesUnder(const std::string& dir, const std::string& suffix,
                                    std::vector<std::string>& io_errors) {
  return FilesUnder(
      dir, [&](const std::string& path) { return HasSuffix(fs::path(path).filename().string(), suffix); }, io_errors);
}

std::vector<std::string> FilesUnder(const std::string& dir, const std::function<bool(const std::string&)>& match,
                                    std::vector<std::string>& io_errors) {
  std::vector<std::string> found;
  // Every directory walked, with the index of the one it was reached from: a directory reached
  // again through a symlink is walked once, and one that leads back to its own ancestor is a loop.
  struct Dir {
    fs::path path;
    dev_t dev;
    ino_t ino;
    size_t parent;
  };
  constexpr size_t kRoot = static_cast<size_t>(-1);
  std::vector<Dir> dirs;
  std::set<std::pair<dev_t, ino_t>> seen;
  struct stat st {};
  if (std::string why = Unfollowable(dir, st); !why.empty()) {
    io_errors.push_back(fmt::format("cannot read directory {}: {}", dir, why));
    return found;
  }
  dirs.push_back(Dir{fs::path(dir), st.st_dev, st.st_ino, kRoot});
  seen.insert({st.st_dev, st.st_ino});
  // Depth first through an explicit stack (no recursion), children in name order.
  std::vector<size_t> pending{0};
  while (!pending.empty()) {
    size_t at = pending.back();
    pending.pop_back();
    std::error_code ec;
    std::vector<fs::path> entries;
    for (fs::directory_iterator it(dirs[at].path, fs::directory_options::skip_permission_denied, ec), end;
         !ec && it != end; it.increment(ec)) {
      entries.push_back(it->path());
    }
    if (ec) {
      io_errors.push_back(fmt::format("cannot read directory {}: {}", dirs[at].path.string(), ec.message()));
      continue;
    }
    std::sort(entries.begin(), entries.end());
    std::vector<size_t> children;
    for (const fs::path& e : entries) {
      std::string name = e.filename().string();
      std::string shown = e.lexically_normal().string();
      if (std::string why = Unfollowable(e, st); !why.empty()) {
        io_errors.push_back(fmt::format("{}: {}", shown, why));
        continue;
      }
      if (S_ISDIR(st.st_mode)) {
        if (!name.empty() && name[0] == '.') continue;  // hidden directories (.git, .runbook)
        size_t back = at;
        while (back != kRoot && !(dirs[back].dev == st.st_dev && dirs[back].ino == st.st_ino)) back = dirs[back].parent;
        if (back != kRoot) {
          io_errors.push_back(fmt::format("{}: symlink loop: it leads back to {}; delete the link or point it elsewhere",
                                          shown, dirs[back].path.lexically_normal().string()));
          continue;
        }
        if (!seen.insert({st.st_dev, st.st_ino}).second) continue;  // walked already, through another link
        dirs.push_back(Dir{e, st.st_dev, st.st_ino, at});
        children.push_back(dirs.size() - 1);
        continue;
      }
      if (!match(e.string())) continue;
      if (std::string what = rt::NotAFile(st.st_mode); !what.empty()) {
        io_errors.push_back(fmt::format("{}: {}", shown, what));
        continue;
      }
      found.push_back(shown);
    }
    pending.insert(pending.end(), children.rbegin(), children.rend());
  }
  std::sort(found.begin(), found.end());
  return found;
}

std::vector<std::string> ExpandPaths(const std::vector<std::string>& paths, std::vector<std::string>& io_errors) {
  std::vector<std::string> files;
  for (const auto& p : paths) {
    struct stat st {};
    if (std::string why = Unfollowable(p, st); !why.empty()) {
      io_errors.push_back(fmt::format("cannot read {}: {}", p, why));
    } else if (S_ISDIR(st.st_mode)) {
      std::vector<std::string> found = FilesUnder(p, ".rb.denis", io_errors);
      files.insert(files.end(), found.begin(), found.end());
    } else {
      files.push_back(p);  // the reader refuses a FIFO or a device with a message naming it
    }
  }
  return files;
}

namespace {

// The files a lint run reads: runbooks, scenarios and environment files, each once.
struct LintInputs {
  std::vector<std::string> runbooks, scenarios, environments;
  std::set<std::string> seen;  // canonical paths
  void Add(std::vector<std::string>& to, const std::string& path) {
    std::error_code ec;
    fs::path c = fs::weakly_canonical(path, ec);
    if (seen.insert(ec ? path : c.string()).second) to.push_back(path);
  }
};

bool IsConfigName(const std::string& path) { return rt::IsScenarioFileName(path) || rt::IsEnvironmentFileName(path); }

void AddFound(LintInputs& in, const std::string& path) {
  if (rt::IsScenarioFileName(path)) in.Add(in.scenarios, path);
  else if (rt::IsEnvironmentFileName(path)) in.Add(in.environments, path);
  else in.Add(in.runbooks, path);
}

// The runbook a scenario rehearses, where `runbook test` looks for it: beside the scenario's
// directory (runbooks/redis_down/x.scenario.yaml → runbooks/redis_down.rb.denis), else inside it.
// A `runbook:` naming no file falls back to the directory's name, so a misspelt name is reported
// against the runbook the scenario sits beside, with a suggestion.
std::string RunbookOfScenario(const std::string& scenario) {
  fs::path dir = fs::path(scenario).parent_path();
  for (const std::string& name : {rt::ScenarioRunbookName(scenario), dir.filename().string()}) {
    for (const fs::path& candidate : {dir.parent_path() / (name + ".rb.denis"), dir / (name + ".rb.denis")}) {
      std::error_code ec;
      if (!name.empty() && fs::is_regular_file(candidate, ec)) return candidate.lexically_normal().string();
    }
  }
  return {};
}

LintInputs CollectInputs(const std::vector<std::string>& paths, std::vector<std::string>& io_errors) {
  LintInputs in;
  for (const auto& p : paths) {
    struct stat st {};
    if (std::string why = Unfollowable(p, st); !why.empty()) {
      io_errors.push_back(fmt::format("cannot read {}: {}", p, why));
    } else if (S_ISDIR(st.st_mode)) {
      auto match = [](const std::string& path) {
        return HasSuffix(fs::path(path).filename().string(), ".rb.denis") || IsConfigName(path);
      };
      for (const auto& f : FilesUnder(p, match, io_errors)) AddFound(in, f);
    } else if (rt::IsEnvironmentFileName(p) && !rt::IsScenarioFileName(p)) {
      in.Add(in.environments, p);
      // Named alone, an environment is checked against the runbooks beside it (or, in an
      // `environments/` directory, beside that directory).
      fs::path dir = fs::path(p).parent_path();
      if (dir.filename() == "environments") dir = dir.parent_path();
      std::vector<std::string> ignored;
      for (const auto& f : FilesUnder(dir.empty() ? std::string(".") : dir.string(), ".rb.denis", ignored)) in.Add(in.runbooks, f);
    } else {
      AddFound(in, p);  // the reader refuses a FIFO or a device with a message naming it
    }
  }
  for (const auto& s : in.scenarios) {
    if (std::string rb = RunbookOfScenario(s); !rb.empty()) in.Add(in.runbooks, rb);
  }
  return in;
}

// Checks an environment against the compiled runbooks: values bind as each runbook's `param` and
// `target` declarations require (the binder's own checks), and params name known runbooks and params.
void CheckEnvironmentAgainst(const rt::Environment& env, const rt::Program& program, std::vector<rt::ConfigError>& out) {
  std::set<std::string> said;
  if (program.policy) {  // channels for a name the policy does not know are never used
    std::vector<std::string> contacts;
    for (const auto& c : program.contacts) contacts.push_back(program.Str(c.name));
    for (const auto& [name, contact] : env.contacts) {
      if (std::find(contacts.begin(), contacts.end(), name) != contacts.end()) continue;
      out.emplace_back(env.path, contact.mark,
                       fmt::format("contact `{}` is not a contact of policy `{}`: its channels are never paged", name,
                                   program.Str(program.policy->name)),
                       rt::ConfigKind::kEnvUnknownContact, rt::cfg::Hint(name, contacts, "contacts"),
                       static_cast<int>(name.size()));
    }
  }
  for (uint32_t i = 0; i < program.runbooks.size(); ++i) {
    rt::Bindings b = rt::Bind(program, i, &env, {});
    for (auto& e : b.errors) {
      if (said.insert(fmt::format("{}:{}:{}", e.mark.line, e.mark.col, e.message)).second) out.push_back(std::move(e));
    }
  }
  for (const auto& [runbook, params] : env.params) {
    if (runbook == "*") continue;
    const rt::Runbook* rb = nullptr;
    std::vector<std::string> names;
    for (const auto& r : program.runbooks) {
      names.push_back(program.Str(r.name));
      if (program.Str(r.name) == runbook) rb = &r;
    }
    auto mark_of = [&](const std::map<std::string, rt::Mark>& marks, const std::string& key) {
      auto it = marks.find(key);
      return it == marks.end() ? rt::Mark{} : it->second;
    };
    if (!rb) {
      out.emplace_back(env.path, mark_of(env.params_marks, runbook),
                       fmt::format("params for runbook `{}`, which none of the checked runbooks is", runbook),
                       rt::ConfigKind::kEnvUnknownRunbook, rt::cfg::Hint(runbook, names, "runbooks"),
                       static_cast<int>(runbook.size()));
      continue;
    }
    std::vector<std::string> declared;
    for (const auto& p : rb->params) declared.push_back(program.Str(p.name));
    auto keys = env.param_key_marks.find(runbook);
    for (const auto& entry : params) {
      const std::string& name = entry.first;
      if (std::find(declared.begin(), declared.end(), name) != declared.end()) continue;
      rt::Mark at = keys == env.param_key_marks.end() ? entry.second.mark : mark_of(keys->second, name);
      out.emplace_back(env.path, at, fmt::format("runbook {} declares no param `{}`: the value is never used", runbook, name),
                       rt::ConfigKind::kEnvUnknownParam, rt::cfg::Hint(name, declared, "params"),
                       static_cast<int>(name.size()));
    }
  }
}

}  // namespace

std::optional<DiagKind> DiagKindOf(rt::ConfigKind kind) {
  switch (kind) {
    case rt::ConfigKind::kUnreadable: return std::nullopt;
#define RB_DIAG(name, code, sev, title, doc, example) \
  case rt::ConfigKind::k##name: return DiagKind::k##name;
#include "runtime/config_kinds.def"
#undef RB_DIAG
  }
  return std::nullopt;
}

void AddConfigErrors(const std::vector<rt::ConfigError>& errors, Diagnostics& diags, std::vector<std::string>& io_errors) {
  std::map<std::string, std::shared_ptr<const Source>> sources;
  for (const auto& e : errors) {
    std::optional<DiagKind> kind = DiagKindOf(e.kind);
    if (!kind) {
      io_errors.push_back(fmt::format("{}: {}", e.file, e.message));
      continue;
    }
    auto& src = sources[e.file];
    if (!src) {
      std::string text, why;
      if (rt::ReadRegularFile(e.file, rt::cfg::kEnvironmentLimit, text, why) != rt::FileRead::kOk) text.clear();
      src = std::make_shared<const Source>(e.file, std::move(text));
    }
    // Line and column (in code points) back to a byte offset; a column past the line stops at its end.
    const std::string& text = src->text();
    uint32_t begin = 0, end = 0;
    if (e.mark.line > 0 && !text.empty()) {
      uint32_t lines = 1 + static_cast<uint32_t>(std::count(text.begin(), text.end(), '\n'));
      uint32_t line = std::min(static_cast<uint32_t>(e.mark.line), lines);
      begin = src->LineStart(line);
      if (line == 1 && text.compare(0, 3, "\xEF\xBB\xBF") == 0) begin = 3;  // the reader counts after a BOM
      uint32_t stop = begin + static_cast<uint32_t>(src->Line(line).size()) - (begin == 3 && line == 1 ? 3 : 0);
      auto advance = [&](uint32_t at, int chars) {
        for (int n = 0; n < chars && at < stop; ++n) {
          ++at;
          while (at < stop && (static_cast<unsigned char>(text[at]) & 0xC0) == 0x80) ++at;
        }
        return at;
      };
      begin = advance(begin, std::max(0, e.mark.col - 1));
      end = advance(begin, e.length);
    }
    diags.Add(*kind, src, ast::Span{begin, std::max(begin, end)}, e.message, e.hint);
  }
}

std::string RenderConfigErrors(const std::vector<rt::ConfigError>& errors, bool color) {
  Diagnostics diags;
  std::vector<std::string> io_errors;
  AddConfigErrors(errors, diags, io_errors);
  diags.Sort();
  std::string out;
  for (const auto& e : errors) {
    if (e.kind == rt::ConfigKind::kUnreadable) out += e.ToString() + "\n";  // "file: error: cannot read: ..."
  }
  RenderOptions o;
  o.color = color;
  o.summary = false;
  return out + Render(diags, o);
}

// ---- Ignore comments -------------------------------------------------------------------------------

namespace {

struct IgnoredCode {
  std::string code;  // canonical: "RB0244"
  ast::Span span;    // of the code in the comment
  bool used = false;
};

struct IgnoreComment {
  std::shared_ptr<const Source> source;
  bool file_wide = false;
  uint32_t line = 0;
  std::string reason;  // empty: none given (RB0260)
  std::vector<IgnoredCode> codes;
};

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

bool LooksLikeCode(std::string_view w) {
  if (w.size() < 3 || std::toupper(static_cast<unsigned char>(w[0])) != 'R' ||
      std::toupper(static_cast<unsigned char>(w[1])) != 'B')
    return false;
  return std::all_of(w.begin() + 2, w.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

constexpr const char* kIgnoreExample = "# runbook:ignore RB0244 -- read by the dashboard";

// The ignore comments of one source; problems with them are added to `diags`.
void ParseIgnores(const std::shared_ptr<const Source>& src, std::vector<IgnoreComment>& out, Diagnostics& diags) {
  const std::string& text = src->text();
  static const std::string kMarker = "runbook:";
  std::vector<std::string> codes;
  for (const auto& info : Catalogue()) codes.push_back(info.code);
  uint32_t line = 0;
  for (size_t start = 0; start <= text.size();) {
    size_t nl = text.find('\n', start);
    size_t end = nl == std::string::npos ? text.size() : nl;
    ++line;
    std::string_view l(text.data() + start, end - start);
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    // The comment opens with `runbook:` and a word: the first `#` at the start of the line or after a
    // blank (one inside "#sre" or `#` is not a comment), followed by blanks and the marker. A comment
    // that only mentions `# runbook:ignore` later in its prose is no directive.
    size_t at = std::string_view::npos;
    for (size_t hash = l.find('#'); hash != std::string_view::npos; hash = l.find('#', hash + 1)) {
      if (hash > 0 && !IsBlank(l[hash - 1])) continue;
      size_t k = hash + 1;
      while (k < l.size() && IsBlank(l[k])) ++k;
      if (l.substr(k, kMarker.size()) == kMarker && k + kMarker.size() < l.size() &&
          std::isalpha(static_cast<unsigned char>(l[k + kMarker.size()]))) {
        at = k;
      }
      break;
    }
    auto span_of = [&](size_t from, size_t len) {
      return ast::Span{static_cast<uint32_t>(start + from), static_cast<uint32_t>(start + from + len)};
    };
    if (at != std::string_view::npos) {
      size_t w = at + kMarker.size();
      while (w < l.size() && (std::isalpha(static_cast<unsigned char>(l[w])) || l[w] == '-' || l[w] == '_')) ++w;
      std::string directive(l.substr(at, w - at));
      if (directive != "runbook:ignore" && directive != "runbook:ignore-file") {
        std::string hint = rt::cfg::Hint(directive, {"runbook:ignore", "runbook:ignore-file"}, "directives");
        if (hint.rfind("did you mean", 0) != 0) hint = "the directives are runbook:ignore (its line) and runbook:ignore-file";
        diags.Add(DiagKind::kIgnoreMalformed, src, span_of(at, directive.size()),
                  fmt::format("unknown directive `{}`", directive), hint);
      } else {
        IgnoreComment c;
        c.source = src;
        c.file_wide = directive == "runbook:ignore-file";
        c.line = line;
        std::string_view rest = l.substr(w);
        size_t dashes = rest.find("--");
        std::string_view list = rest.substr(0, dashes);
        if (dashes != std::string_view::npos) c.reason = std::string(rt::cfg::Trim(rest.substr(dashes + 2)));
        size_t bad = 0;
        for (size_t i = 0; i < list.size();) {
          if (IsBlank(list[i]) || list[i] == ',') {
            ++i;
            continue;
          }
          size_t j = i;
          while (j < list.size() && !IsBlank(list[j]) && list[j] != ',') ++j;
          std::string word(list.substr(i, j - i));
          ast::Span span = span_of(w + i, j - i);
          i = j;
          const DiagInfo* info = FindCode(word);
          if (!info) {
            ++bad;
            if (LooksLikeCode(word)) {
              std::string upper = word;
              for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
              std::string hint = rt::cfg::Hint(upper, codes, "codes");
              if (hint.rfind("did you mean", 0) != 0) hint = "`runbook codes` lists them";
              diags.Add(DiagKind::kIgnoreUnknownCode, src, span, fmt::format("no diagnostic code {}: the ignore silences nothing", word), hint);
            } else {
              diags.Add(DiagKind::kIgnoreMalformed, src, span, fmt::format("`{}` is not a diagnostic code", word),
                        fmt::format("codes come first, separated by commas, then `--` and the reason: {}", kIgnoreExample));
            }
            continue;
          }
          std::string code = info->code;
          if (code >= "RB0260" && code <= "RB0269") {
            ++bad;
            diags.Add(DiagKind::kIgnoreMalformed, src, span, fmt::format("{} is about ignore comments and cannot be ignored", code),
                      "fix or delete the comment it points at");
          } else if (info->severity == Severity::kError) {
            ++bad;
            diags.Add(DiagKind::kIgnoreOfError, src, span, fmt::format("{} is an error: errors cannot be ignored", code),
                      fmt::format("fix what {} reports (`runbook explain {}`); only warnings and notes can be ignored", code, code));
          } else {
            c.codes.push_back(IgnoredCode{code, span});
          }
        }
        if (c.codes.empty() && bad == 0) {
          diags.Add(DiagKind::kIgnoreMalformed, src, span_of(at, directive.size()), fmt::format("`{}` names no code", directive),
                    fmt::format("name the codes it silences: {}", kIgnoreExample));
        } else if (c.reason.empty()) {
          diags.Add(DiagKind::kIgnoreWithoutReason, src, span_of(at, directive.size()),
                    fmt::format("`{}` without a reason", directive),
                    fmt::format("say why after `--`: {}", kIgnoreExample));
        }
        if (!c.codes.empty()) out.push_back(std::move(c));
      }
    }
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
}

}  // namespace

void ApplyIgnores(const std::vector<std::shared_ptr<const Source>>& sources, Diagnostics& diags) {
  // Whether the run saw everything it could: a file with errors may not have been checked far enough
  // for its warnings, so unused ignores are reported only when there are none.
  const bool complete = diags.errors() == 0;
  std::vector<IgnoreComment> ignores;
  std::set<std::string> scanned;
  Diagnostics found;  // about the comments: added after silencing, so never silenced themselves
  for (const auto& src : sources) {
    if (!src || !scanned.insert(src->path()).second) continue;
    ParseIgnores(src, ignores, found);
  }
  if (!ignores.empty()) {
    diags.Suppress([&](const Diagnostic& d) -> std::optional<std::string> {
      if (!d.source || d.severity() == Severity::kError) return std::nullopt;
      const std::string code = Info(d.kind).code;
      const uint32_t line = d.source->At(d.span.begin).line;
      IgnoredCode* hit = nullptr;
      IgnoreComment* by = nullptr;
      for (bool file_wide : {false, true}) {  // the line's own comment first
        for (auto& c : ignores) {
          if (hit) break;
          if (c.file_wide != file_wide || c.source->path() != d.source->path() || (!file_wide && c.line != line)) continue;
          for (auto& ic : c.codes) {
            if (ic.code == code) hit = &ic, by = &c;
          }
        }
      }
      if (!hit) return std::nullopt;
      hit->used = true;
      return by->reason.empty() ? std::string("(no reason given)") : by->reason;
    });
  }
  if (complete) {
    for (const auto& c : ignores) {
      for (const auto& ic : c.codes) {
        if (ic.used) continue;
        found.Add(DiagKind::kUnusedIgnore, c.source, ic.span,
                  fmt::format("unused ignore for {} at {}:{}: no {} finding {}", ic.code, c.source->path(), c.line, ic.code,
                              c.file_wide ? "in this file" : "on this line"),
                  c.file_wide ? std::string("delete it: what it silenced is gone")
                              : fmt::format("delete it, or move it to the end of the line the {} finding points at", ic.code));
      }
    }
  }
  for (const auto& d : found.all()) diags.Add(d.kind, d.source, d.span, d.message, d.hint);
}

std::vector<std::shared_ptr<const Source>> UserSources(const Workspace& ws) {
  std::vector<std::shared_ptr<const Source>> out;
  for (const auto& m : ws.modules()) {
    if (m && !m->is_stdlib && m->source) out.push_back(m->source);
  }
  return out;
}

LintResult Lint(const LintOptions& options) {
  LintResult result;
  LintInputs in = CollectInputs(options.paths, result.io_errors);
  Workspace ws(WorkspaceOptions{options.stdlib_dir, options.search_path}, result.diags);
  std::vector<const Module*> roots;
  for (const auto& f : in.runbooks) {
    if (Module* m = ws.AddFile(f)) {
      ++result.files;
      roots.push_back(m);
    }
  }
  Check(ws, result.diags);
  for (const auto& e : ws.io_errors()) result.io_errors.push_back(e);
  std::vector<std::shared_ptr<const Source>> yaml_sources;
  if (!in.scenarios.empty() || !in.environments.empty()) {
    // Scenarios are checked against compiled runbooks: only when every runbook compiles (the
    // runbooks' own errors are reported above and come first).
    std::optional<rt::Program> program;
    std::optional<rt::Registry> registry;
    if (result.diags.errors() == 0 && ws.io_errors().empty()) {
      // No runbook at all: every scenario is reported as naming none (RB0107).
      program = roots.empty() ? rt::Program{} : Codegen(ws, roots);
      registry = RegistryFrom(ws);
    }
    std::vector<rt::ConfigError> errors;
    for (const auto& path : in.environments) {
      rt::Environment env;
      size_t before = errors.size();
      bool ok = rt::LoadEnvironment(path, env, errors);
      bool readable = std::none_of(errors.begin() + static_cast<std::ptrdiff_t>(before), errors.end(),
                                   [](const rt::ConfigError& e) { return e.kind == rt::ConfigKind::kUnreadable; });
      if (readable) ++result.environments;
      if (ok && program) CheckEnvironmentAgainst(env, *program, errors);
    }
    if (program) {
      for (const auto& path : in.scenarios) {
        rt::Scenario sc;
        size_t before = errors.size();
        rt::LoadScenario(path, *program, *registry, sc, errors);
        bool readable = std::none_of(errors.begin() + static_cast<std::ptrdiff_t>(before), errors.end(),
                                     [](const rt::ConfigError& e) { return e.kind == rt::ConfigKind::kUnreadable; });
        if (readable) ++result.scenarios;
      }
    }
    AddConfigErrors(errors, result.diags, result.io_errors);
    if (program) {  // the scenario and environment files were checked: their comments count too
      for (const auto* list : {&in.environments, &in.scenarios}) {
        for (const auto& path : *list) {
          std::string text, why;
          if (rt::ReadRegularFile(path, rt::cfg::kEnvironmentLimit, text, why) == rt::FileRead::kOk)
            yaml_sources.push_back(std::make_shared<const Source>(path, std::move(text)));
        }
      }
    }
  }
  std::vector<std::shared_ptr<const Source>> sources = UserSources(ws);
  sources.insert(sources.end(), yaml_sources.begin(), yaml_sources.end());
  ApplyIgnores(sources, result.diags);
  result.diags.Sort();
  return result;
}

LintResult LintSource(const std::string& display_path, std::string text, const std::string& stdlib_dir) {
  LintResult result;
  Workspace ws(WorkspaceOptions{stdlib_dir, {}}, result.diags);
  if (ws.AddText(display_path, std::move(text))) ++result.files;
  Check(ws, result.diags);
  for (const auto& e : ws.io_errors()) result.io_errors.push_back(e);
  ApplyIgnores(UserSources(ws), result.diags);
  result.diags.Sort();
  return result;
}

}  // namespace rb
