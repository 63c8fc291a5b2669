#include "rpc/daemon_state.hpp"

#include <gtest/gtest.h>

#include "support/temp_dir.hpp"

namespace starling::rpc {
namespace {

DaemonState sample_state() {
  DaemonState state;
  state.next_id = 5;
  state.settings.download_dir = "/data";
  state.settings.speed_limit_down = 250;
  state.settings.speed_limit_down_enabled = true;
  state.settings.seed_ratio_limit = 1.25;
  state.cumulative.downloaded_bytes = 1 << 20;
  state.cumulative.session_count = 3;
  SavedTorrent t;
  t.id = 4;
  t.hash = std::string(40, 'e');
  t.name = "some name";
  t.download_dir = "/data/x";
  t.paused = true;
  t.wanted = {true, false};
  t.priorities = {1, -1};
  t.added_date = 1700000000;
  t.downloaded = 12345;
  t.upload_limit = 200;
  t.upload_limited = true;
  t.honors_session_limits = false;
  state.torrents.push_back(t);
  SavedTorrent m;
  m.id = 2;
  m.hash = std::string(40, 'f');
  m.magnet = "magnet:?xt=urn:btih:" + std::string(40, 'f');
  state.torrents.push_back(m);
  return state;
}

TEST(DaemonState, RoundTripsThroughTheFile) {
  testing::TempDir dir;
  const auto file = dir.path() / "state.json";
  ASSERT_TRUE(save_state_file(file, sample_state()));
  auto loaded = load_state_file(file);
  ASSERT_TRUE(loaded) << loaded.error().message();
  const DaemonState expected = sample_state();
  EXPECT_EQ(loaded->next_id, 5);
  EXPECT_EQ(loaded->settings.download_dir, "/data");
  EXPECT_EQ(loaded->settings.speed_limit_down, 250);
  EXPECT_TRUE(loaded->settings.speed_limit_down_enabled);
  EXPECT_DOUBLE_EQ(loaded->settings.seed_ratio_limit, 1.25);
  EXPECT_EQ(loaded->cumulative.downloaded_bytes, 1 << 20);
  ASSERT_EQ(loaded->torrents.size(), 2U);
  EXPECT_EQ(loaded->torrents[0], expected.torrents[0]);
  EXPECT_EQ(loaded->torrents[1], expected.torrents[1]);
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "state.json.tmp"));
}

TEST(DaemonState, MissingFileIsEmptyAndMissingKeysKeepDefaults) {
  testing::TempDir dir;
  auto empty = load_state_file(dir.path() / "none.json");
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->next_id, 1);
  EXPECT_TRUE(empty->torrents.empty());
  auto partial = parse_state(R"({"torrents":[{"id":9,"hash":")" + std::string(40, 'a') + R"("}]})");
  ASSERT_TRUE(partial) << partial.error().message();
  EXPECT_EQ(partial->next_id, 10);  // past every id in use
  EXPECT_FALSE(partial->torrents[0].paused);
  EXPECT_EQ(partial->settings.peer_limit_global, SessionView{}.peer_limit_global);
}

TEST(DaemonState, CorruptStateIsAnErrorNamingTheKey) {
  EXPECT_FALSE(parse_state("{"));
  EXPECT_FALSE(parse_state("[]"));
  auto wrong = parse_state(R"({"settings":{"speed-limit-down":"fast"}})");
  ASSERT_FALSE(wrong);
  EXPECT_NE(wrong.error().detail.find("speed-limit-down"), std::string::npos);
  EXPECT_FALSE(parse_state(R"({"torrents":[{"id":1}]})"));  // no hash
  EXPECT_FALSE(parse_state(R"({"torrents":[{"hash":")" + std::string(40, 'a') + R"("}]})"));
}

}  // namespace
}  // namespace starling::rpc
