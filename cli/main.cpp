// The `runbook` command line: a thin driver that wires the stages together and formats output.
// Exit codes: 0 clean (warnings allowed), 1 findings at error level, 2 usage or I/O errors.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "compiler/build.hpp"
#include "compiler/codegen.hpp"
#include "compiler/diagnostics.hpp"
#include "compiler/disasm.hpp"
#include "compiler/lint.hpp"

namespace {

bool UseColor(const std::string& mode) {
  if (mode == "always") return true;
  if (mode == "never") return false;
  const char* no_color = std::getenv("NO_COLOR");
  if (no_color && *no_color) return false;
  return isatty(STDOUT_FILENO) != 0;
}

int RunLint(const std::vector<std::string>& paths, const std::string& format, const std::string& color,
            const std::string& stdlib_dir) {
  rb::LintOptions options;
  options.paths = paths;
  options.stdlib_dir = stdlib_dir;
  rb::LintResult result = rb::Lint(options);
  rb::RenderOptions render;
  render.format = format == "json"    ? rb::OutputFormat::kJson
                  : format == "sarif" ? rb::OutputFormat::kSarif
                  : format == "github" ? rb::OutputFormat::kGithub
                                       : rb::OutputFormat::kText;
  render.color = render.format == rb::OutputFormat::kText && UseColor(color);
  render.files_checked = result.files;
  std::cout << rb::Render(result.diags, render) << std::flush;
  for (const auto& e : result.io_errors) std::cerr << "runbook: " << e << "\n";
  if (!result.io_errors.empty()) return 2;
  return result.diags.errors() > 0 ? 1 : 0;
}

rb::RenderOptions TextRender(const std::string& color, size_t files) {
  rb::RenderOptions render;
  render.color = UseColor(color);
  render.files_checked = files;
  return render;
}

int RunCompile(const std::vector<std::string>& paths, const std::string& output, const std::string& color,
               const std::string& stdlib_dir) {
  rb::CompileOptions options;
  options.paths = paths;
  options.output = output;
  options.stdlib_dir = stdlib_dir;
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

int RunDisasm(const std::string& path, bool source_lines, const std::string& color, const std::string& stdlib_dir) {
  rb::rt::Registry registry = rb::StdlibRegistry(stdlib_dir);
  rb::LoadedProgram loaded = rb::LoadAny(path, registry, stdlib_dir);
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
  std::cout << rb::Disassemble(*loaded.program, options);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"runbook: compile, lint and rehearse incident runbooks (*.rb.denis)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "runbook 0.1.0");

  std::vector<std::string> lint_paths;
  std::string format = "text", color = "auto", stdlib_dir;
  CLI::App* lint = app.add_subcommand("lint", "Check runbook files and directories; exit 1 on errors");
  lint->add_option("paths", lint_paths, "Files or directories (searched for *.rb.denis)")->required();
  lint->add_option("--format", format, "Output: text, json, sarif (2.1.0) or github (workflow annotations)")
      ->check(CLI::IsMember({"text", "json", "sarif", "github"}));
  lint->add_option("--color", color, "Colour: auto (a terminal without NO_COLOR), always, never")
      ->check(CLI::IsMember({"auto", "always", "never"}));
  lint->add_option("--stdlib", stdlib_dir, "Read stdlib modules from DIR instead of the embedded copy");

  std::vector<std::string> compile_paths;
  std::string output;
  CLI::App* compile = app.add_subcommand("compile", "Compile runbooks to verified bytecode (.rbc)");
  compile->add_option("paths", compile_paths, "Files or directories (searched for *.rb.denis)")->required();
  compile->add_option("-o,--output", output, "Write one .rbc with every runbook (default: FILE.rbc beside each source)");
  compile->add_option("--color", color, "Colour of diagnostics: auto, always, never")
      ->check(CLI::IsMember({"auto", "always", "never"}));
  compile->add_option("--stdlib", stdlib_dir, "Read stdlib modules from DIR instead of the embedded copy");

  std::string disasm_path;
  bool no_source = false;
  CLI::App* disasm = app.add_subcommand("disasm", "Show the bytecode of a .rbc (or of a .rb.denis, compiled in memory)");
  disasm->add_option("file", disasm_path, "A .rbc or .rb.denis file")->required();
  disasm->add_flag("--no-source", no_source, "Do not interleave source lines");
  disasm->add_option("--stdlib", stdlib_dir, "Read stdlib modules from DIR instead of the embedded copy");

  std::string code;
  CLI::App* explain = app.add_subcommand("explain", "Print the documentation of a diagnostic code, e.g. RB0050");
  explain->add_option("code", code, "The code, e.g. RB0050")->required();
  CLI::App* codes = app.add_subcommand("codes", "List every diagnostic code with its severity and title");

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

  if (lint->parsed()) return RunLint(lint_paths, format, color, stdlib_dir);
  if (compile->parsed()) return RunCompile(compile_paths, output, color, stdlib_dir);
  if (disasm->parsed()) return RunDisasm(disasm_path, !no_source, "auto", stdlib_dir);
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
}
