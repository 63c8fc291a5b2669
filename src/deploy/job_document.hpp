// The job a deploy sends to an agent: the .torrent, where to put it, how long to seed, what to
// run afterwards. It travels as JSON and carries an HMAC-SHA256 made with the fleet's shared
// secret over every field, plus a time stamp and a random nonce, so an agent runs only jobs its
// operator signed, and a captured job cannot be played again later (ReplayGuard). Sans-IO.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/expected.hpp"

namespace starling::deploy {

struct JobSpec {
  std::string id;                  // [A-Za-z0-9_.-]{1,64}: names the job in URLs and files
  std::string torrent;             // the .torrent bytes
  std::string dest;                // directory relative to the agent's --root
  std::int64_t seed_after = 0;     // seconds to keep seeding once verified
  std::string on_done;             // shell command run in `dest` after verification; may be empty
  std::vector<std::string> peers;  // HOST:PORT peers to dial besides the trackers (the origin)
  std::int64_t issued_at = 0;      // unix seconds when signed
  std::string nonce;               // random, hex; unique per signed document
};

// Checks the id's alphabet and length (it becomes a file name and a URL path segment).
Status check_job_id(std::string_view id);

// The bytes the HMAC covers: every field, length-prefixed, in a fixed order.
std::string signing_input(const JobSpec& job);
// Lowercase hex HMAC-SHA256 of signing_input(job) under `secret`.
std::string job_hmac(const JobSpec& job, std::string_view secret);

// The JSON document with its "hmac" (fills in nothing: set issued_at and nonce first).
std::string encode_job(const JobSpec& job, std::string_view secret);

// A fresh random nonce (16 bytes from OpenSSL's generator, as hex).
std::string random_nonce();

// Parses and authenticates a document: well-formed JSON with every field of the right type and
// size, and an HMAC that matches (compared in constant time). Freshness is the ReplayGuard's.
// `hmac_out` receives the document's HMAC (an agent compares it to spot a resubmission).
Expected<JobSpec> decode_job(std::string_view document, std::string_view secret,
                             std::string* hmac_out = nullptr);

// Refuses a job signed too long ago (or in the future) and a nonce seen before within that
// window; nonces older than the window are forgotten, as their jobs are refused by age anyway.
class ReplayGuard {
 public:
  explicit ReplayGuard(std::int64_t window_seconds = 300) : window_(window_seconds) {}
  Status check_and_remember(const JobSpec& job, std::int64_t now_unix);
  std::int64_t window() const { return window_; }

 private:
  std::int64_t window_;
  std::map<std::string, std::int64_t> seen_;  // nonce -> issued_at
};

std::string base64_encode(std::string_view raw);
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace starling::deploy
