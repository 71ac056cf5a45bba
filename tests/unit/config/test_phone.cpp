// Phone normalisation to E.164, per supported region, including extensions and invalid input.
#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <vector>

#include "config/phone.hpp"

using namespace b24sync::config;

TEST_CASE("phone numbers per region") {
  struct row {
    const char* region;
    const char* in;
    std::optional<std::string> out;
  };
  const std::vector<row> rows = {
      // Russia: trunk 8, 10-digit national numbers, 7 without '+', 8 10 international prefix.
      {"RU", "8 (916) 123-45-67", "+79161234567"},
      {"RU", "+7 916 123 45 67", "+79161234567"},
      {"RU", "79161234567", "+79161234567"},
      {"RU", "9161234567", "+79161234567"},
      {"RU", "8-495-123-45-67 доб. 123", "+74951234567"},
      {"RU", "+7 (495) 123-45-67, вн. 12", "+74951234567"},
      {"RU", "8 10 49 30 1234567", "+49301234567"},
      {"RU", "0049 30 1234567", "+49301234567"},
      {"RU", "8 916 123 45", std::nullopt},       // too short
      {"RU", "+7 916 123 45 678", std::nullopt},  // too long for +7
      {"RU", "123-45", std::nullopt},
      {"RU", "не указан", std::nullopt},
      {"RU", "", std::nullopt},
      // Kazakhstan shares +7.
      {"KZ", "8 701 234 56 78", "+77012345678"},
      {"KZ", "7012345678", "+77012345678"},
      // Belarus: 8 0XX, 0XX, 375.
      {"BY", "8 029 123-45-67", "+375291234567"},
      {"BY", "029 1234567", "+375291234567"},
      {"BY", "+375 (29) 123-45-67", "+375291234567"},
      {"BY", "375291234567", "+375291234567"},
      {"BY", "8 029 123-45", std::nullopt},
      {"RU", "+7 016 123 45 67", std::nullopt},  // no +7 number starts with 0
      // Ukraine: trunk 0 (and the old 8 0).
      {"UA", "044 123 45 67", "+380441234567"},
      {"UA", "8 044 123 45 67", "+380441234567"},
      {"UA", "+380 44 123 4567", "+380441234567"},
      {"UA", "380441234567", "+380441234567"},
      // US / Canada: NANP, 10 digits, optional leading 1, extensions.
      {"US", "(415) 555-0134", "+14155550134"},
      {"US", "1-415-555-0134", "+14155550134"},
      {"US", "415.555.0134 x22", "+14155550134"},
      {"US", "+1 415 555 0134 ext. 5", "+14155550134"},
      {"US", "(015) 555-0134", std::nullopt},  // area codes start with 2..9
      {"CA", "604-555-0199", "+16045550199"},
      // Germany: trunk 0, variable length.
      {"DE", "030 1234567", "+49301234567"},
      {"DE", "0151 23456789", "+4915123456789"},
      {"DE", "+49 (0)30 1234567", "+49301234567"},  // the "(0)" trunk notation
      {"DE", "0049 30 1234567", "+49301234567"},
      // United Kingdom: trunk 0.
      {"GB", "020 7946 0018", "+442079460018"},
      {"GB", "07700 900123", "+447700900123"},
      {"GB", "+44 7700 900123", "+447700900123"},
      {"GB", "0770 090", std::nullopt},
      // Other countries only in international form.
      {"RU", "+33 1 23 45 67 89", "+33123456789"},
      {"RU", "+1234", std::nullopt},
      {"RU", "+12345678901234567", std::nullopt},
      {"RU", "++79161234567", std::nullopt},
      {"RU", "x123", std::nullopt},
  };
  for (const auto& r : rows) {
    CAPTURE(r.region);
    CAPTURE(r.in);
    CHECK(normalize_phone(r.in, r.region) == r.out);
  }
}

TEST_CASE("supported phone regions") {
  CHECK(phone_regions() == std::vector<std::string>{"RU", "KZ", "BY", "UA", "US", "CA", "DE", "GB"});
  CHECK(is_known_phone_region("ru"));
  CHECK_FALSE(is_known_phone_region("FR"));
  CHECK(normalize_phone("01 23 45 67 89", "FR") == std::nullopt);  // unknown region: international only
}
