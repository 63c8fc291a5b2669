#include "tracker/announcer.hpp"

#include <boost/asio/post.hpp>

namespace starling::tracker {
namespace {

struct Refused : TrackerOperation {
  bool cancelled = false;
  void cancel() override { cancelled = true; }
};

// A request that fails at once (a scheme we cannot speak), cancellable like the others.
template <class Handler>
std::shared_ptr<TrackerOperation> refuse(boost::asio::io_context& io, Handler handler,
                                         std::string why) {
  auto op = std::make_shared<Refused>();
  boost::asio::post(io, [op, handler = std::move(handler), why = std::move(why)]() {
    if (!op->cancelled) handler(Error(Errc::invalid_argument, why));
  });
  return op;
}

}  // namespace

std::shared_ptr<TrackerOperation> start_announce(boost::asio::io_context& io, const TrackerUrl& url,
                                                 const AnnounceRequest& request,
                                                 const AnnounceSettings& settings,
                                                 AnnounceHandler handler) {
  switch (url.scheme) {
    case TrackerScheme::udp:
      return start_udp_announce(io, url, request, settings, std::move(handler));
    case TrackerScheme::http:
      return start_http_announce(io, url, request, settings, std::move(handler));
    case TrackerScheme::https:
      break;
  }
  return refuse(io, std::move(handler), "https trackers are not supported yet");
}

std::optional<TrackerUrl> scrape_url(const TrackerUrl& announce) {
  if (announce.scheme == TrackerScheme::udp) return announce;
  const std::size_t path_end = announce.target.find('?');
  const std::string_view path = std::string_view(announce.target).substr(0, path_end);
  const std::size_t last = path.rfind('/');
  if (last == std::string_view::npos || path.substr(last + 1).rfind("announce", 0) != 0) {
    return std::nullopt;
  }
  TrackerUrl scrape = announce;
  scrape.target.replace(last + 1, 8, "scrape");
  scrape.text.clear();  // the announce URL's text no longer describes it
  return scrape;
}

std::shared_ptr<TrackerOperation> start_scrape(boost::asio::io_context& io, const TrackerUrl& url,
                                               const Sha1Digest& info_hash,
                                               const AnnounceSettings& settings,
                                               ScrapeHandler handler) {
  if (url.scheme == TrackerScheme::https) {
    return refuse(io, std::move(handler), "https trackers are not supported yet");
  }
  if (url.scheme == TrackerScheme::udp) {
    return start_udp_scrape(io, url, info_hash, settings, std::move(handler));
  }
  auto scrape = scrape_url(url);
  if (!scrape) return refuse(io, std::move(handler), "this tracker's URL has no scrape form");
  return start_http_scrape(io, *scrape, info_hash, settings, std::move(handler));
}

}  // namespace starling::tracker
