// Packets that arrived past a hole in the sequence, held until the hole fills. Slots are indexed
// by seq_nr modulo a power-of-two slot count, which is unique as long as the connection only
// accepts packets less than `slots()` ahead of its ack_nr. A slot's byte vector keeps its
// capacity when emptied, so once the buffer has warmed up, storing a packet does not allocate;
// kept capacity is capped at `retain_bytes` in all, so a peer spraying large packets over many
// slots cannot make an idle buffer hold slots x 64 KiB.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace starling::utp {

class ReorderBuffer {
 public:
  // `slots` is rounded up to a power of two.
  ReorderBuffer(std::size_t slots, std::size_t retain_bytes);

  std::size_t slots() const { return slots_.size(); }
  std::size_t count() const { return count_; }
  bool empty() const { return count_ == 0; }
  // Payload bytes held (they count against the advertised receive window).
  std::size_t bytes() const { return bytes_; }
  // Heap bytes the slots keep allocated (held packets plus spare capacity).
  std::size_t retained_bytes() const { return retained_; }
  // The highest seq_nr held; meaningful when !empty().
  std::uint16_t highest() const { return highest_; }

  bool contains(std::uint16_t seq) const;
  // Stores a copy of the payload; false when that seq_nr is already held (a duplicate).
  bool insert(std::uint16_t seq, std::span<const std::byte> payload, bool fin);

  struct Entry {
    std::span<const std::byte> payload;
    bool fin = false;
  };
  // The packet held for `seq`; valid until the next insert() or erase(). Requires contains(seq).
  Entry get(std::uint16_t seq) const;
  void erase(std::uint16_t seq);

  // Writes the BEP 29 selective-ACK bitmask for the packets held after `ack_nr` (bit i = packet
  // ack_nr + 2 + i) into `out`, at most out.size() bytes rounded down to a multiple of 4.
  // Returns its length: a multiple of 4, 0 when nothing is held.
  std::size_t write_sack(std::uint16_t ack_nr, std::span<std::byte> out) const;

 private:
  struct Slot {
    std::vector<std::byte> payload;
    std::uint16_t seq = 0;
    bool used = false;
    bool fin = false;
  };
  const Slot& slot(std::uint16_t seq) const { return slots_[seq & (slots_.size() - 1)]; }
  Slot& slot(std::uint16_t seq) { return slots_[seq & (slots_.size() - 1)]; }

  std::vector<Slot> slots_;
  std::size_t count_ = 0;
  std::size_t bytes_ = 0;
  std::size_t retain_bytes_;
  std::size_t retained_ = 0;  // capacity of all slot vectors
  std::uint16_t highest_ = 0;
};

}  // namespace starling::utp
