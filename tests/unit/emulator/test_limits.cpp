// The leaky bucket and the operating-time limiter, stepped with explicit clock values.
#include "core/limits.hpp"
#include "emu_fixture.hpp"

using b24emu::detail::operating_limiter;
using b24emu::detail::rate_bucket;
using namespace emu_test;

TEST_CASE("rate_bucket: refuses at burst, drains at rate, a refused request adds nothing") {
  rate_bucket b;
  struct step {
    double now;
    bool accepted;
    double level_after;
  };
  // rate 1/s, burst 3
  const step steps[] = {
      {0.0, true, 1},    {0.0, true, 2},   {0.0, true, 3},    {0.0, false, 3}, {0.5, true, 3.5},
      {1.0, false, 3.0}, {2.0, true, 3.0}, {2.0, false, 3.0}, {4.0, true, 2},  {100.0, true, 1},
  };
  for (auto& s : steps) {
    CAPTURE(s.now);
    CHECK(b.try_acquire(1.0, 3.0, s.now) == s.accepted);
    CHECK(b.level(1.0, s.now) == doctest::Approx(s.level_after));
  }
  CHECK(b.max_level() == doctest::Approx(3.5));
}

TEST_CASE("operating_limiter: baskets, free calls, refusal above the limit, reset_at and expiry") {
  operating_limiter op;
  const std::string k = "hook|user.add";
  auto r = op.charge(k, 0.05, 0.1, 0);  // too cheap to record
  CHECK(r.operating == 0);
  CHECK_FALSE(r.reset_at);
  r = op.charge(k, 200, 0.1, 100);  // minute 1, first call at 100
  CHECK(r.operating == doctest::Approx(200));
  CHECK(*r.reset_at == 700);
  r = op.charge(k, 300, 0.1, 170);  // minute 2
  CHECK(r.operating == doctest::Approx(500));
  CHECK(*r.reset_at == 700);
  CHECK(op.blocked(k, 480, 171));
  CHECK_FALSE(op.blocked(k, 500, 171));                // refusal needs sum > limit
  CHECK_FALSE(op.blocked("hook|user.get", 480, 171));  // per method
  CHECK(op.blocked(k, 480, 699.9));
  CHECK_FALSE(op.blocked(k, 480, 700));  // the oldest basket expired at first call + 600
  r = op.peek(k, 700);
  CHECK(r.operating == doctest::Approx(300));
  CHECK(*r.reset_at == 770);
  r = op.peek(k, 770);
  CHECK(r.operating == 0);
  CHECK_FALSE(r.reset_at);
}

TEST_CASE("portal: the 51st request within a burst gets 503 QUERY_LIMIT_EXCEEDED and a batch counts 1") {
  portal_fixture f;
  f.portal.limits().rate_enabled = true;
  for (int i = 0; i < 49; ++i) REQUIRE(f.call("user.current").status == 200);
  json::object cmd;
  for (int i = 0; i < 10; ++i) cmd["c" + std::to_string(i)] = "user.current";
  REQUIRE(f.call("batch", {{"cmd", cmd}}).status == 200);  // the 50th request, 10 commands
  auto r = f.call("user.current");
  CHECK(r.status == 503);
  CHECK(r.error() == "QUERY_LIMIT_EXCEEDED");
  CHECK(r.obj().at("error_description") == "Too many requests");
  CHECK_FALSE(r.obj().contains("time"));
  f.now += 0.5;  // drains one request at 2/s
  CHECK(f.call("user.current").status == 200);
  CHECK(f.call("user.current").status == 503);
  auto stats = f.portal.stats().as_object();
  CHECK(stats.at("max_bucket_level").to_number<double>() == doctest::Approx(50));
  CHECK(stats.at("errors").at("QUERY_LIMIT_EXCEEDED") == 2);
  CHECK(stats.at("calls").at("user.current") == 60);
}

TEST_CASE(
    "portal: operating time is reported, and a method over the limit is refused with 429 before it runs") {
  portal_fixture f;
  auto& l = f.portal.limits();
  l.operating_limit_s = 10;
  l.method_cost_s["user.update"] = 4;
  auto r = f.call("user.get", {{"ID", 1}});
  CHECK(r.obj().at("time").at("operating") == 0);
  CHECK_FALSE(r.obj().at("time").as_object().contains("operating_reset_at"));
  for (int i = 0; i < 3; ++i) {
    r = f.call("user.update", {{"ID", 2}, {"WORK_POSITION", "P" + std::to_string(i)}});
    REQUIRE(r.status == 200);
    CHECK(r.cost_s == doctest::Approx(4));
    auto& t = r.obj().at("time").as_object();
    CHECK(t.at("operating").to_number<double>() == doctest::Approx(4.0 * (i + 1)));
    CHECK(t.at("operating_reset_at") == static_cast<std::int64_t>(t0) + 600);
    CHECK(t.at("finish").to_number<double>() - t.at("start").to_number<double>() == doctest::Approx(4));
    CHECK(t.at("duration").to_number<double>() == doctest::Approx(4));
    f.now += 1;
  }
  r = f.call("user.update", {{"ID", 2}, {"WORK_POSITION", "never"}});
  CHECK(r.status == 429);
  CHECK(r.error() == "OPERATION_TIME_LIMIT");
  CHECK(r.obj().at("error_description") == "Method is blocked due to operation time limit.");
  auto dump = f.portal.dump_users().as_array();
  CHECK(dump[1].at("WORK_POSITION") == "P2");            // refused before executing
  CHECK(f.call("user.get", {{"ID", 2}}).status == 200);  // other methods are not blocked
  f.now = t0 + 600;                                      // the basket of t0 expires
  CHECK(f.call("user.update", {{"ID", 2}, {"WORK_POSITION", "later"}}).status == 200);
}

TEST_CASE("portal: calls at or below free_below_s are not recorded") {
  portal_fixture f;
  f.portal.limits().method_cost_s["user.get"] = 0.1;
  auto r = f.call("user.get");
  CHECK(r.obj().at("time").at("operating") == 0);
  f.portal.limits().method_cost_s["user.get"] = 0.25;
  r = f.call("user.get");
  CHECK(r.obj().at("time").at("operating").to_number<double>() == doctest::Approx(0.25));
}

TEST_CASE("portal: with operating_enabled off the time object has no operating keys") {
  portal_fixture f;
  f.portal.limits().operating_enabled = false;
  auto t = f.call("user.current").obj().at("time").as_object();
  CHECK_FALSE(t.contains("operating"));
  CHECK_FALSE(t.contains("operating_reset_at"));
  CHECK(t.contains("date_start"));
}
