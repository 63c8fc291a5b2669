#include "policy/piece_order.hpp"

#include <cassert>
#include <utility>

namespace starling::policy {

PieceOrder::PieceOrder(std::int32_t num_pieces) : entries_(static_cast<std::size_t>(num_pieces)) {}

std::size_t PieceOrder::size() const {
  std::size_t n = 0;
  for (const Level& level : levels_) n += level.pieces.size();
  return n;
}

std::span<const PieceIndex> PieceOrder::bucket(int priority, int availability) const {
  const Level& level = levels_[slot(priority)];
  const auto a = static_cast<std::size_t>(availability);
  if (availability < 0 || a >= level.ends.size()) return {};
  const std::int32_t begin = a == 0 ? 0 : level.ends[a - 1];
  return std::span<const PieceIndex>(level.pieces)
      .subspan(static_cast<std::size_t>(begin), static_cast<std::size_t>(level.ends[a] - begin));
}

void PieceOrder::swap_positions(Level& level, int priority, std::int32_t a, std::int32_t b) {
  if (a == b) return;
  auto& pieces = level.pieces;
  std::swap(pieces[static_cast<std::size_t>(a)], pieces[static_cast<std::size_t>(b)]);
  place(pieces[static_cast<std::size_t>(a)], a, priority);
  place(pieces[static_cast<std::size_t>(b)], b, priority);
  ++moves_;
}

// Drops empty buckets at the top so scans do not walk availabilities nobody has any more.
void PieceOrder::trim(Level& level) {
  while (level.ends.size() > 1 && level.ends.back() == level.ends[level.ends.size() - 2]) {
    level.ends.pop_back();
  }
  if (level.pieces.empty()) level.ends.clear();
}

void PieceOrder::insert(PieceIndex piece, int priority) {
  assert(!contains(piece) && priority > 0 && priority <= max_priority);
  Level& level = levels_[slot(priority)];
  const auto a = static_cast<std::size_t>(availability(piece));
  const auto size = static_cast<std::int32_t>(level.pieces.size());
  if (level.ends.size() <= a) level.ends.resize(a + 1, size);
  // Append, then walk down: at each bucket above `a` the new piece sits just past that bucket's
  // end; swapping it with the bucket's first piece rotates the bucket up by one slot.
  level.pieces.push_back(piece);
  std::int32_t at = size;
  place(piece, at, priority);
  for (std::size_t b = level.ends.size() - 1; b > a; --b) {
    const std::int32_t first = level.ends[b - 1];
    swap_positions(level, priority, at, first);
    at = first;
    ++level.ends[b];
  }
  ++level.ends[a];
}

void PieceOrder::erase(PieceIndex piece) {
  assert(contains(piece));
  const int priority = this->priority(piece);
  Level& level = levels_[slot(priority)];
  const auto a = static_cast<std::size_t>(availability(piece));
  assert(a < level.ends.size());
  // The mirror of insert: bubble the piece up to the end of the array, one swap per bucket.
  std::int32_t at = position(piece);
  for (std::size_t b = a; b < level.ends.size(); ++b) {
    const std::int32_t last = --level.ends[b];
    swap_positions(level, priority, at, last);
    at = last;
  }
  assert(at == static_cast<std::int32_t>(level.pieces.size()) - 1);
  level.pieces.pop_back();
  entries_[index(piece)].slot = -1;
  trim(level);
}

void PieceOrder::add(PieceIndex piece) {
  Entry& entry = entries_[index(piece)];
  const auto a = static_cast<std::size_t>(entry.avail++);
  if (entry.slot < 0) return;
  const int priority = entry.slot & kPriorityMask;
  Level& level = levels_[slot(priority)];
  if (level.ends.size() <= a + 1) level.ends.resize(a + 2, level.ends.back());
  // Swap with the bucket's last piece, then shrink the bucket: the piece now opens bucket a+1.
  const std::int32_t last = --level.ends[a];
  swap_positions(level, priority, entry.slot >> kPriorityBits, last);
}

void PieceOrder::remove(PieceIndex piece) {
  Entry& entry = entries_[index(piece)];
  assert(entry.avail > 0);
  const auto a = static_cast<std::size_t>(entry.avail--);
  if (entry.slot < 0) return;
  const int priority = entry.slot & kPriorityMask;
  Level& level = levels_[slot(priority)];
  // Swap with the bucket's first piece, then grow bucket a-1 over it.
  const std::int32_t first = level.ends[a - 1]++;
  swap_positions(level, priority, entry.slot >> kPriorityBits, first);
  trim(level);
}

bool PieceOrder::check() const {
  std::size_t stored = 0;
  for (int priority = 0; priority <= max_priority; ++priority) {
    const Level& level = levels_[slot(priority)];
    if (level.pieces.empty() != level.ends.empty()) return false;
    if (priority == 0 && !level.pieces.empty()) return false;
    if (!level.ends.empty() &&
        level.ends.back() != static_cast<std::int32_t>(level.pieces.size())) {
      return false;
    }
    std::size_t a = 0;
    for (std::size_t i = 0; i < level.pieces.size(); ++i) {
      while (static_cast<std::int32_t>(i) >= level.ends[a]) ++a;
      const PieceIndex p = level.pieces[i];
      if (!contains(p) || this->priority(p) != priority) return false;
      if (position(p) != static_cast<std::int32_t>(i)) return false;
      if (availability(p) != static_cast<std::int32_t>(a)) return false;
    }
    stored += level.pieces.size();
  }
  std::size_t positioned = 0;
  for (const Entry& e : entries_) {
    if (e.avail < 0) return false;
    positioned += e.slot >= 0 ? 1 : 0;
  }
  return positioned == stored;
}

}  // namespace starling::policy
