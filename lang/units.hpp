// The units of the language, defined once: the literal scanner reads suffixes from this table, and
// every printer (plans, reports, disassembly, values) writes quantities through the functions below,
// so a duration prints the same everywhere and prints as a literal the language reads back.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace rb::lang {

// What a number measures. Values are kept in base units: milliseconds, percentage points, bytes.
enum class Dimension : uint8_t { kNone, kDuration, kPercent, kSize };

struct Unit {
  std::string_view suffix;  // as written after the digits: "ms", "5m" → "m", "80%" → "%"
  Dimension dimension;
  uint64_t scale;           // base units per one of this unit
};

// Every suffix the language accepts; "" is a plain number. Durations and sizes are listed from the
// largest unit down, which is also the order a compound duration (`1h30m`) must use.
inline constexpr Unit kUnits[] = {
    {"", Dimension::kNone, 1},
    {"d", Dimension::kDuration, 86400000},
    {"h", Dimension::kDuration, 3600000},
    {"m", Dimension::kDuration, 60000},
    {"s", Dimension::kDuration, 1000},
    {"ms", Dimension::kDuration, 1},
    {"%", Dimension::kPercent, 1},
    {"TB", Dimension::kSize, 1ull << 40},
    {"GB", Dimension::kSize, 1ull << 30},
    {"MB", Dimension::kSize, 1ull << 20},
    {"KB", Dimension::kSize, 1ull << 10},
    {"B", Dimension::kSize, 1},
};

// The unit spelled `suffix` exactly, or null.
const Unit* FindUnit(std::string_view suffix);
// The suffixes of one dimension, for hints: "ms s m h d".
std::string SuffixList(Dimension d);

// A plain number: integers without a fraction ("12"), others with up to 6 significant digits.
std::string FormatNumber(double v);
// A duration in milliseconds as the language writes it: the largest units first, each used once:
// 330000 → "5m30s", 0 → "0s", 86400000 → "1d", 1500 → "1s500ms", -90000 → "-1m30s".
std::string FormatDuration(double ms);
// Bytes in the largest unit that divides them exactly: 1073741824 → "1GB", 1536 → "1536B".
std::string FormatSize(double bytes);
// A quantity of any dimension: "12", "5m30s", "80%", "1GB".
std::string FormatQuantity(Dimension d, double v);

// ---- Points in time (the `time` type) -------------------------------------------------------------
// A time is UTC seconds since the Unix epoch. It prints in RFC 3339, UTC, to the second:
// 1798761600 → "2027-01-01T00:00:00Z" (a fraction of a second is kept as ".5" when there is one).
std::string FormatTime(double seconds);
// Reads a point in time from text, surrounding blanks ignored: RFC 3339 (`2027-01-01T00:00:00Z`,
// `2027-01-01T02:00:00+02:00`, a fraction allowed, `t` or a space for `T`), the `notAfter=`/`notBefore=`
// lines of `openssl x509 -enddate` (`notAfter=Jan  1 00:00:00 2027 GMT`; the prefix optional), and
// epoch seconds (`1798761600`). On anything else returns false and says why in `why`.
bool ParseTime(std::string_view text, double& seconds, std::string& why);
// Days since 1970-01-01 of a proleptic Gregorian date (month 1..12).
int64_t DaysFromCivil(int64_t year, unsigned month, unsigned day);

}  // namespace rb::lang
