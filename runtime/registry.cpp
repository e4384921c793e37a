#include "runtime/registry.hpp"

#include <algorithm>
#include <cctype>

namespace rb::rt {

namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool WordChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// `needle` occurs in `hay` as whole words (both already lower-case).
bool ContainsWords(const std::string& hay, const std::string& needle) {
  for (size_t at = hay.find(needle); at != std::string::npos; at = hay.find(needle, at + 1)) {
    bool left = at == 0 || !WordChar(hay[at - 1]);
    size_t end = at + needle.size();
    bool right = end >= hay.size() || !WordChar(hay[end]);
    if (left && right) return true;
  }
  return false;
}

bool RuleMatches(const ProgramRule& rule, const std::vector<std::optional<std::string>>& all,
                 const std::vector<std::optional<std::string>>& positional) {
  if (rule.words.empty()) return false;
  if (rule.words[0].size() > 1 && rule.words[0][0] == '~') {
    std::string needle = Lower(rule.words[0].substr(1));
    for (size_t k = 1; k < rule.words.size(); ++k) needle += " " + Lower(rule.words[k]);
    for (const auto& w : all) {
      if (w && ContainsWords(Lower(*w), needle)) return true;
    }
    return false;
  }
  const auto& seq = rule.words[0][0] == '-' ? all : positional;
  if (rule.words.size() > seq.size()) return false;
  for (size_t i = 0; i + rule.words.size() <= seq.size(); ++i) {
    bool match = true;
    for (size_t k = 0; k < rule.words.size() && match; ++k) {
      match = seq[i + k] && Lower(*seq[i + k]) == Lower(rule.words[k]);
    }
    if (match) return true;
  }
  return false;
}

}  // namespace

std::optional<CommandMatch> MatchCommand(const ProgramDecl& program,
                                         const std::vector<std::optional<std::string>>& words) {
  std::vector<std::optional<std::string>> positional;
  for (const auto& w : words) {
    if (w && !w->empty() && (*w)[0] == '-') continue;
    positional.push_back(w);
  }
  std::optional<CommandMatch> best;
  for (const auto& rule : program.rules) {
    {
      if (!RuleMatches(rule, words, positional)) continue;
      if (!best || rule.effect > best->effect) {
        std::string text = program.name;
        for (const auto& w : rule.words) text += " " + w;
        if (rule.words[0].size() > 1 && rule.words[0][0] == '~') text = program.name + " (" + text.substr(program.name.size() + 2) + " in an argument)";
        best = CommandMatch{rule.effect, text};
      }
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
