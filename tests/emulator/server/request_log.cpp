// Request-log redaction and JSONL output (see request_log.hpp).
#include "server/request_log.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <stdexcept>

namespace b24emu {
namespace {

constexpr std::string_view mask = "***";
constexpr std::array<std::string_view, 6> secret_params{"auth", "access_token", "refresh_token",
                                                        "client_secret", "code", "password"};

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// "auth", "auth%5B0%5D" or "auth[x]" all name the parameter "auth".
bool is_secret_param(std::string_view key) {
  key = key.substr(0, std::min(key.find('['), key.find('%')));
  return std::any_of(secret_params.begin(), secret_params.end(), [&](std::string_view s) { return iequals(key, s); });
}

std::string redact_path(std::string_view path) {
  constexpr std::string_view prefix = "/rest/";
  if (path.substr(0, prefix.size()) != prefix) return std::string(path);
  // /rest/<uid>/<code>[/<method>]: a numeric first segment makes the second one a webhook code.
  const auto uid_end = path.find('/', prefix.size());
  if (uid_end == std::string_view::npos || uid_end == prefix.size()) return std::string(path);
  const auto uid = path.substr(prefix.size(), uid_end - prefix.size());
  if (!std::all_of(uid.begin(), uid.end(), [](unsigned char c) { return std::isdigit(c) != 0; }))
    return std::string(path);
  const auto code_end = std::min(path.find('/', uid_end + 1), path.size());
  if (code_end == uid_end + 1) return std::string(path);
  std::string out(path.substr(0, uid_end + 1));
  out += mask;
  out += path.substr(code_end);
  return out;
}

std::string redact_query(std::string_view query) {
  std::string out;
  while (true) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    if (eq != std::string_view::npos && is_secret_param(pair.substr(0, eq))) {
      out += pair.substr(0, eq + 1);
      out += mask;
    } else {
      out += pair;
    }
    if (amp == std::string_view::npos) break;
    out += '&';
    query.remove_prefix(amp + 1);
  }
  return out;
}

}  // namespace

std::string redact_target(std::string_view target) {
  const auto q = target.find('?');
  std::string out = redact_path(target.substr(0, q));
  if (q != std::string_view::npos) {
    out += '?';
    out += redact_query(target.substr(q + 1));
  }
  return out;
}

boost::json::value to_json(const request_log_entry& e) {
  boost::json::object o{{"t", e.t}, {"http_method", e.http_method}, {"target", e.target}};
  o["status"] = e.status ? boost::json::value(*e.status) : boost::json::value(nullptr);
  o["rest_method"] = e.rest_method;
  o["fault"] = e.fault.empty() ? boost::json::value(nullptr) : boost::json::value(e.fault);
  o["cost_s"] = e.cost_s;
  return o;
}

request_log::request_log(const std::string& path) : out_(path, std::ios::app) {
  if (!out_) throw std::runtime_error("cannot open request log " + path);
}

void request_log::write(const request_log_entry& e) {
  out_ << boost::json::serialize(to_json(e)) << '\n';
  out_.flush();
}

}  // namespace b24emu
