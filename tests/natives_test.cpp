// The natives the runtime declares (runtime/natives.def) against what the stdlib declares, and the
// filter dispatch through the table.
#include <gtest/gtest.h>

#include "runtime/natives.hpp"
#include "runtime/verifier.hpp"
#include "tests/compile_util.hpp"
#include "tests/fake_host.hpp"

namespace rb::test {
namespace {

std::string Signature(const rt::NativeDecl& d) {
  std::string s = std::string(d.is_filter ? "filter " : "") + rt::EffectName(d.effect) + " (";
  for (size_t i = 0; i < d.params.size(); ++i) s += (i ? ", " : "") + std::string(rt::ValueTypeName(d.params[i]));
  return s + ") -> " + rt::ValueTypeName(d.result);
}

// Every filter the stdlib declares (std.text) is a native with the same signature; every native a
// method body calls exists; every stdlib method has a body.
TEST(Natives, StdlibFiltersAreNativesAndEveryMethodHasABodyOverNatives) {
  const rt::Registry stdlib = StdlibRegistry();  // what the checker reads from stdlib/*.rb.denis
  const rt::Registry& host = rt::DefaultRegistry();
  size_t filters = 0;
  for (const auto& [name, decl] : stdlib.natives()) {
    if (!decl.is_filter) continue;
    ++filters;
    const rt::NativeDecl* native = host.Native(name);
    if (!native) {
      ADD_FAILURE() << "the stdlib declares filter `" << name << "`, which runtime/natives.def does not have";
      continue;
    }
    EXPECT_EQ(Signature(decl), Signature(*native)) << "`" << name << "`: stdlib vs runtime/natives.def";
  }
  EXPECT_GE(filters, 10u);
  std::vector<MethodListing> methods = StdlibMethods();
  EXPECT_EQ(methods.size(), 61u);
  for (const auto& m : methods) {
    EXPECT_TRUE(m.has_body) << m.name << " has no body";
    EXPECT_FALSE(m.natives.empty()) << m.name << " calls no native";
    for (const auto& n : m.natives) {
      if (n == "bytes" || n == "seconds" || n == "percent") continue;  // the language's unit conversions
      EXPECT_NE(rt::FindNative(n), rt::kNoNative) << m.name << " calls `" << n << "`, which natives.def does not have";
    }
    EXPECT_EQ(host.Native(m.name), nullptr) << m.name << " is a method, not a native";
  }
}

// The compiler refuses a stdlib filter declaration that drifts from natives.def.
TEST(Natives, CompilerRefusesAStdlibFilterThatDiffersFromTheNatives) {
  auto dir = TempDir() / "stdlib-filters";
  std::filesystem::create_directories(dir / "stdlib");
  for (const auto& e : std::filesystem::directory_iterator(SourceDir() / "stdlib")) {
    std::filesystem::copy_file(e.path(), dir / "stdlib" / e.path().filename(), std::filesystem::copy_options::overwrite_existing);
  }
  std::ofstream(dir / "stdlib" / "text.rb.denis", std::ios::app)
      << "filter grep_fast(pattern: string) -> lines \"?\"\n";
  std::string text = ReadAll(dir / "stdlib" / "text.rb.denis");
  size_t at = text.find("filter head(n: num) -> lines");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, std::string("filter head(n: num) -> lines").size(), "filter head(n: string) -> lines");
  std::ofstream(dir / "stdlib" / "text.rb.denis", std::ios::trunc) << text;
  std::ofstream(dir / "r.rb.denis", std::ios::trunc) << "import std.redis\n";
  LintOptions o;
  o.paths = {(dir / "r.rb.denis").string()};
  o.stdlib_dir = (dir / "stdlib").string();
  std::string out = RenderText(Lint(o));
  EXPECT_NE(out.find("error[RB0066]: filter `grep_fast` is not a native of this host"), std::string::npos) << out;
  EXPECT_NE(out.find("error[RB0067]: filter `head` is declared (string) -> lines, but the host's native is (num) -> lines"),
            std::string::npos) << out;
}

TEST(Natives, TableIsConsistent) {
  const auto& all = rt::Natives();
  size_t slots = 0;
  for (size_t i = 0; i < all.size(); ++i) {
    const rt::NativeInfo& n = all[i];
    EXPECT_EQ(rt::FindNative(n.name), i) << n.name << " is listed twice";
    if (n.is_filter) {
      EXPECT_NE(n.filter, nullptr) << n.name;
      EXPECT_EQ(n.effect, rt::Effect::kPure) << n.name;
      EXPECT_EQ(std::string(n.name).find('.'), std::string::npos) << n.name;
    } else {
      EXPECT_EQ(n.filter, nullptr) << n.name;
      EXPECT_EQ(n.slot, slots) << n.name << ": slots follow the list order";
      ++slots;
      // Reads are answered in dry modes; writes and destructive calls only recorded.
      EXPECT_EQ(n.dry == rt::DryBehaviour::kAnswered, n.effect == rt::Effect::kRead) << n.name;
      EXPECT_EQ(std::string(n.name).find('.'), std::string::npos) << n.name << ": natives have bare names";
    }
  }
  EXPECT_EQ(slots, rt::kSlotCount);
  EXPECT_EQ(rt::CapabilitySlots().size(), rt::kSlotCount);
  EXPECT_EQ(rt::FindNative("redis.ping"), rt::kNoNative);
}

TEST(Natives, LiveSlotIsReportedOnceFilled) {
  auto slot = [](const std::string& name) {
    for (const auto& s : rt::CapabilitySlots()) {
      if (s.name == name) return s;
    }
    return rt::CapabilitySlot{};
  };
  EXPECT_FALSE(slot("redis").live);
  EXPECT_EQ(slot("redis").slot, static_cast<uint16_t>(rt::Slot::kRedis));
  auto& live = rt::LiveSlots()[static_cast<size_t>(rt::Slot::kRedis)];
  live = [](const std::string&, const rt::Value*, size_t) { return rt::Value::Bool(true); };
  EXPECT_TRUE(slot("redis").live);
  EXPECT_FALSE(slot("redis_info").live);
  live = nullptr;
}

const char* kFiltered =
    "import std.http\nimport policy.escalation\n"
    "runbook t \"T\" {\n  severity P2\n  owner sre\n  target api = http(\"denis-api\")\n"
    "  symptoms {\n    a \"a\" : api.scrape() |> grep_i(\"ERR\") |> tail(2) |> count() == 2\n  }\n"
    "  escalate {\n    | when | then |\n    | incident | page sre |\n  }\n}\n";

// The verifier resolves each filter import to its natives.def entry once; the VM calls through it.
TEST(Natives, FilterImportsResolveToTheirEntryAtVerify) {
  rt::Program p = CompileText("filters.rb.denis", kFiltered);
  ASSERT_FALSE(p.imports.empty());
  for (auto& im : p.imports) im.native = rt::kNoNative;
  ASSERT_FALSE(rt::Verify(p, rt::DefaultRegistry()).has_value());
  size_t filters = 0;
  for (const auto& im : p.imports) {
    if (im.IsMethod()) continue;  // a method's truth is its body, not a natives.def entry
    ASSERT_NE(im.native, rt::kNoNative) << p.Str(im.name);
    EXPECT_EQ(rt::Natives()[im.native].name, p.Str(im.name));
    filters += im.is_filter;
  }
  EXPECT_EQ(filters, 3u);
  FakeHost host(p);
  host.probes["http.scrape"] = rt::Value::Lines({"err 1", "ok", "ERR 2", "Err 3"});
  rt::Vm vm(p);
  host.SetVm(&vm);
  rt::EvalResult r = vm.Eval(SymptomChunk(p, "a"), host);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(rt::ToString(r.value), "true");
}

// The VM dispatches by the resolved index, not by the import's name: pointing the index at another
// filter runs that filter.
TEST(Natives, VmDispatchesFiltersByTheResolvedIndex) {
  rt::Program p = CompileText("filters.rb.denis", kFiltered);
  FakeHost host(p);
  host.probes["http.scrape"] = rt::Value::Lines({"err 1", "ok", "ERR 2", "Err 3"});
  for (auto& im : p.imports) {
    if (p.Str(im.name) == "tail") im.native = rt::FindNative("lines");  // all 3 matches, not the last 2
  }
  {
    rt::Vm vm(p);
    host.SetVm(&vm);
    rt::EvalResult r = vm.Eval(SymptomChunk(p, "a"), host);
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(rt::ToString(r.value), "false");
  }
  for (auto& im : p.imports) {
    if (im.is_filter) im.native = rt::kNoNative;
  }
  rt::Vm vm(p);
  host.SetVm(&vm);
  rt::EvalResult r = vm.Eval(SymptomChunk(p, "a"), host);
  ASSERT_FALSE(r.ok);
  EXPECT_NE(r.error.find("has no implementation on this host"), std::string::npos) << r.error;
}

// A host that lists a filter the runtime does not implement cannot load a program calling it.
TEST(Natives, FilterWithoutImplementationIsRejected) {
  rt::Program p = CompileText("filters.rb.denis", kFiltered);
  rt::Registry reg = rt::DefaultRegistry();
  for (auto& im : p.imports) {
    if (p.Str(im.name) == "tail") {
      im.name = static_cast<uint32_t>(p.strings.size());
      p.strings.push_back("tail_fast");
    }
  }
  rt::NativeDecl d;
  d.name = "tail_fast";
  d.effect = rt::Effect::kPure;
  d.is_filter = true;
  d.params = {rt::ValueType::kNum};
  d.result = rt::ValueType::kLines;
  reg.AddNative(d);
  auto err = rt::Verify(p, reg);
  ASSERT_TRUE(err.has_value());
  EXPECT_NE(err->message.find("filter `tail_fast` has no implementation on this host"), std::string::npos) << err->message;
}

// A compiled program carries the effect table of each program its commands run, and nothing else.
TEST(Natives, CompiledProgramCarriesTheTablesOfItsCommands) {
  rt::Program p = CompileFile("runbooks/redis_down.rb.denis");
  std::vector<std::string> names;
  for (const auto& d : p.programs) names.push_back(d.name);
  EXPECT_EQ(names, (std::vector<std::string>{"curl", "kubectl", "redis-cli"}));  // sorted; no celery, no cypher-shell
  const rt::ProgramDecl* cli = p.ProgramTable("redis-cli");
  ASSERT_NE(cli, nullptr);
  const rt::ProgramDecl* host = TestRegistry().Program("redis-cli");
  ASSERT_NE(host, nullptr);
  EXPECT_EQ(cli->rules.size(), host->rules.size());
  EXPECT_EQ(cli->options.size(), host->options.size());
  EXPECT_EQ(cli->default_effect, host->default_effect);
  // Round trip through the file format.
  auto back = rt::Deserialize(rt::Serialize(p));
  ASSERT_TRUE(std::holds_alternative<rt::Program>(back));
  const rt::ProgramDecl* read = std::get<rt::Program>(back).ProgramTable("redis-cli");
  ASSERT_NE(read, nullptr);
  EXPECT_EQ(read->rules.size(), cli->rules.size());
  for (size_t i = 0; i < cli->rules.size(); ++i) {
    EXPECT_EQ(read->rules[i].words, cli->rules[i].words);
    EXPECT_EQ(read->rules[i].effect, cli->rules[i].effect);
  }
  for (size_t i = 0; i < cli->options.size(); ++i) {
    EXPECT_EQ(read->options[i].names, cli->options[i].names);
    EXPECT_EQ(read->options[i].value, cli->options[i].value);
    EXPECT_EQ(read->options[i].secret, cli->options[i].secret);
  }
}

}  // namespace
}  // namespace rb::test
