#include "tracker/announcer.hpp"

#include <boost/asio/post.hpp>

namespace starling::tracker {
namespace {

// An announce that fails at once (a scheme we cannot speak), cancellable like the others.
struct RefusedAnnounce : AnnounceOperation {
  bool cancelled = false;
  void cancel() override { cancelled = true; }
};

}  // namespace

std::shared_ptr<AnnounceOperation> start_announce(boost::asio::io_context& io,
                                                  const TrackerUrl& url,
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
  auto op = std::make_shared<RefusedAnnounce>();
  boost::asio::post(io, [op, handler = std::move(handler)]() {
    if (!op->cancelled) {
      handler(Error(Errc::invalid_argument, "https trackers are not supported yet"));
    }
  });
  return op;
}

}  // namespace starling::tracker
