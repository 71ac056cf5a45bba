// bitrix/http_transport.cpp: the keep-alive pool, the in-flight limit and the stale-connection resend rule.
#include "bitrix/http_transport.hpp"

#include "bitrix/connection.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/url/parse.hpp>
#include <spdlog/logger.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <deque>
#include <stdexcept>
#include <system_error>
#include <vector>

namespace b24sync::bitrix {

namespace {

constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// FIFO wait for one of N slots. Single-threaded use only.
class async_semaphore {
 public:
  explicit async_semaphore(std::size_t slots) : free_(slots) {}

  net::awaitable<void> async_acquire() {
    while (free_ == 0) {
      waiter w{net::steady_timer(co_await net::this_coro::executor, net::steady_timer::time_point::max())};
      waiters_.push_back(&w);
      (void)co_await w.timer.async_wait(use_tuple);
      if (!w.woken) {  // cancelled from outside, not by release()
        std::erase(waiters_, &w);
        throw boost::system::system_error(net::error::operation_aborted);
      }
    }
    --free_;
  }

  void release() {
    ++free_;
    if (!waiters_.empty()) {
      waiter* w = waiters_.front();
      waiters_.pop_front();
      w->woken = true;
      w->timer.cancel();
    }
  }

 private:
  struct waiter {
    net::steady_timer timer;
    bool woken = false;
  };
  std::size_t free_;
  std::deque<waiter*> waiters_;
};

// An error that means "the server hung up": the usual end of an idle kept-alive connection.
bool is_connection_drop(const boost::system::error_code& ec) {
  return ec == boost::beast::http::error::end_of_stream || ec == net::error::eof || ec == net::error::connection_reset ||
         ec == net::error::broken_pipe || ec == net::error::connection_aborted ||
         ec == net::ssl::error::stream_truncated;
}

}  // namespace

std::string origin::to_string() const {
  std::string s = tls ? "https://" : "http://";
  s += host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (port != (tls ? 443 : 80)) s += ":" + std::to_string(port);
  return s + base_path;
}

bool is_loopback_host(std::string_view host) {
  if (lower(host) == "localhost") return true;
  boost::system::error_code ec;
  auto addr = net::ip::make_address(std::string(host), ec);
  return !ec && addr.is_loopback();
}

origin parse_origin(std::string_view url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) throw std::invalid_argument("portal URL is not a valid absolute URL");
  const auto& u = *parsed;
  origin o;
  std::string scheme = lower(u.scheme());
  if (scheme != "https" && scheme != "http") throw std::invalid_argument("portal URL must start with https://");
  o.tls = scheme == "https";
  if (u.has_userinfo()) throw std::invalid_argument("portal URL must not contain user:password@");
  if (u.has_query() || u.has_fragment()) throw std::invalid_argument("portal URL must not have a query or fragment");
  if (u.host_type() == boost::urls::host_type::ipv6) {
    o.host = u.host_ipv6_address().to_string();
  } else {
    o.host = lower(u.encoded_host());
  }
  if (o.host.empty()) throw std::invalid_argument("portal URL has no host");
  if (u.has_port()) {
    if (u.port_number() == 0) throw std::invalid_argument("portal URL has an invalid port");
    o.port = u.port_number();
  } else {
    o.port = o.tls ? 443 : 80;
  }
  std::string path(u.encoded_path());
  while (!path.empty() && path.back() == '/') path.pop_back();
  if (path.find("/rest") != std::string::npos) {
    // Most likely a whole webhook URL pasted as the base: never echo it (it holds the secret).
    throw std::invalid_argument("portal URL must be the portal root (e.g. https://corp.bitrix24.ru), not a /rest/ URL");
  }
  o.base_path = path;
  if (!o.tls && !is_loopback_host(o.host)) {
    throw std::invalid_argument("plain http:// is refused for " + o.host + ": use https:// (http only for loopback tests)");
  }
  return o;
}

std::string_view to_string(transport_step step) noexcept {
  switch (step) {
    case transport_step::none: return "none";
    case transport_step::resolve: return "resolve";
    case transport_step::connect: return "connect";
    case transport_step::handshake: return "tls handshake";
    case transport_step::write: return "write";
    case transport_step::read: return "read";
  }
  return "unknown";
}

struct http_transport::impl {
  impl(net::any_io_executor e, transport_config c, std::shared_ptr<spdlog::logger> l)
      : ex(std::move(e)), cfg(std::move(c)), log(std::move(l)), tls(net::ssl::context::tls_client),
        slots(std::max<std::size_t>(1, cfg.max_connections)) {}

  net::any_io_executor ex;
  transport_config cfg;
  std::shared_ptr<spdlog::logger> log;
  net::ssl::context tls;
  async_semaphore slots;
  std::vector<std::unique_ptr<detail::connection>> idle;  // most recently used last
  transport_stats stats;

  // An idle connection to `to` that is young enough and still open, or null.
  std::unique_ptr<detail::connection> take_idle(const origin& to) {
    auto now = detail::connection::clock::now();
    for (auto i = idle.size(); i-- > 0;) {
      if (!(idle[i]->key() == to)) continue;
      auto conn = std::move(idle[i]);
      idle.erase(idle.begin() + static_cast<std::ptrdiff_t>(i));
      if (now - conn->idle_since < cfg.timeouts.idle && conn->peer_still_open()) return conn;
      if (now - conn->idle_since < cfg.timeouts.idle) ++stats.stale_reconnects;
      conn->close_now();
    }
    return nullptr;
  }

  void park(std::unique_ptr<detail::connection> conn) {
    conn->idle_since = detail::connection::clock::now();
    idle.push_back(std::move(conn));
    while (idle.size() > std::max<std::size_t>(1, cfg.max_connections)) {
      idle.front()->close_now();
      idle.erase(idle.begin());
    }
  }
};

http_transport::http_transport(net::any_io_executor ex, transport_config cfg, std::shared_ptr<spdlog::logger> log)
    : impl_(std::make_unique<impl>(std::move(ex), std::move(cfg), log ? std::move(log)
                                                                          : std::make_shared<spdlog::logger>("bitrix"))) {
  auto& ctx = impl_->tls;
  ctx.set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                  net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 | net::ssl::context::no_tlsv1_1);
  boost::system::error_code ec;
  ctx.set_default_verify_paths(ec);
  if (ec) impl_->log->warn("tls: cannot load the system CA store: {}", ec.message());
  if (!impl_->cfg.tls.ca_file.empty()) {
    ctx.load_verify_file(impl_->cfg.tls.ca_file, ec);
    if (ec) throw std::runtime_error("tls: cannot load ca_file " + impl_->cfg.tls.ca_file + ": " + ec.message());
  }
  if (impl_->cfg.tls.verify) {
    ctx.set_verify_mode(net::ssl::verify_peer);
  } else {
    ctx.set_verify_mode(net::ssl::verify_none);
    impl_->log->warn("tls: certificate verification is DISABLED (tls.verify=false): the portal's identity is not "
                     "checked and the webhook code can be intercepted");
  }
}

http_transport::~http_transport() {
  for (auto& c : impl_->idle) c->close_now();
}

const transport_stats& http_transport::stats() const noexcept { return impl_->stats; }

net::any_io_executor http_transport::get_executor() const noexcept { return impl_->ex; }

net::awaitable<void> http_transport::async_close_idle() {
  auto conns = std::move(impl_->idle);
  impl_->idle.clear();
  for (auto& c : conns) co_await c->async_close(std::chrono::milliseconds(2000));
}

net::awaitable<http_outcome> http_transport::async_send(http_request req) {
  auto& m = *impl_;
  co_await m.slots.async_acquire();
  struct slot_guard {
    async_semaphore& s;
    ~slot_guard() { s.release(); }
  } guard{m.slots};

  http_outcome out;
  const auto started = std::chrono::steady_clock::now();
  for (int round = 0;; ++round) {
    ++m.stats.requests;
    auto conn = m.take_idle(req.to);
    const bool reused = conn != nullptr;
    if (!conn) {
      conn = std::make_unique<detail::connection>(m.ex, m.tls, req.to, m.cfg.tls.verify);
      co_await conn->async_open(m.cfg.timeouts, out);
      if (out.ec) {
        ++m.stats.failures;
        conn->close_now();
        m.log->debug("{} {}{}: {} failed: {}{}{}", req.verb, req.to.to_string(), req.log_target,
                     to_string(out.failed_step), out.ec.message(), out.detail.empty() ? "" : "; ", out.detail);
        co_return out;
      }
      ++m.stats.connections_opened;
      if (!m.cfg.tls.verify && req.to.tls) m.log->warn("tls: connected to {} WITHOUT certificate verification", req.to.host);
    }

    auto r = co_await conn->async_exchange(req, m.cfg);
    m.stats.bytes_sent += r.bytes_sent;
    m.stats.bytes_received += r.bytes_received;
    if (!r.ec) {
      ++m.stats.responses;
      out.response = std::move(r.response);
      out.request_sent = out.request_written = true;
      if (r.keep_alive) {
        m.park(std::move(conn));
      } else {
        co_await conn->async_close(std::chrono::milliseconds(1000));
      }
      m.log->debug("{} {}{} -> {} ({} B, {} ms)", req.verb, req.to.to_string(), req.log_target, out.response.status,
                   out.response.body.size(),
                   std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count());
      co_return out;
    }
    conn->close_now();

    // A kept-alive connection the server had already closed: resend on a fresh one, but only when
    // the server cannot have acted on the request (not completely written) or acting twice is harmless.
    if (reused && round == 0 && !r.response_started && is_connection_drop(r.ec) && (!r.request_written || req.idempotent)) {
      ++m.stats.stale_reconnects;
      m.log->debug("{} {}{}: kept-alive connection was closed by the server ({}); resending on a new one", req.verb,
                   req.to.to_string(), req.log_target, r.ec.message());
      continue;
    }
    ++m.stats.failures;
    out.ec = r.ec;
    out.failed_step = r.failed_step;
    out.request_sent = r.request_sent;
    out.request_written = r.request_written;
    if (r.request_written && !r.response_started) out.detail = "the request was sent but no answer came back";
    m.log->debug("{} {}{}: {} failed: {} (request {})", req.verb, req.to.to_string(), req.log_target,
                 to_string(out.failed_step), out.ec.message(),
                 r.request_written ? "fully written" : (r.request_sent ? "partly written" : "not sent"));
    co_return out;
  }
}

}  // namespace b24sync::bitrix
