// Unit tests of the encodings: strict UTF-8 validation, the cp1251 table, sniffing, base64.
#include <doctest/doctest.h>

#include <string>

#include "connectors/text_encoding.hpp"

using namespace b24sync::connectors;

TEST_CASE("UTF-8 validation accepts ASCII, Cyrillic and emoji and rejects malformed sequences") {
  CHECK(is_valid_utf8(""));
  CHECK(is_valid_utf8("plain ascii text longer than eight bytes"));
  CHECK(is_valid_utf8("Привет, мир"));
  CHECK(is_valid_utf8("🚀 👩‍💻"));
  CHECK(is_valid_utf8(std::string("a\0b", 3)));
  CHECK_FALSE(is_valid_utf8("\xC0\xAF"));          // overlong '/'
  CHECK_FALSE(is_valid_utf8("\xE0\x80\xAF"));      // overlong
  CHECK_FALSE(is_valid_utf8("\xED\xA0\x80"));      // surrogate
  CHECK_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  CHECK_FALSE(is_valid_utf8("\xD0"));              // truncated
  CHECK_FALSE(is_valid_utf8("\x80"));              // lone continuation
  CHECK_FALSE(is_valid_utf8("\xFF"));
  CHECK(utf8_valid_prefix("abcdefghij\xFFxyz") == 10);
}

TEST_CASE("cp1251 decodes the whole Cyrillic alphabet and the punctuation of the 0x80-0xBF block") {
  std::string upper, lower;
  for (int b = 0xC0; b <= 0xDF; ++b) upper.push_back(static_cast<char>(b));
  for (int b = 0xE0; b <= 0xFF; ++b) lower.push_back(static_cast<char>(b));
  CHECK(cp1251_to_utf8(upper) == "АБВГДЕЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ");
  CHECK(cp1251_to_utf8(lower) == "абвгдежзийклмнопрстуфхцчшщъыьэюя");
  CHECK(cp1251_to_utf8("\xA8\xB8") == "Ёё");
  CHECK(cp1251_to_utf8("\xAB\xBB\xB9\x96\x97\x85\x88") == "«»№–—…€");
  CHECK(cp1251_to_utf8("\xA5\xB4\xAA\xBA\xB2\xB3\xAF\xBF") == "ҐґЄєІіЇї");
  CHECK(cp1251_to_utf8("\x80\x8A\x8F\x9F\xA0") == "ЂЉЏџ\u00A0");
  CHECK(cp1251_to_utf8("ascii 123") == "ascii 123");
  std::string out;
  CHECK(append_cp1251_as_utf8("a\x98z", out) == 1);
  CHECK_FALSE(is_valid_utf8(out));  // the undefined byte stays detectable
}

TEST_CASE("every cp1251 byte except 0x98 decodes to valid UTF-8") {
  for (int b = 0; b < 256; ++b) {
    CAPTURE(b);
    std::string s = cp1251_to_utf8(std::string(1, static_cast<char>(b)));
    CHECK(is_valid_utf8(s) == (b != 0x98));
  }
}

TEST_CASE("the sniffer tells cp1251 from UTF-8, even across chunk boundaries") {
  std::string utf8 = "Фамилия;Имя;Отчество\n";
  encoding_sniffer s1;
  for (char c : utf8) s1.feed(std::string_view(&c, 1));  // every sequence split
  CHECK(s1.verdict() == text_encoding::utf8);
  encoding_sniffer s2;
  s2.feed(std::string("\xD4\xE0\xEC\xE8\xEB\xE8\xFF"));  // "Фамилия" in cp1251
  CHECK(s2.verdict() == text_encoding::cp1251);
  encoding_sniffer s3;
  s3.feed("only ascii");
  CHECK(s3.verdict() == text_encoding::utf8);
  encoding_sniffer s4;
  s4.feed("ends mid sequence \xD0");
  CHECK(s4.verdict() == text_encoding::cp1251);
}

TEST_CASE("encoding names parse case-insensitively") {
  CHECK(parse_text_encoding("UTF-8") == text_encoding::utf8);
  CHECK(parse_text_encoding("cp1251") == text_encoding::cp1251);
  CHECK(parse_text_encoding("Windows-1251") == text_encoding::cp1251);
  CHECK(parse_text_encoding("auto") == text_encoding::auto_detect);
  CHECK_FALSE(parse_text_encoding("koi8-r").has_value());
  CHECK(std::string(to_string(text_encoding::cp1251)) == "cp1251");
}

TEST_CASE("base64 round-trips binary and Cyrillic and refuses malformed input") {
  std::string binary("\x00\xFF\x10 ok\x80", 7);
  CHECK(base64_decode(base64_encode(binary)) == binary);
  CHECK(base64_encode("Иван") == "0JjQstCw0L0=");
  CHECK(base64_decode("0JjQstCw0L0=") == std::string("Иван"));
  CHECK(base64_decode("0JjQstCw0L0") == std::string("Иван"));  // padding omitted
  CHECK(base64_encode("") == "");
  CHECK(base64_encode("a") == "YQ==");
  CHECK(base64_encode("ab") == "YWI=");
  CHECK_FALSE(base64_decode("YQ=a").has_value());
  CHECK_FALSE(base64_decode("Y").has_value());
  CHECK_FALSE(base64_decode("Y Q==").has_value());
}
