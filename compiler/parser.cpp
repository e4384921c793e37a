// The only translation unit that instantiates the PEGTL grammar (it is template-heavy).
#include "compiler/parser.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <type_traits>
#include <tao/pegtl/contrib/parse_tree.hpp>

#include "compiler/syntax_errors.hpp"
#include "grammar/grammar.hpp"
#include "lang/literals.hpp"
#include "lang/words.hpp"

namespace rb {
namespace {

namespace g = rb::grammar;
namespace pegtl = tao::pegtl;
namespace pt = tao::pegtl::parse_tree;

// ---- Syntax errors: every rule that can fail has its entry in compiler/syntax_errors.def ---------
// The error path carries the entry's id from the rule that failed to the diagnostic; it never reads
// an exception's text.

struct depth_limit {};  // stands for the rule nesting limit in the table (it is no grammar rule)

// The index of Rule's entry in syntax_errors.def, or -1 when it has none.
template <typename Rule>
inline constexpr int kSyntaxEntry = -1;
#define RB_SYNTAX(name, rule, kind, caret, message, hint) \
  template <>                                             \
  inline constexpr int kSyntaxEntry<rule> = static_cast<int>(SyntaxError::k##name);
#include "compiler/syntax_errors.def"
#undef RB_SYNTAX

// What a failing rule throws: its table entry and the byte where it failed.
struct SyntaxFailure {
  SyntaxError id;
  const char* at;
};

// A too-deep input ends the file: resynchronising would only parse the same nesting again.
bool EndsTheFile(SyntaxError id) { return Info(id).kind == DiagKind::kTooDeep; }

// ---- Parse state: everything one Parse() call keeps while PEGTL runs -----------------------------
// Passed to pegtl::parse as its state, so two parses (on two threads, or nested) share nothing.
struct Recovered {
  size_t offset;  // absolute byte offset of the error
  SyntaxError id;
};
struct ParseState {
  const char* text_begin = nullptr;     // the file's first byte (each input starts at a declaration)
  std::vector<Recovered> recovered;     // errors recovery skipped past, not yet reported
  size_t depth = 0;                     // rule nesting, bounded by kMaxRuleDepth (RB0006)
  std::vector<ast::Comment> comments;   // as matched: backtracking can add one twice
};

// The ParseState among a rule's states (parse_tree adds its own, in an order of its choosing).
inline ParseState* PickState(ParseState& s, ParseState* /*found*/) { return &s; }
template <typename T>
ParseState* PickState(T& /*other*/, ParseState* found) {
  return found;
}
template <typename... States>
ParseState& StateOf(States&... st) {
  static_assert((std::is_same_v<std::decay_t<States>, ParseState> + ... + 0) == 1, "one ParseState per parse");
  ParseState* found = nullptr;
  ((found = PickState(st, found)), ...);
  return *found;
}

// Throws the failed rule's entry; a `must<>` or `raise<>` on a rule without one does not compile.
template <typename Rule>
struct ErrorControl : pegtl::normal<Rule> {
  template <typename ParseInput, typename... States>
  [[noreturn]] static void raise(const ParseInput& in, States&&... /*st*/) {
    static_assert(kSyntaxEntry<Rule> >= 0, "give this rule its entry in compiler/syntax_errors.def");
    throw SyntaxFailure{static_cast<SyntaxError>(kSyntaxEntry<Rule>), in.current()};
  }
};

// ---- Recovery inside declarations ---------------------------------------------------------------
// A syntax error inside a runbook section, a step, a symptom or a table row is recorded and the
// parser skips that one entry (to the end of its line, or past its balanced `{...}` block) and goes
// on, so one typo does not hide the findings after it. Errors elsewhere end the declaration and the
// top-level loop resynchronises at the next declaration.

bool AtTopLevelKeyword(const char* p, const char* end);
bool StartsTopLevel(std::string_view line);

// Where to resume after a failed entry that starts at `p` (`text_begin` is the file's first byte).
const char* SkipEntry(const char* p, const char* end, const char* text_begin) {
  int depth = 0;
  bool opened = false;
  bool line_start = p == text_begin || p[-1] == '\n';
  while (p < end) {
    char c = *p;
    if (line_start && AtTopLevelKeyword(p, end)) return p;
    line_start = false;
    if (c == '\n') {
      if (!opened) return p + 1;
      line_start = true;
      ++p;
    } else if (c == '"' || c == '\'') {
      const char* after_quote = p + 1;
      for (++p; p < end && *p != c && *p != '\n'; ++p) {
        if (c == '"' && *p == '\\' && p + 1 < end && p[1] != '\n') ++p;
      }
      if (p < end && *p == c) {
        ++p;
      } else {
        p = after_quote;  // unterminated: scan the rest of the line as code, so a `{` in it counts
      }
    } else if (c == '#') {
      while (p < end && *p != '\n') ++p;
    } else if (c == '{') {
      ++depth;
      opened = true;
      ++p;
    } else if (c == '}') {
      if (depth == 0) return p;  // closes the enclosing block: leave it to the parent
      ++p;
      if (--depth == 0) return p;
    } else {
      ++p;
    }
  }
  return end;
}

template <typename Rule>
struct RecoveringControl : ErrorControl<Rule> {
  template <pegtl::apply_mode A, pegtl::rewind_mode M, template <typename...> class Action,
            template <typename...> class Control, typename ParseInput, typename... States>
  [[nodiscard]] static bool match(ParseInput& in, States&&... st) {
    const char* begin = in.current();
    try {
      return ErrorControl<Rule>::template match<A, M, Action, Control>(in, st...);
    } catch (const SyntaxFailure& e) {
      if (EndsTheFile(e.id)) throw;
      ParseState& state = StateOf(st...);
      const char* resume = SkipEntry(begin, in.end(), state.text_begin);
      if (resume == begin) throw;  // no progress possible: let an enclosing rule report it once
      state.recovered.push_back(Recovered{static_cast<size_t>(e.at - state.text_begin), e.id});
      in.iterator() = resume;
      return true;
    }
  }
};

template <typename Rule>
struct Control : ErrorControl<Rule> {};
template <> struct Control<g::runbook_entry> : RecoveringControl<g::runbook_entry> {};
template <> struct Control<g::policy_entry> : RecoveringControl<g::policy_entry> {};
template <> struct Control<g::symptom_entry> : RecoveringControl<g::symptom_entry> {};
template <> struct Control<g::step_entry> : RecoveringControl<g::step_entry> {};
template <> struct Control<g::table_row> : RecoveringControl<g::table_row> {};
template <> struct Control<g::method> : RecoveringControl<g::method> {};

// ---- Actions: the nesting limit, and comments kept for the tree ---------------------------------

// PEGTL's limit_depth, counted in the parse state and thrown as the table's TooDeep entry.
struct DepthLimit : pegtl::maybe_nothing {
  template <typename Rule, pegtl::apply_mode A, pegtl::rewind_mode M, template <typename...> class Action,
            template <typename...> class Control, typename ParseInput, typename... States>
  [[nodiscard]] static bool match(ParseInput& in, States&&... st) {
    if constexpr (Control<Rule>::enable) {
      ParseState& state = StateOf(st...);
      struct Nested {
        size_t& depth;
        ~Nested() { --depth; }
      } nested{++state.depth};
      if (state.depth > kMaxRuleDepth) throw SyntaxFailure{SyntaxError::kTooDeep, in.current()};
      return pegtl::match<Rule, A, M, Action, Control>(in, st...);
    } else {
      return pegtl::match<Rule, A, M, Action, Control>(in, st...);
    }
  }
};

template <typename Rule>
struct Action : DepthLimit {};

// Each `# ...` the grammar matches, with whether code precedes it on its line.
template <>
struct Action<g::comment> : DepthLimit {
  template <typename ActionInput>
  static void apply(const ActionInput& in, ParseState& state) {
    const char* b = in.begin();
    const char* line = b;
    while (line > state.text_begin && line[-1] != '\n') --line;
    if (line == state.text_begin && std::string_view(line, static_cast<size_t>(b - line)).rfind("\xEF\xBB\xBF", 0) == 0) {
      line += 3;  // a byte-order mark is no code
    }
    bool trailing = false;
    for (const char* p = line; p < b; ++p) trailing = trailing || (*p != ' ' && *p != '\t');
    uint32_t begin = static_cast<uint32_t>(b - state.text_begin);
    state.comments.push_back(
        ast::Comment{std::string(in.string_view()), {begin, begin + static_cast<uint32_t>(in.size())}, trailing});
  }
};

// clang-format off
template <typename Rule>
using Selector = pt::selector<Rule,
  pt::store_content::on<
    g::import_decl, g::module_path, g::runbook_decl, g::policy_decl, g::capability_decl, g::program_decl,
    g::filter_decl, g::decl_name, g::title, g::severity, g::owner, g::tags, g::tag, g::target, g::param,
    g::type_name, g::param_default, g::symptoms_block, g::symptom, g::look_block, g::grafana, g::panel,
    g::kibana, g::kibana_index, g::kibana_query, g::steps_block, g::step, g::kind_check, g::kind_action,
    g::kind_last_resort, g::kind_manual, g::kind_verify, g::guard, g::on_failure_continue, g::command, g::cmd_word, g::cmd_interp,
    g::cmd_lbrace, g::cmd_rbrace, g::cmd_dq, g::cmd_dq_text, g::cmd_dq_brace, g::cmd_sq_text, g::cmd_bare,
    g::shell_op, g::cmd_filters, g::filter_call, g::expect_line, g::within_clause, g::every_clause,
    g::text_line, g::escalate_block, g::table_row, g::when_cell, g::act_page, g::act_run, g::act_runbook,
    g::act_manual, g::act_declare, g::page_message, g::contact_ref, g::step_ref, g::runbook_ref, g::severity_ref, g::contact,
    g::contact_display, g::contact_handle, g::method, g::eff_read, g::eff_write, g::eff_destructive,
    g::formal, g::arrow, g::method_body, g::default_rule, g::effect_rule, g::sub_word, g::program_name, g::options_rule,
    g::secret_rule, g::option_spec, g::option_flag, g::option_value,
    g::wraps_rule, g::wrap_env, g::wrap_slot, g::wrap_dashes,
    g::paren, g::number, g::window_bound, g::dq_string, g::sq_string, g::list_lit, g::ask_expr, g::kw_true,
    g::kw_false, g::kw_unknown, g::name_ref, g::call_args, g::member_suffix, g::or_op, g::and_op, g::not_op,
    g::cmp_op, g::window_op, g::down_decl, g::page_repeat, g::pipe_op, g::add_op, g::mul_op, g::neg_op, g::let_decl, g::lower_rule,
    g::lock_decl, g::lock_name>,
  pt::fold_one::on<
    g::expr, g::and_expr, g::not_expr, g::window_expr, g::cmp_expr, g::pipe_expr, g::add_expr, g::mul_expr,
    g::unary_expr, g::postfix_expr>>;
// clang-format on

using Node = pt::node;

// Thrown by the builder for a value error (number range, escape) that is reported and skips the
// declaration like a syntax error does.
struct BuildError {
  DiagKind kind;
  ast::Span span;
  std::string message;
  std::string hint;
};

class Builder {
 public:
  explicit Builder(const std::shared_ptr<const Source>& source) : source_(source) {}

  void Top(const Node& n, ast::File& file) {
    if (n.is_type<g::import_decl>()) {
      file.imports.push_back(ast::Import{std::string(Child<g::module_path>(n).string_view()), SpanOf(n)});
    } else if (n.is_type<g::runbook_decl>()) {
      file.runbooks.push_back(Runbook(n));
    } else if (n.is_type<g::policy_decl>()) {
      file.policies.push_back(Policy(n));
    } else if (n.is_type<g::capability_decl>()) {
      file.capabilities.push_back(Capability(n));
    } else if (n.is_type<g::program_decl>()) {
      file.programs.push_back(Program(n));
    } else if (n.is_type<g::filter_decl>()) {
      file.filters.push_back(Sig(n, ast::Effect::kPure));
    } else {
      throw std::logic_error(fmt::format("parser: unexpected top-level node {}", n.type));
    }
  }

 private:
  ast::Span SpanOf(const Node& n) const {
    const char* base = source_->text().data();
    uint32_t begin = static_cast<uint32_t>(n.m_begin.data - base);
    // fold_one drops the content of nodes it keeps (those with several children): use the last child.
    uint32_t end = n.m_end.data ? static_cast<uint32_t>(n.m_end.data - base)
                                : (n.children.empty() ? begin : SpanOf(*n.children.back()).end);
    return ast::Span{begin, end};
  }

  template <typename R>
  const Node* Find(const Node& n) const {
    for (const auto& c : n.children) {
      if (c->is_type<R>()) return c.get();
    }
    return nullptr;
  }
  template <typename R>
  const Node& Child(const Node& n) const {
    const Node* c = Find<R>(n);
    if (!c) throw std::logic_error(fmt::format("parser: {} has no child {}", n.type, pegtl::demangle<R>()));
    return *c;
  }

  // Decodes a dq_string / sq_string, or the one such child of a string-derived rule (title, ...).
  std::string Str(const Node& n) const {
    if (n.is_type<g::sq_string>() || n.is_type<g::dq_string>()) {
      lang::LiteralProblem p;
      if (auto text = lang::ScanString(n.string_view(), p)) return std::move(*text);
      throw Problem(p, SpanOf(n).begin);
    }
    for (const auto& c : n.children) {
      if (c->is_type<g::dq_string>() || c->is_type<g::sq_string>()) return Str(*c);
    }
    throw std::logic_error(fmt::format("parser: {} holds no string", n.type));
  }

  // A literal the scanner refused, as the diagnostic the parser reports; `offset`: where the
  // scanned text starts in the file.
  static BuildError Problem(const lang::LiteralProblem& p, uint32_t offset) {
    DiagKind kind = DiagKind::kSyntax;
    switch (p.kind) {
      case lang::LiteralError::kBadEscape: kind = DiagKind::kBadEscape; break;
      case lang::LiteralError::kUnknownUnit: kind = DiagKind::kUnknownUnit; break;
      case lang::LiteralError::kRange: kind = DiagKind::kNumberRange; break;
      case lang::LiteralError::kCompound: kind = DiagKind::kCompoundDuration; break;
      case lang::LiteralError::kSyntax: kind = DiagKind::kSyntax; break;  // the grammar matched it: not reached
    }
    ast::Span sp{offset + static_cast<uint32_t>(p.begin), offset + static_cast<uint32_t>(p.end)};
    return BuildError{kind, sp, p.message, p.hint};
  }

  // Numbers: the value is kept in base units as a double that represents it exactly (|v| <= 2^53).
  ast::ExprPtr Number(const Node& n) const {
    auto e = std::make_unique<ast::Expr>();
    e->kind = ast::ExprKind::kNumber;
    e->span = SpanOf(n);
    lang::LiteralProblem p;
    auto q = lang::ScanNumber(n.string_view(), p);
    if (!q) throw Problem(p, e->span.begin);
    e->value = q->value;
    switch (q->dimension) {
      case lang::Dimension::kNone: e->unit = ast::Type::kNum; break;
      case lang::Dimension::kDuration: e->unit = ast::Type::kDuration; break;
      case lang::Dimension::kPercent: e->unit = ast::Type::kPercent; break;
      case lang::Dimension::kSize: e->unit = ast::Type::kSize; break;
    }
    return e;
  }

  ast::ExprPtr Make(ast::ExprKind kind, const Node& n) const {
    auto e = std::make_unique<ast::Expr>();
    e->kind = kind;
    e->span = SpanOf(n);
    return e;
  }

  static ast::BinOp OpOf(std::string_view t) {
    if (t == "or") return ast::BinOp::kOr;
    if (t == "and") return ast::BinOp::kAnd;
    if (t == "==") return ast::BinOp::kEq;
    if (t == "!=") return ast::BinOp::kNe;
    if (t == "<") return ast::BinOp::kLt;
    if (t == "<=") return ast::BinOp::kLe;
    if (t == ">") return ast::BinOp::kGt;
    if (t == ">=") return ast::BinOp::kGe;
    if (t == "+") return ast::BinOp::kAdd;
    if (t == "-") return ast::BinOp::kSub;
    if (t == "*") return ast::BinOp::kMul;
    if (t == "contains") return ast::BinOp::kContains;
    if (t == "matches") return ast::BinOp::kMatches;
    if (t == "in") return ast::BinOp::kEq;  // spelled out by ScopeIn
    return ast::BinOp::kDiv;
  }

  // `severity in [P1, P2]` is `severity == P1 or severity == P2` (and `owner in [...]` alike): the
  // checker reads each `==` as a scope test. `in` takes a list of names after `severity` or `owner`.
  ast::ExprPtr ScopeIn(ast::ExprPtr lhs, const Node& op, ast::ExprPtr list) const {
    ast::Span at = SpanOf(op);
    bool scope = lhs->kind == ast::ExprKind::kName && (lhs->text == "severity" || lhs->text == "owner");
    if (!scope) {
      throw BuildError{DiagKind::kScopeForm, at,
                       "`in` lists the severities or owners an escalation row applies to",
                       "write `severity in [P1, P2]` or `owner in [sre, dba]`; for another value, `x == a or x == b`"};
    }
    if (list->kind != ast::ExprKind::kList || list->kids.empty()) {
      throw BuildError{DiagKind::kScopeForm, list->span,
                       fmt::format("`{} in` takes a list of names in brackets", lhs->text),
                       lhs->text == "severity" ? "e.g. `severity in [P1, P2]`" : "e.g. `owner in [sre, dba]`"};
    }
    ast::Span whole{lhs->span.begin, list->span.end};
    ast::ExprPtr out;
    for (auto& item : list->kids) {
      auto eq = std::make_unique<ast::Expr>();
      eq->kind = ast::ExprKind::kBinary;
      eq->op = ast::BinOp::kEq;
      eq->op_span = at;
      eq->span = whole;
      auto name = std::make_unique<ast::Expr>();
      name->kind = ast::ExprKind::kName;
      name->text = lhs->text;
      name->span = lhs->span;
      eq->kids.push_back(std::move(name));
      eq->kids.push_back(std::move(item));
      if (!out) {
        out = std::move(eq);
        continue;
      }
      auto orr = std::make_unique<ast::Expr>();
      orr->kind = ast::ExprKind::kBinary;
      orr->op = ast::BinOp::kOr;
      orr->op_span = at;
      orr->span = whole;
      orr->kids.push_back(std::move(out));
      orr->kids.push_back(std::move(eq));
      out = std::move(orr);
    }
    return out;
  }

  // Operator chains and postfix chains parse iteratively but build left-nested trees that the
  // checker walks recursively: cap their length like the nesting depth.
  void CheckChain(const Node& n) const {
    if (n.children.size() > 2 * kMaxChain + 1) {
      throw BuildError{DiagKind::kTooDeep, SpanOf(n),
                       fmt::format("an expression chains more than {} operands", kMaxChain),
                       "split it into symptoms and combine those"};
    }
  }

  ast::ExprPtr Expr(const Node& n) const {
    if (n.children.size() > 2) CheckChain(n);
    if (n.is_type<g::expr>() || n.is_type<g::and_expr>() || n.is_type<g::cmp_expr>() || n.is_type<g::add_expr>() ||
        n.is_type<g::mul_expr>()) {
      auto lhs = Expr(*n.children[0]);
      if (n.is_type<g::cmp_expr>() && n.children.size() == 3 && n.children[1]->string_view() == "in") {
        return ScopeIn(std::move(lhs), *n.children[1], Expr(*n.children[2]));
      }
      for (size_t i = 1; i + 1 < n.children.size(); i += 2) {
        auto e = Make(ast::ExprKind::kBinary, n);
        e->op = OpOf(n.children[i]->string_view());
        e->op_span = SpanOf(*n.children[i]);
        e->span = ast::Span{lhs->span.begin, SpanOf(*n.children[i + 1]).end};
        e->kids.push_back(std::move(lhs));
        e->kids.push_back(Expr(*n.children[i + 1]));
        lhs = std::move(e);
      }
      return lhs;
    }
    if (n.is_type<g::pipe_expr>()) {
      auto lhs = Expr(*n.children[0]);
      for (size_t i = 1; i + 1 < n.children.size(); i += 2) {
        auto e = Make(ast::ExprKind::kPipe, n);
        e->op_span = SpanOf(*n.children[i]);
        e->span = ast::Span{lhs->span.begin, SpanOf(*n.children[i + 1]).end};
        e->kids.push_back(std::move(lhs));
        e->kids.push_back(FilterCall(*n.children[i + 1]));
        lhs = std::move(e);
      }
      return lhs;
    }
    if (n.is_type<g::not_expr>()) {
      auto e = Make(ast::ExprKind::kNot, n);
      e->kids.push_back(Expr(*n.children.back()));
      return e;
    }
    if (n.is_type<g::unary_expr>()) {
      auto e = Make(ast::ExprKind::kNeg, n);
      e->kids.push_back(Expr(*n.children.back()));
      return e;
    }
    if (n.is_type<g::window_expr>()) {
      auto e = Make(ast::ExprKind::kWindow, n);
      e->op_span = SpanOf(*n.children[1]);
      e->kids.push_back(Expr(*n.children[0]));
      e->op = OpOf(n.children[1]->string_view());
      auto bound = Number(*n.children[2]);
      e->kids.push_back(std::move(bound));
      return e;
    }
    if (n.is_type<g::postfix_expr>()) {
      auto cur = Expr(*n.children[0]);
      for (size_t i = 1; i < n.children.size(); ++i) {
        const Node& s = *n.children[i];
        if (s.is_type<g::member_suffix>()) {
          auto e = Make(ast::ExprKind::kMember, s);
          e->text = std::string(s.string_view().substr(1));
          e->span = ast::Span{cur->span.begin, SpanOf(s).end};
          e->kids.push_back(std::move(cur));
          cur = std::move(e);
        } else {
          auto e = Make(ast::ExprKind::kCall, s);
          e->span = ast::Span{cur->span.begin, SpanOf(s).end};
          e->kids.push_back(std::move(cur));
          for (const auto& a : s.children) e->kids.push_back(Expr(*a));
          cur = std::move(e);
        }
      }
      return cur;
    }
    if (n.is_type<g::paren>()) {
      auto inner = Expr(*n.children.front());
      inner->span = SpanOf(n);
      inner->parenthesised = true;
      return inner;
    }
    if (n.is_type<g::number>() || n.is_type<g::window_bound>()) return Number(n);
    if (n.is_type<g::dq_string>() || n.is_type<g::sq_string>()) return Interp(n);
    if (n.is_type<g::kw_true>() || n.is_type<g::kw_false>()) {
      auto e = Make(ast::ExprKind::kBool, n);
      e->value = n.is_type<g::kw_true>() ? 1 : 0;
      return e;
    }
    if (n.is_type<g::kw_unknown>()) return Make(ast::ExprKind::kUnknown, n);
    if (n.is_type<g::name_ref>()) {
      auto e = Make(ast::ExprKind::kName, n);
      e->text = std::string(n.string_view());
      return e;
    }
    if (n.is_type<g::ask_expr>()) {
      auto e = Make(ast::ExprKind::kAsk, n);
      auto q = Interp(*n.children[0]);
      if (q->kind == ast::ExprKind::kString) {
        e->text = std::move(q->text);
      } else {
        e->text = Str(*n.children[0]);  // the question as written, {slots} and all
        e->kids.push_back(std::move(q));
      }
      return e;
    }
    if (n.is_type<g::list_lit>()) {
      auto e = Make(ast::ExprKind::kList, n);
      for (const auto& c : n.children) e->kids.push_back(Expr(*c));
      return e;
    }
    if (n.is_type<g::when_cell>() || n.is_type<g::guard>() || n.is_type<g::param_default>() ||
        n.is_type<g::within_clause>() || n.is_type<g::every_clause>()) {
      return Expr(*n.children.back());
    }
    throw std::logic_error(fmt::format("parser: unexpected expression node {}", n.type));
  }

  // A string that may interpolate: "..." expands `{name}` and `{name.field}`, `{{` and `}}` are
  // braces, any other brace is text; '...' is raw. A kString when nothing is interpolated (its text
  // with `{{`/`}}` collapsed), else a kInterp of literal parts and slots. `n`: a dq_string or
  // sq_string, or a rule derived from string (text_line, ask_text, page_message, ...).
  ast::ExprPtr Interp(const Node& n) const {
    const Node* str = &n;
    if (!n.is_type<g::dq_string>() && !n.is_type<g::sq_string>()) {
      str = nullptr;
      for (const auto& c : n.children) {
        if (c->is_type<g::dq_string>() || c->is_type<g::sq_string>()) str = c.get();
      }
      if (!str) throw std::logic_error(fmt::format("parser: {} holds no string", n.type));
    }
    std::string whole = Str(*str);  // reports a bad escape where it is
    auto e = Make(ast::ExprKind::kString, *str);
    if (str->is_type<g::sq_string>()) {
      e->text = std::move(whole);
      return e;
    }
    std::string_view raw = str->string_view();
    raw = raw.substr(1, raw.size() - 2);
    const uint32_t base = SpanOf(*str).begin + 1;
    auto ident_char = [](char c, bool first) {
      return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || (!first && std::isdigit(static_cast<unsigned char>(c)));
    };
    std::vector<ast::ExprPtr> parts;
    std::string lit;  // raw text (escapes kept) of the literal part being read
    uint32_t lit_begin = base;
    auto flush = [&](uint32_t end) {
      if (lit.empty()) return;
      lang::LiteralProblem p;
      auto part = std::make_unique<ast::Expr>();
      part->kind = ast::ExprKind::kString;
      part->span = ast::Span{lit_begin, end};
      part->text = lang::Unescape(lit, p).value_or(lit);  // Str() validated the escapes
      parts.push_back(std::move(part));
      lit.clear();
    };
    size_t i = 0;
    while (i < raw.size()) {
      char c = raw[i];
      if (lit.empty()) lit_begin = base + static_cast<uint32_t>(i);
      if (c == '\\' && i + 1 < raw.size()) {
        lit.append(raw.substr(i, 2));
        i += 2;
        continue;
      }
      if ((c == '{' || c == '}') && i + 1 < raw.size() && raw[i + 1] == c) {
        lit.push_back(c);
        i += 2;
        continue;
      }
      if (c == '{') {
        // `{ident}` or `{ident.ident}`
        size_t k = i + 1;
        size_t name_end = 0, field_begin = 0;
        if (k < raw.size() && ident_char(raw[k], true)) {
          while (k < raw.size() && ident_char(raw[k], false)) ++k;
          name_end = k;
          if (k + 1 < raw.size() && raw[k] == '.' && ident_char(raw[k + 1], true)) {
            field_begin = ++k;
            while (k < raw.size() && ident_char(raw[k], false)) ++k;
          }
          if (k < raw.size() && raw[k] == '}') {
            flush(base + static_cast<uint32_t>(i));
            auto name = std::make_unique<ast::Expr>();
            name->kind = ast::ExprKind::kName;
            name->text = std::string(raw.substr(i + 1, name_end - i - 1));
            name->span = ast::Span{base + static_cast<uint32_t>(i + 1), base + static_cast<uint32_t>(name_end)};
            ast::Span slot{base + static_cast<uint32_t>(i), base + static_cast<uint32_t>(k + 1)};
            if (field_begin) {
              auto member = std::make_unique<ast::Expr>();
              member->kind = ast::ExprKind::kMember;
              member->text = std::string(raw.substr(field_begin, k - field_begin));
              member->span = slot;
              member->kids.push_back(std::move(name));
              parts.push_back(std::move(member));
            } else {
              name->span = slot;
              parts.push_back(std::move(name));
            }
            i = k + 1;
            continue;
          }
        }
      }
      lit.push_back(c);
      ++i;
    }
    flush(base + static_cast<uint32_t>(raw.size()));
    bool slots = std::any_of(parts.begin(), parts.end(), [](const ast::ExprPtr& p) { return p->kind != ast::ExprKind::kString; });
    if (!slots) {
      e->text.clear();
      for (const auto& p : parts) e->text += p->text;
      return e;
    }
    e->kind = ast::ExprKind::kInterp;
    e->text = std::move(whole);
    e->kids = std::move(parts);
    return e;
  }

  ast::ExprPtr FilterCall(const Node& n) const {
    // filter_call: the name is the text before `(`; its only child is call_args.
    auto e = Make(ast::ExprKind::kCall, n);
    std::string_view v = n.string_view();
    size_t end = 0;
    while (end < v.size() && (std::isalnum(static_cast<unsigned char>(v[end])) || v[end] == '_')) ++end;
    auto callee = Make(ast::ExprKind::kName, n);
    callee->text = std::string(v.substr(0, end));
    callee->span = ast::Span{e->span.begin, e->span.begin + static_cast<uint32_t>(end)};
    e->kids.push_back(std::move(callee));
    for (const auto& a : Child<g::call_args>(n).children) e->kids.push_back(Expr(*a));
    return e;
  }

  // An instruction, manual action or page message: `text` becomes the constant text when nothing
  // is interpolated (`{{` collapsed), else stays as written and `expr` gets the kInterp.
  void InterpText(const Node& n, std::string& text, ast::ExprPtr& expr) const {
    auto e = Interp(n);
    if (e->kind == ast::ExprKind::kString) {
      text = std::move(e->text);
    } else {
      expr = std::move(e);
    }
  }

  ast::Target Target(const Node& n) const {
    ast::Target t;
    const Node& name = Child<g::decl_name>(n);
    t.name = std::string(name.string_view());
    t.name_span = SpanOf(name);
    t.init = Expr(*n.children.back());
    t.span = SpanOf(n);
    return t;
  }

  ast::Param Param(const Node& n) const {
    ast::Param p;
    const Node& name = Child<g::decl_name>(n);
    p.name = std::string(name.string_view());
    p.name_span = SpanOf(name);
    if (const Node* t = Find<g::type_name>(n)) {
      p.type_name = std::string(t->string_view());
      p.type_span = SpanOf(*t);
    }
    if (const Node* d = Find<g::param_default>(n)) p.init = Expr(*d);
    p.span = SpanOf(n);
    return p;
  }

  std::vector<ast::EscRow> Rows(const Node& n) const {
    std::vector<ast::EscRow> rows;
    for (const auto& r : n.children) {
      if (!r->is_type<g::table_row>()) continue;
      ast::EscRow row;
      row.span = SpanOf(*r);
      for (const auto& c : r->children) {
        if (c->is_type<g::when_cell>()) {
          row.when = Expr(*c);
          continue;
        }
        ast::EscAction a;
        a.span = SpanOf(*c);
        const Node& arg = *c->children.front();
        if (c->is_type<g::act_page>()) a.kind = ast::ActionKind::kPage;
        else if (c->is_type<g::act_run>()) a.kind = ast::ActionKind::kRun;
        else if (c->is_type<g::act_runbook>()) a.kind = ast::ActionKind::kRunbook;
        else if (c->is_type<g::act_declare>()) a.kind = ast::ActionKind::kDeclare;
        else a.kind = ast::ActionKind::kManual;
        a.arg = a.kind == ast::ActionKind::kManual ? Str(arg) : std::string(arg.string_view());
        if (a.kind == ast::ActionKind::kManual) InterpText(arg, a.arg, a.text_expr);
        if (const Node* msg = Find<g::page_message>(*c)) {
          std::string text = Str(*msg);
          InterpText(*msg, text, a.text_expr);
          a.message = std::move(text);
        }
        if (Find<g::page_repeat>(*c)) a.repeat = true;
        row.then.push_back(std::move(a));
      }
      rows.push_back(std::move(row));
    }
    return rows;
  }

  // One word of a `$` line, decoded by the language's word splitter (lang/words.hpp).
  ast::Word Word(const Node& n) const {
    uint32_t offset = SpanOf(n).begin;
    lang::LiteralProblem p;
    auto decoded = lang::DecodeWord(n.string_view(), lang::WordRule::kDollarLine, p);
    if (!decoded) throw Problem(p, offset);
    auto span = [&](lang::TextSpan t) {
      return ast::Span{offset + static_cast<uint32_t>(t.begin), offset + static_cast<uint32_t>(t.end)};
    };
    ast::Word w;
    w.span = span(decoded->span);
    w.quoted = decoded->quoted;
    for (auto& part : decoded->parts) w.parts.push_back(ast::WordPart{part.is_slot, std::move(part.text), span(part.span)});
    return w;
  }

  // `let NAME = EXPR` (a runbook or policy member, or a capture in a step body).
  ast::Let Let(const Node& n, int step) const {
    ast::Let l;
    l.span = SpanOf(n);
    const Node& name = Child<g::decl_name>(n);
    l.name = std::string(name.string_view());
    l.name_span = SpanOf(name);
    l.init = Expr(*n.children.back());
    l.step = step;
    return l;
  }

  ast::Step Step(const Node& n, std::vector<ast::Let>* lets = nullptr, int index = -1) const {
    ast::Step s;
    s.span = SpanOf(n);
    const Node& kind = *n.children[0];
    if (kind.is_type<g::kind_check>()) s.kind = ast::StepKind::kCheck;
    else if (kind.is_type<g::kind_action>()) s.kind = ast::StepKind::kAction;
    else if (kind.is_type<g::kind_last_resort>()) s.kind = ast::StepKind::kLastResort;
    else if (kind.is_type<g::kind_manual>()) s.kind = ast::StepKind::kManual;
    else s.kind = ast::StepKind::kVerify;
    const Node& name = Child<g::decl_name>(n);
    s.name = std::string(name.string_view());
    s.name_span = SpanOf(name);
    s.title = Str(Child<g::title>(n));
    if (const Node* gd = Find<g::guard>(n)) s.guard = Expr(*gd);
    if (const Node* oc = Find<g::on_failure_continue>(n)) {
      s.continue_on_failure = true;
      s.continue_span = SpanOf(*oc);
    }
    for (const auto& c : n.children) {
      ast::StepItem item;
      item.span = SpanOf(*c);
      if (c->is_type<g::command>()) {
        item.kind = ast::ItemKind::kCommand;
        item.command.span = SpanOf(*c);
        for (const auto& w : c->children) {
          if (w->is_type<g::cmd_word>()) {
            item.command.argv.push_back(Word(*w));
          } else if (w->is_type<g::shell_op>()) {
            item.command.shell_ops.push_back(ast::ShellOp{std::string(w->string_view()), SpanOf(*w)});
          } else if (w->is_type<g::cmd_filters>()) {
            for (const auto& f : w->children) {
              if (f->is_type<g::filter_call>()) item.command.filters.push_back(FilterCall(*f));
            }
          }
        }
      } else if (c->is_type<g::text_line>()) {
        item.kind = ast::ItemKind::kText;
        item.text = Str(*c);
        InterpText(*c, item.text, item.text_expr);
      } else if (c->is_type<g::expect_line>()) {
        item.kind = ast::ItemKind::kExpect;
        item.expect.span = SpanOf(*c);
        item.expect.cond = Expr(*c->children[0]);
        if (const Node* w = Find<g::within_clause>(*c)) item.expect.within = Expr(*w);
        if (const Node* w = Find<g::every_clause>(*c)) item.expect.every = Expr(*w);
      } else if (c->is_type<g::lock_decl>()) {
        s.locks.push_back(Lock(*c));
        continue;
      } else if (c->is_type<g::let_decl>() && lets) {
        item.kind = ast::ItemKind::kCapture;
        item.let = lets->size();
        lets->push_back(Let(*c, index));
        lets->back().item = s.items.size();
      } else {
        continue;
      }
      s.items.push_back(std::move(item));
    }
    return s;
  }

  ast::Lock Lock(const Node& n) const {
    ast::Lock l;
    l.span = SpanOf(n);
    const Node& name = Child<g::lock_name>(n);
    l.name = Str(name);
    InterpText(name, l.name, l.name_expr);
    return l;
  }

  ast::Runbook Runbook(const Node& n) const {
    ast::Runbook rb;
    rb.span = SpanOf(n);
    const Node& name = Child<g::decl_name>(n);
    rb.name = std::string(name.string_view());
    rb.name_span = SpanOf(name);
    rb.title = Str(Child<g::title>(n));
    for (const auto& c : n.children) {
      const Node& m = *c;
      if (m.is_type<g::severity>()) {
        const Node& v = Child<g::severity_ref>(m);
        if (rb.severity) rb.repeated.push_back(ast::Named{"severity", SpanOf(m)});
        rb.severity = ast::Named{std::string(v.string_view()), SpanOf(v)};
      } else if (m.is_type<g::owner>()) {
        const Node& v = Child<g::contact_ref>(m);
        if (rb.owner) rb.repeated.push_back(ast::Named{"owner", SpanOf(m)});
        rb.owner = ast::Named{std::string(v.string_view()), SpanOf(v)};
      } else if (m.is_type<g::tags>()) {
        if (!rb.tags.empty()) rb.repeated.push_back(ast::Named{"tags", SpanOf(m)});
        for (const auto& t : m.children) rb.tags.push_back(ast::Named{std::string(t->string_view()), SpanOf(*t)});
      } else if (m.is_type<g::target>()) {
        rb.targets.push_back(Target(m));
      } else if (m.is_type<g::param>()) {
        rb.params.push_back(Param(m));
      } else if (m.is_type<g::symptoms_block>()) {
        for (const auto& s : m.children) {
          ast::Symptom sym;
          const Node& sn = Child<g::decl_name>(*s);
          sym.name = std::string(sn.string_view());
          sym.name_span = SpanOf(sn);
          sym.description = Str(Child<g::title>(*s));
          sym.cond = Expr(*s->children.back());
          sym.span = SpanOf(*s);
          rb.symptoms.push_back(std::move(sym));
        }
      } else if (m.is_type<g::look_block>()) {
        for (const auto& l : m.children) {
          if (l->is_type<g::grafana>()) {
            ast::Dashboard d;
            d.title = Str(Child<g::title>(*l));
            d.span = SpanOf(*l);
            for (const auto& p : l->children) {
              if (!p->is_type<g::panel>()) continue;
              ast::Panel panel;
              panel.title = Str(Child<g::title>(*p));
              panel.span = SpanOf(*p);
              if (p->children.size() > 1) panel.threshold = Expr(*p->children.back());
              d.panels.push_back(std::move(panel));
            }
            rb.dashboards.push_back(std::move(d));
          } else {
            ast::KibanaQuery k;
            if (const Node* idx = Find<g::kibana_index>(*l)) k.index = Str(*idx);
            k.query = Str(Child<g::kibana_query>(*l));
            k.span = SpanOf(*l);
            rb.kibana.push_back(std::move(k));
          }
        }
      } else if (m.is_type<g::steps_block>()) {
        for (const auto& s : m.children) rb.steps.push_back(Step(*s, &rb.lets, static_cast<int>(rb.steps.size())));
      } else if (m.is_type<g::escalate_block>()) {
        rb.has_escalate = true;
        for (auto& r : Rows(m)) rb.rows.push_back(std::move(r));
      } else if (m.is_type<g::let_decl>()) {
        rb.lets.push_back(Let(m, -1));
      } else if (m.is_type<g::lock_decl>()) {
        rb.locks.push_back(Lock(m));
      } else if (m.is_type<g::down_decl>()) {
        if (rb.down) rb.repeated.push_back(ast::Named{"down when", SpanOf(m)});
        rb.down = Expr(*m.children.back());
        rb.down_span = SpanOf(m);
      }
    }
    return rb;
  }

  ast::Policy Policy(const Node& n) const {
    ast::Policy p;
    p.span = SpanOf(n);
    const Node& name = Child<g::decl_name>(n);
    p.name = std::string(name.string_view());
    p.name_span = SpanOf(name);
    p.title = Str(Child<g::title>(n));
    for (const auto& c : n.children) {
      if (c->is_type<g::target>()) {
        p.targets.push_back(Target(*c));
      } else if (c->is_type<g::contact>()) {
        ast::Contact ct;
        const Node& cn = Child<g::decl_name>(*c);
        ct.name = std::string(cn.string_view());
        ct.name_span = SpanOf(cn);
        ct.display = Str(Child<g::contact_display>(*c));
        ct.handle = Str(Child<g::contact_handle>(*c));
        ct.span = SpanOf(*c);
        p.contacts.push_back(std::move(ct));
      } else if (c->is_type<g::escalate_block>()) {
        for (auto& r : Rows(*c)) p.rows.push_back(std::move(r));
      } else if (c->is_type<g::let_decl>()) {
        p.lets.push_back(Let(*c, -1));
      }
    }
    return p;
  }

  static ast::Effect EffectOf(const Node& n) {
    if (n.is_type<g::eff_write>()) return ast::Effect::kWrite;
    if (n.is_type<g::eff_destructive>()) return ast::Effect::kDestructive;
    return ast::Effect::kRead;
  }

  // method / filter_decl: [effect], decl_name, formal*, arrow, type_name, title
  ast::Signature Sig(const Node& n, ast::Effect effect) const {
    ast::Signature s;
    s.effect = effect;
    s.span = SpanOf(n);
    bool after_arrow = false;
    for (const auto& c : n.children) {
      if (c->is_type<g::eff_read>() || c->is_type<g::eff_write>() || c->is_type<g::eff_destructive>()) {
        s.effect = EffectOf(*c);
      } else if (c->is_type<g::decl_name>()) {
        s.name = std::string(c->string_view());
        s.name_span = SpanOf(*c);
      } else if (c->is_type<g::formal>()) {
        std::string_view v = c->string_view();
        size_t end = 0;
        while (end < v.size() && (std::isalnum(static_cast<unsigned char>(v[end])) || v[end] == '_')) ++end;
        s.formals.push_back(ast::Formal{std::string(v.substr(0, end)),
                                        std::string(Child<g::type_name>(*c).string_view()), ast::Type::kError,
                                        SpanOf(*c)});
      } else if (c->is_type<g::arrow>()) {
        after_arrow = true;
      } else if (c->is_type<g::type_name>() && after_arrow) {
        s.result_name = std::string(c->string_view());
      } else if (c->is_type<g::title>()) {
        s.doc = Str(*c);
      } else if (c->is_type<g::method_body>() && !c->children.empty()) {
        s.body = Expr(*c->children.back());
      }
    }
    return s;
  }

  ast::Capability Capability(const Node& n) const {
    ast::Capability c;
    c.span = SpanOf(n);
    const Node& name = Child<g::decl_name>(n);
    c.name = std::string(name.string_view());
    c.name_span = SpanOf(name);
    c.doc = Str(Child<g::title>(n));
    for (const auto& m : n.children) {
      if (m->is_type<g::method>()) c.methods.push_back(Sig(*m, ast::Effect::kRead));
    }
    return c;
  }

  ast::Program Program(const Node& n) const {
    ast::Program p;
    p.span = SpanOf(n);
    const Node& name = Child<g::program_name>(n);
    p.name = std::string(name.string_view());
    p.name_span = SpanOf(name);
    for (const auto& r : n.children) {
      if (r->is_type<g::default_rule>()) {
        p.default_effect = EffectOf(*r->children.back());
      } else if (r->is_type<g::options_rule>() || r->is_type<g::secret_rule>()) {
        for (const auto& spec : r->children) {
          ast::ProgramOption o;
          o.secret = r->is_type<g::secret_rule>();
          o.span = SpanOf(*spec);
          for (const auto& part : spec->children) {
            if (part->is_type<g::option_flag>()) o.names.emplace_back(part->string_view());
            if (part->is_type<g::option_value>()) o.value = std::string(part->string_view());
          }
          p.options.push_back(std::move(o));
        }
      } else if (r->is_type<g::effect_rule>() || r->is_type<g::lower_rule>()) {
        const bool lowered = r->is_type<g::lower_rule>();
        const Node& er = lowered ? *r->children.back() : *r;
        ast::Effect eff = EffectOf(*er.children[0]);
        for (size_t i = 1; i < er.children.size(); ++i) {
          const Node& pat = *er.children[i];
          std::string text = pat.is_type<g::string>() || pat.is_type<g::dq_string>() || pat.is_type<g::sq_string>()
                                 ? Str(pat)
                                 : std::string(pat.string_view());
          ast::ProgramRule rule;
          rule.effect = eff;
          rule.span = SpanOf(pat);
          rule.lowered = lowered;
          size_t pos = 0;
          while (pos < text.size()) {
            size_t sp = text.find(' ', pos);
            std::string word = text.substr(pos, sp == std::string::npos ? std::string::npos : sp - pos);
            if (!word.empty()) rule.words.push_back(word);
            if (sp == std::string::npos) break;
            pos = sp + 1;
          }
          p.rules.push_back(std::move(rule));
        }
      } else if (r->is_type<g::wraps_rule>()) {
        ast::ProgramWrap w;
        w.span = SpanOf(*r);
        for (const auto& word : r->children) w.words.emplace_back(word->string_view());
        p.wraps.push_back(std::move(w));
      }
    }
    return p;
  }

  std::shared_ptr<const Source> source_;
};

// ---- Byte-level checks before parsing -----------------------------------------------------------

// Returns the length of the valid UTF-8 sequence at s[i], or 0 when it is invalid.
size_t Utf8Len(std::string_view s, size_t i) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  if (c < 0x80) return 1;
  size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
  if (n == 0 || c > 0xF4 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
  }
  if (c == 0xE0 && b(i + 1) < 0xA0) return 0;   // overlong
  if (c == 0xED && b(i + 1) > 0x9F) return 0;   // surrogates
  if (c == 0xF0 && b(i + 1) < 0x90) return 0;   // overlong
  if (c == 0xF4 && b(i + 1) > 0x8F) return 0;   // > U+10FFFF
  return n;
}

bool CheckBytes(const std::shared_ptr<const Source>& src, Diagnostics& diags) {
  const std::string& t = src->text();
  if (t.size() > kMaxFileBytes) {
    diags.Add(DiagKind::kFileTooLarge, src, {0, 0},
              fmt::format("file is larger than {} MiB", kMaxFileBytes >> 20),
              "split it: one runbook per file");
    return false;
  }
  size_t line_start = 0;
  size_t invisible = 0;  // hidden characters seen (RB0012)
  constexpr size_t kMaxInvisibleReports = 20;
  for (size_t i = 0; i < t.size();) {
    unsigned char c = static_cast<unsigned char>(t[i]);
    if (c == 0) {
      diags.Add(DiagKind::kNulByte, src, {static_cast<uint32_t>(i), static_cast<uint32_t>(i + 1)},
                "NUL byte: this is not a text file", "check the file was not truncated or saved as binary");
      return false;
    }
    if (c == '\n') {
      line_start = i + 1;
      ++i;
      continue;
    }
    size_t n = Utf8Len(t, i);
    if (n == 0) {
      diags.Add(DiagKind::kInvalidUtf8, src, {static_cast<uint32_t>(i), static_cast<uint32_t>(i + 1)},
                fmt::format("invalid UTF-8 byte 0x{:02X}", c), "re-save the file as UTF-8");
      return false;
    }
    if (n > 1) {
      uint32_t cp = DecodeUtf8(std::string_view(t).substr(i), n);
      const char* name = InvisibleName(cp);
      // A byte-order mark may open the file; past a few reports the rest are the same finding.
      if (name && !(cp == 0xFEFF && i == 0) && ++invisible <= kMaxInvisibleReports) {
        bool reorders = (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200E ||
                        cp == 0x200F || cp == 0x061C;
        diags.Add(DiagKind::kInvisibleChar, src, {static_cast<uint32_t>(i), static_cast<uint32_t>(i + n)},
                  fmt::format(reorders ? "U+{:04X} {} changes the order in which the text after it is shown"
                                       : "U+{:04X} {} is not shown: the text reads as if it were absent",
                              cp, name),
                  "delete it; it can make the line read differently from what runs");
      }
    }
    i += n;
    if (i - line_start > kMaxLineBytes) {
      size_t at = line_start + kMaxLineBytes;
      while (at > line_start && (static_cast<unsigned char>(t[at]) & 0xC0) == 0x80) --at;
      diags.Add(DiagKind::kLineTooLong, src, {static_cast<uint32_t>(at), static_cast<uint32_t>(at + 1)},
                fmt::format("line is longer than {} KiB", kMaxLineBytes >> 10),
                "move long values into a param or split the line");
      return false;
    }
  }
  return true;
}

bool AtTopLevelKeyword(const char* p, const char* end) {
  return StartsTopLevel(std::string_view(p, static_cast<size_t>(std::min<ptrdiff_t>(end - p, 12))));
}

bool StartsTopLevel(std::string_view line) {
  for (std::string_view kw : {"runbook", "import", "policy", "capability", "program", "filter"}) {
    if (line.substr(0, kw.size()) == kw && line.size() > kw.size() && (line[kw.size()] == ' ' || line[kw.size()] == '\t')) {
      return true;
    }
  }
  return false;
}

// The offset of the next line after `from`'s line that starts a top-level declaration, or npos.
size_t NextDeclaration(const std::string& t, size_t from) {
  size_t i = t.find('\n', from);
  while (i != std::string::npos) {
    ++i;
    if (StartsTopLevel(std::string_view(t).substr(i, 12))) return i;
    i = t.find('\n', i);
  }
  return std::string::npos;
}

// Skips blanks, line ends and comments from `i`.
size_t SkipBlank(const std::string& t, size_t i) {
  while (i < t.size()) {
    char c = t[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      ++i;
    } else if (c == '#') {
      while (i < t.size() && t[i] != '\n') ++i;
    } else {
      break;
    }
  }
  return i;
}

}  // namespace

ast::File Parse(const std::shared_ptr<const Source>& source, Diagnostics& diags) {
  ast::File file;
  if (!CheckBytes(source, diags)) return file;
  const std::string& t = source->text();
  size_t pos = t.compare(0, 3, "\xEF\xBB\xBF") == 0 ? 3 : 0;
  Builder builder(source);
  size_t decls = 0;
  ParseState state;
  state.text_begin = t.data();
  // Turns a syntax error into a diagnostic from its table entry; returns its kind.
  auto report = [&](size_t at, SyntaxError id) {
    const SyntaxErrorInfo& info = Info(id);
    std::string msg = info.message;
    size_t end = std::min(at + 1, t.size());
    if (info.caret == SyntaxCaret::kDoubleQuote || info.caret == SyntaxCaret::kSingleQuote) {
      // Point at the quote that opened the string, underlining to the end of the line.
      size_t line_begin = at == 0 ? std::string::npos : t.rfind('\n', at - 1);
      line_begin = line_begin == std::string::npos ? 0 : line_begin + 1;
      char quote = info.caret == SyntaxCaret::kSingleQuote ? '\'' : '"';
      size_t open = std::string::npos;
      bool in_string = false;
      for (size_t i = line_begin; i < at && i < t.size(); ++i) {
        if (in_string && quote == '"' && t[i] == '\\') {
          ++i;
        } else if (t[i] == quote) {
          in_string = !in_string;
          if (in_string) open = i;
        }
      }
      if (in_string && open != std::string::npos) {
        end = at;
        at = open;
      }
    } else if (at >= t.size() && at > 0) {
      if (info.kind == DiagKind::kSyntax) {
        msg = info.caret == SyntaxCaret::kClose ? "the file ends before a closing `}`: a block is not closed"
                                                : msg + ": the file ends here";
      }
      if (t.back() == '\n') at = t.size() - 1;
      end = std::min(at + 1, t.size());  // a file without a final newline: the span ends at its end
    }
    diags.Add(info.kind, source, {static_cast<uint32_t>(at), static_cast<uint32_t>(std::max(end, at))}, msg,
              info.hint);
    return info.kind;
  };
  auto flush_recovered = [&] {
    for (const auto& r : state.recovered) report(r.offset, r.id);
    state.recovered.clear();
  };
  while (pos <= t.size()) {
    pegtl::memory_input<pegtl::tracking_mode::lazy, pegtl::eol::lf_crlf> in(t.data() + pos, t.data() + t.size(),
                                                                             source->path());
    try {
      auto root = pt::parse<g::next_decl, Selector, Action, Control>(in, state);
      if (!root || root->children.empty()) break;  // end of file
      const Node& decl = *root->children.front();
      size_t decl_start = static_cast<size_t>(decl.m_begin.data - t.data());
      if (decl.is_type<g::runbook_decl>() && file.runbooks.size() >= kMaxRunbooksPerFile) {
        uint32_t b = static_cast<uint32_t>(decl_start);
        diags.Add(DiagKind::kTooManyRunbooks, source, {b, b + 7},
                  fmt::format("more than {} runbooks in one file; the rest is not checked", kMaxRunbooksPerFile),
                  "keep one runbook per file, named after it");
        break;
      }
      bool had_errors = !state.recovered.empty();
      flush_recovered();
      builder.Top(decl, file);
      if (had_errors && decl.is_type<g::runbook_decl>()) file.runbooks.back().had_syntax_errors = true;
      ++decls;
      pos = static_cast<size_t>(in.current() - t.data());
      continue;
    } catch (const SyntaxFailure& e) {
      flush_recovered();
      report(static_cast<size_t>(e.at - t.data()), e.id);
      ++decls;
      if (EndsTheFile(e.id)) break;
      // Resume at the next line that starts a top-level declaration after the failed one's first line.
      size_t next = NextDeclaration(t, SkipBlank(t, pos));
      if (next == std::string::npos || next <= pos) break;
      pos = next;
    } catch (const BuildError& e) {
      flush_recovered();
      // The declaration parsed; a literal in it is invalid. Report and go on after it.
      diags.Add(e.kind, source, e.span, e.message, e.hint);
      ++decls;
      pos = static_cast<size_t>(in.current() - t.data());
    }
  }
  if (decls == 0) {
    uint32_t end = static_cast<uint32_t>(!t.empty() && t.back() == '\n' ? t.size() - 1 : t.size());
    diags.Add(DiagKind::kEmptyFile, source, {end, end}, "file declares nothing",
              "write a runbook (`runbook NAME \"Title\" { ... }`) or delete the file");
  }
  // Backtracking matches some comments more than once; each is listed once, in source order.
  std::stable_sort(state.comments.begin(), state.comments.end(),
                   [](const ast::Comment& a, const ast::Comment& b) { return a.span.begin < b.span.begin; });
  auto dup = std::unique(state.comments.begin(), state.comments.end(),
                         [](const ast::Comment& a, const ast::Comment& b) { return a.span.begin == b.span.begin; });
  state.comments.erase(dup, state.comments.end());
  file.comments = std::move(state.comments);
  return file;
}

}  // namespace rb
