// BEP 11 peer exchange (ut_pex): a bencoded dict of compact peer lists — "added" / "added.f"
// (one flags byte per peer) / "dropped" for IPv4 and "added6" / "added6.f" / "dropped6" for
// IPv6 — sent to a connected peer at most once a minute, naming at most 50 added and 50
// dropped peers. Sans-IO: the codec, and PexDiff, which remembers what one peer was told.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/expected.hpp"

namespace starling::wire {

inline constexpr std::string_view kUtPexName = "ut_pex";
inline constexpr std::uint8_t kOurUtPexId = 1;
// BEP 11: no more than 50 added and 50 dropped peers per message.
inline constexpr std::size_t kMaxPexPeers = 50;

struct PexPeer {
  bool v6 = false;
  std::array<std::uint8_t, 16> ip{};  // IPv4 in the first 4 bytes, network order
  std::uint16_t port = 0;
  // clang-tidy 14 misreads defaulted comparisons as a literal 0 pointer.
  friend auto operator<=>(const PexPeer&,
                          const PexPeer&) = default;  // NOLINT(modernize-use-nullptr)
};

// Flags of an added peer (BEP 11).
inline constexpr std::uint8_t kPexPrefersEncryption = 0x01;
inline constexpr std::uint8_t kPexSeed = 0x02;
inline constexpr std::uint8_t kPexSupportsUtp = 0x04;
inline constexpr std::uint8_t kPexReachable = 0x10;

struct PexMessage {
  std::vector<PexPeer> added;
  std::vector<std::uint8_t> added_flags;  // one per added peer (0 when the sender gave none)
  std::vector<PexPeer> dropped;
};

// Errc::wire_bad_message when the payload is not a bencoded dict. Peers past the first 50 of
// each list, port 0 and lists whose length is not a multiple of the entry size are ignored.
Expected<PexMessage> parse_pex(std::string_view payload);
std::string encode_pex(const PexMessage& message);

// What one connection has been told so far. next() gives the message that brings it up to
// date with `current` (the peers we are connected to now, minus itself), within the BEP's 50 +
// 50; the rest follows in later messages. nullopt when there is nothing new.
class PexDiff {
 public:
  std::optional<PexMessage> next(const std::vector<PexPeer>& current, std::uint8_t flags = 0);
  std::size_t told() const { return told_.size(); }

 private:
  std::set<PexPeer> told_;
};

}  // namespace starling::wire
