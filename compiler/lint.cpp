#include "compiler/lint.hpp"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>

#include "compiler/checker.hpp"
#include "compiler/workspace.hpp"
#include "runtime/files.hpp"

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
      if (!HasSuffix(name, suffix)) continue;
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
