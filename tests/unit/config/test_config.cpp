// Config parsing: every default pinned, every section read, relative paths, ${ENV}, precedence forms.
#include <doctest/doctest.h>

#include "config/config.hpp"
#include "config_test_support.hpp"

using namespace b24sync::config;
using namespace b24sync::config::test;
using namespace std::chrono_literals;

TEST_CASE("every default of the config aggregates") {
  const config c{};
  CHECK(c.portal.url.empty());
  CHECK(c.portal.auth == auth_kind::webhook);
  CHECK(c.portal.webhook.portal_url.empty());
  CHECK(c.portal.webhook.user_id == 0);
  CHECK(c.portal.webhook.code.empty());
  CHECK(c.portal.oauth.client_id.empty());
  CHECK(c.portal.oauth.client_secret.empty());
  CHECK(c.portal.oauth.refresh_token_file.empty());
  CHECK(c.portal.oauth.token_url == "https://oauth.bitrix.info/oauth/token/");
  CHECK(c.portal.limits.requests_per_second == 2);
  CHECK(c.portal.limits.burst == 50);
  CHECK(c.portal.tls.ca_file.empty());
  CHECK(c.portal.tls.verify);
  CHECK(c.portal.timeouts.connect == 10s);
  CHECK(c.portal.timeouts.request == 70s);
  CHECK(c.sources.empty());

  const source_config s{};
  CHECK(s.name.empty());
  CHECK(s.type == source_type::csv);
  CHECK(s.path.empty());
  CHECK(s.encoding == text_encoding::auto_detect);
  CHECK(s.delimiter == 0);
  CHECK(s.key.empty());
  CHECK(s.filter.empty());
  CHECK(s.object_classes.empty());
  CHECK_FALSE(s.enrich_only);
  CHECK(s.uri.empty());
  CHECK_FALSE(s.starttls);
  CHECK(s.base.empty());
  CHECK(s.scope == ldap_scope::sub);
  CHECK(s.bind_dn.empty());
  CHECK(s.password.empty());
  CHECK(s.attributes.empty());
  CHECK(s.page_size == 500);

  CHECK(c.mapping.match == std::vector<match_key>{match_key::employee_id, match_key::email});
  CHECK(c.mapping.identity_field == "UF_USR_HR_ID");
  CHECK(c.mapping.fields.empty());
  CHECK(c.mapping.active.empty());
  CHECK(c.mapping.precedence.empty());
  CHECK(c.mapping.field_precedence.empty());
  CHECK(c.mapping.tables.empty());

  const field_rule f{};
  CHECK(f.field.empty());
  CHECK(f.value.parts.empty());
  CHECK(f.alternatives.empty());
  CHECK(f.map == nullptr);
  CHECK(f.transform == transform_kind::none);
  CHECK(f.region == "RU");
  CHECK(f.formats.empty());
  CHECK_FALSE(f.excel_serial);
  CHECK(f.path_separator == "/");
  CHECK_FALSE(f.create_missing);
  CHECK(f.on_invalid == invalid_action::reject);
  CHECK_FALSE(f.multiple);
  CHECK(f.max_length == 0);
  CHECK(f.sources.empty());

  const active_rule a{};
  CHECK(a.from.empty());
  CHECK(a.when == inactive_condition::nonempty);
  CHECK(a.disabled_bit == 2);
  CHECK(a.values.empty());
  CHECK(a.formats.empty());
  CHECK(a.source.empty());

  CHECK(c.policy.create);
  CHECK(c.policy.update);
  CHECK(c.policy.on_terminated == leaver_action::deactivate);
  CHECK(c.policy.on_missing == leaver_action::deactivate);
  CHECK(c.policy.reactivate);
  CHECK(c.policy.max_deactivations.percent);
  CHECK(c.policy.max_deactivations.value == 5);
  CHECK(c.policy.min_source_ratio == 0.5);
  CHECK(c.policy.max_rejected_ratio == 0.1);
  CHECK(c.policy.protected_ids.empty());
  CHECK(c.policy.protected_emails.empty());
  CHECK(c.schedule.every == 15min);
  CHECK(c.schedule.cron.empty());
  CHECK(c.state.path == "/var/lib/b24sync/state.db");
  CHECK(c.reports.dir == "/var/lib/b24sync/reports");
  CHECK(c.reports.keep == 100);
  CHECK(c.metrics.listen.empty());
}

TEST_CASE("a minimal file leaves every optional setting at its default") {
  loaded_config l = parse(minimal(), hook_env);
  const config& c = l.cfg;
  CHECK(c.portal.url == "https://corp.bitrix24.ru");
  CHECK(c.portal.webhook.portal_url == "https://corp.bitrix24.ru");
  CHECK(c.portal.webhook.user_id == 1);
  CHECK(c.portal.webhook.code.reveal() == "s3cr3tc0de42");
  CHECK(c.portal.limits.requests_per_second == 2);
  CHECK(c.portal.limits.burst == 50);
  REQUIRE(c.sources.size() == 1);
  CHECK(c.sources[0].name == "hr");
  CHECK(c.sources[0].path == "hr.csv");  // no base folder given: as written
  CHECK(c.sources[0].encoding == text_encoding::auto_detect);
  CHECK(c.sources[0].delimiter == 0);
  REQUIRE(c.mapping.fields.size() == 2);
  CHECK(c.mapping.fields[0].field == "EMAIL");
  CHECK(c.mapping.fields[0].value.text == "{mail}");
  CHECK(c.mapping.fields[1].field == "NAME");
  CHECK(c.policy.max_deactivations.value == 5);
  CHECK(c.schedule.every == 15min);
  CHECK(c.state.path == "/var/lib/b24sync/state.db");
  CHECK(l.warnings.empty());
}

TEST_CASE("every section and key is read") {
  temp_dir dir;
  dir.write("client-secret", "oauth-s3cret\n");
  std::string yaml = R"yaml(portal:
  url: https://corp.bitrix24.ru/
  oauth:
    client_id: local.app.1
    client_secret_file: client-secret
    refresh_token_file: token
    token_url: https://oauth.example/token/
  limits: {requests_per_second: 5, burst: 250}
  tls: {ca_file: ca.pem, verify: false}
  timeouts: {connect: 3s, request: 1m30s}
sources:
  - {name: hr, type: csv, path: /srv/hr.csv, encoding: cp1251, delimiter: ";", key: "Табельный номер"}
  - name: ad
    type: ldif
    path: ad.ldif
    encoding: utf-8
    key: employeeID
    filter: "(objectClass=user)"
    object_classes: [user, person]
    enrich_only: true
  - name: dir
    type: ldap
    uri: ldaps://dc1.corp
    base: "ou=Staff,dc=corp"
    scope: one
    attributes: [mail, sn]
    page_size: 0
    key: employeeNumber
mapping:
  match: [email]
  identity_field: XML_ID
  tables:
    cities: {MSK: Москва, SPB: Санкт-Петербург}
  fields:
    EMAIL: "{mail | trim | lower}"
    LAST_NAME: {from: [sn, "Фамилия"], max_length: 40, multiple: true}
    PERSONAL_MOBILE: {from: mobile, transform: phone, region: kz, on_invalid: keep, sources: [ad, hr]}
    PERSONAL_BIRTHDAY: {from: birth, format: "%d.%m.%Y", excel_serial: true, on_invalid: drop}
    UF_DEPARTMENT: {from: dept, departments: {path_separator: "\\", create_missing: true}}
    PERSONAL_CITY: {template: "{city}", map: {a: b}}
    WORK_CITY: "{city | map(cities)}"
  active:
    - {from: uac, disabled_bit: 514, source: ad}
    - {from: fired, inactive_when: past_date, formats: ["%Y-%m-%d"]}
    - {from: status, inactive_when: equals, values: [" Уволен ", FIRED]}
  precedence:
    default: [ad, hr]
    EMAIL: [dir]
policy:
  create: false
  update: no
  on_terminated: ignore
  on_missing: ignore
  reactivate: off
  max_deactivations: 7
  min_source_ratio: "80%"
  max_rejected_ratio: 0.25
  protected: [1, 42, "Admin@Corp.RU"]
schedule: {cron: "*/5 * * * 1-5"}
state: {path: state.db}
reports: {dir: /var/reports, keep: 0}
metrics: {listen: "0.0.0.0:9464"}
)yaml";
  loaded_config l = parse(yaml, {{"CREDENTIALS_DIRECTORY", dir.path().string()}}, "/etc/b24sync");
  const config& c = l.cfg;
  CHECK(c.portal.url == "https://corp.bitrix24.ru");
  CHECK(c.portal.auth == auth_kind::oauth);
  CHECK(c.portal.oauth.client_id == "local.app.1");
  CHECK(c.portal.oauth.client_secret.reveal() == "oauth-s3cret");
  CHECK(c.portal.oauth.refresh_token_file == "/etc/b24sync/token");
  CHECK(c.portal.oauth.token_url == "https://oauth.example/token/");
  CHECK(c.portal.limits.requests_per_second == 5);
  CHECK(c.portal.limits.burst == 250);
  CHECK(c.portal.tls.ca_file == "/etc/b24sync/ca.pem");
  CHECK_FALSE(c.portal.tls.verify);
  CHECK(c.portal.timeouts.connect == 3s);
  CHECK(c.portal.timeouts.request == 90s);
  REQUIRE(c.sources.size() == 3);
  CHECK(c.sources[0].path == "/srv/hr.csv");
  CHECK(c.sources[0].encoding == text_encoding::cp1251);
  CHECK(c.sources[0].delimiter == ';');
  CHECK(c.sources[0].key == "Табельный номер");
  CHECK(c.sources[1].type == source_type::ldif);
  CHECK(c.sources[1].path == "/etc/b24sync/ad.ldif");
  CHECK(c.sources[1].encoding == text_encoding::utf8);
  CHECK(c.sources[1].filter == "(objectClass=user)");
  CHECK(c.sources[1].object_classes == std::vector<std::string>{"user", "person"});
  CHECK(c.sources[1].enrich_only);
  CHECK(c.sources[2].type == source_type::ldap);
  CHECK(c.sources[2].uri == "ldaps://dc1.corp");
  CHECK(c.sources[2].base == "ou=Staff,dc=corp");
  CHECK(c.sources[2].scope == ldap_scope::one);
  CHECK(c.sources[2].attributes == std::vector<std::string>{"mail", "sn"});
  CHECK(c.sources[2].page_size == 0);
  CHECK(c.mapping.match == std::vector<match_key>{match_key::email});
  CHECK(c.mapping.identity_field == "XML_ID");
  CHECK(c.mapping.tables.at("cities").at("SPB") == "Санкт-Петербург");
  REQUIRE(c.mapping.fields.size() == 7);
  const auto& last = c.mapping.fields[1];
  CHECK(last.value.text == "{sn}");
  REQUIRE(last.alternatives.size() == 1);
  CHECK(last.alternatives[0].text == "{Фамилия}");
  CHECK(last.max_length == 40);
  CHECK(last.multiple);
  const auto& mobile = c.mapping.fields[2];
  CHECK(mobile.transform == transform_kind::phone);
  CHECK(mobile.region == "KZ");
  CHECK(mobile.on_invalid == invalid_action::keep);
  CHECK(mobile.sources == std::vector<std::string>{"ad", "hr"});
  const auto& birthday = c.mapping.fields[3];
  CHECK(birthday.transform == transform_kind::date);  // implied by the field
  CHECK(birthday.formats == std::vector<std::string>{"%d.%m.%Y"});
  CHECK(birthday.excel_serial);
  CHECK(birthday.on_invalid == invalid_action::drop);
  const auto& dept = c.mapping.fields[4];
  CHECK(dept.transform == transform_kind::department);
  CHECK(dept.path_separator == "\\");
  CHECK(dept.create_missing);
  REQUIRE(c.mapping.fields[5].map != nullptr);
  CHECK(c.mapping.fields[5].map->at("a") == "b");
  REQUIRE(c.mapping.fields[6].value.parts.size() == 1);
  CHECK(c.mapping.fields[6].value.parts[0].filters.at(0).table->at("MSK") == "Москва");
  REQUIRE(c.mapping.active.size() == 3);
  CHECK(c.mapping.active[0].when == inactive_condition::disabled_bit);
  CHECK(c.mapping.active[0].disabled_bit == 514);
  CHECK(c.mapping.active[0].source == "ad");
  CHECK(c.mapping.active[1].when == inactive_condition::past_date);
  CHECK(c.mapping.active[1].formats == std::vector<std::string>{"%Y-%m-%d"});
  CHECK(c.mapping.active[2].values == std::vector<std::string>{"уволен", "fired"});
  CHECK(c.mapping.precedence == std::vector<std::string>{"ad", "hr"});
  CHECK(c.mapping.field_precedence.at("EMAIL") == std::vector<std::string>{"dir"});
  CHECK_FALSE(c.policy.create);
  CHECK_FALSE(c.policy.update);
  CHECK(c.policy.on_terminated == leaver_action::ignore);
  CHECK(c.policy.on_missing == leaver_action::ignore);
  CHECK_FALSE(c.policy.reactivate);
  CHECK_FALSE(c.policy.max_deactivations.percent);
  CHECK(c.policy.max_deactivations.value == 7);
  CHECK(c.policy.min_source_ratio == doctest::Approx(0.8));
  CHECK(c.policy.max_rejected_ratio == 0.25);
  CHECK(c.policy.protected_ids == std::vector<std::int64_t>{1, 42});
  CHECK(c.policy.protected_emails == std::vector<std::string>{"admin@corp.ru"});
  CHECK(c.schedule.cron == "*/5 * * * 1-5");
  CHECK(c.state.path == "/etc/b24sync/state.db");
  CHECK(c.reports.dir == "/var/reports");
  CHECK(c.reports.keep == 0);
  CHECK(c.metrics.listen == "0.0.0.0:9464");
}

TEST_CASE("precedence as a plain list, max_deactivations as a share, schedule every") {
  std::string yaml =
      minimal() + "  precedence: [hr]\npolicy: {max_deactivations: \"12.5%\"}\nschedule: {every: 1h30m}\n";
  const config c = parse(yaml, hook_env).cfg;
  CHECK(c.mapping.precedence == std::vector<std::string>{"hr"});
  CHECK(c.policy.max_deactivations.percent);
  CHECK(c.policy.max_deactivations.value == doctest::Approx(12.5));
  CHECK(c.schedule.every == 90min);
}

TEST_CASE("${ENV} expansion in string values") {
  std::string yaml = minimal() +
                     "state: {path: \"${STATE_DIR}/state.db\"}\nreports: {dir: \"${REPORTS:-/tmp/r}\"}\n" +
                     "metrics: {listen: \"$${literal}:1\"}\n";
  env_map env = hook_env;
  env["STATE_DIR"] = "/srv/b24";
  const config c = parse(yaml, env).cfg;
  CHECK(c.state.path == "/srv/b24/state.db");
  CHECK(c.reports.dir == "/tmp/r");
  CHECK(c.metrics.listen == "${literal}:1");
  env["REPORTS"] = "/var/rep";
  CHECK(parse(yaml, env).cfg.reports.dir == "/var/rep");
}

TEST_CASE("load_config resolves relative paths against the file's folder") {
  temp_dir dir;
  auto file = dir.write("b24sync.yaml", "portal:\n  url: https://corp.bitrix24.ru\n  webhook: 1/abc\n" +
                                            std::string{minimal_rest});
  loaded_config l = load_config(file);
  CHECK(l.cfg.sources[0].path == (dir.path() / "hr.csv").string());
  CHECK(l.cfg.portal.webhook.user_id == 1);
  CHECK(l.cfg.portal.webhook.code.reveal() == "abc");
  REQUIRE(l.warnings.size() == 1);  // the webhook is written in clear
  CHECK(l.warnings[0].find("portal.webhook: secret written in the config file in clear") !=
        std::string::npos);
  CHECK_THROWS_WITH_AS(
      load_config(dir.path() / "missing.yaml"),
      ((dir.path() / "missing.yaml").string() + ": cannot open the configuration file").c_str(),
      config_error);
}
