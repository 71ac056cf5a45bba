// PHP-style query encoder: exact encodings, a hostile-character round-trip table, and rejected keys.
#include "bitrix/php_query.hpp"

#include <doctest/doctest.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <stdexcept>
#include <string>

namespace json = boost::json;
using b24sync::bitrix::append_php_query;
using b24sync::bitrix::encode_php_query;
using b24sync::bitrix::parse_php_query;

TEST_CASE("php_query: nested filter, list and map encode as bracket keys") {
  json::object p = json::parse(R"js({"FILTER":{">ID":100,"=EMAIL":"a+b@x.org"},"select":["ID","NAME"],
      "fields":{"PHONE":[{"VALUE":"+7 (999)"}]}})js")
                       .as_object();
  CHECK(encode_php_query(p) ==
        "FILTER%5B%3EID%5D=100&FILTER%5B%3DEMAIL%5D=a%2Bb%40x.org&select%5B0%5D=ID&select%5B1%5D=NAME"
        "&fields%5BPHONE%5D%5B0%5D%5BVALUE%5D=%2B7%20%28999%29");
}

TEST_CASE("php_query: scalars - booleans become Y/N, never true/false") {
  CHECK(encode_php_query(json::object{{"ACTIVE", false}}) == "ACTIVE=N");
  CHECK(encode_php_query(json::object{{"ACTIVE", true}}) == "ACTIVE=Y");
  CHECK(encode_php_query(json::object{{"ACTIVE", "N"}}) == "ACTIVE=N");
  CHECK(encode_php_query(json::object{{"ID", 42}, {"start", -1}}) == "ID=42&start=-1");
  CHECK(encode_php_query(json::object{{"x", 1.5}, {"y", 0.1}}) == "x=1.5&y=0.1");
  CHECK(encode_php_query(json::object{{"u", std::uint64_t{18446744073709551615ull}}}) ==
        "u=18446744073709551615");
}

TEST_CASE("php_query: null and empty containers keep the key with an empty value") {
  CHECK(encode_php_query(json::object{{"X", nullptr}}) == "X=");
  CHECK(encode_php_query(json::object{{"UF_DEPARTMENT", json::array{}}}) == "UF_DEPARTMENT=");
  CHECK(encode_php_query(json::object{{"F", json::object{}}}) == "F=");
  CHECK(encode_php_query(json::object{}).empty());
}

TEST_CASE("php_query: hostile values round-trip byte-exact") {
  const char* table[] = {
      "",  "&",           "=",         "%",       "%20",    "[",           "]",      "[]",
      "+", "a b+c",       "#frag",     "?q=1",    "/path/", "back\\slash", "\"dq\"", "'sq'",
      "😀", "Иванов Пётр", "tab\tnl\n", "a&b=c&d", "x[y]=z", "~-._",        "100%",   "ё+Ё=%",
  };
  for (const char* v : table) {
    CAPTURE(v);
    json::object p{{"k", v}, {"FILTER", json::object{{"=EMAIL", v}}}, {"list", json::array{v, v}}};
    const std::string q = encode_php_query(p);
    // Only unreserved characters and escapes appear on the wire, so nothing can split a pair.
    CHECK(q.find_first_of(" +#?/\\\"'[]") == std::string::npos);
    json::object back = parse_php_query(q);
    CHECK(back.at("k").as_string() == v);
    CHECK(back.at("FILTER").at("=EMAIL").as_string() == v);
    CHECK(back.at("list").as_array().size() == 2);
    CHECK(back.at("list").as_array()[1].as_string() == v);
  }
}

TEST_CASE("php_query: structure round-trips (leaves come back as strings)") {
  json::object p = json::parse(R"({"ID":7,"UF_DEPARTMENT":[1,2,3],"FILTER":{"!@ID":[4,5]},
      "Имя":"Анна","fields":{"a":{"b":{"c":"deep"}}}})")
                       .as_object();
  json::object expect = json::parse(R"({"ID":"7","UF_DEPARTMENT":["1","2","3"],"FILTER":{"!@ID":["4","5"]},
      "Имя":"Анна","fields":{"a":{"b":{"c":"deep"}}}})")
                            .as_object();
  CHECK(json::serialize(parse_php_query(encode_php_query(p))) == json::serialize(expect));
}

TEST_CASE("php_query: parser follows parse_str") {
  CHECK(parse_php_query("c=x+y").at("c").as_string() == "x y");
  CHECK(parse_php_query("a[]=1&a[]=2").at("a").as_array().size() == 2);
  CHECK(parse_php_query("a[0]=x&a[2]=y").at("a").is_object());  // gaps stay a map
  CHECK(parse_php_query("flag").at("flag").as_string() == "");
  CHECK(parse_php_query("&&=x&k=v").size() == 1);
  CHECK_THROWS_AS(parse_php_query("k=%zz"), std::invalid_argument);
  CHECK_THROWS_AS(parse_php_query("k=%4"), std::invalid_argument);
}

TEST_CASE("php_query: keys PHP cannot carry are rejected") {
  CHECK_THROWS_AS(encode_php_query(json::object{{"", 1}}), std::invalid_argument);
  CHECK_THROWS_AS(encode_php_query(json::object{{"a[b", 1}}), std::invalid_argument);
  CHECK_THROWS_AS(encode_php_query(json::object{{"a.b", 1}}), std::invalid_argument);
  CHECK_THROWS_AS(encode_php_query(json::object{{"a b", 1}}), std::invalid_argument);
  CHECK_THROWS_AS(encode_php_query(json::object{{"F", json::object{{"x]", 1}}}}), std::invalid_argument);
  CHECK(encode_php_query(json::object{{"F", json::object{{"a.b c", 1}}}}) == "F%5Ba.b%20c%5D=1");
}

TEST_CASE("php_query: append under a bracketed prefix") {
  std::string out = "ID=1";
  append_php_query(out, "FILTER[>ID]", json::value(5));
  CHECK(out == "ID=1&FILTER%5B%3EID%5D=5");
  CHECK_THROWS_AS(append_php_query(out, "FILTER[>ID", json::value(5)), std::invalid_argument);
}
