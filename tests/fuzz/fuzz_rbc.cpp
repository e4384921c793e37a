// Bytes → the `.rbc` loader and verifier; whatever they accept is disassembled and every chunk runs in
// the VM with small limits (probes answering with values of their declared types, then with nothing
// known), as the verifier sweeps in tests/verifier_test.cpp do. Each input is tried as written and
// again with the header's size and checksum fixed up, so mutations reach the sections rather than
// all ending at the checksum. Properties: a rejection has a message and an offset inside the file; an
// accepted file's sections serialise back to the same bytes; a failed evaluation says why.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <variant>
#include <vector>

#include "compiler/codegen.hpp"
#include "compiler/disasm.hpp"
#include "runtime/natives.hpp"
#include "runtime/rbc.hpp"
#include "runtime/verifier.hpp"
#include "runtime/vm.hpp"
#include "tests/fake_host.hpp"
#include "tests/fuzz/fuzz_util.hpp"

namespace {

void RunEveryChunk(const rb::rt::Program& p) {
  rb::rt::VmLimits limits;
  limits.instruction_budget = 20000;
  limits.memory_bytes = 1u << 20;
  limits.call_depth = 8;
  limits.deadline = std::chrono::milliseconds(2000);
  rb::test::EvalEveryChunk(p, limits, [](uint32_t, const rb::rt::EvalResult& r) {
    if (r.ok) (void)rb::rt::ToString(r.value);
    else FUZZ_CHECK(!r.error.empty());
  });
}

void Try(const std::vector<uint8_t>& bytes) {
  // The runtime's own registry: natives from natives.def, command effects from the file's tables.
  static const rb::rt::Registry& kRegistry = rb::rt::DefaultRegistry();
  auto r = rb::rt::LoadProgram(bytes, kRegistry);
  if (auto* e = std::get_if<rb::rt::LoadError>(&r)) {
    FUZZ_CHECK(!e->message.empty());
    FUZZ_CHECK(e->offset <= bytes.size());
    return;
  }
  const rb::rt::Program& p = std::get<rb::rt::Program>(r);
  // Everything after the header round-trips (the header's flags and reserved bytes are not kept).
  std::vector<uint8_t> again = rb::rt::Serialize(p);
  FUZZ_CHECK(again.size() == bytes.size());
  FUZZ_CHECK(std::equal(again.begin() + rb::rt::kHeaderSize, again.end(), bytes.begin() + rb::rt::kHeaderSize));
  rb::DisasmOptions o;
  o.source_lines = false;  // never read the files a crafted table names
  (void)rb::Disassemble(p, o);
  RunEveryChunk(p);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> bytes(data, data + size);
  Try(bytes);
  if (bytes.size() >= rb::rt::kHeaderSize) {
    uint32_t n = static_cast<uint32_t>(bytes.size());
    std::memcpy(&bytes[20], &n, 4);  // the header's file size
    rb::rt::Reseal(bytes);           // and its checksum
    if (!std::equal(bytes.begin(), bytes.end(), data)) Try(bytes);
  }
  return 0;
}
