// bitrix/client_impl.hpp: the client's shared state (transport, auth, limiter, pacer, clocks) and its
// wait/post helpers. Internal to client.cpp and client_batch.cpp; no Beast here.
#pragma once

#include "bitrix/auth.hpp"
#include "bitrix/backoff.hpp"
#include "bitrix/batch_stream.hpp"
#include "bitrix/client.hpp"
#include "bitrix/operating_pacer.hpp"
#include "bitrix/rate_limiter.hpp"

#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <random>
#include <string_view>
#include <vector>

namespace b24sync::bitrix {

/// Wakes every coroutine waiting on it. Single-threaded.
class async_event {
 public:
  net::awaitable<void> async_wait();
  void notify_all();

 private:
  std::vector<net::steady_timer*> waiters_;
};

/// One request's answer as the client sees it (after redirects).
struct posted {
  envelope env;
  std::uint64_t auth_generation = 0;  ///< the token generation the request carried
  transport_step failed_step = transport_step::none;
  bool tls_rejected = false;          ///< the certificate check failed: retrying will not help
  std::vector<streamed_page> pages;   ///< user.get pages decoded while parsing (async_post's stream_users_of)
};

struct client::impl {
  using steady = std::chrono::steady_clock;

  impl(net::any_io_executor e, client_config c, std::shared_ptr<spdlog::logger> l);

  net::any_io_executor ex;
  client_config cfg;
  std::shared_ptr<spdlog::logger> log;
  origin portal;
  http_transport transport;
  authenticator auth;
  rate_limiter limiter;
  operating_pacer pacer;
  portal_clock pclock;
  std::mt19937_64 rng;
  client_stats stats;
  steady::time_point epoch;

  /// The rate limiter's clock: local time sped up by time_scale (the portal's pace).
  [[nodiscard]] steady::time_point virtual_now() const;
  /// The portal's clock (Unix seconds), estimated from the answers' time.finish.
  [[nodiscard]] double portal_now() const;
  [[nodiscard]] backoff_config backoff_settings(unsigned max_attempts) const;
  [[nodiscard]] diagnostics redacted(diagnostics d) const;

  /// Waits `d` of portal-paced time (divided by time_scale); adds the local seconds to `counter`.
  net::awaitable<void> async_wait_scaled(std::chrono::milliseconds d, double& counter);
  /// Waits until the portal's clock reads `portal_time`.
  net::awaitable<void> async_wait_portal(double portal_time);
  /// Waits for a slot in the client-side leaky bucket (one per HTTP request).
  net::awaitable<void> async_wait_rate_slot();
  /// Waits until the pacer admits up to `wanted` calls of `method`; returns the grant.
  net::awaitable<pacing_grant> async_admit(const std::string& method, std::size_t wanted);

  /// One attempt: serialize, add credentials, POST, follow redirects, parse the envelope. Feeds the
  /// stats, the rate limiter and the portal clock; the pacer is the caller's business. A batch whose
  /// commands are given in `stream_users_of` is read by parse_batch_streaming (rows in posted::pages).
  net::awaitable<posted> async_post(std::string_view method, boost::json::object params, bool idempotent,
                                    std::span<const command> stream_users_of = {});

  /// After an expired/invalid token: true when the call may be replayed with a fresh token. Refreshes
  /// at most once per `refreshed_once` scope; a failure seen with an older token just replays.
  net::awaitable<bool> async_fresh_token(std::uint64_t failed_generation, bool& refreshed_once);
};

}  // namespace b24sync::bitrix
