// The peers of one torrent for one address family: a dense array of fixed-size entries (so a
// random subset is a few strided reads and the reply's compact bytes are copied straight out of
// the entries) plus an open-addressing index from (address, port) to the entry's position.
// Bytes per peer: the entry (12 for IPv4, 24 for IPv6) times the array's growth slack (<= 2x)
// plus 4-byte index slots at a load factor kept between 1/8 and 1/2 (shrunk on sweep).
// A slot holds the entry's index + 1 in its low 24 bits and 8 bits of the key's hash above
// them: a probe compares an entry (a cache miss, usually) only when the tag matches, so looking
// up a peer that is not there — every first announce — touches the slots alone.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace starling::tracker {

template <std::size_t CompactBytes>
struct PeerEntry {
  std::array<std::uint8_t, CompactBytes> compact;  // address + port, network order (BEP 23/7)
  std::uint8_t seed = 0;
  std::uint32_t last_seen = 0;  // seconds, the store's clock
};
using PeerEntry4 = PeerEntry<6>;
using PeerEntry6 = PeerEntry<18>;
static_assert(sizeof(PeerEntry4) == 12);
static_assert(sizeof(PeerEntry6) == 24);

template <class Entry>
class PeerTable {
 public:
  static constexpr std::uint32_t npos = 0xffffffffU;
  // Entries per table at most (24 bits of index in a slot).
  static constexpr std::size_t kMaxEntries = (std::size_t{1} << 24) - 1;
  using Key = decltype(Entry::compact);

  std::size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  const Entry& operator[](std::size_t i) const { return entries_[i]; }
  Entry& operator[](std::size_t i) { return entries_[i]; }
  std::size_t bytes() const {
    return entries_.capacity() * sizeof(Entry) + slots_.capacity() * sizeof(std::uint32_t);
  }

  std::uint32_t find(const Key& key, std::uint64_t seed) const {
    if (slots_.empty()) return npos;
    const std::size_t mask = slots_.size() - 1;
    const std::size_t h = hash(key, seed);
    const std::uint32_t tag = tag_of(h);
    for (std::size_t s = h & mask;; s = (s + 1) & mask) {
      const std::uint32_t v = slots_[s];
      if (v == 0) return npos;
      if ((v & kTagMask) == tag && same(entries_[index_of(v)].compact, key)) return index_of(v);
    }
  }

  // Precondition: the key is not present and size() < kMaxEntries.
  std::uint32_t insert(const Entry& entry, std::uint64_t seed) {
    if ((entries_.size() + 1) * 2 > slots_.size()) {
      rehash(slots_.empty() ? 8 : slots_.size() * 2, seed);
    }
    entries_.push_back(entry);
    const auto index = static_cast<std::uint32_t>(entries_.size() - 1);
    place(index, seed);
    return index;
  }

  // Removes entry i; the last entry moves into its place.
  void erase(std::uint32_t i, std::uint64_t seed) {
    remove_slot(slot_of(i, seed), seed);
    const auto last = static_cast<std::uint32_t>(entries_.size() - 1);
    if (i != last) {
      std::uint32_t& slot = slots_[slot_of(last, seed)];
      slot = (slot & kTagMask) | (i + 1);
      entries_[i] = entries_[last];
    }
    entries_.pop_back();
  }

  // Gives back memory after many removals (called by the sweep, not per announce).
  void compact_memory(std::uint64_t seed) {
    if (entries_.empty()) {
      entries_ = {};
      slots_ = {};
      return;
    }
    if (slots_.size() > 16 && entries_.size() * 8 < slots_.size()) {
      std::size_t want = 8;
      while (want < entries_.size() * 2) want *= 2;
      rehash(want * 2, seed);
    }
    if (entries_.capacity() > 2 * entries_.size() + 8) entries_.shrink_to_fit();
  }

 private:
  static constexpr std::uint32_t kIndexMask = 0x00ffffffU;
  static constexpr std::uint32_t kTagMask = ~kIndexMask;
  static std::uint32_t tag_of(std::size_t hash) {
    return static_cast<std::uint32_t>(hash >> 56) << 24;
  }
  static std::uint32_t index_of(std::uint32_t slot) { return (slot & kIndexMask) - 1; }
  // Keys are 6 or 18 bytes: compared as words, without a call to memcmp.
  static bool same(const Key& a, const Key& b) {
    std::uint64_t x = 0;
    std::uint64_t y = 0;
    std::size_t at = 0;
    for (; at + 8 <= a.size(); at += 8) {
      std::memcpy(&x, a.data() + at, 8);
      std::memcpy(&y, b.data() + at, 8);
      if (x != y) return false;
    }
    x = 0;
    y = 0;
    std::memcpy(&x, a.data() + at, a.size() - at);
    std::memcpy(&y, b.data() + at, b.size() - at);
    return x == y;
  }

  static std::size_t hash(const Key& key, std::uint64_t seed) {
    std::uint64_t h = seed;
    std::size_t at = 0;
    for (; at + 8 <= key.size(); at += 8) {
      std::uint64_t word;
      std::memcpy(&word, key.data() + at, 8);
      h = (h ^ word) * 0x9E3779B97F4A7C15ULL;
      h ^= h >> 29;
    }
    std::uint64_t tail = 0;
    std::memcpy(&tail, key.data() + at, key.size() - at);
    h = (h ^ tail) * 0xBF58476D1CE4E5B9ULL;
    h ^= h >> 31;
    return static_cast<std::size_t>(h);
  }

  void place(std::uint32_t index, std::uint64_t seed) {
    const std::size_t mask = slots_.size() - 1;
    const std::size_t h = hash(entries_[index].compact, seed);
    std::size_t s = h & mask;
    while (slots_[s] != 0) s = (s + 1) & mask;
    slots_[s] = tag_of(h) | (index + 1);
  }

  std::size_t slot_of(std::uint32_t index, std::uint64_t seed) const {
    const std::size_t mask = slots_.size() - 1;
    std::size_t s = hash(entries_[index].compact, seed) & mask;
    while ((slots_[s] & kIndexMask) != index + 1) s = (s + 1) & mask;
    return s;
  }

  // Backward-shift deletion: later members of the probe run move up so lookups never stop early.
  void remove_slot(std::size_t hole, std::uint64_t seed) {
    const std::size_t mask = slots_.size() - 1;
    std::size_t j = hole;
    for (;;) {
      j = (j + 1) & mask;
      const std::uint32_t v = slots_[j];
      if (v == 0) break;
      const std::size_t home = hash(entries_[index_of(v)].compact, seed) & mask;
      if (((j - home) & mask) >= ((j - hole) & mask)) {
        slots_[hole] = v;
        hole = j;
      }
    }
    slots_[hole] = 0;
  }

  void rehash(std::size_t slot_count, std::uint64_t seed) {
    slots_.assign(slot_count, 0);
    slots_.shrink_to_fit();
    for (std::uint32_t i = 0; i < entries_.size(); ++i) place(i, seed);
  }

  std::vector<Entry> entries_;
  std::vector<std::uint32_t> slots_;  // 0: empty, else tag | (entry index + 1)
};

}  // namespace starling::tracker
