// explain: every source value, each transform step, the final fields, and the reasons for a reject.
#include <doctest/doctest.h>

#include "mapping_test_support.hpp"

using namespace b24sync::config;
using namespace b24sync::config::test;
using b24sync::connectors::source_record;
using strings = std::vector<std::string>;

namespace {

config two_sources() {
  return make_config(R"(sources:
  - {name: hr, type: csv, path: hr.csv, key: id}
  - {name: ad, type: ldif, path: ad.ldif, key: employeeID}
)",
                     R"(mapping:
  fields:
    EMAIL: "{mail | trim | lower}"
    NAME: "{n | title}"
    PERSONAL_MOBILE: {from: mobile, transform: phone, region: RU}
  active: {from: uac, disabled_bit: 2}
)");
}

}  // namespace

TEST_CASE("explain shows sources, steps and the final value") {
  config c = two_sources();
  std::vector<source_record> recs = {
      rec("hr", 2, {{"id", "7"}, {"mail", " Anna@Corp.Example "}, {"n", "АННА"}, {"mobile", ""}}),
      rec("ad", 5, {{"employeeID", "7"}, {"mobile", "8 916 123-45-67"}, {"uac", "512"}}),
      rec("hr", 3, {{"id", "8"}, {"mail", "b@corp.example"}, {"n", "B"}, {"mobile", ""}}),
  };
  explain_result e = explain(c, recs, today, "7");
  CHECK(e.key == "7");
  REQUIRE(e.records.size() == 2);
  CHECK(e.records[0].where.source == "hr");
  CHECK(e.records[1].where.source == "ad");
  CHECK(e.rejects.empty());
  REQUIRE(e.person.has_value());
  CHECK(text(*e.person, "PERSONAL_MOBILE") == "+79161234567");

  REQUIRE(e.fields.size() == 3);
  const explain_field& email = e.fields[0];
  CHECK(email.field == "EMAIL");
  CHECK(email.rule == "{mail | trim | lower}");
  REQUIRE(email.candidates.size() == 2);
  CHECK(email.candidates[0].source == "hr");
  CHECK(email.candidates[0].chosen);
  REQUIRE(email.candidates[0].steps.size() == 3);
  CHECK(email.candidates[0].steps[0].operation == "read mail");
  CHECK(email.candidates[0].steps[0].output == strings{" Anna@Corp.Example "});
  CHECK(email.candidates[0].steps[1].operation == "trim");
  CHECK(email.candidates[0].steps[1].output == strings{"Anna@Corp.Example"});
  CHECK(email.candidates[0].steps[2].operation == "lower");
  CHECK(email.candidates[0].steps[2].output == strings{"anna@corp.example"});
  CHECK(email.candidates[1].source == "ad");
  CHECK_FALSE(email.candidates[1].chosen);
  CHECK(email.candidates[1].steps[0].operation == "read mail (absent)");
  REQUIRE(email.value.has_value());
  CHECK(to_string(*email.value) == "anna@corp.example");

  const explain_field& mobile = e.fields[2];
  CHECK(mobile.rule == "{mobile} -> phone (RU)");
  REQUIRE(mobile.candidates.size() == 2);
  CHECK_FALSE(mobile.candidates[0].chosen);  // hr's value is empty
  CHECK(mobile.candidates[1].chosen);
  REQUIRE(mobile.transform_steps.size() == 2);
  CHECK(mobile.transform_steps[1].operation == "phone RU");
  CHECK(mobile.transform_steps[1].input == strings{"8 916 123-45-67"});
  CHECK(mobile.transform_steps[1].output == strings{"+79161234567"});

  REQUIRE(e.active.size() == 1);
  CHECK(e.active[0].rule == "uac disabled_bit");
  CHECK(e.active[0].source == "ad");
  CHECK(e.active[0].value == "512");
  CHECK_FALSE(e.active[0].fired);
}

TEST_CASE("explain of a rejected person gives the reasons and the failing step") {
  config c = two_sources();
  std::vector<source_record> recs = {
      rec("hr", 2, {{"id", "7"}, {"mail", "a@corp.example"}, {"n", "A"}, {"mobile", "12"}}),
      rec("hr", 3, {{"id", "9"}, {"mail", "x@corp.example"}, {"n", "X"}, {"mobile", ""}}),
      rec("hr", 4, {{"id", "9"}, {"mail", "y@corp.example"}, {"n", "Y"}, {"mobile", ""}}),
  };
  explain_result e = explain(c, recs, today, "7");
  CHECK_FALSE(e.person.has_value());
  REQUIRE(e.rejects.size() == 1);
  CHECK(e.rejects[0].reason == "key 7: PERSONAL_MOBILE: \"12\" is not a phone number (region RU)");
  CHECK(e.fields.at(2).problem == "\"12\" is not a phone number (region RU)");
  CHECK_FALSE(e.fields.at(2).value.has_value());

  explain_result dup = explain(c, recs, today, "9");
  CHECK(dup.records.size() == 2);
  CHECK(dup.rejects.size() == 2);
  CHECK(dup.fields.empty());  // a conflict is never mapped

  explain_result none = explain(c, recs, today, "404");
  CHECK(none.records.empty());
  CHECK_FALSE(none.person.has_value());
  CHECK(none.rejects.empty());
}
