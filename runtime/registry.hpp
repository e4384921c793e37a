// What the host offers: native functions (capability methods and filters) with their true effects and
// signatures, and the effect table of the programs commands may run. The loader checks every import
// and every command of a `.rbc` against it, so a hand-edited file cannot relabel a write as a read.
#pragma once

#include <map>
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
};

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
struct ProgramDecl {
  std::string name;
  std::vector<ProgramOption> options;
  std::vector<ProgramRule> rules;
  std::optional<Effect> default_effect;  // for a sub-command no rule names
  // The option spelled `name` (exactly, or a long option's unique prefix as getopt allows); null
  // when the program declares no such option.
  const ProgramOption* FindOption(const std::string& name) const;
};

// How one command's words were read: what decided its effect, or why nothing could.
struct CommandMatch {
  bool declared = false;  // false: some reading has a sub-command that no rule and no default covers
  Effect effect = Effect::kDestructive;
  std::string rule;        // "kubectl rollout restart", "curl -X DELETE", "redis-cli del (default)"
  std::string subcommand;  // the word in sub-command position when undeclared ("(none)" if absent)
  std::string guess;       // an undeclared option whose value-taking changed the reading, if any
};

// One option occurrence in a command, for the credential check: the word it sits in, where its value
// is (the next word, or the attached text `-pXYZ`, `--password=XYZ` from byte `value_offset`).
struct OptionUse {
  const ProgramOption* option = nullptr;  // null for an option the program does not declare
  std::string spelled;                    // as written: "-p", "--password"
  size_t word = 0;                        // index into the words
  std::optional<size_t> value_word;       // the value's word index (== word when attached)
  size_t value_offset = 0;                // byte offset of the value inside value_word
};

// The effect of running `program` with these words after it; nullopt marks a word with an
// interpolated slot. Fails closed:
//   - options are skipped with their values, in every spelling (`-n NS`, `-nNS`, `--namespace=NS`,
//     short clusters `-sXPOST`), so the sub-command is the first positional word, as the program sees it;
//   - the effect is the most dangerous of every rule that matches anywhere (a read rule never
//     lowers it) and, when no rule names the sub-command, the program's default;
//   - an option the program does not declare is read both with and without a value, and the more
//     dangerous reading wins; a slot in sub-command position may be anything, so the most dangerous
//     effect of the table applies; a slot option value may be any value.
CommandMatch MatchCommand(const ProgramDecl& program, const std::vector<std::optional<std::string>>& words);

// Every option occurrence in the words (undeclared options included), in order.
std::vector<OptionUse> OptionUses(const ProgramDecl& program, const std::vector<std::optional<std::string>>& words);

class Registry {
 public:
  void AddNative(NativeDecl decl) { natives_[decl.name] = std::move(decl); }
  void AddProgram(ProgramDecl decl) { programs_[decl.name] = std::move(decl); }
  const NativeDecl* Native(const std::string& name) const;
  const ProgramDecl* Program(const std::string& name) const;
  size_t size() const { return natives_.size(); }
  const std::map<std::string, NativeDecl>& natives() const { return natives_; }

 private:
  std::map<std::string, NativeDecl> natives_;
  std::map<std::string, ProgramDecl> programs_;
};

}  // namespace rb::rt
