// Transparent huge pages for a big simulation's heap.
//
// A 10,000-peer swarm reads ~40 KB of scattered state per peer on every HAVE (400 MB in all):
// with 4 KB pages nearly every access is a TLB miss as well as a cache miss. Linux backs memory
// advised with MADV_HUGEPAGE by 2 MB pages, but glibc's malloc grows its heap with brk and a new
// brk range is never advised. reserve_huge_page_heap grows the heap once, in chunks malloc hands
// out from brk, advises the range and gives the chunks back to malloc, with trimming off so the
// range stays: what the swarm allocates next is carved from it, by every thread (malloc is kept to
// its one main arena). A hint only: the simulation is
// the same with or without it (only faster); elsewhere than Linux with glibc it does nothing.
#pragma once

#include <cstddef>

namespace starling::sim {

// Returns the bytes advised (0 when nothing was: not Linux/glibc, or the kernel refused).
std::size_t reserve_huge_page_heap(std::size_t bytes);

}  // namespace starling::sim
