// Base64 (RFC 4648, standard alphabet): torrent-add's `metainfo` and torrent-get's `pieces`.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace starling::rpc {

std::string base64_encode(std::string_view raw);  // padded with '='
// Accepts padded or unpadded input and ignores ASCII whitespace (clients wrap long lines);
// nullopt on any other byte outside the alphabet or a malformed tail.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace starling::rpc
