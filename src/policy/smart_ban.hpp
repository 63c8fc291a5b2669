// Who sent the bad data? A piece that fails its hash may hold blocks from several peers, and
// banning all of them would punish honest peers for one liar. So, per piece, remember which peer
// sent each block; when the piece fails, remember each block's digest as that peer sent it; when
// the piece later passes, any block whose digest differs from the good one convicts its sender.
// A peer that alone sent a whole failed piece also gets a strike; enough strikes ban it too.
// Pure logic: the caller hashes blocks on its disk threads and does the banning.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/digest.hpp"
#include "core/strong_index.hpp"

namespace starling::policy {

class SmartBan {
 public:
  // Peers are named by their address (a ban is per address, as in other clients).
  using PeerName = std::string;

  explicit SmartBan(int max_strikes = 2) : max_strikes_(max_strikes) {}

  void on_block(PieceIndex piece, int block, const PeerName& from, int blocks_in_piece);
  // The piece failed; `block_digests` are its blocks as they were on disk. Returns the peers to
  // ban now (sole senders of failed pieces that reached max_strikes).
  std::vector<PeerName> on_piece_failed(PieceIndex piece,
                                        const std::vector<Sha1Digest>& block_digests);
  // Whether on_piece_passed needs the block digests of this passed piece (it failed before).
  bool had_failed(PieceIndex piece) const { return suspects_.count(piece) != 0; }
  // The piece passed; returns the peers whose earlier copy of some block differed.
  std::vector<PeerName> on_piece_passed(PieceIndex piece,
                                        const std::vector<Sha1Digest>& block_digests);
  void forget(PieceIndex piece);

 private:
  struct Suspect {
    PeerName from;
    Sha1Digest digest;
  };
  int max_strikes_;
  std::map<PieceIndex, std::vector<PeerName>> senders_;               // per block, current copy
  std::map<PieceIndex, std::vector<std::vector<Suspect>>> suspects_;  // per block, failed copies
  std::map<PeerName, int> strikes_;
};

}  // namespace starling::policy
