// bitrix/client.cpp: single REST calls: pacing, rate limiting, redirects, token refresh and the retry loop.
#include "bitrix/client.hpp"

#include "bitrix/client_impl.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>
#include <spdlog/logger.h>

#include <algorithm>
#include <optional>
#include <stdexcept>
#include <utility>

namespace b24sync::bitrix {

namespace {

constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

client_config checked(client_config cfg) {
  if (cfg.batch_size < 1 || cfg.batch_size > max_batch_commands) throw std::invalid_argument("batch_size must be 1..50");
  if (cfg.max_in_flight < 1 || cfg.max_in_flight > 8) throw std::invalid_argument("max_in_flight must be 1..8");
  if (!(cfg.time_scale > 0)) throw std::invalid_argument("time_scale must be > 0");
  if (!(cfg.limits.requests_per_second > 0) || !(cfg.limits.burst >= 1)) {
    throw std::invalid_argument("limits need requests_per_second > 0 and burst >= 1");
  }
  if (cfg.retry.max_attempts < 1) throw std::invalid_argument("retry.max_attempts must be >= 1");
  return cfg;
}

transport_config transport_settings(const client_config& c) {
  transport_config t;
  t.tls = c.tls;
  t.timeouts = c.timeouts;
  t.max_connections = c.max_in_flight;
  t.user_agent = c.user_agent;
  return t;
}

rate_limiter_config limiter_settings(const client_config& c) {
  rate_limiter_config r;
  r.requests_per_second = c.limits.requests_per_second;
  r.burst = c.limits.burst;
  r.burst_reserve = std::min(r.burst_reserve, c.limits.burst / 10);
  return r;
}

operating_pacer_config pacer_settings(const client_config& c) {
  operating_pacer_config p;
  p.limit_seconds = c.operating_limit_s;
  return p;
}

// The portal's new address from a redirect's Location: its scheme and authority, and the path part
// in front of "/rest/" (empty for a portal at the root).
origin moved_origin(std::string_view location) {
  auto u = boost::urls::parse_uri(location);
  if (!u) throw std::invalid_argument("Location is not an absolute URL");
  origin o = parse_origin(std::string(u->scheme()) + "://" + std::string(u->encoded_authority()));
  std::string path(u->encoded_path());
  if (auto pos = path.find("/rest/"); pos != std::string::npos) o.base_path = path.substr(0, pos);
  return o;
}

bool is_redirect(unsigned status) { return status == 301 || status == 302 || status == 303 || status == 307 || status == 308; }

}  // namespace

// ---- async_event ----

net::awaitable<void> async_event::async_wait() {
  net::steady_timer t(co_await net::this_coro::executor, net::steady_timer::time_point::max());
  waiters_.push_back(&t);
  (void)co_await t.async_wait(use_tuple);
  std::erase(waiters_, &t);
}

void async_event::notify_all() {
  for (auto* t : waiters_) t->cancel();
}

// ---- impl ----

client::impl::impl(net::any_io_executor e, client_config c, std::shared_ptr<spdlog::logger> l)
    : ex(std::move(e)), cfg(checked(std::move(c))),
      log(l ? std::move(l) : std::make_shared<spdlog::logger>("bitrix")), portal(parse_origin(cfg.base_url)),
      transport(ex, transport_settings(cfg), log), auth(cfg.auth, log), limiter(limiter_settings(cfg)),
      pacer(pacer_settings(cfg)), pclock(cfg.time_scale), rng(std::random_device{}()), epoch(steady::now()) {
  // The config keeps no live secrets beyond construction: auth owns them (and redacts them).
  if (auto* w = std::get_if<webhook_auth>(&cfg.auth)) w->code = secret("***");
  if (auto* o = std::get_if<oauth_auth>(&cfg.auth)) {
    o->client_secret = o->access_token = o->refresh_token = secret("***");
    o->on_rotated = nullptr;
  }
  log->debug("bitrix: client for {} ({} auth, {}/s burst {}, {} in flight, batch {}, time scale {})", portal.to_string(),
             auth.is_oauth() ? "oauth" : "webhook", cfg.limits.requests_per_second, cfg.limits.burst, cfg.max_in_flight,
             cfg.batch_size, cfg.time_scale);
}

client::impl::steady::time_point client::impl::virtual_now() const {
  auto real = std::chrono::duration<double>(steady::now() - epoch);
  return epoch + std::chrono::duration_cast<steady::duration>(real * cfg.time_scale);
}

double client::impl::portal_now() const {
  if (auto p = pclock.to_portal(steady::now())) return *p;
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

backoff_config client::impl::backoff_settings(unsigned max_attempts) const {
  backoff_config b;
  b.initial = cfg.retry.initial_backoff;
  b.max_delay = cfg.retry.max_backoff;
  b.max_attempts = max_attempts > 0 ? max_attempts - 1 : 0;
  return b;
}

diagnostics client::impl::redacted(diagnostics d) const {
  d.description = auth.redact(d.description);
  d.detail = auth.redact(d.detail);
  return d;
}

net::awaitable<void> client::impl::async_wait_scaled(std::chrono::milliseconds d, double& counter) {
  if (d <= std::chrono::milliseconds::zero()) co_return;
  auto real = std::chrono::duration_cast<steady::duration>(std::chrono::duration<double, std::milli>(d) / cfg.time_scale);
  net::steady_timer t(ex, real);
  auto started = steady::now();
  (void)co_await t.async_wait(use_tuple);
  counter += std::chrono::duration<double>(steady::now() - started).count();
}

net::awaitable<void> client::impl::async_wait_portal(double portal_time) {
  auto now = steady::now();
  auto at = pclock.to_local(portal_time, now);
  if (at <= now) co_return;
  net::steady_timer t(ex, at);
  (void)co_await t.async_wait(use_tuple);
  stats.waited_pacing_s += std::chrono::duration<double>(steady::now() - now).count();
}

net::awaitable<void> client::impl::async_wait_rate_slot() {
  auto delay = limiter.acquire(virtual_now());
  if (delay <= steady::duration::zero()) co_return;
  co_await async_wait_scaled(std::chrono::ceil<std::chrono::milliseconds>(delay), stats.waited_rate_s);
}

net::awaitable<pacing_grant> client::impl::async_admit(const std::string& method, std::size_t wanted) {
  for (;;) {
    auto g = pacer.admit(method, portal_now(), wanted);
    if (g.calls > 0) co_return g;
    log->debug("bitrix: {} paced: operating-time budget reached, waiting until portal time {:.1f}", method, g.not_before);
    co_await async_wait_portal(g.not_before);
  }
}

net::awaitable<posted> client::impl::async_post(std::string_view method, boost::json::object params, bool idempotent,
                                                std::span<const command> stream_users_of) {
  posted p;
  p.auth_generation = auth.generation();
  auth.add_credentials(params);
  std::string body = boost::json::serialize(params);
  for (int hop = 0;; ++hop) {
    http_request req;
    req.to = portal;
    req.target = auth.target(portal, method);
    req.log_target = auth.log_target(portal, method);
    req.body = body;
    req.idempotent = idempotent;
    ++stats.http_requests;
    auto out = co_await transport.async_send(std::move(req));
    stats.bytes_sent = transport.stats().bytes_sent;
    stats.bytes_received = transport.stats().bytes_received;
    auto received = steady::now();
    if (out.ec) {
      ++stats.transport_failures;
      std::string detail = std::string(to_string(out.failed_step)) + " failed: " + out.ec.message();
      if (!out.detail.empty()) detail += "; " + out.detail;
      p.env.error = make_transport_diagnostics(std::move(detail), out.request_written, idempotent);
      p.failed_step = out.failed_step;
      p.tls_rejected = out.failed_step == transport_step::handshake && out.detail.find("certificate") != std::string::npos;
      co_return p;
    }
    const unsigned status = out.response.status;
    if (status == 503) ++stats.http_503;
    if (status == 429) ++stats.http_429;
    if (is_redirect(status)) {
      std::string why = "redirect without a Location header";
      if (!out.response.location.empty() && hop < cfg.retry.max_redirects) {
        try {
          origin moved = moved_origin(out.response.location);
          log->warn("bitrix: portal moved: {} answered {} -> {}; re-sending {} there (update portal.url)",
                    portal.to_string(), status, moved.to_string(), method);
          portal = std::move(moved);
          ++stats.redirects;
          continue;
        } catch (const std::invalid_argument& e) {
          why = std::string("redirect refused: ") + e.what();
        }
      } else if (!out.response.location.empty()) {
        why = "too many redirects";
      }
      p.env.error.kind = fault_kind::http_status;
      p.env.error.http_status = static_cast<int>(status);
      p.env.error.idempotent = idempotent;
      p.env.error.detail = std::move(why);
      co_return p;
    }
    if (stream_users_of.empty()) {
      p.env = parse_envelope(static_cast<int>(status), out.response.body, idempotent);
    } else {
      auto streamed = parse_batch_streaming(static_cast<int>(status), out.response.body, idempotent, stream_users_of);
      p.env = std::move(streamed.env);
      p.pages = std::move(streamed.pages);
    }
    const bool limited = !p.env && classify(p.env.error) == error_class::retry_rate_limited;
    if (limited) {
      limiter.on_rate_limited(virtual_now());
    } else {
      limiter.on_success(virtual_now());
    }
    if (p.env && p.env.value->time) pclock.observe(received, p.env.value->time->finish);
    co_return p;
  }
}

net::awaitable<bool> client::impl::async_fresh_token(std::uint64_t failed_generation, bool& refreshed_once) {
  if (!auth.is_oauth()) co_return false;
  if (failed_generation != auth.generation()) co_return true;  // refreshed meanwhile: just replay
  if (refreshed_once) co_return false;
  refreshed_once = true;
  auto r = co_await auth.async_refresh(transport, failed_generation);
  stats.token_refreshes = auth.generation();  // callers that joined a refresh in progress don't count again
  co_return r.ok;
}

// ---- client ----

client::client(net::any_io_executor ex, client_config cfg, std::shared_ptr<spdlog::logger> log)
    : impl_(std::make_unique<impl>(std::move(ex), std::move(cfg), std::move(log))) {}

client::client(net::io_context& ioc, client_config cfg, std::shared_ptr<spdlog::logger> log)
    : client(ioc.get_executor(), std::move(cfg), std::move(log)) {}

client::~client() = default;

const client_stats& client::stats() const noexcept { return impl_->stats; }
const client_config& client::config() const noexcept { return impl_->cfg; }
std::string client::portal_url() const { return impl_->portal.to_string(); }
double client::portal_now() const { return impl_->portal_now(); }
const rate_limiter& client::limiter() const noexcept { return impl_->limiter; }
const operating_pacer& client::pacer() const noexcept { return impl_->pacer; }
const transport_stats& client::transport() const noexcept { return impl_->transport.stats(); }
bool client::is_oauth() const noexcept { return impl_->auth.is_oauth(); }

net::awaitable<void> client::async_shutdown() { co_await impl_->transport.async_close_idle(); }

net::awaitable<call_result> client::async_call(std::string method, boost::json::object params, call_options opts) {
  auto& m = *impl_;
  (void)m.auth.target(m.portal, method);  // validates the method name (throws)
  const bool idempotent = is_idempotent_method(method);
  const unsigned max_attempts = opts.max_attempts > 0 ? opts.max_attempts : static_cast<unsigned>(m.cfg.retry.max_attempts);
  backoff retry_wait(m.backoff_settings(max_attempts));
  bool refreshed_once = false;
  call_result r;
  // The grant is given back however the attempt ends: an answer, a failure, or the caller's
  // cancellation (an exception out of any co_await below), as async_batch's workers do.
  struct grant_guard {
    operating_pacer& pacer;
    const std::string& method;
    std::optional<pacing_grant> grant;
    void settle() {
      if (grant) pacer.settle(method, *std::exchange(grant, std::nullopt));
    }
    ~grant_guard() { settle(); }
  };
  for (;;) {
    ++r.attempts;
    grant_guard held{m.pacer, method, std::nullopt};
    held.grant = co_await m.async_admit(method, 1);
    co_await m.async_wait_rate_slot();
    auto p = co_await m.async_post(method, params, idempotent);
    if (p.env) {
      if (p.env.value->time) m.pacer.observe(method, *p.env.value->time);
      held.settle();
      r.value = std::move(p.env.value);
      co_return r;
    }
    held.settle();
    diagnostics d = m.redacted(std::move(p.env.error));
    error_class kind = classify(d);
    bool again = false;
    switch (kind) {
      case error_class::auth_refresh:
        again = co_await m.async_fresh_token(p.auth_generation, refreshed_once);
        if (!again) kind = error_class::auth_fatal;
        break;
      case error_class::retry_operating_limit:
        ++m.stats.operation_time_limit;
        m.pacer.on_refused(method, m.portal_now(), d.operating_reset_at);
        again = r.attempts < max_attempts;
        break;
      case error_class::retry_rate_limited:
      case error_class::retry_server:
      case error_class::retry_transport:
      case error_class::retry_not_executed: {
        if (kind == error_class::retry_rate_limited) ++m.stats.query_limit_exceeded;
        if (p.tls_rejected) {
          kind = error_class::permanent;  // a certificate that fails now fails on every retry
          break;
        }
        auto delay = retry_wait.next_from(m.rng);
        if (!delay || r.attempts >= max_attempts) break;
        m.log->info("bitrix: {} failed ({}: {} {}), retry {} in {} ms", method, to_string(kind), d.error,
                    d.detail.empty() ? d.description : d.detail, r.attempts, delay->count());
        co_await m.async_wait_scaled(*delay, m.stats.waited_backoff_s);
        again = true;
        break;
      }
      default:
        break;
    }
    if (again) {
      ++m.stats.retries;
      continue;
    }
    r.failed_step = p.failed_step;
    r.ec = to_error_code(d);
    r.error_kind = kind;
    r.error = std::move(d);
    if (r.ambiguous()) ++m.stats.ambiguous;
    m.log->warn("bitrix: {} failed for good after {} attempt(s): {} {} {}{}", method, r.attempts, to_string(kind),
                r.error.error, r.error.description, r.error.detail.empty() ? "" : " (" + r.error.detail + ")");
    co_return r;
  }
}

}  // namespace b24sync::bitrix
