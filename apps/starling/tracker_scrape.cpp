#include "tracker_scrape.hpp"

#include <boost/asio/io_context.hpp>
#include <memory>

#include "tracker/announcer.hpp"

namespace starling::cli {

std::vector<ScrapeResult> scrape_trackers(const Sha1Digest& info_hash,
                                          const std::vector<std::string>& urls,
                                          std::chrono::milliseconds timeout) {
  boost::asio::io_context io;
  std::vector<ScrapeResult> results(urls.size());
  std::vector<std::shared_ptr<tracker::TrackerOperation>> running;
  tracker::AnnounceSettings settings;
  settings.timeout = timeout;
  for (std::size_t i = 0; i < urls.size(); ++i) {
    results[i].url = urls[i];
    auto url = tracker::parse_tracker_url(urls[i]);
    if (!url) {
      results[i].error = url.error().message();
      continue;
    }
    running.push_back(tracker::start_scrape(
        io, *url, info_hash, settings,
        [&result = results[i], &info_hash](Expected<tracker::ScrapeReply> reply) {
          if (!reply) {
            result.error = reply.error().message();
          } else if (reply->failure_reason) {
            result.error = "tracker refused: " + *reply->failure_reason;
          } else {
            for (const auto& entry : reply->files) {
              if (entry.info_hash == info_hash) result.counts = entry;
            }
            if (!result.counts) result.error = "the tracker does not know this torrent";
          }
        }));
  }
  io.run();  // every operation ends by its deadline
  return results;
}

}  // namespace starling::cli
