// bitrix/probe.cpp: the checks behind `b24sync check`, mapped from call results to per-check verdicts.
#include "bitrix/probe.hpp"

#include "bitrix/user_fields.hpp"

#include <algorithm>
#include <chrono>

namespace b24sync::bitrix {

namespace {

std::string describe(const diagnostics& d) {
  std::string s = d.error.empty() ? std::string(to_string(d.kind)) : d.error;
  if (!d.description.empty()) s += ": " + d.description;
  if (!d.detail.empty()) s += " (" + d.detail + ")";
  if (d.http_status != 0) s += " [HTTP " + std::to_string(d.http_status) + "]";
  return s;
}

void pass(probe_check& c) {
  c.ran = true;
  c.ok = true;
}

void fail(probe_check& c, std::string why) {
  c.ran = true;
  c.ok = false;
  c.error = std::move(why);
}

std::string string_field(const boost::json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_string() ? std::string(it->value().get_string()) : std::string();
}

}  // namespace

bool probe_result::ok() const noexcept {
  auto good = [](const probe_check& c) { return c.ran && c.ok; };
  return good(reachable) && (!tls.ran || tls.ok) && good(auth) && good(admin) && is_admin.value_or(false) &&
         good(scope) && missing_scopes.empty() && good(users) && good(departments);
}

net::awaitable<probe_result> async_probe(client& c) {
  probe_result r;
  r.limits = c.config().limits;
  r.operating_limit_s = c.config().operating_limit_s;
  const auto requests_before = c.stats().http_requests;
  const bool https = c.portal_url().rfind("https://", 0) == 0;

  auto me = co_await c.async_call(std::string(method::user_current), {}, call_options{.max_attempts = 2});
  r.portal_url = c.portal_url();
  r.http_requests = c.stats().http_requests - requests_before;
  if (!me) {
    const auto& d = me.error;
    const auto step = me.failed_step;
    if (d.kind == fault_kind::transport && (step == transport_step::resolve || step == transport_step::connect)) {
      fail(r.reachable, describe(d));
      co_return r;
    }
    pass(r.reachable);
    if (d.kind == fault_kind::transport && step == transport_step::handshake) {
      fail(r.tls, describe(d));
      co_return r;
    }
    if (https) pass(r.tls);
    fail(r.auth, describe(d));
    co_return r;
  }
  pass(r.reachable);
  if (https) pass(r.tls);
  pass(r.auth);
  if (me.value->result.is_object()) {
    const auto& u = me.value->result.as_object();
    if (auto it = u.find("ID"); it != u.end()) r.user_id = json_to_id(it->value());
    std::string name = string_field(u, "NAME");
    std::string last = string_field(u, "LAST_NAME");
    r.user_name = name.empty() || last.empty() ? name + last : name + " " + last;
    r.user_email = string_field(u, "EMAIL");
  }
  if (me.value->time) {
    r.operating_reported = me.value->time->operating.has_value();
    const double local = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    r.clock_skew_s = me.value->time->finish - local;
  }

  std::vector<command> cmds;
  cmds.push_back(command{"admin", "user.admin", {}});
  cmds.push_back(command{"scope", "scope", {}});
  cmds.push_back(command{"users", std::string(method::user_get), {{"ADMIN_MODE", "Y"}, {"start", 0}}});
  cmds.push_back(command{"departments", std::string(method::department_get), {{"start", 0}}});
  auto out = co_await c.async_batch(std::move(cmds));
  r.http_requests = c.stats().http_requests - requests_before;

  if (out[0].ok) {
    pass(r.admin);
    const auto& v = out[0].result;
    r.is_admin = (v.is_bool() && v.get_bool()) || (v.is_string() && (v.get_string() == "Y" || v.get_string() == "true"));
    if (!*r.is_admin) r.admin.error = "the webhook user is not a portal administrator";
  } else {
    fail(r.admin, describe(out[0].error));
  }

  if (out[1].ok && out[1].result.is_array()) {
    pass(r.scope);
    for (const auto& s : out[1].result.as_array()) {
      if (s.is_string()) r.scopes.emplace_back(s.get_string());
    }
    for (std::string need : {"user", "department"}) {
      if (std::find(r.scopes.begin(), r.scopes.end(), need) == r.scopes.end()) r.missing_scopes.push_back(need);
    }
    if (!r.missing_scopes.empty()) r.scope.error = "missing scope(s) the sync needs";
  } else {
    fail(r.scope, out[1].ok ? "`scope` did not answer with a list" : describe(out[1].error));
  }

  if (out[2].ok) {
    pass(r.users);
    // An empty portal answers with no `total`: that is zero users.
    r.user_count = out[2].total.value_or(out[2].result.is_array() ? static_cast<std::int64_t>(out[2].result.as_array().size()) : 0);
  } else {
    fail(r.users, describe(out[2].error));
  }
  if (out[3].ok) {
    pass(r.departments);
    r.department_count =
        out[3].total.value_or(out[3].result.is_array() ? static_cast<std::int64_t>(out[3].result.as_array().size()) : 0);
  } else {
    fail(r.departments, describe(out[3].error));
  }
  co_return r;
}

}  // namespace b24sync::bitrix
