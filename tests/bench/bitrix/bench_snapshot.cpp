// tests/bench/bitrix/bench_snapshot.cpp: snapshot of N users (default 100,000) from the emulator over
// loopback: HTTP requests used, wall time vs the emulator's own serving time, peak RSS.
//
// "Serving time" is the CPU time of the emulator's io thread during the fetch (clock of that thread,
// nanosecond resolution): everything the emulator did to serve the client's requests — HTTP parsing,
// the portal's handler, serialising and writing the answers — and none of the time it sat idle
// waiting for the client. A client that costs nothing would make wall == serving time; the ratio is
// how much the client holds the portal up. The emulator runs on its own core (2 here), so the ratio
// also rises when the machine runs something else: the fetch is repeated (--runs) and the median and
// best reported. For reference the bench also replays the same request sequence straight into the
// portal's handler (no sockets, no HTTP): that handler-only time is a floor no client over HTTP can
// reach, and its ratio is printed as well.
#include "bitrix/batch_codec.hpp"
#include "bitrix/client.hpp"
#include "bitrix/snapshot.hpp"
#include "server/server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <CLI/CLI.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

namespace {

namespace json = boost::json;
namespace bx = b24sync::bitrix;
using steady = std::chrono::steady_clock;

// CPU seconds (user + system) of every thread of this process, by thread id, from /proc: the client
// runs on the main thread, the emulator on its own, so the split shows which side bounds the wall time.
std::map<long, double> thread_cpu_seconds() {
  std::map<long, double> out;
  const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream in(entry.path() / "stat");
    std::string line;
    if (!std::getline(in, line)) continue;
    const auto close = line.rfind(')');  // the command name may hold spaces: fields follow the ')'
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 2));
    std::string field;
    double utime = 0, stime = 0;
    for (int k = 3; k <= 15 && rest >> field; ++k) {
      if (k == 14) utime = std::stod(field);
      if (k == 15) stime = std::stod(field);
    }
    out[std::stol(entry.path().filename().string())] = (utime + stime) / tick;
  }
  return out;
}

double peak_rss_mib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;
}

json::object seed(int users, int departments) {
  json::array deps;
  deps.push_back({{"ID", 1}, {"NAME", "Corp"}});
  for (int d = 2; d <= departments; ++d) deps.push_back({{"ID", d}, {"NAME", "Dept " + std::to_string(d)}, {"PARENT", 1}});
  json::array us;
  us.reserve(static_cast<std::size_t>(users) + 1);
  us.push_back({{"ID", 1}, {"EMAIL", "admin@corp.test"}, {"NAME", "Ada"}, {"IS_ADMIN", true}, {"UF_DEPARTMENT", json::array{1}}});
  for (int id = 2; id <= users; ++id) {
    us.push_back({{"ID", id},
                  {"EMAIL", "user" + std::to_string(id) + "@corp.test"},
                  {"NAME", "Name" + std::to_string(id)},
                  {"LAST_NAME", "Surname" + std::to_string(id)},
                  {"WORK_POSITION", "Engineer"},
                  {"PERSONAL_MOBILE", "+7 900 000-00-00"},
                  {"ACTIVE", id % 9 == 0 ? "N" : "Y"},
                  {"UF_DEPARTMENT", json::array{1 + id % departments}}});
  }
  return {{"departments", deps}, {"users", us}, {"webhooks", json::array{{{"user_id", 1}, {"secret", "benchcode"}}}}};
}

// The same planner-driven sequence as async_fetch_snapshot, handled by the portal in-process.
// Returns the seconds spent inside portal::handle() and the number of requests: the handler-only floor.
std::pair<double, int> serving_time(b24emu::server& srv, std::size_t batch_size) {
  srv.with_portal([](b24emu::portal& p) { p.limits().rate_enabled = false; });  // the replay is not the client's
  bx::snapshot_config cfg;
  cfg.batch_size = batch_size;
  bx::user_snapshot_planner users(cfg);
  bx::department_snapshot_planner departments(cfg);
  double busy = 0;
  int requests = 0;
  auto send = [&](std::vector<bx::command> cmds) {
    b24emu::http_request req;
    req.method = "POST";
    req.target = "/rest/1/benchcode/batch.json";
    req.content_type = "application/json";
    req.body = bx::build_batch_body(cmds, false);
    const double now = srv.portal_now();  // (takes the portal's lock: not inside with_portal)
    auto t0 = steady::now();
    auto h = srv.with_portal([&](b24emu::portal& p) { return p.handle(req, now); });
    busy += std::chrono::duration<double>(steady::now() - t0).count();
    ++requests;
    auto env = bx::parse_envelope(h.response.status, h.response.body, true);
    if (!env) throw std::runtime_error("replay failed: " + env.error.error);
    return bx::parse_batch_result(cmds, env.value->result, env.value->time);
  };
  for (;;) {
    auto u = users.next_request();
    auto d = departments.next_request();
    if (u.empty() && d.empty()) break;
    if (!u.empty()) (void)users.on_outcomes(send(u));
    if (!d.empty()) (void)departments.on_outcomes(send(d));
  }
  return {busy, requests};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bench_snapshot: b24sync snapshot of a large emulated portal"};
  int users = 100000;
  int departments = 40;
  std::size_t in_flight = 2;
  int runs = 5;
  app.add_option("--users", users, "users on the portal");
  app.add_option("--departments", departments, "departments on the portal");
  app.add_option("--max-in-flight", in_flight, "client connections");
  app.add_option("--runs", runs, "fetches; the ratio's median and best are reported")->check(CLI::Range(1, 100));
  CLI11_PARSE(app, argc, argv);

  try {
    b24emu::server_options o;
    o.seed = seed(users, departments);
    o.time_scale = 1.0;
    b24emu::server srv(std::move(o));
    srv.start();
    const double rss_before = peak_rss_mib();

    boost::asio::io_context ioc;
    bx::client_config cfg;
    cfg.base_url = srv.base_url();
    cfg.auth = bx::webhook_auth{1, bx::secret("benchcode")};
    cfg.max_in_flight = in_flight;

    struct fetch_result {
      double wall = 0, serving = 0, client_cpu = 0, emulator_cpu = 0, started = 0;
      std::int64_t requests = 0;
      std::size_t client_requests = 0, bytes = 0;
      bool exact = false;
    };
    auto fetch = [&]() {
      fetch_result r;
      // Each fetch as a fresh one-shot run would make it: a new client (its own rate bucket, new
      // connections), and the portal's bucket drained (portal time moved a minute on).
      srv.advance_time(60);
      bx::client c(ioc, cfg, nullptr);
      const auto before = srv.stats().at("server").at("rest_requests").to_number<std::int64_t>();
      std::optional<bx::snapshot> snap;
      std::exception_ptr error;
      const auto cpu_before = thread_cpu_seconds();
      const double serving_before = srv.io_thread_cpu_seconds();
      const auto t0 = steady::now();
      boost::asio::co_spawn(ioc, bx::async_fetch_snapshot(c), [&](std::exception_ptr e, bx::snapshot s) {
        error = e;
        if (!e) snap.emplace(std::move(s));
      });
      ioc.restart();
      ioc.run();
      r.wall = std::chrono::duration<double>(steady::now() - t0).count();
      r.started = std::chrono::duration<double>(t0.time_since_epoch()).count();
      r.serving = srv.io_thread_cpu_seconds() - serving_before;
      const auto cpu_after = thread_cpu_seconds();
      const long client_tid = gettid();
      for (const auto& [tid, sec] : cpu_after) {
        const double used = sec - (cpu_before.contains(tid) ? cpu_before.at(tid) : 0.0);
        (tid == client_tid ? r.client_cpu : r.emulator_cpu) += used;
      }
      if (error) std::rethrow_exception(error);
      r.requests = srv.stats().at("server").at("rest_requests").to_number<std::int64_t>() - before;
      r.client_requests = snap->http_requests;
      r.bytes = static_cast<std::size_t>(c.stats().bytes_received);
      r.exact = snap->users.size() == static_cast<std::size_t>(users) &&
                snap->departments.size() == static_cast<std::size_t>(departments);
      return r;
    };
    std::vector<fetch_result> results;
    results.push_back(fetch());  // the first: RSS is measured over it alone
    const double rss_after = peak_rss_mib();
    for (int k = 1; k < runs; ++k) results.push_back(fetch());
    const fetch_result& first = results.front();

    auto [replay, replay_requests] = serving_time(srv, cfg.batch_size);
    bool exact = true;
    std::vector<double> ratios;
    for (const auto& r : results) {
      exact = exact && r.exact && r.requests == first.requests;
      ratios.push_back(r.wall / r.serving);
    }
    std::vector<double> sorted = ratios;
    std::sort(sorted.begin(), sorted.end());
    const double median = sorted[sorted.size() / 2];
    std::printf("bench_snapshot: users=%d departments=%d exact=%s\n", users, departments, exact ? "yes" : "NO");
    std::printf("  HTTP requests: %lld per fetch (client counted %zu; target <= 45)\n",
                static_cast<long long>(first.requests), first.client_requests);
    for (std::size_t k = 0; k < results.size(); ++k) {
      const auto& r = results[k];
      std::printf("  fetch %zu: wall %.3f s, emulator serving %.3f s -> ratio %.2f; handler-only floor %.3f s -> %.2f; "
                  "CPU client %.2f s, emulator %.2f s (/proc); window %.6f,%.6f\n",
                  k + 1, r.wall, r.serving, r.wall / r.serving, replay, r.wall / replay, r.client_cpu, r.emulator_cpu,
                  r.started, r.started + r.wall);
    }
    std::printf("  ratio wall / emulator serving time: median %.2f, best %.2f of %zu fetches (target <= 1.10)\n",
                median, sorted.front(), results.size());
    std::printf("  peak RSS: %.1f MiB before the fetch (emulator + seed), %.1f MiB after (+%.1f MiB, %.0f B/user)\n",
                rss_before, rss_after, rss_after - rss_before, (rss_after - rss_before) * 1048576.0 / users);
    std::printf("  bytes received: %.1f MiB per fetch; replay of %d requests through the handler alone: %.3f s\n",
                static_cast<double>(first.bytes) / 1048576.0, replay_requests, replay);
    std::printf("{\"bench\":\"snapshot\",\"users\":%d,\"requests\":%lld,\"runs\":%zu,\"wall_s\":%.3f,\"serve_s\":%.3f,"
                "\"ratio_median\":%.3f,\"ratio_best\":%.3f,\"handler_s\":%.3f,\"client_cpu_s\":%.2f,"
                "\"rss_delta_mib\":%.1f,\"exact\":%s}\n",
                users, static_cast<long long>(first.requests), results.size(), first.wall, first.serving, median,
                sorted.front(), replay, first.client_cpu, rss_after - rss_before, exact ? "true" : "false");
    srv.stop();
    return exact ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_snapshot: %s\n", e.what());
    return 1;
  }
}
