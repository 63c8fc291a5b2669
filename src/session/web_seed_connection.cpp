#include "session/web_seed_connection.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>
#include <cstring>

#include "session/session.hpp"
#include "session/torrent.hpp"

namespace starling::session {
namespace {

namespace asio = boost::asio;
using boost::asio::ip::tcp;

// Under a download limit, reads wait until at least this much may be read.
constexpr std::int64_t kMinLimitedRead = std::int64_t{16} * 1024;

bool is_redirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

}  // namespace

WebSeedConnection::WebSeedConnection(Torrent& torrent, policy::PeerKey key, webseed::HttpUrl url)
    : torrent_(torrent),
      key_(key),
      seed_(std::move(url)),
      name_("web seed " + seed_.text()),
      all_pieces_(static_cast<std::size_t>(torrent.geometry().num_pieces), true),
      policy_(
          Clock::now(),
          std::min(torrent.settings().web_seed.max_request_bytes, torrent.geometry().piece_length),
          torrent.settings().web_seed),
      resolver_(torrent.session().io()),
      socket_(torrent.session().io()),
      read_timer_(torrent.session().io()),
      host_(seed_.host),
      port_(seed_.port) {}

WebSeedConnection::~WebSeedConnection() {
  boost::system::error_code ignored;
  socket_.close(ignored);
}

void WebSeedConnection::log(const std::string& line) const {
  torrent_.log(name_ + ": " + line);
}

WebSeedStatus WebSeedConnection::status() const {
  WebSeedStatus s;
  s.url = seed_.text();
  s.downloaded = downloaded_;
  s.blocks = blocks_;
  s.failures = policy_.failures();
  s.rate = policy_.rate();
  if (closed_) {
    s.state = "dropped: " + close_reason_;
  } else {
    switch (state_) {
      case State::idle:
        s.state = "idle";
        break;
      case State::connecting:
        s.state = "connecting";
        break;
      case State::connected:
        s.state = requests_.empty() ? "idle" : "active";
        break;
      case State::backing_off:
        s.state = "backing off";
        break;
    }
  }
  return s;
}

webseed::HttpUrl WebSeedConnection::url_for(FileIndex file) const {
  if (auto it = redirected_.find(file); it != redirected_.end()) return it->second;
  return webseed::file_url(seed_, torrent_.info().layout, torrent_.info().multi_file, file);
}

void WebSeedConnection::close(const std::string& reason) {
  if (closed_) return;
  closed_ = true;
  close_reason_ = reason;
  abort_all();
  close_socket();
  read_timer_.cancel();
  torrent_.on_web_seed_closed(*this, reason);
}

void WebSeedConnection::close_socket() {
  ++generation_;
  resolver_.cancel();
  boost::system::error_code ignored;
  socket_.close(ignored);
  read_in_flight_ = false;
  write_in_flight_ = false;
  outbox_.clear();
  writing_.clear();
  reader_.reset();
  if (state_ == State::connecting || state_ == State::connected) state_ = State::idle;
}

void WebSeedConnection::abort_all() {
  auto& picker = torrent_.picker();
  const auto give_back = [&](const Request& r) {
    Fetch& f = *r.fetch;
    // Blocks not handed on yet go back to the picker (it ignores ones that already arrived).
    for (int b = f.delivered; b < f.blocks; ++b) {
      const BlockRef block{f.piece, f.first_block + b};
      if (!picker.is_block_received(block)) picker.abort_request(block, key_);
    }
    f.delivered = f.blocks;  // a fetch spread over several requests is given back once
  };
  for (const auto& r : requests_) give_back(r);
  for (const auto& r : unsent_) give_back(r);
  requests_.clear();
  unsent_.clear();
  policy_.on_all_dropped();
}

void WebSeedConnection::fail(const std::string& reason, bool permanent) {
  if (closed_) return;
  abort_all();
  close_socket();
  const auto verdict = policy_.on_failure(Clock::now(), permanent);
  if (verdict == webseed::ServerPolicy::Verdict::drop) {
    close(reason);
    return;
  }
  log(fmt::format(
      "{}; retrying in {} ms", reason,
      std::chrono::duration_cast<std::chrono::milliseconds>(policy_.retry_at() - Clock::now())
          .count()));
  state_ = State::backing_off;
  torrent_.request_more_everywhere();  // the blocks it had are free for others now
}

void WebSeedConnection::resend_elsewhere(const std::string& why) {
  log(why);
  // Unanswered requests go back in front of the queue, in order: a fetch keeps what it has.
  while (!requests_.empty()) {
    Request r = std::move(requests_.back());
    requests_.pop_back();
    r.got_first_byte = false;
    r.received = 0;
    unsent_.push_front(std::move(r));
  }
  close_socket();
  if (unsent_.empty()) return request_more();
  host_ = unsent_.front().url.host;
  port_ = unsent_.front().url.port;
  connect();
}

void WebSeedConnection::restart(const std::string& why) {
  log(why);
  abort_all();
  close_socket();
  host_ = seed_.host;
  port_ = seed_.port;
  request_more();
}

void WebSeedConnection::request_more() {
  if (closed_ || state_ == State::backing_off) return;
  if (!torrent_.need_data()) {
    // Done: keep nothing open.
    if (requests_.empty() && unsent_.empty() && state_ != State::idle) close_socket();
    return;
  }
  if (state_ == State::idle) {
    connect();
    return;
  }
  if (state_ != State::connected || !torrent_.accepting_blocks()) return;
  const auto& settings = torrent_.settings().web_seed;
  const auto& geometry = torrent_.geometry();
  const std::int64_t want = policy_.bytes_to_request();
  if (want <= 0 || (!settings.pipelining && (!requests_.empty() || !unsent_.empty()))) {
    send_queued();
    return;
  }
  const int want_blocks = static_cast<int>((want + kBlockSize - 1) / kBlockSize);
  auto blocks = torrent_.picker().pick(all_pieces_, want_blocks, key_);
  // End game hands out blocks in no particular order: sorted, neighbours share a request.
  std::sort(blocks.begin(), blocks.end());
  const int max_run =
      static_cast<int>(std::max<std::int64_t>(1, settings.max_request_bytes / kBlockSize));
  const auto now = Clock::now();
  std::size_t i = 0;
  int runs = 0;
  while (i < blocks.size()) {
    // A run: consecutive blocks of one piece, at most max_request_bytes.
    std::size_t j = i + 1;
    while (j < blocks.size() && blocks[j].piece == blocks[i].piece &&
           blocks[j].block == blocks[j - 1].block + 1 && static_cast<int>(j - i) < max_run) {
      ++j;
    }
    if (!settings.pipelining && runs == 1) {
      // One request at a time: the rest go back.
      for (std::size_t k = i; k < blocks.size(); ++k) {
        torrent_.picker().abort_request(blocks[k], key_);
      }
      break;
    }
    auto fetch = std::make_shared<Fetch>();
    fetch->piece = blocks[i].piece;
    fetch->first_block = blocks[i].block;
    fetch->blocks = static_cast<int>(j - i);
    const std::int64_t offset = geometry.block_offset(blocks[i]);
    for (std::size_t k = i; k < j; ++k) fetch->length += geometry.block_length(blocks[k]);
    fetch->buffer = std::make_shared_for_overwrite<char[]>(static_cast<std::size_t>(fetch->length));
    fetch->parts = webseed::map_run(torrent_.info().layout, fetch->piece, offset, fetch->length);
    std::int64_t fetched = 0;
    for (std::size_t p = 0; p < fetch->parts.size(); ++p) {
      if (fetch->parts[p].pad) continue;
      unsent_.push_back(Request{fetch, p, url_for(fetch->parts[p].file), now});
      fetched += fetch->parts[p].length;
    }
    policy_.on_request_sent(fetched, now);
    skip_padding(*fetch, 0);
    ++runs;
    i = j;
  }
  send_queued();
}

void WebSeedConnection::connect() {
  if (closed_) return;
  state_ = State::connecting;
  connect_started_ = Clock::now();
  const auto generation = generation_;
  resolver_.async_resolve(
      host_, std::to_string(port_),
      [self = shared_from_this(), generation](boost::system::error_code ec,
                                              const tcp::resolver::results_type& results) {
        if (self->closed_ || generation != self->generation_) return;
        if (ec) return self->fail("cannot resolve " + self->host_ + ": " + ec.message(), false);
        asio::async_connect(
            self->socket_, results,
            [self, generation](boost::system::error_code ec2, const tcp::endpoint&) {
              if (self->closed_ || generation != self->generation_) return;
              if (ec2) return self->fail("cannot connect: " + ec2.message(), false);
              self->on_connected();
            });
      });
}

void WebSeedConnection::on_connected() {
  const auto now = Clock::now();
  boost::system::error_code ignored;
  socket_.set_option(tcp::no_delay(true), ignored);
  state_ = State::connected;
  policy_.on_connected(now - connect_started_, now);
  read();
  if (unsent_.empty()) {
    request_more();
  } else {
    send_queued();
  }
}

void WebSeedConnection::send_queued() {
  if (state_ != State::connected) return;
  const auto now = Clock::now();
  while (!unsent_.empty()) {
    Request& r = unsent_.front();
    if (r.url.host != host_ || r.url.port != port_) {
      // Another host (a redirect): once this connection has nothing in flight, move to it.
      if (!requests_.empty()) break;
      close_socket();
      host_ = r.url.host;
      port_ = r.url.port;
      connect();
      return;
    }
    const auto& range = r.fetch->parts[r.part];
    outbox_ += fmt::format("GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: starling/" STARLING_VERSION
                           "\r\nAccept-Encoding: identity\r\nRange: bytes={}-{}\r\n\r\n",
                           r.url.target, r.url.host_header(), range.file_offset,
                           range.file_offset + range.length - 1);
    r.sent = now;
    r.idle_when_sent = requests_.empty();
    requests_.push_back(std::move(r));
    unsent_.pop_front();
  }
  flush();
}

void WebSeedConnection::flush() {
  if (write_in_flight_ || outbox_.empty() || state_ != State::connected) return;
  writing_.swap(outbox_);
  outbox_.clear();
  write_in_flight_ = true;
  const auto generation = generation_;
  asio::async_write(
      socket_, asio::buffer(writing_),
      [self = shared_from_this(), generation](boost::system::error_code ec, std::size_t) {
        if (self->closed_ || generation != self->generation_) return;
        self->write_in_flight_ = false;
        self->writing_.clear();
        if (ec) return self->fail("cannot send: " + ec.message(), false);
        self->flush();
      });
}

std::size_t WebSeedConnection::read_allowance() {
  // The torrent's bucket and (unless the torrent opts out) the session's.
  policy::TransferLimits limits = torrent_.download_limits();
  if (limits.unlimited()) {
    download_credit_ = 0;  // a limit set later starts from a clean slate
    return read_buffer_.size();
  }
  const auto now = Clock::now();
  const auto want = static_cast<std::int64_t>(read_buffer_.size());
  if (download_credit_ < kMinLimitedRead) {
    download_credit_ += limits.grant(want - download_credit_, now);
  }
  if (download_credit_ >= kMinLimitedRead) {
    return static_cast<std::size_t>(std::min(download_credit_, want));
  }
  const auto generation = generation_;
  read_timer_.expires_after(limits.time_until(kMinLimitedRead - download_credit_, now));
  read_timer_.async_wait([self = shared_from_this(), generation](boost::system::error_code ec) {
    if (!ec && !self->closed_ && generation == self->generation_) self->read();
  });
  return 0;
}

void WebSeedConnection::read() {
  if (read_in_flight_ || state_ != State::connected) return;
  const std::size_t allowed = read_allowance();
  if (allowed == 0) return;
  read_in_flight_ = true;
  const auto generation = generation_;
  socket_.async_read_some(
      asio::buffer(read_buffer_.data(), allowed),
      [self = shared_from_this(), generation](boost::system::error_code ec, std::size_t n) {
        if (self->closed_ || generation != self->generation_) return;
        self->read_in_flight_ = false;
        if (!self->torrent_.download_limits().unlimited()) {
          self->download_credit_ -= static_cast<std::int64_t>(n);
        }
        if (ec) {
          if (self->requests_.empty() && self->unsent_.empty()) {
            // An idle keep-alive connection closed by the server: fine, reopen on demand.
            self->close_socket();
            return;
          }
          if (ec == asio::error::eof && self->requests_.front().received == 0 &&
              !self->reader_.has_header()) {
            // Closed between replies (after "Connection: close", or a server that limits
            // requests per connection): send the rest again on a new connection.
            return self->resend_elsewhere("server closed the connection; reconnecting");
          }
          return self->fail("connection lost: " + ec.message(), false);
        }
        self->on_read(n);
      });
}

void WebSeedConnection::on_read(std::size_t n) {
  std::string_view input(read_buffer_.data(), n);
  const auto generation = generation_;
  while (!input.empty()) {
    if (requests_.empty()) return fail("server sent bytes nobody asked for", false);
    auto step = reader_.feed(input);
    if (!step) return fail(step.error().message(), false);
    input.remove_prefix(step->consumed);
    Request& request = requests_.front();
    if (step->header_done) {
      if (auto s = handle_header(request); !s) return;  // handle_header failed or redirected
      if (generation != generation_) return;
    }
    if (!step->body.empty()) on_body(request, step->body);
    if (step->reply_done) {
      const bool keep_alive = reader_.header().keep_alive;
      reader_.reset();
      on_request_done();
      if (closed_ || generation != generation_) return;
      if (!keep_alive) {
        // "Connection: close" (nginx says so after keepalive_requests replies): what was
        // pipelined behind this reply will not be answered here.
        return resend_elsewhere("server closes the connection after this reply; reconnecting");
      }
    } else if (step->consumed == 0) {
      break;  // header still incomplete
    }
  }
  read();
}

Status WebSeedConnection::handle_header(Request& request) {
  const auto& h = reader_.header();
  const auto& range = request.fetch->parts[request.part];
  const std::int64_t last = range.file_offset + range.length - 1;
  if (is_redirect(h.status)) {
    auto target = webseed::resolve_location(request.url, h.location);
    const int limit = torrent_.settings().web_seed.max_redirects;
    if (!target || request.redirects >= limit) {
      fail(target ? fmt::format("more than {} redirects", limit)
                  : "bad redirect: " + target.error().message(),
           true);
      return Error(Errc::webseed_bad_reply, "redirect");
    }
    redirected_[range.file] = *target;
    // Ask again at the new place, and every later request for this file too.
    request.redirects += 1;
    for (auto& r : requests_) {
      if (r.fetch->parts[r.part].file == range.file) r.url = *target;
    }
    for (auto& r : unsent_) {
      if (r.fetch->parts[r.part].file == range.file) r.url = *target;
    }
    resend_elsewhere(fmt::format("{} redirected to {}", request.url.text(), target->text()));
    return Error(Errc::webseed_bad_reply, "redirect");
  }
  if (h.status == 404 || h.status == 410 || h.status == 403) {
    fail(fmt::format("HTTP {} for {}", h.status, request.url.text()), true);
    return Error(Errc::webseed_http_status, "");
  }
  if (h.status == 200 && range.file_offset == 0 && h.content_length == range.length) {
    return ok();  // the whole file, which is what we asked for
  }
  if (h.status != 206) {
    fail(fmt::format("HTTP {} for {} (expected 206 Partial Content)", h.status, request.url.text()),
         false);
    return Error(Errc::webseed_http_status, "");
  }
  if (!h.range || h.range->first != range.file_offset || h.range->last != last ||
      h.content_length != range.length) {
    fail(fmt::format("reply for {} is not the range {}-{} we asked for", request.url.text(),
                     range.file_offset, last),
         false);
    return Error(Errc::webseed_bad_reply, "");
  }
  return ok();
}

void WebSeedConnection::on_body(Request& request, std::string_view bytes) {
  const auto now = Clock::now();
  if (!request.got_first_byte) {
    request.got_first_byte = true;
    if (request.idle_when_sent) policy_.on_first_byte_after_idle(request.sent, now);
  }
  Fetch& f = *request.fetch;
  const auto& range = f.parts[request.part];
  const std::int64_t at = range.run_offset + request.received;
  std::memcpy(f.buffer.get() + at, bytes.data(), bytes.size());
  request.received += static_cast<std::int64_t>(bytes.size());
  f.filled = at + static_cast<std::int64_t>(bytes.size());
  policy_.on_body_bytes(static_cast<std::int64_t>(bytes.size()), now);
  deliver(f);
}

void WebSeedConnection::on_request_done() {
  Request request = std::move(requests_.front());
  requests_.pop_front();
  policy_.on_request_ok();
  skip_padding(*request.fetch, request.part + 1);
  request_more();
}

void WebSeedConnection::skip_padding(Fetch& fetch, std::size_t from_part) {
  // Padding parts are zeros we never ask for: they count as filled once reached.
  for (std::size_t p = from_part; p < fetch.parts.size() && fetch.parts[p].pad; ++p) {
    std::memset(fetch.buffer.get() + fetch.parts[p].run_offset, 0,
                static_cast<std::size_t>(fetch.parts[p].length));
    fetch.filled = fetch.parts[p].run_offset + fetch.parts[p].length;
  }
  deliver(fetch);
}

void WebSeedConnection::deliver(Fetch& f) {
  const auto& geometry = torrent_.geometry();
  auto& picker = torrent_.picker();
  std::int64_t start = static_cast<std::int64_t>(f.delivered) * kBlockSize;
  while (f.delivered < f.blocks) {
    const BlockRef block{f.piece, f.first_block + f.delivered};
    const std::int64_t length = geometry.block_length(block);
    if (start + length > f.filled) break;
    ++f.delivered;
    if (!picker.is_block_received(block) && !picker.have(block.piece)) {
      downloaded_ += length;
      ++blocks_;
      torrent_.on_block(key_, name_, block,
                        SharedBytes(f.buffer, std::string_view(f.buffer.get() + start,
                                                               static_cast<std::size_t>(length))));
      if (closed_) return;
    }
    start += length;
  }
}

void WebSeedConnection::cancel_block(BlockRef) {
  // Keep going while anything still coming from here is wanted; when nothing is, the rest of
  // the replies is wasted bandwidth: reset the connection instead of draining it.
  if (requests_.empty() && unsent_.empty()) return;
  auto& picker = torrent_.picker();
  const auto obsolete = [&](const Request& r) {
    const Fetch& f = *r.fetch;
    for (int b = f.delivered; b < f.blocks; ++b) {
      if (!picker.is_block_received(BlockRef{f.piece, f.first_block + b})) return false;
    }
    return true;
  };
  if (std::all_of(requests_.begin(), requests_.end(), obsolete) &&
      std::all_of(unsent_.begin(), unsent_.end(), obsolete)) {
    restart("end game: everything asked of this server arrived from elsewhere");
  }
}

void WebSeedConnection::tick(Clock::time_point now) {
  if (closed_) return;
  const auto& settings = torrent_.settings().web_seed;
  if (state_ == State::backing_off) {
    if (now >= policy_.retry_at()) {
      state_ = State::idle;
      host_ = seed_.host;
      port_ = seed_.port;
      request_more();
    }
    return;
  }
  if (state_ == State::connecting && now - connect_started_ > settings.connect_timeout) {
    return fail("timed out connecting", false);
  }
  if (state_ == State::connected && policy_.stalled(now)) {
    return fail(fmt::format("stalled: nothing received for {} ms", settings.stall_timeout.count()),
                false);
  }
  request_more();
}

}  // namespace starling::session
