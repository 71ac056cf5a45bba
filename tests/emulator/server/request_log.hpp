// The emulator's JSONL request log: one line per request, with webhook secrets and tokens redacted.
#pragma once

#include <boost/json/value.hpp>

#include <fstream>
#include <optional>
#include <string>
#include <string_view>

namespace b24emu {

// The request target with secrets replaced by "***": the webhook code in /rest/<uid>/<code>/...,
// and the values of auth, access_token, refresh_token, client_secret and code in the query string.
std::string redact_target(std::string_view target);

struct request_log_entry {
  double t = 0;                     // portal time when the request was handled
  std::string http_method;
  std::string target;               // already redacted
  std::optional<int> status;        // empty when the connection was closed without an answer
  std::string rest_method;
  std::string fault;                // fault kind name, empty if none
  double cost_s = 0;
};

boost::json::value to_json(const request_log_entry& e);

// Appends one JSON line per entry and flushes it, so a test can read the file while the server runs.
// Writes are small and made on the io thread; a failed open throws std::runtime_error.
class request_log {
public:
  explicit request_log(const std::string& path);
  void write(const request_log_entry& e);

private:
  std::ofstream out_;
};

}  // namespace b24emu
