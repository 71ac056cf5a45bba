// bitrix/http_transport.hpp: coroutine HTTP/1.1 client over TLS (or loopback plain TCP) with a small
// keep-alive connection pool and a deadline on every step. Beast stays in the .cpp files (pimpl).
#pragma once

#include "bitrix/client_config.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace spdlog {
class logger;
}

namespace b24sync::bitrix {

namespace net = boost::asio;

/// Scheme, host and port of a server, plus the path prefix of the portal (usually empty).
struct origin {
  bool tls = true;
  std::string host;  ///< lower-case; IPv6 literals without brackets
  std::uint16_t port = 443;
  std::string base_path;  ///< path prefix without a trailing slash, e.g. "" or "/portal"

  [[nodiscard]] std::string to_string() const;  ///< "https://host[:port]" + base_path
  friend bool operator==(const origin&, const origin&) = default;
};

/// True for "localhost", 127.0.0.0/8 and ::1.
[[nodiscard]] bool is_loopback_host(std::string_view host);

/// Parses an http(s) URL into an origin. Throws std::invalid_argument on a malformed URL, a
/// non-http(s) scheme, user info, a query or fragment, or plain http to a non-loopback host.
[[nodiscard]] origin parse_origin(std::string_view url);

/// Settings of the transport; the client derives them from client_config.
struct transport_config {
  tls_config tls;
  timeouts_config timeouts;
  std::size_t max_connections = 2;  ///< requests in flight at once (each on its own connection)
  std::string user_agent = "b24sync/0.1";
  std::size_t body_limit = 512u * 1024u * 1024u;  ///< largest response body accepted, bytes
};

/// One request. `target` is the path + query; `log_target` is what may appear in logs (secrets
/// replaced by ***), the transport never logs `target` itself.
struct http_request {
  std::string verb = "POST";  ///< "POST" or "GET"
  origin to;
  std::string target;
  std::string log_target;
  std::string body;
  std::string content_type = "application/json";
  /// Safe to send twice (reads). Only then may a request that was fully written on a kept-alive
  /// connection be resent after the connection died without an answer.
  bool idempotent = false;
};

/// The network step that failed.
enum class transport_step { none, resolve, connect, handshake, write, read };

[[nodiscard]] std::string_view to_string(transport_step step) noexcept;

struct http_response {
  unsigned status = 0;
  std::string content_type;
  std::string location;  ///< the Location header, if any (3xx)
  std::string body;
};

/// What happened to one request. Never throws for network failures: they land in `ec`.
struct http_outcome {
  boost::system::error_code ec;  ///< set when no complete response arrived
  transport_step failed_step = transport_step::none;
  std::string detail;  ///< extra words on a failure, e.g. the certificate check that failed
  /// Some bytes of the request left this host. False means the server cannot have acted on it.
  bool request_sent = false;
  /// The whole request was written. True with `ec` set means the outcome is unknown (ambiguous):
  /// the server may have processed the request.
  bool request_written = false;
  http_response response;  ///< meaningful only when !ec
};

/// Counters since construction.
struct transport_stats {
  std::uint64_t requests = 0;            ///< requests attempted (transparent resends included)
  std::uint64_t responses = 0;           ///< complete responses read
  std::uint64_t failures = 0;            ///< outcomes returned with an error
  std::uint64_t bytes_sent = 0;          ///< request bytes written (headers included)
  std::uint64_t bytes_received = 0;      ///< response bytes read (headers included)
  std::uint64_t connections_opened = 0;  ///< TCP(+TLS) connections established
  std::uint64_t stale_reconnects = 0;    ///< kept-alive connections found dead and replaced
};

/// Coroutine HTTP client. Not thread-safe: use it from one strand (the single-threaded io_context).
class http_transport {
 public:
  /// Throws std::runtime_error when the TLS context cannot be set up (e.g. unreadable ca_file).
  http_transport(net::any_io_executor ex, transport_config cfg, std::shared_ptr<spdlog::logger> log);
  ~http_transport();
  http_transport(const http_transport&) = delete;
  http_transport& operator=(const http_transport&) = delete;

  /// Sends one request and reads its response, reusing an idle kept-alive connection to the same
  /// origin when there is one. Waits while max_connections requests are in flight. A kept-alive
  /// connection that turns out to be dead is replaced transparently, and the request resent, when
  /// the request was not completely written or is idempotent. Redirects are not followed.
  net::awaitable<http_outcome> async_send(http_request req);

  /// Closes every idle connection (TLS close_notify is sent, with a short deadline).
  net::awaitable<void> async_close_idle();

  [[nodiscard]] const transport_stats& stats() const noexcept;
  [[nodiscard]] net::any_io_executor get_executor() const noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace b24sync::bitrix
