// Bitrix24 answer envelope parsing: result/next/total/time or classified diagnostics.
#include "bitrix/envelope.hpp"

#include <boost/json/error.hpp>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <charconv>
#include <cmath>
#include <limits>

namespace b24sync::bitrix {
namespace {

namespace json = boost::json;

constexpr std::size_t excerpt_bytes = 200;

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

std::string text_of(const json::value* v) {
  if (v == nullptr || v->is_null()) return {};
  if (v->is_string()) return std::string(v->get_string());
  return json::serialize(*v);
}

diagnostics body_fault(fault_kind kind, int status, std::string_view body, bool idempotent) {
  diagnostics d;
  d.kind = kind;
  d.http_status = status;
  d.idempotent = idempotent;
  d.detail = std::string(body.substr(0, excerpt_bytes));
  return d;
}

}  // namespace

std::optional<double> json_to_double(const json::value& v) noexcept {
  switch (v.kind()) {
    case json::kind::int64:
      return static_cast<double>(v.get_int64());
    case json::kind::uint64:
      return static_cast<double>(v.get_uint64());
    case json::kind::double_:
      return std::isfinite(v.get_double()) ? std::optional(v.get_double()) : std::nullopt;
    case json::kind::string: {
      std::string_view s = v.get_string();
      double out = 0;
      auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
      if (s.empty() || ec != std::errc{} || p != s.data() + s.size() || !std::isfinite(out))
        return std::nullopt;
      return out;
    }
    default:
      return std::nullopt;
  }
}

std::optional<std::int64_t> json_to_int(const json::value& v) noexcept {
  switch (v.kind()) {
    case json::kind::int64:
      return v.get_int64();
    case json::kind::uint64:
      if (v.get_uint64() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        return std::nullopt;
      return static_cast<std::int64_t>(v.get_uint64());
    case json::kind::double_: {
      double d = v.get_double();
      if (!std::isfinite(d) || d != std::floor(d) || std::fabs(d) > 9.0e15) return std::nullopt;
      return static_cast<std::int64_t>(d);
    }
    case json::kind::string: {
      std::string_view s = v.get_string();
      std::int64_t out = 0;
      auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
      if (s.empty() || ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
      return out;
    }
    default:
      return std::nullopt;
  }
}

std::optional<time_info> parse_time_info(const json::value& v) {
  const auto* o = v.if_object();
  if (o == nullptr) return std::nullopt;
  auto num = [&](std::string_view key) -> std::optional<double> {
    const auto* f = o->if_contains(key);
    return f ? json_to_double(*f) : std::nullopt;
  };
  auto start = num("start");
  auto finish = num("finish");
  if (!start && !finish) return std::nullopt;
  time_info t;
  t.start = start.value_or(finish.value_or(0));
  t.finish = finish.value_or(t.start);
  t.duration = num("duration").value_or(t.finish - t.start);
  t.processing = num("processing").value_or(0);
  t.operating = num("operating");
  t.operating_reset_at = num("operating_reset_at");
  return t;
}

envelope parse_envelope(int http_status, std::string_view body, bool idempotent_request) {
  const std::string_view trimmed = trim(body);
  if (trimmed.empty()) return envelope_from_parsed(http_status, body, idempotent_request, {}, {});
  boost::system::error_code ec;
  // One bump-pointer arena per answer: a batch page of 50 users is thousands of small strings and
  // objects; the arena makes building and dropping them cheap (callers copy out what they keep).
  json::value doc = json::parse(trimmed, ec, json::make_shared_resource<json::monotonic_resource>());
  return envelope_from_parsed(http_status, body, idempotent_request, std::move(doc), ec);
}

envelope envelope_from_parsed(int http_status, std::string_view body, bool idempotent_request, json::value doc,
                              boost::system::error_code ec) {
  envelope out;
  const std::string_view trimmed = trim(body);
  if (trimmed.empty()) {
    out.error = body_fault(fault_kind::not_json, http_status, body, idempotent_request);
    return out;
  }
  if (ec) {
    const bool looks_json = trimmed.front() == '{' || trimmed.front() == '[';
    const bool truncated = looks_json && ec == json::error::incomplete;
    out.error = body_fault(truncated ? fault_kind::truncated_json : fault_kind::not_json, http_status, body,
                           idempotent_request);
    return out;
  }
  const auto* obj = doc.if_object();
  const json::value* err = obj ? obj->if_contains("error") : nullptr;
  if (err != nullptr && !err->is_null() &&
      !(err->is_string() && err->get_string().empty() && obj->contains("result"))) {
    diagnostics d;
    d.kind = fault_kind::portal_error;
    d.http_status = http_status;
    d.idempotent = idempotent_request;
    d.error = text_of(err);
    d.description = text_of(obj->if_contains("error_description"));
    d.argument = text_of(obj->if_contains("argument"));
    if (const auto* t = obj->if_contains("time")) {
      if (auto ti = parse_time_info(*t)) {
        d.operating = ti->operating;
        d.operating_reset_at = ti->operating_reset_at;
      }
    }
    out.error = std::move(d);
    return out;
  }
  if (http_status < 200 || http_status >= 300) {
    out.error = body_fault(fault_kind::http_status, http_status, body, idempotent_request);
    return out;
  }
  if (obj == nullptr || !obj->contains("result")) {
    out.error = body_fault(fault_kind::malformed_envelope, http_status, body, idempotent_request);
    return out;
  }
  // Constructed (not assigned) from the answer: a value keeps its arena, an assignment would copy.
  response r{json::value(std::move(doc.get_object()["result"])), {}, {}, {}};
  if (const auto* n = obj->if_contains("next")) r.next = json_to_int(*n);
  if (const auto* t = obj->if_contains("total")) r.total = json_to_int(*t);
  if (const auto* t = obj->if_contains("time")) r.time = parse_time_info(*t);
  out.value.emplace(std::move(r));
  return out;
}

}  // namespace b24sync::bitrix
