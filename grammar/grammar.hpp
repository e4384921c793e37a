// The runbook language grammar: PEGTL rules only, no actions.
// docs/language.md is the prose version; compiler/parser.cpp turns the parse tree into the AST, and
// compiler/syntax_errors.def gives each rule that can fail with `must<>`/`raise<>` its message, from
// outside so this file stays readable.
#pragma once

#include <tao/pegtl.hpp>

namespace rb::grammar {

namespace pegtl = tao::pegtl;
using namespace pegtl;

// clang-format off

// ---- Layout -------------------------------------------------------------------------------------
struct bom : TAO_PEGTL_STRING("\xEF\xBB\xBF") {};
struct eol_char : one<'\n', '\r'> {};
struct comment : seq<one<'#'>, until<at<sor<eol_char, eof>>>> {};
struct blank_char : one<' ', '\t'> {};
struct space_char : one<' ', '\t', '\n', '\r'> {};
struct sp : star<blank_char> {};                                   // blanks within a line
struct ws : star<sor<space_char, comment>> {};                      // blanks, newlines, comments
struct ws1 : plus<sor<space_char, comment>> {};
struct line_end : seq<sp, opt<comment>, sor<eol, eof>> {};         // the rest of a line

// ---- Tokens -------------------------------------------------------------------------------------
struct ident_first : ranges<'a', 'z', 'A', 'Z', '_'> {};
struct ident_other : ranges<'a', 'z', 'A', 'Z', '0', '9', '_'> {};
struct ident_raw : seq<ident_first, star<ident_other>> {};
template<typename K> struct key : seq<K, not_at<ident_other>> {};

struct kw_and : key<TAO_PEGTL_STRING("and")> {};
struct kw_or : key<TAO_PEGTL_STRING("or")> {};
struct kw_not : key<TAO_PEGTL_STRING("not")> {};
struct kw_true : key<TAO_PEGTL_STRING("true")> {};
struct kw_false : key<TAO_PEGTL_STRING("false")> {};
struct kw_unknown : key<TAO_PEGTL_STRING("unknown")> {};
struct kw_ask : key<TAO_PEGTL_STRING("ask")> {};
struct kw_for : key<TAO_PEGTL_STRING("for")> {};
struct reserved : sor<kw_and, kw_or, kw_not, kw_true, kw_false, kw_unknown, kw_ask, kw_for> {};

struct ident : seq<not_at<reserved>, ident_raw> {};                 // a name

struct digits : plus<digit> {};
struct number_unit : sor<one<'%'>, plus<alpha>> {};                // validated by the compiler
struct number_part : seq<digits, opt<one<'.'>, digits>, number_unit> {};   // `30m` of `1h30m`
// `12`, `0.5`, `80%`, `5m`, and compound durations as the printer writes them: `1h30m`, `1s500ms`.
struct number : seq<digits, opt<one<'.'>, digits>, opt<number_unit, star<number_part>>> {};

struct dq_escape : seq<one<'\\'>, not_one<'\n', '\r'>> {};                          // validated by the compiler
struct dq_char : sor<dq_escape, not_one<'"', '\\', '\n', '\r'>> {};
struct dq_close : one<'"'> {};
struct dq_string : seq<one<'"'>, star<dq_char>, must<dq_close>> {};
struct sq_close : one<'\''> {};
struct sq_string : seq<one<'\''>, star<not_one<'\'', '\n', '\r'>>, must<sq_close>> {};
struct string : sor<dq_string, sq_string> {};

// ---- Expressions --------------------------------------------------------------------------------
struct expr;
struct arg_list : list<expr, seq<ws, one<','>, ws>> {};
struct call_close : one<')'> {};
struct call_args : seq<one<'('>, ws, opt<arg_list>, ws, must<call_close>> {};
struct member_suffix : seq<one<'.'>, ident> {};
struct list_close : one<']'> {};
struct list_lit : seq<one<'['>, ws, opt<list<expr, seq<ws, one<','>, ws>>>, ws, opt<one<','>, ws>, must<list_close>> {};
struct paren_close : one<')'> {};
struct paren : seq<one<'('>, ws, expr, ws, must<paren_close>> {};
struct ask_text : string {};
struct ask_expr : seq<kw_ask, ws, must<ask_text>> {};
struct name_ref : ident {};
struct primary : sor<number, string, list_lit, paren, ask_expr, kw_true, kw_false, kw_unknown, name_ref> {};
struct postfix_expr : seq<primary, star<sor<call_args, member_suffix>>> {};
struct neg_op : one<'-'> {};
struct unary_expr : sor<seq<neg_op, ws, unary_expr>, postfix_expr> {};
struct mul_op : one<'*', '/'> {};
struct mul_expr : seq<unary_expr, star<ws, mul_op, ws, must<unary_expr>>> {};
struct add_op : seq<one<'+', '-'>, not_at<one<'>'>>> {};
struct add_expr : seq<mul_expr, star<ws, add_op, ws, must<mul_expr>>> {};
struct pipe_op : TAO_PEGTL_STRING("|>") {};
struct filter_call : seq<ident, sp, call_args> {};
struct pipe_expr : seq<add_expr, star<ws, pipe_op, ws, must<filter_call>>> {};
struct kw_contains : key<TAO_PEGTL_STRING("contains")> {};
struct kw_matches : key<TAO_PEGTL_STRING("matches")> {};
// `severity in [P1, P2]`, `owner in [sre, dba]`: an escalation row's scope (the parser spells it out
// as `==` ... `or` ...; compiler/parser.cpp).
struct kw_in : key<TAO_PEGTL_STRING("in")> {};
struct cmp_op : sor<TAO_PEGTL_STRING("=="), TAO_PEGTL_STRING("!="), TAO_PEGTL_STRING("<="),
                    TAO_PEGTL_STRING(">="), one<'<'>, one<'>'>, kw_contains, kw_matches, kw_in> {};
struct cmp_expr : seq<pipe_expr, opt<ws, cmp_op, ws, must<pipe_expr>>> {};
struct window_op : sor<TAO_PEGTL_STRING(">="), one<'>'>> {};
struct window_bound : number {};
struct window_expr : seq<cmp_expr, opt<ws, kw_for, ws, must<window_op>, ws, must<window_bound>>> {};
struct not_op : kw_not {};
struct not_expr : sor<seq<not_op, ws, must<not_expr>>, window_expr> {};
struct and_op : kw_and {};
struct and_expr : seq<not_expr, star<ws, and_op, ws, must<not_expr>>> {};
struct or_op : kw_or {};
struct or_expr : seq<and_expr, star<ws, or_op, ws, must<and_expr>>> {};
struct expr : or_expr {};

// ---- Commands: `$ words...` to the end of the line ---------------------------------------------
struct cmd_interp : seq<one<'{'>, ident, opt<one<'.'>, ident_raw>, one<'}'>> {};  // {name}, {target.field}
struct cmd_lbrace : TAO_PEGTL_STRING("{{") {};
struct cmd_rbrace : TAO_PEGTL_STRING("}}") {};
struct cmd_dq_text : plus<sor<dq_escape, not_one<'"', '\\', '\n', '\r', '{', '}'>>> {};
struct cmd_dq_brace : one<'{', '}'> {};                                // a lone brace inside quotes is text
struct cmd_dq : seq<one<'"'>, star<sor<cmd_lbrace, cmd_rbrace, cmd_interp, cmd_dq_text, cmd_dq_brace>>, must<dq_close>> {};
struct cmd_sq_text : star<not_one<'\'', '\n', '\r'>> {};
struct cmd_sq : seq<one<'\''>, cmd_sq_text, must<sq_close>> {};
struct cmd_bare : plus<not_one<' ', '\t', '\r', '\n', '"', '\'', '{', '}', '|', ';', '&', '<', '>', '`',
                               '$', '(', ')'>> {};
struct cmd_word : seq<not_at<one<'#'>>, plus<sor<cmd_lbrace, cmd_rbrace, cmd_interp, cmd_dq, cmd_sq, cmd_bare>>> {};
struct shell_op : sor<TAO_PEGTL_STRING("||"), TAO_PEGTL_STRING("&&"), TAO_PEGTL_STRING(">>"),
                      TAO_PEGTL_STRING("$("), seq<one<'$'>, opt<one<'{'>>, ident_raw>,
                      one<'|', ';', '&', '>', '<', '`', '(', ')', '$', '{'>> {};
struct cmd_filters : seq<pipe_op, sp, must<filter_call>, star<sp, pipe_op, sp, must<filter_call>>> {};
// A command as bound and shown by `runbook plan`, the key of a scenario's `commands:`: the words of
// a `$` line, where the shell's operator characters are text (a bound value may hold them).
struct bound_bare : plus<not_one<' ', '\t', '\r', '\n', '"', '\'', '{', '}'>> {};
struct bound_word : plus<sor<cmd_lbrace, cmd_rbrace, cmd_interp, cmd_dq, cmd_sq, bound_bare, cmd_dq_brace>> {};
struct cmd_end : at<sor<eol_char, eof, one<'#'>, seq<one<'}'>, not_at<one<'}'>>>>> {};
// Every character can start a word, an operator or a filter, or end the command, so `cmd_end` always
// holds after the words; it states where a command ends.
struct command : seq<one<'$'>, sp, star<sor<cmd_filters, cmd_word, shell_op>, sp>, cmd_end, opt<comment>> {};

// ---- Steps --------------------------------------------------------------------------------------
struct kind_check : key<TAO_PEGTL_STRING("check")> {};
struct kind_action : key<TAO_PEGTL_STRING("action")> {};
struct kind_last_resort : key<TAO_PEGTL_STRING("last_resort")> {};
struct kind_manual : key<TAO_PEGTL_STRING("manual")> {};
struct kind_verify : key<TAO_PEGTL_STRING("verify")> {};
struct step_kind : sor<kind_check, kind_action, kind_last_resort, kind_manual, kind_verify> {};
struct decl_name : ident {};
struct title : string {};
struct guard : seq<key<TAO_PEGTL_STRING("when")>, ws, must<expr>> {};
struct text_line : string {};
struct within_clause : seq<key<TAO_PEGTL_STRING("within")>, ws, must<expr>> {};
struct every_clause : seq<key<TAO_PEGTL_STRING("every")>, ws, must<expr>> {};
struct expect_line : seq<key<TAO_PEGTL_STRING("expect")>, ws, must<expr>, opt<ws, within_clause>, opt<ws, every_clause>> {};
struct body_close : one<'}'> {};
struct missing_dollar : at<alpha> {};                                  // a word where a `$ command` belongs
struct body_end : sor<seq<missing_dollar, pegtl::raise<missing_dollar>>, must<body_close>> {};
// `let NAME = EXPR`: a named value. In a runbook (or policy) it is read at each evaluation instant;
// in a step body it is captured once, from the output of the command before it.
struct let_equals : one<'='> {};
struct let_decl : seq<key<TAO_PEGTL_STRING("let")>, ws, must<decl_name>, ws, must<let_equals>, ws, must<expr>> {};
// `lock "redis/{redis.host}"`: a name a live run must hold, from its start to its end, besides the
// locks it takes by default (docs/live.md); in a runbook, or in a step (held as the runbook's are).
struct lock_name : string {};
struct lock_decl : seq<key<TAO_PEGTL_STRING("lock")>, sp, must<lock_name>> {};
struct step_body : seq<one<'{'>, star<sor<ws1, command, expect_line, text_line, let_decl, lock_decl>>, body_end> {};
struct step_open : one<'{'> {};
// `on failure continue`: a verify that fails does not stop the steps after it.
struct on_failure_continue : seq<key<TAO_PEGTL_STRING("on")>, ws, key<TAO_PEGTL_STRING("failure")>, ws,
                                 key<TAO_PEGTL_STRING("continue")>> {};
struct step : seq<step_kind, ws, must<decl_name>, ws, must<title>, opt<ws, guard>, opt<ws, on_failure_continue>, ws,
                  must<at<step_open>>, step_body> {};
struct block_close : one<'}'> {};
struct block_open : one<'{'> {};
struct step_entry : seq<not_at<one<'}'>>, not_at<eof>, must<step>> {};
struct steps_block : seq<key<TAO_PEGTL_STRING("steps")>, ws, must<block_open>, ws, star<step_entry, ws>, must<block_close>> {};

// ---- Symptoms and look --------------------------------------------------------------------------
struct colon : one<':'> {};
struct symptom : seq<decl_name, ws, must<title>, ws, must<colon>, ws, must<expr>> {};
struct symptom_entry : seq<not_at<one<'}'>>, not_at<eof>, must<symptom>> {};
struct symptoms_block : seq<key<TAO_PEGTL_STRING("symptoms")>, ws, must<block_open>, ws, star<symptom_entry, ws>, must<block_close>> {};
struct panel : seq<key<TAO_PEGTL_STRING("panel")>, ws, must<title>, opt<ws, colon, ws, must<expr>>> {};
struct grafana : seq<key<TAO_PEGTL_STRING("grafana")>, ws, must<title>, ws, must<block_open>, ws, star<panel, ws>, must<block_close>> {};
struct kibana_index : string {};
struct kibana_query : string {};
struct kibana : seq<key<TAO_PEGTL_STRING("kibana")>, ws, opt<kibana_index, ws>, must<key<TAO_PEGTL_STRING("query")>>, ws, must<kibana_query>> {};
struct look_block : seq<key<TAO_PEGTL_STRING("look")>, ws, must<block_open>, ws, star<sor<grafana, kibana>, ws>, must<block_close>> {};

// ---- Escalation tables --------------------------------------------------------------------------
struct cell_bar : one<'|'> {};
struct row_end : seq<sp, opt<comment>, at<sor<eol_char, eof>>> {};
struct table_header : seq<one<'|'>, sp, key<TAO_PEGTL_STRING("when")>, sp, must<cell_bar>, sp,
                          must<key<TAO_PEGTL_STRING("then")>>, sp, must<cell_bar>, must<row_end>> {};
struct table_rule : seq<one<'|'>, sp, plus<one<'-', ':'>>, star<one<'-', ':', '|', ' ', '\t'>>, row_end> {};
struct contact_ref : ident {};
struct step_ref : ident {};
struct runbook_ref : ident {};
struct severity_ref : ident {};
struct page_message : string {};                                      // `page sre "Replica {replica} lags"`
// `page sre every time`: this row pages again each time it fires (by default a contact is paged once
// per incident and escalation level). `page owner` pages the runbook's owner contact.
struct page_time : key<TAO_PEGTL_STRING("time")> {};
struct page_repeat : seq<key<TAO_PEGTL_STRING("every")>, sp, must<page_time>> {};
struct act_page : seq<key<TAO_PEGTL_STRING("page")>, sp, must<contact_ref>, opt<sp, page_message>, opt<sp, page_repeat>> {};
struct act_run : seq<key<TAO_PEGTL_STRING("run")>, sp, must<step_ref>> {};
struct act_runbook : seq<key<TAO_PEGTL_STRING("runbook")>, sp, must<runbook_ref>> {};
struct act_manual : seq<key<TAO_PEGTL_STRING("manual")>, sp, must<text_line>> {};
struct act_declare : seq<key<TAO_PEGTL_STRING("declare")>, sp, must<severity_ref>> {};
struct esc_action : sor<act_page, act_run, act_runbook, act_manual, act_declare> {};
struct action_sep : seq<sp, one<','>, sp, opt<key<TAO_PEGTL_STRING("then")>, sp>> {};
struct esc_actions : seq<must<esc_action>, star<action_sep, must<esc_action>>> {};
struct when_cell : seq<expr> {};
struct table_row : seq<one<'|'>, sp, must<when_cell>, sp, must<cell_bar>, sp, esc_actions, sp, must<cell_bar>, must<row_end>> {};
struct escalate_block : seq<key<TAO_PEGTL_STRING("escalate")>, ws, must<block_open>, ws, must<table_header>,
                            star<ws, sor<table_rule, table_row>>, ws, must<block_close>> {};

// ---- Runbook members ----------------------------------------------------------------------------
struct type_name : ident {};
struct severity : seq<key<TAO_PEGTL_STRING("severity")>, sp, must<severity_ref>> {};
struct owner : seq<key<TAO_PEGTL_STRING("owner")>, sp, must<contact_ref>> {};
struct tag : seq<ident_other, star<sor<ident_other, one<'-'>>>> {};   // pg, cert-expiry, node-disk
struct tags_open : one<'['> {};
struct tags : seq<key<TAO_PEGTL_STRING("tags")>, sp, must<tags_open>, ws, opt<list<tag, seq<ws, one<','>, ws>>>, ws, must<list_close>> {};
struct equals : one<'='> {};
struct target : seq<key<TAO_PEGTL_STRING("target")>, ws, must<decl_name>, ws, must<equals>, ws, must<expr>> {};
struct param_type : seq<one<':'>, ws, must<type_name>> {};
struct param_default : seq<one<'='>, ws, must<expr>> {};
struct param_spec : sor<seq<param_type, opt<ws, param_default>>, param_default> {};
struct param : seq<key<TAO_PEGTL_STRING("param")>, ws, must<decl_name>, ws, must<param_spec>> {};
// `down when ping_error or conn_error`: the symptoms that make the service down (the `down` of
// escalation rows, e.g. the policy's `down for > 5m`).
struct down_when : key<TAO_PEGTL_STRING("when")> {};
struct down_decl : seq<key<TAO_PEGTL_STRING("down")>, sp, must<down_when>, ws, must<expr>> {};
struct runbook_member : sor<severity, owner, tags, target, param, down_decl, lock_decl, symptoms_block, look_block, steps_block, escalate_block, let_decl> {};
struct runbook_entry : seq<not_at<one<'}'>>, not_at<eof>, must<runbook_member>> {};
struct runbook_close : one<'}'> {};
struct runbook_decl : seq<key<TAO_PEGTL_STRING("runbook")>, ws, must<decl_name>, ws, must<title>, ws, must<block_open>, ws,
                          star<runbook_entry, ws>, must<runbook_close>> {};

// ---- Policy -------------------------------------------------------------------------------------
struct contact_display : string {};
struct contact_handle : string {};
struct contact : seq<key<TAO_PEGTL_STRING("contact")>, ws, must<decl_name>, ws, must<contact_display>, ws, must<contact_handle>> {};
struct policy_member : sor<target, contact, escalate_block, let_decl> {};
struct policy_entry : seq<not_at<one<'}'>>, not_at<eof>, must<policy_member>> {};
struct policy_close : one<'}'> {};
struct policy_decl : seq<key<TAO_PEGTL_STRING("policy")>, ws, must<decl_name>, ws, must<title>, ws, must<block_open>, ws,
                         star<policy_entry, ws>, must<policy_close>> {};

// ---- Stdlib declarations ------------------------------------------------------------------------
struct eff_read : key<TAO_PEGTL_STRING("read")> {};
struct eff_write : key<TAO_PEGTL_STRING("write")> {};
struct eff_destructive : key<TAO_PEGTL_STRING("destructive")> {};
struct effect : sor<eff_read, eff_write, eff_destructive> {};
struct formal : seq<ident, ws, must<colon>, ws, must<type_name>> {};
struct formals_close : one<')'> {};
struct formals : seq<one<'('>, ws, opt<list<formal, seq<ws, one<','>, ws>>>, ws, must<formals_close>> {};
struct arrow : TAO_PEGTL_STRING("->") {};
struct signature : seq<must<decl_name>, sp, must<formals>, ws, must<arrow>, ws, must<type_name>, ws, must<title>> {};
// `= expr` after a method's title: its body, over the natives, its formals and the filters.
struct body_eq : one<'='> {};
struct method_body : seq<body_eq, ws, must<expr>> {};
struct method : seq<effect, ws, signature, opt<ws, method_body>> {};
struct capability_close : one<'}'> {};
struct capability_decl : seq<key<TAO_PEGTL_STRING("capability")>, ws, must<decl_name>, ws, must<title>, ws, must<block_open>, ws,
                             star<method, ws>, must<capability_close>> {};
struct program_name : seq<ident_first, star<sor<ident_other, one<'-', '.'>>>> {};
struct sub_word : seq<ident_first, star<sor<ident_other, one<'-'>>>> {};
struct option_flag : seq<one<'-'>, opt<one<'-'>>, ranges<'a', 'z', 'A', 'Z', '0', '9'>,
                         star<sor<ident_other, one<'-', '.'>>>> {};                    // -h, --no-raw
struct sub_pattern : sor<string, sub_word, option_flag> {};
struct default_rule : seq<key<TAO_PEGTL_STRING("default")>, sp, must<effect>> {};
struct effect_rule : seq<effect, sp, must<sub_pattern>, star<sp, one<','>, ws, must<sub_pattern>>> {};
// `options -h HOST, -X|--request METHOD, --raw`: the program's options, spelled as in its --help;
// an upper-case name after an option says it takes a value. `secret` lists options whose value is a
// credential.
struct option_value : seq<range<'A', 'Z'>, star<ranges<'A', 'Z', '0', '9', '_', '_', ':', ':'>>> {};
struct option_alias : seq<one<'|'>, must<option_flag>> {};
struct option_spec : seq<option_flag, star<option_alias>, opt<blank_char, sp, option_value>> {};
struct options_rule : seq<key<TAO_PEGTL_STRING("options")>, sp, must<option_spec>,
                          star<sp, one<','>, ws, must<option_spec>>> {};
struct secret_rule : seq<key<TAO_PEGTL_STRING("secret")>, sp, must<option_spec>,
                         star<sp, one<','>, ws, must<option_spec>>> {};
// `wraps exec POD --`: after these words the rest of the command is a command of its own (an
// upper-case word takes one positional word, `NAME=VALUE...` every word holding `=`).
struct wrap_env : seq<option_value, one<'='>, option_value, TAO_PEGTL_STRING("...")> {};
struct wrap_slot : seq<option_value, not_at<sor<ident_other, one<'-', '=', '.'>>>> {};
struct wrap_dashes : seq<TAO_PEGTL_STRING("--"), not_at<not_one<' ', '\t', '\n', '\r', ','>>> {};
struct wraps_rule : seq<key<TAO_PEGTL_STRING("wraps")>,
                        star<blank_char, sp, sor<wrap_env, wrap_slot, wrap_dashes, option_flag, sub_word>>> {};
struct program_close : one<'}'> {};
// `lower write drain`: a team module lowering an effect an earlier declaration gives (compiler/modules.hpp).
struct lower_rule : seq<key<TAO_PEGTL_STRING("lower")>, sp, must<effect_rule>> {};
struct program_decl : seq<key<TAO_PEGTL_STRING("program")>, ws, must<program_name>, ws, must<block_open>, ws,
                          star<sor<default_rule, options_rule, secret_rule, lower_rule, effect_rule, wraps_rule>, ws>, must<program_close>> {};
struct filter_decl : seq<key<TAO_PEGTL_STRING("filter")>, ws, signature> {};

// ---- Files --------------------------------------------------------------------------------------
struct module_path : list<ident_raw, one<'.'>> {};
struct import_decl : seq<key<TAO_PEGTL_STRING("import")>, sp, must<module_path>> {};
struct top_decl : sor<import_decl, runbook_decl, policy_decl, capability_decl, program_decl, filter_decl> {};
struct top_expected : top_decl {};
// One declaration at a time: the parser loops over this rule so it can resynchronise after an error.
struct next_decl : seq<ws, sor<eof, must<top_expected>>> {};
// The whole file in one rule, for analyze<>() and tests.
struct file : seq<opt<bom>, ws, star<top_decl, ws>, eof> {};

// clang-format on

}  // namespace rb::grammar
