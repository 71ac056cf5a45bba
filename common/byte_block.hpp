// An owned heap block of exactly N bytes (none when N is 0): the storage of the compact records
// (origin_list, text_block) that are written whole and read in place. Copies are deep; equality is
// byte equality. 16 bytes in place, one allocation of exactly its size. Header-only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>
#include <utility>

namespace b24sync::common {

class byte_block {
 public:
  byte_block() noexcept = default;
  /// `n` uninitialised bytes, to be written through data() before the block is read.
  explicit byte_block(std::size_t n) {
    if (n == 0) return;
    if (n > 0xFFFFFFFFu) throw std::length_error("a block of more than 4 GiB");
    buf_ = static_cast<unsigned char*>(std::malloc(n));
    if (!buf_) throw std::bad_alloc();
    size_ = static_cast<std::uint32_t>(n);
  }
  byte_block(const void* bytes, std::size_t n) : byte_block(n) {
    if (n) std::memcpy(buf_, bytes, n);
  }
  byte_block(const byte_block& o) : byte_block(o.buf_, o.size_) {}
  byte_block(byte_block&& o) noexcept
      : buf_(std::exchange(o.buf_, nullptr)), size_(std::exchange(o.size_, 0)) {}
  byte_block& operator=(const byte_block& o) {
    if (this != &o) *this = byte_block(o);
    return *this;
  }
  byte_block& operator=(byte_block&& o) noexcept {
    if (this != &o) {
      std::free(buf_);
      buf_ = std::exchange(o.buf_, nullptr);
      size_ = std::exchange(o.size_, 0);
    }
    return *this;
  }
  ~byte_block() { std::free(buf_); }

  unsigned char* data() noexcept { return buf_; }
  const unsigned char* data() const noexcept { return buf_; }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }

  friend bool operator==(const byte_block& a, const byte_block& b) noexcept {
    return a.size_ == b.size_ && (a.size_ == 0 || std::memcmp(a.buf_, b.buf_, a.size_) == 0);
  }

 private:
  unsigned char* buf_ = nullptr;
  std::uint32_t size_ = 0;
};

}  // namespace b24sync::common
