// The text filters' regex engine (runtime/regex.hpp) and the filters built on it. Input: the pattern up
// to the first newline, the subject after it. Properties: compiling either succeeds or says why;
// matching terminates (a Pike VM, linear in the subject); a pattern without metacharacters matches
// exactly where the plain substring search does (case-folded for the `_i` form); a grep keeps only
// lines of its input, at most all of them.
#include <cctype>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "runtime/natives.hpp"
#include "runtime/regex.hpp"
#include "runtime/vm.hpp"
#include "tests/fuzz/fuzz_util.hpp"

namespace {

// A filter of natives.def by name, called through its table entry as the VM calls it.
rb::rt::Value Filter(const char* name, const rb::rt::Value* args, size_t argc, std::string& error) {
  return rb::rt::Natives()[rb::rt::FindNative(name)].filter(args, argc, error);
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool IsLiteral(std::string_view pattern) {
  return pattern.find_first_of("\\.[]()|*+?{}^$") == std::string_view::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using rb::rt::Regex;
  using rb::rt::Value;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t nl = input.find('\n');
  std::string_view pattern = input.substr(0, nl);
  std::string_view subject = nl == std::string_view::npos ? std::string_view{} : input.substr(nl + 1);

  for (bool icase : {false, true}) {
    std::string error;
    std::optional<Regex> re = Regex::Compile(pattern, icase, error);
    if (!re) {
      FUZZ_CHECK(!error.empty());
      continue;
    }
    bool found = re->Search(subject);
    if (IsLiteral(pattern)) {
      bool expected = icase ? Lower(subject).find(Lower(pattern)) != std::string::npos
                            : subject.find(pattern) != std::string_view::npos;
      FUZZ_CHECK(found == expected);
    }
  }

  Value text = Value::String(std::string(subject));
  Value pat = Value::String(std::string(pattern));
  std::string error;
  Value lines = Filter("lines", &text, 1, error);
  FUZZ_CHECK(error.empty() && lines.type == rb::rt::ValueType::kLines);
  size_t in_lines = lines.heap ? lines.heap->lines.size() : 0;
  for (const char* name : {"grep", "grep_i", "grep_after"}) {
    Value args[3] = {text, pat, Value::Number(rb::rt::ValueType::kNum, static_cast<double>(size % 4))};
    error.clear();
    Value out = Filter(name, args, 3, error);
    if (out.IsUnknown()) {
      FUZZ_CHECK(!error.empty());
      continue;
    }
    FUZZ_CHECK(out.type == rb::rt::ValueType::kLines);
    FUZZ_CHECK(!out.heap || out.heap->lines.size() <= in_lines);
  }
  for (const char* name : {"head", "tail", "count"}) {
    Value args[2] = {text, Value::Number(rb::rt::ValueType::kNum, static_cast<double>(pattern.size() % 7))};
    error.clear();
    (void)Filter(name, args, 2, error);
    FUZZ_CHECK(error.empty());
  }
  return 0;
}
