// UTF-8 case maps for Latin and Cyrillic, white-space handling, e-mail syntax and edit distance.
#include "config/text.hpp"

#include <algorithm>
#include <cstdint>

namespace b24sync::config {
namespace {

constexpr char32_t invalid_cp = 0xFFFFFFFF;

// Decodes one code point at s[i]; sets `len` to the bytes used. Invalid or overlong sequences
// yield invalid_cp with len 1 so the byte is copied unchanged.
char32_t decode(std::string_view s, std::size_t i, std::size_t& len) {
  auto b = static_cast<unsigned char>(s[i]);
  len = 1;
  if (b < 0x80) return b;
  std::size_t n = (b >= 0xF0 && b <= 0xF4)  ? 4
                  : (b >= 0xE0) && b < 0xF0 ? 3
                  : (b >= 0xC2 && b < 0xE0) ? 2
                                            : 0;
  if (n == 0 || i + n > s.size()) return invalid_cp;
  char32_t cp = b & (0xFF >> (n + 1));
  for (std::size_t k = 1; k < n; ++k) {
    auto c = static_cast<unsigned char>(s[i + k]);
    if ((c & 0xC0) != 0x80) return invalid_cp;
    cp = (cp << 6) | (c & 0x3F);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))
    return invalid_cp;
  len = n;
  return cp;
}

void encode(char32_t cp, std::string& out) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Pairs laid out as (upper, lower) = (even, odd) in the extended Cyrillic ranges.
bool in_even_odd_range(char32_t cp) {
  return (cp >= 0x0460 && cp <= 0x0481) || (cp >= 0x048A && cp <= 0x04BF) || (cp >= 0x04D0 && cp <= 0x04FF);
}

char32_t to_lower_cp(char32_t cp) {
  if (cp >= 'A' && cp <= 'Z') return cp + 32;
  if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) return cp + 32;
  if (cp >= 0x0410 && cp <= 0x042F) return cp + 32;  // А..Я
  if (cp >= 0x0400 && cp <= 0x040F) return cp + 80;  // Ѐ..Џ (Ё, Є, І, Ї, Ў ...)
  if (in_even_odd_range(cp) && cp % 2 == 0) return cp + 1;
  if (cp == 0x04C0) return 0x04CF;
  if (cp >= 0x04C1 && cp <= 0x04CE && cp % 2 == 1) return cp + 1;
  return cp;
}

char32_t to_upper_cp(char32_t cp) {
  if (cp >= 'a' && cp <= 'z') return cp - 32;
  if (cp >= 0xE0 && cp <= 0xFE && cp != 0xF7) return cp - 32;
  if (cp >= 0x0430 && cp <= 0x044F) return cp - 32;
  if (cp >= 0x0450 && cp <= 0x045F) return cp - 80;
  if (in_even_odd_range(cp) && cp % 2 == 1) return cp - 1;
  if (cp == 0x04CF) return 0x04C0;
  if (cp >= 0x04C2 && cp <= 0x04CE && cp % 2 == 0) return cp - 1;
  return cp;
}

bool is_space_cp(char32_t cp) {
  return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == '\v' || cp == '\f' || cp == 0xA0 ||
         cp == 0xFEFF || cp == 0x2007 || cp == 0x202F;
}

template <typename F>
std::string map_cps(std::string_view s, F&& f) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    std::size_t len = 0;
    char32_t cp = decode(s, i, len);
    if (cp == invalid_cp)
      out += s[i];
    else
      encode(f(cp), out);
    i += len;
  }
  return out;
}

bool is_atext(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view{"!#$%&'*+/=?^_`{|}~-"}.find(c) != std::string_view::npos;
}

}  // namespace

std::string utf8_lower(std::string_view s) {
  return map_cps(s, to_lower_cp);
}
std::string utf8_upper(std::string_view s) {
  return map_cps(s, to_upper_cp);
}

std::string utf8_title(std::string_view s) {
  bool word_start = true;
  return map_cps(s, [&](char32_t cp) {
    if (is_space_cp(cp) || cp == '-' || cp == '\'' || cp == 0x2019) {
      word_start = true;
      return cp;
    }
    char32_t r = word_start ? to_upper_cp(cp) : to_lower_cp(cp);
    word_start = false;
    return r;
  });
}

std::size_t utf8_length(std::string_view s) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < s.size(); ++n) {
    std::size_t len = 0;
    decode(s, i, len);
    i += len;
  }
  return n;
}

std::string trim(std::string_view s) { return std::string{trim_view(s)}; }

std::string_view trim_view(std::string_view s) {
  std::size_t begin = 0;
  std::size_t end = s.size();
  while (begin < end) {
    std::size_t len = 0;
    if (!is_space_cp(decode(s, begin, len))) break;
    begin += len;
  }
  // Scan forward recording the end of the last non-space code point (UTF-8 is not reversible cheaply).
  std::size_t last = begin;
  for (std::size_t i = begin; i < end;) {
    std::size_t len = 0;
    char32_t cp = decode(s, i, len);
    i += len;
    if (!is_space_cp(cp)) last = i;
  }
  return s.substr(begin, last - begin);
}

std::string collapse_spaces(std::string_view s) {
  std::string t = trim(s);
  std::string out;
  out.reserve(t.size());
  bool in_space = false;
  for (std::size_t i = 0; i < t.size();) {
    std::size_t len = 0;
    char32_t cp = decode(t, i, len);
    if (is_space_cp(cp)) {
      in_space = true;
    } else {
      if (in_space) out += ' ';
      in_space = false;
      out.append(t, i, len);
    }
    i += len;
  }
  return out;
}

std::string replace_all(std::string_view s, std::string_view from, std::string_view to) {
  if (from.empty()) return std::string{s};
  std::string out;
  std::size_t pos = 0;
  for (std::size_t hit; (hit = s.find(from, pos)) != std::string_view::npos; pos = hit + from.size()) {
    out.append(s.substr(pos, hit - pos));
    out.append(to);
  }
  out.append(s.substr(pos));
  return out;
}

std::vector<std::string> split(std::string_view s, std::string_view sep) {
  std::vector<std::string> out;
  if (sep.empty()) {
    out.emplace_back(s);
    return out;
  }
  std::size_t pos = 0;
  for (std::size_t hit; (hit = s.find(sep, pos)) != std::string_view::npos; pos = hit + sep.size())
    out.emplace_back(s.substr(pos, hit - pos));
  out.emplace_back(s.substr(pos));
  return out;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; };
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [&](char x, char y) { return lower(x) == lower(y); });
}

bool is_valid_email(std::string_view s) {
  if (s.size() > 254) return false;
  std::size_t at = s.rfind('@');
  if (at == std::string_view::npos || at == 0 || at > 64) return false;
  std::string_view local = s.substr(0, at);
  std::string_view domain = s.substr(at + 1);
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos) return false;
  for (char c : local)
    if (c != '.' && !is_atext(c)) return false;
  std::vector<std::string> labels = split(domain, ".");
  if (labels.size() < 2) return false;
  for (const auto& label : labels) {
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
      auto u = static_cast<unsigned char>(c);
      bool ok =
          u >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
      if (!ok) return false;
    }
  }
  const std::string& tld = labels.back();
  bool all_digits = std::all_of(tld.begin(), tld.end(), [](char c) { return c >= '0' && c <= '9'; });
  return !all_digits;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  // Optimal string alignment: insertions, deletions, substitutions and adjacent transpositions.
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i)
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}

std::string closest_match(std::string_view word, const std::vector<std::string>& candidates) {
  if (word.size() > 256) return {};
  std::string w = utf8_lower(word);
  std::size_t limit = w.size() <= 3 ? 1 : std::max<std::size_t>(2, w.size() / 3);
  std::size_t best = limit + 1;
  std::string found;
  for (const auto& c : candidates) {
    if (c.size() > 256) continue;
    std::size_t dist = edit_distance(w, utf8_lower(c));
    if (dist < best) {
      best = dist;
      found = c;
    }
  }
  return found;
}

std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates) {
  std::string m = closest_match(word, candidates);
  return m.empty() ? std::string{} : " (did you mean \"" + m + "\"?)";
}

}  // namespace b24sync::config
