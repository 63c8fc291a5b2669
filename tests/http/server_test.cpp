#include "http/server.hpp"

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <optional>
#include <string>
#include <thread>

#include "http/client.hpp"

namespace starling::http {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

const Endpoint loopback{asio::ip::make_address("127.0.0.1"), 0};

Request make_request(Verb verb, std::string target, std::string body = {}) {
  Request request{verb, target, 11};
  request.body() = std::move(body);
  return request;
}

// Runs `io` until `response` is set (or 5 s pass) and returns it.
Expected<Response> fetch_and_wait(asio::io_context& io, const Endpoint& to, Request request,
                                  FetchOptions options = {}) {
  std::optional<Expected<Response>> result;
  fetch(
      io, to, std::move(request), [&](Expected<Response> r) { result = std::move(r); }, options);
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!result && std::chrono::steady_clock::now() < deadline) {
    io.restart();  // run_for stops the context whenever it runs out of work
    io.run_for(10ms);
  }
  if (!result) return Error(Errc::io_error, "test: no callback");
  return std::move(*result);
}

// A blocking client on its own thread, for what fetch does not do (keep-alive, raw bytes).
std::string raw_exchange(const Endpoint& to, const std::string& bytes) {
  asio::io_context io;
  tcp::socket socket(io);
  socket.connect(to);
  asio::write(socket, asio::buffer(bytes));
  std::string reply;
  boost::system::error_code error;
  char chunk[4096];
  while (!error) {
    const std::size_t n = socket.read_some(asio::buffer(chunk), error);
    reply.append(chunk, n);
  }
  return reply;
}

TEST(HttpServer, AnswersARequestWithTheHandlersResponse) {
  asio::io_context io;
  std::string seen_target, seen_body;
  Server server(io, [&](const Request& request, const Endpoint& remote, Reply reply) {
    seen_target = std::string(request.target());
    seen_body = request.body();
    EXPECT_TRUE(remote.address().is_loopback());
    reply(make_response(request, Status::created, R"({"ok":true})"));
  });
  ASSERT_TRUE(server.listen(loopback));
  auto response = fetch_and_wait(io, server.local_endpoint(),
                                 make_request(Verb::post, "/v1/jobs", R"({"a":1})"));
  ASSERT_TRUE(response) << response.error().message();
  EXPECT_EQ(response->result(), Status::created);
  EXPECT_EQ(response->body(), R"({"ok":true})");
  EXPECT_EQ((*response)[boost::beast::http::field::content_type], "application/json");
  EXPECT_EQ(seen_target, "/v1/jobs");
  EXPECT_EQ(seen_body, R"({"a":1})");
}

TEST(HttpServer, AnswersLaterWhenTheHandlerKeepsTheReply) {
  asio::io_context io;
  asio::steady_timer later(io);
  Server server(io, [&](const Request& request, const Endpoint&, Reply reply) {
    later.expires_after(50ms);
    later.async_wait([request, reply](boost::system::error_code) {
      reply(make_response(request, Status::ok, "late"));
      reply(make_response(request, Status::ok, "twice"));  // ignored
    });
  });
  ASSERT_TRUE(server.listen(loopback));
  auto response = fetch_and_wait(io, server.local_endpoint(), make_request(Verb::get, "/"));
  ASSERT_TRUE(response) << response.error().message();
  EXPECT_EQ(response->body(), "late");
}

TEST(HttpServer, ADroppedReplyBecomesAnInternalError) {
  asio::io_context io;
  Server server(io, [](const Request&, const Endpoint&, Reply) {});
  ASSERT_TRUE(server.listen(loopback));
  auto response = fetch_and_wait(io, server.local_endpoint(), make_request(Verb::get, "/"));
  ASSERT_TRUE(response) << response.error().message();
  EXPECT_EQ(response->result(), Status::internal_server_error);
}

TEST(HttpServer, KeepsTheConnectionAliveAcrossRequests) {
  asio::io_context io;
  int handled = 0;
  Server server(io, [&](const Request& request, const Endpoint&, Reply reply) {
    ++handled;
    reply(make_response(request, Status::ok, std::string(request.target())));
  });
  ASSERT_TRUE(server.listen(loopback));
  std::string reply;
  std::thread client([&] {
    reply = raw_exchange(server.local_endpoint(),
                         "GET /one HTTP/1.1\r\nHost: x\r\n\r\n"
                         "GET /two HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  });
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (handled < 2 && std::chrono::steady_clock::now() < deadline) io.run_for(10ms);
  io.run_for(50ms);
  client.join();
  EXPECT_EQ(handled, 2);
  EXPECT_NE(reply.find("/one"), std::string::npos) << reply;
  EXPECT_NE(reply.find("/two"), std::string::npos) << reply;
  EXPECT_LT(reply.find("/one"), reply.find("/two"));
}

TEST(HttpServer, RefusesOversizedBodiesAndMalformedRequests) {
  asio::io_context io;
  ServerLimits limits;
  limits.max_body = 100;
  int handled = 0;
  Server server(
      io,
      [&](const Request& request, const Endpoint&, Reply reply) {
        ++handled;
        reply(make_response(request, Status::ok, ""));
      },
      limits);
  ASSERT_TRUE(server.listen(loopback));
  auto big = fetch_and_wait(io, server.local_endpoint(),
                            make_request(Verb::post, "/", std::string(101, 'x')));
  ASSERT_TRUE(big) << big.error().message();
  EXPECT_EQ(big->result(), Status::payload_too_large);

  std::string reply;
  std::thread client([&] {
    reply = raw_exchange(server.local_endpoint(), "GET / HTTP/1.1\r\nBad Header\r\n\r\n");
  });
  const auto deadline = std::chrono::steady_clock::now() + 2s;
  while (reply.empty() && std::chrono::steady_clock::now() < deadline) io.run_for(10ms);
  client.join();
  EXPECT_EQ(reply.rfind("HTTP/1.1 400", 0), 0u) << reply;
  EXPECT_EQ(handled, 0);
}

TEST(HttpServer, ClosesConnectionsBeyondTheCap) {
  asio::io_context io;
  ServerLimits limits;
  limits.max_connections = 1;
  std::optional<Reply> held;
  std::optional<Request> held_request;
  Server server(
      io,
      [&](const Request& request, const Endpoint&, Reply reply) {
        held = reply;  // the first connection stays busy
        held_request = request;
      },
      limits);
  ASSERT_TRUE(server.listen(loopback));
  std::optional<Expected<Response>> first;
  fetch(io, server.local_endpoint(), make_request(Verb::get, "/first"),
        [&](Expected<Response> r) { first = std::move(r); });
  while (!held) io.run_for(10ms);
  EXPECT_EQ(server.connection_count(), 1u);
  auto second = fetch_and_wait(io, server.local_endpoint(), make_request(Verb::get, "/second"));
  EXPECT_FALSE(second);
  (*held)(make_response(*held_request, Status::ok, "done"));
  while (!first) io.run_for(10ms);
  ASSERT_TRUE(*first);
  EXPECT_EQ((*first)->body(), "done");
}

TEST(HttpServer, StopClosesOpenConnections) {
  asio::io_context io;
  std::optional<Reply> held;
  Server server(io, [&](const Request&, const Endpoint&, Reply reply) { held = reply; });
  ASSERT_TRUE(server.listen(loopback));
  std::optional<Expected<Response>> result;
  fetch(io, server.local_endpoint(), make_request(Verb::get, "/"),
        [&](Expected<Response> r) { result = std::move(r); });
  while (!held) io.run_for(10ms);
  server.stop();
  while (!result) io.run_for(10ms);
  EXPECT_FALSE(*result);
  Request request = make_request(Verb::get, "/");
  (*held)(make_response(request, Status::ok, "too late"));  // harmless
  io.run_for(20ms);
}

TEST(HttpFetch, ReportsARefusedConnectionAndATimeout) {
  asio::io_context io;
  Endpoint closed;
  {
    tcp::acceptor probe(io, loopback);
    closed = probe.local_endpoint();
  }
  auto refused = fetch_and_wait(io, closed, make_request(Verb::get, "/"));
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message().find("connect"), std::string::npos)
      << refused.error().message();

  std::optional<Reply> never;
  Server silent(io, [&](const Request&, const Endpoint&, Reply reply) { never = reply; });
  ASSERT_TRUE(silent.listen(loopback));
  FetchOptions quick;
  quick.timeout = 200ms;
  const auto start = std::chrono::steady_clock::now();
  auto timed_out = fetch_and_wait(io, silent.local_endpoint(), make_request(Verb::get, "/"), quick);
  ASSERT_FALSE(timed_out);
  EXPECT_NE(timed_out.error().message().find("receive"), std::string::npos)
      << timed_out.error().message();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

TEST(HttpFetch, RefusesABodyOverItsLimit) {
  asio::io_context io;
  Server server(io, [](const Request& request, const Endpoint&, Reply reply) {
    reply(make_response(request, Status::ok, std::string(5000, 'x'), "text/plain"));
  });
  ASSERT_TRUE(server.listen(loopback));
  FetchOptions small;
  small.max_body = 1000;
  auto refused = fetch_and_wait(io, server.local_endpoint(), make_request(Verb::get, "/"), small);
  ASSERT_FALSE(refused) << "a 5000-byte body came through a 1000-byte limit";
  EXPECT_NE(refused.error().message().find("receive"), std::string::npos)
      << refused.error().message();
  auto fits = fetch_and_wait(io, server.local_endpoint(), make_request(Verb::get, "/"));
  ASSERT_TRUE(fits) << fits.error().message();
  EXPECT_EQ(fits->body().size(), 5000U);

  // A body that ends with the connection (no Content-Length) is held to the limit too.
  tcp::acceptor raw(io, loopback);
  std::thread serve([&] {
    tcp::socket peer = raw.accept();
    char request[1024];
    boost::system::error_code ignored;
    peer.read_some(asio::buffer(request), ignored);
    asio::write(
        peer, asio::buffer("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + std::string(5000, 'y')),
        ignored);
    peer.shutdown(tcp::socket::shutdown_both, ignored);
  });
  auto unbounded = fetch_and_wait(io, raw.local_endpoint(), make_request(Verb::get, "/"), small);
  serve.join();
  EXPECT_FALSE(unbounded) << "a 5000-byte body until EOF came through a 1000-byte limit";
}

}  // namespace
}  // namespace starling::http
