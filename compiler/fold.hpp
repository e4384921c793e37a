// The constant folder: the value of a constant subexpression, computed with the VM's own operators
// (lang/operators.hpp). Codegen folds with it and lint reports conditions it folds to a constant, so
// what lint calls "always false" is exactly what the compiled code evaluates to.
#pragma once

#include <optional>
#include <string>

#include "compiler/ast.hpp"
#include "lang/operators.hpp"

namespace rb {

// A folded constant: a bool (0/1), a number in base units with its unit, a string, or unknown.
struct Folded {
  lang::ValueType type = lang::ValueType::kUnknown;
  double number = 0;
  std::string text;  // kString
};

// Where a constant operation would fail at run time (`5m / 0`): not folded, for lint to report.
struct FoldFault {
  lang::Fault fault = lang::Fault::kNone;
  ast::Span span;
  std::string message;  // the VM's message
};

// The value of `e` when it is constant, or nullopt. `false and x` and `true or x` fold without x,
// as the VM's short-circuit never evaluates x; `x and false` does not (x may fail at run time).
// Windows, names, calls, pipes, lists and asks are not constant. The first failing constant
// operation, if any, is stored in `fault`.
std::optional<Folded> FoldConstant(const ast::Expr& e, FoldFault* fault = nullptr);

// bytes(n), seconds(n), percent(n): the unit a plain number is given and the base units per one.
struct UnitCall {
  lang::ValueType unit;
  double scale;
};
std::optional<UnitCall> UnitOf(const std::string& name);

// The table's operator for a binary operator of the tree (ast::BinOp follows lang/operators.def).
lang::Operator ToOperator(ast::BinOp op);

// The checker's type of a value type (kUnknown and kMap have none: kError).
ast::Type ToAstType(lang::ValueType t);

}  // namespace rb
