// The verifier: nothing runs until a Program passes. It checks every index and offset, every
// instruction's operand, jump targets (forward only, inside the chunk), the stack depth at every
// instruction and merge, that no chunk falls off its end, every import against the host registry
// (name, effect, signature), every command's effect re-derived from the registry's program table,
// and the effect classes: conditions only read, filters are pure, check/verify steps only read,
// destructive commands only in last_resort. There is no way to skip it: LoadProgram is the only
// door to a runnable Program.
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "runtime/bytecode.hpp"
#include "runtime/rbc.hpp"
#include "runtime/registry.hpp"

namespace rb::rt {

inline constexpr size_t kMaxChunkInstructions = 1u << 16;
inline constexpr size_t kMaxStack = 256;
// The longest `within`, `every` and `for` duration a program may hold: 366 days in milliseconds.
inline constexpr uint64_t kMaxDurationMs = 366ull * 86400000;

// The literal bytes of one command word (Linux's MAX_ARG_STRLEN: a longer argument cannot be run),
// and of all the words of one command. The verifier joins each word's parts to match it, so these
// bound what a word of many parts naming one long string can make it build.
inline constexpr size_t kMaxCommandWordBytes = 128u << 10;
inline constexpr size_t kMaxCommandBytes = 256u << 10;

// Verifies a program in place (it fills Chunk::max_stack). Returns the first problem found.
std::optional<LoadError> Verify(Program& program, const Registry& registry);

// Reads and verifies a `.rbc`. The only way to obtain a Program from bytes.
std::variant<Program, LoadError> LoadProgram(const std::vector<uint8_t>& bytes, const Registry& registry);

}  // namespace rb::rt
