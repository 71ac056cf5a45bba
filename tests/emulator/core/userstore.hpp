// The user model: field catalogue (kinds, writability, labels), canonical storage and the user.get shape.
#pragma once

#include "core/state.hpp"

#include <optional>
#include <string_view>
#include <vector>

namespace b24emu::detail {

enum class field_kind {
  id,           // ID: int
  active,       // ACTIVE: bool (Y/N)
  online,       // IS_ONLINE: Y/N
  departments,  // UF_DEPARTMENT: [int]
  user_type,    // USER_TYPE: employee / extranet
  string,       // text fields, UF_USR_* strings
  number,       // UF_USR_* integer/double
  date,         // stored "YYYY-MM-DD", printed as midnight UTC in the portal's offset
  datetime,     // stored ISO in the portal's offset
  raw,          // TIMESTAMP_X, LAST_ACTIVITY_DATE: passed through
  has_dept,     // filter only: HAS_DEPARTAMENT
  name_search,  // filter only: NAME_SEARCH / FIND
  dept_name,    // filter only (user.search): UF_DEPARTMENT_NAME
};

// Kind of a field (upper-case name) or nullopt if the portal does not know it.
std::optional<field_kind> kind_of(const portal_data& d, std::string_view name);

// Whether user.add/user.update may write the field (LOGIN, read-only fields and unknown ones are dropped).
bool is_writable(const portal_data& d, std::string_view name);

// Standard fields and their labels, in user.fields order.
const std::vector<std::pair<std::string_view, std::string_view>>& standard_fields();

// Canonical stored form of a value for a field of the given kind (dates parsed; unparseable kept as is),
// allocated from `sp` (the user arena).
boost::json::value canonical_value(const portal_data& d, field_kind k, const boost::json::value& v,
                                   boost::json::storage_ptr sp);

// ACTIVE on the save path: PHP loose `$v == 'N'` (trap 4): "N" and JSON true dismiss, anything else keeps Y.
bool active_from_save(const boost::json::value& v);

// ACTIVE / IS_ONLINE in filters and on user.add defaults: truthy and not "N" means Y.
bool yn_truthy(const boost::json::value& v);

std::vector<std::int64_t> department_list(const boost::json::value& v);

// A field selection: empty = everything; else names and masks ("*", "UF_*").
struct field_select {
  std::vector<std::string> names;
  bool all_standard = false;
  bool all_uf = false;
  bool any = false;  // a non-empty select was given
  bool wants(std::string_view name) const;
};
field_select parse_select(const boost::json::value* v);

// The user as user.get returns it: ID string, ACTIVE bool, dates ISO, absent fields omitted.
boost::json::object user_output(const portal_data& d, const user_record& u, const field_select& sel);

// The user with every stored field, in the seed format (dump_users).
boost::json::object user_dump(const user_record& u);

}  // namespace b24emu::detail
