// The batch method: command parsing, $result[...] references, halt, the 50-command cap, result maps.
#pragma once

#include "core/state.hpp"

#include <functional>
#include <optional>
#include <string>

namespace b24emu::detail {

// One executed call as the batch (and the HTTP envelope) sees it.
struct call_outcome {
  std::optional<call_result> ok;
  std::optional<rest_error> error;
  boost::json::object time;  // the `time` object of a successful call
  double cost_s = 0;
};

// Runs one sub-command: lower-cased method, its params, and the portal time it starts at.
using sub_runner =
    std::function<call_outcome(const std::string& method, boost::json::object params, double at)>;

// Substitutes $result[..], $next[..], $total[..], $time[..], $error[..] references in every string
// leaf of `v`. `maps` holds the batch's maps so far under "result", "next", "total", "time", "error".
void resolve_references(boost::json::value& v, const boost::json::object& maps);

// Runs a batch request. `cost_s` receives the summed cost of the sub-calls. Throws rest_error for
// a whole-batch failure (400 ERROR_BATCH_LENGTH_EXCEEDED when limits.batch_overflow_400).
call_result run_batch(const boost::json::object& params, const limits_config& limits, double now,
                      const sub_runner& run, double& cost_s);

}  // namespace b24emu::detail
