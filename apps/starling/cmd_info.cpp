// starling info TORRENT_OR_MAGNET [--json] [--scrape]
#include <fmt/chrono.h>
#include <fmt/format.h>

#include <ctime>
#include <nlohmann/json.hpp>

#include "cli_common.hpp"
#include "metainfo/magnet.hpp"
#include "metainfo/torrent_info.hpp"
#include "tracker_scrape.hpp"

namespace starling::cli {
namespace {

using Json = nlohmann::ordered_json;  // keys in the order CLI.md lists them

struct InfoArgs {
  std::string source;
  bool json = false;
  bool scrape = false;
  double scrape_timeout = 10;  // seconds
};

using Scrapes = std::optional<std::vector<ScrapeResult>>;

Json scrape_json(const std::vector<ScrapeResult>& results) {
  Json out = Json::array();
  for (const auto& r : results) {
    if (r.counts) {
      out.push_back({{"url", r.url},
                     {"complete", r.counts->complete},
                     {"incomplete", r.counts->incomplete},
                     {"downloaded", r.counts->downloaded}});
    } else {
      out.push_back({{"url", r.url}, {"error", r.error}});
    }
  }
  return out;
}

void print_scrapes(const std::vector<ScrapeResult>& results) {
  for (std::size_t i = 0; i < results.size(); ++i) {
    const auto& r = results[i];
    const std::string what =
        r.counts ? fmt::format("{} seeds, {} leechers, {} downloaded", r.counts->complete,
                               r.counts->incomplete, r.counts->downloaded)
                 : r.error;
    fmt::print("{:<13}{}: {}\n", i == 0 ? "scrape:" : "", r.url, what);
  }
  if (results.empty()) fmt::print("scrape:      no trackers to ask\n");
}

// Exit code after a scrape: the info was shown, but if every tracker failed the work did too.
int scrape_status(const Scrapes& scrapes) {
  if (!scrapes || scrapes->empty()) return kSuccess;
  for (const auto& r : *scrapes) {
    if (r.counts) return kSuccess;
  }
  return kFailed;
}

// Torrent names are bytes, not always UTF-8: replace what is not, rather than fail.
void print_json(Json j, const Scrapes& scrapes) {
  if (scrapes) j["scrape"] = scrape_json(*scrapes);
  fmt::print("{}\n", j.dump(-1, ' ', false, Json::error_handler_t::replace));
}

Json tiers_json(const std::vector<std::vector<std::string>>& tiers) {
  Json out = Json::array();
  for (const auto& tier : tiers) out.push_back(tier);
  return out;
}

Magnet magnet_of(const TorrentInfo& t) {
  Magnet m;
  m.info_hash = t.info_hash;
  m.display_name = t.name;
  for (const auto& tier : t.trackers) m.trackers.insert(m.trackers.end(), tier.begin(), tier.end());
  m.web_seeds = t.web_seeds;
  return m;
}

int show_torrent(const TorrentInfo& t, bool json, const Scrapes& scrapes) {
  if (json) {
    Json files = Json::array();
    for (const auto& f : t.layout.files()) {
      files.push_back({{"path", f.path_string()}, {"size", f.size}});
    }
    print_json({{"name", t.name},
                {"info_hash", t.info_hash.hex()},
                {"piece_length", t.piece_length()},
                {"num_pieces", t.num_pieces()},
                {"total_size", t.total_size()},
                {"private", t.is_private},
                {"files", files},
                {"trackers", tiers_json(t.trackers)},
                {"web_seeds", t.web_seeds},
                {"comment", t.comment},
                {"created_by", t.created_by},
                {"creation_date", t.creation_date ? Json(*t.creation_date) : Json(nullptr)},
                {"magnet", format_magnet(magnet_of(t))}},
               scrapes);
    return scrape_status(scrapes);
  }
  fmt::print("name:        {}\n", t.name);
  fmt::print("info hash:   {}\n", t.info_hash.hex());
  fmt::print("size:        {} ({} bytes)\n", human_size(t.total_size()), t.total_size());
  fmt::print("pieces:      {} x {}\n", t.num_pieces(), human_size(t.piece_length()));
  fmt::print("private:     {}\n", t.is_private ? "yes" : "no");
  if (!t.created_by.empty()) fmt::print("created by:  {}\n", t.created_by);
  if (t.creation_date) {
    const std::time_t when = static_cast<std::time_t>(*t.creation_date);
    std::tm utc{};
    if (::gmtime_r(&when, &utc) != nullptr) {
      fmt::print("created on:  {:%Y-%m-%d %H:%M:%S} UTC\n", utc);
    }
  }
  if (!t.comment.empty()) fmt::print("comment:     {}\n", t.comment);
  for (std::size_t i = 0; i < t.trackers.size(); ++i) {
    fmt::print("{:<13}tier {}: {}\n", i == 0 ? "trackers:" : "", i + 1,
               fmt::join(t.trackers[i], " "));
  }
  for (std::size_t i = 0; i < t.web_seeds.size(); ++i) {
    fmt::print("{:<13}{}\n", i == 0 ? "web seeds:" : "", t.web_seeds[i]);
  }
  fmt::print("magnet:      {}\n", format_magnet(magnet_of(t)));
  fmt::print("files ({}):\n", t.layout.files().size());
  const auto& files = t.layout.files();
  for (std::size_t i = 0; i < files.size(); ++i) {
    fmt::print("  {:>4}  {:>10}  {}{}\n", i, human_size(files[i].size), files[i].path_string(),
               files[i].pad ? "  (padding)" : "");
  }
  if (scrapes) print_scrapes(*scrapes);
  return scrape_status(scrapes);
}

int show_magnet(const Magnet& m, bool json, const Scrapes& scrapes) {
  std::vector<std::vector<std::string>> tiers;
  for (const auto& url : m.trackers) tiers.push_back({url});
  if (json) {
    print_json({{"name", m.display_name},
                {"info_hash", m.info_hash.hex()},
                {"piece_length", nullptr},
                {"num_pieces", nullptr},
                {"total_size", nullptr},
                {"private", false},
                {"files", Json::array()},
                {"trackers", tiers_json(tiers)},
                {"web_seeds", m.web_seeds},
                {"peers", m.peers},
                {"magnet", format_magnet(m)}},
               scrapes);
    return scrape_status(scrapes);
  }
  fmt::print("name:        {}\n", m.display_name.empty() ? "(unknown)" : m.display_name);
  fmt::print("info hash:   {}\n", m.info_hash.hex());
  fmt::print("metadata:    not in a magnet link: fetched from peers when downloading\n");
  for (std::size_t i = 0; i < m.trackers.size(); ++i) {
    fmt::print("{:<13}{}\n", i == 0 ? "trackers:" : "", m.trackers[i]);
  }
  for (std::size_t i = 0; i < m.web_seeds.size(); ++i) {
    fmt::print("{:<13}{}\n", i == 0 ? "web seeds:" : "", m.web_seeds[i]);
  }
  for (std::size_t i = 0; i < m.peers.size(); ++i) {
    fmt::print("{:<13}{}\n", i == 0 ? "peers:" : "", m.peers[i]);
  }
  if (scrapes) print_scrapes(*scrapes);
  return scrape_status(scrapes);
}

Scrapes scrape_if_asked(const InfoArgs& args, const Sha1Digest& info_hash,
                        const std::vector<std::string>& urls) {
  if (!args.scrape) return std::nullopt;
  return scrape_trackers(info_hash, urls,
                         std::chrono::milliseconds(static_cast<long>(args.scrape_timeout * 1000)));
}

int run_info(const InfoArgs& args) {
  if (args.source.rfind("magnet:", 0) == 0 || args.source.rfind("MAGNET:", 0) == 0) {
    auto magnet = parse_magnet(args.source);
    if (!magnet) return report("info", "magnet link", magnet.error(), kBadInput);
    return show_magnet(*magnet, args.json,
                       scrape_if_asked(args, magnet->info_hash, magnet->trackers));
  }
  if (auto hash = Sha1Digest::from_hex(args.source)) {
    Magnet m;
    m.info_hash = *hash;
    return show_magnet(m, args.json, scrape_if_asked(args, m.info_hash, {}));
  }
  auto torrent = load_torrent(args.source);
  if (!torrent) return report("info", args.source, torrent.error(), kBadInput);
  std::vector<std::string> urls;
  for (const auto& tier : torrent->trackers) urls.insert(urls.end(), tier.begin(), tier.end());
  return show_torrent(*torrent, args.json, scrape_if_asked(args, torrent->info_hash, urls));
}

}  // namespace

Runner add_info_command(CLI::App& app) {
  auto args = std::make_shared<InfoArgs>();
  auto* cmd = app.add_subcommand("info", "Show what a .torrent, magnet link or info-hash holds");
  cmd->add_option("TORRENT_OR_MAGNET", args->source,
                  "A .torrent file, a magnet URI or a 40-hex info-hash")
      ->required();
  cmd->add_flag("--json", args->json, "Print one JSON object instead of text");
  cmd->add_flag("--scrape", args->scrape,
                "Also ask every tracker for its seed and leecher counts (BEP 48 / BEP 15); "
                "exit 1 if none answers");
  cmd->add_option("--scrape-timeout", args->scrape_timeout,
                  "Seconds to wait for the trackers (default 10)")
      ->check(CLI::Range(0.1, 300.0));
  return [cmd, args] { return cmd->parsed() ? run_info(*args) : -1; };
}

}  // namespace starling::cli
