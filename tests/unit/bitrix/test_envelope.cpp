// Envelope parsing: success with next/total/time, error bodies, gateway pages and truncated JSON.
#include "bitrix/envelope.hpp"

#include <doctest/doctest.h>

#include <ostream>  // doctest prints std::error_code

using namespace b24sync::bitrix;

TEST_CASE("envelope: list page with next, total and full time info") {
  auto e = parse_envelope(200, R"({"result":[{"ID":"1"}],"next":50,"total":137,
      "time":{"start":1778747192.91,"finish":1778747193.53,"duration":0.62,"processing":0.03,
      "date_start":"2026-05-14T10:26:32+02:00","operating_reset_at":1778747792,"operating":3.31}})",
                          true);
  REQUIRE(e);
  CHECK(e.value->result.as_array().size() == 1);
  CHECK(e.value->next == 50);
  CHECK(e.value->total == 137);
  REQUIRE(e.value->time);
  CHECK(e.value->time->finish == doctest::Approx(1778747193.53));
  CHECK(e.value->time->duration == doctest::Approx(0.62));
  CHECK(e.value->time->operating == doctest::Approx(3.31));
  CHECK(e.value->time->operating_reset_at == doctest::Approx(1778747792));
}

TEST_CASE("envelope: time without limiter keys, last page without next") {
  auto e = parse_envelope(200, R"({"result":true,"time":{"start":10,"finish":11,"operating":0}})", false);
  REQUIRE(e);
  CHECK(e.value->result.as_bool());
  CHECK_FALSE(e.value->next);
  CHECK_FALSE(e.value->total);
  CHECK(e.value->time->operating == 0.0);
  CHECK_FALSE(e.value->time->operating_reset_at);
}

TEST_CASE("envelope: error bodies keep code, text and argument apart") {
  auto e = parse_envelope(
      400, R"({"error":"ERROR_ARGUMENT","error_description":"wrong_email","argument":""})", false);
  REQUIRE_FALSE(e);
  CHECK(e.error.kind == fault_kind::portal_error);
  CHECK(e.error.error == "ERROR_ARGUMENT");
  CHECK(e.error.description == "wrong_email");
  CHECK(e.error.http_status == 400);
  CHECK(classify(e.error) == error_class::permanent);

  auto limit = parse_envelope(
      503, R"({"error":"QUERY_LIMIT_EXCEEDED","error_description":"Too many requests"})", false);
  REQUIRE_FALSE(limit);
  CHECK(classify(limit.error) == error_class::retry_rate_limited);

  auto empty_code = parse_envelope(400, R"({"error":"","error_description":"Field name missing"})", false);
  REQUIRE_FALSE(empty_code);
  CHECK(empty_code.error.error.empty());
  CHECK(classify(empty_code.error) == error_class::permanent);

  auto ok_200_error = parse_envelope(200, R"({"error":"expired_token"})", true);
  REQUIRE_FALSE(ok_200_error);
  CHECK(classify(ok_200_error.error) == error_class::auth_refresh);
}

TEST_CASE("envelope: HTML gateway page, empty body, truncated JSON, foreign JSON") {
  auto html = parse_envelope(502, "<html><body><h1>502 Bad Gateway</h1></body></html>", true);
  REQUIRE_FALSE(html);
  CHECK(html.error.kind == fault_kind::not_json);
  CHECK(html.error.detail.find("502 Bad Gateway") != std::string::npos);
  CHECK(classify(html.error) == error_class::retry_server);

  auto empty = parse_envelope(504, "", false);
  CHECK(empty.error.kind == fault_kind::not_json);
  CHECK(classify(empty.error) == error_class::ambiguous);

  auto cut = parse_envelope(200, R"({"result":{"result":{"c0":true},"result_err)", false);
  REQUIRE_FALSE(cut);
  CHECK(cut.error.kind == fault_kind::truncated_json);
  CHECK(classify(cut.error) == error_class::ambiguous);  // a write's answer was cut: outcome unknown

  auto cut_read = parse_envelope(200, R"([{"ID":"1"},)", true);
  CHECK(cut_read.error.kind == fault_kind::truncated_json);
  CHECK(classify(cut_read.error) == error_class::retry_server);

  auto foreign = parse_envelope(200, R"({"status":"ok"})", true);
  CHECK(foreign.error.kind == fault_kind::malformed_envelope);

  auto status_only = parse_envelope(500, R"({"result":null})", true);
  CHECK(status_only.error.kind == fault_kind::http_status);
  CHECK(classify(status_only.error) == error_class::retry_server);
}

TEST_CASE("envelope: lenient numbers") {
  CHECK(json_to_int(boost::json::value("50")) == 50);
  CHECK(json_to_int(boost::json::value(50.0)) == 50);
  CHECK_FALSE(json_to_int(boost::json::value(50.5)));
  CHECK_FALSE(json_to_int(boost::json::value("5x")));
  CHECK(json_to_double(boost::json::value("1.25")) == doctest::Approx(1.25));
  CHECK_FALSE(json_to_double(boost::json::value(nullptr)));
  CHECK_FALSE(parse_time_info(boost::json::value("x")));
}
