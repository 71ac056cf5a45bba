// Unit tests: request-log redaction of webhook codes and tokens, and the JSONL line format.
#include "server/request_log.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>

using namespace b24emu;

TEST_CASE("redact_target: the webhook code is masked, uid and method kept") {
  CHECK(redact_target("/rest/1/abc123xyz/user.get.json?start=50") == "/rest/1/***/user.get.json?start=50");
  CHECK(redact_target("/rest/17/abc123xyz/batch/") == "/rest/17/***/batch/");
  CHECK(redact_target("/rest/1/abc123xyz") == "/rest/1/***");
}

TEST_CASE("redact_target: OAuth tokens and client secrets in the query are masked") {
  CHECK(redact_target("/rest/user.get?auth=tok123&start=0") == "/rest/user.get?auth=***&start=0");
  CHECK(redact_target("/rest/user.get?start=0&ACCESS_TOKEN=t") == "/rest/user.get?start=0&ACCESS_TOKEN=***");
  CHECK(redact_target("/oauth/token/?grant_type=refresh_token&client_id=app&client_secret=cs&refresh_token=rt") ==
        "/oauth/token/?grant_type=refresh_token&client_id=app&client_secret=***&refresh_token=***");
  CHECK(redact_target("/rest/x?auth%5B0%5D=t") == "/rest/x?auth%5B0%5D=***");
}

TEST_CASE("redact_target: paths without secrets are unchanged") {
  CHECK(redact_target("/rest/user.get?start=0") == "/rest/user.get?start=0");
  CHECK(redact_target("/emu/users") == "/emu/users");
  CHECK(redact_target("/rest/batch") == "/rest/batch");
  CHECK(redact_target("/rest/user.get?author=x") == "/rest/user.get?author=x");
}

TEST_CASE("request log entry: every field, status null when the connection was dropped") {
  request_log_entry e;
  e.t = 12.5;
  e.http_method = "POST";
  e.target = "/rest/1/***/batch";
  e.rest_method = "batch";
  e.fault = "close_after_apply";
  e.cost_s = 0.5;
  const auto v = to_json(e);
  CHECK(boost::json::serialize(v) ==
        R"({"t":1.25E1,"http_method":"POST","target":"/rest/1/***/batch","status":null,"rest_method":"batch","fault":"close_after_apply","cost_s":5E-1})");
  e.status = 200;
  e.fault.clear();
  const auto w = to_json(e);
  CHECK(w.at("status").as_int64() == 200);
  CHECK(w.at("fault").is_null());
}
