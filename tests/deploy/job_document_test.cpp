#include "deploy/job_document.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace starling::deploy {
namespace {

JobSpec sample() {
  JobSpec job;
  job.id = "build-42";
  job.torrent = std::string("d4:infod6:lengthi3e4:name1:x12:piece lengthi16384e6:pieces20:") +
                std::string(20, '\x01') + "ee";
  job.dest = "releases/42";
  job.seed_after = 60;
  job.on_done = "touch ok";
  job.peers = {"10.0.0.1:6881"};
  job.issued_at = 1'700'000'000;
  job.nonce = "00112233445566778899aabbccddeeff";
  return job;
}

TEST(JobDocument, RoundTripsWithTheRightSecret) {
  const JobSpec job = sample();
  std::string mac;
  auto decoded = decode_job(encode_job(job, "s3cret"), "s3cret", &mac);
  ASSERT_TRUE(decoded) << decoded.error().message();
  EXPECT_EQ(decoded->id, job.id);
  EXPECT_EQ(decoded->torrent, job.torrent);
  EXPECT_EQ(decoded->dest, job.dest);
  EXPECT_EQ(decoded->seed_after, 60);
  EXPECT_EQ(decoded->on_done, job.on_done);
  EXPECT_EQ(decoded->peers, job.peers);
  EXPECT_EQ(decoded->issued_at, job.issued_at);
  EXPECT_EQ(mac, job_hmac(job, "s3cret"));
}

TEST(JobDocument, WrongSecretIsRefused) {
  auto decoded = decode_job(encode_job(sample(), "s3cret"), "other");
  ASSERT_FALSE(decoded);
  EXPECT_NE(decoded.error().message().find("bad HMAC"), std::string::npos);
}

TEST(JobDocument, EveryAlteredFieldBreaksTheHmac) {
  const std::string doc = encode_job(sample(), "k");
  const nlohmann::json original = nlohmann::json::parse(doc);
  const std::vector<std::pair<std::string, nlohmann::json>> changes = {
      {"id", "build-43"},
      {"dest", "/etc"},
      {"seed_after", 61},
      {"on_done", "rm -rf /"},
      {"peers", nlohmann::json::array({"10.0.0.2:6881"})},
      {"issued_at", 1'700'000'001},
      {"nonce", "ffffffffffffffffffffffffffffffff"},
      {"torrent", base64_encode("d4:infodee")}};
  for (const auto& [key, value] : changes) {
    nlohmann::json j = original;
    j[key] = value;
    auto decoded = decode_job(j.dump(), "k");
    ASSERT_FALSE(decoded) << key;
    EXPECT_NE(decoded.error().message().find("bad HMAC"), std::string::npos) << key;
  }
}

TEST(JobDocument, FieldBoundariesAreUnambiguous) {
  // Moving bytes from one field to the next must change the signed input.
  JobSpec a = sample();
  JobSpec b = sample();
  a.dest = "ab";
  a.on_done = "c";
  b.dest = "a";
  b.on_done = "bc";
  EXPECT_NE(signing_input(a), signing_input(b));
  EXPECT_NE(job_hmac(a, "k"), job_hmac(b, "k"));
}

TEST(JobDocument, MalformedDocumentsGiveClearErrors) {
  EXPECT_FALSE(decode_job("", "k"));
  EXPECT_FALSE(decode_job("[1,2]", "k"));
  EXPECT_FALSE(decode_job("{\"v\":2}", "k"));
  nlohmann::json j = nlohmann::json::parse(encode_job(sample(), "k"));
  j.erase("nonce");
  auto missing = decode_job(j.dump(), "k");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message().find("nonce"), std::string::npos);
  j = nlohmann::json::parse(encode_job(sample(), "k"));
  j["torrent"] = "not base64!";
  auto bad64 = decode_job(j.dump(), "k");
  ASSERT_FALSE(bad64);
  EXPECT_NE(bad64.error().message().find("base64"), std::string::npos);
  j["torrent"] = 5;
  EXPECT_FALSE(decode_job(j.dump(), "k"));
}

TEST(JobDocument, SignedButInvalidIdIsRefused) {
  JobSpec job = sample();
  job.id = "../escape";
  auto decoded = decode_job(encode_job(job, "k"), "k");
  ASSERT_FALSE(decoded);
  EXPECT_NE(decoded.error().message().find("id may hold only"), std::string::npos);
}

TEST(ReplayGuard, RefusesOldFutureAndRepeatedJobs) {
  ReplayGuard guard(300);
  JobSpec job = sample();
  const std::int64_t now = job.issued_at + 10;
  EXPECT_TRUE(guard.check_and_remember(job, now));
  auto again = guard.check_and_remember(job, now);
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().message().find("nonce already used"), std::string::npos);
  job.nonce = random_nonce();
  auto old = guard.check_and_remember(job, job.issued_at + 301);
  ASSERT_FALSE(old);
  EXPECT_NE(old.error().message().find("outside the accepted window"), std::string::npos);
  EXPECT_FALSE(guard.check_and_remember(job, job.issued_at - 301));
  EXPECT_TRUE(guard.check_and_remember(job, job.issued_at + 300));
}

TEST(Base64, RoundTripsAndRejectsJunk) {
  for (const std::string& s :
       std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\0\xff\x10", 3)}) {
    auto back = base64_decode(base64_encode(s));
    ASSERT_TRUE(back) << s;
    EXPECT_EQ(*back, s);
  }
  EXPECT_EQ(base64_encode("abc"), "YWJj");
  EXPECT_EQ(base64_encode("ab"), "YWI=");
  EXPECT_FALSE(base64_decode("YWI"));
  EXPECT_FALSE(base64_decode("Y=Ij"));
  EXPECT_FALSE(base64_decode("YW J"));
}

TEST(Nonce, IsFreshHex) {
  const std::string a = random_nonce();
  EXPECT_EQ(a.size(), 32U);
  EXPECT_NE(a, random_nonce());
}

}  // namespace
}  // namespace starling::deploy
