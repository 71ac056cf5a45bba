// Loading a seed document into the portal's data (format: tests/emulator/core/README.md) and dumping it back.
#include "core/seed.hpp"

#include "core/auth.hpp"
#include "core/dates.hpp"
#include "core/php.hpp"
#include "core/userstore.hpp"

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include <stdexcept>

namespace b24emu::detail {

namespace json = boost::json;

namespace {

[[noreturn]] void bad(const std::string& what) {
  throw std::invalid_argument("seed: " + what);
}

std::int64_t positive_id(const json::value* v, const std::string& where) {
  if (!v) bad(where + ": ID missing");
  auto id = php_intval(*v);
  if (id <= 0) bad(where + ": ID must be a positive integer, got " + json::serialize(*v));
  return id;
}

const json::array* array_at(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return nullptr;
  if (!it->value().is_array()) bad(std::string(key) + " must be an array");
  return &it->value().get_array();
}

std::vector<std::string> strings(const json::value* v, const std::string& where) {
  std::vector<std::string> out;
  if (!v) return out;
  if (!v->is_array()) bad(where + " must be an array of strings");
  for (auto& x : v->get_array()) {
    if (!x.is_string()) bad(where + " must be an array of strings");
    out.emplace_back(x.get_string());
  }
  return out;
}

double number(const json::value& v, const std::string& where) {
  if (!v.is_number()) bad(where + " must be a number");
  return v.to_number<double>();
}

void load_settings(portal_data& d, const json::object& p) {
  if (auto* v = p.if_contains("domain")) d.settings.domain = php_strval(*v);
  if (auto* v = p.if_contains("member_id")) d.settings.member_id = php_strval(*v);
  if (auto* v = p.if_contains("extranet")) d.settings.extranet = php_truthy(*v);
  if (auto* v = p.if_contains("timezone_offset")) {
    if (v->is_number()) {
      d.settings.tz_offset_s = static_cast<int>(v->to_number<double>() * 60);  // minutes
    } else if (v->is_string()) {
      auto off = parse_offset(std::string_view(v->get_string()));
      if (!off) bad("portal.timezone_offset must look like +03:00 or be minutes");
      d.settings.tz_offset_s = *off;
    } else {
      bad("portal.timezone_offset must look like +03:00 or be minutes");
    }
  }
  if (auto* v = p.if_contains("sonet_groups"))
    for (auto& x : php_list(*v)) d.settings.sonet_groups.push_back(php_intval(x));
  if (auto* v = p.if_contains("chats"))
    for (auto& x : php_list(*v)) d.settings.chats.push_back(php_intval(x));
}

void load_limits(limits_config& l, const json::object& o) {
  for (auto& kv : o) {
    auto k = std::string_view(kv.key());
    auto& v = kv.value();
    std::string where = "limits." + std::string(k);
    if (k == "rate_enabled")
      l.rate_enabled = php_truthy(v);
    else if (k == "rate_per_s")
      l.rate_per_s = number(v, where);
    else if (k == "burst")
      l.burst = number(v, where);
    else if (k == "operating_enabled")
      l.operating_enabled = php_truthy(v);
    else if (k == "operating_limit_s")
      l.operating_limit_s = number(v, where);
    else if (k == "charge_subcalls")
      l.charge_subcalls = php_truthy(v);
    else if (k == "free_below_s")
      l.free_below_s = number(v, where);
    else if (k == "default_cost_s")
      l.default_cost_s = number(v, where);
    else if (k == "batch_max")
      l.batch_max = static_cast<int>(number(v, where));
    else if (k == "batch_overflow_400")
      l.batch_overflow_400 = php_truthy(v);
    else if (k == "seat_limit")
      l.seat_limit = static_cast<int>(number(v, where));
    else if (k == "auth_error_status")
      l.auth_error_status = static_cast<int>(number(v, where));
    else if (k == "require_https")
      l.require_https = php_truthy(v);
    else if (k == "method_cost_s") {
      if (!v.is_object()) bad(where + " must be an object");
      for (auto& m : v.get_object()) l.method_cost_s[ascii_lower(m.key())] = number(m.value(), where);
    } else {
      bad("unknown key " + where);
    }
  }
}

void load_user_field(portal_data& d, const json::value& v) {
  if (!v.is_object()) bad("user_fields entries must be objects");
  auto& o = v.get_object();
  user_field_def f;
  auto* name = o.if_contains("FIELD_NAME");
  if (!name || !name->is_string()) bad("user_fields: FIELD_NAME missing");
  f.field_name = ascii_upper(std::string_view(name->get_string()));
  if (!f.field_name.starts_with("UF_USR_")) bad("user_fields: " + f.field_name + " must start with UF_USR_");
  if (d.find_user_field(f.field_name)) bad("user_fields: duplicate " + f.field_name);
  if (auto* t = o.if_contains("USER_TYPE_ID")) f.type = php_strval(*t);
  if (auto* x = o.if_contains("XML_ID")) f.xml_id = php_strval(*x);
  if (auto* x = o.if_contains("SORT")) f.sort = php_intval(*x);
  if (auto* x = o.if_contains("MULTIPLE")) f.multiple = php_strval(*x) == "Y";
  if (auto* x = o.if_contains("MANDATORY")) f.mandatory = php_strval(*x) == "Y";
  if (auto* x = o.if_contains("SHOW_FILTER")) f.show_filter = php_strval(*x) == "Y";
  if (auto* x = o.if_contains("EDIT_FORM_LABEL")) f.label = *x;
  f.id = o.if_contains("ID") ? php_intval(o.at("ID")) : d.next_user_field_id;
  d.next_user_field_id = std::max(d.next_user_field_id, f.id + 1);
  d.user_fields.push_back(std::move(f));
}

void load_user(portal_data& d, const json::value& v, std::size_t index) {
  std::string where = "users[" + std::to_string(index) + "]";
  if (!v.is_object()) bad(where + " must be an object");
  auto& o = v.get_object();
  user_record u = d.new_user();
  u.id = positive_id(o.if_contains("ID"), where);
  u.fields.reserve(o.size());
  for (auto& kv : o) {
    auto k = std::string_view(kv.key());
    auto& x = kv.value();
    if (k == "ID") continue;
    if (k == "LOGIN")
      u.login = php_strval(x);
    else if (k == "ACTIVE")
      u.active = yn_truthy(x);
    else if (k == "IS_ADMIN")
      u.is_admin = php_truthy(x);
    else if (k == "IS_REAL_USER")
      u.real = yn_truthy(x);
    else if (k == "IS_ONLINE")
      u.online = yn_truthy(x);
    else if (k == "USER_TYPE")
      u.extranet = php_strval(x) == "extranet";
    else if (k == "UF_DEPARTMENT")
      u.departments = department_list(x);
    else if (auto kind = kind_of(d, k))
      u.fields.emplace(k, canonical_value(d, *kind, x, d.storage));
    else if (k.starts_with("UF_USR_"))
      bad(where + ": " + std::string(k) + " is not declared in user_fields");
    else
      u.fields.emplace(k, x);  // unknown to the catalogue: stored, returned, not filterable
  }
  if (u.login.empty())
    u.login = o.if_contains("EMAIL") ? php_strval(o.at("EMAIL")) : "user" + std::to_string(u.id);
  for (auto dep : u.departments)
    if (!d.departments.count(dep)) bad(where + ": unknown department " + std::to_string(dep));
  auto id = u.id;
  auto [it, inserted] = d.users.emplace(id, std::move(u));
  if (!inserted) bad(where + ": duplicate ID " + std::to_string(id));
  d.index_user(it->second);
  d.next_user_id = std::max(d.next_user_id, id + 1);
}

void load_department(portal_data& d, const json::value& v, std::size_t index) {
  std::string where = "departments[" + std::to_string(index) + "]";
  if (!v.is_object()) bad(where + " must be an object");
  auto& o = v.get_object();
  department dep;
  dep.id = positive_id(o.if_contains("ID"), where);
  if (auto* n = o.if_contains("NAME")) dep.name = php_strval(*n);
  if (auto* p = o.if_contains("PARENT"); p && php_intval(*p) > 0) dep.parent = php_intval(*p);
  if (auto* s = o.if_contains("SORT")) dep.sort = php_intval(*s);
  if (auto* h = o.if_contains("UF_HEAD"); h && php_intval(*h) > 0) dep.head = php_intval(*h);
  if (!d.departments.emplace(dep.id, dep).second) bad(where + ": duplicate ID " + std::to_string(dep.id));
  d.next_department_id = std::max(d.next_department_id, dep.id + 1);
}

}  // namespace

void load_seed_into(portal_data& d, limits_config& l, const json::value& seed) {
  if (!seed.is_object()) bad("the document must be an object");
  auto& s = seed.get_object();
  for (auto& kv : s) {
    static const char* known[] = {"portal",      "limits",      "webhooks", "oauth_apps",
                                  "departments", "user_fields", "users"};
    bool ok = false;
    for (auto* k : known) ok = ok || kv.key() == k;
    if (!ok) bad("unknown top-level key " + std::string(kv.key()));
  }
  portal_data fresh;
  if (auto* p = s.if_contains("portal")) {
    if (!p->is_object()) bad("portal must be an object");
    load_settings(fresh, p->get_object());
  }
  if (auto* p = s.if_contains("limits")) {
    if (!p->is_object()) bad("limits must be an object");
    load_limits(l, p->get_object());
  }
  if (auto* a = array_at(s, "departments")) {
    for (std::size_t i = 0; i < a->size(); ++i) load_department(fresh, (*a)[i], i);
    int roots = 0;
    for (auto& [id, dep] : fresh.departments) {
      if (!dep.parent)
        ++roots;
      else if (!fresh.departments.count(*dep.parent))
        bad("department " + std::to_string(id) + ": unknown PARENT " + std::to_string(*dep.parent));
    }
    if (roots > 1) bad("departments: only one top-level department (without PARENT) is allowed");
  }
  if (auto* a = array_at(s, "user_fields"))
    for (auto& f : *a) load_user_field(fresh, f);
  if (auto* a = array_at(s, "users"))
    for (std::size_t i = 0; i < a->size(); ++i) load_user(fresh, (*a)[i], i);
  if (auto* a = array_at(s, "webhooks")) {
    for (auto& v : *a) {
      if (!v.is_object()) bad("webhooks entries must be objects");
      auto& o = v.get_object();
      webhook w;
      w.user_id = positive_id(o.if_contains("user_id"), "webhooks");
      auto* secret = o.if_contains("secret");
      if (!secret || !secret->is_string() || secret->get_string().empty()) bad("webhooks: secret missing");
      w.secret = std::string(secret->get_string());
      w.scopes = strings(o.if_contains("scopes"), "webhooks.scopes");
      if (auto* e = o.if_contains("expires_at")) w.expires_at = number(*e, "webhooks.expires_at");
      if (!fresh.users.count(w.user_id)) bad("webhooks: unknown user " + std::to_string(w.user_id));
      fresh.webhooks.push_back(std::move(w));
    }
  }
  if (auto* a = array_at(s, "oauth_apps")) {
    for (auto& v : *a) {
      if (!v.is_object()) bad("oauth_apps entries must be objects");
      auto& o = v.get_object();
      oauth_app app;
      app.client_id = o.if_contains("client_id") ? php_strval(o.at("client_id")) : "";
      app.client_secret = o.if_contains("client_secret") ? php_strval(o.at("client_secret")) : "";
      if (app.client_id.empty()) bad("oauth_apps: client_id missing");
      app.user_id = positive_id(o.if_contains("user_id"), "oauth_apps");
      app.scopes = strings(o.if_contains("scopes"), "oauth_apps.scopes");
      double access_exp = o.if_contains("access_expires_at")
                              ? number(o.at("access_expires_at"), "access_expires_at")
                              : 4102444800.0;  // 2100-01-01
      if (auto* t = o.if_contains("access_token"))
        fresh.access_tokens[php_strval(*t)] = {app.client_id, access_exp};
      if (auto* t = o.if_contains("refresh_token"))
        fresh.refresh_tokens[php_strval(*t)] = {app.client_id, access_exp + 180.0 * 86400};
      fresh.apps.push_back(std::move(app));
    }
  }
  fresh.version = d.version + 1;
  d = std::move(fresh);
}

json::value dump_users(const portal_data& d) {
  json::array a;
  a.reserve(d.users.size());
  for (auto& [id, u] : d.users) a.push_back(user_dump(u));
  return a;
}

json::object department_output(const department& dep) {
  json::object o{{"ID", std::to_string(dep.id)}, {"NAME", dep.name}, {"SORT", dep.sort}};
  if (dep.parent) o["PARENT"] = std::to_string(*dep.parent);
  if (dep.head) o["UF_HEAD"] = std::to_string(*dep.head);
  return o;
}

json::value dump_departments(const portal_data& d) {
  json::array a;
  for (auto& [id, dep] : d.departments) a.push_back(department_output(dep));
  return a;
}

}  // namespace b24emu::detail
