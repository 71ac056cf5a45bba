// Text encodings the file readers understand: UTF-8 validation, cp1251 -> UTF-8, base64, detection.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace b24sync::connectors {

enum class text_encoding {
  auto_detect,  // BOM, then UTF-8 validity of a sample, then cp1251
  utf8,
  cp1251,
};

const char* to_string(text_encoding e) noexcept;  // "auto", "utf-8", "cp1251"
// Accepts "auto", "utf-8"/"utf8", "cp1251"/"windows-1251" (ASCII case-insensitive).
std::optional<text_encoding> parse_text_encoding(std::string_view name) noexcept;

// Strict UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF). NUL bytes count as valid.
bool is_valid_utf8(std::string_view s) noexcept;
// Length of the longest prefix of `s` that is valid UTF-8.
std::size_t utf8_valid_prefix(std::string_view s) noexcept;

inline constexpr std::string_view utf8_bom = "\xEF\xBB\xBF";
inline bool starts_with_utf8_bom(std::string_view s) noexcept {
  return s.substr(0, 3) == utf8_bom;
}

// The one byte windows-1251 leaves undefined. On decoding it becomes `cp1251_undefined_marker`,
// a byte that is never valid UTF-8, so the caller's UTF-8 check rejects the row that held it.
inline constexpr unsigned char cp1251_undefined_byte = 0x98;
inline constexpr char cp1251_undefined_marker = '\xFF';

// Appends `in` (cp1251) to `out` as UTF-8. Returns how many undefined bytes were met.
std::size_t append_cp1251_as_utf8(std::string_view in, std::string& out);
std::string cp1251_to_utf8(std::string_view in);

// Incremental guess between UTF-8 and cp1251 for the `auto` encoding: feed chunks in file order.
class encoding_sniffer {
 public:
  // Returns true once the verdict is certain (an invalid sequence, or enough valid non-ASCII text).
  bool feed(std::string_view chunk) noexcept;
  // Verdict at end of input (or whenever feed() returned true).
  text_encoding verdict() const noexcept;

 private:
  unsigned char tail_[4] = {};
  std::size_t tail_len_ = 0;
  std::size_t non_ascii_ = 0;
  bool invalid_ = false;
};

// RFC 4648 base64 (standard alphabet, '=' padding). Whitespace is not allowed. nullopt when invalid.
std::optional<std::string> base64_decode(std::string_view in);
// Decodes into `out` (appending). false when invalid; `out` is then unspecified.
bool base64_decode_append(std::string_view in, std::string& out);
std::string base64_encode(std::string_view in);

}  // namespace b24sync::connectors
