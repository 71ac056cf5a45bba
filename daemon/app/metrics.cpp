// Prometheus text rendering, the service metrics and health rule, and the /metrics + /healthz endpoint
// (Beast coroutines on the daemon's io_context).
#include "app/metrics.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <spdlog/logger.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <exception>

#ifndef B24SYNC_VERSION
#define B24SYNC_VERSION "unknown"
#endif

namespace b24sync::app {

namespace {

bool valid_metric_name(std::string_view n) {
  if (n.empty()) return false;
  for (std::size_t i = 0; i < n.size(); ++i) {
    const char c = n[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

bool valid_label_name(std::string_view n) {
  return valid_metric_name(n) && n.find(':') == std::string_view::npos && n.rfind("__", 0) != 0;
}

label_list sorted(label_list labels) {
  std::sort(labels.begin(), labels.end());
  return labels;
}

}  // namespace

// ---- registry ---------------------------------------------------------------------------------------

void metrics_registry::declare(std::string name, metric_type type, std::string help,
                               std::vector<std::string> label_names) {
  if (!valid_metric_name(name)) throw std::invalid_argument("metrics: bad metric name \"" + name + "\"");
  if (find_if(name) != nullptr) throw std::invalid_argument("metrics: " + name + " declared twice");
  for (const auto& l : label_names) {
    if (!valid_label_name(l)) throw std::invalid_argument("metrics: " + name + ": bad label name \"" + l + "\"");
  }
  std::sort(label_names.begin(), label_names.end());
  family f{std::move(name), type, std::move(help), std::move(label_names), {}};
  if (f.label_names.empty()) f.series.emplace(label_list{}, 0.0);
  families_.push_back(std::move(f));
}

const metrics_registry::family* metrics_registry::find_if(std::string_view name) const {
  const auto it = std::find_if(families_.begin(), families_.end(), [&](const family& f) { return f.name == name; });
  return it == families_.end() ? nullptr : &*it;
}

metrics_registry::family& metrics_registry::find(std::string_view name) {
  const auto it = std::find_if(families_.begin(), families_.end(), [&](const family& f) { return f.name == name; });
  if (it == families_.end()) throw std::invalid_argument("metrics: " + std::string(name) + " is not declared");
  return *it;
}

label_list metrics_registry::key(const family& f, const label_list& labels) const {
  label_list k = sorted(labels);
  const bool same = k.size() == f.label_names.size() &&
                    std::equal(k.begin(), k.end(), f.label_names.begin(),
                               [](const auto& pair, const std::string& n) { return pair.first == n; });
  if (!same) throw std::invalid_argument("metrics: " + f.name + ": labels do not match the declaration");
  return k;
}

void metrics_registry::add(std::string_view name, const label_list& labels, double delta) {
  auto& f = find(name);
  if (f.type == metric_type::counter && !(delta >= 0))
    throw std::invalid_argument("metrics: counter " + f.name + " cannot go down");
  f.series[key(f, labels)] += delta;
}

void metrics_registry::set(std::string_view name, const label_list& labels, double value) {
  auto& f = find(name);
  if (f.type != metric_type::gauge) throw std::invalid_argument("metrics: " + f.name + " is not a gauge");
  f.series[key(f, labels)] = value;
}

double metrics_registry::value(std::string_view name, const label_list& labels) const {
  const auto* f = find_if(name);
  if (f == nullptr) return 0;
  const auto it = f->series.find(sorted(labels));
  return it == f->series.end() ? 0 : it->second;
}

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string escape_help(std::string_view help) {
  std::string out;
  out.reserve(help.size());
  for (char c : help) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string format_sample_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  std::array<char, 32> buf{};
  const auto r = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  return std::string(buf.data(), r.ptr);
}

std::string metrics_registry::render() const {
  std::string out;
  for (const auto& f : families_) {
    out += "# HELP " + f.name + ' ' + escape_help(f.help) + '\n';
    out += "# TYPE " + f.name + (f.type == metric_type::counter ? " counter\n" : " gauge\n");
    for (const auto& [labels, v] : f.series) {
      out += f.name;
      if (!labels.empty()) {
        out += '{';
        for (std::size_t i = 0; i < labels.size(); ++i) {
          if (i > 0) out += ',';
          out += labels[i].first + "=\"" + escape_label_value(labels[i].second) + '"';
        }
        out += '}';
      }
      out += ' ' + format_sample_value(v) + '\n';
    }
  }
  return out;
}

// ---- service metrics --------------------------------------------------------------------------------

service_metrics::service_metrics() {
  auto& r = registry_;
  r.declare("b24sync_runs_total", metric_type::counter, "Sync runs finished, by outcome.", {"outcome"});
  r.declare("b24sync_operations_total", metric_type::counter, "Portal write operations, by kind and outcome.",
            {"kind", "outcome"});
  r.declare("b24sync_portal_errors_total", metric_type::counter, "Errors returned by the portal, by error code.",
            {"code"});
  r.declare("b24sync_http_503_total", metric_type::counter,
            "HTTP 503 answers (QUERY_LIMIT_EXCEEDED or an overloaded portal).");
  r.declare("b24sync_http_429_total", metric_type::counter, "HTTP 429 answers (OPERATION_TIME_LIMIT).");
  r.declare("b24sync_last_run_timestamp_seconds", metric_type::gauge, "When the last run finished (Unix time).");
  r.declare("b24sync_last_success_timestamp_seconds", metric_type::gauge,
            "When the last successful run finished (Unix time).");
  r.declare("b24sync_last_run_duration_seconds", metric_type::gauge, "How long the last run took.");
  r.declare("b24sync_last_run_success", metric_type::gauge, "1 if the last run succeeded, else 0.");
  r.declare("b24sync_users_managed", metric_type::gauge, "Portal users b24sync manages.");
  r.declare("b24sync_healthy", metric_type::gauge,
            "1 if the last run succeeded and is recent enough (as /healthz), else 0.");
  r.declare("b24sync_build_info", metric_type::gauge, "Always 1; the version as a label.", {"version"});
  r.set("b24sync_build_info", {{"version", B24SYNC_VERSION}}, 1);
  // Known outcomes start at 0, so rate() and absence-based alerts behave from the first scrape.
  for (const char* outcome : {"ok", "changes", "guard_tripped", "partial_failure", "failed", "interrupted"})
    r.add("b24sync_runs_total", {{"outcome", outcome}}, 0);
}

void service_metrics::record_run(const run_record& run) {
  const std::lock_guard lock(mutex_);
  const auto finished = static_cast<double>(run.finished.time_since_epoch().count());
  registry_.add("b24sync_runs_total", {{"outcome", run.outcome}}, 1);
  registry_.set("b24sync_last_run_timestamp_seconds", {}, finished);
  registry_.set("b24sync_last_run_duration_seconds", {}, run.duration.count());
  registry_.set("b24sync_last_run_success", {}, run.success ? 1 : 0);
  if (run.success) registry_.set("b24sync_last_success_timestamp_seconds", {}, finished);
  have_run_ = true;
  last_run_ = run;
}

void service_metrics::add_operations(std::string_view kind, std::string_view outcome, std::uint64_t n) {
  const std::lock_guard lock(mutex_);
  registry_.add("b24sync_operations_total", {{"kind", std::string(kind)}, {"outcome", std::string(outcome)}},
                static_cast<double>(n));
}

void service_metrics::add_portal_errors(std::string_view code, std::uint64_t n) {
  const std::lock_guard lock(mutex_);
  registry_.add("b24sync_portal_errors_total", {{"code", std::string(code)}}, static_cast<double>(n));
}

void service_metrics::add_http_503(std::uint64_t n) {
  const std::lock_guard lock(mutex_);
  registry_.add("b24sync_http_503_total", {}, static_cast<double>(n));
}

void service_metrics::add_http_429(std::uint64_t n) {
  const std::lock_guard lock(mutex_);
  registry_.add("b24sync_http_429_total", {}, static_cast<double>(n));
}

void service_metrics::set_users_managed(std::uint64_t n) {
  const std::lock_guard lock(mutex_);
  registry_.set("b24sync_users_managed", {}, static_cast<double>(n));
}

health_status service_metrics::health(sys_seconds now, std::chrono::seconds max_age) const {
  const std::lock_guard lock(mutex_);
  if (!have_run_) return {false, "no run has finished yet"};
  if (!last_run_.success) return {false, "last run failed (outcome " + last_run_.outcome + ")"};
  const auto age = now - last_run_.finished;
  if (age > max_age)
    return {false, "last run finished " + std::to_string(age.count()) + "s ago, more than the allowed " +
                       std::to_string(max_age.count()) + "s"};
  return {true, "ok"};
}

std::string service_metrics::render(sys_seconds now, std::chrono::seconds max_age) const {
  const bool healthy = health(now, max_age).healthy;
  const std::lock_guard lock(mutex_);
  // Rendering a copy keeps the registry's only non-const step (the health gauge) out of the shared one.
  metrics_registry snapshot = registry_;
  snapshot.set("b24sync_healthy", {}, healthy ? 1 : 0);
  return snapshot.render();
}

double service_metrics::value(std::string_view name, const label_list& labels) const {
  const std::lock_guard lock(mutex_);
  return registry_.value(name, labels);
}

http_answer answer_metrics_request(std::string_view method, std::string_view target, const service_metrics& metrics,
                                   sys_seconds now, std::chrono::seconds max_age) {
  const std::string_view path = target.substr(0, target.find('?'));
  if (path != "/metrics" && path != "/healthz") return {404, "text/plain; charset=utf-8", "not found\n"};
  if (method != "GET" && method != "HEAD") return {405, "text/plain; charset=utf-8", "method not allowed\n"};
  if (path == "/metrics") return {200, std::string(prometheus_content_type), metrics.render(now, max_age)};
  const auto h = metrics.health(now, max_age);
  return {h.healthy ? 200U : 503U, "text/plain; charset=utf-8", h.reason + '\n'};
}

// ---- listen address ---------------------------------------------------------------------------------

listen_address parse_listen_address(std::string_view listen) {
  const auto fail = [&](const std::string& problem) -> metrics_error {
    return metrics_error("metrics.listen \"" + std::string(listen) + "\": " + problem);
  };
  std::string_view host;
  std::string_view port;
  if (!listen.empty() && listen.front() == '[') {
    const auto close = listen.find(']');
    if (close == std::string_view::npos || close + 1 >= listen.size() || listen[close + 1] != ':')
      throw fail("expected [IPv6]:port");
    host = listen.substr(1, close - 1);
    port = listen.substr(close + 2);
  } else {
    const auto colon = listen.rfind(':');
    if (colon == std::string_view::npos) throw fail("expected host:port");
    host = listen.substr(0, colon);
    port = listen.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) throw fail("write an IPv6 address in brackets: [::1]:9464");
  }
  if (host.empty()) throw fail("the host is missing");
  unsigned value = 0;
  const auto r = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || r.ec != std::errc{} || r.ptr != port.data() + port.size() || value > 65535)
    throw fail("the port must be a number 0..65535");
  listen_address out;
  out.host = host == "localhost" ? "127.0.0.1" : std::string(host);
  out.port = static_cast<std::uint16_t>(value);
  return out;
}

// ---- endpoint ---------------------------------------------------------------------------------------

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

struct metrics_endpoint::state {
  state(net::io_context& io, service_metrics& m, metrics_endpoint_options o)
      : metrics(m), options(std::move(o)), acceptor(io) {}
  service_metrics& metrics;
  metrics_endpoint_options options;
  tcp::acceptor acceptor;
  bool started = false;

  sys_seconds now() const {
    return options.clock ? options.clock() : std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  }
  template <class... Args>
  void debug(const char* fmt_text, Args&&... args) const {
    if (options.log) options.log->debug(fmt::runtime(fmt_text), std::forward<Args>(args)...);
  }
};

namespace {

using endpoint_state = std::shared_ptr<metrics_endpoint::state>;

// One request, one answer, then close: scrapers open a connection per scrape anyway.
net::awaitable<void> serve_connection(endpoint_state st, tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  http::request_parser<http::string_body> parser;
  parser.header_limit(8 * 1024);
  parser.body_limit(4 * 1024);  // GET has no body; anything larger is not a scraper
  boost::system::error_code ec;

  stream.expires_after(st->options.io_timeout);
  co_await http::async_read(stream, buffer, parser, net::redirect_error(net::use_awaitable, ec));
  if (ec) {
    st->debug("metrics: request not read: {}", ec.message());
    co_return;
  }
  const auto& req = parser.get();
  const auto answer =
      answer_metrics_request(req.method_string(), req.target(), st->metrics, st->now(), st->options.max_age);

  http::response<http::string_body> res{static_cast<http::status>(answer.status), req.version()};
  res.set(http::field::server, "b24sync");
  res.set(http::field::content_type, answer.content_type);
  res.set(http::field::cache_control, "no-store");
  if (answer.status == 405) res.set(http::field::allow, "GET, HEAD");
  res.keep_alive(false);
  res.content_length(answer.body.size());
  if (req.method() != http::verb::head) res.body() = answer.body;

  stream.expires_after(st->options.io_timeout);
  co_await http::async_write(stream, res, net::redirect_error(net::use_awaitable, ec));
  if (ec) {
    st->debug("metrics: answer not written: {}", ec.message());
    co_return;
  }
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);  // the peer may be gone: nothing to do then
}

net::awaitable<void> accept_connections(endpoint_state st) {
  net::steady_timer pause(st->acceptor.get_executor());
  for (;;) {
    boost::system::error_code ec;
    tcp::socket socket = co_await st->acceptor.async_accept(net::redirect_error(net::use_awaitable, ec));
    if (ec == net::error::operation_aborted || !st->acceptor.is_open()) co_return;  // stop()
    if (ec) {
      // Out of descriptors and the like: wait a little rather than spin on the same error.
      if (st->options.log) st->options.log->warn("metrics: accept failed: {}", ec.message());
      pause.expires_after(std::chrono::milliseconds{200});
      co_await pause.async_wait(net::redirect_error(net::use_awaitable, ec));
      continue;
    }
    net::co_spawn(st->acceptor.get_executor(), serve_connection(st, std::move(socket)),
                  [st](const std::exception_ptr& e) {
                    if (!e) return;
                    try {
                      std::rethrow_exception(e);
                    } catch (const std::exception& x) {
                      if (st->options.log) st->options.log->warn("metrics: connection failed: {}", x.what());
                    }
                  });
  }
}

bool is_loopback(const net::ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) return net::ip::make_address_v4(net::ip::v4_mapped, a.to_v6()).is_loopback();
  return a.is_loopback();
}

}  // namespace

metrics_endpoint::metrics_endpoint(net::io_context& io, service_metrics& metrics, metrics_endpoint_options options)
    : state_(std::make_shared<state>(io, metrics, std::move(options))) {
  const auto where = parse_listen_address(state_->options.listen);
  boost::system::error_code ec;
  const auto address = net::ip::make_address(where.host, ec);
  if (ec)
    throw metrics_error("metrics.listen \"" + state_->options.listen + "\": \"" + where.host +
                        "\" is not an IP address (or localhost)");
  if (!is_loopback(address) && !state_->options.allow_non_loopback)
    throw metrics_error("metrics.listen \"" + state_->options.listen +
                        "\": not a loopback address; the endpoint has no TLS or authentication, so it only "
                        "listens on 127.0.0.1 or [::1] (put an authenticating proxy in front to expose it)");
  const tcp::endpoint endpoint{address, where.port};
  auto& acc = state_->acceptor;
  acc.open(endpoint.protocol());
  acc.set_option(net::socket_base::reuse_address(true));
  if (address.is_v6()) acc.set_option(net::ip::v6_only(true));
  acc.bind(endpoint);
  acc.listen();
}

metrics_endpoint::~metrics_endpoint() { stop(); }

void metrics_endpoint::start() {
  if (state_->started) return;
  state_->started = true;
  auto st = state_;
  net::co_spawn(st->acceptor.get_executor(), accept_connections(st), [st](const std::exception_ptr& e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      if (st->options.log) st->options.log->error("metrics: endpoint stopped: {}", x.what());
    }
  });
}

void metrics_endpoint::stop() {
  // Posted: the acceptor belongs to the io_context's thread, and stop() may come from elsewhere.
  net::post(state_->acceptor.get_executor(), [st = state_] {
    boost::system::error_code ec;
    st->acceptor.close(ec);  // already closed is fine
  });
}

std::uint16_t metrics_endpoint::port() const noexcept {
  boost::system::error_code ec;
  const auto ep = state_->acceptor.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

std::string metrics_endpoint::local_address() const {
  boost::system::error_code ec;
  const auto ep = state_->acceptor.local_endpoint(ec);
  if (ec) return {};
  const auto host = ep.address().to_string();
  return (ep.address().is_v6() ? "[" + host + "]" : host) + ":" + std::to_string(ep.port());
}

}  // namespace b24sync::app
