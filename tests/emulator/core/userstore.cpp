// The user model: field catalogue (kinds, writability, labels), canonical storage and the user.get shape.
#include "core/userstore.hpp"

#include "core/dates.hpp"
#include "core/php.hpp"

#include <boost/json/array.hpp>

#include <algorithm>
#include <unordered_map>

namespace b24emu::detail {

namespace json = boost::json;

const std::vector<std::pair<std::string_view, std::string_view>>& standard_fields() {
  static const std::vector<std::pair<std::string_view, std::string_view>> f = {
      {"ID", "ID"},
      {"XML_ID", "External ID"},
      {"ACTIVE", "Active"},
      {"NAME", "First name"},
      {"LAST_NAME", "Last name"},
      {"SECOND_NAME", "Second name"},
      {"TITLE", "Title"},
      {"EMAIL", "E-mail"},
      {"LAST_LOGIN", "Last login"},
      {"DATE_REGISTER", "Registration date"},
      {"TIME_ZONE", "Time zone"},
      {"IS_ONLINE", "Is online"},
      {"TIME_ZONE_OFFSET", "Time zone offset"},
      {"TIMESTAMP_X", "Last modified"},
      {"LAST_ACTIVITY_DATE", "Last activity date"},
      {"PERSONAL_GENDER", "Gender"},
      {"PERSONAL_PROFESSION", "Profession"},
      {"PERSONAL_WWW", "Personal website"},
      {"PERSONAL_BIRTHDAY", "Date of birth"},
      {"PERSONAL_PHOTO", "Photo"},
      {"PERSONAL_ICQ", "ICQ"},
      {"PERSONAL_PHONE", "Phone"},
      {"PERSONAL_FAX", "Fax"},
      {"PERSONAL_MOBILE", "Mobile"},
      {"PERSONAL_PAGER", "Pager"},
      {"PERSONAL_STREET", "Street address"},
      {"PERSONAL_MAILBOX", "Mailbox"},
      {"PERSONAL_CITY", "City"},
      {"PERSONAL_STATE", "Region"},
      {"PERSONAL_ZIP", "Zip"},
      {"PERSONAL_COUNTRY", "Country"},
      {"PERSONAL_NOTES", "Notes"},
      {"WORK_COMPANY", "Company"},
      {"WORK_DEPARTMENT", "Department"},
      {"WORK_POSITION", "Position"},
      {"WORK_WWW", "Company website"},
      {"WORK_PHONE", "Work phone"},
      {"WORK_FAX", "Work fax"},
      {"WORK_PAGER", "Work pager"},
      {"WORK_STREET", "Work street"},
      {"WORK_MAILBOX", "Work mailbox"},
      {"WORK_CITY", "Work city"},
      {"WORK_STATE", "Work region"},
      {"WORK_ZIP", "Work zip"},
      {"WORK_COUNTRY", "Work country"},
      {"WORK_PROFILE", "Work profile"},
      {"WORK_LOGO", "Company logo"},
      {"WORK_NOTES", "Work notes"},
      {"UF_SKYPE", "Skype"},
      {"UF_TWITTER", "Twitter"},
      {"UF_FACEBOOK", "Facebook"},
      {"UF_LINKEDIN", "LinkedIn"},
      {"UF_XING", "Xing"},
      {"UF_WEB_SITES", "Websites"},
      {"UF_SKILLS", "Skills"},
      {"UF_INTERESTS", "Interests"},
      {"UF_DISTRICT", "District"},
      {"UF_PHONE_INNER", "Extension number"},
      {"UF_EMPLOYMENT_DATE", "Employment date"},
      {"UF_DEPARTMENT", "Departments"},
      {"USER_TYPE", "User type"},
  };
  return f;
}

namespace {

const std::unordered_map<std::string_view, field_kind>& special_kinds() {
  static const std::unordered_map<std::string_view, field_kind> m = {
      {"ID", field_kind::id},
      {"ACTIVE", field_kind::active},
      {"IS_ONLINE", field_kind::online},
      {"UF_DEPARTMENT", field_kind::departments},
      {"USER_TYPE", field_kind::user_type},
      {"PERSONAL_BIRTHDAY", field_kind::date},
      {"UF_EMPLOYMENT_DATE", field_kind::date},
      {"DATE_REGISTER", field_kind::datetime},
      {"LAST_LOGIN", field_kind::datetime},
      {"TIMESTAMP_X", field_kind::raw},
      {"LAST_ACTIVITY_DATE", field_kind::raw},
      {"HAS_DEPARTAMENT", field_kind::has_dept},
      {"NAME_SEARCH", field_kind::name_search},
      {"FIND", field_kind::name_search},
      {"UF_DEPARTMENT_NAME", field_kind::dept_name},
  };
  return m;
}

bool is_standard(std::string_view name) {
  static const auto set = [] {
    std::unordered_map<std::string_view, bool> s;
    for (auto& [k, v] : standard_fields()) s[k] = true;
    return s;
  }();
  return set.count(name) != 0;
}

}  // namespace

std::optional<field_kind> kind_of(const portal_data& d, std::string_view name) {
  if (auto it = special_kinds().find(name); it != special_kinds().end()) return it->second;
  if (name.starts_with("UF_USR_")) {
    auto* f = d.find_user_field(name);
    if (!f) return std::nullopt;
    if (f->type == "integer" || f->type == "double") return field_kind::number;
    if (f->type == "date") return field_kind::date;
    if (f->type == "datetime") return field_kind::datetime;
    return field_kind::string;
  }
  if (is_standard(name)) return field_kind::string;
  return std::nullopt;
}

bool is_writable(const portal_data& d, std::string_view name) {
  static const std::unordered_map<std::string_view, bool> read_only = {
      {"ID", true},          {"LOGIN", true},
      {"LAST_LOGIN", true},  {"DATE_REGISTER", true},
      {"IS_ONLINE", true},   {"TIME_ZONE_OFFSET", true},
      {"TIMESTAMP_X", true}, {"LAST_ACTIVITY_DATE", true},
      {"USER_TYPE", true},
  };
  if (read_only.count(name)) return false;
  if (name.starts_with("UF_USR_")) return d.find_user_field(name) != nullptr;
  return is_standard(name);
}

json::value canonical_value(const portal_data& d, field_kind k, const json::value& v, json::storage_ptr sp) {
  if (k == field_kind::date && v.is_string() && !v.get_string().empty()) {
    std::string_view s(v.get_string());
    if (auto days = parse_date_days(s, d.settings.tz_offset_s)) {
      if (s.size() == 10 && s[4] == '-') return json::value(v, sp);  // already canonical
      return json::string(format_date(*days), sp);
    }
  } else if (k == field_kind::datetime && v.is_string() && !v.get_string().empty()) {
    std::string_view s(v.get_string());
    if (auto t = parse_instant(s, d.settings.tz_offset_s)) {
      // Already "YYYY-MM-DDTHH:MM:SS" + the portal's offset (seed loads): keep it, skip formatting.
      if (s.size() == 25 && s[10] == 'T' && s.substr(19) == format_offset(d.settings.tz_offset_s))
        return json::value(v, sp);
      return json::string(format_iso(*t, d.settings.tz_offset_s), sp);
    }
  } else if (k == field_kind::string && (v.is_number() || v.is_bool())) {
    return json::string(php_strval(v), sp);
  }
  return json::value(v, sp);
}

bool active_from_save(const json::value& v) {
  if (v.is_bool()) return !v.get_bool();  // true == 'N' is true in PHP: a JSON true dismisses
  if (v.is_string()) return v.get_string() != "N";
  return true;
}

bool yn_truthy(const json::value& v) {
  if (v.is_string() && v.get_string() == "N") return false;
  return php_truthy(v);
}

std::vector<std::int64_t> department_list(const json::value& v) {
  std::vector<std::int64_t> out;
  if (v.is_null() || (v.is_string() && v.get_string().empty())) return out;
  auto add = [&](const json::value& x) {
    auto id = php_intval(x);
    if (id > 0 && std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
  };
  if (v.is_array()) {
    out.reserve(v.get_array().size());
    for (auto& x : v.get_array()) add(x);
  } else if (v.is_object()) {
    for (auto& kv : v.get_object()) add(kv.value());
  } else {
    add(v);
  }
  return out;
}

bool field_select::wants(std::string_view name) const {
  if (!any || name == "ID") return true;
  if (all_standard && !name.starts_with("UF_USR_")) return true;
  if (all_uf && name.starts_with("UF_")) return true;
  return std::find(names.begin(), names.end(), name) != names.end();
}

field_select parse_select(const json::value* v) {
  field_select s;
  if (!v) return s;
  for (auto& x : php_list(*v)) {
    if (!x.is_string() || x.get_string().empty()) continue;
    auto name = ascii_upper(std::string_view(x.get_string()));
    s.any = true;
    if (name == "*")
      s.all_standard = true;
    else if (name == "UF_*")
      s.all_uf = true;
    else
      s.names.push_back(std::move(name));
  }
  return s;
}

json::object user_output(const portal_data& d, const user_record& u, const field_select& sel) {
  json::object o;
  o.reserve(u.fields.size() + 6);
  o["ID"] = std::to_string(u.id);
  if (sel.wants("ACTIVE")) o["ACTIVE"] = u.active;
  for (auto& kv : u.fields) {
    auto name = std::string_view(kv.key());
    if (!sel.wants(name)) continue;
    auto& v = kv.value();
    if (v.is_null()) continue;
    auto k = kind_of(d, name);
    if (k == field_kind::date && v.is_string() && !v.get_string().empty()) {
      if (auto days = parse_date_days(std::string_view(v.get_string()), d.settings.tz_offset_s)) {
        o[name] = format_date_field(*days, d.settings.tz_offset_s);
        continue;
      }
    }
    o[name] = v;
  }
  if (sel.wants("IS_ONLINE")) o["IS_ONLINE"] = u.online ? "Y" : "N";
  if (sel.wants("UF_DEPARTMENT") && !u.departments.empty()) {
    json::array a;
    for (auto id : u.departments) a.emplace_back(id);
    o["UF_DEPARTMENT"] = std::move(a);
  }
  if (sel.wants("USER_TYPE")) o["USER_TYPE"] = u.extranet ? "extranet" : "employee";
  return o;
}

json::object user_dump(const user_record& u) {
  json::object o;
  o["ID"] = u.id;
  o["LOGIN"] = u.login;
  o["ACTIVE"] = u.active;
  o["IS_ADMIN"] = u.is_admin;
  o["IS_REAL_USER"] = u.real;
  o["IS_ONLINE"] = u.online ? "Y" : "N";
  o["USER_TYPE"] = u.extranet ? "extranet" : "employee";
  json::array deps;
  for (auto id : u.departments) deps.emplace_back(id);
  o["UF_DEPARTMENT"] = std::move(deps);
  for (auto& kv : u.fields) o[kv.key()] = kv.value();
  return o;
}

// ---- portal_data members that belong to the user model ----

const user_field_def* portal_data::find_user_field(std::string_view name) const {
  for (auto& f : user_fields)
    if (f.field_name == name) return &f;
  return nullptr;
}

user_record portal_data::new_user() {
  return user_record(storage);
}

namespace {

template <class Fn>
void for_each_value(const user_record& u, const std::string& field, Fn fn) {
  auto it = u.fields.find(field);
  if (it == u.fields.end() || it->value().is_null()) return;
  if (it->value().is_array()) {
    for (auto& x : it->value().get_array()) fn(fold(php_strval(x)));
  } else {
    fn(fold(php_strval(it->value())));
  }
}

}  // namespace

const std::unordered_multimap<std::string, std::int64_t>& portal_data::field_index(const std::string& field) {
  auto [it, inserted] = field_indexes.try_emplace(field);
  if (inserted) {
    auto& idx = it->second;
    idx.reserve(users.size());
    for (auto& entry : users) {
      auto id = entry.first;
      for_each_value(entry.second, field, [&](std::string v) { idx.emplace(std::move(v), id); });
    }
  }
  return it->second;
}

bool portal_data::login_taken(const std::string& login) {
  if (!logins_indexed) {
    login_index.reserve(users.size());
    for (auto& [id, u] : users)
      if (!u.login.empty()) login_index[fold(u.login)] = id;
    logins_indexed = true;
  }
  return login_index.count(fold(login)) != 0;
}

namespace {
bool occupies_seat(const user_record& u) {
  return u.active && u.real && !u.extranet && !u.departments.empty();
}
}  // namespace

void portal_data::index_user(const user_record& u) {
  seats_used += occupies_seat(u) ? 1 : 0;
  for (auto& entry : field_indexes) {
    auto& idx = entry.second;
    for_each_value(u, entry.first, [&](std::string v) { idx.emplace(std::move(v), u.id); });
  }
  if (logins_indexed && !u.login.empty()) login_index[fold(u.login)] = u.id;
}

void portal_data::unindex_user(const user_record& u) {
  seats_used -= occupies_seat(u) ? 1 : 0;
  for (auto& entry : field_indexes) {
    auto& idx = entry.second;  // (no structured binding: clang 14 cannot capture one)
    for_each_value(u, entry.first, [&](const std::string& v) {
      auto range = idx.equal_range(v);
      for (auto e = range.first; e != range.second; ++e) {
        if (e->second == u.id) {
          idx.erase(e);
          break;
        }
      }
    });
  }
  if (!logins_indexed) return;
  if (auto it = login_index.find(fold(u.login)); it != login_index.end() && it->second == u.id)
    login_index.erase(it);
}

}  // namespace b24emu::detail
