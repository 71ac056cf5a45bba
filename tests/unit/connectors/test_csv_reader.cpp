// Unit tests of the CSV reader: dialects, encodings, quoting, line ends, rejects, whole-file errors.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "connectors/csv_reader.hpp"

using namespace b24sync::connectors;

namespace {

std::string fixture(const std::string& name) {
  return std::string(B24SYNC_TEST_DATA_DIR) + "/connectors/" + name;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

struct parsed {
  csv_result result;
  std::vector<source_record> records;
};

parsed parse(std::string_view data, csv_options options = {}) {
  parsed out;
  out.result =
      read_csv_buffer(data, options, [&](source_record&& r) { out.records.push_back(std::move(r)); });
  return out;
}

// Flattens records and rejects so runs with different chunk sizes can be compared.
std::string digest(const parsed& p) {
  std::string d;
  for (const auto& h : p.result.header) d += "H[" + h + "]";
  for (const auto& r : p.records) {
    d += "\nR" + std::to_string(r.where.line);
    for (const auto& a : r.attributes) d += "|" + a.name + "=" + a.values.at(0);
  }
  for (const auto& j : p.result.rejects) d += "\nX" + std::to_string(j.where.line) + ":" + j.reason;
  d += "\nrows=" + std::to_string(p.result.stats.rows) +
       " blank=" + std::to_string(p.result.stats.blank_lines) +
       " lines=" + std::to_string(p.result.stats.lines);
  return d;
}

}  // namespace

TEST_CASE("HRIS export in UTF-8 with BOM, commas, CRLF, quotes, an embedded newline and emoji") {
  csv_options o;
  o.path = fixture("hris_utf8_bom.csv");
  o.source_name = "hr";
  std::vector<source_record> records;
  csv_result r = read_csv(o, [&](source_record&& rec) { records.push_back(std::move(rec)); });
  CHECK(r.stats.encoding == text_encoding::utf8);
  CHECK(r.stats.had_bom);
  CHECK(r.stats.delimiter == ',');
  CHECK(r.rejects.empty());
  REQUIRE(r.header.size() == 6);
  CHECK(r.header[0] == "Табельный номер");  // BOM stripped from the first column name
  REQUIRE(records.size() == 4);
  CHECK(records[0].first("Должность") == "Начальник отдела, главный");
  CHECK(records[0].where.line == 2);
  CHECK(records[0].where.source == "hr");
  CHECK(records[0].where.location == o.path);
  CHECK(records[1].first("Имя") == "Анна \"Аня\"");
  CHECK(records[2].first("Должность") == "Менеджер\r\nпо продажам");
  CHECK(records[2].where.line == 4);
  CHECK(records[3].where.line == 7);  // after the embedded newline and a blank line
  CHECK(records[3].first("Имя") == "John 🚀");
  CHECK(records[3].first("Подразделение") == "Отдел 👩‍💻");
  CHECK(records[3].first("Должность").size() > 300);  // 300 characters, mostly two-byte Cyrillic
  CHECK(r.stats.blank_lines == 1);
  CHECK(r.stats.records == 4);
}

TEST_CASE("1C:ZUP export in cp1251 with semicolons and Excel's trailing empty columns is auto-detected") {
  csv_options o;
  o.path = fixture("zup_cp1251.csv");
  std::vector<source_record> records;
  csv_result r = read_csv(o, [&](source_record&& rec) { records.push_back(std::move(rec)); });
  CHECK(r.stats.encoding == text_encoding::cp1251);
  CHECK_FALSE(r.stats.had_bom);
  CHECK(r.stats.delimiter == ';');
  CHECK(r.rejects.empty());
  CHECK(r.header ==
        std::vector<std::string>{"Табельный номер", "ФИО", "Должность", "Дата рождения", "Дата увольнения"});
  REQUIRE(records.size() == 3);
  CHECK(records[0].first("ФИО") == "Ёлкина Мария Сергеевна");
  CHECK(records[0].first("Табельный номер") == "00001");
  CHECK(records[1].first("Должность") == "Водитель; экспедитор");
  CHECK(records[1].first("Дата увольнения") == "31.12.2023");
  CHECK(records[2].first("Должность") == "Директор «Рога и копыта» №1");
  CHECK(records[2].where.line == 5);
  CHECK(records[2].attributes.size() == 5);  // trailing empty cells beyond the header are dropped
  CHECK(r.stats.blank_lines == 1);           // the ";;;;;;;" row
}

TEST_CASE("explicit cp1251 and utf-8 encodings are honoured and reported") {
  std::string cp = slurp(fixture("zup_cp1251.csv"));
  csv_options o;
  o.encoding = text_encoding::cp1251;
  auto p = parse(cp, o);
  CHECK(p.result.stats.encoding == text_encoding::cp1251);
  CHECK(p.records.size() == 3);
  o.encoding = text_encoding::utf8;  // wrong on purpose: the header cannot be decoded
  CHECK_THROWS_AS(parse(cp, o), source_error);
}

TEST_CASE("broken rows become rejects with file:line and a reason; the good rows go on") {
  csv_options o;
  o.path = fixture("bad_rows.csv");
  o.source_name = "hr";
  o.encoding = text_encoding::utf8;
  std::vector<source_record> records;
  csv_result r = read_csv(o, [&](source_record&& rec) { records.push_back(std::move(rec)); });
  REQUIRE(records.size() == 2);
  CHECK(records[0].first("id") == "1");
  CHECK(records[1].first("id") == "6");  // trailing empty cells beyond the header are tolerated
  REQUIRE(r.rejects.size() == 5);
  CHECK(r.rejects[0].where.line == 3);
  CHECK(r.rejects[0].reason.find("2 fields, the header has 3") != std::string::npos);
  CHECK(r.rejects[1].where.line == 4);
  CHECK(r.rejects[1].reason.find("4 fields") != std::string::npos);
  CHECK(r.rejects[2].where.line == 5);
  CHECK(r.rejects[2].reason.find("'name' is not valid UTF-8") != std::string::npos);
  CHECK(r.rejects[3].where.line == 6);
  CHECK(r.rejects[3].reason.find("'name' contains a NUL byte") != std::string::npos);
  CHECK(r.rejects[4].where.line == 8);
  CHECK(r.rejects[4].reason.find("never closed") != std::string::npos);
  CHECK(r.rejects[4].where.location == o.path);
  CHECK(r.rejects[4].where.source == "hr");
  CHECK(r.stats.rows == 7);
  CHECK(r.stats.rejected == 5);
}

TEST_CASE("CR-only line ends, tab delimiter and a last line without a line break") {
  auto p = parse(slurp(fixture("cr_only_tab.csv")));
  CHECK(p.result.stats.delimiter == '\t');
  REQUIRE(p.records.size() == 3);
  CHECK(p.records[0].first("name") == "Ольга");
  CHECK(p.records[1].first("name") == "Multi\rline");
  CHECK(p.records[2].where.line == 5);
  CHECK(p.records[2].first("name") == "Зоя");
  CHECK(p.result.stats.lines == 5);
}

TEST_CASE("every chunk size gives the same rows, lines and rejects") {
  for (const char* name : {"hris_utf8_bom.csv", "zup_cp1251.csv", "bad_rows.csv", "cr_only_tab.csv"}) {
    CAPTURE(name);
    std::string data = slurp(fixture(name));
    std::string expected = digest(parse(data));
    for (std::size_t chunk : {1u, 2u, 3u, 5u, 7u, 64u}) {
      CAPTURE(chunk);
      csv_options o;
      o.chunk_size = chunk;
      CHECK(digest(parse(data, o)) == expected);
    }
  }
}

TEST_CASE("delimiter is detected from the header, ignoring delimiters inside quotes") {
  CHECK(parse("a;b;c\n1;2;3\n").result.stats.delimiter == ';');
  CHECK(parse("a,b,c\n1,2,3\n").result.stats.delimiter == ',');
  CHECK(parse("a\tb\n1\t2\n").result.stats.delimiter == '\t');
  CHECK(parse("\"x;y;z\",b\n1,2\n").result.stats.delimiter == ',');
  CHECK(parse("\n\nsingle\nvalue\n").result.stats.delimiter == ',');
  csv_options o;
  o.delimiter = ';';
  auto p = parse("a,b;c\n1,2;3\n", o);
  REQUIRE(p.records.size() == 1);
  CHECK(p.records[0].first("a,b") == "1,2");
}

TEST_CASE("quoting corner cases: doubled quotes, empty quoted fields, text after a closing quote") {
  auto p = parse("a,b,c\n\"\",\"x\"\"\",\"q\"tail\n\"\"\"\",mid\"quote,\"a\nb\"\n");
  REQUIRE(p.records.size() == 2);
  CHECK(p.records[0].first("a") == "");
  CHECK(p.records[0].first("b") == "x\"");
  CHECK(p.records[0].first("c") == "qtail");
  CHECK(p.records[1].first("a") == "\"");
  CHECK(p.records[1].first("b") == "mid\"quote");
  CHECK(p.records[1].first("c") == "a\nb");
}

TEST_CASE("a file without a header option names columns by position") {
  csv_options o;
  o.has_header = false;
  auto p = parse("1;Иванов;;\n2;Петров\n3;Сидоров;x\n", o);
  CHECK(p.result.header == std::vector<std::string>{"1", "2"});
  REQUIRE(p.records.size() == 2);
  CHECK(p.records[1].first("2") == "Петров");
  REQUIRE(p.result.rejects.size() == 1);
  CHECK(p.result.rejects[0].where.line == 3);
}

TEST_CASE("header names are trimmed and may be in any language; lookups ignore ASCII case") {
  auto p = parse(" Email ; Фамилия \nA@B.RU;Ким\n");
  CHECK(p.result.header == std::vector<std::string>{"Email", "Фамилия"});
  REQUIRE(p.records.size() == 1);
  CHECK(p.records[0].first("EMAIL") == "A@B.RU");
}

TEST_CASE("cp1251's undefined byte 0x98 rejects its row") {
  csv_options o;
  o.encoding = text_encoding::cp1251;
  auto p = parse(std::string("id;name\n1;ok\n2;bad\x98here\n"), o);
  CHECK(p.records.size() == 1);
  REQUIRE(p.result.rejects.size() == 1);
  CHECK(p.result.rejects[0].reason.find("0x98") != std::string::npos);
}

TEST_CASE("a BOM in a file declared cp1251 is a whole-file format error") {
  csv_options o;
  o.encoding = text_encoding::cp1251;
  try {
    parse("\xEF\xBB\xBFid\n1\n", o);
    FAIL("no exception");
  } catch (const source_error& e) {
    CHECK(e.code() == source_errc::bad_format);
  }
}

TEST_CASE("unusable files are reported distinctly: missing, empty, blank only, no header") {
  auto code_of = [](auto&& fn) {
    try {
      fn();
    } catch (const source_error& e) {
      return e.code();
    }
    return source_errc{};
  };
  auto ignore = [](source_record&&) {};
  csv_options missing;
  missing.path = fixture("no_such_file.csv");
  CHECK(code_of([&] { read_csv(missing, ignore); }) == source_errc::not_found);
  csv_options dir;
  dir.path = fixture("");
  CHECK(code_of([&] { read_csv(dir, ignore); }) == source_errc::unreadable);
  CHECK(code_of([&] { parse(""); }) == source_errc::empty);
  CHECK(code_of([&] { parse("\xEF\xBB\xBF"); }) == source_errc::empty);
  CHECK(code_of([&] { parse("\r\n\n\r"); }) == source_errc::empty);
  CHECK(code_of([&] { parse("\"unclosed header\n1\n"); }) == source_errc::no_header);
  CHECK(code_of([&] { parse(std::string("a\0b\n1\n", 6)); }) == source_errc::no_header);
  CHECK(code_of([&] { parse(" ; ;\n1;2\n"); }) == source_errc::no_header);
  // A header without data rows is not an error: the sync's guards judge an empty source.
  CHECK(parse("id;name\n").records.empty());
}

TEST_CASE("a row longer than max_record_bytes is rejected and reading resumes on the next line") {
  csv_options o;
  o.max_record_bytes = 64;
  o.chunk_size = 16;
  std::string data = "id,name\n1,\"" + std::string(200, 'x') + "\n2,ok\n3,fine\n";
  auto p = parse(data, o);
  REQUIRE(p.result.rejects.size() == 1);
  CHECK(p.result.rejects[0].where.line == 2);
  CHECK(p.result.rejects[0].reason.find("longer than 64 bytes") != std::string::npos);
  REQUIRE(p.records.size() == 2);
  CHECK(p.records[0].first("id") == "2");
  CHECK(p.records[0].where.line == 3);
}

TEST_CASE("the view API yields the same fields as the record API without copying") {
  std::string data = slurp(fixture("hris_utf8_bom.csv"));
  std::vector<std::string> joined;
  csv_result r = scan_csv_buffer(data, {}, [&](const csv_row& row) {
    std::string s = std::to_string(row.line);
    for (auto f : row.fields) s += "|" + std::string(f);
    joined.push_back(s);
    CHECK(row.fields.size() == row.header.size());
  });
  REQUIRE(joined.size() == 4);
  CHECK(joined[0] == "2|1001|Иванов|Иван|ivanov@corp.ru|Начальник отдела, главный|Бухгалтерия");
  CHECK(r.stats.records == 4);
}

TEST_CASE("auto encoding picks UTF-8 for pure ASCII and for valid UTF-8 beyond the first chunk") {
  std::string ascii_then_utf8 = "id,name\n";
  for (int i = 0; i < 10000; ++i) ascii_then_utf8 += std::to_string(i) + ",plain\n";
  ascii_then_utf8 += "10000,Юлия\n";
  csv_options o;
  o.chunk_size = 4096;
  auto p = parse(ascii_then_utf8, o);
  CHECK(p.result.stats.encoding == text_encoding::utf8);
  CHECK(p.records.back().first("name") == "Юлия");
  CHECK(parse("id\n1\n").result.stats.encoding == text_encoding::utf8);
}
