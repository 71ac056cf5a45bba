// sync/outcome.hpp: what happened to each planned operation when a plan was executed (plain data,
// rendered by daemon/report/ next to the plan).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace b24sync::sync {

enum class op_status {
  not_run,    ///< not a write, or not reached (interrupted, an earlier phase failed for good)
  done,       ///< the portal confirmed it
  recovered,  ///< outcome was unknown; a look at the portal showed it applied (no resend needed)
  failed,     ///< permanent failure: error says why
};

struct op_outcome {
  op_status status = op_status::not_run;
  std::optional<std::int64_t> user_id;  ///< the created user's / department's new ID
  std::string error;                    ///< portal error code ("ERROR_CORE", "user_count_exceeded"...)
  std::string error_description;        ///< portal text or transport failure (no secrets)
  unsigned attempts = 0;                ///< times sent
  bool operator==(const op_outcome&) const = default;
};

struct run_stats {
  std::uint64_t http_requests = 0;  ///< requests the executor put on the wire
  std::uint64_t http_503 = 0;
  std::uint64_t http_429 = 0;
  std::uint64_t retries = 0;
  std::uint64_t ambiguous = 0;          ///< writes whose outcome had to be resolved by looking
  std::uint64_t lookups = 0;            ///< user.get calls made to resolve them
  double seconds = 0;                   ///< wall time of the execution
};

/// Outcomes parallel to plan::departments and plan::users (same size, same order).
struct run_result {
  std::vector<op_outcome> departments;
  std::vector<op_outcome> users;
  bool interrupted = false;  ///< stopped by SIGINT/SIGTERM before every operation ran
  /// Set when the run stopped early because nothing more could work (credentials refused, access
  /// revoked): the portal's code and text, no secrets. The remaining ops stay not_run.
  std::string fatal_error;
  run_stats stats;
  [[nodiscard]] std::size_t failed() const noexcept;
  [[nodiscard]] std::size_t applied() const noexcept;  ///< done + recovered
};

std::string_view to_string(op_status s) noexcept;

}  // namespace b24sync::sync
