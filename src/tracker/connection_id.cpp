#include "tracker/connection_id.hpp"

#include <openssl/rand.h>

#include <cstring>
#include <stdexcept>

namespace starling::tracker {
namespace {

constexpr std::uint64_t rotl(std::uint64_t x, int b) {
  return (x << b) | (x >> (64 - b));
}

struct SipState {
  std::uint64_t v0, v1, v2, v3;
  void round() {
    v0 += v1;
    v1 = rotl(v1, 13);
    v1 ^= v0;
    v0 = rotl(v0, 32);
    v2 += v3;
    v3 = rotl(v3, 16);
    v3 ^= v2;
    v0 += v3;
    v3 = rotl(v3, 21);
    v3 ^= v0;
    v2 += v1;
    v1 = rotl(v1, 17);
    v1 ^= v2;
    v2 = rotl(v2, 32);
  }
  void absorb(std::uint64_t m) {
    v3 ^= m;
    round();
    round();
    v0 ^= m;
  }
};

std::uint64_t load_le(const std::uint8_t* p, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i) v |= std::uint64_t{p[i]} << (8 * i);
  return v;
}

}  // namespace

std::uint64_t siphash24(const SipKey& key, std::string_view data) {
  const std::uint64_t k0 = load_le(key.data(), 8);
  const std::uint64_t k1 = load_le(key.data() + 8, 8);
  SipState s{k0 ^ 0x736f6d6570736575ULL, k1 ^ 0x646f72616e646f6dULL, k0 ^ 0x6c7967656e657261ULL,
             k1 ^ 0x7465646279746573ULL};
  const auto* p = reinterpret_cast<const std::uint8_t*>(data.data());
  const std::size_t full = data.size() / 8 * 8;
  for (std::size_t at = 0; at < full; at += 8) s.absorb(load_le(p + at, 8));
  s.absorb((std::uint64_t{data.size() & 0xff} << 56) | load_le(p + full, data.size() - full));
  s.v2 ^= 0xff;
  for (int i = 0; i < 4; ++i) s.round();
  return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

ConnectionIds ConnectionIds::with_random_key() {
  SipKey key{};
  if (RAND_bytes(key.data(), static_cast<int>(key.size())) != 1) {
    throw std::runtime_error("RAND_bytes failed");  // start-up only
  }
  return ConnectionIds(key);
}

std::uint64_t ConnectionIds::mac(const PeerAddress& client, std::int64_t bucket) const {
  std::array<char, 1 + 16 + 8> input{};
  input[0] = client.ip.v6 ? 6 : 4;
  std::memcpy(input.data() + 1, client.ip.bytes.data(), 16);
  for (int i = 0; i < 8; ++i) input[17 + i] = static_cast<char>(bucket >> (8 * i));
  return siphash24(key_, std::string_view(input.data(), input.size()));
}

std::uint64_t ConnectionIds::issue(const PeerAddress& client, Seconds now) const {
  return mac(client, now.count() / kBucket.count());
}

bool ConnectionIds::valid(std::uint64_t id, const PeerAddress& client, Seconds now) const {
  const std::int64_t bucket = now.count() / kBucket.count();
  return id == mac(client, bucket) || id == mac(client, bucket - 1);
}

}  // namespace starling::tracker
