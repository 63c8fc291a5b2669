// announce_peer write tokens (BEP 5): a get_peers reply carries a token bound to the
// requester's IP; an announce_peer must bring it back. A token is the first 8 bytes of
// SHA-1(secret || IP); the secret rotates every `rotation` and the previous one is still
// accepted, so a token lives 5 to 10 minutes. Nothing is stored per requester.
#pragma once

#include <array>
#include <chrono>
#include <random>
#include <string>
#include <string_view>

#include "tracker/peer_address.hpp"

namespace starling::dht {

class TokenIssuer {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  TokenIssuer(std::mt19937_64& rng, TimePoint now,
              std::chrono::seconds rotation = std::chrono::minutes(5));

  std::string issue(const tracker::IpAddress& ip, TimePoint now);
  bool valid(const tracker::IpAddress& ip, std::string_view token, TimePoint now);

 private:
  void rotate(TimePoint now);
  std::string token_for(const std::array<std::uint8_t, 16>& secret,
                        const tracker::IpAddress& ip) const;

  std::mt19937_64& rng_;
  std::chrono::seconds rotation_;
  TimePoint rotated_at_;
  std::array<std::uint8_t, 16> current_{};
  std::array<std::uint8_t, 16> previous_{};
};

}  // namespace starling::dht
