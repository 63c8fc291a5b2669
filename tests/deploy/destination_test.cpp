#include "deploy/destination.hpp"

#include <gtest/gtest.h>

#include "support/temp_dir.hpp"

namespace starling::deploy {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

TEST(Destination, AcceptsPathsBelowTheRoot) {
  TempDir root;
  auto a = resolve_destination(root.path(), "releases/42");
  ASSERT_TRUE(a) << a.error().message();
  EXPECT_EQ(*a, fs::canonical(root.path()) / "releases" / "42");
  fs::create_directories(root.path() / "x");
  auto b = resolve_destination(root.path(), "x/");
  ASSERT_TRUE(b) << b.error().message();
  EXPECT_EQ(*b, fs::canonical(root.path() / "x"));
}

TEST(Destination, RefusesBadSpellings) {
  TempDir root;
  for (const char* bad : {"", "/etc", "../x", "a/../../x", "a/./b", "a//b", "..", ".", "a\\b"}) {
    auto r = resolve_destination(root.path(), bad);
    EXPECT_FALSE(r) << bad;
  }
  auto abs = resolve_destination(root.path(), "/etc");
  ASSERT_FALSE(abs);
  EXPECT_NE(abs.error().message().find("relative"), std::string::npos);
  EXPECT_FALSE(resolve_destination(root.path(), std::string_view("a\0b", 3)));
}

TEST(Destination, RefusesSymlinkEscapes) {
  TempDir root;
  TempDir outside;
  fs::create_directory_symlink(outside.path(), root.path() / "out");
  auto r = resolve_destination(root.path(), "out/data");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("outside the agent's --root"), std::string::npos);
  // A link that stays inside is fine.
  fs::create_directories(root.path() / "real");
  fs::create_directory_symlink(root.path() / "real", root.path() / "alias");
  auto inside = resolve_destination(root.path(), "alias/data");
  ASSERT_TRUE(inside) << inside.error().message();
  EXPECT_EQ(*inside, fs::canonical(root.path()) / "real" / "data");
  // A link to the root's parent with a name sharing the root's prefix.
  fs::create_directory_symlink(root.path().parent_path(), root.path() / "up");
  EXPECT_FALSE(resolve_destination(root.path(), "up/x"));
}

TEST(Destination, PathWithinComparesComponents) {
  EXPECT_TRUE(path_within("/srv/root", "/srv/root/a"));
  EXPECT_TRUE(path_within("/srv/root", "/srv/root"));
  EXPECT_FALSE(path_within("/srv/root", "/srv/rootkit/a"));
  EXPECT_FALSE(path_within("/srv/root", "/srv"));
}

TEST(Destination, MissingRootIsAnError) {
  EXPECT_FALSE(resolve_destination("/nonexistent/starling/root", "a"));
}

}  // namespace
}  // namespace starling::deploy
