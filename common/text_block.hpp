// N strings in one heap block: a record's short text fields without a 32-byte std::string each (and
// a heap block per string longer than 15 bytes). A snapshot holds up to 10^6 portal users of ten
// text fields: as std::string that is 320 bytes per user before the text; here it is 16 bytes and
// one block of the text plus a length byte per field. Reading field i walks i lengths. Header-only.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "common/varint.hpp"

namespace b24sync::common {

template <std::size_t N>
class text_block {
 public:
  text_block() noexcept = default;
  text_block(const text_block& o) { copy_from(o); }
  text_block(text_block&& o) noexcept
      : buf_(std::exchange(o.buf_, nullptr)), size_(std::exchange(o.size_, 0)) {}
  text_block& operator=(const text_block& o) {
    if (this != &o) {
      text_block copy(o);
      *this = std::move(copy);
    }
    return *this;
  }
  text_block& operator=(text_block&& o) noexcept {
    if (this != &o) {
      std::free(buf_);
      buf_ = std::exchange(o.buf_, nullptr);
      size_ = std::exchange(o.size_, 0);
    }
    return *this;
  }
  ~text_block() { std::free(buf_); }

  /// Field i ("" when never set); valid until the block is changed or destroyed.
  std::string_view get(std::size_t i) const noexcept {
    if (!buf_ || i >= N) return {};
    const unsigned char* p = buf_;
    for (std::size_t k = 0; k < i; ++k) {
      const auto len = get_len(p);
      p += len;
    }
    return get_text(p);
  }

  /// f(field) for each field in order, in one walk.
  template <class F>
  void each(F&& f) const {
    const unsigned char* p = buf_;
    for (std::size_t k = 0; k < N; ++k) f(p ? get_text(p) : std::string_view{});
  }

  /// Sets every field at once: one allocation (nothing when all are empty).
  void assign(const std::array<std::string_view, N>& all) {
    std::size_t bytes = 0;
    for (const auto& s : all) bytes += varint_size(s.size()) + s.size();
    if (bytes == N) {  // all empty
      clear();
      return;
    }
    if (bytes > 0xFFFFFFFFu) throw std::length_error("text fields exceed 4 GiB");
    auto* b = static_cast<unsigned char*>(std::malloc(bytes));
    if (!b) throw std::bad_alloc();
    unsigned char* p = b;
    for (const auto& s : all) {
      p = put_len(p, s.size());
      if (!s.empty()) std::memcpy(p, s.data(), s.size());
      p += s.size();
    }
    std::free(buf_);
    buf_ = b;
    size_ = static_cast<std::uint32_t>(bytes);
  }

  /// Sets field i (re-encodes the block: for filling a record field by field, gather and assign()).
  void set(std::size_t i, std::string_view value) {
    if (i >= N) throw std::out_of_range("text_block index");
    std::array<std::string, N> keep;  // the others, copied: assign() frees the block they live in
    std::array<std::string_view, N> all;
    for (std::size_t k = 0; k < N; ++k) {
      if (k == i) {
        keep[k] = std::string{value};
      } else {
        keep[k] = std::string{get(k)};
      }
      all[k] = keep[k];
    }
    assign(all);
  }

  void clear() noexcept {
    std::free(buf_);
    buf_ = nullptr;
    size_ = 0;
  }

  std::size_t heap_bytes() const noexcept { return size_; }
  const void* data() const noexcept { return buf_; }

  friend bool operator==(const text_block& a, const text_block& b) noexcept {
    // Encoding is canonical (no block when all are empty), so equal fields mean equal bytes.
    return a.size_ == b.size_ && (a.size_ == 0 || std::memcmp(a.buf_, b.buf_, a.size_) == 0);
  }

 private:
  static std::size_t varint_size(std::size_t n) noexcept {
    std::size_t k = 1;
    while (n >= 0x80) {
      n >>= 7;
      ++k;
    }
    return k;
  }
  static unsigned char* put_len(unsigned char* p, std::size_t n) noexcept {
    while (n >= 0x80) {
      *p++ = static_cast<unsigned char>(0x80 | (n & 0x7F));
      n >>= 7;
    }
    *p++ = static_cast<unsigned char>(n);
    return p;
  }
  void copy_from(const text_block& o) {
    if (o.size_ == 0) return;
    buf_ = static_cast<unsigned char*>(std::malloc(o.size_));
    if (!buf_) throw std::bad_alloc();
    std::memcpy(buf_, o.buf_, o.size_);
    size_ = o.size_;
  }

  unsigned char* buf_ = nullptr;  // per field: varint length, bytes
  std::uint32_t size_ = 0;
};

}  // namespace b24sync::common
