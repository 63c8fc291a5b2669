#include "tracker/http_request.hpp"

#include <algorithm>

namespace starling::tracker {
namespace {

Error bad(std::string detail, std::size_t at) {
  return Error(Errc::tracker_bad_request, std::move(detail), at);
}

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool starts_with_nocase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (lower(text[i]) != prefix[i]) return false;
  }
  return true;
}

bool contains_nocase(std::string_view text, std::string_view word) {
  if (word.size() > text.size()) return false;
  for (std::size_t i = 0; i + word.size() <= text.size(); ++i) {
    if (starts_with_nocase(text.substr(i), word)) return true;
  }
  return false;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

Expected<std::optional<HttpRequestHead>> parse_http_request_head(std::string_view buffer,
                                                                 std::size_t max_head) {
  const std::size_t end = buffer.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    if (buffer.size() >= max_head) {
      return bad("request head longer than " + std::to_string(max_head) + " bytes", max_head);
    }
    return std::optional<HttpRequestHead>();
  }
  if (end + 4 > max_head) {
    return bad("request head longer than " + std::to_string(max_head) + " bytes", max_head);
  }
  HttpRequestHead head;
  head.head_size = end + 4;
  const std::string_view text = buffer.substr(0, end + 2);  // every line ends with CRLF

  const std::size_t line_end = text.find("\r\n");
  const std::string_view line = text.substr(0, line_end);
  const std::size_t sp1 = line.find(' ');
  const std::size_t sp2 = line.rfind(' ');
  if (sp1 == std::string_view::npos || sp2 == sp1 || sp1 == 0) {
    return bad("request line is not 'METHOD TARGET VERSION'", 0);
  }
  head.method = line.substr(0, sp1);
  head.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (head.target.empty() || head.target.find(' ') != std::string_view::npos) {
    return bad("bad request target", sp1 + 1);
  }
  if (version == "HTTP/1.1") {
    head.keep_alive = true;
  } else if (version == "HTTP/1.0") {
    head.keep_alive = false;
  } else {
    return bad("unsupported HTTP version", sp2 + 1);
  }

  std::size_t at = line_end + 2;
  while (at < text.size()) {
    const std::size_t eol = text.find("\r\n", at);
    const std::string_view header = text.substr(at, eol - at);
    const std::size_t colon = header.find(':');
    if (colon == std::string_view::npos || colon == 0) return bad("header without ':'", at);
    const std::string_view name = header.substr(0, colon);
    const std::string_view value = trim(header.substr(colon + 1));
    if (name.size() == 10 && starts_with_nocase(name, "connection")) {
      if (contains_nocase(value, "close")) head.keep_alive = false;
      if (contains_nocase(value, "keep-alive")) head.keep_alive = true;
    } else if (name.size() == 14 && starts_with_nocase(name, "content-length")) {
      std::size_t length = 0;
      if (value.empty() || value.size() > 9 ||
          !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return bad("bad Content-Length", at);
      }
      for (char c : value) length = length * 10 + static_cast<std::size_t>(c - '0');
      head.content_length = length;
    } else if (name.size() == 17 && starts_with_nocase(name, "transfer-encoding")) {
      return bad("request bodies are not accepted", at);
    }
    at = eol + 2;
  }
  return std::optional<HttpRequestHead>(head);
}

}  // namespace starling::tracker
