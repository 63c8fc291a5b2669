#include "core/sha1_stream.hpp"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#define STARLING_SHA_NI 1
#endif

namespace starling {
namespace {

constexpr std::size_t kBlock = 64;

#ifdef STARLING_SHA_NI

bool cpu_has_sha_ni() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (__get_cpuid(1, &a, &b, &c, &d) == 0) return false;
  const bool ssse3 = (c & (1U << 9)) != 0;
  const bool sse41 = (c & (1U << 19)) != 0;
  if (__get_cpuid_count(7, 0, &a, &b, &c, &d) == 0) return false;
  const bool sha = (b & (1U << 29)) != 0;
  return ssse3 && sse41 && sha;
}

#define STARLING_TARGET_SHA __attribute__((target("sha,ssse3,sse4.1")))

// Four rounds; the round function is an immediate, so each of the four has its own instruction.
STARLING_TARGET_SHA inline __m128i four_rounds(__m128i abcd, __m128i e, int function) {
  switch (function) {
    case 0:
      return _mm_sha1rnds4_epu32(abcd, e, 0);
    case 1:
      return _mm_sha1rnds4_epu32(abcd, e, 1);
    case 2:
      return _mm_sha1rnds4_epu32(abcd, e, 2);
    default:
      return _mm_sha1rnds4_epu32(abcd, e, 3);
  }
}

// `blocks` blocks of each of N streams, the streams' instructions interleaved: each stream's
// chain of round groups is latency-bound, so the core runs the other's in the gaps. The state
// words are kept as the SHA instructions want them: A..D in one register, A in the top lane,
// and E in the top lane of another.
template <int N>
STARLING_TARGET_SHA void compress_sha_ni(std::uint32_t* const* states,
                                         const unsigned char* const* data, std::size_t blocks) {
  const __m128i byte_swap = _mm_set_epi64x(0x0001020304050607LL, 0x08090a0b0c0d0e0fLL);
  __m128i abcd[N];
  __m128i e0[N];
  for (int k = 0; k < N; ++k) {
    abcd[k] = _mm_shuffle_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(states[k])), 0x1B);
    e0[k] = _mm_set_epi32(static_cast<int>(states[k][4]), 0, 0, 0);
  }
  for (std::size_t b = 0; b < blocks; ++b) {
    __m128i w[N][4];
    __m128i abcd_before[N];
    __m128i previous[N];
    for (int k = 0; k < N; ++k) {
      const unsigned char* p = data[k] + b * kBlock;
      for (std::size_t i = 0; i < 4; ++i) {
        w[k][i] = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * i)),
                                   byte_swap);
      }
      abcd_before[k] = abcd[k];
    }
#pragma GCC unroll 20
    for (int quad = 0; quad < 20; ++quad) {
      for (int k = 0; k < N; ++k) {
        __m128i schedule;
        if (quad < 4) {
          schedule = w[k][quad];
        } else {
          // W[t] for the next four t, from W[t-16..t-13], W[t-12..], W[t-8..] and W[t-4..].
          __m128i t = _mm_sha1msg1_epu32(w[k][quad & 3], w[k][(quad + 1) & 3]);
          t = _mm_xor_si128(t, w[k][(quad + 2) & 3]);
          schedule = w[k][quad & 3] = _mm_sha1msg2_epu32(t, w[k][(quad + 3) & 3]);
        }
        const __m128i e =
            quad == 0 ? _mm_add_epi32(e0[k], schedule) : _mm_sha1nexte_epu32(previous[k], schedule);
        previous[k] = abcd[k];
        abcd[k] = four_rounds(abcd[k], e, quad / 5);
      }
    }
    for (int k = 0; k < N; ++k) {
      e0[k] = _mm_sha1nexte_epu32(previous[k], e0[k]);
      abcd[k] = _mm_add_epi32(abcd[k], abcd_before[k]);
    }
  }
  for (int k = 0; k < N; ++k) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(states[k]), _mm_shuffle_epi32(abcd[k], 0x1B));
    states[k][4] = static_cast<std::uint32_t>(_mm_extract_epi32(e0[k], 3));
  }
}

std::atomic<bool> g_accelerated{cpu_has_sha_ni()};

void compress_one(std::uint32_t* state, const unsigned char* data, std::size_t blocks) {
  compress_sha_ni<1>(&state, &data, blocks);
}

// Two or three streams (four would no longer fit the 16 vector registers: slower than three).
void compress_together(std::size_t streams, std::uint32_t* const* states,
                       const unsigned char* const* data, std::size_t blocks) {
  if (streams == 3) {
    compress_sha_ni<3>(states, data, blocks);
  } else {
    compress_sha_ni<2>(states, data, blocks);
  }
}
#else

std::atomic<bool> g_accelerated{false};

// Never called: without SHA extensions every Sha1Stream hashes through OpenSSL.
void compress_one(std::uint32_t*, const unsigned char*, std::size_t) {}
void compress_together(std::size_t, std::uint32_t* const*, const unsigned char* const*,
                       std::size_t) {}
#endif

const unsigned char* bytes_of(std::string_view data) {
  return reinterpret_cast<const unsigned char*>(data.data());
}

}  // namespace

bool Sha1Stream::accelerated() {
  return g_accelerated.load(std::memory_order_relaxed);
}

void Sha1Stream::set_accelerated_for_testing(bool on) {
#ifdef STARLING_SHA_NI
  g_accelerated.store(on && cpu_has_sha_ni());
#else
  (void)on;
#endif
}

Sha1Stream::Sha1Stream() : openssl_(accelerated() ? nullptr : std::make_unique<Sha1Hasher>()) {
  reset();
}

void Sha1Stream::reset() {
  state_ = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
  buffered_ = 0;
  length_ = 0;
}

std::string_view Sha1Stream::fill_buffer(std::string_view data) {
  if (buffered_ == 0) return data;
  const std::size_t n = std::min(kBlock - buffered_, data.size());
  std::memcpy(buffer_.data() + buffered_, data.data(), n);
  buffered_ += n;
  length_ += n;
  if (buffered_ == kBlock) {
    compress_one(state_.data(), buffer_.data(), 1);
    buffered_ = 0;
  }
  return data.substr(n);
}

std::string_view Sha1Stream::hash_blocks(std::string_view data) {
  const std::size_t blocks = data.size() / kBlock;
  if (blocks > 0) compress_one(state_.data(), bytes_of(data), blocks);
  length_ += blocks * kBlock;
  return data.substr(blocks * kBlock);
}

void Sha1Stream::update(std::string_view data) {
  if (openssl_) {
    openssl_->update(data);
    length_ += data.size();
    return;
  }
  data = hash_blocks(fill_buffer(data));
  if (!data.empty()) {
    std::memcpy(buffer_.data(), data.data(), data.size());
    buffered_ = data.size();
    length_ += data.size();
  }
}

void Sha1Stream::update_together(std::span<Sha1Stream* const> streams,
                                 std::span<const std::string_view> data) {
  const std::size_t n = std::min(streams.size(), data.size());
  bool lockstep = n >= 2 && n <= kMaxLockstep;
  for (std::size_t k = 0; k < n && lockstep; ++k) lockstep = streams[k]->openssl_ == nullptr;
  if (!lockstep) {
    for (std::size_t k = 0; k < n; ++k) streams[k]->update(data[k]);
    return;
  }
  std::array<std::string_view, kMaxLockstep> rest{};
  std::array<std::uint32_t*, kMaxLockstep> states{};
  std::array<const unsigned char*, kMaxLockstep> starts{};
  std::size_t blocks = SIZE_MAX;
  for (std::size_t k = 0; k < n; ++k) {
    rest[k] = streams[k]->fill_buffer(data[k]);
    // A stream with a part block left in its buffer has no block boundary to start from.
    if (streams[k]->buffered_ != 0) blocks = 0;
    blocks = std::min(blocks, rest[k].size() / kBlock);
    states[k] = streams[k]->state_.data();
    starts[k] = bytes_of(rest[k]);
  }
  if (blocks > 0) {
    compress_together(n, states.data(), starts.data(), blocks);
    for (std::size_t k = 0; k < n; ++k) {
      streams[k]->length_ += blocks * kBlock;
      rest[k].remove_prefix(blocks * kBlock);
    }
  }
  for (std::size_t k = 0; k < n; ++k) streams[k]->update(rest[k]);
}

Sha1Digest Sha1Stream::finish() {
  if (openssl_) {
    length_ = 0;
    return openssl_->finish();
  }
  const std::uint64_t bits = length_ * 8;
  const unsigned char pad = 0x80;
  update(std::string_view(reinterpret_cast<const char*>(&pad), 1));
  const std::array<char, kBlock> zeros{};
  const std::size_t zeros_needed = (buffered_ <= 56 ? 56 : 56 + kBlock) - buffered_;
  update(std::string_view(zeros.data(), zeros_needed));
  std::array<char, 8> length_be{};
  for (int i = 0; i < 8; ++i) length_be[i] = static_cast<char>(bits >> (56 - 8 * i));
  update(std::string_view(length_be.data(), length_be.size()));
  Sha1Digest digest;
  for (int i = 0; i < 5; ++i) {
    for (int j = 0; j < 4; ++j) {
      digest.bytes[4 * i + j] = static_cast<std::uint8_t>(state_[i] >> (24 - 8 * j));
    }
  }
  reset();
  return digest;
}

}  // namespace starling
