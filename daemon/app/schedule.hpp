// When the daemon runs: `every` intervals, 5-field cron expressions (Vixie cron rules), retry backoff.
// Pure: the current time and the local time zone's UTC offset are passed in, nothing reads a clock.
#pragma once

#include <bitset>
#include <chrono>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace b24sync::config {
struct schedule_config;
}

namespace b24sync::app {

using sys_seconds = std::chrono::sys_seconds;

// A schedule that cannot be used. what() names the field: `cron "*/15 * * * mon-fro": day-of-week:
// "fro" is not a number or a name (sun..sat)`.
class schedule_error : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// UTC offset of local time at a UTC instant (+03:00 -> 10800 s). Cron fields are local wall-clock
// time, so next_run needs the zone; tests pass a fixed or a fake DST function. (GCC 12's libstdc++ has
// no time-zone database for std::chrono::zoned_time, hence a function.)
using utc_offset_fn = std::function<std::chrono::seconds(sys_seconds)>;

// The process's local zone (TZ, else /etc/localtime) via localtime_r. Not pure: for the daemon's edge.
utc_offset_fn system_utc_offset();
// A zone without DST: UTC is fixed_utc_offset(0s).
utc_offset_fn fixed_utc_offset(std::chrono::seconds offset);

// A parsed cron expression: the set of allowed values per field.
struct cron_expr {
  std::bitset<60> minutes;
  std::bitset<24> hours;
  std::bitset<32> days_of_month;  // bits 1..31
  std::bitset<13> months;         // bits 1..12
  std::bitset<7> days_of_week;    // 0 = Sunday (7 is accepted for Sunday too)
  // Vixie cron: when both day fields are restricted (neither starts with '*'), a day matches if
  // EITHER matches ("0 0 1 * mon" = the 1st and every Monday); otherwise both must.
  bool dom_restricted = false;
  bool dow_restricted = false;
  std::string text;  // as written, for messages and logs

  bool matches_day(int day_of_month, int month, int weekday) const;
};

// "m h dom mon dow" with `*`, lists `1,5`, ranges `1-5`, steps `*/15` `10-50/20` `5/10` (= 5-max/10),
// names jan..dec and sun..sat (any case), or @hourly @daily @midnight @weekly @monthly @yearly
// @annually. Throws schedule_error naming the field; also when the days can never occur (`0 0 30 2 *`).
cron_expr parse_cron(std::string_view text);

// The first minute strictly after `after` (UTC) whose local wall-clock time matches. DST: a local time
// skipped by a spring-forward gap runs shifted by the gap (a daily 02:30 runs at 03:30 that day, not
// never); a local time that occurs twice (fall back) runs once, at its first occurrence.
sys_seconds next_cron_time(const cron_expr& expr, sys_seconds after, const utc_offset_fn& utc_offset);

// The daemon's schedule: an interval between run starts, or a cron expression.
class schedule {
 public:
  // Throws schedule_error unless interval >= 1 s.
  static schedule every(std::chrono::seconds interval);
  // Throws schedule_error (see parse_cron).
  static schedule cron(std::string_view expression);
  // `cron` when set, else `every`. Throws schedule_error.
  static schedule from_config(const config::schedule_config& cfg);

  // When the run after one that started at `last_start` is due. For `every`: last_start + interval (may
  // already be past when a run overran: the caller starts at once, missed slots are not replayed). For
  // cron: the next matching minute after last_start.
  sys_seconds next_run(sys_seconds last_start, const utc_offset_fn& utc_offset) const;

  bool is_cron() const noexcept { return is_cron_; }
  // The nominal gap between runs: the interval, or for cron the distance between its next two runs
  // after `at` (used to cap the retry backoff).
  std::chrono::seconds period(sys_seconds at, const utc_offset_fn& utc_offset) const;
  std::string describe() const;  // "every 900s" / "cron \"*/15 * * * *\""

 private:
  schedule() = default;
  bool is_cron_ = false;
  std::chrono::seconds interval_{0};
  cron_expr cron_;
};

// Retrying a failed run: initial, doubled per consecutive failure, never more than cap.
struct retry_policy {
  std::chrono::seconds initial{60};  // delay after the first failure
  std::chrono::seconds cap{900};     // upper bound; the daemon passes min(cap, schedule period)
};

// Delay before retry number `consecutive_failures` (1 = the first failure): 1m, 2m, 4m ... <= cap.
// 0 failures -> 0 s.
std::chrono::seconds retry_delay(const retry_policy& policy, unsigned consecutive_failures);

// When to start the next run. After a success (consecutive_failures == 0): the schedule's next slot
// after `last_start`. After failures: last_end + retry_delay with the cap lowered to the schedule's
// period, so a retry never waits longer than a regular run would and never starts in a tight loop
// (the regular schedule resumes after the next success).
sys_seconds next_attempt(const schedule& sched, sys_seconds last_start, sys_seconds last_end,
                         unsigned consecutive_failures, const utc_offset_fn& utc_offset,
                         const retry_policy& policy = {});

}  // namespace b24sync::app
