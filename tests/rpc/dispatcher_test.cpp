#include "rpc/dispatcher.hpp"

#include <gtest/gtest.h>

#include "rpc/base64.hpp"
#include "rpc/fake_backend.hpp"

namespace starling::rpc {
namespace {

using testing::FakeBackend;

constexpr std::int64_t kNow = 1'800'000'000;

TorrentView torrent(int id, char hash_digit, std::string name) {
  TorrentView t;
  t.id = id;
  t.hash = std::string(40, hash_digit);
  t.name = std::move(name);
  t.state = TorrentState::download;
  t.size_when_done = 1000;
  t.total_size = 1000;
  t.left_until_done = 250;
  t.have_valid = 750;
  t.downloaded_ever = 800;
  t.uploaded_ever = 400;
  t.rate_download = 25;
  t.activity_date = kNow - 3600;
  return t;
}

class DispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    backend.list = {torrent(1, 'a', "alpha"), torrent(2, 'b', "beta"), torrent(3, 'c', "gamma")};
  }
  Json call(const std::string& body) {
    const std::string reply = dispatcher.handle(body, kNow);
    Json parsed = Json::parse(reply, nullptr, false);
    EXPECT_FALSE(parsed.is_discarded()) << reply;
    return parsed;
  }
  std::vector<int> ids_of(const Json& reply) {
    std::vector<int> ids;
    for (const auto& t : reply["arguments"]["torrents"]) ids.push_back(t["id"].get<int>());
    return ids;
  }
  FakeBackend backend;
  Dispatcher dispatcher{backend};
};

TEST_F(DispatcherTest, EchoesTheTagOnSuccessAndFailure) {
  Json ok_reply = call(R"({"method":"session-stats","tag":7})");
  EXPECT_EQ(ok_reply["result"], "success");
  EXPECT_EQ(ok_reply["tag"], 7);
  Json failed = call(R"({"method":"no-such-method","tag":8})");
  EXPECT_EQ(failed["result"], "method name not recognized");
  EXPECT_EQ(failed["tag"], 8);
  Json untagged = call(R"({"method":"session-stats"})");
  EXPECT_FALSE(untagged.contains("tag"));
}

TEST_F(DispatcherTest, MalformedRequestsGetAnErrorResultNotACrash) {
  EXPECT_EQ(call("not json")["result"], "request is not JSON");
  EXPECT_EQ(call("[1,2]")["result"], "request is not a JSON object");
  EXPECT_EQ(call(R"({"arguments":{}})")["result"], "missing 'method'");
  EXPECT_EQ(call(R"({"method":5})")["result"], "'method' is not a string");
  EXPECT_EQ(call(R"({"method":"torrent-get","arguments":[]})")["result"],
            "'arguments' is not an object");
  EXPECT_EQ(call(std::string(100, '[') + std::string(100, ']'))["result"],
            "request nested too deeply");
}

TEST_F(DispatcherTest, TorrentGetIdFormsSelectTheRightTorrents) {
  auto get = [&](const std::string& ids) {
    return call(R"({"method":"torrent-get","arguments":{"fields":["id"])" +
                (ids.empty() ? "" : ",\"ids\":" + ids) + "}}");
  };
  EXPECT_EQ(ids_of(get("")), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(ids_of(get("2")), (std::vector<int>{2}));
  EXPECT_EQ(ids_of(get("[3,1,99]")), (std::vector<int>{1, 3}));
  EXPECT_EQ(ids_of(get("\"" + std::string(40, 'B') + "\"")), (std::vector<int>{2}));
  EXPECT_EQ(ids_of(get("[1,\"" + std::string(40, 'c') + "\"]")), (std::vector<int>{1, 3}));
  EXPECT_NE(get("\"nonsense\"")["result"], "success");
  EXPECT_NE(get("[true]")["result"], "success");
  EXPECT_NE(get("-1")["result"], "success");
}

TEST_F(DispatcherTest, RecentlyActiveListsActiveTorrentsAndRecentRemovals) {
  backend.list[1].activity_date = kNow - 5;
  backend.removed_list = {{7, kNow - 10}, {8, kNow - 3600}};
  Json reply = call(R"({"method":"torrent-get","arguments":{"fields":["id","name"],
                       "ids":"recently-active"}})");
  ASSERT_EQ(reply["result"], "success");
  EXPECT_EQ(ids_of(reply), (std::vector<int>{2}));
  EXPECT_EQ(reply["arguments"]["removed"], Json::array({7}));
  // Without recently-active there is no removed list.
  EXPECT_FALSE(
      call(R"({"method":"torrent-get","arguments":{"fields":["id"]}})")["arguments"].contains(
          "removed"));
}

TEST_F(DispatcherTest, TorrentGetFieldsHaveTransmissionTypes) {
  Json reply = call(R"({"method":"torrent-get","arguments":{"ids":[1],"fields":
      ["id","name","hashString","status","percentDone","eta","rateDownload","rateUpload",
       "sizeWhenDone","leftUntilDone","totalSize","uploadRatio","peersConnected",
       "peersGettingFromUs","peersSendingToUs","error","errorString","isFinished","isStalled",
       "trackers","trackerStats","files","fileStats","peers","pieceCount","pieceSize",
       "no-such-field"]}})");
  ASSERT_EQ(reply["result"], "success");
  const Json& t = reply["arguments"]["torrents"][0];
  for (const char* integer : {"id", "status", "eta", "rateDownload", "rateUpload", "sizeWhenDone",
                              "leftUntilDone", "totalSize", "peersConnected", "peersGettingFromUs",
                              "peersSendingToUs", "error", "pieceCount", "pieceSize"}) {
    EXPECT_TRUE(t[integer].is_number_integer()) << integer << " = " << t[integer];
  }
  EXPECT_EQ(t["status"], 4);
  EXPECT_DOUBLE_EQ(t["percentDone"].get<double>(), 0.75);
  EXPECT_EQ(t["eta"], 10);  // 250 bytes at 25 B/s
  EXPECT_DOUBLE_EQ(t["uploadRatio"].get<double>(), 0.5);
  EXPECT_EQ(t["hashString"], std::string(40, 'a'));
  EXPECT_TRUE(t["isFinished"].is_boolean());
  EXPECT_TRUE(t["trackers"].is_array());
  EXPECT_FALSE(t.contains("no-such-field"));
  EXPECT_EQ(call(R"({"method":"torrent-get","arguments":{}})")["result"], "no fields specified");
}

TEST_F(DispatcherTest, TorrentGetTableFormat) {
  Json reply = call(
      R"({"method":"torrent-get","arguments":{"format":"table","ids":[2],"fields":["id","name"]}})");
  ASSERT_EQ(reply["result"], "success");
  EXPECT_EQ(reply["arguments"]["torrents"], Json::parse(R"([["id","name"],[2,"beta"]])"));
}

TEST_F(DispatcherTest, ActionsReachTheBackendForEachSelectedTorrent) {
  EXPECT_EQ(call(R"({"method":"torrent-stop","arguments":{"ids":[1,3]}})")["result"], "success");
  EXPECT_EQ(call(R"({"method":"torrent-start","arguments":{"ids":2}})")["result"], "success");
  EXPECT_EQ(call(R"({"method":"torrent-start-now","arguments":{"ids":[2]}})")["result"], "success");
  EXPECT_EQ(call(R"({"method":"torrent-verify","arguments":{"ids":[1]}})")["result"], "success");
  EXPECT_EQ(call(R"({"method":"torrent-reannounce","arguments":{"ids":[1]}})")["result"],
            "success");
  EXPECT_EQ(call(R"({"method":"torrent-remove","arguments":{"ids":[3],"delete-local-data":true}})")
                ["result"],
            "success");
  EXPECT_EQ(call(R"({"method":"torrent-remove","arguments":{"ids":[2]}})")["result"], "success");
  EXPECT_EQ(backend.calls,
            (std::vector<std::string>{"stop 1", "stop 3", "start 2", "start-now 2", "verify 1",
                                      "reannounce 1", "remove 3 data", "remove 2"}));
  EXPECT_NE(call(R"({"method":"torrent-remove","arguments":{"ids":[2],"delete-local-data":"yes"}})")
                ["result"],
            "success");
}

TEST_F(DispatcherTest, SetLocationReachesTheBackendAndRenamePathIsRefusedClearly) {
  EXPECT_EQ(call(R"({"method":"torrent-set-location","arguments":{"ids":[1,3],
      "location":"/new","move":true}})")["result"],
            "success");
  EXPECT_EQ(
      call(
          R"({"method":"torrent-set-location","arguments":{"ids":[2],"location":"/x"}})")["result"],
      "success");
  EXPECT_EQ(backend.calls, (std::vector<std::string>{"location 1 /new move", "location 3 /new move",
                                                     "location 2 /x"}));
  EXPECT_EQ(call(R"({"method":"torrent-set-location","arguments":{"ids":[1]}})")["result"],
            "no location specified");
  EXPECT_NE(call(R"({"method":"torrent-set-location","arguments":{"ids":[1],"location":"/x",
      "move":"yes"}})")["result"],
            "success");
  const Json renamed = call(R"({"method":"torrent-rename-path","tag":4,"arguments":{"ids":[1],
      "path":"a","name":"b"}})");
  EXPECT_EQ(renamed["tag"], 4);
  EXPECT_NE(renamed["result"].get<std::string>().find("not supported"), std::string::npos);
}

TEST_F(DispatcherTest, TorrentAddFromMetainfoAndFilename) {
  Json added = call(R"({"method":"torrent-add","tag":3,"arguments":{"metainfo":")" +
                    base64_encode("new torrent") +
                    R"(","download-dir":"/data","paused":true,"files-unwanted":[1]}})");
  ASSERT_EQ(added["result"], "success") << added;
  EXPECT_EQ(added["arguments"]["torrent-added"]["id"], 4);
  EXPECT_EQ(added["arguments"]["torrent-added"]["name"], "new torrent");
  EXPECT_EQ(added["tag"], 3);
  EXPECT_EQ(backend.last_add.metainfo, "new torrent");
  EXPECT_EQ(backend.last_add.download_dir, "/data");
  EXPECT_EQ(backend.last_add.paused, true);
  EXPECT_EQ(backend.last_add.files_unwanted, std::vector<int>{1});

  Json duplicate = call(R"({"method":"torrent-add","arguments":{"metainfo":")" +
                        base64_encode("beta") + R"("}})");
  EXPECT_EQ(duplicate["arguments"]["torrent-duplicate"]["id"], 2);

  Json magnet = call(R"({"method":"torrent-add","arguments":{"filename":"magnet:?xt=x"}})");
  EXPECT_EQ(magnet["result"], "success");
  EXPECT_EQ(backend.last_add.filename, "magnet:?xt=x");
  EXPECT_FALSE(backend.last_add.paused.has_value());

  EXPECT_EQ(call(R"({"method":"torrent-add","arguments":{"filename":"bad"}})")["result"],
            "unreadable torrent");
  EXPECT_EQ(call(R"({"method":"torrent-add","arguments":{}})")["result"],
            "no filename or metainfo specified");
  EXPECT_EQ(call(R"({"method":"torrent-add","arguments":{"metainfo":"!!!"}})")["result"],
            "'metainfo' is not base64");
}

TEST_F(DispatcherTest, SessionGetReportsWhatRemoteAndTheWebClientRead) {
  backend.session_view.version = "0.1.0 (starling)";
  backend.session_view.download_dir = "/data";
  backend.session_view.speed_limit_down = 300;
  Json reply = call(R"({"method":"session-get"})");
  ASSERT_EQ(reply["result"], "success");
  const Json& a = reply["arguments"];
  EXPECT_EQ(a["rpc-version"], kRpcVersion);
  EXPECT_EQ(a["version"], "0.1.0 (starling)");
  EXPECT_EQ(a["download-dir"], "/data");
  EXPECT_EQ(a["speed-limit-down"], 300);
  for (const char* key :
       {"rpc-version-minimum", "peer-port", "utp-enabled", "dht-enabled", "pex-enabled",
        "lpd-enabled", "encryption", "speed-limit-up", "speed-limit-down-enabled", "alt-speed-down",
        "alt-speed-up", "alt-speed-enabled", "peer-limit-global", "seedRatioLimit",
        "seedRatioLimited", "units"}) {
    EXPECT_TRUE(a.contains(key)) << key;
  }
  EXPECT_TRUE(a["seedRatioLimit"].is_number_float());
  Json some = call(R"({"method":"session-get","arguments":{"fields":["version","peer-port"]}})");
  EXPECT_EQ(some["arguments"].size(), 2U);
}

TEST_F(DispatcherTest, SessionSetChangesOnlyWhatIsGivenAndChecksTypes) {
  Json reply = call(R"({"method":"session-set","arguments":{"speed-limit-down":500,
      "speed-limit-down-enabled":true,"seedRatioLimit":1.5,"download-dir":"/srv"}})");
  ASSERT_EQ(reply["result"], "success");
  EXPECT_EQ(backend.session_view.speed_limit_down, 500);
  EXPECT_TRUE(backend.session_view.speed_limit_down_enabled);
  EXPECT_DOUBLE_EQ(backend.session_view.seed_ratio_limit, 1.5);
  EXPECT_EQ(backend.session_view.download_dir, "/srv");
  EXPECT_EQ(backend.session_view.speed_limit_up, 100);  // untouched
  EXPECT_EQ(call(R"({"method":"session-set","arguments":{"speed-limit-up":"fast"}})")["result"],
            "'speed-limit-up' is not an integer");
  EXPECT_EQ(call(R"({"method":"session-set","arguments":{"speed-limit-up":-5}})")["result"],
            "'speed-limit-up' is negative");
  EXPECT_EQ(call(R"({"method":"session-set","arguments":{"download-dir":"rel"}})")["result"],
            "'download-dir' is not an absolute path");
  EXPECT_EQ(backend.session_view.speed_limit_up, 100);
}

TEST_F(DispatcherTest, SessionStatsSumsRatesAndCountsTorrents) {
  backend.list[2].state = TorrentState::stopped;
  backend.list[2].rate_download = 0;
  backend.session_stats.cumulative.downloaded_bytes = 5000;
  Json a = call(R"({"method":"session-stats"})")["arguments"];
  EXPECT_EQ(a["torrentCount"], 3);
  EXPECT_EQ(a["activeTorrentCount"], 2);
  EXPECT_EQ(a["pausedTorrentCount"], 1);
  EXPECT_EQ(a["downloadSpeed"], 50);
  EXPECT_EQ(a["cumulative-stats"]["downloadedBytes"], 5000);
  EXPECT_TRUE(a["current-stats"].contains("secondsActive"));
}

TEST_F(DispatcherTest, TorrentSetPassesChanges) {
  Json reply = call(R"({"method":"torrent-set","arguments":{"ids":[2],"files-unwanted":[0,2],
      "priority-high":[1],"downloadLimit":40,"downloadLimited":true}})");
  ASSERT_EQ(reply["result"], "success");
  EXPECT_EQ(backend.calls, std::vector<std::string>{"set 2"});
  EXPECT_EQ(backend.last_changes.files_unwanted, (std::vector<int>{0, 2}));
  EXPECT_EQ(backend.last_changes.priority_high, std::vector<int>{1});
  EXPECT_EQ(backend.last_changes.download_limit, 40);
  EXPECT_EQ(backend.last_changes.download_limited, true);
  EXPECT_FALSE(backend.last_changes.upload_limited.has_value());
  EXPECT_NE(call(R"({"method":"torrent-set","arguments":{"files-wanted":[-1]}})")["result"],
            "success");
}

TEST_F(DispatcherTest, FreeSpace) {
  Json reply = call(R"({"method":"free-space","arguments":{"path":"/data"}})");
  ASSERT_EQ(reply["result"], "success");
  EXPECT_EQ(reply["arguments"]["size-bytes"], 123456789012);
  EXPECT_EQ(reply["arguments"]["path"], "/data");
  EXPECT_EQ(call(R"({"method":"free-space","arguments":{"path":"/nope"}})")["result"],
            "/nope: no such directory");
}

TEST_F(DispatcherTest, NamesThatAreNotUtf8DoNotBreakTheReply) {
  backend.list[0].name = std::string("bad\xff\xfe name");
  Json reply = call(R"({"method":"torrent-get","arguments":{"ids":[1],"fields":["name"]}})");
  EXPECT_EQ(reply["result"], "success");
}

}  // namespace
}  // namespace starling::rpc
