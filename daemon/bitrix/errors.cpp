// Error category, classification tables and helpers of the Bitrix24 client.
#include "bitrix/errors.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace b24sync::bitrix {
namespace {

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

template <std::size_t N>
bool one_of(std::string_view code, const std::array<std::string_view, N>& table) noexcept {
  return std::any_of(table.begin(), table.end(), [&](std::string_view t) { return iequals(code, t); });
}

// ASCII case-insensitive substring search (UTF-8 tokens match byte for byte).
bool icontains(std::string_view hay, std::string_view needle) noexcept {
  if (needle.size() > hay.size()) return false;
  for (std::size_t i = 0; i + needle.size() <= hay.size(); ++i)
    if (iequals(hay.substr(i, needle.size()), needle)) return true;
  return false;
}

constexpr std::array<std::string_view, 2> refresh_codes{"expired_token", "invalid_token"};

constexpr std::array<std::string_view, 19> fatal_codes{
    "NO_AUTH_FOUND",           "INVALID_CREDENTIALS", "insufficient_scope",
    "invalid_scope",           "ACCESS_DENIED",       "WRONG_AUTH_TYPE",
    "authorization_error",     "user_access_error",   "APPLICATION_NOT_FOUND",
    "METHOD_CONFIRM_WAITING",  "OVERLOAD_LIMIT",      "PAYMENT_REQUIRED",
    "PORTAL_DELETED",          "INVALID_REQUEST",     "invalid_grant",
    "invalid_client",          "verification_needed", "ERROR_OAUTH",
    "ALLOW_ONLY_INTRANET_USER"};

// The portal threw while running the method: it may or may not have done the work.
constexpr std::array<std::string_view, 2> server_codes{"INTERNAL_SERVER_ERROR", "ERROR_UNEXPECTED_ANSWER"};

constexpr std::array<std::string_view, 13> permanent_codes{"ERROR_ARGUMENT",
                                                           "ERROR_CORE",
                                                           "ERROR_METHOD_NOT_FOUND",
                                                           "ERROR_BATCH_LENGTH_EXCEEDED",
                                                           "ERROR_BATCH_METHOD_NOT_ALLOWED",
                                                           "wrong_email",
                                                           "user_count_exceeded",
                                                           "no_extranet_field",
                                                           "no_sonet_group_for_extranet",
                                                           "ERROR_GROUPID",
                                                           "ERROR_NO_GROUP",
                                                           "ERROR_NOT_FOUND",
                                                           "ERROR_EMPTY_USER_ID"};

error_class unanswered(const diagnostics& d) noexcept {
  return d.idempotent ? error_class::retry_server : error_class::ambiguous;
}

// A failure without a recognised code: the status decides.
error_class by_status(const diagnostics& d) noexcept {
  const int s = d.http_status;
  if (s == 0 || s >= 500 || s == 408) return unanswered(d);
  if (s == 429) return error_class::retry_rate_limited;
  if (s == 401 || s == 403) return error_class::auth_fatal;
  if (s >= 200 && s < 300)  // a 2xx whose body is unusable: the call ran
    return unanswered(d);
  return error_class::permanent;
}

class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "b24sync.bitrix"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::portal_error:
        return "the portal refused the call";
      case errc::rate_limited:
        return "request rate limit exceeded (QUERY_LIMIT_EXCEEDED)";
      case errc::operation_time_limit:
        return "method blocked by the operating-time limit (OPERATION_TIME_LIMIT)";
      case errc::token_expired:
        return "access token expired";
      case errc::auth_rejected:
        return "authorization rejected";
      case errc::server_error:
        return "portal server error";
      case errc::gateway_page:
        return "answer is not JSON";
      case errc::truncated_response:
        return "answer is truncated";
      case errc::malformed_envelope:
        return "answer is not a Bitrix24 envelope";
      case errc::transport_failed:
        return "network failure before the request was sent";
      case errc::outcome_unknown:
        return "request sent, outcome unknown";
      case errc::not_executed:
        return "batch command was not executed";
      case errc::invalid_argument:
        return "invalid request built by the client";
      case errc::snapshot_inconsistent:
        return "snapshot pages are inconsistent";
    }
    return "unknown bitrix error";
  }
};

}  // namespace

const std::error_category& bitrix_category() noexcept {
  static const category instance;
  return instance;
}

std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), bitrix_category()};
}

error_class classify(const diagnostics& d) noexcept {
  switch (d.kind) {
    case fault_kind::transport:
      return (!d.request_sent || d.idempotent) ? error_class::retry_transport : error_class::ambiguous;
    case fault_kind::not_executed:
      return error_class::retry_not_executed;
    case fault_kind::not_json:
    case fault_kind::truncated_json:
    case fault_kind::malformed_envelope:
      return by_status(d);
    case fault_kind::http_status:
    case fault_kind::portal_error:
      break;
  }
  const std::string_view code = d.error;
  if (iequals(code, "QUERY_LIMIT_EXCEEDED")) return error_class::retry_rate_limited;
  if (iequals(code, "OPERATION_TIME_LIMIT")) return error_class::retry_operating_limit;
  if (one_of(code, refresh_codes)) return error_class::auth_refresh;
  if (one_of(code, fatal_codes)) return error_class::auth_fatal;
  if (one_of(code, server_codes)) return unanswered(d);
  if (one_of(code, permanent_codes)) return error_class::permanent;
  return by_status(d);
}

bool is_retryable(error_class c) noexcept {
  switch (c) {
    case error_class::retry_rate_limited:
    case error_class::retry_operating_limit:
    case error_class::retry_server:
    case error_class::retry_transport:
    case error_class::retry_not_executed:
      return true;
    default:
      return false;
  }
}

bool is_ambiguous(error_class c) noexcept {
  return c == error_class::ambiguous;
}
bool is_fatal(error_class c) noexcept {
  return c == error_class::auth_fatal;
}

std::error_code to_error_code(const diagnostics& d) noexcept {
  switch (classify(d)) {
    case error_class::retry_rate_limited:
      return errc::rate_limited;
    case error_class::retry_operating_limit:
      return errc::operation_time_limit;
    case error_class::retry_transport:
      return errc::transport_failed;
    case error_class::retry_not_executed:
      return errc::not_executed;
    case error_class::auth_refresh:
      return errc::token_expired;
    case error_class::auth_fatal:
      return errc::auth_rejected;
    case error_class::ambiguous:
      return errc::outcome_unknown;
    case error_class::retry_server:
    case error_class::permanent:
      break;
  }
  switch (d.kind) {
    case fault_kind::not_json:
      return errc::gateway_page;
    case fault_kind::truncated_json:
      return errc::truncated_response;
    case fault_kind::malformed_envelope:
      return errc::malformed_envelope;
    default:
      break;
  }
  return classify(d) == error_class::retry_server ? errc::server_error : errc::portal_error;
}

bool is_idempotent_method(std::string_view method) noexcept {
  constexpr std::array<std::string_view, 12> idempotent{
      "user.get",          "user.search",       "user.current",
      "user.fields",       "user.update",       "department.get",
      "department.update", "department.fields", "user.userfield.list",
      "server.time",       "profile",           "scope"};
  return one_of(method, idempotent);
}

portal_cause cause_of(const diagnostics& d) noexcept {
  auto has = [&](std::string_view token) {
    return icontains(d.error, token) || icontains(d.description, token);
  };
  if (iequals(d.error, "ERROR_METHOD_NOT_FOUND")) return portal_cause::method_not_found;
  if (has("user_count_exceeded")) return portal_cause::user_count_exceeded;
  if (has("wrong_email")) return portal_cause::wrong_email;
  if (has("no_extranet_field")) return portal_cause::no_extranet_field;
  if (has("already exists") || has("already_exists") || has("уже существует"))
    return portal_cause::already_exists;
  if (has("access_denied") || has("access denied")) return portal_cause::access_denied;
  if (has("not found") || has("not_found")) return portal_cause::not_found;
  return portal_cause::unknown;
}

std::string_view to_string(error_class c) noexcept {
  switch (c) {
    case error_class::retry_rate_limited:
      return "retry_rate_limited";
    case error_class::retry_operating_limit:
      return "retry_operating_limit";
    case error_class::retry_server:
      return "retry_server";
    case error_class::retry_transport:
      return "retry_transport";
    case error_class::retry_not_executed:
      return "retry_not_executed";
    case error_class::auth_refresh:
      return "auth_refresh";
    case error_class::auth_fatal:
      return "auth_fatal";
    case error_class::permanent:
      return "permanent";
    case error_class::ambiguous:
      return "ambiguous";
  }
  return "?";
}

std::string_view to_string(fault_kind k) noexcept {
  switch (k) {
    case fault_kind::portal_error:
      return "portal_error";
    case fault_kind::http_status:
      return "http_status";
    case fault_kind::not_json:
      return "not_json";
    case fault_kind::truncated_json:
      return "truncated_json";
    case fault_kind::malformed_envelope:
      return "malformed_envelope";
    case fault_kind::transport:
      return "transport";
    case fault_kind::not_executed:
      return "not_executed";
  }
  return "?";
}

diagnostics make_transport_diagnostics(std::string detail, bool request_sent, bool idempotent) {
  diagnostics d;
  d.kind = fault_kind::transport;
  d.request_sent = request_sent;
  d.idempotent = idempotent;
  d.detail = std::move(detail);
  return d;
}

}  // namespace b24sync::bitrix
