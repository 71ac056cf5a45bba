// Shared helpers for the emulator loopback tests: a small seed, a started server, JSON shortcuts.
#pragma once

#include "server/server.hpp"
#include "support/test_http_client.hpp"

#include <boost/json.hpp>

#include <memory>
#include <string>

namespace emu_test {

inline constexpr const char* webhook_secret = "hooksecret123";
inline constexpr const char* hook = "/rest/1/hooksecret123/";

inline boost::json::value small_seed() {
  return boost::json::parse(R"({
    "departments": [{"ID": 1, "NAME": "Corp"}, {"ID": 2, "NAME": "Sales", "PARENT": 1}],
    "users": [
      {"ID": 1, "EMAIL": "admin@corp.test", "NAME": "Ada", "LAST_NAME": "Admin", "IS_ADMIN": true, "UF_DEPARTMENT": [1]},
      {"ID": 2, "EMAIL": "bob@corp.test", "NAME": "Bob", "LAST_NAME": "Sales", "UF_DEPARTMENT": [2]}
    ],
    "webhooks": [{"user_id": 1, "secret": "hooksecret123"}]
  })");
}

// Limits off unless a test turns them on, so only what a test sets up can produce 503/429.
inline b24emu::server_options default_options() {
  b24emu::server_options o;
  o.seed = small_seed();
  o.start_unix = 1'767'225'600;  // 2026-01-01T00:00:00Z
  o.limits_patch = boost::json::parse(R"({"rate_enabled": false, "operating_enabled": false})");
  return o;
}

struct running_server {
  std::unique_ptr<b24emu::server> srv;
  explicit running_server(b24emu::server_options o = default_options())
      : srv(std::make_unique<b24emu::server>(std::move(o))) {
    srv->start();
  }
  b24emu::server* operator->() const { return srv.get(); }
  b24sync::test::test_http_client client(std::chrono::milliseconds timeout = std::chrono::seconds(10)) const {
    auto opt = b24sync::test::options_from_url(srv->base_url());
    opt.timeout = timeout;
    return b24sync::test::test_http_client(opt);
  }
};

inline boost::json::value json_of(const b24sync::test::http_reply& r) { return boost::json::parse(r.body); }

inline bool is_json(const std::string& s) {
  boost::system::error_code ec;
  (void)boost::json::parse(s, ec);
  return !ec;
}

inline std::string add_user_body(const std::string& email) {
  return R"({"EMAIL": ")" + email + R"(", "NAME": "New", "LAST_NAME": "Person", "UF_DEPARTMENT": [2]})";
}

// Whether /emu/users lists a user with this e-mail.
inline bool portal_has_email(b24sync::test::test_http_client& c, const std::string& email) {
  const auto users = json_of(c.get("/emu/users"));
  for (const auto& u : users.as_array()) {
    const auto* e = u.as_object().if_contains("EMAIL");
    if (e != nullptr && e->is_string() && e->get_string() == email) return true;
  }
  return false;
}

inline std::uint64_t server_stat(b24sync::test::test_http_client& c, const char* key) {
  return json_of(c.get("/emu/stats")).at("server").at(key).to_number<std::uint64_t>();
}

inline std::uint64_t faults_injected(b24sync::test::test_http_client& c, const char* kind) {
  return json_of(c.get("/emu/stats")).at("server").at("faults_injected").at(kind).to_number<std::uint64_t>();
}

}  // namespace emu_test
