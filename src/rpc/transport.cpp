#include "rpc/transport.hpp"

#include <boost/asio/ip/address.hpp>
#include <random>

#include "rpc/base64.hpp"

namespace starling::rpc {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Constant time in the length of `expected`, so a guess's timing says nothing of how much of
// it was right.
bool same_secret(std::string_view given, std::string_view expected) {
  unsigned diff = given.size() == expected.size() ? 0U : 1U;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const char g = i < given.size() ? given[i] : '\0';
    diff |= static_cast<unsigned>(static_cast<unsigned char>(g) ^
                                  static_cast<unsigned char>(expected[i]));
  }
  return diff == 0;
}

bool authorised(const TransportConfig& config, const std::map<std::string, std::string>& headers) {
  if (!config.credentials) return true;
  auto it = headers.find("authorization");
  if (it == headers.end()) return false;
  std::string_view value = it->second;
  constexpr std::string_view kBasic = "basic ";
  if (value.size() < kBasic.size() || lower(value.substr(0, kBasic.size())) != kBasic) {
    return false;
  }
  value.remove_prefix(kBasic.size());
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  auto decoded = base64_decode(value);
  if (!decoded) return false;
  const auto colon = decoded->find(':');
  if (colon == std::string::npos) return false;
  const bool user_ok = same_secret(decoded->substr(0, colon), config.credentials->first);
  const bool password_ok = same_secret(decoded->substr(colon + 1), config.credentials->second);
  return user_ok && password_ok;
}

bool glob_match(std::string_view pattern, std::string_view name) {
  if (pattern == "*") return true;
  if (pattern.size() > 1 && pattern.substr(0, 2) == "*.") {
    const std::string_view suffix = pattern.substr(1);  // ".example.org"
    return name.size() > suffix.size() && name.substr(name.size() - suffix.size()) == suffix;
  }
  return pattern == name;
}

TransportVerdict refuse(int status, std::string body) {
  TransportVerdict v;
  v.route = Route::refuse;
  v.status = status;
  v.headers.emplace_back("Content-Type", "text/html; charset=UTF-8");
  v.body = "<h1>" + std::to_string(status) + "</h1><p>" + std::move(body) + "</p>";
  return v;
}

}  // namespace

std::string host_name(std::string_view host_header) {
  std::string_view h = host_header;
  while (!h.empty() && h.front() == ' ') h.remove_prefix(1);
  while (!h.empty() && h.back() == ' ') h.remove_suffix(1);
  if (!h.empty() && h.front() == '[') {
    const auto close = h.find(']');
    if (close == std::string_view::npos) return lower(h);
    return lower(h.substr(1, close - 1));
  }
  // One colon: host:port. More than one: a bare IPv6 literal.
  const auto colon = h.find(':');
  if (colon != std::string_view::npos && h.find(':', colon + 1) == std::string_view::npos) {
    h = h.substr(0, colon);
  }
  std::string name = lower(h);
  if (!name.empty() && name.back() == '.') name.pop_back();  // "localhost." is localhost
  return name;
}

bool host_allowed(const TransportConfig& config, std::string_view host_header) {
  if (!config.host_allow_list_enabled) return true;
  const std::string name = host_name(host_header);
  if (name.empty()) return false;
  if (name == "localhost" || name.ends_with(".localhost")) return true;
  boost::system::error_code ec;
  (void)boost::asio::ip::make_address(name, ec);
  if (!ec) return true;  // an IP literal cannot be rebound
  for (const auto& pattern : config.allowed_hosts) {
    if (glob_match(lower(pattern), name)) return true;
  }
  return false;
}

TransportVerdict check_transport(const TransportConfig& config, std::string_view method,
                                 std::string_view target,
                                 const std::map<std::string, std::string>& headers) {
  if (!authorised(config, headers)) {
    TransportVerdict v = refuse(401, "Unauthorized User");
    v.headers.emplace_back("WWW-Authenticate", "Basic realm=\"Transmission\"");
    return v;
  }
  // Browsers always send Host; a request without one cannot come from a rebound page.
  if (auto host = headers.find("host");
      host != headers.end() && !host_allowed(config, host->second)) {
    return refuse(421,
                  "Transmission received your request, but the hostname was unrecognized. "
                  "Add it to the daemon's allowed hosts (--rpc-allowed-host).");
  }
  std::string_view path = target.substr(0, target.find('?'));
  if (path == kRpcPath || path == std::string(kRpcPath) + "/") {
    if (method != "POST") {
      TransportVerdict v = refuse(405, "the RPC takes POST requests");
      v.headers.emplace_back("Allow", "POST");
      return v;
    }
    auto id = headers.find(lower(kSessionIdHeader));
    if (id == headers.end() || !same_secret(id->second, config.session_id)) {
      TransportVerdict v =
          refuse(409,
                 "Your request had an invalid session-id header. To fix this, retry with "
                 "the X-Transmission-Session-Id header this reply carries.");
      v.headers.emplace_back(std::string(kSessionIdHeader), config.session_id);
      return v;
    }
    TransportVerdict v;
    v.route = Route::rpc;
    return v;
  }
  const bool reading = method == "GET" || method == "HEAD";
  if (path == "/metrics") {
    if (!reading) return refuse(405, "GET /metrics");
    TransportVerdict v;
    v.route = Route::metrics;
    return v;
  }
  if (path == "/" || path == "/transmission" || path == "/transmission/" ||
      path == "/transmission/web") {
    TransportVerdict v;
    v.route = Route::redirect;
    v.status = 301;
    v.headers.emplace_back("Location", std::string(kWebPath));
    return v;
  }
  if (path.starts_with(kWebPath)) {
    if (!reading) return refuse(405, "the web client is read with GET");
    TransportVerdict v;
    v.route = Route::web;
    v.web_path = std::string(path.substr(kWebPath.size()));
    return v;
  }
  return refuse(404, "not found");
}

std::string make_session_id() {
  constexpr std::string_view kChars =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::random_device random;
  std::string id;
  for (int i = 0; i < 48; ++i) id += kChars[random() % kChars.size()];
  return id;
}

}  // namespace starling::rpc
