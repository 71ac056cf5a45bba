// report/detail.hpp: helpers shared by the report renderers (UTF-8 measuring, shortening, summaries).
#pragma once

#include "sync/outcome.hpp"
#include "sync/plan.hpp"

#include <cstddef>
#include <string>
#include <string_view>

namespace b24sync::report::detail {

/// Code points in a UTF-8 string; an invalid byte counts as one (it is shown as U+FFFD).
std::size_t utf8_width(std::string_view s) noexcept;

/// True when `s` is valid UTF-8 (no allocation).
bool is_valid_utf8(std::string_view s) noexcept;

/// `s` with every invalid UTF-8 sequence replaced by U+FFFD (JSON and HTML must be valid UTF-8).
std::string valid_utf8(std::string_view s);

/// For a terminal: valid UTF-8, and control characters (C0, DEL, C1) shown as `\xNN` so source data
/// cannot move the cursor, clear the screen or forge colours.
std::string printable(std::string_view s);

/// At most `max_cp` code points; a longer value is cut and ends in "…". 0 = unlimited.
std::string shorten(std::string_view s, std::size_t max_cp);

/// `s` padded with spaces to `width` code points.
std::string pad(std::string_view s, std::size_t width);

/// The wire value as text: a scalar as is, a list ", "-joined.
std::string wire_text(const sync::wire_value& v);

/// Where a row came from, for people: "path:line", "path (dn)" or "source".
std::string origin_text(const connectors::origin& o);

/// Fields changed by update operations (the "(7 fields)" of the summary).
std::size_t update_field_count(const sync::plan& p) noexcept;

/// "12 to create, 3 to update (7 fields), 1 to reactivate, 2 to deactivate, 980 unchanged,
/// 4 skipped; 2 rejected rows" (plus "; 1 department to create" when there are any).
std::string summary_line(const sync::plan& p);

/// "1 thing" / "2 things".
std::string plural(std::size_t n, std::string_view one, std::string_view many);

/// Outcome of users[i] / departments[i], or nullptr when there is no result or it is short.
const sync::op_outcome* user_outcome(const sync::run_result* r, std::size_t i) noexcept;
const sync::op_outcome* department_outcome(const sync::run_result* r, std::size_t i) noexcept;

/// True for the kinds that write to the portal (create, update, reactivate, deactivate).
using sync::is_write;

/// Planned writes (departments included) the result shows as not run, or has no outcome for.
std::size_t not_run_count(const sync::plan& p, const sync::run_result& r) noexcept;

/// "ERROR_CORE: description" or whichever half is present.
std::string error_text(const sync::op_outcome& o);

/// Seconds with one decimal ("12.3").
std::string seconds_text(double s);

/// Operation kinds in report order (unchanged is counted, never listed).
inline constexpr sync::op_kind listed_kinds[] = {sync::op_kind::create, sync::op_kind::update,
                                                 sync::op_kind::reactivate, sync::op_kind::deactivate,
                                                 sync::op_kind::skip};

/// "to create", "to update", ... for headings.
std::string_view kind_heading(sync::op_kind k) noexcept;

}  // namespace b24sync::report::detail
