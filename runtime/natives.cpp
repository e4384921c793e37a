#include "runtime/natives.hpp"

#include <algorithm>
#include <cctype>
#include <map>

namespace rb::rt {

namespace {

// The spellings natives.def uses, without their enum names.
constexpr ValueType kBool = ValueType::kBool, kNum = ValueType::kNum, kDuration = ValueType::kDuration,
                    kPercent = ValueType::kPercent, kSize = ValueType::kSize, kString = ValueType::kString,
                    kLines = ValueType::kLines, kTime = ValueType::kTime;
constexpr Effect kRead = Effect::kRead, kWrite = Effect::kWrite, kDestructive = Effect::kDestructive;
constexpr DryBehaviour kAnswered = DryBehaviour::kAnswered, kRecorded = DryBehaviour::kRecorded;
constexpr CommandWords kNoWords = CommandWords::kNoWords, kSplit = CommandWords::kSplit, kWhole = CommandWords::kWhole;
constexpr FilterInput kText = FilterInput::kText, kNumber = FilterInput::kNum;

#define RB_UNPAREN(...) __VA_ARGS__

std::vector<NativeInfo> MakeNatives() {
  std::vector<NativeInfo> out;
#define RB_NATIVE(id, name, effect, params, result, program, words)                                          \
  out.push_back(NativeInfo{name, false, effect, effect == kRead ? kAnswered : kRecorded, {RB_UNPAREN params}, \
                           result, nullptr, static_cast<uint16_t>(Slot::k##id), program, words, kText});
#define RB_FILTER(id, name, input, params, result, fn) \
  out.push_back(NativeInfo{name, true, Effect::kPure, kAnswered, {RB_UNPAREN params}, result, fn, kNoNative, "", kNoWords, input});
#include "runtime/natives.def"
#undef RB_NATIVE
#undef RB_FILTER
  return out;
}

#undef RB_UNPAREN

}  // namespace

const char* DryBehaviourName(DryBehaviour d) {
  switch (d) {
    case DryBehaviour::kAnswered: return "answered";
    case DryBehaviour::kRecorded: return "recorded";
  }
  return "?";
}

const std::vector<NativeInfo>& Natives() {
  static const std::vector<NativeInfo> kNatives = MakeNatives();
  return kNatives;
}

uint16_t FindNative(const std::string& name) {
  static const std::map<std::string, uint16_t> kByName = [] {
    std::map<std::string, uint16_t> m;
    const auto& all = Natives();
    for (size_t i = 0; i < all.size(); ++i) m.emplace(all[i].name, static_cast<uint16_t>(i));
    return m;
  }();
  auto it = kByName.find(name);
  return it == kByName.end() ? kNoNative : it->second;
}

const Registry& DefaultRegistry() {
  static const Registry kRegistry = [] {
    Registry reg;
    const auto& all = Natives();
    for (size_t i = 0; i < all.size(); ++i) {
      const NativeInfo& n = all[i];
      NativeDecl d;
      d.name = n.name;
      d.effect = n.effect;
      d.is_filter = n.is_filter;
      d.params = n.params;
      d.result = n.result;
      d.native = static_cast<uint16_t>(i);
      reg.AddNative(std::move(d));
    }
    return reg;
  }();
  return kRegistry;
}

Registry WithProgramTables(const Registry& host, const Program& program) {
  Registry reg = host;
  for (const ProgramDecl& d : program.programs) {
    if (!reg.Program(d.name)) reg.AddProgram(d);
  }
  return reg;
}

std::array<LiveCall, kSlotCount>& LiveSlots() {
  static std::array<LiveCall, kSlotCount> slots;
  return slots;
}

std::vector<CapabilitySlot> CapabilitySlots() {
  std::vector<CapabilitySlot> out;
  for (const NativeInfo& n : Natives()) {
    if (n.is_filter) continue;
    CapabilitySlot s;
    s.name = n.name;
    s.effect = n.effect;
    s.dry = n.dry;
    s.params = n.params;
    s.result = n.result;
    s.slot = n.slot;
    s.live = static_cast<bool>(LiveSlots()[n.slot]);
    out.push_back(std::move(s));
  }
  std::sort(out.begin(), out.end(), [](const CapabilitySlot& a, const CapabilitySlot& b) { return a.name < b.name; });
  return out;
}

}  // namespace rb::rt

namespace rb::rt {

CommandEffect NativeCommandEffect(const NativeInfo& native, const std::string* text, const Registry& registry,
                                  const std::vector<ProgramDecl>* carried) {
  CommandEffect out;
  out.effect = native.effect;
  if (!native.ByCommand()) {
    out.declared = true;
    return out;
  }
  if (!text) {
    out.rule = "the command is not a literal: its effect cannot be read before it runs";
    return out;
  }
  // `{name}` is a value not known before the run (a formal, once interpolated); `{{` and `}}` are
  // literal braces. The template is split before any value is put in, so a value is one word.
  std::string templ;
  for (size_t i = 0; i < text->size(); ++i) {
    char c = (*text)[i];
    if ((c == '{' || c == '}') && i + 1 < text->size() && (*text)[i + 1] == c) {
      templ += c;
      ++i;
    } else if (c == '{') {
      size_t close = text->find('}', i);
      bool ident = close != std::string::npos && close > i + 1;
      for (size_t k = i + 1; ident && k < close; ++k) {
        char x = (*text)[k];
        ident = std::isalnum(static_cast<unsigned char>(x)) || x == '_' || x == '.';
      }
      if (ident) {
        templ += kSlotChar;
        i = close;
      } else {
        templ += c;
      }
    } else {
      templ += c;
    }
  }
  std::vector<std::string> words;
  if (native.words == CommandWords::kWhole) {
    words.push_back(templ);
  } else {
    std::string cur;
    for (char c : templ) {
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        if (!cur.empty()) words.push_back(std::move(cur)), cur.clear();
      } else {
        cur += c;
      }
    }
    if (!cur.empty()) words.push_back(std::move(cur));
  }
  std::string program = native.program;
  if (program == "*") {
    if (words.empty()) {
      out.rule = "the command is empty";
      return out;
    }
    program = words.front();
    words.erase(words.begin());
    if (program.find(kSlotChar) != std::string::npos) {
      out.rule = "the program of a command must be a literal word";
      return out;
    }
  }
  const ProgramDecl* table = registry.Program(program);
  if (!table && carried && registry.TrustsCarriedTables()) {
    for (const ProgramDecl& d : *carried) {
      if (d.name == program) table = &d;
    }
  }
  if (!table) {
    out.rule = "program `" + program + "` is not declared";
    return out;
  }
  std::vector<std::optional<std::string>> opt(words.begin(), words.end());
  CommandMatch m = MatchCommand(*table, opt);
  if (!m.declared) {
    out.rule = "`" + program + "` has no declared effect for `" + m.subcommand + "`";
    return out;
  }
  out.declared = true;
  out.effect = std::min(m.effect, native.effect);
  out.rule = m.rule;
  return out;
}

}  // namespace rb::rt
