// config::portal_config -> bitrix::client_config, including persistence of rotated OAuth refresh tokens.
#include "app/portal_settings.hpp"

#include <fmt/core.h>

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace b24sync::app {

namespace {

std::string read_token_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw config::config_error(fmt::format("{}: cannot read the OAuth refresh token: {}", path, std::strerror(errno)));
  std::ostringstream buf;
  buf << in.rdbuf();
  std::string s = buf.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

// Writes next to the target and renames over it, so a crash never leaves a half-written token.
bool write_token_file(const std::string& path, const std::string& token) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return false;
    ::chmod(tmp.c_str(), 0600);
    out << token << '\n';
    out.flush();
    if (!out) return false;
  }
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

}  // namespace

bitrix::client_config make_client_config(const config::config& cfg, std::shared_ptr<spdlog::logger> log) {
  const auto& p = cfg.portal;
  bitrix::client_config out;
  out.base_url = p.url;
  if (p.auth == config::auth_kind::webhook) {
    out.auth = bitrix::webhook_auth{p.webhook.user_id, bitrix::secret{p.webhook.code.reveal()}};
    if (out.base_url.empty()) out.base_url = p.webhook.portal_url;
  } else {
    bitrix::oauth_auth o;
    o.client_id = p.oauth.client_id;
    o.client_secret = bitrix::secret{p.oauth.client_secret.reveal()};
    o.token_url = p.oauth.token_url;
    o.refresh_token = bitrix::secret{read_token_file(p.oauth.refresh_token_file)};
    o.on_rotated = [path = p.oauth.refresh_token_file, log](const bitrix::oauth_tokens& t) {
      if (!write_token_file(path, t.refresh_token.expose()) && log)
        log->error("could not save the rotated OAuth refresh token to {}: {}; the next run will need a new one",
                   path, std::strerror(errno));
    };
    out.auth = std::move(o);
  }
  out.limits.requests_per_second = p.limits.requests_per_second;
  out.limits.burst = p.limits.burst;
  out.tls.ca_file = p.tls.ca_file;
  out.tls.verify = p.tls.verify;
  out.timeouts.connect = p.timeouts.connect;
  out.timeouts.handshake = p.timeouts.connect;
  out.timeouts.read = p.timeouts.request;
  return out;
}

}  // namespace b24sync::app
