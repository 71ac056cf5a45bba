// tests/integration/bitrix/test_client.cpp: the client against the in-process portal emulator over real
// sockets: every injected fault, ambiguous writes, hostile characters, OAuth rotation, TLS and the probe.
#include "bitrix_test_util.hpp"

#include "bitrix/client.hpp"
#include "bitrix/probe.hpp"
#include "emu_fixture.hpp"
#include "support/test_certs.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <doctest/doctest.h>

#include <ctime>
#include <map>

using namespace b24sync::bitrix;
using b24test::run_co;
namespace json = boost::json;

namespace {

using b24test::emulator;
using b24test::scale;

client_config config_for(const std::string& base) {
  client_config cfg;
  cfg.base_url = base;
  cfg.auth = webhook_auth{1, secret("s3cr3tcode")};
  cfg.time_scale = scale;
  cfg.retry.max_attempts = 10;
  return cfg;
}

std::vector<command> updates(int first_id, int count, const std::string& tag) {
  std::vector<command> cmds;
  for (int id = first_id; id < first_id + count; ++id) {
    cmds.push_back({"", "user.update", {{"ID", id}, {"WORK_POSITION", tag + "-" + std::to_string(id)}}});
  }
  return cmds;
}

std::string field(const json::object& u, const char* key) {
  auto it = u.find(key);
  return it != u.end() && it->value().is_string() ? std::string(it->value().get_string()) : std::string();
}

}  // namespace

TEST_CASE("every injected fault on batches of user.update is survived: all updates land, exactly as sent") {
  emulator emu(b24test::make_seed(150));
  net::io_context ioc;
  client c(ioc, config_for(emu.srv.base_url()), nullptr);
  const char* kinds[] = {"503", "500", "502_html", "truncated_json", "latency", "close_before", "close_after_apply"};
  for (const char* kind : kinds) {
    CAPTURE(kind);
    json::object rule{{"fault", kind}, {"p", 0.35}, {"methods", json::array{"batch"}}};
    if (std::string(kind) == "latency") rule["latency_ms"] = 20;
    emu.faults(json::object{{"seed", 7}, {"rules", json::array{rule}}});
    auto out = run_co(ioc, c.async_batch(updates(2, 140, kind)));
    REQUIRE(out.size() == 140);
    for (auto& o : out) CHECK_MESSAGE(o.ok, o.id, " ", o.error.error, " ", o.error.detail);
    auto users = emu.users();
    for (int id = 2; id < 142; ++id) CHECK(field(users[id], "WORK_POSITION") == std::string(kind) + "-" + std::to_string(id));
  }
  emu.faults(json::object{{"rules", json::array{}}});
  CHECK(c.stats().retries > 0);
  CHECK(c.stats().ambiguous == 0);
}

TEST_CASE("user.add whose answer is lost after the portal applied it comes back ambiguous and is not resent") {
  emulator emu(b24test::make_seed(5));
  net::io_context ioc;
  client c(ioc, config_for(emu.srv.base_url()), nullptr);
  emu.faults(json::object{{"rules", json::array{{{"fault", "close_after_apply"}, {"p", 1.0}, {"count", 2}}}}});
  const auto before = emu.rest_requests();

  std::vector<command> adds;
  for (int i = 0; i < 2; ++i) {
    adds.push_back({"", "user.add",
                    {{"EMAIL", "new" + std::to_string(i) + "@corp.test"}, {"NAME", "New"}, {"UF_DEPARTMENT", json::array{1}}}});
  }
  auto out = run_co(ioc, c.async_batch(adds));
  REQUIRE(out.size() == 2);
  for (auto& o : out) {
    CHECK_FALSE(o.ok);
    CHECK(classify(o.error) == error_class::ambiguous);
  }
  auto single = run_co(ioc, c.async_call("user.add", {{"EMAIL", "solo@corp.test"}, {"UF_DEPARTMENT", json::array{1}}}));
  CHECK(single.ambiguous());
  CHECK(emu.rest_requests() - before == 2);  // neither was sent twice
  // ...and the portal did create them: resending would have invited the same people twice.
  int created = 0;
  for (auto& [id, u] : emu.users()) created += field(u, "EMAIL").starts_with("new") || field(u, "EMAIL") == "solo@corp.test";
  CHECK(created == 3);
  CHECK(c.stats().ambiguous == 3);

  // A 503 means "not executed": the same kind of batch is retried and each user created once.
  emu.faults(json::object{{"rules", json::array{{{"fault", "503"}, {"p", 1.0}, {"count", 2}}}}});
  auto again = run_co(ioc, c.async_batch({{"", "user.add", {{"EMAIL", "retry@corp.test"}, {"UF_DEPARTMENT", json::array{1}}}}}));
  CHECK(again[0].ok);
  int retried = 0;
  for (auto& [id, u] : emu.users()) retried += field(u, "EMAIL") == "retry@corp.test";
  CHECK(retried == 1);
  CHECK(c.stats().http_503 == 2);
}

TEST_CASE("hostile characters written in a batch reach the portal byte-exact, field by field") {
  emulator emu(b24test::make_seed(40));
  net::io_context ioc;
  client c(ioc, config_for(emu.srv.base_url()), nullptr);
  const std::vector<std::string> hostile = {
      "&", "=", "%", "%20", "[", "]", "a[b]=c", "+", "#", "?", "/", "\\", "\"", "'", "😀", "Привет, мир",
      "", "a&b=c%20d[0]+e#f?g/h\\i\"j'k 😀 Ёжик", " leading and trailing ", "tab\there", "line\nbreak",
      "FILTER[>ID]=1", "$result[x][0]", "null", "0"};
  std::vector<command> cmds;
  for (std::size_t i = 0; i < hostile.size(); ++i) {
    const int id = static_cast<int>(i) + 2;
    cmds.push_back({"", "user.update",
                    {{"ID", id}, {"NAME", hostile[i]}, {"LAST_NAME", hostile[(i + 1) % hostile.size()]},
                     {"WORK_POSITION", hostile[(i + 2) % hostile.size()]}}});
  }
  cmds.push_back({"", "user.add",
                  {{"EMAIL", "hostile@corp.test"}, {"NAME", hostile.back()}, {"LAST_NAME", "Привет & 😀"},
                   {"WORK_POSITION", "a&b=c%20d[0]+e#f?g/h\\i\"j'k"}, {"UF_DEPARTMENT", json::array{1}}}});
  auto out = run_co(ioc, c.async_batch(cmds));
  for (auto& o : out) REQUIRE_MESSAGE(o.ok, o.id, " ", o.error.error, " ", o.error.description);

  auto users = emu.users();
  for (std::size_t i = 0; i < hostile.size(); ++i) {
    const auto& u = users[static_cast<std::int64_t>(i) + 2];
    CHECK(field(u, "NAME") == hostile[i]);
    CHECK(field(u, "LAST_NAME") == hostile[(i + 1) % hostile.size()]);
    CHECK(field(u, "WORK_POSITION") == hostile[(i + 2) % hostile.size()]);
  }
  REQUIRE(out.back().result.is_number());
  const auto& added = users[out.back().result.to_number<std::int64_t>()];
  CHECK(field(added, "NAME") == hostile.back());
  CHECK(field(added, "LAST_NAME") == "Привет & 😀");
  CHECK(field(added, "WORK_POSITION") == "a&b=c%20d[0]+e#f?g/h\\i\"j'k");
}

TEST_CASE("OAuth: an expired token is refreshed once for many callers, the rotated token persisted") {
  auto seed = b24test::make_seed(3);
  const double now = static_cast<double>(std::time(nullptr));
  seed["oauth_apps"] = json::array{{{"client_id", "app.test"}, {"client_secret", "app-secret"}, {"user_id", 1},
                                    {"access_token", "old-access"}, {"access_expires_at", now - 100},
                                    {"refresh_token", "refresh-1"}}};
  emulator emu(seed);
  net::io_context ioc;
  std::vector<oauth_tokens> persisted;
  auto oauth_config = [&](std::string refresh) {
    auto cfg = config_for(emu.srv.base_url());
    oauth_auth a;
    a.client_id = "app.test";
    a.client_secret = secret("app-secret");
    a.access_token = secret("old-access");
    a.refresh_token = secret(std::move(refresh));
    a.token_url = emu.srv.base_url() + "/oauth/token/";
    a.on_rotated = [&persisted](const oauth_tokens& t) { persisted.push_back(t); };
    cfg.auth = a;
    return cfg;
  };
  b24test::captured_log log;
  client c(ioc, oauth_config("refresh-1"), log.logger);
  auto four = [&c]() -> net::awaitable<int> {
    auto ex = co_await net::this_coro::executor;
    std::vector<std::shared_ptr<call_result>> results;
    net::steady_timer all_done(ex, net::steady_timer::time_point::max());
    int done = 0;
    for (int i = 0; i < 4; ++i) {
      results.push_back(std::make_shared<call_result>());
      net::co_spawn(
          ex,
          [&c, r = results.back(), &done, &all_done]() -> net::awaitable<void> {
            *r = co_await c.async_call("user.current");
            if (++done == 4) all_done.cancel();
          },
          net::detached);
    }
    (void)co_await all_done.async_wait(net::as_tuple(net::use_awaitable));
    int ok = 0;
    for (auto& r : results) ok += static_cast<bool>(*r);
    co_return ok;
  };
  CHECK(run_co(ioc, four()) == 4);
  REQUIRE(persisted.size() == 1);
  CHECK(persisted[0].refresh_token.expose() != "refresh-1");
  CHECK_FALSE(persisted[0].access_token.empty());
  CHECK(persisted[0].expires_in == std::chrono::seconds(3600));
  CHECK(c.stats().token_refreshes == 1);
  for (const char* s : {"refresh-1", "app-secret", persisted[0].refresh_token.expose().c_str()}) {
    CHECK_MESSAGE(log.text().find(s) == std::string::npos, s);
  }

  // The spent refresh token is refused: the call fails for good (re-authorise), no loop.
  client stale(ioc, oauth_config("refresh-1"), nullptr);
  auto r = run_co(ioc, stale.async_call("user.current"));
  CHECK_FALSE(r);
  CHECK(r.error_kind == error_class::auth_fatal);
  CHECK(persisted.size() == 1);
}

TEST_CASE("TLS to the emulator with a throwaway CA, and the probe for `b24sync check`") {
  b24sync::test::test_certs certs;
  emulator emu(b24test::make_seed(60, 4), certs.cert_file(), certs.key_file());
  REQUIRE(emu.srv.base_url().starts_with("https://"));
  net::io_context ioc;
  auto cfg = config_for(emu.srv.base_url());
  cfg.tls.ca_file = certs.ca_file();
  client c(ioc, cfg, nullptr);
  auto p = run_co(ioc, async_probe(c));
  CHECK(p.reachable.ok);
  CHECK(p.tls.ran);
  CHECK(p.tls.ok);
  CHECK(p.auth.ok);
  CHECK(p.user_id == 1);
  CHECK(p.user_email == "admin@corp.test");
  CHECK(p.is_admin == true);
  CHECK(p.scope.ok);
  CHECK(p.user_count == 61);
  CHECK(p.department_count == 4);
  CHECK(p.http_requests == 2);
  CHECK(p.ok());

  SUBCASE("wrong webhook code: reachable, TLS fine, auth refused") {
    auto bad = cfg;
    bad.auth = webhook_auth{1, secret("wrong")};
    client c2(ioc, bad, nullptr);
    auto q = run_co(ioc, async_probe(c2));
    CHECK(q.reachable.ok);
    CHECK(q.tls.ok);
    CHECK(q.auth.ran);
    CHECK_FALSE(q.auth.ok);
    CHECK_FALSE(q.auth.error.empty());
    CHECK_FALSE(q.ok());
  }
  SUBCASE("untrusted CA: the TLS check fails") {
    auto untrusted = cfg;
    untrusted.tls.ca_file.clear();
    client c3(ioc, untrusted, nullptr);
    auto q = run_co(ioc, async_probe(c3));
    CHECK(q.reachable.ok);
    CHECK_FALSE(q.tls.ok);
    CHECK(q.tls.error.find("certificate") != std::string::npos);
    CHECK_FALSE(q.auth.ran);
  }
}

TEST_CASE("a batch run cancelled mid-way stops cleanly: answered commands known, the rest not sent, client reusable") {
  emulator emu(b24test::make_seed(200));
  net::io_context ioc;
  auto cfg = config_for(emu.srv.base_url());
  cfg.max_in_flight = 1;  // one batch at a time: the cancellation point is exact
  cfg.batch_size = 10;
  client c(ioc, cfg, nullptr);
  net::cancellation_signal stop;
  std::optional<std::vector<command_outcome>> out;
  std::exception_ptr error;
  bool done = false;
  net::co_spawn(ioc, c.async_batch(updates(2, 100, "cut")),
                net::bind_cancellation_slot(stop.slot(), [&](std::exception_ptr e, std::vector<command_outcome> v) {
                  error = e;
                  if (!e) out.emplace(std::move(v));
                  done = true;
                }));
  // Cancel while the second batch is on the wire: step the loop one handler at a time until it went
  // out. (A hang here is caught by ctest's timeout: the loop always has work until `done`.)
  while (c.stats().http_requests < 2 && !done) ioc.run_one();
  REQUIRE(c.stats().http_requests == 2);
  stop.emit(net::cancellation_type::terminal);
  while (!done) ioc.run_one();
  REQUIRE_FALSE(error);
  REQUIRE(out);
  REQUIRE(out->size() == 100);
  // The batch on the wire was finished, not abandoned: 20 applied and known; 80 never sent.
  auto users = emu.users();
  for (int k = 0; k < 100; ++k) {
    CAPTURE(k);
    const auto& o = (*out)[static_cast<std::size_t>(k)];
    if (k < 20) {
      CHECK(o.ok);
      CHECK(field(users[2 + k], "WORK_POSITION") == "cut-" + std::to_string(2 + k));
    } else {
      CHECK_FALSE(o.ok);
      CHECK(classify(o.error) == error_class::retry_not_executed);
      CHECK(o.error.detail.find("cancelled") != std::string::npos);
      CHECK(field(users[2 + k], "WORK_POSITION") != "cut-" + std::to_string(2 + k));
    }
  }
  CHECK(emu.rest_requests() == 2);
  // Nothing leaked: with one connection slot, a lost slot or pacer grant would hang this run.
  auto again = run_co(ioc, c.async_batch(updates(22, 30, "after")));
  for (auto& o : again) CHECK_MESSAGE(o.ok, o.id, " ", o.error.error, " ", o.error.detail);
  CHECK(field(emu.users()[51], "WORK_POSITION") == "after-51");
}
