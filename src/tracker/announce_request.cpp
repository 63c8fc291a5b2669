#include "tracker/announce_request.hpp"

#include <charconv>
#include <limits>

#include "tracker/url_query.hpp"

namespace starling::tracker {
namespace {

Error bad(std::string detail, std::size_t at) {
  return Error(Errc::tracker_bad_request, std::move(detail), at);
}

// Unsigned decimal. Above INT64_MAX: false, or INT64_MAX when `saturate`.
bool parse_unsigned(std::string_view text, std::int64_t& out, bool saturate = false) {
  if (text.empty()) return false;
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  std::int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    const int digit = c - '0';
    if (value > (kMax - digit) / 10) {
      if (!saturate) return false;
      value = kMax;
    } else {
      value = value * 10 + digit;
    }
  }
  out = value;
  return true;
}

template <std::size_t N>
bool decode_fixed(std::string_view text, std::array<std::uint8_t, N>& out) {
  return percent_decode(text, out) == static_cast<std::ptrdiff_t>(N);
}

// Short text values are %-decoded too; anything not decodable or longer than 64 bytes is refused.
bool decode_text(std::string_view text, std::string& out) {
  std::array<std::uint8_t, 64> buffer{};
  const std::ptrdiff_t n = percent_decode(text, buffer);
  if (n < 0) return false;
  out.assign(reinterpret_cast<const char*>(buffer.data()), static_cast<std::size_t>(n));
  return true;
}

}  // namespace

std::string_view event_name(AnnounceEvent event) {
  switch (event) {
    case AnnounceEvent::none:
      return "";
    case AnnounceEvent::completed:
      return "completed";
    case AnnounceEvent::started:
      return "started";
    case AnnounceEvent::stopped:
      return "stopped";
  }
  return "";
}

Expected<AnnounceRequest> parse_announce_query(std::string_view query) {
  AnnounceRequest r;
  bool have_hash = false;
  bool have_id = false;
  bool have_port = false;
  Error error;
  bool failed = false;
  auto fail = [&](std::string detail, std::size_t at) {
    error = bad(std::move(detail), at);
    failed = true;
    return false;
  };
  for_each_query_param(query, [&](std::string_view key, std::string_view value, std::size_t at) {
    std::int64_t number = 0;
    if (key == "info_hash") {
      if (!decode_fixed(value, r.info_hash.bytes)) {
        return fail("info_hash must be 20 bytes, %-encoded", at);
      }
      have_hash = true;
    } else if (key == "peer_id") {
      if (!decode_fixed(value, r.peer_id)) return fail("peer_id must be 20 bytes, %-encoded", at);
      have_id = true;
    } else if (key == "port") {
      if (!parse_unsigned(value, number) || number < 1 || number > 65535) {
        return fail("port must be a number from 1 to 65535", at);
      }
      r.port = static_cast<std::uint16_t>(number);
      have_port = true;
    } else if (key == "uploaded" || key == "downloaded" || key == "left") {
      if (!parse_unsigned(value, number)) {
        return fail(std::string(key) + " must be an unsigned number", at);
      }
      (key == "uploaded" ? r.uploaded : key == "downloaded" ? r.downloaded : r.left) = number;
    } else if (key == "event") {
      if (value == "started") {
        r.event = AnnounceEvent::started;
      } else if (value == "completed") {
        r.event = AnnounceEvent::completed;
      } else if (value == "stopped") {
        r.event = AnnounceEvent::stopped;
      } else if (value.empty() || value == "empty" || value == "paused") {
        r.event = AnnounceEvent::none;  // "paused" (BEP 21) is a regular announce here
      } else {
        return fail("unknown event", at);
      }
    } else if (key == "numwant" || key == "num_want") {
      if (!parse_unsigned(value, number, true))
        return fail("numwant must be an unsigned number", at);
      r.numwant = static_cast<std::int32_t>(
          std::min<std::int64_t>(number, std::numeric_limits<std::int32_t>::max()));
    } else if (key == "compact") {
      r.compact = value != "0";
    } else if (key == "no_peer_id") {
      r.no_peer_id = value != "0";
    } else if (key == "key") {
      if (!decode_text(value, r.key)) return fail("key is not a short %-encoded value", at);
    } else if (key == "ip") {
      if (!decode_text(value, r.ip)) return fail("ip is not a short %-encoded value", at);
    } else if (key == "ipv6") {
      if (!decode_text(value, r.ipv6)) return fail("ipv6 is not a short %-encoded value", at);
    }
    return true;
  });
  if (failed) return error;
  if (!have_hash) return bad("missing info_hash", query.size());
  if (!have_id) return bad("missing peer_id", query.size());
  if (!have_port) return bad("missing port", query.size());
  return r;
}

std::string build_announce_query(const AnnounceRequest& request) {
  std::string q;
  q.reserve(200);
  q += "info_hash=";
  append_percent_encoded(q, request.info_hash.view());
  q += "&peer_id=";
  append_percent_encoded(
      q, std::string_view(reinterpret_cast<const char*>(request.peer_id.data()), 20));
  q += "&port=" + std::to_string(request.port);
  q += "&uploaded=" + std::to_string(request.uploaded);
  q += "&downloaded=" + std::to_string(request.downloaded);
  if (request.left >= 0) q += "&left=" + std::to_string(request.left);
  if (request.event != AnnounceEvent::none) {
    q += "&event=";
    q += event_name(request.event);
  }
  if (request.numwant >= 0) q += "&numwant=" + std::to_string(request.numwant);
  q += request.compact ? "&compact=1" : "&compact=0";
  if (request.no_peer_id) q += "&no_peer_id=1";
  if (!request.key.empty()) {
    q += "&key=";
    append_percent_encoded(q, request.key);
  }
  if (!request.ip.empty()) {
    q += "&ip=";
    append_percent_encoded(q, request.ip);
  }
  if (!request.ipv6.empty()) {
    q += "&ipv6=";
    append_percent_encoded(q, request.ipv6);
  }
  return q;
}

}  // namespace starling::tracker
