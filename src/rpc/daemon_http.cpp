#include "rpc/daemon_http.hpp"

#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>

#include "rpc/web_files.hpp"

namespace starling::rpc {
namespace {

namespace beast_http = boost::beast::http;

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

DaemonHttp::DaemonHttp(boost::asio::io_context& io, DaemonBackend& backend,
                       DaemonHttpSettings settings)
    : backend_(backend), settings_(std::move(settings)), dispatcher_(backend) {
  server_ = std::make_unique<http::Server>(
      io, [this](const http::Request& request, const http::Endpoint&, const http::Reply& reply) {
        handle(request, reply);
      });
}

Status DaemonHttp::listen(const boost::asio::ip::tcp::endpoint& endpoint) {
  return server_->listen(endpoint);
}

boost::asio::ip::tcp::endpoint DaemonHttp::local_endpoint() const {
  return server_->local_endpoint();
}

void DaemonHttp::stop() {
  server_->stop();
}

void DaemonHttp::handle(const http::Request& request, const http::Reply& reply) {
  std::map<std::string, std::string> headers;
  for (const auto& field : request) {
    std::string name(field.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    headers[name] = std::string(field.value());
  }
  const std::string method(request.method_string());
  const std::string target(request.target());
  TransportVerdict verdict = check_transport(settings_.transport, method, target, headers);
  if (verdict.route == Route::rpc) {
    ++rpc_requests_;
    // The reply may come later (torrent-add fetching a .torrent by URL): keep what it needs.
    auto kept = std::make_shared<const http::Request>(request);
    auto extra = std::make_shared<const std::vector<std::pair<std::string, std::string>>>(
        std::move(verdict.headers));
    dispatcher_.handle(request.body(), unix_now(), [kept, extra, reply](std::string body) {
      http::Response response = http::make_response(*kept, http::Status::ok, std::move(body),
                                                    "application/json; charset=UTF-8");
      for (const auto& [name, value] : *extra) response.set(name, value);
      finish(*kept, std::move(response), reply);
    });
    return;
  }
  http::Response response;
  switch (verdict.route) {
    case Route::rpc:
      break;  // answered above
    case Route::web:
      response = web_file(request, verdict.web_path);
      break;
    case Route::metrics:
      response = metrics(request);
      break;
    case Route::redirect:
    case Route::refuse: {
      response = http::make_response(request, static_cast<http::Status>(verdict.status),
                                     std::move(verdict.body), "text/html; charset=UTF-8");
      break;
    }
  }
  for (const auto& [name, value] : verdict.headers) response.set(name, value);
  finish(request, std::move(response), reply);
}

void DaemonHttp::finish(const http::Request& request, http::Response response,
                        const http::Reply& reply) {
  if (request.method() == http::Verb::head) {
    const auto length = response.body().size();
    response.body().clear();
    response.content_length(length);
  }
  reply(std::move(response));
}

http::Response DaemonHttp::web_file(const http::Request& request,
                                    const std::string& web_path) const {
  if (settings_.web_root.empty()) {
    return http::make_response(request, http::Status::not_found,
                               "no web client: install transmission-common or pass --web-root",
                               "text/plain; charset=utf-8");
  }
  auto relative = web_file_path(web_path);
  if (!relative) {
    return http::make_response(request, http::Status::bad_request, "bad path", "text/plain");
  }
  const auto file = settings_.web_root / *relative;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) {
    return http::make_response(request, http::Status::not_found, "not found", "text/plain");
  }
  std::ifstream in(file, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  auto response =
      http::make_response(request, http::Status::ok, buffer.str(), web_content_type(file));
  // The client checks for updates by reloading; files change only with the package.
  response.set(beast_http::field::cache_control, "no-cache");
  return response;
}

http::Response DaemonHttp::metrics(const http::Request& request) const {
  PrometheusText out;
  out.family("starling_build_info", "gauge", "Always 1; the version is a label.");
  out.sample("starling_build_info", {{"version", STARLING_VERSION}}, std::int64_t{1});
  backend_.write_metrics(out, settings_.metrics_per_torrent);
  out.family("starling_rpc_requests_total", "counter", "RPC requests answered.");
  out.sample("starling_rpc_requests_total", rpc_requests_);
  return http::make_response(request, http::Status::ok, out.take(),
                             std::string(kPrometheusContentType));
}

}  // namespace starling::rpc
