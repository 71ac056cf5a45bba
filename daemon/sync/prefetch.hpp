// sync/prefetch.hpp (internal to the engine): loading the memory of the next records of a pass over
// 10^6 people or users while the engine works on the current one. Pure; hints only.
#pragma once

#include "bitrix/user_fields.hpp"
#include "config/mapping.hpp"

#include <cstddef>
#include <string>

namespace b24sync::sync::detail {

using bitrix::portal_user;
using config::desired_person;

// Prefetching a record's heap data a few records ahead of a pass over 10^6 of them: the records sit
// in one vector (the hardware prefetcher follows it), but each string and map of theirs is a
// separate allocation, and a pass otherwise waits on those misses one record at a time.

inline void prefetch_lines(const void* data, std::size_t bytes) noexcept {
  for (std::size_t off = 0; off < bytes; off += 64) __builtin_prefetch(static_cast<const char*>(data) + off);
}

/// Stage 1, some records ahead: the record itself.
inline void prefetch_record(const portal_user& u) noexcept { prefetch_lines(&u, sizeof u); }
inline void prefetch_record(const desired_person& p) noexcept { prefetch_lines(&p, sizeof p); }

/// Stage 2, fewer records ahead (the record is in cache by then): what its strings point to.
inline void prefetch_heap(const portal_user& u) noexcept {
  prefetch_lines(u.texts.data(), u.texts.heap_bytes());
  __builtin_prefetch(u.departments.data());
  __builtin_prefetch(u.uf.begin().get_ptr());
}
/// A person's fields are one block (field_map.hpp), ~5 cache lines.
inline void prefetch_heap(const desired_person& p) noexcept { prefetch_lines(p.fields.block(), p.fields.heap_bytes()); }

}  // namespace b24sync::sync::detail
