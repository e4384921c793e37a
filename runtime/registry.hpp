// What the host offers: native functions (capability methods and filters) with their true effects and
// signatures, and the effect table of the programs commands may run. The loader checks every import
// and every command of a `.rbc` against it, so a hand-edited file cannot relabel a write as a read.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/bytecode.hpp"

namespace rb::rt {

struct NativeDecl {
  std::string name;  // "redis.ping" or "grep"
  Effect effect = Effect::kRead;
  bool is_filter = false;
  std::vector<ValueType> params;
  ValueType result = ValueType::kNone;
  uint16_t native = kNoNative;  // its entry in runtime/natives.def (Natives()), when the host has one
};

// ProgramOption, ProgramRule and ProgramDecl (a program's effect table) are in runtime/bytecode.hpp:
// a compiled program carries the tables of the programs its commands run.

// How one command's words were read: what decided its effect, or why nothing could.
struct CommandMatch {
  bool declared = false;  // false: some reading has a sub-command that no rule and no default covers
  Effect effect = Effect::kDestructive;
  std::string rule;        // "kubectl rollout restart", "curl -X DELETE", "redis-cli del (default)"
  std::string subcommand;  // the word in sub-command position when undeclared ("(none)" if absent)
  std::string guess;       // an undeclared option whose value-taking changed the reading, if any
  // Wrapped commands (`sudo timeout 5 kubectl exec p -- psql -c ...`): why a command was refused
  // (declared == false), which program's sub-command is undeclared, and the inner program in question.
  enum class Refusal : uint8_t {
    kNone,
    kSubcommand,    // `program` has no rule and no default for `subcommand`
    kInnerProgram,  // `inner_program`, run by a wrapper, has no table
    kTooDeep,       // more than kMaxWrapDepth wrappers inside each other
    kCycle,         // `inner_program` wraps itself again with the same words
  };
  Refusal refusal = Refusal::kNone;
  std::string program;        // the program the refusal is about (the innermost one matched)
  std::string inner_program;  // kInnerProgram, kCycle: the program at `inner_word`
  size_t inner_word = 0;      // index into the words given to MatchCommand
  std::vector<std::string> programs;  // every program whose table decided, outermost first
};

// Wrappers inside wrappers deeper than this are refused (`sudo timeout 5 ssh h sudo ...`).
inline constexpr size_t kMaxWrapDepth = 8;

// The table of a program by name, for the inner command of a wrapper; null when nobody declares it.
using ProgramLookup = std::function<const ProgramDecl*(const std::string&)>;

// A character standing for the unknown text of a slot inside a word (`-X{method}`, `http://{host}/x`):
// the matcher treats a value holding it as any value, and a sub-command holding it as any sub-command.
// A word that is only a slot may be passed as nullopt.
inline constexpr char kSlotChar = '\x1F';

// One option occurrence in a command (also for the credential check): the word it sits in, and its
// value: the next word, or the attached text `-pXYZ`, `--password=XYZ` from byte `value_offset`.
struct OptionUse {
  const ProgramOption* option = nullptr;  // null for an option the program does not declare
  std::string spelled;                    // as written: "-p", "--password"
  size_t word = 0;                        // index into the words
  bool has_value = false;
  std::optional<std::string> value;       // nullopt (with has_value): a slot
  std::optional<size_t> value_word;       // the value's word index (== word when attached)
  size_t value_offset = 0;                // byte offset of the value inside value_word
};

// The effect of running `program` with these words after it. Fails closed:
//   - options are skipped with their values in every spelling these programs accept (`-n NS`,
//     `-nNS`, `-n=NS`, `--namespace=NS`, short clusters `-sXPOST`, long prefixes `--req`), so the
//     sub-command is the first positional word;
//   - the effect is the most dangerous of every rule that matches anywhere (a read rule never
//     lowers it) and, when no rule names the sub-command, the program's default;
//   - an option the program does not declare is read both with and without a value (inside a short
//     cluster: with the rest of the word as its value, or not), and the more dangerous reading wins;
//   - a slot where the sub-command goes may be any sub-command, a slot value any value, and a word
//     that is only a slot may hold any `~` word; an option rule `-c ~DROP` matches inside that
//     option's value (`psql -c "DROP TABLE x"`);
//   - a wrapper rule (`wraps exec POD --`, see ProgramWrap) splits the words: those up to the end of
//     its pattern are the wrapper's own (options keep being read up to the inner command), the rest a
//     command of its own, matched against `lookup(its program)`; the more dangerous of the two wins.
//     The wrapper's own words are read unless one of its rules says more. An inner program nobody
//     declares, wrappers nested deeper than kMaxWrapDepth, or a wrapper repeating itself with the same
//     words refuses the command; an inner command that is only a slot is destructive (it could be
//     anything); a wrapper whose leading literal words matched but whose pattern did not complete
//     (`kubectl exec pod sh`, no `--`) is destructive.
CommandMatch MatchCommand(const ProgramDecl& program, const std::vector<std::optional<std::string>>& words,
                          const ProgramLookup& lookup = {});

// How a wrapper rule reads: `exec POD --` as "kubectl exec POD --".
std::string WrapText(const ProgramDecl& program, const ProgramWrap& wrap);

// Every option occurrence in the words (undeclared options read as taking no value), in order.
// A wrapper's inner command is read with `lookup(its program)`'s table.
std::vector<OptionUse> OptionUses(const ProgramDecl& program, const std::vector<std::optional<std::string>>& words,
                                  const ProgramLookup& lookup = {});

// The kinds of word in a wrapper's pattern (ProgramWrap): `NAME=VALUE...`, a placeholder (`POD`:
// upper case, digits, `_`), anything else a literal (`exec`, `--`).
bool IsWrapEnv(const std::string& word);
bool IsWrapSlot(const std::string& word);

// ASCII lower case, as the matcher compares words.
std::string LowerAscii(std::string s);

class Registry {
 public:
  // Whether a program this host has no table of may be judged by the table a `.rbc` carries. A host
  // holding no tables at all (DefaultRegistry: the runtime alone) must; a host holding the stdlib's
  // tables (the CLI) refuses any other program, as a file's own table is only as honest as its author.
  enum class CarriedTables : uint8_t { kTrusted, kRefused };
  void SetCarriedTables(CarriedTables c) { carried_ = c; }
  bool TrustsCarriedTables() const { return carried_ == CarriedTables::kTrusted; }
  void AddNative(NativeDecl decl) { natives_[decl.name] = std::move(decl); }
  void AddProgram(ProgramDecl decl) {
    if (!decl.prepared) decl.Prepare();
    programs_[decl.name] = std::move(decl);
  }
  const NativeDecl* Native(const std::string& name) const;
  const ProgramDecl* Program(const std::string& name) const;
  // Capability methods ("redis.ping") by signature: what a scenario key may name and `runbook
  // capabilities` lists. Never what the verifier trusts (a method's truth is its body).
  void AddMethod(NativeDecl decl) { methods_[decl.name] = std::move(decl); }
  const NativeDecl* Method(const std::string& name) const {
    auto it = methods_.find(name);
    return it == methods_.end() ? nullptr : &it->second;
  }
  const std::map<std::string, NativeDecl>& methods() const { return methods_; }
  size_t size() const { return natives_.size(); }
  const std::map<std::string, NativeDecl>& natives() const { return natives_; }
  const std::map<std::string, ProgramDecl>& programs() const { return programs_; }

 private:
  std::map<std::string, NativeDecl> natives_;
  std::map<std::string, ProgramDecl> programs_;
  std::map<std::string, NativeDecl> methods_;
  CarriedTables carried_ = CarriedTables::kTrusted;
};

}  // namespace rb::rt
