// Schedule arithmetic: cron parsing and matching in local civil time, DST mapping, retry backoff.
#include "app/schedule.hpp"

#include "config/config.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <ctime>
#include <optional>
#include <vector>

namespace b24sync::app {

namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

struct field_spec {
  const char* name;
  int min;
  int max;
  std::array<std::string_view, 12> names{};  // names[i] is value i + name_base
  int name_base = 0;
  std::size_t name_count = 0;
};

constexpr field_spec minute_field{"minute", 0, 59};
constexpr field_spec hour_field{"hour", 0, 23};
constexpr field_spec dom_field{"day-of-month", 1, 31};
constexpr field_spec month_field{
    "month", 1, 12, {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}, 1, 12};
// 7 is Sunday as well (Vixie and POSIX-ish crons accept it); folded onto 0 after parsing.
constexpr field_spec dow_field{"day-of-week", 0, 7, {"sun", "mon", "tue", "wed", "thu", "fri", "sat"}, 0, 7};

[[noreturn]] void fail(std::string_view expr, std::string_view field, const std::string& problem) {
  std::string msg = "cron \"";
  msg.append(expr);
  msg += "\": ";
  if (!field.empty()) {
    msg.append(field);
    msg += ": ";
  }
  msg += problem;
  throw schedule_error(msg);
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string names_hint(const field_spec& f) {
  if (f.name_count == 0) return {};
  return " (" + std::string(f.names[0]) + ".." + std::string(f.names[f.name_count - 1]) + ")";
}

// One value: a decimal number or (for month / day-of-week) a three-letter name.
int parse_value(std::string_view expr, const field_spec& f, std::string_view token) {
  if (token.empty()) fail(expr, f.name, "a value is missing");
  if (std::isdigit(static_cast<unsigned char>(token.front())) != 0) {
    int v = 0;
    for (char c : token) {
      if (std::isdigit(static_cast<unsigned char>(c)) == 0)
        fail(expr, f.name, "\"" + std::string(token) + "\" is not a number");
      v = v * 10 + (c - '0');
      if (v > 1000) break;
    }
    if (v < f.min || v > f.max)
      fail(expr, f.name,
           std::to_string(v) + " is out of range " + std::to_string(f.min) + ".." + std::to_string(f.max));
    return v;
  }
  const std::string name = lower(token);
  for (std::size_t i = 0; i < f.name_count; ++i) {
    if (f.names[i] == name) return static_cast<int>(i) + f.name_base;
  }
  fail(expr, f.name,
       "\"" + std::string(token) + "\" is not a number" + (f.name_count != 0 ? " or a name" + names_hint(f) : ""));
}

// One comma-separated field into bits [min..max]. Returns whether it starts with '*' (Vixie's rule for
// the day fields: "*" and "*/n" count as unrestricted).
bool parse_field(std::string_view expr, const field_spec& f, std::string_view text, std::vector<bool>& bits) {
  bits.assign(static_cast<std::size_t>(f.max) + 1, false);
  const bool starred = !text.empty() && text.front() == '*';
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const auto comma = std::min(text.find(',', pos), text.size());
    const std::string_view item = text.substr(pos, comma - pos);
    if (item.empty()) fail(expr, f.name, "empty list item in \"" + std::string(text) + "\"");

    std::string_view range = item;
    int step = 1;
    if (const auto slash = item.find('/'); slash != std::string_view::npos) {
      range = item.substr(0, slash);
      const std::string_view step_text = item.substr(slash + 1);
      if (step_text.empty() || !std::all_of(step_text.begin(), step_text.end(),
                                            [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
        fail(expr, f.name, "step \"" + std::string(step_text) + "\" is not a number");
      step = step_text.size() > 4 ? 10000 : std::stoi(std::string(step_text));
      if (step < 1 || step > f.max - f.min + 1)
        fail(expr, f.name,
             "step " + std::string(step_text) + " is out of range 1.." + std::to_string(f.max - f.min + 1));
    }
    int first = f.min;
    int last = f.max;
    if (range == "*") {
      // whole range
    } else if (!range.empty() && range.front() == '*') {
      fail(expr, f.name, "\"" + std::string(item) + "\" is not valid after '*'");
    } else if (const auto dash = range.find('-'); dash != std::string_view::npos) {
      first = parse_value(expr, f, range.substr(0, dash));
      last = parse_value(expr, f, range.substr(dash + 1));
      if (first > last) fail(expr, f.name, "range \"" + std::string(range) + "\" runs backwards");
    } else {
      first = parse_value(expr, f, range);
      // "5/10" = from 5 to the end in steps of 10 (cronie, systemd); a bare "5" is just 5.
      last = item.find('/') != std::string_view::npos ? f.max : first;
    }
    for (int v = first; v <= last; v += step) bits[static_cast<std::size_t>(v)] = true;
    pos = comma + 1;
  }
  return starred;
}

template <std::size_t N>
void copy_bits(const std::vector<bool>& from, std::bitset<N>& to) {
  for (std::size_t i = 0; i < N && i < from.size(); ++i) to[i] = from[i];
}

std::vector<std::string_view> split_fields(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i])) != 0) ++i;
    const auto start = i;
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i])) == 0) ++i;
    if (i > start) out.push_back(text.substr(start, i - start));
  }
  return out;
}

constexpr int max_days_in_month(int month) {
  constexpr std::array<int, 13> table{0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return table[static_cast<std::size_t>(month)];
}

// Local wall-clock time L (as a naive count of seconds) -> the UTC instant. Assumes at most one offset
// change within a day of L, which holds for every real zone.
std::optional<sys_seconds> exact_utc(sys_seconds local, seconds offset, const utc_offset_fn& utc_offset) {
  const sys_seconds t = local - offset;
  if (utc_offset(t) == offset) return t;
  return std::nullopt;
}

sys_seconds local_to_utc(sys_seconds local, const utc_offset_fn& utc_offset) {
  const seconds before = utc_offset(local - days{1});
  const seconds after = utc_offset(local + days{1});
  const auto a = exact_utc(local, before, utc_offset);
  const auto b = exact_utc(local, after, utc_offset);
  if (a && b) return std::min(*a, *b);  // the same instant, or a repeated (fall-back) time: the first
  if (a) return *a;
  if (b) return *b;
  return local - before;  // in a spring-forward gap: the old offset shifts it past the gap
}

}  // namespace

utc_offset_fn system_utc_offset() {
  return [](sys_seconds t) {
    const std::time_t tt = static_cast<std::time_t>(t.time_since_epoch().count());
    std::tm tm{};
    if (::localtime_r(&tt, &tm) == nullptr) return seconds{0};
    return seconds{tm.tm_gmtoff};
  };
}

utc_offset_fn fixed_utc_offset(std::chrono::seconds offset) {
  return [offset](sys_seconds) { return offset; };
}

bool cron_expr::matches_day(int day_of_month, int month, int weekday) const {
  if (!months[static_cast<std::size_t>(month)]) return false;
  const bool dom = days_of_month[static_cast<std::size_t>(day_of_month)];
  const bool dow = days_of_week[static_cast<std::size_t>(weekday)];
  return (dom_restricted && dow_restricted) ? (dom || dow) : (dom && dow);
}

cron_expr parse_cron(std::string_view text) {
  const std::string original(text);
  std::string expanded;
  auto fields = split_fields(text);
  if (fields.size() == 1 && fields.front().front() == '@') {
    const std::string macro = lower(fields.front());
    if (macro == "@hourly") expanded = "0 * * * *";
    else if (macro == "@daily" || macro == "@midnight") expanded = "0 0 * * *";
    else if (macro == "@weekly") expanded = "0 0 * * 0";
    else if (macro == "@monthly") expanded = "0 0 1 * *";
    else if (macro == "@yearly" || macro == "@annually") expanded = "0 0 1 1 *";
    else if (macro == "@reboot") fail(original, {}, "@reboot has no meaning for the daemon (it syncs at start anyway)");
    else fail(original, {}, "unknown macro " + std::string(fields.front()) + " (@hourly @daily @weekly @monthly @yearly)");
    fields = split_fields(expanded);
  }
  if (fields.size() != 5)
    fail(original, {},
         "expected 5 fields (minute hour day-of-month month day-of-week), got " + std::to_string(fields.size()));

  cron_expr out;
  out.text = original;
  std::vector<bool> bits;
  parse_field(original, minute_field, fields[0], bits);
  copy_bits(bits, out.minutes);
  parse_field(original, hour_field, fields[1], bits);
  copy_bits(bits, out.hours);
  out.dom_restricted = !parse_field(original, dom_field, fields[2], bits);
  copy_bits(bits, out.days_of_month);
  parse_field(original, month_field, fields[3], bits);
  copy_bits(bits, out.months);
  out.dow_restricted = !parse_field(original, dow_field, fields[4], bits);
  if (bits[7]) bits[0] = true;
  copy_bits(bits, out.days_of_week);

  // "0 0 30 2 *" would make next_run search forever: refuse it here, naming the field.
  if (out.dom_restricted && !out.dow_restricted) {
    bool possible = false;
    for (int m = 1; m <= 12 && !possible; ++m) {
      if (!out.months[static_cast<std::size_t>(m)]) continue;
      for (int d = 1; d <= max_days_in_month(m) && !possible; ++d) possible = out.days_of_month[static_cast<std::size_t>(d)];
    }
    if (!possible) fail(original, dom_field.name, "\"" + std::string(fields[2]) + "\" never occurs in the months given");
  }
  return out;
}

sys_seconds next_cron_time(const cron_expr& expr, sys_seconds after, const utc_offset_fn& utc_offset) {
  // Search local civil time field by field (skipping whole months, days, hours), then map to UTC.
  sys_seconds local = std::chrono::floor<minutes>(after + utc_offset(after)) + minutes{1};
  // Feb 29 on a given weekday recurs within 28 years; the parse check rules out days that never occur.
  const sys_seconds give_up = local + days{366 * 30};
  while (local < give_up) {
    const auto day = std::chrono::floor<days>(local);
    const std::chrono::year_month_day ymd{day};
    const int month = static_cast<int>(static_cast<unsigned>(ymd.month()));
    if (!expr.months[static_cast<std::size_t>(month)]) {
      const auto next_month = std::chrono::year_month{ymd.year(), ymd.month()} + std::chrono::months{1};
      local = std::chrono::sys_days{next_month / 1};
      continue;
    }
    const int weekday = static_cast<int>(std::chrono::weekday{day}.c_encoding());
    if (!expr.matches_day(static_cast<int>(static_cast<unsigned>(ymd.day())), month, weekday)) {
      local = day + days{1};
      continue;
    }
    const auto since_midnight = local - day;
    const auto hour = std::chrono::floor<hours>(since_midnight);
    if (!expr.hours[static_cast<std::size_t>(hour.count())]) {
      local = day + hour + hours{1};
      continue;
    }
    const auto minute = std::chrono::floor<minutes>(since_midnight - hour);
    if (!expr.minutes[static_cast<std::size_t>(minute.count())]) {
      local += minutes{1};
      continue;
    }
    const sys_seconds t = local_to_utc(local, utc_offset);
    // A repeated local time whose first occurrence is already past is not run again.
    if (t > after) return t;
    local += minutes{1};
  }
  throw schedule_error("cron \"" + expr.text + "\": no matching time within 30 years");
}

schedule schedule::every(std::chrono::seconds interval) {
  if (interval < seconds{1})
    throw schedule_error("schedule.every: " + std::to_string(interval.count()) + "s is not a usable interval (>= 1s)");
  schedule s;
  s.interval_ = interval;
  return s;
}

schedule schedule::cron(std::string_view expression) {
  schedule s;
  s.is_cron_ = true;
  s.cron_ = parse_cron(expression);
  return s;
}

schedule schedule::from_config(const config::schedule_config& cfg) {
  return cfg.cron.empty() ? every(cfg.every) : cron(cfg.cron);
}

sys_seconds schedule::next_run(sys_seconds last_start, const utc_offset_fn& utc_offset) const {
  return is_cron_ ? next_cron_time(cron_, last_start, utc_offset) : last_start + interval_;
}

std::chrono::seconds schedule::period(sys_seconds at, const utc_offset_fn& utc_offset) const {
  if (!is_cron_) return interval_;
  const auto first = next_cron_time(cron_, at, utc_offset);
  return next_cron_time(cron_, first, utc_offset) - first;
}

std::string schedule::describe() const {
  return is_cron_ ? "cron \"" + cron_.text + "\"" : "every " + std::to_string(interval_.count()) + "s";
}

std::chrono::seconds retry_delay(const retry_policy& policy, unsigned consecutive_failures) {
  if (consecutive_failures == 0) return seconds{0};
  seconds delay = std::min(policy.initial, policy.cap);
  for (unsigned i = 1; i < consecutive_failures && delay < policy.cap; ++i) delay = std::min(delay * 2, policy.cap);
  return delay;
}

sys_seconds next_attempt(const schedule& sched, sys_seconds last_start, sys_seconds last_end,
                         unsigned consecutive_failures, const utc_offset_fn& utc_offset, const retry_policy& policy) {
  if (consecutive_failures == 0) return sched.next_run(last_start, utc_offset);
  const retry_policy capped{policy.initial, std::min(policy.cap, sched.period(last_end, utc_offset))};
  return last_end + retry_delay(capped, consecutive_failures);
}

}  // namespace b24sync::app
