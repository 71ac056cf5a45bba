// tests/bench/bitrix/bench_snapshot.cpp: snapshot of N users (default 100,000) from the emulator over
// loopback: HTTP requests used, wall time vs the emulator's own serving time, peak RSS.
//
// "Serving time" is measured by replaying the same planner-driven request sequence straight into the
// emulator's pure portal (no sockets): the time its handle() takes is the floor a client can reach.
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
// Returns the seconds spent inside portal::handle() and the number of requests.
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
  app.add_option("--users", users, "users on the portal");
  app.add_option("--departments", departments, "departments on the portal");
  app.add_option("--max-in-flight", in_flight, "client connections");
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
    bx::client c(ioc, cfg, nullptr);

    const auto before = srv.stats().at("server").at("rest_requests").to_number<std::int64_t>();
    std::optional<bx::snapshot> snap;
    std::exception_ptr error;
    const auto cpu_before = thread_cpu_seconds();
    const auto t0 = steady::now();
    boost::asio::co_spawn(ioc, bx::async_fetch_snapshot(c), [&](std::exception_ptr e, bx::snapshot s) {
      error = e;
      if (!e) snap.emplace(std::move(s));
    });
    ioc.run();
    const double wall = std::chrono::duration<double>(steady::now() - t0).count();
    const auto cpu_after = thread_cpu_seconds();
    const long client_tid = gettid();
    double client_cpu = 0, emulator_cpu = 0;
    for (const auto& [tid, sec] : cpu_after) {
      const double used = sec - (cpu_before.contains(tid) ? cpu_before.at(tid) : 0.0);
      (tid == client_tid ? client_cpu : emulator_cpu) += used;
    }
    if (error) std::rethrow_exception(error);
    const auto emu_requests = srv.stats().at("server").at("rest_requests").to_number<std::int64_t>() - before;
    const double rss_after = peak_rss_mib();

    auto [serve, replay_requests] = serving_time(srv, cfg.batch_size);
    const bool exact = snap->users.size() == static_cast<std::size_t>(users) &&
                       snap->departments.size() == static_cast<std::size_t>(departments);
    std::printf("bench_snapshot: users=%d departments=%d exact=%s\n", users, departments, exact ? "yes" : "NO");
    std::printf("  HTTP requests: %lld (client counted %llu; target <= 45)\n", static_cast<long long>(emu_requests),
                static_cast<unsigned long long>(snap->http_requests));
    std::printf("  wall time: %.3f s; emulator serving time (replay of %d requests): %.3f s; ratio %.2f (target <= 1.10)\n",
                wall, replay_requests, serve, wall / serve);
    std::printf("  CPU during the fetch: client thread %.2f s, emulator thread(s) %.2f s (10 ms ticks)\n", client_cpu,
                emulator_cpu);
    // For `perf record -k mono` + `perf report --time A,B`: the fetch alone, without seeding or replay.
    std::printf("  fetch window (CLOCK_MONOTONIC s): %.6f,%.6f\n",
                std::chrono::duration<double>(t0.time_since_epoch()).count(),
                std::chrono::duration<double>(t0.time_since_epoch()).count() + wall);
    std::printf("  peak RSS: %.1f MiB before the fetch (emulator + seed), %.1f MiB after (+%.1f MiB, %.0f B/user)\n",
                rss_before, rss_after, rss_after - rss_before, (rss_after - rss_before) * 1048576.0 / users);
    std::printf("  bytes received: %.1f MiB\n", static_cast<double>(c.stats().bytes_received) / 1048576.0);
    std::printf("{\"bench\":\"snapshot\",\"users\":%d,\"requests\":%lld,\"wall_s\":%.3f,\"serve_s\":%.3f,\"ratio\":%.3f,"
                "\"client_cpu_s\":%.2f,\"emulator_cpu_s\":%.2f,\"rss_delta_mib\":%.1f,\"exact\":%s}\n",
                users, static_cast<long long>(emu_requests), wall, serve, wall / serve, client_cpu, emulator_cpu,
                rss_after - rss_before, exact ? "true" : "false");
    srv.stop();
    return exact ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_snapshot: %s\n", e.what());
    return 1;
  }
}
