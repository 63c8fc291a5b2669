// The tracker's /metrics: Prometheus text with swarm sizes, requests by action and result, and
// the HTTP handling-time histogram.
#include <gtest/gtest.h>

#include <string>

#include "tracker/announce_request.hpp"
#include "tracker/tracker_service.hpp"

namespace starling::tracker {
namespace {

AnnounceRequest request(std::uint8_t torrent, std::uint16_t port, std::int64_t left) {
  AnnounceRequest r;
  r.info_hash.bytes.fill(torrent);
  r.peer_id.fill(static_cast<std::uint8_t>(port));
  r.port = port;
  r.left = left;
  return r;
}

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

TEST(TrackerMetrics, CountsSwarmsRequestsAndTimes) {
  TrackerService service({}, ConnectionIds::with_random_key(), 2);
  std::string body;
  auto http = [&](const std::string& target, std::size_t worker) {
    body.clear();
    return service.handle_http(target, *IpAddress::parse("10.0.0.1"), Seconds(100), body, worker);
  };
  http("/announce?" + build_announce_query(request(1, 7001, 0)), 0);  // a seeder
  http("/announce?" + build_announce_query(request(1, 7002, 5)), 1);  // a leecher
  http("/announce?" + build_announce_query(request(2, 7003, 5)), 0);
  http("/announce?info_hash=short&port=1", 0);
  http("/nowhere", 1);
  service.observe_http_time(0, 2e-6);
  service.observe_http_time(1, 0.5);

  const HttpAnswer answer = http("/metrics", 0);
  EXPECT_EQ(answer.status, 200);
  EXPECT_EQ(answer.content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_TRUE(has_line(body, "starling_tracker_info_hashes 2")) << body;
  EXPECT_TRUE(has_line(body, "starling_tracker_seeders 1")) << body;
  EXPECT_TRUE(has_line(body, "starling_tracker_leechers 2")) << body;
  EXPECT_TRUE(has_line(
      body, R"(starling_tracker_requests_total{protocol="http",action="announce",result="ok"} 3)"));
  EXPECT_TRUE(has_line(
      body,
      R"(starling_tracker_requests_total{protocol="http",action="announce",result="error"} 1)"));
  EXPECT_TRUE(has_line(
      body, R"(starling_tracker_requests_total{protocol="http",action="other",result="error"} 1)"));
  EXPECT_TRUE(has_line(body, "# TYPE starling_tracker_http_response_seconds histogram"));
  EXPECT_TRUE(has_line(body, R"(starling_tracker_http_response_seconds_bucket{le="5e-06"} 1)"))
      << body;
  EXPECT_TRUE(has_line(body, R"(starling_tracker_http_response_seconds_bucket{le="+Inf"} 2)"));
  EXPECT_TRUE(has_line(body, "starling_tracker_http_response_seconds_count 2"));
}

}  // namespace
}  // namespace starling::tracker
