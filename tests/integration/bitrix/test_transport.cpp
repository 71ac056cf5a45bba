// tests/integration/bitrix/test_transport.cpp: the client's transport against a scripted server:
// keep-alive, dead idle connections, redirects, TLS verification, secret redaction, cancelled calls.
#include "bitrix_test_util.hpp"
#include "mini_server.hpp"

#include "bitrix/client.hpp"
#include "bitrix/operating_pacer.hpp"
#include "support/test_certs.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ssl/context.hpp>
#include <doctest/doctest.h>

using namespace b24sync::bitrix;
using b24test::mini_reply;
using b24test::mini_request;
using b24test::mini_server;
using b24test::run_co;

namespace {

constexpr const char* code = "w3bh00kc0de";

mini_reply ok_json(std::string result_json) {
  return {mini_server::make(200, R"({"result":)" + result_json +
                                      R"(,"time":{"start":1700000000.0,"finish":1700000000.1,"duration":0.1,"processing":0.05}})"),
          false, false, false};
}

client_config config_for(const std::string& base) {
  client_config cfg;
  cfg.base_url = base;
  cfg.auth = webhook_auth{1, secret(code)};
  cfg.time_scale = 1000;  // backoff waits become sub-millisecond
  cfg.retry.max_attempts = 3;
  return cfg;
}

std::string http_base(const mini_server& s) { return "http://127.0.0.1:" + std::to_string(s.port()); }

}  // namespace

TEST_CASE("parse_origin refuses plain http to anything but loopback and whole webhook URLs") {
  CHECK_THROWS_AS((void)parse_origin("http://corp.bitrix24.ru"), std::invalid_argument);
  CHECK_THROWS_AS((void)parse_origin("https://corp.bitrix24.ru/rest/1/abc/"), std::invalid_argument);
  CHECK_THROWS_AS((void)parse_origin("ftp://corp.bitrix24.ru"), std::invalid_argument);
  CHECK_THROWS_AS((void)parse_origin("https://u:p@corp.bitrix24.ru"), std::invalid_argument);
  auto o = parse_origin("https://Corp.Bitrix24.ru/");
  CHECK(o.tls);
  CHECK(o.host == "corp.bitrix24.ru");
  CHECK(o.port == 443);
  CHECK(o.base_path.empty());
  CHECK(parse_origin("http://127.0.0.1:8080").port == 8080);
  CHECK(parse_origin("http://localhost:1").host == "localhost");
  CHECK(parse_origin("http://[::1]:9").host == "::1");
  CHECK(parse_origin("https://[::1]:9").to_string() == "https://[::1]:9");
}

TEST_CASE("three calls share one kept-alive connection and the webhook code never reaches the log") {
  net::io_context ioc;
  mini_server srv(ioc, [](const mini_request&) { return ok_json(R"({"ID":"1"})"); });
  b24test::captured_log log;
  client c(ioc, config_for(http_base(srv)), log.logger);
  for (int i = 0; i < 3; ++i) {
    auto r = run_co(ioc, c.async_call("user.current"));
    REQUIRE(r);
  }
  CHECK(srv.connections() == 1);
  REQUIRE(srv.requests.size() == 3);
  CHECK(srv.requests[0].target() == std::string("/rest/1/") + code + "/user.current.json");
  CHECK(srv.requests[0].method() == b24test::http::verb::post);
  CHECK(srv.requests[0][b24test::http::field::content_type] == "application/json");
  CHECK(log.text().find("/rest/1/***/user.current.json") != std::string::npos);
  CHECK(log.text().find(code) == std::string::npos);
}

TEST_CASE("an idle connection the server closed is replaced before the next request") {
  net::io_context ioc;
  mini_server srv(ioc, [](const mini_request&) {
    auto r = ok_json("true");
    r.hang_up_after = true;  // keep-alive promised, then the server closes it
    return r;
  });
  client c(ioc, config_for(http_base(srv)), nullptr);
  REQUIRE(run_co(ioc, c.async_call("user.current")));
  REQUIRE(run_co(ioc, c.async_call("user.add", {{"EMAIL", "a@b.c"}})));
  CHECK(srv.connections() == 2);
  CHECK(srv.requests.size() == 2);  // no request was lost or doubled
  CHECK(c.stats().retries == 0);
}

TEST_CASE("a reused connection dropped after the request was read: a read is resent, a write is ambiguous") {
  net::io_context ioc;
  int n = 0;
  mini_server srv(ioc, [&n](const mini_request&) {
    ++n;
    if (n == 2 || n == 5) return mini_reply{{}, true, false, false};  // read it, then hang up without answering
    return ok_json("[]");
  });
  client c(ioc, config_for(http_base(srv)), nullptr);
  REQUIRE(run_co(ioc, c.async_call("user.get")));
  auto read = run_co(ioc, c.async_call("user.get"));  // request 2 dropped, resent as request 3
  CHECK(read);
  CHECK(srv.requests.size() == 3);
  CHECK(c.transport().stale_reconnects == 1);

  REQUIRE(run_co(ioc, c.async_call("user.get")));      // request 4
  auto write = run_co(ioc, c.async_call("user.add", {{"EMAIL", "x@y.z"}}));  // request 5 dropped
  CHECK_FALSE(write);
  CHECK(write.ambiguous());
  CHECK(write.error_kind == error_class::ambiguous);
  CHECK(write.attempts == 1);
  CHECK(srv.requests.size() == 5);  // never resent blindly
  CHECK(c.stats().ambiguous == 1);
}

TEST_CASE("a 302 from a moved portal is followed by re-POSTing the same body to the new host") {
  net::io_context ioc;
  mini_server moved_to(ioc, [](const mini_request& req) {
    return ok_json(req.method() == b24test::http::verb::post ? "\"posted\"" : "\"NOT A POST\"");
  });
  const std::string new_base = http_base(moved_to);
  mini_server old(ioc, [&new_base](const mini_request& req) {
    auto res = mini_server::make(302, "", "text/html");
    res.set(b24test::http::field::location, new_base + std::string(req.target()));
    return mini_reply{std::move(res), false, false, false};
  });
  b24test::captured_log log;
  client c(ioc, config_for(http_base(old)), log.logger);
  boost::json::object params{{"ID", 7}, {"NAME", "Ёжик & co"}};
  auto r = run_co(ioc, c.async_call("user.update", params));
  REQUIRE(r);
  CHECK(r.value->result == "posted");
  REQUIRE(moved_to.requests.size() == 1);
  CHECK(moved_to.requests[0].method() == b24test::http::verb::post);
  CHECK(boost::json::parse(moved_to.requests[0].body()) == boost::json::value(params));
  CHECK(moved_to.requests[0].target() == std::string("/rest/1/") + code + "/user.update.json");
  CHECK(c.portal_url() == new_base);
  CHECK(c.stats().redirects == 1);

  REQUIRE(run_co(ioc, c.async_call("user.current")));  // later calls go straight to the new address
  CHECK(old.requests.size() == 1);
  CHECK(moved_to.requests.size() == 2);
  CHECK(log.text().find(code) == std::string::npos);
}

TEST_CASE("TLS: a trusted certificate works by name and by address; untrusted or wrong-host ones fail at once") {
  b24sync::test::test_certs certs;
  net::ssl::context server_tls(net::ssl::context::tls_server);
  server_tls.use_certificate_chain_file(certs.cert_file());
  server_tls.use_private_key_file(certs.key_file(), net::ssl::context::pem);
  net::io_context ioc;
  auto handler = [](const mini_request&) { return ok_json("{}"); };
  mini_server srv(ioc, handler, &server_tls);
  const std::string port = std::to_string(srv.port());

  SUBCASE("trusted private CA") {
    for (std::string host : {"localhost", "127.0.0.1"}) {
      auto cfg = config_for("https://" + host + ":" + port);
      cfg.tls.ca_file = certs.ca_file();
      client c(ioc, cfg, nullptr);
      auto r = run_co(ioc, c.async_call("user.current"));
      CHECK_MESSAGE(r, host);
    }
  }
  SUBCASE("untrusted certificate: refused, not retried") {
    client c(ioc, config_for("https://localhost:" + port), nullptr);
    auto r = run_co(ioc, c.async_call("user.current"));
    REQUIRE_FALSE(r);
    CHECK(r.failed_step == transport_step::handshake);
    CHECK(r.error.detail.find("certificate verification failed") != std::string::npos);
    CHECK(r.attempts == 1);
    CHECK(srv.requests.empty());
  }
  SUBCASE("certificate for another host name") {
    mini_server other(ioc, handler, &server_tls, "127.0.0.2");
    auto cfg = config_for("https://127.0.0.2:" + std::to_string(other.port()));
    cfg.tls.ca_file = certs.ca_file();
    client c(ioc, cfg, nullptr);
    auto r = run_co(ioc, c.async_call("user.current"));
    REQUIRE_FALSE(r);
    CHECK(r.failed_step == transport_step::handshake);
    CHECK(r.error.detail.find("does not match the host name") != std::string::npos);
    CHECK(other.requests.empty());
  }
  SUBCASE("verify=false connects, with a warning") {
    auto cfg = config_for("https://localhost:" + port);
    cfg.tls.verify = false;
    b24test::captured_log log;
    client c(ioc, cfg, log.logger);
    CHECK(run_co(ioc, c.async_call("user.current")));
    CHECK(log.text().find("verification is DISABLED") != std::string::npos);
  }
}

TEST_CASE("nothing listening: connect fails, retried up to max_attempts, never sent") {
  net::io_context ioc;
  unsigned short dead_port = 0;
  {
    net::ip::tcp::acceptor probe(ioc, {net::ip::make_address("127.0.0.1"), 0});
    dead_port = probe.local_endpoint().port();
  }  // closed again: nothing listens there now
  client c(ioc, config_for("http://127.0.0.1:" + std::to_string(dead_port)), nullptr);
  auto r = run_co(ioc, c.async_call("user.add", {{"EMAIL", "a@b.c"}}));
  REQUIRE_FALSE(r);
  CHECK(r.failed_step == transport_step::connect);
  CHECK(r.error_kind == error_class::retry_transport);
  CHECK_FALSE(r.ambiguous());
  CHECK(r.attempts == 3);
}

TEST_CASE("secrets the portal echoes back are redacted in the diagnostics") {
  net::io_context ioc;
  mini_server srv(ioc, [](const mini_request&) {
    return mini_reply{mini_server::make(400, std::string(R"({"error":"ERROR_CORE","error_description":"bad hook )") +
                                                 code + R"("})"),
                      false, false, false};
  });
  client c(ioc, config_for(http_base(srv)), nullptr);
  auto r = run_co(ioc, c.async_call("user.current"));
  REQUIRE_FALSE(r);
  CHECK(r.error.error == "ERROR_CORE");
  CHECK(r.error.description == "bad hook ***");
  CHECK(r.error_kind == error_class::permanent);
}

TEST_CASE("a server that reads the request and never answers: the read deadline ends it, the next call works") {
  net::io_context ioc;
  int n = 0;
  mini_server srv(ioc, [&n](const mini_request&) {
    auto r = ok_json("[]");
    r.stall = ++n == 2;
    return r;
  });
  auto cfg = config_for(http_base(srv));
  cfg.timeouts.read = std::chrono::milliseconds(200);  // one deadline for the whole answer
  cfg.retry.max_attempts = 1;
  client c(ioc, cfg, nullptr);
  REQUIRE(run_co(ioc, c.async_call("user.get")));
  auto stalled = run_co(ioc, c.async_call("user.get"));
  CHECK_FALSE(stalled);
  CHECK(stalled.failed_step == transport_step::read);
  CHECK(stalled.error_kind == error_class::retry_transport);
  CHECK(stalled.error.detail.find("timeout") != std::string::npos);
  CHECK(c.stats().transport_failures == 1);
  // The timed-out connection is gone, not parked: the next call opens a fresh one and succeeds.
  REQUIRE(run_co(ioc, c.async_call("user.get")));
  CHECK(srv.requests.size() == 3);
  CHECK(srv.connections() == 2);
}

TEST_CASE("a single call cancelled while it waits for a connection gives its pacer grant back") {
  net::io_context ioc;
  mini_reply stall;
  stall.stall = true;  // the first call holds the only connection until it is cancelled
  mini_server srv(ioc, [&](const mini_request&) { return stall; });
  auto cfg = config_for(http_base(srv));
  cfg.max_in_flight = 1;  // so the second call waits for a connection slot after the pacer admitted it
  client c(ioc, cfg, nullptr);
  net::cancellation_signal stop_first, stop_second;
  int finished = 0;
  std::exception_ptr first_error, second_error;
  auto spawn = [&](net::cancellation_signal& stop, std::exception_ptr& error) {
    net::co_spawn(ioc, c.async_call("user.current"),
                  net::bind_cancellation_slot(stop.slot(), [&](std::exception_ptr e, call_result) {
                    error = e;
                    ++finished;
                  }));
  };
  spawn(stop_first, first_error);
  spawn(stop_second, second_error);
  // Step until the first request is at the server; by then both calls hold a grant.
  while (srv.requests.empty()) ioc.run_one();
  const double cost = c.pacer().config().initial_cost;
  REQUIRE(c.pacer().operating_at("user.current", c.portal_now()) == doctest::Approx(2 * cost));

  stop_second.emit(net::cancellation_type::terminal);  // cancelled inside the connection wait
  while (finished < 1) ioc.run_one();
  CHECK(second_error);
  CHECK(c.pacer().operating_at("user.current", c.portal_now()) == doctest::Approx(cost));

  stop_first.emit(net::cancellation_type::terminal);  // cancelled on the wire
  while (finished < 2) ioc.run_one();
  CHECK(first_error);
  CHECK(c.pacer().operating_at("user.current", c.portal_now()) == doctest::Approx(0.0));
  CHECK(srv.requests.size() == 1);
}
