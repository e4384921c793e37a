// The effect matcher (rt::MatchCommand) over the stdlib's program tables. The input drives a command
// built from a program's own options, values and rule words, written once in canonical order
// (options first, `-X VALUE` spelled with the first name) and once respelled: other aliases,
// attached values (`-XDELETE`, `--request=DELETE`), short clusters (`-sX`), long-option prefixes,
// options moved between and after the positional words. Property: no spelling gets a lower effect
// than the canonical one (an undeclared sub-command counting as the highest). The raw input, split
// on blanks, is also matched against every table: it must end, with a valid effect.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "compiler/codegen.hpp"
#include "runtime/registry.hpp"
#include "tests/fuzz/fuzz_util.hpp"

namespace {

using rb::rt::CommandMatch;
using rb::rt::ProgramDecl;
using rb::rt::ProgramOption;

struct Input {
  const uint8_t* data;
  size_t size;
  size_t at = 0;
  uint8_t Next() { return at < size ? data[at++] : 0; }
  bool Done() const { return at >= size; }
  size_t Pick(size_t n) { return n == 0 ? 0 : Next() % n; }
};

const rb::rt::Registry& Registry() {
  static const rb::rt::Registry kRegistry = rb::StdlibRegistry();
  return kRegistry;
}

int Rank(const CommandMatch& m) { return m.declared ? static_cast<int>(m.effect) : 99; }

// Words a table mentions: positional rule words, option values its rules name, `~` words.
struct Vocabulary {
  std::vector<std::string> positional, values;
};
Vocabulary VocabularyOf(const ProgramDecl& p) {
  Vocabulary v;
  for (const auto& r : p.rules) {
    if (r.words.empty()) continue;
    if (r.words[0][0] == '-') {
      if (r.words.size() > 1) v.values.push_back(r.words[1]);
    } else if (r.words[0][0] == '~') {
      std::string q = "MATCH (n) " + r.words[0].substr(1);
      for (size_t k = 1; k < r.words.size(); ++k) q += " " + r.words[k];
      v.positional.push_back(q);
    } else {
      for (const auto& w : r.words) v.positional.push_back(w);
    }
  }
  for (const char* w : {"x", "pods", "deploy/api", "http://api/v1", "127.0.0.1:6379", "RETURN 1", "db0"}) {
    v.positional.push_back(w);
    v.values.push_back(w);
  }
  return v;
}

bool IsLong(const std::string& n) { return n.size() > 2 && n[0] == '-' && n[1] == '-'; }
bool IsShort(const std::string& n) { return n.size() == 2 && n[0] == '-' && n[1] != '-'; }

// A unique prefix of long option name `n` that is no other option's exact name, if there is one.
std::optional<std::string> Abbreviation(const ProgramDecl& p, const std::string& n, Input& in) {
  if (!IsLong(n) || n.size() < 6) return std::nullopt;
  size_t len = 4 + in.Pick(n.size() - 4);
  std::string prefix = n.substr(0, len);
  if (p.FindOption(prefix) != p.FindOption(n)) return std::nullopt;
  for (const auto& o : p.options) {
    for (const auto& other : o.names) {
      if (other == prefix && prefix != n) return std::nullopt;
    }
  }
  return prefix;
}

struct Item {
  const ProgramOption* option = nullptr;  // null: a positional word
  std::string text;                       // the positional word, or the option's value
};

// One spelling of an option item, as one or two words.
std::vector<std::string> Spell(const ProgramDecl& p, const Item& it, Input& in,
                               const std::vector<const ProgramOption*>& short_flags) {
  const ProgramOption& o = *it.option;
  std::string name = o.names[in.Pick(o.names.size())];
  if (auto abbr = Abbreviation(p, name, in); abbr && in.Next() % 3 == 0) name = *abbr;
  // A cluster of value-less short flags in front of a short option: `-sS` + `X`.
  std::string cluster;
  if (IsShort(name) && !short_flags.empty() && in.Next() % 3 == 0) {
    for (size_t k = 0, n = 1 + in.Pick(2); k < n; ++k) cluster += short_flags[in.Pick(short_flags.size())]->names[0].substr(1);
  }
  auto head = [&](const std::string& n) { return cluster.empty() ? n : "-" + cluster + n.substr(1); };
  if (!o.TakesValue()) return {head(name)};
  switch (in.Pick(3)) {
    case 0: return {head(name), it.text};
    case 1:
      if (IsLong(name)) return {name + "=" + it.text};
      return {head(name) + it.text};  // -XDELETE
    default:
      if (IsShort(name) && cluster.empty()) return {name + "=" + it.text};  // -X=DELETE
      return {head(name), it.text};
  }
}

std::vector<std::optional<std::string>> AsWords(const std::vector<std::string>& v) {
  return std::vector<std::optional<std::string>>(v.begin(), v.end());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto& reg = Registry();
  static const char* kPrograms[] = {"redis-cli", "kubectl", "curl", "celery", "cypher-shell"};

  // 1. Raw words: any input ends with a valid effect, against every table.
  {
    std::vector<std::optional<std::string>> words;
    std::string cur;
    for (size_t i = 0; i < size && words.size() < 64; ++i) {
      char c = static_cast<char>(data[i]);
      if (c == ' ' || c == '\n') {
        if (!cur.empty()) words.emplace_back(cur);
        cur.clear();
      } else if (c == '\x01') {
        words.emplace_back(std::nullopt);  // a slot
      } else {
        cur += c;
      }
    }
    if (!cur.empty()) words.emplace_back(cur);
    for (const char* name : kPrograms) {
      CommandMatch m = rb::rt::MatchCommand(*reg.Program(name), words);
      FUZZ_CHECK(m.effect == rb::rt::Effect::kRead || m.effect == rb::rt::Effect::kWrite ||
                 m.effect == rb::rt::Effect::kDestructive);
      FUZZ_CHECK(!m.rule.empty());
    }
  }

  // 2. One command, canonical and respelled.
  Input in{data, size};
  const ProgramDecl& p = *reg.Program(kPrograms[in.Pick(5)]);
  Vocabulary vocab = VocabularyOf(p);
  std::vector<const ProgramOption*> short_flags;
  for (const auto& o : p.options) {
    if (!o.TakesValue() && IsShort(o.names[0])) short_flags.push_back(&o);
  }
  std::vector<Item> options, positional;
  for (size_t n = 0; n < 10 && !in.Done(); ++n) {
    if (in.Next() % 2 == 0 && !p.options.empty()) {
      Item it;
      it.option = &p.options[in.Pick(p.options.size())];
      if (it.option->TakesValue()) it.text = vocab.values[in.Pick(vocab.values.size())];
      options.push_back(it);
    } else {
      positional.push_back(Item{nullptr, vocab.positional[in.Pick(vocab.positional.size())]});
    }
  }
  std::vector<std::string> canonical;
  for (const auto& it : options) {
    canonical.push_back(it.option->names[0]);
    if (it.option->TakesValue()) canonical.push_back(it.text);
  }
  for (const auto& it : positional) canonical.push_back(it.text);

  std::vector<std::string> respelled;
  size_t next_option = 0;
  for (size_t k = 0; k <= positional.size(); ++k) {
    // Some options before positional word k (all that are left, before the end).
    size_t take = k == positional.size() ? options.size() - next_option : in.Pick(options.size() - next_option + 1);
    for (size_t j = 0; j < take; ++j) {
      for (auto& w : Spell(p, options[next_option++], in, short_flags)) respelled.push_back(std::move(w));
    }
    if (k < positional.size()) respelled.push_back(positional[k].text);
  }

  CommandMatch a = rb::rt::MatchCommand(p, AsWords(canonical));
  CommandMatch b = rb::rt::MatchCommand(p, AsWords(respelled));
  if (Rank(b) < Rank(a)) {
    std::string ca, cb;
    for (const auto& w : canonical) ca += " " + w;
    for (const auto& w : respelled) cb += " " + w;
    std::fprintf(stderr, "%s%s → %s\n%s%s → %s\n", p.name.c_str(), ca.c_str(), a.rule.c_str(), p.name.c_str(),
                 cb.c_str(), b.rule.c_str());
    FUZZ_CHECK(Rank(b) >= Rank(a));
  }
  return 0;
}
