// batch: command forms, references, halt, the 50-command cap, nesting, and operating time crossed part-way.
#include "core/batch.hpp"
#include "emu_fixture.hpp"

using namespace emu_test;

TEST_CASE("batch with an object cmd returns result maps keyed by name; empty maps are []") {
  portal_fixture f;
  auto r = f.call("batch", {{"halt", 0},
                            {"cmd",
                             {{"a", "user.get?FILTER[UF_DEPARTMENT]=2"},
                              {"b", "user.current"},
                              {"c", "user.get?start=-1&FILTER[>ID]=1"}}}});
  REQUIRE(r.status == 200);
  auto& res = r.result().as_object();
  CHECK(ids_of(res.at("result").at("a")) == std::vector<int>{4, 7});
  CHECK(res.at("result").at("b").at("ID") == "1");
  CHECK(res.at("result_error") == json::array());
  CHECK(res.at("result_total") == json::object{{"a", 2}, {"c", 0}});
  CHECK(res.at("result_next") == json::array());
  CHECK(res.at("result_time").as_object().size() == 3);
  CHECK(res.at("result_time").at("a").as_object().contains("date_start"));
  CHECK(r.obj().contains("time"));
}

TEST_CASE("batch with an array cmd returns lists; an error in the middle makes result an object") {
  portal_fixture f;
  auto r = f.call("batch", {{"cmd", json::array{"user.current", "no.such.method", "user.admin"}}});
  auto& res = r.result().as_object();
  CHECK(res.at("result") == json::object{{"0", res.at("result").at("0")}, {"2", true}});
  CHECK(res.at("result_error").at("1").at("error") == "ERROR_METHOD_NOT_FOUND");
  auto ok = f.call("batch", {{"cmd", json::array{"user.admin", "user.admin"}}});
  CHECK(ok.result().at("result") == json::array{true, true});
}

TEST_CASE("batch substitutes $result references; a whole-value reference keeps the type") {
  portal_fixture f;
  auto r = f.call("batch", {{"cmd",
                             {{"find", "user.get?FILTER[%3DEMAIL]=john_doe@example.com"},
                              {"same", "user.get?FILTER[ID]=$result[find][0][ID]"},
                              {"deps", "user.get?FILTER[UF_DEPARTMENT]=$result[find][0][UF_DEPARTMENT]"},
                              {"text", "user.get?FILTER[%3DXML_ID]=hr-$result[find][0][ID]"},
                              {"raw_eq", "user.get?FILTER[=EMAIL]=john_doe@example.com"}}}});
  auto& res = r.result().at("result");
  CHECK(ids_of(res.at("same")) == std::vector<int>{2});
  CHECK(ids_of(res.at("deps")) == std::vector<int>{2});
  CHECK(ids_of(res.at("text")) == std::vector<int>{2});  // "hr-" + "2"
  // an unencoded '=' in a key splits the pair early (PHP parse_str): the filter is lost, everyone returns
  CHECK(ids_of(res.at("raw_eq")) == std::vector<int>{1, 2, 3, 4, 7});
}

TEST_CASE("batch: a reference past a short page resolves to the whole list, i.e. >ID=1 (trap 6)") {
  portal_fixture f;
  auto r = f.call("batch", {{"cmd",
                             {{"p0", "user.get?start=-1&FILTER[>ID]=0"},
                              {"p1", "user.get?start=-1&FILTER[>ID]=$result[p0][49][ID]"}}}});
  auto& res = r.result().at("result");
  CHECK(ids_of(res.at("p0")) == std::vector<int>{1, 2, 3, 4, 7});
  CHECK(ids_of(res.at("p1")) == std::vector<int>{2, 3, 4, 7});
}

TEST_CASE("resolve_references walks what exists and leaves unknown maps alone") {
  using b24emu::detail::resolve_references;
  json::object maps{{"result", {{"a", json::array{json::object{{"ID", "5"}}}}}}, {"next", {{"a", 50}}}};
  struct row {
    const char* in;
    const char* out;
  };
  const row rows[] = {
      {R"("$result[a][0][ID]")", R"("5")"},
      {R"("$result[a][0]")", R"({"ID":"5"})"},
      {R"("$result[a][7][ID]")", R"([{"ID":"5"}])"},  // stops at the deepest found level
      {R"("$next[a]")", "50"},
      {R"("x$next[a]y")", R"("x50y")"},
      {R"("x$result[a]y")", R"("x$result[a]y")"},  // embedded non-scalar: left as is
      {R"("$foo[a]")", R"("$foo[a]")"},
      {R"({"k":["$result[a][0][ID]"]})", R"({"k":["5"]})"},
  };
  for (auto& r : rows) {
    CAPTURE(r.in);
    auto v = json::parse(r.in);
    resolve_references(v, maps);
    CHECK(json::serialize(v) == json::serialize(json::parse(r.out)));
  }
}

TEST_CASE("batch halt=1 stops after the first failed command; halt=0 runs everything") {
  portal_fixture f;
  json::object cmd{{"a", "user.current"}, {"b", "user.update?ID=0"}, {"c", "user.admin"}};
  auto halted = f.call("batch", {{"halt", 1}, {"cmd", cmd}}).result();
  CHECK(halted.at("result").as_object().size() == 1);
  CHECK(halted.at("result_error").at("b").at("error_description") == "access_denied");
  CHECK_FALSE(halted.at("result").as_object().contains("c"));
  auto all = f.call("batch", {{"halt", "0"}, {"cmd", cmd}}).result();
  CHECK(all.at("result").as_object().size() == 2);
  CHECK(all.at("result").at("c") == true);
  auto upper =
      f.call("batch", {{"HALT", true}, {"CMD", cmd}}).result();  // top-level keys are case-insensitive
  CHECK(upper.at("result").as_object().size() == 1);
}

TEST_CASE("batch over 50 commands: each extra one gets ERROR_BATCH_LENGTH_EXCEEDED, or a whole 400") {
  portal_fixture f;
  json::object cmd;
  for (int i = 0; i < 52; ++i) cmd["c" + std::to_string(i)] = "user.admin";
  auto r = f.call("batch", {{"cmd", cmd}});
  REQUIRE(r.status == 200);
  CHECK(r.result().at("result").as_object().size() == 50);
  CHECK(r.result().at("result_error").at("c50").at("error") == "ERROR_BATCH_LENGTH_EXCEEDED");
  CHECK(r.result().at("result_error").at("c51").at("error_description") == "Max batch length exceeded");
  f.portal.limits().batch_overflow_400 = true;
  r = f.call("batch", {{"cmd", cmd}});
  CHECK(r.status == 400);
  CHECK(r.error() == "ERROR_BATCH_LENGTH_EXCEEDED");
  cmd.erase("c51");
  cmd.erase("c50");
  CHECK(f.call("batch", {{"cmd", cmd}}).status == 200);
}

TEST_CASE("batch refuses a nested batch and counts sub-calls in stats") {
  portal_fixture f;
  auto r = f.call("batch", {{"cmd", {{"inner", "batch?cmd[x]=user.admin"}, {"u", "USER.Admin"}}}});
  CHECK(r.result().at("result_error").at("inner").at("error") == "ERROR_BATCH_METHOD_NOT_ALLOWED");
  CHECK(r.result().at("result").at("u") == true);
  auto s = f.portal.stats().as_object();
  CHECK(s.at("calls").at("batch") == 2);  // the outer one and the refused inner one
  CHECK(s.at("calls").at("user.admin") == 1);
  CHECK(s.at("errors").at("ERROR_BATCH_METHOD_NOT_ALLOWED") == 1);
  CHECK(s.at("http_requests") == 1);
}

TEST_CASE("batch crossing the operating limit part-way: the rest get OPERATION_TIME_LIMIT, none dropped") {
  portal_fixture f;
  auto& l = f.portal.limits();
  l.operating_limit_s = 10;
  l.method_cost_s["user.add"] = 3;
  json::array cmd;
  for (int i = 0; i < 6; ++i)
    cmd.push_back(json::string("user.add?EMAIL=n" + std::to_string(i) + "@example.com&UF_DEPARTMENT[]=2"));
  auto r = f.call("batch", {{"cmd", cmd}});
  REQUIRE(r.status == 200);
  auto& res = r.result().as_object();
  // stored before each add: 0, 3, 6, 9 (<= 10: runs), 12 (> 10: refused), 12
  CHECK(res.at("result") == json::array{8, 9, 10, 11});
  CHECK(res.at("result_error").at("4").at("error") == "OPERATION_TIME_LIMIT");
  CHECK(res.at("result_error").at("5").at("error") == "OPERATION_TIME_LIMIT");
  CHECK(res.at("result_time").at(3).at("operating").to_number<double>() == doctest::Approx(12));
  CHECK(r.cost_s == doctest::Approx(12));
  CHECK(r.obj().at("time").at("duration").to_number<double>() == doctest::Approx(12));
  CHECK(f.portal.dump_users().as_array().size() == 11);
  // the batch itself is exempt; a direct call is refused too
  CHECK(f.call("user.add", {{"EMAIL", "z@example.com"}, {"UF_DEPARTMENT", 2}}).status == 429);
}

TEST_CASE("batch with charge_subcalls off charges the batch method instead of its commands") {
  portal_fixture f;
  auto& l = f.portal.limits();
  l.operating_limit_s = 10;
  l.charge_subcalls = false;
  l.method_cost_s["user.add"] = 3;
  json::array cmd;
  for (int i = 0; i < 6; ++i)
    cmd.push_back(json::string("user.add?EMAIL=n" + std::to_string(i) + "@example.com&UF_DEPARTMENT[]=2"));
  auto r = f.call("batch", {{"cmd", cmd}});
  CHECK(r.result().at("result").as_array().size() == 6);
  CHECK(r.obj().at("time").at("operating").to_number<double>() == doctest::Approx(18));
  CHECK(f.call("batch", {{"cmd", json::array{"user.admin"}}}).status == 429);
  CHECK(f.call("user.add", {{"EMAIL", "z@example.com"}, {"UF_DEPARTMENT", 2}}).status == 200);
}
