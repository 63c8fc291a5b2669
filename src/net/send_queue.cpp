#include "net/send_queue.hpp"

#include <algorithm>
#include <cstring>

namespace starling::net {

SendQueue::SendQueue(std::size_t max_datagrams, std::size_t max_bytes)
    : max_datagrams_(std::max<std::size_t>(max_datagrams, 1)),
      max_bytes_(max_bytes),
      slab_(new std::uint8_t[std::max<std::size_t>(max_bytes, 1)]) {
  entries_.reserve(max_datagrams_);
}

bool SendQueue::push(const boost::asio::ip::udp::endpoint& to,
                     std::span<const std::uint8_t> bytes) {
  if (!fits(bytes.size())) return false;
  if (entries_.size() == max_datagrams_ || bytes_tail_ + bytes.size() > max_bytes_) compact();
  if (!bytes.empty()) std::memcpy(slab_.get() + bytes_tail_, bytes.data(), bytes.size());
  entries_.push_back({to, bytes_tail_, bytes.size()});
  bytes_tail_ += bytes.size();
  return true;
}

void SendQueue::pop(std::size_t n) {
  head_ = std::min(head_ + n, entries_.size());
  if (empty()) {
    // The common case after a flush: start over at the front, no copying.
    entries_.clear();
    head_ = bytes_head_ = bytes_tail_ = 0;
  } else {
    bytes_head_ = entries_[head_].offset;
  }
}

std::size_t SendQueue::run_length(std::size_t i, std::size_t max_segments,
                                  std::size_t max_bytes) const {
  const Entry& first = at(i);
  // A zero segment size means "no GSO" to the kernel.
  if (first.size == 0) return 1;
  std::size_t run = 1;
  std::size_t total = first.size;
  for (std::size_t j = i + 1; j < size() && run < max_segments; ++j) {
    const Entry& next = at(j);
    if (next.size == 0 || next.size > first.size || total + next.size > max_bytes ||
        next.to != first.to) {
      break;
    }
    ++run;
    total += next.size;
    if (next.size < first.size) break;  // only the last segment may be shorter
  }
  return run;
}

void SendQueue::compact() {
  // Rare: only when a flush could not send everything (the kernel's buffer was full) and more
  // was queued since.
  if (head_ == 0) return;
  const std::size_t live = bytes();
  std::memmove(slab_.get(), slab_.get() + bytes_head_, live);
  entries_.erase(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(head_));
  for (Entry& e : entries_) e.offset -= bytes_head_;
  head_ = 0;
  bytes_head_ = 0;
  bytes_tail_ = live;
}

}  // namespace starling::net
