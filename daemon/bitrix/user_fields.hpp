// Bitrix24 user/department field names and the ONE place where their JSON becomes typed rows.
#pragma once

#include <boost/container/flat_map.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "common/text_block.hpp"

namespace b24sync::bitrix {

namespace detail {
struct row_scalar;  ///< one field value as user_row_reader sees it (user_fields.cpp)
}

enum class user_id : std::int64_t {};        ///< portal user ID (sent as string "7", stored as int)
enum class department_id : std::int64_t {};  ///< portal department ID

/// REST method names.
namespace method {
inline constexpr std::string_view batch = "batch";
inline constexpr std::string_view user_get = "user.get";
inline constexpr std::string_view user_add = "user.add";
inline constexpr std::string_view user_update = "user.update";
inline constexpr std::string_view user_current = "user.current";
inline constexpr std::string_view department_get = "department.get";
inline constexpr std::string_view department_add = "department.add";
inline constexpr std::string_view userfield_add = "user.userfield.add";
inline constexpr std::string_view userfield_list = "user.userfield.list";
}  // namespace method

/// user.* field names.
namespace field {
inline constexpr std::string_view id = "ID";
inline constexpr std::string_view active = "ACTIVE";
inline constexpr std::string_view email = "EMAIL";
inline constexpr std::string_view name = "NAME";
inline constexpr std::string_view last_name = "LAST_NAME";
inline constexpr std::string_view second_name = "SECOND_NAME";
inline constexpr std::string_view xml_id = "XML_ID";
inline constexpr std::string_view work_position = "WORK_POSITION";
inline constexpr std::string_view personal_phone = "PERSONAL_PHONE";
inline constexpr std::string_view personal_mobile = "PERSONAL_MOBILE";
inline constexpr std::string_view work_phone = "WORK_PHONE";
inline constexpr std::string_view uf_phone_inner = "UF_PHONE_INNER";
inline constexpr std::string_view personal_birthday = "PERSONAL_BIRTHDAY";
inline constexpr std::string_view uf_department = "UF_DEPARTMENT";
inline constexpr std::string_view user_type = "USER_TYPE";
inline constexpr std::string_view extranet = "EXTRANET";
inline constexpr std::string_view message_text = "MESSAGE_TEXT";
inline constexpr std::string_view uf_usr_prefix = "UF_USR_";  ///< custom user fields
}  // namespace field

/// user.get / department.get request parameters.
namespace param {
inline constexpr std::string_view filter = "FILTER";
inline constexpr std::string_view sort = "SORT";
inline constexpr std::string_view order = "ORDER";
inline constexpr std::string_view admin_mode = "ADMIN_MODE";
inline constexpr std::string_view start = "start";
inline constexpr std::string_view dept_sort = "sort";  ///< department.get spells these lower-case
inline constexpr std::string_view dept_order = "order";
}  // namespace param

/// department.* field names.
namespace dept_field {
inline constexpr std::string_view id = "ID";
inline constexpr std::string_view name = "NAME";
inline constexpr std::string_view sort = "SORT";
inline constexpr std::string_view parent = "PARENT";
inline constexpr std::string_view uf_head = "UF_HEAD";
}  // namespace dept_field

/// "Y" / "N": the only safe way to send ACTIVE (trap 4) or any other flag.
constexpr std::string_view yes_no(bool b) noexcept {
  return b ? "Y" : "N";
}

enum class user_type { unknown, employee, extranet, email };

/// The text fields of a user that user.get returns as strings, in the order portal_user keeps them.
enum class user_text : std::uint8_t {
  email,
  name,
  last_name,
  second_name,
  xml_id,
  work_position,
  personal_phone,
  personal_mobile,
  work_phone,
  phone_inner,  ///< UF_PHONE_INNER
};
inline constexpr std::size_t user_text_count = 10;

/// One user as user.get returns it. Absent (NULL) and empty fields both read as "".
struct portal_user {
  user_id id{};
  bool active = true;
  user_type type = user_type::unknown;
  std::optional<std::chrono::year_month_day> personal_birthday;  ///< calendar date (trap 8)
  std::vector<department_id> departments;                        ///< sorted, unique
  /// Every UF_USR_* field as sent. (Flat maps, here and below: one allocation per user instead of a
  /// node per field, and 24 bytes instead of 48 when empty — a diff holds a million of these.)
  boost::container::flat_map<std::string, boost::json::value, std::less<>> uf;
  /// Every other non-empty scalar field (PERSONAL_CITY, WORK_COMPANY, UF_EMPLOYMENT_DATE...) as text,
  /// so a mapping may target any standard field; volatile ones (LAST_LOGIN, IS_ONLINE...) are left out.
  boost::container::flat_map<std::string, std::string, std::less<>> other;
  /// The user_text fields, in one block (common/text_block.hpp): 16 bytes instead of ten strings.
  common::text_block<user_text_count> texts;

  std::string_view text(user_text f) const noexcept { return texts.get(static_cast<std::size_t>(f)); }
  /// One field (re-encodes the block; a reader filling a whole user gathers them and calls texts.assign).
  void set(user_text f, std::string_view value) { texts.set(static_cast<std::size_t>(f), value); }
  std::string_view email() const noexcept { return text(user_text::email); }
  std::string_view name() const noexcept { return text(user_text::name); }
  std::string_view last_name() const noexcept { return text(user_text::last_name); }
  std::string_view second_name() const noexcept { return text(user_text::second_name); }
  std::string_view xml_id() const noexcept { return text(user_text::xml_id); }
  std::string_view work_position() const noexcept { return text(user_text::work_position); }
  std::string_view personal_phone() const noexcept { return text(user_text::personal_phone); }
  std::string_view personal_mobile() const noexcept { return text(user_text::personal_mobile); }
  std::string_view work_phone() const noexcept { return text(user_text::work_phone); }
  std::string_view phone_inner() const noexcept { return text(user_text::phone_inner); }

  friend bool operator==(const portal_user&, const portal_user&) = default;
};

struct portal_department {
  department_id id{};
  std::string name;
  std::optional<department_id> parent;  ///< absent on the root
  std::int64_t sort = 500;
  std::optional<user_id> head;  ///< UF_HEAD, absent when empty
};

/// One user.get row -> portal_user. Fails (errc::malformed_envelope) only without a usable ID;
/// odd values elsewhere are read leniently (ACTIVE as bool, "Y"/"N", 1/0; IDs as ints or strings).
/// (A thin loop over user_row_reader: the DOM and the streaming reader share every field rule.)
std::optional<portal_user> user_from_json(const boost::json::object& row, std::error_code& ec);

/** Fills one portal_user from a user.get row handed over field by field: THE place that knows what each
    user field means. user_from_json feeds it a parsed object; the streaming batch reader
    (batch_stream.hpp) feeds it JSON parser events, so no DOM is built for the rows of a snapshot page.
    A key given twice: the last one wins, as in a parsed object. Arrays and objects come as a DOM value
    (on_value); scalars as themselves, so no boost::json::value is built for them. */
class user_row_reader {
 public:
  /// `target` must be default-constructed and outlive the reader.
  explicit user_row_reader(portal_user& target) noexcept : u_(target) {}

  void on_string(std::string_view key, std::string_view value);
  void on_int64(std::string_view key, std::int64_t value);
  void on_uint64(std::string_view key, std::uint64_t value);
  void on_double(std::string_view key, double value);
  void on_bool(std::string_view key, bool value);
  void on_null(std::string_view key);
  /// Any value (arrays and objects included); what user_from_json uses for every field.
  void on_value(std::string_view key, const boost::json::value& value);

  /// Ends the row: errc::malformed_envelope without a usable ID (the row is then not to be used).
  [[nodiscard]] std::error_code finish();

 private:
  void apply(std::string_view key, const detail::row_scalar& v);

  portal_user& u_;
  std::optional<std::int64_t> id_;
  std::string texts_;  ///< the row's user_text values, end to end (committed by finish())
  std::array<std::pair<std::uint32_t, std::uint32_t>, user_text_count> spans_{};  ///< offset, size in texts_
  bool has_departments_ = false;
};
/// One department.get row -> portal_department. Fails without a usable ID.
std::optional<portal_department> department_from_json(const boost::json::object& row, std::error_code& ec);

/** A portal date back to the calendar date (trap 8). Accepts "YYYY-MM-DD", "DD.MM.YYYY" and ISO
    date-times with an offset or Z. For a date-time, the date is the UTC date when the instant is at
    UTC midnight (the portal shifts the stored date by its offset: "2024-08-24T03:00:00+03:00" and
    "2024-08-23T19:00:00-05:00" are both 24 Aug), else the local date. "" or junk -> nullopt. */
std::optional<std::chrono::year_month_day> parse_portal_date(std::string_view s) noexcept;

/// "YYYY-MM-DD", the form user.add / user.update accept for date fields.
std::string format_portal_date(std::chrono::year_month_day d);

/// Read an ID sent as int, integral double or decimal string; nullopt otherwise or when <= 0.
std::optional<std::int64_t> json_to_id(const boost::json::value& v) noexcept;

}  // namespace b24sync::bitrix
