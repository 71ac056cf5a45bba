// bitrix/client_config.hpp: the REST client's settings, a plain aggregate with documented defaults.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <utility>
#include <variant>

namespace b24sync::bitrix {

/// A credential (webhook code, token, client secret). It never prints: streaming it yields "***",
/// it has no fmt formatter (formatting it does not compile), and reading it needs an explicit expose().
class secret {
 public:
  secret() = default;
  explicit secret(std::string value) : value_(std::move(value)) {}

  [[nodiscard]] const std::string& expose() const noexcept { return value_; }
  [[nodiscard]] bool empty() const noexcept { return value_.empty(); }

  friend std::ostream& operator<<(std::ostream& os, const secret&) { return os << "***"; }
  friend bool operator==(const secret&, const secret&) = default;

 private:
  std::string value_;
};

/// Inbound webhook: calls go to <base>/rest/<user_id>/<code>/<method>.json with that user's rights.
struct webhook_auth {
  std::int64_t user_id = 0;  ///< the webhook owner's portal user id
  secret code;               ///< the webhook's secret code (the path segment after the user id)
};

/// A freshly issued OAuth token pair, handed to oauth_auth::on_rotated.
struct oauth_tokens {
  secret access_token;
  secret refresh_token;              ///< replaces the old one: refresh tokens rotate on every use
  std::chrono::seconds expires_in{};  ///< access-token lifetime the OAuth server reported (3600 s)
};

/// OAuth application: calls go to <base>/rest/<method>.json with `auth` in the JSON body; on
/// 401 expired_token the client refreshes once (coalesced across callers) and replays the call.
struct oauth_auth {
  std::string client_id;
  secret client_secret;
  secret access_token;   ///< may be empty: the first call then fails with an auth error and refreshes
  secret refresh_token;
  /// The OAuth server's token endpoint (GET ?grant_type=refresh_token&...).
  std::string token_url = "https://oauth.bitrix.info/oauth/token/";
  /// Called on the client's executor after every successful refresh, before the failed call is
  /// replayed. It must persist the new refresh token: the old one is no longer valid. Must not throw.
  std::function<void(const oauth_tokens&)> on_rotated;
};

/// The portal's request-rate limit (a leaky bucket): 2/s and 50 on ordinary plans, 5/s and 250 on
/// Enterprise. The client mirrors it so that 503 QUERY_LIMIT_EXCEEDED stays rare.
struct rate_limits {
  double requests_per_second = 2.0;  ///< the bucket's drain rate, requests per second
  double burst = 50.0;               ///< the bucket's capacity, requests
};

/// TLS settings. Peer and host-name verification are on by default against the system CA store.
struct tls_config {
  std::string ca_file;  ///< PEM file with an extra (private) CA to trust; empty = system store only
  bool verify = true;   ///< false disables certificate checks (logged as a warning on every connect)
};

/// Deadlines for each network step; a step that overruns fails with a timeout.
struct timeouts_config {
  std::chrono::milliseconds resolve{10'000};    ///< DNS resolution
  std::chrono::milliseconds connect{10'000};    ///< TCP connect (all resolved addresses together)
  std::chrono::milliseconds handshake{10'000};  ///< TLS handshake
  std::chrono::milliseconds write{30'000};      ///< writing one whole request
  std::chrono::milliseconds read{75'000};       ///< reading one whole response (the cloud caps calls at 60 s)
  std::chrono::milliseconds idle{15'000};       ///< a kept-alive connection idle longer is closed, not reused
};

/// Retry limits. Waits use full-jitter exponential backoff between initial_backoff and max_backoff.
struct retry_config {
  int max_attempts = 8;         ///< attempts per HTTP call (whole-batch failures included); 1 = no retry
  int max_command_requeues = 20;  ///< times one batch command may be re-queued after a per-command limit error
  int max_redirects = 3;        ///< 302 hops followed per call (portal moved to a new address)
  std::chrono::milliseconds initial_backoff{500};
  std::chrono::milliseconds max_backoff{30'000};
};

/// Everything the client needs to talk to one portal.
struct client_config {
  /// Portal root: https://corp.bitrix24.ru. Plain http:// is accepted only for loopback hosts
  /// (127.0.0.0/8, ::1, localhost), i.e. the emulator in tests; anything else is refused.
  std::string base_url;
  std::variant<webhook_auth, oauth_auth> auth;
  rate_limits limits;
  double operating_limit_s = 480.0;  ///< per-method execution budget per 10 minutes (operating time)
  tls_config tls;
  timeouts_config timeouts;
  std::size_t max_in_flight = 2;  ///< concurrent HTTP requests = kept-alive connections (1..8)
  std::size_t batch_size = 50;    ///< commands per `batch` request (1..50, the portal's cap)
  retry_config retry;
  /// Test-only: every wait the client makes (backoff, pacing, rate limiting) is divided by this, to
  /// match an emulator running its clock faster. Network deadlines are not scaled. 1.0 in production.
  double time_scale = 1.0;
  std::string user_agent = "b24sync/0.1";
};

}  // namespace b24sync::bitrix
