#include "tracker/scrape.hpp"

#include <algorithm>

#include "bencode/decoder.hpp"
#include "tracker/url_query.hpp"

namespace starling::tracker {
namespace {

void append_int(std::string& out, std::string_view key, std::int64_t value) {
  out += std::to_string(key.size());
  out += ':';
  out += key;
  out += 'i';
  out += std::to_string(value);
  out += 'e';
}

Error bad_reply(std::string detail, std::size_t at = Error::no_offset) {
  return Error(Errc::tracker_bad_reply, std::move(detail), at);
}

}  // namespace

Expected<ScrapeRequest> parse_scrape_query(std::string_view query, std::size_t max_hashes) {
  ScrapeRequest request;
  Error error;
  const bool ok = for_each_query_param(
      query, [&](std::string_view key, std::string_view value, std::size_t at) {
        if (key != "info_hash") return true;
        if (request.info_hashes.size() == max_hashes) {
          error = Error(Errc::tracker_bad_request,
                        "more than " + std::to_string(max_hashes) + " info_hash values", at);
          return false;
        }
        Sha1Digest hash;
        if (percent_decode(value, hash.bytes) != 20) {
          error = Error(Errc::tracker_bad_request, "info_hash must be 20 bytes, %-encoded", at);
          return false;
        }
        request.info_hashes.push_back(hash);
        return true;
      });
  if (!ok) return error;
  if (request.info_hashes.empty()) {
    return Error(Errc::tracker_bad_request, "scrape needs at least one info_hash", query.size());
  }
  return request;
}

std::string build_scrape_query(const ScrapeRequest& request) {
  std::string q;
  for (const auto& hash : request.info_hashes) {
    if (!q.empty()) q += '&';
    q += "info_hash=";
    append_percent_encoded(q, hash.view());
  }
  return q;
}

void append_scrape_reply(std::string& out, std::vector<ScrapeEntry>& entries) {
  std::sort(entries.begin(), entries.end(),
            [](const ScrapeEntry& a, const ScrapeEntry& b) { return a.info_hash < b.info_hash; });
  entries.erase(std::unique(entries.begin(), entries.end(),
                            [](const ScrapeEntry& a, const ScrapeEntry& b) {
                              return a.info_hash == b.info_hash;
                            }),
                entries.end());
  out += "d5:filesd";
  for (const auto& e : entries) {
    out += "20:";
    out += e.info_hash.view();
    out += 'd';
    append_int(out, "complete", e.complete);
    append_int(out, "downloaded", e.downloaded);
    append_int(out, "incomplete", e.incomplete);
    out += 'e';
  }
  out += "ee";
}

Expected<ScrapeReply> decode_scrape_reply(std::string_view body) {
  bencode::DecodeLimits limits;
  limits.require_sorted_keys = false;
  limits.max_elements = 1'000'000;
  auto doc = bencode::decode(body, limits);
  if (!doc) return bad_reply(doc.error().message(), doc.error().offset);
  const bencode::Node root = doc->root();
  if (!root.is_dict()) return bad_reply("reply is not a dictionary", 0);
  ScrapeReply reply;
  if (auto failure = root.find_string("failure reason")) {
    reply.failure_reason = std::string(*failure);
    return reply;
  }
  const auto files = root.find("files");
  if (!files) return bad_reply("no 'files' and no 'failure reason'");
  if (!files->is_dict()) return bad_reply("'files' is not a dictionary", files->offset());
  for (const auto& [key, value] : files->entries()) {
    auto hash = Sha1Digest::from_bytes(key);
    if (!hash) return bad_reply("a 'files' key is not a 20-byte info-hash", value.offset());
    if (!value.is_dict()) return bad_reply("a 'files' value is not a dictionary", value.offset());
    ScrapeEntry e;
    e.info_hash = *hash;
    e.complete = value.find_int("complete").value_or(0);
    e.downloaded = value.find_int("downloaded").value_or(0);
    e.incomplete = value.find_int("incomplete").value_or(0);
    reply.files.push_back(e);
  }
  return reply;
}

}  // namespace starling::tracker
