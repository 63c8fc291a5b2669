// uTP's own error codes, in a "utp" std::error_category so that core/error.hpp (shared by every
// module) need not grow a case per transport condition. They travel in the ordinary starling
// Error, so callers print and compare them like any other failure.
#pragma once

#include <system_error>

#include "core/error.hpp"

namespace starling::utp {

enum class Errc {
  ok = 0,
  // parse_packet
  short_packet,
  bad_version,
  bad_type,
  bad_extension,
  // connection
  connection_reset,  // the peer sent RESET
  timed_out,         // too many retransmission timeouts in a row
  aborted,           // we called abort()
  unreachable,       // the peer cannot be reached (an ICMP error for our packets)
  bad_syn,           // Connection::incoming() given a packet that is not a SYN
};

const std::error_category& error_category() noexcept;
std::error_code make_error_code(Errc e) noexcept;
// An Error carrying a utp code; `offset` as in starling::Error.
Error make_error(Errc e, std::string detail, std::size_t offset = Error::no_offset);

}  // namespace starling::utp

template <>
struct std::is_error_code_enum<starling::utp::Errc> : std::true_type {};
