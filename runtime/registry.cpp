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

std::string Join(const std::string& program, const std::vector<std::string>& words) {
  std::string s = program;
  for (const auto& w : words) s += " " + w;
  return s;
}

bool IsTilde(const ProgramRule& r) { return !r.words.empty() && r.words[0].size() > 1 && r.words[0][0] == '~'; }
bool IsFlag(const ProgramRule& r) { return !r.words.empty() && r.words[0].size() > 1 && r.words[0][0] == '-'; }

// One option occurrence in a reading.
struct Use {
  const ProgramOption* option = nullptr;
  std::string spelled;
  size_t word = 0;
  bool has_value = false;
  std::optional<std::string> value;  // nullopt with has_value: a slot
  std::optional<size_t> value_word;
  size_t value_offset = 0;
};

// One way of reading the words: which are options (with their values) and which are positional.
struct Reading {
  std::vector<Use> uses;
  std::vector<size_t> positional;  // word indices
  std::string guess;               // the first undeclared option this reading gave a value
};

// Reads the words, deciding each undeclared option without an attached value by `choices` (true:
// it takes the next word), in order; `points` counts how many such decisions the words contain.
Reading Read(const ProgramDecl& prog, const std::vector<std::optional<std::string>>& words,
             const std::vector<bool>& choices, size_t& points) {
  Reading r;
  points = 0;
  const size_t n = words.size();
  // An undeclared option: perhaps it takes the next word.
  auto undeclared = [&](Use& u, size_t& i) {
    if (i + 1 >= n) return;
    bool take = points < choices.size() && choices[points];
    ++points;
    if (!take) return;
    ++i;
    u.has_value = true;
    u.value = words[i];
    u.value_word = i;
    if (r.guess.empty()) r.guess = u.spelled;
  };
  // A declared option taking a value from the next word.
  auto next_value = [&](Use& u, size_t& i) {
    if (i + 1 >= n) return;
    ++i;
    u.has_value = true;
    u.value = words[i];
    u.value_word = i;
  };
  for (size_t i = 0; i < n; ++i) {
    const auto& w = words[i];
    if (!w || w->size() < 2 || (*w)[0] != '-') {
      r.positional.push_back(i);
      continue;
    }
    if (*w == "--") {  // the end of the options: everything after is positional
      for (size_t k = i + 1; k < n; ++k) r.positional.push_back(k);
      break;
    }
    if ((*w)[1] == '-') {  // --name, --name=value
      size_t eq = w->find('=');
      Use u;
      u.spelled = w->substr(0, eq);
      u.word = i;
      u.option = prog.FindOption(u.spelled);
      if (eq != std::string::npos) {
        u.has_value = true;
        u.value = w->substr(eq + 1);
        u.value_word = i;
        u.value_offset = eq + 1;
      } else if (!u.option) {
        undeclared(u, i);
      } else if (u.option->TakesValue()) {
        next_value(u, i);
      }
      r.uses.push_back(std::move(u));
      continue;
    }
    // -n, -n=value, -nvalue, and clusters of single-letter flags ending in one that may take a value.
    if (const ProgramOption* whole = prog.FindOption(*w)) {
      Use u;
      u.option = whole;
      u.spelled = *w;
      u.word = i;
      if (whole->TakesValue()) next_value(u, i);
      r.uses.push_back(std::move(u));
      continue;
    }
    size_t eq = w->find('=');
    if (eq != std::string::npos) {
      if (const ProgramOption* o = prog.FindOption(w->substr(0, eq)); o && eq >= 2) {
        Use u{o, w->substr(0, eq), i, true, w->substr(eq + 1), i, eq + 1};
        r.uses.push_back(std::move(u));
        continue;
      }
    }
    for (size_t k = 1; k < w->size(); ++k) {
      Use u;
      u.spelled = std::string("-") + (*w)[k];
      u.word = i;
      u.option = prog.FindOption(u.spelled);
      bool last = k + 1 == w->size();
      if (u.option && u.option->TakesValue()) {
        size_t from = k + 1 < w->size() && (*w)[k + 1] == '=' ? k + 2 : k + 1;
        if (from < w->size() || !last) {
          u.has_value = true;
          u.value = w->substr(from);
          u.value_word = i;
          u.value_offset = from;
        } else {
          next_value(u, i);
        }
        r.uses.push_back(std::move(u));
        break;
      }
      if (!u.option && last) undeclared(u, i);
      r.uses.push_back(std::move(u));
    }
  }
  return r;
}

struct Best {
  bool any = false;
  Effect effect = Effect::kRead;
  std::string rule;
  void Take(Effect e, const std::string& text) {
    if (!any || e > effect) {
      effect = e;
      rule = text;
      any = true;
    }
  }
};

// The effect of one reading; false when its sub-command is covered by no rule and no default.
bool Judge(const ProgramDecl& prog, const std::vector<std::optional<std::string>>& words, const Reading& r,
           Best& best, std::string& subcommand) {
  std::vector<std::optional<std::string>> pos;
  for (size_t i : r.positional) pos.push_back(words[i]);
  bool names_sub = false;
  Best local;
  for (const auto& rule : prog.rules) {
    if (rule.words.empty()) continue;
    if (IsTilde(rule)) {
      std::string needle = Lower(rule.words[0].substr(1));
      for (size_t k = 1; k < rule.words.size(); ++k) needle += " " + Lower(rule.words[k]);
      for (const auto& w : pos) {
        if (w && ContainsWords(Lower(*w), needle)) {
          local.Take(rule.effect, prog.name + " (" + Join(rule.words[0].substr(1), {rule.words.begin() + 1, rule.words.end()}) + " in an argument)");
          break;
        }
      }
      continue;
    }
    if (IsFlag(rule)) {
      const ProgramOption* o = prog.FindOption(rule.words[0]);
      if (!o) continue;
      for (const auto& u : r.uses) {
        if (u.option != o) continue;
        bool hit;
        if (rule.words.size() > 1) {
          // `-X DELETE`: that value; a slot may be any value.
          hit = u.has_value && (!u.value || Lower(*u.value) == Lower(rule.words[1]));
        } else {
          // `-d`: any value no pattern of this option names; a bare flag has no value to name.
          hit = true;
          if (u.has_value && u.value) {
            for (const auto& other : prog.rules) {
              if (IsFlag(other) && other.words.size() > 1 && prog.FindOption(other.words[0]) == o &&
                  Lower(other.words[1]) == Lower(*u.value)) {
                hit = false;
              }
            }
          }
        }
        if (hit) {
          local.Take(rule.effect, Join(prog.name, rule.words));
          break;
        }
      }
      continue;
    }
    if (rule.words.size() > pos.size()) continue;
    for (size_t i = 0; i + rule.words.size() <= pos.size(); ++i) {
      bool match = true;
      for (size_t k = 0; k < rule.words.size() && match; ++k) {
        match = pos[i + k] && Lower(*pos[i + k]) == Lower(rule.words[k]);
      }
      if (match) {
        local.Take(rule.effect, Join(prog.name, rule.words));
        if (i == 0) names_sub = true;
      }
    }
  }
  // A value that no pattern of its option names, on an option that has no bare pattern: the most
  // dangerous of that option's patterns (`-X PURGE` when only GET, POST and DELETE are written).
  for (const auto& u : r.uses) {
    if (!u.option || !u.has_value || !u.value) continue;
    bool named = false, bare = false;
    std::optional<Effect> worst;
    for (const auto& rule : prog.rules) {
      if (!IsFlag(rule) || prog.FindOption(rule.words[0]) != u.option) continue;
      if (rule.words.size() == 1) {
        bare = true;
      } else {
        if (Lower(rule.words[1]) == Lower(*u.value)) named = true;
        if (!worst || rule.effect > *worst) worst = rule.effect;
      }
    }
    if (worst && !named && !bare) local.Take(*worst, prog.name + " " + u.spelled + " " + *u.value + " (a value no rule names)");
  }
  if (!pos.empty() && !pos[0]) {
    // A slot where the sub-command goes may be any sub-command. (A `~` pattern looks inside text
    // the slot does not have yet: the bound words decide it when the command is about to run.)
    for (const auto& rule : prog.rules) {
      if (IsTilde(rule) || IsFlag(rule)) continue;
      local.Take(rule.effect, prog.name + " {…} (a slot in sub-command position: the most dangerous rule applies)");
    }
    if (prog.default_effect) local.Take(*prog.default_effect, prog.name + " {…} (a slot in sub-command position)");
    names_sub = true;
  }
  bool need_default = pos.empty() ? !local.any : !names_sub;
  if (need_default) {
    subcommand = pos.empty() ? "(none)" : *pos[0];
    if (!prog.default_effect) return false;
    // Name the word when it reads as a sub-command (`redis-cli del (default)`), not a URL or a query.
    bool wordlike = !pos.empty() && pos[0]->size() <= 32 &&
                    std::all_of(pos[0]->begin(), pos[0]->end(), [](char c) { return WordChar(c) || c == '-' || c == '.' || c == ':'; });
    local.Take(*prog.default_effect, wordlike ? prog.name + " " + *pos[0] + " (default)" : prog.name + " (default)");
  }
  if (local.any) best.Take(local.effect, local.rule);
  return true;
}

constexpr size_t kMaxReadings = 256;  // 8 undeclared options with a word after each

}  // namespace

const ProgramOption* ProgramDecl::FindOption(const std::string& name) const {
  for (const auto& o : options) {
    for (const auto& n : o.names) {
      if (n == name) return &o;
    }
  }
  // `--req` for `--request`, as getopt_long and curl accept; an ambiguous prefix matches nothing.
  if (name.size() < 4 || name.compare(0, 2, "--") != 0) return nullptr;
  const ProgramOption* found = nullptr;
  for (const auto& o : options) {
    for (const auto& n : o.names) {
      if (n.size() > name.size() && n.compare(0, name.size(), name) == 0) {
        if (found && found != &o) return nullptr;
        found = &o;
      }
    }
  }
  return found;
}

CommandMatch MatchCommand(const ProgramDecl& program, const std::vector<std::optional<std::string>>& words) {
  CommandMatch out;
  Best best;
  // Every reading of the undeclared options, enumerated by their decisions: a prefix of choices,
  // with `false` for every decision past it.
  std::vector<std::vector<bool>> todo{{}};
  size_t readings = 0;
  bool declared = true;
  std::string sub, guess;
  while (!todo.empty()) {
    std::vector<bool> choices = std::move(todo.back());
    todo.pop_back();
    if (++readings > kMaxReadings) {
      // Too many undeclared options to read every way: the most dangerous effect of the table.
      for (const auto& rule : program.rules) best.Take(rule.effect, program.name + " (too many undeclared options to read)");
      if (program.default_effect) best.Take(*program.default_effect, program.name + " (too many undeclared options to read)");
      if (!best.any) declared = false;
      break;
    }
    size_t points = 0;
    Reading r = Read(program, words, choices, points);
    for (size_t j = choices.size(); j < points; ++j) {
      std::vector<bool> next = choices;
      next.resize(j, false);
      next.push_back(true);
      todo.push_back(std::move(next));
    }
    std::string s;
    if (!Judge(program, words, r, best, s) && declared) {
      declared = false;
      sub = s;
      guess = r.guess;
    }
  }
  out.declared = declared;
  if (!declared) {
    out.effect = Effect::kDestructive;
    out.subcommand = sub;
    out.guess = guess;
    out.rule = program.name + " " + sub + ": no rule and no default";
    return out;
  }
  out.effect = best.effect;
  out.rule = best.rule;
  return out;
}

std::vector<OptionUse> OptionUses(const ProgramDecl& program, const std::vector<std::optional<std::string>>& words) {
  size_t points = 0;
  Reading r = Read(program, words, {}, points);
  std::vector<OptionUse> out;
  for (const auto& u : r.uses) {
    out.push_back(OptionUse{u.option, u.spelled, u.word, u.value_word, u.value_offset});
  }
  return out;
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
