// Routing, credentials, scopes, HTTPS rule, the envelope, and the OAuth refresh endpoint.
#include "emu_fixture.hpp"

using namespace emu_test;

namespace {

b24emu::http_request request(const std::string& target, const std::string& body = {}) {
  b24emu::http_request r;
  r.method = body.empty() ? "GET" : "POST";
  r.target = target;
  r.body = body;
  if (!body.empty()) r.content_type = "application/json";
  r.tls = true;
  return r;
}

}  // namespace

TEST_CASE("webhook routes accept any method case, an optional .json and a trailing slash") {
  portal_fixture f;
  for (const char* target : {"/rest/1/s3cret/user.current", "/rest/1/s3cret/user.current.json",
                             "/rest/1/s3cret/USER.Current.json/", "/rest/1/s3cret/user.current/?x=1"}) {
    CAPTURE(target);
    auto r = f.send(request(target));
    CHECK(r.status == 200);
    CHECK(r.result().at("ID") == "1");
  }
  auto h = f.portal.handle(request("/rest/1/s3cret/User.Get.json"), t0);
  CHECK(h.rest_method == "user.get");
  CHECK(h.response.content_type == "application/json; charset=utf-8");
}

TEST_CASE("an unknown method is 404 ERROR_METHOD_NOT_FOUND with only error fields in the body") {
  portal_fixture f;
  auto r = f.send(request("/rest/1/s3cret/user.explode.json"));
  CHECK(r.status == 404);
  CHECK(r.error() == "ERROR_METHOD_NOT_FOUND");
  CHECK(r.obj().at("error_description") == "Method not found!");
  CHECK(r.obj().size() == 2);
  CHECK(f.send(request("/rest/1/s3cret/")).status == 404);
}

TEST_CASE("bad webhook credentials: INVALID_CREDENTIALS with the configured status") {
  portal_fixture f;
  for (const char* target :
       {"/rest/1/wrong/user.current", "/rest/2/s3cret/user.current", "/rest/1/old/user.current"}) {
    CAPTURE(target);
    auto r = f.send(request(target));
    CHECK(r.status == 401);
    CHECK(r.error() == "INVALID_CREDENTIALS");
  }
  f.portal.limits().auth_error_status = 403;
  CHECK(f.send(request("/rest/1/wrong/user.current")).status == 403);
}

TEST_CASE("a webhook of a dismissed user gets authorization_error (trap 9)") {
  portal_fixture f;
  auto r = f.send(request("/rest/4/gone/user.current"));
  CHECK(r.error() == "authorization_error");
  REQUIRE(f.call("user.update", {{"ID", 1}, {"ACTIVE", "N"}}).status == 200);  // the admin dismisses itself
  CHECK(f.call("user.current").error() == "authorization_error");
}

TEST_CASE("a call outside the webhook's scopes is insufficient_scope; scope lists the webhook's scopes") {
  portal_fixture f;
  CHECK(f.call("user.get", {}, "1/deptonly").error() == "insufficient_scope");
  CHECK(f.call("department.get", {}, "1/deptonly").status == 200);
  CHECK(f.call("scope", {}, "1/deptonly").result() == json::array{"department"});
  // department, im, user, user.userfield, user_basic, user_brief
  CHECK(f.call("scope", {{"full", true}}, "1/deptonly").result().as_array().size() == 6);
  auto inner = f.call("batch", {{"cmd", {{"u", "user.get"}}}}, "1/deptonly");
  CHECK(inner.result().at("result_error").at("u").at("error") == "insufficient_scope");
}

TEST_CASE("require_https rejects plain-HTTP webhook calls with INVALID_REQUEST") {
  portal_fixture f;
  f.portal.limits().require_https = true;
  auto req = request("/rest/1/s3cret/user.current");
  req.tls = false;
  auto r = f.send(req);
  CHECK(r.status == 400);
  CHECK(r.error() == "INVALID_REQUEST");
  CHECK(r.obj().at("error_description") == "Https required.");
  req.tls = true;
  CHECK(f.send(req).status == 200);
  f.portal.limits().require_https = false;
  req.tls = false;
  CHECK(f.send(req).status == 200);
}

TEST_CASE("OAuth calls take the token from auth, access_token or a Bearer header") {
  portal_fixture f;
  CHECK(f.send(request("/rest/user.current?auth=valid-token")).result().at("ID") == "1");
  CHECK(f.send(request("/rest/user.current.json", R"({"access_token":"valid-token"})")).status == 200);
  auto req = request("/rest/user.current/");
  req.authorization = "Bearer valid-token";
  CHECK(f.send(req).status == 200);
  // the auth parameter is not a filter key
  CHECK(ids_of(f.send(request("/rest/user.get?auth=valid-token")).result()).size() == 5);
  auto none = f.send(request("/rest/user.current"));
  CHECK(none.status == 401);
  CHECK(none.error() == "NO_AUTH_FOUND");
  auto unknown = f.send(request("/rest/user.current?auth=nope"));
  CHECK(unknown.status == 401);
  CHECK(unknown.error() == "invalid_token");
  f.now = t0 + 3600;
  auto expired = f.send(request("/rest/user.current?auth=valid-token"));
  CHECK(expired.status == 401);
  CHECK(expired.error() == "expired_token");
}

TEST_CASE("OAuth refresh rotates the pair; the used refresh token is invalid_grant afterwards") {
  portal_fixture f;
  f.now = t0 + 4000;  // the seeded access token has expired
  auto refresh = [&](const std::string& token, const std::string& secret = "appsecret") {
    return f.send(request("/oauth/token/?grant_type=refresh_token&client_id=local.app1&client_secret=" +
                          secret + "&refresh_token=" + token));
  };
  auto r = refresh("refresh-1");
  REQUIRE(r.status == 200);
  CHECK(r.obj().at("expires_in") == 3600);
  CHECK(r.obj().at("expires") == static_cast<std::int64_t>(t0) + 4000 + 3600);
  CHECK(r.obj().at("domain") == "oauth.bitrix.info");
  CHECK(r.obj().at("user_id") == 1);
  auto access = std::string(r.obj().at("access_token").as_string());
  auto next_refresh = std::string(r.obj().at("refresh_token").as_string());
  CHECK(access != next_refresh);
  CHECK(f.send(request("/rest/user.current?auth=" + access)).status == 200);
  auto again = refresh("refresh-1");
  CHECK(again.status == 400);
  CHECK(again.error() == "invalid_grant");
  CHECK(refresh(next_refresh, "wrong").error() == "invalid_client");
  auto second = refresh(next_refresh);
  CHECK(second.status == 200);
  CHECK(second.obj().at("access_token") != r.obj().at("access_token"));
  auto post = request("/oauth/token/");
  post.content_type = "application/x-www-form-urlencoded";
  post.body = "grant_type=password";
  CHECK(f.send(post).error() == "invalid_request");
}

TEST_CASE(
    "the success envelope carries time with start=now, finish=now+cost and dates in the portal offset") {
  portal_fixture f;
  f.portal.limits().method_cost_s["user.current"] = 0.5;
  auto r = f.call("user.current");
  auto& t = r.obj().at("time").as_object();
  CHECK(t.at("start").to_number<double>() == doctest::Approx(t0));
  CHECK(t.at("finish").to_number<double>() == doctest::Approx(t0 + 0.5));
  CHECK(t.at("processing").to_number<double>() == doctest::Approx(0.5));
  CHECK(t.at("date_start") == "2023-11-15T01:13:20+03:00");
  CHECK(r.cost_s == doctest::Approx(0.5));
  CHECK_FALSE(r.obj().contains("next"));
  CHECK_FALSE(r.obj().contains("total"));
}

TEST_CASE("stats count HTTP requests, calls and errors by code; reset_stats clears them") {
  portal_fixture f;
  f.call("user.current");
  f.send(request("/rest/1/wrong/user.current"));
  f.send(request("/nowhere"));
  auto s = f.portal.stats().as_object();
  CHECK(s.at("http_requests") == 3);
  CHECK(s.at("calls").at("user.current") == 1);
  CHECK(s.at("errors").at("INVALID_CREDENTIALS") == 1);
  f.portal.reset_stats();
  s = f.portal.stats().as_object();
  CHECK(s.at("http_requests") == 0);
  CHECK(s.at("calls") == json::object());
}
