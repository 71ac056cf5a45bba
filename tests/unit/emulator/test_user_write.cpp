// user.add and user.update: validation, uniqueness, seat limit, invitations, dismissal, user fields.
#include "emu_fixture.hpp"

using namespace emu_test;

namespace {

json::object new_user(const std::string& email) {
  return {{"EMAIL", email}, {"NAME", "New"}, {"LAST_NAME", "Person"}, {"UF_DEPARTMENT", json::array{2}}};
}

json::object dumped(portal_fixture& f, std::int64_t id) {
  auto all = f.portal.dump_users();
  for (auto& u : all.as_array())
    if (u.at("ID") == id) return u.as_object();
  FAIL("user " << id << " not in the dump");
  return {};
}

}  // namespace

TEST_CASE("user.add creates an active user, returns an int id and records the invitation") {
  portal_fixture f;
  auto p = new_user("  new@example.com ");
  p["XML_ID"] = "hr-100";
  p["UF_USR_HR_ID"] = "E100";
  p["LOGIN"] = "ignored-login";
  p["MESSAGE_TEXT"] = "Welcome!";
  p["DATE_REGISTER"] = "2000-01-01";  // read-only: dropped
  auto r = f.call("user.add", p);
  REQUIRE(r.status == 200);
  CHECK(r.result() == 8);
  auto u = dumped(f, 8);
  CHECK(u.at("EMAIL") == "new@example.com");
  CHECK(u.at("LOGIN") == "new@example.com");
  CHECK(u.at("ACTIVE") == true);
  CHECK(u.at("UF_DEPARTMENT") == json::array{2});
  CHECK(u.at("DATE_REGISTER") == "2023-11-15T01:13:20+03:00");  // t0 in the portal's offset
  auto inv = f.portal.invitations().as_array();
  REQUIRE(inv.size() == 1);
  CHECK(inv[0].at("user_id") == 8);
  CHECK(inv[0].at("email") == "new@example.com");
  CHECK(inv[0].at("message_text") == "Welcome!");
  CHECK(ids_of(f.call("user.get", {{"FILTER", {{"=UF_USR_HR_ID", "E100"}}}}).result()) ==
        std::vector<int>{8});
  CHECK(ids_of(f.call("user.get", {{"FILTER", {{"=XML_ID", "hr-100"}}}}).result()) == std::vector<int>{8});
  CHECK(f.portal.stats().at("writes") == 1);
}

TEST_CASE("user.add rejects bad input with the portal's error codes") {
  struct row {
    const char* name;
    json::object params;
    const char* code;
    const char* description_part;
  };
  auto without_email = new_user("x@example.com");
  without_email.erase("EMAIL");
  auto without_dept = new_user("x@example.com");
  without_dept.erase("UF_DEPARTMENT");
  auto unknown_dept = new_user("x@example.com");
  unknown_dept["UF_DEPARTMENT"] = json::array{99};
  auto extranet_no_group = new_user("x@example.com");
  extranet_no_group["EXTRANET"] = "Y";
  const row rows[] = {
      {"no e-mail", without_email, "ERROR_ARGUMENT", "wrong_email"},
      {"malformed e-mail", new_user("not-an-email"), "ERROR_ARGUMENT", "wrong_email"},
      {"no department", without_dept, "ERROR_ARGUMENT", "no_extranet_field"},
      {"unknown department", unknown_dept, "ERROR_CORE", "Department 99"},
      {"extranet without group", extranet_no_group, "ERROR_ARGUMENT", "no_sonet_group_for_extranet"},
      {"duplicate e-mail, other case", new_user("MARY@example.com"), "ERROR_CORE", "already exists"},
  };
  for (auto& r : rows) {
    CAPTURE(r.name);
    portal_fixture f;
    auto reply = f.call("user.add", r.params);
    CHECK(reply.status == 400);
    CHECK(reply.error() == r.code);
    CHECK(std::string(reply.obj().at("error_description").as_string()).find(r.description_part) !=
          std::string::npos);
    CHECK(f.portal.dump_users().as_array().size() == 7);
    CHECK(f.portal.invitations().as_array().empty());
  }
  portal_fixture f;
  CHECK(f.call("user.add", without_email).obj().at("argument") == "");
}

TEST_CASE("user.add: a changed e-mail keeps the old login, so re-adding the old address fails (trap 5)") {
  portal_fixture f;
  REQUIRE(f.call("user.update", {{"ID", 2}, {"EMAIL", "john.doe@new.example.com"}}).status == 200);
  CHECK(dumped(f, 2).at("LOGIN") == "john_doe@example.com");
  auto r = f.call("user.add", new_user("john_doe@example.com"));
  CHECK(r.status == 400);
  CHECK(r.error() == "ERROR_CORE");
  CHECK(r.obj().at("error_description") == "User with login john_doe@example.com already exists.");
  // the new address is taken by user 2 now
  CHECK(f.call("user.add", new_user("john.doe@new.example.com")).error() == "ERROR_CORE");
}

TEST_CASE("user.add stops at the seat limit with user_count_exceeded") {
  portal_fixture f;
  f.portal.limits().seat_limit = 5;  // active intranet users now: 1, 2, 3, 7 (4 dismissed, 5 extranet, 6 bot)
  CHECK(f.call("user.add", new_user("a@example.com")).status == 200);
  auto r = f.call("user.add", new_user("b@example.com"));
  CHECK(r.error() == "ERROR_ARGUMENT");
  CHECK(r.obj().at("error_description") == "user_count_exceeded");
  REQUIRE(f.call("user.update", {{"ID", 3}, {"ACTIVE", "N"}}).status == 200);  // frees a seat
  CHECK(f.call("user.add", new_user("b@example.com")).status == 200);
}

TEST_CASE("user.add of an extranet user into an unknown group creates the user and still fails (trap 10)") {
  portal_fixture f;
  auto p = new_user("guest@partner.org");
  p["EXTRANET"] = "Y";
  p["SONET_GROUP_ID"] = json::array{7};
  CHECK(f.call("user.add", p).status == 200);
  CHECK(dumped(f, 8).at("USER_TYPE") == "extranet");
  p["EMAIL"] = "guest2@partner.org";
  p["SONET_GROUP_ID"] = json::array{99};
  auto r = f.call("user.add", p);
  CHECK(r.status == 400);
  CHECK(r.error() == "ERROR_NO_GROUP");
  CHECK(dumped(f, 9).at("EMAIL") == "guest2@partner.org");
}

TEST_CASE("user.add needs an admin caller") {
  portal_fixture f;
  auto r = f.call("user.add", new_user("x@example.com"), "3/plain");
  CHECK(r.error() == "ERROR_CORE");
  CHECK(r.obj().at("error_description") == "access_denied");
}

TEST_CASE("user.update dismisses and reinstates; ACTIVE follows PHP's loose == 'N' (trap 4)") {
  struct row {
    json::value active;
    bool expected;
  };
  const row rows[] = {
      {"N", false},    {"Y", true}, {true, false}, {false, true},
      {"false", true}, {"n", true}, {0, true},     {"", true},
  };
  for (auto& r : rows) {
    CAPTURE(json::serialize(r.active));
    portal_fixture f;
    auto reply = f.call("user.update", {{"ID", 4}, {"ACTIVE", r.active}});
    REQUIRE(reply.status == 200);
    CHECK(reply.result() == true);
    CHECK(dumped(f, 4).at("ACTIVE") == r.expected);
  }
}

TEST_CASE("user.update errors: ID <= 0 is access_denied, an unknown ID is ERROR_CORE") {
  portal_fixture f;
  auto r = f.call("user.update", {{"ID", 0}, {"NAME", "x"}});
  CHECK(r.status == 400);
  CHECK(r.error() == "ERROR_CORE");
  CHECK(r.obj().at("error_description") == "access_denied");
  r = f.call("user.update", {{"NAME", "x"}});
  CHECK(r.obj().at("error_description") == "access_denied");
  r = f.call("user.update", {{"ID", 999}, {"NAME", "x"}});
  CHECK(r.error() == "ERROR_CORE");
  r = f.call("user.update", {{"ID", 2}, {"EMAIL", "mary@example.com"}});
  CHECK(r.error() == "ERROR_CORE");
  CHECK(dumped(f, 2).at("EMAIL") == "john_doe@example.com");
}

TEST_CASE("user.update writes fields, wraps a scalar UF_DEPARTMENT, drops LOGIN and unknown keys") {
  portal_fixture f;
  auto r = f.call("user.update", {{"ID", 2},
                                  {"LAST_NAME", "Smith"},
                                  {"UF_DEPARTMENT", 4},
                                  {"LOGIN", "hacker"},
                                  {"UF_USR_UNKNOWN", "x"},
                                  {"PERSONAL_BIRTHDAY", "1991-02-03T00:00:00+03:00"},
                                  {"SECOND_NAME", nullptr}});
  REQUIRE(r.status == 200);
  auto u = dumped(f, 2);
  CHECK(u.at("LAST_NAME") == "Smith");
  CHECK(u.at("UF_DEPARTMENT") == json::array{4});
  CHECK(u.at("LOGIN") == "john_doe@example.com");
  CHECK_FALSE(u.contains("UF_USR_UNKNOWN"));
  CHECK(u.at("PERSONAL_BIRTHDAY") == "1991-02-03");  // the instant's date in the portal's offset
  CHECK(f.get("user.update", "ID=3&UF_DEPARTMENT[]=2&UF_DEPARTMENT[]=3").status == 200);
  CHECK(dumped(f, 3).at("UF_DEPARTMENT") == json::array{2, 3});
}

TEST_CASE("user.update by a non-admin strips ACTIVE and UF_DEPARTMENT and may edit only itself") {
  portal_fixture f;
  CHECK(f.call("user.update", {{"ID", 3}, {"ACTIVE", "N"}, {"UF_DEPARTMENT", 2}, {"NAME", "Jo"}}, "3/plain")
            .status == 200);
  auto u = dumped(f, 3);
  CHECK(u.at("ACTIVE") == true);
  CHECK(u.at("UF_DEPARTMENT") == json::array{4});
  CHECK(u.at("NAME") == "Jo");
  CHECK(f.call("user.update", {{"ID", 2}, {"NAME", "x"}}, "3/plain").obj().at("error_description") ==
        "access_denied");
}

TEST_CASE("user.userfield.add prefixes and upper-cases, refuses duplicates; the field is then usable") {
  portal_fixture f;
  auto r = f.call("user.userfield.add", {{"fields", {{"FIELD_NAME", "badge"}, {"USER_TYPE_ID", "string"}}}});
  REQUIRE(r.status == 200);
  CHECK(r.result().is_int64());
  r = f.call("user.userfield.add", {{"fields", {{"FIELD_NAME", "UF_BADGE"}, {"USER_TYPE_ID", "string"}}}});
  CHECK(r.error() == "ERROR_CORE");
  CHECK(r.obj().at("error_description") == "Field UF_USR_BADGE already exists");
  CHECK(f.call("user.userfield.add", {{"fields", {{"USER_TYPE_ID", "string"}}}}).error() == "");
  CHECK(f.call("user.userfield.add", {{"fields", {{"FIELD_NAME", "X"}}}}).error() == "ERROR_ARGUMENT");
  REQUIRE(f.call("user.update", {{"ID", 3}, {"UF_USR_BADGE", "B-17"}}).status == 200);
  auto u = f.call("user.get", {{"FILTER", {{"UF_USR_BADGE", "B-17"}}}}).result();
  CHECK(ids_of(u) == std::vector<int>{3});
  CHECK(u.as_array().at(0).at("UF_USR_BADGE") == "B-17");
  auto list = f.call("user.userfield.list");
  CHECK(list.obj().at("total") == 2);
  CHECK(list.result().as_array().at(1).at("FIELD_NAME") == "UF_USR_BADGE");
  CHECK(list.result().as_array().at(1).at("ENTITY_ID") == "USER");
  auto filtered = f.call("user.userfield.list", {{"filter", {{"FIELD_NAME", "UF_USR_HR_ID"}}}});
  CHECK(filtered.result().as_array().size() == 1);
  CHECK(
      f.call("user.userfield.add", {{"fields", {{"FIELD_NAME", "y"}, {"USER_TYPE_ID", "string"}}}}, "3/plain")
          .error() == "insufficient_scope");
}
