// The compiled form of runbooks: instructions (from opcodes.def), code chunks, and the tables a
// runbook's chunks index. `.rbc` files (runtime/rbc.hpp) serialise exactly this; docs/bytecode.md
// describes the layout.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lang/enums.hpp"
#include "lang/value_type.hpp"

namespace rb::rt {

// What running something can do to the world. Ordered: a larger value is more dangerous.
enum class Effect : uint8_t { kPure, kRead, kWrite, kDestructive };
const char* EffectName(Effect e);

enum class Op : uint8_t {
#define RB_OP(name, shape, pops, pushes, effect, doc) k##name,
#include "runtime/opcodes.def"
#undef RB_OP
};
inline constexpr size_t kOpCount = 0
#define RB_OP(name, shape, pops, pushes, effect, doc) +1
#include "runtime/opcodes.def"
#undef RB_OP
    ;

enum class Shape : uint8_t { kNone, kConst, kParam, kTarget, kSymptom, kStep, kWindow, kJump, kCall, kCount, kLet, kArg };
// What executing an instruction may touch (opcodes.def's effect column; the verifier enforces it
// per chunk class).
enum class OpEffect : uint8_t {
  kPure,     // computes from its operands and constants only
  kBinding,  // reads the run's bindings, fixed for the whole run (a param's value)
  kState,    // reads the runner's state for this instant (symptoms, steps, output, windows, answers)
  kImport,   // the called import's own effect (checked against the host registry and the chunk class)
};

struct OpInfo {
  const char* name;
  Shape shape;
  int8_t pops;  // -1: from the operand
  int8_t pushes;
  OpEffect effect;
  const char* doc;
};
const OpInfo& Info(Op op);

// ---- Instruction words ---------------------------------------------------------------------------
inline uint32_t Encode(Op op, uint32_t a = 0) { return static_cast<uint32_t>(op) | (a << 8); }
inline uint32_t EncodeCall(uint16_t import, uint8_t argc) {
  return static_cast<uint32_t>(Op::kCALL) | (uint32_t{import} << 8) | (uint32_t{argc} << 24);
}
inline uint8_t OpByte(uint32_t w) { return static_cast<uint8_t>(w & 0xFF); }
inline uint32_t OperandA(uint32_t w) { return w >> 8; }
inline uint16_t CallImport(uint32_t w) { return static_cast<uint16_t>((w >> 8) & 0xFFFF); }
inline uint8_t CallArgc(uint32_t w) { return static_cast<uint8_t>(w >> 24); }
inline constexpr uint32_t kMaxOperand = (1u << 24) - 1;

// ---- Values in the constant pool and types in signatures ------------------------------------------
// Defined with the operators in lang/ (the folder and the VM evaluate on it).
using ValueType = lang::ValueType;
using lang::ValueTypeName;

struct Constant {
  ValueType type = ValueType::kNum;  // kBool, kNum/kDuration/kPercent/kSize or kString
  double number = 0;                 // numbers and bools
  uint32_t string = 0;               // index into the string table, for kString
};

// A chunk: the code of one condition or filter. Its class says what it may call.
enum class ChunkClass : uint8_t {
  kCondition,  // symptoms, panel thresholds, guards, expectations, escalation rows: read-only
  kFilter,     // shapes a command's output: pure (filters only)
  kMethod,     // a capability method's body: its arguments (ARG), constants, natives and filters
};
inline constexpr uint32_t kPolicyOwner = 0xFFFFFFFF;
struct Chunk {
  ChunkClass cls = ChunkClass::kCondition;
  uint32_t owner = 0;              // runbook index whose tables the code indexes, or kPolicyOwner
  uint32_t file = 0;               // index into Program::files, for the line table
  std::vector<uint32_t> code;
  std::vector<uint32_t> lines;     // one source line per instruction
  uint32_t max_stack = 0;          // computed by the verifier
  uint64_t byte_offset = 0;        // where the code starts in the .rbc (for error messages)
  uint32_t arity = 0;              // kMethod: the arguments ARG reads (the receiver, then the formals)
};
inline constexpr uint32_t kNoChunk = 0xFFFFFFFF;

inline constexpr uint16_t kNoNative = 0xFFFF;  // no entry in runtime/natives.def

// A function the code calls: a native of the host ("prom", "redis", a text filter "grep"), or a
// capability method ("redis.ping") written in the language, whose body is a kMethod chunk. The
// verifier takes a native's truth from the host registry and a method's from its body.
struct Import {
  uint64_t byte_offset = 0;        // where the record starts in the .rbc (for error messages)
  uint32_t name = 0;               // string: "redis.ping", "prom" or "grep"
  Effect effect = Effect::kRead;   // a method's: at least what its body can do
  bool is_filter = false;          // filters take the piped text as an implicit first argument
  std::vector<ValueType> params;   // excluding the receiver / piped input
  ValueType result = ValueType::kNone;
  uint16_t native = kNoNative;     // the natives.def entry it calls, resolved by the verifier (not stored)
  uint32_t body = kNoChunk;        // a method: its body chunk (kMethod, arity params + 1); kNoChunk: a native
  bool IsMethod() const { return body != kNoChunk; }
};

// ---- Program effect tables -----------------------------------------------------------------------
// The effect table of a program commands may run (`program redis-cli {...}` in the stdlib). A
// compiled program carries the tables of the programs its commands run, so a `.rbc` is verified
// without the stdlib; a host that has its own table for a program decides with that one instead.
// The matcher (runtime/registry.hpp MatchCommand) reads them.
struct PreparedRules;

// One option a program understands, under all its spellings (`-X`, `--request`). Knowing which
// options take a value is what lets the matcher find the sub-command where the program would:
// in `redis-cli -h ping shutdown`, `ping` is the value of `-h` and `shutdown` is the command.
struct ProgramOption {
  std::vector<std::string> names;  // "-X", "--request"
  std::string value;               // the value's name ("METHOD"); empty for a flag with no value
  bool secret = false;             // its value is a credential: only a secret may fill it
  bool TakesValue() const { return !value.empty(); }
};

// A rule's pattern, one of three shapes:
//   - positional words, matched consecutively among the positional words: `rollout restart`;
//   - an option, optionally with a value: `-X DELETE` (that value), `-d` (any value no pattern of
//     its own option names);
//   - `~words`, matched inside any positional word: `~DELETE` in "MATCH (n) DETACH DELETE n".
struct ProgramRule {
  Effect effect = Effect::kRead;
  std::vector<std::string> words;
};
// `wraps exec POD --` (issue 10): after these words of the program's own, the rest of the command is
// a command of its own, matched against its program's table. Each word is a literal (`exec`, `--`),
// an upper-case placeholder taking one positional word (`POD`, `HOST`), or `NAME=VALUE...` taking
// every positional word holding `=`. No words: the first positional word starts the inner command.
struct ProgramWrap {
  std::vector<std::string> words;
};
struct ProgramDecl {
  std::string name;
  std::vector<ProgramOption> options;
  std::vector<ProgramRule> rules;
  std::optional<Effect> default_effect;  // for a sub-command no rule names
  // The option spelled `name` (exactly, or a long option's unique prefix as getopt allows); null
  // when the program declares no such option.
  const ProgramOption* FindOption(const std::string& name) const;
  // The rules in the forms the matcher compares (lower case, normalized, grouped by option),
  // computed once when the table is complete; MatchCommand computes them itself when absent.
  std::shared_ptr<const PreparedRules> prepared;
  void Prepare();
  std::vector<ProgramWrap> wraps;  // wrapper rules, in declaration order
  // Host side only (never serialized): why a rule's effect differs from the stdlib's, by the rule's
  // text as CommandMatch::rule spells it ("kubectl drain" → "lowered from destructive to write by ...").
  std::map<std::string, std::string> notes;
};

struct Contact {
  uint32_t name = 0, display = 0, handle = 0;  // strings
};

// ---- A runbook's tables --------------------------------------------------------------------------
struct Target {
  uint32_t name = 0;        // string
  uint32_t capability = 0;  // string: "redis"
  uint32_t binding = 0;     // string: the name looked up in the environment file
};
struct Param {
  uint32_t name = 0;
  ValueType type = ValueType::kString;
  enum class Default : uint8_t { kNone, kConstant, kSecret } def = Default::kNone;
  uint32_t value = 0;  // constant index (kConstant) or string with the secret's name (kSecret)
};
struct Symptom {
  uint32_t name = 0, description = 0;
  uint32_t chunk = kNoChunk;
};
struct Panel {
  uint32_t title = 0;
  uint32_t chunk = kNoChunk;  // threshold, optional
};
struct Dashboard {
  uint32_t title = 0;
  std::vector<Panel> panels;
};
struct Kibana {
  uint32_t index = 0;  // string; 0 is the empty string: no index
  uint32_t query = 0;
};
// One argv word: literal parts and slots (a param or target whose value is inserted, never split).
struct WordPart {
  enum class Kind : uint8_t { kLiteral, kParam, kTarget, kTargetField, kLet } kind = Kind::kLiteral;
  uint32_t value = 0;  // string index, or param / target / let index
  uint32_t field = 0;  // kTargetField: string, the field of the target's address (`host` of {primary.host})
};
struct Command {
  std::vector<std::vector<WordPart>> argv;
  Effect effect = Effect::kRead;  // from the stdlib program table; re-derived by the verifier
  uint32_t rule = 0;              // string: the program rule that gave the effect
  uint32_t filter = kNoChunk;     // chunk over OUTPUT, optional
  uint32_t filter_text = 0;       // string: the filters as written after `|>`, for plans and reports
};
using StepKind = lang::StepKind;  // lang/step_kind.def
struct StepItem {
  enum class Kind : uint8_t { kCommand, kText, kExpect, kCapture } kind = Kind::kText;
  Command command;
  uint32_t text = 0;              // kText: the instruction (as written when it interpolates); kExpect: the
                                  // condition's source text; kCapture: the index of the let it takes (Runbook::lets)
  uint32_t chunk = kNoChunk;      // kExpect condition; kText: the interpolated instruction (a string), optional
  uint64_t within_ms = 0, every_ms = 0;  // kExpect; 0: not given
};
struct Step {
  StepKind kind = StepKind::kCheck;
  uint32_t name = 0, title = 0;
  uint32_t guard = kNoChunk;
  uint32_t guard_text = 0;        // string: the guard's source text, for plans and reports
  bool continue_on_failure = false;  // `on failure continue`: when this verify fails, the sequence goes on
  std::vector<StepItem> items;
};
// `page owner`: a kPage action's value when it pages the runbook's own owner contact (Runbook::owner
// of the runbook being run); Program::PageContact resolves it. Any other value is a contact index.
inline constexpr uint32_t kOwnerContact = 0xFFFFFFFF;
struct EscAction {
  using Kind = lang::ActionKind;  // lang/action_kind.def
  Kind kind = Kind::kPage;
  uint32_t value = 0;  // contact index (or kOwnerContact), step index, or string (runbook name, text, severity)
  uint32_t message = 0;       // kPage: string, the page's message as written; 0: none
  uint32_t chunk = kNoChunk;  // kManual text / kPage message when it interpolates: a chunk giving the string
  // kPage: `page sre every time`, page again on each firing of the row. false: the contact is paged
  // once per incident and escalation level (the runner keeps that).
  bool repeat = false;
};
inline constexpr uint32_t kNoPart = 0xFFFFFFFF;
struct EscRow {
  uint32_t chunk = kNoChunk;
  uint32_t text = 0;  // string: the `when` cell as written, which names the row in reports and scenarios
  std::vector<EscAction> actions;
  // A policy row: the policy it came from, an index into Policy::parts (its name for the trace:
  // "policy escalation", "policy dba"). kNoPart: a runbook's own row.
  uint32_t part = kNoPart;
  // The row's scope, as written in the `when` cell's leading `and` terms (`severity in [P1, P2] and
  // owner == dba and ...`): strings, severities ("P1") and contact names ("dba"). Empty: any. For
  // plans and reports only; the row's chunk tests the scope itself (SEVERITY, OWNER).
  std::vector<uint32_t> severities, owners;
};
// A `X for > D` window. The runner evaluates `chunk` (the inner X) at every evaluation instant,
// before the escalation rows, and keeps when X was first seen true in the state store; WINDOW reads
// the result. So a window's history never depends on whether the row reading it was evaluated.
struct Window {
  uint64_t bound_ms = 0;
  bool inclusive = false;     // `for >= D`
  uint32_t chunk = kNoChunk;  // condition chunk of the same owner: the windowed condition X
};

// A named value, `let NAME = EXPR`. A runbook or policy let (step == kNoStep) is evaluated at most
// once per evaluation instant, like a symptom; a capture (a `let` in a step body) is taken once, when
// its step reaches it, from the output of the command before it, and then keeps its value for the
// run (unknown until taken). LET A reads either.
inline constexpr uint32_t kNoStep = 0xFFFFFFFF;
struct Let {
  uint32_t name = 0;
  uint32_t chunk = kNoChunk;   // condition chunk of the same owner
  uint32_t step = kNoStep;     // captures: the step that takes it
  uint32_t text = 0;           // string: the expression as written
};

// `lock "redis/{redis.host}"`: a name a live run must hold from its start to its end (docs/live.md).
struct Lock {
  uint32_t text = 0;          // string: the name as written
  uint32_t chunk = kNoChunk;  // condition chunk of the runbook computing it when it interpolates
  uint32_t step = kNoStep;    // the step that declares it; kNoStep: the runbook
};

struct Runbook {
  uint32_t name = 0, title = 0, severity = 0;
  uint32_t owner = 0;  // contact index
  std::vector<uint32_t> tags;
  uint32_t file = 0;
  std::vector<Target> targets;
  std::vector<Param> params;
  std::vector<Symptom> symptoms;
  std::vector<Dashboard> dashboards;
  std::vector<Kibana> kibana;
  std::vector<Step> steps;
  std::vector<EscRow> rows;
  std::vector<Window> windows;
  uint64_t byte_offset = 0;  // where the runbook's record starts in the .rbc (for error messages)
  std::vector<Let> lets;
  // `down when EXPR`: the condition that makes the service down, read by DOWN (`down` in escalation
  // rows, the policy's `down for > 5m`). kNoChunk: the runbook declares none, and `down` is false.
  uint32_t down = kNoChunk;
  uint32_t down_text = 0;          // string: the condition as written; 0 with no `down when`
  std::vector<uint32_t> policies;  // the policies it imports: indices into Policy::parts
  std::vector<Lock> locks;         // format 8: its `lock` declarations and its steps'
};

// One imported policy, as declared (`policy dba "DBA escalation" { ... }`).
struct PolicyPart {
  uint32_t name = 0, title = 0, file = 0;  // strings, and an index into Program::files
};
// The escalation policies the runbooks import, merged into one table: their targets, rows, windows
// and lets, each policy's after the one before (its chunks index the merged tables). A row applies to
// the runbooks that import its policy (Program::PolicyRowApplies). name/title/file: the first part's.
struct Policy {
  uint32_t name = 0, title = 0, file = 0;
  std::vector<PolicyPart> parts;  // in merge order; every row's `part` indexes it
  std::vector<Target> targets;
  std::vector<EscRow> rows;
  std::vector<Window> windows;
  std::vector<Let> lets;
};

struct Program {
  uint64_t source_hash = 0;              // FNV-1a 64 over the source files' paths and bytes
  std::vector<std::string> strings;      // [0] is always ""
  std::vector<std::string> files;        // source paths, for line tables
  std::vector<uint64_t> file_hashes;     // FNV-1a 64 of each file's bytes, parallel to `files`
  std::vector<Constant> constants;
  std::vector<Import> imports;
  std::vector<Contact> contacts;
  std::vector<Chunk> chunks;
  std::vector<Runbook> runbooks;
  std::optional<Policy> policy;
  uint64_t policy_offset = 0;            // where the policy record starts in the .rbc
  std::vector<ProgramDecl> programs;     // effect tables of the programs its commands run, by name
  uint64_t programs_offset = 0;          // where the PROG section's records start in the .rbc
  // The table this program carries for `name`; null when it carries none.
  const ProgramDecl* ProgramTable(const std::string& name) const {
    for (const auto& d : programs) {
      if (d.name == name) return &d;
    }
    return nullptr;
  }

  const std::string& Str(uint32_t i) const { return strings.at(i); }

  // Whether policy row `row` applies to runbook `runbook`: the runbook imports the row's policy.
  bool PolicyRowApplies(uint32_t runbook, const EscRow& row) const {
    if (row.part == kNoPart) return true;
    const auto& ps = runbooks.at(runbook).policies;
    for (uint32_t p : ps) {
      if (p == row.part) return true;
    }
    return false;
  }
  // The contact a kPage action of runbook `runbook` pages: `page owner` resolved to its owner.
  uint32_t PageContact(uint32_t runbook, const EscAction& a) const {
    return a.value == kOwnerContact ? runbooks.at(runbook).owner : a.value;
  }
  // "policy dba" for a row of policy dba, "" for a runbook's own row: for traces and reports.
  std::string RowSource(const EscRow& row) const {
    if (row.part == kNoPart || !policy || row.part >= policy->parts.size()) return {};
    return "policy " + Str(policy->parts[row.part].name);
  }
};

}  // namespace rb::rt
