// The request pipeline: fault decision, portal call, answer and delay, stats and log (see pipeline.hpp).
// The /emu inspection endpoints live in emu_endpoints.cpp.
#include "server/pipeline.hpp"

#include <boost/json.hpp>

#include <cstdio>
#include <exception>

namespace b24emu {
namespace {

http_response json_error(int status, std::string_view code, std::string_view description) {
  http_response r;
  r.status = status;
  r.body = boost::json::serialize(boost::json::object{{"error", code}, {"error_description", description}});
  return r;
}

constexpr std::string_view gateway_page =
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";

}  // namespace

http_response fault_response(fault_kind k) {
  switch (k) {
    case fault_kind::http_503: return json_error(503, "QUERY_LIMIT_EXCEEDED", "Too many requests");
    case fault_kind::http_500: return json_error(500, "INTERNAL_SERVER_ERROR", "Internal server error");
    case fault_kind::bad_gateway_html: {
      http_response r;
      r.status = 502;
      r.content_type = "text/html";
      r.body = std::string(gateway_page);
      return r;
    }
    default: return {};
  }
}

pipeline::pipeline(time_source time, fault_spec faults) : time_(time), faults_(std::move(faults)) {}

void pipeline::open_log(const std::string& path) {
  std::lock_guard lk(mu_);
  log_.emplace(path);
}

void pipeline::note_connection() {
  std::lock_guard lk(mu_);
  ++stats_.connections_accepted;
}

void pipeline::note_tls_connection() {
  std::lock_guard lk(mu_);
  ++stats_.tls_connections;
}

double pipeline::now(std::chrono::steady_clock::time_point at) const {
  std::lock_guard lk(mu_);
  return time_.now(at);
}

void pipeline::advance_time(double portal_seconds) {
  std::lock_guard lk(mu_);
  time_.advance(portal_seconds);
}

void pipeline::set_faults(fault_spec spec) {
  std::lock_guard lk(mu_);
  faults_ = fault_injector(std::move(spec));
}

boost::json::value pipeline::stats() const {
  std::lock_guard lk(mu_);
  return stats_unlocked();
}

void pipeline::reset_stats() {
  std::lock_guard lk(mu_);
  stats_ = server_stats{};
  portal_.reset_stats();
}

boost::json::value pipeline::stats_unlocked() const {
  boost::json::object faults;
  for (std::size_t i = 0; i < fault_kind_count; ++i)
    faults[to_string(static_cast<fault_kind>(i))] = stats_.faults[i];
  boost::json::object server{{"connections_accepted", stats_.connections_accepted},
                             {"tls_connections", stats_.tls_connections},
                             {"requests", stats_.requests},
                             {"rest_requests", stats_.rest_requests},
                             {"emu_requests", stats_.emu_requests},
                             {"faults_injected", std::move(faults)}};
  boost::json::value merged = portal_.stats();
  if (!merged.is_object()) merged = boost::json::object{{"portal", std::move(merged)}};
  merged.get_object()["server"] = std::move(server);
  return merged;
}

outcome pipeline::process(const http_request& req, std::chrono::steady_clock::time_point at) {
  std::lock_guard lk(mu_);
  ++stats_.requests;
  const std::string_view target = req.target;
  if (target == "/emu" || target.substr(0, 5) == "/emu/" || target.substr(0, 5) == "/emu?") {
    ++stats_.emu_requests;
    outcome o;
    o.response = process_emu(req, at);
    log(req, time_.now(at), o, {}, {}, 0.0);
    return o;
  }
  ++stats_.rest_requests;
  rest_request_seen_.notify_all();
  return process_portal(req, at);
}

bool pipeline::wait_rest_requests(std::uint64_t count, std::chrono::milliseconds timeout) {
  std::unique_lock lk(mu_);
  return rest_request_seen_.wait_for(lk, timeout, [&] { return stats_.rest_requests >= count; });
}

outcome pipeline::process_portal(const http_request& req, std::chrono::steady_clock::time_point at) {
  const std::string url_method = rest_method_from_target(req.target);
  // Faults only hit /rest calls, decided once per request in arrival order.
  const fault_decision d = url_method.empty() ? fault_decision{} : faults_.decide(url_method);
  if (d.terminal) ++stats_.faults[static_cast<std::size_t>(*d.terminal)];
  if (d.extra_latency.count() > 0) ++stats_.faults[static_cast<std::size_t>(fault_kind::latency)];
  std::string fault_name = d.terminal ? std::string(to_string(*d.terminal)) : std::string();
  if (d.extra_latency.count() > 0) fault_name += fault_name.empty() ? "latency" : "+latency";

  const double now = time_.now(at);
  outcome o;
  handled h;
  h.rest_method = url_method;
  if (d.calls_portal()) {
    try {
      h = portal_.handle(req, now);
    } catch (const std::exception& e) {
      // A throwing portal is an emulator bug: answer loudly rather than take the server down.
      std::fprintf(stderr, "b24emu: portal threw on %s: %s\n", redact_target(req.target).c_str(), e.what());
      h.response = json_error(500, "EMULATOR_BUG", e.what());
      h.cost_s = 0;
    }
  }
  o.delay = time_.real_delay(h.cost_s) + d.extra_latency;
  o.response = std::move(h.response);
  if (d.terminal) {
    switch (*d.terminal) {
      case fault_kind::http_503:
      case fault_kind::http_500:
      case fault_kind::bad_gateway_html: o.response = fault_response(*d.terminal); break;
      case fault_kind::truncated_json: o.response.body.resize(o.response.body.size() / 2); break;
      case fault_kind::close_before:
      case fault_kind::close_after_apply: o.write = false; break;
      case fault_kind::latency: break;
    }
  }
  log(req, now, o, h.rest_method, fault_name, h.cost_s);
  return o;
}

void pipeline::log(const http_request& req, double t, const outcome& o, const std::string& rest_method,
                   const std::string& fault, double cost_s) {
  if (!log_) return;
  request_log_entry e;
  e.t = t;
  e.http_method = req.method;
  e.target = redact_target(req.target);
  if (o.write) e.status = o.response.status;
  e.rest_method = rest_method;
  e.fault = fault;
  e.cost_s = cost_s;
  log_->write(e);
}

}  // namespace b24emu
