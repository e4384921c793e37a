#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/audit.hpp"
#include "runtime/sha256.hpp"

namespace rb::rt {
namespace {

using nlohmann::json;

// `text` against `shape`: '9' a digit, 'x' a lowercase hex digit, anything else itself.
bool Shaped(const std::string& text, const std::string& shape) {
  if (text.size() != shape.size()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    bool digit = c >= '0' && c <= '9';
    if (shape[i] == '9' ? !digit : shape[i] == 'x' ? !(digit || (c >= 'a' && c <= 'f')) : c != shape[i]) return false;
  }
  return true;
}
constexpr const char* kAtShape = "9999-99-99T99:99:99.999Z";

// A fresh directory for one test, removed after it.
class AuditTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = testing::TempDir() + "/audit_test_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/logs/audit.log";
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  static std::string ReadFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  static void WriteFile(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
  }
  static std::vector<std::string> Lines(const std::string& text) {
    std::vector<std::string> lines;
    std::stringstream ss(text);
    for (std::string line; std::getline(ss, line);) lines.push_back(line);
    return lines;
  }
  static std::string Join(const std::vector<std::string>& lines) {
    std::string text;
    for (const auto& l : lines) text += l + "\n";
    return text;
  }
  static json Rec(const std::string& run, const std::string& kind, int step) {
    return json{{"run", run}, {"kind", kind}, {"step", step}};
  }
  // Appends `n` records through a fresh AuditLog; the written records.
  std::vector<json> AppendN(int n, const std::string& run = "r-1") {
    AuditLog log(path_);
    std::string error;
    EXPECT_TRUE(log.Open(error)) << error;
    std::vector<json> out;
    for (int i = 0; i < n; ++i) {
      json written;
      EXPECT_TRUE(log.Append(Rec(run, "step", i), error, &written)) << error;
      out.push_back(written);
    }
    return out;
  }
  static bool Mentions(const AuditCheck& check, const std::string& word, size_t line = SIZE_MAX) {
    for (const auto& p : check.problems) {
      if ((line == SIZE_MAX || p.line == line) && p.message.find(word) != std::string::npos) return true;
    }
    return false;
  }
  static std::string Problems(const AuditCheck& check) {
    std::string s;
    for (const auto& p : check.problems) s += "[" + std::to_string(p.line) + "] " + p.message + "\n";
    return s;
  }
  // Two processes append `each` records apiece to one log at once (`sync(i)` says how the i-th
  // is written); the log must then verify with every record in it.
  void AppendFromTwoProcesses(int each, AuditSync (*sync)(int)) {
    const std::string& path = path_;
    {
      AuditLog log(path);  // creates the directory, the log and its head before the race
      std::string error;
      ASSERT_TRUE(log.Open(error)) << error;
    }
    std::vector<pid_t> children;
    for (int c = 0; c < 2; ++c) {
      pid_t pid = fork();
      ASSERT_GE(pid, 0);
      if (pid == 0) {
        AuditLog log(path);
        std::string error;
        if (!log.Open(error)) _exit(2);
        for (int i = 0; i < each; ++i) {
          if (!log.Append(Rec("r-child-" + std::to_string(c), "step", i), error, nullptr, sync(i))) _exit(3);
        }
        _exit(0);
      }
      children.push_back(pid);
    }
    for (pid_t pid : children) {
      int status = 0;
      ASSERT_EQ(waitpid(pid, &status, 0), pid);
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    }
    AuditCheck check = VerifyAudit(path);
    EXPECT_TRUE(check.problems.empty()) << Problems(check);
    EXPECT_EQ(check.records, 2u * static_cast<size_t>(each));
  }

  std::string dir_, path_;
};

TEST(Sha256Test, FipsVectors) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(Sha256Hex(std::string(1000000, 'a')), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256Test, IncrementalMatchesOneShot) {
  // Pieces of every size across the 55/56/64-byte padding edges.
  for (size_t n = 0; n < 200; ++n) {
    std::string data;
    for (size_t i = 0; i < n; ++i) data += static_cast<char>('a' + i % 26);
    Sha256 s;
    for (size_t i = 0; i < n; i += 7) s.Update(std::string_view(data).substr(i, 7));
    EXPECT_EQ(s.HexDigest(), Sha256Hex(data)) << n;
  }
  Sha256 a;
  for (int i = 0; i < 1000; ++i) a.Update(std::string(1000, 'a'));
  EXPECT_EQ(a.HexDigest(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  EXPECT_EQ(a.HexDigest(), a.HexDigest());  // the digest does not end the hash
}

TEST_F(AuditTest, AppendsThreeRecordsInOneChain) {
  std::vector<json> written = AppendN(3);
  ASSERT_EQ(written.size(), 3u);
  std::string prev(64, '0');
  for (size_t i = 0; i < 3; ++i) {
    const json& r = written[i];
    EXPECT_EQ(r["seq"], i + 1);
    EXPECT_EQ(r["prev"], prev);
    EXPECT_EQ(r["run"], "r-1");
    EXPECT_EQ(r["kind"], "step");
    EXPECT_EQ(r["step"], static_cast<int>(i));
    EXPECT_TRUE(Shaped(r["at"].get<std::string>(), kAtShape)) << r["at"];
    json without = r;
    without.erase("hash");
    EXPECT_EQ(r["hash"], Sha256Hex(without.dump()));
    prev = r["hash"].get<std::string>();
  }
  // The lines on disk are the records as returned.
  std::vector<std::string> lines = Lines(ReadFile(path_));
  ASSERT_EQ(lines.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(json::parse(lines[i]), written[i]);

  json head = json::parse(ReadFile(path_ + ".head"));
  EXPECT_EQ(head, (json{{"seq", 3}, {"hash", prev}}));

  AuditCheck check = VerifyAudit(path_);
  EXPECT_TRUE(check.problems.empty()) << Problems(check);
  EXPECT_EQ(check.records, 3u);
  EXPECT_EQ(check.last_hash, prev);

  std::vector<json> read;
  std::string error;
  size_t skipped = 99;
  ASSERT_TRUE(ReadAudit(path_, read, error, &skipped)) << error;
  EXPECT_EQ(skipped, 0u);
  EXPECT_EQ(read, written);

  struct stat st;
  ASSERT_EQ(stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0007, 0u);     // never other users'
  EXPECT_EQ(st.st_mode & 0600, 0600u);  // the owner's (and the group's, for a shared bastion)
}

TEST_F(AuditTest, CallerChainFieldsAreReplaced) {
  AuditLog log(path_);
  std::string error;
  ASSERT_TRUE(log.Open(error)) << error;
  json written;
  ASSERT_TRUE(log.Append(json{{"run", "r"}, {"kind", "k"}, {"seq", 99}, {"hash", "x"}, {"prev", 1}}, error, &written));
  EXPECT_EQ(written["seq"], 1);
  EXPECT_EQ(written["prev"], std::string(64, '0'));
  EXPECT_TRUE(VerifyAudit(path_).problems.empty());
}

TEST_F(AuditTest, OddBytesAreWrittenReplacedAndStillVerify) {
  AuditLog log(path_);
  std::string error;
  ASSERT_TRUE(log.Open(error)) << error;
  json written;
  ASSERT_TRUE(log.Append(json{{"run", "r"}, {"kind", "k"}, {"output", std::string("a\xff\xfe b\n")}}, error, &written)) << error;
  EXPECT_EQ(written["output"], "a\xEF\xBF\xBD\xEF\xBF\xBD b\n");
  AuditCheck check = VerifyAudit(path_);
  EXPECT_TRUE(check.problems.empty()) << Problems(check);
}

TEST_F(AuditTest, RefusesRecordsWithoutRunOrKind) {
  AuditLog log(path_);
  std::string error;
  ASSERT_TRUE(log.Open(error)) << error;
  EXPECT_FALSE(log.Append(json::array({1, 2}), error));
  EXPECT_NE(error.find(path_), std::string::npos) << error;
  EXPECT_FALSE(log.Append(json{{"kind", "k"}}, error));
  EXPECT_NE(error.find("\"run\""), std::string::npos) << error;
  EXPECT_FALSE(log.Append(json{{"run", "r"}}, error));
  AuditLog closed(path_);
  EXPECT_FALSE(closed.Append(Rec("r", "k", 0), error));
  EXPECT_NE(error.find("not open"), std::string::npos) << error;
}

TEST_F(AuditTest, ReopenedLogContinuesTheChain) {
  std::vector<json> first = AppendN(3);
  std::vector<json> second = AppendN(1, "r-2");
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0]["seq"], 4);
  EXPECT_EQ(second[0]["prev"], first[2]["hash"]);
  AuditCheck check = VerifyAudit(path_);
  EXPECT_TRUE(check.problems.empty()) << Problems(check);
  EXPECT_EQ(check.records, 4u);
}

TEST_F(AuditTest, RecordsLongerThanOneReadChunkChain) {
  // The last record is read backwards in chunks: one of 300 KiB spans several.
  AuditLog log(path_);
  std::string error;
  ASSERT_TRUE(log.Open(error)) << error;
  json first, second, third;
  ASSERT_TRUE(log.Append(json{{"run", "r"}, {"kind", "k"}, {"output", std::string(300 * 1024, 'x')}}, error, &first));
  ASSERT_TRUE(log.Append(json{{"run", "r"}, {"kind", "k"}, {"output", std::string(70 * 1024, 'y')}}, error, &second));
  ASSERT_TRUE(log.Append(Rec("r", "k", 3), error, &third));
  EXPECT_EQ(second["prev"], first["hash"]);
  EXPECT_EQ(third["prev"], second["hash"]);
  AuditCheck check = VerifyAudit(path_);
  EXPECT_TRUE(check.problems.empty()) << Problems(check);
}

TEST_F(AuditTest, TwoObjectsOnOneFileKeepOneChain) {
  AuditLog a(path_), b(path_);
  std::string error;
  ASSERT_TRUE(a.Open(error)) << error;
  ASSERT_TRUE(b.Open(error)) << error;
  json last;
  for (int i = 0; i < 10; ++i) {
    json written;
    ASSERT_TRUE((i % 2 ? b : a).Append(Rec(i % 2 ? "r-b" : "r-a", "step", i), error, &written)) << error;
    EXPECT_EQ(written["seq"], i + 1);
    if (i > 0) {
      EXPECT_EQ(written["prev"], last["hash"]);
    }
    last = written;
  }
  AuditCheck check = VerifyAudit(path_);
  EXPECT_TRUE(check.problems.empty()) << Problems(check);
  EXPECT_EQ(check.records, 10u);

  std::vector<json> records;
  ASSERT_TRUE(ReadAudit(path_, records, error)) << error;
  std::vector<json> of_b = RunRecords(records, "r-b");
  ASSERT_EQ(of_b.size(), 5u);
  for (size_t i = 0; i < of_b.size(); ++i) EXPECT_EQ(of_b[i]["seq"], 2 * i + 2);
  EXPECT_EQ(RunRecords(records, "").size(), 10u);
  EXPECT_TRUE(RunRecords(records, "r-none").empty());
}

TEST_F(AuditTest, TwoProcessesAppendingConcurrentlyKeepOneChain) {
  constexpr int kEach = 200;
  AppendFromTwoProcesses(kEach, [](int) { return AuditSync::kNow; });
  std::vector<json> records;
  std::string error;
  ASSERT_TRUE(ReadAudit(path_, records, error)) << error;
  EXPECT_EQ(RunRecords(records, "r-child-0").size(), size_t{kEach});
  EXPECT_EQ(RunRecords(records, "r-child-1").size(), size_t{kEach});
}

TEST_F(AuditTest, EditedRecordIsReported) {
  AppendN(3);
  std::vector<std::string> lines = Lines(ReadFile(path_));
  json r = json::parse(lines[1]);
  r["step"] = 42;
  lines[1] = r.dump();
  WriteFile(path_, Join(lines));
  AuditCheck check = VerifyAudit(path_);
  EXPECT_TRUE(Mentions(check, "edited", 2)) << Problems(check);
  EXPECT_EQ(check.problems.size(), 1u) << Problems(check);
  EXPECT_EQ(check.problems[0].message, "record 2 was edited: its hash does not match its content");
}

TEST_F(AuditTest, EditedRecordWithItsHashRecomputedBreaksTheChain) {
  AppendN(3);
  std::vector<std::string> lines = Lines(ReadFile(path_));
  json r = json::parse(lines[1]);
  r["step"] = 42;
  r.erase("hash");
  r["hash"] = Sha256Hex(r.dump());
  lines[1] = r.dump();
  WriteFile(path_, Join(lines));
  AuditCheck check = VerifyAudit(path_);
  EXPECT_TRUE(Mentions(check, "does not chain to record 2", 3)) << Problems(check);
}

TEST_F(AuditTest, DroppedRecordIsReported) {
  AppendN(3);
  std::vector<std::string> lines = Lines(ReadFile(path_));
  lines.erase(lines.begin() + 1);
  WriteFile(path_, Join(lines));
  AuditCheck check = VerifyAudit(path_);
  EXPECT_TRUE(Mentions(check, "dropped", 2)) << Problems(check);
  EXPECT_EQ(check.problems.size(), 1u) << Problems(check);
  EXPECT_EQ(check.problems[0].message, "record 3 follows record 1: record 2 was dropped");
  EXPECT_EQ(check.records, 2u);
}

TEST_F(AuditTest, TornLastRecordIsReportedAndBlocksOpen) {
  AppendN(3);
  std::string text = ReadFile(path_);
  size_t start = text.rfind('\n', text.size() - 2) + 1;
  text.resize(start + (text.size() - start) / 2);
  WriteFile(path_, text);

  AuditCheck check = VerifyAudit(path_);
  EXPECT_TRUE(Mentions(check, "incomplete", 3)) << Problems(check);
  EXPECT_TRUE(Mentions(check, "torn", 3)) << Problems(check);
  EXPECT_EQ(check.records, 2u);

  AuditLog log(path_);
  std::string error;
  EXPECT_FALSE(log.Open(error));
  EXPECT_NE(error.find(path_), std::string::npos) << error;
  EXPECT_NE(error.find("the last record is incomplete (line 3)"), std::string::npos) << error;
  EXPECT_NE(error.find("runbook audit verify"), std::string::npos) << error;
  EXPECT_EQ(ReadFile(path_), text);  // never rewritten

  std::vector<json> records;
  size_t skipped = 0;
  ASSERT_TRUE(ReadAudit(path_, records, error, &skipped)) << error;
  EXPECT_EQ(records.size(), 2u);
  EXPECT_EQ(skipped, 1u);
}

TEST_F(AuditTest, TornRecordAppearingAfterOpenBlocksAppend) {
  AuditLog log(path_);
  std::string error;
  ASSERT_TRUE(log.Open(error)) << error;
  ASSERT_TRUE(log.Append(Rec("r", "k", 1), error)) << error;
  std::ofstream(path_, std::ios::binary | std::ios::app) << "{\"run\":\"other\",\"ki";  // another process died mid-write
  EXPECT_FALSE(log.Append(Rec("r", "k", 2), error));
  EXPECT_NE(error.find("incomplete (line 2)"), std::string::npos) << error;
}

TEST_F(AuditTest, TruncatedTailIsReported) {
  AppendN(3);
  std::vector<std::string> lines = Lines(ReadFile(path_));
  lines.pop_back();
  WriteFile(path_, Join(lines));
  AuditCheck check = VerifyAudit(path_);
  EXPECT_TRUE(Mentions(check, "truncated", 0)) << Problems(check);
  EXPECT_TRUE(Mentions(check, "record 3 is missing at the end", 0)) << Problems(check);
  EXPECT_EQ(check.records, 2u);

  // Appending would hide the loss (the head would move on): refused.
  AuditLog log(path_);
  std::string error;
  EXPECT_FALSE(log.Open(error));
  EXPECT_NE(error.find("truncated"), std::string::npos) << error;
}

TEST_F(AuditTest, SeveralRecordsCutOffAtTheEnd) {
  AppendN(5);
  std::vector<std::string> lines = Lines(ReadFile(path_));
  lines.resize(2);
  WriteFile(path_, Join(lines));
  AuditCheck check = VerifyAudit(path_);
  EXPECT_TRUE(Mentions(check, "records 3..5 are missing at the end: the log was truncated", 0)) << Problems(check);
}

TEST_F(AuditTest, MissingHeadIsReported) {
  AppendN(2);
  ASSERT_EQ(unlink((path_ + ".head").c_str()), 0);
  AuditCheck check = VerifyAudit(path_);
  EXPECT_TRUE(Mentions(check, ".head is missing", 0)) << Problems(check);
  AuditLog log(path_);
  std::string error;
  EXPECT_FALSE(log.Open(error));
  EXPECT_NE(error.find("missing"), std::string::npos) << error;
}

TEST_F(AuditTest, HeadOneBehindAfterACrashIsTolerated) {
  // A crash between a record's fdatasync and its head's rename leaves the head at the record before.
  std::vector<json> written = AppendN(3);
  std::string old_head = json{{"seq", 2}, {"hash", written[1]["hash"]}}.dump() + "\n";
  WriteFile(path_ + ".head", old_head);
  AuditCheck check = VerifyAudit(path_);
  EXPECT_TRUE(check.problems.empty()) << Problems(check);
  std::vector<json> more = AppendN(1);
  EXPECT_EQ(more[0]["seq"], 4);
  EXPECT_TRUE(VerifyAudit(path_).problems.empty());
}

TEST_F(AuditTest, MissingAndEmptyLogs) {
  AuditCheck missing = VerifyAudit(path_);
  ASSERT_EQ(missing.problems.size(), 1u);
  EXPECT_EQ(missing.problems[0].line, 0u);
  EXPECT_EQ(missing.problems[0].message, "no audit log at " + path_);
  std::vector<json> records;
  std::string error;
  EXPECT_FALSE(ReadAudit(path_, records, error));
  EXPECT_NE(error.find(path_), std::string::npos);

  std::filesystem::create_directories(dir_ + "/logs");
  WriteFile(path_, "");
  AuditCheck empty = VerifyAudit(path_);
  EXPECT_TRUE(empty.problems.empty()) << Problems(empty);
  EXPECT_EQ(empty.records, 0u);

  // Open gives a new log a head of record 0; still intact.
  AuditLog log(path_);
  ASSERT_TRUE(log.Open(error)) << error;
  EXPECT_TRUE(VerifyAudit(path_).problems.empty());
  EXPECT_EQ(json::parse(ReadFile(path_ + ".head"))["seq"], 0);
}

TEST_F(AuditTest, NotAJsonLineIsReported) {
  AppendN(3);
  std::vector<std::string> lines = Lines(ReadFile(path_));
  lines[1] = "{\"run\":\"r-1\",\"kind";
  WriteFile(path_, Join(lines));
  AuditCheck check = VerifyAudit(path_);
  EXPECT_TRUE(Mentions(check, "not a JSON record (a torn write?)", 2)) << Problems(check);
  std::vector<json> records;
  std::string error;
  size_t skipped = 0;
  ASSERT_TRUE(ReadAudit(path_, records, error, &skipped));
  EXPECT_EQ(records.size(), 2u);
  EXPECT_EQ(skipped, 1u);
}

TEST_F(AuditTest, OpenFailsNamingThePath) {
  std::filesystem::create_directories(path_);  // a directory where the log should be
  AuditLog log(path_);
  std::string error;
  EXPECT_FALSE(log.Open(error));
  EXPECT_NE(error.find(path_), std::string::npos) << error;
}

// Deferred appends and the head written in place.

// Appends one record of step `step` with `sync` to `log`; the record as written.
json AppendOne(AuditLog& log, int step, AuditSync sync, const std::string& run = "r-1") {
  std::string error;
  json written;
  EXPECT_TRUE(log.Append(json{{"run", run}, {"kind", "step"}, {"step", step}}, error, &written, sync)) << error;
  return written;
}
constexpr AuditSync kNow = AuditSync::kNow;
constexpr AuditSync kDeferred = AuditSync::kDeferred;

TEST_F(AuditTest, DeferredRecordsNameTheLastSyncedRecord) {
  AuditLog log(path_);
  std::string error;
  ASSERT_TRUE(log.Open(error)) << error;
  std::vector<AuditSync> syncs = {kNow, kDeferred, kDeferred, kDeferred, kNow, kDeferred};
  std::vector<json> written;
  for (size_t i = 0; i < syncs.size(); ++i) written.push_back(AppendOne(log, static_cast<int>(i), syncs[i]));
  ASSERT_EQ(written.size(), 6u);
  EXPECT_FALSE(written[0].contains("synced")) << written[0];
  for (size_t i : {1, 2, 3}) EXPECT_EQ(written[i]["synced"], 1) << written[i];
  EXPECT_FALSE(written[4].contains("synced")) << written[4];
  EXPECT_EQ(written[5]["synced"], 5) << written[5];
  for (size_t i = 0; i < written.size(); ++i) {
    EXPECT_EQ(written[i]["seq"], i + 1);
    if (i > 0) {
      EXPECT_EQ(written[i]["prev"], written[i - 1]["hash"]);
    }
    json without = written[i];
    without.erase("hash");
    EXPECT_EQ(written[i]["hash"], Sha256Hex(without.dump())) << "\"synced\" is hashed with the rest";
  }
  std::vector<std::string> lines = Lines(ReadFile(path_));
  ASSERT_EQ(lines.size(), 6u);
  for (size_t i = 0; i < 6; ++i) EXPECT_EQ(json::parse(lines[i]), written[i]);
  AuditCheck check = VerifyAudit(path_);
  EXPECT_TRUE(check.problems.empty()) << Problems(check);
  EXPECT_EQ(check.records, 6u);
  EXPECT_EQ(check.last_hash, written[5]["hash"]);

  // Another object on the file continues the chain after the deferred tail.
  AuditLog again(path_);
  ASSERT_TRUE(again.Open(error)) << error;
  json next = AppendOne(again, 6, kNow);
  EXPECT_EQ(next["seq"], 7);
  EXPECT_EQ(next["prev"], written[5]["hash"]);
  EXPECT_TRUE(VerifyAudit(path_).problems.empty()) << Problems(VerifyAudit(path_));
}

TEST_F(AuditTest, DeferredRecordsOnANewLogNameRecordZero) {
  AuditLog log(path_);
  std::string error;
  ASSERT_TRUE(log.Open(error)) << error;
  json first = AppendOne(log, 0, kDeferred);
  json second = AppendOne(log, 1, kDeferred);
  EXPECT_EQ(first["synced"], 0);
  EXPECT_EQ(second["synced"], 0);
  EXPECT_EQ(json::parse(ReadFile(path_ + ".head")), (json{{"seq", 0}, {"hash", std::string(64, '0')}}));
  EXPECT_TRUE(VerifyAudit(path_).problems.empty()) << Problems(VerifyAudit(path_));
  AuditLog again(path_);
  EXPECT_TRUE(again.Open(error)) << error;
}

TEST_F(AuditTest, HeadStaysOnTheLastSyncedRecord) {
  AuditLog log(path_);
  std::string error;
  ASSERT_TRUE(log.Open(error)) << error;
  json synced = AppendOne(log, 0, kNow);
  AppendOne(log, 1, kDeferred);
  AppendOne(log, 2, kDeferred);
  EXPECT_EQ(json::parse(ReadFile(path_ + ".head")), (json{{"seq", 1}, {"hash", synced["hash"]}}));
  json next = AppendOne(log, 3, kNow);
  EXPECT_EQ(next["seq"], 4);
  EXPECT_EQ(json::parse(ReadFile(path_ + ".head")), (json{{"seq", 4}, {"hash", next["hash"]}}));
}

TEST_F(AuditTest, CuttingOffDeferredRecordsIsNotDetected) {
  AuditLog log(path_);
  std::string error;
  ASSERT_TRUE(log.Open(error)) << error;
  AppendOne(log, 0, kNow);
  json synced = AppendOne(log, 1, kNow);
  for (int i = 2; i < 5; ++i) AppendOne(log, i, kDeferred);
  std::vector<std::string> lines = Lines(ReadFile(path_));
  ASSERT_EQ(lines.size(), 5u);
  // The trade a deferred record makes: cut off after the last synced record, the head cannot tell.
  for (size_t keep : {4, 3, 2}) {
    WriteFile(path_, Join(std::vector<std::string>(lines.begin(), lines.begin() + static_cast<std::ptrdiff_t>(keep))));
    AuditCheck check = VerifyAudit(path_);
    EXPECT_TRUE(check.problems.empty()) << keep << ": " << Problems(check);
    EXPECT_EQ(check.records, keep);
    AuditLog reopened(path_);
    EXPECT_TRUE(reopened.Open(error)) << keep << ": " << error;
  }
  // The log goes on from the synced record.
  AuditLog reopened(path_);
  ASSERT_TRUE(reopened.Open(error)) << error;
  json next = AppendOne(reopened, 9, kNow);
  EXPECT_EQ(next["seq"], 3);
  EXPECT_EQ(next["prev"], synced["hash"]);
  EXPECT_TRUE(VerifyAudit(path_).problems.empty()) << Problems(VerifyAudit(path_));
}

TEST_F(AuditTest, CuttingOffASyncedRecordAfterDeferredOnesIsDetected) {
  AuditLog log(path_);
  std::string error;
  ASSERT_TRUE(log.Open(error)) << error;
  AppendOne(log, 0, kNow);
  AppendOne(log, 1, kDeferred);
  AppendOne(log, 2, kDeferred);
  AppendOne(log, 3, kNow);       // record 4: the head names it
  AppendOne(log, 4, kDeferred);  // record 5
  std::vector<std::string> lines = Lines(ReadFile(path_));
  ASSERT_EQ(lines.size(), 5u);
  lines.resize(3);  // ends with the deferred record 3, before the head's record
  WriteFile(path_, Join(lines));

  AuditCheck check = VerifyAudit(path_);
  EXPECT_TRUE(Mentions(check, "record 4 is missing at the end: the log was truncated", 0)) << Problems(check);
  AuditLog reopened(path_);
  EXPECT_FALSE(reopened.Open(error));
  EXPECT_NE(error.find("truncated"), std::string::npos) << error;
  EXPECT_FALSE(log.Append(Rec("r", "k", 9), error, nullptr, kDeferred));  // a deferred append checks the head too
  EXPECT_NE(error.find("truncated"), std::string::npos) << error;
  EXPECT_EQ(Lines(ReadFile(path_)).size(), 3u);
}

TEST_F(AuditTest, SyncedRecordCutOffBeforeItsHeadAfterDeferredOnesIsTolerated) {
  // A crash between the fdatasync of record 4 and its head leaves the head at record 1, behind
  // the deferred records 2 and 3.
  AuditLog log(path_);
  std::string error;
  ASSERT_TRUE(log.Open(error)) << error;
  json first = AppendOne(log, 0, kNow);
  AppendOne(log, 1, kDeferred);
  AppendOne(log, 2, kDeferred);
  AppendOne(log, 3, kNow);
  WriteFile(path_ + ".head", json{{"seq", 1}, {"hash", first["hash"]}}.dump() + "\n");
  AuditCheck check = VerifyAudit(path_);
  EXPECT_TRUE(check.problems.empty()) << Problems(check);
  AuditLog reopened(path_);
  ASSERT_TRUE(reopened.Open(error)) << error;
  json next = AppendOne(reopened, 4, kNow);
  EXPECT_EQ(next["seq"], 5);
  EXPECT_EQ(json::parse(ReadFile(path_ + ".head"))["seq"], 5);
  EXPECT_TRUE(VerifyAudit(path_).problems.empty()) << Problems(VerifyAudit(path_));
}

TEST_F(AuditTest, DeferredRecordsNamingASyncedRecordOneAfterTheHeadAreTolerated) {
  // Deferred records whose "synced" is the record after the head's: that synced record's head
  // write was cut off before them.
  AuditLog log(path_);
  std::string error;
  ASSERT_TRUE(log.Open(error)) << error;
  json first = AppendOne(log, 0, kNow);
  AppendOne(log, 1, kNow);
  AppendOne(log, 2, kDeferred);
  AppendOne(log, 3, kDeferred);
  WriteFile(path_ + ".head", json{{"seq", 1}, {"hash", first["hash"]}}.dump() + "\n");
  AuditCheck check = VerifyAudit(path_);
  EXPECT_TRUE(check.problems.empty()) << Problems(check);
  AuditLog reopened(path_);
  EXPECT_TRUE(reopened.Open(error)) << error;
  // Two after the head is not.
  WriteFile(path_ + ".head", json{{"seq", 0}, {"hash", std::string(64, '0')}}.dump() + "\n");
  check = VerifyAudit(path_);
  EXPECT_TRUE(Mentions(check, "names record 0, but the log's last record (4) was written when record 2 was the last synced one", 0))
      << Problems(check);
  EXPECT_FALSE(reopened.Open(error));
}

TEST_F(AuditTest, HeadBehindSeveralSyncedRecordsIsReported) {
  AuditLog log(path_);
  std::string error;
  ASSERT_TRUE(log.Open(error)) << error;
  json first = AppendOne(log, 0, kNow);
  AppendOne(log, 1, kNow);
  AppendOne(log, 2, kNow);
  WriteFile(path_ + ".head", json{{"seq", 1}, {"hash", first["hash"]}}.dump() + "\n");
  AuditCheck check = VerifyAudit(path_);
  EXPECT_TRUE(Mentions(check, "names record 1, but the log goes on to record 3", 0)) << Problems(check);
  AuditLog reopened(path_);
  EXPECT_FALSE(reopened.Open(error));
  EXPECT_NE(error.find("records were added without the head"), std::string::npos) << error;
}

TEST_F(AuditTest, DeferredTailAfterAnOlderHeadIsReported) {
  // Record 4 was deferred while the head named record 3; a head naming record 1 was put back since.
  AuditLog log(path_);
  std::string error;
  ASSERT_TRUE(log.Open(error)) << error;
  json first = AppendOne(log, 0, kNow);
  AppendOne(log, 1, kNow);
  AppendOne(log, 2, kNow);
  AppendOne(log, 3, kDeferred);
  WriteFile(path_ + ".head", json{{"seq", 1}, {"hash", first["hash"]}}.dump() + "\n");
  AuditCheck check = VerifyAudit(path_);
  EXPECT_TRUE(Mentions(check, "was written when record 3 was the last synced one", 0)) << Problems(check);
  EXPECT_FALSE(log.Append(Rec("r", "k", 9), error));
  EXPECT_NE(error.find("names record 1"), std::string::npos) << error;
}

TEST_F(AuditTest, HeadNamingAReplacedRecordBehindTheEndIsReported) {
  AuditLog log(path_);
  std::string error;
  ASSERT_TRUE(log.Open(error)) << error;
  AppendOne(log, 0, kNow);
  AppendOne(log, 1, kDeferred);
  AppendOne(log, 2, kDeferred);
  WriteFile(path_ + ".head", json{{"seq", 1}, {"hash", std::string(64, 'a')}}.dump() + "\n");
  AuditCheck check = VerifyAudit(path_);
  EXPECT_TRUE(Mentions(check, "record 1 is not the one", 0)) << Problems(check);
}

TEST_F(AuditTest, EditedSyncedIsReported) {
  AuditLog log(path_);
  std::string error;
  ASSERT_TRUE(log.Open(error)) << error;
  AppendOne(log, 0, kNow);
  AppendOne(log, 1, kNow);
  AppendOne(log, 2, kDeferred);
  AppendOne(log, 3, kDeferred);
  std::vector<std::string> lines = Lines(ReadFile(path_));
  ASSERT_EQ(lines.size(), 4u);

  json r = json::parse(lines[2]);
  ASSERT_EQ(r["synced"], 2);
  r["synced"] = 1;
  std::vector<std::string> edited = lines;
  edited[2] = r.dump();
  WriteFile(path_, Join(edited));
  AuditCheck check = VerifyAudit(path_);
  EXPECT_TRUE(Mentions(check, "record 3 was edited", 3)) << Problems(check);

  // A "synced" naming no earlier record, with the hash made to match: the field itself is reported.
  r["synced"] = 3;
  r.erase("hash");
  r["hash"] = Sha256Hex(r.dump());
  edited[2] = r.dump();
  WriteFile(path_, Join(edited));
  check = VerifyAudit(path_);
  EXPECT_TRUE(Mentions(check, "record 3: its \"synced\" names no earlier record", 3)) << Problems(check);
  EXPECT_FALSE(Mentions(check, "record 3 was edited")) << Problems(check);

  r["synced"] = "2";
  r.erase("hash");
  r["hash"] = Sha256Hex(r.dump());
  edited[2] = r.dump();
  WriteFile(path_, Join(edited));
  check = VerifyAudit(path_);
  EXPECT_TRUE(Mentions(check, "record 3: its \"synced\" names no earlier record", 3)) << Problems(check);
}

TEST_F(AuditTest, DeferredTailWithABadSyncedDoesNotHideATruncation) {
  // A last record claiming "synced" 5 (beyond itself) must not pass for the deferred tail of a head at 5.
  AppendN(5);
  std::vector<std::string> lines = Lines(ReadFile(path_));
  lines.resize(3);
  json r = json::parse(lines[2]);
  r["synced"] = 5;
  r.erase("hash");
  r["hash"] = Sha256Hex(r.dump());
  lines[2] = r.dump();
  WriteFile(path_, Join(lines));
  AuditCheck check = VerifyAudit(path_);
  EXPECT_TRUE(Mentions(check, "records 4..5 are missing at the end", 0)) << Problems(check);
  AuditLog log(path_);
  std::string error;
  EXPECT_FALSE(log.Open(error));
  EXPECT_NE(error.find("truncated"), std::string::npos) << error;
}

TEST_F(AuditTest, HeadIsWrittenInPlaceAt128Bytes) {
  AuditLog log(path_);
  std::string error;
  ASSERT_TRUE(log.Open(error)) << error;
  std::string head_path = path_ + ".head";
  std::string text = ReadFile(head_path);
  EXPECT_EQ(text.size(), 128u);
  struct stat before;
  ASSERT_EQ(stat(head_path.c_str(), &before), 0);
  json last;
  for (int i = 0; i < 3; ++i) last = AppendOne(log, i, kNow);
  text = ReadFile(head_path);
  ASSERT_EQ(text.size(), 128u);
  EXPECT_EQ(text.back(), '\n');
  std::string expected = json{{"seq", 3}, {"hash", last["hash"]}}.dump();
  EXPECT_EQ(text, expected + std::string(127 - expected.size(), ' ') + "\n");
  EXPECT_EQ(json::parse(text), (json{{"seq", 3}, {"hash", last["hash"]}}));
  struct stat after;
  ASSERT_EQ(stat(head_path.c_str(), &after), 0);
  EXPECT_EQ(after.st_ino, before.st_ino) << "overwritten in place, not replaced";
  EXPECT_EQ(after.st_mode & 0007, 0u);
  EXPECT_FALSE(std::filesystem::exists(head_path + ".tmp"));
}

TEST_F(AuditTest, UnpaddedAndLongerHeadsAreReadAndRewrittenTo128Bytes) {
  std::vector<json> written = AppendN(2);
  std::string head_path = path_ + ".head";
  // A head as older versions wrote it.
  WriteFile(head_path, json{{"seq", 2}, {"hash", written[1]["hash"]}}.dump() + "\n");
  AuditCheck check = VerifyAudit(path_);
  EXPECT_TRUE(check.problems.empty()) << Problems(check);
  AuditLog log(path_);
  std::string error;
  ASSERT_TRUE(log.Open(error)) << error;
  json third = AppendOne(log, 2, kNow);
  std::string text = ReadFile(head_path);
  EXPECT_EQ(text.size(), 128u);
  EXPECT_EQ(json::parse(text), (json{{"seq", 3}, {"hash", third["hash"]}}));

  // One longer than 128 bytes is cut to 128 after the write.
  WriteFile(head_path, "{\"seq\": 3,\n \"hash\": \"" + third["hash"].get<std::string>() + "\"}" + std::string(300, ' ') + "\n");
  EXPECT_TRUE(VerifyAudit(path_).problems.empty()) << Problems(VerifyAudit(path_));
  json fourth = AppendOne(log, 3, kNow);
  text = ReadFile(head_path);
  EXPECT_EQ(text.size(), 128u);
  EXPECT_EQ(json::parse(text), (json{{"seq", 4}, {"hash", fourth["hash"]}}));

  // A PATH.head.tmp an older version left is ignored, and left alone.
  WriteFile(head_path + ".tmp", "{\"seq\": 1");
  AuditLog again(path_);
  ASSERT_TRUE(again.Open(error)) << error;
  AppendOne(again, 4, kNow);
  EXPECT_TRUE(VerifyAudit(path_).problems.empty()) << Problems(VerifyAudit(path_));
  EXPECT_EQ(ReadFile(head_path + ".tmp"), "{\"seq\": 1");
}

TEST_F(AuditTest, EmptyHeadFile) {
  // Created and cut off before its first write, under a new log: Open writes it.
  std::filesystem::create_directories(dir_ + "/logs");
  WriteFile(path_, "");
  WriteFile(path_ + ".head", "");
  AuditLog log(path_);
  std::string error;
  ASSERT_TRUE(log.Open(error)) << error;
  EXPECT_EQ(ReadFile(path_ + ".head").size(), 128u);
  EXPECT_EQ(json::parse(ReadFile(path_ + ".head"))["seq"], 0);
  // Under a log with records, it is as good as missing.
  AppendOne(log, 0, kNow);
  WriteFile(path_ + ".head", "");
  AuditCheck check = VerifyAudit(path_);
  EXPECT_TRUE(Mentions(check, ".head is empty", 0)) << Problems(check);
  AuditLog reopened(path_);
  EXPECT_FALSE(reopened.Open(error));
  EXPECT_NE(error.find("empty"), std::string::npos) << error;
}

TEST_F(AuditTest, CallerSyncedIsReplacedOrErased) {
  AuditLog log(path_);
  std::string error;
  ASSERT_TRUE(log.Open(error)) << error;
  json now, deferred;
  ASSERT_TRUE(log.Append(json{{"run", "r"}, {"kind", "k"}, {"synced", 99}}, error, &now)) << error;
  EXPECT_FALSE(now.contains("synced")) << now;
  ASSERT_TRUE(log.Append(json{{"run", "r"}, {"kind", "k"}, {"synced", "x"}}, error, &deferred, kDeferred)) << error;
  EXPECT_EQ(deferred["synced"], 1) << deferred;
  ASSERT_TRUE(log.Append(json{{"run", "r"}, {"kind", "k"}, {"synced", 0}}, error, &now, kNow)) << error;
  EXPECT_FALSE(now.contains("synced")) << now;
  std::vector<std::string> lines = Lines(ReadFile(path_));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_FALSE(json::parse(lines[0]).contains("synced"));
  EXPECT_EQ(json::parse(lines[1])["synced"], 1);
  EXPECT_FALSE(json::parse(lines[2]).contains("synced"));
  EXPECT_TRUE(VerifyAudit(path_).problems.empty()) << Problems(VerifyAudit(path_));
}

TEST_F(AuditTest, TwoProcessesMixingDeferredAndSyncedAppendsKeepOneChain) {
  constexpr int kEach = 200;
  AppendFromTwoProcesses(kEach, [](int i) { return i % 4 == 3 ? kNow : kDeferred; });
  // Every deferred record names the synced record before it; the head the last synced one.
  std::vector<json> records;
  std::string error;
  ASSERT_TRUE(ReadAudit(path_, records, error)) << error;
  uint64_t synced = 0;
  for (const json& r : records) {
    if (r.contains("synced")) {
      EXPECT_EQ(r["synced"], synced) << r;
    } else {
      synced = r["seq"].get<uint64_t>();
    }
  }
  EXPECT_EQ(json::parse(ReadFile(path_ + ".head"))["seq"], synced);
}

TEST(RunIdTest, FormatAndUniqueness) {
  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i) {
    std::string id = NewRunId();
    EXPECT_TRUE(Shaped(id, "r-99999999T999999Z-xxxxxx")) << id;
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 1000u);
}

TEST(AuditTimeTest, Format) {
  std::string now = AuditTimeNow();
  EXPECT_TRUE(Shaped(now, kAtShape)) << now;
  EXPECT_EQ(now.substr(0, 2), "20");
}

}  // namespace
}  // namespace rb::rt
