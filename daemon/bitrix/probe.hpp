// bitrix/probe.hpp: `b24sync check`'s look at the portal: reachable, TLS, auth, identity, admin, scope,
// counts and limits, each with its own error. Writes nothing.
#pragma once

#include "bitrix/client.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace b24sync::bitrix {

/// One check: passed, failed (with a reason), or not run because an earlier check failed.
struct probe_check {
  bool ran = false;
  bool ok = false;
  std::string error;  ///< why it failed (no secrets); empty when ok or not run
};

struct probe_result {
  std::string portal_url;  ///< where the probe went (after any redirect)
  probe_check reachable;   ///< TCP connection established
  probe_check tls;         ///< TLS handshake and certificate verification (not run for http loopback)
  probe_check auth;        ///< the credentials were accepted (user.current answered)
  probe_check admin;       ///< user.admin answered (see is_admin for the answer)
  probe_check scope;       ///< `scope` answered
  probe_check users;       ///< user.get (ADMIN_MODE, start=0) answered with a total
  probe_check departments;  ///< department.get answered with a total

  std::optional<std::int64_t> user_id;  ///< the webhook's / token's user (user.current)
  std::string user_name;                ///< NAME LAST_NAME
  std::string user_email;
  std::optional<bool> is_admin;            ///< user.admin: admin rights are needed for ACTIVE/UF_DEPARTMENT
  std::vector<std::string> scopes;         ///< granted scopes, as the portal lists them
  std::vector<std::string> missing_scopes;  ///< of those b24sync needs ("user", "department")
  std::optional<std::int64_t> user_count;        ///< users visible with ADMIN_MODE (dismissed included)
  std::optional<std::int64_t> department_count;

  rate_limits limits;                      ///< the request limits the client applies
  double operating_limit_s = 0;            ///< the per-method operating budget the client assumes
  bool operating_reported = false;         ///< the portal reports `operating` (its load limiter is on)
  std::optional<double> clock_skew_s;      ///< portal clock minus local clock, seconds
  std::uint64_t http_requests = 0;         ///< requests the probe used

  /// Everything b24sync needs works: reachable, TLS, auth, admin, scopes, both counts.
  [[nodiscard]] bool ok() const noexcept;
};

/// Runs the checks (two requests when all goes well: user.current, then one batch with user.admin,
/// scope, user.get and department.get). Transient failures are retried only briefly. Never throws
/// for portal or network failures: they end up in the checks.
net::awaitable<probe_result> async_probe(client& c);

}  // namespace b24sync::bitrix
