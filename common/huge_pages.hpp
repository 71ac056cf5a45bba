// common/huge_pages.hpp: a hint that a large buffer, about to be written for the first time, be
// backed by transparent huge pages. Header-only; used by the snapshot and the diff engine.
//
// Why: a buffer of tens of MB touched for the first time takes one page fault per 4 KiB page, and
// on virtual machines a fault costs several microseconds: at 10^6 users the faults of the engine's
// tables cost more than the work done in them. With THP (where the kernel offers them on request,
// `madvise` mode) it is one fault per 2 MiB. Only a hint: errors are ignored, and memory already
// touched keeps its pages.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace b24sync::common {

/// Advises huge pages for the whole 2 MiB pages inside [data, data + bytes).
inline void advise_huge_pages(void* data, std::size_t bytes) noexcept {
  constexpr std::uintptr_t huge = std::uintptr_t{2} << 20;
  if (bytes < huge) return;
  const auto begin = (reinterpret_cast<std::uintptr_t>(data) + huge - 1) & ~(huge - 1);
  const auto end = (reinterpret_cast<std::uintptr_t>(data) + bytes) & ~(huge - 1);
  if (end > begin) (void)::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
}

/// reserve(n) on an empty vector, then the hint on its new buffer (before anything is written to it).
template <class T, class A>
void reserve_huge(std::vector<T, A>& v, std::size_t n) {
  v.reserve(n);
  advise_huge_pages(v.data(), v.capacity() * sizeof(T));
}

}  // namespace b24sync::common
