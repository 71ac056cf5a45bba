// Calendar dates from HR exports: strptime-like formats without a locale, Excel serial numbers, ISO output.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace b24sync::config {

// The formats tried when a rule lists none: ISO, Russian, and the same with a time of day.
const std::vector<std::string>& default_date_formats();

// Checks a format: conversions %d %m %Y %y %H %M %S %%, anything else literal. Empty string = OK,
// otherwise what is wrong.
std::string check_date_format(std::string_view format);

// Parses `text` (trimmed) with one format; the whole text must match. %y: 00..68 -> 20xx, else 19xx.
// A time of day is parsed and dropped.
std::optional<std::chrono::year_month_day> parse_date(std::string_view text, std::string_view format);
// Tries each format in order; with `excel_serial`, a plain number 61..2958465 counts days since
// 1899-12-30 (Excel's 1900 date system; 61 = 1900-03-01).
std::optional<std::chrono::year_month_day> parse_date(std::string_view text,
                                                      const std::vector<std::string>& formats,
                                                      bool excel_serial);

// "YYYY-MM-DD".
std::string to_iso(std::chrono::year_month_day d);

}  // namespace b24sync::config
