#include "sim/huge_page_heap.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <vector>

#if defined(__linux__) && defined(__GLIBC__)
#include <malloc.h>
#include <sys/mman.h>
#endif

namespace starling::sim {

std::size_t reserve_huge_page_heap(std::size_t bytes) {
#if defined(__linux__) && defined(__GLIBC__)
  constexpr std::size_t kHuge = std::size_t{2} << 20;
  // Below glibc's largest mmap threshold (32 MiB on 64-bit), so every chunk comes from brk.
  constexpr std::size_t kChunk = (std::size_t{32} << 20) - 4096;
  if (bytes < kHuge) return 0;
  mallopt(M_MMAP_THRESHOLD, static_cast<int>(kChunk + 4096));
  mallopt(M_TRIM_THRESHOLD, static_cast<int>(std::size_t{1} << 30));
  // The simulator's worker threads allocate too (a grid step's requests): one arena keeps their
  // blocks on this heap instead of in arenas of their own, off the huge pages (+100 MB at
  // 10,000 peers on two threads).
  mallopt(M_ARENA_MAX, 1);
  std::vector<void*> chunks;
  auto low = UINTPTR_MAX;
  std::uintptr_t high = 0;
  for (std::size_t got = 0; got < bytes; got += kChunk) {
    void* chunk = std::malloc(kChunk);  // NOLINT(cppcoreguidelines-no-malloc): malloc's own heap
    if (chunk == nullptr) break;
    chunks.push_back(chunk);
    low = std::min(low, reinterpret_cast<std::uintptr_t>(chunk));
    high = std::max(high, reinterpret_cast<std::uintptr_t>(chunk) + kChunk);
  }
  std::size_t advised = 0;
  const std::uintptr_t begin = (low + kHuge - 1) / kHuge * kHuge;
  const std::uintptr_t end = high / kHuge * kHuge;
  // The chunks are untouched but for their headers, so the kernel can fault most of the range in
  // as huge pages from the start.
  if (!chunks.empty() && end > begin &&
      // NOLINTNEXTLINE(performance-no-int-to-ptr): page-aligning an address for madvise
      madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE) == 0) {
    advised = end - begin;
  }
  for (void* chunk : chunks) std::free(chunk);  // NOLINT(cppcoreguidelines-no-malloc)
  return advised;
#else
  (void)bytes;
  return 0;
#endif
}

}  // namespace starling::sim
