// sync/executor.hpp: applies a plan to the portal — departments, creates, updates, reactivations,
// deactivations, in that order — as paced batches through bitrix::client, journalling every
// operation's intent before sending and its outcome after. Ambiguous user.add outcomes are resolved by
// a user.get on the HR key / e-mail before anything is resent.
#pragma once

#include "sync/outcome.hpp"
#include "sync/plan.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace spdlog {
class logger;
}
namespace b24sync::bitrix {
class client;
}
namespace b24sync::state {
class store;
}

namespace b24sync::sync {

/// Progress of one phase, reported after each batch.
struct progress {
  std::string_view phase;  ///< "departments", "create", "update", "reactivate", "deactivate", "resolve"
  std::size_t done = 0;
  std::size_t total = 0;
  std::uint64_t http_503 = 0;  ///< seen so far in this execution
  std::chrono::steady_clock::duration elapsed{};  ///< since the phase started
};

struct executor_config {
  std::string identity_field = "UF_USR_HR_ID";  ///< written by user.add; used to find an ambiguous create
  std::string invite_message;                   ///< MESSAGE_TEXT for user.add; empty = portal default
  std::int64_t run_id = 0;                      ///< journal entries' run
  std::function<std::string()> now_iso;         ///< journal timestamps; empty = UTC system clock
  std::function<void(const progress&)> on_progress;  ///< may be empty
  /// Checked between batches: true = stop dispatching, finish in-flight calls, return interrupted.
  std::function<bool()> stop_requested;
  /// Commands handed to the client per chunk (journal intents are written chunk by chunk, and
  /// stop_requested is checked between chunks); 0 = batch_size × max_in_flight of the client.
  std::size_t chunk_commands = 0;
  /// Send rounds per operation: a resend after an unknown outcome that a look-up showed did not
  /// apply, or after the client gave up on a transient error. Then the op fails ("run again").
  unsigned max_rounds = 5;
};

/** Executes the writes of `p` (guards must be empty: throws std::logic_error otherwise). `journal` may
    be null (no state). Never throws for portal or network failures: each op gets an op_outcome.
    Before executing, unfinished journal entries of earlier runs are NOT reconciled here; call
    async_reconcile first. */
boost::asio::awaitable<run_result> async_execute(bitrix::client& c, const plan& p, state::store* journal,
                                                 executor_config cfg, std::shared_ptr<spdlog::logger> log);

/// Settles journal entries a crashed run left as intent/ambiguous: a create is looked up on the
/// portal by HR key (identity_field) then e-mail, and marked resolved with the found user ID or as
/// not applied; updates are marked resolved (the fresh plan re-sends whatever still differs).
/// Returns how many entries were settled.
boost::asio::awaitable<std::size_t> async_reconcile(bitrix::client& c, state::store& journal,
                                                    const executor_config& cfg,
                                                    std::shared_ptr<spdlog::logger> log);

}  // namespace b24sync::sync
