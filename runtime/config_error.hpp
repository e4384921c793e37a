// Errors of the YAML files that configure a run (scenarios, environments): a position, a kind from
// the one diagnostics catalogue (runtime/config_kinds.def, codes RB0100-RB0179), a message and a hint.
// The compiler renders them as diagnostics (caret, json, sarif, github); the runtime only needs
// ToString for a one-line fallback.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

namespace rb::rt {

// A position in a YAML file, 1-based (0: unknown).
struct Mark {
  int line = 0, col = 0;
};

// What went wrong, one value per catalogue entry; kUnreadable is a tool error (exit 2), not a finding.
enum class ConfigKind : uint16_t {
  kUnreadable,
#define RB_DIAG(name, code, sev, title, doc, example) k##name,
#include "runtime/config_kinds.def"
#undef RB_DIAG
};

// The catalogue code ("RB0107"), or "" for kUnreadable.
const char* ConfigCode(ConfigKind kind);
// True for the kinds the catalogue marks as warnings (lint reports them; loaders never raise them).
bool ConfigIsWarning(ConfigKind kind);

struct ConfigError {
  ConfigError() = default;
  // The default kind is for errors found while binding an environment (or overrides) to a runbook.
  ConfigError(std::string file_, Mark mark_, std::string message_, ConfigKind kind_ = ConfigKind::kEnvBinding,
              std::string hint_ = {}, int length_ = 0)
      : file(std::move(file_)), mark(mark_), message(std::move(message_)), kind(kind_), hint(std::move(hint_)),
        length(length_) {}

  std::string file;
  Mark mark;
  std::string message;  // what is wrong
  ConfigKind kind = ConfigKind::kEnvBinding;
  std::string hint;     // how to fix it ("did you mean `restart`?"); may be empty
  int length = 0;       // code points of the offending node or key from `mark` (0: unknown)
  // "file:line:col: error[RB0107]: message (hint: ...)".
  std::string ToString() const;
};

}  // namespace rb::rt
