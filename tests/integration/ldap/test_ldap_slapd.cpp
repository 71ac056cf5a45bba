// The live LDAP reader against a real slapd: 5,000 people, paging, Cyrillic, bind errors, filters, TLS.
#include <doctest/doctest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "connectors/ldap_reader.hpp"
#include "connectors/text_encoding.hpp"
#include "slapd_process.hpp"
#include "support/test_certs.hpp"

using namespace b24sync::connectors;
using b24sync::test::slapd_process;

namespace {

constexpr int people_count = 5000;
const char* const reader_dn = "uid=reader,ou=System,dc=example,dc=test";
const char* const reader_password = "reader-Pa55:word";

struct person {
  std::string uid, cn, sn, given_name, mail, employee_number, title, ou;
};

person make_person(int i) {
  static const char* const surnames[] = {"Иванов",  "Смирнова", "Кузнецов",  "Попова",  "Васильев",
                                         "Петрова", "Соколов",  "Михайлова", "Новиков", "Фёдорова"};
  static const char* const names[] = {"Александр", "Мария", "Дмитрий", "Анна", "Сергей", "Ольга", "Юрий"};
  static const char* const titles[] = {"Инженер", "Бухгалтер", "Менеджер по продажам", "Директор «Север»",
                                       "Ведущий специалист отдела кадров"};
  person p;
  char num[16];
  std::snprintf(num, sizeof num, "%05d", i);
  p.uid = std::string("u") + num;
  p.sn = surnames[i % 10];
  p.given_name = names[i % 7];
  p.cn = p.sn + " " + p.given_name + " " + num;
  p.mail = p.uid + "@corp.example";
  p.employee_number = num;
  p.title = titles[i % 5];
  p.ou = "Отдел №" + std::to_string(i % 13);
  return p;
}

std::string b64(const std::string& s) {
  return base64_encode(s);
}

std::string directory_ldif() {
  std::string l =
      "dn: dc=example,dc=test\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example\n\n"
      "dn: ou=People,dc=example,dc=test\nobjectClass: organizationalUnit\nou: People\n\n"
      "dn: ou=System,dc=example,dc=test\nobjectClass: organizationalUnit\nou: System\n\n"
      "dn: ou=Groups,dc=example,dc=test\nobjectClass: organizationalUnit\nou: Groups\n\n";
  l += std::string("dn: ") + reader_dn +
       "\nobjectClass: account\nobjectClass: simpleSecurityObject\nuid: reader\n" +
       "userPassword: " + reader_password + "\n\n";
  for (int g = 0; g < 20; ++g)
    l += "dn: cn=group" + std::to_string(g) +
         ",ou=Groups,dc=example,dc=test\nobjectClass: groupOfNames\ncn: group" + std::to_string(g) +
         "\nmember: uid=u00001,ou=People,dc=example,dc=test\n\n";
  for (int i = 1; i <= people_count; ++i) {
    person p = make_person(i);
    l += "dn: uid=" + p.uid + ",ou=People,dc=example,dc=test\nobjectClass: inetOrgPerson\nuid: " + p.uid +
         "\ncn:: " + b64(p.cn) + "\nsn:: " + b64(p.sn) + "\ngivenName:: " + b64(p.given_name) +
         "\nmail: " + p.mail + "\nemployeeNumber: " + p.employee_number + "\ntitle:: " + b64(p.title) +
         "\nou:: " + b64(p.ou) + "\n\n";
  }
  return l;
}

// One slapd (with TLS on a second port) for the whole test program; stopped at exit.
struct environment {
  b24sync::test::test_certs certs;
  std::unique_ptr<slapd_process> slapd;
  environment() {
    b24sync::test::slapd_config c;
    // Non-root clients get at most 1,000 entries per search unless they page (RFC 2696).
    c.extra_conf = "sizelimit size.soft=1000 size.hard=1000 size.prtotal=unlimited";
    c.tls_ca_file = certs.ca_file();
    c.tls_cert_file = certs.cert_file();
    c.tls_key_file = certs.key_file();
    slapd = std::make_unique<slapd_process>(c, directory_ldif());
  }
};

environment& env() {
  static environment e;
  return e;
}

ldap_options reader_options() {
  ldap_options o;
  o.uri = env().slapd->ldap_uri();
  o.source_name = "dir";
  o.bind_dn = reader_dn;
  o.password = reader_password;
  o.base = "ou=People,dc=example,dc=test";
  o.filter = "(objectClass=inetOrgPerson)";
  o.page_size = 500;
  o.timeout = std::chrono::seconds(10);
  return o;
}

std::vector<source_record> read_all(const ldap_options& o, ldap_result* result = nullptr) {
  std::vector<source_record> out;
  ldap_result r = read_ldap(o, [&](source_record&& rec) { out.push_back(std::move(rec)); });
  if (result) *result = r;
  return out;
}

source_errc error_of(const ldap_options& o, std::string* message = nullptr) {
  try {
    read_all(o);
  } catch (const source_error& e) {
    if (message) *message = e.what();
    return e.code();
  }
  return source_errc{};
}

}  // namespace

TEST_CASE("paged search returns exactly all 5,000 people with their Cyrillic values intact") {
  ldap_result result;
  std::vector<source_record> records = read_all(reader_options(), &result);
  REQUIRE(records.size() == people_count);
  CHECK(result.stats.pages == people_count / 500);
  CHECK(result.stats.entries == people_count);
  std::map<std::string, const source_record*> by_uid;
  for (const auto& r : records) by_uid[std::string(r.first("uid"))] = &r;
  REQUIRE(by_uid.size() == people_count);
  int mismatches = 0;
  for (int i = 1; i <= people_count; ++i) {
    person p = make_person(i);
    auto it = by_uid.find(p.uid);
    REQUIRE(it != by_uid.end());
    const source_record& r = *it->second;
    bool same = r.first("cn") == p.cn && r.first("sn") == p.sn && r.first("givenName") == p.given_name &&
                r.first("mail") == p.mail && r.first("employeeNumber") == p.employee_number &&
                r.first("title") == p.title && r.first("ou") == p.ou &&
                r.where.dn == "uid=" + p.uid + ",ou=People,dc=example,dc=test" && r.where.source == "dir" &&
                r.where.location == env().slapd->ldap_uri();
    if (!same && ++mismatches <= 3)
      CHECK_MESSAGE(same, "entry " << p.uid << " differs: cn=" << r.first("cn"));
  }
  CHECK(mismatches == 0);
}

TEST_CASE("without paging the server's size limit stops the search with a clear error") {
  ldap_options o = reader_options();
  o.page_size = 0;
  std::string message;
  CHECK(error_of(o, &message) == source_errc::search_failed);
  CHECK(message.find("Size limit exceeded") != std::string::npos);
}

TEST_CASE("a wrong password is an authentication error that never shows the password") {
  ldap_options o = reader_options();
  o.password = "wrong-Secret-42";
  std::string message;
  CHECK(error_of(o, &message) == source_errc::auth_failed);
  CHECK(message.find("Invalid credentials") != std::string::npos);
  CHECK(message.find(reader_dn) != std::string::npos);
  CHECK(message.find("wrong-Secret-42") == std::string::npos);
  CHECK(message.find(reader_password) == std::string::npos);
}

TEST_CASE("a filter and an attribute list narrow the result") {
  ldap_options o = reader_options();
  o.filter = "(&(objectClass=inetOrgPerson)(title=Инженер)(employeeNumber=01*))";
  o.attributes = {"mail", "title"};
  std::vector<source_record> records = read_all(o);
  std::size_t expected = 0;
  for (int i = 1; i <= people_count; ++i) {
    person p = make_person(i);
    expected += p.title == "Инженер" && p.employee_number.rfind("01", 0) == 0;
  }
  REQUIRE(expected > 0);
  CHECK(records.size() == expected);
  for (const auto& r : records) {
    CHECK(r.attributes.size() == 2);
    CHECK(r.first("title") == "Инженер");
  }
}

TEST_CASE("search scopes: base and one level") {
  ldap_options o = reader_options();
  o.filter = "(objectClass=*)";
  o.base = "dc=example,dc=test";
  o.scope = ldap_scope::base;
  CHECK(read_all(o).size() == 1);
  o.scope = ldap_scope::one;
  CHECK(read_all(o).size() == 3);  // People, System, Groups
}

TEST_CASE("a missing base DN and a malformed filter are search errors") {
  ldap_options o = reader_options();
  o.base = "ou=Nowhere,dc=example,dc=test";
  std::string message;
  CHECK(error_of(o, &message) == source_errc::search_failed);
  CHECK(message.find("No such object") != std::string::npos);
  o = reader_options();
  o.filter = "(objectClass=inetOrgPerson";
  CHECK(error_of(o) == source_errc::search_failed);
}

TEST_CASE("an unreachable server is a connection error") {
  ldap_options o = reader_options();
  o.uri = "ldap://127.0.0.1:" + std::to_string(b24sync::test::free_loopback_port());
  std::string message;
  CHECK(error_of(o, &message) == source_errc::connect_failed);
  CHECK(message.find("Can't contact LDAP server") != std::string::npos);
  o.uri = "http://not-ldap";
  CHECK(error_of(o) == source_errc::connect_failed);
}

TEST_CASE("StartTLS and ldaps with the test CA; an untrusted certificate is refused") {
  ldap_options o = reader_options();
  o.filter = "(uid=u0000*)";
  o.ca_file = env().certs.ca_file();
  o.starttls = true;
  CHECK(read_all(o).size() == 9);
  o.starttls = false;
  o.uri = env().slapd->ldaps_uri();
  CHECK(read_all(o).size() == 9);
  o.ca_file = "/etc/ssl/certs/ca-certificates.crt";  // the system's CAs do not know our test CA
  std::string message;
  CHECK(error_of(o, &message) == source_errc::connect_failed);
  o.tls_verify = false;
  CHECK(read_all(o).size() == 9);
}
