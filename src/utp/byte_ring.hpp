// A fixed-capacity FIFO of bytes addressed by absolute stream offset. The send buffer keeps
// written-but-unacknowledged bytes in one (a retransmission copies its payload straight back
// out by offset, so no packet keeps its own copy) and the receive buffer keeps in-order bytes
// the application has not read. Storage is allocated once: nothing allocates per packet.
#pragma once

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

namespace starling::utp {

class ByteRing {
 public:
  // Holds at most `capacity` bytes. Storage grows with what is held (doubling, from 64 KiB),
  // not with the capacity: a connection that moves 256 KiB/s never holds its 1 MiB, and a swarm
  // of 64 processes with ~100 connections each zero-filled ~13 GiB when every ring was
  // allocated whole up front.
  explicit ByteRing(std::size_t capacity) : capacity_(capacity) {}

  std::size_t capacity() const { return capacity_; }
  std::size_t size() const { return size_; }
  std::size_t free() const { return capacity_ - size_; }
  // Bytes of storage allocated now (for tests and memory accounting).
  std::size_t storage() const { return data_.size(); }
  // Stream offset of the first byte held, and one past the last.
  std::uint64_t begin_offset() const { return begin_; }
  std::uint64_t end_offset() const { return begin_ + size_; }

  // Appends as much of `bytes` as fits; returns how much.
  std::size_t push(std::span<const std::byte> bytes) {
    const std::size_t n = std::min(bytes.size(), free());
    if (n == 0) return 0;
    grow_to_hold(size_ + n);
    write_at(end_offset(), bytes.first(n));
    size_ += n;
    return n;
  }

  // Copies out.size() bytes starting at stream `offset`, which must lie inside the ring.
  void copy_out(std::uint64_t offset, std::span<std::byte> out) const {
    assert(offset >= begin_ && offset + out.size() <= end_offset());
    if (out.empty()) return;
    const std::size_t at = index(offset);
    const std::size_t first = std::min(out.size(), data_.size() - at);
    std::memcpy(out.data(), data_.data() + at, first);
    std::memcpy(out.data() + first, data_.data(), out.size() - first);
  }

  // The longest contiguous run at the front (for zero-copy reads).
  std::span<const std::byte> front() const {
    if (size_ == 0) return {};
    const std::size_t at = index(begin_);
    return {data_.data() + at, std::min(size_, data_.size() - at)};
  }

  void pop(std::size_t n) {
    assert(n <= size_);
    begin_ += n;
    size_ -= n;
  }

 private:
  static constexpr std::size_t kInitialStorage = std::size_t{64} * 1024;

  std::size_t index(std::uint64_t offset) const {
    return data_.empty() ? 0 : static_cast<std::size_t>(offset % data_.size());
  }

  void write_at(std::uint64_t offset, std::span<const std::byte> bytes) {
    if (bytes.empty()) return;  // an empty span may have no storage (memcpy from null)
    const std::size_t at = index(offset);
    const std::size_t first = std::min(bytes.size(), data_.size() - at);
    std::memcpy(data_.data() + at, bytes.data(), first);
    std::memcpy(data_.data(), bytes.data() + first, bytes.size() - first);
  }

  // Moves the held bytes into larger storage (positions follow the new size).
  void grow_to_hold(std::size_t bytes) {
    if (bytes <= data_.size()) return;
    std::size_t grown = std::max(data_.size() * 2, kInitialStorage);
    while (grown < bytes) grown *= 2;
    grown = std::min(grown, capacity_);
    std::vector<std::byte> held(size_);
    copy_out(begin_, held);
    data_.assign(grown, std::byte{0});
    write_at(begin_, held);
  }

  std::size_t capacity_;
  std::vector<std::byte> data_;
  std::uint64_t begin_ = 0;
  std::size_t size_ = 0;
};

}  // namespace starling::utp
