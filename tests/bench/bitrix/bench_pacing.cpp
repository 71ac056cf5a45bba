// tests/bench/bitrix/bench_pacing.cpp: N user.update commands (default 10,000) against the emulator's
// real limits (2/s, burst 50) with 20 ms latency. Reports wall time against the theoretical minimum
// max(0, ceil(N/50) − 50) / 2 s, requests, 503s and 429s. The emulator and the client run time-scaled;
// all times are printed in real-time-equivalent seconds (measured × scale).
#include "bitrix/client.hpp"
#include "server/server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <string>

namespace {

namespace json = boost::json;
namespace bx = b24sync::bitrix;
using steady = std::chrono::steady_clock;

json::object seed(int users) {
  json::array us;
  us.push_back({{"ID", 1}, {"EMAIL", "admin@corp.test"}, {"IS_ADMIN", true}, {"UF_DEPARTMENT", json::array{1}}});
  for (int id = 2; id <= users + 1; ++id) {
    us.push_back({{"ID", id}, {"EMAIL", "u" + std::to_string(id) + "@corp.test"}, {"UF_DEPARTMENT", json::array{1}}});
  }
  return {{"departments", json::array{{{"ID", 1}, {"NAME", "Corp"}}}},
          {"users", us},
          {"webhooks", json::array{{{"user_id", 1}, {"secret", "benchcode"}}}}};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bench_pacing: paced user.update batches under the portal's request limit"};
  int n = 10000;
  double scale = 10;
  double latency_ms = 20;
  int runs = 1;
  app.add_option("-n,--commands", n, "user.update commands");
  app.add_option("--scale", scale, "time scale (portal seconds per real second) for emulator and client");
  app.add_option("--latency-ms", latency_ms, "network latency per request, real-time-equivalent ms");
  app.add_option("--runs", runs, "repetitions (each on a fresh emulator)");
  CLI11_PARSE(app, argc, argv);

  const double batches = std::ceil(n / 50.0);
  const double theoretical = std::max(0.0, batches - 50) / 2.0;
  int failures = 0;
  for (int run = 1; run <= runs; ++run) {
    try {
      b24emu::server_options o;
      o.seed = seed(n);
      o.time_scale = scale;
      json::object rule{{"fault", "latency"}, {"p", 1.0}};
      rule["latency_ms"] = std::max<std::int64_t>(1, std::llround(latency_ms / scale));
      o.faults = b24emu::parse_fault_spec(json::object{{"rules", json::array{rule}}});
      b24emu::server srv(std::move(o));
      srv.start();

      boost::asio::io_context ioc;
      bx::client_config cfg;
      cfg.base_url = srv.base_url();
      cfg.auth = bx::webhook_auth{1, bx::secret("benchcode")};
      cfg.time_scale = scale;
      bx::client c(ioc, cfg, nullptr);

      std::vector<bx::command> cmds;
      cmds.reserve(static_cast<std::size_t>(n));
      for (int i = 0; i < n; ++i) {
        const int id = i + 2;
        cmds.push_back({"", "user.update", {{"ID", id}, {"WORK_POSITION", "run" + std::to_string(run) + "-" + std::to_string(id)}}});
      }
      std::vector<bx::command_outcome> out;
      std::exception_ptr error;
      const auto t0 = steady::now();
      boost::asio::co_spawn(ioc, c.async_batch(std::move(cmds)), [&](std::exception_ptr e, std::vector<bx::command_outcome> v) {
        error = e;
        out = std::move(v);
      });
      ioc.run();
      const double wall_eq = std::chrono::duration<double>(steady::now() - t0).count() * scale;
      if (error) std::rethrow_exception(error);

      const auto ok = std::count_if(out.begin(), out.end(), [](const bx::command_outcome& x) { return x.ok; });
      auto users = srv.with_portal([](b24emu::portal& p) { return p.dump_users(); });
      int applied = 0;
      for (auto& u : users.as_array()) {
        auto* wp = u.as_object().if_contains("WORK_POSITION");
        applied += wp && wp->is_string() && wp->get_string().starts_with("run" + std::to_string(run) + "-");
      }
      const auto& st = c.stats();
      const double pct503 = 100.0 * static_cast<double>(st.http_503) / static_cast<double>(st.http_requests);
      std::printf("bench_pacing run %d: N=%d scale=%g latency=%g ms (real-equivalent)\n", run, n, scale, latency_ms);
      std::printf("  wall time: %.1f s real-equivalent; theoretical minimum %.1f s; ratio %.3f (target <= 1.05)\n", wall_eq,
                  theoretical, theoretical > 0 ? wall_eq / theoretical : 0.0);
      std::printf("  requests: %llu (ceil(N/50) = %.0f); 503s: %llu (%.2f%%, target <= 1%%); 429s: %llu; retries: %llu\n",
                  static_cast<unsigned long long>(st.http_requests), batches, static_cast<unsigned long long>(st.http_503),
                  pct503, static_cast<unsigned long long>(st.http_429), static_cast<unsigned long long>(st.retries));
      std::printf("  commands ok: %lld / %d; applied on the portal: %d; rate-limit wait %.1f s real-equivalent\n",
                  static_cast<long long>(ok), n, applied, st.waited_rate_s * scale);
      std::printf("{\"bench\":\"pacing\",\"run\":%d,\"n\":%d,\"wall_eq_s\":%.2f,\"min_s\":%.2f,\"ratio\":%.4f,"
                  "\"requests\":%llu,\"http_503\":%llu,\"http_429\":%llu,\"applied\":%d}\n",
                  run, n, wall_eq, theoretical, theoretical > 0 ? wall_eq / theoretical : 0.0,
                  static_cast<unsigned long long>(st.http_requests), static_cast<unsigned long long>(st.http_503),
                  static_cast<unsigned long long>(st.http_429), applied);
      srv.stop();
      if (ok != n || applied != n) ++failures;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "bench_pacing: %s\n", e.what());
      return 1;
    }
  }
  return failures == 0 ? 0 : 1;
}
