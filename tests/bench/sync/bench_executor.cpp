// tests/bench/sync/bench_executor.cpp: the executor end to end against the time-scaled emulator with the
// portal's real limits. (a) N user.update at 2 req/s + burst 50 with 20 ms latency, against the request
// limit's minimum; (b) N user.add under the operating-time limit (480 s per 600 s) at a simulated cost per
// add, against that limit's minimum. Every time is printed in portal (real-time-equivalent) seconds.
#include "bitrix/client.hpp"
#include "server/server.hpp"
#include "sync/executor.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <set>
#include <string>
#include <vector>

namespace {

namespace json = boost::json;
namespace bx = b24sync::bitrix;
namespace sy = b24sync::sync;
using steady = std::chrono::steady_clock;

constexpr const char* secret_code = "benchcode";
constexpr const char* hr_field = "UF_USR_HR_ID";

json::object seed(int users) {
  json::array us;
  us.push_back({{"ID", 1}, {"EMAIL", "admin@corp.test"}, {"IS_ADMIN", true}, {"UF_DEPARTMENT", json::array{1}}});
  for (int id = 2; id <= users + 1; ++id) {
    us.push_back({{"ID", id}, {"EMAIL", "u" + std::to_string(id) + "@corp.test"}, {"UF_DEPARTMENT", json::array{1}}});
  }
  return {{"departments", json::array{{{"ID", 1}, {"NAME", "Corp"}}}},
          {"users", us},
          {"webhooks", json::array{{{"user_id", 1}, {"secret", secret_code}}}},
          {"user_fields", json::array{{{"FIELD_NAME", hr_field}, {"USER_TYPE_ID", "string"}}}}};
}

sy::field_change change(std::string field, sy::wire_value v) {
  sy::field_change c;
  c.field = std::move(field);
  c.value = std::move(v);
  return c;
}

struct outcome {
  double wall_eq = 0;  // portal seconds
  sy::run_result res;
  bx::client_stats client;
  std::size_t applied_on_portal = 0;
  std::size_t invitations = 0;
  std::size_t duplicates = 0;
};

std::size_t chunk_commands = 0;  // --chunk: executor_config::chunk_commands (0 = its default)

outcome execute(b24emu::server& srv, double scale, const sy::plan& p, double operating_limit_s = 480) {
  boost::asio::io_context ioc;
  bx::client_config cfg;
  cfg.base_url = srv.base_url();
  cfg.auth = bx::webhook_auth{1, bx::secret(secret_code)};
  cfg.time_scale = scale;
  cfg.operating_limit_s = operating_limit_s;
  bx::client c(ioc, cfg, nullptr);
  outcome out;
  std::exception_ptr error;
  const auto t0 = steady::now();
  sy::executor_config ecfg;
  ecfg.chunk_commands = chunk_commands;
  boost::asio::co_spawn(ioc, sy::async_execute(c, p, nullptr, ecfg, nullptr),
                        [&](std::exception_ptr e, sy::run_result r) {
                          error = e;
                          out.res = std::move(r);
                        });
  ioc.run();
  out.wall_eq = std::chrono::duration<double>(steady::now() - t0).count() * scale;
  if (error) std::rethrow_exception(error);
  out.client = c.stats();
  return out;
}

void print_common(const outcome& o, double scale) {
  const auto& st = o.client;
  const double pct503 = st.http_requests ? 100.0 * static_cast<double>(st.http_503) / static_cast<double>(st.http_requests) : 0;
  std::printf("  requests %llu; 503s %llu (%.2f%%); 429s %llu; per-command OPERATION_TIME_LIMIT %llu; retries %llu; "
              "waits summed over connections: operating-time pacing %.1f s, rate %.1f s\n",
              static_cast<unsigned long long>(st.http_requests), static_cast<unsigned long long>(st.http_503), pct503,
              static_cast<unsigned long long>(st.http_429), static_cast<unsigned long long>(st.operation_time_limit),
              static_cast<unsigned long long>(st.retries), st.waited_pacing_s * scale, st.waited_rate_s * scale);
}

// (a) N user.update through the executor under the request-rate limit.
bool bench_updates(int n, double scale, double latency_ms) {
  b24emu::server_options o;
  o.seed = seed(n);
  o.time_scale = scale;
  json::object rule{{"fault", "latency"}, {"p", 1.0}};
  rule["latency_ms"] = std::max<std::int64_t>(1, std::llround(latency_ms / scale));  // real ms
  o.faults = b24emu::parse_fault_spec(json::object{{"rules", json::array{rule}}});
  o.limits_patch = json::object{{"rate_per_s", 2}, {"burst", 50}, {"operating_enabled", false}};
  b24emu::server srv(std::move(o));
  srv.start();

  sy::plan p;
  for (int i = 0; i < n; ++i) {
    sy::user_op u;
    u.kind = sy::op_kind::update;
    u.user_id = i + 2;
    u.key = "K" + std::to_string(i + 2);
    u.changes = {change("WORK_POSITION", "bench-" + std::to_string(i + 2))};
    p.users.push_back(std::move(u));
  }
  auto out = execute(srv, scale, p);
  auto users = srv.with_portal([](b24emu::portal& pt) { return pt.dump_users(); });
  for (auto& u : users.as_array()) {
    auto* wp = u.as_object().if_contains("WORK_POSITION");
    out.applied_on_portal += wp && wp->is_string() && wp->get_string().starts_with("bench-");
  }
  srv.stop();

  // Burst 50 go at once; request k > 50 may start (k − 50) × 0.5 s later, so the last of ceil(N/50)
  // requests starts at (ceil(N/50) − 50) / 2 s (its own latency not counted).
  const double requests = std::ceil(n / 50.0);
  const double minimum = std::max(0.0, requests - 50) / 2.0;
  const double ratio = minimum > 0 ? out.wall_eq / minimum : 0;
  std::printf("(a) %d user.update, 2/s + burst 50, latency %g ms, scale %g\n", n, latency_ms, scale);
  std::printf("  wall %.1f s; minimum max(0, ceil(N/50) - 50) / 2 = %.1f s; ratio %.3f (target <= 1.05)\n",
              out.wall_eq, minimum, ratio);
  print_common(out, scale);
  std::printf("  applied %zu / %d (result: %zu applied, %zu failed)\n", out.applied_on_portal, n, out.res.applied(),
              out.res.failed());
  std::printf("{\"bench\":\"executor_updates\",\"n\":%d,\"wall_eq_s\":%.2f,\"min_s\":%.2f,\"ratio\":%.4f,"
              "\"requests\":%llu,\"http_503\":%llu,\"http_429\":%llu}\n",
              n, out.wall_eq, minimum, ratio, static_cast<unsigned long long>(out.client.http_requests),
              static_cast<unsigned long long>(out.client.http_503), static_cast<unsigned long long>(out.client.http_429));
  return out.applied_on_portal == static_cast<std::size_t>(n) && out.res.failed() == 0;
}

// (b) N user.add through the executor under the operating-time limit at `cost` s per add.
bool bench_adds(int n, double scale, double cost, double limit_s, std::size_t in_flight) {
  b24emu::server_options o;
  o.seed = seed(0);
  o.time_scale = scale;
  o.limits_patch = json::object{{"rate_per_s", 2},
                                {"burst", 50},
                                {"operating_enabled", true},
                                {"operating_limit_s", limit_s},
                                {"method_cost_s", {{"user.add", cost}}}};
  b24emu::server srv(std::move(o));
  srv.start();

  sy::plan p;
  for (int i = 0; i < n; ++i) {
    sy::user_op u;
    u.kind = sy::op_kind::create;
    u.key = "A" + std::to_string(i);
    u.email = "a" + std::to_string(i) + "@bench.test";
    u.changes = {change("EMAIL", u.email), change("NAME", "Bench " + std::to_string(i)),
                 change("UF_DEPARTMENT", std::vector<std::string>{"1"}), change(hr_field, u.key)};
    p.users.push_back(std::move(u));
  }
  auto out = execute(srv, scale, p, limit_s);
  auto users = srv.with_portal([](b24emu::portal& pt) { return pt.dump_users(); });
  std::set<std::string> keys;
  for (auto& u : users.as_array()) {
    auto* k = u.as_object().if_contains(hr_field);
    if (!k || !k->is_string()) continue;
    ++out.applied_on_portal;
    if (!keys.insert(std::string(k->get_string())).second) ++out.duplicates;
  }
  out.invitations = srv.with_portal([](b24emu::portal& pt) { return pt.invitations(); }).as_array().size();
  srv.stop();

  // S = N × cost seconds of operating time; B = limit per W = 600 s window. A client running P
  // batches at once burns at most P operating seconds per second, so the fastest schedule runs B,
  // waits for the window, runs B again...: T = W × (ceil(S/B) − 1) + (S − B × (ceil(S/B) − 1)) / P.
  const double w = 600;
  const double s = n * cost;
  const double full = std::ceil(s / limit_s) - 1;
  const double minimum = w * full + (s - limit_s * full) / static_cast<double>(in_flight);
  const double ratio = out.wall_eq / minimum;
  const double throughput_share = (s / out.wall_eq) / (limit_s / w);
  std::printf("(b) %d user.add at %.2f s each (S = %.0f s of operating time), limit %.0f s / 600 s, %zu in flight, "
              "scale %g\n",
              n, cost, s, limit_s, in_flight, scale);
  std::printf("  wall %.1f s; minimum 600 × (ceil(S/B) - 1) + (S - B × (ceil(S/B) - 1)) / P = %.1f s; ratio %.3f "
              "(target <= 1.05); S/T vs B/W = %.3f\n",
              out.wall_eq, minimum, ratio, throughput_share);
  print_common(out, scale);
  std::printf("  on the portal %zu / %d, duplicates %zu, invitations %zu (result: %zu applied, %zu failed)\n",
              out.applied_on_portal, n, out.duplicates, out.invitations, out.res.applied(), out.res.failed());
  std::printf("{\"bench\":\"executor_adds\",\"n\":%d,\"cost_s\":%.2f,\"wall_eq_s\":%.2f,\"min_s\":%.2f,\"ratio\":%.4f,"
              "\"requests\":%llu,\"http_429\":%llu,\"otl_commands\":%llu,\"invitations\":%zu}\n",
              n, cost, out.wall_eq, minimum, ratio, static_cast<unsigned long long>(out.client.http_requests),
              static_cast<unsigned long long>(out.client.http_429),
              static_cast<unsigned long long>(out.client.operation_time_limit), out.invitations);
  return out.applied_on_portal == static_cast<std::size_t>(n) && out.duplicates == 0 &&
         out.invitations == static_cast<std::size_t>(n) && out.res.failed() == 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bench_executor: the sync executor against the emulator's request and operating-time limits"};
  std::string mode = "all";
  int updates = 10000;
  int adds = 2000;
  double scale = 10;
  double add_scale = 25;
  double latency_ms = 20;
  std::vector<double> costs{0.5, 0.7, 1.1};
  double limit_s = 480;
  app.add_option("--mode", mode, "updates, adds or all")->check(CLI::IsMember({"updates", "adds", "all"}));
  app.add_option("--updates", updates, "user.update operations for (a)");
  app.add_option("--adds", adds, "user.add operations for (b)");
  app.add_option("--scale", scale, "time scale for (a): portal seconds per real second");
  app.add_option("--add-scale", add_scale, "time scale for (b)");
  app.add_option("--latency-ms", latency_ms, "latency per request in (a), portal ms");
  app.add_option("--cost", costs, "simulated seconds per user.add in (b), repeatable");
  app.add_option("--operating-limit", limit_s, "operating-time limit per 600 s in (b)");
  app.add_option("--chunk", chunk_commands, "commands per executor chunk (0 = default: batch_size × max_in_flight)");
  CLI11_PARSE(app, argc, argv);

  bool ok = true;
  try {
    if (mode == "updates" || mode == "all") ok = bench_updates(updates, scale, latency_ms) && ok;
    if (mode == "adds" || mode == "all") {
      for (double cost : costs) ok = bench_adds(adds, add_scale, cost, limit_s, bx::client_config{}.max_in_flight) && ok;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_executor: %s\n", e.what());
    return 1;
  }
  return ok ? 0 : 1;
}
