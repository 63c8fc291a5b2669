// Magnet links (BEP 9): the info-hash plus optional name, trackers, web seeds and peers.
//
// Only v1 links are understood: the info-hash must come from an xt=urn:btih: parameter, written
// as 40 hex digits (either case) or 32 base32 characters (either case). A link that carries only
// a v2 urn:btmh: hash is rejected.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/digest.hpp"
#include "core/expected.hpp"

namespace starling {

struct Magnet {
  Sha1Digest info_hash;                // xt=urn:btih:
  std::string display_name;            // dn
  std::vector<std::string> trackers;   // tr, in order of appearance, duplicates removed
  std::vector<std::string> web_seeds;  // ws
  std::vector<std::string> peers;      // x.pe, "host:port" or "[v6]:port" as given

  friend bool operator==(const Magnet&, const Magnet&) = default;
};

// Parses "magnet:?key=value&key=value...". The scheme is case-insensitive, and so are the keys;
// numbered keys such as xt.1 or tr.2 count as xt and tr. Values are percent-decoded ('+' means a
// space only in dn). The first urn:btih xt wins; the first dn wins; empty tr, ws and x.pe values
// and unknown keys are ignored. Errors are Errc::magnet_bad_uri with a detail naming the bad
// parameter and, where there is one, its byte offset in the URI.
Expected<Magnet> parse_magnet(std::string_view uri);

// "magnet:?xt=urn:btih:<lowercase hex>&dn=...&tr=...&ws=...&x.pe=...", percent-encoding every
// byte except A-Z a-z 0-9 - . _ ~ (and ':' '/' in tr and ws). dn is left out when empty, and so
// are empty tr, ws and x.pe values. For any Magnet that parse_magnet returns,
// parse_magnet(format_magnet(m)) == m.
std::string format_magnet(const Magnet& m);

}  // namespace starling
