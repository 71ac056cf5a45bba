// tests/integration/sync/sync_fixture.hpp: the in-process portal emulator (time-scaled, real sockets) for
// executor tests, a client pointed at it, a coroutine runner, and small builders for hand-made plans.
#pragma once

#include "support/run_co.hpp"
#include "bitrix/client.hpp"
#include "server/server.hpp"
#include "sync/executor.hpp"
#include "sync/plan.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include <chrono>
#include <cstdint>
#include <exception>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace synctest {

namespace net = boost::asio;
namespace json = boost::json;
namespace bx = b24sync::bitrix;
namespace sy = b24sync::sync;

inline constexpr double default_scale = 50;  // portal seconds per real second, emulator and client alike
inline constexpr const char* webhook_secret = "s3cr3tcode";
inline constexpr const char* hr_field = "UF_USR_HR_ID";

/// Admin user 1 (the webhook's owner) in department 1; departments 1 (root) .. 3; `users` more users
/// with IDs 2.. (every 5th dismissed), each with an HR key "E<id>"; the UF_USR_HR_ID field declared.
inline json::object make_seed(int users, json::object limits = {}) {
  json::array deps{json::object{{"ID", 1}, {"NAME", "Corp"}}, json::object{{"ID", 2}, {"NAME", "IT"}, {"PARENT", 1}},
                   json::object{{"ID", 3}, {"NAME", "HR"}, {"PARENT", 1}}};
  json::array us;
  us.push_back({{"ID", 1}, {"EMAIL", "admin@corp.test"}, {"NAME", "Ada"}, {"LAST_NAME", "Admin"}, {"IS_ADMIN", true},
                {"UF_DEPARTMENT", json::array{1}}});
  for (int id = 2; id < users + 2; ++id) {
    us.push_back({{"ID", id},
                  {"EMAIL", "user" + std::to_string(id) + "@corp.test"},
                  {"NAME", "N" + std::to_string(id)},
                  {"LAST_NAME", "L" + std::to_string(id)},
                  {"WORK_POSITION", "Clerk"},
                  {"ACTIVE", id % 5 == 0 ? "N" : "Y"},
                  {"UF_DEPARTMENT", json::array{2 + id % 2}},
                  {hr_field, "E" + std::to_string(id)}});
  }
  json::object seed{{"portal", {{"domain", "corp.test"}}},
                    {"departments", deps},
                    {"users", us},
                    {"webhooks", json::array{{{"user_id", 1}, {"secret", webhook_secret}}}},
                    {"user_fields", json::array{{{"FIELD_NAME", hr_field}, {"USER_TYPE_ID", "string"}, {"XML_ID", "HR_ID"}}}}};
  if (!limits.empty()) seed["limits"] = std::move(limits);
  return seed;
}

/// The emulator on a free loopback port, started; shortcuts to what the portal holds.
struct emulator {
  b24emu::server srv;
  double scale;
  explicit emulator(json::object seed, double time_scale = default_scale)
      : srv(options(std::move(seed), time_scale)), scale(time_scale) {
    srv.start();
  }
  static b24emu::server_options options(json::object seed, double s) {
    b24emu::server_options o;
    o.seed = std::move(seed);
    o.time_scale = s;
    return o;
  }
  /// Every user by ID, as stored.
  std::map<std::int64_t, json::object> users() {
    auto dump = srv.with_portal([](b24emu::portal& p) { return p.dump_users(); });
    std::map<std::int64_t, json::object> out;
    for (auto& u : dump.as_array()) out[u.at("ID").to_number<std::int64_t>()] = u.as_object();
    return out;
  }
  /// Users holding an HR key, by key (a key held twice would be a duplicate: counted in `dupes`).
  std::map<std::string, json::object> users_by_key(int* dupes = nullptr) {
    std::map<std::string, json::object> out;
    for (auto& [id, u] : users()) {
      auto* k = u.if_contains(hr_field);
      if (!k || !k->is_string()) continue;
      if (!out.emplace(std::string(k->get_string()), u).second && dupes) ++*dupes;
    }
    return out;
  }
  /// Every department by ID (IDs may be dumped as numbers or decimal strings).
  std::map<std::int64_t, json::object> departments() {
    auto dump = srv.with_portal([](b24emu::portal& p) { return p.dump_departments(); });
    std::map<std::int64_t, json::object> out;
    for (auto& d : dump.as_array()) out[number(d.at("ID"))] = d.as_object();
    return out;
  }
  static std::int64_t number(const json::value& v) {
    return v.is_string() ? std::stoll(std::string(v.get_string())) : v.to_number<std::int64_t>();
  }
  json::array invitations() {
    return srv.with_portal([](b24emu::portal& p) { return p.invitations(); }).as_array();
  }
  std::int64_t rest_requests() { return srv.stats().at("server").at("rest_requests").to_number<std::int64_t>(); }
  std::int64_t portal_writes() { return srv.stats().at("writes").to_number<std::int64_t>(); }
  std::int64_t errors(const char* code) {
    auto st = srv.stats();
    auto* e = st.at("errors").as_object().if_contains(code);
    return e ? e->to_number<std::int64_t>() : 0;
  }
  std::int64_t faults_injected() {
    std::int64_t n = 0;
    auto st = srv.stats();
    for (auto& [k, v] : st.at("server").at("faults_injected").as_object()) n += v.to_number<std::int64_t>();
    return n;
  }
  void faults(const json::value& spec) { srv.set_faults(b24emu::parse_fault_spec(spec)); }
  void no_faults() { faults(json::object{{"rules", json::array{}}}); }
  /// One REST call straight into the portal (no socket), as another program would make it.
  json::value call(const std::string& method, const json::object& params) {
    b24emu::http_request req;
    req.method = "POST";
    req.target = std::string("/rest/1/") + webhook_secret + "/" + method + ".json";
    req.content_type = "application/json";
    req.body = json::serialize(params);
    const double now = srv.portal_now();
    auto h = srv.with_portal([&](b24emu::portal& p) { return p.handle(req, now); });
    return json::parse(h.response.body);
  }
};

inline bx::client_config client_config_for(const emulator& emu) {
  bx::client_config cfg;
  cfg.base_url = emu.srv.base_url();
  cfg.auth = bx::webhook_auth{1, bx::secret(webhook_secret)};
  cfg.time_scale = emu.scale;
  cfg.retry.max_attempts = 10;
  return cfg;
}

using b24sync::test::run_co;

inline sy::field_change change(std::string field, sy::wire_value value, std::string before = {}) {
  sy::field_change c;
  c.field = std::move(field);
  c.before = std::move(before);
  c.after = std::holds_alternative<std::string>(value) ? std::get<std::string>(value) : std::string("(list)");
  c.value = std::move(value);
  return c;
}

/// A create with NAME, LAST_NAME, EMAIL, WORK_POSITION, UF_DEPARTMENT and the HR key, as the engine makes it.
inline sy::user_op create_op(const std::string& key, std::vector<std::string> departments = {"2"}) {
  sy::user_op u;
  u.kind = sy::op_kind::create;
  u.key = key;
  u.email = key + "@new.test";
  u.name = "Name" + key + " Last" + key;
  u.changes = {change("NAME", "Name" + key), change("LAST_NAME", "Last" + key), change("EMAIL", u.email),
               change("WORK_POSITION", "Pos " + key), change("UF_DEPARTMENT", std::move(departments)),
               change(hr_field, key)};
  return u;
}

inline sy::user_op update_op(sy::op_kind kind, std::int64_t id, std::vector<sy::field_change> changes) {
  sy::user_op u;
  u.kind = kind;
  u.key = "E" + std::to_string(id);
  u.user_id = id;
  u.email = "user" + std::to_string(id) + "@corp.test";
  u.changes = std::move(changes);
  return u;
}

inline std::string text(const json::object& u, const char* field) {
  auto* v = u.if_contains(field);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

inline std::vector<std::int64_t> ints(const json::object& u, const char* field) {
  std::vector<std::int64_t> out;
  if (auto* v = u.if_contains(field); v && v->is_array()) {
    for (auto& x : v->get_array()) out.push_back(x.to_number<std::int64_t>());
  }
  return out;
}

inline bool active(const json::object& u) {
  auto* v = u.if_contains("ACTIVE");
  if (v && v->is_string()) return v->get_string() == "Y";
  return v && v->is_bool() && v->get_bool();
}

/// A plan of these operations (no guards, no fingerprint): what the executor tests hand it.
inline sy::plan plan_of(std::vector<sy::user_op> users, std::vector<sy::department_op> departments = {}) {
  sy::plan p;
  p.users = std::move(users);
  p.departments = std::move(departments);
  return p;
}

/// Executor settings with a fixed clock for journal timestamps.
inline sy::executor_config base_config() {
  sy::executor_config cfg;
  cfg.now_iso = [] { return std::string("2026-12-01T00:00:00Z"); };
  return cfg;
}

}  // namespace synctest
