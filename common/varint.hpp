// Length-prefixed text in a byte block (field_map, origin_list, text_block): a length is a LEB128
// varint, one byte below 128. Header-only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace b24sync::common {

// Bytes put_len writes for n.
inline constexpr std::size_t varint_size(std::size_t n) noexcept {
  std::size_t k = 1;
  for (; n >= 0x80; n >>= 7) ++k;
  return k;
}

// Writes n at p (varint_size(n) bytes); returns the byte after it.
inline unsigned char* put_len(unsigned char* p, std::size_t n) noexcept {
  while (n >= 0x80) {
    *p++ = static_cast<unsigned char>(0x80 | (n & 0x7F));
    n >>= 7;
  }
  *p++ = static_cast<unsigned char>(n);
  return p;
}

inline void put_len(std::string& out, std::size_t n) {
  while (n >= 0x80) {
    out.push_back(static_cast<char>(0x80 | (n & 0x7F)));
    n >>= 7;
  }
  out.push_back(static_cast<char>(n));
}

inline void put_text(std::string& out, std::string_view s) {
  put_len(out, s.size());
  out.append(s);
}

// Readers advance `p` past what they read. The blocks are written by put_* only: no bounds checks.
inline std::uint64_t get_len(const unsigned char*& p) noexcept {
  std::uint64_t n = 0;
  for (int shift = 0;; shift += 7) {
    const unsigned char b = *p++;
    n |= static_cast<std::uint64_t>(b & 0x7F) << shift;
    if (!(b & 0x80)) return n;
  }
}

inline std::string_view get_text(const unsigned char*& p) noexcept {
  const auto n = static_cast<std::size_t>(get_len(p));
  std::string_view s{reinterpret_cast<const char*>(p), n};
  p += n;
  return s;
}

}  // namespace b24sync::common
