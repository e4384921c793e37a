#include "compiler/ast.hpp"

#include "lang/operators.hpp"

namespace rb::ast {

const char* TypeName(Type t) {
  switch (t) {
    case Type::kError: return "<error>";
    case Type::kBool: return "bool";
    case Type::kNum: return "num";
    case Type::kDuration: return "duration";
    case Type::kPercent: return "percent";
    case Type::kSize: return "size";
    case Type::kString: return "string";
    case Type::kLines: return "lines";
    case Type::kSecret: return "secret";
    case Type::kList: return "list";
    case Type::kTarget: return "target";
    case Type::kNone: return "none";
    case Type::kTime: return "time";
  }
  return "?";
}

std::optional<Type> TypeFromName(const std::string& name) {
  static const std::pair<const char*, Type> kNames[] = {
      {"bool", Type::kBool},       {"num", Type::kNum},       {"duration", Type::kDuration},
      {"percent", Type::kPercent}, {"size", Type::kSize},     {"string", Type::kString},
      {"lines", Type::kLines},     {"secret", Type::kSecret}, {"none", Type::kNone},
      {"time", Type::kTime},
  };
  for (const auto& [n, t] : kNames) {
    if (name == n) return t;
  }
  return std::nullopt;
}

const char* BinOpText(BinOp op) {
  // The table's text (a string literal there, so data() ends in a NUL); the order is asserted in fold.cpp.
  return lang::Info(static_cast<lang::Operator>(op)).text.data();
}

rt::ProgramDecl ToProgramDecl(const Program& p) {
  rt::ProgramDecl d;
  d.name = p.name;
  for (const auto& o : p.options) d.options.push_back(rt::ProgramOption{o.names, o.value, o.secret});
  for (const auto& r : p.rules) d.rules.push_back(rt::ProgramRule{r.effect, r.words});
  d.default_effect = p.default_effect;
  for (const auto& w : p.wraps) d.wraps.push_back(rt::ProgramWrap{w.words});
  d.Prepare();
  return d;
}

std::string Word::Literal() const {
  std::string s;
  for (const auto& p : parts) {
    if (!p.is_slot) s += p.text;
  }
  return s;
}

bool Word::HasSlot() const {
  for (const auto& p : parts) {
    if (p.is_slot) return true;
  }
  return false;
}

}  // namespace rb::ast
