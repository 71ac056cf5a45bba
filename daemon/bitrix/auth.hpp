// bitrix/auth.hpp: webhook and OAuth credentials: request targets, redacted log forms, and the one
// coalesced OAuth refresh (with the rotated refresh token handed to the persist sink).
#pragma once

#include "bitrix/client_config.hpp"
#include "bitrix/http_transport.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>

namespace b24sync::bitrix {

/// How an OAuth refresh went.
struct refresh_result {
  bool ok = false;
  boost::system::error_code ec;  ///< transport failure (then `error` is empty)
  unsigned http_status = 0;
  std::string error;             ///< the OAuth server's code, e.g. "invalid_grant"
  std::string description;       ///< its text, secrets redacted
};

/// Builds authenticated requests and refreshes OAuth tokens. Single-threaded, like the client.
class authenticator {
 public:
  authenticator(std::variant<webhook_auth, oauth_auth> auth, std::shared_ptr<spdlog::logger> log);

  [[nodiscard]] bool is_oauth() const noexcept { return oauth_ != nullptr; }

  /// Request target for `method` under `portal`: /rest/<uid>/<code>/<method>.json or /rest/<method>.json.
  /// Throws std::invalid_argument if `method` is not a REST method name ([A-Za-z0-9._] only).
  [[nodiscard]] std::string target(const origin& portal, std::string_view method) const;
  /// The same target with the webhook code replaced by ***: the only form that may be logged.
  [[nodiscard]] std::string log_target(const origin& portal, std::string_view method) const;

  /// OAuth: puts the current access token into the body as `auth`. Webhook: nothing.
  void add_credentials(boost::json::object& params) const;

  /// Replaces every secret this object holds (webhook code, tokens, client secret) by *** in `text`.
  [[nodiscard]] std::string redact(std::string_view text) const;

  /// Bumped on every successful refresh; a caller remembers it before sending and passes it back to
  /// async_refresh, so that many calls failing with the same old token cause only one refresh.
  [[nodiscard]] std::uint64_t generation() const noexcept { return generation_; }

  /// Refreshes the OAuth tokens unless they were already refreshed since `seen_generation` (then it
  /// returns ok at once). Concurrent callers share one refresh. On success, calls on_rotated with the
  /// new pair before returning. Must not be called for webhook auth.
  net::awaitable<refresh_result> async_refresh(http_transport& transport, std::uint64_t seen_generation);

 private:
  struct waiter;

  std::shared_ptr<spdlog::logger> log_;
  std::unique_ptr<webhook_auth> webhook_;
  std::unique_ptr<oauth_auth> oauth_;
  std::uint64_t generation_ = 0;
  bool refreshing_ = false;
  refresh_result last_refresh_;
  std::deque<waiter*> waiters_;
};

}  // namespace b24sync::bitrix
