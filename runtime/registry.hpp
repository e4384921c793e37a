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

struct ProgramRule {
  Effect effect = Effect::kRead;
  std::vector<std::string> words;  // consecutive non-flag words to match
};
struct ProgramDecl {
  std::string name;
  std::vector<ProgramRule> rules;
  std::optional<Effect> default_effect;
};

struct CommandMatch {
  Effect effect;
  std::string rule;  // "kubectl rollout restart", or the program name for its default
};

// The effect of running `program` with these words after it. `words` are the argv words after the
// program; nullopt marks a word with an interpolated slot (it never matches a rule word). A rule
// matches when its words appear consecutively, compared without regard to case:
//   - among the positional words (flags, words starting with `-`, are skipped): `rollout restart`;
//   - among all words when its first word is a flag: `-X DELETE`;
//   - inside any word when it starts with `~`: `~DELETE` matches "MATCH (n) DETACH DELETE n".
// The most dangerous matching rule wins; nullopt when neither a rule nor a default applies.
std::optional<CommandMatch> MatchCommand(const ProgramDecl& program,
                                         const std::vector<std::optional<std::string>>& words);

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
