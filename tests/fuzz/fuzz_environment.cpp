// Environment YAML → the environment loader, as every verb given `--env FILE` runs it. The loader reads
// files only, so each input is written to a scratch file. Properties: no crash, hang or escaping
// exception; a refused file says why, and a message names a position inside the file when it has one.
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "runtime/config.hpp"
#include "tests/fuzz/fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string kPath = rb::fuzz::WriteScratch("input.env.yaml", data, size);
  rb::rt::Environment env;
  std::vector<rb::rt::ConfigError> errors;
  bool ok = rb::rt::LoadEnvironment(kPath, env, errors);
  for (const auto& e : errors) {
    FUZZ_CHECK(!e.message.empty());
    FUZZ_CHECK(e.mark.line <= static_cast<int>(size) + 1);
    (void)e.ToString();
  }
  FUZZ_CHECK(ok || !errors.empty());
  return 0;
}
