#include "deploy/hosts_file.hpp"

#include <charconv>
#include <set>

namespace starling::deploy {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r';
}

bool host_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_';
}

bool rack_char(char c) {
  return host_name_char(c) || c == ':' || c == '/';
}

std::vector<std::string_view> split_words(std::string_view line) {
  std::vector<std::string_view> words;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && is_space(line[i])) ++i;
    const std::size_t start = i;
    while (i < line.size() && !is_space(line[i])) ++i;
    if (i > start) words.push_back(line.substr(start, i - start));
  }
  return words;
}

Error at(int line, const std::string& what) {
  return Error(Errc::invalid_argument, "hosts file line " + std::to_string(line) + ": " + what);
}

std::string shown(std::string_view text) {
  std::string out;
  for (const char c : text.substr(0, 80)) {
    out += (c >= 0x20 && c < 0x7f) ? c : '?';
  }
  return "'" + out + "'";
}

}  // namespace

std::string HostEntry::address() const {
  const std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return h + ":" + std::to_string(port);
}

Expected<std::vector<HostEntry>> parse_hosts(std::string_view text, const HostsLimits& limits) {
  std::vector<HostEntry> hosts;
  std::set<std::pair<std::string, std::uint16_t>> seen;
  int number = 0;
  while (!text.empty()) {
    ++number;
    const std::size_t newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
    if (line.size() > limits.max_line) {
      return at(number, "longer than " + std::to_string(limits.max_line) + " bytes");
    }
    if (const auto hash = line.find('#'); hash != std::string_view::npos) {
      line = line.substr(0, hash);
    }
    const auto words = split_words(line);
    if (words.empty()) continue;
    if (words.size() > 2) {
      return at(number, "expected HOST:PORT [RACK], found more: " + shown(words[2]));
    }
    HostEntry entry;
    entry.line = number;
    const std::string_view address = words[0];
    std::string_view port_text;
    if (address.front() == '[') {
      const auto close = address.find(']');
      if (close == std::string_view::npos || close + 1 >= address.size() ||
          address[close + 1] != ':') {
        return at(number, "expected [IPV6]:PORT, got " + shown(address));
      }
      entry.host = std::string(address.substr(1, close - 1));
      for (const char c : entry.host) {
        const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
                         (c >= 'A' && c <= 'F') || c == ':' || c == '.';
        if (!hex) return at(number, "not an IPv6 address: " + shown(entry.host));
      }
      if (entry.host.empty()) return at(number, "empty IPv6 address in " + shown(address));
      port_text = address.substr(close + 2);
    } else {
      const auto colon = address.rfind(':');
      if (colon == std::string_view::npos) {
        return at(number, "expected HOST:PORT, got " + shown(address) + " (no port)");
      }
      entry.host = std::string(address.substr(0, colon));
      if (entry.host.empty()) return at(number, "empty host in " + shown(address));
      for (const char c : entry.host) {
        if (!host_name_char(c)) {
          return at(number, "host " + shown(entry.host) +
                                " may hold only letters, digits, '-', '.' and '_' (IPv6 in [])");
        }
      }
      port_text = address.substr(colon + 1);
    }
    unsigned port = 0;
    const auto [end, ec] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() ||
        port == 0 || port > 65535) {
      return at(number, "port " + shown(port_text) + " is not a number from 1 to 65535");
    }
    entry.port = static_cast<std::uint16_t>(port);
    if (words.size() == 2) {
      if (words[1].size() > 64) return at(number, "rack name longer than 64 characters");
      for (const char c : words[1]) {
        if (!rack_char(c)) {
          return at(number, "rack " + shown(words[1]) +
                                " may hold only letters, digits, '-', '.', '_', ':' and '/'");
        }
      }
      entry.rack = std::string(words[1]);
    }
    if (!seen.emplace(entry.host, entry.port).second) {
      return at(number, entry.address() + " is listed twice");
    }
    if (hosts.size() >= limits.max_hosts) {
      return at(number, "more than " + std::to_string(limits.max_hosts) + " hosts");
    }
    hosts.push_back(std::move(entry));
  }
  if (hosts.empty()) return Error(Errc::invalid_argument, "hosts file: no hosts listed");
  return hosts;
}

}  // namespace starling::deploy
