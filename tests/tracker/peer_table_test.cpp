#include "tracker/peer_table.hpp"

#include <gtest/gtest.h>

#include <map>
#include <random>

namespace starling::tracker {
namespace {

template <class Entry>
Entry entry_for(std::uint64_t id) {
  Entry e{};
  for (std::size_t i = 0; i < e.compact.size(); ++i) {
    e.compact[i] = static_cast<std::uint8_t>(id >> (8 * (i % 8)));
  }
  e.last_seen = static_cast<std::uint32_t>(id);
  return e;
}

// Random inserts, erases and lookups against std::map: the index (slots with hash tags, linear
// probing, backward-shift deletion, rehashing and shrinking) must always agree with it.
template <class Entry>
void agrees_with_a_map(std::uint64_t seed) {
  PeerTable<Entry> table;
  std::map<std::uint64_t, bool> present;
  std::mt19937_64 rng(seed);
  for (int step = 0; step < 40'000; ++step) {
    const std::uint64_t id = rng() % 3'000;
    const Entry e = entry_for<Entry>(id);
    const std::uint32_t at = table.find(e.compact, seed);
    ASSERT_EQ(at != PeerTable<Entry>::npos, present.contains(id)) << "step " << step;
    if (at != PeerTable<Entry>::npos) {
      ASSERT_EQ(table[at].compact, e.compact);
      if (rng() % 2 == 0) {
        table.erase(at, seed);
        present.erase(id);
      }
    } else {
      table.insert(e, seed);
      present[id] = true;
    }
    if (step % 5'000 == 4'999) table.compact_memory(seed);
    ASSERT_EQ(table.size(), present.size());
  }
  for (const auto& [id, unused] : present) {
    EXPECT_NE(table.find(entry_for<Entry>(id).compact, seed), PeerTable<Entry>::npos) << id;
  }
}

TEST(PeerTable, Ipv4TableAgreesWithAMap) {
  agrees_with_a_map<PeerEntry4>(1);
  agrees_with_a_map<PeerEntry4>(0xfeedULL);
}

TEST(PeerTable, Ipv6TableAgreesWithAMap) {
  agrees_with_a_map<PeerEntry6>(2);
}

TEST(PeerTable, KeysDifferingInOneByteAreDistinct) {
  PeerTable<PeerEntry6> table;
  PeerEntry6 a{};
  PeerEntry6 b{};
  b.compact[17] = 1;  // the last port byte, past the first 8-byte word and the second
  table.insert(a, 7);
  EXPECT_EQ(table.find(b.compact, 7), PeerTable<PeerEntry6>::npos);
  table.insert(b, 7);
  EXPECT_EQ(table.find(b.compact, 7), 1u);
  EXPECT_EQ(table.find(a.compact, 7), 0u);
}

}  // namespace
}  // namespace starling::tracker
