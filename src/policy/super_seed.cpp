#include "policy/super_seed.hpp"

#include <algorithm>
#include <limits>

namespace starling::policy {

SuperSeed::SuperSeed(std::int32_t num_pieces, std::int64_t piece_size,
                     const SuperSeedSettings& settings)
    : settings_(settings),
      pieces_per_peer_(static_cast<int>(std::max<std::int64_t>(
          settings.pieces_per_peer,
          piece_size > 0 ? (settings.bytes_per_peer + piece_size - 1) / piece_size : 1))),
      given_(static_cast<std::size_t>(std::max(num_pieces, 0)), 0),
      holders_(given_.size(), 0),
      rng_(settings.seed) {}

void SuperSeed::add_peer(PeerKey peer) {
  peers_.try_emplace(peer.value(), PeerState{Bitfield(given_.size()), {}});
}

void SuperSeed::remove_peer(PeerKey peer, const Bitfield& had) {
  release(peer, had);
  for (std::size_t p = 0; p < holders_.size() && p < had.size(); ++p) {
    if (had[p] && holders_[p] > 0) --holders_[p];
  }
  peers_.erase(peer.value());
}

void SuperSeed::peer_has(PeerKey peer, PieceIndex piece) {
  const auto p = static_cast<std::size_t>(piece.value());
  if (p >= holders_.size()) return;
  ++holders_[p];
  auto it = peers_.find(peer.value());
  if (it == peers_.end()) return;
  std::erase(it->second.working, piece);
  if (it->second.revealed[p]) --it->second.revealed_missing;
}

void SuperSeed::release(PeerKey peer, const Bitfield& peer_has) {
  auto it = peers_.find(peer.value());
  if (it == peers_.end()) return;
  for (PieceIndex piece : it->second.working) {
    const auto p = static_cast<std::size_t>(piece.value());
    if (!peer_has[p] && given_[p] > 0) --given_[p];
  }
  it->second.working.clear();
}

std::vector<PieceIndex> SuperSeed::top_up(PeerKey peer, const Bitfield& peer_has) {
  std::vector<PieceIndex> out;
  auto it = peers_.find(peer.value());
  if (it == peers_.end()) return out;
  PeerState& state = it->second;
  // A piece it got from someone else (its bitfield, or a HAVE we were not told of) is done too.
  std::erase_if(state.working, [&](PieceIndex piece) {
    return peer_has[static_cast<std::size_t>(piece.value())];
  });
  while (static_cast<int>(state.working.size()) < pieces_per_peer_) {
    const PieceIndex piece = choose(state, peer_has);
    if (piece.value() < 0) break;
    reveal(state, piece);
    state.working.push_back(piece);
    ++given_[static_cast<std::size_t>(piece.value())];
    out.push_back(piece);
  }
  return out;
}

std::optional<PieceIndex> SuperSeed::tease(PeerKey peer, const Bitfield& peer_has) {
  auto it = peers_.find(peer.value());
  if (it == peers_.end()) return std::nullopt;
  PeerState& state = it->second;
  if (state.revealed_missing > 0) return std::nullopt;
  const PieceIndex piece = choose(state, peer_has);
  if (piece.value() < 0) return std::nullopt;
  reveal(state, piece);
  return piece;
}

void SuperSeed::reveal(PeerState& state, PieceIndex piece) {
  state.revealed.set(static_cast<std::size_t>(piece.value()));
  ++state.revealed_missing;
}

bool SuperSeed::revealed(PeerKey peer, PieceIndex piece) const {
  auto it = peers_.find(peer.value());
  return it != peers_.end() && it->second.revealed[static_cast<std::size_t>(piece.value())];
}

// The least given piece the peer lacks and has not been told of, then the one fewest peers
// have; the scan starts at a random piece so that ties fall differently for every peer.
PieceIndex SuperSeed::choose(const PeerState& state, const Bitfield& peer_has) {
  const std::size_t n = given_.size();
  if (n == 0) return PieceIndex(-1);
  const std::size_t start = std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_);
  std::int64_t best_key = std::numeric_limits<std::int64_t>::max();
  std::size_t best = n;
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t p = (start + k) % n;
    if (peer_has[p] || state.revealed[p]) continue;
    const std::int64_t key =
        (std::int64_t{given_[p]} << 32) | static_cast<std::uint32_t>(holders_[p]);
    if (key < best_key) {
      best_key = key;
      best = p;
      if (key == 0) break;  // nobody was given it and nobody has it: nothing beats that
    }
  }
  return best == n ? PieceIndex(-1) : PieceIndex(static_cast<std::int32_t>(best));
}

}  // namespace starling::policy
