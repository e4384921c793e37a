#include "compiler/disasm.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <map>
#include <optional>
#include <sstream>

#include "compiler/parser.hpp"
#include "compiler/workspace.hpp"
#include "runtime/files.hpp"
#include "runtime/plan.hpp"
#include "runtime/rbc.hpp"
#include "runtime/value.hpp"

namespace rb {
namespace {

namespace fs = std::filesystem;
using rt::Op;

// How many trailing components of a recorded name are tried, and how many missing names a note lists.
constexpr size_t kMaxNameComponents = 8;
constexpr size_t kMaxNamesInNote = 3;

// The relative names under which a recorded source is looked for in a folder, most specific first:
// its trailing components, never anything that climbs out of the folder (`..`) or starts at a root.
std::vector<fs::path> Candidates(const std::string& recorded) {
  std::vector<fs::path> parts;
  for (const fs::path& part : fs::path(recorded).relative_path()) {
    if (part == "..") {
      parts.clear();  // only what follows the last `..` stays inside the folder
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
  }
  if (parts.size() > kMaxNameComponents) parts.erase(parts.begin(), parts.end() - kMaxNameComponents);
  std::vector<fs::path> out;
  for (size_t i = 0; i < parts.size(); ++i) {
    fs::path rel;
    for (size_t j = i; j < parts.size(); ++j) rel /= parts[j];
    out.push_back(rel);
  }
  return out;
}

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) {
    if (!l.empty() && l.back() == '\r') l.pop_back();
    lines.push_back(l);
  }
  return lines;
}
using rt::Shape;

class Printer {
 public:
  Printer(const rt::Program& p, const DisasmOptions& o) : p_(p), o_(o) {}

  std::string Run() {
    out_ += fmt::format("; runbook bytecode, format {}, source hash {:016x}\n", rt::kFormatVersion, p_.source_hash);
    out_ += fmt::format("; {} strings, {} constants, {} imports, {} contacts, {} chunks, {} runbooks{}\n",
                        p_.strings.size(), p_.constants.size(), p_.imports.size(), p_.contacts.size(),
                        p_.chunks.size(), p_.runbooks.size(), p_.policy ? ", 1 policy" : "");
    const size_t note_at = out_.size();
    for (size_t i = 0; i < p_.imports.size(); ++i) {
      const auto& im = p_.imports[i];
      std::string params;
      for (auto t : im.params) params += (params.empty() ? "" : ", ") + std::string(rt::ValueTypeName(t));
      out_ += fmt::format("import {:>3}  {:<28} {:<11} ({}) -> {}{}\n", i, S(im.name), rt::EffectName(im.effect), params,
                          rt::ValueTypeName(im.result),
                          im.is_filter ? std::string("  [filter]") : im.IsMethod() ? fmt::format("  [method, body chunk {}]", im.body) : std::string());
    }
    // The bodies of the methods the program calls, each once.
    for (size_t i = 0; i < p_.imports.size(); ++i) {
      const auto& im = p_.imports[i];
      if (!im.IsMethod()) continue;
      out_ += fmt::format("method {}\n", S(im.name));
      Chunk(im.body, Names{}, "  ");
    }
    for (size_t i = 0; i < p_.contacts.size(); ++i) {
      const auto& c = p_.contacts[i];
      out_ += fmt::format("contact {:>2}  {} \"{}\" \"{}\"\n", i, S(c.name), S(c.display), S(c.handle));
    }
    for (size_t i = 0; i < p_.runbooks.size(); ++i) Runbook(p_.runbooks[i], static_cast<uint32_t>(i));
    if (p_.policy) Policy(*p_.policy);
    if (!missing_.empty()) out_.insert(note_at, MissingNote());
    return out_;
  }

 private:
  const std::string& S(uint32_t i) const {
    static const std::string kBad = "<bad string>";
    return i < p_.strings.size() ? p_.strings[i] : kBad;
  }

  std::string Const(uint32_t k) const {
    if (k >= p_.constants.size()) return "<bad constant>";
    const auto& c = p_.constants[k];
    if (c.type == rt::ValueType::kString) return fmt::format("\"{}\"", S(c.string));
    return rt::ToString(rt::Value::Number(c.type, c.number));
  }

  // The folders searched for source files: the .rbc's own, then the ones the user named.
  std::vector<std::string> SearchDirs() const {
    std::vector<std::string> dirs;
    if (!o_.rbc_path.empty()) {
      fs::path parent = fs::path(o_.rbc_path).parent_path();
      dirs.push_back(parent.empty() ? "." : parent.string());
    }
    dirs.insert(dirs.end(), o_.source_dirs.begin(), o_.source_dirs.end());
    return dirs;
  }

  // The text of recorded file `file` whose hash is the one the program records: from memory, else
  // from a regular file under a search folder. Recorded names are only ever joined under a folder.
  std::optional<std::string> FindSource(uint32_t file) const {
    if (file >= p_.file_hashes.size()) return std::nullopt;
    const uint64_t want = p_.file_hashes[file];
    auto matches = [&](const std::string& text) { return rt::Fnv1a64(text.data(), text.size()) == want; };
    const std::string& recorded = p_.files[file];
    if (auto it = o_.sources.find(recorded); it != o_.sources.end() && matches(it->second)) return it->second;
    // The stdlib this binary embeds (method bodies are compiled from it), when its text is the one
    // compiled: never a file named by the program.
    for (const auto& e : EmbeddedStdlib()) {
      if (matches(e.text) && recorded == std::string("stdlib/") + e.name + ".rb.denis") return std::string(e.text);
    }
    std::vector<fs::path> names = Candidates(recorded);
    for (const std::string& dir : SearchDirs()) {
      for (const fs::path& name : names) {
        std::string text, error;
        if (rt::ReadRegularFile((fs::path(dir) / name).string(), kMaxFileBytes, text, error) == rt::FileRead::kOk &&
            matches(text)) {
          return text;
        }
      }
    }
    return std::nullopt;
  }

  // Why some source lines are missing, once, under the header.
  std::string MissingNote() const {
    std::string names;
    for (size_t i = 0; i < missing_.size() && i < kMaxNamesInNote; ++i) {
      names += (i ? ", " : "") + p_.files[missing_[i]];
    }
    if (missing_.size() > kMaxNamesInNote) names += fmt::format(" and {} more", missing_.size() - kMaxNamesInNote);
    std::string where;
    if (!o_.rbc_path.empty()) where = " beside " + o_.rbc_path;
    for (size_t i = 0; i < o_.source_dirs.size(); ++i) {
      where += (i == 0 ? (where.empty() ? " under " : " or under ") : ", ") + o_.source_dirs[i];
    }
    return fmt::format("; source lines not shown for {}: no file with the recorded content hash{}; "
                       "pass --source-dir DIR (the folder holding the sources as compiled)\n",
                       names, where.empty() ? " was found" : where);
  }

  std::string SourceLine(uint32_t file, uint32_t line) {
    if (!o_.source_lines || file >= p_.files.size()) return {};
    auto it = sources_.find(file);
    if (it == sources_.end()) {
      std::optional<std::string> text = FindSource(file);
      if (!text) missing_.push_back(file);  // in order of first use: the note is deterministic
      it = sources_.emplace(file, text ? SplitLines(*text) : std::vector<std::string>{}).first;
    }
    if (line == 0 || line > it->second.size()) return {};
    std::string s = it->second[line - 1];
    size_t b = s.find_first_not_of(" \t");
    return b == std::string::npos ? std::string() : s.substr(b);
  }

  // The names a chunk's operands refer to, for the comment column.
  struct Names {
    const std::vector<rt::Param>* params = nullptr;
    const std::vector<rt::Target>* targets = nullptr;
    const std::vector<rt::Symptom>* symptoms = nullptr;
    const std::vector<rt::Step>* steps = nullptr;
    const std::vector<rt::Window>* windows = nullptr;
    const std::vector<rt::Let>* lets = nullptr;
  };

  template <typename T>
  std::string NameIn(const std::vector<T>* v, uint32_t i) const {
    if (!v || i >= v->size()) return "?";
    return S((*v)[i].name);
  }

  void Chunk(uint32_t index, const Names& names, const std::string& indent) {
    if (index == rt::kNoChunk) return;
    if (index >= p_.chunks.size()) {
      out_ += indent + "<bad chunk>\n";
      return;
    }
    const rt::Chunk& c = p_.chunks[index];
    out_ += fmt::format("{}chunk {} ({}):\n", indent, index,
                        c.cls == rt::ChunkClass::kFilter   ? "filter"
                        : c.cls == rt::ChunkClass::kMethod ? fmt::format("method body, {} arguments", c.arity)
                                                           : std::string("condition"));
    uint32_t last_line = 0;
    for (size_t pc = 0; pc < c.code.size(); ++pc) {
      uint32_t w = c.code[pc];
      uint32_t line = pc < c.lines.size() ? c.lines[pc] : 0;
      if (line != last_line) {
        std::string src = SourceLine(c.file, line);
        std::string file = c.file < p_.files.size() ? p_.files[c.file] : "?";
        out_ += fmt::format("{}  ; {}:{}{}{}\n", indent, file, line, src.empty() ? "" : "  ", src);
        last_line = line;
      }
      uint8_t opb = rt::OpByte(w);
      if (opb >= rt::kOpCount) {
        out_ += fmt::format("{}  {:04}  <bad opcode {}>\n", indent, pc, opb);
        continue;
      }
      const rt::OpInfo& info = rt::Info(static_cast<Op>(opb));
      uint32_t a = rt::OperandA(w);
      std::string operand, note;
      switch (info.shape) {
        case Shape::kNone: break;
        case Shape::kConst: operand = fmt::format("K{}", a); note = Const(a); break;
        case Shape::kParam: operand = std::to_string(a); note = NameIn(names.params, a); break;
        case Shape::kTarget: operand = std::to_string(a); note = NameIn(names.targets, a); break;
        case Shape::kSymptom: operand = std::to_string(a); note = NameIn(names.symptoms, a); break;
        case Shape::kStep: operand = std::to_string(a); note = NameIn(names.steps, a); break;
        case Shape::kWindow:
          operand = std::to_string(a);
          if (names.windows && a < names.windows->size()) {
            note = WindowText((*names.windows)[a]);
          }
          break;
        case Shape::kJump: operand = fmt::format("-> {:04}", a); break;
        case Shape::kCall: {
          uint16_t im = rt::CallImport(w);
          operand = fmt::format("{}/{}", im < p_.imports.size() ? S(p_.imports[im].name) : "?", rt::CallArgc(w));
          break;
        }
        case Shape::kCount: operand = std::to_string(a); break;
        case Shape::kLet: operand = std::to_string(a); note = NameIn(names.lets, a); break;
        case Shape::kArg: operand = std::to_string(a); note = a == 0 ? "receiver" : ""; break;
      }
      std::string text = fmt::format("{}  {:04}  {:<14}{:<22}", indent, pc, info.name, operand);
      if (!note.empty()) text += "; " + note;
      while (!text.empty() && text.back() == ' ') text.pop_back();
      out_ += text + "\n";
    }
  }

  static std::string WindowText(const rt::Window& w) {
    return fmt::format("for {} {}", w.inclusive ? ">=" : ">",
                       rt::ToString(rt::Value::Number(rt::ValueType::kDuration, static_cast<double>(w.bound_ms))));
  }

  // The window table: each window's condition, which the runner evaluates before the rows.
  void Windows(const std::vector<rt::Window>& ws, const Names& names) {
    for (size_t i = 0; i < ws.size(); ++i) {
      out_ += fmt::format("  window {} {}:\n", i, WindowText(ws[i]));
      Chunk(ws[i].chunk, names, "    ");
    }
  }

  std::string Argv(const rt::Command& c, const rt::Runbook& r) const {
    std::string s;
    for (const auto& word : c.argv) {
      std::string w;
      for (const auto& part : word) {
        switch (part.kind) {
          case rt::WordPart::Kind::kLiteral: w += S(part.value); break;
          case rt::WordPart::Kind::kParam: w += "{" + NameIn(&r.params, part.value) + "}"; break;
          case rt::WordPart::Kind::kTarget: w += "{" + NameIn(&r.targets, part.value) + "}"; break;
          case rt::WordPart::Kind::kTargetField:
            w += "{" + NameIn(&r.targets, part.value) + "." + S(part.field) + "}";
            break;
          case rt::WordPart::Kind::kLet: w += "{" + NameIn(&r.lets, part.value) + "}"; break;
        }
      }
      s += (s.empty() ? "" : " ") + fmt::format("[{}]", w);
    }
    return s;
  }

  void Rows(const std::vector<rt::EscRow>& rows, const Names& names, const std::vector<rt::Step>* steps) {
    for (size_t i = 0; i < rows.size(); ++i) {
      std::string acts;
      for (const auto& a : rows[i].actions) {
        std::string t;
        switch (a.kind) {
          case rt::EscAction::Kind::kPage:
            t = "page " + (a.value == rt::kOwnerContact ? std::string("owner")
                           : a.value < p_.contacts.size() ? S(p_.contacts[a.value].name) : std::string("?"));
            if (a.repeat) t += " every time";
            break;
          case rt::EscAction::Kind::kRun: t = "run " + NameIn(steps, a.value); break;
          case rt::EscAction::Kind::kRunbook: t = "runbook " + S(a.value); break;
          case rt::EscAction::Kind::kManual: t = "manual \"" + S(a.value) + "\""; break;
          case rt::EscAction::Kind::kDeclare: t = "declare " + S(a.value); break;
        }
        acts += (acts.empty() ? "" : ", ") + t;
      }
      std::string note;
      if (rows[i].part != rt::kNoPart) note = "  ; " + p_.RowSource(rows[i]);
      if (std::string scope = rt::ScopeText(p_, rows[i]); !scope.empty()) note += (note.empty() ? "  ; " : ", ") + scope;
      out_ += fmt::format("  row {}: | {} | {} |{}\n", i, S(rows[i].text), acts, note);
      Chunk(rows[i].chunk, names, "    ");
    }
  }

  void Runbook(const rt::Runbook& r, uint32_t index) {
    out_ += fmt::format("\nrunbook {} \"{}\" (index {}, severity {}, owner {})\n", S(r.name), S(r.title), index,
                        S(r.severity), r.owner < p_.contacts.size() ? S(p_.contacts[r.owner].name) : "?");
    Names names{&r.params, &r.targets, &r.symptoms, &r.steps, &r.windows, &r.lets};
    for (size_t i = 0; i < r.targets.size(); ++i) {
      out_ += fmt::format("  target {} {} = {}(\"{}\")\n", i, S(r.targets[i].name), S(r.targets[i].capability),
                          S(r.targets[i].binding));
    }
    for (size_t i = 0; i < r.params.size(); ++i) {
      const auto& p = r.params[i];
      std::string def = p.def == rt::Param::Default::kConstant ? " = " + Const(p.value)
                        : p.def == rt::Param::Default::kSecret ? fmt::format(" = secret(\"{}\")", S(p.value))
                                                               : "";
      out_ += fmt::format("  param {} {} : {}{}\n", i, S(p.name), rt::ValueTypeName(p.type), def);
    }
    for (size_t i = 0; i < r.symptoms.size(); ++i) {
      out_ += fmt::format("  symptom {} {} \"{}\"\n", i, S(r.symptoms[i].name), S(r.symptoms[i].description));
      Chunk(r.symptoms[i].chunk, names, "    ");
    }
    for (const auto& d : r.dashboards) {
      out_ += fmt::format("  grafana \"{}\"\n", S(d.title));
      for (const auto& panel : d.panels) {
        out_ += fmt::format("    panel \"{}\"\n", S(panel.title));
        Chunk(panel.chunk, names, "      ");
      }
    }
    for (const auto& k : r.kibana) out_ += fmt::format("  kibana \"{}\" query \"{}\"\n", S(k.index), S(k.query));
    for (size_t i = 0; i < r.steps.size(); ++i) {
      const auto& s = r.steps[i];
      out_ += fmt::format("  step {} {} {} \"{}\"{}\n", i, lang::Name(s.kind), S(s.name), S(s.title),
                          s.continue_on_failure ? " on failure continue" : "");
      if (s.guard != rt::kNoChunk) {
        out_ += fmt::format("    when {}:\n", S(s.guard_text));
        Chunk(s.guard, names, "      ");
      }
      for (const auto& it : s.items) {
        switch (it.kind) {
          case rt::StepItem::Kind::kCommand:
            out_ += fmt::format("    $ {}  ; {} ({})\n", Argv(it.command, r), rt::EffectName(it.command.effect),
                                S(it.command.rule));
            Chunk(it.command.filter, names, "      ");
            break;
          case rt::StepItem::Kind::kText: out_ += fmt::format("    \"{}\"\n", S(it.text)); break;
          case rt::StepItem::Kind::kCapture:
            out_ += fmt::format("    let {}  ; captured here\n", NameIn(&r.lets, it.text));
            break;
          case rt::StepItem::Kind::kExpect:
            out_ += "    expect " + S(it.text);
            if (it.within_ms) out_ += " within " + rt::ToString(rt::Value::Number(rt::ValueType::kDuration, static_cast<double>(it.within_ms)));
            if (it.every_ms) out_ += " every " + rt::ToString(rt::Value::Number(rt::ValueType::kDuration, static_cast<double>(it.every_ms)));
            out_ += "\n";
            Chunk(it.chunk, names, "    ");
            break;
        }
      }
    }
    Windows(r.windows, names);
    Lets(r.lets, names, &r.steps);
    Rows(r.rows, names, &r.steps);
    if (r.down != rt::kNoChunk) {
      out_ += fmt::format("  down when {}:\n", S(r.down_text));
      Chunk(r.down, names, "    ");
    }
    if (!r.policies.empty() && p_.policy) {
      std::string ps;
      for (uint32_t part : r.policies) {
        ps += (ps.empty() ? "" : ", ") + (part < p_.policy->parts.size() ? S(p_.policy->parts[part].name) : std::string("?"));
      }
      out_ += fmt::format("  policies {}\n", ps);
    }
    for (const auto& l : r.locks) {
      std::string where = l.step == rt::kNoStep || l.step >= r.steps.size() ? std::string() : " (step " + S(r.steps[l.step].name) + ")";
      out_ += fmt::format("  lock \"{}\"{}{}\n", S(l.text), where, l.chunk != rt::kNoChunk ? ":" : "");
      if (l.chunk != rt::kNoChunk) Chunk(l.chunk, names, "    ");
    }
  }

  void Lets(const std::vector<rt::Let>& lets, const Names& names, const std::vector<rt::Step>* steps) {
    for (size_t i = 0; i < lets.size(); ++i) {
      const rt::Let& l = lets[i];
      std::string by = l.step == rt::kNoStep ? "" : fmt::format("  ; captured by step {}", NameIn(steps, l.step));
      out_ += fmt::format("  let {} {} = {}{}:\n", i, S(l.name), S(l.text), by);
      Chunk(l.chunk, names, "    ");
    }
  }

  void Policy(const rt::Policy& pol) {
    out_ += fmt::format("\npolicy {} \"{}\"\n", S(pol.name), S(pol.title));
    if (pol.parts.size() > 1) {
      for (size_t i = 0; i < pol.parts.size(); ++i) {
        out_ += fmt::format("  part {} {} \"{}\"\n", i, S(pol.parts[i].name), S(pol.parts[i].title));
      }
    }
    Names names{nullptr, &pol.targets, nullptr, nullptr, &pol.windows, &pol.lets};
    for (size_t i = 0; i < pol.targets.size(); ++i) {
      out_ += fmt::format("  target {} {} = {}(\"{}\")\n", i, S(pol.targets[i].name), S(pol.targets[i].capability),
                          S(pol.targets[i].binding));
    }
    Windows(pol.windows, names);
    Lets(pol.lets, names, nullptr);
    Rows(pol.rows, names, nullptr);
  }

  const rt::Program& p_;
  const DisasmOptions& o_;
  std::string out_;
  std::map<uint32_t, std::vector<std::string>> sources_;  // lines by file index; empty when not found
  std::vector<uint32_t> missing_;                         // files whose source was not found
};

}  // namespace

std::string Disassemble(const rt::Program& program, const DisasmOptions& options) {
  return Printer(program, options).Run();
}

}  // namespace rb
