#include "compiler/lint.hpp"

#include <algorithm>
#include <filesystem>

#include "compiler/checker.hpp"
#include "compiler/workspace.hpp"

namespace rb {

namespace fs = std::filesystem;

std::vector<std::string> FilesUnder(const std::string& dir, const std::string& suffix,
                                    std::vector<std::string>& io_errors) {
  std::vector<std::string> found;
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
  if (ec) {
    io_errors.push_back("cannot read directory " + dir + ": " + ec.message());
    return found;
  }
  for (; it != end; it.increment(ec)) {
    if (ec) break;
    const fs::path& e = it->path();
    std::string name = e.filename().string();
    if (it->is_directory(ec) && !name.empty() && name[0] == '.') {
      it.disable_recursion_pending();
      continue;
    }
    bool match = name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
    if (match && it->is_regular_file(ec)) found.push_back(e.lexically_normal().string());
  }
  std::sort(found.begin(), found.end());
  return found;
}

std::vector<std::string> ExpandPaths(const std::vector<std::string>& paths, std::vector<std::string>& io_errors) {
  std::vector<std::string> files;
  for (const auto& p : paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      std::vector<std::string> found = FilesUnder(p, ".rb.denis", io_errors);
      files.insert(files.end(), found.begin(), found.end());
    } else if (fs::exists(p, ec)) {
      files.push_back(p);
    } else {
      io_errors.push_back("cannot read " + p + ": no such file or directory");
    }
  }
  return files;
}

LintResult Lint(const LintOptions& options) {
  LintResult result;
  std::vector<std::string> files = ExpandPaths(options.paths, result.io_errors);
  Workspace ws(WorkspaceOptions{options.stdlib_dir}, result.diags);
  for (const auto& f : files) {
    if (ws.AddFile(f)) ++result.files;
  }
  Check(ws, result.diags);
  for (const auto& e : ws.io_errors()) result.io_errors.push_back(e);
  result.diags.Sort();
  return result;
}

LintResult LintSource(const std::string& display_path, std::string text, const std::string& stdlib_dir) {
  LintResult result;
  Workspace ws(WorkspaceOptions{stdlib_dir}, result.diags);
  if (ws.AddText(display_path, std::move(text))) ++result.files;
  Check(ws, result.diags);
  for (const auto& e : ws.io_errors()) result.io_errors.push_back(e);
  result.diags.Sort();
  return result;
}

}  // namespace rb
