#include "policy/smart_ban.hpp"

#include <algorithm>
#include <set>

namespace starling::policy {

void SmartBan::on_block(PieceIndex piece, int block, const PeerName& from, int blocks_in_piece) {
  auto& senders = senders_[piece];
  senders.resize(static_cast<std::size_t>(blocks_in_piece));
  senders[static_cast<std::size_t>(block)] = from;
}

std::vector<SmartBan::PeerName> SmartBan::on_piece_failed(
    PieceIndex piece, const std::vector<Sha1Digest>& block_digests) {
  std::vector<PeerName> ban;
  auto senders = std::move(senders_[piece]);
  senders_.erase(piece);
  auto& suspects = suspects_[piece];
  suspects.resize(block_digests.size());
  std::set<PeerName> distinct;
  for (std::size_t i = 0; i < block_digests.size() && i < senders.size(); ++i) {
    if (senders[i].empty()) continue;
    suspects[i].push_back(Suspect{senders[i], block_digests[i]});
    distinct.insert(senders[i]);
  }
  if (distinct.size() == 1 && ++strikes_[*distinct.begin()] >= max_strikes_) {
    ban.push_back(*distinct.begin());
  }
  return ban;
}

std::vector<SmartBan::PeerName> SmartBan::on_piece_passed(
    PieceIndex piece, const std::vector<Sha1Digest>& block_digests) {
  std::set<PeerName> ban;
  if (auto it = suspects_.find(piece); it != suspects_.end()) {
    for (std::size_t i = 0; i < it->second.size() && i < block_digests.size(); ++i) {
      for (const Suspect& s : it->second[i]) {
        if (s.digest != block_digests[i]) ban.insert(s.from);
      }
    }
  }
  forget(piece);
  return {ban.begin(), ban.end()};
}

void SmartBan::forget(PieceIndex piece) {
  senders_.erase(piece);
  suspects_.erase(piece);
}

}  // namespace starling::policy
