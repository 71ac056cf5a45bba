// Loopback tests of fault injection: every fault kind as the client sees it, whether the write happened,
// and seeded reproducibility.
#include "emu_fixture.hpp"

#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <doctest/doctest.h>

#include <algorithm>

using namespace emu_test;

namespace {

void set_faults(b24sync::test::test_http_client& c, const std::string& spec) {
  REQUIRE(c.post_json("/emu/faults", spec).status == 200);
}

}  // namespace

TEST_CASE("fault 503: QUERY_LIMIT_EXCEEDED for the matching method only, and nothing is applied") {
  running_server s;
  auto c = s.client();
  set_faults(c, R"({"rules": [{"fault": "503", "p": 1, "methods": ["user.add"], "count": 1}]})");
  CHECK(c.post_json(std::string(hook) + "user.current", "{}").status == 200);
  const auto r = c.post_json(std::string(hook) + "user.add", add_user_body("x503@corp.test"));
  CHECK(r.status == 503);
  CHECK(json_of(r).at("error") == "QUERY_LIMIT_EXCEEDED");
  CHECK_FALSE(portal_has_email(c, "x503@corp.test"));
  CHECK(c.post_json(std::string(hook) + "user.add", add_user_body("x503@corp.test")).status == 200);
  CHECK(portal_has_email(c, "x503@corp.test"));
  CHECK(faults_injected(c, "503") == 1);
  CHECK(c.connections_opened() == 1);
}

TEST_CASE("fault 500: INTERNAL_SERVER_ERROR; with apply the write happens anyway") {
  running_server s;
  auto c = s.client();
  SUBCASE("not applied") {
    set_faults(c, R"({"rules": [{"fault": "500", "p": 1, "count": 1}]})");
    const auto r = c.post_json(std::string(hook) + "user.add", add_user_body("x500@corp.test"));
    CHECK(r.status == 500);
    CHECK(json_of(r).at("error") == "INTERNAL_SERVER_ERROR");
    CHECK_FALSE(portal_has_email(c, "x500@corp.test"));
  }
  SUBCASE("applied") {
    set_faults(c, R"({"rules": [{"fault": "500", "p": 1, "count": 1, "apply": true}]})");
    CHECK(c.post_json(std::string(hook) + "user.add", add_user_body("x500@corp.test")).status == 500);
    CHECK(portal_has_email(c, "x500@corp.test"));
  }
  CHECK(faults_injected(c, "500") == 1);
}

TEST_CASE("fault 502_html: a gateway page that is not JSON") {
  running_server s;
  auto c = s.client();
  set_faults(c, R"({"rules": [{"fault": "502_html", "p": 1, "count": 1}]})");
  const auto r = c.post_json(std::string(hook) + "user.get", "{}");
  CHECK(r.status == 502);
  CHECK(r.header("Content-Type").find("text/html") != std::string::npos);
  CHECK(r.body.find("502 Bad Gateway") != std::string::npos);
  CHECK_FALSE(is_json(r.body));
  CHECK(c.post_json(std::string(hook) + "user.get", "{}").status == 200);
}

TEST_CASE("fault truncated_json: the real answer cut in half, after the write was applied") {
  running_server s;
  auto c = s.client();
  const auto full = c.post_json(std::string(hook) + "user.get", "{}");
  set_faults(c, R"({"rules": [{"fault": "truncated_json", "p": 1, "count": 1}]})");
  const auto r = c.post_json(std::string(hook) + "user.add", add_user_body("trunc@corp.test"));
  CHECK(r.status == 200);
  CHECK_FALSE(r.body.empty());
  CHECK(r.body.rfind("{\"result\":", 0) == 0);
  CHECK_FALSE(is_json(r.body));
  CHECK(portal_has_email(c, "trunc@corp.test"));
  CHECK(full.body.size() > 0);
  CHECK(c.connections_opened() == 1);  // a complete HTTP message: the connection stays usable
}

TEST_CASE("fault latency: a client with a shorter deadline times out; the next call is prompt") {
  running_server s;
  auto control = s.client();
  set_faults(control, R"({"rules": [{"fault": "latency", "p": 1, "count": 1, "latency_ms": 60000}]})");
  auto c = s.client(std::chrono::milliseconds(300));
  try {
    c.post_json(std::string(hook) + "user.current", "{}");
    FAIL("expected a timeout");
  } catch (const boost::system::system_error& e) {
    CHECK(e.code() == boost::beast::error::timeout);
  }
  CHECK(c.post_json(std::string(hook) + "user.current", "{}").status == 200);
  CHECK(faults_injected(control, "latency") == 1);
}

TEST_CASE("fault close_before: the connection drops before the call runs; nothing is applied") {
  running_server s;
  auto c = s.client();
  set_faults(c, R"({"rules": [{"fault": "close_before", "p": 1, "count": 1, "methods": ["user.add"]}]})");
  try {
    c.post_json(std::string(hook) + "user.add", add_user_body("early@corp.test"));
    FAIL("expected the connection to drop");
  } catch (const boost::system::system_error& e) {
    CHECK(e.code() == boost::beast::http::error::end_of_stream);
  }
  CHECK_FALSE(c.connected());
  CHECK_FALSE(portal_has_email(c, "early@corp.test"));
  CHECK(c.connections_opened() == 2);
  CHECK(faults_injected(c, "close_before") == 1);
}

TEST_CASE("fault close_after_apply: no answer, but the user was created (the ambiguous case)") {
  running_server s;
  auto c = s.client();
  set_faults(c, R"({"rules": [{"fault": "close_after_apply", "p": 1, "count": 1, "methods": ["batch"]}]})");
  const std::string batch = R"({"halt": 0, "cmd": {"a": "user.add?EMAIL=late%40corp.test&NAME=Late&UF_DEPARTMENT[]=2"}})";
  try {
    c.post_json(std::string(hook) + "batch", batch);
    FAIL("expected the connection to drop");
  } catch (const boost::system::system_error& e) {
    CHECK(e.code() == boost::beast::http::error::end_of_stream);
  }
  CHECK(portal_has_email(c, "late@corp.test"));
  CHECK(json_of(c.get("/emu/invitations")).as_array().size() == 1);
  CHECK(faults_injected(c, "close_after_apply") == 1);
  // The retry of the same add now fails as a duplicate: what a careless client would run into.
  const auto again = json_of(c.post_json(std::string(hook) + "batch", batch));
  CHECK(again.at("result").at("result_error").as_object().contains("a"));
}

TEST_CASE("faults are reproducible: the same seed gives the same statuses in the same order") {
  running_server s;
  auto c = s.client();
  const std::string spec = R"({"seed": 99, "rules": [{"fault": "503", "p": 0.3}, {"fault": "502_html", "p": 0.2}]})";
  auto run = [&] {
    set_faults(c, spec);
    std::vector<int> statuses;
    for (int i = 0; i < 40; ++i) statuses.push_back(c.post_json(std::string(hook) + "user.current", "{}").status);
    return statuses;
  };
  const auto first = run();
  const auto second = run();
  CHECK(first == second);
  CHECK(std::count(first.begin(), first.end(), 200) > 5);
  CHECK(std::count(first.begin(), first.end(), 200) < 35);
  set_faults(c, R"({"seed": 100, "rules": [{"fault": "503", "p": 0.3}, {"fault": "502_html", "p": 0.2}]})");
  std::vector<int> other;
  for (int i = 0; i < 40; ++i) other.push_back(c.post_json(std::string(hook) + "user.current", "{}").status);
  CHECK(other != first);
}

TEST_CASE("faults never touch /emu or non-REST paths") {
  running_server s;
  auto c = s.client();
  set_faults(c, R"({"rules": [{"fault": "close_before", "p": 1}]})");
  for (int i = 0; i < 5; ++i) CHECK(c.get("/emu/stats").status == 200);
  CHECK(c.connections_opened() == 1);
}
