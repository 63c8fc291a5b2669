#include "policy/piece_picker.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "metainfo/file_layout.hpp"

namespace starling::policy {
namespace {

// ---- String fixtures -------------------------------------------------------------------------
// One line per fact, one character per piece:
//   "availability 2213"  peers having each piece (0..9), counted with add_availability(piece)
//   "have 0100"          pieces we already have
//   "priority 4404"      piece priorities (0..7)
//   "blocks 4"           blocks per piece (default 1); "last 2": blocks in the last piece
//   "seeds 2"            peers counted with add_seed()
//   "random_first 4", "sequential", "seed 7", "end_game off", "max_requesters 2": settings.
// Unlike PickerSettings, fixtures start with random_first 0 (straight to rarest first) unless a
// line says otherwise: most scenarios are about rarest first.

Bitfield bits(std::string_view s) {
  Bitfield b(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '1') b.set(i);
  }
  return b;
}

PiecePicker make_from(const std::vector<std::string_view>& lines) {
  std::string availability, have, priority;
  int blocks = 1;
  int last = -1;
  int seeds = 0;
  PickerSettings settings;
  settings.random_first_pieces = 0;
  using Setter = std::function<void(const std::string&)>;
  const std::map<std::string_view, Setter> keys = {
      {"availability", [&](const std::string& v) { availability = v; }},
      {"have", [&](const std::string& v) { have = v; }},
      {"priority", [&](const std::string& v) { priority = v; }},
      {"blocks", [&](const std::string& v) { blocks = std::stoi(v); }},
      {"last", [&](const std::string& v) { last = std::stoi(v); }},
      {"seeds", [&](const std::string& v) { seeds = std::stoi(v); }},
      {"random_first", [&](const std::string& v) { settings.random_first_pieces = std::stoi(v); }},
      {"sequential", [&](const std::string&) { settings.sequential = true; }},
      {"seed", [&](const std::string& v) { settings.seed = std::stoull(v); }},
      {"end_game", [&](const std::string& v) { settings.end_game = v != "off"; }},
      {"max_requesters",
       [&](const std::string& v) { settings.end_game_max_requesters = std::stoi(v); }},
  };
  for (std::string_view line : lines) {
    const std::size_t space = line.find(' ');
    const auto key = keys.find(line.substr(0, space));
    if (key == keys.end()) {
      ADD_FAILURE() << "unknown fixture line: " << line;
      continue;
    }
    key->second(std::string(space == std::string_view::npos ? "" : line.substr(space + 1)));
  }
  const std::size_t n = std::max({availability.size(), have.size(), priority.size()});
  for (const std::string* s : {&availability, &have, &priority}) {
    if (!s->empty() && s->size() != n) ADD_FAILURE() << "fixture lines disagree on piece count";
  }
  PiecePicker p(
      PieceGeometry::uniform(static_cast<std::int32_t>(n), blocks, last < 0 ? blocks : last),
      settings);
  for (std::size_t i = 0; i < availability.size(); ++i) {
    for (int k = 0; k < availability[i] - '0'; ++k) {
      p.add_availability(PieceIndex(static_cast<std::int32_t>(i)));
    }
  }
  for (int k = 0; k < seeds; ++k) p.add_seed();
  for (std::size_t i = 0; i < priority.size(); ++i) {
    p.set_piece_priority(PieceIndex(static_cast<std::int32_t>(i)), priority[i] - '0');
  }
  for (std::size_t i = 0; i < have.size(); ++i) {
    if (have[i] == '1') p.we_have(PieceIndex(static_cast<std::int32_t>(i)));
  }
  return p;
}

template <class... Lines>
PiecePicker make(Lines... lines) {
  return make_from({std::string_view(lines)...});
}

std::string format(const std::vector<BlockRef>& blocks) {
  std::string out;
  for (const BlockRef& b : blocks) {
    if (!out.empty()) out += ' ';
    out += std::to_string(b.piece.value()) + '.' + std::to_string(b.block);
  }
  return out;
}

// "peer 0110" (or "peer all"): what the peer has. The result lists blocks as "piece.block".
std::string picks(PiecePicker& p, std::string_view peer_line, int want, std::uint32_t peer = 1) {
  std::string_view s = peer_line.substr(peer_line.find(' ') + 1);
  const Bitfield has =
      s == "all" ? Bitfield(static_cast<std::size_t>(p.num_pieces()), true) : bits(s);
  return format(p.pick(has, want, PeerKey(peer)));
}

BlockRef blk(std::int32_t piece, int block) {
  return BlockRef{PieceIndex(piece), block};
}

std::string cancel_list(const std::vector<PeerKey>& peers) {
  std::string out;
  for (PeerKey k : peers) out += (out.empty() ? "" : " ") + std::to_string(k.value());
  return out;
}

// ---- Rarest first --------------------------------------------------------------------------

TEST(PiecePicker, RarestFirstChoosesAmongTheLeastAvailable) {
  PiecePicker p = make("availability 2223333", "have 0000000");
  const std::string first = picks(p, "peer 1111111", 1);
  EXPECT_TRUE(first == "0.0" || first == "1.0" || first == "2.0") << first;
  // The next two picks drain the availability-2 bucket before any piece of availability 3.
  std::set<std::string> rare = {first, picks(p, "peer 1111111", 1), picks(p, "peer 1111111", 1)};
  EXPECT_EQ(rare, (std::set<std::string>{"0.0", "1.0", "2.0"}));
  const std::string fourth = picks(p, "peer 1111111", 1);
  EXPECT_TRUE(fourth[0] >= '3' && fourth[0] <= '6') << fourth;
  EXPECT_TRUE(p.check_invariants());
}

TEST(PiecePicker, RarestFirstAmongWhatThePeerHas) {
  PiecePicker p = make("availability 1123", "have 0000");
  EXPECT_EQ(picks(p, "peer 0011", 1), "2.0");
  EXPECT_EQ(picks(p, "peer 0011", 1), "3.0");
  EXPECT_EQ(picks(p, "peer 0011", 1), "");  // all requested and end game has nothing new
}

TEST(PiecePicker, TiesAreRandomButDeterministicAndSpread) {
  std::map<std::string, int> first_pick;
  for (std::uint64_t seed = 0; seed < 300; ++seed) {
    const std::string seed_line = "seed " + std::to_string(seed);
    PiecePicker a = make("availability 2223333", seed_line.c_str());
    PiecePicker b = make("availability 2223333", seed_line.c_str());
    const std::string pa = picks(a, "peer all", 5);
    EXPECT_EQ(pa, picks(b, "peer all", 5)) << "same seed, same picks";
    ++first_pick[pa.substr(0, 3)];
  }
  ASSERT_EQ(first_pick.size(), 3u);  // only the rarest pieces 0, 1, 2
  for (const auto& [piece, count] : first_pick) EXPECT_GT(count, 60) << piece;  // ~100 each
}

TEST(PiecePicker, SeedsAreOneCounterAndDoNotReorder) {
  PiecePicker p = make("availability 3120", "seeds 2");
  EXPECT_EQ(p.availability(PieceIndex(3)), 2);
  EXPECT_EQ(p.availability(PieceIndex(0)), 5);
  p.add_seed();
  p.add_seed();
  p.remove_seed();
  EXPECT_EQ(p.seeds(), 3);
  EXPECT_EQ(p.availability(PieceIndex(3)), 3);
  EXPECT_EQ(picks(p, "peer all", 4), "3.0 1.0 2.0 0.0");
}

TEST(PiecePicker, HaveAndBitfieldUpdatesMovePiecesBetweenBuckets) {
  PiecePicker p = make("availability 1111");
  p.add_availability(PieceIndex(0));  // HAVE
  p.add_availability(bits("0110"));   // BITFIELD
  EXPECT_EQ(p.availability(PieceIndex(3)), 1);
  EXPECT_EQ(picks(p, "peer all", 1), "3.0");
  p.remove_availability(bits("1000"));  // a peer left: availability 1 2 2 1
  EXPECT_EQ(p.availability(PieceIndex(0)), 1);
  EXPECT_EQ(picks(p, "peer all", 1), "0.0");
  EXPECT_TRUE(p.check_invariants());
}

TEST(PiecePicker, PeerLeavingFreesItsRequestsAndAvailability) {
  PiecePicker p = make("availability 0000", "blocks 2");
  p.add_availability(bits("1000"));  // peer 1
  p.add_availability(bits("1111"));  // peer 2
  EXPECT_EQ(picks(p, "peer 1000", 3, 1), "0.0 0.1");
  p.peer_disconnected(PeerKey(1), bits("1000"));
  EXPECT_EQ(p.availability(PieceIndex(0)), 1);
  EXPECT_TRUE(p.downloading_pieces().empty());  // untouched pieces rejoin the order
  EXPECT_TRUE(p.requesters(blk(0, 0)).empty());
  EXPECT_TRUE(p.check_invariants());
  const std::string again = picks(p, "peer 1111", 8, 2);
  EXPECT_EQ(std::count(again.begin(), again.end(), '.'), 8) << again;  // everything is free again
}

// ---- Random first, strict priority, sequential -------------------------------------------

TEST(PiecePicker, RandomFirstThenRarestFirst) {
  std::set<std::string> first_picks;
  for (std::uint64_t seed = 0; seed < 40; ++seed) {
    const std::string seed_line = "seed " + std::to_string(seed);
    PiecePicker p = make("availability 1999999999", "random_first 2", seed_line.c_str());
    first_picks.insert(picks(p, "peer all", 1));
  }
  EXPECT_GT(first_picks.size(), 4u);  // not rarest first: piece 0 would always win

  PiecePicker p = make("availability 1999999999", "random_first 2", "have 0001100000");
  EXPECT_EQ(picks(p, "peer all", 1), "0.0");  // two pieces done: rarest first now
}

TEST(PiecePicker, RandomFirstOnlyAmongPiecesThePeerHas) {
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    const std::string seed_line = "seed " + std::to_string(seed);
    PiecePicker p = make("availability 11111111", "random_first 4", seed_line.c_str());
    const std::string got = picks(p, "peer 00100100", 1);
    EXPECT_TRUE(got == "2.0" || got == "5.0") << got;
  }
}

TEST(PiecePicker, StrictPriorityFinishesAStartedPieceFirst) {
  PiecePicker p = make("availability 1222", "blocks 4");
  EXPECT_EQ(picks(p, "peer 0100", 2, 1), "1.0 1.1");
  // Piece 0 is rarer, but piece 1 is started: finish it before starting another.
  EXPECT_EQ(picks(p, "peer 1111", 3, 2), "1.2 1.3 0.0");
  // Two started pieces with free blocks: the older one first.
  p.abort_request(blk(1, 3), PeerKey(2));
  EXPECT_EQ(picks(p, "peer 1111", 2, 3), "1.3 0.1");
  EXPECT_EQ(p.downloading_pieces(), (std::vector<PieceIndex>{PieceIndex(1), PieceIndex(0)}));
}

TEST(PiecePicker, SequentialPicksTheLowestIndex) {
  PiecePicker p = make("availability 9991", "have 1000", "sequential", "random_first 4");
  EXPECT_EQ(picks(p, "peer all", 2), "1.0 2.0");
  EXPECT_EQ(picks(p, "peer 1001", 1), "3.0");
  EXPECT_EQ(picks(p, "peer all", 1), "");
}

TEST(PiecePicker, SequentialPrefersHigherPriority) {
  PiecePicker p = make("availability 1111", "priority 4474", "sequential");
  EXPECT_EQ(picks(p, "peer all", 4), "2.0 0.0 1.0 3.0");
}

// ---- Priorities ---------------------------------------------------------------------------

TEST(PiecePicker, PriorityZeroIsNeverPicked) {
  PiecePicker p = make("availability 1911", "priority 0400");
  EXPECT_FALSE(p.is_finished());
  EXPECT_EQ(picks(p, "peer all", 4), "1.0");
  p.on_block_received(blk(1, 0), PeerKey(1));
  p.on_piece_passed(PieceIndex(1));
  EXPECT_TRUE(p.is_finished());
  EXPECT_EQ(picks(p, "peer all", 4), "");
}

TEST(PiecePicker, HigherPriorityBeatsRarity) {
  PiecePicker p = make("availability 1119", "priority 1117");
  EXPECT_EQ(picks(p, "peer all", 1), "3.0");
}

TEST(PiecePicker, FilePrioritiesMapToPiecesWithTheMaxOfTheirFiles) {
  auto file = [](std::string name, std::int64_t size, bool pad = false) {
    FileEntry f;
    f.path = {"t", std::move(name)};
    f.size = size;
    f.pad = pad;
    return f;
  };
  // 16 KiB pieces: a = [0, 20k) pieces 0-1, pad [20k, 32k) piece 1, b = [32k, 40k) piece 2,
  // c = [40k, 70k) pieces 2-4.
  const std::int64_t k = 1024;
  const FileLayout layout(
      {file("a", 20 * k), file("pad", 12 * k, true), file("b", 8 * k), file("c", 30 * k)}, 16 * k);
  PiecePicker p(layout);
  ASSERT_EQ(p.num_pieces(), 5);
  ASSERT_TRUE(p.set_file_priorities(layout, {0, 7, 1, 0}).has_value());  // --select b
  std::string prios;
  for (PieceIndex i(0); i.value() < 5; ++i) prios += std::to_string(p.piece_priority(i));
  EXPECT_EQ(prios, "00100");  // the padding file's 7 does not count
  ASSERT_TRUE(p.set_file_priorities(layout, {2, 0, 0, 5}).has_value());
  prios.clear();
  for (PieceIndex i(0); i.value() < 5; ++i) prios += std::to_string(p.piece_priority(i));
  EXPECT_EQ(prios, "22555");
  EXPECT_TRUE(p.check_invariants());

  const Status wrong_count = p.set_file_priorities(layout, {1, 1});
  ASSERT_FALSE(wrong_count.has_value());
  EXPECT_EQ(wrong_count.error().code, make_error_code(Errc::invalid_argument));
  EXPECT_FALSE(p.set_file_priorities(layout, {1, 1, 8, 1}).has_value());
}

// ---- End game ------------------------------------------------------------------------------

TEST(PiecePicker, EndGameDuplicatesRequestsFewestRequestersFirst) {
  PiecePicker p = make("availability 12", "blocks 2");
  EXPECT_EQ(picks(p, "peer all", 4, 1), "0.0 0.1 1.0 1.1");
  EXPECT_EQ(picks(p, "peer all", 4, 1), "");  // never the same block twice from one peer
  EXPECT_EQ(picks(p, "peer all", 1, 2), "0.0");
  // 0.0 now has two requesters; the others one.
  EXPECT_EQ(picks(p, "peer all", 2, 3), "0.1 1.0");
  EXPECT_EQ(picks(p, "peer 01", 4, 2), "1.1 1.0");
  EXPECT_EQ(cancel_list(p.requesters(blk(1, 0))), "1 3 2");
}

TEST(PiecePicker, EndGameReceivedBlockNamesThePeersToCancel) {
  PiecePicker p = make("availability 1", "blocks 2");
  EXPECT_EQ(picks(p, "peer all", 2, 1), "0.0 0.1");
  EXPECT_EQ(picks(p, "peer all", 2, 2), "0.0 0.1");
  EXPECT_EQ(picks(p, "peer all", 1, 3), "0.0");
  EXPECT_EQ(cancel_list(p.on_block_received(blk(0, 0), PeerKey(2))), "1 3");
  EXPECT_EQ(cancel_list(p.on_block_received(blk(0, 0), PeerKey(1))), "");  // late duplicate
  EXPECT_EQ(picks(p, "peer all", 2, 3), "0.1");  // the received block is not offered again
  EXPECT_EQ(cancel_list(p.on_block_received(blk(0, 1), PeerKey(1))), "2 3");
  EXPECT_TRUE(p.is_piece_complete(PieceIndex(0)));
  EXPECT_TRUE(p.check_invariants());
}

// One lookup for "is it new?" and "whom to cancel": the same answers as is_block_received
// followed by on_block_received.
TEST(PiecePicker, BlockReceivedInOneLookupTellsDuplicatesAndCancels) {
  PiecePicker p = make("availability 1", "blocks 2");
  EXPECT_EQ(picks(p, "peer all", 2, 1), "0.0 0.1");
  EXPECT_EQ(picks(p, "peer all", 2, 2), "0.0 0.1");
  std::vector<PeerKey> cancel{PeerKey(9)};
  EXPECT_TRUE(p.on_block_received(blk(0, 0), PeerKey(2), cancel));
  EXPECT_EQ(cancel_list(cancel), "1");
  EXPECT_TRUE(p.is_block_received(blk(0, 0)));
  EXPECT_FALSE(p.on_block_received(blk(0, 0), PeerKey(1), cancel));  // the late duplicate
  EXPECT_TRUE(cancel.empty());
  EXPECT_FALSE(p.on_block_received(blk(0, 7), PeerKey(1), cancel));  // no such block
  EXPECT_FALSE(p.on_block_received(blk(1, 0), PeerKey(1), cancel));  // no such piece
  EXPECT_TRUE(p.on_block_received(blk(0, 1), PeerKey(1), cancel));
  EXPECT_EQ(cancel_list(cancel), "2");
  EXPECT_TRUE(p.is_piece_complete(PieceIndex(0)));
  p.on_piece_passed(PieceIndex(0));
  EXPECT_FALSE(p.on_block_received(blk(0, 1), PeerKey(2), cancel));  // the piece is had
  EXPECT_TRUE(p.check_invariants());
}

TEST(PiecePicker, EndGameRespectsMaxRequestersAndCanBeOff) {
  PiecePicker capped = make("availability 1", "max_requesters 2");
  EXPECT_EQ(picks(capped, "peer all", 1, 1), "0.0");
  EXPECT_EQ(picks(capped, "peer all", 1, 2), "0.0");
  EXPECT_EQ(picks(capped, "peer all", 1, 3), "");
  PiecePicker off = make("availability 1", "end_game off");
  EXPECT_EQ(picks(off, "peer all", 1, 1), "0.0");
  EXPECT_EQ(picks(off, "peer all", 1, 2), "");
}

TEST(PiecePicker, EndGameOnlyOnceThisPeersFreeBlocksAreGone) {
  PiecePicker p = make("availability 22", "blocks 2");
  EXPECT_EQ(picks(p, "peer 10", 2, 1), "0.0 0.1");
  // Peer 2 still has free blocks of piece 1 to give: no duplicates until those are requested.
  EXPECT_EQ(picks(p, "peer all", 3, 2), "1.0 1.1 0.0");
}

// End game against its definition: every requested block the peer has not asked for, below the
// requester cap, ordered by (requesters, start order, block), read through the public API before
// each pick. Random picks, receipts and aborts (never of a block's last requester, so no block
// goes free again and every pick is end game) move blocks between requester counts, and the
// receipts and swaps inside the picker leave its pieces out of start order.
TEST(PiecePicker, EndGameOrderIsFewestRequestersThenOldestPieceThenBlock) {
  const int pieces = 10;
  const int blocks = 4;
  PiecePicker p(PieceGeometry::uniform(pieces, blocks, blocks),
                PickerSettings{.random_first_pieces = 0, .seed = 3, .end_game_max_requesters = 4});
  const Bitfield all(pieces, true);
  p.add_availability(all);
  ASSERT_EQ(p.pick(all, pieces * blocks, PeerKey(0)).size(),
            static_cast<std::size_t>(pieces * blocks));
  std::uint64_t x = 11;
  auto next = [&x](std::uint64_t m) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<std::uint32_t>((x >> 33) % m);
  };
  // Piece 0 passes: the picker moves its last started piece into its place, out of start order.
  for (int b = 0; b < blocks; ++b) p.on_block_received({PieceIndex(0), b}, PeerKey(0));
  ASSERT_TRUE(p.is_piece_complete(PieceIndex(0)));
  p.on_piece_passed(PieceIndex(0));
  int taken = 0;
  for (int step = 0; step < 3000; ++step) {
    const std::vector<PieceIndex> started = p.downloading_pieces();
    ASSERT_FALSE(started.empty()) << "step " << step;
    const PieceIndex piece = started[next(started.size())];
    const BlockRef block{piece, static_cast<int>(next(blocks))};
    const std::vector<PeerKey> asked = p.requesters(block);
    const std::uint32_t action = next(40);  // receipts rare: the blocks run out otherwise
    if (action == 0 && !asked.empty()) {
      p.on_block_received(block, asked[next(asked.size())]);
      // A passed piece leaves the picker: another moves into its place (more reordering).
      if (p.is_piece_complete(piece) && started.size() > 2) p.on_piece_passed(piece);
    } else if (action < 10 && asked.size() >= 2) {
      p.abort_request(block, asked[next(asked.size())]);
    } else {
      const PeerKey peer(next(7));
      const int want = 1 + static_cast<int>(next(6));
      struct Candidate {
        std::size_t requesters;
        std::size_t started;
        int block;
        PieceIndex piece;
      };
      std::vector<Candidate> candidates;
      for (std::size_t s = 0; s < started.size(); ++s) {
        for (int b = 0; b < blocks; ++b) {
          const std::vector<PeerKey> r = p.requesters({started[s], b});
          if (r.empty() || r.size() >= 4 || std::find(r.begin(), r.end(), peer) != r.end()) {
            continue;
          }
          candidates.push_back({r.size(), s, b, started[s]});
        }
      }
      std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
        return std::tie(a.requesters, a.started, a.block) <
               std::tie(b.requesters, b.started, b.block);
      });
      std::vector<BlockRef> expected;
      for (const Candidate& c : candidates) {
        if (expected.size() >= static_cast<std::size_t>(want)) break;
        expected.push_back({c.piece, c.block});
      }
      ASSERT_EQ(p.pick(all, want, peer), expected) << "step " << step;
      taken += static_cast<int>(expected.size());
    }
    ASSERT_TRUE(p.check_invariants()) << "step " << step;
  }
  EXPECT_GT(taken, 100);  // the walk did pick, at several requester counts
}

// Pieces that complete hand their block arrays to the next pieces started: the new pieces start
// with every block free, whatever the old ones held (requesters beyond the inline three too).
TEST(PiecePicker, PiecesStartedAfterOthersFinishStartClean) {
  PiecePicker p(PieceGeometry::uniform(40, 3, 3),
                PickerSettings{.random_first_pieces = 0, .end_game_max_requesters = 5});
  const Bitfield all(40, true);
  p.add_availability(all);
  for (int round = 0; round < 20; ++round) {
    const std::vector<BlockRef> got = p.pick(all, 6, PeerKey(1));  // two new pieces
    ASSERT_EQ(got.size(), 6U) << "round " << round;
    Bitfield only(40);  // peers that have just these two: end game for them
    for (BlockRef b : got) only.set(static_cast<std::size_t>(b.piece.value()));
    for (std::uint32_t peer = 2; peer <= 5; ++peer) p.pick(only, 6, PeerKey(peer));
    for (BlockRef b : got) {
      EXPECT_EQ(p.requesters(b).size(), 5U);
      p.on_block_received(b, PeerKey(1));
      EXPECT_TRUE(p.requesters(b).empty());
    }
    for (BlockRef b : got) {
      if (p.is_piece_complete(b.piece) && !p.have(b.piece)) p.on_piece_passed(b.piece);
    }
    ASSERT_TRUE(p.check_invariants()) << "round " << round;
  }
  EXPECT_EQ(p.num_have(), 40);
}

// ---- Block lifecycle -----------------------------------------------------------------------

// Requesters live in the block up to three; a fourth and fifth move them all to the heap and
// back. The order (who asked first) survives both moves.
TEST(PiecePicker, ManyEndGameRequestersKeepTheirOrder) {
  PiecePicker p(PieceGeometry::uniform(1, 1, 1),
                PickerSettings{.random_first_pieces = 0, .end_game_max_requesters = 5});
  const Bitfield all(1, true);
  p.add_availability(all);
  const BlockRef block{PieceIndex(0), 0};
  for (std::uint32_t peer = 1; peer <= 5; ++peer) {
    EXPECT_EQ(p.pick(all, 1, PeerKey(peer)), std::vector<BlockRef>{block}) << "peer " << peer;
  }
  EXPECT_TRUE(p.pick(all, 1, PeerKey(6)).empty());  // at the maximum
  const auto keys = [](std::initializer_list<std::uint32_t> ids) {
    std::vector<PeerKey> out;
    for (std::uint32_t id : ids) out.emplace_back(id);
    return out;
  };
  EXPECT_EQ(p.requesters(block), keys({1, 2, 3, 4, 5}));
  p.abort_request(block, PeerKey(2));
  EXPECT_EQ(p.requesters(block), keys({1, 3, 4, 5}));
  p.abort_request(block, PeerKey(4));
  EXPECT_EQ(p.requesters(block), keys({1, 3, 5}));
  EXPECT_EQ(p.pick(all, 1, PeerKey(6)), std::vector<BlockRef>{block});
  EXPECT_EQ(p.requesters(block), keys({1, 3, 5, 6}));
  p.abort_request(block, PeerKey(1));
  EXPECT_EQ(p.requesters(block), keys({3, 5, 6}));
  EXPECT_TRUE(p.check_invariants());
  EXPECT_EQ(p.on_block_received(block, PeerKey(5)), keys({3, 6}));
  EXPECT_TRUE(p.requesters(block).empty());
  EXPECT_TRUE(p.check_invariants());
}

TEST(PiecePicker, AbortedRequestIsPickableAgain) {
  PiecePicker p = make("availability 11", "blocks 2");
  EXPECT_EQ(picks(p, "peer 10", 2, 1), "0.0 0.1");
  p.abort_request(blk(0, 1), PeerKey(1));  // rejected
  EXPECT_EQ(picks(p, "peer all", 1, 2), "0.1");
  p.abort_request(blk(0, 0), PeerKey(1));
  p.abort_request(blk(0, 1), PeerKey(2));
  EXPECT_TRUE(p.downloading_pieces().empty());
  EXPECT_TRUE(p.check_invariants());
}

TEST(PiecePicker, AbortKeepsABlockThatAnotherPeerStillServes) {
  PiecePicker p = make("availability 1");
  EXPECT_EQ(picks(p, "peer all", 1, 1), "0.0");
  EXPECT_EQ(picks(p, "peer all", 1, 2), "0.0");  // end game
  p.abort_request(blk(0, 0), PeerKey(1));
  EXPECT_EQ(cancel_list(p.requesters(blk(0, 0))), "2");
  EXPECT_EQ(picks(p, "peer all", 1, 2), "");
  EXPECT_EQ(picks(p, "peer all", 1, 1), "0.0");  // via end game again, not as a free block
  p.abort_all_requests(PeerKey(1));
  p.abort_all_requests(PeerKey(2));
  EXPECT_EQ(picks(p, "peer all", 1, 3), "0.0");
  EXPECT_TRUE(p.check_invariants());
}

TEST(PiecePicker, FailedPieceIsPickedAgain) {
  PiecePicker p = make("availability 11", "blocks 2");
  EXPECT_EQ(picks(p, "peer 10", 2), "0.0 0.1");
  p.on_block_received(blk(0, 0), PeerKey(1));
  EXPECT_FALSE(p.is_piece_complete(PieceIndex(0)));
  p.on_block_received(blk(0, 1), PeerKey(1));
  EXPECT_TRUE(p.is_piece_complete(PieceIndex(0)));
  EXPECT_EQ(picks(p, "peer 10", 2), "");
  p.on_piece_failed(PieceIndex(0));
  EXPECT_FALSE(p.is_block_received(blk(0, 0)));
  EXPECT_EQ(picks(p, "peer 10", 2, 2), "0.0 0.1");
  EXPECT_TRUE(p.check_invariants());
}

TEST(PiecePicker, PassedPiecesFinishTheDownload) {
  PiecePicker p = make("availability 12", "blocks 2");
  EXPECT_EQ(picks(p, "peer all", 4), "0.0 0.1 1.0 1.1");
  for (const BlockRef b : {blk(0, 0), blk(0, 1), blk(1, 0), blk(1, 1)}) {
    p.on_block_received(b, PeerKey(1));
  }
  p.on_piece_passed(PieceIndex(0));
  EXPECT_FALSE(p.is_finished());
  p.on_piece_passed(PieceIndex(1));
  EXPECT_TRUE(p.is_finished());
  EXPECT_EQ(p.num_have(), 2);
  EXPECT_TRUE(p.downloading_pieces().empty());
  EXPECT_EQ(cancel_list(p.on_block_received(blk(1, 1), PeerKey(2))), "");  // had: ignored
}

TEST(PiecePicker, UnrequestedBlockIsAcceptedAndStartsThePiece) {
  PiecePicker p = make("availability 111", "blocks 2");
  EXPECT_TRUE(p.on_block_received(blk(2, 1), PeerKey(5)).empty());
  EXPECT_EQ(picks(p, "peer all", 1), "2.0");  // strict priority: the started piece first
  EXPECT_TRUE(p.check_invariants());
}

// ---- Geometry ------------------------------------------------------------------------------

TEST(PiecePicker, LastPieceHasFewerAndShorterBlocks) {
  const PieceGeometry g{3, std::int64_t{4} * kBlockSize,
                        std::int64_t{8} * kBlockSize + kBlockSize + 100};
  EXPECT_EQ(g.blocks_in_piece(PieceIndex(0)), 4);
  EXPECT_EQ(g.blocks_in_piece(PieceIndex(2)), 2);
  EXPECT_EQ(g.block_length(blk(2, 0)), kBlockSize);
  EXPECT_EQ(g.block_length(blk(2, 1)), 100);
  EXPECT_EQ(g.block_offset(blk(2, 1)), kBlockSize);
  PiecePicker p(g);
  p.add_availability(bits("001"));
  EXPECT_EQ(picks(p, "peer 001", 10), "2.0 2.1");

  PiecePicker q = make("availability 12", "blocks 3", "last 1");
  EXPECT_EQ(picks(q, "peer all", 10), "0.0 0.1 0.2 1.0");
}

TEST(PiecePicker, OnePieceTorrent) {
  PiecePicker p(PieceGeometry{1, std::int64_t{2} * kBlockSize, kBlockSize + 1});
  EXPECT_EQ(p.geometry().block_length(blk(0, 1)), 1);
  p.add_seed();
  EXPECT_EQ(picks(p, "peer 1", 5), "0.0 0.1");
  p.on_block_received(blk(0, 1), PeerKey(1));
  p.on_block_received(blk(0, 0), PeerKey(1));
  p.on_piece_passed(PieceIndex(0));
  EXPECT_TRUE(p.is_finished());
  EXPECT_EQ(picks(p, "peer 1", 5), "");
}

TEST(PiecePicker, NothingToPickWhenThePeerHasNothingWeWant) {
  PiecePicker p = make("availability 2211", "have 1100");
  EXPECT_EQ(picks(p, "peer 1100", 4), "");
  EXPECT_EQ(picks(p, "peer 0000", 4), "");
  EXPECT_EQ(picks(p, "peer all", 0), "");
}

TEST(PiecePicker, ResumeDataCountsTowardRandomFirst) {
  PiecePicker p = make("availability 1999", "random_first 1", "have 0100");
  EXPECT_EQ(p.num_have(), 1);
  EXPECT_EQ(picks(p, "peer all", 1), "0.0");  // random first is over
}

TEST(PiecePicker, OutOfRangeInputIsIgnored) {
  PiecePicker p = make("availability 11");
  p.add_availability(PieceIndex(2));  // HAVE past the end
  p.add_availability(PieceIndex(-1));
  p.add_availability(bits("111"));  // bitfield of the wrong size
  p.remove_availability(bits("1"));
  EXPECT_EQ(picks(p, "peer 111", 2), "");
  EXPECT_TRUE(p.on_block_received(blk(0, 5), PeerKey(1)).empty());
  EXPECT_TRUE(p.on_block_received(blk(7, 0), PeerKey(1)).empty());
  p.abort_request(blk(9, 0), PeerKey(1));
  p.we_have(PieceIndex(5));
  p.on_piece_failed(PieceIndex(5));
  p.set_piece_priority(PieceIndex(5), 7);
  p.remove_seed();  // none counted
  EXPECT_EQ(p.seeds(), 0);
  EXPECT_EQ(p.availability(PieceIndex(0)), 1);
  EXPECT_TRUE(p.check_invariants());
}

// ---- Consistency and cost ------------------------------------------------------------------

// A deterministic pseudo-random walk over every operation, checking every invariant as it goes.
TEST(PiecePicker, RandomOperationsKeepTheInvariants) {
  std::uint64_t x = 12345;
  auto next = [&x](std::uint64_t n) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<int>((x >> 33) % n);
  };
  const int n = 40;
  PiecePicker p(PieceGeometry::uniform(n, 3, 2), PickerSettings{.seed = 9});
  std::vector<Bitfield> peers(6, Bitfield(n));
  std::vector<BlockRef> outstanding;
  for (int step = 0; step < 4000; ++step) {
    const auto who = static_cast<std::uint32_t>(next(peers.size()));
    Bitfield& has = peers[who];
    const PieceIndex piece(next(n));
    switch (next(9)) {
      case 0:
        if (!has.get(static_cast<std::size_t>(piece.value()))) {
          has.set(static_cast<std::size_t>(piece.value()));
          p.add_availability(piece);
        }
        break;
      case 1:
        p.peer_disconnected(PeerKey(who), has);
        has = Bitfield(n);
        break;
      case 2:
        p.set_piece_priority(piece, next(8));
        break;
      case 3:
      case 4:
        for (BlockRef b : p.pick(has, next(6), PeerKey(who))) outstanding.push_back(b);
        break;
      case 5:
        if (!outstanding.empty()) {
          const auto i = static_cast<std::size_t>(next(outstanding.size()));
          p.on_block_received(outstanding[i], PeerKey(who));
          if (p.is_piece_complete(outstanding[i].piece)) {
            if (next(4) == 0)
              p.on_piece_failed(outstanding[i].piece);
            else
              p.on_piece_passed(outstanding[i].piece);
          }
          outstanding.erase(outstanding.begin() + static_cast<std::ptrdiff_t>(i));
        }
        break;
      case 6:
        if (!outstanding.empty()) p.abort_request(outstanding.back(), PeerKey(who));
        break;
      case 7:
        p.abort_all_requests(PeerKey(who));
        break;
      default:
        if (next(20) == 0) p.we_have(piece);
        break;
    }
    ASSERT_TRUE(p.check_invariants()) << "step " << step;
  }
}

// pick() into a reused buffer (what the simulator does) is pick() by value: same blocks, same
// state after, whatever the buffer held before.
TEST(PiecePicker, PickIntoAReusedBufferIsPickByValue) {
  const int n = 30;
  const PickerSettings settings{.seed = 5};
  PiecePicker by_value(PieceGeometry::uniform(n, 4, 2), settings);
  PiecePicker into(PieceGeometry::uniform(n, 4, 2), settings);
  std::vector<BlockRef> buffer = {BlockRef{PieceIndex(7), 1}};  // stale content is replaced
  Bitfield has(n);
  std::uint64_t x = 77;
  auto next = [&x](std::uint64_t m) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<int>((x >> 33) % m);
  };
  int picked = 0;
  for (int step = 0; step < 600; ++step) {
    const PieceIndex piece(next(n));
    if (!has.get(static_cast<std::size_t>(piece.value()))) {
      has.set(static_cast<std::size_t>(piece.value()));
      by_value.add_availability(piece);
      into.add_availability(piece);
    }
    const PeerKey peer(static_cast<std::uint32_t>(next(3)));
    const int want = next(5);
    const std::vector<BlockRef> expected = by_value.pick(has, want, peer);
    into.pick(has, want, peer, buffer);
    ASSERT_EQ(buffer, expected) << "step " << step;
    for (BlockRef b : expected) {
      if (next(2) == 0) continue;
      by_value.on_block_received(b, peer);
      into.on_block_received(b, peer);
      if (by_value.is_piece_complete(b.piece)) {
        by_value.on_piece_passed(b.piece);
        into.on_piece_passed(b.piece);
      }
    }
    picked += static_cast<int>(expected.size());
  }
  EXPECT_GT(picked, 100);
  EXPECT_TRUE(into.check_invariants());
}

// 10,000 pieces, 10,000 HAVEs and picks: the availability order must move O(1) entries per HAVE
// and O(buckets) per started piece, and picks must not walk the piece list.
// A peer with few pieces among many rarer ones it lacks: the picks are its own rarest pieces,
// lowest availability first, random among equals.
TEST(PiecePicker, ASparsePeerGetsItsOwnRarestPieces) {
  const int n = 400;
  PiecePicker p(PieceGeometry::uniform(n, 1, 1),
                PickerSettings{.random_first_pieces = 0, .seed = 3});
  Bitfield sparse(n);
  for (int i = 0; i < n; ++i) {
    int availability = i % 4;  // 0..3: rarer pieces the sparse peer lacks
    if (i % 20 == 7) {
      sparse.set(static_cast<std::size_t>(i));  // 20 pieces at availability 1..3
      availability = 1 + i % 3;
    }
    for (int k = 0; k < availability; ++k) p.add_availability(PieceIndex(i));
  }
  std::vector<int> picked;
  for (int k = 0; k < 20; ++k) {
    const auto got = p.pick(sparse, 1, PeerKey(1));
    ASSERT_EQ(got.size(), 1U);
    picked.push_back(got[0].piece.value());
    p.on_block_received(got[0], PeerKey(1));
    p.on_piece_passed(got[0].piece);
  }
  // The 7 pieces at availability 1 (index % 3 == 0) first, then the 7 at 2, then the 6 at 3, in
  // no index order (random ties).
  for (std::size_t k = 0; k < 20; ++k) {
    EXPECT_EQ(picked[k] % 3, k < 7 ? 0 : k < 14 ? 1 : 2) << "pick " << k;
  }
  EXPECT_FALSE(std::is_sorted(picked.begin(), picked.end()));
  EXPECT_TRUE(p.pick(sparse, 1, PeerKey(1)).empty());
  EXPECT_TRUE(p.check_invariants());
}

// 10,000 pieces, 20 peers with about half each, HAVEs and picks interleaved: every pick is a
// piece of the lowest availability among the candidates its peer has (checked by brute force).
TEST(PiecePicker, TenThousandPiecesPickTheRarestEveryTime) {
  const int n = 10000;
  PiecePicker p(PieceGeometry::uniform(n, 1, 1), PickerSettings{.seed = 1});
  std::uint64_t x = 7;
  auto next = [&x](std::uint64_t m) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<int>((x >> 33) % m);
  };
  std::vector<Bitfield> peers(20, Bitfield(n));
  for (Bitfield& has : peers) {
    for (int i = 0; i < n; ++i) {
      if (next(2) == 0) has.set(static_cast<std::size_t>(i));
    }
    p.add_availability(has);
  }
  // Random first for the first pieces, then rarest first.
  for (int i = 0; i < PickerSettings{}.random_first_pieces; ++i) {
    for (BlockRef b : p.pick(peers[0], 1, PeerKey(1))) {
      p.on_block_received(b, PeerKey(1));
      p.on_piece_passed(b.piece);
    }
  }
  int picked = 0;
  for (int op = 0; op < 4000; ++op) {
    Bitfield& has = peers[static_cast<std::size_t>(next(peers.size()))];
    if (op % 2 == 0) {
      const int piece = next(n);
      if (!has.get(static_cast<std::size_t>(piece))) {
        has.set(static_cast<std::size_t>(piece));
        p.add_availability(PieceIndex(piece));
      }
      continue;
    }
    int lowest = -1;
    for (int i = 0; i < n; ++i) {
      const PieceIndex piece(i);
      if (!has.get(static_cast<std::size_t>(i)) || p.have(piece)) continue;
      if (lowest < 0 || p.availability(piece) < lowest) lowest = p.availability(piece);
    }
    const std::vector<BlockRef> got = p.pick(has, 1, PeerKey(1));
    ASSERT_EQ(got.size(), 1U);
    EXPECT_EQ(p.availability(got[0].piece), lowest) << "op " << op;
    p.on_block_received(got[0], PeerKey(1));
    p.on_piece_passed(got[0].piece);
    ++picked;
  }
  EXPECT_EQ(picked, 2000);
  EXPECT_TRUE(p.check_invariants());
}

}  // namespace
}  // namespace starling::policy
