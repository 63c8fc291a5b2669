// The head of one HTTP/1.x request, parsed in place (sans-IO): the server only needs the
// request line and whether the connection stays open. Bounded: a head longer than `max_head`
// bytes is an error, so a client cannot make the server buffer without end.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "core/expected.hpp"

namespace starling::tracker {

struct HttpRequestHead {
  std::string_view method;
  std::string_view target;  // "/announce?..."
  bool keep_alive = true;   // HTTP/1.1 unless "Connection: close"; 1.0 only with "keep-alive"
  std::size_t content_length = 0;
  std::size_t head_size = 0;  // bytes up to and including the blank line
};

// Parses the request at the start of `buffer`. nullopt: the head is not complete yet (and is
// still under max_head). Error: malformed, a body framed by Transfer-Encoding, or too long.
Expected<std::optional<HttpRequestHead>> parse_http_request_head(std::string_view buffer,
                                                                 std::size_t max_head = 8192);

}  // namespace starling::tracker
