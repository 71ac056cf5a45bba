// Unit tests: fault spec parsing (one subcase per malformed input) and the seeded fault decisions.
#include "server/faults.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <stdexcept>

using namespace b24emu;

namespace {

fault_spec spec_of(const char* json) { return parse_fault_spec(boost::json::parse(json)); }

}  // namespace

TEST_CASE("fault spec: a full rule parses with every field") {
  const auto s = spec_of(R"({"seed": 42, "rules": [
      {"fault": "503", "p": 0.25, "methods": ["Batch", "user.add"], "count": 3, "apply": true},
      {"fault": "latency", "p": 1, "latency_ms": 200}]})");
  CHECK(s.seed == 42);
  REQUIRE(s.rules.size() == 2);
  CHECK(s.rules[0].kind == fault_kind::http_503);
  CHECK(s.rules[0].p == doctest::Approx(0.25));
  CHECK(s.rules[0].methods == std::vector<std::string>{"batch", "user.add"});
  CHECK(s.rules[0].count == 3u);
  CHECK(s.rules[0].apply);
  CHECK(s.rules[1].kind == fault_kind::latency);
  CHECK(s.rules[1].latency == std::chrono::milliseconds(200));
  CHECK_FALSE(s.rules[1].count.has_value());
}

TEST_CASE("fault spec: every kind name round-trips") {
  for (const char* name : {"503", "500", "502_html", "truncated_json", "latency", "close_before", "close_after_apply"}) {
    const auto k = fault_kind_from_string(name);
    REQUIRE(k.has_value());
    CHECK(to_string(*k) == name);
  }
  CHECK_FALSE(fault_kind_from_string("504").has_value());
}

TEST_CASE("fault spec: to_json parses back to the same spec") {
  const auto s = spec_of(R"({"seed": 7, "rules": [{"fault": "latency", "p": 0.5, "latency_ms": 20, "methods": ["batch"]},
                                                   {"fault": "500", "p": 1, "count": 2, "apply": true}]})");
  const auto again = parse_fault_spec(to_json(s));
  CHECK(boost::json::serialize(to_json(again)) == boost::json::serialize(to_json(s)));
}

TEST_CASE("fault spec: malformed input is rejected with the key named") {
  auto rejects = [](const char* json, const char* needle) {
    try {
      (void)spec_of(json);
      FAIL("accepted: " << json);
    } catch (const std::invalid_argument& e) {
      CHECK_MESSAGE(std::string(e.what()).find(needle) != std::string::npos, e.what());
    }
  };
  SUBCASE("not an object") { rejects("[]", "object"); }
  SUBCASE("unknown top-level key") { rejects(R"({"sead": 1})", "sead"); }
  SUBCASE("negative seed") { rejects(R"({"seed": -1})", "seed"); }
  SUBCASE("rules not an array") { rejects(R"({"rules": {}})", "rules"); }
  SUBCASE("rule not an object") { rejects(R"({"rules": [1]})", "rules[0]"); }
  SUBCASE("missing fault") { rejects(R"({"rules": [{"p": 1}]})", "fault"); }
  SUBCASE("unknown fault") { rejects(R"({"rules": [{"fault": "teapot", "p": 1}]})", "teapot"); }
  SUBCASE("missing p") { rejects(R"({"rules": [{"fault": "503"}]})", ".p"); }
  SUBCASE("p above 1") { rejects(R"({"rules": [{"fault": "503", "p": 1.5}]})", ".p"); }
  SUBCASE("p not a number") { rejects(R"({"rules": [{"fault": "503", "p": "0.5"}]})", ".p"); }
  SUBCASE("methods not strings") { rejects(R"({"rules": [{"fault": "503", "p": 1, "methods": [1]}]})", "methods"); }
  SUBCASE("latency without latency_ms") { rejects(R"({"rules": [{"fault": "latency", "p": 1}]})", "latency_ms"); }
  SUBCASE("latency_ms on another kind") {
    rejects(R"({"rules": [{"fault": "503", "p": 1, "latency_ms": 5}]})", "latency_ms");
  }
  SUBCASE("negative latency") { rejects(R"({"rules": [{"fault": "latency", "p": 1, "latency_ms": -5}]})", "latency_ms"); }
  SUBCASE("negative count") { rejects(R"({"rules": [{"fault": "503", "p": 1, "count": -1}]})", "count"); }
  SUBCASE("apply on close_before") {
    rejects(R"({"rules": [{"fault": "close_before", "p": 1, "apply": true}]})", "apply");
  }
  SUBCASE("unknown rule key") { rejects(R"({"rules": [{"fault": "503", "p": 1, "prob": 1}]})", "prob"); }
}

TEST_CASE("fault decisions: the same seed gives the same decisions in the same order") {
  const auto s = spec_of(R"({"seed": 1234, "rules": [{"fault": "503", "p": 0.3}, {"fault": "latency", "p": 0.5, "latency_ms": 10},
                                                      {"fault": "close_before", "p": 0.2, "methods": ["batch"]}]})");
  fault_injector a(s), b(s);
  int fired = 0;
  for (int i = 0; i < 500; ++i) {
    const char* method = i % 3 == 0 ? "batch" : "user.get";
    const auto da = a.decide(method), db = b.decide(method);
    CHECK(da.terminal == db.terminal);
    CHECK(da.extra_latency == db.extra_latency);
    fired += da.terminal ? 1 : 0;
  }
  // p = 0.3 over 500 draws: far from 0 and from 500 whatever the seed.
  CHECK(fired > 100);
  CHECK(fired < 300);
}

TEST_CASE("fault decisions: a different seed gives a different sequence") {
  fault_injector a(spec_of(R"({"seed": 1, "rules": [{"fault": "503", "p": 0.5}]})"));
  fault_injector b(spec_of(R"({"seed": 2, "rules": [{"fault": "503", "p": 0.5}]})"));
  int differ = 0;
  for (int i = 0; i < 64; ++i) differ += a.decide("x").terminal != b.decide("x").terminal ? 1 : 0;
  CHECK(differ > 0);
}

TEST_CASE("fault decisions: p = 0 never fires and p = 1 always fires") {
  fault_injector never(spec_of(R"({"rules": [{"fault": "500", "p": 0}]})"));
  fault_injector always(spec_of(R"({"rules": [{"fault": "500", "p": 1}]})"));
  for (int i = 0; i < 100; ++i) {
    CHECK_FALSE(never.decide("user.get").any());
    CHECK(always.decide("user.get").terminal == fault_kind::http_500);
  }
  CHECK(always.injected(0) == 100);
}

TEST_CASE("fault decisions: methods filter on the lower-cased URL method") {
  fault_injector f(spec_of(R"({"rules": [{"fault": "close_after_apply", "p": 1, "methods": ["USER.ADD"]}]})"));
  CHECK_FALSE(f.decide("user.get").terminal.has_value());
  CHECK(f.decide("user.add").terminal == fault_kind::close_after_apply);
}

TEST_CASE("fault decisions: count caps the injections of a rule") {
  fault_injector f(spec_of(R"({"rules": [{"fault": "503", "p": 1, "count": 2}]})"));
  CHECK(f.decide("batch").terminal.has_value());
  CHECK(f.decide("batch").terminal.has_value());
  CHECK_FALSE(f.decide("batch").terminal.has_value());
  CHECK(f.injected(0) == 2);
}

TEST_CASE("fault decisions: the first terminal rule wins and the next keeps its budget; latencies add up") {
  fault_injector f(spec_of(R"({"rules": [
      {"fault": "latency", "p": 1, "latency_ms": 30},
      {"fault": "truncated_json", "p": 1, "count": 1},
      {"fault": "502_html", "p": 1, "count": 1},
      {"fault": "latency", "p": 1, "latency_ms": 12}]})"));
  auto d = f.decide("batch");
  CHECK(d.terminal == fault_kind::truncated_json);
  CHECK(d.extra_latency == std::chrono::milliseconds(42));
  d = f.decide("batch");
  CHECK(d.terminal == fault_kind::bad_gateway_html);
  d = f.decide("batch");
  CHECK_FALSE(d.terminal.has_value());
  CHECK(d.extra_latency == std::chrono::milliseconds(42));
}

TEST_CASE("fault decisions: which faults let the call reach the portal") {
  fault_decision d;
  CHECK(d.calls_portal());
  d.terminal = fault_kind::close_before;
  CHECK_FALSE(d.calls_portal());
  d.terminal = fault_kind::http_503;
  CHECK_FALSE(d.calls_portal());
  d.apply_first = true;
  CHECK(d.calls_portal());
  d = {};
  d.terminal = fault_kind::close_after_apply;
  CHECK(d.calls_portal());
  d.terminal = fault_kind::truncated_json;
  CHECK(d.calls_portal());
}

TEST_CASE("rest_method_from_target: webhook, OAuth, suffixes, case and non-REST paths") {
  CHECK(rest_method_from_target("/rest/1/s3cret/User.Get.json?start=50") == "user.get");
  CHECK(rest_method_from_target("/rest/1/s3cret/batch/") == "batch");
  CHECK(rest_method_from_target("/rest/user.update.xml") == "user.update");
  CHECK(rest_method_from_target("/rest/department.get?auth=tok") == "department.get");
  CHECK(rest_method_from_target("/emu/users") == "");
  CHECK(rest_method_from_target("/oauth/token/") == "");
}
