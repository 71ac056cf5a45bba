// sync/view_index.hpp (internal to the engine): a flat open-addressing multimap string_view -> index,
// for 10^6 users without a node per entry. Pure.
#pragma once

#include "common/huge_pages.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <string_view>
#include <utility>
#include <vector>

namespace b24sync::sync::detail {

// Equal keys are all kept (duplicates are what conflicts are made of); lookups visit every one, in
// insertion order. The capacity is fixed at construction (twice the expected entries, rounded up to
// a power of two): insert at most `expected` entries, with values below `none`. Keys are views:
// their bytes must outlive the index.
class view_index {
 public:
  static constexpr std::uint32_t none = std::numeric_limits<std::uint32_t>::max();  ///< a free slot

  explicit view_index(std::size_t expected) {
    std::size_t cap = 16;
    while (cap < expected * 2) cap <<= 1;
    common::reserve_huge(slots_, cap);  // 10^6 users: a 50 MB table (see common/huge_pages.hpp)
    slots_.assign(cap, slot{});
    mask_ = cap - 1;
  }
  static std::size_t hash(std::string_view key) noexcept { return std::hash<std::string_view>{}(key); }
  /// Adds an entry; `h` is hash(key) (the passes over 10^6 keys compute it once per key).
  void insert(std::string_view key, std::uint32_t value, std::size_t h) {
    std::size_t i = h & mask_;
    while (slots_[i].value != none) i = (i + 1) & mask_;
    slots_[i] = slot{h, key.data(), static_cast<std::uint32_t>(key.size()), value};
  }
  void insert(std::string_view key, std::uint32_t value) { insert(key, value, hash(key)); }
  /// Starts loading the slot hash `h` leads to, for a find() a few iterations later: at 10^6 users
  /// the table is far larger than the caches, and a loop of finds otherwise waits on each miss.
  void prefetch(std::size_t h) const noexcept { __builtin_prefetch(&slots_[h & mask_]); }
  /// Second stage of prefetch(), once the slot is in cache: starts loading the key bytes the first
  /// slot with hash `h` points at (the value find() compares with).
  void prefetch_key(std::size_t h) const noexcept {
    for (std::size_t i = h & mask_; slots_[i].value != none; i = (i + 1) & mask_)
      if (slots_[i].hash == h) {
        __builtin_prefetch(slots_[i].data);
        return;
      }
  }
  /// Calls `f(value)` for every entry equal to `key` (whose hash is `h`), in insertion order of equal keys.
  template <class F>
  void find(std::string_view key, std::size_t h, F&& f) const {
    for (std::size_t i = h & mask_; slots_[i].value != none; i = (i + 1) & mask_) {
      const slot& s = slots_[i];
      if (s.hash == h && std::string_view{s.data, s.size} == key) f(s.value);
    }
  }
  template <class F>
  void find(std::string_view key, F&& f) const {
    find(key, hash(key), std::forward<F>(f));
  }
  /// Whether some entry has hash `h`: a filter that needs no key bytes (false: no entry equals a key
  /// with this hash; true: one may, find() says).
  bool may_contain(std::size_t h) const noexcept {
    for (std::size_t i = h & mask_; slots_[i].value != none; i = (i + 1) & mask_)
      if (slots_[i].hash == h) return true;
    return false;
  }

 private:
  struct slot {
    std::size_t hash = 0;
    const char* data = nullptr;
    std::uint32_t size = 0;
    std::uint32_t value = none;
  };
  std::vector<slot> slots_;
  std::size_t mask_ = 0;
};


}  // namespace b24sync::sync::detail
