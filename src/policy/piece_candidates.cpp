#include "policy/piece_candidates.hpp"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#define STARLING_HAVE_AVX2_SCAN 1
#define STARLING_TARGET_AVX2 __attribute__((target("avx2,popcnt,bmi")))
#else
#define STARLING_HAVE_AVX2_SCAN 0
#endif

namespace starling::policy {
namespace {

constexpr std::size_t kWordBits = 64;
constexpr std::uint16_t kNone = 0xFFFF;

// Where piece `i % 64` sits in its word: the wire puts piece 0 in the top bit of the first byte.
constexpr int bit_of(std::size_t i) {
  return static_cast<int>((i % kWordBits) ^ 7U);
}

// Word `word` of a wire bitfield, as PieceCandidates stores its sets (zeros past the end).
inline std::uint64_t has_word(std::string_view bytes, std::size_t word) {
  const std::size_t at = word * sizeof(std::uint64_t);
  std::uint64_t out = 0;
  if (at < bytes.size()) {
    std::memcpy(&out, bytes.data() + at, std::min(sizeof(out), bytes.size() - at));
  }
  return out;
}

// How many pieces are in both `set` and the bitfield. Inlined into each target's caller.
inline __attribute__((always_inline)) int count_both(const std::uint64_t* set, std::string_view has,
                                                     std::size_t words) {
  int n = 0;
  for (std::size_t w = 0; w < words; ++w) n += std::popcount(set[w] & has_word(has, w));
  return n;
}

// The word's pieces whose availability is `availability` (-1: all of them), as a mask in the
// word's own bit order.
std::uint64_t matching(std::uint64_t candidates, const std::uint16_t* avail, int availability) {
  if (availability < 0) return candidates;
  std::uint64_t out = 0;
  for (std::size_t i = 0; i < kWordBits; ++i) {
    const std::uint64_t bit = std::uint64_t{1} << bit_of(i);
    if ((candidates & bit) != 0 && avail[i] == availability) out |= bit;
  }
  return out;
}

#if STARLING_HAVE_AVX2_SCAN
// Lane j of a 16-piece chunk (two wire bytes, loaded little-endian) is selected by this bit.
STARLING_TARGET_AVX2 __m256i chunk_bits() {
  return _mm256_setr_epi16(0x80, 0x40, 0x20, 0x10, 0x08, 0x04, 0x02, 0x01,
                           static_cast<short>(0x8000), 0x4000, 0x2000, 0x1000, 0x0800, 0x0400,
                           0x0200, 0x0100);
}

// The chunk's availabilities, with kNone in the lanes whose bit is clear; `selected` gets the
// lanes whose bit is set.
STARLING_TARGET_AVX2 __m256i load_chunk(const std::uint16_t* avail, std::uint64_t bits16,
                                        __m256i lane_bits, __m256i& selected) {
  const __m256i mask = _mm256_set1_epi16(static_cast<short>(bits16));
  selected = _mm256_cmpeq_epi16(_mm256_and_si256(mask, lane_bits), lane_bits);
  const __m256i values = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(avail));
  return _mm256_or_si256(values, _mm256_andnot_si256(selected, _mm256_set1_epi16(-1)));
}

STARLING_TARGET_AVX2 PieceCandidates::Rarest rarest_avx2(const std::uint16_t* avail,
                                                         const std::uint64_t* masks,
                                                         std::size_t words) {
  const __m256i lane_bits = chunk_bits();
  const __m256i ones = _mm256_set1_epi16(1);
  // Per lane: the lowest availability seen and how many selected pieces had it.
  __m256i low = _mm256_set1_epi16(-1);
  __m256i count = _mm256_setzero_si256();
  for (std::size_t w = 0; w < words; ++w) {
    const std::uint64_t m = masks[w];
    if (m == 0) continue;
    for (std::size_t k = 0; k < 4; ++k) {
      const std::uint64_t bits16 = (m >> (16 * k)) & 0xFFFF;
      if (bits16 == 0) continue;
      __m256i selected;
      const __m256i v = load_chunk(avail + w * kWordBits + k * 16, bits16, lane_bits, selected);
      const __m256i equal = _mm256_and_si256(_mm256_cmpeq_epi16(v, low), selected);
      const __m256i new_low = _mm256_min_epu16(low, v);
      const __m256i lowered =
          _mm256_andnot_si256(_mm256_cmpeq_epi16(new_low, low), _mm256_set1_epi16(-1));
      count = _mm256_sub_epi16(count, equal);  // equal lanes are -1
      count = _mm256_or_si256(_mm256_andnot_si256(lowered, count), _mm256_and_si256(lowered, ones));
      low = new_low;
    }
  }
  alignas(32) std::uint16_t lows[16];
  alignas(32) std::uint16_t counts[16];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lows), low);
  _mm256_store_si256(reinterpret_cast<__m256i*>(counts), count);
  const std::uint16_t lowest = *std::min_element(lows, lows + 16);
  PieceCandidates::Rarest out;
  if (lowest == kNone) return out;
  out.availability = lowest;
  for (int j = 0; j < 16; ++j) out.count += lows[j] == lowest ? counts[j] : 0;
  return out;
}

// The k-th selected lane (in piece order) whose value is `availability`; -1 with k reduced by
// the chunk's matches when the chunk has k or fewer.
STARLING_TARGET_AVX2 int nth_in_chunk_avx2(const std::uint16_t* avail, std::uint64_t bits16,
                                           int availability, int& k) {
  __m256i selected;
  const __m256i v = load_chunk(avail, bits16, chunk_bits(), selected);
  const __m256i hit =
      availability < 0 ? selected
                       : _mm256_cmpeq_epi16(v, _mm256_set1_epi16(static_cast<short>(availability)));
  // Two mask bits per 16-bit lane: keep the low one of each.
  auto lanes = static_cast<std::uint32_t>(_mm256_movemask_epi8(hit)) & 0x55555555U;
  const int n = std::popcount(lanes);
  if (k >= n) {
    k -= n;
    return -1;
  }
  for (int i = 0; i < k; ++i) lanes &= lanes - 1;
  return std::countr_zero(lanes) / 2;
}

STARLING_TARGET_AVX2 int count_avx2(const std::uint64_t* set, std::string_view has,
                                    std::size_t words) {
  return count_both(set, has, words);
}

// PieceCandidates::nth over one set; -1 when there are k or fewer matches.
STARLING_TARGET_AVX2 int nth_avx2(const std::uint16_t* avail, const std::uint64_t* set,
                                  std::string_view has, std::size_t words, int availability,
                                  int k) {
  for (std::size_t w = 0; w < words; ++w) {
    const std::uint64_t m = set[w] & has_word(has, w);
    if (m == 0) continue;
    if (availability < 0) {  // any availability: a popcount decides whether it is here
      const int n = std::popcount(m);
      if (k >= n) {
        k -= n;
        continue;
      }
    }
    for (std::size_t c = 0; c < 4; ++c) {
      const std::uint64_t bits16 = (m >> (16 * c)) & 0xFFFF;
      if (bits16 == 0) continue;
      const std::size_t first = w * kWordBits + c * 16;
      const int lane = nth_in_chunk_avx2(avail + first, bits16, availability, k);
      if (lane >= 0) return static_cast<int>(first) + lane;
    }
  }
  return -1;
}

bool use_avx2() {
  static const bool supported = __builtin_cpu_supports("avx2") != 0;
  return supported;
}
#endif

}  // namespace

PieceCandidates::PieceCandidates(std::int32_t num_pieces)
    : num_pieces_(std::max(num_pieces, 0)),
      words_((static_cast<std::size_t>(num_pieces_) + kWordBits - 1) / kWordBits),
      avail_(words_ * kWordBits, 0),
      level_of_(static_cast<std::size_t>(num_pieces_), 0),
      sets_(words_ * (max_priority + 1), 0),
      count_(max_priority + 1, 0) {}

void PieceCandidates::insert(PieceIndex piece, int priority) {
  assert(!contains(piece) && priority > 0 && priority <= max_priority);
  const std::size_t i = index(piece);
  level_of_[i] = static_cast<std::uint8_t>(priority);
  sets_[static_cast<std::size_t>(priority) * words_ + i / kWordBits] |= std::uint64_t{1}
                                                                        << bit_of(i);
  ++count_[static_cast<std::size_t>(priority)];
  ++size_;
}

void PieceCandidates::erase(PieceIndex piece) {
  const std::size_t i = index(piece);
  const std::size_t priority = level_of_[i];
  if (priority == 0) return;
  level_of_[i] = 0;
  sets_[priority * words_ + i / kWordBits] &= ~(std::uint64_t{1} << bit_of(i));
  --count_[priority];
  --size_;
}

int PieceCandidates::count(int priority, const Bitfield& peer_has) const {
  if (peer_has.size() != static_cast<std::size_t>(num_pieces_)) return 0;
#if STARLING_HAVE_AVX2_SCAN
  if (use_avx2()) return count_avx2(level(priority), peer_has.bytes(), words_);
#endif
  return count_both(level(priority), peer_has.bytes(), words_);
}

PieceCandidates::Rarest PieceCandidates::rarest(int priority, const Bitfield& peer_has) const {
#if STARLING_HAVE_AVX2_SCAN
  if (use_avx2() && peer_has.size() == static_cast<std::size_t>(num_pieces_)) {
    // The candidates the peer has, word by word: a few dozen words on the stack.
    constexpr std::size_t kBatch = 64;
    const std::uint64_t* set = level(priority);
    Rarest best;
    for (std::size_t first = 0; first < words_; first += kBatch) {
      std::uint64_t masks[kBatch];
      const std::size_t n = std::min(kBatch, words_ - first);
      for (std::size_t w = 0; w < n; ++w)
        masks[w] = set[first + w] & has_word(peer_has.bytes(), first + w);
      const Rarest part = rarest_avx2(avail_.data() + first * kWordBits, masks, n);
      if (part.count == 0) continue;
      if (best.count == 0 || part.availability < best.availability) {
        best = part;
      } else if (part.availability == best.availability) {
        best.count += part.count;
      }
    }
    return best;
  }
#endif
  return rarest_portable(priority, peer_has);
}

PieceCandidates::Rarest PieceCandidates::rarest_portable(int priority,
                                                         const Bitfield& peer_has) const {
  Rarest best;
  if (peer_has.size() != static_cast<std::size_t>(num_pieces_)) return best;
  const std::uint64_t* set = level(priority);
  for (std::size_t w = 0; w < words_; ++w) {
    const std::uint64_t m = set[w] & has_word(peer_has.bytes(), w);
    if (m == 0) continue;
    for (std::size_t i = 0; i < kWordBits; ++i) {
      if ((m >> bit_of(i) & 1U) == 0) continue;
      const int a = avail_[w * kWordBits + i];
      if (best.count == 0 || a < best.availability) {
        best = {a, 1};
      } else if (a == best.availability) {
        ++best.count;
      }
    }
  }
  return best;
}

PieceIndex PieceCandidates::nth(int priority, const Bitfield& peer_has, int availability,
                                int k) const {
#if STARLING_HAVE_AVX2_SCAN
  if (use_avx2() && peer_has.size() == static_cast<std::size_t>(num_pieces_)) {
    const int piece =
        nth_avx2(avail_.data(), level(priority), peer_has.bytes(), words_, availability, k);
    assert(piece >= 0 && "nth: fewer matching candidates than k + 1");
    return PieceIndex(std::max(piece, 0));
  }
#endif
  return nth_portable(priority, peer_has, availability, k);
}

PieceIndex PieceCandidates::nth_portable(int priority, const Bitfield& peer_has, int availability,
                                         int k) const {
  const std::uint64_t* set = level(priority);
  for (std::size_t w = 0; w < words_; ++w) {
    const std::uint64_t m = matching(set[w] & has_word(peer_has.bytes(), w),
                                     avail_.data() + w * kWordBits, availability);
    const int n = std::popcount(m);
    if (k >= n) {
      k -= n;
      continue;
    }
    for (std::size_t i = 0; i < kWordBits; ++i) {
      if ((m >> bit_of(i) & 1U) == 0) continue;
      if (k-- == 0) return PieceIndex(static_cast<std::int32_t>(w * kWordBits + i));
    }
  }
  assert(false && "nth: fewer matching candidates than k + 1");
  return PieceIndex(0);
}

bool PieceCandidates::check() const {
  std::vector<std::size_t> counted(max_priority + 1, 0);
  for (std::size_t i = 0; i < static_cast<std::size_t>(num_pieces_); ++i) {
    for (int priority = 0; priority <= max_priority; ++priority) {
      const bool in_set = (level(priority)[i / kWordBits] >> bit_of(i) & 1U) != 0;
      if (in_set != (level_of_[i] == priority && priority != 0)) return false;
      counted[static_cast<std::size_t>(priority)] += in_set ? 1 : 0;
    }
  }
  std::size_t total = 0;
  for (int priority = 0; priority <= max_priority; ++priority) {
    const auto p = static_cast<std::size_t>(priority);
    if (counted[p] != count_[p]) return false;
    total += counted[p];
  }
  // Padding past the last piece is never a candidate.
  for (std::size_t w = 0; w < words_; ++w) {
    for (std::size_t i = w * kWordBits; i < (w + 1) * kWordBits; ++i) {
      if (i < static_cast<std::size_t>(num_pieces_)) continue;
      for (int priority = 0; priority <= max_priority; ++priority) {
        if ((level(priority)[w] >> bit_of(i) & 1U) != 0) return false;
      }
    }
  }
  return total == size_;
}

}  // namespace starling::policy
