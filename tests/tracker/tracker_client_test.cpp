// TrackerClient::reannounce against an in-process HTTP tracker on loopback: a second announce
// right away instead of after the 30-minute interval, and one follow-up (not one per call)
// when asked while an announce is on its way.
#include "tracker/tracker_client.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "http/server.hpp"

namespace starling::tracker {
namespace {

using namespace std::chrono_literals;

class TrackerClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server = std::make_unique<http::Server>(
        io, [this](const http::Request& request, const http::Endpoint&, http::Reply reply) {
          ++announces;
          auto response = http::make_response(request, http::Status::ok,
                                              "d8:intervali1800e5:peers0:e", "text/plain");
          if (hold_replies) {
            held.emplace_back(std::move(reply), std::move(response));
            return;
          }
          reply(std::move(response));
        });
    ASSERT_TRUE(server->listen(http::Endpoint(boost::asio::ip::make_address("127.0.0.1"), 0)));
    url = "http://127.0.0.1:" + std::to_string(server->local_endpoint().port()) + "/announce";
    client = std::make_unique<TrackerClient>(
        io, std::vector<std::vector<std::string>>{{url}}, Sha1Digest{}, PeerId{}, 6881,
        [] {
          return TransferTotals{0, 0, 100};
        },
        [](const std::vector<PeerAddress>&) {});
  }
  void TearDown() override {
    client.reset();
    server->stop();
  }

  // Runs the loop until `announces` reaches `n` (bounded), then a little longer.
  void run_until(int n) {
    for (int i = 0; i < 300 && announces < n; ++i) io.run_for(10ms);
    io.run_for(100ms);
  }

  boost::asio::io_context io;
  std::unique_ptr<http::Server> server;
  std::unique_ptr<TrackerClient> client;
  std::string url;
  int announces = 0;
  bool hold_replies = false;
  std::vector<std::pair<http::Reply, http::Response>> held;
};

TEST_F(TrackerClientTest, ReannounceAsksAtOnceRatherThanAtTheInterval) {
  client->reannounce();  // before start(): nothing
  io.run_for(50ms);
  EXPECT_EQ(announces, 0);
  client->start();
  run_until(1);
  ASSERT_EQ(announces, 1);
  EXPECT_TRUE(client->any_answered());
  io.run_for(300ms);
  EXPECT_EQ(announces, 1);  // the next one is 30 minutes away
  client->reannounce();
  run_until(2);
  EXPECT_EQ(announces, 2);
  io.run_for(300ms);
  EXPECT_EQ(announces, 2);  // and back to the schedule
}

TEST_F(TrackerClientTest, ReannounceDuringAnAnnounceFollowsItOnce) {
  hold_replies = true;
  client->start();
  run_until(1);
  ASSERT_EQ(announces, 1);
  client->reannounce();
  client->reannounce();
  io.run_for(100ms);
  EXPECT_EQ(announces, 1);  // still waiting for the first answer
  hold_replies = false;
  for (auto& [reply, response] : held) reply(std::move(response));
  held.clear();
  run_until(2);
  io.run_for(300ms);
  EXPECT_EQ(announces, 2);
}

}  // namespace
}  // namespace starling::tracker
