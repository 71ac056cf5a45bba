// Loopback tests of the emulator server over real sockets: keep-alive, the REST envelope, the rate limit
// with portal time, simulated cost, /emu endpoints, the request log and shutdown.
#include "emu_fixture.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <thread>

using namespace emu_test;
using b24sync::test::test_http_client;

TEST_CASE("port 0 binds a free loopback port and base_url names it") {
  running_server s;
  CHECK(s->port() != 0);
  CHECK(s->base_url() == "http://127.0.0.1:" + std::to_string(s->port()));
  CHECK_FALSE(s->tls());
  running_server other;
  CHECK(other->port() != s->port());
}

TEST_CASE("webhook calls share one kept-alive connection and carry the REST envelope") {
  running_server s;
  auto c = s.client();
  for (int i = 0; i < 3; ++i) {
    const auto r = c.post_json(std::string(hook) + "user.get.json", R"({"FILTER": {"ID": 2}})");
    REQUIRE(r.status == 200);
    CHECK(r.keep_alive);
    CHECK(r.header("Content-Type").find("application/json") != std::string::npos);
    const auto v = json_of(r);
    REQUIRE(v.at("result").is_array());
    CHECK(v.at("result").as_array().size() == 1);
    CHECK(v.at("result").at(0).at("EMAIL") == "bob@corp.test");
    const auto& t = v.at("time").as_object();
    for (const char* key : {"start", "finish", "duration", "processing", "date_start", "date_finish"})
      CHECK_MESSAGE(t.contains(key), key);
    // Portal time comes from the server's start time, not the wall clock.
    CHECK(t.at("start").to_number<double>() >= 1'767'225'600.0);
    CHECK(t.at("start").to_number<double>() < 1'767'225'600.0 + 3600);
  }
  CHECK(c.connections_opened() == 1);
  CHECK(server_stat(c, "connections_accepted") == 1);
  CHECK(server_stat(c, "rest_requests") == 3);
}

TEST_CASE("io_thread_cpu_seconds counts the io thread's work: 0 before start, growing with requests") {
  b24emu::server idle(default_options());
  CHECK(idle.io_thread_cpu_seconds() == 0.0);
  running_server s;
  auto c = s.client();
  const double before = s->io_thread_cpu_seconds();
  CHECK(before >= 0.0);
  // user.get of every user, many times: enough work to show on a thread clock of any resolution.
  for (int i = 0; i < 300; ++i) REQUIRE(c.post_json(std::string(hook) + "user.get.json", "{}").status == 200);
  const double after = s->io_thread_cpu_seconds();
  CHECK(after > before);
  CHECK(after - before < 60.0);  // seconds, not some other unit
}

TEST_CASE("wait_rest_requests returns once the portal has seen that many REST requests, /emu ones not counted") {
  running_server s;
  auto c = s.client();
  CHECK(s->wait_rest_requests(0, std::chrono::milliseconds(0)));
  CHECK_FALSE(s->wait_rest_requests(1, std::chrono::milliseconds(1)));  // nothing sent yet
  REQUIRE(c.get("/emu/stats").status == 200);
  CHECK_FALSE(s->wait_rest_requests(1, std::chrono::milliseconds(1)));  // /emu is not REST
  // From another thread, while this one waits: the wait ends at the second request, not at a timeout.
  int answered = 0;
  std::thread sender([&] {
    auto other = s.client();
    for (int i = 0; i < 2; ++i) answered += other.post_json(std::string(hook) + "user.get.json", "{}").status == 200;
  });
  CHECK(s->wait_rest_requests(2, std::chrono::minutes(1)));
  sender.join();
  CHECK(answered == 2);
  CHECK(server_stat(c, "rest_requests") == 2);
}

TEST_CASE("an unknown method answers 404 ERROR_METHOD_NOT_FOUND through the server") {
  running_server s;
  auto c = s.client();
  const auto r = c.post_json(std::string(hook) + "no.such.method", "{}");
  CHECK(r.status == 404);
  CHECK(json_of(r).at("error") == "ERROR_METHOD_NOT_FOUND");
}

TEST_CASE("an over-long request line is refused with 414, as a front end would") {
  running_server s;
  auto c = s.client();
  const auto r = c.get(std::string(hook) + "user.get?FILTER[NAME]=" + std::string(20'000, 'x'));
  CHECK(r.status == 414);
  CHECK_FALSE(r.keep_alive);
  CHECK(c.get("/emu/time").status == 200);
  CHECK(c.connections_opened() == 2);
}

TEST_CASE("the leaky bucket answers 503 after the burst and drains with portal time") {
  auto o = default_options();
  o.limits_patch = boost::json::parse(R"({"rate_enabled": true, "rate_per_s": 2, "burst": 5, "operating_enabled": false})");
  running_server s(std::move(o));
  auto c = s.client();
  int ok_before_503 = 0;
  bool saw_503 = false;
  for (int i = 0; i < 20 && !saw_503; ++i) {
    const auto r = c.post_json(std::string(hook) + "user.current", "{}");
    if (r.status == 503) {
      saw_503 = true;
      const auto v = json_of(r);
      CHECK(v.at("error") == "QUERY_LIMIT_EXCEEDED");
      CHECK_FALSE(v.as_object().contains("time"));
    } else {
      REQUIRE(r.status == 200);
      ++ok_before_503;
    }
  }
  REQUIRE(saw_503);
  // At 2/s only a fraction of a request drains during the loop itself.
  CHECK(ok_before_503 >= 5);
  CHECK(ok_before_503 <= 6);
  // Ten portal seconds later the bucket has drained by 20: no waiting in real time.
  const auto t = c.post_json("/emu/time", R"({"advance_s": 10})");
  REQUIRE(t.status == 200);
  CHECK(c.post_json(std::string(hook) + "user.current", "{}").status == 200);
  CHECK(c.connections_opened() == 1);
}

TEST_CASE("a simulated cost delays the answer by cost / time_scale") {
  auto o = default_options();
  o.limits_patch = boost::json::parse(R"({"rate_enabled": false, "operating_enabled": false,
                                          "method_cost_s": {"user.get": 30}})");
  SUBCASE("at time scale 1 a client with a 300 ms deadline gives up") {
    running_server s(std::move(o));
    auto c = s.client(std::chrono::milliseconds(300));
    CHECK_THROWS_AS(c.post_json(std::string(hook) + "user.get", "{}"), boost::system::system_error);
    CHECK_FALSE(c.connected());
  }
  SUBCASE("at time scale 10000 the same call answers within the deadline") {
    o.time_scale = 10'000;
    running_server s(std::move(o));
    auto c = s.client(std::chrono::seconds(5));
    const auto r = c.post_json(std::string(hook) + "user.get", "{}");
    CHECK(r.status == 200);
    const double duration = json_of(r).at("time").at("duration").to_number<double>();
    CHECK(duration == doctest::Approx(30.0).epsilon(0.05));
  }
}

TEST_CASE("/emu endpoints: inspection") {
  running_server s;
  auto c = s.client();
  const auto users = json_of(c.get("/emu/users"));
  CHECK(users.as_array().size() == 2);
  CHECK(json_of(c.get("/emu/departments")).as_array().size() == 2);
  CHECK(json_of(c.get("/emu/invitations")).is_array());
  CHECK(json_of(c.get("/emu/notifications")).as_array().empty());
  const auto time = json_of(c.get("/emu/time"));
  CHECK(time.at("now").to_number<double>() >= 1'767'225'600.0);
  CHECK(time.at("time_scale").to_number<double>() == doctest::Approx(1.0));
  const auto stats = json_of(c.get("/emu/stats"));
  CHECK(stats.at("server").at("connections_accepted") == 1);
  CHECK(stats.at("server").at("faults_injected").at("close_after_apply") == 0);
  CHECK(json_of(c.get("/emu/limits")).at("rate_enabled") == false);
  CHECK(json_of(c.get("/emu/faults")).at("rules").as_array().empty());
  CHECK(c.get("/emu/nothing").status == 404);
  CHECK(c.request("DELETE", "/emu/users").status == 405);
}

TEST_CASE("/emu endpoints: control") {
  running_server s;
  auto c = s.client();
  SUBCASE("POST /emu/limits changes only the given fields") {
    const auto r = c.post_json("/emu/limits", R"({"burst": 250, "method_cost_s": {"user.add": 0.7}})");
    REQUIRE(r.status == 200);
    CHECK(json_of(r).at("burst").to_number<double>() == doctest::Approx(250.0));
    CHECK(json_of(r).at("rate_enabled") == false);
    const double cost = s->with_portal([](b24emu::portal& p) { return p.limits().method_cost_s.at("user.add"); });
    CHECK(cost == doctest::Approx(0.7));
    CHECK(c.post_json("/emu/limits", R"({"brust": 1})").status == 400);
  }
  SUBCASE("POST /emu/reset with a seed reloads the data and zeroes the stats") {
    c.post_json(std::string(hook) + "user.current", "{}");
    auto seed = small_seed();
    seed.as_object()["users"].as_array().pop_back();
    REQUIRE(c.post_json("/emu/reset", boost::json::serialize(seed)).status == 200);
    CHECK(json_of(c.get("/emu/users")).as_array().size() == 1);
    CHECK(server_stat(c, "rest_requests") == 0);
  }
  SUBCASE("POST /emu/reset without a body zeroes the stats only") {
    c.post_json(std::string(hook) + "user.current", "{}");
    REQUIRE(c.request("POST", "/emu/reset").status == 200);
    CHECK(server_stat(c, "rest_requests") == 0);
    CHECK(json_of(c.get("/emu/users")).as_array().size() == 2);
  }
  SUBCASE("a malformed seed or fault spec is a 400 and changes nothing") {
    CHECK(c.post_json("/emu/reset", R"({"users": 5})").status == 400);
    CHECK(c.post_json("/emu/reset", "{not json").status == 400);
    CHECK(c.post_json("/emu/faults", R"({"rules": [{"fault": "teapot", "p": 1}]})").status == 400);
    CHECK(json_of(c.get("/emu/users")).as_array().size() == 2);
  }
  SUBCASE("POST /emu/time jumps and rescales portal time") {
    const double before = json_of(c.get("/emu/time")).at("now").to_number<double>();
    const auto r = json_of(c.post_json("/emu/time", R"({"advance_s": 600, "time_scale": 50})"));
    CHECK(r.at("now").to_number<double>() >= before + 600);
    CHECK(r.at("time_scale").to_number<double>() == doctest::Approx(50.0));
    CHECK(c.post_json("/emu/time", R"({"advance": 1})").status == 400);
  }
}

TEST_CASE("the request log has one JSON line per request with secrets redacted") {
  const auto dir = std::filesystem::temp_directory_path() / ("b24emu-log-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto path = (dir / "requests.jsonl").string();
  std::filesystem::remove(path);
  {
    auto o = default_options();
    o.log_file = path;
    running_server s(std::move(o));
    auto c = s.client();
    c.post_json(std::string(hook) + "user.get?start=0", "{}");
    c.post_json("/rest/user.get?auth=tok-abc-123&start=0", "{}");
    c.get("/emu/stats");
  }
  std::ifstream in(path);
  std::string line, all;
  std::vector<boost::json::value> lines;
  while (std::getline(in, line)) {
    all += line + "\n";
    lines.push_back(boost::json::parse(line));
  }
  std::filesystem::remove_all(dir);
  REQUIRE(lines.size() == 3);
  CHECK(all.find(webhook_secret) == std::string::npos);
  CHECK(all.find("tok-abc-123") == std::string::npos);
  CHECK(lines[0].at("target") == "/rest/1/***/user.get?start=0");
  CHECK(lines[0].at("http_method") == "POST");
  CHECK(lines[0].at("status") == 200);
  CHECK(lines[0].at("rest_method") == "user.get");
  CHECK(lines[0].at("fault").is_null());
  CHECK(lines[0].as_object().contains("t"));
  CHECK(lines[0].as_object().contains("cost_s"));
  CHECK(lines[1].at("target") == "/rest/user.get?auth=***&start=0");
  CHECK(lines[2].at("target") == "/emu/stats");
}

TEST_CASE("stop() ends a call that is waiting out its simulated cost, and the port is closed") {
  auto o = default_options();
  o.limits_patch = boost::json::parse(R"({"rate_enabled": false, "operating_enabled": false,
                                          "method_cost_s": {"user.get": 100000}})");
  running_server s(std::move(o));
  const auto url = s->base_url();
  bool failed = false;
  std::thread caller([&] {
    auto c = b24sync::test::test_http_client(b24sync::test::options_from_url(url));
    try {
      c.post_json(std::string(hook) + "user.get", "{}");
    } catch (const boost::system::system_error&) {
      failed = true;
    }
  });
  // Wait (bounded) until the call is in: then the server is parked on its cost timer.
  auto probe = s.client();
  for (int i = 0; i < 10'000 && server_stat(probe, "rest_requests") == 0; ++i) {
  }
  REQUIRE(server_stat(probe, "rest_requests") == 1);
  s->stop();
  caller.join();
  CHECK(failed);
  auto late = b24sync::test::test_http_client(b24sync::test::options_from_url(url));
  CHECK_THROWS_AS(late.get("/emu/stats"), boost::system::system_error);
}
