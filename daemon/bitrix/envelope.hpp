// Parsing of a Bitrix24 REST answer (status + body) into a result with time info, or diagnostics.
#pragma once

#include "bitrix/errors.hpp"

#include <boost/json/value.hpp>
#include <boost/system/error_code.hpp>

#include <cstdint>
#include <optional>
#include <string_view>

namespace b24sync::bitrix {

/// The `time` object of an answer (or `result_time[cmd]` of a batch). All in the PORTAL's clock:
/// Unix seconds (start, finish, operating_reset_at) and seconds (duration, processing, operating).
struct time_info {
  double start = 0;
  double finish = 0;
  double duration = 0;
  double processing = 0;
  std::optional<double> operating;           ///< method's summed time in the window (cloud only)
  std::optional<double> operating_reset_at;  ///< when the oldest basket expires (may be absent)
};

/// Read a `time` object; nullopt when `v` is not an object or has neither start nor finish.
/// Numbers may come as ints, doubles or numeric strings.
std::optional<time_info> parse_time_info(const boost::json::value& v);

/// A successful answer.
struct response {
  boost::json::value result;          ///< `result` as sent (for batch: the {result, result_error...} object)
  std::optional<std::int64_t> next;   ///< list methods: offset of the next page
  std::optional<std::int64_t> total;  ///< list methods: row count (absent on empty pages)
  std::optional<time_info> time;
};

/// Either a response or diagnostics.
struct envelope {
  std::optional<response> value;  ///< set on success
  diagnostics error;              ///< meaningful when !value
  explicit operator bool() const noexcept { return value.has_value(); }
};

/** Parse one answer. Never throws on bad input:
    - JSON object with `error` (any status)       -> diagnostics{portal_error, code, description, argument}
    - 2xx JSON object with `result`                -> response
    - non-2xx without an `error` code              -> diagnostics{http_status}
    - empty / HTML / other non-JSON body           -> diagnostics{not_json, detail = first bytes}
    - JSON that ends early                         -> diagnostics{truncated_json}
    - JSON that is not an envelope                 -> diagnostics{malformed_envelope}
    `idempotent_request` is copied into the diagnostics so classify() can tell a retry from an
    ambiguous write. 3xx must be handled by the transport before calling this. */
envelope parse_envelope(int http_status, std::string_view body, bool idempotent_request);

/// The checks of parse_envelope after the JSON parse, for readers that parse the body themselves
/// (batch_stream.hpp): `doc` is the parsed body and `parse_error` what the parser said about it (a
/// boost::json error: incomplete -> truncated_json, others -> not_json). Same results as parse_envelope.
envelope envelope_from_parsed(int http_status, std::string_view body, bool idempotent_request, boost::json::value doc,
                              boost::system::error_code parse_error);

/// Read an integer that may be sent as int, uint, integral double or decimal string.
std::optional<std::int64_t> json_to_int(const boost::json::value& v) noexcept;
/// Read a number that may be sent as int, uint, double or numeric string.
std::optional<double> json_to_double(const boost::json::value& v) noexcept;

}  // namespace b24sync::bitrix
