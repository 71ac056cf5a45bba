// sync/canonical.hpp: how the engine reads a portal user's field and compares it with a desired value
// (trim / collapsed spaces, e-mail case, phones as E.164, dates as dates, lists as multisets).
// Engine-internal (namespace detail); pure functions, no allocation when the values are already equal.
#pragma once

#include "bitrix/user_fields.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace b24sync::sync::detail {

/// Where portal_user keeps a field: a typed member, a UF_USR_* JSON value, or portal_user::other.
enum class portal_slot {
  email, name, last_name, second_name, xml_id, work_position,
  personal_phone, personal_mobile, work_phone, phone_inner,
  birthday, departments, active, uf, other,
};

/// The slot of a Bitrix24 field code (UF_USR_* -> uf, unknown codes -> other).
portal_slot slot_of(std::string_view field) noexcept;

/// A scalar field as the portal holds it, as text ("" when absent). Numbers and booleans in UF_USR_*
/// fields are rendered into `scratch` (the view then points there); an array gives its values joined
/// with ", "; the birthday gives YYYY-MM-DD; departments give "".
std::string_view portal_text(const bitrix::portal_user& u, portal_slot slot, std::string_view field,
                             std::string& scratch);

/// A multiple-value field's values (a UF_USR_* array; a scalar is a one-element list, "" none).
std::vector<std::string> portal_list(const bitrix::portal_user& u, portal_slot slot, std::string_view field);

/// A date field's calendar date: PERSONAL_BIRTHDAY as read, other fields parsed like portal dates.
std::optional<std::chrono::year_month_day> portal_date(const bitrix::portal_user& u, portal_slot slot,
                                                       std::string_view field);

/// `s` without leading/trailing ASCII white space (a view, no copy).
std::string_view trim_view(std::string_view s) noexcept;

/// Canonical text: trimmed, inner white space collapsed to one space.
std::string canonical_text(std::string_view s);
/// Canonical e-mail: canonical text, lower-case.
std::string canonical_email(std::string_view s);
/// Canonical phone: E.164 when `s` reads as a phone of `region` (or an international one), else
/// canonical text (an unreadable value compares as text).
std::string canonical_phone(std::string_view s, std::string_view region);

/// Equal after canonical_text (byte-equal values return at once).
bool same_text(std::string_view a, std::string_view b);
/// Equal after canonical_email.
bool same_email(std::string_view a, std::string_view b);
/// Equal after canonical_phone.
bool same_phone(std::string_view a, std::string_view b, std::string_view region);

/// Values joined with `sep`.
std::string join(const std::vector<std::string>& values, std::string_view sep);

/// Lower-case ASCII/Latin/Cyrillic only when needed: `s` itself when it has no upper-case ASCII and
/// is pure ASCII, else the lower-cased copy in `scratch`.
std::string_view lower_view(std::string_view s, std::string& scratch);

}  // namespace b24sync::sync::detail
