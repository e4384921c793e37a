// The enums generated from one list each (lang/*.def): spelling, reverse look-up and count, and that
// the compiler, the .rbc reader, traces and scenarios all use them.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "lang/enums.hpp"
#include "runtime/executor.hpp"
#include "runtime/report.hpp"

namespace rb {
namespace {

template <typename E>
void RoundTrips() {
  for (size_t i = 0; i < lang::kCount<E>; ++i) {
    auto e = static_cast<E>(i);
    auto back = lang::FromName<E>(lang::Name(e));
    ASSERT_TRUE(back.has_value()) << lang::Name(e);
    EXPECT_EQ(*back, e);
  }
  EXPECT_STREQ(lang::Name(static_cast<E>(lang::kCount<E>)), "?");
  EXPECT_FALSE(lang::FromName<E>("").has_value());
}

TEST(LangEnums, EveryListRoundTrips) {
  RoundTrips<lang::Severity>();
  RoundTrips<lang::StepKind>();
  RoundTrips<lang::ActionKind>();
  RoundTrips<lang::StepStatus>();
  RoundTrips<lang::TraceEventKind>();
}

TEST(LangEnums, SpellingsAndCounts) {
  EXPECT_EQ(lang::kCount<lang::Severity>, 4u);
  EXPECT_EQ(lang::ListOf<lang::Severity>(), "P1, P2, P3 or P4");
  EXPECT_FALSE(lang::FromName<lang::Severity>("P5"));
  EXPECT_FALSE(lang::FromName<lang::Severity>("p1"));
  EXPECT_EQ(lang::kCount<lang::StepKind>, 5u);
  EXPECT_STREQ(lang::Name(lang::StepKind::kLastResort), "last_resort");
  EXPECT_EQ(lang::kCount<lang::ActionKind>, 5u);
  EXPECT_EQ(lang::FromName<lang::ActionKind>("declare"), lang::ActionKind::kDeclare);
  EXPECT_EQ(lang::ListOf<lang::StepStatus>(), "ok, failed, pending or done");
  EXPECT_EQ(lang::kCount<lang::TraceEventKind>, 20u);
  EXPECT_STREQ(lang::Name(lang::TraceEventKind::kStepEnd), "step_end");
}

// The compiler's and the runtime's step kinds and actions are the same types now (they were two
// copies that had to be kept in the same order by hand for the .rbc encoding).
TEST(LangEnums, CompilerAndRuntimeShareTheTypes) {
  static_assert(std::is_same_v<rt::StepKind, lang::StepKind>);
  static_assert(std::is_same_v<rt::EscAction::Kind, lang::ActionKind>);
  static_assert(std::is_same_v<rt::TraceEvent::Kind, lang::TraceEventKind>);
  SUCCEED();
}

// A trace's JSON names each event by the list's spelling.
TEST(LangEnums, TraceJsonSpellsEventsFromTheList) {
  rt::Trace t;
  for (size_t i = 0; i < lang::kCount<lang::TraceEventKind>; ++i) {
    rt::TraceEvent e;
    e.kind = static_cast<lang::TraceEventKind>(i);
    t.events.push_back(e);
  }
  auto j = nlohmann::json::parse(rt::TraceJson(t, nullptr));
  ASSERT_EQ(j["events"].size(), lang::kCount<lang::TraceEventKind>);
  for (size_t i = 0; i < lang::kCount<lang::TraceEventKind>; ++i)
    EXPECT_EQ(j["events"][i]["kind"], lang::Name(static_cast<lang::TraceEventKind>(i)));
  EXPECT_EQ(j["events"][8]["kind"], "step_end");
}

}  // namespace
}  // namespace rb
