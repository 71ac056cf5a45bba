// Date parsing and printing with positive and negative portal offsets.
#include "core/dates.hpp"

#include <doctest/doctest.h>

using namespace b24emu::detail;

TEST_CASE("parse_instant reads ISO and DD.MM.YYYY, with or without an offset") {
  constexpr int msk = 3 * 3600;
  struct row {
    const char* text;
    int default_offset;
    std::optional<std::int64_t> unix_s;
  };
  const row rows[] = {
      {"2024-08-24T00:00:00+03:00", 0, 1724446800},
      {"2024-08-24T00:00:00Z", msk, 1724457600},
      {"2024-08-24T00:00:00", msk, 1724446800},  // no offset: portal time
      {"2024-08-24 00:00:00", -5 * 3600, 1724475600},
      {"2024-08-24T05:00:00-0500", 0, 1724493600},
      {"2024-08-24T00:00:00.123+03:00", 0, 1724446800},
      {"24.08.2024", msk, 1724446800},
      {"24.08.2024 10:30", msk, 1724484600},
      {"2024-08-24", 0, 1724457600},
      {"2024-13-01", 0, std::nullopt},
      {"2024-08-24T25:00:00", 0, std::nullopt},
      {"2024-08-24T10:00:00+3", 0, std::nullopt},
      {"yesterday", 0, std::nullopt},
      {"", 0, std::nullopt},
  };
  for (auto& r : rows) {
    CAPTURE(r.text);
    CHECK(parse_instant(r.text, r.default_offset) == r.unix_s);
  }
}

TEST_CASE("format_iso and format_date_field print in the portal offset, also west of UTC") {
  CHECK(format_iso(std::int64_t{1724446800}, 3 * 3600) == "2024-08-24T00:00:00+03:00");
  CHECK(format_iso(std::int64_t{1724446800}, -5 * 3600) == "2024-08-23T16:00:00-05:00");
  CHECK(format_iso(std::int64_t{1724446800}, 5 * 3600 + 1800) == "2024-08-24T02:30:00+05:30");
  CHECK(format_iso(std::int64_t{-1}, 0) == "1969-12-31T23:59:59+00:00");
  auto day = days_from_civil(2024, 8, 24);
  CHECK(format_date(day) == "2024-08-24");
  CHECK(format_date_field(day, 3 * 3600) == "2024-08-24T03:00:00+03:00");
  CHECK(format_date_field(day, -5 * 3600) == "2024-08-23T19:00:00-05:00");
  CHECK(format_date_field(day, 0) == "2024-08-24T00:00:00+00:00");
}

TEST_CASE("parse_date_days: a bare date as written, a date-time by its date in the portal offset") {
  auto day = days_from_civil(2024, 8, 24);
  CHECK(parse_date_days("2024-08-24", -5 * 3600) == day);
  CHECK(parse_date_days("24.08.2024", 3 * 3600) == day);
  CHECK(parse_date_days("2024-08-24T03:00:00+03:00", 3 * 3600) == day);       // printed by a +03:00 portal
  CHECK(parse_date_days("2024-08-23T19:00:00-05:00", -5 * 3600) == day - 1);  // printed by a -05:00 portal
  CHECK(parse_date_days("2024-08-24T23:30:00", -5 * 3600) == day);            // no offset: written date
  CHECK_FALSE(parse_date_days("24/08/2024", 0));
  CHECK(format_offset(-5 * 3600 - 1800) == "-05:30");
  CHECK(format_offset(3 * 3600) == "+03:00");
  CHECK(parse_offset("+03:00") == 10800);
  CHECK(parse_offset("-0530") == -19800);
  CHECK(parse_offset("Z") == 0);
  CHECK_FALSE(parse_offset("3"));
}
