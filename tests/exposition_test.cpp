// The Prometheus text exposition parser: samples, labels and escapes, special values, timestamps,
// histograms and summaries, selectors, and errors that name the line and column.
#include "runtime/exposition.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <string>

namespace rb::test {
namespace {

using rt::Describe;
using rt::Exposition;
using rt::ExpositionError;
using rt::ParseExposition;
using rt::SumMatching;

Exposition MustParse(std::string_view text) {
  ExpositionError err;
  std::optional<Exposition> e = ParseExposition(text, err);
  EXPECT_TRUE(e.has_value()) << Describe(err);
  return e.value_or(Exposition{});
}

ExpositionError MustFail(std::string_view text) {
  ExpositionError err;
  std::optional<Exposition> e = ParseExposition(text, err);
  EXPECT_FALSE(e.has_value()) << "accepted: " << text.substr(0, 200);
  return err;
}

const rt::Family* FindFamily(const Exposition& e, std::string_view name) {
  for (const rt::Family& f : e.families) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

TEST(Exposition, PlainSamples) {
  Exposition e = MustParse("up 1\nprocess_open_fds 12\n");
  ASSERT_EQ(e.samples.size(), 2u);
  EXPECT_EQ(e.samples[0].name, "up");
  EXPECT_TRUE(e.samples[0].labels.empty());
  EXPECT_EQ(e.samples[0].value, 1);
  EXPECT_FALSE(e.samples[0].timestamp_ms.has_value());
  EXPECT_EQ(e.samples[1].name, "process_open_fds");
  EXPECT_EQ(e.samples[1].value, 12);
  ASSERT_EQ(e.families.size(), 2u);
  EXPECT_EQ(e.families[0].name, "up");
  EXPECT_EQ(e.families[0].type, "untyped");
}

TEST(Exposition, LabelsInWrittenOrderWithEscapes) {
  Exposition e = MustParse(
      "http_requests_total{method=\"post\",path=\"C:\\\\dir\",msg=\"say \\\"hi\\\"\\nbye\",} 1027\n"
      "  x { a = \"1\" ,\tb=\"\" }\t 2  \n"
      "y{} 3\n");
  ASSERT_EQ(e.samples.size(), 3u);
  const rt::Sample& s = e.samples[0];
  ASSERT_EQ(s.labels.size(), 3u);
  EXPECT_EQ(s.labels[0], (std::pair<std::string, std::string>{"method", "post"}));
  EXPECT_EQ(s.labels[1].second, "C:\\dir");
  EXPECT_EQ(s.labels[2].first, "msg");
  EXPECT_EQ(s.labels[2].second, "say \"hi\"\nbye");
  EXPECT_EQ(s.value, 1027);
  ASSERT_EQ(e.samples[1].labels.size(), 2u);
  EXPECT_EQ(e.samples[1].labels[1], (std::pair<std::string, std::string>{"b", ""}));
  EXPECT_EQ(e.samples[1].value, 2);
  EXPECT_TRUE(e.samples[2].labels.empty());
}

TEST(Exposition, RawBytesInLabelValuesPassThrough) {
  std::string text = std::string("m{v=\"a") + '\0' + "\xff\xfe{}\"} 1\n";
  Exposition e = MustParse(text);
  ASSERT_EQ(e.samples.size(), 1u);
  EXPECT_EQ(e.samples[0].labels[0].second, std::string("a") + '\0' + "\xff\xfe{}");
}

TEST(Exposition, SpecialValuesAndFloats) {
  Exposition e = MustParse("a NaN\nb +Inf\nc -Inf\nd inf\ne -1.5e3\nf .5\ng 1E-2\nh +7\ni nan\nj Infinity\nk 1e-400\n");
  ASSERT_EQ(e.samples.size(), 11u);
  EXPECT_TRUE(std::isnan(e.samples[0].value));
  EXPECT_TRUE(std::isinf(e.samples[1].value) && e.samples[1].value > 0);
  EXPECT_TRUE(std::isinf(e.samples[2].value) && e.samples[2].value < 0);
  EXPECT_TRUE(std::isinf(e.samples[3].value) && e.samples[3].value > 0);
  EXPECT_EQ(e.samples[4].value, -1500);
  EXPECT_EQ(e.samples[5].value, 0.5);
  EXPECT_DOUBLE_EQ(e.samples[6].value, 0.01);
  EXPECT_EQ(e.samples[7].value, 7);
  EXPECT_TRUE(std::isnan(e.samples[8].value));
  EXPECT_TRUE(std::isinf(e.samples[9].value));
  EXPECT_EQ(e.samples[10].value, 0);
}

TEST(Exposition, BadValuesAreErrors) {
  for (const char* v : {"1.2.3", "0x10", "1e", "e5", "--1", "+NaN", "infx", "1_000", "1e400", "."}) {
    ExpositionError err = MustFail(std::string("m ") + v + "\n");
    EXPECT_EQ(err.line, 1) << v;
    EXPECT_EQ(err.column, 3) << v;
  }
}

TEST(Exposition, Timestamps) {
  Exposition e = MustParse("a 1 1395066363000\nb{x=\"y\"} 2 -5\nc 3\t9223372036854775807 \n");
  ASSERT_EQ(e.samples.size(), 3u);
  EXPECT_EQ(e.samples[0].timestamp_ms, 1395066363000);
  EXPECT_EQ(e.samples[1].timestamp_ms, -5);
  EXPECT_EQ(e.samples[2].timestamp_ms, INT64_MAX);
  ExpositionError err = MustFail("a 1 9223372036854775808\n");
  EXPECT_NE(err.message.find("out of range"), std::string::npos) << err.message;
  err = MustFail("a 1 1.5\n");
  EXPECT_EQ(err.column, 5);
  EXPECT_NE(err.message.find("timestamp"), std::string::npos) << err.message;
}

TEST(Exposition, LineEndings) {
  Exposition e = MustParse("# TYPE a gauge\r\na 1\r\n\r\n   \t \nb 2");
  ASSERT_EQ(e.samples.size(), 2u);
  EXPECT_EQ(e.samples[0].value, 1);
  EXPECT_EQ(e.samples[1].name, "b");
  EXPECT_EQ(e.samples[1].value, 2);
  EXPECT_EQ(FindFamily(e, "a")->type, "gauge");
  EXPECT_TRUE(MustParse("").samples.empty());
}

TEST(Exposition, HistogramWithHelpAndType) {
  Exposition e = MustParse(
      "# HELP rpc_seconds RPC latency, in seconds \\\\ with a \\n newline.\n"
      "# TYPE rpc_seconds histogram\n"
      "rpc_seconds_bucket{method=\"get\",le=\"0.05\"} 24054\n"
      "rpc_seconds_bucket{method=\"get\",le=\"0.1\"} 33444\n"
      "rpc_seconds_bucket{method=\"get\",le=\"+Inf\"} 144320\n"
      "rpc_seconds_sum{method=\"get\"} 53423\n"
      "rpc_seconds_count{method=\"get\"} 144320\n"
      "# A plain comment\n"
      "#\n");
  ASSERT_EQ(e.samples.size(), 5u);
  ASSERT_EQ(e.families.size(), 1u);
  EXPECT_EQ(e.families[0].name, "rpc_seconds");
  EXPECT_EQ(e.families[0].type, "histogram");
  EXPECT_EQ(e.families[0].help, "RPC latency, in seconds \\ with a \n newline.");
  EXPECT_EQ(e.samples[2].labels[1].second, "+Inf");
  EXPECT_EQ(e.samples[4].name, "rpc_seconds_count");
  std::string why;
  EXPECT_EQ(SumMatching(e, "rpc_seconds_count", why), 144320) << why;
}

TEST(Exposition, SummaryWithHelpAndType) {
  Exposition e = MustParse(
      "# TYPE gc_seconds summary\n"
      "# HELP gc_seconds GC pauses.\n"
      "gc_seconds{quantile=\"0.5\"} 0.002\n"
      "gc_seconds{quantile=\"0.99\"} 0.05\n"
      "gc_seconds_sum 1.5\n"
      "gc_seconds_count 700\n");
  ASSERT_EQ(e.samples.size(), 4u);
  ASSERT_EQ(e.families.size(), 1u);
  EXPECT_EQ(e.families[0].type, "summary");
  EXPECT_EQ(e.families[0].help, "GC pauses.");
  std::string why;
  EXPECT_EQ(SumMatching(e, "gc_seconds{quantile=\"0.99\"}", why), 0.05) << why;
}

TEST(Exposition, HistogramAndSummaryValidation) {
  ExpositionError err = MustFail("# TYPE h histogram\nh_bucket{x=\"1\"} 1\n");
  EXPECT_EQ(err.line, 2);
  EXPECT_NE(err.message.find("`le`"), std::string::npos) << err.message;
  err = MustFail("# TYPE h histogram\nh_bucket{le=\"fast\"} 1\n");
  EXPECT_EQ(err.line, 2);
  EXPECT_NE(err.message.find("must be a number"), std::string::npos) << err.message;
  err = MustFail("# TYPE s summary\ns_sum 1\ns 2\n");
  EXPECT_EQ(err.line, 3);
  EXPECT_NE(err.message.find("`quantile`"), std::string::npos) << err.message;
  err = MustFail("# TYPE h histogram\nh 2\n");
  EXPECT_EQ(err.line, 2);
  // Without a TYPE line, `_bucket` samples are an untyped family of their own.
  Exposition e = MustParse("h_bucket{x=\"1\"} 1\n");
  ASSERT_NE(FindFamily(e, "h_bucket"), nullptr);
  EXPECT_EQ(FindFamily(e, "h_bucket")->type, "untyped");
}

TEST(Exposition, TypeLineErrors) {
  ExpositionError err = MustFail("up 1\n# TYPE a counter\n# TYPE b gaugee\n");
  EXPECT_EQ(err.line, 3);
  EXPECT_EQ(err.column, 10);
  EXPECT_NE(err.message.find("unknown metric type \"gaugee\""), std::string::npos) << err.message;
  err = MustFail("# TYPE a counter\n# TYPE a gauge\n");
  EXPECT_EQ(err.line, 2);
  EXPECT_NE(err.message.find("second `# TYPE`"), std::string::npos) << err.message;
  err = MustFail("a 1\n# TYPE a counter\n");
  EXPECT_EQ(err.line, 2);
  EXPECT_NE(err.message.find("comes after samples"), std::string::npos) << err.message;
  err = MustFail("h_sum 1\n# TYPE h histogram\n");
  EXPECT_EQ(err.line, 2);
  err = MustFail("# TYPE a counter extra\n");
  EXPECT_EQ(err.column, 18);
  err = MustFail("# TYPE\n");
  EXPECT_EQ(err.line, 1);
  err = MustFail("# HELP a one\n# HELP a two\n");
  EXPECT_EQ(err.line, 2);
}

TEST(Exposition, GarbageOnLine3) {
  ExpositionError err = MustFail("# TYPE up gauge\nup 1\nhello\n");
  EXPECT_EQ(err.line, 3);
  EXPECT_EQ(err.column, 6);
  EXPECT_EQ(err.message, "expected a value after the metric name `hello`, got end of line");
  err = MustFail("a 1\nb 2\nfoo hello\n");
  EXPECT_EQ(err.line, 3);
  EXPECT_EQ(err.column, 5);
  EXPECT_EQ(
      Describe(err),
      "not a Prometheus exposition at line 3, column 5: expected a value after the metric name `foo`, got \"hello\"");
}

TEST(Exposition, ValueMissing) {
  ExpositionError err = MustFail("a 1\nb{x=\"y\"}\n");
  EXPECT_EQ(err.line, 2);
  EXPECT_EQ(err.column, 9);
  EXPECT_NE(err.message.find("expected a value"), std::string::npos) << err.message;
}

TEST(Exposition, BadEscape) {
  ExpositionError err = MustFail("a 1\nb{path=\"C:\\temp\"} 1\n");
  EXPECT_EQ(err.line, 2);
  EXPECT_EQ(err.column, 11);
  EXPECT_NE(err.message.find("invalid escape \"\\\\t\""), std::string::npos) << err.message;
}

TEST(Exposition, DuplicateLabel) {
  ExpositionError err = MustFail("\n\nm{a=\"1\",b=\"2\",a=\"3\"} 1\n");
  EXPECT_EQ(err.line, 3);
  EXPECT_EQ(err.column, 15);
  EXPECT_NE(err.message.find("duplicate label `a`"), std::string::npos) << err.message;
}

TEST(Exposition, TrailingJunk) {
  ExpositionError err = MustFail("a 1\nb 1 1000 extra\n");
  EXPECT_EQ(err.line, 2);
  EXPECT_EQ(err.column, 10);
  EXPECT_NE(err.message.find("\"extra\""), std::string::npos) << err.message;
}

TEST(Exposition, MalformedLabelSets) {
  struct Case {
    const char* text;
    int column;
  };
  for (Case c : {Case{"m{a=\"1\" 1\n", 9}, Case{"m{a=\"1\n", 5}, Case{"m{a=1} 1\n", 5}, Case{"m{,} 1\n", 3},
                 Case{"m{a\"1\"} 1\n", 4}, Case{"m{9a=\"1\"} 1\n", 3}, Case{"m{a=\"1\",,} 1\n", 9},
                 Case{"m{__name__=\"x\"} 1\n", 3}, Case{"m-x 1\n", 2}, Case{"m{a=\"\\", 5}}) {
    ExpositionError err = MustFail(c.text);
    EXPECT_EQ(err.line, 1) << c.text;
    EXPECT_EQ(err.column, c.column) << c.text << ": " << err.message;
  }
}

TEST(Exposition, HtmlAndJsonAreRejected) {
  ExpositionError err = MustFail("<!DOCTYPE html>\n<html><body>502 Bad Gateway</body></html>\n");
  EXPECT_EQ(err.line, 1);
  EXPECT_EQ(err.column, 1);
  EXPECT_NE(err.message.find("expected a metric name"), std::string::npos) << err.message;
  EXPECT_NE(err.message.find("HTML"), std::string::npos) << err.message;
  err = MustFail("{\"status\": \"ok\", \"up\": 1}\n");
  EXPECT_EQ(err.line, 1);
  EXPECT_NE(err.message.find("JSON"), std::string::npos) << err.message;
}

TEST(Exposition, HugeLineIsLinearAndSafe) {
  std::string line = "m{";
  for (int i = 0; i < 200000; ++i) line += "l" + std::to_string(i) + "=\"v\",";
  line += "} 1\n";
  line += std::string(10 * 1024 * 1024, '{') + "\n";
  auto t0 = std::chrono::steady_clock::now();
  ExpositionError err = MustFail(line);
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(err.line, 2);
  EXPECT_LT(s, 20.0);
  std::string value(10 * 1024 * 1024, 'x');
  Exposition e = MustParse("big{v=\"" + value + "\"} 1\n");
  ASSERT_EQ(e.samples.size(), 1u);
  EXPECT_EQ(e.samples[0].labels[0].second.size(), value.size());
  std::string why;
  // Regex matchers are linear in the value (lang/regex.hpp): a 10 MB label value is matched, not refused.
  EXPECT_EQ(SumMatching(e, "big{v=~\"x*\"}", why), 1) << why;
  EXPECT_FALSE(SumMatching(e, "big{v=~\"x*y\"}", why).has_value());
  EXPECT_EQ(SumMatching(e, "big{v!=\"y\"}", why), 1) << why;
}

TEST(Exposition, NulBytesOutsideLabelValuesAreErrors) {
  ExpositionError err = MustFail(std::string("a 1\nb\0 1\n", 9));
  EXPECT_EQ(err.line, 2);
  EXPECT_EQ(err.column, 2);
}

// Random lines over the format's own alphabet: each either parses or fails with a position inside the text.
TEST(Exposition, RandomInputNeverCrashes) {
  static constexpr char kAlphabet[] = "ab_:{}=\",\\ \t\n\r#0123456789.eE+-InfNa\x00\xff<";
  const std::string alphabet(kAlphabet, sizeof kAlphabet - 1);  // with its NUL byte
  uint32_t seed = 12345;
  int failures = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string text;
    size_t len = 1 + round % 60;
    for (size_t i = 0; i < len; ++i) {
      seed = seed * 1103515245u + 12345u;
      text += alphabet[(seed >> 16) % alphabet.size()];
    }
    ExpositionError err;
    if (!ParseExposition(text, err)) {
      ++failures;
      ASSERT_GE(err.line, 1) << text;
      ASSERT_GE(err.column, 1) << text;
      ASSERT_FALSE(err.message.empty()) << text;
    }
  }
  EXPECT_GT(failures, 0);
}

class SumMatchingTest : public ::testing::Test {
 protected:
  Exposition e = MustParse(
      "# TYPE http_requests_total counter\n"
      "http_requests_total{method=\"get\",code=\"200\"} 10\n"
      "http_requests_total{method=\"get\",code=\"500\"} 3\n"
      "http_requests_total{method=\"post\",code=\"200\"} 5\n"
      "http_requests_total{method=\"post\",code=\"503\"} 2\n"
      "http_requests_total{code=\"404\"} 1\n"
      "other 100\n");
  std::string why;
};

TEST_F(SumMatchingTest, NameOnly) {
  EXPECT_EQ(SumMatching(e, "http_requests_total", why), 21) << why;
  EXPECT_EQ(SumMatching(e, "  other  ", why), 100) << why;
}

TEST_F(SumMatchingTest, Equal) {
  EXPECT_EQ(SumMatching(e, "http_requests_total{method=\"get\"}", why), 13) << why;
  EXPECT_EQ(SumMatching(e, "http_requests_total{method=\"get\", code='500',}", why), 3) << why;
}

TEST_F(SumMatchingTest, NotEqual) {
  // A missing label matches as "", so the sample without `method` counts.
  EXPECT_EQ(SumMatching(e, "http_requests_total{method!=\"get\"}", why), 8) << why;
}

TEST_F(SumMatchingTest, RegexIsAnchored) {
  EXPECT_EQ(SumMatching(e, "http_requests_total{code=~\"5..\"}", why), 5) << why;
  EXPECT_EQ(SumMatching(e, "http_requests_total{code=~\"5\"}", why), std::nullopt);
  EXPECT_EQ(SumMatching(e, "http_requests_total{code=~\"2.*|404\"}", why), 16) << why;
}

TEST_F(SumMatchingTest, NotRegex) {
  EXPECT_EQ(SumMatching(e, "http_requests_total{code!~\"5..\",method=~\"get|post\"}", why), 15) << why;
}

TEST_F(SumMatchingTest, RegexOnTheLongestAllowedValue) {
  Exposition big = MustParse("m{v=\"" + std::string(1024, 'a') + "\"} 4\n");
  EXPECT_EQ(SumMatching(big, "m{v=~\"((a|b)|(c))*x?\"}", why), 4) << why;
}

TEST_F(SumMatchingTest, NoMatch) {
  EXPECT_FALSE(SumMatching(e, "http_requests_total{method=\"put\"}", why).has_value());
  EXPECT_EQ(why.rfind("no sample of `http_requests_total{method=\"put\"}` in the exposition", 0), 0u) << why;
  EXPECT_FALSE(SumMatching(e, "missing_total", why).has_value());
  EXPECT_EQ(why, "no sample of `missing_total` in the exposition");
}

TEST_F(SumMatchingTest, BadSelector) {
  for (const char* sel : {"", "{code=\"200\"}", "x{code=\"200\"", "x{code}", "x{code=200}", "x{code=~\"(\"}",
                          "x{code=\"a\"} junk", "x y", "x{code==\"a\"}"}) {
    EXPECT_FALSE(SumMatching(e, sel, why).has_value()) << sel;
    EXPECT_EQ(why.rfind("bad selector", 0), 0u) << sel << ": " << why;
  }
}

}  // namespace
}  // namespace rb::test
