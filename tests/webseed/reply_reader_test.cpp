#include "webseed/reply_reader.hpp"

#include <gtest/gtest.h>

#include <string>

namespace starling::webseed {
namespace {

TEST(ContentRange, Parses) {
  EXPECT_EQ(parse_content_range("bytes 0-9/100"), (ContentRange{0, 9, 100}));
  EXPECT_EQ(parse_content_range(" bytes 5-5/*"), (ContentRange{5, 5, -1}));
  for (const char* bad : {"bytes 9-0/100", "bytes 0-9/9", "items 0-9/100", "bytes 0-9",
                          "bytes -9/1", "bytes 0-x/100", "bytes */100"}) {
    EXPECT_FALSE(parse_content_range(bad)) << bad;
  }
}

// Feeds `stream` in pieces of `chunk` bytes; collects replies as (status, body).
std::vector<std::pair<int, std::string>> read_all(const std::string& stream, std::size_t chunk,
                                                  std::string* error = nullptr) {
  ReplyReader reader;
  std::vector<std::pair<int, std::string>> out;
  std::string body;
  std::string_view rest(stream);
  std::string carry;  // what the reader did not take yet (an incomplete header is kept inside)
  while (!rest.empty()) {
    std::string_view input = rest.substr(0, chunk);
    rest.remove_prefix(input.size());
    while (!input.empty()) {
      auto step = reader.feed(input);
      if (!step) {
        if (error) *error = step.error().message();
        return out;
      }
      input.remove_prefix(step->consumed);
      body += step->body;
      if (step->reply_done) {
        out.emplace_back(reader.header().status, body);
        body.clear();
        reader.reset();
      } else if (step->consumed == 0 || input.empty()) {
        break;
      }
    }
  }
  return out;
}

TEST(ReplyReader, SplitsPipelinedRepliesWhateverTheChunking) {
  const std::string stream =
      "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-4/10\r\nContent-Length: 5\r\n\r\n"
      "hello"
      "HTTP/1.1 206 Partial Content\r\nContent-Length: 3\r\nContent-Range: bytes 5-7/10\r\n\r\n"
      "abc";
  for (std::size_t chunk : {1u, 2u, 7u, 64u, 4096u}) {
    const auto replies = read_all(stream, chunk);
    ASSERT_EQ(replies.size(), 2u) << chunk;
    EXPECT_EQ(replies[0], (std::pair<int, std::string>{206, "hello"}));
    EXPECT_EQ(replies[1], (std::pair<int, std::string>{206, "abc"}));
  }
}

TEST(ReplyReader, ReportsHeaderFields) {
  ReplyReader reader;
  auto step = reader.feed(
      "HTTP/1.1 302 Found\r\nLocation: http://b/x\r\nContent-Length: 0\r\nConnection: "
      "close\r\n\r\n");
  ASSERT_TRUE(step);
  EXPECT_TRUE(step->header_done);
  EXPECT_TRUE(step->reply_done);
  EXPECT_EQ(reader.header().status, 302);
  EXPECT_EQ(reader.header().location, "http://b/x");
  EXPECT_FALSE(reader.header().keep_alive);
}

TEST(ReplyReader, KeepsAliveUnlessTold) {
  ReplyReader reader;
  auto step = reader.feed("HTTP/1.1 206 Partial Content\r\nContent-Length: 1\r\n\r\nx");
  ASSERT_TRUE(step);
  EXPECT_TRUE(step->reply_done);
  EXPECT_TRUE(reader.header().keep_alive);
  reader.reset();
  step = reader.feed("HTTP/1.0 206 Partial Content\r\nContent-Length: 1\r\n\r\nx");
  ASSERT_TRUE(step);
  EXPECT_FALSE(reader.header().keep_alive);
}

TEST(ReplyReader, RefusesWhatItCannotFrame) {
  std::string error;
  read_all("HTTP/1.1 206 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 100,
           &error);
  EXPECT_NE(error.find("chunked"), std::string::npos) << error;
  error.clear();
  read_all("HTTP/1.1 206 OK\r\nContent-Range: bytes 0-4/10\r\n\r\nhello", 100, &error);
  EXPECT_NE(error.find("Content-Length"), std::string::npos) << error;
  error.clear();
  read_all("HTTP/1.1 206 OK\r\nContent-Range: bytes x\r\nContent-Length: 1\r\n\r\nh", 100, &error);
  EXPECT_NE(error.find("Content-Range"), std::string::npos) << error;
  error.clear();
  read_all("garbage\r\n\r\n", 100, &error);
  EXPECT_FALSE(error.empty());
  error.clear();
  read_all("HTTP/1.1 200 OK\r\nX: " + std::string(20000, 'a') + "\r\n\r\n", 1000, &error);
  EXPECT_NE(error.find("longer than the limit"), std::string::npos) << error;
}

}  // namespace
}  // namespace starling::webseed
