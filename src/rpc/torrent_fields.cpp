#include "rpc/torrent_fields.hpp"

#include <functional>
#include <map>

#include "rpc/base64.hpp"

namespace starling::rpc {
namespace {

using Getter = std::function<Json(const TorrentView&)>;

double percent_done(const TorrentView& t) {
  if (t.size_when_done <= 0) return t.metadata_complete ? 1.0 : 0.0;
  return static_cast<double>(t.size_when_done - t.left_until_done) /
         static_cast<double>(t.size_when_done);
}

double upload_ratio(const TorrentView& t) {
  // Transmission: -1 "not available" when nothing was downloaded or verified yet.
  const std::int64_t base = std::max(t.downloaded_ever, t.have_valid);
  if (base <= 0) return -1.0;
  return static_cast<double>(t.uploaded_ever) / static_cast<double>(base);
}

bool running(const TorrentView& t) {
  return t.state != TorrentState::stopped;
}

Json files_json(const TorrentView& t) {
  Json list = Json::array();
  for (const auto& f : t.files) {
    list.push_back({{"bytesCompleted", f.bytes_completed}, {"length", f.length}, {"name", f.name}});
  }
  return list;
}

Json file_stats_json(const TorrentView& t) {
  Json list = Json::array();
  for (const auto& f : t.files) {
    list.push_back(
        {{"bytesCompleted", f.bytes_completed}, {"wanted", f.wanted}, {"priority", f.priority}});
  }
  return list;
}

Json trackers_json(const TorrentView& t) {
  Json list = Json::array();
  for (const auto& tr : t.trackers) {
    list.push_back({{"announce", tr.announce},
                    {"id", tr.id},
                    {"scrape", tr.scrape},
                    {"sitename", tr.host},
                    {"tier", tr.tier}});
  }
  return list;
}

Json tracker_stats_json(const TorrentView& t) {
  Json list = Json::array();
  for (const auto& tr : t.trackers) {
    // announceState: 0 inactive, 1 waiting, 2 queued, 3 active.
    list.push_back({{"announce", tr.announce},
                    {"announceState", running(t) ? 1 : 0},
                    {"downloadCount", -1},
                    {"hasAnnounced", tr.last_announce_time > 0},
                    {"hasScraped", false},
                    {"host", tr.host},
                    {"id", tr.id},
                    {"isBackup", false},
                    {"lastAnnouncePeerCount", tr.last_announce_peer_count},
                    {"lastAnnounceResult", tr.last_announce_result},
                    {"lastAnnounceStartTime", tr.last_announce_time},
                    {"lastAnnounceSucceeded", tr.last_announce_succeeded},
                    {"lastAnnounceTime", tr.last_announce_time},
                    {"lastAnnounceTimedOut", false},
                    {"lastScrapeResult", ""},
                    {"lastScrapeStartTime", 0},
                    {"lastScrapeSucceeded", false},
                    {"lastScrapeTime", 0},
                    {"lastScrapeTimedOut", false},
                    {"leecherCount", tr.leecher_count},
                    {"nextAnnounceTime", tr.next_announce_time},
                    {"nextScrapeTime", 0},
                    {"scrape", tr.scrape},
                    {"scrapeState", 0},
                    {"seederCount", tr.seeder_count},
                    {"sitename", tr.host},
                    {"tier", tr.tier}});
  }
  return list;
}

Json peers_json(const TorrentView& t) {
  Json list = Json::array();
  for (const auto& p : t.peers) {
    std::string flags;
    if (p.downloading_from) flags += 'D';
    if (p.uploading_to) flags += 'U';
    if (p.utp) flags += 'T';
    if (p.incoming) flags += 'I';
    list.push_back({{"address", p.address},
                    {"clientIsChoked", !p.uploading_to},
                    {"clientIsInterested", p.downloading_from},
                    {"clientName", p.client_name},
                    {"flagStr", flags},
                    {"isDownloadingFrom", p.downloading_from},
                    {"isEncrypted", false},
                    {"isIncoming", p.incoming},
                    {"isUTP", p.utp},
                    {"isUploadingTo", p.uploading_to},
                    {"peerIsChoked", !p.uploading_to},
                    {"peerIsInterested", p.uploading_to},
                    {"port", p.port},
                    {"progress", p.progress},
                    {"rateToClient", p.rate_to_client},
                    {"rateToPeer", p.rate_to_peer}});
  }
  return list;
}

const std::map<std::string_view, Getter>& getters() {
  static const std::map<std::string_view, Getter> table = {
      {"activityDate", [](const TorrentView& t) { return Json(t.activity_date); }},
      {"addedDate", [](const TorrentView& t) { return Json(t.added_date); }},
      {"bandwidthPriority", [](const TorrentView&) { return Json(0); }},
      {"comment", [](const TorrentView& t) { return Json(t.comment); }},
      {"corruptEver", [](const TorrentView& t) { return Json(t.corrupt_ever); }},
      {"creator", [](const TorrentView& t) { return Json(t.creator); }},
      {"dateCreated", [](const TorrentView& t) { return Json(t.date_created); }},
      {"desiredAvailable", [](const TorrentView& t) { return Json(t.left_until_done); }},
      {"doneDate", [](const TorrentView& t) { return Json(t.done_date); }},
      {"downloadDir", [](const TorrentView& t) { return Json(t.download_dir); }},
      {"downloadedEver", [](const TorrentView& t) { return Json(t.downloaded_ever); }},
      {"downloadLimit", [](const TorrentView& t) { return Json(t.download_limit); }},
      {"downloadLimited", [](const TorrentView& t) { return Json(t.download_limited); }},
      {"editDate", [](const TorrentView&) { return Json(0); }},
      {"error", [](const TorrentView& t) { return Json(t.error); }},
      {"errorString", [](const TorrentView& t) { return Json(t.error_string); }},
      {"eta", [](const TorrentView& t) { return Json(eta_seconds(t)); }},
      {"etaIdle", [](const TorrentView&) { return Json(-1); }},
      {"file-count", [](const TorrentView& t) { return Json(t.files.size()); }},
      {"files", files_json},
      {"fileStats", file_stats_json},
      {"hashString", [](const TorrentView& t) { return Json(t.hash); }},
      {"haveUnchecked", [](const TorrentView&) { return Json(0); }},
      {"haveValid", [](const TorrentView& t) { return Json(t.have_valid); }},
      {"honorsSessionLimits", [](const TorrentView& t) { return Json(t.honors_session_limits); }},
      {"id", [](const TorrentView& t) { return Json(t.id); }},
      // Transmission: stopped because it reached its seeding goal. We seed until told to stop.
      {"isFinished", [](const TorrentView&) { return Json(false); }},
      {"isPrivate", [](const TorrentView& t) { return Json(t.is_private); }},
      {"isStalled",
       [](const TorrentView& t) {
         return Json(running(t) && t.rate_download == 0 && t.rate_upload == 0 &&
                     t.peers_connected == 0);
       }},
      {"labels", [](const TorrentView&) { return Json::array(); }},
      {"leftUntilDone", [](const TorrentView& t) { return Json(t.left_until_done); }},
      {"magnetLink", [](const TorrentView& t) { return Json(t.magnet_link); }},
      {"manualAnnounceTime", [](const TorrentView&) { return Json(-1); }},
      {"maxConnectedPeers", [](const TorrentView&) { return Json(50); }},
      {"metadataPercentComplete",
       [](const TorrentView& t) { return Json(t.metadata_complete ? 1.0 : 0.0); }},
      {"name", [](const TorrentView& t) { return Json(t.name); }},
      {"peer-limit", [](const TorrentView&) { return Json(50); }},
      {"peers", peers_json},
      {"peersConnected", [](const TorrentView& t) { return Json(t.peers_connected); }},
      {"peersFrom",
       [](const TorrentView& t) {
         return Json({{"fromCache", 0},
                      {"fromDht", 0},
                      {"fromIncoming", 0},
                      {"fromLpd", 0},
                      {"fromLtep", 0},
                      {"fromPex", 0},
                      {"fromTracker", t.peers_connected}});
       }},
      {"peersGettingFromUs", [](const TorrentView& t) { return Json(t.peers_getting_from_us); }},
      {"peersSendingToUs", [](const TorrentView& t) { return Json(t.peers_sending_to_us); }},
      {"percentComplete", [](const TorrentView& t) { return Json(percent_done(t)); }},
      {"percentDone", [](const TorrentView& t) { return Json(percent_done(t)); }},
      {"pieces", [](const TorrentView& t) { return Json(base64_encode(t.pieces)); }},
      {"pieceCount", [](const TorrentView& t) { return Json(t.piece_count); }},
      {"pieceSize", [](const TorrentView& t) { return Json(t.piece_size); }},
      {"priorities",
       [](const TorrentView& t) {
         Json list = Json::array();
         for (const auto& f : t.files) list.push_back(f.priority);
         return list;
       }},
      {"primary-mime-type", [](const TorrentView&) { return Json("application/octet-stream"); }},
      {"queuePosition", [](const TorrentView& t) { return Json(t.queue_position); }},
      {"rateDownload", [](const TorrentView& t) { return Json(t.rate_download); }},
      {"rateUpload", [](const TorrentView& t) { return Json(t.rate_upload); }},
      {"recheckProgress", [](const TorrentView& t) { return Json(t.recheck_progress); }},
      {"secondsDownloading", [](const TorrentView&) { return Json(0); }},
      {"secondsSeeding", [](const TorrentView&) { return Json(0); }},
      {"seedIdleLimit", [](const TorrentView&) { return Json(30); }},
      {"seedIdleMode", [](const TorrentView&) { return Json(0); }},
      {"seedRatioLimit", [](const TorrentView& t) { return Json(t.seed_ratio_limit); }},
      {"seedRatioMode", [](const TorrentView& t) { return Json(t.seed_ratio_mode); }},
      {"sizeWhenDone", [](const TorrentView& t) { return Json(t.size_when_done); }},
      {"startDate", [](const TorrentView& t) { return Json(t.start_date); }},
      {"status", [](const TorrentView& t) { return Json(static_cast<int>(t.state)); }},
      {"torrentFile", [](const TorrentView&) { return Json(""); }},
      {"totalSize", [](const TorrentView& t) { return Json(t.total_size); }},
      {"trackerList",
       [](const TorrentView& t) {
         std::string text;
         int tier = -1;
         for (const auto& tr : t.trackers) {
           if (tier >= 0 && tr.tier != tier) text += '\n';  // a blank line between tiers
           tier = tr.tier;
           text += tr.announce + "\n";
         }
         return Json(text);
       }},
      {"trackers", trackers_json},
      {"trackerStats", tracker_stats_json},
      {"uploadedEver", [](const TorrentView& t) { return Json(t.uploaded_ever); }},
      {"uploadLimit", [](const TorrentView& t) { return Json(t.upload_limit); }},
      {"uploadLimited", [](const TorrentView& t) { return Json(t.upload_limited); }},
      {"uploadRatio", [](const TorrentView& t) { return Json(upload_ratio(t)); }},
      {"wanted",
       [](const TorrentView& t) {
         Json list = Json::array();
         for (const auto& f : t.files) list.push_back(f.wanted ? 1 : 0);
         return list;
       }},
      {"webseeds", [](const TorrentView&) { return Json::array(); }},
      {"webseedsSendingToUs", [](const TorrentView& t) { return Json(t.webseeds_sending_to_us); }},
  };
  return table;
}

}  // namespace

std::int64_t eta_seconds(const TorrentView& t) {
  if (t.left_until_done == 0) return -2;
  if (t.rate_download <= 0 || t.state != TorrentState::download) return -1;
  return t.left_until_done / t.rate_download;
}

std::optional<Json> torrent_field(const TorrentView& torrent, std::string_view field) {
  const auto& table = getters();
  auto it = table.find(field);
  if (it == table.end()) return std::nullopt;
  return it->second(torrent);
}

const std::vector<std::string_view>& torrent_field_names() {
  static const std::vector<std::string_view> names = [] {
    std::vector<std::string_view> out;
    for (const auto& [name, getter] : getters()) out.push_back(name);
    return out;
  }();
  return names;
}

}  // namespace starling::rpc
