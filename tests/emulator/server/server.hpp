// The Bitrix24 portal emulator as an in-process HTTP/1.1 (+ optional TLS) server on 127.0.0.1.
// Tests construct it, start() it, talk to base_url() over real sockets and inspect the portal through
// with_portal(). Beast stays behind the pimpl: this header is cheap to include.
#pragma once

#include "core/portal.hpp"
#include "server/faults.hpp"

#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

namespace b24emu {

struct server_options {
  std::string host = "127.0.0.1";            // address to bind; loopback unless asked otherwise
  std::uint16_t port = 0;                    // 0 = any free port (see server::port())
  std::string tls_cert_file;                 // PEM chain; with tls_key_file enables TLS. Plain HTTP is
  std::string tls_key_file;                  //   still accepted on the same port (detected per connection)
  double time_scale = 1.0;                   // portal seconds per real second; > 0
  double start_unix = 0;                     // portal time at construction; 0 = the system clock
  std::chrono::seconds idle_timeout{60};     // a connection with no complete request for this long is closed
  boost::json::value seed;                   // portal data (core/README.md); null = empty portal
  boost::json::value limits_patch;           // partial limits_config as JSON (see limits_json.hpp); null = defaults
  fault_spec faults;                         // no rules = no faults
  std::string log_file;                      // JSONL request log; empty = none
};

class server_impl;

class server {
public:
  // Loads the seed, applies the limits, opens the log and binds the port. Throws on any failure
  // (std::invalid_argument for bad data, std::system_error / boost::system::system_error for I/O).
  explicit server(server_options options);
  ~server();  // stop()s
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  void start();  // runs the io_context on its own thread
  void stop();   // closes the listener and every connection, joins the thread; idempotent

  std::uint16_t port() const;
  bool tls() const;
  std::string base_url() const;  // "http://127.0.0.1:PORT" or "https://..."

  // Runs f(portal&) under the lock the io thread takes for every request: safe from any thread.
  // Don't call this server's other members from inside f (the lock is not recursive).
  template <class F>
  decltype(auto) with_portal(F&& f) {
    std::lock_guard lk(portal_mutex());
    return std::forward<F>(f)(portal_unlocked());
  }

  double portal_now() const;                 // portal Unix seconds now
  void advance_time(double portal_seconds);  // jump portal time (e.g. past an operating-limit window)
  void set_faults(fault_spec spec);          // replaces the rules and re-seeds
  boost::json::value stats() const;          // as GET /emu/stats
  // CPU seconds the io thread has used since start() (0 before): everything the emulator did to
  // serve — accept, TLS, HTTP parsing, the portal, writing — and nothing it waited for.
  double io_thread_cpu_seconds() const;
  // Blocks until the portal has been sent at least `count` REST requests (as stats() counts them),
  // or until `timeout`: for tests that act at a protocol point ("after the 7th request") without
  // polling. True when the count was reached.
  bool wait_rest_requests(std::uint64_t count, std::chrono::milliseconds timeout);

private:
  std::mutex& portal_mutex();
  portal& portal_unlocked();

  std::unique_ptr<server_impl> impl_;
};

}  // namespace b24emu
