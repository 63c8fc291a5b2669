#include "policy/choker.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <map>
#include <set>
#include <vector>

namespace starling::policy {
namespace {

using namespace std::chrono_literals;

TimePoint at(std::chrono::seconds s) {
  return TimePoint{} + s;
}

// A torrent's peers as the session would see them: the fixture feeds each decision back into
// the candidates' `unchoked` flags, as the session does when it sends CHOKE/UNCHOKE.
class ChokerTest : public ::testing::Test {
 protected:
  ChokeCandidate& add(std::uint32_t key, bool interested, double rate_from_peer,
                      TimePoint connected_at = at(0s)) {
    ChokeCandidate peer;
    peer.key = PeerKey(key);
    peer.interested = interested;
    peer.rate_from_peer = rate_from_peer;
    peer.connected_at = connected_at;
    peer.last_received = connected_at;
    peers_.push_back(peer);
    return peers_.back();
  }

  ChokeCandidate& peer(std::uint32_t key) {
    return *std::find_if(peers_.begin(), peers_.end(),
                         [&](const ChokeCandidate& p) { return p.key == PeerKey(key); });
  }

  void remove(std::uint32_t key) {
    std::erase_if(peers_, [&](const ChokeCandidate& p) { return p.key == PeerKey(key); });
  }

  // Peers with a rate keep sending blocks, so they are never snubbed unless a test says so.
  void keep_senders_fresh(TimePoint now) {
    for (ChokeCandidate& p : peers_) {
      if (p.rate_from_peer > 0) p.last_received = now;
    }
  }

  std::set<std::uint32_t> apply(const std::vector<PeerKey>& unchoke) {
    std::set<std::uint32_t> keys;
    for (PeerKey k : unchoke) keys.insert(k.value());
    EXPECT_EQ(keys.size(), unchoke.size()) << "a peer listed twice";
    for (ChokeCandidate& p : peers_) p.unchoked = keys.contains(p.key.value());
    return keys;
  }

  std::set<std::uint32_t> rechoke(TimePoint now, bool seeding = false) {
    return apply(choker_.rechoke(peers_, seeding, now));
  }

  std::set<std::uint32_t> fill(TimePoint now, bool seeding = false) {
    return apply(choker_.fill_free_slots(peers_, seeding, now));
  }

  std::set<std::uint32_t> regulars(const std::set<std::uint32_t>& unchoked) const {
    std::set<std::uint32_t> out = unchoked;
    for (PeerKey k : choker_.optimistic()) out.erase(k.value());
    return out;
  }

  std::uint32_t the_optimistic() const {
    const std::vector<PeerKey> keys = choker_.optimistic();
    EXPECT_EQ(keys.size(), 1U);
    return keys.empty() ? 0 : keys.front().value();
  }

  Choker choker_;
  std::vector<ChokeCandidate> peers_;
};

// ---- Leecher state ---------------------------------------------------------------------------

TEST_F(ChokerTest, TopThreeUploadersKeepTheirSlotsAcrossRechokes) {
  for (std::uint32_t k = 1; k <= 8; ++k) add(k, true, 100.0 * k);
  const std::set<std::uint32_t> top = {6, 7, 8};
  for (auto t = 100s; t <= 600s; t += 10s) {
    keep_senders_fresh(at(t));
    const std::set<std::uint32_t> unchoked = rechoke(at(t));
    EXPECT_EQ(unchoked.size(), 4U) << "3 regular + 1 optimistic at " << t.count();
    EXPECT_EQ(regulars(unchoked), top) << "at " << t.count();
    EXPECT_FALSE(top.contains(the_optimistic()));
  }
  // Tit-for-tat follows the rates: a peer that becomes the fastest uploader takes a slot.
  peer(1).rate_from_peer = 5000;
  keep_senders_fresh(at(610s));
  EXPECT_EQ(regulars(rechoke(at(610s))), (std::set<std::uint32_t>{1, 7, 8}));
}

TEST_F(ChokerTest, OptimisticSlotRotatesEvery30sAndEveryoneGetsItEqually) {
  for (std::uint32_t k = 1; k <= 3; ++k) add(k, true, 1000.0 * k);
  constexpr std::uint32_t kOthers = 5;
  // Peers that upload to others (they have unchoked us at some time) but not fast enough to us
  // for a regular slot.
  for (std::uint32_t k = 4; k < 4 + kOthers; ++k) add(k, true, 0).ever_unchoked_us = true;

  constexpr int kIntervals = 20;
  const auto start = 100s;  // nobody is new any more
  std::map<std::uint32_t, int> intervals_held;
  std::uint32_t previous = 0;
  for (auto t = start; t < start + kIntervals * 30s; t += 10s) {
    keep_senders_fresh(at(t));
    rechoke(at(t));
    const std::uint32_t holder = the_optimistic();
    EXPECT_GE(holder, 4U) << "the optimistic slot goes to a peer outside the regular set";
    const bool rotation_due = (t - start) % 30s == 0s;
    if (rotation_due) {
      EXPECT_NE(holder, previous) << "rotates at " << t.count();
      ++intervals_held[holder];
    } else {
      EXPECT_EQ(holder, previous) << "kept between rotations, at " << t.count();
    }
    previous = holder;
  }
  const double mean = static_cast<double>(kIntervals) / kOthers;
  for (std::uint32_t k = 4; k < 4 + kOthers; ++k) {
    EXPECT_NEAR(intervals_held[k], mean, 1.5) << "peer " << k;
  }
}

TEST_F(ChokerTest, OptimisticSlotIsRefilledWhenItsHolderLeaves) {
  for (std::uint32_t k = 1; k <= 3; ++k) add(k, true, 1000.0 * k);
  add(4, true, 0);
  add(5, true, 0);
  keep_senders_fresh(at(100s));
  rechoke(at(100s));
  const std::uint32_t first = the_optimistic();
  remove(first);
  const std::set<std::uint32_t> unchoked = fill(at(105s));
  const std::uint32_t second = the_optimistic();
  EXPECT_NE(second, first);
  EXPECT_TRUE(unchoked.contains(second));
  EXPECT_EQ(unchoked.size(), 4U);
}

TEST_F(ChokerTest, AFreeRiderWaitsBehindPeersThatGaveUsDataForTheOptimisticSlot) {
  for (std::uint32_t k = 1; k <= 3; ++k) add(k, true, 1000.0 * k);
  add(4, true, 0).total_from_peer = 16 << 10;
  add(5, true, 0).total_from_peer = 1 << 20;
  add(6, true, 0);
  std::map<std::uint32_t, int> turns;
  std::set<std::uint32_t> had_a_turn;
  for (auto t = 100s; t < 100s + 20 * 30s; t += 30s) {
    keep_senders_fresh(at(t));
    rechoke(at(t));
    const std::uint32_t holder = the_optimistic();
    if (had_a_turn.size() == 3) ++turns[holder];
    had_a_turn.insert(holder);
  }
  // Everyone gets a first turn (the rider cannot be told apart before it); after that the
  // rider only gets the slot when no one else wants it.
  EXPECT_EQ(turns[6], 0);
  EXPECT_GE(turns[4], 7);
  EXPECT_GE(turns[5], 7);

  // Once nobody else is interested, the rider is served after all.
  peer(4).interested = false;
  peer(5).interested = false;
  rechoke(at(100s + 21 * 30s));
  EXPECT_EQ(the_optimistic(), 6U);
}

TEST_F(ChokerTest, AHolderThatGaveNothingKeepsTheOptimisticSlotForOnePeriodOnly) {
  // 5 has neither unchoked us nor sent a byte (a free rider, or a peer that did not reciprocate
  // in time); 4 has unchoked us before. 5 gets the slot first (4 is not interested yet).
  const auto held_by_5 = [&](ChokerSettings settings) {
    choker_ = Choker(settings);
    peers_.clear();
    for (std::uint32_t k = 1; k <= 3; ++k) add(k, true, 1000.0 * k);
    add(4, false, 0).ever_unchoked_us = true;
    add(5, true, 0);
    keep_senders_fresh(at(100s));
    rechoke(at(100s));
    EXPECT_EQ(the_optimistic(), 5U);
    peer(4).interested = true;
    int rechokes = 1;
    for (auto t = 110s; t < 200s && the_optimistic() == 5U; t += 10s) {
      keep_senders_fresh(at(t));
      rechoke(at(t));
      if (the_optimistic() == 5U) ++rechokes;
    }
    return rechokes;
  };
  EXPECT_EQ(held_by_5(ChokerSettings{}), 1);  // one rechoke period
  EXPECT_EQ(the_optimistic(), 4U);
  // Without free-rider deprioritising, every turn lasts optimistic_interval (three periods).
  EXPECT_EQ(held_by_5(ChokerSettings{.deprioritise_free_riders = false}), 3);
}

TEST_F(ChokerTest, PeersThatUnchokedUsComeFirstForTheOptimisticSlot) {
  // 4-6 never unchoked us (a free rider never unchokes anyone); 7 and 8 did at some point. Old
  // peers all: the optimistic slot alternates between 7 and 8 while they are interested.
  for (std::uint32_t k = 1; k <= 3; ++k) add(k, true, 1000.0 * k);
  for (std::uint32_t k = 4; k <= 6; ++k) add(k, true, 0);
  add(7, true, 0).ever_unchoked_us = true;
  add(8, true, 0).ever_unchoked_us = true;
  std::map<std::uint32_t, int> turns;
  for (auto t = 100s; t < 100s + 10 * 30s; t += 30s) {
    keep_senders_fresh(at(t));
    rechoke(at(t));
    ++turns[the_optimistic()];
  }
  EXPECT_EQ(turns[7] + turns[8], 10);
  EXPECT_EQ(turns[7], 5);
  // Without them, the others get their turns again.
  peer(7).interested = false;
  peer(8).interested = false;
  std::set<std::uint32_t> later;
  for (auto t = 100s + 10 * 30s; t < 100s + 13 * 30s; t += 30s) {
    rechoke(at(t));
    later.insert(the_optimistic());
  }
  EXPECT_EQ(later, (std::set<std::uint32_t>{4, 5, 6}));
}

TEST_F(ChokerTest, WithoutFreeRiderDeprioritisingTheRingIsAPlainRoundRobin) {
  choker_ = Choker(ChokerSettings{.deprioritise_free_riders = false});
  for (std::uint32_t k = 1; k <= 3; ++k) add(k, true, 1000.0 * k);
  add(4, true, 0).total_from_peer = 16 << 10;
  add(5, true, 0).total_from_peer = 1 << 20;
  add(6, true, 0);
  std::map<std::uint32_t, int> turns;
  for (auto t = 100s; t < 100s + 21 * 30s; t += 30s) {
    keep_senders_fresh(at(t));
    rechoke(at(t));
    ++turns[the_optimistic()];
  }
  for (std::uint32_t k = 4; k <= 6; ++k) EXPECT_EQ(turns[k], 7) << "peer " << k;
}

TEST_F(ChokerTest, OnARateTiePeersThatEverGaveUsDataComeFirst) {
  // Nobody sends right now (rates 0); peers 5 and 6 sent us something earlier, 1-4 never did.
  for (std::uint32_t k = 1; k <= 6; ++k) add(k, true, 0);
  peer(5).total_from_peer = 1 << 20;
  peer(6).total_from_peer = 16 << 10;
  const auto unchoked = apply(choker_.rechoke(peers_, false, at(0s)));
  EXPECT_TRUE(unchoked.contains(5));
  EXPECT_TRUE(unchoked.contains(6));
  // The third regular slot and the optimistic one go to two of the others.
  EXPECT_EQ(unchoked.size(), 4u);
}

TEST_F(ChokerTest, SnubbingPeerLosesItsRegularSlot) {
  for (std::uint32_t k = 1; k <= 5; ++k) add(k, true, 100.0 * k);
  // Peer 5 is the fastest on paper but its last block arrived at t = 0.
  keep_senders_fresh(at(0s));
  for (auto t = 10s; t <= 60s; t += 10s) {
    for (std::uint32_t k = 1; k <= 4; ++k) peer(k).last_received = at(t);
    EXPECT_TRUE(regulars(rechoke(at(t))).contains(5)) << "not snubbed yet at " << t.count();
  }
  for (auto t = 70s; t <= 200s; t += 10s) {
    for (std::uint32_t k = 1; k <= 4; ++k) peer(k).last_received = at(t);
    EXPECT_TRUE(choker_.snubbed(peer(5), at(t)));
    EXPECT_EQ(regulars(rechoke(at(t))), (std::set<std::uint32_t>{2, 3, 4})) << t.count();
  }
  // It sends again: it is no longer snubbed and wins its slot back.
  peer(5).last_received = at(205s);
  for (std::uint32_t k = 1; k <= 4; ++k) peer(k).last_received = at(210s);
  EXPECT_EQ(regulars(rechoke(at(210s))), (std::set<std::uint32_t>{3, 4, 5}));
}

TEST_F(ChokerTest, AJustConnectedPeerIsNotSnubbed) {
  ChokeCandidate& p = add(1, true, 0, at(100s));
  p.last_received = TimePoint{};  // nothing yet
  EXPECT_FALSE(choker_.snubbed(p, at(150s)));
  EXPECT_TRUE(choker_.snubbed(p, at(161s)));
}

TEST_F(ChokerTest, UninterestedPeersAreNeverUnchoked) {
  for (std::uint32_t k = 1; k <= 3; ++k) add(k, true, 100.0 * k);
  // The fastest uploaders, but they want nothing from us.
  for (std::uint32_t k = 4; k <= 6; ++k) add(k, false, 10000.0 * k);
  for (auto t = 100s; t <= 300s; t += 10s) {
    keep_senders_fresh(at(t));
    const std::set<std::uint32_t> unchoked = rechoke(at(t));
    EXPECT_EQ(unchoked, (std::set<std::uint32_t>{1, 2, 3})) << t.count();
    EXPECT_TRUE(choker_.optimistic().empty());
  }
  // In seed state neither.
  EXPECT_EQ(rechoke(at(310s), /*seeding=*/true), (std::set<std::uint32_t>{1, 2, 3}));
}

TEST_F(ChokerTest, NewlyConnectedPeersAreFavouredForTheOptimisticSlot) {
  // Only the optimistic slot, to measure it alone. Nine old peers wait in the ring (the holder at
  // its back); a peer connecting now is inserted at one of 10 places. An old peer seen for the
  // first time lands in front with probability 1/10, a new one with 3/12 (front weight 3).
  ChokerSettings settings;
  settings.regular_slots = 0;
  constexpr int kTrials = 2000;
  int new_first = 0;
  int old_first = 0;
  for (int trial = 0; trial < kTrials; ++trial) {
    for (const bool is_new : {true, false}) {
      Choker choker(settings, static_cast<std::uint64_t>(trial) + 1);
      std::vector<ChokeCandidate> peers;
      // Everyone has unchoked us once, so all stand in the same pass and only the ring decides.
      for (std::uint32_t k = 1; k <= 9; ++k) {
        peers.push_back({.key = PeerKey(k),
                         .interested = true,
                         .ever_unchoked_us = true,
                         .connected_at = at(0s)});
      }
      choker.rechoke(peers, false, at(100s));
      peers.push_back({.key = PeerKey(10),
                       .interested = true,
                       .ever_unchoked_us = true,
                       .connected_at = is_new ? at(110s) : at(0s)});
      choker.fill_free_slots(peers, false, at(110s));  // slot taken: no change yet
      choker.rechoke(peers, false, at(130s));          // rotation
      const bool first = choker.optimistic().front() == PeerKey(10);
      (is_new ? new_first : old_first) += first ? 1 : 0;
    }
  }
  const double new_share = static_cast<double>(new_first) / kTrials;
  const double old_share = static_cast<double>(old_first) / kTrials;
  EXPECT_NEAR(new_share, 3.0 / 12, 0.04);
  EXPECT_NEAR(old_share, 1.0 / 10, 0.03);
  EXPECT_GT(new_share, 2 * old_share);
}

TEST_F(ChokerTest, FewerCandidatesThanSlotsUnchokesEveryInterestedPeer) {
  add(1, true, 0);
  add(2, true, 50);
  add(3, false, 0);
  keep_senders_fresh(at(100s));
  EXPECT_EQ(rechoke(at(100s)), (std::set<std::uint32_t>{1, 2}));
  EXPECT_EQ(rechoke(at(110s), /*seeding=*/true), (std::set<std::uint32_t>{1, 2}));
  // Snubbing peers too, when nobody else wants the slots.
  add(4, true, 0);
  add(5, true, 0);
  EXPECT_TRUE(choker_.snubbed(peer(1), at(120s)));
  EXPECT_EQ(rechoke(at(120s)), (std::set<std::uint32_t>{1, 2, 4, 5}));
}

TEST_F(ChokerTest, FillFreeSlotsKeepsTheUnchokedAndOnlyFillsFreeSlots) {
  for (std::uint32_t k = 1; k <= 4; ++k) add(k, true, 100.0 * k);
  keep_senders_fresh(at(100s));
  const std::set<std::uint32_t> before = rechoke(at(100s));
  ASSERT_EQ(before.size(), 4U);
  // A much faster peer appears: no reshuffle until the next rechoke.
  add(9, true, 1e6, at(100s));
  EXPECT_EQ(fill(at(102s)), before);
  // A regular leaves: its slot goes to the best waiting peer.
  remove(2);
  std::set<std::uint32_t> expected = before;
  expected.erase(2);
  expected.insert(9);
  EXPECT_EQ(fill(at(104s)), expected);
  keep_senders_fresh(at(110s));
  EXPECT_EQ(regulars(rechoke(at(110s))), (std::set<std::uint32_t>{3, 4, 9}));
}

TEST_F(ChokerTest, SameSeedSameDecisions) {
  for (std::uint32_t k = 1; k <= 12; ++k) add(k, true, k % 4 == 0 ? 100.0 * k : 0);
  std::vector<std::set<std::uint32_t>> first;
  for (auto t = 100s; t <= 400s; t += 10s) first.push_back(rechoke(at(t)));
  choker_ = Choker();
  for (ChokeCandidate& p : peers_) p.unchoked = false;
  std::vector<std::set<std::uint32_t>> second;
  for (auto t = 100s; t <= 400s; t += 10s) second.push_back(rechoke(at(t)));
  EXPECT_EQ(first, second);
}

// ---- Seed state ------------------------------------------------------------------------------

TEST_F(ChokerTest, SeedStateGivesEveryLeecherTheSameServiceWhateverItsRate) {
  constexpr std::uint32_t kLeechers = 20;
  for (std::uint32_t k = 1; k <= kLeechers; ++k) {
    add(k, true, 0, at(0s)).rate_to_peer = 1000.0 * k * k;  // 1 kB/s to 400 kB/s
  }
  std::map<std::uint32_t, std::chrono::seconds> served;
  for (auto t = 10s; t < 3000s; t += 10s) {
    const std::set<std::uint32_t> unchoked = rechoke(at(t), /*seeding=*/true);
    EXPECT_EQ(unchoked.size(), 4U);
    for (std::uint32_t k : unchoked) served[k] += 10s;
  }
  std::chrono::seconds total{0};
  for (const auto& [key, time] : served) total += time;
  const double mean = static_cast<double>(total.count()) / kLeechers;
  for (std::uint32_t k = 1; k <= kLeechers; ++k) {
    EXPECT_NEAR(static_cast<double>(served[k].count()), mean, 0.1 * mean) << "leecher " << k;
  }
}

TEST_F(ChokerTest, SeedStateKeepsAPeerForTwoRechokePeriods) {
  for (std::uint32_t k = 1; k <= 8; ++k) add(k, true, 0, at(0s)).rate_to_peer = 10.0 * k;
  const std::set<std::uint32_t> first = rechoke(at(10s), true);
  // Same waiting time for all: the faster ones first.
  EXPECT_EQ(first, (std::set<std::uint32_t>{5, 6, 7, 8}));
  EXPECT_EQ(rechoke(at(20s), true), first);
  EXPECT_EQ(rechoke(at(30s), true), (std::set<std::uint32_t>{1, 2, 3, 4}));
  EXPECT_EQ(rechoke(at(40s), true), (std::set<std::uint32_t>{1, 2, 3, 4}));
  EXPECT_EQ(rechoke(at(50s), true), first);
}

TEST_F(ChokerTest, ForgetsPeersThatLeft) {
  for (std::uint32_t k = 1; k <= 4; ++k) add(k, true, 0, at(0s));
  rechoke(at(10s), true);
  for (std::uint32_t k = 1; k <= 4; ++k) remove(k);
  EXPECT_TRUE(rechoke(at(20s), true).empty());
  // Key 1 comes back as a new connection: it starts a fresh wait, no stale "unchoked" state.
  add(1, true, 0, at(25s));
  EXPECT_EQ(fill(at(25s), true), (std::set<std::uint32_t>{1}));
}

// The choker keeps its index of the candidates from one decision to the next while their keys
// stay the same: a peer replaced by another in the same place (same count, one key changed) must
// still be forgotten, and the newcomer admitted.
TEST_F(ChokerTest, APeerReplacedInPlaceIsForgottenAndItsSuccessorAdmitted) {
  for (std::uint32_t k = 1; k <= 6; ++k) add(k, true, 100.0 * k);
  keep_senders_fresh(at(100s));
  const std::set<std::uint32_t> before = rechoke(at(100s));
  ASSERT_EQ(before.size(), 4U);
  const std::uint32_t holder = the_optimistic();
  peer(holder) = ChokeCandidate{
      .key = PeerKey(99), .interested = true, .connected_at = at(105s), .last_received = at(105s)};
  std::set<std::uint32_t> after = fill(at(105s));
  EXPECT_FALSE(after.contains(holder));
  EXPECT_EQ(after.size(), 4U) << "the optimistic slot of the peer that left is filled again";
  for (PeerKey k : choker_.optimistic()) EXPECT_NE(k.value(), holder);
  // The newcomer is in the optimistic ring: with the others all regulars or uninterested, it is
  // the one left for the optimistic slot.
  for (ChokeCandidate& p : peers_) p.interested = p.key == PeerKey(99) || p.rate_from_peer > 300;
  keep_senders_fresh(at(140s));
  after = rechoke(at(140s));
  EXPECT_TRUE(after.contains(99));
}

// The simulator leaves the rates of uninterested peers unset between rechokes: whatever they
// hold, the decisions are the same.
TEST_F(ChokerTest, AnUninterestedPeersRatesAndHistoryAreNeverRead) {
  for (std::uint32_t k = 1; k <= 10; ++k) add(k, k % 3 != 0, 100.0 * k);
  Choker other;
  std::vector<ChokeCandidate> scrambled;
  for (auto t = 100s; t <= 300s; t += 10s) {
    keep_senders_fresh(at(t));
    // A peer's interest comes and goes.
    for (ChokeCandidate& p : peers_) p.interested = (p.key.value() + t.count() / 10) % 3 != 0;
    scrambled = peers_;
    for (ChokeCandidate& p : scrambled) {
      if (p.interested) continue;
      p.rate_from_peer = 1e9 * p.key.value();
      p.rate_to_peer = -1;
      p.total_from_peer = 1 << 30;
      p.ever_unchoked_us = !p.ever_unchoked_us;
      p.last_received = at(t + 1000s);
    }
    const bool seeding = t >= 250s;
    const bool full = t.count() % 20 == 0;
    const std::vector<PeerKey> expected = full ? other.rechoke(scrambled, seeding, at(t))
                                               : other.fill_free_slots(scrambled, seeding, at(t));
    const std::set<std::uint32_t> got = full ? rechoke(at(t), seeding) : fill(at(t), seeding);
    std::set<std::uint32_t> want;
    for (PeerKey k : expected) want.insert(k.value());
    EXPECT_EQ(got, want) << "at " << t.count();
  }
}

}  // namespace
}  // namespace starling::policy
