// limits_config <-> JSON (see limits_json.hpp).
#include "server/limits_json.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <stdexcept>
#include <string>

namespace b24emu {
namespace {

[[noreturn]] void fail(const std::string& what) { throw std::invalid_argument("limits: " + what); }

double as_number(const boost::json::value& v, const std::string& key) {
  if (v.is_double()) return v.get_double();
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  fail(key + " must be a number");
}

double as_non_negative(const boost::json::value& v, const std::string& key) {
  const double d = as_number(v, key);
  if (!(d >= 0)) fail(key + " must not be negative");
  return d;
}

int as_int(const boost::json::value& v, const std::string& key) {
  if (v.is_int64() && v.get_int64() >= 0 && v.get_int64() <= 1'000'000'000) return static_cast<int>(v.get_int64());
  if (v.is_uint64() && v.get_uint64() <= 1'000'000'000) return static_cast<int>(v.get_uint64());
  fail(key + " must be a non-negative integer");
}

bool as_bool(const boost::json::value& v, const std::string& key) {
  if (!v.is_bool()) fail(key + " must be a boolean");
  return v.get_bool();
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

boost::json::value limits_to_json(const limits_config& l) {
  boost::json::object costs;
  for (const auto& [method, cost] : l.method_cost_s) costs[method] = cost;
  return boost::json::object{
      {"rate_enabled", l.rate_enabled},
      {"rate_per_s", l.rate_per_s},
      {"burst", l.burst},
      {"operating_enabled", l.operating_enabled},
      {"operating_limit_s", l.operating_limit_s},
      {"charge_subcalls", l.charge_subcalls},
      {"free_below_s", l.free_below_s},
      {"method_cost_s", std::move(costs)},
      {"default_cost_s", l.default_cost_s},
      {"batch_max", l.batch_max},
      {"batch_overflow_400", l.batch_overflow_400},
      {"seat_limit", l.seat_limit},
      {"auth_error_status", l.auth_error_status},
      {"require_https", l.require_https},
  };
}

void apply_limits_patch(limits_config& l, const boost::json::value& patch) {
  if (!patch.is_object()) fail("the update must be a JSON object");
  limits_config n = l;  // all or nothing
  for (const auto& [k, v] : patch.get_object()) {
    const std::string key(k);
    if (key == "rate_enabled") n.rate_enabled = as_bool(v, key);
    else if (key == "rate_per_s") n.rate_per_s = as_non_negative(v, key);
    else if (key == "burst") n.burst = as_non_negative(v, key);
    else if (key == "operating_enabled") n.operating_enabled = as_bool(v, key);
    else if (key == "operating_limit_s") n.operating_limit_s = as_non_negative(v, key);
    else if (key == "charge_subcalls") n.charge_subcalls = as_bool(v, key);
    else if (key == "free_below_s") n.free_below_s = as_non_negative(v, key);
    else if (key == "default_cost_s") n.default_cost_s = as_non_negative(v, key);
    else if (key == "batch_max") n.batch_max = as_int(v, key);
    else if (key == "batch_overflow_400") n.batch_overflow_400 = as_bool(v, key);
    else if (key == "seat_limit") n.seat_limit = as_int(v, key);
    else if (key == "require_https") n.require_https = as_bool(v, key);
    else if (key == "auth_error_status") {
      n.auth_error_status = as_int(v, key);
      if (n.auth_error_status < 100 || n.auth_error_status > 599) fail(key + " must be an HTTP status");
    } else if (key == "method_cost_s") {
      if (!v.is_object()) fail(key + " must be an object of method -> seconds");
      for (const auto& [method, cost] : v.get_object()) {
        const std::string m = lower(method);
        if (cost.is_null()) n.method_cost_s.erase(m);
        else n.method_cost_s[m] = as_non_negative(cost, key + "." + m);
      }
    } else {
      fail("unknown key " + key);
    }
  }
  l = std::move(n);
}

}  // namespace b24emu
