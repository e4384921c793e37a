// The `.rbc` file: Program ⇄ bytes. The reader checks structure (magic, version, sizes, checksum,
// every length against the bytes left) and reports the byte offset of the first problem; the
// verifier (runtime/verifier.hpp) then checks meaning. docs/bytecode.md draws the layout.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "runtime/bytecode.hpp"

namespace rb::rt {

inline constexpr char kMagic[4] = {'R', 'B', 'C', '\x1A'};
// 2: source text of guards, expectations, filters and rows; 3: a content hash per source file;
// 4: the effect tables of the programs its commands run (PROG), so no stdlib is needed to verify it;
// 5: each `for` window names the chunk of its condition, which the runner evaluates;
// 6: interpolated strings (an instruction's chunk, an escalation action's message and chunk), let
//    tables and step captures, the time type, CONTAINS/MATCHES/NOW and the unit conversions, program tables'
//    wrapper rules (`wraps exec POD --`);
//    method imports carry their body chunk (a method chunk with its arity; ARG reads its arguments);
// 7: several policies merged (POLI lists its parts; each policy row names its part and its scope, a
//    page action its `every time`, `page owner` as kOwnerContact), a runbook's `down when` chunk and
//    text and the policies it imports; SEVERITY, OWNER and DOWN; a step's `on failure continue`.
inline constexpr uint16_t kFormatVersion = 8;
inline constexpr size_t kHeaderSize = 32;
inline constexpr size_t kMaxRbcBytes = 64u << 20;
// The most the reader allocates for a file's records, per byte of file: a count that would need more
// is refused before anything is allocated, so no file can make the loader take much more than its size.
inline constexpr size_t kMaxMemoryPerFileByte = 4;

struct LoadError {
  uint64_t offset = 0;  // byte offset in the file
  std::string message;
};

std::vector<uint8_t> Serialize(const Program& program);
std::variant<Program, LoadError> Deserialize(const std::vector<uint8_t>& bytes);

// FNV-1a, used for the source hash (64) and the file checksum (32).
uint64_t Fnv1a64(const void* data, size_t size, uint64_t seed = 0xcbf29ce484222325ull);
uint32_t Fnv1a32(const void* data, size_t size);
// Recomputes the checksum in a serialised program's header (for tools and tamper tests).
void Reseal(std::vector<uint8_t>& bytes);


}  // namespace rb::rt
