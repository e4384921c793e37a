// Disassembly of a Program: its tables and every chunk's instructions, printed by operand shape from
// the one instruction list (a new opcode needs no new printer), interleaved with the source lines the
// instructions came from when the source files can be read.
#pragma once

#include <string>

#include "runtime/bytecode.hpp"

namespace rb {

struct DisasmOptions {
  bool source_lines = true;  // read the source files named in the program and show their lines
};

std::string Disassemble(const rt::Program& program, const DisasmOptions& options = {});

}  // namespace rb
