// bitrix/batch_stream.hpp: reading a `batch` answer in one pass, user.get pages straight into portal_user rows.
#pragma once

#include "bitrix/batch_codec.hpp"
#include "bitrix/envelope.hpp"
#include "bitrix/user_fields.hpp"

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace b24sync::bitrix {

/// user.get rows decoded while the answer was parsed, in place of a DOM result (command_outcome::users).
struct user_page {
  std::vector<portal_user> rows;  ///< the rows, in answer order, up to (not including) the first that failed
  bool not_a_list = false;        ///< some element was not an object: the result is not a list of rows
  std::error_code row_error;      ///< the first row that failed (user_row_reader::finish); later rows dropped
};

/// One user.get result entry of a batch answer, decoded while parsing (see parse_batch_streaming).
struct streamed_page {
  std::string key;           ///< its key in the answer's `result` map ("" when the map was a JSON array)
  std::size_t position = 0;  ///< its index when the map was a JSON array
  user_page page;
};

/// A batch answer read by parse_batch_streaming.
struct streamed_batch {
  envelope env;                      ///< exactly what parse_envelope returns for the same body, except
                                     ///< that each streamed entry is an empty array in env's result
  std::vector<streamed_page> pages;  ///< the streamed entries, in answer order
};

/** parse_envelope for the answer of a `batch` call carrying `sent`, with the `result` entries of its
    user.get commands (looked up as parse_batch_result does: by id, by position) decoded by
    user_row_reader while the JSON is parsed (boost::json::basic_parser): no DOM is built for their rows.
    Everything else of the answer (result_error, result_total, result_next, result_time, time, error
    envelopes, department pages) is built as a DOM as usual. Only entries that are a JSON array or
    object are streamed; a scalar stays in the DOM (and reads as "not a list" downstream, as before).
    Errors are classified exactly as parse_envelope classifies them. Never throws on bad input. */
streamed_batch parse_batch_streaming(int http_status, std::string_view body, bool idempotent_request,
                                     std::span<const command> sent);

/** parse_batch_result for a streamed answer (its env must hold a value): every user.get outcome whose
    entry was streamed gets its rows in command_outcome::users (result is then an empty array). */
std::vector<command_outcome> parse_streamed_batch_result(std::span<const command> sent, response&& res,
                                                         std::vector<streamed_page>&& pages);

}  // namespace b24sync::bitrix
