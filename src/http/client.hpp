// One HTTP/1.1 request per connection, with a deadline for the whole exchange: what a control
// plane needs to talk to its agents (a job to post, a status to poll), without a resolver.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstddef>
#include <functional>

#include "core/expected.hpp"
#include "http/server.hpp"

namespace starling::http {

using FetchCallback = std::function<void(Expected<Response> response)>;

struct FetchOptions {
  std::chrono::milliseconds timeout{10'000};  // connect + send + receive
  std::size_t max_body = std::size_t{64} * 1024 * 1024;
};

// Sends `request` to `endpoint` and calls `done` once on the io_context's thread with the
// response (any status) or the error (refused, timed out, malformed reply). Sets Host when
// missing, Content-Length, and Connection: close.
void fetch(boost::asio::io_context& io, const Endpoint& endpoint, Request request,
           FetchCallback done, FetchOptions options = {});

}  // namespace starling::http
