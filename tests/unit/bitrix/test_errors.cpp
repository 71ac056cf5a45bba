// Error classification: by the `error` code first, status as tie-break, transport faults by send stage.
#include "bitrix/errors.hpp"

#include <doctest/doctest.h>

#include <ostream>  // doctest prints std::error_code

#include <string>

using namespace b24sync::bitrix;

namespace {

diagnostics portal(std::string code, int status, bool idempotent = true, std::string text = {}) {
  diagnostics d;
  d.kind = fault_kind::portal_error;
  d.error = std::move(code);
  d.description = std::move(text);
  d.http_status = status;
  d.idempotent = idempotent;
  return d;
}

diagnostics body(fault_kind k, int status, bool idempotent) {
  diagnostics d;
  d.kind = k;
  d.http_status = status;
  d.idempotent = idempotent;
  return d;
}

}  // namespace

TEST_CASE("errors: classification table by code, whatever the status") {
  struct row {
    const char* code;
    int status;
    error_class expect;
  };
  const row table[] = {
      {"QUERY_LIMIT_EXCEEDED", 503, error_class::retry_rate_limited},
      {"QUERY_LIMIT_EXCEEDED", 429, error_class::retry_rate_limited},  // 2024 docs status
      {"QUERY_LIMIT_EXCEEDED", 200, error_class::retry_rate_limited},
      {"query_limit_exceeded", 503, error_class::retry_rate_limited},  // case varies
      {"OPERATION_TIME_LIMIT", 429, error_class::retry_operating_limit},
      {"OPERATION_TIME_LIMIT", 503, error_class::retry_operating_limit},
      {"expired_token", 401, error_class::auth_refresh},
      {"invalid_token", 401, error_class::auth_refresh},
      {"NO_AUTH_FOUND", 401, error_class::auth_fatal},
      {"INVALID_CREDENTIALS", 401, error_class::auth_fatal},
      {"INVALID_CREDENTIALS", 403, error_class::auth_fatal},
      {"insufficient_scope", 403, error_class::auth_fatal},
      {"ACCESS_DENIED", 403, error_class::auth_fatal},
      {"authorization_error", 401, error_class::auth_fatal},
      {"OVERLOAD_LIMIT", 503, error_class::auth_fatal},  // manual block, not a rate limit
      {"PAYMENT_REQUIRED", 401, error_class::auth_fatal},
      {"PORTAL_DELETED", 500, error_class::auth_fatal},
      {"INVALID_REQUEST", 400, error_class::auth_fatal},
      {"WRONG_AUTH_TYPE", 403, error_class::auth_fatal},
      {"invalid_grant", 400, error_class::auth_fatal},
      {"ERROR_ARGUMENT", 400, error_class::permanent},
      {"ERROR_CORE", 400, error_class::permanent},
      {"ERROR_CORE", 500, error_class::permanent},
      {"ERROR_METHOD_NOT_FOUND", 404, error_class::permanent},
      {"ERROR_BATCH_LENGTH_EXCEEDED", 400, error_class::permanent},
      {"ERROR_BATCH_METHOD_NOT_ALLOWED", 405, error_class::permanent},
      {"wrong_email", 400, error_class::permanent},
      {"user_count_exceeded", 400, error_class::permanent},
      {"INTERNAL_SERVER_ERROR", 500, error_class::retry_server},
      {"ERROR_UNEXPECTED_ANSWER", 500, error_class::retry_server},
      {"", 400, error_class::permanent},  // empty code (user.userfield.add example)
      {"", 500, error_class::retry_server},
      {"", 401, error_class::auth_fatal},
      {"SOMETHING_NEW", 502, error_class::retry_server},
      {"SOMETHING_NEW", 400, error_class::permanent},
  };
  for (const auto& r : table) {
    CAPTURE(r.code);
    CAPTURE(r.status);
    CHECK(classify(portal(r.code, r.status)) == r.expect);
  }
}

TEST_CASE("errors: a server error on a non-idempotent write is ambiguous, never a blind retry") {
  CHECK(classify(portal("INTERNAL_SERVER_ERROR", 500, false)) == error_class::ambiguous);
  CHECK(classify(portal("", 504, false)) == error_class::ambiguous);
  CHECK(classify(portal("ERROR_ARGUMENT", 400, false)) == error_class::permanent);
  CHECK(classify(portal("QUERY_LIMIT_EXCEEDED", 503, false)) == error_class::retry_rate_limited);
}

TEST_CASE("errors: non-JSON and truncated bodies") {
  CHECK(classify(body(fault_kind::not_json, 502, true)) == error_class::retry_server);
  CHECK(classify(body(fault_kind::not_json, 502, false)) == error_class::ambiguous);
  CHECK(classify(body(fault_kind::not_json, 503, true)) == error_class::retry_server);
  CHECK(classify(body(fault_kind::truncated_json, 200, true)) == error_class::retry_server);
  CHECK(classify(body(fault_kind::truncated_json, 200, false)) == error_class::ambiguous);
  CHECK(classify(body(fault_kind::malformed_envelope, 200, false)) == error_class::ambiguous);
  CHECK(classify(body(fault_kind::not_json, 404, true)) == error_class::permanent);
  CHECK(classify(body(fault_kind::not_json, 403, true)) == error_class::auth_fatal);
  CHECK(classify(body(fault_kind::http_status, 500, true)) == error_class::retry_server);
}

TEST_CASE("errors: transport faults - before send retryable, after send ambiguous unless idempotent") {
  CHECK(classify(make_transport_diagnostics("connection refused", false, false)) ==
        error_class::retry_transport);
  CHECK(classify(make_transport_diagnostics("timeout before send", false, false)) ==
        error_class::retry_transport);
  CHECK(classify(make_transport_diagnostics("reset after write", true, false)) == error_class::ambiguous);
  CHECK(classify(make_transport_diagnostics("timeout after write", true, true)) ==
        error_class::retry_transport);
  diagnostics missing;
  missing.kind = fault_kind::not_executed;
  CHECK(classify(missing) == error_class::retry_not_executed);
}

TEST_CASE("errors: helpers and error codes") {
  CHECK(is_retryable(error_class::retry_rate_limited));
  CHECK(is_retryable(error_class::retry_not_executed));
  CHECK_FALSE(is_retryable(error_class::ambiguous));
  CHECK_FALSE(is_retryable(error_class::auth_refresh));
  CHECK(is_ambiguous(error_class::ambiguous));
  CHECK(is_fatal(error_class::auth_fatal));
  CHECK(to_error_code(portal("QUERY_LIMIT_EXCEEDED", 503)) == errc::rate_limited);
  CHECK(to_error_code(portal("OPERATION_TIME_LIMIT", 429)) == errc::operation_time_limit);
  CHECK(to_error_code(portal("expired_token", 401)) == errc::token_expired);
  CHECK(to_error_code(portal("ERROR_CORE", 400)) == errc::portal_error);
  CHECK(to_error_code(body(fault_kind::not_json, 502, true)) == errc::gateway_page);
  CHECK(to_error_code(body(fault_kind::truncated_json, 200, false)) == errc::outcome_unknown);
  std::error_code ec = errc::snapshot_inconsistent;
  CHECK(ec.category().name() == std::string("b24sync.bitrix"));
  CHECK_FALSE(ec.message().empty());
}

TEST_CASE("errors: idempotent methods") {
  CHECK(is_idempotent_method("user.get"));
  CHECK(is_idempotent_method("USER.UPDATE"));
  CHECK(is_idempotent_method("department.get"));
  CHECK_FALSE(is_idempotent_method("user.add"));
  CHECK_FALSE(is_idempotent_method("department.add"));
  CHECK_FALSE(is_idempotent_method("user.userfield.add"));
  CHECK_FALSE(is_idempotent_method("crm.whatever"));
}

TEST_CASE("errors: causes from description tokens (English and Russian)") {
  CHECK(cause_of(portal("ERROR_ARGUMENT", 400, false, "A user with this email already exists")) ==
        portal_cause::already_exists);
  CHECK(cause_of(portal("ERROR_CORE", 400, false, "Пользователь с таким e-mail уже существует")) ==
        portal_cause::already_exists);
  CHECK(cause_of(portal("ERROR_CORE", 400, false, "wrong_email")) == portal_cause::wrong_email);
  CHECK(cause_of(portal("ERROR_ARGUMENT", 400, false, "user_count_exceeded")) ==
        portal_cause::user_count_exceeded);
  CHECK(cause_of(portal("ERROR_CORE", 400, false, "access_denied")) == portal_cause::access_denied);
  CHECK(cause_of(portal("ERROR_METHOD_NOT_FOUND", 404)) == portal_cause::method_not_found);
  CHECK(cause_of(portal("ERROR_CORE", 400, false, "")) == portal_cause::unknown);
}
