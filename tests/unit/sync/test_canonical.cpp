// Canonical comparison of portal values, and the plan's enum words.
#include "sync/canonical.hpp"
#include "sync/plan.hpp"

#include <doctest/doctest.h>

#include <boost/json/array.hpp>

using namespace b24sync;
using namespace b24sync::sync;
using namespace b24sync::sync::detail;

TEST_CASE("canonical: text compares after trim and collapsed inner spaces, case kept") {
  CHECK(same_text("Senior Engineer", "  Senior \t Engineer "));
  CHECK(same_text("", "   "));
  CHECK_FALSE(same_text("Engineer", "engineer"));
  CHECK(canonical_text("  a   b ") == "a b");
}

TEST_CASE("canonical: e-mail compares case-insensitively, Cyrillic included") {
  CHECK(same_email("anna@corp.ru", " Anna@CORP.RU"));
  CHECK(same_email("анна@почта.рф", "Анна@Почта.РФ"));
  CHECK_FALSE(same_email("anna@corp.ru", "anna@corp.com"));
}

TEST_CASE("canonical: phones as E.164 with the rule's region, unreadable ones as text") {
  CHECK(same_phone("+74951234567", "8 (495) 123-45-67", "RU"));
  CHECK(same_phone("+74951234567", "+7 495 123 45 67 доб. 15", "RU"));
  CHECK_FALSE(same_phone("+74951234567", "8 (495) 123-45-68", "RU"));
  CHECK(canonical_phone("ask  the desk", "RU") == "ask the desk");
  CHECK(same_phone("ask the desk", " ask  the desk", "RU"));
}

TEST_CASE("canonical: portal values by field code") {
  bitrix::portal_user u;
  u.set(bitrix::user_text::email, "a@b.ru");
  u.set(bitrix::user_text::phone_inner, "55");
  u.personal_birthday = std::chrono::year_month_day{std::chrono::year{1990}, std::chrono::March, std::chrono::day{1}};
  u.uf.emplace("UF_USR_NUM", 42);
  u.uf.emplace("UF_USR_FLAG", true);
  u.uf.emplace("UF_USR_LIST", boost::json::array{"x", 1, nullptr});
  u.uf.emplace("UF_USR_NULL", nullptr);
  u.uf.emplace("UF_USR_DATE", "2024-08-23T19:00:00-05:00");
  u.other.emplace("PERSONAL_CITY", "Тверь");
  std::string scratch;
  auto text = [&](std::string_view f) { return std::string{portal_text(u, slot_of(f), f, scratch)}; };
  CHECK(text("EMAIL") == "a@b.ru");
  CHECK(text("UF_PHONE_INNER") == "55");
  CHECK(text("PERSONAL_BIRTHDAY") == "1990-03-01");
  CHECK(text("UF_USR_NUM") == "42");
  CHECK(text("UF_USR_FLAG") == "Y");
  CHECK(text("UF_USR_LIST") == "x, 1");
  CHECK(text("UF_USR_NULL").empty());
  CHECK(text("UF_USR_ABSENT").empty());
  CHECK(text("PERSONAL_CITY") == "Тверь");
  CHECK(text("WORK_COMPANY").empty());
  CHECK(text("ACTIVE") == "Y");
  CHECK(portal_list(u, slot_of("UF_USR_LIST"), "UF_USR_LIST") == std::vector<std::string>{"x", "1"});
  CHECK(portal_list(u, slot_of("EMAIL"), "EMAIL") == std::vector<std::string>{"a@b.ru"});
  CHECK(portal_list(u, slot_of("UF_USR_NULL"), "UF_USR_NULL").empty());
  CHECK(portal_date(u, slot_of("UF_USR_DATE"), "UF_USR_DATE") ==
        std::chrono::year_month_day{std::chrono::year{2024}, std::chrono::August, std::chrono::day{24}});
  CHECK(portal_date(u, slot_of("PERSONAL_BIRTHDAY"), "PERSONAL_BIRTHDAY") == u.personal_birthday);
}

TEST_CASE("canonical: lower_view copies only when something needs lower-casing") {
  std::string scratch;
  std::string_view plain = "anna@corp.ru";
  CHECK(lower_view(plain, scratch).data() == plain.data());
  CHECK(lower_view("Anna@Corp.ru", scratch) == "anna@corp.ru");
  CHECK(lower_view("АННА@corp.ru", scratch) == "анна@corp.ru");
}

TEST_CASE("plan: enum words round-trip") {
  for (auto k : {op_kind::create, op_kind::update, op_kind::reactivate, op_kind::deactivate, op_kind::unchanged,
                 op_kind::skip})
    CHECK(op_kind_from_string(to_string(k)) == k);
  for (auto r : {skip_reason::none, skip_reason::protected_user, skip_reason::webhook_user, skip_reason::not_managed,
                 skip_reason::conflict, skip_reason::rejected_row, skip_reason::policy,
                 skip_reason::unknown_department, skip_reason::inactive_new})
    CHECK(skip_reason_from_string(to_string(r)) == r);
  for (auto m : {match_kind::none, match_kind::identity_field, match_kind::state, match_kind::email})
    CHECK(match_kind_from_string(to_string(m)) == m);
  CHECK(to_string(skip_reason::protected_user) == "protected");
  CHECK_FALSE(op_kind_from_string("delete"));
}
