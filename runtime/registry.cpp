#include "runtime/registry.hpp"

#include <algorithm>
#include <cctype>

#include "lang/text.hpp"

namespace rb::rt {

namespace {

bool WordChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// `needle` occurs in `hay` (both normalized) with word boundaries where its ends are word characters.
bool ContainsWords(const std::string& hay, const std::string& needle) {
  if (needle.empty()) return false;
  for (size_t at = hay.find(needle); at != std::string::npos; at = hay.find(needle, at + 1)) {
    bool left = at == 0 || !WordChar(needle.front()) || !WordChar(hay[at - 1]);
    size_t end = at + needle.size();
    bool right = end >= hay.size() || !WordChar(needle.back()) || !WordChar(hay[end]);
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
bool Unknown(const std::optional<std::string>& w) { return !w || w->find(kSlotChar) != std::string::npos; }

// How many literal words the pattern starts with: once they matched, the words belong to the wrapper.
size_t WrapPrefix(const ProgramWrap& w) {
  size_t n = 0;
  while (n < w.words.size() && !IsWrapEnv(w.words[n]) && !IsWrapSlot(w.words[n])) ++n;
  return n;
}

// One way of reading the words: which are options (with their values) and which positional.
struct Reading {
  std::vector<OptionUse> uses;
  std::vector<size_t> positional;  // word indices
  std::string guess;               // the first undeclared option this reading gave a value
  std::optional<size_t> inner;       // a wrapper's inner command starts at this word (not read here)
  const ProgramWrap* wrap = nullptr;  // the wrapper rule that found it
  const ProgramWrap* broken = nullptr;  // a wrapper whose leading literals matched but which found no command
};

// Reads the words, deciding each undeclared option without an attached value by `choices` (true:
// it takes the next word, or inside a short cluster the rest of the word), in order; `points`
// counts how many such decisions the words contain.
Reading Read(const ProgramDecl& prog, const std::vector<std::optional<std::string>>& words,
             const std::vector<bool>& choices, size_t& points) {
  Reading r;
  points = 0;
  const size_t n = words.size();
  auto decide = [&] {
    bool take = points < choices.size() && choices[points];
    ++points;
    return take;
  };
  auto attach = [&](OptionUse& u, size_t word, size_t offset) {
    u.has_value = true;
    u.value = words[word]->substr(offset);
    u.value_word = word;
    u.value_offset = offset;
  };
  // The next word as the option's value, if there is one.
  auto take_next = [&](OptionUse& u, size_t& i) {
    if (i + 1 >= n) return;
    ++i;
    u.has_value = true;
    u.value = words[i];
    u.value_word = i;
  };
  auto guessed = [&](const OptionUse& u) {
    if (r.guess.empty()) r.guess = u.spelled;
  };
  // Each wrapper rule's progress through its pattern, fed the positional words in order.
  struct Track {
    const ProgramWrap* wrap;
    size_t k = 0;
    bool alive = true;
  };
  std::vector<Track> tracks;
  for (const auto& w : prog.wraps) tracks.push_back(Track{&w});
  // True when positional word `i` starts a wrapper's inner command.
  auto feed = [&](size_t i) {
    const auto& w = words[i];
    for (auto& t : tracks) {
      const auto& pat = t.wrap->words;
      while (t.alive) {
        if (t.k == pat.size()) {
          r.inner = i;
          r.wrap = t.wrap;
          return true;
        }
        const std::string& tok = pat[t.k];
        if (IsWrapEnv(tok)) {
          if (w && w->find('=') != std::string::npos && w->find('=') > 0) break;  // one more NAME=VALUE
          ++t.k;
          continue;
        }
        if (IsWrapSlot(tok) || (w && LowerAscii(*w) == LowerAscii(tok))) ++t.k;
        else t.alive = false;
        break;
      }
    }
    return false;
  };
  bool options_done = false;
  for (size_t i = 0; i < n; ++i) {
    const auto& w = words[i];
    if (options_done || !w || w->size() < 2 || (*w)[0] != '-') {
      if (feed(i)) break;
      r.positional.push_back(i);
      continue;
    }
    if (*w == "--") {  // the end of the options: everything after is positional
      for (auto& t : tracks) {
        if (t.alive && t.k < t.wrap->words.size() && t.wrap->words[t.k] == "--") ++t.k;
      }
      options_done = true;
      continue;
    }
    OptionUse u;
    u.word = i;
    if ((*w)[1] == '-') {  // --name, --name=value
      size_t eq = w->find('=');
      u.spelled = w->substr(0, eq);
      u.option = prog.FindOption(u.spelled);
      if (eq != std::string::npos) {
        attach(u, i, eq + 1);
      } else if (u.option ? u.option->TakesValue() : i + 1 < n && decide()) {
        take_next(u, i);
        if (!u.option) guessed(u);
      }
      r.uses.push_back(std::move(u));
      continue;
    }
    // -n, -n=value, -nvalue, and clusters of single-letter flags ending in one that may take a value.
    if (const ProgramOption* whole = prog.FindOption(*w)) {
      u.option = whole;
      u.spelled = *w;
      if (whole->TakesValue()) take_next(u, i);
      r.uses.push_back(std::move(u));
      continue;
    }
    if (size_t eq = w->find('='); eq != std::string::npos && eq >= 2) {
      if (const ProgramOption* o = prog.FindOption(w->substr(0, eq))) {
        u.option = o;
        u.spelled = w->substr(0, eq);
        attach(u, i, eq + 1);
        r.uses.push_back(std::move(u));
        continue;
      }
    }
    const std::string word = *w;  // `i` may move on to the value word below
    for (size_t k = 1; k < word.size(); ++k) {
      OptionUse c;
      c.word = u.word;
      c.spelled = std::string("-") + word[k];
      c.option = prog.FindOption(c.spelled);
      bool last = k + 1 == word.size();
      bool value = c.option ? c.option->TakesValue() : (last ? i + 1 < n : true) && decide();
      if (value) {
        if (!c.option) guessed(c);
        size_t from = !last && word[k + 1] == '=' ? k + 2 : k + 1;
        if (!last) attach(c, c.word, from);
        else take_next(c, i);
        r.uses.push_back(std::move(c));
        break;
      }
      r.uses.push_back(std::move(c));
    }
  }
  if (!r.inner) {
    for (const auto& t : tracks) {
      size_t prefix = WrapPrefix(*t.wrap);
      if (prefix > 0 && t.k >= prefix) {
        r.broken = t.wrap;
        break;
      }
    }
  }
  return r;
}

struct Best {
  bool any = false;
  Effect effect = Effect::kRead;
  std::string rule;
  bool Wants(Effect e) const { return !any || e > effect; }
  void Take(Effect e, const std::string& text) {
    if (Wants(e)) {
      effect = e;
      rule = text;
      any = true;
    }
  }
};

}  // namespace

// The rules on each option (by index into `options`): with a value (`-X DELETE`) and bare (`-d`),
// by index into `rules`; each rule's words in lower case and each `~` pattern normalized.
struct PreparedRules {
  struct OptionRules {
    std::vector<size_t> valued, bare;
  };
  std::vector<OptionRules> by_option;
  std::vector<std::vector<std::string>> lower_rules;
  std::vector<std::string> needles;  // "" for a rule that is not a `~` pattern
};

namespace {

// A program table's prepared rules and a command's words in the forms they are compared in, each
// computed once per match (the readings only choose which words are positional).
struct Prepared {
  const PreparedRules& table;
  std::vector<std::optional<std::string>> lower;  // the words, lower case
  std::vector<std::string> normalized;            // the words for `~` patterns; "" for a slot word
};

// The effect of one reading; false when its sub-command is covered by no rule and no default.
bool Judge(const ProgramDecl& prog, const std::vector<std::optional<std::string>>& words, const Prepared& prep,
           const Reading& r, Best& best, std::string& subcommand) {
  const PreparedRules& table = prep.table;
  std::vector<std::optional<std::string>> pos;
  for (size_t i : r.positional) pos.push_back(words[i]);
  bool names_sub = false;
  Best local;
  for (size_t ri = 0; ri < prog.rules.size(); ++ri) {
    const ProgramRule& rule = prog.rules[ri];
    if (rule.words.empty() || IsFlag(rule)) continue;
    if (IsTilde(rule)) {
      if (!local.Wants(rule.effect)) continue;
      for (size_t k = 0; k < pos.size(); ++k) {
        // A word that is only a slot may hold the pattern; a word with literal text is read as it is.
        if (!pos[k] || ContainsWords(prep.normalized[r.positional[k]], table.needles[ri])) {
          local.Take(rule.effect, prog.name + " (" + rule.words[0].substr(1) + " in an argument)");
          break;
        }
      }
      continue;
    }
    const std::vector<std::string>& want = table.lower_rules[ri];
    // Only a match at the sub-command can matter once the effect is as high as this rule's.
    size_t last = local.Wants(rule.effect) ? pos.size() : std::min(pos.size(), want.size());
    for (size_t i = 0; i + want.size() <= last; ++i) {
      bool match = true;
      for (size_t k = 0; k < want.size() && match; ++k) {
        const auto& w = prep.lower[r.positional[i + k]];
        match = w && *w == want[k];
      }
      if (match) {
        if (local.Wants(rule.effect)) local.Take(rule.effect, Join(prog.name, rule.words));
        if (i == 0) names_sub = true;
      }
    }
  }
  // Option rules, once per option occurrence: a value a pattern names takes that pattern; another
  // value takes the bare pattern, else the most dangerous valued one; a slot value may be any value.
  for (const auto& u : r.uses) {
    if (!u.option) continue;
    const PreparedRules::OptionRules& rules = table.by_option[static_cast<size_t>(u.option - prog.options.data())];
    auto rule = [&](size_t i) -> const ProgramRule& { return prog.rules[i]; };
    if (u.has_value && Unknown(u.value)) {
      for (size_t i : rules.valued) local.Take(rule(i).effect, Join(prog.name, rule(i).words) + " (a slot may be any value)");
      for (size_t i : rules.bare) local.Take(rule(i).effect, Join(prog.name, rule(i).words));
      continue;
    }
    bool named = false;
    if (u.has_value) {
      const std::string value = LowerAscii(*u.value);
      std::string text;  // normalized, for `-c ~DROP`
      for (size_t i : rules.valued) {
        if (!table.needles[i].empty()) {
          if (text.empty()) text = lang::NormalizePattern(*u.value);
          if (ContainsWords(text, table.needles[i])) {
            local.Take(rule(i).effect, Join(prog.name, rule(i).words) + " (in its value)");
            named = true;
          }
          continue;
        }
        if (table.lower_rules[i][1] == value) {
          local.Take(rule(i).effect, Join(prog.name, rule(i).words));
          named = true;
        }
      }
    }
    if (named) continue;
    for (size_t i : rules.bare) local.Take(rule(i).effect, Join(prog.name, rule(i).words));
    if (rules.bare.empty() && u.has_value) {
      for (size_t i : rules.valued) {
        if (!table.needles[i].empty()) continue;  // `-c ~DROP` judges what is in the value, not any value
        local.Take(rule(i).effect, prog.name + " " + u.spelled + " " + *u.value + " (a value no rule names)");
      }
    }
  }
  if (r.inner) {
    // The wrapper's pattern says what its words are: they are read unless one of its rules says more.
    names_sub = true;
    if (!local.any) local.Take(Effect::kRead, WrapText(prog, *r.wrap));
  } else if (r.broken) {
    names_sub = true;
    local.Take(Effect::kDestructive,
               WrapText(prog, *r.broken) + " (the words do not complete the wrapper: the command inside could be anything)");
  }
  if (!r.inner && !pos.empty() && Unknown(pos[0])) {
    // A slot where the sub-command goes may be any sub-command.
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

constexpr size_t kMaxReadings = 64;  // 6 undeclared options with a word after each

}  // namespace

std::string LowerAscii(std::string s) { return lang::LowerAscii(s); }

// The three kinds of word in a wrapper's pattern (ProgramWrap): `NAME=VALUE...`, a placeholder
// (`POD`: upper case), a literal (`exec`, `--`).
bool IsWrapEnv(const std::string& t) {
  return t.size() > 4 && t.find('=') != std::string::npos && t.compare(t.size() - 3, 3, "...") == 0;
}
bool IsWrapSlot(const std::string& t) {
  if (t.empty() || t[0] < 'A' || t[0] > 'Z' || IsWrapEnv(t)) return false;
  return std::all_of(t.begin(), t.end(), [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == ':'; });
}

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

void ProgramDecl::Prepare() {
  auto t = std::make_shared<PreparedRules>();
  t->by_option.resize(options.size());
  for (size_t i = 0; i < rules.size(); ++i) {
    const ProgramRule& rule = rules[i];
    std::vector<std::string> lower;
    for (const auto& w : rule.words) lower.push_back(LowerAscii(w));
    t->lower_rules.push_back(std::move(lower));
    std::string needle;
    if (IsTilde(rule)) {
      needle = lang::NormalizePattern(Join(rule.words[0].substr(1), {rule.words.begin() + 1, rule.words.end()}));
    } else if (IsFlag(rule) && rule.words.size() > 1 && rule.words[1].size() > 1 && rule.words[1][0] == '~') {
      // `-c ~DROP`: the words inside that option's value.
      needle = lang::NormalizePattern(Join(rule.words[1].substr(1), {rule.words.begin() + 2, rule.words.end()}));
    }
    t->needles.push_back(std::move(needle));
    if (!IsFlag(rule)) continue;
    if (const ProgramOption* o = FindOption(rule.words[0])) {
      auto& by = t->by_option[static_cast<size_t>(o - options.data())];
      (rule.words.size() > 1 ? by.valued : by.bare).push_back(i);
    }
  }
  prepared = std::move(t);
}

namespace {

// What the matching of a wrapper's inner command shares down the chain.
struct WrapContext {
  const ProgramLookup* lookup = nullptr;
  size_t depth = 0;                      // wrappers around the words being matched
  size_t base = 0;                       // where these words start in the outermost command's words
  std::vector<std::string> chain;        // each enclosing wrapper with its words, for cycles
  std::map<size_t, CommandMatch>* memo;  // inner commands already matched, by `base`
};

CommandMatch Refuse(CommandMatch::Refusal why, const std::string& program, const std::string& inner, size_t word,
                    const std::string& rule) {
  CommandMatch out;
  out.declared = false;
  out.effect = Effect::kDestructive;
  out.refusal = why;
  out.program = program;
  out.inner_program = inner;
  out.inner_word = word;
  out.rule = rule;
  return out;
}

CommandMatch MatchAt(const ProgramDecl& program, const std::vector<std::optional<std::string>>& words, WrapContext& ctx);

// The inner command of reading `r` of `program`'s words.
CommandMatch Inner(const ProgramDecl& program, const std::vector<std::optional<std::string>>& words, const Reading& r,
                   WrapContext& ctx) {
  const size_t at = *r.inner;
  const std::string wrapper = WrapText(program, *r.wrap);
  // This wrapper with its own words, once per chain: `sudo sudo ...` never ends anywhere useful.
  std::string key = program.name;
  for (size_t i = 0; i < at; ++i) key += " " + (words[i] ? LowerAscii(*words[i]) : std::string("{…}"));
  if (std::find(ctx.chain.begin(), ctx.chain.end(), key) != ctx.chain.end()) {
    return Refuse(CommandMatch::Refusal::kCycle, program.name, program.name, ctx.base == 0 ? 0 : ctx.base - 1,
                  key + ": a wrapper inside itself with the same words");
  }
  if (Unknown(words[at])) {
    CommandMatch in;
    in.declared = true;
    in.effect = Effect::kDestructive;
    in.rule = "{…} (a slot where the wrapped program goes: the command could be anything)";
    return in;
  }
  const std::string& name = *words[at];
  const size_t abs = ctx.base + at;
  if (auto hit = ctx.memo->find(abs + 1); hit != ctx.memo->end()) return hit->second;
  const ProgramDecl* decl = ctx.lookup && *ctx.lookup ? (*ctx.lookup)(name) : nullptr;
  if (!decl) {
    return Refuse(CommandMatch::Refusal::kInnerProgram, program.name, name, abs,
                  wrapper + " " + name + ": program `" + name + "` is not declared");
  }
  if (ctx.depth + 1 > kMaxWrapDepth) {
    return Refuse(CommandMatch::Refusal::kTooDeep, program.name, name, abs,
                  wrapper + " " + name + ": more than " + std::to_string(kMaxWrapDepth) + " wrappers deep");
  }
  WrapContext sub{ctx.lookup, ctx.depth + 1, abs + 1, ctx.chain, ctx.memo};
  sub.chain.push_back(std::move(key));
  CommandMatch in = MatchAt(*decl, {words.begin() + static_cast<std::ptrdiff_t>(at) + 1, words.end()}, sub);
  ctx.memo->emplace(abs + 1, in);
  return in;
}

CommandMatch MatchAt(const ProgramDecl& program, const std::vector<std::optional<std::string>>& words, WrapContext& ctx) {
  std::shared_ptr<const PreparedRules> table = program.prepared;
  if (!table) {
    ProgramDecl copy = program;
    copy.Prepare();
    table = copy.prepared;
  }
  Prepared prep{*table, {}, {}};
  for (const auto& w : words) {
    prep.lower.push_back(w ? std::optional<std::string>(LowerAscii(*w)) : std::nullopt);
    prep.normalized.push_back(w ? lang::NormalizePattern(*w) : std::string());
  }
  CommandMatch out;
  out.programs.push_back(program.name);
  auto add_programs = [&](const CommandMatch& in) {
    for (const auto& p : in.programs) {
      if (std::find(out.programs.begin(), out.programs.end(), p) == out.programs.end()) out.programs.push_back(p);
    }
  };
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
      if (!program.wraps.empty()) best.Take(Effect::kDestructive, program.name + " (too many undeclared options to read)");
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
    Best outer;
    if (!Judge(program, words, prep, r, outer, s)) {
      // One reading with a sub-command nobody declared refuses the command: no need to read on.
      declared = false;
      sub = s;
      guess = r.guess;
      break;
    }
    if (!r.inner) {
      if (outer.any) best.Take(outer.effect, outer.rule);
      continue;
    }
    CommandMatch in = Inner(program, words, r, ctx);
    if (!in.declared) {
      add_programs(in);
      in.programs = out.programs;
      return in;
    }
    add_programs(in);
    if (in.effect >= outer.effect) best.Take(in.effect, WrapText(program, *r.wrap) + " " + in.rule);
    else best.Take(outer.effect, outer.rule + " (wrapping " + in.rule + ")");
  }
  out.declared = declared;
  if (!declared) {
    out.effect = Effect::kDestructive;
    out.subcommand = sub;
    out.guess = guess;
    out.refusal = CommandMatch::Refusal::kSubcommand;
    out.program = program.name;
    out.rule = program.name + " " + sub + ": no rule and no default";
    return out;
  }
  out.effect = best.effect;
  out.rule = best.rule;
  return out;
}

}  // namespace

std::string WrapText(const ProgramDecl& program, const ProgramWrap& wrap) { return Join(program.name, wrap.words); }

CommandMatch MatchCommand(const ProgramDecl& program, const std::vector<std::optional<std::string>>& words,
                          const ProgramLookup& lookup) {
  std::map<size_t, CommandMatch> memo;
  WrapContext ctx{&lookup, 0, 0, {}, &memo};
  return MatchAt(program, words, ctx);
}

std::vector<OptionUse> OptionUses(const ProgramDecl& program, const std::vector<std::optional<std::string>>& words,
                                  const ProgramLookup& lookup) {
  std::vector<OptionUse> out;
  const ProgramDecl* prog = &program;
  const ProgramDecl none;
  size_t base = 0;
  // A wrapper's inner command is read with its own program's table (an empty one when nobody declares it).
  for (size_t depth = 0; depth <= kMaxWrapDepth; ++depth) {
    std::vector<std::optional<std::string>> rest(words.begin() + static_cast<std::ptrdiff_t>(base), words.end());
    size_t points = 0;
    Reading r = Read(*prog, rest, {}, points);
    for (OptionUse& u : r.uses) {
      u.word += base;
      if (u.value_word) *u.value_word += base;
      out.push_back(std::move(u));
    }
    if (!r.inner || Unknown(rest[*r.inner])) break;
    const ProgramDecl* next = lookup ? lookup(*rest[*r.inner]) : nullptr;
    prog = next ? next : &none;
    base += *r.inner + 1;
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
