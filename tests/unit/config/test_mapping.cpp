// The mapping: canonical values, typed transforms, active rules, validation, conflicts, multi-source merge.
#include <doctest/doctest.h>

#include "mapping_test_support.hpp"

using namespace b24sync::config;
using namespace b24sync::config::test;
using b24sync::connectors::source_record;
using strings = std::vector<std::string>;

TEST_CASE("one source: canonical values, origins, sorted output") {
  config c = make_config(hr_only, R"(mapping:
  fields:
    EMAIL: "{mail}"
    NAME: "{first | title}"
    LAST_NAME: "{last}"
    WORK_POSITION: "{title}"
    WORK_COMPANY: "ООО  Ромашка"
)");
  std::vector<source_record> recs = {
      rec("hr", 3,
          {{"id", " 2 "},
           {"mail", " Petr@Corp.Example"},
           {"first", "пётр"},
           {"last", "  Петров "},
           {"title", "Senior   Engineer"}}),
      rec("hr", 2,
          {{"id", "1"},
           {"mail", "anna@corp.example"},
           {"first", "анна"},
           {"last", "Иванова"},
           {"title", ""}}),
  };
  mapping_result m = map_records(c, recs, today);
  CHECK(m.rejects.empty());
  REQUIRE(m.people.size() == 2);
  CHECK(m.people[0].key == "1");
  CHECK(m.people[1].key == "2");  // the key is trimmed
  const desired_person& p = m.people[1];
  CHECK(text(p, "EMAIL") == "petr@corp.example");
  CHECK(text(p, "NAME") == "Пётр");
  CHECK(text(p, "LAST_NAME") == "Петров");
  CHECK(text(p, "WORK_POSITION") == "Senior Engineer");
  CHECK(text(p, "WORK_COMPANY") == "ООО Ромашка");
  CHECK(text(m.people[0], "WORK_POSITION").empty());  // present and empty: clears the portal's value
  CHECK(p.active);
  REQUIRE(p.origins.size() == 1);
  CHECK(p.origins[0].line == 3);
  CHECK(field_source(c, p, "EMAIL") == "hr");
  CHECK(text(p, "UF_USR_HR_ID") == "2");  // the identity field carries the HR key
  CHECK(field_source(c, p, "UF_USR_HR_ID").empty());
  CHECK(m.warnings.empty());
}

TEST_CASE("phone, date, department and multi-valued fields") {
  config c = make_config(hr_only, R"(mapping:
  fields:
    EMAIL: "{mail}"
    NAME: "{n}"
    PERSONAL_MOBILE: {from: mobile, transform: phone, region: RU}
    WORK_PHONE: {from: work, transform: phone, region: RU, on_invalid: keep}
    PERSONAL_PHONE: {from: home, transform: phone, region: RU, on_invalid: drop}
    PERSONAL_BIRTHDAY: {from: born, formats: ["%d.%m.%Y"], excel_serial: true}
    UF_EMPLOYMENT_DATE: {from: hired, on_invalid: drop}
    UF_DEPARTMENT: {from: dept, transform: department}
    UF_SKILLS: {template: "{skills | split(\";\")}", multiple: true}
)");
  auto base = [](std::string mobile, std::string born) {
    return rec("hr", 2,
               {{"id", "1"},
                {"mail", "a@corp.example"},
                {"n", "A"},
                {"mobile", mobile},
                {"work", "внутр. 123"},
                {"home", "n/a"},
                {"born", born},
                {"hired", "someday"},
                {"dept", " Компания / Продажи/ Москва "},
                {"skills", "C++; SQL;;"}});
  };
  std::vector<source_record> recs = {base("8 (916) 123-45-67", "15.03.1990")};
  mapping_result m = map_records(c, recs, today);
  REQUIRE(m.people.size() == 1);
  const desired_person& p = m.people[0];
  CHECK(text(p, "PERSONAL_MOBILE") == "+79161234567");
  CHECK(text(p, "WORK_PHONE") == "внутр. 123");  // on_invalid: keep
  CHECK(text(p, "PERSONAL_PHONE").empty());      // on_invalid: drop
  CHECK(std::get<std::chrono::year_month_day>(p.fields.at("PERSONAL_BIRTHDAY")) ==
        std::chrono::year_month_day{std::chrono::year{1990}, std::chrono::month{3}, std::chrono::day{15}});
  CHECK(text(p, "UF_EMPLOYMENT_DATE").empty());
  CHECK(std::get<department_list>(p.fields.at("UF_DEPARTMENT")) ==
        department_list{department_path{{"Компания", "Продажи", "Москва"}}});
  CHECK(std::get<string_list>(p.fields.at("UF_SKILLS")) == strings{"C++", "SQL"});

  SUBCASE("Excel serial date") {
    recs = {base("+79161234567", "32947")};
    CHECK(text(map_records(c, recs, today).people.at(0), "PERSONAL_BIRTHDAY") == "1990-03-15");
  }
  SUBCASE("an unreadable phone rejects the row by default") {
    recs = {base("12-34", "15.03.1990")};
    m = map_records(c, recs, today);
    CHECK(m.people.empty());
    CHECK(reasons(m) ==
          strings{"hr.csv:2: key 1: PERSONAL_MOBILE: \"12-34\" is not a phone number (region RU)"});
    CHECK(m.rejected_keys == strings{"1"});
  }
  SUBCASE("an unreadable date rejects the row by default") {
    recs = {base("+79161234567", "1990-15-03")};
    CHECK(reasons(map_records(c, recs, today)) ==
          strings{"hr.csv:2: key 1: PERSONAL_BIRTHDAY: \"1990-15-03\" is not a date in any of the formats"});
  }
}

TEST_CASE("active rules") {
  auto cfg = [](const std::string& active) {
    return make_config(hr_only,
                       "mapping:\n  fields: {EMAIL: \"{mail}\", NAME: \"{n}\"}\n  active: " + active + "\n");
  };
  auto person = [](const config& c, std::string attr, std::string value) {
    std::vector<source_record> recs = {
        rec("hr", 2, {{"id", "1"}, {"mail", "a@corp.example"}, {"n", "A"}, {attr, value}})};
    return map_records(c, recs, today);
  };
  struct row {
    std::string rule, attr, value;
    bool active;
  };
  const std::vector<row> rows = {
      {"{from: uac, disabled_bit: 2}", "uac", "512", true},
      {"{from: uac, disabled_bit: 2}", "uac", "514", false},
      {"{from: uac, disabled_bit: 2}", "uac", "66050", false},
      {"{from: uac, disabled_bit: 2}", "uac", "", true},
      {"{from: fired, inactive_when: nonempty}", "fired", "", true},
      {"{from: fired, inactive_when: nonempty}", "fired", "да", false},
      {"{from: fired, inactive_when: past_date}", "fired", "14.06.2024", false},
      {"{from: fired, inactive_when: past_date}", "fired", "15.06.2024", true},  // the last working day
      {"{from: fired, inactive_when: past_date}", "fired", "2024-06-16", true},
      {"{from: fired, inactive_when: past_date}", "fired", "", true},
      {"{from: status, inactive_when: equals, values: [Уволен, Terminated]}", "status", " УВОЛЕН ", false},
      {"{from: status, inactive_when: equals, values: [Уволен, Terminated]}", "status", "Работает", true},
      {"{from: status, inactive_when: not_equals, values: [Active, On Leave]}", "status", "on leave", true},
      {"{from: status, inactive_when: not_equals, values: [Active, On Leave]}", "status", "Terminated",
       false},
      {"{from: status, inactive_when: equals, values: [x]}", "other", "x",
       true},  // no such attribute: no opinion
  };
  for (const auto& r : rows) {
    CAPTURE(r.rule);
    CAPTURE(r.value);
    mapping_result m = person(cfg(r.rule), r.attr, r.value);
    REQUIRE(m.people.size() == 1);
    CHECK(m.people[0].active == r.active);
  }
  mapping_result m = person(cfg("{from: fired, inactive_when: past_date}"), "fired", "01.01.2024");
  CHECK(m.people.at(0).inactive_reason == "fired = \"01.01.2024\" (past_date)");
  CHECK(reasons(person(cfg("{from: uac, disabled_bit: 2}"), "uac", "abc")) ==
        strings{"hr.csv:2: key 1: active: uac \"abc\" is not a number"});
  CHECK(reasons(person(cfg("{from: fired, inactive_when: past_date}"), "fired", "вчера")) ==
        strings{"hr.csv:2: key 1: active: fired \"вчера\" is not a date in any of the formats"});
  // Any rule firing is enough.
  config two = cfg("[{from: a, inactive_when: nonempty}, {from: b, inactive_when: nonempty}]");
  std::vector<source_record> recs = {
      rec("hr", 2, {{"id", "1"}, {"mail", "a@corp.example"}, {"n", "A"}, {"a", ""}, {"b", "x"}})};
  CHECK_FALSE(map_records(two, recs, today).people.at(0).active);
}

TEST_CASE("validation of required fields, e-mail syntax and lengths") {
  config c = make_config(hr_only, R"(mapping:
  fields:
    EMAIL: "{mail}"
    NAME: "{n}"
    LAST_NAME: "{l}"
    WORK_POSITION: {from: t, max_length: 10}
  active: {from: gone, inactive_when: nonempty}
)");
  auto one = [&](std::string mail, std::string n, std::string l, std::string t, std::string gone = "") {
    std::vector<source_record> recs = {
        rec("hr", 7, {{"id", "9"}, {"mail", mail}, {"n", n}, {"l", l}, {"t", t}, {"gone", gone}})};
    return map_records(c, recs, today);
  };
  CHECK(one("a@corp.example", "A", "", "").people.size() == 1);
  CHECK(one("a@corp.example", "", "B", "").people.size() == 1);
  CHECK(reasons(one("a@corp", "A", "B", "")) ==
        strings{"hr.csv:7: key 9: EMAIL \"a@corp\" is not a valid e-mail address"});
  CHECK(reasons(one("", "A", "B", "")) == strings{"hr.csv:7: key 9: EMAIL is empty"});
  CHECK(reasons(one("a@corp.example", " ", "", "")) ==
        strings{"hr.csv:7: key 9: NAME and LAST_NAME are both empty"});
  CHECK(reasons(one("a@corp.example", std::string(51, 'x'), "", "")) ==
        strings{"hr.csv:7: key 9: NAME: value is 51 characters long; the limit is 50"});
  std::string fifty_cyrillic;  // 100 bytes, 50 characters
  for (int i = 0; i < 50; ++i) fifty_cyrillic += "я";
  CHECK(one("a@corp.example", fifty_cyrillic, "", "").people.size() == 1);  // characters, not bytes
  CHECK(reasons(one("a@corp.example", "A", "", "Программист")) ==
        strings{"hr.csv:7: key 9: WORK_POSITION: value is 11 characters long; the limit is 10"});
  // A dismissed person is never created, so e-mail and names may be missing.
  mapping_result gone = one("", "", "", "", "yes");
  REQUIRE(gone.people.size() == 1);
  CHECK_FALSE(gone.people[0].active);
}

TEST_CASE("conflicts: duplicate keys and duplicate e-mails reject every row involved") {
  config c = make_config(hr_only, "mapping:\n  fields: {EMAIL: \"{mail}\", NAME: \"{n}\"}\n");
  std::vector<source_record> recs = {
      rec("hr", 2, {{"id", "1"}, {"mail", "a@corp.example"}, {"n", "A"}}),
      rec("hr", 3, {{"id", "2"}, {"mail", "b@corp.example"}, {"n", "B"}}),
      rec("hr", 4, {{"id", "1"}, {"mail", "c@corp.example"}, {"n", "C"}}),
      rec("hr", 5, {{"id", "3"}, {"mail", "B@Corp.Example"}, {"n", "D"}}),
      rec("hr", 6, {{"id", "4"}, {"mail", "e@corp.example"}, {"n", "E"}}),
      rec("hr", 7, {{"id", " "}, {"mail", "f@corp.example"}, {"n", "F"}}),
      rec("xx", 8, {{"id", "5"}}),
  };
  mapping_result m = map_records(c, recs, today);
  REQUIRE(m.people.size() == 1);
  CHECK(m.people[0].key == "4");
  CHECK(
      reasons(m) ==
      strings{
          "hr.csv:7: the key attribute \"id\" is empty",
          "xx.csv:8: record of an unknown source \"xx\"",
          "hr.csv:2: duplicate key \"1\" in source \"hr\": also at hr.csv:4; neither row is used",
          "hr.csv:4: duplicate key \"1\" in source \"hr\": also at hr.csv:2; neither row is used",
          "hr.csv:3: key 2: duplicate e-mail b@corp.example, also used by key 3 at hr.csv:5; neither is used",
          "hr.csv:5: key 3: duplicate e-mail b@corp.example, also used by key 2 at hr.csv:3; neither is used",
      });
  CHECK(m.rejected_keys == strings{"1", "2", "3"});
}

TEST_CASE("several sources merged by key with per-field precedence") {
  const std::string sources = R"(sources:
  - {name: hr, type: csv, path: hr.csv, key: id}
  - {name: ad, type: ldif, path: ad.ldif, key: employeeID}
)";
  const std::string fields = R"(  fields:
    EMAIL: "{mail}"
    NAME: "{n}"
    WORK_POSITION: {from: [title, job]}
    PERSONAL_MOBILE: {from: mobile, transform: phone, region: RU}
    WORK_PHONE: {from: tel, sources: [ad]}
)";
  std::vector<source_record> recs = {
      rec("hr", 2,
          {{"id", "1"},
           {"mail", "hr1@corp.example"},
           {"n", "Анна"},
           {"job", "Бухгалтер"},
           {"mobile", ""},
           {"tel", "hr-tel"}}),
      rec("hr", 3,
          {{"id", "2"},
           {"mail", "hr2@corp.example"},
           {"n", "Борис"},
           {"job", "Юрист"},
           {"mobile", "89160000002"},
           {"tel", ""}}),
      rec("ad", 10,
          {{"employeeID", "1"},
           {"mail", "ad1@corp.example"},
           {"title", "Главный бухгалтер"},
           {"mobile", "+79160000001"},
           {"tel", "101"}}),
      rec("ad", 20, {{"employeeID", "3"}, {"mail", "ad3@corp.example"}, {"n", "Вера"}}),
  };
  recs[2].where.location = "ad.ldif";
  recs[3].where.location = "ad.ldif";

  SUBCASE("default precedence: the order of sources, empty values fall through") {
    const auto cfg = make_config(sources, "mapping:\n" + fields);
    mapping_result m = map_records(cfg, recs, today);
    CHECK(m.rejects.empty());
    REQUIRE(m.people.size() == 3);
    const desired_person& anna = *find_person(m, "1");
    CHECK(text(anna, "EMAIL") == "hr1@corp.example");
    CHECK(text(anna, "NAME") == "Анна");
    CHECK(text(anna, "WORK_POSITION") == "Бухгалтер");       // hr has job (from: [title, job])
    CHECK(text(anna, "PERSONAL_MOBILE") == "+79160000001");  // hr's is empty: ad's is used
    CHECK(field_source(cfg, anna, "PERSONAL_MOBILE") == "ad");
    CHECK(text(anna, "WORK_PHONE") == "101");  // restricted to ad
    CHECK(anna.origins.size() == 2);
    const desired_person& boris = *find_person(m, "2");
    CHECK(text(boris, "PERSONAL_MOBILE") == "+79160000002");
    CHECK(text(boris, "WORK_PHONE") == "(absent)");  // no ad record: the portal's value is left alone
    const desired_person& vera = *find_person(m, "3");
    CHECK(text(vera, "EMAIL") == "ad3@corp.example");
    CHECK(text(vera, "PERSONAL_MOBILE").empty());  // an LDAP entry without the attribute: empty
  }
  SUBCASE("mapping.precedence and a per-field override") {
    mapping_result m = map_records(
        make_config(sources, "mapping:\n" + fields + "  precedence: {default: [ad, hr], NAME: [hr]}\n"), recs,
        today);
    const desired_person& anna = *find_person(m, "1");
    CHECK(text(anna, "EMAIL") == "ad1@corp.example");
    CHECK(text(anna, "WORK_POSITION") == "Главный бухгалтер");
    CHECK(text(anna, "NAME") == "Анна");
  }
  SUBCASE("an enrich_only source adds fields but no people") {
    std::string enrich = sources;
    enrich.replace(enrich.find("key: employeeID}"), 16, "key: employeeID, enrich_only: true}");
    mapping_result m = map_records(make_config(enrich, "mapping:\n" + fields), recs, today);
    CHECK(m.people.size() == 2);
    CHECK(find_person(m, "3") == nullptr);
    CHECK(m.unmatched_enrichment == 1);
    CHECK(m.rejected_keys.empty());
  }
  SUBCASE("a key duplicated in one source is a conflict even when another source has it once") {
    recs.push_back(rec("ad", 30, {{"employeeID", "1"}, {"mail", "x@corp.example"}}));
    recs.back().where.location = "ad.ldif";
    mapping_result m = map_records(make_config(sources, "mapping:\n" + fields), recs, today);
    CHECK(find_person(m, "1") == nullptr);
    CHECK(reasons(m) ==
          strings{
              "ad.ldif:10: duplicate key \"1\" in source \"ad\": also at ad.ldif:30; neither row is used",
              "ad.ldif:30: duplicate key \"1\" in source \"ad\": also at ad.ldif:10; neither row is used",
          });
  }
}

TEST_CASE("a mapped attribute no record has is reported as a warning") {
  config c = make_config(hr_only, "mapping:\n  fields: {EMAIL: \"{mail}\", NAME: \"{nmae}\"}\n");
  std::vector<source_record> recs = {rec("hr", 2, {{"id", "1"}, {"mail", "a@corp.example"}, {"name", "A"}})};
  mapping_result m = map_records(c, recs, today);
  CHECK(m.warnings ==
        strings{"mapping.fields.NAME: no record has the attribute \"nmae\" (did you mean \"name\"?)"});
  CHECK(reasons(m) == strings{"hr.csv:2: key 1: NAME and LAST_NAME are both empty"});
}
