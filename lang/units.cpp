#include "lang/units.hpp"

#include <fmt/format.h>

#include <cctype>
#include <cmath>
#include <cstdlib>

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
  // Not a whole number of any unit (a measured size): the largest unit it reaches, to two decimals,
  // as a person reads it (`21.33GB`, not `2.29065e+10B`).
  for (const Unit& u : kUnits) {
    if (u.dimension != Dimension::kSize || u.scale == 1) continue;
    double scale = static_cast<double>(u.scale);
    if (std::fabs(bytes) >= scale) return FormatNumber(std::round(bytes / scale * 100) / 100) + std::string(u.suffix);
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

// ---- Points in time -------------------------------------------------------------------------------

int64_t DaysFromCivil(int64_t year, unsigned month, unsigned day) {
  // Count from March so the leap day ends a year; eras of 400 years repeat exactly (146097 days).
  int64_t y = month <= 2 ? year - 1 : year;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t year_of_era = y - era * 400;                                     // 0..399
  int64_t month_from_march = month > 2 ? month - 3 : month + 9;            // 0..11
  int64_t day_of_year = (153 * month_from_march + 2) / 5 + day - 1;        // 0..365
  int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;                               // 719468: 0000-03-01 to 1970-01-01
}

namespace {

struct Civil {
  int64_t year;
  unsigned month, day;
};

// The inverse of DaysFromCivil.
Civil CivilFromDays(int64_t days) {
  days += 719468;
  int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  int64_t day_of_era = days - era * 146097;
  int64_t year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  int64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  int64_t mp = (5 * day_of_year + 2) / 153;
  unsigned day = static_cast<unsigned>(day_of_year - (153 * mp + 2) / 5 + 1);
  unsigned month = static_cast<unsigned>(mp < 10 ? mp + 3 : mp - 9);
  return Civil{year_of_era + era * 400 + (month <= 2 ? 1 : 0), month, day};
}

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
unsigned DaysIn(int64_t y, unsigned m) {
  static const unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

// A cursor over the text being parsed.
struct Reader {
  std::string_view s;
  size_t i = 0;
  bool Done() const { return i >= s.size(); }
  bool Eat(char c) {
    if (i < s.size() && s[i] == c) {
      ++i;
      return true;
    }
    return false;
  }
  void Blanks() {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  }
  // Exactly `n` digits (n > 0), or up to 9 when n == 0 (at least one).
  bool Digits(size_t n, int64_t& out) {
    size_t start = i, max = n ? n : 9;
    out = 0;
    while (i < s.size() && i - start < max && std::isdigit(static_cast<unsigned char>(s[i]))) out = out * 10 + (s[i++] - '0');
    return n ? i - start == n : i > start;
  }
};

bool ValidClock(int64_t h, int64_t mi, int64_t sec) { return h <= 23 && mi <= 59 && sec <= 60; }

double ToSeconds(int64_t y, unsigned mo, unsigned d, int64_t h, int64_t mi, int64_t sec) {
  return static_cast<double>(DaysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + (sec == 60 ? 59 : sec));
}

// 2027-01-01T00:00:00Z, 2027-01-01T02:00:00.25+02:00
bool Rfc3339(std::string_view text, double& out) {
  Reader r{text};
  int64_t y, mo, d, h, mi, sec;
  if (!r.Digits(4, y) || !r.Eat('-') || !r.Digits(2, mo) || !r.Eat('-') || !r.Digits(2, d)) return false;
  if (!(r.Eat('T') || r.Eat('t') || r.Eat(' '))) return false;
  if (!r.Digits(2, h) || !r.Eat(':') || !r.Digits(2, mi) || !r.Eat(':') || !r.Digits(2, sec)) return false;
  double fraction = 0;
  if (r.Eat('.')) {
    size_t start = r.i;
    int64_t f;
    if (!r.Digits(0, f)) return false;
    fraction = static_cast<double>(f) / std::pow(10.0, static_cast<double>(r.i - start));
    while (!r.Done() && std::isdigit(static_cast<unsigned char>(r.s[r.i]))) ++r.i;  // beyond nanoseconds
  }
  int64_t offset = 0;
  if (r.Eat('Z') || r.Eat('z')) {
  } else if (r.i < r.s.size() && (r.s[r.i] == '+' || r.s[r.i] == '-')) {
    int sign = r.s[r.i++] == '-' ? -1 : 1;
    int64_t oh, om;
    if (!r.Digits(2, oh) || !r.Eat(':') || !r.Digits(2, om) || oh > 23 || om > 59) return false;
    offset = sign * (oh * 3600 + om * 60);
  } else {
    return false;
  }
  if (!r.Done()) return false;
  if (mo < 1 || mo > 12 || d < 1 || d > DaysIn(y, static_cast<unsigned>(mo)) || !ValidClock(h, mi, sec)) return false;
  out = ToSeconds(y, static_cast<unsigned>(mo), static_cast<unsigned>(d), h, mi, sec) + fraction - static_cast<double>(offset);
  return true;
}

// notAfter=Jan  1 00:00:00 2027 GMT (openssl x509 -enddate / -startdate; the prefix optional), or
// the NotAfter of an openssl 3 s_client chain line
bool OpensslDate(std::string_view text, double& out) {
  // openssl 3 s_client's chain lines: `   v:NotBefore: Oct  3 00:00:00 2026 GMT; NotAfter: Jan  1 ...`:
  // the expiry is what a runbook asks for.
  if (size_t at = text.find("NotAfter: "); at != std::string_view::npos) text.remove_prefix(at + 10);
  for (std::string_view prefix : {"notAfter=", "notBefore="}) {
    if (text.substr(0, prefix.size()) == prefix) text.remove_prefix(prefix.size());
  }
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  Reader r{text};
  unsigned mo = 0;
  for (unsigned m = 0; m < 12; ++m) {
    if (text.substr(0, 3) == kMonths[m]) mo = m + 1;
  }
  if (mo == 0) return false;
  r.i = 3;
  if (!r.Eat(' ')) return false;
  r.Blanks();
  int64_t d, h, mi, sec, y;
  if (!r.Digits(0, d) || d > 31 || !r.Eat(' ')) return false;
  r.Blanks();
  if (!r.Digits(2, h) || !r.Eat(':') || !r.Digits(2, mi) || !r.Eat(':') || !r.Digits(2, sec)) return false;
  if (r.Eat('.')) {  // openssl may print fractional seconds; they do not matter for expiry
    int64_t f;
    if (!r.Digits(0, f)) return false;
  }
  if (!r.Eat(' ')) return false;
  r.Blanks();
  if (!r.Digits(4, y)) return false;
  r.Blanks();
  if (text.substr(r.i) != "GMT" && text.substr(r.i) != "UTC") return false;
  if (d < 1 || d > DaysIn(y, mo) || !ValidClock(h, mi, sec)) return false;
  out = ToSeconds(y, mo, static_cast<unsigned>(d), h, mi, sec);
  return true;
}

// 1798761600 (date +%s), a fraction allowed.
bool EpochSeconds(std::string_view text, double& out) {
  if (text.empty() || text.size() > 18) return false;
  size_t dots = 0;
  for (char c : text) {
    if (c == '.') ++dots;
    else if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  if (dots > 1 || text.front() == '.' || text.back() == '.') return false;
  out = std::strtod(std::string(text).c_str(), nullptr);
  return std::isfinite(out);
}

}  // namespace

std::string FormatTime(double seconds) {
  if (!std::isfinite(seconds) || std::fabs(seconds) > 253402300799.0) return FormatNumber(seconds) + "s since 1970";
  double whole = std::floor(seconds);
  auto secs = static_cast<int64_t>(whole);
  int64_t days = (secs >= 0 ? secs : secs - 86399) / 86400;
  int64_t rest = secs - days * 86400;
  Civil c = CivilFromDays(days);
  std::string out = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", c.year, c.month, c.day, rest / 3600,
                                rest / 60 % 60, rest % 60);
  double fraction = seconds - whole;
  if (fraction > 0) {
    std::string f = fmt::format("{:.3f}", fraction);  // "0.500"
    while (f.back() == '0') f.pop_back();
    if (f.size() > 2) out += f.substr(1);
  }
  return out + "Z";
}

bool ParseTime(std::string_view text, double& seconds, std::string& why) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  if (text.empty()) {
    why = "no text to read a time from";
    return false;
  }
  if (Rfc3339(text, seconds) || OpensslDate(text, seconds) || EpochSeconds(text, seconds)) return true;
  std::string shown(text.substr(0, 60));
  why = fmt::format("`{}` is not a time: expected RFC 3339 (2027-01-01T00:00:00Z), openssl's "
                    "notAfter=Jan  1 00:00:00 2027 GMT, or epoch seconds", shown);
  return false;
}

}  // namespace rb::lang
