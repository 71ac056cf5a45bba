// bitrix/auth.cpp: webhook URL forms, secret redaction and the coalesced OAuth refresh-token rotation.
#include "bitrix/auth.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/url/url.hpp>
#include <spdlog/logger.h>

#include <stdexcept>

namespace b24sync::bitrix {

namespace {

void check_method_name(std::string_view method) {
  if (method.empty()) throw std::invalid_argument("empty REST method name");
  for (char c : method) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_';
    if (!ok) throw std::invalid_argument("invalid REST method name");
  }
}

void replace_all(std::string& text, const std::string& needle) {
  if (needle.empty()) return;
  for (auto pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 3)) {
    text.replace(pos, needle.size(), "***");
  }
}

std::string json_string(const boost::json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_string() ? std::string(it->value().get_string()) : std::string();
}

}  // namespace

struct authenticator::waiter {
  net::steady_timer timer;
};

authenticator::authenticator(std::variant<webhook_auth, oauth_auth> auth, std::shared_ptr<spdlog::logger> log)
    : log_(log ? std::move(log) : std::make_shared<spdlog::logger>("bitrix")) {
  if (auto* w = std::get_if<webhook_auth>(&auth)) {
    if (w->user_id <= 0 || w->code.empty()) throw std::invalid_argument("webhook auth needs a user id > 0 and a code");
    for (char c : w->code.expose()) {
      if (c == '/' || c == '?' || c == '#' || c == '%' || static_cast<unsigned char>(c) <= ' ') {
        throw std::invalid_argument("webhook code contains characters a URL path cannot hold");
      }
    }
    webhook_ = std::make_unique<webhook_auth>(std::move(*w));
  } else {
    oauth_ = std::make_unique<oauth_auth>(std::move(std::get<oauth_auth>(auth)));
    if (oauth_->client_id.empty() || oauth_->refresh_token.empty()) {
      throw std::invalid_argument("oauth auth needs a client_id and a refresh token");
    }
  }
}

std::string authenticator::target(const origin& portal, std::string_view method) const {
  check_method_name(method);
  std::string t = portal.base_path + "/rest/";
  if (webhook_) t += std::to_string(webhook_->user_id) + "/" + webhook_->code.expose() + "/";
  t += method;
  return t + ".json";
}

std::string authenticator::log_target(const origin& portal, std::string_view method) const {
  std::string t = portal.base_path + "/rest/";
  if (webhook_) t += std::to_string(webhook_->user_id) + "/***/";
  t += method;
  return t + ".json";
}

void authenticator::add_credentials(boost::json::object& params) const {
  if (oauth_) params["auth"] = oauth_->access_token.expose();
}

std::string authenticator::redact(std::string_view text) const {
  std::string out(text);
  if (webhook_) replace_all(out, webhook_->code.expose());
  if (oauth_) {
    replace_all(out, oauth_->access_token.expose());
    replace_all(out, oauth_->refresh_token.expose());
    replace_all(out, oauth_->client_secret.expose());
  }
  return out;
}

net::awaitable<refresh_result> authenticator::async_refresh(http_transport& transport, std::uint64_t seen_generation) {
  if (!oauth_) throw std::logic_error("async_refresh called for webhook auth");
  if (seen_generation != generation_) {
    refresh_result done;
    done.ok = true;
    co_return done;
  }
  if (refreshing_) {  // someone else is refreshing this very token: wait for their result
    waiter w{net::steady_timer(co_await net::this_coro::executor, net::steady_timer::time_point::max())};
    waiters_.push_back(&w);
    (void)co_await w.timer.async_wait(net::as_tuple(net::use_awaitable));
    std::erase(waiters_, &w);
    co_return last_refresh_;
  }
  refreshing_ = true;

  refresh_result r;
  try {
    boost::urls::url u(oauth_->token_url);
    http_request req;
    req.verb = "GET";
    req.idempotent = false;  // the refresh token is consumed by the first successful use
    req.to = parse_origin(std::string(u.scheme()) + "://" + std::string(u.encoded_authority()));
    req.log_target = std::string(u.encoded_path()) + "?grant_type=refresh_token&client_id=" + oauth_->client_id +
                     "&client_secret=***&refresh_token=***";
    u.params().append({"grant_type", "refresh_token"});
    u.params().append({"client_id", oauth_->client_id});
    u.params().append({"client_secret", oauth_->client_secret.expose()});
    u.params().append({"refresh_token", oauth_->refresh_token.expose()});
    req.target = std::string(u.encoded_resource());

    log_->info("oauth: access token expired, refreshing at {}{}", req.to.to_string(), req.log_target);
    auto out = co_await transport.async_send(std::move(req));
    if (out.ec) {
      r.ec = out.ec;
      r.description = redact(out.detail);
    } else {
      r.http_status = out.response.status;
      boost::system::error_code jec;
      auto v = boost::json::parse(out.response.body, jec);
      if (jec || !v.is_object()) {
        r.error = "invalid_response";
        r.description = "the OAuth server did not answer with a JSON object (HTTP " + std::to_string(r.http_status) + ")";
      } else if (auto err = json_string(v.as_object(), "error"); !err.empty() || r.http_status != 200) {
        r.error = err.empty() ? "http_" + std::to_string(r.http_status) : err;
        r.description = redact(json_string(v.as_object(), "error_description"));
      } else {
        oauth_tokens fresh;
        fresh.access_token = secret(json_string(v.as_object(), "access_token"));
        fresh.refresh_token = secret(json_string(v.as_object(), "refresh_token"));
        if (auto it = v.as_object().find("expires_in"); it != v.as_object().end() && it->value().is_int64()) {
          fresh.expires_in = std::chrono::seconds(it->value().as_int64());
        }
        if (fresh.access_token.empty() || fresh.refresh_token.empty()) {
          r.error = "invalid_response";
          r.description = "the OAuth server's answer lacks access_token or refresh_token";
        } else {
          oauth_->access_token = fresh.access_token;
          oauth_->refresh_token = fresh.refresh_token;
          ++generation_;
          r.ok = true;
          log_->info("oauth: tokens refreshed (access token valid for {} s); persisting the rotated refresh token",
                     fresh.expires_in.count());
          if (oauth_->on_rotated) {
            try {
              oauth_->on_rotated(fresh);
            } catch (const std::exception& e) {
              log_->error("oauth: persisting the rotated refresh token failed: {}", e.what());
            }
          }
        }
      }
    }
  } catch (const std::exception& e) {  // a malformed token_url
    r.error = "invalid_request";
    r.description = e.what();
  }
  if (!r.ok) {
    log_->error("oauth: token refresh failed: {}{}{}", r.ec ? r.ec.message() : r.error,
                r.description.empty() ? "" : ": ", r.description);
  }

  refreshing_ = false;
  last_refresh_ = r;
  for (auto* w : waiters_) w->timer.cancel();
  co_return r;
}

}  // namespace b24sync::bitrix
