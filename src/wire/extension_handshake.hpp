// The BEP 10 extension handshake: the bencoded dict sent as extended message 0. Parsing is
// lenient where clients differ (unknown keys, fields of the wrong type, trailing bytes are
// ignored) and strict only where nothing sensible remains (not bencode, not a dict).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/expected.hpp"

namespace starling::wire {

struct ExtensionHandshake {
  // Extension name -> the id the sender wants to receive it under; 0 disables the extension.
  std::map<std::string, std::uint8_t, std::less<>> m;
  std::string v;                              // client name and version
  std::optional<std::uint16_t> p;             // the sender's listen port (1-65535)
  std::optional<int> reqq;                    // requests the sender queues (positive)
  std::optional<std::int64_t> metadata_size;  // BEP 9: info dict bytes (positive)
  std::string yourip;                         // the receiver's address as seen: 4 or 16 raw bytes

  // The id for `name`; nullopt when absent or disabled.
  std::optional<std::uint8_t> id_of(std::string_view name) const;

  friend bool operator==(const ExtensionHandshake&, const ExtensionHandshake&) = default;
};

// `payload` is the extended message's payload after the extension id byte.
// Errc::wire_bad_extension_handshake when it is not bencode or not a dictionary.
Expected<ExtensionHandshake> parse_extension_handshake(std::string_view payload);
// Canonical bencode (sorted keys); "m" is always written, unset fields never.
std::string encode_extension_handshake(const ExtensionHandshake& handshake);

}  // namespace starling::wire
