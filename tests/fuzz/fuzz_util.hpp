// Shared by the fuzz targets: a property check that aborts (libFuzzer and the replay driver both
// report an abort as a crash, with the input), and the repository paths the targets read seeds from.
#pragma once

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

namespace rb::fuzz {

// A broken property: print what and where, then abort so the input is kept as a crash.
[[noreturn]] inline void Fail(const char* what, const char* file, int line) {
  std::fprintf(stderr, "fuzz property failed at %s:%d: %s\n", file, line, what);
  std::abort();
}

#define FUZZ_CHECK(cond)                                  \
  do {                                                    \
    if (!(cond)) ::rb::fuzz::Fail(#cond, __FILE__, __LINE__); \
  } while (0)

// The source tree (compiled in), for the seed runbooks the targets compile once.
inline std::filesystem::path SourceDir() { return RUNBOOK_SOURCE_DIR; }

// A private scratch directory for inputs a loader can only read from a file.
inline std::filesystem::path ScratchDir() {
  static const std::filesystem::path kDir = [] {
    auto d = std::filesystem::temp_directory_path() / ("runbook-fuzz-" + std::to_string(getpid()));
    std::filesystem::create_directories(d);
    return d;
  }();
  return kDir;
}

// Inputs that may reach the known yaml-cpp 0.7 `LoadAll` loop (jbeder/yaml-cpp#1040): a `,` where a
// document's root node starts (`,`, `"x",`, `[1],`, `a: 1\n---\n,`) makes it return empty documents
// for ever, allocating as it goes. Until the loaders stop calling `LoadAll`, the YAML targets skip any
// input with a document marker or whose first significant line is not a plain `key:` of a block
// mapping (where no root-level `,` can appear). Remove this once the loader loads one document itself.
inline bool MayHitYamlCppLoadAllLoop(std::string_view text) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  bool first = true;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (line.substr(0, 3) == "---" || line.substr(0, 3) == "...") return true;
    if (!first) continue;
    size_t lead = line.find_first_not_of(" \t\r");
    if (lead == std::string_view::npos || line[lead] == '#' || line[lead] == '%') continue;
    first = false;
    // A plain key at column 0: not a space, an indicator or a quote, and a `:` followed by a space or
    // the end of the line.
    if (lead != 0 || std::string_view(",[]{}&*!|>'\"%@`-?:").find(line[0]) != std::string_view::npos) return true;
    size_t colon = line.find(':');
    while (colon != std::string_view::npos && colon + 1 < line.size() && line[colon + 1] != ' ' &&
           line[colon + 1] != '\t' && line[colon + 1] != '\r')
      colon = line.find(':', colon + 1);
    if (colon == std::string_view::npos || line.substr(0, colon).find_first_of(",#") != std::string_view::npos) return true;
  }
  return false;  // blank or comments only: an empty document, which the loaders refuse cleanly
}

}  // namespace rb::fuzz
