#include "session/partial_pieces.hpp"

#include <cstdlib>

#include "storage/file_store.hpp"

namespace starling::session {

StagingPool::~StagingPool() {
  for (auto& [capacity, data] : free_) std::free(data);
}

std::unique_ptr<StagingPool::Piece> StagingPool::acquire(std::int64_t size) {
  constexpr auto kAlign = static_cast<std::int64_t>(kDirectIoAlignment);
  const std::int64_t capacity = (size + kAlign - 1) / kAlign * kAlign;
  std::lock_guard lock(mutex_);
  for (auto it = free_.begin(); it != free_.end(); ++it) {
    if (it->first == capacity) {
      char* data = it->second;
      free_.erase(it);
      return std::unique_ptr<Piece>(new Piece(shared_from_this(), data, capacity, size));
    }
  }
  // Kept buffers of other sizes make room first.
  while (held_ + capacity > budget_ && !free_.empty()) {
    held_ -= free_.back().first;
    std::free(free_.back().second);
    free_.pop_back();
  }
  if (held_ + capacity > budget_) return nullptr;
  char* data = static_cast<char*>(
      std::aligned_alloc(kDirectIoAlignment, static_cast<std::size_t>(capacity)));
  if (data == nullptr) return nullptr;
  held_ += capacity;
  return std::unique_ptr<Piece>(new Piece(shared_from_this(), data, capacity, size));
}

void StagingPool::release(char* data, std::int64_t capacity) {
  std::lock_guard lock(mutex_);
  free_.emplace_back(capacity, data);
}

StagingPool::Piece::~Piece() {
  pool_->release(data_, capacity_);
}

PartialPieces::Entry& PartialPieces::at(PieceIndex piece, bool* created) {
  std::lock_guard lock(mutex_);
  auto& entry = entries_[piece.value()];
  if (created) *created = !entry;
  if (!entry) entry = std::make_unique<Entry>();
  return *entry;
}

std::unique_ptr<PartialPieces::Entry> PartialPieces::take(PieceIndex piece) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(piece.value());
  if (it == entries_.end()) return nullptr;
  auto entry = std::move(it->second);
  entries_.erase(it);
  return entry;
}

}  // namespace starling::session
