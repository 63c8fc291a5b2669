// Text encodings of binary data: hex (info-hashes, logs) and RFC 4648 base32 (magnet links).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace starling {

std::string hex_encode(std::string_view raw);                  // lowercase
std::optional<std::string> hex_decode(std::string_view text);  // either case; nullopt if invalid

std::string base32_encode(std::string_view raw);  // uppercase, no padding
// Either case; '=' padding accepted at the end only; nullopt if invalid.
std::optional<std::string> base32_decode(std::string_view text);

}  // namespace starling
