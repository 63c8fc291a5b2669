// DaemonBackend over a real session::Session (no network): add, pause (out of the session),
// resume, restart from the config directory, remove with the data.
#include "rpc/daemon_backend.hpp"

#include <gtest/gtest.h>

#include <fstream>

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
