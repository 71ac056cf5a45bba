// Credentials: webhook and OAuth access-token checks, scopes, and the OAuth /oauth/token/ refresh endpoint.
#include "core/auth.hpp"

#include "core/php.hpp"

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cstdio>

namespace b24emu::detail {

namespace json = boost::json;

namespace {

constexpr double access_ttl_s = 3600;
constexpr double refresh_ttl_s = 180.0 * 86400;

void check_user(const portal_data& d, const limits_config& l, auth_info& a) {
  auto it = d.users.find(a.user_id);
  if (it == d.users.end() || !it->second.active)
    throw rest_error(l.auth_error_status, "authorization_error", "Unable to authorize user");
  a.admin = it->second.is_admin;
}

std::string make_token(portal_data& d, char kind) {
  // Deterministic, unique, token-looking: a counter mixed through a 64-bit hash.
  std::uint64_t x = ++d.token_counter * 0x9E3779B97F4A7C15ull + static_cast<unsigned char>(kind);
  x ^= x >> 31;
  x *= 0xBF58476D1CE4E5B9ull;
  x ^= x >> 27;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%c%015llx%08llx", kind,
                static_cast<unsigned long long>(x & 0xFFFFFFFFFFFFFull),
                static_cast<unsigned long long>(d.token_counter));
  return buf;
}

http_response oauth_error(int status, const std::string& code, const std::string& description) {
  http_response r;
  r.status = status;
  r.body = json::serialize(json::object{{"error", code}, {"error_description", description}});
  return r;
}

std::string join_scopes(const std::vector<std::string>& s) {
  std::string out;
  for (auto& x : s) out += (out.empty() ? "" : ",") + x;
  return out;
}

}  // namespace

auth_info authenticate_webhook(const portal_data& d, const limits_config& l, std::string_view uid,
                               std::string_view secret, bool tls, double now) {
  if (l.require_https && !tls) throw rest_error(400, "INVALID_REQUEST", "Https required.");
  auto id = php_intval(uid);
  auto it = std::find_if(d.webhooks.begin(), d.webhooks.end(),
                         [&](const webhook& w) { return w.user_id == id && w.secret == secret; });
  if (it == d.webhooks.end() || (it->expires_at > 0 && now >= it->expires_at))
    throw rest_error(l.auth_error_status, "INVALID_CREDENTIALS", "Invalid request credentials");
  auth_info a;
  a.key = "webhook:" + std::to_string(id) + ":" + std::string(secret);
  a.user_id = id;
  a.scopes = it->scopes;
  check_user(d, l, a);
  return a;
}

auth_info authenticate_token(const portal_data& d, const limits_config& l, json::object& params,
                             std::string_view authorization, double now) {
  std::string token;
  for (const char* name : {"auth", "access_token"}) {
    if (auto it = params.find(name); it != params.end()) {
      if (token.empty() && it->value().is_string()) token = std::string(it->value().get_string());
      params.erase(it);
    }
  }
  if (token.empty() && authorization.size() > 7 && ascii_lower(authorization.substr(0, 7)) == "bearer ")
    token = std::string(authorization.substr(7));
  if (token.empty()) throw rest_error(l.auth_error_status, "NO_AUTH_FOUND", "Wrong authorization data");
  auto t = d.access_tokens.find(token);
  if (t == d.access_tokens.end())
    throw rest_error(401, "invalid_token", "Unable to get application by token");
  if (now >= t->second.expires_at)
    throw rest_error(401, "expired_token", "The access token provided has expired");
  auto app = std::find_if(d.apps.begin(), d.apps.end(),
                          [&](const oauth_app& x) { return x.client_id == t->second.client_id; });
  if (app == d.apps.end()) throw rest_error(401, "invalid_token", "Unable to get application by token");
  auth_info a;
  a.key = "app:" + app->client_id;
  a.user_id = app->user_id;
  a.scopes = app->scopes;
  check_user(d, l, a);
  return a;
}

bool scope_allows(const auth_info& a, const std::vector<std::string_view>& needed) {
  if (needed.empty() || a.scopes.empty()) return true;
  for (auto n : needed)
    if (std::find(a.scopes.begin(), a.scopes.end(), n) != a.scopes.end()) return true;
  return false;
}

std::pair<std::string, std::string> issue_tokens(portal_data& d, const std::string& client_id, double now) {
  auto access = make_token(d, 'a');
  auto refresh = make_token(d, 'r');
  d.access_tokens[access] = {client_id, now + access_ttl_s};
  d.refresh_tokens[refresh] = {client_id, now + refresh_ttl_s};
  return {access, refresh};
}

http_response oauth_token(portal_data& d, const json::object& params, double now) {
  auto str = [&](const char* k) {
    auto it = params.find(k);
    return it != params.end() && it->value().is_string() ? std::string(it->value().get_string())
                                                         : std::string();
  };
  if (str("grant_type") != "refresh_token")
    return oauth_error(400, "invalid_request", "grant_type must be refresh_token");
  auto client_id = str("client_id");
  auto app = std::find_if(d.apps.begin(), d.apps.end(),
                          [&](const oauth_app& x) { return x.client_id == client_id; });
  if (app == d.apps.end() || app->client_secret != str("client_secret"))
    return oauth_error(401, "invalid_client", "invalid client");
  auto rt = d.refresh_tokens.find(str("refresh_token"));
  if (rt == d.refresh_tokens.end() || rt->second.client_id != client_id || now >= rt->second.expires_at)
    return oauth_error(400, "invalid_grant", "Invalid grant");
  d.refresh_tokens.erase(rt);  // rotation: the used refresh token is spent
  auto [access, refresh] = issue_tokens(d, client_id, now);
  http_response r;
  r.body = json::serialize(json::object{
      {"access_token", access},
      {"refresh_token", refresh},
      {"expires", static_cast<std::int64_t>(now + access_ttl_s)},
      {"expires_in", 3600},
      {"client_endpoint", "https://" + d.settings.domain + "/rest/"},
      {"server_endpoint", "https://oauth.bitrix.info/rest/"},
      {"domain", "oauth.bitrix.info"},
      {"member_id", d.settings.member_id},
      {"scope", join_scopes(app->scopes)},
      {"status", "L"},
      {"user_id", app->user_id},
  });
  return r;
}

}  // namespace b24emu::detail
