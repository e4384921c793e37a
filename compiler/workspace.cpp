#include "compiler/workspace.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <filesystem>
#include <sstream>
#include <algorithm>
#include <cstring>

#include "compiler/parser.hpp"
#include "runtime/files.hpp"

namespace rb {

namespace fs = std::filesystem;

namespace {

// Reads a module. An oversized file is kept (its first bytes) so that the parser reports it as a
// diagnostic (RB0004) rather than a tool error.
bool ReadFile(const std::string& path, std::string& out, std::string& error) {
  return rt::ReadRegularFile(path, kMaxFileBytes, out, error) != rt::FileRead::kFailed;
}

std::string Canonical(const std::string& path) {
  std::error_code ec;
  fs::path p = fs::weakly_canonical(path, ec);
  return ec ? fs::path(path).lexically_normal().string() : p.string();
}

}  // namespace

Workspace::Workspace(WorkspaceOptions options, Diagnostics& diags) : options_(std::move(options)), diags_(diags) {}

Module* Workspace::Parsed(std::string key, std::string display_path, std::string text, bool is_stdlib) {
  auto m = std::make_unique<Module>();
  m->key = key;
  m->is_stdlib = is_stdlib;
  m->source = std::make_shared<const Source>(std::move(display_path), std::move(text));
  m->file = Parse(m->source, diags_);
  Module* raw = m.get();
  by_key_[key] = raw;
  modules_.push_back(std::move(m));
  return raw;
}

Module* Workspace::LoadPath(const std::string& display_path, bool report_missing) {
  std::string key = Canonical(display_path);
  if (auto it = by_key_.find(key); it != by_key_.end()) return it->second;
  std::string text, error;
  if (!ReadFile(display_path, text, error)) {
    if (report_missing) io_errors_.push_back(fmt::format("cannot read {}: {}", display_path, error));
    return nullptr;
  }
  return Parsed(key, fs::path(display_path).lexically_normal().string(), std::move(text), false);
}

Module* Workspace::AddFile(const std::string& path) { return LoadPath(path, true); }

Module* Workspace::AddText(const std::string& display_path, std::string text) {
  std::string key = Canonical(display_path);
  if (auto it = by_key_.find(key); it != by_key_.end()) return it->second;
  return Parsed(key, fs::path(display_path).lexically_normal().string(), std::move(text), false);
}

Module* Workspace::Stdlib(const std::string& name) {
  std::string key = "std." + name;
  if (auto it = by_key_.find(key); it != by_key_.end()) return it->second;
  std::string display = "stdlib/" + name + ".rb.denis";
  if (!options_.stdlib_dir.empty()) {
    std::string path = (fs::path(options_.stdlib_dir) / (name + ".rb.denis")).string();
    std::string text, error;
    if (!ReadFile(path, text, error)) return nullptr;
    return Parsed(key, path, std::move(text), true);
  }
  for (const auto& em : EmbeddedStdlib()) {
    if (name == em.name) return Parsed(key, display, em.text, true);
  }
  return nullptr;
}

std::vector<std::string> Workspace::StdlibNames() const {
  std::vector<std::string> names;
  if (!options_.stdlib_dir.empty()) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(options_.stdlib_dir, ec)) {
      std::string f = e.path().filename().string();
      if (f.size() > 9 && f.compare(f.size() - 9, 9, ".rb.denis") == 0) names.push_back(f.substr(0, f.size() - 9));
    }
    std::sort(names.begin(), names.end());
    return names;
  }
  for (const auto& em : EmbeddedStdlib()) names.emplace_back(em.name);
  return names;
}

Module* Workspace::ResolveImport(Module& from, const ast::Import& imp) {
  std::vector<std::string> parts;
  std::stringstream ss(imp.module);
  for (std::string part; std::getline(ss, part, '.');) parts.push_back(part);
  if (!parts.empty() && parts[0] == "std") {  // `std.` is the stdlib's, never a file
    if (parts.size() == 2) {
      if (Module* m = Stdlib(parts[1])) return m;
    }
    std::string known;
    for (const auto& n : StdlibNames()) known += (known.empty() ? "" : ", ") + n;
    diags_.Add(DiagKind::kImportNotFound, from.source, imp.span,
               fmt::format("no stdlib module `{}`", imp.module),
               parts.size() == 2 ? fmt::format("stdlib modules: {}", known)
                                 : fmt::format("stdlib modules: {}; `std.` names only these: import a team module by "
                                               "its own path, e.g. team.{}",
                                               known, parts.back()));
    return nullptr;
  }
  fs::path rel;
  for (const auto& p : parts) rel /= p;
  rel += ".rb.denis";
  std::error_code ec;
  const fs::path cwd = fs::current_path(ec);
  // Shown relative to the current directory by the path the import resolved through, never the
  // target of a symlink on the way (fs::proximate would resolve them).
  auto shown_path = [&](const fs::path& p) {
    fs::path shown = p.lexically_proximate(cwd);
    if (ec || shown.empty()) shown = p;
    return shown.lexically_normal();
  };
  auto found = [&](const fs::path& candidate) {
    std::error_code e;
    return fs::is_regular_file(candidate, e);
  };
  // Beside the importing file, then each parent up to the root (the first hit wins). Searched from
  // the absolute directory, so `lint s.rb.denis` looks above the current directory too.
  std::vector<std::string> looked;  // the directories looked in, for the report
  bool above_cwd = false;
  fs::path dir = fs::absolute(from.source->path(), ec).parent_path();
  for (;;) {
    fs::path candidate = (dir / rel).lexically_normal();
    if (found(candidate)) return LoadPath(shown_path(candidate).string(), true);
    fs::path d = shown_path(dir);
    if (!d.empty() && *d.begin() != "..") {
      looked.push_back(d.string());
    } else if (!above_cwd) {  // the current directory's parents are summed up, not listed
      if (looked.empty()) looked.push_back(dir.string());
      above_cwd = true;
    }
    if (dir.empty() || dir == dir.root_path()) break;
    fs::path parent = dir.parent_path();
    if (parent == dir) break;
    dir = parent;
  }
  for (const auto& sp : options_.search_path) {
    fs::path candidate = (fs::path(sp) / rel).lexically_normal();
    if (found(candidate)) return LoadPath(candidate.string(), true);
  }
  std::string where = fmt::format("{}", fmt::join(looked, ", "));
  if (above_cwd) where += " and each directory above it up to /";
  std::string path_text = options_.search_path.empty()
                              ? std::string("the search path is empty (--path DIR, RUNBOOK_PATH or `modules:` in the environment file)")
                              : fmt::format("then on the search path: {}", fmt::join(options_.search_path, ", "));
  diags_.Add(DiagKind::kImportNotFound, from.source, imp.span, fmt::format("cannot find module `{}`", imp.module),
             fmt::format("looked for {} in {}; {}", rel.generic_string(), where, path_text));
  return nullptr;
}

std::vector<Module*> Module::Visible() const {
  std::vector<Module*> v;
  if (prelude) v.push_back(prelude);
  for (Module* m : resolved) {
    if (m) v.push_back(m);
  }
  return v;
}

void Workspace::ResolveImports() {
  // Modules are appended while resolving; index-based iteration sees the new ones too.
  for (size_t i = 0; i < modules_.size(); ++i) {
    Module& m = *modules_[i];
    if (m.imports_resolved) continue;
    m.imports_resolved = true;
    if (m.key != "std.text") m.prelude = Stdlib("text");
    for (const auto& imp : m.file.imports) m.resolved.push_back(ResolveImport(m, imp));
  }
  // Cycle detection: depth-first with colours over an explicit stack (an import chain of any length
  // must not exhaust the call stack); a back edge is reported once, at its import.
  std::map<const Module*, int> colour;  // 0 white, 1 on the stack, 2 done
  struct Frame {
    Module* m;
    size_t next;  // the next import of `m` to follow
  };
  std::vector<Frame> frames;
  for (size_t i = 0; i < modules_.size(); ++i) {
    if (colour[modules_[i].get()] != 0) continue;
    colour[modules_[i].get()] = 1;
    frames.push_back(Frame{modules_[i].get(), 0});
    while (!frames.empty()) {
      Frame& f = frames.back();
      Module& m = *f.m;
      if (f.next == m.resolved.size()) {
        colour[&m] = 2;
        frames.pop_back();
        continue;
      }
      size_t k = f.next++;
      Module* target = m.resolved[k];
      if (!target) continue;
      int& c = colour[target];
      if (c == 1 && reported_cycles_.insert({&m, k}).second) {
        // The modules on the cycle, the middle of a long one elided: the report stays one line.
        constexpr ptrdiff_t kShown = 4;
        std::string chain;
        auto it = std::find_if(frames.begin(), frames.end(), [&](const Frame& g) { return g.m == target; });
        ptrdiff_t length = frames.end() - it;
        for (ptrdiff_t j = 0; it != frames.end(); ++it, ++j) {
          if (length > 2 * kShown && j >= kShown && j < length - kShown) {
            if (j == kShown) chain += fmt::format("… {} more … → ", length - 2 * kShown);
            continue;
          }
          chain += it->m->source->path() + " → ";
        }
        chain += target->source->path();
        diags_.Add(DiagKind::kImportCycle, m.source, m.file.imports[k].span, fmt::format("import cycle: {}", chain),
                   "move what both modules need into a third module that both import");
      } else if (c == 0) {
        c = 1;
        frames.push_back(Frame{target, 0});  // invalidates `f`, which is not used again
      }
    }
  }
}

const ast::Runbook* Workspace::FindRunbook(const std::string& name, const Module& near) {
  for (const auto& m : modules_) {
    for (const auto& rb : m->file.runbooks) {
      if (rb.name == name) return &rb;
    }
  }
  if (near.is_stdlib) return nullptr;
  fs::path candidate = (fs::path(near.source->path()).parent_path() / (name + ".rb.denis")).lexically_normal();
  std::error_code ec;
  if (!fs::is_regular_file(candidate, ec)) return nullptr;
  size_t before = modules_.size();
  Module* m = LoadPath(candidate.string(), false);
  if (!m) return nullptr;
  if (modules_.size() != before) ResolveImports();
  for (const auto& rb : m->file.runbooks) {
    if (rb.name == name) return &rb;
  }
  return nullptr;
}

}  // namespace rb
