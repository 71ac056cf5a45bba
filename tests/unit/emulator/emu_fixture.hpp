// Shared test fixture: a portal loaded from tests/data/emulator/basic.json and helpers to call it.
#pragma once

#include "core/portal.hpp"

#include <doctest/doctest.h>
#include <boost/json.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace emu_test {

namespace json = boost::json;

inline constexpr double t0 = 1'700'000'000.0;  // the injected portal clock starts here

inline json::value read_json(const std::string& relative) {
  std::ifstream in(std::string(B24SYNC_TEST_DATA_DIR) + "/" + relative);
  REQUIRE_MESSAGE(in.good(), "cannot open " << relative);
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str());
}

struct reply {
  int status = 0;
  json::value body;
  double cost_s = 0;
  const json::object& obj() const { return body.as_object(); }
  const json::value& result() const { return body.as_object().at("result"); }
  std::string error() const {
    auto* e = body.as_object().if_contains("error");
    return e ? std::string(e->as_string()) : std::string();
  }
};

// IDs of a user.get result as ints.
inline std::vector<int> ids_of(const json::value& result) {
  std::vector<int> out;
  for (auto& u : result.as_array()) out.push_back(std::stoi(std::string(u.as_object().at("ID").as_string())));
  return out;
}

struct portal_fixture {
  b24emu::portal portal;
  double now = t0;

  explicit portal_fixture(const json::value& seed) {
    portal.load_seed(seed);
    portal.limits().rate_enabled = false;  // most tests are not about the bucket
  }
  portal_fixture() : portal_fixture(read_json("emulator/basic.json")) {}

  reply send(const b24emu::http_request& req) {
    auto h = portal.handle(req, now);
    reply r;
    r.status = h.response.status;
    r.cost_s = h.cost_s;
    r.body = json::parse(h.response.body);
    return r;
  }

  // POST with a JSON body through a webhook of the seed.
  reply call(const std::string& method, const json::object& params = {},
             const std::string& hook = "1/s3cret") {
    b24emu::http_request req;
    req.method = "POST";
    req.target = "/rest/" + hook + "/" + method + ".json";
    req.content_type = "application/json";
    req.body = json::serialize(params);
    req.tls = true;
    return send(req);
  }

  // GET with a PHP-style query string.
  reply get(const std::string& method, const std::string& query, const std::string& hook = "1/s3cret") {
    b24emu::http_request req;
    req.method = "GET";
    req.target = "/rest/" + hook + "/" + method + (query.empty() ? "" : "?" + query);
    req.tls = true;
    return send(req);
  }
};

}  // namespace emu_test
