// N strings in one heap block: a record's short text fields without a 32-byte std::string each (and
// a heap block per string longer than 15 bytes). A snapshot holds up to 10^6 portal users of ten
// text fields: as std::string that is 320 bytes per user before the text; here it is 16 bytes and
// one block of the text plus a length byte per field. Reading field i walks i lengths. Header-only.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>

#include "common/byte_block.hpp"
#include "common/varint.hpp"

namespace b24sync::common {

template <std::size_t N>
class text_block {
 public:
  /// Field i ("" when never set); valid until the block is changed or destroyed.
  std::string_view get(std::size_t i) const noexcept {
    if (block_.empty() || i >= N) return {};
    const unsigned char* p = block_.data();
    for (std::size_t k = 0; k < i; ++k) {
      const auto len = get_len(p);
      p += len;
    }
    return get_text(p);
  }

  /// f(field) for each field in order, in one walk.
  template <class F>
  void each(F&& f) const {
    const unsigned char* p = block_.data();
    for (std::size_t k = 0; k < N; ++k) f(p ? get_text(p) : std::string_view{});
  }

  /// Sets every field at once: one allocation (nothing when all are empty). The views may point
  /// into this block: the new one is written before the old one is freed.
  void assign(const std::array<std::string_view, N>& all) {
    std::size_t bytes = 0;
    for (const auto& s : all) bytes += varint_size(s.size()) + s.size();
    if (bytes == N) {  // all empty: no block, so that equal fields mean equal bytes
      block_ = byte_block{};
      return;
    }
    byte_block next(bytes);
    unsigned char* p = next.data();
    for (const auto& s : all) {
      p = put_len(p, s.size());
      if (!s.empty()) std::memcpy(p, s.data(), s.size());
      p += s.size();
    }
    block_ = std::move(next);
  }

  /// Sets field i (re-encodes the block: for filling a record field by field, gather and assign()).
  void set(std::size_t i, std::string_view value) {
    if (i >= N) throw std::out_of_range("text_block index");
    std::array<std::string_view, N> all;
    for (std::size_t k = 0; k < N; ++k) all[k] = k == i ? value : get(k);
    assign(all);
  }

  void clear() noexcept { block_ = byte_block{}; }

  std::size_t heap_bytes() const noexcept { return block_.size(); }
  const void* data() const noexcept { return block_.data(); }

  friend bool operator==(const text_block&, const text_block&) = default;

 private:
  byte_block block_;  // per field: varint length, bytes
};

}  // namespace b24sync::common
