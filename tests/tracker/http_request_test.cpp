#include "tracker/http_request.hpp"

#include <gtest/gtest.h>

#include <string>

namespace starling::tracker {
namespace {

TEST(HttpRequest, ParsesRequestLineAndKeepAlive) {
  const std::string req = "GET /announce?a=1 HTTP/1.1\r\nHost: x\r\n\r\nGET /next";
  auto head = parse_http_request_head(req);
  ASSERT_TRUE(head);
  ASSERT_TRUE(head->has_value());
  EXPECT_EQ((*head)->method, "GET");
  EXPECT_EQ((*head)->target, "/announce?a=1");
  EXPECT_TRUE((*head)->keep_alive);
  EXPECT_EQ((*head)->head_size, req.find("GET /next"));
}

TEST(HttpRequest, ConnectionHeaderAndVersion) {
  auto close = parse_http_request_head("GET / HTTP/1.1\r\nconnection: Close\r\n\r\n");
  ASSERT_TRUE(close && close->has_value());
  EXPECT_FALSE((*close)->keep_alive);
  auto old = parse_http_request_head("GET / HTTP/1.0\r\n\r\n");
  ASSERT_TRUE(old && old->has_value());
  EXPECT_FALSE((*old)->keep_alive);
  auto old_kept = parse_http_request_head("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  ASSERT_TRUE(old_kept && old_kept->has_value());
  EXPECT_TRUE((*old_kept)->keep_alive);
  auto body = parse_http_request_head("GET / HTTP/1.1\r\nContent-Length: 12\r\n\r\n");
  ASSERT_TRUE(body && body->has_value());
  EXPECT_EQ((*body)->content_length, 12U);
}

TEST(HttpRequest, IncompleteUntilBlankLine) {
  auto partial = parse_http_request_head("GET /announce HTTP/1.1\r\nHost: x\r\n");
  ASSERT_TRUE(partial);
  EXPECT_FALSE(partial->has_value());
}

TEST(HttpRequest, MalformedAndOversized) {
  EXPECT_FALSE(parse_http_request_head("GARBAGE\r\n\r\n"));
  EXPECT_FALSE(parse_http_request_head("GET /x HTTP/2.0\r\n\r\n"));
  EXPECT_FALSE(parse_http_request_head("GET /x HTTP/1.1\r\nNoColon\r\n\r\n"));
  EXPECT_FALSE(parse_http_request_head("GET /x HTTP/1.1\r\nContent-Length: x\r\n\r\n"));
  EXPECT_FALSE(parse_http_request_head("GET /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"));
  const std::string huge = "GET /" + std::string(9000, 'a');
  auto too_long = parse_http_request_head(huge, 8192);
  ASSERT_FALSE(too_long);
  EXPECT_NE(too_long.error().detail.find("longer than 8192"), std::string::npos);
  EXPECT_FALSE(parse_http_request_head("GET /" + std::string(100, 'a') + " HTTP/1.1\r\n\r\n", 64));
}

}  // namespace
}  // namespace starling::tracker
