// One announce (or scrape) to one tracker, over HTTP (BEP 3, BEP 48) or UDP (BEP 15), on an
// Asio io_context.
//
// The handler runs exactly once, on the io_context, with the decoded reply (which may carry a
// "failure reason": the tracker answered but refused) or an Error (unreachable, timed out, HTTP
// status, malformed reply; the caller knows the URL) — unless cancel() came first, then it
// never runs.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>

#include "core/expected.hpp"
#include "tracker/announce_reply.hpp"
#include "tracker/announce_request.hpp"
#include "tracker/scrape.hpp"
#include "tracker/tracker_url.hpp"

namespace starling::tracker {

struct AnnounceSettings {
  std::chrono::milliseconds timeout{15000};  // the whole exchange, name lookup included
  // UDP: a request unanswered this long is sent again, the wait doubling each time (BEP 15 says
  // 15 s; on the short overall timeout a faster first retry matters more).
  std::chrono::milliseconds udp_retry{2000};
  std::size_t max_reply_size = 1 << 20;  // HTTP body
  int max_redirects = 3;
  std::string user_agent = "starling";
};

class TrackerOperation {
 public:
  virtual ~TrackerOperation() = default;
  virtual void cancel() = 0;
};

using AnnounceHandler = std::function<void(Expected<AnnounceReply>)>;
using ScrapeHandler = std::function<void(Expected<ScrapeReply>)>;

// `request.key` is sent as is over HTTP; over UDP the first 8 hex digits of it are the key.
// https URLs fail at once (no TLS support yet).
std::shared_ptr<TrackerOperation> start_announce(boost::asio::io_context& io, const TrackerUrl& url,
                                                 const AnnounceRequest& request,
                                                 const AnnounceSettings& settings,
                                                 AnnounceHandler handler);

std::shared_ptr<TrackerOperation> start_http_announce(boost::asio::io_context& io,
                                                      const TrackerUrl& url,
                                                      const AnnounceRequest& request,
                                                      const AnnounceSettings& settings,
                                                      AnnounceHandler handler);
std::shared_ptr<TrackerOperation> start_udp_announce(boost::asio::io_context& io,
                                                     const TrackerUrl& url,
                                                     const AnnounceRequest& request,
                                                     const AnnounceSettings& settings,
                                                     AnnounceHandler handler);

// The scrape of one torrent (BEP 48 for HTTP: the announce URL with its last path component
// "announce..." turned into "scrape...", which a tracker without scrape lacks: then an error).
std::shared_ptr<TrackerOperation> start_scrape(boost::asio::io_context& io, const TrackerUrl& url,
                                               const Sha1Digest& info_hash,
                                               const AnnounceSettings& settings,
                                               ScrapeHandler handler);
std::optional<TrackerUrl> scrape_url(const TrackerUrl& announce);

std::shared_ptr<TrackerOperation> start_http_scrape(boost::asio::io_context& io,
                                                    const TrackerUrl& scrape,
                                                    const Sha1Digest& info_hash,
                                                    const AnnounceSettings& settings,
                                                    ScrapeHandler handler);
std::shared_ptr<TrackerOperation> start_udp_scrape(boost::asio::io_context& io,
                                                   const TrackerUrl& url,
                                                   const Sha1Digest& info_hash,
                                                   const AnnounceSettings& settings,
                                                   ScrapeHandler handler);

}  // namespace starling::tracker
