// Schedule: cron expressions -> next run times (UTC, fixed offsets, a fake DST zone), parse errors,
// `every`, retry backoff.
#include "app/schedule.hpp"

#include "config/config.hpp"

#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>

using namespace std::chrono;
using b24sync::app::sys_seconds;
namespace app = b24sync::app;

namespace {

// "2026-12-07 09:00" (UTC) <-> sys_seconds, so failures print readable times.
sys_seconds at(int y, unsigned mo, unsigned d, int h, int mi, int s = 0) {
  return sys_days{year{y} / month{mo} / day{d}} + hours{h} + minutes{mi} + seconds{s};
}

std::string iso(sys_seconds t) {
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss<seconds> hms{t - day};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u %02ld:%02ld", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<long>(hms.hours().count()), static_cast<long>(hms.minutes().count()));
  return buf;
}

std::string next(const char* expr, sys_seconds after, const app::utc_offset_fn& tz = app::fixed_utc_offset(0s)) {
  return iso(app::next_cron_time(app::parse_cron(expr), after, tz));
}

std::string parse_error(const char* expr) {
  try {
    (void)app::parse_cron(expr);
  } catch (const app::schedule_error& e) {
    return e.what();
  }
  return "(accepted)";
}

// A Central European zone for 2027: +01:00, +02:00 from 28 Mar 01:00 UTC to 31 Oct 01:00 UTC.
seconds cet(sys_seconds t) {
  return (t >= at(2027, 3, 28, 1, 0) && t < at(2027, 10, 31, 1, 0)) ? hours{2} : hours{1};
}

}  // namespace

TEST_CASE("cron expressions give the next matching minute strictly after the given time (UTC)") {
  // 2026-12-01 is a Tuesday.
  struct row {
    const char* expr;
    sys_seconds after;
    const char* expected;
  };
  const row table[] = {
      {"*/15 * * * *", at(2026, 12, 1, 10, 7, 30), "2026-12-01 10:15"},
      {"*/15 * * * *", at(2026, 12, 1, 10, 15), "2026-12-01 10:30"},
      {"*/15 * * * *", at(2026, 12, 31, 23, 50), "2027-01-01 00:00"},
      {"0 * * * *", at(2026, 12, 1, 10, 0), "2026-12-01 11:00"},
      {"30 2 * * *", at(2026, 12, 1, 3, 0), "2026-12-02 02:30"},
      {"10-50/20 * * * *", at(2026, 12, 1, 10, 11), "2026-12-01 10:30"},
      {"10-50/20 * * * *", at(2026, 12, 1, 10, 50), "2026-12-01 11:10"},
      {"5/20 * * * *", at(2026, 12, 1, 10, 46), "2026-12-01 11:05"},
      {"0,30 8-9 * * *", at(2026, 12, 1, 9, 30), "2026-12-02 08:00"},
      {"0 9 * * mon-fri", at(2026, 12, 4, 10, 0), "2026-12-07 09:00"},
      {"0 22 * * SUN", at(2026, 12, 1, 0, 0), "2026-12-06 22:00"},
      {"0 12 * * 7", at(2026, 12, 1, 0, 0), "2026-12-06 12:00"},
      {"5 4 * jan,jul sun", at(2026, 12, 1, 0, 0), "2027-01-03 04:05"},
      {"0 0 29 2 *", at(2026, 1, 1, 0, 0), "2028-02-29 00:00"},
      {"0 0 31 * *", at(2026, 11, 15, 0, 0), "2026-12-31 00:00"},
      // Vixie: both day fields restricted -> either matches (the 1st, or any Monday).
      {"0 0 1 * mon", at(2026, 12, 1, 0, 0), "2026-12-07 00:00"},
      {"0 0 1 * mon", at(2026, 12, 28, 0, 0), "2027-01-01 00:00"},
      // ... but a day field starting with '*' is unrestricted -> both must match (odd day AND Tuesday).
      {"0 0 */2 * tue", at(2026, 12, 1, 0, 0), "2026-12-15 00:00"},
      {"@hourly", at(2026, 12, 1, 10, 59), "2026-12-01 11:00"},
      {"@daily", at(2026, 12, 1, 10, 59), "2026-12-02 00:00"},
      {"@weekly", at(2026, 12, 1, 10, 59), "2026-12-06 00:00"},
      {"@monthly", at(2026, 12, 1, 10, 59), "2027-01-01 00:00"},
      {"@yearly", at(2026, 12, 1, 10, 59), "2027-01-01 00:00"},
  };
  for (const auto& r : table) {
    CAPTURE(r.expr);
    CAPTURE(iso(r.after));
    CHECK(next(r.expr, r.after) == r.expected);
  }
}

TEST_CASE("cron fields are local wall-clock time under a fixed UTC offset") {
  // 09:00 at +03:00 is 06:00 UTC; at 07:00 UTC (10:00 local) today's has passed.
  CHECK(next("0 9 * * *", at(2026, 12, 1, 7, 0), app::fixed_utc_offset(hours{3})) == "2026-12-02 06:00");
  // At -05:00, 04:00 UTC on 1 Dec is still 30 Nov locally: the local 1st starts at 05:00 UTC.
  CHECK(next("0 0 1 * *", at(2026, 12, 1, 4, 0), app::fixed_utc_offset(hours{-5})) == "2026-12-01 05:00");
  // The day of week is the local one: Monday 00:30 at +03:00 is Sunday 21:30 UTC.
  CHECK(next("30 0 * * mon", at(2026, 12, 1, 0, 0), app::fixed_utc_offset(hours{3})) == "2026-12-06 21:30");
}

TEST_CASE("a local time skipped by spring-forward runs shifted by the gap, not never") {
  // 28 Mar 2027: local 02:00 jumps to 03:00. The daily 02:30 runs at 03:30 local = 01:30 UTC.
  CHECK(next("30 2 * * *", at(2027, 3, 27, 12, 0), cet) == "2027-03-28 01:30");
  // ...and the day after it is back at 02:30 local = 00:30 UTC.
  CHECK(next("30 2 * * *", at(2027, 3, 28, 1, 30), cet) == "2027-03-29 00:30");
  // Every 30 minutes across the gap: 01:30 local, then 03:00 local (01:00 UTC), then 03:30.
  CHECK(next("*/30 * * * *", at(2027, 3, 28, 0, 0), cet) == "2027-03-28 00:30");
  CHECK(next("*/30 * * * *", at(2027, 3, 28, 0, 30), cet) == "2027-03-28 01:00");
  CHECK(next("*/30 * * * *", at(2027, 3, 28, 1, 0), cet) == "2027-03-28 01:30");
}

TEST_CASE("a local time repeated by fall-back runs once, at its first occurrence") {
  // 31 Oct 2027: local 03:00 goes back to 02:00; 02:30 local is 00:30 UTC and again 01:30 UTC.
  CHECK(next("30 2 * * *", at(2027, 10, 30, 12, 0), cet) == "2027-10-31 00:30");
  CHECK(next("30 2 * * *", at(2027, 10, 31, 0, 30), cet) == "2027-11-01 01:30");
}

TEST_CASE("invalid cron expressions are refused with the bad field named") {
  struct row {
    const char* expr;
    const char* message;
  };
  const row table[] = {
      {"", "cron \"\": expected 5 fields (minute hour day-of-month month day-of-week), got 0"},
      {"* * * *", "cron \"* * * *\": expected 5 fields (minute hour day-of-month month day-of-week), got 4"},
      {"* * * * * *", "got 6"},
      {"60 * * * *", "cron \"60 * * * *\": minute: 60 is out of range 0..59"},
      {"* 24 * * *", "hour: 24 is out of range 0..23"},
      {"* * 0 * *", "day-of-month: 0 is out of range 1..31"},
      {"* * * 13 *", "month: 13 is out of range 1..12"},
      {"* * * * 8", "day-of-week: 8 is out of range 0..7"},
      {"* * * foo *", "month: \"foo\" is not a number or a name (jan..dec)"},
      {"* * * * mon-fro", "day-of-week: \"fro\" is not a number or a name (sun..sat)"},
      {"1x * * * *", "minute: \"1x\" is not a number"},
      {"x * * * *", "minute: \"x\" is not a number"},
      {"*/0 * * * *", "minute: step 0 is out of range 1..60"},
      {"*/a * * * *", "minute: step \"a\" is not a number"},
      {"5-1 * * * *", "minute: range \"5-1\" runs backwards"},
      {"1,,2 * * * *", "minute: empty list item in \"1,,2\""},
      {"*x * * * *", "minute: \"*x\" is not valid after '*'"},
      {"0 0 30 2 *", "day-of-month: \"30\" never occurs in the months given"},
      {"0 0 31 4,6,9,11 *", "day-of-month: \"31\" never occurs in the months given"},
      {"@reboot", "@reboot has no meaning for the daemon"},
      {"@fortnightly", "unknown macro @fortnightly"},
  };
  for (const auto& r : table) {
    CAPTURE(r.expr);
    const std::string message = parse_error(r.expr);
    CAPTURE(message);
    CHECK(message.find(r.message) != std::string::npos);
  }
  // With the day of week also restricted, the OR rule makes "30 Feb" usable: every Monday in February.
  CHECK(next("0 0 30 2 mon", at(2026, 12, 1, 0, 0)) == "2027-02-01 00:00");
}

TEST_CASE("an every-schedule runs one interval after the last start; zero is refused") {
  const auto s = app::schedule::every(minutes{15});
  CHECK_FALSE(s.is_cron());
  CHECK(iso(s.next_run(at(2026, 12, 1, 10, 7), app::fixed_utc_offset(0s))) == "2026-12-01 10:22");
  CHECK(s.period(at(2026, 12, 1, 10, 7), app::fixed_utc_offset(0s)) == minutes{15});
  CHECK(s.describe() == "every 900s");
  CHECK_THROWS_AS(app::schedule::every(0s), app::schedule_error);
}

TEST_CASE("the schedule comes from the config: cron when set, otherwise every") {
  b24sync::config::schedule_config cfg;
  cfg.every = minutes{5};
  CHECK(app::schedule::from_config(cfg).describe() == "every 300s");
  cfg.cron = "*/15 * * * *";
  const auto s = app::schedule::from_config(cfg);
  CHECK(s.is_cron());
  CHECK(s.describe() == "cron \"*/15 * * * *\"");
  CHECK(s.period(at(2026, 12, 1, 10, 7), app::fixed_utc_offset(0s)) == minutes{15});
  cfg.cron = "*/15 * * *";
  CHECK_THROWS_WITH_AS(app::schedule::from_config(cfg), doctest::Contains("got 4"), app::schedule_error);
}

TEST_CASE("retry delays double per consecutive failure up to the cap") {
  const app::retry_policy policy{minutes{1}, minutes{15}};
  CHECK(app::retry_delay(policy, 0) == 0s);
  CHECK(app::retry_delay(policy, 1) == minutes{1});
  CHECK(app::retry_delay(policy, 2) == minutes{2});
  CHECK(app::retry_delay(policy, 3) == minutes{4});
  CHECK(app::retry_delay(policy, 4) == minutes{8});
  CHECK(app::retry_delay(policy, 5) == minutes{15});
  CHECK(app::retry_delay(policy, 1000) == minutes{15});
  CHECK(app::retry_delay({minutes{30}, minutes{10}}, 1) == minutes{10});
}

TEST_CASE("after a failure the next attempt backs off, never longer than the schedule's period") {
  const auto tz = app::fixed_utc_offset(0s);
  const auto every5 = app::schedule::every(minutes{5});
  const auto start = at(2026, 12, 1, 10, 0);
  const auto end = at(2026, 12, 1, 10, 1);
  CHECK(iso(app::next_attempt(every5, start, end, 0, tz)) == "2026-12-01 10:05");  // success: the schedule
  CHECK(iso(app::next_attempt(every5, start, end, 1, tz)) == "2026-12-01 10:02");  // 1 min after the failure
  CHECK(iso(app::next_attempt(every5, start, end, 2, tz)) == "2026-12-01 10:03");
  CHECK(iso(app::next_attempt(every5, start, end, 3, tz)) == "2026-12-01 10:05");  // 4 min
  CHECK(iso(app::next_attempt(every5, start, end, 4, tz)) == "2026-12-01 10:06");  // capped at 5 min
  const auto hourly = app::schedule::cron("@hourly");
  CHECK(iso(app::next_attempt(hourly, start, end, 5, tz)) == "2026-12-01 10:16");  // 15 min default cap
}

TEST_CASE("the system zone function follows TZ, and agrees with the fake CET zone across both DST changes") {
  const char* saved = std::getenv("TZ");
  const std::string restore = saved ? saved : "";
  ::setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3", 1);  // POSIX rule: no tz database needed
  ::tzset();
  const auto tz = app::system_utc_offset();
  for (const auto t : {at(2027, 1, 15, 12, 0), at(2027, 3, 28, 0, 59), at(2027, 3, 28, 1, 0), at(2027, 7, 1, 0, 0),
                       at(2027, 10, 31, 0, 59), at(2027, 10, 31, 1, 0), at(2027, 12, 31, 23, 0)}) {
    CAPTURE(iso(t));
    CHECK(tz(t) == cet(t));
  }
  CHECK(next("30 2 * * *", at(2027, 3, 27, 12, 0), tz) == "2027-03-28 01:30");
  CHECK(next("30 2 * * *", at(2027, 10, 31, 0, 30), tz) == "2027-11-01 01:30");
  ::setenv("TZ", "MSK-3", 1);
  ::tzset();
  CHECK(app::system_utc_offset()(at(2027, 7, 1, 0, 0)) == hours{3});
  if (saved) ::setenv("TZ", restore.c_str(), 1);
  else ::unsetenv("TZ");
  ::tzset();
}
