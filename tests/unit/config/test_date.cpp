// Date parsing: formats, defaults, time of day dropped, Excel serials, invalid dates.
#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <vector>

#include "config/date.hpp"

using namespace b24sync::config;
using namespace std::chrono;

namespace {
std::optional<std::string> iso(std::optional<year_month_day> d) {
  if (!d) return std::nullopt;
  return to_iso(*d);
}
}  // namespace

TEST_CASE("dates in one format") {
  struct row {
    const char* format;
    const char* in;
    std::optional<std::string> out;
  };
  const std::vector<row> rows = {
      {"%d.%m.%Y", "15.03.2024", "2024-03-15"},
      {"%d.%m.%Y", "1.2.2024", "2024-02-01"},
      {"%d.%m.%Y", " 15.03.2024 ", "2024-03-15"},
      {"%d.%m.%Y", "31.02.2024", std::nullopt},
      {"%d.%m.%Y", "29.02.2024", "2024-02-29"},
      {"%d.%m.%Y", "29.02.2023", std::nullopt},
      {"%d.%m.%Y", "15.03.24", std::nullopt},
      {"%d.%m.%y", "15.03.24", "2024-03-15"},
      {"%d.%m.%y", "15.03.85", "1985-03-15"},
      {"%Y-%m-%d", "2024-03-15", "2024-03-15"},
      {"%Y-%m-%d", "2024-3-15x", std::nullopt},
      {"%Y%m%d", "20240315", "2024-03-15"},
      {"%m/%d/%Y", "03/15/2024", "2024-03-15"},
      {"%d.%m.%Y %H:%M:%S", "15.03.2024 0:00:00", "2024-03-15"},
      {"%Y-%m-%dT%H:%M:%S", "2024-03-15T10:20:30", "2024-03-15"},
      {"%d.%m.%Y", "", std::nullopt},
      {"%d.%m.%Y", "15.13.2024", std::nullopt},
      {"100%% %Y-%m-%d", "100% 2024-01-02", "2024-01-02"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.format);
    CAPTURE(r.in);
    CHECK(iso(parse_date(r.in, r.format)) == r.out);
  }
}

TEST_CASE("the default formats and Excel serial numbers") {
  CHECK(iso(parse_date("2024-03-15", {}, false)) == "2024-03-15");
  CHECK(iso(parse_date("15.03.2024", {}, false)) == "2024-03-15");
  CHECK(iso(parse_date("15.03.2024 0:00:00", {}, false)) == "2024-03-15");
  CHECK(iso(parse_date("2024-03-15 08:00:00", {}, false)) == "2024-03-15");
  CHECK(iso(parse_date("45366", {}, false)) == std::nullopt);
  CHECK(iso(parse_date("45366", {}, true)) == "2024-03-15");
  CHECK(iso(parse_date("45366.75", {}, true)) == "2024-03-15");
  CHECK(iso(parse_date("61", {}, true)) == "1900-03-01");
  CHECK(iso(parse_date("60", {}, true)) == std::nullopt);  // Excel's phantom 1900-02-29
  CHECK(iso(parse_date("abc", {}, true)) == std::nullopt);
  CHECK(iso(parse_date("03/15/2024", {"%d.%m.%Y", "%m/%d/%Y"}, false)) == "2024-03-15");
}

TEST_CASE("date format checks") {
  CHECK(check_date_format("%d.%m.%Y").empty());
  CHECK(check_date_format("%d.%m") == "needs a year (%Y or %y), a month (%m) and a day (%d)");
  CHECK(check_date_format("%d.%m.%Y %Z") == "unsupported conversion %Z (use %d %m %Y %y %H %M %S)");
  CHECK(check_date_format("%d.%m.%Y %") == "ends with a lone '%'");
}
