// im.message.add and im.notify.system.add: recipients, required parameters, the webhook/application
// rule, scope, and the record tests read back through portal::notifications().
#include "emu_fixture.hpp"

using namespace emu_test;

namespace {

// basic.json with a chat the webhook owner may post to and an application granted the `im` scope.
json::value im_seed() {
  auto seed = read_json("emulator/basic.json");
  seed.as_object()["portal"].as_object()["chats"] = json::array{42};
  seed.as_object()["oauth_apps"].as_array()[0].as_object()["scopes"] = json::array{"user", "im"};
  return seed;
}

// A call through the OAuth application's access token.
reply app_call(portal_fixture& f, const std::string& method, json::object params) {
  params["auth"] = "valid-token";
  b24emu::http_request req;
  req.method = "POST";
  req.target = "/rest/" + method + ".json";
  req.content_type = "application/json";
  req.body = json::serialize(params);
  req.tls = true;
  return f.send(req);
}

}  // namespace

TEST_CASE("im.message.add to a user's dialog and to a seeded chat returns message ids and records both") {
  portal_fixture f(im_seed());
  auto r =
      f.call("im.message.add",
             {{"DIALOG_ID", "2"}, {"MESSAGE", "  b24sync: hello  "}, {"SYSTEM", "Y"}, {"URL_PREVIEW", "N"}});
  REQUIRE(r.status == 200);
  CHECK(r.result().as_int64() == 1);
  auto c = f.call("im.message.add", {{"DIALOG_ID", "chat42"}, {"MESSAGE", "second"}});
  REQUIRE(c.status == 200);
  CHECK(c.result().as_int64() == 2);

  auto rec = f.portal.notifications().as_array();
  REQUIRE(rec.size() == 2);
  CHECK(rec[0].at("method").as_string() == "im.message.add");
  CHECK(rec[0].at("dialog_id").as_string() == "2");
  CHECK(rec[0].at("message").as_string() == "b24sync: hello");  // trimmed
  CHECK(rec[0].at("system").as_bool());
  CHECK_FALSE(rec[0].at("url_preview").as_bool());
  CHECK(rec[0].at("from_user_id").as_int64() == 1);
  CHECK(rec[1].at("dialog_id").as_string() == "chat42");
  CHECK_FALSE(rec[1].at("system").as_bool());
  // Messages are not directory writes.
  CHECK(f.portal.stats().at("writes").as_uint64() == 0);
}

TEST_CASE("im.message.add refuses a missing or unknown recipient and an empty message, recording nothing") {
  portal_fixture f(im_seed());
  struct bad_case {
    json::object params;
    const char* error;
  };
  const bad_case cases[] = {
      {{{"MESSAGE", "x"}}, "USER_ID_EMPTY"},
      {{{"DIALOG_ID", "0"}, {"MESSAGE", "x"}}, "USER_ID_EMPTY"},
      {{{"DIALOG_ID", "chat"}, {"MESSAGE", "x"}}, "CHAT_ID_EMPTY"},
      {{{"DIALOG_ID", "chat7"}, {"MESSAGE", "x"}}, "ACCESS_ERROR"},  // no such chat
      {{{"DIALOG_ID", "999"}, {"MESSAGE", "x"}}, "ACCESS_ERROR"},    // no such user
      {{{"DIALOG_ID", "4"}, {"MESSAGE", "x"}}, "ACCESS_ERROR"},      // dismissed user
      {{{"DIALOG_ID", "2"}, {"MESSAGE", "   "}}, "MESSAGE_EMPTY"},
      {{{"DIALOG_ID", "2"}}, "MESSAGE_EMPTY"},
  };
  for (const auto& bc : cases) {
    auto r = f.call("im.message.add", bc.params);
    INFO(json::serialize(bc.params));
    CHECK(r.status == 400);
    CHECK(r.error() == bc.error);
  }
  CHECK(f.portal.notifications().as_array().empty());
}

TEST_CASE("im.message.add needs the im scope") {
  portal_fixture f(im_seed());
  auto r = f.call("im.message.add", {{"DIALOG_ID", "1"}, {"MESSAGE", "x"}},
                  "3/plain");  // scopes: user, department
  CHECK(r.error() == "insufficient_scope");
  CHECK(f.portal.notifications().as_array().empty());
}

TEST_CASE("im.notify.system.add: WRONG_AUTH_TYPE through a webhook; accepted from an application") {
  portal_fixture f(im_seed());
  auto hook = f.call("im.notify.system.add", {{"USER_ID", 2}, {"MESSAGE", "x"}});
  CHECK(hook.status == 403);
  CHECK(hook.error() == "WRONG_AUTH_TYPE");

  auto ok = app_call(f, "im.notify.system.add", {{"USER_ID", 2}, {"MESSAGE", "b24sync: guard"}});
  REQUIRE(ok.status == 200);
  CHECK(ok.result().as_int64() == 1);
  auto rec = f.portal.notifications().as_array();
  REQUIRE(rec.size() == 1);
  CHECK(rec[0].at("method").as_string() == "im.notify.system.add");
  CHECK(rec[0].at("user_id").as_int64() == 2);
  CHECK(rec[0].at("message").as_string() == "b24sync: guard");

  CHECK(app_call(f, "im.notify.system.add", {{"MESSAGE", "x"}}).error() == "USER_ID_EMPTY");
  CHECK(app_call(f, "im.notify.system.add", {{"USER_ID", 2}, {"MESSAGE", ""}}).error() == "MESSAGE_EMPTY");
  // An unknown recipient: no notification created, `false` as the docs allow.
  auto none = app_call(f, "im.notify.system.add", {{"USER_ID", 999}, {"MESSAGE", "x"}});
  REQUIRE(none.status == 200);
  CHECK(none.result().is_bool());
  CHECK_FALSE(none.result().as_bool());
  CHECK(f.portal.notifications().as_array().size() == 1);
}

TEST_CASE("im.message.add inside a batch counts as one more call and is recorded") {
  portal_fixture f(im_seed());
  auto r = f.call("batch", {{"halt", 0}, {"cmd", {{"m", "im.message.add?DIALOG_ID=1&MESSAGE=hi"}}}});
  REQUIRE(r.status == 200);
  CHECK(r.result().at("result").at("m").as_int64() == 1);
  CHECK(f.portal.stats().at("calls").at("im.message.add").as_uint64() == 1);
  CHECK(f.portal.notifications().as_array().size() == 1);
}
