// A .torrent file around an info dictionary fetched from peers (BEP 9): the magnet's trackers
// become announce / announce-list (one tier each), the info bytes are copied unchanged, so the
// file's info-hash is the magnet's.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace starling {

std::string make_torrent_file(std::string_view info_bytes,
                              const std::vector<std::string>& trackers);

}  // namespace starling
