// torrent-get's fields: each Transmission field name and how it is computed from a
// TorrentView. Integers stay JSON integers (transmission-remote drops a row whose integer
// field arrives as a float or is missing).
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "rpc/model.hpp"
#include "rpc/request.hpp"

namespace starling::rpc {

// The field's value, or nullopt for a field we do not know (left out of the reply, as
// Transmission does). `now` (Unix seconds) is for eta-like fields.
std::optional<Json> torrent_field(const TorrentView& torrent, std::string_view field);

// Every field name torrent_field knows.
const std::vector<std::string_view>& torrent_field_names();

// Seconds until done at the current rate; -1 when unknown, -2 when not applicable (done).
std::int64_t eta_seconds(const TorrentView& torrent);

}  // namespace starling::rpc
