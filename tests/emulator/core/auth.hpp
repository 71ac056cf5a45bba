// Credentials: webhook and OAuth access-token checks, scopes, and the OAuth /oauth/token/ refresh endpoint.
#pragma once

#include "core/state.hpp"

#include <string>
#include <vector>

namespace b24emu::detail {

// Who is calling, as far as limits and rights are concerned.
struct auth_info {
  std::string key;  // operating-limit identity: "webhook:<uid>:<secret>" or "app:<client_id>"
  std::int64_t user_id = 0;
  bool admin = false;
  std::vector<std::string> scopes;  // empty = every scope
};

// Webhook route /rest/<uid>/<secret>/...; throws rest_error (INVALID_REQUEST, INVALID_CREDENTIALS,
// authorization_error).
auth_info authenticate_webhook(const portal_data& d, const limits_config& l, std::string_view uid,
                               std::string_view secret, bool tls, double now);

// OAuth route /rest/<method>: token from `auth` / `access_token` params (removed from `params`)
// or an "Authorization: Bearer" header. Throws NO_AUTH_FOUND, invalid_token, expired_token, ...
auth_info authenticate_token(const portal_data& d, const limits_config& l, boost::json::object& params,
                             std::string_view authorization, double now);

bool scope_allows(const auth_info& a, const std::vector<std::string_view>& needed);

// /oauth/token/?grant_type=refresh_token&client_id&client_secret&refresh_token
http_response oauth_token(portal_data& d, const boost::json::object& params, double now);

// Issues a new access/refresh pair for an app (also used by the seed loader).
std::pair<std::string, std::string> issue_tokens(portal_data& d, const std::string& client_id, double now);

}  // namespace b24emu::detail
