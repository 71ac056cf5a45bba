// Writing users: user.add (validation, uniqueness, seats, invitation) and user.update (incl. dismissal).
#include "core/dates.hpp"
#include "core/methods.hpp"
#include "core/php.hpp"
#include "core/userstore.hpp"

#include <boost/json/array.hpp>

#include <algorithm>

namespace b24emu::detail {

namespace json = boost::json;

namespace {

bool valid_email(std::string_view e) {
  auto at = e.find('@');
  if (at == std::string_view::npos || at == 0 || e.find('@', at + 1) != std::string_view::npos) return false;
  auto domain = e.substr(at + 1);
  auto dot = domain.rfind('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 2 > domain.size()) return false;
  for (char c : e)
    if (c == ' ' || c == ',' || c == ';' || c == '<' || c == '>' || c == '"') return false;
  return true;
}

[[noreturn]] void access_denied() {
  throw rest_error(400, "ERROR_CORE", "access_denied");
}

void check_departments(const portal_data& d, const std::vector<std::int64_t>& deps) {
  for (auto id : deps)
    if (!d.departments.count(id))
      throw rest_error(400, "ERROR_CORE", "Department " + std::to_string(id) + " not found");
}

bool email_taken(portal_data& d, const std::string& email, std::int64_t except) {
  auto& idx = d.field_index("EMAIL");
  auto range = idx.equal_range(fold(email));
  for (auto it = range.first; it != range.second; ++it)
    if (it->second != except) return true;
  return false;
}

// Stores the writable plain fields of `p` (upper-case keys) into `u`; ACTIVE, UF_DEPARTMENT and EMAIL
// are handled by the callers.
void store_fields(const portal_data& d, user_record& u, const json::object& p) {
  for (auto& kv : p) {
    auto k = std::string_view(kv.key());
    if (k == "ACTIVE" || k == "UF_DEPARTMENT" || k == "EMAIL" || !is_writable(d, k)) continue;
    auto kind = kind_of(d, k);
    if (!kind) continue;
    if (kv.value().is_null())
      u.fields.erase(k);
    else
      u.fields[k] = canonical_value(d, *kind, kv.value(), d.storage);
  }
}

}  // namespace

call_result user_add(call_context& c) {
  auto& d = c.data;
  if (!c.caller_admin) access_denied();
  auto p = upper_keys(c.params);
  std::string email = p.if_contains("EMAIL") ? php_trim(php_strval(p.at("EMAIL"))) : std::string();
  if (email.empty() || !valid_email(email)) throw rest_error(400, "ERROR_ARGUMENT", "wrong_email", "");
  bool extranet = p.if_contains("EXTRANET") && php_strval(p.at("EXTRANET")) == "Y";
  std::vector<std::int64_t> deps;
  if (auto* v = p.if_contains("UF_DEPARTMENT")) deps = department_list(*v);
  std::vector<std::int64_t> groups;
  if (extranet) {
    deps.clear();
    if (auto* v = p.if_contains("SONET_GROUP_ID")) groups = department_list(*v);
    if (groups.empty()) throw rest_error(400, "ERROR_ARGUMENT", "no_sonet_group_for_extranet");
  } else {
    if (deps.empty()) throw rest_error(400, "ERROR_ARGUMENT", "no_extranet_field");
    check_departments(d, deps);
    if (c.limits.seat_limit > 0) {
      if (d.seats_used >= c.limits.seat_limit) throw rest_error(400, "ERROR_ARGUMENT", "user_count_exceeded");
    }
  }
  if (d.login_taken(email))
    throw rest_error(400, "ERROR_CORE", "User with login " + email + " already exists.");
  if (email_taken(d, email, 0)) throw rest_error(400, "ERROR_CORE", "A user with this email already exists");

  user_record u = d.new_user();
  u.id = d.next_user_id++;
  u.login = email;
  u.extranet = extranet;
  u.departments = deps;
  u.active = p.if_contains("ACTIVE") ? active_from_save(p.at("ACTIVE")) : true;
  u.fields["EMAIL"] = email;
  store_fields(d, u, p);
  u.fields["DATE_REGISTER"] = format_iso(c.now, d.settings.tz_offset_s);
  auto id = u.id;
  auto& stored = d.users.emplace(id, std::move(u)).first->second;
  d.index_user(stored);
  ++d.version;
  ++c.stats.writes;
  std::string message = p.if_contains("MESSAGE_TEXT") ? php_strval(p.at("MESSAGE_TEXT")) : std::string();
  d.invitations.push_back(
      json::object{{"user_id", id}, {"email", email}, {"message_text", message}, {"at", c.now}});
  for (auto g : groups)
    if (std::find(d.settings.sonet_groups.begin(), d.settings.sonet_groups.end(), g) ==
        d.settings.sonet_groups.end())
      throw rest_error(400, "ERROR_NO_GROUP",
                       "Group " + std::to_string(g) + " not found");  // user stays (trap 10)
  call_result r;
  r.result = id;
  return r;
}

call_result user_update(call_context& c) {
  auto& d = c.data;
  auto p = upper_keys(c.params);
  auto id = p.if_contains("ID") ? php_intval(p.at("ID")) : 0;
  if (id <= 0) access_denied();
  if (!c.caller_admin && id != c.caller_id) access_denied();
  auto it = d.users.find(id);
  if (it == d.users.end()) throw rest_error(400, "ERROR_CORE", "");
  auto& u = it->second;
  if (!c.caller_admin) {  // non-admins cannot dismiss or move people: stripped silently
    p.erase("ACTIVE");
    p.erase("UF_DEPARTMENT");
  }
  std::optional<std::string> email;
  if (auto* v = p.if_contains("EMAIL")) {
    email = php_trim(php_strval(*v));
    if (!valid_email(*email)) throw rest_error(400, "ERROR_CORE", "wrong_email");
    if (email_taken(d, *email, id))
      throw rest_error(400, "ERROR_CORE", "A user with this email already exists");
  }
  std::optional<std::vector<std::int64_t>> deps;
  if (auto* v = p.if_contains("UF_DEPARTMENT")) {
    deps = department_list(*v);
    check_departments(d, *deps);
  }
  d.unindex_user(u);
  if (email) u.fields["EMAIL"] = *email;  // the login stays the old address (trap 5)
  if (deps) u.departments = *deps;
  if (auto* v = p.if_contains("ACTIVE")) u.active = active_from_save(*v);
  store_fields(d, u, p);
  d.index_user(u);
  ++d.version;
  ++c.stats.writes;
  call_result r;
  r.result = true;
  return r;
}

}  // namespace b24emu::detail
