// tests/integration/bitrix/mini_server.hpp: a tiny scripted Beast HTTP(S) server on 127.0.0.1 for
// transport tests the emulator cannot stage (redirects, certificate failures, idle-connection drops).
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace b24test {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

using mini_request = http::request<http::string_body>;
using mini_response = http::response<http::string_body>;

/// What the handler wants done with a request.
struct mini_reply {
  mini_response response;
  bool close_without_answer = false;  ///< hang up instead of answering
  bool close_after = false;           ///< answer with Connection: close, then hang up
  bool hang_up_after = false;         ///< answer as if keeping the connection, then hang up silently
  bool stall = false;                 ///< never answer: hold the connection until the client hangs up
};

/// Serves connections on the io_context it is given. `handler` sees every request in arrival order.
class mini_server {
 public:
  using handler_type = std::function<mini_reply(const mini_request&)>;

  /// tls == nullptr: plain HTTP.
  mini_server(net::io_context& ioc, handler_type handler, net::ssl::context* tls = nullptr,
              const std::string& bind = "127.0.0.1")
      : acceptor_(ioc, {net::ip::make_address(bind), 0}), handler_(std::move(handler)), tls_(tls) {
    net::co_spawn(ioc, accept_loop(), net::detached);
  }

  unsigned short port() const { return acceptor_.local_endpoint().port(); }
  std::size_t connections() const { return connections_; }
  std::vector<mini_request> requests;  ///< every request read, in order

  /// Closes the listening socket (connections in progress finish on their own).
  void stop() {
    boost::system::error_code ec;
    acceptor_.close(ec);
  }

  static mini_response make(unsigned status, std::string body, std::string content_type = "application/json") {
    mini_response res{static_cast<http::status>(status), 11};
    res.set(http::field::content_type, content_type);
    res.body() = std::move(body);
    res.prepare_payload();
    return res;
  }

 private:
  net::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, sock] = co_await acceptor_.async_accept(net::as_tuple(net::use_awaitable));
      if (ec) co_return;
      ++connections_;
      if (tls_) {
        net::co_spawn(acceptor_.get_executor(), serve_tls(std::move(sock)), net::detached);
      } else {
        net::co_spawn(acceptor_.get_executor(), serve(beast::tcp_stream(std::move(sock))), net::detached);
      }
    }
  }

  net::awaitable<void> serve_tls(net::ip::tcp::socket sock) {
    beast::ssl_stream<beast::tcp_stream> stream(beast::tcp_stream(std::move(sock)), *tls_);
    auto [ec] = co_await stream.async_handshake(net::ssl::stream_base::server, net::as_tuple(net::use_awaitable));
    if (ec) co_return;  // the client refused our certificate: that is what the TLS tests expect
    co_await serve(std::move(stream));
  }

  template <class Stream>
  net::awaitable<void> serve(Stream stream) {
    beast::flat_buffer buffer;
    for (;;) {
      mini_request req;
      auto [ec, n] = co_await http::async_read(stream, buffer, req, net::as_tuple(net::use_awaitable));
      if (ec) co_return;
      requests.push_back(req);
      mini_reply reply = handler_(req);
      if (reply.close_without_answer) co_return;
      if (reply.stall) {
        char byte = 0;
        (void)co_await stream.async_read_some(net::buffer(&byte, 1), net::as_tuple(net::use_awaitable));
        co_return;
      }
      reply.response.keep_alive(!reply.close_after && req.keep_alive());
      auto [wec, wn] = co_await http::async_write(stream, reply.response, net::as_tuple(net::use_awaitable));
      if (wec || reply.close_after || reply.hang_up_after || !req.keep_alive()) co_return;
    }
  }

  net::ip::tcp::acceptor acceptor_;
  handler_type handler_;
  net::ssl::context* tls_;
  std::size_t connections_ = 0;
};

}  // namespace b24test
