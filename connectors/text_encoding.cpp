// UTF-8 validation, the cp1251 -> UTF-8 table, the auto-detection sniffer and base64.
#include "connectors/text_encoding.hpp"

#include <array>
#include <cstdint>
#include <cstring>

#include "connectors/source_record.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace b24sync::connectors {
namespace {

// Code points of cp1251 bytes 0x80..0xBF (0 = undefined). 0xC0..0xFF are U+0410..U+044F in order.
constexpr std::array<char16_t, 64> cp1251_high = {
    0x0402, 0x0403, 0x201A, 0x0453, 0x201E, 0x2026, 0x2020, 0x2021,  // 0x80
    0x20AC, 0x2030, 0x0409, 0x2039, 0x040A, 0x040C, 0x040B, 0x040F,  // 0x88
    0x0452, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,  // 0x90
    0x0000, 0x2122, 0x0459, 0x203A, 0x045A, 0x045C, 0x045B, 0x045F,  // 0x98
    0x00A0, 0x040E, 0x045E, 0x0408, 0x00A4, 0x0490, 0x00A6, 0x00A7,  // 0xA0
    0x0401, 0x00A9, 0x0404, 0x00AB, 0x00AC, 0x00AD, 0x00AE, 0x0407,  // 0xA8
    0x00B0, 0x00B1, 0x0406, 0x0456, 0x0491, 0x00B5, 0x00B6, 0x00B7,  // 0xB0
    0x0451, 0x2116, 0x0454, 0x00BB, 0x0458, 0x0405, 0x0455, 0x0457,  // 0xB8
};

struct utf8_seq {
  unsigned char len = 0;
  char bytes[4] = {};
};

// UTF-8 encodings of all 128 high cp1251 bytes, built once at compile time.
constexpr std::array<utf8_seq, 128> make_cp1251_table() {
  std::array<utf8_seq, 128> t{};
  for (unsigned b = 0x80; b <= 0xFF; ++b) {
    unsigned cp = b >= 0xC0 ? 0x0410 + (b - 0xC0) : cp1251_high[b - 0x80];
    utf8_seq s;
    if (cp == 0) {
      s.len = 1;
      s.bytes[0] = cp1251_undefined_marker;
    } else if (cp < 0x800) {
      s.len = 2;
      s.bytes[0] = static_cast<char>(0xC0 | (cp >> 6));
      s.bytes[1] = static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      s.len = 3;
      s.bytes[0] = static_cast<char>(0xE0 | (cp >> 12));
      s.bytes[1] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      s.bytes[2] = static_cast<char>(0x80 | (cp & 0x3F));
    }
    t[b - 0x80] = s;
  }
  return t;
}
constexpr std::array<utf8_seq, 128> cp1251_table = make_cp1251_table();

// Length of the sequence a lead byte announces; 0 if it cannot start one.
constexpr std::size_t utf8_seq_len(unsigned char c) noexcept {
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return 2;
  if (c >= 0xE0 && c <= 0xEF) return 3;
  if (c >= 0xF0 && c <= 0xF4) return 4;
  return 0;
}

// Whether the n-byte sequence at p (n = utf8_seq_len(p[0]) >= 2) is well formed.
inline bool utf8_seq_ok(const unsigned char* p, std::size_t n) noexcept {
  unsigned char c0 = p[0], c1 = p[1];
  unsigned char lo = 0x80, hi = 0xBF;
  if (c0 == 0xE0)
    lo = 0xA0;  // overlong
  else if (c0 == 0xED)
    hi = 0x9F;  // surrogates
  else if (c0 == 0xF0)
    lo = 0x90;  // overlong
  else if (c0 == 0xF4)
    hi = 0x8F;  // above U+10FFFF
  if (c1 < lo || c1 > hi) return false;
  for (std::size_t i = 2; i < n; ++i)
    if ((p[i] & 0xC0) != 0x80) return false;
  return true;
}

// A sequence cut off by the end of a chunk that could still be completed validly.
bool utf8_truncated_ok(std::string_view s) noexcept {
  unsigned char buf[4];
  std::size_t need = utf8_seq_len(static_cast<unsigned char>(s[0]));
  if (need < 2 || s.size() >= need) return false;
  for (unsigned char fill : {0x80, 0xBF}) {
    std::memcpy(buf, s.data(), s.size());
    for (std::size_t i = s.size(); i < need; ++i) buf[i] = fill;
    if (utf8_seq_ok(buf, need)) return true;
  }
  return false;
}

constexpr std::array<signed char, 256> make_b64_table() {
  std::array<signed char, 256> t{};
  for (auto& v : t) v = -1;
  const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(alphabet[i])] = static_cast<signed char>(i);
  return t;
}
constexpr std::array<signed char, 256> b64_table = make_b64_table();

}  // namespace

const char* to_string(text_encoding e) noexcept {
  switch (e) {
    case text_encoding::auto_detect:
      return "auto";
    case text_encoding::utf8:
      return "utf-8";
    case text_encoding::cp1251:
      return "cp1251";
  }
  return "unknown";
}

std::optional<text_encoding> parse_text_encoding(std::string_view name) noexcept {
  if (iequals_ascii(name, "auto")) return text_encoding::auto_detect;
  if (iequals_ascii(name, "utf-8") || iequals_ascii(name, "utf8")) return text_encoding::utf8;
  if (iequals_ascii(name, "cp1251") || iequals_ascii(name, "windows-1251")) return text_encoding::cp1251;
  return std::nullopt;
}

std::size_t utf8_valid_prefix(std::string_view s) noexcept {
  const auto* begin = reinterpret_cast<const unsigned char*>(s.data());
  const auto* p = begin;
  const auto* end = begin + s.size();
  while (p < end) {
#if defined(__SSE2__)
    while (end - p >= 16) {  // ASCII fast path, sixteen bytes at a time
      __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
      if (_mm_movemask_epi8(v) != 0) break;
      p += 16;
    }
#endif
    while (end - p >= 8) {  // ASCII fast path, eight bytes at a time
      std::uint64_t w;
      std::memcpy(&w, p, 8);
      if (w & 0x8080808080808080ULL) break;
      p += 8;
    }
    if (p == end) break;
    if (*p < 0x80) {
      ++p;
      continue;
    }
    // Runs of two-byte sequences (Cyrillic) in a tight loop.
    while (end - p >= 2 && p[0] >= 0xC2 && p[0] <= 0xDF && (p[1] & 0xC0) == 0x80) p += 2;
    if (p == end || *p < 0x80) continue;
    std::size_t n = utf8_seq_len(*p);
    if (n == 0 || static_cast<std::size_t>(end - p) < n || !utf8_seq_ok(p, n)) break;
    p += n;
  }
  return static_cast<std::size_t>(p - begin);
}

bool is_valid_utf8(std::string_view s) noexcept {
  return utf8_valid_prefix(s) == s.size();
}

std::size_t append_cp1251_as_utf8(std::string_view in, std::string& out) {
  std::size_t undefined = 0;
  std::size_t old = out.size();
  out.resize(old + in.size() * 3 +
             1);  // worst case plus one byte of slack for the 4-byte stores; trimmed below
  char* w = out.data() + old;
  const char* p = in.data();
  const char* end = p + in.size();
  while (p < end) {
#if defined(__SSE2__)
    while (end - p >= 16) {  // copy ASCII sixteen bytes at a time
      __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
      if (_mm_movemask_epi8(v) != 0) break;
      _mm_storeu_si128(reinterpret_cast<__m128i*>(w), v);
      p += 16;
      w += 16;
    }
    if (p == end) break;
#endif
    auto c = static_cast<unsigned char>(*p++);
    if (c < 0x80) {
      *w++ = static_cast<char>(c);
      continue;
    }
    const utf8_seq& s = cp1251_table[c - 0x80];
    undefined += (c == cp1251_undefined_byte);
    std::memcpy(w, s.bytes, 4);  // len <= 3; the fourth byte is overwritten or trimmed
    w += s.len;
  }
  out.resize(static_cast<std::size_t>(w - out.data()));
  return undefined;
}

std::string cp1251_to_utf8(std::string_view in) {
  std::string out;
  append_cp1251_as_utf8(in, out);
  return out;
}

bool encoding_sniffer::feed(std::string_view chunk) noexcept {
  if (invalid_) return true;
  std::size_t skip = 0;
  if (tail_len_ > 0) {  // finish the sequence the previous chunk cut off
    std::size_t need = utf8_seq_len(tail_[0]);
    while (tail_len_ < need && skip < chunk.size())
      tail_[tail_len_++] = static_cast<unsigned char>(chunk[skip++]);
    if (tail_len_ < need) return false;
    if (!utf8_seq_ok(tail_, need)) {
      invalid_ = true;
      return true;
    }
    non_ascii_ += need;
    tail_len_ = 0;
  }
  std::string_view rest = chunk.substr(skip);
  std::size_t ok = utf8_valid_prefix(rest);
  for (std::size_t i = 0; i < ok; ++i) non_ascii_ += static_cast<unsigned char>(rest[i]) >= 0x80;
  if (ok < rest.size()) {
    std::string_view bad = rest.substr(ok);
    if (!utf8_truncated_ok(bad)) {
      invalid_ = true;
      return true;
    }
    std::memcpy(tail_, bad.data(), bad.size());
    tail_len_ = bad.size();
  }
  return non_ascii_ >= 4096;
}

text_encoding encoding_sniffer::verdict() const noexcept {
  return (invalid_ || tail_len_ > 0) ? text_encoding::cp1251 : text_encoding::utf8;
}

bool base64_decode_append(std::string_view in, std::string& out) {
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  if (in.size() % 4 == 1) return false;
  std::uint32_t acc = 0;
  int bits = 0;
  for (char ch : in) {
    int v = b64_table[static_cast<unsigned char>(ch)];
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return true;
}

std::optional<std::string> base64_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size() / 4 * 3 + 3);
  if (!base64_decode_append(in, out)) return std::nullopt;
  return out;
}

std::string base64_encode(std::string_view in) {
  static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    std::uint32_t v = (static_cast<unsigned char>(in[i]) << 16) |
                      (static_cast<unsigned char>(in[i + 1]) << 8) | static_cast<unsigned char>(in[i + 2]);
    for (int shift : {18, 12, 6, 0}) out.push_back(alphabet[(v >> shift) & 0x3F]);
  }
  if (std::size_t rem = in.size() - i; rem > 0) {
    std::uint32_t v = static_cast<unsigned char>(in[i]) << 16;
    if (rem == 2) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    out.push_back(alphabet[(v >> 18) & 0x3F]);
    out.push_back(alphabet[(v >> 12) & 0x3F]);
    out.push_back(rem == 2 ? alphabet[(v >> 6) & 0x3F] : '=');
    out.push_back('=');
  }
  return out;
}

}  // namespace b24sync::connectors
