// user.get / user.search: filter operators and coercion, visibility, paging, ordering and the output shape.
#include "emu_fixture.hpp"

using namespace emu_test;

TEST_CASE("user.get FILTER operators select the expected users") {
  portal_fixture f;
  struct row {
    const char* filter;
    std::vector<int> ids;
  };
  const row rows[] = {
      {R"({})", {1, 2, 3, 4, 7}},                       // dismissed included, bot/extranet hidden
      {R"({"EMAIL":"john_doe@example.com"})", {2, 3}},  // bare string is LIKE: '_' matches 'X' (trap 1)
      {R"({"=EMAIL":"john_doe@example.com"})", {2}},
      {R"({"=EMAIL":"JOHN_DOE@EXAMPLE.COM"})", {2}},  // case-insensitive collation
      {R"({"LOGIN":"admin"})", {1, 2, 3, 4, 7}},      // unknown key dropped (trap 2)
      {R"({"NO_SUCH_FIELD":"x","=XML_ID":"hr-2"})", {2}},
      {R"({"ACTIVE":true})", {1, 2, 3, 7}},
      {R"({"ACTIVE":"Y"})", {1, 2, 3, 7}},
      {R"({"ACTIVE":"N"})", {4}},
      {R"({"ACTIVE":false})", {4}},
      {R"({"ACTIVE":"false"})", {1, 2, 3, 7}},  // the string "false" is truthy
      {R"({">ID":"2"})", {3, 4, 7}},
      {R"({">=ID":2,"<ID":4})", {2, 3}},
      {R"({"ID":[2,7]})", {2, 7}},
      {R"({"ID":"3abc"})", {3}},  // ID coerced with intval
      {R"({"!ID":1})", {2, 3, 4, 7}},
      {R"({"@ID":"2,3"})", {2, 3}},
      {R"({"!@ID":[2,3]})", {1, 4, 7}},
      {R"({"UF_DEPARTMENT":2})", {4, 7}},
      {R"({"UF_DEPARTMENT":[3,4]})", {2, 3}},
      {R"({"%NAME":"ohn"})", {2, 3}},
      {R"({"NAME":"J%"})", {2, 3}},
      {R"({"NAME":"Jo_n"})", {2}},
      {R"({"!NAME":"John"})", {1, 3, 4, 7}},
      {R"({"!=NAME":"john"})", {1, 3, 4, 7}},
      {R"({"!%NAME":"oh"})", {1, 4, 7}},
      {R"({"=%EMAIL":"%@example.com"})", {1, 2, 3, 4, 7}},
      {R"({"UF_USR_HR_ID":"E002"})", {2}},
      {R"({"=UF_USR_HR_ID":"E00"})", {}},
      {R"({"UF_USR_NOT_DECLARED":"E002"})", {1, 2, 3, 4, 7}},
      {R"({"LAST_NAME":"ёлкина"})", {7}},
      {R"({"XML_ID":""})", {1, 3, 4, 7}},  // empty value: field empty or absent
      {R"({"USER_TYPE":"employee"})", {1, 2, 3, 4, 7}},
      {R"({"IS_ONLINE":"Y"})", {3}},
      {R"({">PERSONAL_BIRTHDAY":"1990-01-01"})", {2}},
      {R"({"PERSONAL_BIRTHDAY":"24.08.1990"})", {2}},
      {R"({"PERSONAL_BIRTHDAY":"1990-08-24T03:00:00+03:00"})", {2}},  // a value the portal printed
      {R"({"PERSONAL_BIRTHDAY":"not a date"})", {}},
      {R"({">DATE_REGISTER":"2023-01-01"})", {7}},
      {R"({">>>ID":5})", {1, 2, 3, 4, 7}},  // 3-character prefix: not a filter
      {R"({"NAME_SEARCH":"john doe"})", {2}},
      {R"({"HAS_DEPARTAMENT":"Y"})", {1, 2, 3, 4, 7}},
  };
  for (auto& r : rows) {
    CAPTURE(r.filter);
    auto reply = f.call("user.get", {{"FILTER", json::parse(r.filter)}});
    REQUIRE(reply.status == 200);
    CHECK(ids_of(reply.result()) == r.ids);
  }
}

TEST_CASE("user.get takes filter keys from the top level when FILTER is absent, and lower-case keys") {
  portal_fixture f;
  CHECK(ids_of(f.call("user.get", {{"UF_DEPARTMENT", 2}, {"SORT", "ID"}, {"ORDER", "desc"}}).result()) ==
        std::vector<int>{7, 4});
  CHECK(ids_of(f.call("user.get", {{"filter", {{"=email", "mary@example.com"}}}}).result()) ==
        std::vector<int>{4});
  CHECK(ids_of(f.get("user.get", "FILTER%5B%3EID%5D=3&FILTER[ACTIVE]=Y").result()) == std::vector<int>{7});
}

TEST_CASE("user.get hides users without a department unless an admin passes ADMIN_MODE (trap 3)") {
  portal_fixture f;
  CHECK(ids_of(f.call("user.get", {{"ADMIN_MODE", "Y"}}).result()) == std::vector<int>{1, 2, 3, 4, 5, 7});
  CHECK(ids_of(f.call("user.get", {{"ADMIN_MODE", "true"}}).result()) == std::vector<int>{1, 2, 3, 4, 5, 7});
  CHECK(ids_of(f.call("user.get", {{"ADMIN_MODE", "0"}}).result()) == std::vector<int>{1, 2, 3, 4, 7});
  // user 3 is no admin: ADMIN_MODE has no effect
  CHECK(ids_of(f.call("user.get", {{"ADMIN_MODE", "Y"}}, "3/plain").result()) ==
        std::vector<int>{1, 2, 3, 4, 7});
}

TEST_CASE(
    "user.get returns typed fields: ID string, ACTIVE bool, UF_DEPARTMENT ints, dates with the offset") {
  portal_fixture f;
  auto u = f.call("user.get", {{"ID", 2}}).result().as_array().at(0).as_object();
  CHECK(u.at("ID") == "2");
  CHECK(u.at("ACTIVE") == true);
  CHECK(u.at("UF_DEPARTMENT") == json::array{3});
  CHECK(u.at("IS_ONLINE") == "N");
  CHECK(u.at("USER_TYPE") == "employee");
  CHECK(u.at("UF_USR_HR_ID") == "E002");
  CHECK(u.at("XML_ID") == "hr-2");
  CHECK(u.at("PERSONAL_BIRTHDAY") == "1990-08-24T03:00:00+03:00");
  CHECK_FALSE(u.contains("SECOND_NAME"));  // absent, not empty
  CHECK_FALSE(u.contains("LOGIN"));
  auto anna = f.call("user.get", {{"ID", 7}}).result().as_array().at(0).as_object();
  CHECK(anna.at("DATE_REGISTER") == "2024-01-15T10:00:00+03:00");
  auto admin = f.call("user.get", {{"ID", 1}}).result().as_array().at(0).as_object();
  CHECK(admin.at("DATE_REGISTER") == "2020-01-01T09:00:00+03:00");
  auto mary = f.call("user.get", {{"ID", 4}}).result().as_array().at(0).as_object();
  CHECK(mary.at("ACTIVE") == false);
}

TEST_CASE("user.get prints date fields shifted by a negative portal offset too") {
  auto seed = read_json("emulator/basic.json");
  seed.as_object()["portal"].as_object()["timezone_offset"] = "-05:00";
  portal_fixture f(seed);
  auto u = f.call("user.get", {{"ID", 2}}).result().as_array().at(0).as_object();
  CHECK(u.at("PERSONAL_BIRTHDAY") == "1990-08-23T19:00:00-05:00");  // midnight UTC of 24 Aug
  auto anna = f.call("user.get", {{"ID", 7}}).result().as_array().at(0).as_object();
  CHECK(anna.at("DATE_REGISTER") == "2024-01-15T10:00:00-05:00");  // seed value without offset = portal time
  auto admin = f.call("user.get", {{"ID", 1}}).result().as_array().at(0).as_object();
  CHECK(admin.at("DATE_REGISTER") == "2020-01-01T01:00:00-05:00");
  // a bare date filters as written; the printed value reads back as the day before (the trap)
  CHECK(ids_of(f.call("user.get", {{"FILTER", {{"PERSONAL_BIRTHDAY", "1990-08-24"}}}}).result()) ==
        std::vector<int>{2});
  CHECK(
      ids_of(f.call("user.get", {{"FILTER", {{"PERSONAL_BIRTHDAY", "1990-08-23T19:00:00-05:00"}}}}).result())
          .empty());
  auto t = f.call("user.current").obj().at("time").as_object();
  CHECK(std::string(t.at("date_start").as_string()).ends_with("-05:00"));
}

TEST_CASE("user.get select limits the fields, masks * and UF_* expand") {
  portal_fixture f;
  auto u =
      f.call("user.get", {{"ID", 2}, {"select", json::array{"EMAIL", "NAME"}}}).result().at(0).as_object();
  CHECK(u.size() == 3);
  CHECK(u.contains("ID"));
  CHECK(u.contains("EMAIL"));
  CHECK(u.contains("NAME"));
  u = f.call("user.get", {{"ID", 2}, {"select", json::array{"UF_*"}}}).result().at(0).as_object();
  CHECK(u.contains("UF_USR_HR_ID"));
  CHECK(u.contains("UF_DEPARTMENT"));
  CHECK_FALSE(u.contains("EMAIL"));
  u = f.call("user.get", {{"ID", 2}, {"select", json::array{"*"}}}).result().at(0).as_object();
  CHECK(u.contains("EMAIL"));
  CHECK_FALSE(u.contains("UF_USR_HR_ID"));
}

namespace {

json::value many_users(int n) {
  json::array users;
  for (int i = 1; i <= n; ++i) {
    users.push_back(json::object{{"ID", i},
                                 {"EMAIL", "u" + std::to_string(i) + "@example.com"},
                                 {"NAME", "N" + std::to_string(1000 - i)},
                                 {"IS_ADMIN", i == 1},
                                 {"UF_DEPARTMENT", json::array{1}}});
  }
  return json::object{{"departments", json::array{json::object{{"ID", 1}, {"NAME", "Root"}}}},
                      {"webhooks", json::array{json::object{{"user_id", 1}, {"secret", "s3cret"}}}},
                      {"users", std::move(users)}};
}

}  // namespace

TEST_CASE("user.get pages by exact offsets with total and next; an empty page has no total") {
  portal_fixture f(many_users(120));
  struct row {
    json::value start;
    int first_id;
    std::size_t rows;
    std::optional<std::int64_t> next;
    bool has_total;
  };
  const row rows[] = {
      {0, 1, 50, 50, true},
      {10, 11, 50, 60, true},
      {"50", 51, 50, 100, true},
      {100, 101, 20, std::nullopt, true},
      {119, 120, 1, std::nullopt, true},
      {120, 0, 0, std::nullopt, false},
      {500, 0, 0, std::nullopt, false},
      {-7, 1, 50, 50, true},
  };
  for (auto& r : rows) {
    CAPTURE(json::serialize(r.start));
    auto reply = f.call("user.get", {{"start", r.start}});
    REQUIRE(reply.status == 200);
    auto ids = ids_of(reply.result());
    CHECK(ids.size() == r.rows);
    if (!ids.empty()) CHECK(ids.front() == r.first_id);
    CHECK(reply.obj().contains("total") == r.has_total);
    if (r.has_total) CHECK(reply.obj().at("total") == 120);
    CHECK(reply.obj().contains("next") == r.next.has_value());
    if (r.next) CHECK(reply.obj().at("next") == *r.next);
  }
  CHECK(f.call("user.get", {{"start", 200}}).obj().at("result") == json::array());
}

TEST_CASE("user.get with start=-1 counts nothing: total 0, no next, and >ID pages walk the store") {
  portal_fixture f(many_users(120));
  std::vector<int> all;
  int last = 0;
  for (int page = 0; page < 5; ++page) {
    auto reply =
        f.call("user.get", {{"FILTER", {{">ID", last}}}, {"start", -1}, {"SORT", "ID"}, {"ORDER", "ASC"}});
    auto ids = ids_of(reply.result());
    CHECK_FALSE(reply.obj().contains("next"));
    if (ids.empty()) {
      CHECK_FALSE(reply.obj().contains("total"));
      break;
    }
    CHECK(reply.obj().at("total") == 0);
    all.insert(all.end(), ids.begin(), ids.end());
    last = ids.back();
  }
  CHECK(all.size() == 120);
  CHECK(std::is_sorted(all.begin(), all.end()));
  auto desc =
      f.call("user.get", {{"start", -1}, {"SORT", "ID"}, {"ORDER", "DESC"}, {"FILTER", {{"<ID", 60}}}});
  CHECK(ids_of(desc.result()).front() == 59);
}

TEST_CASE("user.get applies SORT only together with ORDER, else ID ascending") {
  portal_fixture f(many_users(60));
  // NAME is N999 for id 1 ... N940 for id 60: descending by id
  CHECK(ids_of(f.call("user.get", {{"SORT", "NAME"}, {"ORDER", "ASC"}}).result()).front() == 60);
  CHECK(ids_of(f.call("user.get", {{"SORT", "NAME"}}).result()).front() == 1);
  CHECK(ids_of(f.call("user.get", {{"ORDER", "DESC"}}).result()).front() == 1);
  auto page2 = f.call("user.get", {{"SORT", "NAME"}, {"ORDER", "ASC"}, {"start", 50}});
  CHECK(ids_of(page2.result()) == std::vector<int>{10, 9, 8, 7, 6, 5, 4, 3, 2, 1});
  CHECK(page2.obj().at("total") == 60);
}

TEST_CASE("user.search matches name prefixes and FIND across name fields") {
  portal_fixture f;
  CHECK(ids_of(f.call("user.search", {{"NAME", "Joh"}}).result()) == std::vector<int>{2, 3});
  CHECK(ids_of(f.call("user.search", {{"FIND", "Ёлк"}}).result()) == std::vector<int>{7});
  CHECK(ids_of(f.call("user.search", {{"UF_DEPARTMENT_NAME", "Бух"}}).result()) == std::vector<int>{4, 7});
  CHECK(ids_of(f.call("user.search", {{"LAST_NAME", "oe"}}).result()).empty());
}

TEST_CASE("user.current, user.admin, user.fields and profile describe the caller") {
  portal_fixture f;
  CHECK(f.call("user.current").result().at("ID") == "1");
  CHECK(f.call("user.current", {}, "3/plain").result().at("ID") == "3");
  CHECK(f.call("user.admin").result() == true);
  CHECK(f.call("user.admin", {}, "3/plain").result() == false);
  auto fields = f.call("user.fields").result().as_object();
  CHECK(fields.contains("EMAIL"));
  CHECK(fields.contains("UF_DEPARTMENT"));
  CHECK(fields.contains("UF_USR_HR_ID"));
  CHECK(f.call("profile").result().at("ADMIN") == true);
}
