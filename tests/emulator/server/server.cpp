// The emulator's Beast server: accept loop, per-connection coroutines (plain or TLS, detected per
// connection), deadlines, the simulated-cost wait, and shutdown by closing every socket.
#include "server/server.hpp"

#include "server/limits_json.hpp"
#include "server/pipeline.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <pthread.h>
#include <time.h>

#include <cstdio>
#include <optional>
#include <set>
#include <thread>

namespace b24emu {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

namespace {

constexpr auto use_tuple = net::as_tuple(net::use_awaitable);
constexpr std::uint64_t body_limit = 512ull * 1024 * 1024;  // seeds for 100k-user benchmarks are large
constexpr auto write_timeout = std::chrono::seconds(30);
constexpr auto tls_shutdown_timeout = std::chrono::seconds(2);
constexpr auto stop_grace = std::chrono::seconds(2);

double wall_clock_unix() {
  const std::chrono::duration<double> d = std::chrono::system_clock::now().time_since_epoch();
  return d.count();
}

// What stop() needs to reach inside a live connection (both live in the connection's coroutine frame).
struct connection {
  beast::tcp_stream* tcp = nullptr;
  net::steady_timer* timer = nullptr;
};

}  // namespace

class server_impl {
public:
  explicit server_impl(server_options o)
      : options_(std::move(o)),
        pipeline_(time_source(options_.start_unix > 0 ? options_.start_unix : wall_clock_unix(), options_.time_scale,
                              std::chrono::steady_clock::now()),
                  options_.faults),
        acceptor_(ioc_),
        grace_(ioc_) {
    {
      std::lock_guard lk(pipeline_.mutex());
      if (!options_.seed.is_null()) pipeline_.portal_unlocked().load_seed(options_.seed);
      if (!options_.limits_patch.is_null()) apply_limits_patch(pipeline_.portal_unlocked().limits(), options_.limits_patch);
    }
    if (!options_.log_file.empty()) pipeline_.open_log(options_.log_file);
    if (!options_.tls_cert_file.empty() || !options_.tls_key_file.empty()) {
      if (options_.tls_cert_file.empty() || options_.tls_key_file.empty())
        throw std::invalid_argument("TLS needs both a certificate and a key file");
      ssl_.emplace(ssl::context::tls_server);
      ssl_->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                        ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
      ssl_->use_certificate_chain_file(options_.tls_cert_file);
      ssl_->use_private_key_file(options_.tls_key_file, ssl::context::pem);
    }
    const tcp::endpoint ep(net::ip::make_address(options_.host), options_.port);
    acceptor_.open(ep.protocol());
    acceptor_.set_option(net::socket_base::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen(net::socket_base::max_listen_connections);
    port_ = acceptor_.local_endpoint().port();
  }

  ~server_impl() {
    stop();
    tearing_down_ = true;
  }

  void start() {
    if (thread_.joinable() || stopped_) return;
    accepting_ = true;
    net::co_spawn(ioc_, accept_loop(), [](std::exception_ptr e) { report("accept loop", e); });
    thread_ = std::thread([this] { ioc_.run(); });
  }

  double io_thread_cpu_seconds() {
    if (!thread_.joinable()) return 0;
    clockid_t clock{};
    timespec ts{};
    if (pthread_getcpuclockid(thread_.native_handle(), &clock) != 0 || clock_gettime(clock, &ts) != 0) return 0;
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
  }

  void stop() {
    if (stopped_) return;
    stopped_ = true;
    if (!thread_.joinable()) {
      boost::system::error_code ec;
      acceptor_.close(ec);
      return;
    }
    net::post(ioc_, [this] {
      stopping_ = true;
      boost::system::error_code ec;
      acceptor_.close(ec);
      for (auto* c : connections_) cancel(*c);
      // Everything should unwind at once; the grace timer only guards against a stuck handler.
      grace_.expires_after(stop_grace);
      grace_.async_wait([this](boost::system::error_code wec) {
        if (!wec) ioc_.stop();
      });
      maybe_finished();
    });
    thread_.join();
  }

  std::uint16_t port() const { return port_; }
  bool tls() const { return ssl_.has_value(); }
  pipeline& pipe() { return pipeline_; }
  const server_options& options() const { return options_; }

private:
  static void report(const char* what, std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      std::fprintf(stderr, "b24emu: %s failed: %s\n", what, ex.what());
    }
  }

  static void cancel(connection& c) {
    if (c.tcp != nullptr) c.tcp->close();
    if (c.timer != nullptr) c.timer->cancel();
  }

  void maybe_finished() {
    if (!tearing_down_ && stopping_ && connections_.empty() && !accepting_) grace_.cancel();
  }

  net::awaitable<void> accept_loop() {
    net::steady_timer backoff(ioc_);
    while (!stopping_) {
      auto [ec, socket] = co_await acceptor_.async_accept(use_tuple);
      if (stopping_) break;
      if (ec) {
        // e.g. EMFILE: don't spin; try again shortly.
        backoff.expires_after(std::chrono::milliseconds(50));
        co_await backoff.async_wait(use_tuple);
        continue;
      }
      socket.set_option(tcp::no_delay(true), ec);
      pipeline_.note_connection();
      net::co_spawn(ioc_, session(std::move(socket)), [](std::exception_ptr e) { report("connection", e); });
    }
    accepting_ = false;
    maybe_finished();
  }

  // Registers a connection for stop() for the lifetime of the session coroutine.
  struct registration {
    server_impl& s;
    connection c;
    explicit registration(server_impl& srv) : s(srv) { s.connections_.insert(&c); }
    ~registration() {
      s.connections_.erase(&c);
      s.maybe_finished();
    }
    registration(const registration&) = delete;
    registration& operator=(const registration&) = delete;
  };

  net::awaitable<void> session(tcp::socket socket) {
    registration reg(*this);
    net::steady_timer timer(ioc_);
    reg.c.timer = &timer;
    beast::tcp_stream plain(std::move(socket));
    reg.c.tcp = &plain;
    beast::flat_buffer buffer;
    if (!ssl_) {
      co_await serve(plain, buffer, timer, false);
      co_return;
    }
    plain.expires_after(options_.idle_timeout);
    auto [dec, is_tls] = co_await beast::async_detect_ssl(plain, buffer, use_tuple);
    if (dec || stopping_) co_return;
    if (!is_tls) {
      co_await serve(plain, buffer, timer, false);
      co_return;
    }
    beast::ssl_stream<beast::tcp_stream> secure(std::move(plain), *ssl_);
    reg.c.tcp = &beast::get_lowest_layer(secure);
    beast::get_lowest_layer(secure).expires_after(options_.idle_timeout);
    auto [hec, used] = co_await secure.async_handshake(ssl::stream_base::server, buffer.data(), use_tuple);
    if (hec || stopping_) co_return;
    buffer.consume(used);
    pipeline_.note_tls_connection();
    if (co_await serve(secure, buffer, timer, true)) {
      beast::get_lowest_layer(secure).expires_after(tls_shutdown_timeout);
      co_await secure.async_shutdown(use_tuple);  // a peer that just drops the socket is fine too
    }
  }

  // A request the parser refused (not a closed or timed-out connection).
  static bool is_bad_request(const boost::system::error_code& ec) {
    return ec.category() == http::make_error_code(http::error::bad_target).category() &&
           ec != http::error::end_of_stream && ec != http::error::partial_message;
  }

  // Answers an unparsable request like a front end would, then the connection closes: 414 for an
  // over-long request line or headers (nginx's answer to long GET batches), 413 for a huge body, else 400.
  template <class Stream>
  net::awaitable<void> write_http_error(Stream& stream, const boost::system::error_code& ec) {
    const auto status = ec == http::error::header_limit  ? http::status::uri_too_long
                        : ec == http::error::body_limit ? http::status::payload_too_large
                                                        : http::status::bad_request;
    http::response<http::string_body> res{status, 11};
    res.set(http::field::server, "b24emu");
    res.set(http::field::content_type, "text/plain");
    res.body() = ec.message() + "\n";
    res.keep_alive(false);
    res.prepare_payload();
    beast::get_lowest_layer(stream).expires_after(write_timeout);
    co_await http::async_write(stream, res, use_tuple);
  }

  // Serves requests until the peer or a fault ends the connection. Returns true if the connection ended
  // cleanly (keep-alive over, or the peer closed) and a TLS close_notify is appropriate.
  template <class Stream>
  net::awaitable<bool> serve(Stream& stream, beast::flat_buffer& buffer, net::steady_timer& timer, bool is_tls) {
    auto& tcp_layer = beast::get_lowest_layer(stream);
    while (!stopping_) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(body_limit);
      tcp_layer.expires_after(options_.idle_timeout);
      auto [rec, read] = co_await http::async_read(stream, buffer, parser, use_tuple);
      if (rec || stopping_) {
        if (!stopping_ && is_bad_request(rec)) co_await write_http_error(stream, rec);
        co_return rec == http::error::end_of_stream;
      }
      tcp_layer.expires_never();
      const auto& msg = parser.get();

      http_request req;
      req.method = std::string(msg.method_string());
      req.target = std::string(msg.target());
      req.content_type = std::string(msg[http::field::content_type]);
      req.authorization = std::string(msg[http::field::authorization]);
      req.body = msg.body();
      req.tls = is_tls;

      outcome out = pipeline_.process(req, std::chrono::steady_clock::now());
      if (out.delay > std::chrono::steady_clock::duration::zero()) {
        timer.expires_after(out.delay);
        auto [tec] = co_await timer.async_wait(use_tuple);
        if (tec || stopping_) co_return false;
      }
      if (!out.write) {
        // The fault cases: drop the connection without an answer (no TLS close_notify either).
        boost::system::error_code ec;
        tcp_layer.socket().shutdown(tcp::socket::shutdown_both, ec);
        tcp_layer.close();
        co_return false;
      }

      http::response<http::string_body> res{static_cast<http::status>(out.response.status), msg.version()};
      res.set(http::field::server, "b24emu");
      res.set(http::field::content_type, out.response.content_type);
      for (const auto& [name, value] : out.response.headers) res.set(name, value);
      res.body() = std::move(out.response.body);
      res.keep_alive(msg.keep_alive());
      res.prepare_payload();
      tcp_layer.expires_after(write_timeout);
      auto [wec, written] = co_await http::async_write(stream, res, use_tuple);
      if (wec) co_return false;
      if (!res.keep_alive()) {
        if (!is_tls) {
          boost::system::error_code ec;
          tcp_layer.socket().shutdown(tcp::socket::shutdown_send, ec);
        }
        co_return true;
      }
    }
    co_return false;
  }

  // Declared before ioc_: coroutine frames still pending when ioc_ is destroyed refer to these.
  server_options options_;
  pipeline pipeline_;
  std::set<connection*> connections_;  // io thread only
  bool stopping_ = false;              // io thread only
  bool accepting_ = false;             // io thread only (after start)
  bool stopped_ = false;               // caller's thread
  bool tearing_down_ = false;          // set in the destructor: frames unwinding must not touch grace_
  std::uint16_t port_ = 0;
  net::io_context ioc_{1};
  std::optional<ssl::context> ssl_;
  tcp::acceptor acceptor_;
  net::steady_timer grace_;
  std::thread thread_;
};

server::server(server_options options) : impl_(std::make_unique<server_impl>(std::move(options))) {}
server::~server() = default;

void server::start() { impl_->start(); }
void server::stop() { impl_->stop(); }
std::uint16_t server::port() const { return impl_->port(); }
bool server::tls() const { return impl_->tls(); }

std::string server::base_url() const {
  const std::string& host = impl_->options().host;
  const bool v6 = host.find(':') != std::string::npos;
  return std::string(tls() ? "https://" : "http://") + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port());
}

double server::portal_now() const { return impl_->pipe().now(std::chrono::steady_clock::now()); }
void server::advance_time(double portal_seconds) { impl_->pipe().advance_time(portal_seconds); }
void server::set_faults(fault_spec spec) { impl_->pipe().set_faults(std::move(spec)); }
boost::json::value server::stats() const { return impl_->pipe().stats(); }
double server::io_thread_cpu_seconds() const { return impl_->io_thread_cpu_seconds(); }
bool server::wait_rest_requests(std::uint64_t count, std::chrono::milliseconds timeout) {
  return impl_->pipe().wait_rest_requests(count, timeout);
}
std::mutex& server::portal_mutex() { return impl_->pipe().mutex(); }
portal& server::portal_unlocked() { return impl_->pipe().portal_unlocked(); }

}  // namespace b24emu
