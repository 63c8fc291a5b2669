// The packets we sent and the peer has not yet acknowledged cumulatively, oldest first, one slot
// per seq_nr in a power-of-two ring (index = seq_nr & mask). A slot records where its payload
// lies in the send stream rather than the bytes themselves: a retransmission copies them back
// out of the send buffer. Fixed storage, O(1) access by seq_nr.
#pragma once

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "utp/congestion_control.hpp"
#include "utp/packet.hpp"
#include "utp/sequence.hpp"

namespace starling::utp {

struct SentPacket {
  std::uint64_t stream_offset = 0;  // of the first payload byte
  std::uint32_t payload = 0;
  TimePoint last_sent{};
  std::uint16_t transmissions = 0;
  PacketType type = PacketType::data;
  bool acked = false;         // by a SACK; cumulative acks remove the slot
  bool lost = false;          // waits for a retransmission, not counted in flight
  bool fast_resent = false;   // fast retransmit is tried once per packet; then only the RTO
  bool mtu_probe = false;     // first sent larger than the known-good packet size
  bool window_probe = false;  // cut to fit the peer's small or shut window
};

class SentPackets {
 public:
  explicit SentPackets(std::size_t capacity)
      : slots_(std::bit_ceil(std::clamp<std::size_t>(capacity, 2, 16384))) {}

  std::size_t capacity() const { return slots_.size(); }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  bool full() const { return size_ == slots_.size(); }
  // seq_nr of the oldest packet held; the one after the newest is first() + size().
  std::uint16_t first() const { return first_; }
  bool contains(std::uint16_t seq) const { return seq_distance(first_, seq) < size_; }

  SentPacket& at(std::uint16_t seq) { return slots_[seq & (slots_.size() - 1)]; }
  const SentPacket& at(std::uint16_t seq) const { return slots_[seq & (slots_.size() - 1)]; }
  SentPacket& front() { return at(first_); }

  // The very first push sets the numbering; later pushes must be first() + size().
  SentPacket& push(std::uint16_t seq, const SentPacket& packet) {
    assert(!full());
    if (size_ == 0) first_ = seq;
    assert(seq == seq_add(first_, static_cast<int>(size_)));
    ++size_;
    return at(seq) = packet;
  }
  void pop_front() {
    assert(size_ > 0);
    first_ = seq_add(first_, 1);
    --size_;
  }

 private:
  std::vector<SentPacket> slots_;
  std::uint16_t first_ = 0;
  std::size_t size_ = 0;
};

}  // namespace starling::utp
