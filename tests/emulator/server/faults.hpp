// Fault injection for the emulator: the JSON fault spec, its parser, and the seeded per-request decision.
// Pure: no sockets, no clock. The server asks decide() once per /rest request, in arrival order.
#pragma once

#include <boost/json/value.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace b24emu {

enum class fault_kind {
  http_503,           // "503": 503 QUERY_LIMIT_EXCEEDED, portal not called (unless apply)
  http_500,           // "500": 500 INTERNAL_SERVER_ERROR, portal not called (unless apply)
  bad_gateway_html,   // "502_html": 502 with an nginx-style HTML page, portal not called (unless apply)
  truncated_json,     // "truncated_json": portal called, 200-style response with the body cut in half
  latency,            // "latency": extra real-time delay before the answer; combines with the others
  close_before,       // "close_before": connection closed after reading the request; portal not called
  close_after_apply,  // "close_after_apply": portal called (the write happens), connection closed, no answer
};
inline constexpr std::size_t fault_kind_count = 7;

std::string_view to_string(fault_kind k);
std::optional<fault_kind> fault_kind_from_string(std::string_view s);

struct fault_rule {
  fault_kind kind = fault_kind::http_503;
  double p = 0.0;                          // probability per matching request, 0..1
  std::vector<std::string> methods;        // lower-cased REST methods from the URL; empty = every /rest call
  std::chrono::milliseconds latency{0};    // real (not portal) time; only for latency
  std::optional<std::uint64_t> count;      // max injections; empty = unlimited
  bool apply = false;                      // 503/500/502_html only: run the call first, then answer with the fault
};

struct fault_spec {
  std::uint64_t seed = 0;
  std::vector<fault_rule> rules;           // evaluated in order for every request
};

// Parses {"seed": 42, "rules": [{"fault": "503", "p": 0.1, "methods": ["batch"], "latency_ms": 200,
// "count": 3, "apply": false}]}. Throws std::invalid_argument naming the offending key; unknown keys are errors.
fault_spec parse_fault_spec(const boost::json::value& v);
boost::json::value to_json(const fault_spec& spec);

// What to do with one request. At most one terminal fault; latency adds up over all latency rules that fire.
struct fault_decision {
  std::optional<fault_kind> terminal;
  bool apply_first = false;                // terminal is 503/500/502_html with apply: call the portal anyway
  std::chrono::milliseconds extra_latency{0};
  bool any() const { return terminal.has_value() || extra_latency.count() > 0; }
  bool calls_portal() const;               // false for close_before and non-applied 503/500/502
};

// Seeded decisions. Every request draws exactly one number per rule, whether or not the rule matches,
// so the same seed and the same request order give the same decisions.
class fault_injector {
public:
  fault_injector() = default;
  explicit fault_injector(fault_spec spec);

  fault_decision decide(std::string_view rest_method);

  const fault_spec& spec() const { return spec_; }
  std::uint64_t injected(std::size_t rule_index) const { return fired_.at(rule_index); }

private:
  double draw();

  fault_spec spec_;
  std::mt19937_64 rng_;
  std::vector<std::uint64_t> fired_;
};

// The REST method named by a request target, lower-cased, without ".json"/".xml" or a trailing slash:
// "/rest/1/abc/User.Get.json?x=1" -> "user.get", "/rest/batch/" -> "batch". Empty if not a /rest/ path.
std::string rest_method_from_target(std::string_view target);

}  // namespace b24emu
