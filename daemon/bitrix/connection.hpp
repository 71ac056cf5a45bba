// bitrix/connection.hpp: one HTTP/1.1 connection (TLS or loopback TCP). Internal to the transport:
// it includes Beast, so only daemon/bitrix .cpp files may include it.
#pragma once

#include "bitrix/http_transport.hpp"

#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace b24sync::bitrix::detail {

namespace beast = boost::beast;

/// The result of writing one request and reading its answer.
struct exchange_result {
  boost::system::error_code ec;
  transport_step failed_step = transport_step::none;
  bool request_sent = false;     ///< at least one byte of the request was written
  bool request_written = false;  ///< the whole request was written
  bool response_started = false;  ///< at least one byte of a response arrived
  bool keep_alive = false;       ///< the server lets the connection be reused
  std::size_t bytes_sent = 0;
  std::size_t bytes_received = 0;
  http_response response;
};

/// One connection to one origin. Opened once, then used for one exchange at a time.
class connection {
 public:
  using clock = std::chrono::steady_clock;

  /// `tls_ctx` must outlive the connection; it is ignored for plain-http origins.
  connection(net::any_io_executor ex, net::ssl::context& tls_ctx, origin key, bool verify_peer);

  /// Resolves, connects and (for https) handshakes, each step under its own deadline. On failure
  /// sets out.ec, out.failed_step and out.detail; nothing of any request has been sent then.
  net::awaitable<void> async_open(const timeouts_config& timeouts, http_outcome& out);

  /// Writes `req` and reads the whole response, each under its own deadline (one timer per step,
  /// not one per chunk: a 600 KiB answer arrives in dozens of reads).
  net::awaitable<exchange_result> async_exchange(const http_request& req, const transport_config& cfg);

  /// Sends TLS close_notify (ignoring a peer that hangs up without one) and closes the socket.
  net::awaitable<void> async_close(std::chrono::milliseconds deadline);

  /// Closes the socket at once (after a failed exchange).
  void close_now() noexcept;

  /// True when the server has not closed this idle connection: a non-blocking peek finds neither
  /// an end of stream nor unexpected bytes (a stray close_notify counts as closed).
  [[nodiscard]] bool peer_still_open() noexcept;

  [[nodiscard]] const origin& key() const noexcept { return key_; }
  [[nodiscard]] std::size_t served() const noexcept { return served_; }

  clock::time_point idle_since{};

 private:
  beast::tcp_stream& tcp() noexcept;
  bool verify_certificate(bool preverified, net::ssl::verify_context& ctx);
  /// Starts the deadline of one step: when it passes before disarm_deadline(), the socket is closed,
  /// which ends whatever operation is pending (or starts next) with an error.
  void arm_deadline(std::chrono::milliseconds limit);
  void disarm_deadline() noexcept;
  /// The step's error as the caller should see it: beast::error::timeout when the deadline closed it.
  [[nodiscard]] boost::system::error_code step_error(const boost::system::error_code& ec) const noexcept;

  origin key_;
  bool verify_peer_;
  std::optional<beast::tcp_stream> plain_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure_;
  beast::flat_buffer buffer_;
  std::string verify_error_;
  std::size_t served_ = 0;
  net::steady_timer deadline_;
  std::uint64_t deadline_epoch_ = 0;  ///< bumped on every arm/disarm: a stale expiry does nothing
  bool timed_out_ = false;
  /// Expires with the connection: the deadline's handler may run after it is gone.
  std::shared_ptr<char> alive_ = std::make_shared<char>();
};

}  // namespace b24sync::bitrix::detail
