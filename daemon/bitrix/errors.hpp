// Error taxonomy of the Bitrix24 client: errc + category, diagnostics, classification by `error` code.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace b24sync::bitrix {

/// What went wrong, as an error_code. Derived from diagnostics by to_error_code().
enum class errc {
  portal_error = 1,       ///< the portal refused the call for good (ERROR_ARGUMENT, ERROR_CORE, ...)
  rate_limited,           ///< 503 QUERY_LIMIT_EXCEEDED
  operation_time_limit,   ///< 429 OPERATION_TIME_LIMIT: method blocked until operating_reset_at
  token_expired,          ///< expired_token / invalid_token: refresh once and repeat
  auth_rejected,          ///< credentials, scope, plan, manual block: stop the run
  server_error,           ///< 5xx or INTERNAL_SERVER_ERROR on a call that may be repeated
  gateway_page,           ///< the body is not JSON (an HTML gateway page, empty body)
  truncated_response,     ///< the body is JSON cut short
  malformed_envelope,     ///< JSON, but neither `result` nor `error`
  transport_failed,       ///< network fault before the request was fully sent
  outcome_unknown,        ///< a non-idempotent request was sent and no usable answer came back
  not_executed,           ///< a batch command has no entry in the answer (never ran)
  invalid_argument,       ///< our own bug: unencodable key, oversized batch, duplicate id ...
  snapshot_inconsistent,  ///< user.get pages violate the requested ID order
};

const std::error_category& bitrix_category() noexcept;
std::error_code make_error_code(errc e) noexcept;

/// Where a failure was observed.
enum class fault_kind {
  portal_error,        ///< a JSON error envelope {"error": ..., "error_description": ...}
  http_status,         ///< a non-2xx status whose body carries no error code
  not_json,            ///< body is not JSON at all (or empty)
  truncated_json,      ///< body is JSON that ends early
  malformed_envelope,  ///< JSON without result/error, or a batch answer of the wrong shape
  transport,           ///< connect/TLS/read/write failure or timeout
  not_executed,        ///< batch command missing from result and result_error
};

/// Everything known about one failed call. The portal's text is kept apart from the error_code.
struct diagnostics {
  fault_kind kind = fault_kind::portal_error;
  std::string error;        ///< portal code exactly as sent ("" when none); compare case-insensitively
  std::string description;  ///< error_description (often localised; for logs and cause_of() only)
  std::string argument;     ///< `argument` of ERROR_ARGUMENT, else ""
  int http_status = 0;      ///< 0: no status (transport fault, batch sub-command)
  std::optional<double> operating;           ///< time.operating if the answer had one (portal s)
  std::optional<double> operating_reset_at;  ///< time.operating_reset_at (portal Unix s)
  bool request_sent = false;                 ///< transport: the whole request was written before the fault
  bool idempotent = false;                   ///< the failed request may be repeated without side effects
  std::string detail;                        ///< transport message or the first bytes of a non-JSON body
};

/// What the caller should do about a failure.
enum class error_class {
  retry_rate_limited,     ///< QUERY_LIMIT_EXCEEDED: tell the rate limiter, back off, resend
  retry_operating_limit,  ///< OPERATION_TIME_LIMIT: hold the method until operating_reset_at
  retry_server,           ///< 5xx, gateway page, truncated answer to an idempotent call
  retry_transport,        ///< network fault before sending, or after sending an idempotent call
  retry_not_executed,     ///< batch command never ran: resend as is
  auth_refresh,           ///< expired_token / invalid_token: refresh once, then repeat
  auth_fatal,             ///< credentials, scope, plan, block: stop the whole run
  permanent,              ///< this operation fails for good; report it, go on with others
  ambiguous,              ///< a write was sent and no answer came: resolve by reading first
};

/// Classify by the `error` code first; the HTTP status only breaks ties for unknown or empty codes.
/// Uses diagnostics::idempotent to split "no usable answer" into retry_* vs ambiguous.
error_class classify(const diagnostics& d) noexcept;

bool is_retryable(error_class c) noexcept;  ///< any retry_* class
bool is_ambiguous(error_class c) noexcept;  ///< ambiguous
bool is_fatal(error_class c) noexcept;      ///< auth_fatal: stop the run, nothing else will work
inline bool is_retryable(const diagnostics& d) noexcept {
  return is_retryable(classify(d));
}
inline bool is_ambiguous(const diagnostics& d) noexcept {
  return is_ambiguous(classify(d));
}

/// error_code for logs and propagation (classify() + code-specific refinements).
std::error_code to_error_code(const diagnostics& d) noexcept;

/// True for methods that may be repeated blindly: reads and user.update/department.update (they set
/// absolute values). user.add, department.add, user.userfield.add, department.delete and any unknown
/// method are not. Case-insensitive.
bool is_idempotent_method(std::string_view method) noexcept;

/// Finer cause of a permanent user.add / user.update failure, from the code and description tokens.
enum class portal_cause {
  unknown,
  already_exists,       ///< duplicate e-mail or login (trap 5), existing field
  user_count_exceeded,  ///< licence seat limit: no more adds will succeed this run
  wrong_email,
  no_extranet_field,  ///< UF_DEPARTMENT missing on a portal with extranet
  access_denied,
  not_found,  ///< user/department not found
  method_not_found,
};
portal_cause cause_of(const diagnostics& d) noexcept;

std::string_view to_string(error_class c) noexcept;
std::string_view to_string(fault_kind k) noexcept;

/// Diagnostics for a network fault. `request_sent`: the request was fully written before it.
diagnostics make_transport_diagnostics(std::string detail, bool request_sent, bool idempotent);

}  // namespace b24sync::bitrix

template <>
struct std::is_error_code_enum<b24sync::bitrix::errc> : std::true_type {};
