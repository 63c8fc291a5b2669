#include "utp/reorder_buffer.hpp"

#include <algorithm>
#include <bit>
#include <cassert>

#include "utp/sequence.hpp"

namespace starling::utp {

ReorderBuffer::ReorderBuffer(std::size_t slots, std::size_t retain_bytes)
    : slots_(std::bit_ceil(std::max<std::size_t>(slots, 1))), retain_bytes_(retain_bytes) {}

bool ReorderBuffer::contains(std::uint16_t seq) const {
  const Slot& s = slot(seq);
  return s.used && s.seq == seq;
}

bool ReorderBuffer::insert(std::uint16_t seq, std::span<const std::byte> payload, bool fin) {
  Slot& s = slot(seq);
  if (s.used) return false;
  retained_ -= s.payload.capacity();
  s.payload.assign(payload.begin(), payload.end());
  retained_ += s.payload.capacity();
  s.seq = seq;
  s.used = true;
  s.fin = fin;
  if (count_ == 0 || seq_less(highest_, seq)) highest_ = seq;
  ++count_;
  bytes_ += payload.size();
  return true;
}

ReorderBuffer::Entry ReorderBuffer::get(std::uint16_t seq) const {
  assert(contains(seq));
  const Slot& s = slot(seq);
  return {s.payload, s.fin};
}

void ReorderBuffer::erase(std::uint16_t seq) {
  Slot& s = slot(seq);
  if (!s.used || s.seq != seq) return;
  bytes_ -= s.payload.size();
  s.payload
      .clear();  // keeps the capacity for the next packet in this slot, unless too much is kept
  if (retained_ > retain_bytes_) {
    retained_ -= s.payload.capacity();
    std::vector<std::byte>().swap(s.payload);
  }
  s.used = false;
  --count_;
}

std::size_t ReorderBuffer::write_sack(std::uint16_t ack_nr, std::span<std::byte> out) const {
  if (count_ == 0) return 0;
  const std::size_t first = seq_add(ack_nr, 2);
  const std::size_t bits =
      static_cast<std::size_t>(seq_distance(static_cast<std::uint16_t>(first), highest_)) + 1;
  const std::size_t length = std::min((bits + 31) / 32 * 4, out.size() / 4 * 4);
  std::fill_n(out.begin(), length, std::byte{0});
  for (std::size_t i = 0; i < std::min(bits, length * 8); ++i) {
    if (contains(seq_add(static_cast<std::uint16_t>(first), static_cast<int>(i)))) {
      out[i / 8] |= static_cast<std::byte>(1U << (i % 8));
    }
  }
  return length;
}

}  // namespace starling::utp
