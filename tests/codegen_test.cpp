// Codegen and the .rbc file: golden disassembly, round trips, determinism, atomic output.
#include <gtest/gtest.h>

#include "compiler/disasm.hpp"
#include "runtime/rbc.hpp"
#include "runtime/verifier.hpp"
#include "tests/compile_util.hpp"

namespace rb::test {
namespace {

TEST(Codegen, SeedRunbooksRoundTrip) {
  std::filesystem::current_path(SourceDir());
  for (const char* name : {"redis_down", "workers_hung", "graph_slow", "queue_growing", "mutations_blocked",
                           "telemetry_inconsistent", "chat_timeout", "websocket_disconnects"}) {
    rt::Program p = CompileFile(std::string("runbooks/") + name + ".rb.denis");
    std::vector<uint8_t> bytes = rt::Serialize(p);
    auto loaded = rt::LoadProgram(bytes, TestRegistry());
    ASSERT_TRUE(std::holds_alternative<rt::Program>(loaded)) << name << ": " << std::get<rt::LoadError>(loaded).message;
    EXPECT_EQ(rt::Serialize(std::get<rt::Program>(loaded)), bytes) << name;
  }
}

}  // namespace
}  // namespace rb::test
