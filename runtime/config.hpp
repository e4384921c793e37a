// The YAML files that configure a run: the environment (where targets live, what may run, who is
// paged how) and scenarios (a timeline of what the world answers, and what the rehearsal must show).
// This header gathers them (environment.hpp, scenario.hpp, config_error.hpp) with the literals both
// write. See docs/environment.md and docs/scenarios.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "runtime/config_error.hpp"
#include "runtime/environment.hpp"
#include "runtime/scenario.hpp"
#include "runtime/value.hpp"

namespace rb::rt {

// ---- Literals ------------------------------------------------------------------------------------
// Parses a literal as the language writes it, into a value of type `want`:
//   kBool "true"/"false" (also YAML's yes/no), kNum "12", "0.5", kDuration "500ms" "10s" "5m" "2h" "1d",
//   kPercent "80%", kSize "512KB" "1GB" (powers of 1024, also "B"), kString any text,
//   kLines text split at newlines (a trailing newline adds no empty line).
// On failure returns nullopt and sets `error` ("expected a duration such as 5m, got \"5 minutes\"").
std::optional<Value> ParseLiteral(const std::string& text, ValueType want, std::string& error);
// A duration such as "90s", "5m", "1h30m"; "0" and "0s" are zero. nullopt on anything else.
std::optional<int64_t> ParseDurationMs(const std::string& text);

// For the loaders' messages: a plain non-negative number ("3", "0.5"), and how a type is named
// ("a duration") and written ("5m or 90s").
std::optional<long double> PlainNumber(std::string_view text);
std::string LiteralTypePhrase(ValueType t);
const char* LiteralTypeExample(ValueType t);

}  // namespace rb::rt
