#include "rpc/transport.hpp"

#include <gtest/gtest.h>

#include "rpc/base64.hpp"

namespace starling::rpc {
namespace {

class TransportTest : public ::testing::Test {
 protected:
  TransportConfig config{.session_id = "SESSION123",
                         .credentials = {},
                         .host_allow_list_enabled = true,
                         .allowed_hosts = {}};
  std::map<std::string, std::string> headers{{"host", "127.0.0.1:9091"},
                                             {"x-transmission-session-id", "SESSION123"}};
  std::string header(const TransportVerdict& v, const std::string& name) {
    for (const auto& [k, value] : v.headers) {
      if (k == name) return value;
    }
    return "";
  }
};

TEST_F(TransportTest, RpcWithTheSessionIdPasses) {
  auto v = check_transport(config, "POST", "/transmission/rpc", headers);
  EXPECT_EQ(v.route, Route::rpc);
  EXPECT_EQ(check_transport(config, "POST", "/transmission/rpc/", headers).route, Route::rpc);
  for (const auto& [name, value] : v.headers) EXPECT_NE(name, "X-Transmission-Rpc-Version");
}

TEST_F(TransportTest, MissingOrWrongSessionIdGets409WithTheId) {
  headers.erase("x-transmission-session-id");
  auto v = check_transport(config, "POST", "/transmission/rpc", headers);
  EXPECT_EQ(v.route, Route::refuse);
  EXPECT_EQ(v.status, 409);
  EXPECT_EQ(header(v, "X-Transmission-Session-Id"), "SESSION123");
  EXPECT_EQ(header(v, "X-Transmission-Rpc-Version"), "");
  headers["x-transmission-session-id"] = "SESSION124";
  EXPECT_EQ(check_transport(config, "POST", "/transmission/rpc", headers).status, 409);
}

TEST_F(TransportTest, RpcNeedsPost) {
  auto v = check_transport(config, "GET", "/transmission/rpc", headers);
  EXPECT_EQ(v.status, 405);
}

TEST_F(TransportTest, BasicAuthGets401WithTheRealm) {
  config.credentials = std::make_pair(std::string("alice"), std::string("s3cret:x"));
  auto v = check_transport(config, "POST", "/transmission/rpc", headers);
  EXPECT_EQ(v.status, 401);
  EXPECT_EQ(header(v, "WWW-Authenticate"), "Basic realm=\"Transmission\"");
  headers["authorization"] = "Basic " + base64_encode("alice:wrong");
  EXPECT_EQ(check_transport(config, "POST", "/transmission/rpc", headers).status, 401);
  headers["authorization"] = "Basic " + base64_encode("alice:s3cret:x");
  EXPECT_EQ(check_transport(config, "POST", "/transmission/rpc", headers).route, Route::rpc);
  headers["authorization"] = "basic " + base64_encode("alice:s3cret:x");
  EXPECT_EQ(check_transport(config, "POST", "/transmission/rpc", headers).route, Route::rpc);
  headers["authorization"] = "Bearer abc";
  EXPECT_EQ(check_transport(config, "POST", "/transmission/rpc", headers).status, 401);
  // Auth comes before the session id: a stranger never learns it.
  headers.erase("authorization");
  headers.erase("x-transmission-session-id");
  auto refused = check_transport(config, "POST", "/transmission/rpc", headers);
  EXPECT_EQ(refused.status, 401);
  EXPECT_EQ(header(refused, "X-Transmission-Session-Id"), "");
}

TEST_F(TransportTest, HostAllowListRefusesRebindingWith421) {
  headers["host"] = "evil.example.com:9091";
  EXPECT_EQ(check_transport(config, "POST", "/transmission/rpc", headers).status, 421);
  EXPECT_EQ(check_transport(config, "GET", "/transmission/web/", headers).status, 421);
  for (const char* good : {"localhost:9091", "LOCALHOST", "127.0.0.1", "[::1]:9091", "::1",
                           "10.1.2.3:80", "box.localhost"}) {
    headers["host"] = good;
    EXPECT_EQ(check_transport(config, "POST", "/transmission/rpc", headers).route, Route::rpc)
        << good;
  }
  config.allowed_hosts = {"nas.home", "*.example.org"};
  headers["host"] = "nas.home:9091";
  EXPECT_EQ(check_transport(config, "POST", "/transmission/rpc", headers).route, Route::rpc);
  headers["host"] = "a.example.org";
  EXPECT_EQ(check_transport(config, "POST", "/transmission/rpc", headers).route, Route::rpc);
  headers["host"] = "example.org";
  EXPECT_EQ(check_transport(config, "POST", "/transmission/rpc", headers).status, 421);
  config.host_allow_list_enabled = false;
  EXPECT_EQ(check_transport(config, "POST", "/transmission/rpc", headers).route, Route::rpc);
}

TEST_F(TransportTest, WebMetricsAndRedirects) {
  auto root = check_transport(config, "GET", "/", headers);
  EXPECT_EQ(root.route, Route::redirect);
  EXPECT_EQ(root.status, 301);
  EXPECT_EQ(header(root, "Location"), "/transmission/web/");
  auto web = check_transport(config, "GET", "/transmission/web/javascript/main.js?v=1", headers);
  EXPECT_EQ(web.route, Route::web);
  EXPECT_EQ(web.web_path, "javascript/main.js");
  EXPECT_EQ(check_transport(config, "GET", "/metrics", headers).route, Route::metrics);
  EXPECT_EQ(check_transport(config, "GET", "/other", headers).status, 404);
  EXPECT_EQ(check_transport(config, "POST", "/transmission/web/", headers).status, 405);
}

TEST(HostName, StripsPortsAndBrackets) {
  EXPECT_EQ(host_name("Example.COM:80"), "example.com");
  EXPECT_EQ(host_name("[2001:db8::1]:9091"), "2001:db8::1");
  EXPECT_EQ(host_name("2001:db8::1"), "2001:db8::1");
  EXPECT_EQ(host_name("localhost."), "localhost");
}

TEST(SessionId, IsLongAndChanges) {
  const auto a = make_session_id();
  EXPECT_EQ(a.size(), 48U);
  EXPECT_NE(a, make_session_id());
}

}  // namespace
}  // namespace starling::rpc
