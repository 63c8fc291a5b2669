#include "rpc/web_files.hpp"

#include <gtest/gtest.h>

namespace starling::rpc {
namespace {

TEST(WebFiles, MapsPathsBelowTheRoot) {
  EXPECT_EQ(web_file_path(""), std::filesystem::path("index.html"));
  EXPECT_EQ(web_file_path("javascript/main.js"), std::filesystem::path("javascript/main.js"));
  EXPECT_EQ(web_file_path("images/"), std::filesystem::path("images/index.html"));
  EXPECT_EQ(web_file_path("a%20b.png"), std::filesystem::path("a b.png"));
}

TEST(WebFiles, RefusesEscapes) {
  for (const char* bad : {"../etc/passwd", "a/../../x", "%2e%2e/x", "/etc/passwd", "a//b", "./x",
                          "a\\b", "a//", "a%00b", "bad%2", "bad%zz"}) {
    EXPECT_FALSE(web_file_path(bad)) << bad;
  }
}

TEST(WebFiles, ContentTypes) {
  EXPECT_EQ(web_content_type("index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(web_content_type("x/main.js"), "application/javascript; charset=utf-8");
  EXPECT_EQ(web_content_type("style.css"), "text/css; charset=utf-8");
  EXPECT_EQ(web_content_type("blob"), "application/octet-stream");
}

}  // namespace
}  // namespace starling::rpc
