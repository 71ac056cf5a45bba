// department.get/add/update/delete: tree order, exact filters, page-based paging, one root.
#include "emu_fixture.hpp"

using namespace emu_test;

TEST_CASE("department.get lists in tree order with string ids, int SORT and no PARENT on the root") {
  portal_fixture f;
  auto r = f.call("department.get");
  REQUIRE(r.status == 200);
  auto& a = r.result().as_array();
  REQUIRE(a.size() == 4);
  CHECK(ids_of(r.result()) == std::vector<int>{1, 2, 3, 4});
  CHECK(a[0].at("NAME") == "Компания");
  CHECK_FALSE(a[0].as_object().contains("PARENT"));
  CHECK_FALSE(a[0].as_object().contains("UF_HEAD"));
  CHECK(a[2].at("PARENT") == "1");
  CHECK(a[2].at("SORT") == 200);
  CHECK(a[2].at("UF_HEAD") == "2");
  CHECK(r.obj().at("total") == 4);
  CHECK_FALSE(r.obj().contains("next"));
}

TEST_CASE("department.get filters on exact upper-case keys, top-level or in FILTER") {
  portal_fixture f;
  struct row {
    json::object params;
    std::vector<int> ids;
  };
  const row rows[] = {
      {{{"PARENT", 1}}, {2, 3}},
      {{{"FILTER", {{"PARENT", "3"}}}}, {4}},
      {{{"ID", json::array{2, 4}}}, {2, 4}},
      {{{"NAME", "IT"}}, {3}},
      {{{"NAME", "it"}}, {}},
      {{{"name", "IT"}}, {1, 2, 3, 4}},  // lower-case key: not a filter
      {{{">ID", 2}}, {1, 2, 3, 4}},      // no operators
      {{{"sort", "NAME"}, {"order", "DESC"}}, {4, 1, 2, 3}},
  };
  for (auto& r : rows) {
    CAPTURE(json::serialize(r.params));
    CHECK(ids_of(f.call("department.get", r.params).result()) == r.ids);
  }
}

TEST_CASE("department.get pages by 50 and an out-of-range start returns page 1 again (trap 7)") {
  portal_fixture f;
  for (int i = 0; i < 60; ++i)
    REQUIRE(f.call("department.add", {{"NAME", "D" + std::to_string(i)}, {"PARENT", 2}}).status == 200);
  auto p1 = f.call("department.get", {{"start", 0}});
  CHECK(p1.result().as_array().size() == 50);
  CHECK(p1.obj().at("next") == 50);
  CHECK(p1.obj().at("total") == 64);
  auto p2 = f.call("department.get", {{"start", 50}});
  CHECK(p2.result().as_array().size() == 14);
  CHECK_FALSE(p2.obj().contains("next"));
  auto p2b = f.call("department.get", {{"start", 60}});  // page-based: same page as 50
  CHECK(p2b.result() == p2.result());
  auto beyond = f.call("department.get", {{"start", 100}});
  CHECK(beyond.result() == p1.result());
  CHECK(beyond.obj().at("next") == 50);
}

TEST_CASE("department.add returns an int id, requires NAME and allows only one root") {
  portal_fixture f;
  auto r = f.call("department.add", {{"NAME", "Продажи"}, {"PARENT", 1}, {"SORT", 300}, {"UF_HEAD", 3}});
  REQUIRE(r.status == 200);
  CHECK(r.result() == 5);
  auto d = f.call("department.get", {{"ID", 5}}).result().as_array().at(0);
  CHECK(d.at("NAME") == "Продажи");
  CHECK(d.at("UF_HEAD") == "3");
  CHECK(f.call("department.add", {{"PARENT", 1}}).obj().at("error_description") ==
        "Department name not provided.<br>");
  CHECK(f.call("department.add", {{"NAME", "Second root"}}).error() == "ERROR_CORE");
  CHECK(f.call("department.add", {{"NAME", "Orphan"}, {"PARENT", 99}}).error() == "ERROR_CORE");
  CHECK(f.call("department.add", {{"NAME", "x"}, {"PARENT", 1}}, "3/plain").error() == "ERROR_CORE");
}

TEST_CASE("department.update and department.delete check existence, cycles and emptiness") {
  portal_fixture f;
  CHECK(f.call("department.update", {{"ID", 99}, {"NAME", "x"}}).obj().at("error_description") ==
        "Department not found");
  CHECK(f.call("department.update", {{"ID", 4}, {"NAME", "R&D"}, {"PARENT", 2}}).result() == true);
  CHECK(f.call("department.get", {{"ID", 4}}).result().as_array().at(0).at("PARENT") == "2");
  CHECK(f.call("department.update", {{"ID", 1}, {"PARENT", 4}}).error() == "ERROR_CORE");  // cycle
  CHECK(f.call("department.update", {{"ID", 3}, {"PARENT", 0}}).error() == "ERROR_CORE");  // second root
  CHECK(f.call("department.delete", {{"ID", 1}}).error() == "ERROR_CORE");                 // has children
  CHECK(f.call("department.delete", {{"ID", 4}}).error() == "ERROR_CORE");                 // has employees
  REQUIRE(f.call("user.update", {{"ID", 3}, {"UF_DEPARTMENT", 3}}).status == 200);
  CHECK(f.call("department.delete", {{"ID", 4}}).result() == true);
  CHECK(f.call("department.get").result().as_array().size() == 3);
  CHECK(f.portal.stats().at("writes") == 3);
}
