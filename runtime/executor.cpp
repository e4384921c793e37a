#include "runtime/executor.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <tuple>

#include "lang/units.hpp"
#include "runtime/files.hpp"

namespace rb::rt {

const char* TriName(Tri t) {
  switch (t) {
    case Tri::kFalse: return "clear";
    case Tri::kTrue: return "holds";
    case Tri::kUnknown: return "unknown";
  }
  return "?";
}

std::string FormatMs(int64_t ms) { return lang::FormatDuration(static_cast<double>(ms)); }

}  // namespace rb::rt
