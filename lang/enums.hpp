// The language's small closed sets, each generated from one list (lang/*.def): the enum, its
// spelling (Name), the reverse look-up (FromName) and its size (kCount), so a keyword, a trace
// field and the .rbc range check cannot disagree.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>

namespace rb::lang {

// The spellings of enum E in enumerator order; specialised below for each list.
template <typename E>
struct EnumNames;

#define RB_LANG_ENUM_BEGIN(Type) enum class Type : uint8_t {
#define RB_ENUM(id, text) id,

RB_LANG_ENUM_BEGIN(Severity)
#include "lang/severity.def"
};
RB_LANG_ENUM_BEGIN(StepKind)
#include "lang/step_kind.def"
};
RB_LANG_ENUM_BEGIN(ActionKind)
#include "lang/action_kind.def"
};
RB_LANG_ENUM_BEGIN(StepStatus)
#include "lang/step_status.def"
};
RB_LANG_ENUM_BEGIN(TraceEventKind)
#include "lang/trace_event.def"
};

#undef RB_ENUM
#undef RB_LANG_ENUM_BEGIN
#define RB_ENUM(id, text) text,

template <>
struct EnumNames<Severity> {
  static constexpr const char* kList[] = {
#include "lang/severity.def"
  };
};
template <>
struct EnumNames<StepKind> {
  static constexpr const char* kList[] = {
#include "lang/step_kind.def"
  };
};
template <>
struct EnumNames<ActionKind> {
  static constexpr const char* kList[] = {
#include "lang/action_kind.def"
  };
};
template <>
struct EnumNames<StepStatus> {
  static constexpr const char* kList[] = {
#include "lang/step_status.def"
  };
};
template <>
struct EnumNames<TraceEventKind> {
  static constexpr const char* kList[] = {
#include "lang/trace_event.def"
  };
};

#undef RB_ENUM

// How many enumerators E has; the largest valid value is kCount<E> - 1.
template <typename E>
inline constexpr size_t kCount = std::size(EnumNames<E>::kList);

// The spelling of `e`; "?" for a value outside the list (a corrupt file, never our own code).
template <typename E>
constexpr const char* Name(E e) {
  auto i = static_cast<size_t>(e);
  return i < kCount<E> ? EnumNames<E>::kList[i] : "?";
}

// The enumerator spelled exactly `text`, or nullopt.
template <typename E>
constexpr std::optional<E> FromName(std::string_view text) {
  for (size_t i = 0; i < kCount<E>; ++i) {
    if (text == EnumNames<E>::kList[i]) return static_cast<E>(i);
  }
  return std::nullopt;
}

// "P1, P2, P3 or P4": every spelling of E, for messages.
template <typename E>
std::string ListOf() {
  std::string out;
  for (size_t i = 0; i < kCount<E>; ++i) {
    if (i) out += i + 1 == kCount<E> ? " or " : ", ";
    out += EnumNames<E>::kList[i];
  }
  return out;
}

}  // namespace rb::lang
