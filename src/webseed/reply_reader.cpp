#include "webseed/reply_reader.hpp"

#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <charconv>

namespace starling::webseed {
namespace {

namespace http = boost::beast::http;

bool parse_int(std::string_view text, std::int64_t& out) {
  if (text.empty()) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && out >= 0;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string_view view(boost::beast::string_view v) {
  return {v.data(), v.size()};
}

}  // namespace

std::optional<ContentRange> parse_content_range(std::string_view value) {
  value = trim(value);
  if (value.substr(0, 6) != "bytes ") return std::nullopt;
  value = trim(value.substr(6));
  const auto dash = value.find('-');
  const auto slash = value.find('/');
  if (dash == std::string_view::npos || slash == std::string_view::npos || slash < dash) {
    return std::nullopt;
  }
  ContentRange r;
  if (!parse_int(value.substr(0, dash), r.first) ||
      !parse_int(value.substr(dash + 1, slash - dash - 1), r.last) || r.last < r.first) {
    return std::nullopt;
  }
  const std::string_view total = value.substr(slash + 1);
  if (total != "*") {
    if (!parse_int(total, r.total) || r.total <= r.last) return std::nullopt;
  }
  return r;
}

Expected<std::size_t> ReplyReader::parse_header(std::string_view input, bool& done) {
  // The parser wants the whole header in one buffer: gather it, then hand back what followed.
  const std::size_t before = pending_.size();
  const std::size_t room = max_header_bytes_ - std::min(max_header_bytes_, before);
  if (room == 0) return Error(Errc::webseed_bad_reply, "header longer than the limit");
  pending_.append(input.substr(0, room));
  http::response_parser<http::empty_body> parser;
  parser.eager(false);
  parser.header_limit(static_cast<std::uint32_t>(max_header_bytes_));
  parser.skip(false);
  boost::system::error_code ec;
  const std::size_t used = parser.put(boost::asio::buffer(pending_.data(), pending_.size()), ec);
  if (ec == http::error::need_more) {
    if (pending_.size() >= max_header_bytes_) {
      return Error(Errc::webseed_bad_reply, "header longer than the limit");
    }
    done = false;
    return input.size() < room ? input.size() : room;
  }
  if (ec) return Error(Errc::webseed_bad_reply, "header: " + ec.message());
  if (!parser.is_header_done()) return Error(Errc::webseed_bad_reply, "header incomplete");
  const auto& message = parser.get();
  ReplyHeader h;
  h.status = static_cast<int>(message.result_int());
  h.keep_alive = message.keep_alive();
  if (message.chunked()) {
    return Error(Errc::webseed_bad_reply, "chunked reply to a range request");
  }
  if (auto length = message.find(http::field::content_length); length != message.end()) {
    if (!parse_int(trim(view(length->value())), h.content_length)) {
      return Error(Errc::webseed_bad_reply, "bad Content-Length");
    }
  }
  if (auto range = message.find(http::field::content_range); range != message.end()) {
    h.range = parse_content_range(view(range->value()));
    if (!h.range) {
      return Error(Errc::webseed_bad_reply,
                   "bad Content-Range '" + std::string(view(range->value()).substr(0, 80)) + "'");
    }
  }
  if (auto location = message.find(http::field::location); location != message.end()) {
    h.location = std::string(trim(view(location->value())));
  }
  // Bytes of `input` that belonged to the header: all of it up to `used` minus what was
  // already pending before this call.
  const std::size_t consumed = used - before;
  pending_.clear();
  body_remaining_ = h.content_length < 0 ? 0 : h.content_length;
  header_ = std::move(h);
  done = true;
  return consumed;
}

Expected<ReplyReader::Step> ReplyReader::feed(std::string_view input) {
  Step step;
  if (!header_) {
    bool done = false;
    auto used = parse_header(input, done);
    if (!used) return used.error();
    step.consumed = *used;
    if (!done) return step;
    step.header_done = true;
    if (header_->content_length < 0 && header_->status != 204 && header_->status != 304) {
      // Without a length the body would run to the end of the connection.
      if (header_->status >= 200 && header_->status < 300) {
        return Error(Errc::webseed_bad_reply, "reply without Content-Length");
      }
    }
    input.remove_prefix(step.consumed);
  }
  const auto take =
      static_cast<std::size_t>(std::min<std::int64_t>(body_remaining_, std::ssize(input)));
  step.body = input.substr(0, take);
  step.consumed += take;
  body_remaining_ -= static_cast<std::int64_t>(take);
  step.reply_done = body_remaining_ == 0;
  return step;
}

void ReplyReader::reset() {
  pending_.clear();
  header_.reset();
  body_remaining_ = 0;
}

}  // namespace starling::webseed
