// Fault spec parsing and the seeded per-request fault decision (see faults.hpp).
#include "server/faults.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace b24emu {
namespace {

constexpr std::array<std::pair<fault_kind, std::string_view>, fault_kind_count> kind_names{{
    {fault_kind::http_503, "503"},
    {fault_kind::http_500, "500"},
    {fault_kind::bad_gateway_html, "502_html"},
    {fault_kind::truncated_json, "truncated_json"},
    {fault_kind::latency, "latency"},
    {fault_kind::close_before, "close_before"},
    {fault_kind::close_after_apply, "close_after_apply"},
}};

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

[[noreturn]] void fail(const std::string& what) { throw std::invalid_argument("fault spec: " + what); }

double number_of(const boost::json::value& v, const std::string& key) {
  if (v.is_double()) return v.get_double();
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  fail(key + " must be a number");
}

std::uint64_t count_of(const boost::json::value& v, const std::string& key) {
  if (v.is_int64() && v.get_int64() >= 0) return static_cast<std::uint64_t>(v.get_int64());
  if (v.is_uint64()) return v.get_uint64();
  fail(key + " must be a non-negative integer");
}

fault_rule parse_rule(const boost::json::value& v, std::size_t index) {
  const std::string where = "rules[" + std::to_string(index) + "]";
  if (!v.is_object()) fail(where + " must be an object");
  const auto& o = v.get_object();
  fault_rule rule;
  const auto* kind = o.if_contains("fault");
  if (kind == nullptr || !kind->is_string()) fail(where + ".fault is required (a string)");
  auto k = fault_kind_from_string(kind->get_string());
  if (!k) fail(where + ".fault: unknown fault \"" + std::string(kind->get_string()) + "\"");
  rule.kind = *k;
  bool has_latency = false;
  for (const auto& [key, value] : o) {
    const std::string name = where + "." + std::string(key);
    if (key == "fault") continue;
    if (key == "p") {
      rule.p = number_of(value, name);
      if (!(rule.p >= 0.0 && rule.p <= 1.0)) fail(name + " must be within 0..1");
    } else if (key == "methods") {
      if (!value.is_array()) fail(name + " must be an array of strings");
      for (const auto& m : value.get_array()) {
        if (!m.is_string()) fail(name + " must be an array of strings");
        rule.methods.push_back(lower(m.get_string()));
      }
    } else if (key == "latency_ms") {
      const double ms = number_of(value, name);
      if (ms < 0) fail(name + " must not be negative");
      rule.latency = std::chrono::milliseconds(static_cast<std::int64_t>(ms));
      has_latency = true;
    } else if (key == "count") {
      rule.count = count_of(value, name);
    } else if (key == "apply") {
      if (!value.is_bool()) fail(name + " must be a boolean");
      rule.apply = value.get_bool();
    } else {
      fail("unknown key " + name);
    }
  }
  if (!o.contains("p")) fail(where + ".p is required");
  if (rule.kind == fault_kind::latency && !has_latency) fail(where + ".latency_ms is required for latency");
  if (rule.kind != fault_kind::latency && has_latency) fail(where + ".latency_ms only applies to latency");
  const bool can_apply = rule.kind == fault_kind::http_503 || rule.kind == fault_kind::http_500 ||
                         rule.kind == fault_kind::bad_gateway_html;
  if (rule.apply && !can_apply) fail(where + ".apply only applies to 503, 500 and 502_html");
  return rule;
}

}  // namespace

std::string_view to_string(fault_kind k) {
  for (const auto& [kind, name] : kind_names)
    if (kind == k) return name;
  return "unknown";
}

std::optional<fault_kind> fault_kind_from_string(std::string_view s) {
  for (const auto& [kind, name] : kind_names)
    if (name == s) return kind;
  return std::nullopt;
}

bool fault_decision::calls_portal() const {
  if (!terminal) return true;
  switch (*terminal) {
    case fault_kind::close_before: return false;
    case fault_kind::http_503:
    case fault_kind::http_500:
    case fault_kind::bad_gateway_html: return apply_first;
    default: return true;
  }
}

fault_spec parse_fault_spec(const boost::json::value& v) {
  if (!v.is_object()) fail("must be a JSON object");
  fault_spec spec;
  for (const auto& [key, value] : v.get_object()) {
    if (key == "seed") {
      spec.seed = count_of(value, "seed");
    } else if (key == "rules") {
      if (!value.is_array()) fail("rules must be an array");
      std::size_t i = 0;
      for (const auto& r : value.get_array()) spec.rules.push_back(parse_rule(r, i++));
    } else {
      fail("unknown key " + std::string(key));
    }
  }
  return spec;
}

boost::json::value to_json(const fault_spec& spec) {
  boost::json::array rules;
  for (const auto& r : spec.rules) {
    boost::json::object o{{"fault", to_string(r.kind)}, {"p", r.p}};
    if (!r.methods.empty()) {
      boost::json::array m;
      for (const auto& s : r.methods) m.emplace_back(s);
      o["methods"] = std::move(m);
    }
    if (r.kind == fault_kind::latency) o["latency_ms"] = r.latency.count();
    if (r.count) o["count"] = *r.count;
    if (r.apply) o["apply"] = true;
    rules.emplace_back(std::move(o));
  }
  return boost::json::object{{"seed", spec.seed}, {"rules", std::move(rules)}};
}

fault_injector::fault_injector(fault_spec spec)
    : spec_(std::move(spec)), rng_(spec_.seed), fired_(spec_.rules.size(), 0) {}

double fault_injector::draw() {
  // 53 high bits -> [0, 1): std::mt19937_64's output is fixed by the standard, the distributions are not.
  return static_cast<double>(rng_() >> 11) * 0x1.0p-53;
}

fault_decision fault_injector::decide(std::string_view rest_method) {
  fault_decision d;
  for (std::size_t i = 0; i < spec_.rules.size(); ++i) {
    const auto& rule = spec_.rules[i];
    const double u = draw();
    const bool method_ok = rule.methods.empty() ||
                           std::find(rule.methods.begin(), rule.methods.end(), rest_method) != rule.methods.end();
    const bool budget_ok = !rule.count || fired_[i] < *rule.count;
    if (!method_ok || !budget_ok || !(u < rule.p)) continue;
    if (rule.kind == fault_kind::latency) {
      d.extra_latency += rule.latency;
    } else if (!d.terminal) {
      d.terminal = rule.kind;
      d.apply_first = rule.apply;
    } else {
      continue;  // a terminal fault is already chosen; this rule's budget stays untouched
    }
    ++fired_[i];
  }
  return d;
}

std::string rest_method_from_target(std::string_view target) {
  constexpr std::string_view prefix = "/rest/";
  if (target.substr(0, prefix.size()) != prefix) return {};
  std::string_view path = target.substr(prefix.size());
  path = path.substr(0, path.find_first_of("?#"));
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  if (const auto slash = path.rfind('/'); slash != std::string_view::npos) path = path.substr(slash + 1);
  std::string m = lower(path);
  for (std::string_view ext : {".json", ".xml"}) {
    if (m.size() > ext.size() && m.compare(m.size() - ext.size(), ext.size(), ext) == 0) {
      m.resize(m.size() - ext.size());
      break;
    }
  }
  return m;
}

}  // namespace b24emu
