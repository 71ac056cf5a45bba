// tests/integration/bitrix/test_snapshot.cpp: snapshots against the emulator (exactness, request count,
// users added while paging) and operating-time pacing of batches.
#include "bitrix_test_util.hpp"
#include "emu_fixture.hpp"

#include "bitrix/client.hpp"
#include "bitrix/snapshot.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <doctest/doctest.h>

#include <cmath>

using namespace b24sync::bitrix;
using b24test::emulator;
using b24test::run_co;
namespace json = boost::json;

namespace {

client_config config_for(const std::string& base, double time_scale) {
  client_config cfg;
  cfg.base_url = base;
  cfg.auth = webhook_auth{1, secret("s3cr3tcode")};
  cfg.time_scale = time_scale;
  return cfg;
}

void check_exact(const snapshot& s, const std::map<std::int64_t, json::object>& dump) {
  REQUIRE(s.users.size() == dump.size());
  auto it = dump.begin();
  for (const auto& u : s.users) {
    REQUIRE(static_cast<std::int64_t>(u.id) == it->first);
    const auto& d = it->second;
    CHECK(u.email() == std::string(d.at("EMAIL").as_string()));
    CHECK(u.active == d.at("ACTIVE").as_bool());
    std::vector<department_id> deps;
    for (auto& x : d.at("UF_DEPARTMENT").as_array()) deps.push_back(static_cast<department_id>(x.to_number<std::int64_t>()));
    CHECK(u.departments == deps);
    ++it;
  }
}

}  // namespace

TEST_CASE("a snapshot of 12,345 users and 120 departments is exact and needs at most ceil(users/2500)+2 requests") {
  emulator emu(b24test::make_seed(12344, 120));
  net::io_context ioc;
  client c(ioc, config_for(emu.srv.base_url(), b24test::scale), nullptr);
  const auto before = emu.rest_requests();
  auto s = run_co(ioc, async_fetch_snapshot(c));
  const auto used = emu.rest_requests() - before;

  auto dump = emu.users();
  CHECK(dump.size() == 12345);
  check_exact(s, dump);
  CHECK(std::count_if(s.users.begin(), s.users.end(), [](const portal_user& u) { return !u.active; }) > 1000);
  REQUIRE(s.departments.size() == 120);
  CHECK(static_cast<std::int64_t>(s.departments.front().id) == 1);
  CHECK_FALSE(s.departments.front().parent.has_value());
  CHECK(s.departments.back().parent == department_id{1});
  CHECK(used == static_cast<std::int64_t>(s.http_requests));
  CHECK(used <= static_cast<std::int64_t>(std::ceil(12345 / 2500.0)) + 2);
  MESSAGE("12,345-user snapshot used ", used, " HTTP requests");
}

TEST_CASE("users added while the snapshot pages are all in it") {
  auto seed = b24test::make_seed(3000, 5);
  seed["limits"] = json::object{{"rate_enabled", false}};  // the other "client" makes 75 calls in a row
  emulator emu(seed);
  // Slow every batch down a little so the other "client" below gets in between the pages.
  emu.faults(json::object{{"rules", json::array{{{"fault", "latency"}, {"p", 1.0}, {"latency_ms", 30}}}}});
  net::io_context ioc;
  client c(ioc, config_for(emu.srv.base_url(), b24test::scale), nullptr);
  bool added = false;
  auto meddle = [&]() -> net::awaitable<void> {
    net::steady_timer t(co_await net::this_coro::executor);
    while (c.stats().http_requests < 2) {  // wait for the first page, then change the portal
      t.expires_after(std::chrono::milliseconds(2));
      (void)co_await t.async_wait(net::as_tuple(net::use_awaitable));
    }
    for (int i = 0; i < 75; ++i) {
      auto r = emu.call("user.add", {{"EMAIL", "late" + std::to_string(i) + "@corp.test"}, {"UF_DEPARTMENT", json::array{1}}});
      REQUIRE_MESSAGE(r.as_object().contains("result"), json::serialize(r));
    }
    added = true;
  };
  net::co_spawn(ioc, meddle(), net::detached);
  auto s = run_co(ioc, async_fetch_snapshot(c));
  REQUIRE(added);
  auto dump = emu.users();
  CHECK(dump.size() == 3001 + 75);
  check_exact(s, dump);
}

TEST_CASE("operating-time limit: batches are paced per method, refused commands re-sent, every update applied once") {
  auto seed = b24test::make_seed(40);
  seed["limits"] = json::object{{"operating_limit_s", 60}, {"method_cost_s", {{"user.update", 4.0}}}};
  const double fast = 500;  // 10-minute windows pass in about a second
  emulator emu(seed, {}, {}, fast);
  net::io_context ioc;
  auto cfg = config_for(emu.srv.base_url(), fast);
  cfg.operating_limit_s = 60;
  client c(ioc, cfg, nullptr);
  std::vector<command> cmds;
  for (int id = 2; id < 42; ++id) cmds.push_back({"", "user.update", {{"ID", id}, {"WORK_POSITION", "paced-" + std::to_string(id)}}});
  auto out = run_co(ioc, c.async_batch(cmds));
  for (auto& o : out) CHECK_MESSAGE(o.ok, o.id, " ", o.error.error);
  auto users = emu.users();
  for (int id = 2; id < 42; ++id) CHECK(std::string(users[id].at("WORK_POSITION").as_string()) == "paced-" + std::to_string(id));
  const auto stats = emu.srv.stats();
  const auto& calls = stats.at("calls").as_object();
  // Every command the client sent reached the portal once per sending; refused ones were sent again.
  CHECK(calls.at("user.update").to_number<std::uint64_t>() == c.stats().commands_sent);
  CHECK(c.stats().commands_sent == 40 + c.stats().commands_requeued);
  CHECK(c.stats().http_429 == 0);
  MESSAGE("operating-limit run: ", c.stats().http_requests, " requests, ", c.stats().operation_time_limit,
          " commands refused with OPERATION_TIME_LIMIT, pacing waits ", c.stats().waited_pacing_s, " s");
}

TEST_CASE("pages fetched two requests at a time: the same exact snapshot in the same number of requests") {
  emulator emu(b24test::make_seed(7499, 60));  // 7,500 users: page 0, then 4 page requests (the first 3 may overlap)
  auto dump = emu.users();
  std::vector<std::int64_t> used;
  for (std::size_t in_flight : {std::size_t{1}, std::size_t{2}, std::size_t{3}}) {
    CAPTURE(in_flight);
    net::io_context ioc;
    auto cfg = config_for(emu.srv.base_url(), b24test::scale);
    cfg.max_in_flight = in_flight;
    client c(ioc, cfg, nullptr);
    const auto before = emu.rest_requests();
    auto s = run_co(ioc, async_fetch_snapshot(c));
    used.push_back(emu.rest_requests() - before);
    // What an extra request was for, should one appear (retries, re-sent or refused commands).
    INFO("retries ", c.stats().retries, ", resent ", s.user_stats.resent, "+", s.department_stats.resent,
         ", OPERATION_TIME_LIMIT ", c.stats().operation_time_limit, ", QUERY_LIMIT ", c.stats().query_limit_exceeded,
         ", transport failures ", c.stats().transport_failures, ", 503 ", c.stats().http_503);
    check_exact(s, dump);
    CHECK(s.departments.size() == 60);
    CHECK(s.user_stats.gap_queries == 0);
    CHECK(used.back() == static_cast<std::int64_t>(s.http_requests));
    CHECK(used.back() <= static_cast<std::int64_t>(std::ceil(7500 / 2500.0)) + 2);
  }
  CHECK(used[0] == used[1]);
  CHECK(used[1] == used[2]);
}
