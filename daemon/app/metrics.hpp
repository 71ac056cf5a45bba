// Metrics: a pure registry rendered as Prometheus text (format 0.0.4), the daemon's service metrics and
// health rule, and a loopback HTTP endpoint serving /metrics and /healthz (Beast stays in metrics.cpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace boost::asio {
class io_context;
}
namespace spdlog {
class logger;
}

namespace b24sync::app {

using sys_seconds = std::chrono::sys_seconds;

enum class metric_type { counter, gauge };

// Label name -> value. Order does not matter: {a,b} and {b,a} are the same series.
using label_list = std::vector<std::pair<std::string, std::string>>;

// Counters and gauges with labels, rendered in the Prometheus text exposition format 0.0.4. Pure and
// not synchronised (service_metrics adds the lock). Misuse (undeclared name, wrong labels, a counter
// going down) throws std::invalid_argument: it is a programming error, caught by tests.
class metrics_registry {
 public:
  // Declares a family. A family without labels starts with one series at 0, so it is scraped from the
  // start (absent and zero are different things to alert rules).
  void declare(std::string name, metric_type type, std::string help, std::vector<std::string> label_names = {});
  void add(std::string_view name, const label_list& labels, double delta);  // counters (and gauges)
  void set(std::string_view name, const label_list& labels, double value);  // gauges only
  double value(std::string_view name, const label_list& labels = {}) const;  // 0 when the series is absent
  // # HELP / # TYPE then the samples of each family, in declaration order; series sorted by labels.
  std::string render() const;

 private:
  struct family {
    std::string name;
    metric_type type = metric_type::counter;
    std::string help;
    std::vector<std::string> label_names;  // sorted
    std::map<label_list, double> series;   // labels sorted by name
  };
  family& find(std::string_view name);
  const family* find_if(std::string_view name) const;
  label_list key(const family& f, const label_list& labels) const;
  std::vector<family> families_;
};

// Label values and HELP text escaped for the text format: \ -> \\, " -> \" (labels only), newline -> \n.
std::string escape_label_value(std::string_view value);
std::string escape_help(std::string_view help);
// A sample value: shortest round-trip decimal, "+Inf", "-Inf", "NaN".
std::string format_sample_value(double v);

// One finished run, as the daemon reports it to the metrics.
struct run_record {
  std::string outcome;                  // state::to_string(run_outcome): "ok", "changes", "partial_failure"...
  bool success = false;                 // the caller's verdict: healthy (ok / changes) or not
  sys_seconds finished{};               // when it ended
  std::chrono::duration<double> duration{};  // how long it took
};

struct health_status {
  bool healthy = false;
  std::string reason;  // "ok", or one line saying why not
};

// The daemon's metrics (all named b24sync_*) and the health rule. Thread-safe: the sync may report
// from another thread than the one serving scrapes.
//   b24sync_runs_total{outcome}                 counter
//   b24sync_operations_total{kind,outcome}      counter  (kind: create/update/...; outcome: done/failed/...)
//   b24sync_portal_errors_total{code}           counter  (the portal's `error` code)
//   b24sync_http_503_total, b24sync_http_429_total  counters
//   b24sync_last_run_timestamp_seconds, b24sync_last_success_timestamp_seconds,
//   b24sync_last_run_duration_seconds, b24sync_last_run_success, b24sync_users_managed  gauges
//   b24sync_healthy                             gauge, computed at scrape time like /healthz
//   b24sync_build_info{version}                 gauge, always 1
class service_metrics {
 public:
  service_metrics();

  void record_run(const run_record& run);
  void add_operations(std::string_view kind, std::string_view outcome, std::uint64_t n = 1);
  void add_portal_errors(std::string_view code, std::uint64_t n = 1);
  void add_http_503(std::uint64_t n = 1);
  void add_http_429(std::uint64_t n = 1);
  void set_users_managed(std::uint64_t n);

  // Healthy when the last run did not fail and finished at most max_age before `now`. Before the first
  // run finishes: unhealthy ("no run has finished yet"), so a probe does not trust a daemon that has
  // never reached the portal.
  health_status health(sys_seconds now, std::chrono::seconds max_age) const;
  std::string render(sys_seconds now, std::chrono::seconds max_age) const;
  double value(std::string_view name, const label_list& labels = {}) const;  // for tests and status lines

 private:
  mutable std::mutex mutex_;
  metrics_registry registry_;
  bool have_run_ = false;
  run_record last_run_;
};

// What the endpoint answers, decided without sockets: GET|HEAD /metrics -> 200 text exposition,
// GET|HEAD /healthz -> 200 "ok" or 503 "<reason>", known path with another method -> 405 (Allow:
// GET, HEAD), anything else -> 404. The query string is ignored.
struct http_answer {
  unsigned status = 200;
  std::string content_type;
  std::string body;
};
http_answer answer_metrics_request(std::string_view method, std::string_view target, const service_metrics& metrics,
                                   sys_seconds now, std::chrono::seconds max_age);

inline constexpr std::string_view prometheus_content_type = "text/plain; version=0.0.4; charset=utf-8";

// metrics.listen that cannot be served: bad syntax, not a loopback address (unless allowed).
class metrics_error : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// "127.0.0.1:9464", "[::1]:9464", "localhost:9464" (= 127.0.0.1). Port 0 = any free port (tests).
struct listen_address {
  std::string host;  // an IP literal, brackets removed
  std::uint16_t port = 0;
};
listen_address parse_listen_address(std::string_view listen);  // throws metrics_error

struct metrics_endpoint_options {
  std::string listen = "127.0.0.1:9464";
  // The endpoint has neither TLS nor authentication and tells whoever asks how many users the portal
  // has, how runs go and which errors it returns. Loopback only, unless the admin opts in (a reverse
  // proxy with auth on another address, a firewalled scrape network).
  bool allow_non_loopback = false;
  std::chrono::seconds max_age{3600};               // /healthz: the last run must be younger than this
  std::chrono::milliseconds io_timeout{5000};       // read the request / write the answer within this
  std::function<sys_seconds()> clock;               // for /healthz; empty = the system clock
  std::shared_ptr<spdlog::logger> log;              // optional; connection errors at debug level
};

// The HTTP endpoint: an accept loop co_spawned on the io_context, one request per connection.
// The service_metrics and the io_context must outlive it. Not thread-safe itself: call start/stop from
// the io_context's thread, or before it runs (stop() may be called from any thread: it posts).
class metrics_endpoint {
 public:
  // Parses and checks `options.listen`, binds and listens (so port() is known at once). Throws
  // metrics_error for a bad or refused address, boost::system::system_error when binding fails.
  metrics_endpoint(boost::asio::io_context& io, service_metrics& metrics, metrics_endpoint_options options);
  ~metrics_endpoint();
  metrics_endpoint(const metrics_endpoint&) = delete;
  metrics_endpoint& operator=(const metrics_endpoint&) = delete;

  void start();  // begins accepting
  void stop();   // closes the listening socket; connections in flight end by their deadline
  std::uint16_t port() const noexcept;
  std::string local_address() const;  // "127.0.0.1:9464", "[::1]:41234"

  struct state;  // opaque; shared with the connections in flight so they may outlive stop()

 private:
  std::shared_ptr<state> state_;
};

}  // namespace b24sync::app
