// Splits the byte stream of a persistent HTTP/1.1 connection into replies to range requests,
// sans-IO: feed it what the socket gave, it says how much it used, which part is body and when a
// reply ends. The header is parsed by Boost.Beast's parser; the body of a range reply has a
// Content-Length (chunked replies are refused: no server sends them for a file range).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/expected.hpp"

namespace starling::webseed {

// "Content-Range: bytes FIRST-LAST/TOTAL" (TOTAL may be "*": -1).
struct ContentRange {
  std::int64_t first = 0;
  std::int64_t last = 0;
  std::int64_t total = -1;
  friend bool operator==(const ContentRange&, const ContentRange&) = default;
};
std::optional<ContentRange> parse_content_range(std::string_view value);

struct ReplyHeader {
  int status = 0;
  std::int64_t content_length = -1;  // -1: none given
  std::optional<ContentRange> range;
  std::string location;  // for redirects
  bool keep_alive = true;
};

class ReplyReader {
 public:
  struct Step {
    std::size_t consumed = 0;  // bytes of the input used; the rest belongs to the next reply
    std::string_view body;     // body bytes inside the consumed input
    bool header_done = false;  // the header completed during this step
    bool reply_done = false;   // the whole reply has been read: call reset() for the next one
  };

  explicit ReplyReader(std::size_t max_header_bytes = std::size_t{16} * 1024)
      : max_header_bytes_(max_header_bytes) {}

  // Reads as far as the end of the current reply. An error means the stream cannot be trusted
  // any more (close the connection).
  Expected<Step> feed(std::string_view input);
  void reset();  // ready for the next reply on the same connection

  bool has_header() const { return header_.has_value(); }
  const ReplyHeader& header() const { return *header_; }
  std::int64_t body_remaining() const { return body_remaining_; }

 private:
  Expected<std::size_t> parse_header(std::string_view input, bool& done);

  std::size_t max_header_bytes_;
  std::string pending_;  // header bytes so far
  std::optional<ReplyHeader> header_;
  std::int64_t body_remaining_ = 0;
};

}  // namespace starling::webseed
