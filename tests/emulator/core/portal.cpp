// The portal's request path: routing, auth, limits, dispatch to the method table, response envelope.
#include "core/portal.hpp"

#include "core/auth.hpp"
#include "core/batch.hpp"
#include "core/dates.hpp"
#include "core/limits.hpp"
#include "core/methods.hpp"
#include "core/params.hpp"
#include "core/php.hpp"
#include "core/seed.hpp"
#include "core/state.hpp"

#include <boost/json/serialize.hpp>

#include <cmath>

namespace b24emu {

namespace json = boost::json;
using namespace detail;

class portal_impl {
 public:
  portal_data data;
  portal_stats stats;
  limits_config limits;
  rate_bucket bucket;
  operating_limiter operating;

  handled handle(const http_request& req, double now);

 private:
  handled handle_rest(const http_request& req, std::string_view path, std::string_view query, double now);
  call_outcome run_call(const auth_info& a, const std::string& method, json::object params, double now,
                        bool in_batch);
  json::object make_time(double start, double cost, const std::optional<operating_limiter::report>& op) const;
  http_response error_response(const rest_error& e);
  double cost_of(const std::string& method) const;
};

namespace {

json::value round6(double x) {
  return std::round(x * 1e6) / 1e6;
}

// Whole seconds print as integers ("operating": 0, as in the portal's examples).
json::value seconds(double x) {
  double r = std::round(x * 1e6) / 1e6;
  if (r == std::floor(r) && std::fabs(r) < 1e15) return static_cast<std::int64_t>(r);
  return r;
}

}  // namespace

double portal_impl::cost_of(const std::string& method) const {
  auto it = limits.method_cost_s.find(method);
  return it != limits.method_cost_s.end() ? it->second : limits.default_cost_s;
}

json::object portal_impl::make_time(double start, double cost,
                                    const std::optional<operating_limiter::report>& op) const {
  json::object t;
  t["start"] = round6(start);
  t["finish"] = round6(start + cost);
  t["duration"] = seconds(cost);
  t["processing"] = seconds(cost);
  t["date_start"] = format_iso(start, data.settings.tz_offset_s);
  t["date_finish"] = format_iso(start + cost, data.settings.tz_offset_s);
  if (op) {
    if (op->reset_at) t["operating_reset_at"] = *op->reset_at;
    t["operating"] = seconds(op->operating);
  }
  return t;
}

http_response portal_impl::error_response(const rest_error& e) {
  ++stats.errors[e.code];
  http_response r;
  r.status = e.status;
  json::object body{{"error", e.code}, {"error_description", e.description}};
  if (e.argument) body["argument"] = *e.argument;
  r.body = json::serialize(body);
  return r;
}

call_outcome portal_impl::run_call(const auth_info& a, const std::string& method, json::object params,
                                   double now, bool in_batch) {
  call_outcome out;
  ++stats.calls[method];
  try {
    const method_info* info = find_method(method);
    if (!info) throw rest_error(404, "ERROR_METHOD_NOT_FOUND", "Method not found!");
    if (in_batch && (method == "batch" || !info->batchable))
      throw rest_error(405, "ERROR_BATCH_METHOD_NOT_ALLOWED", "Method is not allowed for batch usage");
    if (!scope_allows(a, info->scopes))
      throw rest_error(limits.auth_error_status, "insufficient_scope",
                       "The request requires higher privileges than provided by the webhook token");
    // Which operating-time key this call is charged to: batch itself is exempt unless sub-calls are
    // charged to it (charge_subcalls == false), and then its sub-calls are not charged at all.
    bool charged = limits.operating_enabled &&
                   (method == "batch" ? !limits.charge_subcalls : (!in_batch || limits.charge_subcalls));
    std::string key = a.key + "|" + method;
    if (charged && operating.blocked(key, limits.operating_limit_s, now))
      throw rest_error(429, "OPERATION_TIME_LIMIT", "Method is blocked due to operation time limit.");

    call_context ctx{data, stats, limits, now, a.user_id, a.admin, method, std::move(params)};
    ctx.caller_webhook = a.key.rfind("webhook:", 0) == 0;
    call_result res;
    double cost = cost_of(method);
    if (method == "batch") {
      double sub_cost = 0;
      auto runner = [&](const std::string& m, json::object p, double at) {
        return run_call(a, m, std::move(p), at, true);
      };
      res = run_batch(ctx.params, limits, now + cost, runner, sub_cost);
      cost += sub_cost;
    } else if (method == "scope") {
      json::array s;
      bool full = false;
      if (auto* f = get_ci(ctx.params, "full")) full = php_truthy(*f);
      for (auto& x : (full || a.scopes.empty()) ? all_scopes() : a.scopes) s.emplace_back(x);
      res.result = std::move(s);
    } else if (method == "methods") {
      json::array s;
      for (auto& x : method_names()) s.emplace_back(x);
      res.result = std::move(s);
    } else {
      res = info->fn(ctx);
    }
    std::optional<operating_limiter::report> op;
    if (limits.operating_enabled) {
      op = charged ? operating.charge(key, cost, limits.free_below_s, now) : operating.peek(key, now);
    }
    out.time = make_time(now, cost, op);
    out.cost_s = cost;
    out.ok = std::move(res);
  } catch (const rest_error& e) {
    if (in_batch) ++stats.errors[e.code];
    out.error = e;
  }
  return out;
}

handled portal_impl::handle_rest(const http_request& req, std::string_view path, std::string_view query,
                                 double now) {
  handled h;
  // Segments after "/rest/", empty ones (trailing slash) dropped.
  std::vector<std::string> segs;
  for (std::size_t pos = 0; pos <= path.size();) {
    auto slash = path.find('/', pos);
    auto seg = path.substr(pos, slash == std::string_view::npos ? std::string_view::npos : slash - pos);
    if (!seg.empty()) segs.push_back(url_decode(seg, false));
    if (slash == std::string_view::npos) break;
    pos = slash + 1;
  }
  std::string method;
  bool is_webhook = false;
  if (segs.size() == 3) {
    is_webhook = true;
    method = segs[2];
  } else if (segs.size() == 1) {
    method = segs[0];
  }
  method = ascii_lower(method);
  for (const char* suffix : {".json", ".xml"}) {
    std::string_view sv(suffix);
    if (method.size() > sv.size() && method.compare(method.size() - sv.size(), sv.size(), sv) == 0)
      method.resize(method.size() - sv.size());
  }
  h.rest_method = method;
  try {
    if (limits.rate_enabled) {
      bool ok = bucket.try_acquire(limits.rate_per_s, limits.burst, now);
      stats.max_bucket_level = std::max(stats.max_bucket_level, bucket.max_level());
      if (!ok) throw rest_error(503, "QUERY_LIMIT_EXCEEDED", "Too many requests");
    }
    if (method.empty()) throw rest_error(404, "ERROR_METHOD_NOT_FOUND", "Method not found!");
    auto params = request_params(query, req.content_type, req.body);
    auth_info a = is_webhook ? authenticate_webhook(data, limits, segs[0], segs[1], req.tls, now)
                             : authenticate_token(data, limits, params, req.authorization, now);
    auto outcome = run_call(a, method, std::move(params), now, false);
    if (outcome.error) throw *outcome.error;
    json::object body;
    body["result"] = std::move(outcome.ok->result);
    if (outcome.ok->next) body["next"] = *outcome.ok->next;
    if (outcome.ok->total) body["total"] = *outcome.ok->total;
    body["time"] = std::move(outcome.time);
    h.response.body = json::serialize(body);
    h.cost_s = outcome.cost_s;
  } catch (const rest_error& e) {
    h.response = error_response(e);
  }
  return h;
}

handled portal_impl::handle(const http_request& req, double now) {
  ++stats.http_requests;
  std::string_view target = req.target;
  auto q = target.find('?');
  std::string_view path = target.substr(0, q);
  std::string_view query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  if (path.starts_with("/rest/")) return handle_rest(req, path.substr(6), query, now);
  handled h;
  if (path == "/oauth/token" || path == "/oauth/token/") {
    auto params = request_params(query, req.content_type, req.body);
    h.response = oauth_token(data, params, now);
    return h;
  }
  h.response.status = 404;
  h.response.body = R"({"error":"NOT_FOUND","error_description":"Not found"})";
  return h;
}

// ---- public facade ----

portal::portal() : impl_(std::make_unique<portal_impl>()) {}
portal::~portal() = default;

void portal::load_seed(const json::value& seed) {
  load_seed_into(impl_->data, impl_->limits, seed);
  impl_->bucket = rate_bucket();
  impl_->operating.clear();
}

limits_config& portal::limits() {
  return impl_->limits;
}

handled portal::handle(const http_request& req, double now) {
  return impl_->handle(req, now);
}

json::value portal::dump_users() const {
  return detail::dump_users(impl_->data);
}
json::value portal::dump_departments() const {
  return detail::dump_departments(impl_->data);
}
json::value portal::invitations() const {
  return impl_->data.invitations;
}
json::value portal::notifications() const {
  return impl_->data.notifications;
}

json::value portal::stats() const {
  auto& s = impl_->stats;
  json::object calls, errors;
  for (auto& [k, v] : s.calls) calls[k] = v;
  for (auto& [k, v] : s.errors) errors[k] = v;
  return json::object{{"http_requests", s.http_requests},
                      {"calls", std::move(calls)},
                      {"errors", std::move(errors)},
                      {"max_bucket_level", s.max_bucket_level},
                      {"writes", s.writes}};
}

void portal::reset_stats() {
  impl_->stats = portal_stats();
  impl_->bucket.reset_max();
}

}  // namespace b24emu
