// bitrix/client.hpp: the async Bitrix24 REST client: single calls and batches, paced, limited, retried.
#pragma once

#include "bitrix/batch_codec.hpp"
#include "bitrix/client_config.hpp"
#include "bitrix/envelope.hpp"
#include "bitrix/errors.hpp"
#include "bitrix/http_transport.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/object.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

namespace b24sync::bitrix {

class rate_limiter;
class operating_pacer;

/// The outcome of one REST call (after all retries the client was allowed to make).
struct call_result {
  std::optional<response> value;                 ///< set on success
  diagnostics error;                             ///< meaningful when !value (secrets redacted)
  error_class error_kind = error_class::permanent;  ///< classify(error), with the client's overrides
  std::error_code ec;                            ///< to_error_code(error), or {} on success
  transport_step failed_step = transport_step::none;  ///< for transport faults: which step failed
  unsigned attempts = 0;                         ///< HTTP attempts made (redirect hops not counted)

  explicit operator bool() const noexcept { return value.has_value(); }
  /// A write went out and no answer came back: resolve by reading the portal before any retry.
  [[nodiscard]] bool ambiguous() const noexcept { return !value && is_ambiguous(error_kind); }
};

/// Per-call overrides.
struct call_options {
  unsigned max_attempts = 0;  ///< 0: retry_config::max_attempts
};

/// Per-batch-run options.
struct batch_options {
  /// Decode the rows of user.get results while each answer is parsed (parse_batch_streaming): their
  /// outcomes carry command_outcome::users and an empty `result`. For callers that want portal_user
  /// rows only (the snapshot); everything else about the run is unchanged.
  bool stream_user_rows = false;
};

/// Counters since construction, for reports and benchmarks.
struct client_stats {
  std::uint64_t http_requests = 0;     ///< REST requests put on the wire (retries, redirect hops included)
  std::uint64_t http_503 = 0;          ///< answers with HTTP status 503
  std::uint64_t http_429 = 0;          ///< answers with HTTP status 429
  std::uint64_t query_limit_exceeded = 0;   ///< QUERY_LIMIT_EXCEEDED seen (whole calls + batch commands)
  std::uint64_t operation_time_limit = 0;   ///< OPERATION_TIME_LIMIT seen (whole calls + batch commands)
  std::uint64_t retries = 0;           ///< whole calls/batches sent again
  std::uint64_t commands_requeued = 0; ///< batch commands re-queued after a per-command transient error
  std::uint64_t commands_sent = 0;     ///< batch commands put on the wire (requeued ones again)
  std::uint64_t transport_failures = 0;  ///< requests that got no complete answer
  std::uint64_t ambiguous = 0;         ///< calls/commands returned as ambiguous
  std::uint64_t redirects = 0;         ///< 3xx hops followed (portal moved)
  std::uint64_t token_refreshes = 0;   ///< successful OAuth refreshes
  std::uint64_t bytes_sent = 0;        ///< request bytes, all connections (headers included)
  std::uint64_t bytes_received = 0;    ///< response bytes, all connections (headers included)
  double waited_rate_s = 0;            ///< local seconds spent waiting for the rate limiter
  double waited_pacing_s = 0;          ///< local seconds spent waiting for the operating-time pacer
  double waited_backoff_s = 0;         ///< local seconds spent in retry backoff
};

/** One portal. Use it from a single thread (the io_context's); any number of coroutines may call it
    at once: they share the connection pool (max_in_flight), the rate limiter, the pacer and the token.

    Retries follow classify(): rate-limit, operating-limit, 5xx, gateway pages, truncated answers and
    network faults are retried with full-jitter backoff (retry_config); expired OAuth tokens are
    refreshed once and the call replayed; a write whose outcome is unknown is never resent blindly but
    returned as ambiguous. A 3xx with Location (portal moved) is followed by re-POSTing the same body;
    the new address is kept for later calls. Secrets never appear in logs or diagnostics. */
class client {
 public:
  /// Throws std::invalid_argument for an unusable config (URL, auth, sizes), std::runtime_error when
  /// the TLS context cannot be set up. `log` may be null (nothing is logged).
  client(net::any_io_executor ex, client_config cfg, std::shared_ptr<spdlog::logger> log);
  client(net::io_context& ioc, client_config cfg, std::shared_ptr<spdlog::logger> log);
  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  /// One REST call: POST <base>/rest/[<uid>/<code>/]<method>.json with `params` as JSON.
  /// Never throws for portal or network failures (see call_result); throws std::invalid_argument
  /// for a method name with characters other than [A-Za-z0-9._].
  net::awaitable<call_result> async_call(std::string method, boost::json::object params = {},
                                         call_options opts = {});

  /** Runs `cmds` as `batch` requests of at most batch_size commands (halt=0), at most max_in_flight
      at once, and returns one outcome per command in the order given. Commands with an empty id get
      "c<position>". Whole-batch failures are retried; commands that hit QUERY_LIMIT_EXCEEDED,
      OPERATION_TIME_LIMIT or were not executed are re-queued after the right wait; commands whose
      outcome is unknown (a non-idempotent method in a batch that got no answer) come back with
      error_class::ambiguous (use classify(outcome.error)). A command whose text holds a batch
      reference such as "$result[a][0]" is sent as a single call instead: inside a batch the portal
      would substitute it (there is no escape). Cancelling via the caller's cancellation slot stops
      the run: batches in flight finish, unsent commands come back not_executed ("cancelled"). Throws
      std::invalid_argument for duplicate
      or invalid command ids or unencodable parameters. */
  net::awaitable<std::vector<command_outcome>> async_batch(std::vector<command> cmds, batch_options opts = {});

  /// Closes idle keep-alive connections (call before the io_context stops).
  net::awaitable<void> async_shutdown();

  [[nodiscard]] const client_stats& stats() const noexcept;
  [[nodiscard]] const client_config& config() const noexcept;
  /// The portal's address now (differs from config().base_url after a redirect), no secrets.
  [[nodiscard]] std::string portal_url() const;
  /// The portal's clock as last observed (Unix seconds); the local clock before any answer.
  [[nodiscard]] double portal_now() const;
  [[nodiscard]] const rate_limiter& limiter() const noexcept;
  /// The operating-time pacer (its reservations show calls admitted and not yet settled).
  [[nodiscard]] const operating_pacer& pacer() const noexcept;
  [[nodiscard]] const transport_stats& transport() const noexcept;
  [[nodiscard]] bool is_oauth() const noexcept;

 private:
  friend struct client_batch_run;
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace b24sync::bitrix
