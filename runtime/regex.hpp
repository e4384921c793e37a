// The linear-time regex engine is defined once, in lang/regex.hpp (the `matches` operator and the
// checker share it with the grep filters); the runtime's name for it.
#pragma once

#include "lang/regex.hpp"

namespace rb::rt {
using lang::Regex;
}  // namespace rb::rt
