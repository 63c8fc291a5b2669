// Scrape (BEP 48): `GET /scrape?info_hash=..&info_hash=..` and its bencoded `files` reply, in
// both directions (server: parse the query, encode the reply; client: build, decode).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/digest.hpp"
#include "core/expected.hpp"

namespace starling::tracker {

struct ScrapeRequest {
  std::vector<Sha1Digest> info_hashes;  // in the order given, duplicates kept
};

// Parses the query string (after '?'). Every info_hash must be 20 bytes once %-decoded; at least
// one and at most `max_hashes` (more is an error, not a silent cut). Other parameters are ignored.
Expected<ScrapeRequest> parse_scrape_query(std::string_view query, std::size_t max_hashes = 128);
std::string build_scrape_query(const ScrapeRequest& request);

struct ScrapeEntry {
  Sha1Digest info_hash;
  std::int64_t complete = 0;    // seeds
  std::int64_t downloaded = 0;  // completed events seen
  std::int64_t incomplete = 0;  // leechers
  friend bool operator==(const ScrapeEntry&, const ScrapeEntry&) = default;
};

// Appends d5:filesd<hash>d8:completei..e10:downloadedi..e10:incompletei..eee...ee. `entries` is
// sorted by info-hash and de-duplicated in place (dictionary keys must be unique and sorted).
void append_scrape_reply(std::string& out, std::vector<ScrapeEntry>& entries);

struct ScrapeReply {
  std::optional<std::string> failure_reason;
  std::vector<ScrapeEntry> files;
};
Expected<ScrapeReply> decode_scrape_reply(std::string_view body);

}  // namespace starling::tracker
