// torrent-add's `filename` as a URL: the .torrent is fetched over plain http (there is no TLS
// client here; https is refused with a message that says so) with a deadline and a size cap,
// following a few redirects. Asio glue around http::fetch; network thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "core/expected.hpp"

namespace starling::rpc {

struct TorrentUrlSettings {
  std::chrono::milliseconds timeout{15'000};  // for the whole fetch, redirects included
  std::size_t max_bytes = std::size_t{16} << 20;
  int max_redirects = 3;
};

// "http://..." or "https://..." (any case): what torrent-add hands to fetch_torrent_url.
bool is_torrent_url(std::string_view filename);

// Calls `done` exactly once, on the io_context's thread, with the body of a 200 reply or an
// error naming the URL and what went wrong (refused, timed out, HTTP status, too large).
void fetch_torrent_url(boost::asio::io_context& io, const std::string& url,
                       std::function<void(Expected<std::string>)> done,
                       TorrentUrlSettings settings = {});

}  // namespace starling::rpc
