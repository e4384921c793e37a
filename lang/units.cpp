#include "lang/units.hpp"

#include <fmt/format.h>

#include <cmath>

namespace rb::lang {

const Unit* FindUnit(std::string_view suffix) {
  for (const Unit& u : kUnits) {
    if (u.suffix == suffix) return &u;
  }
  return nullptr;
}

std::string SuffixList(Dimension d) {
  std::string out;
  // Listed smallest first, as people read them: "ms s m h d", "B KB MB GB TB".
  for (size_t i = std::size(kUnits); i-- > 0;) {
    if (kUnits[i].dimension != d) continue;
    if (!out.empty()) out += ' ';
    out += kUnits[i].suffix;
  }
  return out;
}

std::string FormatNumber(double v) {
  if (std::floor(v) == v && std::fabs(v) < 1e15) return fmt::format("{}", static_cast<long long>(v));
  return fmt::format("{:.6g}", v);
}

std::string FormatDuration(double ms) {
  if (!std::isfinite(ms) || std::fabs(ms) >= 1e15) return FormatNumber(ms) + "ms";
  if (ms == 0) return "0s";
  std::string out = ms < 0 ? "-" : "";
  double rest = std::fabs(ms);
  for (const Unit& u : kUnits) {
    if (u.dimension != Dimension::kDuration || u.scale == 1) continue;
    double scale = static_cast<double>(u.scale);
    if (rest >= scale) {
      double whole = std::floor(rest / scale);
      out += FormatNumber(whole) + std::string(u.suffix);
      rest -= whole * scale;
    }
  }
  if (rest > 0) out += FormatNumber(rest) + "ms";
  return out;
}

std::string FormatSize(double bytes) {
  for (const Unit& u : kUnits) {
    if (u.dimension != Dimension::kSize || u.scale == 1) continue;
    double scale = static_cast<double>(u.scale);
    if (std::fabs(bytes) >= scale && std::fmod(bytes, scale) == 0) return FormatNumber(bytes / scale) + std::string(u.suffix);
  }
  return FormatNumber(bytes) + "B";
}

std::string FormatQuantity(Dimension d, double v) {
  switch (d) {
    case Dimension::kNone: return FormatNumber(v);
    case Dimension::kDuration: return FormatDuration(v);
    case Dimension::kPercent: return FormatNumber(v) + "%";
    case Dimension::kSize: return FormatSize(v);
  }
  return FormatNumber(v);
}

}  // namespace rb::lang
