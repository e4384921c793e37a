// Disassembly of a Program: its tables and every chunk's instructions, printed by operand shape from
// the one instruction list (a new opcode needs no new printer), interleaved with the source lines the
// instructions came from when the source can be found.
//
// A `.rbc` names its source files, but those names come from the file and are not trusted: a recorded
// `/etc/shadow` is never opened. A file's lines are shown only from text whose FNV-1a 64 matches the
// content hash the program records for it, found in memory (`sources`) or in a folder to search: the
// `.rbc`'s own folder, then each of `source_dirs`, under the recorded name's trailing components
// (`runbooks/policy/x.rb.denis` is looked for as that, `policy/x.rb.denis`, then `x.rb.denis`). When a
// file is not found, its lines are left out and one note at the top says why.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "runtime/bytecode.hpp"

namespace rb {

struct DisasmOptions {
  bool source_lines = true;  // interleave the source lines, where the source is found
  // Texts already in memory, by recorded path: the files a source input was compiled from.
  std::map<std::string, std::string> sources;
  std::string rbc_path;                  // the `.rbc` shown: its folder is searched first
  std::vector<std::string> source_dirs;  // more folders to search, in order (`--source-dir`)
};

std::string Disassemble(const rt::Program& program, const DisasmOptions& options = {});

}  // namespace rb
