// The `batch` method: command encoding, JSON body, splitting, and per-command outcome mapping.
#pragma once

#include "bitrix/envelope.hpp"
#include "bitrix/errors.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstddef>
#include <optional>
#include <span>
#include <memory>
#include <string>
#include <vector>

namespace b24sync::bitrix {

inline constexpr std::size_t max_batch_commands = 50;  ///< portal's BATCH_MAX_LENGTH

/// One call inside a batch. `id` names it in `cmd` and in every result map: 1..64 characters of
/// [A-Za-z0-9_], starting with a letter (a numeric id would turn PHP maps into lists).
struct command {
  std::string id;
  std::string method;          ///< e.g. "user.update"
  boost::json::object params;  ///< encoded with encode_php_query
};

/// "method?query" (just "method" with no params). Throws std::invalid_argument like encode_php_query.
std::string encode_command(const command& c);

/// True when `id` is a usable batch command name (see command::id).
bool is_valid_command_id(std::string_view id) noexcept;

/// Give every command with an empty id the name `prefix` + its position ("c0", "c1", ...).
void assign_command_ids(std::span<command> cmds, std::string_view prefix = "c");

/** The POST body `{"halt":0,"cmd":{"c0":"user.update?ID=1&...",...}}` (halt 1 if `halt`).
    Throws std::invalid_argument for more than max_batch_commands, an invalid or duplicate id, or an
    unencodable parameter. Always send it as `Content-Type: application/json`. */
std::string build_batch_body(std::span<const command> cmds, bool halt = false);

/// Chunks of at most `batch_size` (clamped to 1..max_batch_commands), in order. The spans point into
/// `cmds`: keep it alive and unmoved while they are used.
std::vector<std::span<const command>> split_batches(std::span<const command> cmds,
                                                    std::size_t batch_size = max_batch_commands);

/// True when every command's method is idempotent (the whole batch may be resent blindly).
bool is_idempotent_batch(std::span<const command> cmds) noexcept;

struct user_page;  ///< user.get rows decoded while parsing: batch_stream.hpp

/// The outcome of one command, in the order the commands were sent.
struct command_outcome {
  std::string id;
  std::string method;
  bool ok = false;                    ///< the command ran and succeeded: `result` is its value
  boost::json::value result;          ///< null unless ok
  std::optional<std::int64_t> next;   ///< result_next[id]
  std::optional<std::int64_t> total;  ///< result_total[id]
  std::optional<time_info> time;      ///< result_time[id] (successful commands only), incl. operating
  diagnostics error;                  ///< meaningful when !ok; http_status is 0 (lost in batch)
  /// Set when the answer was read by parse_batch_streaming and this user.get page was decoded while
  /// parsing: its rows are here and `result` is an empty array. (Shared by copies of the outcome; a
  /// pointer so this header needs no user_fields.hpp.)
  std::shared_ptr<user_page> users;
};

/** Map a batch answer onto the commands that were sent, one outcome per command, same order.
    `batch_result` is response::result of the batch call: {"result":..,"result_error":..,
    "result_total":..,"result_next":..,"result_time":..}. Each map may be an object, `[]` (empty PHP
    array) or a JSON array (positional keys); lookup is by id, then by position for arrays and for
    numeric keys. A command in neither result nor result_error gets fault_kind::not_executed
    (retry_not_executed). OPERATION_TIME_LIMIT per command comes back as a portal_error with that
    code. `top_time` (the batch's own time) fills operating_reset_at on errors when known.
    A batch_result of the wrong shape yields malformed_envelope for every command. Never throws. */
std::vector<command_outcome> parse_batch_result(std::span<const command> sent,
                                                const boost::json::value& batch_result,
                                                const std::optional<time_info>& top_time = std::nullopt);

/** The same, consuming `batch_result`: every command's result is moved out instead of copied, so it
    keeps the storage (e.g. the per-answer arena of parse_envelope) it was parsed into, and that
    arena lives until the last such result is dropped. Copy out what is kept for long; move the
    outcome around by construction (a move *assignment* into a value with other storage copies). */
std::vector<command_outcome> parse_batch_result(std::span<const command> sent, boost::json::value&& batch_result,
                                                const std::optional<time_info>& top_time = std::nullopt);

/// The entry of command `id`, sent at position `pos`, in one of a batch answer's maps (`result`,
/// `result_error`...): by id, else by position (a numeric key, or an index when the map is an array).
const boost::json::value* find_batch_entry(const boost::json::value* map, std::string_view id, std::size_t pos);

/// Outcomes for every command when the whole batch call failed (503, auth, transport...): each
/// carries a copy of `failure` with `idempotent` set per command's method.
std::vector<command_outcome> fail_all(std::span<const command> sent, const diagnostics& failure);

}  // namespace b24sync::bitrix
