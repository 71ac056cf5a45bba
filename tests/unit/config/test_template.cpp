// Templates: every filter table-driven, multi-valued attributes, literals, escapes, parse errors, tracing.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "config/template.hpp"

using namespace b24sync::config;
using b24sync::connectors::source_record;
using strings = std::vector<std::string>;

namespace {

source_record record() {
  source_record r;
  r.attributes = {
      {"givenName", {"  Иван "}},
      {"sn", {"ПЕТРОВ"}},
      {"mail", {" Ivan.Petrov@Corp.Example ", "ip@corp.example"}},
      {"city", {"MSK"}},
      {"phones", {"1;2;;3"}},
      {"title", {"senior   engineer"}},
      {"empty", {""}},
      {"Табельный номер", {"00042"}},
  };
  return r;
}

const std::map<std::string, value_table> tables = {
    {"cities", {{"MSK", "Москва"}, {"SPB", "Санкт-Петербург"}}}};

strings eval(const std::string& text) {
  return evaluate(parse_template(text, tables), record());
}

}  // namespace

TEST_CASE("every filter") {
  struct row {
    std::string tmpl;
    strings out;
  };
  const std::vector<row> rows = {
      {"{givenName}", {"  Иван "}},
      {"{givenName | trim}", {"Иван"}},
      {"{sn | lower}", {"петров"}},
      {"{givenName | trim | upper}", {"ИВАН"}},
      {"{title | collapse}", {"senior engineer"}},
      {"{title | collapse | title}", {"Senior Engineer"}},
      {"{sn | title}", {"Петров"}},
      {"{empty | default(\"n/a\")}", {"n/a"}},
      {"{absent | default('none')}", {"none"}},
      {"{sn | default(\"n/a\")}", {"ПЕТРОВ"}},
      {"{title | replace(\"senior\", \"sr.\")}", {"sr.   engineer"}},
      {"{title | regex_replace(\"\\\\s+\", \"_\")}", {"senior_engineer"}},
      {"{mail | regex_replace(\"@.*$\", \"\")}", {" Ivan.Petrov", "ip"}},
      {"{mail | trim | lower}", {"ivan.petrov@corp.example", "ip@corp.example"}},
      {"{mail | first | trim}", {"Ivan.Petrov@Corp.Example"}},
      {"{mail | trim | join}", {"Ivan.Petrov@Corp.Example, ip@corp.example"}},
      {"{mail | trim | join(\";\")}", {"Ivan.Petrov@Corp.Example;ip@corp.example"}},
      {"{phones | split(\";\")}", {"1", "2", "3"}},
      {"{phones | split(';') | join('+')}", {"1+2+3"}},
      {"{city | map(cities)}", {"Москва"}},
      {"{sn | map(\"cities\")}", {"ПЕТРОВ"}},
      {"{sn | map(cities, \"other\")}", {"other"}},
      {"{Табельный номер}", {"00042"}},
      {"{ \"Табельный номер\" | trim }", {"00042"}},
      {"{givenName | trim} {sn | title}", {"Иван Петров"}},
      {"{sn}, {mail | trim}", {"ПЕТРОВ, Ivan.Petrov@Corp.Example"}},
      {"{absent}", {}},
      {"x{absent}y", {"xy"}},
      {"ООО «Ромашка»", {"ООО «Ромашка»"}},
      {"{{literal}} {sn}", {"{literal} ПЕТРОВ"}},
      {"{GIVENNAME | trim}", {"Иван"}},  // attribute names are case-insensitive
  };
  for (const auto& r : rows) {
    CAPTURE(r.tmpl);
    CHECK(eval(r.tmpl) == r.out);
  }
}

TEST_CASE("template parse errors carry the offset") {
  struct row {
    std::string tmpl;
    std::size_t offset;
    std::string message;
  };
  const std::vector<row> rows = {
      {"{mail | lowr}", 8, "unknown transform \"lowr\" (did you mean \"lower\"?)"},
      {"{mail | }", 8, "expected a transform name after '|'"},
      {"{mail", 0, "unterminated '{' (missing '}')"},
      {"a}", 1, "unmatched '}' (write '}}' for a literal brace)"},
      {"{}", 0, "empty attribute name in '{...}'"},
      {"{ | trim}", 0, "empty attribute name in '{...}'"},
      {"{mail | trim(1)}", 8, "trim takes 0 argument(s), got 1"},
      {"{mail | replace(\"a\")}", 8, "replace takes 2 argument(s), got 1"},
      {"{mail | map(x, y, z)}", 8, "map takes 1 or 2 argument(s), got 3"},
      {"{mail | replace(\"\", \"b\")}", 8, "replace needs a non-empty text to search for"},
      {"{mail | split(\"\")}", 8, "split needs a non-empty separator"},
      {"{mail | map(citys)}", 8, "map: no table \"citys\" in mapping.tables (did you mean \"cities\"?)"},
      {"{mail | join(\"a\" \"b\")}", 17, "expected ',' or ')' in the arguments of join"},
      {"{mail | join(\"a}", 13, "unterminated quoted string"},
      {"{\"mail}", 1, "unterminated quoted string"},
      {"{\"mail\" x}", 8, "unexpected 'x' (expected '|' or '}')"},
      {"{mail | regex_replace(\"" + std::string(300, 'a') + "\", \"\")}", 8,
       "regular expression longer than 256 bytes"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.tmpl);
    try {
      parse_template(r.tmpl, tables);
      FAIL("no error");
    } catch (const template_error& e) {
      CHECK(e.offset == r.offset);
      CHECK(std::string{e.what()} == r.message);
    }
  }
}

TEST_CASE("evaluation trace lists every step") {
  std::vector<trace_step> trace;
  auto t = parse_template("{givenName | trim | upper} {sn | title}", tables);
  CHECK(evaluate(t, record(), &trace) == strings{"ИВАН Петров"});
  REQUIRE(trace.size() == 6);
  CHECK(trace[0].operation == "read givenName");
  CHECK(trace[0].output == strings{"  Иван "});
  CHECK(trace[1].operation == "trim");
  CHECK(trace[1].input == strings{"  Иван "});
  CHECK(trace[1].output == strings{"Иван"});
  CHECK(trace[2].operation == "upper");
  CHECK(trace[3].operation == "read sn");
  CHECK(trace[4].operation == "title");
  CHECK(trace[5].operation == "template {givenName | trim | upper} {sn | title}");
  CHECK(trace[5].input == strings{"ИВАН", "Петров"});
  CHECK(trace[5].output == strings{"ИВАН Петров"});
  CHECK(t.attributes() == strings{"givenName", "sn"});
  CHECK(describe(t.parts[0].filters[0]) == "trim");
  auto r = parse_template("{a | replace(\"x\", \"y\")}", tables);
  CHECK(describe(r.parts[0].filters[0]) == "replace(\"x\", \"y\")");
}
