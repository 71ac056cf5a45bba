// The streaming batch reader against the DOM path: same rows, same envelope errors, same planner verdicts.
#include "bitrix/batch_stream.hpp"
#include "bitrix/errors.hpp"
#include "bitrix/snapshot_plan.hpp"

#include <doctest/doctest.h>
#include <boost/json/parse.hpp>

#include <ostream>  // doctest prints std::error_code
#include <string>
#include <vector>

namespace json = boost::json;
using namespace b24sync::bitrix;

namespace {

command user_get(std::string id) { return {std::move(id), std::string(method::user_get), {}}; }
command dept_get(std::string id) { return {std::move(id), std::string(method::department_get), {}}; }

// A batch answer whose `result` map is `results` (other maps empty), as the portal frames it.
std::string batch_body(const std::string& results, const std::string& errors = "[]") {
  return R"({"result":{"result":)" + results + R"(,"result_error":)" + errors +
         R"(,"result_total":{"u0":3},"result_next":[],"result_time":{}},"time":{"start":1700000000.5,"finish":1700000000.75}})";
}

// The rows of a DOM outcome, through user_from_json; `ec` gets the first failure, rows stop there.
std::vector<portal_user> dom_rows(const json::value& result, std::error_code& ec) {
  std::vector<portal_user> out;
  ec.clear();
  for (const auto& row : result.as_array()) {
    auto u = user_from_json(row.as_object(), ec);
    if (!u) break;
    out.push_back(std::move(*u));
  }
  return out;
}

struct both {
  std::vector<command_outcome> dom;
  std::vector<command_outcome> streamed;
};

both read_both(const std::vector<command>& sent, const std::string& body) {
  auto env = parse_envelope(200, body, true);
  auto st = parse_batch_streaming(200, body, true, sent);
  REQUIRE(env);
  REQUIRE(st.env);
  both b;
  b.dom = parse_batch_result(sent, env.value->result, env.value->time);
  b.streamed = parse_streamed_batch_result(sent, std::move(*st.env.value), std::move(st.pages));
  REQUIRE(b.dom.size() == sent.size());
  REQUIRE(b.streamed.size() == sent.size());
  return b;
}

// What the user planner says about one page 0 outcome (sent as the planner's own first command).
std::error_code planner_verdict(command_outcome o) {
  user_snapshot_planner p;
  auto cmds = p.next_request();
  REQUIRE(cmds.size() == 1);
  o.id = cmds[0].id;
  return p.on_outcomes(std::span<const command_outcome>(&o, 1));
}

}  // namespace

TEST_CASE("batch_stream: streamed rows equal user_from_json rows, odd forms included") {
  // Null, {}, "", numbers as strings and doubles, Cyrillic, \u escapes, a surrogate pair, lenient
  // ACTIVE forms, UF_DEPARTMENT as array/scalar/junk, UF_USR_* of every kind, volatile fields, and a
  // repeated key (the last one wins in both).
  const std::string rows = R"([
    {"ID":"1","ACTIVE":true,"EMAIL":"a@corp.test","NAME":"\u0410\u043d\u043d\u0430","LAST_NAME":"Петрова",
     "SECOND_NAME":null,"XML_ID":{},"WORK_POSITION":"","PERSONAL_PHONE":12345,"PERSONAL_MOBILE":"+7 (900) 000-00-00",
     "WORK_PHONE":"1.5","UF_PHONE_INNER":7.0,"PERSONAL_BIRTHDAY":"1990-02-28T03:00:00+03:00",
     "UF_DEPARTMENT":[5,"3",5,"x",[1],0,-2,7.0],"USER_TYPE":"employee","UF_USR_HR":"HR-1",
     "UF_USR_LIST":[1,"two",{"three":[3]}],"UF_USR_OBJ":{"a":null,"b":true},"UF_USR_NUM":-4,"UF_USR_NULL":null,
     "PERSONAL_CITY":"Москва","WORK_COMPANY":"Emoji \ud83d\ude00 Co","UF_EMPLOYMENT_DATE":"2020-01-01",
     "PERSONAL_ZIP":101000,"PERSONAL_WWW":1.25,"IS_ONLINE":"Y","LAST_LOGIN":"2026-12-01T10:00:00+03:00",
     "TIMESTAMP_X":{},"PERSONAL_NOTES":"","PERSONAL_FAX":null,"PERSONAL_PAGER":[],"ADMIN_NOTES":false},
    {"ID":2,"ACTIVE":"N","NAME":"tab\tquote\"back\\slash\/","UF_DEPARTMENT":"4","PERSONAL_BIRTHDAY":"28.02.1991",
     "USER_TYPE":"extranet","UF_USR_BIG":18446744073709551615},
    {"ID":3.0,"ACTIVE":1,"UF_DEPARTMENT":{},"PERSONAL_BIRTHDAY":"","USER_TYPE":"bot","NAME":"first","NAME":"second",
     "PERSONAL_CITY":"Kazan","PERSONAL_CITY":""},
    {"ID":"4","ACTIVE":0,"UF_DEPARTMENT":null,"PERSONAL_BIRTHDAY":"junk","EMAIL":"x@y.z"},
    {"ID":5,"ACTIVE":"y","UF_DEPARTMENT":[]},
    {"ID":6,"ACTIVE":"false","WORK_POSITION":"Инженер-\u043f\u0440\u043e\u0433\u0440\u0430\u043c\u043c\u0438\u0441\u0442"},
    {"ID":7,"ACTIVE":"maybe","UF_USR_EMPTY":""},
    {"ID":8,"ACTIVE":null},
    {"ID":9,"ACTIVE":{}},
    {"ID":"10","ACTIVE":"","ID":"11"}
  ])";
  const std::vector<command> sent{user_get("u0"), dept_get("d0")};
  auto b = read_both(sent, batch_body(R"({"u0":)" + rows + R"(,"d0":[{"ID":"1","NAME":"Corp"}]})"));

  REQUIRE(b.streamed[0].ok);
  REQUIRE(b.streamed[0].users);
  CHECK(b.streamed[0].result == json::value(json::array()));  // the placeholder
  CHECK(b.streamed[0].total == b.dom[0].total);
  std::error_code dom_ec;
  auto expected = dom_rows(b.dom[0].result, dom_ec);
  CHECK_FALSE(dom_ec);
  const auto& got = b.streamed[0].users->rows;
  CHECK_FALSE(b.streamed[0].users->row_error);
  CHECK_FALSE(b.streamed[0].users->not_a_list);
  REQUIRE(got.size() == expected.size());
  REQUIRE(got.size() == 10);
  for (std::size_t k = 0; k < got.size(); ++k) {
    CAPTURE(k);
    CHECK(got[k] == expected[k]);
  }
  // A few of them spelled out, so equal-but-wrong would still fail.
  CHECK(got[0].name() == "Анна");
  CHECK(got[0].other.at("WORK_COMPANY") == "Emoji \xF0\x9F\x98\x80 Co");
  CHECK(got[0].departments == std::vector<department_id>{department_id{3}, department_id{5}, department_id{7}});
  CHECK(got[0].personal_phone() == "12345");
  CHECK_FALSE(got[0].other.contains("IS_ONLINE"));
  CHECK_FALSE(got[0].other.contains("PERSONAL_NOTES"));
  CHECK(got[0].uf.at("UF_USR_LIST") == json::parse(R"([1,"two",{"three":[3]}])"));
  CHECK(got[1].name() == "tab\tquote\"back\\slash/");
  CHECK_FALSE(got[1].active);
  CHECK(got[2].id == user_id{3});
  CHECK(got[2].name() == "second");
  CHECK_FALSE(got[2].other.contains("PERSONAL_CITY"));
  CHECK(got[9].id == user_id{11});
  CHECK_FALSE(got[9].active);
  CHECK(got[6].active);  // "maybe": the lenient fallback

  // The department page is not streamed: same DOM in both.
  CHECK_FALSE(b.streamed[1].users);
  CHECK(b.streamed[1].result == b.dom[1].result);
}

TEST_CASE("batch_stream: a row without a usable ID and a non-row element fail as on the DOM path") {
  const std::vector<command> sent{user_get("u0")};
  SUBCASE("missing ID after two good rows") {
    auto b = read_both(sent, batch_body(R"({"u0":[{"ID":1},{"ID":2},{"NAME":"no id"},{"ID":4}]})"));
    REQUIRE(b.streamed[0].users);
    CHECK(b.streamed[0].users->rows.size() == 2);
    CHECK(b.streamed[0].users->row_error == errc::malformed_envelope);
    CHECK(planner_verdict(b.streamed[0]) == errc::malformed_envelope);
    CHECK(planner_verdict(b.dom[0]) == errc::malformed_envelope);
  }
  SUBCASE("ID 0 and an ID that is not a number") {
    auto b = read_both(sent, batch_body(R"({"u0":[{"ID":0}]})"));
    CHECK(planner_verdict(b.streamed[0]) == errc::malformed_envelope);
    CHECK(planner_verdict(b.dom[0]) == errc::malformed_envelope);
    b = read_both(sent, batch_body(R"({"u0":[{"ID":"7a"}]})"));
    CHECK(planner_verdict(b.streamed[0]) == errc::malformed_envelope);
  }
  SUBCASE("rows out of ID order before a failing row: the order is reported first") {
    auto b = read_both(sent, batch_body(R"({"u0":[{"ID":5},{"ID":3},{"NAME":"no id"}]})"));
    CHECK(planner_verdict(b.streamed[0]) == errc::snapshot_inconsistent);
    CHECK(planner_verdict(b.dom[0]) == errc::snapshot_inconsistent);
  }
  SUBCASE("an element that is not an object, even after a failing row") {
    auto b = read_both(sent, batch_body(R"({"u0":[{"NAME":"no id"},{"ID":2},"junk"]})"));
    REQUIRE(b.streamed[0].users);
    CHECK(b.streamed[0].users->not_a_list);
    CHECK(planner_verdict(b.streamed[0]) == errc::malformed_envelope);
    CHECK(planner_verdict(b.dom[0]) == errc::malformed_envelope);
  }
  SUBCASE("a scalar result stays in the DOM") {
    auto b = read_both(sent, batch_body(R"({"u0":"oops"})"));
    CHECK_FALSE(b.streamed[0].users);
    CHECK(b.streamed[0].result == "oops");
    CHECK(planner_verdict(b.streamed[0]) == errc::malformed_envelope);
  }
  SUBCASE("rows as an object (PHP list with gaps)") {
    auto b = read_both(sent, batch_body(R"({"u0":{"0":{"ID":1},"2":{"ID":3}}})"));
    REQUIRE(b.streamed[0].users);
    CHECK(b.streamed[0].users->rows.size() == 2);
    CHECK(planner_verdict(b.streamed[0]) == planner_verdict(b.dom[0]));
  }
}

TEST_CASE("batch_stream: entries found by id, by numeric key and by position, like parse_batch_result") {
  const std::vector<command> sent{dept_get("d0"), user_get("u1"), user_get("u2")};
  SUBCASE("numeric keys") {
    auto b = read_both(sent, batch_body(R"({"0":[{"ID":"9","NAME":"D"}],"1":[{"ID":1}],"u2":[{"ID":2}]})"));
    REQUIRE(b.streamed[1].users);
    REQUIRE(b.streamed[2].users);
    CHECK(b.streamed[1].users->rows.at(0).id == user_id{1});
    CHECK(b.streamed[2].users->rows.at(0).id == user_id{2});
    CHECK_FALSE(b.streamed[0].users);
    CHECK(b.streamed[0].result == b.dom[0].result);
  }
  SUBCASE("the result map as a JSON array") {
    auto b = read_both(sent, batch_body(R"([[{"ID":"9"}],[{"ID":1}],[{"ID":2},{"ID":3}]])"));
    REQUIRE(b.streamed[2].users);
    CHECK(b.streamed[2].users->rows.size() == 2);
    CHECK(b.streamed[1].users->rows.at(0).id == user_id{1});
    CHECK_FALSE(b.streamed[0].users);
  }
  SUBCASE("a per-command error and a command missing from the answer") {
    auto b = read_both(sent, batch_body(R"({"d0":[],"u1":[{"ID":1}]})",
                                        R"({"u1":{"error":"QUERY_LIMIT_EXCEEDED","error_description":"Too many"}})"));
    for (std::size_t k = 0; k < sent.size(); ++k) {
      CAPTURE(k);
      CHECK(b.streamed[k].ok == b.dom[k].ok);
      CHECK(b.streamed[k].error.kind == b.dom[k].error.kind);
      CHECK(b.streamed[k].error.error == b.dom[k].error.error);
      CHECK(b.streamed[k].error.description == b.dom[k].error.description);
      CHECK(classify(b.streamed[k].error) == classify(b.dom[k].error));
    }
    CHECK_FALSE(b.streamed[1].ok);
    CHECK(b.streamed[1].error.error == "QUERY_LIMIT_EXCEEDED");
    CHECK(b.streamed[2].error.kind == fault_kind::not_executed);
  }
  SUBCASE("a repeated key: the last one counts") {
    auto b = read_both(sent, batch_body(R"({"d0":[],"u1":[{"ID":1}],"u1":[{"ID":5},{"ID":6}],"u2":[]})"));
    REQUIRE(b.streamed[1].users);
    CHECK(b.streamed[1].users->rows.size() == 2);
    CHECK(b.streamed[1].users->rows.at(0).id == user_id{5});
  }
}

TEST_CASE("batch_stream: whole-answer faults are classified exactly as parse_envelope does") {
  const std::vector<command> sent{user_get("u0")};
  const std::string good = batch_body(R"({"u0":[{"ID":1,"NAME":"x"}]})");
  struct probe {
    const char* what;
    int status;
    std::string body;
  };
  const std::vector<probe> probes{
      {"empty body", 200, ""},
      {"blank body", 502, " \r\n"},
      {"gateway page", 502, "<html><body>502 Bad Gateway</body></html>"},
      {"truncated JSON", 200, good.substr(0, good.size() / 2)},
      {"truncated inside a row", 200, good.substr(0, good.find("\"NAME\"") + 3)},
      {"trailing garbage", 200, good + "xyz"},
      {"portal error envelope", 503, R"({"error":"QUERY_LIMIT_EXCEEDED","error_description":"Too many requests"})"},
      {"operating limit", 429,
       R"({"error":"OPERATION_TIME_LIMIT","error_description":"Method is blocked","time":{"start":1,"finish":2,"operating":481,"operating_reset_at":1700000600}})"},
      {"expired token", 401, R"({"error":"expired_token","error_description":"The access token provided has expired."})"},
      {"HTTP status without error", 500, R"({"result":{}})"},
      {"no result", 200, R"({"time":{"start":1,"finish":2}})"},
      {"not an object", 200, "[1,2,3]"},
      {"a scalar", 200, "42"},
      {"empty error with result", 200, R"({"error":"","result":{"result":{"u0":[{"ID":1}]}}})"},
  };
  for (const auto& p : probes) {
    CAPTURE(p.what);
    auto dom = parse_envelope(p.status, p.body, true);
    auto st = parse_batch_streaming(p.status, p.body, true, sent);
    REQUIRE(static_cast<bool>(dom) == static_cast<bool>(st.env));
    if (dom) continue;
    CHECK(st.env.error.kind == dom.error.kind);
    CHECK(st.env.error.http_status == dom.error.http_status);
    CHECK(st.env.error.error == dom.error.error);
    CHECK(st.env.error.description == dom.error.description);
    CHECK(st.env.error.argument == dom.error.argument);
    CHECK(st.env.error.detail == dom.error.detail);
    CHECK(st.env.error.operating == dom.error.operating);
    CHECK(st.env.error.operating_reset_at == dom.error.operating_reset_at);
    CHECK(st.env.error.idempotent == dom.error.idempotent);
    CHECK(st.pages.empty());
  }
  // The three body faults, named, so a shared mistake in both readers still shows.
  CHECK(parse_batch_streaming(502, "<html>", true, sent).env.error.kind == fault_kind::not_json);
  CHECK(parse_batch_streaming(200, good.substr(0, 40), true, sent).env.error.kind == fault_kind::truncated_json);
  CHECK(parse_batch_streaming(503, R"({"error":"QUERY_LIMIT_EXCEEDED"})", true, sent).env.error.kind ==
        fault_kind::portal_error);
}

TEST_CASE("batch_stream: the planner takes streamed pages as it takes DOM pages") {
  // Page 0 of a 3-user portal, then the same outcome through consume_outcomes (rows moved out).
  const std::vector<command> sent{user_get("p0")};
  auto b = read_both(sent, batch_body(R"({"p0":[{"ID":1,"NAME":"a"},{"ID":2},{"ID":3,"EMAIL":"c@d.e"}]})"));
  b.streamed[0].total = b.dom[0].total = 3;
  user_snapshot_planner dom_planner, stream_planner;
  (void)dom_planner.next_request();
  (void)stream_planner.next_request();
  CHECK_FALSE(dom_planner.on_outcomes(b.dom));
  CHECK_FALSE(stream_planner.consume_outcomes(b.streamed));
  CHECK(dom_planner.next_request().empty());
  CHECK(stream_planner.next_request().empty());
  REQUIRE(dom_planner.done());
  REQUIRE(stream_planner.done());
  auto from_dom = dom_planner.take_users();
  auto from_stream = stream_planner.take_users();
  REQUIRE(from_stream.size() == 3);
  CHECK(from_stream == from_dom);
  CHECK(from_stream[2].email() == "c@d.e");
}
