// Every opcode handler pops and pushes what its row in opcodes.def says. For each opcode a chunk
// pushes the operands its row pops, runs it once and returns; the verifier accepts the chunk only if
// the row's counts leave one value for RETURN, and the VM refuses to return with any other depth. A
// handler that disagrees with its row therefore fails here, whatever its result.
#include <gtest/gtest.h>

#include "runtime/verifier.hpp"
#include "tests/compile_util.hpp"
#include "tests/fake_host.hpp"

namespace rb::test {
namespace {

using rt::Op;

// A runbook with one of everything an operand can index: param, target, symptom, step, window,
// a capability import and a filter import.
const char* kSource =
    "import std.redis\nimport policy.escalation\n"
    "runbook t \"T\" {\n  severity P2\n  owner sre\n  param key: string = \"k\"\n"
    "  target redis = redis(\"redis\")\n"
    "  symptoms {\n    down \"d\" : not redis.ping()\n  }\n"
    "  steps {\n    check look \"Look\" {\n      $ redis-cli info {key} |> grep(\"x\") |> count()\n    }\n  }\n"
    "  escalate {\n    | when | then |\n    | down for > 5m | page sre |\n  }\n}\n";

uint32_t Constant(rt::Program& p, rt::ValueType type, double number, const std::string& text = {}) {
  rt::Constant k;
  k.type = type;
  k.number = number;
  if (type == rt::ValueType::kString) {
    k.string = static_cast<uint32_t>(p.strings.size());
    p.strings.push_back(text);
    k.number = 0;
  }
  p.constants.push_back(k);
  return static_cast<uint32_t>(p.constants.size() - 1);
}

uint32_t ImportIndex(const rt::Program& p, bool filter) {
  for (uint32_t i = 0; i < p.imports.size(); ++i) {
    if (p.imports[i].is_filter == filter && p.imports[i].params.empty()) return i;
  }
  ADD_FAILURE() << "no import without parameters (filter: " << filter << ")";
  return 0;
}

TEST(VmStack, EveryHandlerPopsAndPushesWhatOpcodesDefSays) {
  rt::Program p = CompileText("stack.rb.denis", kSource);
  ASSERT_EQ(p.runbooks.size(), 1u);
  ASSERT_FALSE(p.runbooks[0].windows.empty());
  const uint32_t num = Constant(p, rt::ValueType::kNum, 3);
  const uint32_t question = Constant(p, rt::ValueType::kString, 0, "¿Data loss?");
  const uint32_t capability = ImportIndex(p, false), filter = ImportIndex(p, true);
  p.runbooks[0].lets.push_back(rt::Let{p.runbooks[0].name, p.runbooks[0].symptoms.at(0).chunk, rt::kNoStep, p.runbooks[0].name});

  for (size_t o = 0; o < rt::kOpCount; ++o) {
    const Op op = static_cast<Op>(o);
    const rt::OpInfo& info = rt::Info(op);
    std::vector<uint32_t> code;
    auto push_num = [&] { code.push_back(rt::Encode(Op::kCONST, num)); };
    auto push_bool = [&] { code.push_back(rt::Encode(Op::kTRUE)); };
    // The operands the row pops, of the types the handler needs; then the instruction itself.
    switch (op) {
      case Op::kNOP: push_bool(); code.push_back(rt::Encode(op)); break;
      case Op::kCONST: code.push_back(rt::Encode(op, num)); break;
      case Op::kTRUE: case Op::kFALSE: case Op::kUNKNOWN: case Op::kINCIDENT: case Op::kOUTPUT:
        code.push_back(rt::Encode(op));
        break;
      case Op::kPARAM: case Op::kTARGET: case Op::kSYMPTOM: case Op::kFAILED: case Op::kWINDOW: case Op::kLET:
        for (int i = 0; i < info.pops; ++i) push_bool();
        code.push_back(rt::Encode(op, 0));
        break;
      case Op::kASK: code.push_back(rt::Encode(op, question)); break;
      case Op::kNOT: case Op::kAND: case Op::kOR: case Op::kPOP:
        for (int i = 0; i < info.pops + (op == Op::kPOP ? 1 : 0); ++i) push_bool();
        code.push_back(rt::Encode(op));
        break;
      case Op::kNEG: case Op::kADD: case Op::kSUB: case Op::kMUL: case Op::kDIV:
      case Op::kEQ: case Op::kNE: case Op::kLT: case Op::kLE: case Op::kGT: case Op::kGE:
        for (int i = 0; i < info.pops; ++i) push_num();
        code.push_back(rt::Encode(op));
        break;
      case Op::kLIST:
        push_num(), push_num(), push_num();
        code.push_back(rt::Encode(op, 3));
        break;
      case Op::kCALL:  // a capability with no arguments (receiver only), then a filter over its text
        code.push_back(rt::Encode(Op::kTARGET, 0));
        code.push_back(rt::EncodeCall(static_cast<uint16_t>(capability), 1));
        code.push_back(rt::Encode(Op::kOUTPUT));
        code.push_back(rt::EncodeCall(static_cast<uint16_t>(filter), 1));
        code.push_back(rt::Encode(Op::kPOP));
        break;
      case Op::kJUMP_IF_FALSE: case Op::kJUMP_IF_TRUE:  // taken and not taken: both reach RETURN
        code.push_back(rt::Encode(op == Op::kJUMP_IF_FALSE ? Op::kFALSE : Op::kTRUE));
        code.push_back(rt::Encode(op, 2));
        break;
      case Op::kCONCAT:
        push_num(), push_bool(), code.push_back(rt::Encode(Op::kCONST, question));
        code.push_back(rt::Encode(op, 3));
        break;
      case Op::kTFIELD: case Op::kASK_TEXT:  // both pop a string: a field name, a question
        code.push_back(rt::Encode(Op::kCONST, question));
        code.push_back(rt::Encode(op, 0));
        break;
      case Op::kRETURN: push_bool(); break;  // the RETURN every chunk ends with
      case Op::kCONTAINS: case Op::kMATCHES:  // text and a pattern: the question's text twice
        code.push_back(rt::Encode(Op::kCONST, question));
        code.push_back(rt::Encode(Op::kCONST, question));
        code.push_back(rt::Encode(op));
        break;
      case Op::kNOW: case Op::kSEVERITY: case Op::kOWNER: case Op::kDOWN: code.push_back(rt::Encode(op)); break;
      case Op::kAS_SIZE: case Op::kAS_DURATION: case Op::kAS_PERCENT:
        push_num();
        code.push_back(rt::Encode(op));
        break;
      case Op::kARG:  // only in a method body: the receiver, dropped
        code.push_back(rt::Encode(op, 0));
        code.push_back(rt::Encode(Op::kPOP));
        push_bool();
        break;
    }
    code.push_back(rt::Encode(Op::kRETURN));
    rt::Chunk chunk;
    chunk.owner = 0;
    if (op == Op::kARG) {
      chunk.cls = rt::ChunkClass::kMethod;
      chunk.owner = rt::kPolicyOwner;
      chunk.arity = 1;
    }
    chunk.code = code;
    chunk.lines.assign(code.size(), 1);
    p.chunks.push_back(chunk);
    const uint32_t index = static_cast<uint32_t>(p.chunks.size() - 1);

    std::optional<rt::LoadError> rejected = rt::Verify(p, TestRegistry());
    ASSERT_FALSE(rejected) << info.name << ": " << rejected->message;
    if (op == Op::kARG) {  // a body runs only through its method's CALL (tests/method_bodies_test.cpp)
      p.chunks.pop_back();
      continue;
    }
    for (bool known : {true, false}) {
      FakeHost host(p);
      host.output = known ? rt::Value::Lines({"x", "y"}) : rt::Value::Unknown();
      if (known) host.probes["redis.ping"] = rt::Value::Bool(true);
      rt::Vm vm(p);
      host.SetVm(&vm);
      rt::EvalResult r = vm.Eval(index, host);
      EXPECT_TRUE(r.ok) << info.name << ": " << r.error;
    }
    p.chunks.pop_back();
  }
}

}  // namespace
}  // namespace rb::test
