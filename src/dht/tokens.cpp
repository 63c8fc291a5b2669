#include "dht/tokens.hpp"

#include "core/digest.hpp"

namespace starling::dht {

TokenIssuer::TokenIssuer(std::mt19937_64& rng, TimePoint now, std::chrono::seconds rotation)
    : rng_(rng), rotation_(rotation), rotated_at_(now) {
  for (auto& b : current_) b = static_cast<std::uint8_t>(rng_());
  for (auto& b : previous_) b = static_cast<std::uint8_t>(rng_());
}

void TokenIssuer::rotate(TimePoint now) {
  while (now - rotated_at_ >= rotation_) {
    previous_ = current_;
    for (auto& b : current_) b = static_cast<std::uint8_t>(rng_());
    rotated_at_ += rotation_;
    if (now - rotated_at_ >= rotation_) rotated_at_ = now;  // long idle: both secrets new
  }
}

std::string TokenIssuer::token_for(const std::array<std::uint8_t, 16>& secret,
                                   const tracker::IpAddress& ip) const {
  Sha1Hasher hasher;
  hasher.update(secret.data(), secret.size());
  const auto plain = ip.unmapped();
  hasher.update(plain.bytes.data(), plain.size());
  return std::string(hasher.finish().view().substr(0, 8));
}

std::string TokenIssuer::issue(const tracker::IpAddress& ip, TimePoint now) {
  rotate(now);
  return token_for(current_, ip);
}

bool TokenIssuer::valid(const tracker::IpAddress& ip, std::string_view token, TimePoint now) {
  rotate(now);
  return token == token_for(current_, ip) || token == token_for(previous_, ip);
}

}  // namespace starling::dht
