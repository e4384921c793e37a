// How much heap the `.rbc` loader takes per byte of input, counted exactly: this binary replaces the
// global operator new/delete with counting versions, so the figures are deterministic (no clocks, no
// RSS sampling). Each crafted file maximises one kind of record the loader turns into a container
// element much larger than the record itself (empty strings, empty step items, empty words, ...).
// It lives in its own test binary so the counting allocator touches no other test.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <new>
#include <string>
#include <vector>

#include "runtime/natives.hpp"
#include "runtime/rbc.hpp"
#include "runtime/verifier.hpp"
#include "tests/compile_util.hpp"

namespace {

// Every block carries a header: its size and whether it was counted, so a block allocated before a
// measurement and freed during it does not skew the figures.
struct alignas(16) BlockHeader {
  size_t size;
  bool counted;
};
bool g_counting = false;
size_t g_live = 0, g_peak = 0;

void* Allocate(size_t n) {
  auto* h = static_cast<BlockHeader*>(std::malloc(sizeof(BlockHeader) + (n ? n : 1)));
  if (!h) return nullptr;
  h->size = n;
  h->counted = g_counting;
  if (g_counting) {
    g_live += n;
    if (g_live > g_peak) g_peak = g_live;
  }
  return h + 1;
}
void Release(void* p) {
  if (!p) return;
  BlockHeader* h = static_cast<BlockHeader*>(p) - 1;
  if (h->counted) g_live -= h->size;
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"  // this is the operator delete, so it frees
#endif
  std::free(h);
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
}

}  // namespace

void* operator new(size_t n) {
  if (void* p = Allocate(n)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t n) {
  if (void* p = Allocate(n)) return p;
  throw std::bad_alloc();
}
void* operator new(size_t n, const std::nothrow_t&) noexcept { return Allocate(n); }
void* operator new[](size_t n, const std::nothrow_t&) noexcept { return Allocate(n); }
void operator delete(void* p) noexcept { Release(p); }
void operator delete[](void* p) noexcept { Release(p); }
void operator delete(void* p, size_t) noexcept { Release(p); }
void operator delete[](void* p, size_t) noexcept { Release(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { Release(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { Release(p); }

namespace rb::test {
namespace {

// Peak heap bytes held while `fn` runs (its result included), above what was live before.
template <typename Fn>
size_t PeakDuring(Fn fn) {
  g_live = 0;
  g_peak = 0;
  g_counting = true;
  {
    auto result = fn();
    (void)result;
  }
  g_counting = false;
  return g_peak;
}

// The most the loader may take per byte of file; the figure the format promises (docs/bytecode.md).
constexpr double kMaxMultiple = static_cast<double>(rt::kMaxMemoryPerFileByte);

struct Crafted {
  std::string name;
  std::vector<uint8_t> bytes;
};

// A program with one runbook and one step, for the crafted inputs to grow.
rt::Program Skeleton() {
  rt::Program p;
  p.strings = {""};
  p.files = {"x.rb.denis"};
  p.runbooks.emplace_back();
  p.runbooks[0].steps.emplace_back();
  return p;
}

// Inputs of about `n` records each, every record as small as the format allows.
std::vector<Crafted> CraftedInputs(size_t n) {
  std::vector<Crafted> out;
  {
    rt::Program p = Skeleton();
    p.strings.resize(n);  // empty strings: 4 bytes each in the file
    out.push_back({"empty strings", rt::Serialize(p)});
  }
  {
    rt::Program p = Skeleton();
    p.files.resize(n);  // empty file names
    out.push_back({"empty file names", rt::Serialize(p)});
  }
  {
    rt::Program p = Skeleton();
    p.runbooks[0].steps[0].items.resize(n);  // text items naming string 0: 5 bytes each
    out.push_back({"empty step items", rt::Serialize(p)});
  }
  {
    rt::Program p = Skeleton();
    rt::StepItem cmd;
    cmd.kind = rt::StepItem::Kind::kCommand;
    cmd.command.argv.resize(n);  // words of no parts: 4 bytes each
    p.runbooks[0].steps[0].items.push_back(cmd);
    out.push_back({"empty argv words", rt::Serialize(p)});
  }
  {
    rt::Program p = Skeleton();
    p.runbooks.resize(n / 8);  // minimal runbooks: 56 bytes each
    out.push_back({"empty runbooks", rt::Serialize(p)});
  }
  {
    rt::Program p = Skeleton();
    p.runbooks[0].steps.resize(n / 4);  // minimal steps: 21 bytes each
    out.push_back({"empty steps", rt::Serialize(p)});
  }
  {
    rt::Program p = Skeleton();
    p.chunks.resize(n / 3);  // chunks of no code: 13 bytes each
    out.push_back({"empty chunks", rt::Serialize(p)});
  }
  {
    rt::Program p = Skeleton();
    p.imports.resize(n / 3);  // imports of no params: 11 bytes each
    out.push_back({"empty imports", rt::Serialize(p)});
  }
  {
    rt::Program p = Skeleton();
    p.runbooks[0].dashboards.resize(n / 2);  // dashboards of no panels: 8 bytes each
    out.push_back({"empty dashboards", rt::Serialize(p)});
  }
  {
    rt::Program p = Skeleton();
    p.runbooks[0].rows.resize(n / 3);  // rows of no actions: 12 bytes each
    out.push_back({"empty rows", rt::Serialize(p)});
  }
  {
    rt::Program p = Skeleton();
    p.runbooks[0].params.resize(n / 3);  // 10 bytes each
    p.runbooks[0].symptoms.resize(n / 3);
    p.runbooks[0].targets.resize(n / 3);
    out.push_back({"params, symptoms, targets", rt::Serialize(p)});
  }
  {
    rt::Program p = Skeleton();
    p.strings.resize(n / 5, std::string(16, 'x'));  // just past the short-string buffer
    out.push_back({"16-byte strings", rt::Serialize(p)});
  }
  {
    rt::Program p = Skeleton();
    p.programs.resize(n / 14);  // program tables of no options, rules or default: 14 bytes each
    out.push_back({"empty program tables", rt::Serialize(p)});
  }
  {
    rt::Program p = Skeleton();
    p.programs.resize(1);
    p.programs[0].rules.resize(n / 5);  // rules of no words: 5 bytes each
    p.programs[0].options.resize(n / 9);  // options of no names: 9 bytes each
    out.push_back({"empty table rules, options", rt::Serialize(p)});
  }
  return out;
}

TEST(RbcLoaderMemory, CraftedFilesTakeAtMostASmallMultipleOfTheirSize) {
  double worst = 0;
  std::string worst_name;
  for (const Crafted& c : CraftedInputs(200000)) {
    const std::vector<uint8_t>& bytes = c.bytes;
    size_t peak = PeakDuring([&] { return rt::Deserialize(bytes); });
    double multiple = static_cast<double>(peak) / static_cast<double>(bytes.size());
    std::printf("  %-28s %9zu bytes in, %10zu bytes peak, %5.2fx\n", c.name.c_str(), bytes.size(), peak, multiple);
    EXPECT_LE(multiple, kMaxMultiple) << c.name << ": " << peak << " bytes for a " << bytes.size() << "-byte file";
    if (multiple > worst) worst = multiple, worst_name = c.name;
  }
  std::printf("  worst: %.2fx (%s)\n", worst, worst_name.c_str());
}

// The verifier joins each command word's literal parts to match it against the host's rules; a word of
// many parts naming one long string must not make it build a string far larger than the file.
TEST(RbcLoaderMemory, CommandWordsOfRepeatedLongStringsStayBounded) {
  (void)TestRegistry();
  rt::Program p = CompileFile("runbooks/redis_down.rb.denis");
  uint32_t big = static_cast<uint32_t>(p.strings.size());
  p.strings.push_back(std::string(200000, 'x'));
  rt::Command* cmd = nullptr;
  for (auto& step : p.runbooks[0].steps) {
    for (auto& item : step.items) {
      if (!cmd && item.kind == rt::StepItem::Kind::kCommand && item.command.argv.size() >= 2) cmd = &item.command;
    }
  }
  ASSERT_NE(cmd, nullptr);
  cmd->argv[1].assign(500, rt::WordPart{rt::WordPart::Kind::kLiteral, big});  // 100 MB once joined
  std::vector<uint8_t> bytes = rt::Serialize(p);
  std::string message;
  size_t peak = PeakDuring([&] {
    auto r = rt::LoadProgram(bytes, TestRegistry());
    if (auto* e = std::get_if<rt::LoadError>(&r)) message = e->message;
    return r;
  });
  double multiple = static_cast<double>(peak) / static_cast<double>(bytes.size());
  std::printf("  long joined word: %zu bytes in, %zu bytes peak, %.2fx: %s\n", bytes.size(), peak, multiple, message.c_str());
  EXPECT_NE(message.find("longer than"), std::string::npos) << message;
  EXPECT_LE(multiple, kMaxMultiple);
}

// Loading and verifying real compiled runbooks stays within the bound too (they are accepted).
TEST(RbcLoaderMemory, CompiledRunbooksLoadWithinTheBound) {
  namespace fs = std::filesystem;
  size_t n = 0;
  (void)TestRegistry();  // built once, before any measurement
  (void)rt::DefaultRegistry();
  for (const auto& e : fs::recursive_directory_iterator(SourceDir() / "runbooks")) {
    std::string path = e.path().string();
    if (!e.is_regular_file() || path.size() < 9 || path.compare(path.size() - 9, 9, ".rb.denis") != 0) continue;
    if (path.find("/policy/") != std::string::npos) continue;
    rt::Program p = CompileFile(fs::relative(e.path(), SourceDir()).string());
    std::vector<uint8_t> bytes = rt::Serialize(p);
    bool loaded = false;
    size_t peak = PeakDuring([&] {
      auto r = rt::LoadProgram(bytes, TestRegistry());
      loaded = std::holds_alternative<rt::Program>(r);
      return r;
    });
    EXPECT_TRUE(loaded) << path;
    // With the runtime's own registry, the tables the file carries are prepared for the matcher too.
    size_t own = PeakDuring([&] { return rt::LoadProgram(bytes, rt::DefaultRegistry()); });
    std::printf("  %-40s %7zu bytes in, %8zu bytes peak, %5.2fx (runtime registry, carried tables)\n", "",
                bytes.size(), own, static_cast<double>(own) / static_cast<double>(bytes.size()));
    double multiple = static_cast<double>(peak) / static_cast<double>(bytes.size());
    std::printf("  %-40s %7zu bytes in, %8zu bytes peak, %5.2fx\n", fs::relative(e.path(), SourceDir()).c_str(),
                bytes.size(), peak, multiple);
    EXPECT_LE(multiple, kMaxMultiple) << path;
    ++n;
  }
  EXPECT_GE(n, 1u);
}

}  // namespace
}  // namespace rb::test
