// DaemonBackend over a real session::Session (no network): add, pause (out of the session),
// resume, restart from the config directory, remove with the data.
#include "rpc/daemon_backend.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "http/server.hpp"
#include "metainfo/torrent_creator.hpp"
#include "rpc/base64.hpp"
#include "rpc/dispatcher.hpp"
#include "support/temp_dir.hpp"

namespace starling::rpc {
namespace {

namespace fs = std::filesystem;

class DaemonBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data = dir.path() / "data";
    testing::write_file(data / "payload" / "a.bin", testing::content(1, 300'000));
    testing::write_file(data / "payload" / "b.bin", testing::content(2, 100'000));
    CreateOptions options;
    options.source = data / "payload";
    options.piece_length = 32768;
    auto created = create_torrent(options);
    ASSERT_TRUE(created);
    torrent_bytes = created->bytes;
    hash = created->info_hash;
  }
  session::SessionSettings settings() {
    session::SessionSettings s;
    s.enable_utp = false;
    return s;
  }
  DaemonConfig config() {
    DaemonConfig c;
    c.config_dir = dir.path() / "config";
    c.download_dir = data;
    c.version = "test";
    return c;
  }
  Json rpc(Dispatcher& d, const std::string& body) {
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    return Json::parse(d.handle(body, now));
  }

  testing::TempDir dir;
  fs::path data;
  std::string torrent_bytes;
  std::string hash;
};

TEST_F(DaemonBackendTest, AddPauseResumeRestartRemove) {
  {
    session::Session session(settings());
    DaemonBackend backend(session, config());
    ASSERT_TRUE(backend.restore());
    Dispatcher d(backend);
    Json added = rpc(d, R"({"method":"torrent-add","arguments":{"metainfo":")" +
                            base64_encode(torrent_bytes) + R"("}})");
    ASSERT_EQ(added["result"], "success") << added;
    EXPECT_EQ(added["arguments"]["torrent-added"]["id"], 1);
    EXPECT_EQ(added["arguments"]["torrent-added"]["hashString"], hash);
    // The data is already there: checked at once, a seed.
    Json got = rpc(d, R"({"method":"torrent-get","arguments":{"fields":["id","status",
        "percentDone","leftUntilDone","sizeWhenDone","files"]}})");
    const Json& t = got["arguments"]["torrents"][0];
    EXPECT_EQ(t["status"], 6);
    EXPECT_EQ(t["leftUntilDone"], 0);
    EXPECT_EQ(t["sizeWhenDone"], 400'000);
    EXPECT_EQ(t["files"].size(), 2U);
    EXPECT_EQ(t["files"][0]["bytesCompleted"], 300'000);
    EXPECT_NE(session.find_torrent(*Sha1Digest::from_hex(hash)), nullptr);

    Json again = rpc(d, R"({"method":"torrent-add","arguments":{"metainfo":")" +
                            base64_encode(torrent_bytes) + R"("}})");
    EXPECT_EQ(again["arguments"]["torrent-duplicate"]["id"], 1);

    ASSERT_EQ(rpc(d, R"({"method":"torrent-stop","arguments":{"ids":[1]}})")["result"], "success");
    EXPECT_EQ(session.find_torrent(*Sha1Digest::from_hex(hash)), nullptr);
    got = rpc(d, R"({"method":"torrent-get","arguments":{"fields":["status","percentDone"]}})");
    EXPECT_EQ(got["arguments"]["torrents"][0]["status"], 0);
    EXPECT_DOUBLE_EQ(got["arguments"]["torrents"][0]["percentDone"].get<double>(), 1.0);

    ASSERT_EQ(rpc(d, R"({"method":"torrent-start","arguments":{"ids":[1]}})")["result"], "success");
    EXPECT_NE(session.find_torrent(*Sha1Digest::from_hex(hash)), nullptr);
    ASSERT_EQ(rpc(d, R"({"method":"torrent-stop","arguments":{"ids":[1]}})")["result"], "success");
    ASSERT_EQ(rpc(d, R"({"method":"session-set","arguments":{"speed-limit-down":77,
        "speed-limit-down-enabled":true}})")["result"],
              "success");
    EXPECT_EQ(session.download_bucket().rate(), 77'000);
    backend.shutdown();
  }
  // A new daemon on the same config directory: the torrent is back, still paused, same id.
  {
    session::Session session(settings());
    DaemonBackend backend(session, config());
    ASSERT_TRUE(backend.restore());
    Dispatcher d(backend);
    Json got = rpc(d, R"({"method":"torrent-get","arguments":{"fields":["id","status","hashString",
        "percentDone"]}})");
    ASSERT_EQ(got["arguments"]["torrents"].size(), 1U);
    const Json& t = got["arguments"]["torrents"][0];
    EXPECT_EQ(t["id"], 1);
    EXPECT_EQ(t["status"], 0);
    EXPECT_EQ(t["hashString"], hash);
    EXPECT_EQ(session.find_torrent(*Sha1Digest::from_hex(hash)), nullptr);
    EXPECT_EQ(rpc(d, R"({"method":"session-get"})")["arguments"]["speed-limit-down"], 77);
    EXPECT_EQ(session.download_bucket().rate(), 77'000);

    ASSERT_EQ(rpc(d, R"({"method":"torrent-remove","arguments":{"ids":[1],
        "delete-local-data":true}})")["result"],
              "success");
    EXPECT_FALSE(fs::exists(data / "payload" / "a.bin"));
    EXPECT_FALSE(fs::exists(data / "payload"));
    Json recent = rpc(d, R"({"method":"torrent-get","arguments":{"fields":["id"],
        "ids":"recently-active"}})");
    EXPECT_EQ(recent["arguments"]["removed"], Json::array({1}));
    EXPECT_TRUE(
        rpc(d, R"({"method":"torrent-get","arguments":{"fields":["id"]}})")["arguments"]["torrents"]
            .empty());
  }
}

TEST_F(DaemonBackendTest, VerifyHashesOffTheNetworkThreadAndFindsDamage) {
  session::Session session(settings());
  DaemonBackend backend(session, config());
  ASSERT_TRUE(backend.restore());
  Dispatcher d(backend);
  ASSERT_EQ(rpc(d, R"({"method":"torrent-add","arguments":{"metainfo":")" +
                       base64_encode(torrent_bytes) + R"("}})")["result"],
            "success");
  auto get = [&] {
    return rpc(d, R"({"method":"torrent-get","arguments":{"ids":[1],"fields":["status",
        "leftUntilDone"]}})")["arguments"]["torrents"][0];
  };
  // Runs the loop until the check's result is back (bounded).
  auto settle = [&] {
    for (int i = 0; i < 500 && get()["status"] == 2; ++i) {
      session.io().run_for(std::chrono::milliseconds(10));
    }
  };
  EXPECT_EQ(get()["status"], 6);
  {
    // Damage one byte of the first piece on disk.
    std::fstream f(data / "payload" / "a.bin", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    f.put('\x5a' ^ static_cast<char>(testing::content(1, 101)[100]));
  }
  ASSERT_EQ(rpc(d, R"({"method":"torrent-verify","arguments":{"ids":[1]}})")["result"], "success");
  EXPECT_EQ(get()["status"], 2);  // checking, while the network thread goes on
  settle();
  const Json t = get();
  EXPECT_EQ(t["status"], 4);  // back in the session, downloading the damaged piece
  EXPECT_EQ(t["leftUntilDone"], 32768);
}

TEST_F(DaemonBackendTest, PerTorrentSpeedLimitsReachTheLiveTorrentAndSurviveAPause) {
  session::Session session(settings());
  DaemonBackend backend(session, config());
  ASSERT_TRUE(backend.restore());
  Dispatcher d(backend);
  ASSERT_EQ(rpc(d, R"({"method":"torrent-add","arguments":{"metainfo":")" +
                       base64_encode(torrent_bytes) + R"("}})")["result"],
            "success");
  const Sha1Digest info_hash = *Sha1Digest::from_hex(hash);
  auto live = [&] { return session.find_torrent(info_hash); };
  ASSERT_NE(live(), nullptr);
  EXPECT_TRUE(live()->upload_limits().unlimited());
  EXPECT_TRUE(live()->download_limits().unlimited());

  // kB/s of 1000 bytes; a limit applies only while its *Limited flag is on.
  ASSERT_EQ(rpc(d, R"({"method":"torrent-set","arguments":{"ids":[1],"uploadLimit":200,
      "uploadLimited":true,"downloadLimit":50}})")["result"],
            "success");
  EXPECT_EQ(live()->upload_limits().torrent->rate(), 200'000);
  EXPECT_TRUE(live()->download_limits().unlimited());
  EXPECT_EQ(live()->upload_limits().session, &session.upload_bucket());

  ASSERT_EQ(rpc(d, R"({"method":"torrent-set","arguments":{"ids":[1],"downloadLimited":true,
      "honorsSessionLimits":false}})")["result"],
            "success");
  EXPECT_EQ(live()->download_limits().torrent->rate(), 50'000);
  EXPECT_EQ(live()->upload_limits().session, nullptr);  // the session's limits no longer apply
  Json got = rpc(d, R"({"method":"torrent-get","arguments":{"fields":["uploadLimit",
      "uploadLimited","downloadLimit","downloadLimited","honorsSessionLimits"]}})");
  const Json& t = got["arguments"]["torrents"][0];
  EXPECT_EQ(t["uploadLimit"], 200);
  EXPECT_EQ(t["uploadLimited"], true);
  EXPECT_EQ(t["downloadLimit"], 50);
  EXPECT_EQ(t["downloadLimited"], true);
  EXPECT_EQ(t["honorsSessionLimits"], false);

  // Paused and started again: a new session::Torrent, the same limits.
  ASSERT_EQ(rpc(d, R"({"method":"torrent-stop","arguments":{"ids":[1]}})")["result"], "success");
  ASSERT_EQ(rpc(d, R"({"method":"torrent-start","arguments":{"ids":[1]}})")["result"], "success");
  ASSERT_NE(live(), nullptr);
  EXPECT_EQ(live()->upload_limits().torrent->rate(), 200'000);
  EXPECT_EQ(live()->download_limits().torrent->rate(), 50'000);
  EXPECT_EQ(live()->download_limits().session, nullptr);

  ASSERT_EQ(rpc(d, R"({"method":"torrent-set","arguments":{"ids":[1],"uploadLimited":false,
      "downloadLimited":false,"honorsSessionLimits":true}})")["result"],
            "success");
  EXPECT_TRUE(live()->upload_limits().unlimited());
  EXPECT_TRUE(live()->download_limits().unlimited());
  // A running torrent without trackers takes a reannounce as a no-op, not an error.
  EXPECT_EQ(rpc(d, R"({"method":"torrent-reannounce","arguments":{"ids":[1]}})")["result"],
            "success");
  backend.shutdown();
}

TEST_F(DaemonBackendTest, AddsATorrentByHttpUrlThroughTheAsyncPath) {
  session::Session session(settings());
  DaemonBackend backend(session, config());
  ASSERT_TRUE(backend.restore());
  Dispatcher d(backend);
  http::Server server(session.io(), [&](const http::Request& request, const http::Endpoint&,
                                        const http::Reply& reply) {
    if (request.target() == "/a.torrent") {
      return reply(http::make_response(request, http::Status::ok, torrent_bytes,
                                       "application/x-bittorrent"));
    }
    if (request.target() == "/junk.torrent") {
      return reply(http::make_response(request, http::Status::ok, "not bencode", "text/plain"));
    }
    reply(http::make_response(request, http::Status::not_found, "", "text/plain"));
  });
  ASSERT_TRUE(server.listen(http::Endpoint(boost::asio::ip::make_address("127.0.0.1"), 0)));
  const std::string base = "http://127.0.0.1:" + std::to_string(server.local_endpoint().port());
  auto add = [&](const std::string& url) {
    std::optional<Json> reply;
    d.handle(R"({"method":"torrent-add","tag":7,"arguments":{"filename":")" + url + R"("}})", 0,
             [&](const std::string& body) { reply = Json::parse(body); });
    for (int i = 0; i < 500 && !reply; ++i) session.io().run_for(std::chrono::milliseconds(10));
    return reply.value_or(Json());
  };
  Json added = add(base + "/a.torrent");
  ASSERT_EQ(added["result"], "success") << added;
  EXPECT_EQ(added["tag"], 7);
  EXPECT_EQ(added["arguments"]["torrent-added"]["hashString"], hash);
  EXPECT_NE(session.find_torrent(*Sha1Digest::from_hex(hash)), nullptr);

  Json missing = add(base + "/missing.torrent");
  EXPECT_EQ(missing["tag"], 7);
  EXPECT_NE(missing["result"].get<std::string>().find("HTTP 404"), std::string::npos) << missing;
  Json junk = add(base + "/junk.torrent");
  EXPECT_NE(junk["result"].get<std::string>().find("invalid or corrupt torrent file"),
            std::string::npos)
      << junk;
  Json https = add("https://127.0.0.1:1/a.torrent");
  EXPECT_NE(https["result"].get<std::string>().find("https is not supported"), std::string::npos)
      << https;
  // Other methods answer at once through the same entry point.
  std::optional<std::string> now;
  d.handle(R"({"method":"session-stats","tag":3})", 0,
           [&](const std::string& body) { now = body; });
  ASSERT_TRUE(now);
  EXPECT_EQ(Json::parse(*now)["tag"], 3);
  server.stop();
  backend.shutdown();
}

TEST_F(DaemonBackendTest, SetLocationMovesTheFilesOrPointsElsewhereAndChecksAgain) {
  session::Session session(settings());
  DaemonBackend backend(session, config());
  ASSERT_TRUE(backend.restore());
  Dispatcher d(backend);
  ASSERT_EQ(rpc(d, R"({"method":"torrent-add","arguments":{"metainfo":")" +
                       base64_encode(torrent_bytes) + R"("}})")["result"],
            "success");
  auto get = [&] {
    return rpc(d, R"({"method":"torrent-get","arguments":{"ids":[1],"fields":["status",
        "leftUntilDone","downloadDir"]}})")["arguments"]["torrents"][0];
  };
  auto settle = [&] {
    for (int i = 0; i < 500 && get()["status"] == 2; ++i) {
      session.io().run_for(std::chrono::milliseconds(10));
    }
  };
  const fs::path moved = dir.path() / "moved";
  Json reply = rpc(d, R"({"method":"torrent-set-location","arguments":{"ids":[1],"move":true,
      "location":")" + moved.string() +
                          R"("}})");
  ASSERT_EQ(reply["result"], "success") << reply;
  EXPECT_TRUE(fs::exists(moved / "payload" / "a.bin"));
  EXPECT_TRUE(fs::exists(moved / "payload" / "b.bin"));
  EXPECT_FALSE(fs::exists(data / "payload"));  // emptied and removed
  settle();
  Json t = get();
  EXPECT_EQ(t["status"], 6);  // checked at the new place: complete, seeding
  EXPECT_EQ(t["leftUntilDone"], 0);
  EXPECT_EQ(t["downloadDir"], moved.string());

  // move=false: just another directory, which holds nothing.
  const fs::path empty = dir.path() / "empty";
  reply = rpc(d, R"({"method":"torrent-set-location","arguments":{"ids":[1],
      "location":")" +
                     empty.string() + R"("}})");
  ASSERT_EQ(reply["result"], "success") << reply;
  settle();
  t = get();
  EXPECT_EQ(t["status"], 4);
  EXPECT_EQ(t["leftUntilDone"], 400'000);
  EXPECT_TRUE(fs::exists(moved / "payload" / "a.bin"));  // left where it was

  reply = rpc(d, R"({"method":"torrent-set-location","arguments":{"ids":[1],
      "location":"relative/dir"}})");
  EXPECT_NE(reply["result"].get<std::string>().find("absolute"), std::string::npos) << reply;
  reply = rpc(d, R"({"method":"torrent-rename-path","arguments":{"ids":[1],"path":"payload",
      "name":"other"}})");
  EXPECT_NE(reply["result"].get<std::string>().find("not supported"), std::string::npos) << reply;
  backend.shutdown();
}

TEST_F(DaemonBackendTest, AddsMagnetsAndRefusesBadInput) {
  session::Session session(settings());
  DaemonBackend backend(session, config());
  ASSERT_TRUE(backend.restore());
  Dispatcher d(backend);
  Json added = rpc(
      d, R"({"method":"torrent-add","arguments":{"paused":true,"filename":"magnet:?xt=urn:btih:)" +
             hash + R"(&dn=named"}})");
  ASSERT_EQ(added["result"], "success") << added;
  EXPECT_EQ(added["arguments"]["torrent-added"]["name"], "named");
  Json got =
      rpc(d, R"({"method":"torrent-get","arguments":{"fields":["name","metadataPercentComplete",
      "status","magnetLink"]}})");
  EXPECT_EQ(got["arguments"]["torrents"][0]["metadataPercentComplete"], 0.0);
  EXPECT_NE(rpc(d, R"({"method":"torrent-add","arguments":{"metainfo":")" +
                       base64_encode("d4:infoe") + R"("}})")["result"],
            "success");
  EXPECT_NE(
      rpc(d,
          R"({"method":"torrent-add","arguments":{"filename":"/no/such/file.torrent"}})")["result"],
      "success");
}

}  // namespace
}  // namespace starling::rpc
