// Custom user fields: user.userfield.add (UF_USR_ prefix, upper case, duplicates) and user.userfield.list.
#include "core/methods.hpp"
#include "core/php.hpp"

#include <boost/json/array.hpp>

#include <algorithm>

namespace b24emu::detail {

namespace json = boost::json;

namespace {

const char* known_types[] = {
    "string", "integer", "double", "date",           "datetime",       "boolean",  "file", "enumeration",
    "url",    "address", "money",  "iblock_section", "iblock_element", "employee", "crm",  "crm_status"};

std::string yn(bool b) {
  return b ? "Y" : "N";
}

json::object field_output(const user_field_def& f) {
  json::object o{
      {"ID", std::to_string(f.id)}, {"ENTITY_ID", "USER"},          {"FIELD_NAME", f.field_name},
      {"USER_TYPE_ID", f.type},     {"XML_ID", f.xml_id},           {"SORT", std::to_string(f.sort)},
      {"MULTIPLE", yn(f.multiple)}, {"MANDATORY", yn(f.mandatory)}, {"SHOW_FILTER", yn(f.show_filter)},
      {"SHOW_IN_LIST", "Y"},        {"EDIT_IN_LIST", "Y"},          {"IS_SEARCHABLE", "N"}};
  if (f.settings.empty())
    o["SETTINGS"] = json::array();
  else
    o["SETTINGS"] = f.settings;
  if (!f.label.is_null()) o["EDIT_FORM_LABEL"] = f.label;
  return o;
}

}  // namespace

call_result user_userfield_add(call_context& c) {
  auto& d = c.data;
  if (!c.caller_admin) throw rest_error(400, "ERROR_CORE", "access_denied");
  json::object fields;
  if (auto* v = get_ci(c.params, "fields"); v && v->is_object())
    fields = upper_keys(v->get_object());
  else
    fields = upper_keys(c.params);
  auto* name_v = fields.if_contains("FIELD_NAME");
  std::string name = name_v ? ascii_upper(php_trim(php_strval(*name_v))) : std::string();
  if (name.empty()) throw rest_error(400, "", "FIELD_NAME is required");
  auto* type_v = fields.if_contains("USER_TYPE_ID");
  std::string type = type_v ? php_strval(*type_v) : std::string();
  if (type.empty()) throw rest_error(400, "ERROR_ARGUMENT", "USER_TYPE_ID is required", "USER_TYPE_ID");
  if (std::none_of(std::begin(known_types), std::end(known_types), [&](const char* t) { return type == t; }))
    throw rest_error(400, "ERROR_ARGUMENT", "Unknown USER_TYPE_ID " + type, "USER_TYPE_ID");
  if (name.starts_with("UF_USR_"))
    name.erase(0, 7);
  else if (name.starts_with("UF_"))
    name.erase(0, 3);
  name = "UF_USR_" + name;
  if (d.find_user_field(name)) throw rest_error(400, "ERROR_CORE", "Field " + name + " already exists");
  user_field_def f;
  f.id = d.next_user_field_id++;
  f.field_name = name;
  f.type = type;
  if (auto* v = fields.if_contains("XML_ID")) f.xml_id = php_strval(*v);
  if (auto* v = fields.if_contains("SORT")) f.sort = php_intval(*v);
  if (auto* v = fields.if_contains("MULTIPLE")) f.multiple = php_strval(*v) == "Y";
  if (auto* v = fields.if_contains("MANDATORY")) f.mandatory = php_strval(*v) == "Y";
  if (auto* v = fields.if_contains("SHOW_FILTER")) f.show_filter = php_strval(*v) == "Y";
  if (auto* v = fields.if_contains("EDIT_FORM_LABEL"))
    f.label = *v;
  else if (auto* l = fields.if_contains("LABEL"))
    f.label = *l;
  if (auto* v = fields.if_contains("SETTINGS"); v && v->is_object()) f.settings = v->get_object();
  d.user_fields.push_back(std::move(f));
  ++d.version;
  ++c.stats.writes;
  call_result r;
  r.result = d.user_fields.back().id;
  return r;
}

call_result user_userfield_list(call_context& c) {
  json::object filter;
  if (auto* v = get_ci(c.params, "filter"); v && v->is_object()) filter = upper_keys(v->get_object());
  json::array a;
  for (auto& f : c.data.user_fields) {
    auto o = field_output(f);
    bool ok = true;
    for (auto& kv : filter) {
      auto it = o.find(kv.key());
      ok = ok && it != o.end() && php_strval(it->value()) == php_strval(kv.value());
    }
    if (ok) a.push_back(std::move(o));
  }
  call_result r;
  r.total = static_cast<std::int64_t>(a.size());
  r.result = std::move(a);
  return r;
}

}  // namespace b24emu::detail
