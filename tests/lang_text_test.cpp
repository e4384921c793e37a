// The one text normaliser (lang/text.hpp): rows, guards and conditions by their collapsed text, and
// `~` patterns by their normalised form.
#include <gtest/gtest.h>

#include "lang/text.hpp"

namespace rb {
namespace {

TEST(LangText, CollapseBlanks) {
  EXPECT_EQ(lang::CollapseBlanks("  ping_error \t for\n>  5m  "), "ping_error for > 5m");
  EXPECT_EQ(lang::CollapseBlanks(""), "");
  EXPECT_EQ(lang::CollapseBlanks("ask \"¿Data  loss?\""), "ask \"¿Data loss?\"");
}

TEST(LangText, NormalizePattern) {
  EXPECT_EQ(lang::NormalizePattern("CALL  /* x */ `dbms`.killQuery"), "call dbms.killquery");
  EXPECT_EQ(lang::NormalizePattern("MATCH (n) // all\nRETURN n"), "match (n) return n");
  EXPECT_EQ(lang::NormalizePattern("curl http://Host/x"), "curl http://host/x");
  EXPECT_EQ(lang::NormalizePattern("Ñandú ÉX"), "Ñandú Éx");  // only ASCII letters fold
  EXPECT_EQ(lang::LowerAscii("GET /A"), "get /a");
}

}  // namespace
}  // namespace rb
