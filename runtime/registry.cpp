#include "runtime/registry.hpp"

#include <algorithm>

namespace rb::rt {

std::optional<CommandMatch> MatchCommand(const ProgramDecl& program,
                                         const std::vector<std::optional<std::string>>& words) {
  std::vector<std::optional<std::string>> positional;
  for (const auto& w : words) {
    if (w && !w->empty() && (*w)[0] == '-') continue;
    positional.push_back(w);
  }
  std::optional<CommandMatch> best;
  for (const auto& rule : program.rules) {
    if (rule.words.empty() || rule.words.size() > positional.size()) continue;
    for (size_t i = 0; i + rule.words.size() <= positional.size(); ++i) {
      bool match = true;
      for (size_t k = 0; k < rule.words.size() && match; ++k) {
        match = positional[i + k] && *positional[i + k] == rule.words[k];
      }
      if (!match) continue;
      if (!best || rule.effect > best->effect) {
        std::string text = program.name;
        for (const auto& w : rule.words) text += " " + w;
        best = CommandMatch{rule.effect, text};
      }
      break;
    }
  }
  if (!best && program.default_effect) best = CommandMatch{*program.default_effect, program.name};
  return best;
}

const NativeDecl* Registry::Native(const std::string& name) const {
  auto it = natives_.find(name);
  return it == natives_.end() ? nullptr : &it->second;
}

const ProgramDecl* Registry::Program(const std::string& name) const {
  auto it = programs_.find(name);
  return it == programs_.end() ? nullptr : &it->second;
}

}  // namespace rb::rt
