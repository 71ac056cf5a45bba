// user.get / department.get rows -> typed structs, and calendar dates from offset date-times (trap 8).
#include "bitrix/errors.hpp"
#include "bitrix/user_fields.hpp"

#include <doctest/doctest.h>
#include <boost/json/parse.hpp>

#include <ostream>  // doctest prints std::error_code

namespace json = boost::json;
using namespace b24sync::bitrix;
using namespace std::chrono;

TEST_CASE("user_fields: a full user.get row") {
  auto row =
      json::parse(R"({"ID":"17","ACTIVE":false,"EMAIL":"anna@corp.ru","NAME":"Анна","LAST_NAME":"Петрова",
      "SECOND_NAME":"","XML_ID":"HR-17","WORK_POSITION":"Engineer","PERSONAL_MOBILE":"+7 999 000-00-00",
      "WORK_PHONE":"123","UF_PHONE_INNER":"55","PERSONAL_BIRTHDAY":"1990-02-28T03:00:00+03:00",
      "UF_DEPARTMENT":[5,3,5],"USER_TYPE":"employee","UF_USR_HR_ID":"HR-17","UF_USR_LIST":[1,2],
      "TIMESTAMP_X":{},"IS_ONLINE":"N"})")
          .as_object();
  std::error_code ec;
  auto u = user_from_json(row, ec);
  REQUIRE(u);
  CHECK_FALSE(ec);
  CHECK(u->id == user_id{17});
  CHECK_FALSE(u->active);
  CHECK(u->email() == "anna@corp.ru");
  CHECK(u->name() == "Анна");
  CHECK(u->xml_id() == "HR-17");
  CHECK(u->personal_mobile() == "+7 999 000-00-00");
  CHECK(u->personal_phone().empty());  // absent reads as empty
  CHECK(u->phone_inner() == "55");
  CHECK(u->personal_birthday == year_month_day{year{1990}, February, day{28}});
  CHECK(u->departments == std::vector<department_id>{department_id{3}, department_id{5}});
  CHECK(u->type == user_type::employee);
  CHECK(u->uf.size() == 2);
  CHECK(u->uf.at("UF_USR_HR_ID").as_string() == "HR-17");
  CHECK(u->last_name() == "Петрова");
  CHECK(u->second_name().empty());
  CHECK(u->work_position() == "Engineer");
  CHECK(u->work_phone() == "123");
}

TEST_CASE("user_fields: a text field given twice, as a number or as null") {
  // The reader gathers a row's texts and commits them at the end: the last value of a key wins,
  // numbers read as text, null clears.
  portal_user u;
  user_row_reader r(u);
  r.on_string("ID", "9");
  r.on_string("EMAIL", "old@corp.ru");
  r.on_string("NAME", "Анна");
  r.on_int64("WORK_PHONE", 4951234567);
  r.on_string("EMAIL", "new@corp.ru");
  r.on_string("XML_ID", "X");
  r.on_null("XML_ID");
  REQUIRE_FALSE(r.finish());
  CHECK(u.email() == "new@corp.ru");
  CHECK(u.name() == "Анна");
  CHECK(u.work_phone() == "4951234567");
  CHECK(u.xml_id().empty());
  CHECK(u.last_name().empty());
}

TEST_CASE("portal_user: text fields in one block — set, copy, compare") {
  portal_user a;
  CHECK(a.texts.heap_bytes() == 0);  // nothing set: no block
  CHECK(a.email().empty());
  a.set(user_text::email, "anna@corp.ru");
  a.set(user_text::phone_inner, "55");
  a.set(user_text::name, "Анна");
  CHECK(a.email() == "anna@corp.ru");
  CHECK(a.phone_inner() == "55");
  CHECK(a.name() == "Анна");
  CHECK(a.texts.heap_bytes() == 10 + 12 + 2 + 8);  // a length byte per field, then the text
  portal_user b = a;
  CHECK(b == a);
  b.set(user_text::name, "Мария");
  CHECK_FALSE(b == a);
  CHECK(a.name() == "Анна");  // a deep copy
  b.set(user_text::name, "Анна");
  CHECK(b == a);
  b.set(user_text::email, "");
  b.set(user_text::phone_inner, "");
  b.set(user_text::name, "");
  CHECK(b.texts.heap_bytes() == 0);  // all empty again: no block, equal to a fresh user's
  CHECK(b.texts == portal_user{}.texts);

  const std::string long_text(300, 'x');  // a two-byte length
  a.set(user_text::work_position, long_text);
  CHECK(a.work_position() == long_text);
  CHECK(a.phone_inner() == "55");  // fields after a long one are found
  std::vector<std::string> walked;
  a.texts.each([&](std::string_view t) { walked.emplace_back(t); });
  REQUIRE(walked.size() == user_text_count);
  CHECK(walked[static_cast<std::size_t>(user_text::work_position)] == long_text);
  CHECK(walked[static_cast<std::size_t>(user_text::phone_inner)] == "55");
  CHECK(walked[static_cast<std::size_t>(user_text::xml_id)].empty());
  portal_user moved = std::move(a);
  CHECK(moved.work_position() == long_text);
}

TEST_CASE("user_fields: lenient values and a missing ID") {
  std::error_code ec;
  auto u = user_from_json(
      json::parse(R"({"ID":9,"ACTIVE":"Y","UF_DEPARTMENT":"4","PERSONAL_BIRTHDAY":""})").as_object(), ec);
  REQUIRE(u);
  CHECK(u->active);
  CHECK(u->departments == std::vector<department_id>{department_id{4}});
  CHECK_FALSE(u->personal_birthday);
  CHECK(u->type == user_type::unknown);
  CHECK_FALSE(user_from_json(json::parse(R"({"NAME":"x"})").as_object(), ec));
  CHECK(ec == errc::malformed_envelope);
  CHECK_FALSE(user_from_json(json::parse(R"({"ID":"abc"})").as_object(), ec));
}

TEST_CASE("user_fields: department rows, root without PARENT, UF_HEAD absent") {
  std::error_code ec;
  auto root = department_from_json(json::parse(R"({"ID":"1","NAME":"Corp","SORT":500})").as_object(), ec);
  REQUIRE(root);
  CHECK_FALSE(root->parent);
  CHECK_FALSE(root->head);
  auto child = department_from_json(
      json::parse(R"({"ID":"2","NAME":"IT","SORT":"100","PARENT":"1","UF_HEAD":"7"})").as_object(), ec);
  REQUIRE(child);
  CHECK(child->parent == department_id{1});
  CHECK(child->head == user_id{7});
  CHECK(child->sort == 100);
  CHECK_FALSE(department_from_json(json::parse(R"({"NAME":"x"})").as_object(), ec));
}

TEST_CASE("user_fields: portal dates map back to the calendar date, any offset sign") {
  const year_month_day aug24{year{2024}, August, day{24}};
  struct row {
    const char* text;
    bool ok;
  };
  const row same_day[] = {
      {"2024-08-24T03:00:00+03:00", true},  // UTC midnight shown at +03:00
      {"2024-08-23T19:00:00-05:00", true},  // UTC midnight shown at -05:00 (the previous local day)
      {"2024-08-23T12:00:00-12:00", true},
      {"2024-08-24T14:00:00+14:00", true},
      {"2024-08-24T05:30:00+05:30", true},
      {"2024-08-23T20:30:00-0330", true},
      {"2024-08-24T00:00:00Z", true},
      {"2024-08-24T00:00:00+03:00", true},  // local midnight form
      {"2024-08-24T00:00:00-05:00", true},
      {"2024-08-24", true},
      {"24.08.2024", true},
      {"24.08.2024 00:00:00", true},
  };
  for (const auto& r : same_day) {
    CAPTURE(r.text);
    CHECK(parse_portal_date(r.text) == aug24);
  }
  CHECK(parse_portal_date("2024-02-29T00:00:00-08:00") == year_month_day{year{2024}, February, day{29}});
  CHECK(parse_portal_date("2023-12-31T16:00:00-08:00") == year_month_day{year{2024}, January, day{1}});
  for (const char* bad : {"", "2024-13-01", "2024-02-30", "31.02.2024", "2024-08-24T25:00:00+03:00",
                          "2024-08-24T03:00:00+3", "yesterday", "2024-08-24Tfoo"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_portal_date(bad));
  }
  CHECK(format_portal_date(year_month_day{year{1990}, February, day{3}}) == "1990-02-03");
}

TEST_CASE("user_fields: flags and ids") {
  CHECK(yes_no(true) == "Y");
  CHECK(yes_no(false) == "N");
  CHECK(json_to_id(json::value("12")) == 12);
  CHECK_FALSE(json_to_id(json::value(0)));
  CHECK_FALSE(json_to_id(json::value("-3")));
}

TEST_CASE("user_fields: other standard fields are kept as text, volatile ones are not") {
  std::error_code ec;
  auto u = user_from_json(json::parse(R"({"ID":"3","PERSONAL_CITY":"Москва","WORK_COMPANY":"Ромашка",
      "UF_EMPLOYMENT_DATE":"2020-01-09T03:00:00+03:00","UF_SKYPE":null,"PERSONAL_GENDER":"",
      "PERSONAL_ZIP":101000,"LAST_LOGIN":"2026-11-30T10:00:00+03:00","IS_ONLINE":"N",
      "TIMESTAMP_X":{},"EMAIL":"a@b.ru","UF_USR_HR_ID":"7"})").as_object(), ec);
  REQUIRE(u);
  CHECK(u->other == decltype(u->other){
                        {"PERSONAL_CITY", "Москва"},
                        {"PERSONAL_ZIP", "101000"},
                        {"UF_EMPLOYMENT_DATE", "2020-01-09T03:00:00+03:00"},
                        {"WORK_COMPANY", "Ромашка"}});
  CHECK(u->uf.size() == 1);  // UF_USR_* stay in uf, not in other
}
