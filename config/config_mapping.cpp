// The `mapping` section: field rules (template shorthand or object form), active rules, precedence, tables.
#include <algorithm>

#include "config/date.hpp"
#include "config/detail/sections.hpp"
#include "config/phone.hpp"
#include "config/text.hpp"

namespace b24sync::config::detail {
namespace {

// Standard user fields user.add/user.update accept (contract §6); UF_USR_* custom fields are accepted too.
const std::vector<std::string> known_fields = {
    "NAME",
    "LAST_NAME",
    "SECOND_NAME",
    "EMAIL",
    "XML_ID",
    "PERSONAL_GENDER",
    "PERSONAL_PROFESSION",
    "PERSONAL_WWW",
    "PERSONAL_BIRTHDAY",
    "PERSONAL_ICQ",
    "PERSONAL_PHONE",
    "PERSONAL_FAX",
    "PERSONAL_MOBILE",
    "PERSONAL_PAGER",
    "PERSONAL_STREET",
    "PERSONAL_CITY",
    "PERSONAL_STATE",
    "PERSONAL_ZIP",
    "PERSONAL_COUNTRY",
    "PERSONAL_MAILBOX",
    "PERSONAL_NOTES",
    "WORK_COMPANY",
    "WORK_POSITION",
    "WORK_DEPARTMENT",
    "WORK_WWW",
    "WORK_PHONE",
    "WORK_FAX",
    "WORK_PAGER",
    "WORK_STREET",
    "WORK_MAILBOX",
    "WORK_CITY",
    "WORK_STATE",
    "WORK_ZIP",
    "WORK_COUNTRY",
    "WORK_PROFILE",
    "WORK_NOTES",
    "UF_DEPARTMENT",
    "UF_INTERESTS",
    "UF_SKILLS",
    "UF_WEB_SITES",
    "UF_XING",
    "UF_LINKEDIN",
    "UF_FACEBOOK",
    "UF_TWITTER",
    "UF_SKYPE",
    "UF_DISTRICT",
    "UF_PHONE_INNER",
    "UF_EMPLOYMENT_DATE",
};

bool is_custom_field(std::string_view f) {
  if (f.rfind("UF_USR_", 0) != 0 || f.size() == 7) return false;
  return std::all_of(f.begin() + 7, f.end(),
                     [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; });
}

bool is_date_field(std::string_view f) {
  return f == "PERSONAL_BIRTHDAY" || f == "UF_EMPLOYMENT_DATE";
}

void check_field_name(const reader& r, const YAML::Node& key, const std::string& path,
                      const std::string& field, const std::string& identity_field) {
  if (field == "ACTIVE") r.fail(key, path, "ACTIVE is set by mapping.active, not by a field rule");
  if (field == "ID" || field == "LOGIN")
    r.fail(key, path, field + " cannot be written through user.add/user.update");
  if (field == identity_field)
    r.fail(key, path, field + " is the identity_field: b24sync writes the HR key there itself");
  if (is_custom_field(field) ||
      std::find(known_fields.begin(), known_fields.end(), field) != known_fields.end())
    return;
  r.fail(key, path,
         "unknown Bitrix24 user field" + did_you_mean(field, known_fields) +
             " (custom fields are named UF_USR_<NAME>)");
}

void check_sources(const reader& r, const YAML::Node& at, const std::string& path,
                   const std::vector<std::string>& names, const std::vector<source_config>& sources) {
  std::vector<std::string> known;
  for (const auto& s : sources) known.push_back(s.name);
  for (std::size_t k = 0; k < names.size(); ++k) {
    if (std::find(known.begin(), known.end(), names[k]) == known.end())
      r.fail(at.IsSequence() ? at[k] : at, path,
             "no source named \"" + names[k] + "\"" + did_you_mean(names[k], known));
    if (std::count(names.begin(), names.end(), names[k]) > 1)
      r.fail(at, path, "source \"" + names[k] + "\" listed twice");
  }
}

value_template read_template(const reader& r, const YAML::Node& n, const std::string& path,
                             const mapping_config& m) {
  std::string text = r.str(n, path);
  try {
    return parse_template(text, m.tables);
  } catch (const template_error& e) {
    r.fail(r.mark_in_scalar(n, e.offset), path, e.what());
  }
}

std::vector<std::string> read_formats(const reader& r, const map_view& m) {
  std::vector<std::string> formats;
  if (m.has("format") && m.has("formats"))
    r.fail(*m.get("formats"), m.path_of("formats"), "give either format or formats");
  for (const char* key : {"format", "formats"}) {
    auto n = m.get(key);
    if (!n) continue;
    formats = r.str_list(*n, m.path_of(key));
    for (std::size_t k = 0; k < formats.size(); ++k)
      if (std::string why = check_date_format(formats[k]); !why.empty())
        r.fail(n->IsSequence() ? (*n)[k] : *n, m.path_of(key),
               "bad date format \"" + formats[k] + "\": " + why);
  }
  return formats;
}

value_table read_table(const reader& r, const YAML::Node& n, const std::string& path) {
  if (!n.IsMap()) r.fail(n, path, "expected a map of value: replacement, got " + std::string{type_name(n)});
  value_table t;
  for (auto it = n.begin(); it != n.end(); ++it) {
    std::string k = r.raw_str(it->first, path);
    if (t.count(k)) r.fail(it->first, path + "." + k, "duplicate key");
    t[k] = r.str(it->second, path + "." + k);
  }
  return t;
}

field_rule parse_rule(const reader& r, const YAML::Node& n, const std::string& path, const std::string& field,
                      const mapping_config& mc, const std::vector<source_config>& sources) {
  field_rule rule;
  rule.field = field;
  if (field == "UF_DEPARTMENT") rule.transform = transform_kind::department;
  if (is_date_field(field)) rule.transform = transform_kind::date;
  if (n.IsScalar()) {
    rule.value = read_template(r, n, path, mc);
    return rule;
  }
  map_view m(
      r, n, path,
      {"from", "template", "transform", "map", "region", "format", "formats", "excel_serial",
       "path_separator", "departments", "create_missing", "on_invalid", "multiple", "max_length", "sources"});
  if (!n.IsMap()) r.fail(n, path, "expected a template string or a map with from/template");
  if (m.has("from") && m.has("template"))
    r.fail(*m.get("template"), m.path_of("template"), "give either from or template");
  if (auto f = m.get("from")) {
    std::vector<std::string> attrs = r.str_list(*f, m.path_of("from"));
    if (attrs.empty()) r.fail(*f, m.path_of("from"), "must name a source attribute");
    for (std::size_t k = 0; k < attrs.size(); ++k) {
      std::string attr = trim(attrs[k]);
      if (attr.empty()) r.fail(*f, m.path_of("from"), "must name a source attribute");
      (k == 0 ? rule.value : rule.alternatives.emplace_back()) = attribute_template(attr);
    }
  } else if (auto t = m.get("template")) {
    rule.value = read_template(r, *t, m.path_of("template"), mc);
  } else {
    r.fail(n, path, "needs from (an attribute) or template");
  }
  if (auto t = m.get("transform")) {
    std::string v = r.str(*t, m.path_of("transform"));
    std::vector<std::string> names = {"none", "phone", "date", "department"};
    if (v == "none")
      rule.transform = transform_kind::none;
    else if (v == "phone")
      rule.transform = transform_kind::phone;
    else if (v == "date")
      rule.transform = transform_kind::date;
    else if (v == "department")
      rule.transform = transform_kind::department;
    else {
      std::vector<std::string> all = names;
      all.insert(all.end(), filter_names().begin(), filter_names().end());
      r.fail(*t, m.path_of("transform"),
             "unknown transform \"" + v + "\"" + did_you_mean(v, all) +
                 " (template filters go inside the template: \"{attr | lower}\")");
    }
    if (field == "UF_DEPARTMENT" && rule.transform != transform_kind::department)
      r.fail(*t, m.path_of("transform"), "UF_DEPARTMENT takes transform: department");
  }
  if (m.has("departments")) rule.transform = transform_kind::department;
  // Options that belong to one transform only.
  auto only_for = [&](std::initializer_list<const char*> keys, transform_kind k) {
    for (const char* key : keys)
      if (auto o = m.get(key); o && rule.transform != k)
        r.fail(*o, m.path_of(key), std::string{"only with transform: "} + std::string{to_string(k)});
  };
  only_for({"region"}, transform_kind::phone);
  only_for({"format", "formats", "excel_serial"}, transform_kind::date);
  only_for({"path_separator", "departments", "create_missing"}, transform_kind::department);
  if (auto o = m.get("on_invalid");
      o && rule.transform != transform_kind::phone && rule.transform != transform_kind::date)
    r.fail(*o, m.path_of("on_invalid"), "only with transform: phone or date");
  if (auto o = m.get("region")) {
    rule.region = utf8_upper(r.str(*o, m.path_of("region")));
    if (!is_known_phone_region(rule.region))
      r.fail(*o, m.path_of("region"),
             "unsupported region \"" + rule.region + "\" (supported: RU, KZ, BY, UA, US, CA, DE, GB)" +
                 did_you_mean(rule.region, phone_regions()));
  }
  rule.formats = read_formats(r, m);
  m.read("excel_serial", rule.excel_serial);
  m.read("path_separator", rule.path_separator);
  m.read("create_missing", rule.create_missing);
  if (auto d = m.get("departments")) {
    map_view dm(r, *d, m.path_of("departments"), {"path_separator", "create_missing"});
    dm.read("path_separator", rule.path_separator);
    dm.read("create_missing", rule.create_missing);
  }
  if (rule.transform == transform_kind::department && rule.path_separator.empty())
    r.fail(n, m.path_of("path_separator"), "must not be empty");
  if (auto o = m.get("on_invalid"))
    rule.on_invalid = r.choice<invalid_action>(
        *o, m.path_of("on_invalid"),
        {{"reject", invalid_action::reject}, {"keep", invalid_action::keep}, {"drop", invalid_action::drop}});
  if (auto o = m.get("map"))
    rule.map = std::make_shared<const value_table>(read_table(r, *o, m.path_of("map")));
  m.read("multiple", rule.multiple);
  if (auto o = m.get("max_length"))
    rule.max_length = static_cast<std::size_t>(r.integer(*o, m.path_of("max_length"), 1, 65535));
  if (auto o = m.get("sources")) {
    rule.sources = r.str_list(*o, m.path_of("sources"));
    check_sources(r, *o, m.path_of("sources"), rule.sources, sources);
  }
  return rule;
}

active_rule parse_active_rule(const reader& r, const YAML::Node& n, const std::string& path,
                              const std::vector<source_config>& sources) {
  map_view m(r, n, path, {"from", "disabled_bit", "inactive_when", "values", "format", "formats", "source"});
  if (!n.IsMap()) r.fail(n, path, "expected a map with from and disabled_bit or inactive_when");
  active_rule a;
  a.from = trim(r.str(m.require("from"), m.path_of("from")));
  if (a.from.empty()) r.fail(*m.get("from"), m.path_of("from"), "must name a source attribute");
  if (m.has("disabled_bit") && m.has("inactive_when"))
    r.fail(*m.get("inactive_when"), m.path_of("inactive_when"), "give either disabled_bit or inactive_when");
  if (auto b = m.get("disabled_bit")) {
    a.when = inactive_condition::disabled_bit;
    a.disabled_bit = static_cast<std::uint64_t>(r.integer(*b, m.path_of("disabled_bit"), 1, 0x7FFFFFFF));
  } else {
    a.when = r.choice<inactive_condition>(m.require("inactive_when"), m.path_of("inactive_when"),
                                          {{"nonempty", inactive_condition::nonempty},
                                           {"past_date", inactive_condition::past_date},
                                           {"equals", inactive_condition::equals},
                                           {"not_equals", inactive_condition::not_equals}});
  }
  bool wants_values = a.when == inactive_condition::equals || a.when == inactive_condition::not_equals;
  if (wants_values) {
    a.values = r.str_list(m.require("values"), m.path_of("values"));
    for (auto& v : a.values) v = utf8_lower(trim(v));
  } else if (auto v = m.get("values")) {
    r.fail(*v, m.path_of("values"), "only with inactive_when: equals or not_equals");
  }
  a.formats = read_formats(r, m);
  if (!a.formats.empty() && a.when != inactive_condition::past_date)
    r.fail(*m.get(m.has("format") ? "format" : "formats"), m.path_of("format"),
           "only with inactive_when: past_date");
  if (auto s = m.get("source")) {
    a.source = r.str(*s, m.path_of("source"));
    check_sources(r, *s, m.path_of("source"), {a.source}, sources);
  }
  return a;
}

}  // namespace

mapping_config parse_mapping(const reader& r, const YAML::Node& node,
                             const std::vector<source_config>& sources) {
  map_view m(r, node, "mapping", {"match", "identity_field", "fields", "active", "precedence", "tables"});
  mapping_config mc;
  if (auto n = m.get("match")) {
    std::vector<match_key> keys;
    if (n->IsScalar()) r.fail(*n, m.path_of("match"), "expected a list, e.g. [employee_id, email]");
    if (!n->IsSequence() || n->size() == 0)
      r.fail(*n, m.path_of("match"), "expected a non-empty list, e.g. [employee_id, email]");
    for (std::size_t k = 0; k < n->size(); ++k) {
      std::string p = m.path_of("match") + "[" + std::to_string(k) + "]";
      match_key key = r.choice<match_key>(
          (*n)[k], p, {{"employee_id", match_key::employee_id}, {"email", match_key::email}});
      if (std::find(keys.begin(), keys.end(), key) != keys.end()) r.fail((*n)[k], p, "listed twice");
      keys.push_back(key);
    }
    mc.match = keys;
  }
  if (auto n = m.get("identity_field")) {
    mc.identity_field = r.str(*n, m.path_of("identity_field"));
    if (mc.identity_field != "XML_ID" && !is_custom_field(mc.identity_field))
      r.fail(*n, m.path_of("identity_field"),
             "expected XML_ID or a custom string field UF_USR_<NAME>, got \"" + mc.identity_field + "\"");
  }
  if (auto n = m.get("tables")) {
    if (!n->IsMap()) r.fail(*n, m.path_of("tables"), "expected a map of table name: {value: replacement}");
    for (auto it = n->begin(); it != n->end(); ++it)
      mc.tables[r.raw_str(it->first, m.path_of("tables"))] =
          read_table(r, it->second, m.path_of("tables") + "." + it->first.Scalar());
  }
  YAML::Node fields = m.require("fields");
  if (!fields.IsMap() || fields.size() == 0)
    r.fail(fields, m.path_of("fields"), "expected a map of Bitrix24 field: rule (EMAIL, NAME, ...)");
  for (auto it = fields.begin(); it != fields.end(); ++it) {
    if (!it->first.IsScalar()) r.fail(it->first, m.path_of("fields"), "field names must be plain words");
    std::string field = it->first.Scalar();
    std::string path = m.path_of("fields") + "." + field;
    check_field_name(r, it->first, path, field, mc.identity_field);
    for (const auto& other : mc.fields)
      if (other.field == field) r.fail(it->first, path, "duplicate key");
    mc.fields.push_back(parse_rule(r, it->second, path, field, mc, sources));
  }
  auto mapped = [&](std::string_view f) {
    return std::any_of(mc.fields.begin(), mc.fields.end(), [&](const field_rule& x) { return x.field == f; });
  };
  if (!mapped("EMAIL")) r.fail(fields, m.path_of("fields"), "EMAIL must be mapped (user.add requires it)");
  if (!mapped("NAME") && !mapped("LAST_NAME"))
    r.fail(fields, m.path_of("fields"), "NAME or LAST_NAME must be mapped");
  if (auto n = m.get("active")) {
    std::string path = m.path_of("active");
    if (n->IsSequence()) {
      for (std::size_t k = 0; k < n->size(); ++k)
        mc.active.push_back(parse_active_rule(r, (*n)[k], path + "[" + std::to_string(k) + "]", sources));
    } else {
      mc.active.push_back(parse_active_rule(r, *n, path, sources));
    }
  }
  if (auto n = m.get("precedence")) {
    std::string path = m.path_of("precedence");
    if (n->IsSequence() || n->IsScalar()) {
      mc.precedence = r.str_list(*n, path);
      check_sources(r, *n, path, mc.precedence, sources);
    } else if (n->IsMap()) {
      for (auto it = n->begin(); it != n->end(); ++it) {
        std::string key = r.raw_str(it->first, path);
        std::vector<std::string> order = r.str_list(it->second, path + "." + key);
        check_sources(r, it->second, path + "." + key, order, sources);
        if (key == "default") {
          mc.precedence = order;
        } else {
          if (!mapped(key)) {
            std::vector<std::string> names = {"default"};
            for (const auto& f : mc.fields) names.push_back(f.field);
            r.fail(it->first, path + "." + key, "not a mapped field" + did_you_mean(key, names));
          }
          mc.field_precedence[key] = order;
        }
      }
    } else {
      r.fail(*n, path, "expected a list of source names or a map of field: [sources]");
    }
  }
  return mc;
}

}  // namespace b24sync::config::detail
