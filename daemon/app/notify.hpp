// app/notify.hpp: run notifications (config `notify:`). Which finished sync run is worth a message
// (a tripped guard, a failure, a recovery), its text, the REST call that carries it, and sending it
// through the run's own client. Deciding and wording are pure; only async_send_notification does I/O.
#pragma once

#include "app/pipeline.hpp"
#include "bitrix/client.hpp"
#include "config/config.hpp"
#include "state/store.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include <spdlog/logger.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace b24sync::app {

enum class notify_event {
  guard,     ///< a safety guard stopped the run (exit 3); nothing was written
  failure,   ///< any exit other than 0, 2, 3
  recovery,  ///< exit 0/2 after a finished run that was not a success
};

struct notification {
  notify_event event = notify_event::failure;
  std::string text;  ///< plain text; first line "b24sync: <what>"; no portal address, no secrets
};

/// What decide_notification needs besides the run itself.
struct notify_history {
  /// Outcome of the most recent finished run before this one (state store); nullopt = none (first run).
  std::optional<state::run_outcome> previous;
  /// SIGINT/SIGTERM stopped the run: the operator's own stop (daemon shutdown) is not reported as a failure.
  bool stop_requested = false;
};

/// Pure. The notification a finished sync run calls for, or nullopt (notify off, event not in
/// `notify.on`, or nothing worth saying: success after success, a first successful run, a guard
/// after a guard, a failure after a failure — each streak is announced once and ended by a recovery).
std::optional<notification> decide_notification(const config::notify_config& cfg, const run_summary& run,
                                                const notify_history& history);

/// The REST call for a notification: im.message.add {DIALOG_ID, MESSAGE, SYSTEM, URL_PREVIEW} or
/// im.notify.system.add {USER_ID, MESSAGE}. Pure.
struct notify_call {
  std::string method;
  boost::json::object params;
};
notify_call make_notify_call(const config::notify_config& cfg, const notification& n);

/// Outcome of the newest finished run in `recent` (newest first, as store::recent_runs returns them)
/// other than `this_run`; runs that never finished (crashed) and runs the operator stopped
/// (interrupted) are skipped.
std::optional<state::run_outcome> previous_outcome(const std::vector<state::run_record>& recent,
                                                   std::int64_t this_run);

/// Attempts a notification call may take (the client's pacing and backoff apply between them): a
/// dead portal must not hold the run's exit for the client's full retry budget.
inline constexpr unsigned notify_max_attempts = 3;

/// Sends `n` through `c` (paced and limited like every call). Never throws for portal or network
/// failures: a refused or lost notification is a warning in `log` and nothing else. Returns whether
/// the portal accepted it.
boost::asio::awaitable<bool> async_send_notification(bitrix::client& c, const config::notify_config& cfg,
                                                     const notification& n, spdlog::logger& log);

std::string_view to_string(notify_event e) noexcept;

}  // namespace b24sync::app
