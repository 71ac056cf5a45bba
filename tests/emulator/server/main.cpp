// b24emu: the Bitrix24 portal emulator as a process for the demo, manual runs and benchmarks
// (tests/emulator/README.md). Parses the command line, starts the server, waits for SIGINT/SIGTERM.
#include "server/server.hpp"

#include <CLI/CLI.hpp>
#include <boost/json.hpp>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <stdexcept>

#include <pthread.h>

namespace {

boost::json::value read_json_file(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(std::string("cannot read ") + what + " file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  boost::system::error_code ec;
  auto v = boost::json::parse(ss.str(), ec);
  if (ec) throw std::runtime_error(std::string(what) + " file " + path + ": invalid JSON: " + ec.message());
  return v;
}

// Written to a temporary name and renamed, so a script polling for the file never reads it half-written.
void write_port_file(const std::string& path, std::uint16_t port) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << port << '\n';
    if (!out) throw std::runtime_error("cannot write port file " + tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) throw std::runtime_error("cannot rename to " + path);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"b24emu: a Bitrix24 portal emulator (REST over HTTP/1.1, optional TLS) for tests and demos"};
  b24emu::server_options opt;
  std::string seed_file, port_file, faults_file;
  std::optional<double> rate, burst, operating_limit;
  bool no_rate = false, no_operating = false, require_https = false;
  std::vector<std::string> costs;
  int idle_s = 60;

  app.add_option("--seed", seed_file, "JSON seed: users, departments, webhooks, apps (core/README.md)")
      ->check(CLI::ExistingFile);
  app.add_option("--host", opt.host, "address to listen on")->capture_default_str();
  app.add_option("--port", opt.port, "port; 0 picks a free one")->capture_default_str();
  app.add_option("--port-file", port_file, "write the bound port to this file once listening");
  app.add_option("--tls-cert", opt.tls_cert_file, "PEM certificate chain: enables HTTPS (plain HTTP still accepted)")
      ->check(CLI::ExistingFile);
  app.add_option("--tls-key", opt.tls_key_file, "PEM private key for --tls-cert")->check(CLI::ExistingFile);
  app.add_option("--time-scale", opt.time_scale, "portal seconds per real second")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--rate", rate, "leaky-bucket drain, requests per portal second (default 2)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--burst", burst, "leaky-bucket capacity (default 50)")->check(CLI::NonNegativeNumber);
  app.add_flag("--no-rate-limit", no_rate, "never answer QUERY_LIMIT_EXCEEDED");
  app.add_option("--operating-limit", operating_limit, "operating-time limit per method, seconds per 10 min")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--no-operating-limit", no_operating, "never answer OPERATION_TIME_LIMIT");
  app.add_option("--cost", costs, "simulated cost of a method, METHOD=SECONDS (repeatable)");
  app.add_option("--faults", faults_file, "JSON fault spec (README.md)")->check(CLI::ExistingFile);
  app.add_option("--log", opt.log_file, "JSONL request log (secrets redacted)");
  app.add_option("--idle-timeout", idle_s, "close connections idle this many seconds")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_flag("--require-https", require_https, "plain-HTTP webhook calls get INVALID_REQUEST");
  CLI11_PARSE(app, argc, argv);

  // Block the stop signals before the io thread starts, so only sigwait() below ever sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  try {
    if (!seed_file.empty()) opt.seed = read_json_file(seed_file, "seed");
    if (!faults_file.empty()) opt.faults = b24emu::parse_fault_spec(read_json_file(faults_file, "faults"));
    opt.idle_timeout = std::chrono::seconds(idle_s);
    boost::json::object limits;
    if (rate) limits["rate_per_s"] = *rate;
    if (burst) limits["burst"] = *burst;
    if (no_rate) limits["rate_enabled"] = false;
    if (operating_limit) limits["operating_limit_s"] = *operating_limit;
    if (no_operating) limits["operating_enabled"] = false;
    if (require_https) limits["require_https"] = true;
    boost::json::object method_costs;
    for (const auto& c : costs) {
      const auto eq = c.find('=');
      if (eq == std::string::npos || eq == 0) throw std::invalid_argument("--cost wants METHOD=SECONDS, got " + c);
      std::size_t used = 0;
      const double seconds = std::stod(c.substr(eq + 1), &used);
      if (used != c.size() - eq - 1) throw std::invalid_argument("--cost wants METHOD=SECONDS, got " + c);
      method_costs[c.substr(0, eq)] = seconds;
    }
    if (!method_costs.empty()) limits["method_cost_s"] = std::move(method_costs);
    if (!limits.empty()) opt.limits_patch = std::move(limits);
    if (seed_file.empty()) std::cerr << "b24emu: no --seed given: the portal is empty and has no webhooks\n";

    b24emu::server srv(std::move(opt));
    srv.start();
    // Port file first: whoever saw the announcement line can rely on the file being there.
    if (!port_file.empty()) write_port_file(port_file, srv.port());
    std::cout << "b24emu listening on " << srv.base_url() << std::endl;

    int sig = 0;
    sigwait(&stop_signals, &sig);
    std::cerr << "b24emu: " << (sig == SIGINT ? "SIGINT" : "SIGTERM") << ", stopping\n";
    srv.stop();
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "b24emu: " << e.what() << '\n';
    return 1;
  }
}
