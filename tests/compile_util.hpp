// Compile a runbook text (or file) to a verified Program for tests.
#pragma once

#include <gtest/gtest.h>

#include "compiler/build.hpp"
#include "compiler/codegen.hpp"
#include "tests/test_util.hpp"

namespace rb::test {

inline const rt::Registry& TestRegistry() {
  static const rt::Registry kRegistry = StdlibRegistry();
  return kRegistry;
}

// Compiles a file relative to the repository root; fails the test on diagnostics.
inline rt::Program CompileFile(const std::string& rel) {
  std::filesystem::current_path(SourceDir());
  LoadedProgram l = LoadAny(rel, TestRegistry());
  EXPECT_TRUE(l.program.has_value()) << l.error << RenderText(l.lint);
  return l.program ? std::move(*l.program) : rt::Program{};
}

// Compiles runbook source text written to a temporary file beside a copy of the test policy.
inline rt::Program CompileText(const std::string& name, const std::string& text) {
  auto dir = TempDir() / "compile";
  std::filesystem::create_directories(dir / "policy");
  std::filesystem::copy_file(SourceDir() / "tests" / "golden" / "policy" / "escalation.rb.denis",
                             dir / "policy" / "escalation.rb.denis", std::filesystem::copy_options::overwrite_existing);
  std::ofstream(dir / name, std::ios::binary) << text;
  LoadedProgram l = LoadAny((dir / name).string(), TestRegistry());
  EXPECT_TRUE(l.program.has_value()) << l.error << RenderText(l.lint);
  return l.program ? std::move(*l.program) : rt::Program{};
}

inline uint32_t SymptomChunk(const rt::Program& p, const std::string& symptom) {
  for (const auto& rb : p.runbooks) {
    for (const auto& s : rb.symptoms) {
      if (p.strings[s.name] == symptom) return s.chunk;
    }
  }
  ADD_FAILURE() << "no symptom " << symptom;
  return 0;
}

}  // namespace rb::test
