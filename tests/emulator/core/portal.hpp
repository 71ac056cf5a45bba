// The emulated Bitrix24 portal as a pure request handler: no sockets, no clock of its own.
// The server (server.hpp) owns the sockets, fault injection and the wall clock; it calls handle()
// with the portal time and delays the answer by the returned simulated cost.
#pragma once

#include <boost/json/value.hpp>

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace b24emu {

// One HTTP request as the portal sees it (already read off the socket).
struct http_request {
  std::string method;        // "GET", "POST", ...
  std::string target;        // path + query, e.g. "/rest/1/secret/user.get.json?start=50"
  std::string content_type;  // Content-Type header value, may be empty
  std::string authorization; // Authorization header value, may be empty
  std::string body;
  bool tls = false;          // whether it arrived over TLS (plain HTTP webhook calls -> INVALID_REQUEST unless allowed)
};

struct http_response {
  int status = 200;
  std::string content_type = "application/json; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers (e.g. Location)
};

// What handle() produced: the response and how long the portal "worked" on it, in portal seconds.
// The server waits cost_s / time_scale real seconds before writing the response.
struct handled {
  http_response response;
  double cost_s = 0.0;
  std::string rest_method;  // lower-cased REST method ("batch", "user.get"), empty for non-REST paths
};

// Limits the portal enforces; all changeable at runtime (/emu/limits).
struct limits_config {
  bool rate_enabled = true;
  double rate_per_s = 2.0;           // leaky bucket drain, requests per portal second
  double burst = 50.0;               // bucket capacity X: above it -> 503 QUERY_LIMIT_EXCEEDED
  bool operating_enabled = true;
  double operating_limit_s = 480.0;  // per (auth key, method) over 10 one-minute baskets
  bool charge_subcalls = true;       // docs: nested batch calls charged per method; false: charge "batch" (JS SDK measurement)
  double free_below_s = 0.1;         // calls of <= this many seconds are not recorded
  std::map<std::string, double> method_cost_s;  // simulated cost per lower-cased method; default below
  double default_cost_s = 0.0;
  int batch_max = 50;
  bool batch_overflow_400 = false;   // true: whole batch 400 ERROR_BATCH_LENGTH_EXCEEDED; false: per-command errors
  int seat_limit = 0;                // active intranet users allowed; 0 = unlimited
  int auth_error_status = 401;       // status for NO_AUTH_FOUND / INVALID_CREDENTIALS (docs: 401/403; see contract §2)
  bool require_https = false;        // plain-HTTP webhook calls -> INVALID_REQUEST "Https required."
};

class portal_impl;

class portal {
public:
  portal();
  ~portal();
  portal(const portal&) = delete;
  portal& operator=(const portal&) = delete;

  // Replaces all data (users, departments, webhooks, apps, user fields) from a seed document.
  // Throws std::invalid_argument with a reason on a malformed seed. Format: tests/emulator/core/README.md.
  void load_seed(const boost::json::value& seed);

  limits_config& limits();

  // Handles one request at portal time `now` (Unix seconds, fractional).
  handled handle(const http_request& req, double now);

  // Inspection (the server exposes these under /emu/...).
  boost::json::value dump_users() const;        // every user with every stored field
  boost::json::value dump_departments() const;
  boost::json::value invitations() const;       // one entry per user.add that sent an invitation
  boost::json::value notifications() const;     // one entry per accepted im.message.add / im.notify.system.add
  boost::json::value stats() const;             // requests, calls per method (incl. in batches), errors by code, max bucket level
  void reset_stats();

private:
  std::unique_ptr<portal_impl> impl_;
};

}  // namespace b24emu
