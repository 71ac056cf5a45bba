// Dates and date-times: parsing what clients send, formatting what the portal answers (ISO-8601 + offset).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace b24emu::detail {

std::int64_t days_from_civil(int y, unsigned m, unsigned d);
void civil_from_days(std::int64_t days, int& y, unsigned& m, unsigned& d);

// "YYYY-MM-DD[(T| )HH:MM[:SS[.fff]]][Z|±HH[:]MM]" or "DD.MM.YYYY[ HH:MM[:SS]]" -> Unix seconds.
// A value without an offset is read in `default_offset_s`.
std::optional<std::int64_t> parse_instant(std::string_view s, int default_offset_s);

// A calendar date for date-only fields, days since 1970-01-01. A bare date counts as written; a
// date-time with an offset is the date of that instant in the portal's offset (PHP strtotime +
// ConvertTimeStamp); one without an offset keeps its written date. Note the asymmetry with
// format_date_field(): with a negative portal offset a printed value reads back as the day before.
std::optional<std::int64_t> parse_date_days(std::string_view s, int portal_offset_s);

std::string format_date(std::int64_t days);                 // "YYYY-MM-DD"
std::string format_iso(std::int64_t unix_s, int offset_s);  // "YYYY-MM-DDTHH:MM:SS+03:00"
std::string format_iso(double unix_s, int offset_s);

// How the portal prints a date-only field: midnight UTC of that day in the portal's offset, i.e.
// "2024-08-24T03:00:00+03:00" for +03:00 and "2024-08-23T19:00:00-05:00" for -05:00.
std::string format_date_field(std::int64_t days, int offset_s);

// Seconds -> "+03:00" / "-05:00".
std::string format_offset(int offset_s);

// "+03:00", "-0530", "+03" or "Z" -> seconds; nullopt if malformed.
std::optional<int> parse_offset(std::string_view s);

}  // namespace b24emu::detail
