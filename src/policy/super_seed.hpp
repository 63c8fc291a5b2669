// Initial seeding (BEP 16 "superseeding", the non-strict variant): a seed whose upload is the
// swarm's bottleneck should send every piece once before it sends any piece twice. Leechers
// cannot arrange that: each picks the rarest pieces it knows of, and until the first copy of a
// piece has arrived somewhere and been announced, several leechers ask the seed for the same one
// (a 12-host deploy measured 1.6-1.9 copies of the artifact leaving the origin, and the deploy
// took as many times the origin's own upload time).
//
// So the seed hides what it has and reveals it piece by piece: each peer is told (by HAVE) of
// `pieces_per_peer` pieces it lacks, chosen as the ones given out least so far, then the ones
// fewest peers have. When the peer announces one of them, it is told of the next. Everything
// the seed sends is then a piece nobody else was given yet, until every piece has been given
// once; from then on the least given pieces go to whoever still lacks them, so no peer waits.
//
// Pure logic: the connection reports what the peer has and asks which pieces to announce.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <unordered_map>
#include <vector>

#include "core/bitfield.hpp"
#include "core/piece_geometry.hpp"
#include "policy/piece_picker.hpp"

namespace starling::policy {

struct SuperSeedSettings {
  // Pieces a peer has been told of and still lacks: enough to keep its requests flowing while
  // the next one is announced (one round trip), few enough that a piece is not waiting in one
  // peer's queue while another could have had it.
  int pieces_per_peer = 2;
  // ... and at least this many bytes of them, for small pieces (a 16 MiB artifact has 16 KiB
  // pieces: two would be a 32 KiB window per peer, less than a round trip of a fast link).
  std::int64_t bytes_per_peer = std::int64_t{512} * 1024;
  std::uint64_t seed = 1;  // breaks ties between equally good pieces
};

class SuperSeed {
 public:
  SuperSeed(std::int32_t num_pieces, std::int64_t piece_size,
            const SuperSeedSettings& settings = {});

  std::int32_t num_pieces() const { return static_cast<std::int32_t>(given_.size()); }

  void add_peer(PeerKey peer);
  // The peer is gone; `had` is what it had. Pieces it was given but lacked go back to the pool.
  void remove_peer(PeerKey peer, const Bitfield& had);
  // The peer has `piece` (a HAVE, or one bit of its bitfield). Counts each piece once per peer.
  void peer_has(PeerKey peer, PieceIndex piece);
  // We choked the peer: the pieces it was given and lacks go back to the pool (it knows we have
  // them, but cannot ask while choked, and another peer can carry them meanwhile).
  void release(PeerKey peer, const Bitfield& peer_has);

  // Pieces to announce (HAVE) to the peer now so that it is working on `pieces_per_peer` pieces
  // it lacks. `peer_has` is the peer's bitfield as the connection knows it.
  std::vector<PieceIndex> top_up(PeerKey peer, const Bitfield& peer_has);

  // For a peer we choke: one piece to announce so that it becomes interested (and the choker
  // may pick it), not counted as given, so that another peer can still carry it. Nothing when
  // the peer already knows of a piece it lacks.
  std::optional<PieceIndex> tease(PeerKey peer, const Bitfield& peer_has);

  // Whether the peer has been told we have `piece` (a request for any other piece is unexpected
  // but harmless: a seed may serve it).
  bool revealed(PeerKey peer, PieceIndex piece) const;
  // How many times the piece has been given out (announced to a peer that lacked it).
  int given(PieceIndex piece) const { return given_[static_cast<std::size_t>(piece.value())]; }

 private:
  struct PeerState {
    Bitfield revealed;                // told we have it
    std::vector<PieceIndex> working;  // given to it, not yet announced by it, not released
    int revealed_missing = 0;         // revealed pieces it has not announced
  };
  void reveal(PeerState& state, PieceIndex piece);
  PieceIndex choose(const PeerState& state, const Bitfield& peer_has);

  SuperSeedSettings settings_;
  int pieces_per_peer_;       // the settings' two limits for this piece size
  std::vector<int> given_;    // per piece
  std::vector<int> holders_;  // per piece: connected peers that have it
  std::unordered_map<std::uint32_t, PeerState> peers_;
  std::mt19937_64 rng_;
};

}  // namespace starling::policy
