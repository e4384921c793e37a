// The `runbook` command line: a thin driver that wires the stages together and formats output.
// Exit codes: 0 clean (warnings allowed), 1 findings at error level (or warnings past --werror /
// --max-warnings), 2 usage or I/O errors.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "compiler/build.hpp"
#include "compiler/codegen.hpp"
#include "compiler/diagnostics.hpp"
#include "compiler/disasm.hpp"
#include "runtime/environment.hpp"
#include "runtime/natives.hpp"
#include "runtime/yaml_reader.hpp"
#include "compiler/lint.hpp"
#include "cli/verbs.hpp"

namespace {

using rb::cli::UseColor;

constexpr const char* kStdlibHelp =
    "Replace the whole embedded stdlib with the *.rb.denis in DIR (to try a stdlib change before rebuilding; "
    "team modules need no --stdlib: see --path)";
constexpr const char* kPathHelp =
    "Also look for team modules (import team.pg -> team/pg.rb.denis) in DIR, after the importing file's "
    "directory and its parents; repeatable, searched in order before RUNBOOK_PATH";

// How many warnings `lint` lets pass: --werror none, --max-warnings N at most N; notes never count.
struct WarningLimits {
  bool werror = false;
  int max_warnings = -1;  // -1: no limit
};

int RunLint(const std::vector<std::string>& paths, const std::string& format, const std::string& color,
            const std::string& stdlib_dir, const std::vector<std::string>& search_path, const WarningLimits& limits) {
  rb::LintOptions options;
  options.paths = paths;
  options.stdlib_dir = stdlib_dir;
  options.search_path = search_path;
  rb::LintResult result = rb::Lint(options);
  rb::RenderOptions render;
  render.format = format == "json"    ? rb::OutputFormat::kJson
                  : format == "sarif" ? rb::OutputFormat::kSarif
                  : format == "github" ? rb::OutputFormat::kGithub
                                       : rb::OutputFormat::kText;
  render.color = render.format == rb::OutputFormat::kText && UseColor(color);
  render.files_checked = result.files;
  render.scenarios_checked = result.scenarios;
  render.environments_checked = result.environments;
  std::cout << rb::Render(result.diags, render) << std::flush;
  for (const auto& e : result.io_errors) std::cerr << "runbook: " << e << "\n";
  if (!result.io_errors.empty()) return 2;
  if (result.diags.errors() > 0) return 1;
  const size_t warnings = result.diags.warnings();
  if (limits.werror && warnings > 0) {
    std::cerr << "runbook: " << warnings << (warnings == 1 ? " warning" : " warnings")
              << ", and --werror makes every warning fail the check\n";
    return 1;
  }
  if (limits.max_warnings >= 0 && warnings > static_cast<size_t>(limits.max_warnings)) {
    std::cerr << "runbook: " << warnings << (warnings == 1 ? " warning" : " warnings") << ", more than --max-warnings "
              << limits.max_warnings << " allows\n";
    return 1;
  }
  return 0;
}

rb::RenderOptions TextRender(const std::string& color, size_t files) {
  rb::RenderOptions render;
  render.color = UseColor(color);
  render.files_checked = files;
  return render;
}

int RunCompile(const std::vector<std::string>& paths, const std::string& output, const std::string& color,
               const std::string& stdlib_dir, const std::vector<std::string>& search_path) {
  rb::CompileOptions options;
  options.paths = paths;
  options.output = output;
  options.stdlib_dir = stdlib_dir;
  options.search_path = search_path;
  rb::CompileResult r = rb::CompileToFiles(options);
  for (const auto& e : r.lint.io_errors) std::cerr << "runbook: " << e << "\n";
  if (!r.lint.io_errors.empty()) return 2;
  if (!r.lint.diags.all().empty()) std::cout << rb::Render(r.lint.diags, TextRender(color, r.lint.files));
  if (r.lint.diags.errors() > 0) {
    std::cerr << "runbook: nothing written: fix the errors above\n";
    return 1;
  }
  for (const auto& e : r.errors) std::cerr << "runbook: " << e << "\n";
  if (!r.errors.empty()) return 2;
  for (const auto& w : r.written) std::cout << "wrote " << w << "\n";
  return 0;
}

int RunDisasm(const std::string& path, bool source_lines, const std::vector<std::string>& source_dirs,
              const std::string& color, const std::string& stdlib_dir, const std::vector<std::string>& search_path) {
  // The runtime's natives and the program tables of the stdlib and the team modules on the search
  // path, as for plan and rehearse.
  rb::LoadedProgram loaded = rb::LoadAny(path, rb::HostRegistry(stdlib_dir, search_path), stdlib_dir, search_path);
  if (!loaded.program) {
    for (const auto& e : loaded.lint.io_errors) std::cerr << "runbook: " << e << "\n";
    if (!loaded.error.empty()) std::cerr << "runbook: " << loaded.error << "\n";
    if (loaded.lint.diags.errors() > 0) {
      std::cout << rb::Render(loaded.lint.diags, TextRender(color, loaded.lint.files));
      return 1;
    }
    return 2;
  }
  rb::DisasmOptions options;
  options.source_lines = source_lines;
  options.sources = std::move(loaded.sources);  // a source input: the texts it was compiled from
  const std::string ext = ".rbc";
  if (path.size() > ext.size() && path.compare(path.size() - ext.size(), ext.size(), ext) == 0) options.rbc_path = path;
  options.source_dirs = source_dirs;
  std::cout << rb::Disassemble(*loaded.program, options);
  return 0;
}

// Every verb of the command line, in the order `runbook help` lists them.
std::vector<CLI::App*> Verbs(CLI::App& app) {
  return app.get_subcommands([](CLI::App*) { return true; });
}

CLI::App* FindVerb(CLI::App& app, const std::string& name) {
  for (CLI::App* v : Verbs(app)) {
    if (v->get_name() == name) return v;
  }
  return nullptr;
}

// `runbook lnit`: names the word and the nearest verb, else lists them. Exit 2 (usage).
int UnknownVerb(CLI::App& app, const std::string& word) {
  std::vector<std::string> names;
  for (CLI::App* v : Verbs(app)) names.push_back(v->get_name());
  std::string hint = rb::rt::cfg::Hint(word, names, "commands");
  if (hint.rfind("did you mean", 0) == 0) {
    std::cerr << "runbook: unknown command \"" << word << "\": " << hint << "\n";
  } else {
    std::cerr << "runbook: unknown command \"" << word << "\"; the commands are " << rb::rt::cfg::Join(names)
              << " (`runbook help COMMAND` shows one)\n";
  }
  return 2;
}

// An option the verb does not have (`lint --formt json`): named with the nearest of the verb's
// options, or a pointer to its help. Exit 2 (usage).
int UnknownOption(CLI::App& verb, const std::string& arg) {
  const std::string name = arg.substr(0, arg.find('='));
  std::vector<std::string> candidates;
  for (const CLI::Option* o : verb.get_options()) {
    for (const auto& l : o->get_lnames()) candidates.push_back("--" + l);
  }
  // Short flags are one letter: any other letter is "near", so only long names get a suggestion.
  std::string hint = name.rfind("--", 0) == 0 ? rb::rt::cfg::Hint(name, candidates, "options") : std::string();
  std::cerr << "runbook: unknown option \"" << name << "\" for " << verb.get_name();
  if (hint.rfind("did you mean", 0) == 0) {
    std::cerr << ": " << hint << "\n";
  } else {
    std::cerr << "; `runbook help " << verb.get_name() << "` lists its options\n";
  }
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"runbook: compile, lint and rehearse incident runbooks (*.rb.denis)"};
  app.require_subcommand(1);
  app.set_version_flag("-V,--version", "runbook 0.1.0");

  std::vector<std::string> lint_paths;
  std::string format = "text", color = "auto", stdlib_dir;
  CLI::App* lint = app.add_subcommand("lint", "Check runbook files and directories (and the scenario and environment files in them); exit 1 on errors");
  lint->add_option("paths", lint_paths, "Files or directories (searched for *.rb.denis, *.scenario.yaml and environment files; default: the current directory)");
  WarningLimits limits;
  lint->add_flag("--werror", limits.werror, "Exit 1 when there is any warning, as for an error (notes never count)");
  lint->add_option("--max-warnings", limits.max_warnings, "Exit 1 when there are more than N warnings (notes never count)")
      ->check(CLI::NonNegativeNumber);
  lint->add_option("--format", format, "Output: text, json, sarif (2.1.0) or github (workflow annotations)")
      ->check(CLI::IsMember({"text", "json", "sarif", "github"}));
  lint->add_option("--color", color, "Colour: auto (a terminal without NO_COLOR), always, never")
      ->check(CLI::IsMember({"auto", "always", "never"}));
  lint->add_option("--stdlib", stdlib_dir, kStdlibHelp);
  std::vector<std::string> module_path;
  std::string lint_env;
  lint->add_option("--path", module_path, kPathHelp)->allow_extra_args(false);
  lint->add_option("--env", lint_env, "Environment file whose `modules:` directories are searched for team modules (it is linted too)");

  std::vector<std::string> compile_paths;
  std::string output;
  CLI::App* compile = app.add_subcommand("compile", "Compile runbooks to verified bytecode (.rbc)");
  compile->add_option("paths", compile_paths, "Files or directories (searched for *.rb.denis, *.scenario.yaml and environment files)")->required();
  compile->add_option("-o,--output", output, "Write one .rbc with every runbook (default: FILE.rbc beside each source)");
  compile->add_option("--color", color, "Colour of diagnostics: auto, always, never")
      ->check(CLI::IsMember({"auto", "always", "never"}));
  compile->add_option("--stdlib", stdlib_dir, kStdlibHelp);
  compile->add_option("--path", module_path, kPathHelp)->allow_extra_args(false);
  compile->add_option("--env", lint_env, "Environment file whose `modules:` directories are searched for team modules");

  std::string disasm_path;
  std::vector<std::string> source_dirs;
  bool no_source = false;
  CLI::App* disasm = app.add_subcommand("disasm", "Show the bytecode of a .rbc (or of a .rb.denis, compiled in memory)");
  disasm->add_option("file", disasm_path, "A .rbc or .rb.denis file")->required();
  disasm->add_flag("--no-source", no_source, "Do not interleave source lines");
  disasm->add_option("--source-dir", source_dirs,
                     "Also look for the sources in DIR (after the .rbc's folder); only files whose content hash "
                     "matches the .rbc are shown; repeatable")
      ->allow_extra_args(false);  // one folder per --source-dir, so the file after it stays the file
  disasm->add_option("--stdlib", stdlib_dir, kStdlibHelp);
  disasm->add_option("--path", module_path, kPathHelp)->allow_extra_args(false);

  std::string code;
  CLI::App* explain = app.add_subcommand("explain", "Print the documentation of a diagnostic code, e.g. RB0050");
  explain->add_option("code", code, "The code, e.g. RB0050")->required();
  CLI::App* codes = app.add_subcommand("codes", "List every diagnostic code with its severity and title");

  std::string caps_stdlib;
  CLI::App* caps = app.add_subcommand("capabilities", "List every native capability: effect, dry-run behaviour, live implementation");
  caps->add_option("--stdlib", caps_stdlib, kStdlibHelp);

  rb::cli::PlanArgs plan_args;
  CLI::App* plan = app.add_subcommand("plan", "Show the steps a runbook would run, every value bound; runs nothing");
  plan->add_option("file", plan_args.file, "A .rb.denis or .rbc file")->required();
  plan->add_option("--env", plan_args.env, "Environment file (YAML): targets, params, contacts");
  plan->add_option("--param,-p", plan_args.params, "Bind a param: NAME=VALUE (wins over the environment); repeatable");
  plan->add_option("--runbook", plan_args.runbook, "Only this runbook of the file");
  plan->add_option("--color", plan_args.color, "Colour: auto, always, never")->check(CLI::IsMember({"auto", "always", "never"}));
  plan->add_option("--stdlib", plan_args.stdlib_dir, kStdlibHelp);
  plan->add_option("--path", plan_args.module_path, kPathHelp)->allow_extra_args(false);

  rb::cli::RehearseArgs rehearse_args;
  CLI::App* rehearse = app.add_subcommand("rehearse", "Play a scenario on a virtual clock and show every decision; touches nothing");
  rehearse->add_option("file", rehearse_args.file, "A .rb.denis or .rbc file holding the runbook")->required();
  rehearse->add_option("--scenario,-s", rehearse_args.scenario, "Scenario file (*.scenario.yaml)")->required();
  rehearse->add_option("--env", rehearse_args.env, "Environment file (YAML): targets, params, contacts");
  rehearse->add_option("--param,-p", rehearse_args.params, "Bind a param: NAME=VALUE (wins over the scenario and the environment); repeatable");
  rehearse->add_option("--format", rehearse_args.format, "Output: text (a timeline) or json")->check(CLI::IsMember({"text", "json"}));
  rehearse->add_option("--color", rehearse_args.color, "Colour: auto, always, never")->check(CLI::IsMember({"auto", "always", "never"}));
  rehearse->add_option("--stdlib", rehearse_args.stdlib_dir, kStdlibHelp);
  rehearse->add_option("--path", rehearse_args.module_path, kPathHelp)->allow_extra_args(false);

  rb::cli::TestArgs test_args;
  CLI::App* test = app.add_subcommand("test", "Rehearse every scenario under PATHs and check its expectations; exit 1 on any failure");
  test->add_option("paths", test_args.paths, "Directories, *.rb.denis or *.scenario.yaml files (default: runbooks)");
  test->add_option("--junit", test_args.junit, "Also write JUnit XML to FILE");
  test->add_flag("--coverage", test_args.coverage, "Report symptoms, steps and escalation rows no scenario exercised");
  test->add_flag("--quiet,-q", test_args.quiet, "Print only failures and the summary");
  test->add_option("--env", test_args.env, "Environment file (YAML) for every scenario");
  test->add_option("--color", test_args.color, "Colour: auto, always, never")->check(CLI::IsMember({"auto", "always", "never"}));
  test->add_option("--stdlib", test_args.stdlib_dir, kStdlibHelp);
  test->add_option("--path", test_args.module_path, kPathHelp)->allow_extra_args(false);

  rb::cli::RunArgs run_args;
  CLI::App* run = app.add_subcommand("run", "Walk a runbook against the live servers of --env on the real clock (--dry-run: nothing is changed)");
  run->add_option("file", run_args.file, "A .rb.denis or .rbc file holding the runbook (with --resume: the run's own)");
  run->add_option("--env", run_args.env, "Environment file (YAML): where the targets live (required)");
  run->add_flag("--dry-run", run_args.dry_run, "Read for real; show every write, capability call and page as it would be done, and do none");
  run->add_option("--runbook", run_args.runbook, "Which runbook, when the file holds several");
  run->add_option("--for", run_args.for_text, "Stop after this long (10m); default: when the sequence has ended and no row is pending");
  run->add_option("--tick", run_args.tick_text, "Evaluate every (default 15s)");
  run->add_option("--param,-p", run_args.params, "Bind a param: NAME=VALUE (wins over the environment); repeatable");
  run->add_option("--answer", run_args.answers, "Answer an `ask` question: \"QUESTION=yes\" or \"QUESTION=no\"; repeatable");
  run->add_option("--format", run_args.format, "Output: text (a timeline) or json")->check(CLI::IsMember({"text", "json"}));
  run->add_option("--color", run_args.color, "Colour: auto, always, never")->check(CLI::IsMember({"auto", "always", "never"}));
  run->add_flag("--yes,-y", run_args.yes, "Live: approve every action as shown, without asking (never a last resort)");
  run->add_flag("--allow-last-resort", run_args.allow_last_resort, "Live: a last resort may be asked for; its name must still be typed");
  run->add_option("--confirm", run_args.confirm, "Live, no terminal: approve this last resort, or say this manual step is done; repeatable");
  run->add_option("--vouch", run_args.vouch,
                  "Live, no terminal: say that this step's guard holds when it is unknown (a probe failed); repeatable");
  run->add_option("--wait-lock", run_args.wait_lock_text, "Live: wait this long (2m) for a lock another run holds, instead of exit 3");
  run->add_option("--resume", run_args.resume, "Live: continue run RUN from the audit after a crash (runbook audit show lists runs)");
  run->add_option("--max-concurrency", run_args.max_concurrency, "A fleet (a param bound to a list): at most N runs at once (default 1)");
  run->add_option("--max-errors", run_args.max_errors, "A fleet: no new run once N (or P% of the fleet) have failed (default 1)");
  run->add_option("--stdlib", run_args.stdlib_dir, kStdlibHelp);
  run->add_option("--path", run_args.module_path, kPathHelp)->allow_extra_args(false);

  rb::cli::AuditArgs audit_args;
  CLI::App* audit = app.add_subcommand("audit", "Check or show the audit log of live runs: audit verify, audit show [--run ID]");
  audit->add_option("action", audit_args.action, "verify (the hash chain is whole) or show (the runs' stories)")
      ->required()
      ->check(CLI::IsMember({"verify", "show"}));
  audit->add_option("file", audit_args.file, "The audit log (default: the environment's audit.path, else .runbook/audit.jsonl)");
  audit->add_option("--env", audit_args.env, "Environment file (YAML): check the log it names");
  audit->add_option("--run", audit_args.run, "show: only this run");
  audit->add_option("--format", audit_args.format, "Output: text or json")->check(CLI::IsMember({"text", "json"}));

  rb::cli::TriageArgs triage_args;
  CLI::App* triage = app.add_subcommand("triage", "Evaluate every runbook's symptoms once against the live servers of --env; exit 1 when some hold");
  triage->add_option("paths", triage_args.paths, "Directories or *.rb.denis files (default: runbooks)");
  triage->add_option("--env", triage_args.env, "Environment file (YAML): where the targets live (required)");
  triage->add_option("--format", triage_args.format, "Output: text or json (with --watch, one JSON object per line)")->check(CLI::IsMember({"text", "json"}));
  triage->add_flag("--watch", triage_args.watch, "Evaluate again every tick, windows counting in the state store, until Ctrl-C");
  triage->add_option("--tick", triage_args.tick_text, "With --watch: evaluate every (default 15s)");
  triage->add_option("--count", triage_args.count, "With --watch: stop after this many evaluations");
  triage->add_option("--color", triage_args.color, "Colour: auto, always, never")->check(CLI::IsMember({"auto", "always", "never"}));
  triage->add_option("--stdlib", triage_args.stdlib_dir, kStdlibHelp);
  triage->add_option("--path", triage_args.module_path, kPathHelp)->allow_extra_args(false);

  std::string help_verb;
  CLI::App* help = app.add_subcommand("help", "Show the options of a command (runbook help lint), or list the commands");
  help->add_option("command", help_verb, "A command, e.g. lint");

  // Unknown options and stray words are ours to report (with the nearest option), not CLI11's.
  for (CLI::App* v : Verbs(app)) v->allow_extras();

  // The verb comes first (after -h or -V): a word that is no verb is named with the nearest one.
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h" || a == "--help" || a == "-V" || a == "--version") continue;
    if (!a.empty() && a[0] == '-') {
      std::vector<std::string> top{"--help", "--version"};
      std::string hint = rb::rt::cfg::Hint(a.substr(0, a.find('=')), top, "options");
      std::cerr << "runbook: unknown option \"" << a.substr(0, a.find('=')) << "\""
                << (hint.rfind("did you mean", 0) == 0 ? ": " + hint : std::string("; a command comes first (`runbook help` lists them)"))
                << "\n";
      return 2;
    }
    if (!FindVerb(app, a)) return UnknownVerb(app, a);
    break;
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  }
  for (CLI::App* v : Verbs(app)) {
    if (!v->parsed()) continue;
    for (const std::string& extra : v->remaining()) {
      if (!extra.empty() && extra[0] == '-' && extra != "-") return UnknownOption(*v, extra);
      std::cerr << "runbook: unexpected argument \"" << extra << "\" for " << v->get_name() << "; `runbook help "
                << v->get_name() << "` shows its usage\n";
      return 2;
    }
  }

  // A bug must not end in an abort (exit 134) that loses what the user was told so far: it is
  // reported as an internal error, and nothing half-done is written (compile writes files last).
  auto dispatch = [&]() -> int {
    if (help->parsed()) {
      if (help_verb.empty()) {
        // app.help() would describe the selected verb (`help` itself): the top level's own help.
        std::cout << app.get_formatter()->make_help(&app, app.get_name(), CLI::AppFormatMode::Normal);
        return 0;
      }
      CLI::App* verb = FindVerb(app, help_verb);
      if (!verb) return UnknownVerb(app, help_verb);
      std::cout << verb->help(app.get_name());  // as `runbook VERB --help` prints it
      return 0;
    }
    if (lint->parsed()) {
      // No path: the current directory, searched as `runbook lint DIR` searches one.
      std::vector<std::string> paths = lint_paths.empty() ? std::vector<std::string>{"."} : lint_paths;
      if (!lint_env.empty() && rb::rt::IsEnvironmentFileName(lint_env) &&
          std::find(paths.begin(), paths.end(), lint_env) == paths.end()) {
        paths.push_back(lint_env);
      }
      return RunLint(paths, format, color, stdlib_dir, rb::cli::SearchPath(module_path, lint_env), limits);
    }
    if (compile->parsed()) return RunCompile(compile_paths, output, color, stdlib_dir, rb::cli::SearchPath(module_path, lint_env));
    if (disasm->parsed()) return RunDisasm(disasm_path, !no_source, source_dirs, "auto", stdlib_dir, rb::cli::SearchPath(module_path, {}));
    if (caps->parsed()) return rb::cli::RunCapabilities(caps_stdlib);
    if (plan->parsed()) return rb::cli::RunPlan(plan_args);
    if (rehearse->parsed()) return rb::cli::RunRehearse(rehearse_args);
    if (test->parsed()) return rb::cli::RunTest(test_args);
    if (triage->parsed()) return rb::cli::RunTriage(triage_args);
    if (run->parsed()) return rb::cli::RunRun(run_args);
    if (audit->parsed()) return rb::cli::RunAudit(audit_args);
    if (explain->parsed()) {
      const rb::DiagInfo* info = rb::FindCode(code);
      if (!info) {
        std::cerr << "runbook: unknown code " << code << "; `runbook codes` lists them\n";
        return 2;
      }
      std::cout << rb::Explain(*info, UseColor("auto"));
      return 0;
    }
    if (codes->parsed()) {
      for (const auto& info : rb::Catalogue()) {
        std::cout << info.code << "  " << rb::SeverityName(info.severity) << "  " << info.title << "\n";
      }
      return 0;
    }
    return 2;
  };
  try {
    return dispatch();
  } catch (const std::exception& e) {
    std::cerr << "runbook: internal error: " << e.what() << " (a bug in runbook: please report it with the input)\n";
    return 2;
  }
}
