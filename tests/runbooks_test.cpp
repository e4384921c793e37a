// The eight seed runbooks and the policy are the language's acceptance test: they lint clean, and the
// properties the seed demands hold in the AST the checker annotated.
#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <sstream>

#include "compiler/checker.hpp"
#include "compiler/workspace.hpp"
#include "tests/test_util.hpp"

namespace rb::test {
namespace {

const char* kRunbooks[] = {"redis_down",     "workers_hung",          "graph_slow",  "queue_growing",
                           "mutations_blocked", "telemetry_inconsistent", "chat_timeout", "websocket_disconnects"};

TEST(SeedRunbooks, LintClean) {
  LintResult r = LintFromRoot({"runbooks"});
  EXPECT_TRUE(r.io_errors.empty());
  EXPECT_EQ(r.files, 9u);
  EXPECT_EQ(r.diags.all().size(), 0u) << RenderText(r);
}

TEST(SeedRunbooks, StdlibLintsClean) {
  LintResult r = LintFromRoot({"stdlib"});
  EXPECT_GE(r.files, 8u);
  EXPECT_EQ(r.diags.all().size(), 0u) << RenderText(r);
}

struct Loaded {
  Diagnostics diags;
  std::unique_ptr<Workspace> ws;
};

std::unique_ptr<Loaded> LoadAll() {
  std::filesystem::current_path(SourceDir());
  auto l = std::make_unique<Loaded>();
  l->ws = std::make_unique<Workspace>(WorkspaceOptions{}, l->diags);
  for (const char* name : kRunbooks) l->ws->AddFile(std::string("runbooks/") + name + ".rb.denis");
  Check(*l->ws, l->diags);
  return l;
}

const ast::Runbook* Find(const Workspace& ws, const std::string& name) {
  for (const auto& m : ws.modules()) {
    for (const auto& rb : m->file.runbooks) {
      if (rb.name == name) return &rb;
    }
  }
  return nullptr;
}

TEST(SeedRunbooks, EachFileHoldsItsRunbookWithMetadata) {
  auto l = LoadAll();
  for (const char* name : kRunbooks) {
    const ast::Runbook* rb = Find(*l->ws, name);
    ASSERT_NE(rb, nullptr) << name;
    EXPECT_TRUE(rb->severity.has_value()) << name;
    EXPECT_TRUE(rb->owner.has_value()) << name;
    EXPECT_FALSE(rb->symptoms.empty()) << name;
    EXPECT_FALSE(rb->steps.empty()) << name;
    EXPECT_FALSE(rb->dashboards.empty()) << name;
    EXPECT_FALSE(rb->kibana.empty()) << name;
  }
}

TEST(SeedRunbooks, ReadOnlyStepsOnlyRead) {
  auto l = LoadAll();
  size_t checked = 0;
  for (const char* name : kRunbooks) {
    for (const auto& s : Find(*l->ws, name)->steps) {
      if (s.kind == ast::StepKind::kCheck || s.kind == ast::StepKind::kVerify) {
        EXPECT_LE(s.effect, ast::Effect::kRead) << name << "." << s.name;
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 20u);
}

TEST(SeedRunbooks, SpanishTitlesKeptAsWritten) {
  auto l = LoadAll();
  EXPECT_EQ(Find(*l->ws, "redis_down")->title, "Redis Caído");
  EXPECT_EQ(Find(*l->ws, "workers_hung")->title, "Workers Colgados");
  EXPECT_EQ(Find(*l->ws, "queue_growing")->title, "Cola Creciendo Sin Consumir");
}

TEST(SeedRunbooks, LastResortAndManualAsInTheSeed) {
  auto l = LoadAll();
  // "Force purge stuck jobs (ÚLTIMO RECURSO)" and the celery purge it runs.
  bool purge_found = false;
  for (const auto& s : Find(*l->ws, "workers_hung")->steps) {
    for (const auto& item : s.items) {
      if (item.kind == ast::ItemKind::kCommand && item.command.matched_rule == "celery purge") {
        purge_found = true;
        EXPECT_EQ(s.kind, ast::StepKind::kLastResort);
        EXPECT_EQ(item.command.effect, ast::Effect::kDestructive);
      }
    }
  }
  EXPECT_TRUE(purge_found);
  // "Editar connections.py: timeout=5s" is an instruction for a person.
  bool manual_found = false;
  for (const auto& s : Find(*l->ws, "graph_slow")->steps) {
    for (const auto& item : s.items) {
      if (item.kind == ast::ItemKind::kText && item.text == "Editar connections.py: timeout=5s") {
        manual_found = true;
        EXPECT_EQ(s.kind, ast::StepKind::kManual);
      }
    }
  }
  EXPECT_TRUE(manual_found);
}

TEST(SeedRunbooks, NeoPasswordIsASecretNeverALiteral) {
  auto l = LoadAll();
  size_t cypher = 0;
  for (const char* name : kRunbooks) {
    const ast::Runbook* rb = Find(*l->ws, name);
    for (const auto& s : rb->steps) {
      for (const auto& item : s.items) {
        if (item.kind != ast::ItemKind::kCommand || item.command.argv[0].Literal() != "cypher-shell") continue;
        ++cypher;
        const auto& argv = item.command.argv;
        for (size_t i = 0; i + 1 < argv.size(); ++i) {
          if (argv[i].Literal() != "-p") continue;
          ASSERT_TRUE(argv[i + 1].HasSlot()) << name << "." << s.name;
          const std::string& slot = argv[i + 1].parts[0].text;
          bool is_secret = false;
          for (const auto& p : rb->params) {
            if (p.name == slot) is_secret = p.type == ast::Type::kSecret;
          }
          EXPECT_TRUE(is_secret) << name << "." << s.name << " passes {" << slot << "}";
        }
      }
    }
  }
  EXPECT_EQ(cypher, 5u);  // the five cypher-shell commands of the seed
}

TEST(SeedRunbooks, EscalationRowsResolve) {
  auto l = LoadAll();
  size_t rows = 0, handovers = 0;
  for (const char* name : kRunbooks) {
    for (const auto& row : Find(*l->ws, name)->rows) {
      ++rows;
      for (const auto& a : row.then) handovers += a.kind == ast::ActionKind::kRunbook;
    }
  }
  EXPECT_EQ(rows, 4u * 6 + 3);  // seven tables of four rows except /chat's three; WebSocket has none
  EXPECT_GE(handovers, 2u);
}

}  // namespace
}  // namespace rb::test

namespace rb::test {
namespace {

// docs/fidelity.md maps seed lines to `runbooks/<file>:<line>`; each reference must point at a line
// that exists and holds code or text (not blank), so the map cannot silently drift from the files.
TEST(Fidelity, EveryReferenceResolves) {
  std::string doc = ReadAll(SourceDir() / "docs" / "fidelity.md");
  std::regex ref("`(runbooks/[a-z_/]+\\.rb\\.denis):([0-9]+)`");
  size_t refs = 0;
  std::map<std::string, std::vector<std::string>> files;
  for (std::sregex_iterator it(doc.begin(), doc.end(), ref), end; it != end; ++it) {
    std::string file = (*it)[1];
    size_t line = std::stoul((*it)[2]);
    if (!files.count(file)) {
      std::string text = ReadAll(SourceDir() / file);
      ASSERT_FALSE(text.empty()) << file;
      std::vector<std::string> lines;
      std::stringstream ss(text);
      for (std::string l; std::getline(ss, l);) lines.push_back(l);
      files[file] = lines;
    }
    const auto& lines = files[file];
    ASSERT_GE(line, 1u) << file;
    ASSERT_LE(line, lines.size()) << file << ":" << line;
    EXPECT_NE(lines[line - 1].find_first_not_of(" \t"), std::string::npos) << file << ":" << line << " is blank";
    ++refs;
  }
  EXPECT_GT(refs, 150u);
}

}  // namespace
}  // namespace rb::test
