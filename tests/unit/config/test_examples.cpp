// Every config/examples/*.yaml loads, and maps its sample data (read by the real connectors) as documented.
#include <doctest/doctest.h>

#include <cstdlib>

#include "config/mapping.hpp"
#include "config_test_support.hpp"
#include "connectors/csv_reader.hpp"
#include "connectors/ldif_reader.hpp"
#include "mapping_test_support.hpp"

using namespace b24sync::config;
using namespace b24sync::config::test;
namespace fs = std::filesystem;
namespace conn = b24sync::connectors;

namespace {

const fs::path examples = B24SYNC_EXAMPLES_DIR;

// The environment the examples expect: B24_WEBHOOK, and the credential files systemd would provide.
struct example_env {
  temp_dir creds;
  example_env() {
    creds.write("webhook", "https://corp.bitrix24.ru/rest/1/ex4mplec0de/\n");
    creds.write("ldap-password", "ldap-pass\n");
    creds.write("oauth-client-secret", "client-secret\n");
    ::setenv("B24_WEBHOOK", "https://corp.bitrix24.ru/rest/1/ex4mplec0de/", 1);
    ::setenv("ACME_B24_WEBHOOK", "1/ex4mplec0de", 1);
    ::setenv("CREDENTIALS_DIRECTORY", creds.path().c_str(), 1);
  }
  ~example_env() {
    ::unsetenv("B24_WEBHOOK");
    ::unsetenv("ACME_B24_WEBHOOK");
    ::unsetenv("CREDENTIALS_DIRECTORY");
  }
};

std::vector<conn::source_record> read_sources(const config& c) {
  std::vector<conn::source_record> out;
  for (const auto& s : c.sources) {
    auto add = [&](conn::source_record&& r) { out.push_back(std::move(r)); };
    if (s.type == source_type::csv) {
      conn::csv_options o;
      o.path = s.path;
      o.source_name = s.name;
      o.encoding = s.encoding;
      o.delimiter = s.delimiter;
      conn::csv_result r = conn::read_csv(o, add);
      CHECK(r.rejects.empty());
    } else if (s.type == source_type::ldif) {
      conn::ldif_options o;
      o.path = s.path;
      o.source_name = s.name;
      o.object_classes = s.object_classes;
      o.filter = s.filter;
      conn::ldif_result r = conn::read_ldif(o, add);
      CHECK(r.rejects.empty());
    }
  }
  return out;
}

}  // namespace

TEST_CASE("every example configuration loads") {
  example_env env;
  std::size_t count = 0;
  for (const auto& entry : fs::directory_iterator(examples)) {
    if (entry.path().extension() != ".yaml") continue;
    CAPTURE(entry.path().string());
    ++count;
    loaded_config l = load_config(entry.path());
    CHECK(l.warnings.empty());
    CHECK_FALSE(l.cfg.sources.empty());
    for (const auto& s : l.cfg.sources)
      if (s.type != source_type::ldap) CHECK(fs::exists(s.path));
  }
  CHECK(count == 4);
}

TEST_CASE("example: 1C:ZUP cp1251 CSV") {
  example_env env;
  config c = load_config(examples / "1c-zup-csv.yaml").cfg;
  CHECK(c.sources[0].encoding == text_encoding::cp1251);
  CHECK(c.sources[0].delimiter == ';');
  mapping_result m = map_records(c, read_sources(c), today);
  CHECK(m.rejects.empty());
  CHECK(m.warnings.empty());
  REQUIRE(m.people.size() == 5);
  const desired_person& ivanov = *find_person(m, "00001");
  CHECK(text(ivanov, "EMAIL") == "i.ivanov@romashka.ru");
  CHECK(text(ivanov, "LAST_NAME") == "Иванов");
  CHECK(text(ivanov, "PERSONAL_MOBILE") == "+79161234567");
  CHECK(text(ivanov, "UF_DEPARTMENT") == "Администрация");
  const desired_person& sidorov = *find_person(m, "00003");
  CHECK(text(sidorov, "LAST_NAME") == "Сидоров");
  CHECK(text(sidorov, "NAME") == "Пётр");
  CHECK(text(sidorov, "SECOND_NAME") == "Алексеевич");
  CHECK_FALSE(find_person(m, "00004")->active);  // dismissed 15.03.2024
  const desired_person& smirnov = *find_person(m, "00005");
  CHECK(text(smirnov, "WORK_POSITION") == "Программист 1С; администратор");
  CHECK(text(smirnov, "PERSONAL_MOBILE") == "+79160001122");
}

TEST_CASE("example: HRIS UTF-8 CSV with BOM") {
  example_env env;
  config c = load_config(examples / "hris-csv.yaml").cfg;
  mapping_result m = map_records(c, read_sources(c), today);
  CHECK(m.rejects.empty());
  REQUIRE(m.people.size() == 4);
  const desired_person& maria = *find_person(m, "E1001");
  CHECK(text(maria, "EMAIL") == "maria.garcia@acme.example");
  CHECK(text(maria, "PERSONAL_MOBILE") == "+14155550134");
  CHECK(text(maria, "WORK_CITY") == "US / San Francisco");
  CHECK(text(maria, "UF_EMPLOYMENT_DATE") == "2019-02-11");
  CHECK(text(*find_person(m, "E1002"), "WORK_CITY") == "Remote");
  CHECK(text(*find_person(m, "E1002"), "UF_DEPARTMENT") == "Acme / Engineering / Platform");
  CHECK(text(*find_person(m, "E1003"), "PERSONAL_MOBILE")
            .empty());                           // a UK number in a US-region column: dropped
  CHECK(find_person(m, "E1003")->active);        // On Leave
  CHECK_FALSE(find_person(m, "E1004")->active);  // Terminated
}

TEST_CASE("example: Active Directory LDIF") {
  example_env env;
  config c = load_config(examples / "active-directory-ldif.yaml").cfg;
  CHECK(c.portal.webhook.code.reveal() == "ex4mplec0de");
  mapping_result m = map_records(c, read_sources(c), today);
  CHECK(m.rejects.empty());
  REQUIRE(m.people.size() == 3);
  const desired_person& volkov = *find_person(m, "7001");
  CHECK(text(volkov, "EMAIL") == "a.volkov@corp.example");
  CHECK(text(volkov, "WORK_PHONE") == "+74951234567");
  CHECK(text(volkov, "PERSONAL_MOBILE") == "+79165554433");
  CHECK(text(*find_person(m, "7002"), "WORK_COMPANY") == "Corp");
  CHECK_FALSE(find_person(m, "7003")->active);  // userAccountControl 514
}

TEST_CASE("example: HR CSV enriched from live LDAP (records as the LDAP reader yields them)") {
  example_env env;
  config c = load_config(examples / "live-ldap.yaml").cfg;
  CHECK(c.portal.auth == auth_kind::oauth);
  CHECK(c.sources[1].password.reveal() == "ldap-pass");
  std::vector<b24sync::connectors::source_record> recs = read_sources(c);
  conn::source_record dir;
  dir.where = {"dir", "ldaps://ldap.corp.example", 0, "uid=mg,ou=People,dc=corp,dc=example"};
  dir.attributes = {{"employeeNumber", {"E1001"}},
                    {"title", {"Chief  Engineer"}},
                    {"mobile", {"+7 916 101-01-01"}},
                    {"employeeType", {"staff"}}};
  recs.push_back(dir);
  mapping_result m = map_records(c, recs, today);
  CHECK(m.rejects.empty());
  const desired_person& maria = *find_person(m, "E1001");
  CHECK(text(maria, "WORK_POSITION") == "Chief Engineer");  // precedence: dir first for WORK_POSITION
  CHECK(text(maria, "PERSONAL_MOBILE") == "+14155550134");  // hr first by default... a US number: kept as +1
  CHECK(text(*find_person(m, "E1002"), "WORK_POSITION") == "Engineer, Platform");
}
