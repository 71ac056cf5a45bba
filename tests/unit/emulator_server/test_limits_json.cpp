// Unit tests: limits_config <-> JSON, partial updates, and rejection of bad updates (all or nothing).
#include "server/limits_json.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <stdexcept>

using namespace b24emu;

TEST_CASE("limits JSON: a patch changes only the keys it names") {
  limits_config l;
  apply_limits_patch(l, boost::json::parse(R"({"rate_per_s": 5, "burst": 250, "require_https": true})"));
  CHECK(l.rate_per_s == doctest::Approx(5.0));
  CHECK(l.burst == doctest::Approx(250.0));
  CHECK(l.require_https);
  CHECK(l.operating_limit_s == doctest::Approx(limits_config{}.operating_limit_s));
  CHECK(l.rate_enabled);
}

TEST_CASE("limits JSON: method costs merge per method, lower-cased; null removes") {
  limits_config l;
  l.method_cost_s["user.add"] = 0.5;
  l.method_cost_s["user.update"] = 0.2;
  apply_limits_patch(l, boost::json::parse(R"({"method_cost_s": {"USER.ADD": 1.1, "user.update": null, "batch": 0}})"));
  CHECK(l.method_cost_s.at("user.add") == doctest::Approx(1.1));
  CHECK(l.method_cost_s.count("user.update") == 0);
  CHECK(l.method_cost_s.at("batch") == doctest::Approx(0.0));
}

TEST_CASE("limits JSON: to_json then patch reproduces the config") {
  limits_config a;
  a.rate_enabled = false;
  a.batch_max = 10;
  a.method_cost_s["user.get"] = 0.3;
  a.auth_error_status = 403;
  limits_config b;
  apply_limits_patch(b, limits_to_json(a));
  CHECK(boost::json::serialize(limits_to_json(b)) == boost::json::serialize(limits_to_json(a)));
}

TEST_CASE("limits JSON: bad updates throw and change nothing") {
  limits_config l;
  auto rejects = [&](const char* json) {
    CHECK_THROWS_AS(apply_limits_patch(l, boost::json::parse(json)), std::invalid_argument);
    CHECK(l.burst == doctest::Approx(limits_config{}.burst));
  };
  SUBCASE("unknown key") { rejects(R"({"burst": 10, "bursts": 1})"); }
  SUBCASE("wrong type") { rejects(R"({"burst": 10, "rate_enabled": 1})"); }
  SUBCASE("negative number") { rejects(R"({"burst": -1})"); }
  SUBCASE("not an object") { rejects(R"([1])"); }
  SUBCASE("bad status") { rejects(R"({"burst": 10, "auth_error_status": 42})"); }
  SUBCASE("bad method cost") { rejects(R"({"burst": 10, "method_cost_s": {"user.add": "x"}})"); }
}
