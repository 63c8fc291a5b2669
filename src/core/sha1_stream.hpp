// SHA-1 with its state in the open, so that independent streams can be hashed in lockstep.
//
// With the CPU's SHA extensions one SHA-1 stream is bound by the latency of its round
// instructions (each group of four rounds waits for the previous one), not by their throughput:
// two or three streams interleaved get ~1.7× or ~2.1× the bytes per second of one. A downloader
// verifies many pieces, so it can group them: update_together().
// Without SHA extensions the stream hashes through OpenSSL (Sha1Hasher), one stream at a time.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "core/digest.hpp"

namespace starling {

class Sha1Stream {
 public:
  Sha1Stream();

  void update(std::string_view data);
  Sha1Digest finish();  // the stream is reset and may be reused
  std::uint64_t size() const { return length_; }

  // The most streams hashed in lockstep: three fill the gaps of each other's round chains (on
  // the EPYC here, bench/sha1_bench: 1.76 GiB/s for one stream, 3.06 for two, 3.67 for three);
  // four do not fit the vector registers and go slower than three.
  static constexpr std::size_t kMaxLockstep = 3;

  // streams[k]->update(data[k]) for each k, with the 64-byte blocks of all of them (up to
  // kMaxLockstep) hashed in lockstep as far as they go side by side, the rest one stream at a
  // time. Same results as separate updates.
  static void update_together(std::span<Sha1Stream* const> streams,
                              std::span<const std::string_view> data);

  // Whether streams made from now on use the SHA extensions (tests force OpenSSL with false).
  static bool accelerated();
  static void set_accelerated_for_testing(bool on);

 private:
  void reset();
  // Bytes up to a block boundary into the buffer (hashing it when full); returns what is left.
  std::string_view fill_buffer(std::string_view data);
  // Hashes whole blocks at the start of `data` (the buffer must be empty); returns the rest.
  std::string_view hash_blocks(std::string_view data);

  std::array<std::uint32_t, 5> state_{};
  std::array<unsigned char, 64> buffer_{};
  std::size_t buffered_ = 0;
  std::uint64_t length_ = 0;
  std::unique_ptr<Sha1Hasher> openssl_;  // set when made without the SHA extensions
};

}  // namespace starling
