// The typed AST the parser builds and the checker annotates. Every node carries a byte-offset Span into
// its file; line and column are computed only when a diagnostic is rendered (compiler/source.hpp).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lang/enums.hpp"
#include "runtime/bytecode.hpp"
#include "runtime/registry.hpp"

namespace rb::ast {

// Half-open byte range [begin, end) into the owning file's text.
struct Span {
  uint32_t begin = 0;
  uint32_t end = 0;
};

// What running something can do to the world (shared with the runtime, which re-checks it).
using Effect = rt::Effect;
inline const char* EffectName(Effect e) { return rt::EffectName(e); }

// Static types. kTarget is a capability instance; kStep names a step (only as `failed(step)`).
enum class Type : uint8_t {
  kError,  // already reported; suppresses follow-on errors
  kBool,
  kNum,
  kDuration,
  kPercent,
  kSize,
  kString,
  kLines,
  kSecret,
  kList,
  kTarget,
  kNone,
  kTime,  // a point in time (UTC seconds since the epoch)
};
const char* TypeName(Type t);
std::optional<Type> TypeFromName(const std::string& name);  // names usable in declarations

enum class ExprKind : uint8_t {
  kNumber,   // value_ in base units (ms, bytes, percent points, plain)
  kString,   // text_ is the decoded string
  kBool,     // value_ 1 or 0
  kUnknown,  // the literal `unknown`
  kName,     // text_
  kMember,   // kids_[0] . text_
  kCall,     // kids_[0] ( kids_[1..] )
  kPipe,     // kids_[0] |> kids_[1] (a kCall on a filter name)
  kList,     // [ kids_... ]
  kAsk,      // ask text_
  kNot,      // not kids_[0]
  kNeg,      // - kids_[0]
  kBinary,   // kids_[0] op_ kids_[1]
  kWindow,   // kids_[0] for op_ value_(ms)
  kInterp,   // "text {name} {target.field}": kids_ are kString literal parts and kName/kMember slots
};

enum class BinOp : uint8_t { kOr, kAnd, kEq, kNe, kLt, kLe, kGt, kGe, kAdd, kSub, kMul, kDiv, kContains, kMatches };
const char* BinOpText(BinOp op);

struct Expr {
  ExprKind kind = ExprKind::kUnknown;
  Span span;
  Span op_span;  // the operator token of kBinary / kPipe / kNot / kWindow (for line tables)
  BinOp op = BinOp::kOr;
  bool parenthesised = false;  // written inside ( ) in the source (span then covers the parentheses)
  double value = 0;        // numbers, bools, window bound in ms
  Type unit = Type::kNum;  // numbers: kNum, kDuration, kPercent or kSize
  std::string text;        // names, members, strings, ask questions
  std::vector<std::unique_ptr<Expr>> kids;
  // Filled by the checker.
  Type type = Type::kError;
  Effect effect = Effect::kPure;  // the most dangerous capability this expression can call
};
using ExprPtr = std::unique_ptr<Expr>;

// One argv word: literal text and `{name}` slots, concatenated; never re-split.
struct WordPart {
  bool is_slot = false;
  std::string text;  // literal text, or the slot's name
  Span span;
};
struct Word {
  std::vector<WordPart> parts;
  Span span;
  bool quoted = false;
  std::string Literal() const;  // the text when the word has no slots
  bool HasSlot() const;
};
struct ShellOp {
  std::string op;
  Span span;
};
struct Command {
  std::vector<Word> argv;
  std::vector<ExprPtr> filters;   // each a kCall on a filter name
  std::vector<ShellOp> shell_ops; // rejected by the checker with a hint
  Span span;
  Effect effect = Effect::kRead;  // from the stdlib program table (checker)
  bool effect_known = true;       // false when the program or sub-command is undeclared
  std::string matched_rule;       // the sub-command rule that set the effect
};

using StepKind = lang::StepKind;  // lang/step_kind.def

struct Expect {
  ExprPtr cond;
  ExprPtr within;
  ExprPtr every;
  Span span;
};

enum class ItemKind : uint8_t { kCommand, kText, kExpect, kCapture };

// `let NAME = EXPR`. At runbook (or policy) level, a named value read at each evaluation instant;
// in a step body (a capture), taken once from the output of the command before it.
struct Let {
  std::string name;
  Span name_span;
  ExprPtr init;
  Span span;
  int step = -1;  // captures: the step that takes it; -1 for a runbook or policy `let`
  size_t item = 0;  // captures: its index among the step's items
  Type type = Type::kError;  // the checker
};

struct StepItem {
  ItemKind kind = ItemKind::kText;
  Command command;
  std::string text;
  ExprPtr text_expr;  // kText: the instruction when it interpolates (a kInterp), else null
  Expect expect;
  Span span;
  size_t let = 0;  // kCapture: index into Runbook::lets
};

// `lock "redis/{redis.host}"`: what a live run must hold (docs/live.md).
struct Lock {
  std::string name;   // as written, with its `{...}` slots
  ExprPtr name_expr;  // when it interpolates (a kInterp), else null
  Span span;
};

struct Step {
  StepKind kind = StepKind::kCheck;
  std::string name;
  Span name_span;
  std::string title;
  ExprPtr guard;
  bool continue_on_failure = false;  // `on failure continue`: a failed verify does not stop the sequence
  Span continue_span;
  std::vector<StepItem> items;
  std::vector<Lock> locks;  // `lock "..."` lines in its body
  Span span;
  Effect effect = Effect::kPure;  // the most dangerous thing the step can do (checker)
};

struct Symptom {
  std::string name;
  Span name_span;
  std::string description;
  ExprPtr cond;
  Span span;
};

struct Panel {
  std::string title;
  ExprPtr threshold;  // may be null
  Span span;
};
struct Dashboard {
  std::string title;
  std::vector<Panel> panels;
  Span span;
};
struct KibanaQuery {
  std::optional<std::string> index;
  std::string query;
  Span span;
};

using ActionKind = lang::ActionKind;  // lang/action_kind.def
struct EscAction {
  ActionKind kind = ActionKind::kPage;
  std::string arg;  // contact, step, runbook, text or severity
  Span span;
  std::optional<std::string> message;  // kPage: `page sre "..."`, as written (template)
  ExprPtr text_expr;  // kManual text / kPage message when it interpolates (a kInterp), else null
  bool repeat = false;  // kPage: `page sre every time`, pages again on each firing of the row
};
// `page owner`: the contact name that pages the runbook's own `owner` contact.
inline constexpr const char* kOwnerContact = "owner";
struct EscRow {
  ExprPtr when;
  std::vector<EscAction> then;
  Span span;
};

struct Target {
  std::string name;
  Span name_span;
  ExprPtr init;            // a call of a capability constructor
  std::string capability;  // resolved by the checker
  Span span;
};

struct Param {
  std::string name;
  Span name_span;
  std::optional<std::string> type_name;
  Span type_span;
  ExprPtr init;  // may be null: the caller must bind it
  Type type = Type::kError;
  Span span;
};

struct Named {
  std::string name;
  Span span;
};

struct Runbook {
  std::string name;
  Span name_span;
  std::string title;
  std::optional<Named> severity;
  std::optional<Named> owner;
  std::vector<Named> tags;
  std::vector<Target> targets;
  std::vector<Param> params;
  std::vector<Symptom> symptoms;
  std::vector<Dashboard> dashboards;
  std::vector<KibanaQuery> kibana;
  std::vector<Step> steps;
  std::vector<EscRow> rows;
  bool has_escalate = false;
  std::vector<Named> repeated;     // a second `severity`, `owner` or `tags` (reported by the checker)
  bool had_syntax_errors = false;  // some entries were skipped by recovery: name checks are partial
  Span span;
  std::vector<Let> lets;  // runbook-level lets, then each step's captures (Let::step >= 0)
  ExprPtr down;           // `down when EXPR`: the condition that makes the service down; null: none
  Span down_span;         // the whole `down when ...` line
  std::vector<Lock> locks;  // `lock "..."` members
};

struct Contact {
  std::string name;
  Span name_span;
  std::string display;
  std::string handle;
  Span span;
};

struct Policy {
  std::string name;
  Span name_span;
  std::string title;
  std::vector<Target> targets;
  std::vector<Contact> contacts;
  std::vector<EscRow> rows;
  Span span;
  std::vector<Let> lets;  // policy-level lets, read by its rows
};

struct Formal {
  std::string name;
  std::string type_name;
  Type type = Type::kError;
  Span span;
};
// A native function: a capability method or a text filter.
struct Signature {
  Effect effect = Effect::kRead;
  std::string name;
  Span name_span;
  std::vector<Formal> formals;
  std::string result_name;
  Type result = Type::kError;
  std::string doc;
  Span span;
  // A capability method's body (`= expr` after the title); null for a filter or a method without.
  std::shared_ptr<Expr> body;
};
struct Capability {
  std::string name;
  Span name_span;
  std::string doc;
  std::vector<Signature> methods;
  Span span;
};
struct ProgramRule {
  Effect effect = Effect::kRead;
  std::vector<std::string> words;  // consecutive non-flag words to match
  Span span;
  bool lowered = false;  // `lower write drain` (team modules): replaces an earlier, higher effect
};
struct ProgramOption {
  std::vector<std::string> names;  // "-X", "--request"
  std::string value;               // "METHOD"; empty when it takes none
  bool secret = false;
  Span span;
};
// `wraps exec POD --`: see rt::ProgramWrap.
struct ProgramWrap {
  std::vector<std::string> words;
  Span span;
};
struct Program {
  std::string name;
  Span name_span;
  std::vector<ProgramOption> options;
  std::vector<ProgramRule> rules;
  std::optional<Effect> default_effect;
  Span span;
  std::vector<ProgramWrap> wraps;
};

// The runtime's view of a program declaration (one matcher serves the checker and the verifier).
rt::ProgramDecl ToProgramDecl(const Program& p);

struct Import {
  std::string module;  // dotted
  Span span;
};

// A `# ...` comment as written, from `#` to the end of its line (kept for tools that rewrite files).
struct Comment {
  std::string text;       // with the `#`, without the line end
  Span span;
  bool trailing = false;  // after code on the same line; false when it is the line's only content
};

struct File {
  std::vector<Import> imports;
  std::vector<Runbook> runbooks;
  std::vector<Policy> policies;
  std::vector<Capability> capabilities;
  std::vector<Program> programs;
  std::vector<Signature> filters;
  std::vector<Comment> comments;  // in source order; in a declaration with a syntax error, only those
                                  // before the error
};

}  // namespace rb::ast
