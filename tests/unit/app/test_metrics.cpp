// Metrics without sockets: the registry's text exposition and escaping, the service metrics and their
// health rule under literal times, request routing, and metrics.listen parsing.
#include "app/metrics.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>

using namespace std::chrono;
namespace app = b24sync::app;

namespace {

const sys_seconds t0 = sys_days{year{2026} / 12 / 1} + hours{10};

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("the registry renders families in declaration order with HELP, TYPE and sorted series") {
  app::metrics_registry r;
  r.declare("x_requests_total", app::metric_type::counter, "Requests.", {"method", "code"});
  r.declare("x_temperature", app::metric_type::gauge, "Degrees.");
  r.add("x_requests_total", {{"method", "post"}, {"code", "200"}}, 3);
  r.add("x_requests_total", {{"code", "200"}, {"method", "get"}}, 1);
  r.add("x_requests_total", {{"method", "get"}, {"code", "200"}}, 1);  // same series, labels in another order
  r.set("x_temperature", {}, -1.5);
  CHECK(r.render() ==
        "# HELP x_requests_total Requests.\n"
        "# TYPE x_requests_total counter\n"
        "x_requests_total{code=\"200\",method=\"get\"} 2\n"
        "x_requests_total{code=\"200\",method=\"post\"} 3\n"
        "# HELP x_temperature Degrees.\n"
        "# TYPE x_temperature gauge\n"
        "x_temperature -1.5\n");
  CHECK(r.value("x_requests_total", {{"method", "get"}, {"code", "200"}}) == 2);
  CHECK(r.value("x_requests_total", {{"method", "put"}, {"code", "200"}}) == 0);
}

TEST_CASE("label values and help text are escaped as the text format requires") {
  CHECK(app::escape_label_value(R"(C:\dir "q")" "\nx") == R"(C:\\dir \"q\"\nx)");
  CHECK(app::escape_help("a\\b \"c\"\nd") == "a\\\\b \"c\"\\nd");
  app::metrics_registry r;
  r.declare("x_errors_total", app::metric_type::counter, "Errors\nby code.", {"code"});
  r.add("x_errors_total", {{"code", "bad \"one\""}}, 1);
  const auto text = r.render();
  CHECK(contains(text, "# HELP x_errors_total Errors\\nby code.\n"));
  CHECK(contains(text, "x_errors_total{code=\"bad \\\"one\\\"\"} 1\n"));
}

TEST_CASE("sample values use the shortest exact decimal and Prometheus' names for specials") {
  CHECK(app::format_sample_value(0) == "0");
  CHECK(app::format_sample_value(42) == "42");
  CHECK(app::format_sample_value(12.345) == "12.345");
  CHECK(app::format_sample_value(1764583200) == "1764583200");
  CHECK(app::format_sample_value(std::numeric_limits<double>::infinity()) == "+Inf");
  CHECK(app::format_sample_value(-std::numeric_limits<double>::infinity()) == "-Inf");
  CHECK(app::format_sample_value(std::nan("")) == "NaN");
}

TEST_CASE("registry misuse is refused: undeclared, wrong labels, counters going down, bad names") {
  app::metrics_registry r;
  r.declare("x_total", app::metric_type::counter, "X.", {"kind"});
  CHECK_THROWS_AS(r.add("y_total", {}, 1), std::invalid_argument);
  CHECK_THROWS_AS(r.add("x_total", {}, 1), std::invalid_argument);
  CHECK_THROWS_AS(r.add("x_total", {{"kind", "a"}, {"extra", "b"}}, 1), std::invalid_argument);
  CHECK_THROWS_AS(r.add("x_total", {{"kind", "a"}}, -1), std::invalid_argument);
  CHECK_THROWS_AS(r.set("x_total", {{"kind", "a"}}, 1), std::invalid_argument);
  CHECK_THROWS_AS(r.declare("x_total", app::metric_type::counter, "again"), std::invalid_argument);
  CHECK_THROWS_AS(r.declare("1x", app::metric_type::gauge, "bad"), std::invalid_argument);
  CHECK_THROWS_AS(r.declare("x_gauge", app::metric_type::gauge, "bad", {"__reserved"}), std::invalid_argument);
}

TEST_CASE("service metrics expose every b24sync_ family from the start, unlabelled ones at zero") {
  const app::service_metrics m;
  const auto text = m.render(t0, hours{1});
  for (const char* family :
       {"b24sync_runs_total", "b24sync_operations_total", "b24sync_portal_errors_total", "b24sync_http_503_total",
        "b24sync_http_429_total", "b24sync_last_run_timestamp_seconds", "b24sync_last_success_timestamp_seconds",
        "b24sync_last_run_duration_seconds", "b24sync_last_run_success", "b24sync_users_managed",
        "b24sync_healthy", "b24sync_build_info"}) {
    CAPTURE(family);
    CHECK(contains(text, std::string("# TYPE ") + family + " "));
  }
  CHECK(contains(text, "\nb24sync_http_503_total 0\n"));
  CHECK(contains(text, "\nb24sync_runs_total{outcome=\"failed\"} 0\n"));
  CHECK(contains(text, "\nb24sync_healthy 0\n"));
  CHECK(contains(text, "b24sync_build_info{version=\""));
}

TEST_CASE("a recorded run updates counters and gauges; operations and errors count by label") {
  app::service_metrics m;
  m.record_run({"ok", true, t0, duration<double>{12.5}});
  m.record_run({"partial_failure", false, t0 + minutes{15}, duration<double>{3}});
  m.add_operations("create", "done", 3);
  m.add_operations("create", "failed");
  m.add_portal_errors("QUERY_LIMIT_EXCEEDED", 2);
  m.add_http_503(2);
  m.add_http_429();
  m.set_users_managed(1234);
  const auto text = m.render(t0 + minutes{16}, hours{1});
  CHECK(contains(text, "\nb24sync_runs_total{outcome=\"ok\"} 1\n"));
  CHECK(contains(text, "\nb24sync_runs_total{outcome=\"partial_failure\"} 1\n"));
  CHECK(contains(text, "\nb24sync_operations_total{kind=\"create\",outcome=\"done\"} 3\n"));
  CHECK(contains(text, "\nb24sync_operations_total{kind=\"create\",outcome=\"failed\"} 1\n"));
  CHECK(contains(text, "\nb24sync_portal_errors_total{code=\"QUERY_LIMIT_EXCEEDED\"} 2\n"));
  CHECK(contains(text, "\nb24sync_http_503_total 2\n"));
  CHECK(contains(text, "\nb24sync_http_429_total 1\n"));
  CHECK(contains(text, "\nb24sync_users_managed 1234\n"));
  CHECK(contains(text, "\nb24sync_last_run_duration_seconds 3\n"));
  CHECK(contains(text, "\nb24sync_last_run_success 0\n"));
  // The last success stays at the first run; the last run moved on.
  CHECK(m.value("b24sync_last_success_timestamp_seconds") == static_cast<double>(t0.time_since_epoch().count()));
  CHECK(m.value("b24sync_last_run_timestamp_seconds") ==
        static_cast<double>((t0 + minutes{15}).time_since_epoch().count()));
}

TEST_CASE("health: none before the first run, ok after a recent success, not after a failure or when stale") {
  app::service_metrics m;
  CHECK(m.health(t0, hours{1}).reason == "no run has finished yet");
  CHECK_FALSE(m.health(t0, hours{1}).healthy);

  m.record_run({"changes", true, t0, duration<double>{1}});
  CHECK(m.health(t0 + minutes{59}, hours{1}).healthy);
  CHECK(m.health(t0 + hours{1}, hours{1}).healthy);  // exactly max_age is still fine
  const auto stale = m.health(t0 + hours{1} + seconds{1}, hours{1});
  CHECK_FALSE(stale.healthy);
  CHECK(stale.reason == "last run finished 3601s ago, more than the allowed 3600s");
  CHECK(contains(m.render(t0 + hours{2}, hours{1}), "\nb24sync_healthy 0\n"));
  CHECK(contains(m.render(t0 + minutes{1}, hours{1}), "\nb24sync_healthy 1\n"));

  m.record_run({"guard_tripped", false, t0 + minutes{15}, duration<double>{1}});
  const auto failed = m.health(t0 + minutes{16}, hours{1});
  CHECK_FALSE(failed.healthy);
  CHECK(failed.reason == "last run failed (outcome guard_tripped)");

  m.record_run({"ok", true, t0 + minutes{30}, duration<double>{1}});
  CHECK(m.health(t0 + minutes{31}, hours{1}).healthy);
}

TEST_CASE("requests are routed: metrics, healthz, 404 for other paths, 405 for other methods") {
  app::service_metrics m;
  const auto metrics = app::answer_metrics_request("GET", "/metrics", m, t0, hours{1});
  CHECK(metrics.status == 200);
  CHECK(metrics.content_type == "text/plain; version=0.0.4; charset=utf-8");
  CHECK(contains(metrics.body, "# TYPE b24sync_runs_total counter\n"));
  CHECK(app::answer_metrics_request("GET", "/metrics?name[]=x", m, t0, hours{1}).status == 200);
  CHECK(app::answer_metrics_request("HEAD", "/metrics", m, t0, hours{1}).status == 200);

  const auto down = app::answer_metrics_request("GET", "/healthz", m, t0, hours{1});
  CHECK(down.status == 503);
  CHECK(down.body == "no run has finished yet\n");
  m.record_run({"ok", true, t0, duration<double>{1}});
  const auto up = app::answer_metrics_request("GET", "/healthz", m, t0, hours{1});
  CHECK(up.status == 200);
  CHECK(up.body == "ok\n");

  CHECK(app::answer_metrics_request("GET", "/", m, t0, hours{1}).status == 404);
  CHECK(app::answer_metrics_request("GET", "/metrics/x", m, t0, hours{1}).status == 404);
  CHECK(app::answer_metrics_request("POST", "/metrics", m, t0, hours{1}).status == 405);
  CHECK(app::answer_metrics_request("DELETE", "/healthz", m, t0, hours{1}).status == 405);
  CHECK(app::answer_metrics_request("POST", "/nope", m, t0, hours{1}).status == 404);
}

TEST_CASE("metrics.listen takes host:port, [IPv6]:port or localhost:port, and names what is wrong") {
  CHECK(app::parse_listen_address("127.0.0.1:9464").host == "127.0.0.1");
  CHECK(app::parse_listen_address("127.0.0.1:9464").port == 9464);
  CHECK(app::parse_listen_address("[::1]:9464").host == "::1");
  CHECK(app::parse_listen_address("localhost:0").host == "127.0.0.1");
  CHECK(app::parse_listen_address("localhost:0").port == 0);
  const auto message = [](const char* listen) -> std::string {
    try {
      (void)app::parse_listen_address(listen);
    } catch (const app::metrics_error& e) {
      return e.what();
    }
    return "(accepted)";
  };
  CHECK(message("127.0.0.1") == "metrics.listen \"127.0.0.1\": expected host:port");
  CHECK(message("::1:9464") == "metrics.listen \"::1:9464\": write an IPv6 address in brackets: [::1]:9464");
  CHECK(message("[::1]9464") == "metrics.listen \"[::1]9464\": expected [IPv6]:port");
  CHECK(message(":9464") == "metrics.listen \":9464\": the host is missing");
  CHECK(message("127.0.0.1:http") == "metrics.listen \"127.0.0.1:http\": the port must be a number 0..65535");
  CHECK(message("127.0.0.1:65536") == "metrics.listen \"127.0.0.1:65536\": the port must be a number 0..65535");
  CHECK(message("127.0.0.1:") == "metrics.listen \"127.0.0.1:\": the port must be a number 0..65535");
}
