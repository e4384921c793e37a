// The one literal scanner (lang/literals.hpp): the compiler and the YAML loaders read numbers,
// units, compound durations and strings the same way, and read back what the printer writes.
#include <gtest/gtest.h>

#include "compiler/parser.hpp"
#include "lang/literals.hpp"
#include "lang/units.hpp"
#include "runtime/config.hpp"

namespace rb {
namespace {

lang::Quantity Scan(std::string_view text) {
  lang::LiteralProblem p;
  auto q = lang::ScanNumber(text, p);
  EXPECT_TRUE(q.has_value()) << text << ": " << p.message;
  return q.value_or(lang::Quantity{});
}

lang::LiteralProblem Refuse(std::string_view text) {
  lang::LiteralProblem p;
  EXPECT_FALSE(lang::ScanNumber(text, p).has_value()) << text;
  return p;
}

TEST(LangLiterals, NumbersInBaseUnits) {
  EXPECT_EQ(Scan("12").value, 12);
  EXPECT_EQ(Scan("12").dimension, lang::Dimension::kNone);
  EXPECT_EQ(Scan("0.5").value, 0.5);
  EXPECT_EQ(Scan("80%").dimension, lang::Dimension::kPercent);
  EXPECT_EQ(Scan("12.5%").value, 12.5);
  EXPECT_EQ(Scan("5m").value, 300000);
  EXPECT_EQ(Scan("0.5s").value, 500);
  EXPECT_EQ(Scan("512MB").value, 512.0 * 1024 * 1024);
  EXPECT_EQ(Scan("1.5GB").value, 1610612736);
  EXPECT_EQ(Scan("512MB").dimension, lang::Dimension::kSize);
}

TEST(LangLiterals, CompoundDurationsLargestUnitFirst) {
  EXPECT_EQ(Scan("1h30m").value, 5400000);
  EXPECT_EQ(Scan("5m30s").value, 330000);
  EXPECT_EQ(Scan("1m30s500ms").value, 90500);
  EXPECT_EQ(Scan("1d1h").dimension, lang::Dimension::kDuration);

  auto order = Refuse("30m1h");
  EXPECT_EQ(order.kind, lang::LiteralError::kCompound);
  EXPECT_EQ(order.begin, 4u);  // the `h`
  EXPECT_EQ(order.end, 5u);
  EXPECT_EQ(order.message, "`30m1h`: `h` after `m` in a compound duration");
  EXPECT_EQ(Refuse("1m1m").kind, lang::LiteralError::kCompound);
  EXPECT_EQ(Refuse("1GB512MB").kind, lang::LiteralError::kCompound);
  EXPECT_EQ(Refuse("50%5m").kind, lang::LiteralError::kCompound);
}

TEST(LangLiterals, PreciseErrors) {
  auto unit = Refuse("5min");
  EXPECT_EQ(unit.kind, lang::LiteralError::kUnknownUnit);
  EXPECT_EQ(unit.message, "unknown unit `min`");
  EXPECT_EQ(unit.begin, 1u);
  EXPECT_EQ(unit.end, 4u);
  EXPECT_EQ(unit.hint, "durations: ms s m h d; percentages: %; sizes: B KB MB GB TB");

  auto blank = Refuse("5 m");
  EXPECT_EQ(blank.kind, lang::LiteralError::kSyntax);
  EXPECT_EQ(blank.begin, 1u);
  EXPECT_EQ(blank.message, "unexpected a blank after `5`");
  EXPECT_EQ(Refuse("1e5").begin, 2u);
  EXPECT_EQ(Refuse("5.").begin, 1u);
  EXPECT_EQ(Refuse("").message, "expected a number (digits, then an optional unit)");
  EXPECT_EQ(Refuse("-5").begin, 0u);
  EXPECT_EQ(Refuse("99999999999999999999d").kind, lang::LiteralError::kRange);
  EXPECT_EQ(Refuse("104249992d").kind, lang::LiteralError::kRange);  // just over 2^53 ms
  EXPECT_EQ(Scan("104249991d").value, 104249991.0 * 86400000);
}

// The printer writes `5m30s`; before, the compiler refused it (the parser read one number and one
// unit, while the YAML loaders read compounds). Every printed duration now reads back.
TEST(LangLiterals, WhatThePrinterWritesReadsBack) {
  for (double ms : {0.0, 1.0, 250.0, 1500.0, 45000.0, 330000.0, 3600000.0, 5400000.0, 86400000.0, 90061001.0}) {
    std::string text = lang::FormatDuration(ms);
    lang::Quantity q = Scan(text);
    EXPECT_EQ(q.value, ms) << text;
    EXPECT_EQ(q.dimension, lang::Dimension::kDuration) << text;
  }
  for (double bytes : {1.0, 1536.0, 1073741824.0, 3.0 * (1ull << 40)}) EXPECT_EQ(Scan(lang::FormatSize(bytes)).value, bytes);
}

// The compiler reads a compound duration in a runbook, with the same value as the YAML loaders.
TEST(LangLiterals, CompilerAndLoadersAgree) {
  auto source = std::make_shared<Source>("t.rb.denis", R"(runbook r "R" {
  steps {
    verify v "V" {
      $ redis-cli ping
      expect output == "PONG" within 1m30s every 2s500ms
    }
  }
}
)");
  Diagnostics diags;
  ast::File file = Parse(source, diags);
  ASSERT_EQ(diags.errors(), 0u);
  ASSERT_EQ(file.runbooks.size(), 1u);
  const ast::Expect& e = file.runbooks[0].steps[0].items[1].expect;
  ASSERT_TRUE(e.within && e.every);
  EXPECT_EQ(e.within->value, 90000);
  EXPECT_EQ(e.within->unit, ast::Type::kDuration);
  EXPECT_EQ(e.every->value, 2500);
  EXPECT_EQ(rt::ParseDurationMs("1m30s"), 90000);
  std::string error;
  auto v = rt::ParseLiteral("2s500ms", rt::ValueType::kDuration, error);
  ASSERT_TRUE(v) << error;
  EXPECT_EQ(v->number, 2500);
}

TEST(LangLiterals, LoaderErrorsSayWhatIsWrong) {
  std::string error;
  EXPECT_FALSE(rt::ParseLiteral("30m1h", rt::ValueType::kDuration, error));
  EXPECT_EQ(error, "expected a duration such as 5m or 90s, got \"30m1h\": `30m1h`: `h` after `m` in a compound duration");
  EXPECT_FALSE(rt::ParseLiteral("1gb", rt::ValueType::kSize, error));
  EXPECT_EQ(error, "expected a size such as 512MB or 1GB (B, KB, MB, GB, TB), got \"1gb\": unknown unit `gb`");
  EXPECT_FALSE(rt::ParseLiteral("90", rt::ValueType::kDuration, error));
  EXPECT_EQ(error, "expected a duration such as 5m or 90s, got \"90\"");
}

TEST(LangLiterals, Strings) {
  lang::LiteralProblem p;
  EXPECT_EQ(lang::ScanString(R"("a\tb\"c\{\}")", p), std::optional<std::string>("a\tb\"c{}"));
  EXPECT_EQ(lang::ScanString(R"('raw \q')", p), std::optional<std::string>(R"(raw \q)"));
  EXPECT_FALSE(lang::ScanString(R"("a\qb")", p));
  EXPECT_EQ(p.kind, lang::LiteralError::kBadEscape);
  EXPECT_EQ(p.message, "invalid escape `\\q` in string");
  EXPECT_EQ(p.begin, 2u);  // offsets into the literal, quote included
  EXPECT_EQ(p.end, 4u);
  EXPECT_FALSE(lang::ScanString(R"("open)", p));
  EXPECT_EQ(p.kind, lang::LiteralError::kSyntax);
}

}  // namespace
}  // namespace rb
