// Fetching a torrent's info dictionary piece by piece (BEP 9), sans-IO. Peers are opaque ids;
// time is an explicit input. The caller tells it the sizes peers announce, asks which piece to
// request from a peer, and hands over data and rejects; pieces that time out or whose peer
// leaves are asked from others. The whole is checked against the info-hash; on a mismatch
// every piece is dropped and the peers that sent them are named so the caller can drop them.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/digest.hpp"
#include "core/expected.hpp"

namespace starling::wire {

struct MetadataLimits {
  // Larger info dictionaries are refused (a 16 M-piece torrent has 320 MiB of hashes, but real
  // ones stay under a few MiB; this bounds what a liar can make us allocate).
  std::int64_t max_size = std::int64_t{32} << 20;
  // A request unanswered this long is given up and the piece asked from another peer.
  std::chrono::milliseconds request_timeout{5000};
  // Requests outstanding to one peer at once.
  int max_requests_per_peer = 4;
};

class MetadataAssembler {
 public:
  using PeerId = std::uint64_t;
  using TimePoint = std::chrono::steady_clock::time_point;

  explicit MetadataAssembler(const Sha1Digest& info_hash, MetadataLimits limits = {});

  // A peer announced `size` (BEP 10 metadata_size). The first plausible size is adopted;
  // Errc::wire_bad_metadata_message when it is out of range or differs from the adopted one
  // (that peer should not be asked).
  Status on_size(PeerId peer, std::int64_t size);
  bool has_size() const { return size_ > 0; }
  std::int64_t size() const { return size_; }

  // The next piece to ask `peer` for (and counts it as requested), or nullopt: no size yet,
  // nothing free, the peer has rejected us, or it has enough outstanding.
  std::optional<std::int32_t> next_request(PeerId peer, TimePoint now);

  enum class Outcome { ignored, stored, complete, mismatch };
  // A data message. `ignored` for a piece we did not ask this peer for or of the wrong length;
  // `mismatch` when the last piece completed metadata that fails the hash (all pieces are
  // dropped; see culprits()).
  Outcome on_data(PeerId peer, std::int32_t piece, std::int64_t total_size, std::string_view data);
  // The peer will not send `piece` (or anything: we stop asking it).
  void on_reject(PeerId peer, std::int32_t piece);
  void on_peer_gone(PeerId peer);
  // Gives up requests older than the timeout; their peers count as slow, not gone.
  void expire(TimePoint now);

  bool complete() const { return complete_; }
  // The verified info dictionary, once complete().
  const std::string& bytes() const { return buffer_; }
  // The peers that sent pieces of the metadata that failed the hash.
  const std::set<PeerId>& culprits() const { return culprits_; }

 private:
  struct Piece {
    bool received = false;
    std::optional<PeerId> requested_from;
    TimePoint requested_at{};
    PeerId sent_by = 0;
  };
  std::int64_t piece_length(std::int32_t piece) const;
  int outstanding(PeerId peer) const;

  Sha1Digest info_hash_;
  MetadataLimits limits_;
  std::int64_t size_ = 0;
  std::string buffer_;
  std::vector<Piece> pieces_;
  std::set<PeerId> rejected_;  // peers that refused a request: not asked again
  std::set<PeerId> culprits_;
  bool complete_ = false;
};

}  // namespace starling::wire
