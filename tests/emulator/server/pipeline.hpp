// What the emulator does with one HTTP request, without sockets: /emu inspection endpoints, fault
// decisions, the portal call, stats and the request log. The connection code only carries out the
// returned outcome (wait, then answer or close). Thread-safe: every entry point takes the one mutex.
#pragma once

#include "core/portal.hpp"
#include "server/faults.hpp"
#include "server/request_log.hpp"
#include "server/time_source.hpp"

#include <boost/json/value.hpp>

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

namespace b24emu {

// What the connection must do with one request.
struct outcome {
  http_response response;
  bool write = true;                            // false: close the connection without an answer
  std::chrono::steady_clock::duration delay{};  // real time to wait before writing (or closing)
};

struct server_stats {
  std::uint64_t connections_accepted = 0;
  std::uint64_t tls_connections = 0;
  std::uint64_t requests = 0;        // every request read, /emu included
  std::uint64_t rest_requests = 0;   // requests routed to the portal
  std::uint64_t emu_requests = 0;
  std::array<std::uint64_t, fault_kind_count> faults{};  // injections by fault_kind
};

class pipeline {
public:
  pipeline(time_source time, fault_spec faults);

  void open_log(const std::string& path);  // throws std::runtime_error

  outcome process(const http_request& req, std::chrono::steady_clock::time_point at);

  void note_connection();
  void note_tls_connection();

  // For server::with_portal; the caller holds mutex() while using portal_unlocked().
  std::mutex& mutex() { return mu_; }
  portal& portal_unlocked() { return portal_; }

  double now(std::chrono::steady_clock::time_point at) const;
  void advance_time(double portal_seconds);
  void set_faults(fault_spec spec);
  boost::json::value stats() const;  // portal stats plus a "server" object
  void reset_stats();
  // Blocks until at least `count` REST requests have been routed to the portal (since the last
  // reset_stats), or until `timeout`; true when they have.
  bool wait_rest_requests(std::uint64_t count, std::chrono::milliseconds timeout);

private:
  outcome process_portal(const http_request& req, std::chrono::steady_clock::time_point at);
  http_response process_emu(const http_request& req, std::chrono::steady_clock::time_point at);
  boost::json::value stats_unlocked() const;
  boost::json::value time_unlocked(std::chrono::steady_clock::time_point at) const;
  boost::json::value faults_unlocked() const;
  void log(const http_request& req, double t, const outcome& o, const std::string& rest_method,
           const std::string& fault, double cost_s);

  mutable std::mutex mu_;
  std::condition_variable rest_request_seen_;  // notified on every REST request
  portal portal_;
  time_source time_;
  fault_injector faults_;
  server_stats stats_;
  std::optional<request_log> log_;
};

// The canned fault answers (exposed for tests).
http_response fault_response(fault_kind k);

}  // namespace b24emu
