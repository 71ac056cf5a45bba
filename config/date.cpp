// Locale-free date parsing for HR exports (1C "15.01.2024 0:00:00", ISO, Excel serials).
#include "config/date.hpp"

#include <cstdio>

#include "config/text.hpp"

namespace b24sync::config {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Reads between 1 and `max` digits (exactly `max` when `exact`).
bool read_number(std::string_view s, std::size_t& i, std::size_t max, bool exact, int& out) {
  std::size_t start = i;
  out = 0;
  while (i < s.size() && i - start < max && is_digit(s[i])) out = out * 10 + (s[i++] - '0');
  std::size_t n = i - start;
  return exact ? n == max : n > 0;
}

}  // namespace

const std::vector<std::string>& default_date_formats() {
  static const std::vector<std::string> formats = {
      "%Y-%m-%d", "%d.%m.%Y", "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S",
  };
  return formats;
}

std::string check_date_format(std::string_view format) {
  bool has_y = false, has_m = false, has_d = false;
  for (std::size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%') continue;
    if (++i == format.size()) return "ends with a lone '%'";
    switch (format[i]) {
      case 'Y':
      case 'y':
        has_y = true;
        break;
      case 'm':
        has_m = true;
        break;
      case 'd':
        has_d = true;
        break;
      case 'H':
      case 'M':
      case 'S':
      case '%':
        break;
      default:
        return std::string{"unsupported conversion %"} + format[i] + " (use %d %m %Y %y %H %M %S)";
    }
  }
  if (!has_y || !has_m || !has_d) return "needs a year (%Y or %y), a month (%m) and a day (%d)";
  return {};
}

std::optional<std::chrono::year_month_day> parse_date(std::string_view text, std::string_view format) {
  std::string t = trim(text);
  std::string_view s = t;
  int y = -1, m = -1, d = -1, ignored = 0;
  std::size_t i = 0;
  for (std::size_t f = 0; f < format.size(); ++f) {
    if (format[f] != '%' || f + 1 == format.size()) {
      if (i >= s.size() || s[i] != format[f]) return std::nullopt;
      ++i;
      continue;
    }
    char conv = format[++f];
    bool ok = true;
    switch (conv) {
      case 'Y':
        ok = read_number(s, i, 4, true, y);
        break;
      case 'y':
        ok = read_number(s, i, 2, true, y);
        y += y <= 68 ? 2000 : 1900;
        break;
      case 'm':
        ok = read_number(s, i, 2, false, m);
        break;
      case 'd':
        ok = read_number(s, i, 2, false, d);
        break;
      case 'H':
      case 'M':
      case 'S':
        ok = read_number(s, i, 2, false, ignored);
        break;
      case '%':
        ok = i < s.size() && s[i++] == '%';
        break;
      default:
        return std::nullopt;
    }
    if (!ok) return std::nullopt;
  }
  if (i != s.size() || y < 0 || m < 0 || d < 0) return std::nullopt;
  std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{static_cast<unsigned>(m)},
                                  std::chrono::day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return std::nullopt;
  return ymd;
}

std::optional<std::chrono::year_month_day> parse_date(std::string_view text,
                                                      const std::vector<std::string>& formats,
                                                      bool excel_serial) {
  const auto& list = formats.empty() ? default_date_formats() : formats;
  for (const auto& f : list)
    if (auto r = parse_date(text, f)) return r;
  if (excel_serial) {
    std::string t = trim(text);
    // Whole days; a fractional part (time of day) is dropped.
    std::size_t dot = t.find_first_of(".,");
    std::string whole = t.substr(0, dot);
    bool digits = !whole.empty() && whole.size() <= 7;
    for (char c : whole) digits = digits && is_digit(c);
    if (dot != std::string::npos)
      for (std::size_t k = dot + 1; k < t.size(); ++k) digits = digits && is_digit(t[k]);
    if (digits) {
      long serial = std::stol(whole);
      // Excel counts a non-existent 1900-02-29 (serial 60), so from serial 61 (1900-03-01) on the epoch is
      // 1899-12-30; earlier serials are refused rather than shifted by a day.
      if (serial >= 61 && serial <= 2958465) {
        using namespace std::chrono;
        sys_days epoch = sys_days{year{1899} / December / 30};
        return year_month_day{epoch + days{serial}};
      }
    }
  }
  return std::nullopt;
}

std::string to_iso(std::chrono::year_month_day d) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(d.year()),
                static_cast<unsigned>(d.month()), static_cast<unsigned>(d.day()));
  return buf;
}

}  // namespace b24sync::config
