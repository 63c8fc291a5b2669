// fetch_torrent_url against an in-process HTTP server on loopback: the body of a 200, redirects
// followed (and bounded), and every failure a clear error naming the URL: HTTP status, https,
// too large, nobody listening, no answer within the deadline.
#include "rpc/torrent_url.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <vector>

#include "http/server.hpp"

namespace starling::rpc {
namespace {

using namespace std::chrono_literals;

class TorrentUrlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server = std::make_unique<http::Server>(
        io, [this](const http::Request& request, const http::Endpoint&, const http::Reply& reply) {
          const std::string target(request.target());
          if (target == "/good.torrent") {
            return reply(http::make_response(request, http::Status::ok, "d4:spam4:eggse",
                                             "application/x-bittorrent"));
          }
          if (target == "/moved" || target == "/loop") {
            auto response = http::make_response(request, http::Status::found, "", "text/plain");
            response.set(boost::beast::http::field::location,
                         target == "/moved" ? "/good.torrent" : "/loop");
            return reply(std::move(response));
          }
          if (target == "/big") {
            return reply(http::make_response(request, http::Status::ok, std::string(5000, 'x'),
                                             "application/x-bittorrent"));
          }
          if (target == "/silent") {
            held.push_back(reply);  // never answered
            return;
          }
          reply(http::make_response(request, http::Status::not_found, "no", "text/plain"));
        });
    ASSERT_TRUE(server->listen(http::Endpoint(boost::asio::ip::make_address("127.0.0.1"), 0)));
    base = "http://127.0.0.1:" + std::to_string(server->local_endpoint().port());
  }

  Expected<std::string> fetch(const std::string& url, TorrentUrlSettings settings = {}) {
    std::optional<Expected<std::string>> result;
    int calls = 0;
    fetch_torrent_url(
        io, url,
        [&](Expected<std::string> r) {
          ++calls;
          result = std::move(r);
        },
        settings);
    for (int i = 0; i < 500 && !result; ++i) io.run_for(10ms);
    io.restart();
    EXPECT_EQ(calls, 1);
    if (!result) return Error(Errc::invalid_argument, "no answer at all");
    return *result;
  }

  boost::asio::io_context io;
  std::unique_ptr<http::Server> server;
  std::vector<http::Reply> held;
  std::string base;
};

TEST_F(TorrentUrlTest, ReturnsTheBodyOfA200AndFollowsRedirects) {
  auto got = fetch(base + "/good.torrent");
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(*got, "d4:spam4:eggse");
  got = fetch(base + "/moved");
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(*got, "d4:spam4:eggse");
  EXPECT_TRUE(is_torrent_url("HTTP://host/x.torrent"));
  EXPECT_TRUE(is_torrent_url("https://host/x.torrent"));
  EXPECT_FALSE(is_torrent_url("/tmp/x.torrent"));
  EXPECT_FALSE(is_torrent_url("magnet:?xt=urn:btih:"));
}

TEST_F(TorrentUrlTest, FailuresAreClearErrorsNamingTheUrl) {
  auto missing = fetch(base + "/missing.torrent");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().detail.find(base + "/missing.torrent"), std::string::npos);
  EXPECT_NE(missing.error().detail.find("HTTP 404"), std::string::npos) << missing.error().detail;

  auto loop = fetch(base + "/loop");
  ASSERT_FALSE(loop);
  EXPECT_NE(loop.error().detail.find("too many redirects"), std::string::npos);

  TorrentUrlSettings small;
  small.max_bytes = 1000;
  auto big = fetch(base + "/big", small);
  ASSERT_FALSE(big) << big->size();
  EXPECT_NE(big.error().detail.find(base + "/big"), std::string::npos);
  EXPECT_NE(big.error().detail.find("larger than 1000 bytes"), std::string::npos)
      << big.error().detail;

  auto https = fetch("https://127.0.0.1:1/x.torrent");
  ASSERT_FALSE(https);
  EXPECT_NE(https.error().detail.find("https is not supported"), std::string::npos);

  auto garbage = fetch("http://");
  ASSERT_FALSE(garbage);
}

TEST_F(TorrentUrlTest, GivesUpAtTheDeadline) {
  TorrentUrlSettings quick;
  quick.timeout = 300ms;
  const auto start = std::chrono::steady_clock::now();
  auto silent = fetch(base + "/silent", quick);
  ASSERT_FALSE(silent);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  EXPECT_NE(silent.error().detail.find(base + "/silent"), std::string::npos);

  // Nobody listening: the port of a server that has gone.
  const std::string gone = base;
  server->stop();
  io.run_for(10ms);
  io.restart();
  auto refused = fetch(gone + "/good.torrent", quick);
  ASSERT_FALSE(refused);
}

}  // namespace
}  // namespace starling::rpc
