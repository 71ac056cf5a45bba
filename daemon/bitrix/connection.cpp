// bitrix/connection.cpp: opening, using and closing one HTTP(S) connection with Beast, every step under a deadline.
#include "bitrix/connection.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/version.hpp>

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <sys/socket.h>

#include <cerrno>
#include <variant>

namespace b24sync::bitrix::detail {

namespace {

namespace http = beast::http;
using tcp = net::ip::tcp;
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

constexpr std::size_t read_chunk_bytes = 64 * 1024;  // Beast's largest single read

bool is_ip_literal(const std::string& host) {
  boost::system::error_code ec;
  (void)net::ip::make_address(host, ec);
  return !ec;
}

// "host" or "host:port" for the Host header; IPv6 literals go in brackets.
std::string host_header(const origin& o) {
  std::string h = o.host.find(':') != std::string::npos ? "[" + o.host + "]" : o.host;
  if (o.port != (o.tls ? 443 : 80)) h += ":" + std::to_string(o.port);
  return h;
}

}  // namespace

connection::connection(net::any_io_executor ex, net::ssl::context& tls_ctx, origin key, bool verify_peer)
    : key_(std::move(key)), verify_peer_(verify_peer), deadline_(ex) {
  if (key_.tls) {
    secure_.emplace(ex, tls_ctx);
  } else {
    plain_.emplace(ex);
  }
  // Beast reads at most min(64 KiB, free capacity) per call, and never less than 512 bytes: an empty
  // buffer would read a large answer in 512-byte sips, one system call (and handler) each.
  buffer_.reserve(read_chunk_bytes);
}

void connection::arm_deadline(std::chrono::milliseconds limit) {
  timed_out_ = false;
  const std::uint64_t epoch = ++deadline_epoch_;
  deadline_.expires_after(limit);
  deadline_.async_wait([this, alive = std::weak_ptr<char>(alive_), epoch](const boost::system::error_code& ec) {
    if (ec || alive.expired() || epoch != deadline_epoch_) return;  // disarmed, re-armed, or gone
    timed_out_ = true;
    // Closing (not just cancelling) also fails an operation that a composed read has yet to start.
    boost::system::error_code ignored;
    tcp().socket().close(ignored);
  });
}

void connection::disarm_deadline() noexcept {
  ++deadline_epoch_;
  deadline_.cancel();
}

boost::system::error_code connection::step_error(const boost::system::error_code& ec) const noexcept {
  return timed_out_ ? boost::system::error_code(beast::error::timeout) : ec;
}

beast::tcp_stream& connection::tcp() noexcept {
  return secure_ ? beast::get_lowest_layer(*secure_) : *plain_;
}

bool connection::verify_certificate(bool preverified, net::ssl::verify_context& ctx) {
  if (!preverified) {
    int err = X509_STORE_CTX_get_error(ctx.native_handle());
    verify_error_ = std::string("certificate verification failed: ") + X509_verify_cert_error_string(err);
    return false;
  }
  // Only the leaf is checked against the host name; host_name_verification handles IP literals too.
  if (!net::ssl::host_name_verification(key_.host)(preverified, ctx)) {
    verify_error_ = "certificate does not match the host name '" + key_.host + "'";
    return false;
  }
  return true;
}

net::awaitable<void> connection::async_open(const timeouts_config& timeouts, http_outcome& out) {
  using namespace net::experimental::awaitable_operators;
  auto ex = co_await net::this_coro::executor;

  // Resolve (skipped for IP literals). The resolver has no deadline of its own: race a timer.
  tcp::resolver::results_type endpoints;
  if (is_ip_literal(key_.host)) {
    endpoints = tcp::resolver::results_type::create(tcp::endpoint(net::ip::make_address(key_.host), key_.port),
                                                    key_.host, std::to_string(key_.port));
  } else {
    tcp::resolver resolver(ex);
    net::steady_timer timer(ex, timeouts.resolve);
    auto raced = co_await (resolver.async_resolve(key_.host, std::to_string(key_.port), use_tuple) ||
                           timer.async_wait(use_tuple));
    if (raced.index() == 1) {
      out.ec = beast::error::timeout;
      out.failed_step = transport_step::resolve;
      co_return;
    }
    auto [ec, results] = std::get<0>(std::move(raced));
    if (ec) {
      out.ec = ec;
      out.failed_step = transport_step::resolve;
      co_return;
    }
    endpoints = std::move(results);
  }

  tcp().expires_after(timeouts.connect);
  if (auto [ec, ep] = co_await tcp().async_connect(endpoints, use_tuple); ec) {
    out.ec = ec;
    out.failed_step = transport_step::connect;
    co_return;
  }
  tcp().socket().set_option(tcp::no_delay(true));
  if (!secure_) co_return;

  // TLS: SNI (not for IP literals, RFC 6066), then peer + host-name verification unless disabled.
  if (!is_ip_literal(key_.host) && !SSL_set_tlsext_host_name(secure_->native_handle(), key_.host.c_str())) {
    out.ec = boost::system::error_code(static_cast<int>(::ERR_get_error()), net::error::get_ssl_category());
    out.failed_step = transport_step::handshake;
    out.detail = "cannot set SNI host name";
    co_return;
  }
  if (verify_peer_) {
    secure_->set_verify_mode(net::ssl::verify_peer | net::ssl::verify_fail_if_no_peer_cert);
    secure_->set_verify_callback(
        [this](bool preverified, net::ssl::verify_context& ctx) { return verify_certificate(preverified, ctx); });
  } else {
    secure_->set_verify_mode(net::ssl::verify_none);
  }
  tcp().expires_after(timeouts.handshake);
  if (auto [ec] = co_await secure_->async_handshake(net::ssl::stream_base::client, use_tuple); ec) {
    out.ec = ec;
    out.failed_step = transport_step::handshake;
    out.detail = verify_error_;
  }
}

net::awaitable<exchange_result> connection::async_exchange(const http_request& req, const transport_config& cfg) {
  exchange_result r;
  http::request<http::string_body> msg{req.verb == "GET" ? http::verb::get : http::verb::post, req.target, 11};
  msg.set(http::field::host, host_header(key_));
  msg.set(http::field::user_agent, cfg.user_agent);
  msg.set(http::field::accept, "application/json");
  msg.keep_alive(true);
  if (req.verb != "GET") {
    msg.set(http::field::content_type, req.content_type);
    msg.body() = req.body;
    msg.prepare_payload();
  }

  // The stream's own timer would be re-armed for every chunk read: one deadline per step instead.
  tcp().expires_never();
  arm_deadline(cfg.timeouts.write);
  auto [wec, wn] = secure_ ? co_await http::async_write(*secure_, msg, use_tuple)
                           : co_await http::async_write(*plain_, msg, use_tuple);
  disarm_deadline();
  r.bytes_sent = wn;
  r.request_sent = wn > 0;
  r.request_written = !wec;  // even when the deadline closed the socket just after: it went out whole
  if (wec || timed_out_) {
    r.ec = step_error(wec);
    r.failed_step = transport_step::write;
    co_return r;
  }
  r.request_sent = true;

  // The string body reserves the announced Content-Length up front (no regrowth while reading).
  http::response_parser<http::string_body> parser;
  parser.body_limit(cfg.body_limit);
  arm_deadline(cfg.timeouts.read);
  auto [rec, rn] = secure_ ? co_await http::async_read(*secure_, buffer_, parser, use_tuple)
                           : co_await http::async_read(*plain_, buffer_, parser, use_tuple);
  disarm_deadline();
  r.bytes_received = rn;
  r.response_started = parser.got_some();
  if (rec) {
    r.ec = step_error(rec);
    r.failed_step = transport_step::read;
    co_return r;
  }
  // A complete answer stands even if the deadline passed just as it arrived (the socket is closed then).
  auto& res = parser.get();
  r.keep_alive = res.keep_alive() && !timed_out_;
  r.response.status = res.result_int();
  if (auto it = res.find(http::field::content_type); it != res.end()) r.response.content_type = it->value();
  if (auto it = res.find(http::field::location); it != res.end()) r.response.location = it->value();
  r.response.body = std::move(res.body());
  ++served_;
  co_return r;
}

net::awaitable<void> connection::async_close(std::chrono::milliseconds deadline) {
  if (secure_ && tcp().socket().is_open()) {
    tcp().expires_after(deadline);
    // A peer that closes without its own close_notify gives stream_truncated; we are done with the
    // connection either way, and no response data can be lost here, so every error is ignored.
    (void)co_await secure_->async_shutdown(use_tuple);
  }
  close_now();
}

void connection::close_now() noexcept {
  boost::system::error_code ignored;
  tcp().socket().shutdown(tcp::socket::shutdown_both, ignored);
  tcp().socket().close(ignored);
}

bool connection::peer_still_open() noexcept {
  auto& sock = tcp().socket();
  if (!sock.is_open() || buffer_.size() != 0) return false;
  char byte = 0;
  ssize_t n = ::recv(sock.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

}  // namespace b24sync::bitrix::detail
