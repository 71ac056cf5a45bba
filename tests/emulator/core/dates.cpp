// Dates and date-times: parsing what clients send, formatting what the portal answers (ISO-8601 + offset).
#include "core/dates.hpp"

#include <cmath>
#include <cstdio>

namespace b24emu::detail {

std::int64_t days_from_civil(int y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t z, int& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<int>(static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2));
}

namespace {

struct parsed {
  int y = 0;
  unsigned mo = 0, d = 0, h = 0, mi = 0, s = 0;
  bool has_time = false;
  std::optional<int> offset;
};

bool digits(std::string_view s, std::size_t pos, std::size_t n, unsigned& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (std::size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    out = out * 10 + static_cast<unsigned>(c - '0');
  }
  return true;
}

bool parse_time(std::string_view s, std::size_t pos, parsed& p) {
  if (!digits(s, pos, 2, p.h) || pos + 2 >= s.size() || s[pos + 2] != ':' || !digits(s, pos + 3, 2, p.mi))
    return false;
  pos += 5;
  if (pos < s.size() && s[pos] == ':') {
    if (!digits(s, pos + 1, 2, p.s)) return false;
    pos += 3;
    if (pos < s.size() && s[pos] == '.') {
      ++pos;
      while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
    }
  }
  p.has_time = true;
  if (pos == s.size()) return p.h < 24 && p.mi < 60 && p.s < 61;
  auto off = parse_offset(s.substr(pos));
  if (!off) return false;
  p.offset = off;
  return p.h < 24 && p.mi < 60 && p.s < 61;
}

std::optional<parsed> parse_any(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  parsed p;
  unsigned y = 0;
  std::size_t rest = 0;
  if (digits(s, 0, 4, y) && s.size() >= 10 && s[4] == '-' && s[7] == '-' && digits(s, 5, 2, p.mo) &&
      digits(s, 8, 2, p.d)) {
    rest = 10;
  } else if (s.size() >= 10 && s[2] == '.' && s[5] == '.' && digits(s, 0, 2, p.d) && digits(s, 3, 2, p.mo) &&
             digits(s, 6, 4, y)) {
    rest = 10;
  } else {
    return std::nullopt;
  }
  p.y = static_cast<int>(y);
  if (p.mo < 1 || p.mo > 12 || p.d < 1 || p.d > 31) return std::nullopt;
  if (rest == s.size()) return p;
  if (s[rest] != 'T' && s[rest] != ' ') return std::nullopt;
  if (!parse_time(s, rest + 1, p)) return std::nullopt;
  return p;
}

}  // namespace

std::optional<int> parse_offset(std::string_view s) {
  if (s == "Z" || s == "z") return 0;
  if (s.empty()) return std::nullopt;
  if (s[0] != '+' && s[0] != '-') return std::nullopt;
  int sign = s[0] == '-' ? -1 : 1;
  unsigned h = 0, m = 0;
  if (s.size() == 6 && s[3] == ':' && digits(s, 1, 2, h) && digits(s, 4, 2, m)) {
  } else if (s.size() == 5 && digits(s, 1, 2, h) && digits(s, 3, 2, m)) {
  } else if (s.size() == 3 && digits(s, 1, 2, h)) {
  } else {
    return std::nullopt;
  }
  if (h > 14 || m > 59) return std::nullopt;
  return sign * static_cast<int>(h * 3600 + m * 60);
}

std::optional<std::int64_t> parse_instant(std::string_view s, int default_offset_s) {
  auto p = parse_any(s);
  if (!p) return std::nullopt;
  std::int64_t t = days_from_civil(p->y, p->mo, p->d) * 86400 + p->h * 3600 + p->mi * 60 + p->s;
  return t - p->offset.value_or(default_offset_s);
}

std::optional<std::int64_t> parse_date_days(std::string_view s, int portal_offset_s) {
  auto p = parse_any(s);
  if (!p) return std::nullopt;
  std::int64_t days = days_from_civil(p->y, p->mo, p->d);
  if (p->has_time && p->offset) {
    std::int64_t t = days * 86400 + p->h * 3600 + p->mi * 60 + p->s - *p->offset + portal_offset_s;
    return t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
  }
  return days;
}

std::string format_date(std::int64_t days) {
  int y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", y, m, d);
  return buf;
}

std::string format_iso(std::int64_t unix_s, int offset_s) {
  std::int64_t local = unix_s + offset_s;
  std::int64_t days = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
  std::int64_t secs = local - days * 86400;
  int y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  int off = offset_s < 0 ? -offset_s : offset_s;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d%c%02d:%02d", y, m, d,
                static_cast<int>(secs / 3600), static_cast<int>(secs / 60 % 60), static_cast<int>(secs % 60),
                offset_s < 0 ? '-' : '+', off / 3600, off / 60 % 60);
  return buf;
}

std::string format_iso(double unix_s, int offset_s) {
  return format_iso(static_cast<std::int64_t>(std::floor(unix_s)), offset_s);
}

std::string format_offset(int offset_s) {
  int a = offset_s < 0 ? -offset_s : offset_s;
  int h = a / 3600, m = a / 60 % 60;
  char b[6] = {offset_s < 0 ? '-' : '+',        static_cast<char>('0' + h / 10),
               static_cast<char>('0' + h % 10), ':',
               static_cast<char>('0' + m / 10), static_cast<char>('0' + m % 10)};
  return std::string(b, 6);
}

std::string format_date_field(std::int64_t days, int offset_s) {
  return format_iso(days * 86400, offset_s);
}

}  // namespace b24emu::detail
