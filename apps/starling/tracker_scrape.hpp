// `info --scrape`: asks each tracker (in parallel, bounded in time) how many seeds and leechers
// it knows for one torrent, as transmission-show --scrape does.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "core/digest.hpp"
#include "tracker/scrape.hpp"

namespace starling::cli {

struct ScrapeResult {
  std::string url;
  std::optional<tracker::ScrapeEntry> counts;  // set when the tracker answered
  std::string error;                           // else why not
};

// One result per URL, in the given order.
std::vector<ScrapeResult> scrape_trackers(const Sha1Digest& info_hash,
                                          const std::vector<std::string>& urls,
                                          std::chrono::milliseconds timeout);

}  // namespace starling::cli
