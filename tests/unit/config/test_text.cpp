// UTF-8 helpers: Latin and Cyrillic case maps, title case, trimming, e-mail syntax, "did you mean".
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "config/text.hpp"

using namespace b24sync::config;

TEST_CASE("lower, upper and title case for Latin and Cyrillic") {
  struct row {
    std::string in, lower, upper, title;
  };
  const std::vector<row> rows = {
      {"Hello World", "hello world", "HELLO WORLD", "Hello World"},
      {"ИВАНОВ Иван", "иванов иван", "ИВАНОВ ИВАН", "Иванов Иван"},
      {"пётр алексеевич", "пётр алексеевич", "ПЁТР АЛЕКСЕЕВИЧ", "Пётр Алексеевич"},
      {"ЁЛКИН", "ёлкин", "ЁЛКИН", "Ёлкин"},
      {"анна-мария о'нил", "анна-мария о'нил", "АННА-МАРИЯ О'НИЛ", "Анна-Мария О'Нил"},
      {"Їжак Ґанок Єва Ірина", "їжак ґанок єва ірина", "ЇЖАК ҐАНОК ЄВА ІРИНА",
       "Їжак Ґанок Єва Ірина"},                              // Ukrainian
      {"ўладзімір", "ўладзімір", "ЎЛАДЗІМІР", "Ўладзімір"},  // Belarusian
      {"қазақ ғалым өнер ұлы үй һәм ң", "қазақ ғалым өнер ұлы үй һәм ң", "ҚАЗАҚ ҒАЛЫМ ӨНЕР ҰЛЫ ҮЙ ҺӘМ Ң",
       "Қазақ Ғалым Өнер Ұлы Үй Һәм Ң"},  // Kazakh
      {"JOSÉ ÅSTRÖM", "josé åström", "JOSÉ ÅSTRÖM", "José Åström"},
      {"mixed Латиница123", "mixed латиница123", "MIXED ЛАТИНИЦА123", "Mixed Латиница123"},
      {"", "", "", ""},
      {"\xFF\xFE"
       "bad",
       "\xFF\xFE"
       "bad",
       "\xFF\xFE"
       "BAD",
       "\xFF\xFE"
       "Bad"},  // invalid bytes pass through
  };
  for (const auto& r : rows) {
    CAPTURE(r.in);
    CHECK(utf8_lower(r.in) == r.lower);
    CHECK(utf8_upper(r.in) == r.upper);
    CHECK(utf8_title(r.in) == r.title);
  }
}

TEST_CASE("trim, collapse, length") {
  CHECK(trim("  a b \t\n") == "a b");
  CHECK(trim("\xC2\xA0"
             "нбсп\xC2\xA0") == "нбсп");  // NBSP
  CHECK(trim("\xEF\xBB\xBF"
             "bom") == "bom");  // BOM
  CHECK(trim("   ") == "");
  CHECK(collapse_spaces("  Иван   \t Иванович  ") == "Иван Иванович");
  CHECK(collapse_spaces("a\xC2\xA0\xC2\xA0"
                        "b") == "a b");
  CHECK(utf8_length("Иван") == 4);
  CHECK(utf8_length("abc") == 3);
  CHECK(utf8_length("\xFF"
                    "a") == 2);
  CHECK(replace_all("a-b-c", "-", "+") == "a+b+c");
  CHECK(split("a;;b", ";") == std::vector<std::string>{"a", "", "b"});
}

TEST_CASE("e-mail syntax") {
  struct row {
    const char* email;
    bool valid;
  };
  const std::vector<row> rows = {
      {"ivan@romashka.ru", true},
      {"i.ivanov+hr@corp.example", true},
      {"o'neil@acme.example", true},
      {"admin@почта.рф", true},
      {"a@b.co", true},
      {"", false},
      {"ivan", false},
      {"ivan@", false},
      {"@romashka.ru", false},
      {"ivan@romashka", false},
      {"ivan..i@romashka.ru", false},
      {".ivan@romashka.ru", false},
      {"ivan.@romashka.ru", false},
      {"iv an@romashka.ru", false},
      {"ivan@-romashka.ru", false},
      {"ivan@romashka..ru", false},
      {"ivan@1.2.3.4", false},
      {"иван@romashka.ru", false},
      {"ivan@roma_shka.ru", false},
  };
  for (const auto& r : rows) {
    CAPTURE(r.email);
    CHECK(is_valid_email(r.email) == r.valid);
  }
  CHECK_FALSE(is_valid_email(std::string(65, 'a') + "@corp.example"));
}

TEST_CASE("did-you-mean hints") {
  const std::vector<std::string> keys = {"portal", "sources", "mapping", "policy"};
  CHECK(did_you_mean("polcy", keys) == " (did you mean \"policy\"?)");
  CHECK(did_you_mean("Mapping", keys) == " (did you mean \"mapping\"?)");
  CHECK(did_you_mean("zzzz", keys).empty());
  CHECK(edit_distance("kitten", "sitting") == 3);
}
