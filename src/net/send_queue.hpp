// The outgoing datagrams of a UdpSocket between two flushes: copied into one preallocated slab,
// so queueing allocates nothing and consecutive datagrams lie back to back in memory — which is
// what lets a run of them leave as one UDP GSO send (one buffer, cut by the kernel).
//
// Bounded in datagrams and in bytes; a datagram that does not fit is refused, never queued
// partly. Order is kept.
#pragma once

#include <boost/asio/ip/udp.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace starling::net {

class SendQueue {
 public:
  struct Entry {
    boost::asio::ip::udp::endpoint to;
    std::size_t offset = 0;  // into the slab
    std::size_t size = 0;
  };

  SendQueue(std::size_t max_datagrams, std::size_t max_bytes);

  // Whether push() of a datagram of `bytes` would succeed now.
  bool fits(std::size_t bytes) const {
    return size() < max_datagrams_ && bytes <= max_bytes_ - this->bytes();
  }
  // Copies `bytes`; false (nothing queued) when the datagram count or the byte budget is full.
  bool push(const boost::asio::ip::udp::endpoint& to, std::span<const std::uint8_t> bytes);
  // Removes the first `n` queued datagrams (they were sent, or dropped).
  void pop(std::size_t n);

  bool empty() const { return head_ == entries_.size(); }
  std::size_t size() const { return entries_.size() - head_; }
  std::size_t bytes() const { return bytes_tail_ - bytes_head_; }

  // The i-th queued datagram (0 = the oldest) and its bytes.
  const Entry& at(std::size_t i) const { return entries_[head_ + i]; }
  const std::uint8_t* data(std::size_t i) const { return slab_.get() + at(i).offset; }

  // How many datagrams from the i-th on may leave as one GSO send: same destination, equal
  // sizes except that the last may be shorter, at most `max_segments` and `max_bytes` in all.
  // 1 when no grouping is possible. The group's bytes are contiguous from data(i).
  std::size_t run_length(std::size_t i, std::size_t max_segments, std::size_t max_bytes) const;

 private:
  // Moves what is queued to the front of the slab and of the entry array.
  void compact();

  std::size_t max_datagrams_;
  std::size_t max_bytes_;
  std::unique_ptr<std::uint8_t[]> slab_;
  std::vector<Entry> entries_;  // capacity max_datagrams_, reserved once
  std::size_t head_ = 0;
  std::size_t bytes_head_ = 0;
  std::size_t bytes_tail_ = 0;
};

}  // namespace starling::net
