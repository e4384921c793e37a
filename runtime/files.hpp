// Reading the files a user names (runbooks, modules, scenarios, environments, bytecode) so that a
// hostile path ends at once: a FIFO, device, socket or directory is refused before any byte is
// read, and no file is held past a size limit.
#pragma once

#include <cstddef>
#include <string>

namespace rb::rt {

enum class FileRead {
  kOk,        // `text` holds the whole file
  kTooLarge,  // `text` holds the first limit + 1 bytes; `error` says how large the limit is
  kFailed,    // `text` is empty; `error` says why ("is a FIFO, not a file", "No such file or directory")
};

// Reads the regular file at `path`, at most `limit` bytes. It is opened without blocking (a FIFO
// with no writer, a terminal) and checked with fstat before reading. `error` never repeats the path.
FileRead ReadRegularFile(const std::string& path, size_t limit, std::string& text, std::string& error);

// What a non-regular file is, for messages: "is a directory", "is a FIFO, not a file"; "" when it
// is a regular file. `mode` is a stat st_mode.
std::string NotAFile(unsigned mode);

}  // namespace rb::rt
