// Request parameter parsing: PHP parse_str bracket syntax, percent-decoding, JSON body merge.
#include "core/params.hpp"
#include "core/php.hpp"

#include <doctest/doctest.h>
#include <boost/json.hpp>

namespace json = boost::json;
using b24emu::detail::parse_str;
using b24emu::detail::request_params;

TEST_CASE("parse_str turns PHP bracket keys into nested objects") {
  struct row {
    const char* query;
    const char* expected;
  };
  const row rows[] = {
      {"a=1&b=2", R"({"a":"1","b":"2"})"},
      {"FILTER%5B%3EID%5D=100", R"({"FILTER":{">ID":"100"}})"},
      {"FILTER[>ID]=100&FILTER[ACTIVE]=Y", R"({"FILTER":{">ID":"100","ACTIVE":"Y"}})"},
      {"UF_DEPARTMENT[]=1&UF_DEPARTMENT[]=2", R"({"UF_DEPARTMENT":{"0":"1","1":"2"}})"},
      {"UF_DEPARTMENT[0]=1&UF_DEPARTMENT[1]=2", R"({"UF_DEPARTMENT":{"0":"1","1":"2"}})"},
      {"x[5]=a&x[]=b", R"({"x":{"5":"a","6":"b"}})"},
      {"fields[PHONE][0][VALUE]=555", R"({"fields":{"PHONE":{"0":{"VALUE":"555"}}}})"},
      {"a=1&a=2", R"({"a":"2"})"},
      {"a=1&a[x]=2", R"({"a":{"x":"2"}})"},
      {"name=John+Doe%21", R"({"name":"John Doe!"})"},
      {"flag", R"({"flag":""})"},
      {"a[b=1", R"({"a_b":"1"})"},
      {"a.b=1", R"({"a_b":"1"})"},
      {"a[b]c=1", R"({"a":{"b":"1"}})"},
      {"&&a=1&", R"({"a":"1"})"},
      {"=novalue&b=%D0%98%D0%A2", R"({"b":"ИТ"})"},
      {"cmd[u]=user.get%3FFILTER%5B%3EID%5D%3D%24result%5Bp%5D%5B49%5D%5BID%5D",
       R"({"cmd":{"u":"user.get?FILTER[>ID]=$result[p][49][ID]"}})"},
      {"bad=%zz%4", R"({"bad":"%zz%4"})"},
      {"FILTER[=EMAIL]=a@b.c", R"({"FILTER_":"EMAIL]=a@b.c"})"},  // '=' in a key must be sent as %3D
      {"FILTER[%3DEMAIL]=a@b.c", R"({"FILTER":{"=EMAIL":"a@b.c"}})"},
  };
  for (auto& r : rows) {
    CAPTURE(r.query);
    CHECK(json::serialize(parse_str(r.query)) == json::serialize(json::parse(r.expected)));
  }
}

TEST_CASE("request_params: a JSON body overrides query keys, invalid JSON is ignored") {
  struct row {
    const char* query;
    const char* content_type;
    const char* body;
    const char* expected;
  };
  const row rows[] = {
      {"bx24_request_id=7&start=5", "application/json", R"({"start":10,"FILTER":{"ID":1}})",
       R"({"bx24_request_id":"7","start":10,"FILTER":{"ID":1}})"},
      {"", "application/json; charset=utf-8", R"({"a":true})", R"({"a":true})"},
      {"a=1", "application/json", "{not json", R"({"a":"1"})"},
      {"a=1", "application/json", "[1,2]", R"({"a":"1"})"},
      {"a=1", "application/x-www-form-urlencoded", "a=2&b[]=x", R"({"a":"2","b":{"0":"x"}})"},
      {"a=1", "", "c=3", R"({"a":"1","c":"3"})"},
      {"FILTER[ID]=1", "application/json", R"({"FILTER":{"NAME":"x"}})", R"({"FILTER":{"NAME":"x"}})"},
  };
  for (auto& r : rows) {
    CAPTURE(r.body);
    CHECK(json::serialize(request_params(r.query, r.content_type, r.body)) ==
          json::serialize(json::parse(r.expected)));
  }
}

TEST_CASE("php helpers: truthiness, intval, LIKE with wildcards and Cyrillic folding") {
  using namespace b24emu::detail;
  CHECK_FALSE(php_truthy(json::value("0")));
  CHECK_FALSE(php_truthy(json::value("")));
  CHECK(php_truthy(json::value("false")));
  CHECK_FALSE(php_truthy(json::value(0)));
  CHECK(php_truthy(json::value(true)));
  CHECK_FALSE(php_truthy(json::array()));
  CHECK(php_intval(json::value("42abc")) == 42);
  CHECK(php_intval(json::value(" -7")) == -7);
  CHECK(php_intval(json::value("abc")) == 0);
  CHECK(php_intval(json::array{1, 2}) == 1);
  CHECK(php_intval(json::value(3.9)) == 3);
  CHECK(fold("ёлкина Анна") == "ЁЛКИНА АННА");
  struct row {
    const char* text;
    const char* pattern;
    bool match;
  };
  const row rows[] = {
      {"john_doe@x.org", "john_doe@x.org", true},
      {"johnXdoe@x.org", "john_doe@x.org", true},
      {"johnXXdoe@x.org", "john_doe@x.org", false},
      {"John", "J%", true},
      {"John", "%ohn", true},
      {"John", "%x%", false},
      {"Ёлкина", "_лкина", true},
      {"abc", "a%c%", true},
      {"", "%", true},
      {"abc", "", false},
  };
  for (auto& r : rows) {
    CAPTURE(r.text);
    CAPTURE(r.pattern);
    CHECK(like_match(fold(r.text), fold(r.pattern)) == r.match);
  }
}

TEST_CASE("php_map encodes empty maps as [] and 0..n-1 keys as a list") {
  using b24emu::detail::php_map;
  CHECK(json::serialize(php_map({})) == "[]");
  CHECK(json::serialize(php_map({{"0", 1}, {"1", 2}})) == "[1,2]");
  CHECK(json::serialize(php_map({{"0", 1}, {"2", 2}})) == R"({"0":1,"2":2})");
  CHECK(json::serialize(php_map({{"a", 1}})) == R"({"a":1})");
}
