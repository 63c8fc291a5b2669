#include "tracker/rack_locality.hpp"

#include "tracker/peer_store.hpp"

#include <gtest/gtest.h>

namespace starling::tracker {
namespace {

PeerAddress peer(int last, std::uint16_t port = 6881) {
  return PeerAddress{IpAddress::v4_from(0x0A000000U | static_cast<std::uint32_t>(last)), port};
}

// Ten peers: .1-.5 in rack a, .6-.9 in rack b, .10 in none.
struct Fleet {
  RackMap racks;
  std::string compact;
  Fleet() {
    for (int i = 1; i <= 10; ++i) {
      if (i <= 5) racks.assign(peer(i).ip, "a");
      if (i >= 6 && i <= 9) racks.assign(peer(i).ip, "b");
      append_compact(compact, peer(i));
    }
  }
  std::vector<PeerAddress> pick(std::string_view rack, std::size_t want,
                                LocalitySettings settings = {}) const {
    std::string out;
    pick_by_rack(compact, kCompactV4Size, rack, racks, want, settings, out);
    return *parse_compact_peers(out, false);
  }
};

int in_rack(const Fleet& f, const std::vector<PeerAddress>& peers, std::string_view rack) {
  return static_cast<int>(std::count_if(peers.begin(), peers.end(), [&](const PeerAddress& p) {
    return f.racks.rack_of(p.ip) == rack;
  }));
}

// The ratio rules alone (no floor on the reply's size).
constexpr LocalitySettings kNoFloor{.min_peers = 0};

TEST(RackLocality, MostlySameRackPlusAFewOthers) {
  Fleet f;
  const auto peers = f.pick("a", 6, kNoFloor);
  ASSERT_EQ(peers.size(), 6U);
  EXPECT_EQ(in_rack(f, peers, "a"), 4);  // 6 - max(2, ceil(0.75))
  EXPECT_EQ(static_cast<int>(peers.size()) - in_rack(f, peers, "a"), 2);
}

TEST(RackLocality, DoesNotFillUpWithOtherRacks) {
  Fleet f;
  const auto peers = f.pick("b", 9, kNoFloor);
  EXPECT_EQ(peers.size(), 6U);
  EXPECT_EQ(in_rack(f, peers, "b"), 4);  // all of rack b and two from elsewhere
}

TEST(RackLocality, UnknownRackGetsOthersOnly) {
  Fleet f;
  const auto peers = f.pick("", 4);
  EXPECT_EQ(peers.size(), 4U);
}

TEST(RackLocality, LargeWant) {
  Fleet f;
  EXPECT_EQ(f.pick("a", 50, kNoFloor).size(), 7U);  // rack a's 5 and 2 others
  EXPECT_EQ(f.pick("c", 50).size(), 10U);           // alone in its rack: anyone
  EXPECT_TRUE(f.pick("a", 0).empty());
}

TEST(RackLocality, ASmallRackIsFilledUpToTheFloorFromOthers) {
  Fleet f;
  // Rack b has 4 peers: 4 + 2 others by the ratio, then others up to 8.
  auto peers = f.pick("b", 50, LocalitySettings{.min_peers = 8});
  EXPECT_EQ(peers.size(), 8U);
  EXPECT_EQ(in_rack(f, peers, "b"), 4);
  // The floor is capped by what was asked for and by what the swarm has.
  EXPECT_EQ(f.pick("b", 7, LocalitySettings{.min_peers = 8}).size(), 7U);
  EXPECT_EQ(f.pick("b", 50, LocalitySettings{.min_peers = 40}).size(), 10U);
  // A big rack is above the floor already: the ratio rules alone.
  peers = f.pick("a", 50, LocalitySettings{.min_peers = 6});
  EXPECT_EQ(peers.size(), 7U);
  EXPECT_EQ(in_rack(f, peers, "a"), 5);
}

TEST(RackLocality, CrossFractionScalesWithWant) {
  Fleet f;
  const auto peers =
      f.pick("a", 8, LocalitySettings{.cross_fraction = 0.5, .min_cross = 0, .min_peers = 0});
  EXPECT_EQ(peers.size(), 8U);
  EXPECT_EQ(in_rack(f, peers, "a"), 5);  // 5 local, ceil(5 / 2) = 3 cross
}

TEST(RackLocality, MappedAddressesMatch) {
  RackMap racks;
  racks.assign(*IpAddress::parse("10.0.0.1"), "a");
  EXPECT_EQ(racks.rack_of(*IpAddress::parse("::ffff:10.0.0.1")), "a");
  EXPECT_EQ(racks.rack_of(*IpAddress::parse("10.0.0.2")), "");
}

TEST(RackLocality, PeerStoreAnswersByRack) {
  Fleet f;
  PeerStore store;
  store.set_racks(std::make_shared<RackMap>(f.racks),
                  LocalitySettings{.min_cross = 1, .min_peers = 0});
  const Sha1Digest hash = sha1("deploy");
  SwarmCounts counts;
  std::string peers4;
  std::string peers6;
  for (int i = 1; i <= 10; ++i) {
    StoreAnnounce a;
    a.info_hash = hash;
    a.peer = peer(i);
    a.numwant = 0;
    store.announce(a, Seconds(1), counts, peers4, peers6);
  }
  StoreAnnounce ask;
  ask.info_hash = hash;
  ask.peer = peer(1);
  ask.numwant = 5;
  peers4.clear();
  store.announce(ask, Seconds(2), counts, peers4, peers6);
  const auto got = *parse_compact_peers(peers4, false);
  ASSERT_EQ(got.size(), 5U);
  EXPECT_EQ(in_rack(f, got, "a"), 4);  // .2-.5: all of rack a but itself
  for (const auto& p : got) EXPECT_NE(p, peer(1));
  // Without a rack for the requester: plain random sampling, any rack.
  ask.peer = peer(42);
  peers4.clear();
  store.announce(ask, Seconds(2), counts, peers4, peers6);
  EXPECT_EQ(parse_compact_peers(peers4, false)->size(), 5U);
}

}  // namespace
}  // namespace starling::tracker
