// A source file's text and a lazily built line index (CEL's `Source`): the AST stores byte offsets,
// line and column are computed only when a diagnostic is rendered.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rb {

struct LineCol {
  uint32_t line = 1;    // 1-based
  uint32_t column = 1;  // 1-based, in Unicode code points
};

class Source {
 public:
  Source(std::string path, std::string text);

  const std::string& path() const { return path_; }
  const std::string& text() const { return text_; }

  LineCol At(uint32_t offset) const;
  // The text of a 1-based line without its line end.
  std::string_view Line(uint32_t line) const;
  // Byte offset of the first byte of a 1-based line.
  uint32_t LineStart(uint32_t line) const;

 private:
  void Index() const;

  std::string path_;
  std::string text_;
  mutable std::vector<uint32_t> line_starts_;  // built on first use
};

// Number of code points in a UTF-8 byte range (invalid bytes count as one each).
uint32_t CodePoints(std::string_view s);

// The Unicode name of a bidirectional-control or invisible code point (U+202E "RIGHT-TO-LEFT
// OVERRIDE", U+200B "ZERO WIDTH SPACE", ...), or null for any other. Such a character can make a
// line display differently from what the compiler reads (Trojan Source, CVE-2021-42574).
const char* InvisibleName(uint32_t code_point);

// The code point of the valid `n`-byte UTF-8 sequence at s[0].
uint32_t DecodeUtf8(std::string_view s, size_t n);

}  // namespace rb
