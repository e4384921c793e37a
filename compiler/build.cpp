#include "compiler/build.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "compiler/checker.hpp"
#include "compiler/codegen.hpp"
#include "compiler/workspace.hpp"
#include "runtime/files.hpp"
#include "runtime/rbc.hpp"
#include "runtime/verifier.hpp"

namespace rb {

namespace fs = std::filesystem;

std::string WriteFileAtomic(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::error_code ec;
  fs::file_status st = fs::status(path, ec);
  if (fs::is_directory(st)) return fmt::format("cannot write {}: it is a directory", path);
  if (fs::exists(st) && !fs::is_regular_file(st)) {
    // A device or a pipe (`-o /dev/null`, `-o /dev/stdout`): written to, never replaced by a file.
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) return fmt::format("cannot write {}: {}", path, std::strerror(errno));
    return {};
  }
  std::string tmp = fmt::format("{}.tmp.{}", path, getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return fmt::format("cannot write {}: {}", tmp, std::strerror(errno));
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) {
      std::remove(tmp.c_str());
      return fmt::format("cannot write {}: {}", tmp, std::strerror(errno));
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string err = fmt::format("cannot rename {} to {}: {}", tmp, path, std::strerror(errno));
    std::remove(tmp.c_str());
    return err;
  }
  return {};
}

namespace {

// Parse and check the files; the workspace stays alive for codegen.
struct Front {
  Diagnostics* diags;
  std::unique_ptr<Workspace> ws;
  std::vector<const Module*> roots;
};

Front RunFront(const std::vector<std::string>& files, const std::string& stdlib_dir,
               const std::vector<std::string>& search_path, LintResult& lint) {
  Front f{&lint.diags, std::make_unique<Workspace>(WorkspaceOptions{stdlib_dir, search_path}, lint.diags), {}};
  for (const auto& file : files) {
    if (Module* m = f.ws->AddFile(file)) {
      ++lint.files;
      f.roots.push_back(m);
    }
  }
  Check(*f.ws, lint.diags);
  for (const auto& e : f.ws->io_errors()) lint.io_errors.push_back(e);
  ApplyIgnores(UserSources(*f.ws), lint.diags);  // as `runbook lint` does
  lint.diags.Sort();
  return f;
}

std::string OutputNameFor(const std::string& source) {
  std::string base = source;
  const std::string ext = ".rb.denis";
  if (base.size() > ext.size() && base.compare(base.size() - ext.size(), ext.size(), ext) == 0) {
    base.resize(base.size() - ext.size());
  }
  return base + ".rbc";
}

}  // namespace

CompileResult CompileToFiles(const CompileOptions& options) {
  CompileResult r;
  std::vector<std::string> files = ExpandPaths(options.paths, r.lint.io_errors);
  Front front = RunFront(files, options.stdlib_dir, options.search_path, r.lint);
  if (!r.lint.io_errors.empty() || r.lint.diags.errors() > 0) return r;
  rt::Registry registry = RegistryFrom(*front.ws);  // the checker loaded every stdlib module
  std::vector<std::pair<std::string, std::vector<const Module*>>> outputs;
  if (!options.output.empty()) {
    outputs.emplace_back(options.output, front.roots);
  } else {
    for (const Module* m : front.roots) outputs.emplace_back(OutputNameFor(m->source->path()), std::vector<const Module*>{m});
  }
  // Build and verify everything before writing anything.
  std::vector<std::pair<std::string, std::vector<uint8_t>>> blobs;
  for (const auto& [path, roots] : outputs) {
    rt::Program program = Codegen(*front.ws, roots);
    std::vector<uint8_t> bytes = rt::Serialize(program);
    auto loaded = rt::LoadProgram(bytes, registry);
    if (auto* err = std::get_if<rt::LoadError>(&loaded)) {
      r.errors.push_back(fmt::format("internal error: the compiled program for {} fails verification at byte {}: {}",
                                     path, err->offset, err->message));
      return r;
    }
    blobs.emplace_back(path, std::move(bytes));
  }
  for (const auto& [path, bytes] : blobs) {
    std::string err = WriteFileAtomic(path, bytes);
    if (!err.empty()) {
      r.errors.push_back(err);
      return r;
    }
    r.written.push_back(path);
  }
  return r;
}

LoadedProgram LoadAny(const std::string& path, const rt::Registry& registry, const std::string& stdlib_dir,
                      const std::vector<std::string>& search_path) {
  LoadedProgram out;
  const std::string ext = ".rbc";
  if (path.size() > ext.size() && path.compare(path.size() - ext.size(), ext.size(), ext) == 0) {
    std::string text, error;
    if (rt::ReadRegularFile(path, rt::kMaxRbcBytes, text, error) == rt::FileRead::kFailed) {
      out.error = fmt::format("cannot read {}: {}", path, error);
      return out;
    }
    // An oversized file keeps its first bytes: the loader reports the size.
    std::vector<uint8_t> bytes(text.begin(), text.end());
    auto loaded = rt::LoadProgram(bytes, registry);
    if (auto* err = std::get_if<rt::LoadError>(&loaded)) {
      out.error = fmt::format("{}: rejected at byte {}: {}", path, err->offset, err->message);
      // What a file compiled with team modules needs from this host (docs/security.md).
      const std::string& m = err->message;
      if (m.find("is not a capability this host provides") != std::string::npos ||
          m.find("is not allowed by this host") != std::string::npos ||
          m.find(" is recorded as ") != std::string::npos) {
        out.error += "; a .rbc compiled with team modules loads where the same modules are on the search path "
                     "(--path DIR, RUNBOOK_PATH or the environment's modules:)";
      }
      return out;
    }
    out.program = std::move(std::get<rt::Program>(loaded));
    return out;
  }
  return LoadSources({path}, registry, stdlib_dir, search_path);
}

LoadedProgram LoadSources(const std::vector<std::string>& paths, const rt::Registry& given,
                          const std::string& stdlib_dir, const std::vector<std::string>& search_path) {
  LoadedProgram out;
  std::vector<std::string> files = ExpandPaths(paths, out.lint.io_errors);
  if (!out.lint.io_errors.empty()) return out;
  Front front = RunFront(files, stdlib_dir, search_path, out.lint);
  if (!out.lint.io_errors.empty() || out.lint.diags.errors() > 0) return out;
  // Compiled from source, the team modules loaded count as the host's (docs/security.md).
  const rt::Registry& registry = out.registry.emplace(WithModules(given, *front.ws));
  rt::Program program = Codegen(*front.ws, front.roots);
  if (auto err = rt::Verify(program, registry)) {
    out.error = fmt::format("internal error: {} compiles to a program the verifier rejects: {}",
                            files.empty() ? std::string("(nothing)") : files[0], err->message);
    return out;
  }
  for (const auto& m : front.ws->modules()) {
    if (m->source && std::find(program.files.begin(), program.files.end(), m->source->path()) != program.files.end()) {
      out.sources.emplace(m->source->path(), m->source->text());
    }
  }
  out.program = std::move(program);
  return out;
}

}  // namespace rb
