// `b24sync daemon` as systemd runs it: the real executable with NOTIFY_SOCKET pointing at a datagram
// socket of the test, a 1 s schedule, the metrics endpoint on a free port, against the emulator.
#include "cli_fixture.hpp"
#include "support/test_http_client.hpp"

#include <doctest/doctest.h>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <regex>
#include <string>

using namespace b24test_cli;

namespace {

// A bound AF_UNIX datagram socket standing in for systemd's notification socket.
struct notify_socket {
  fs::path path;
  int fd = -1;
  std::vector<std::string> seen;

  explicit notify_socket(fs::path p) : path(std::move(p)) {
    fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    REQUIRE(path.string().size() < sizeof addr.sun_path);
    std::memcpy(addr.sun_path, path.c_str(), path.string().size());
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  }
  ~notify_socket() { ::close(fd); }

  // Reads datagrams until one satisfies `want` (returned) or `limit` passes ("" then).
  std::string wait_for(const std::function<bool(const std::string&)>& want,
                       std::chrono::seconds limit = std::chrono::seconds(90)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 200) <= 0) continue;
      char buf[4096];
      const auto n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) continue;
      seen.emplace_back(buf, static_cast<std::size_t>(n));
      if (want(seen.back())) return seen.back();
    }
    return {};
  }
  std::string wait_for_text(const std::string& needle) {
    return wait_for([&](const std::string& m) { return m.find(needle) != std::string::npos; });
  }
};

// Kills the daemon if the test ends early (a failed REQUIRE), so no orphan keeps syncing on its schedule.
struct child_guard {
  pid_t pid;
  ~child_guard() {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
    }
  }
};

bool alive(pid_t pid) {
  int status = 0;
  return ::waitpid(pid, &status, WNOHANG) == 0;
}

}  // namespace

TEST_CASE("daemon: syncs at start-up and on schedule, notifies systemd, serves metrics, survives a failing run "
          "and a bad reload, stops on SIGTERM") {
  demo_env env;
  env.write_webhook(std::string("1/") + webhook_code);
  std::string text = read_file(demo_dir / "b24sync.yaml");
  const auto hr = env.write_work_file("hr.csv", read_file(demo_dir / "hr.csv"));
  text.replace(text.find("path: hr.csv"), 12, "path: '" + hr.string() + "'");
  text.replace(text.find("path: ad.ldif"), 13, "path: '" + (demo_dir / "ad.ldif").string() + "'");
  text += "schedule: {every: 1s}\nmetrics: {listen: \"127.0.0.1:0\"}\n";
  const auto cfg = env.write_work_file("daemon.yaml", text);
  notify_socket notify(env.work / "notify.sock");

  const pid_t pid = env.spawn({"daemon", "-c", cfg.string()}, {"NOTIFY_SOCKET=" + notify.path.string()});
  child_guard guard{pid};
  CHECK_FALSE(notify.wait_for_text("READY=1").empty());

  // The first run syncs the demo: the rehired developer is active again.
  const auto first = notify.wait_for_text("last run");
  INFO(read_file(env.work / "spawn.log"));
  REQUIRE_FALSE(first.empty());
  CHECK(first.find("exit 0") != std::string::npos);
  auto users = env.users();
  CHECK(users.at(7).at("ACTIVE").as_bool());
  CHECK(env.invitations() == 3);

  // Metrics on the port it logged.
  std::smatch m;
  const std::string log = read_file(env.work / "spawn.log");
  REQUIRE(std::regex_search(log, m, std::regex(R"(metrics: http://127\.0\.0\.1:(\d+)/metrics)")));
  b24sync::test::client_options co;
  co.port = static_cast<std::uint16_t>(std::stoi(m[1].str()));
  b24sync::test::test_http_client http(co);
  auto scrape = http.get("/metrics");
  CHECK(scrape.status == 200);
  CHECK(scrape.body.find("b24sync_runs_total{outcome=\"ok\"}") != std::string::npos);
  CHECK(scrape.body.find("b24sync_operations_total{kind=\"create\",outcome=\"done\"} 3") != std::string::npos);
  http.close();
  CHECK(http.get("/healthz").status == 200);
  http.close();

  // A run that fails (the HR export is gone) does not stop the daemon; it retries.
  fs::rename(hr, env.work / "hr.csv.away");
  CHECK_FALSE(notify.wait_for([](const std::string& s) { return s.find("retry") != std::string::npos; }).empty());
  CHECK(alive(pid));
  CHECK(http.get("/healthz").status == 503);
  http.close();
  fs::rename(env.work / "hr.csv.away", hr);
  CHECK_FALSE(notify.wait_for_text("exit 0").empty());

  // SIGHUP with a broken config: the daemon says so and keeps the previous one.
  env.write_work_file("daemon.yaml", "portal: [this is not a config\n");
  ::kill(pid, SIGHUP);
  CHECK_FALSE(notify.wait_for_text("reload failed").empty());
  CHECK_FALSE(notify.wait_for_text("exit 0").empty());  // the next scheduled run still works
  CHECK(alive(pid));

  // SIGTERM: STOPPING=1 and a clean exit.
  ::kill(pid, SIGTERM);
  CHECK_FALSE(notify.wait_for_text("STOPPING=1").empty());
  CHECK(demo_env::wait_for(pid) == 0);
  CHECK(env.invitations() == 3);  // runs after the first changed nothing
}
