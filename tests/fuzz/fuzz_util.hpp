// Shared by the fuzz targets: a property check that aborts (libFuzzer and the replay driver both
// report an abort as a crash, with the input), and the repository paths the targets read seeds from.
#pragma once

#include <unistd.h>

#include <cstdint>
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


// Writes the input to `name` in the scratch directory, for loaders that read only files; its path.
inline std::string WriteScratch(const char* name, const uint8_t* data, size_t size) {
  std::string path = (ScratchDir() / name).string();
  if (FILE* f = std::fopen(path.c_str(), "wb")) {
    std::fwrite(data, 1, size, f);
    std::fclose(f);
  }
  return path;
}

}  // namespace rb::fuzz
