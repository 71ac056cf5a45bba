// tests/integration/bitrix/emu_fixture.hpp: the in-process portal emulator, started on a free port,
// time-scaled, with shortcuts to its users, request counter and fault rules.
#pragma once

#include "server/server.hpp"

#include <boost/json.hpp>

#include <cstdint>
#include <map>
#include <string>

namespace b24test {

inline constexpr double scale = 50;  // default: portal seconds per real second, for both sides

struct emulator {
  b24emu::server srv;
  explicit emulator(boost::json::object seed, std::string cert = {}, std::string key = {}, double time_scale = scale)
      : srv(options(seed, cert, key, time_scale)) {
    srv.start();
  }
  static b24emu::server_options options(boost::json::object& seed, std::string& cert, std::string& key, double s) {
    b24emu::server_options o;
    o.seed = std::move(seed);
    o.time_scale = s;
    o.tls_cert_file = cert;
    o.tls_key_file = key;
    return o;
  }
  std::map<std::int64_t, boost::json::object> users() {
    auto dump = srv.with_portal([](b24emu::portal& p) { return p.dump_users(); });
    std::map<std::int64_t, boost::json::object> out;
    for (auto& u : dump.as_array()) out[u.at("ID").to_number<std::int64_t>()] = u.as_object();
    return out;
  }
  std::int64_t rest_requests() { return srv.stats().at("server").at("rest_requests").to_number<std::int64_t>(); }
  void faults(const boost::json::value& spec) { srv.set_faults(b24emu::parse_fault_spec(spec)); }
  /// Runs one REST call inside the portal directly (no socket), as another client would.
  boost::json::value call(const std::string& method, const boost::json::object& params,
                          const std::string& secret = "s3cr3tcode") {
    b24emu::http_request req;
    req.method = "POST";
    req.target = "/rest/1/" + secret + "/" + method + ".json";
    req.content_type = "application/json";
    req.body = boost::json::serialize(params);
    const double now = srv.portal_now();
    auto h = srv.with_portal([&](b24emu::portal& p) { return p.handle(req, now); });
    return boost::json::parse(h.response.body);
  }
};

}  // namespace b24test
