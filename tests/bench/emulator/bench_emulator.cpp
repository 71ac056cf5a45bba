// bench_emulator: how many requests per second the emulator serves over loopback with its limits off,
// on a few kept-alive connections. Prints one result line. Run by hand (tests/emulator/README.md).
#include "server/server.hpp"
#include "support/test_http_client.hpp"

#include <CLI/CLI.hpp>
#include <boost/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

namespace {

// A portal with `users` employees in one department and one admin webhook.
boost::json::value make_seed(int users) {
  boost::json::array list;
  for (int i = 1; i <= users; ++i) {
    list.push_back(boost::json::object{{"ID", i},
                                       {"EMAIL", "user" + std::to_string(i) + "@bench.test"},
                                       {"NAME", "User"},
                                       {"LAST_NAME", "N" + std::to_string(i)},
                                       {"IS_ADMIN", i == 1},
                                       {"UF_DEPARTMENT", boost::json::array{1}}});
  }
  return boost::json::object{{"departments", boost::json::array{boost::json::object{{"ID", 1}, {"NAME", "Bench"}}}},
                             {"users", std::move(list)},
                             {"webhooks", boost::json::array{boost::json::object{{"user_id", 1}, {"secret", "benchhook"}}}}};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bench_emulator: loopback throughput of the Bitrix24 portal emulator (limits off, keep-alive)"};
  int connections = 4;
  int requests = 20'000;
  int users = 100;
  std::string method = "user.current";
  std::string body = "{}";
  app.add_option("-c,--connections", connections, "concurrent kept-alive connections")->capture_default_str()->check(CLI::Range(1, 256));
  app.add_option("-n,--requests", requests, "total requests")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--users", users, "users in the seed")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--method", method, "REST method called through the webhook")->capture_default_str();
  app.add_option("--body", body, "JSON body of every call")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  b24emu::server_options opt;
  opt.seed = make_seed(users);
  opt.limits_patch = boost::json::parse(R"({"rate_enabled": false, "operating_enabled": false, "default_cost_s": 0})");
  b24emu::server srv(std::move(opt));
  srv.with_portal([](b24emu::portal& p) { p.limits().method_cost_s.clear(); });  // no simulated waits
  srv.start();

  const std::string target = "/rest/1/benchhook/" + method;
  std::atomic<long> errors{0}, non_200{0};
  std::vector<std::thread> workers;
  const auto t0 = std::chrono::steady_clock::now();
  for (int w = 0; w < connections; ++w) {
    const int share = requests / connections + (w < requests % connections ? 1 : 0);
    workers.emplace_back([&, share] {
      b24sync::test::test_http_client c(b24sync::test::options_from_url(srv.base_url()));
      for (int i = 0; i < share; ++i) {
        try {
          if (c.post_json(target, body).status != 200) ++non_200;
        } catch (const std::exception&) {
          ++errors;
        }
      }
    });
  }
  for (auto& t : workers) t.join();
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - t0;
  srv.stop();
  std::printf("bench_emulator: %d x %s over %d keep-alive connections in %.3f s = %.0f req/s (non-200 %ld, errors %ld)\n",
              requests, method.c_str(), connections, elapsed.count(), requests / elapsed.count(), non_200.load(),
              errors.load());
  return errors.load() == 0 && non_200.load() == 0 ? 0 : 1;
}
