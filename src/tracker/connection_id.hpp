// BEP 15 connection ids that cannot be forged: SipHash-2-4, keyed with 16 random bytes per
// process, of the client's IP address and a 60-second time bucket. An id is accepted in its
// own bucket and the next one, so it lives 60 to 120 seconds (BEP 15: a client uses it for one
// minute, a server accepts it for two). Nothing is stored per client. The port is left out on
// purpose: what the id proves is that the sender receives packets at that address (no spoofed
// source), and clients such as libtorrent share one cached id among sockets of one host.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "tracker/peer_address.hpp"
#include "tracker/peer_store.hpp"

namespace starling::tracker {

using SipKey = std::array<std::uint8_t, 16>;

// SipHash-2-4 (Aumasson and Bernstein): a fast keyed MAC for short inputs. Written here rather
// than through OpenSSL's EVP_MAC because the per-call context set-up of EVP costs more than the
// hash itself at one call per UDP packet.
std::uint64_t siphash24(const SipKey& key, std::string_view data);

class ConnectionIds {
 public:
  static constexpr Seconds kBucket{60};

  explicit ConnectionIds(const SipKey& key) : key_(key) {}
  // A key from OpenSSL's RAND_bytes.
  static ConnectionIds with_random_key();

  std::uint64_t issue(const PeerAddress& client, Seconds now) const;
  bool valid(std::uint64_t id, const PeerAddress& client, Seconds now) const;

 private:
  std::uint64_t mac(const PeerAddress& client, std::int64_t bucket) const;
  SipKey key_;
};

}  // namespace starling::tracker
