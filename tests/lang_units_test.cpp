// The units table and the one quantity printer (lang/units.hpp), and that every path prints through it.
#include <gtest/gtest.h>

#include "lang/units.hpp"
#include "runtime/executor.hpp"
#include "runtime/value.hpp"

namespace rb {
namespace {

TEST(LangUnits, DurationsPrintLargestUnitFirst) {
  EXPECT_EQ(lang::FormatDuration(0), "0s");
  EXPECT_EQ(lang::FormatDuration(330000), "5m30s");
  EXPECT_EQ(lang::FormatDuration(86400000), "1d");
  EXPECT_EQ(lang::FormatDuration(90000000), "1d1h");
  EXPECT_EQ(lang::FormatDuration(1500), "1s500ms");
  EXPECT_EQ(lang::FormatDuration(250), "250ms");
  EXPECT_EQ(lang::FormatDuration(-90000), "-1m30s");
  EXPECT_EQ(lang::FormatDuration(0.5), "0.5ms");
}

// Drift: 330000 ms printed as `5m30s` in traces (FormatMs) and `330s` in values, plans and the
// disassembler (ToString). Both now go through lang::FormatDuration.
TEST(LangUnits, OneDurationPrinterOnEveryPath) {
  for (double ms : {0.0, 330000.0, 3600000.0, 5400000.0, 86400000.0, 1500.0, 45000.0}) {
    std::string value = rt::ToString(rt::Value::Number(rt::ValueType::kDuration, ms));
    EXPECT_EQ(value, rt::FormatMs(static_cast<int64_t>(ms))) << ms;
    EXPECT_EQ(value, lang::FormatDuration(ms)) << ms;
  }
}

TEST(LangUnits, SizesAndPercents) {
  EXPECT_EQ(lang::FormatSize(1073741824.0), "1GB");
  EXPECT_EQ(lang::FormatSize(1536), "1.5KB");
  EXPECT_EQ(lang::FormatSize(1000), "1000B");
  // A measured size that is no whole number of a unit: the largest unit, two decimals (as pages read).
  EXPECT_EQ(lang::FormatSize(22906492245.7), "21.33GB");
  EXPECT_EQ(lang::FormatSize(512 * 1024.0), "512KB");
  EXPECT_EQ(rt::ToString(rt::Value::Number(rt::ValueType::kSize, 1048576)), "1MB");
  EXPECT_EQ(rt::ToString(rt::Value::Number(rt::ValueType::kPercent, 80)), "80%");
  EXPECT_EQ(lang::FormatNumber(0.25), "0.25");
}

TEST(LangUnits, TableLookups) {
  ASSERT_NE(lang::FindUnit("m"), nullptr);
  EXPECT_EQ(lang::FindUnit("m")->scale, 60000u);
  EXPECT_EQ(lang::FindUnit("KB")->dimension, lang::Dimension::kSize);
  EXPECT_EQ(lang::FindUnit("kb"), nullptr);
  EXPECT_EQ(lang::SuffixList(lang::Dimension::kDuration), "ms s m h d");
  EXPECT_EQ(lang::SuffixList(lang::Dimension::kSize), "B KB MB GB TB");
}

}  // namespace
}  // namespace rb
