// Unit tests of the LDIF reader: folding, base64, change records, filtering, rejects, AD helpers.
#include <doctest/doctest.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "connectors/ldif_reader.hpp"

using namespace b24sync::connectors;

namespace {

std::string fixture(const std::string& name) {
  return std::string(B24SYNC_TEST_DATA_DIR) + "/connectors/" + name;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// 1-based line of the first line starting with `prefix`.
std::size_t line_of(const std::string& text, const std::string& prefix) {
  std::size_t line = 1;
  for (std::size_t pos = 0; pos < text.size();) {
    if (text.compare(pos, prefix.size(), prefix) == 0) return line;
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) break;
    pos = nl + 1;
    ++line;
  }
  return 0;
}

struct parsed {
  ldif_result result;
  std::vector<source_record> records;
};

parsed parse(std::string_view data, ldif_options options = {}) {
  parsed out;
  out.result =
      read_ldif_buffer(data, options, [&](source_record&& r) { out.records.push_back(std::move(r)); });
  return out;
}

std::string digest(const parsed& p) {
  std::string d;
  for (const auto& r : p.records) {
    d += "\nR" + std::to_string(r.where.line) + " " + r.where.dn;
    for (const auto& a : r.attributes)
      for (const auto& v : a.values) d += "|" + a.name + "=" + v;
  }
  for (const auto& j : p.result.rejects) d += "\nX" + std::to_string(j.where.line) + ":" + j.reason;
  for (const auto& s : p.result.skipped) d += "\nS" + std::to_string(s.where.line) + ":" + s.reason;
  const auto& st = p.result.stats;
  d += "\n" + std::to_string(st.entries) + "/" + std::to_string(st.filtered_out) + "/" +
       std::to_string(st.lines);
  return d;
}

}  // namespace

TEST_CASE("people.ldif: folded base64 Cyrillic, escaped DNs, change records, URL values and non-people") {
  ldif_options o;
  o.path = fixture("people.ldif");
  o.source_name = "ad";
  std::string text = slurp(o.path);
  std::vector<source_record> records;
  ldif_result r = read_ldif(o, [&](source_record&& rec) { records.push_back(std::move(rec)); });
  REQUIRE(records.size() == 3);

  const source_record& ivanova = records[0];
  CHECK(ivanova.where.dn == "cn=Иванова-Петрова Александра Константиновна,ou=Staff,dc=corp,dc=example");
  CHECK(ivanova.where.line == line_of(text, "dn:: "));
  CHECK(ivanova.where.source == "ad");
  CHECK(ivanova.where.location == o.path);
  CHECK(ivanova.first("cn") == "Иванова-Петрова Александра Константиновна");
  CHECK(ivanova.first("sn") == "Иванова-Петрова");
  CHECK(ivanova.first("givenName") == "Александра");
  REQUIRE(ivanova.find("mail") != nullptr);
  CHECK(ivanova.find("mail")->values ==
        std::vector<std::string>{"a.ivanova@corp.example", "alexandra@corp.example"});
  CHECK(ivanova.find("objectClass")->values.size() == 3);
  CHECK(ivanova.first("title") ==
        "Senior engineer with a long title that is folded because it is longer than seventy-six characters");

  const source_record& doe = records[1];
  CHECK(doe.where.dn == "cn=Doe\\, John,ou=Staff,dc=corp,dc=example");
  CHECK(doe.first("cn") == "Doe, John");
  CHECK(doe.first("description") == "Emoji 🚀 inside");
  CHECK(doe.first("cn;lang-ru") == "Джон Доу");

  CHECK(records[2].where.dn == "cn=Added,ou=Staff,dc=corp,dc=example");  // changetype: add is an entry

  REQUIRE(r.rejects.size() == 2);
  CHECK(r.rejects[0].where.line == line_of(text, "jpegPhoto:<"));
  CHECK(r.rejects[0].where.dn == "cn=Photo Person,ou=Staff,dc=corp,dc=example");
  CHECK(r.rejects[0].reason.find("URL") != std::string::npos);
  CHECK(r.rejects[1].where.line == line_of(text, "this line has no colon"));
  CHECK(r.rejects[1].reason.find("expected 'attribute: value'") != std::string::npos);

  REQUIRE(r.skipped.size() == 2);
  CHECK(r.skipped[0].reason.find("changetype: modify") != std::string::npos);
  CHECK(r.skipped[0].where.line == line_of(text, "dn: cn=Modified"));
  CHECK(r.skipped[1].reason.find("changetype: delete") != std::string::npos);
  CHECK(r.stats.entries == 9);       // records, rejects, skips and the filtered-out
  CHECK(r.stats.filtered_out == 2);  // the OU and the group
  CHECK(r.stats.records == 3);
}

TEST_CASE("every chunk size gives the same entries, lines, rejects and skips") {
  for (const char* name : {"people.ldif", "ad_export.ldif"}) {
    CAPTURE(name);
    std::string data = slurp(fixture(name));
    std::string expected = digest(parse(data));
    for (std::size_t chunk : {1u, 2u, 3u, 7u, 100u}) {
      CAPTURE(chunk);
      ldif_options o;
      o.chunk_size = chunk;
      CHECK(digest(parse(data, o)) == expected);
    }
  }
}

TEST_CASE("Active Directory export with CRLF: attributes pass through, binary GUID stays base64") {
  auto p = parse(slurp(fixture("ad_export.ldif")));
  REQUIRE(p.records.size() == 3);  // the computer is a user too by objectClass; filters can drop it
  const source_record& oleg = p.records[0];
  CHECK(oleg.where.dn == "CN=Смирнов Олег,OU=Users,DC=corp,DC=local");
  CHECK(oleg.first("employeeID") == "000123");
  CHECK(oleg.first("userPrincipalName") == "o.smirnov@corp.local");
  CHECK(oleg.find("memberOf")->values.size() == 2);
  CHECK(oleg.first("objectGUID") == "AQD//hAgAJmKvN7wEjRWeA==");
  CHECK(p.result.stats.binary_values == 1);
  CHECK(ad_account_disabled(oleg.first("userAccountControl")));
  CHECK_FALSE(ad_account_disabled(p.records[2].first("userAccountControl")));
}

TEST_CASE("entries are picked by objectClass list and by a filter") {
  std::string data = slurp(fixture("ad_export.ldif"));
  ldif_options o;
  o.filter = "(&(objectClass=user)(!(objectClass=computer)))";
  auto p = parse(data, o);
  CHECK(p.records.size() == 2);
  CHECK(p.result.stats.filtered_out == 1);
  o.filter = "(mail=*@corp.local)";
  CHECK(parse(data, o).records.size() == 2);
  o.filter.clear();
  o.object_classes = {"computer"};
  CHECK(parse(data, o).records.size() == 1);
  o.object_classes.clear();  // everything
  CHECK(parse(slurp(fixture("people.ldif")), o).records.size() == 5);
  o.filter = "(broken";
  CHECK_THROWS_AS(parse(data, o), std::invalid_argument);
}

TEST_CASE("ad_account_disabled reads bit 2 of userAccountControl") {
  CHECK(ad_account_disabled("514"));
  CHECK(ad_account_disabled("66050"));  // 0x10202: normal, disabled, password never expires
  CHECK(ad_account_disabled(" 2 "));
  CHECK_FALSE(ad_account_disabled("512"));
  CHECK_FALSE(ad_account_disabled("66048"));
  CHECK_FALSE(ad_account_disabled(""));
  CHECK_FALSE(ad_account_disabled("abc"));
  CHECK_FALSE(ad_account_disabled("-2"));
}

TEST_CASE("malformed entries are rejected with their line; the next entry is still read") {
  std::string data =
      "dn: cn=a\nobjectClass: person\ncn:: not*base64\n\n"
      "cn: no dn first\nobjectClass: person\n\n"
      "dn: cn=b\nobjectClass: person\nsn: \xFF\xFE\n\n"
      "dn:: /w==\nobjectClass: person\n\n"
      "dn: cn=ok\nobjectClass: person\ncn: ok\n";
  auto p = parse(data);
  REQUIRE(p.records.size() == 1);
  CHECK(p.records[0].where.dn == "cn=ok");
  CHECK(p.records[0].where.line == 15);
  REQUIRE(p.result.rejects.size() == 4);
  CHECK(p.result.rejects[0].where.line == 3);
  CHECK(p.result.rejects[0].reason.find("invalid base64") != std::string::npos);
  CHECK(p.result.rejects[1].where.line == 5);
  CHECK(p.result.rejects[1].reason.find("must start with 'dn:'") != std::string::npos);
  CHECK(p.result.rejects[2].where.line == 10);
  CHECK(p.result.rejects[2].reason.find("not valid UTF-8") != std::string::npos);
  CHECK(p.result.rejects[3].where.line == 12);
  CHECK(p.result.rejects[3].reason.find("DN is not UTF-8") != std::string::npos);
  CHECK(p.result.stats.lines == 17);
}

TEST_CASE("two entries without a blank line between them are one rejected entry") {
  auto p = parse(
      "dn: cn=a\nobjectClass: person\ndn: cn=b\nobjectClass: person\n\ndn: cn=c\nobjectClass: person\n");
  REQUIRE(p.result.rejects.size() == 1);
  CHECK(p.result.rejects[0].where.line == 3);
  CHECK(p.result.rejects[0].where.dn == "cn=a");
  CHECK(p.result.rejects[0].reason.find("second 'dn:'") != std::string::npos);
  REQUIRE(p.records.size() == 1);
  CHECK(p.records[0].where.dn == "cn=c");
}

TEST_CASE("ldapsearch output with comments, version and the result trailer") {
  std::string data =
      "# extended LDIF\n#\n# LDAPv3\n# base <dc=x> with scope subtree\n\nversion: 1\n\n"
      "# Иванов, x\ndn: uid=1,dc=x\nobjectClass: inetOrgPerson\nuid: 1\n\n"
      "# search result\nsearch: 2\nresult: 0 Success\n\n# numResponses: 2\n# numEntries: 1\n";
  auto p = parse(data);
  REQUIRE(p.records.size() == 1);
  CHECK(p.records[0].where.line == 9);
  CHECK(p.result.rejects.empty());
}

TEST_CASE("an entry longer than max_entry_bytes is rejected and skipped") {
  ldif_options o;
  o.max_entry_bytes = 100;
  o.chunk_size = 10;
  std::string data = "dn: cn=big\nobjectClass: person\ndescription: " + std::string(300, 'x') +
                     "\n more\n\ndn: cn=small\nobjectClass: person\n";
  auto p = parse(data, o);
  REQUIRE(p.records.size() == 1);
  CHECK(p.records[0].where.dn == "cn=small");
  CHECK(p.records[0].where.line == 6);
  REQUIRE(p.result.rejects.size() == 1);
  CHECK(p.result.rejects[0].where.line == 1);
}

TEST_CASE("unusable LDIF files: missing, empty, only comments, unsupported version") {
  auto code_of = [](auto&& fn) {
    try {
      fn();
    } catch (const source_error& e) {
      return e.code();
    }
    return source_errc{};
  };
  ldif_options missing;
  missing.path = fixture("no_such.ldif");
  CHECK(code_of([&] { read_ldif(missing, [](source_record&&) {}); }) == source_errc::not_found);
  CHECK(code_of([&] { parse(""); }) == source_errc::empty);
  CHECK(code_of([&] { parse("# only a comment\n\n\n"); }) == source_errc::empty);
  CHECK(code_of([&] { parse("version: 1\n"); }) == source_errc::empty);
  CHECK(code_of([&] { parse("version: 2\n\ndn: cn=x\n"); }) == source_errc::bad_format);
}

TEST_CASE("the view API reports the entry with its flat values") {
  std::size_t n = 0;
  scan_ldif_buffer("dn: cn=x\nobjectClass: person\ncn: x\ncn: y\n", {}, [&](const ldif_entry& e) {
    ++n;
    CHECK(e.dn == "cn=x");
    CHECK(e.line == 1);
    REQUIRE(e.values.size() == 3);
    CHECK(e.values[2].name == "cn");
    CHECK(e.values[2].value == "y");
  });
  CHECK(n == 1);
}
