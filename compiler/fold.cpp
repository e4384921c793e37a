#include "compiler/fold.hpp"

#include "compiler/codegen.hpp"
#include "lang/units.hpp"

#include <cmath>

namespace rb {

namespace {

// ast::BinOp lists the binary operators in the table's order (codegen indexes opcodes by it).
#define RB_BINARY_OP(name, text, cls, precedence, opcode, operands, result, doc)                       \
  static_assert(static_cast<int>(ast::BinOp::k##name) == static_cast<int>(lang::Operator::k##name), \
                "ast::BinOp must follow lang/operators.def");
#include "lang/operators.def"

lang::Operand View(const Folded& f) {
  lang::Operand o;
  o.type = f.type;
  o.number = f.number;
  o.text = f.text;
  return o;
}

std::optional<Folded> FromOutcome(const lang::Outcome& r, const lang::Operand& a, const lang::Operand& b,
                                  const ast::Expr& e, FoldFault* fault) {
  if (r.fault != lang::Fault::kNone) {
    if (fault && fault->fault == lang::Fault::kNone) *fault = FoldFault{r.fault, e.span, lang::FaultMessage(r.fault, a, b)};
    return std::nullopt;
  }
  return Folded{r.type, r.number, {}};
}

}  // namespace

std::optional<UnitCall> UnitOf(const std::string& name) {
  if (name == "bytes") return UnitCall{lang::ValueType::kSize, 1};
  if (name == "seconds") return UnitCall{lang::ValueType::kDuration, 1000};
  if (name == "percent") return UnitCall{lang::ValueType::kPercent, 1};
  return std::nullopt;
}

lang::Operator ToOperator(ast::BinOp op) { return static_cast<lang::Operator>(op); }  // asserted above

std::optional<Folded> FoldConstant(const ast::Expr& e, FoldFault* fault) {
  using K = ast::ExprKind;
  switch (e.kind) {
    case K::kNumber: return Folded{ToValueType(e.unit), e.value, {}};
    case K::kBool: return Folded{lang::ValueType::kBool, e.value != 0 ? 1.0 : 0.0, {}};
    case K::kUnknown: return Folded{};
    case K::kString: return Folded{lang::ValueType::kString, 0, e.text};
    case K::kNot:
    case K::kNeg: {
      auto v = FoldConstant(*e.kids[0], fault);
      if (!v) return std::nullopt;
      lang::Operand a = View(*v);
      return FromOutcome(lang::Evaluate(e.kind == K::kNot ? lang::Operator::kNot : lang::Operator::kNeg, a), a,
                         lang::Operand{}, e, fault);
    }
    case K::kBinary: {
      lang::Operator op = ToOperator(e.op);
      auto a = FoldConstant(*e.kids[0], fault);
      if (a && (op == lang::Operator::kAnd || op == lang::Operator::kOr)) {
        // The VM's jump skips the right side on the absorbing value.
        int absorbing = op == lang::Operator::kAnd ? 0 : 1;
        if (lang::Truth(View(*a)) == absorbing) return a;
      }
      auto b = FoldConstant(*e.kids[1], fault);
      if (!a || !b) return std::nullopt;
      lang::Operand x = View(*a), y = View(*b);
      return FromOutcome(lang::Evaluate(op, x, y), x, y, e, fault);
    }
    case K::kInterp: {
      // Every part constant: the text, each value as the printer writes it (the VM's CONCAT).
      std::string text;
      for (const auto& k : e.kids) {
        auto v = FoldConstant(*k, fault);
        if (!v) return std::nullopt;
        switch (v->type) {
          case lang::ValueType::kString: text += v->text; break;
          case lang::ValueType::kBool: text += v->number != 0 ? "true" : "false"; break;
          case lang::ValueType::kNum: text += lang::FormatNumber(v->number); break;
          case lang::ValueType::kDuration: text += lang::FormatDuration(v->number); break;
          case lang::ValueType::kPercent: text += lang::FormatQuantity(lang::Dimension::kPercent, v->number); break;
          case lang::ValueType::kSize: text += lang::FormatSize(v->number); break;
          case lang::ValueType::kUnknown: return Folded{};  // unknown in, unknown out
          default: return std::nullopt;
        }
      }
      return Folded{lang::ValueType::kString, 0, text};
    }
    case K::kCall: {
      // bytes(n), seconds(n), percent(n) of a constant: the VM's AS_SIZE/AS_DURATION/AS_PERCENT.
      const ast::Expr& callee = *e.kids[0];
      if (callee.kind != K::kName || e.kids.size() != 2) return std::nullopt;
      std::optional<UnitCall> u = UnitOf(callee.text);
      if (!u) return std::nullopt;
      auto v = FoldConstant(*e.kids[1], fault);
      if (!v) return std::nullopt;
      if (v->type == lang::ValueType::kUnknown) return v;
      if (v->type != lang::ValueType::kNum || !std::isfinite(v->number * u->scale)) return std::nullopt;
      return Folded{u->unit, v->number * u->scale, {}};
    }
    case K::kName:
    case K::kMember:
    case K::kPipe:
    case K::kList:
    case K::kAsk:
    case K::kWindow: return std::nullopt;
  }
  return std::nullopt;
}

ast::Type ToAstType(lang::ValueType t) {
  switch (t) {
    case lang::ValueType::kBool: return ast::Type::kBool;
    case lang::ValueType::kNum: return ast::Type::kNum;
    case lang::ValueType::kDuration: return ast::Type::kDuration;
    case lang::ValueType::kPercent: return ast::Type::kPercent;
    case lang::ValueType::kSize: return ast::Type::kSize;
    case lang::ValueType::kString: return ast::Type::kString;
    case lang::ValueType::kLines: return ast::Type::kLines;
    case lang::ValueType::kSecret: return ast::Type::kSecret;
    case lang::ValueType::kList: return ast::Type::kList;
    case lang::ValueType::kTarget: return ast::Type::kTarget;
    case lang::ValueType::kNone: return ast::Type::kNone;
    case lang::ValueType::kTime: return ast::Type::kTime;
    case lang::ValueType::kUnknown:
    case lang::ValueType::kMap: break;
  }
  return ast::Type::kError;
}

}  // namespace rb
