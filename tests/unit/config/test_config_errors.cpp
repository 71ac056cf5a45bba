// Malformed configurations: one subcase each, checking the exact file:line:column, key path and wording.
#include <doctest/doctest.h>

#include "config_test_support.hpp"

using namespace b24sync::config;
using namespace b24sync::config::test;

namespace {

// The minimal valid document with `extra` appended (lines 1-8 are fixed, extra starts at line 9).
std::string with(std::string_view extra) {
  return minimal() + std::string{extra};
}

// The minimal document with one line replaced (1-based).
std::string replacing(int line, std::string_view text) {
  std::string doc = minimal();
  std::string out;
  int n = 1;
  std::size_t start = 0;
  for (std::size_t nl; (nl = doc.find('\n', start)) != std::string::npos; start = nl + 1, ++n)
    out += (n == line ? std::string{text} : doc.substr(start, nl - start)) + "\n";
  return out;
}

}  // namespace

TEST_CASE("malformed configurations name file:line:column and the key path") {
  SUBCASE("YAML syntax error") {
    CHECK(error_of("portal: [1, 2\nsources: []\n") ==
          "b24sync.yaml:2:8: YAML syntax error: end of sequence flow not found");
  }
  SUBCASE("empty document") {
    CHECK(error_of("") == "b24sync.yaml:1:1: the configuration is empty");
  }
  SUBCASE("top level is not a map") {
    CHECK(error_of("- a\n") == "b24sync.yaml:1:1: expected a map, got a list");
  }
  SUBCASE("unknown top-level key with a hint") {
    CHECK(error_of(with("polcy: {}\n"), hook_env) ==
          "b24sync.yaml:9:1: polcy: unknown key (did you mean \"policy\"?)");
  }
  SUBCASE("unknown nested key with a hint") {
    CHECK(error_of(replacing(2, "  webhok: x"), hook_env) ==
          "b24sync.yaml:2:3: portal.webhok: unknown key (did you mean \"webhook\"?)");
  }
  SUBCASE("unknown key without a close match") {
    CHECK(error_of(with("state: {zzzzzz: 1}\n"), hook_env) == "b24sync.yaml:9:9: state.zzzzzz: unknown key");
  }
  SUBCASE("duplicate key") {
    CHECK(error_of(with("state: {path: a, path: b}\n"), hook_env) ==
          "b24sync.yaml:9:18: state.path: duplicate key");
  }
  SUBCASE("unknown template filter points into the template") {
    CHECK(error_of(replacing(7, "    EMAIL: \"{mail | trim | lowr}\""), hook_env) ==
          "b24sync.yaml:7:28: mapping.fields.EMAIL: unknown transform \"lowr\" (did you mean \"lower\"?)");
  }
  SUBCASE("unknown typed transform") {
    CHECK(error_of(with("    WORK_PHONE: {from: tel, transform: phnoe}\n"), hook_env) ==
          "b24sync.yaml:9:40: mapping.fields.WORK_PHONE.transform: unknown transform \"phnoe\" (did you mean "
          "\"phone\"?) (template filters go inside the template: \"{attr | lower}\")");
  }
  SUBCASE("template: unterminated brace") {
    CHECK(error_of(replacing(8, "    NAME: \"{givenName\""), hook_env) ==
          "b24sync.yaml:8:12: mapping.fields.NAME: unterminated '{' (missing '}')");
  }
  SUBCASE("template: wrong argument count") {
    CHECK(error_of(replacing(8, "    NAME: \"{givenName | replace(\\\"a\\\")}\""), hook_env) ==
          "b24sync.yaml:8:25: mapping.fields.NAME: replace takes 2 argument(s), got 1");
  }
  SUBCASE("template: bad regular expression") {
    std::string e =
        error_of(replacing(8, "    NAME: '{givenName | regex_replace(\"(a\", \"b\")}'"), hook_env);
    CHECK(e.rfind("b24sync.yaml:8:25: mapping.fields.NAME: bad regular expression in regex_replace: ", 0) ==
          0);
  }
  SUBCASE("template: map() with an unknown table") {
    std::string doc = replacing(6, "  tables: {cities: {a: b}}\n  fields:");
    doc = doc.substr(0, doc.rfind("    NAME")) + "    NAME: \"{givenName | map(citys)}\"\n";
    CHECK(error_of(doc, hook_env) ==
          "b24sync.yaml:9:25: mapping.fields.NAME: map: no table \"citys\" in mapping.tables (did you mean "
          "\"cities\"?)");
  }
  SUBCASE("wrong type: a map where a string is expected") {
    CHECK(error_of(with("state: {path: {a: 1}}\n"), hook_env) ==
          "b24sync.yaml:9:15: state.path: expected a string, got a map");
  }
  SUBCASE("wrong type: not a number") {
    CHECK(error_of(with("reports: {keep: many}\n"), hook_env) ==
          "b24sync.yaml:9:17: reports.keep: expected a whole number, got \"many\"");
  }
  SUBCASE("number out of range") {
    CHECK(error_of(replacing(2, "  webhook: ${HOOK}\n  limits: {burst: 0}"), hook_env) ==
          "b24sync.yaml:3:19: portal.limits.burst: must be between 1 and 10000, got 0");
  }
  SUBCASE("wrong type: not a boolean") {
    CHECK(error_of(with("policy: {create: maybe}\n"), hook_env) ==
          "b24sync.yaml:9:18: policy.create: expected true or false, got \"maybe\"");
  }
  SUBCASE("bad enum value with a hint") {
    CHECK(error_of(replacing(4, "  - {name: hr, type: cvs, path: hr.csv, key: id}"), hook_env) ==
          "b24sync.yaml:4:22: sources[0].type: bad value \"cvs\" (expected one of: csv, ldif, ldap) (did you "
          "mean \"csv\"?)");
  }
  SUBCASE("bad duration unit") {
    CHECK(error_of(with("schedule: {every: 15x}\n"), hook_env) ==
          "b24sync.yaml:9:19: schedule.every: bad duration \"15x\": unknown unit \"x\" (write e.g. 90s, 15m, "
          "1h30m, 1d, 500ms)");
  }
  SUBCASE("duration without a unit") {
    CHECK(error_of(with("schedule: {every: 15}\n"), hook_env) ==
          "b24sync.yaml:9:19: schedule.every: bad duration \"15\": missing unit (write e.g. 90s, 15m, 1h30m, "
          "1d, 500ms)");
  }
  SUBCASE("every and cron together") {
    CHECK(error_of(with("schedule: {every: 1m, cron: \"* * * * *\"}\n"), hook_env) ==
          "b24sync.yaml:9:29: schedule.cron: give either every or cron, not both");
  }
  SUBCASE("bad cron expression") {
    CHECK(error_of(with("schedule: {cron: \"every hour\"}\n"), hook_env) ==
          "b24sync.yaml:9:18: schedule.cron: expected 5 fields: minute hour day-of-month month day-of-week "
          "(e.g. \"*/15 * * * *\")");
  }
  SUBCASE("missing required top-level key") {
    CHECK(error_of(std::string{minimal_portal}, hook_env) ==
          "b24sync.yaml:1:1: sources: missing required key");
  }
  SUBCASE("missing required key in a source") {
    CHECK(error_of(replacing(4, "  - {name: hr, type: csv, path: hr.csv}"), hook_env) ==
          "b24sync.yaml:4:5: sources[0].key: missing required key");
  }
  SUBCASE("key present without a value") {
    CHECK(error_of(replacing(4, "  - {name: hr, type: csv, path: hr.csv, key: }"), hook_env) ==
          "b24sync.yaml:4:41: sources[0].key: needs a value");
  }
  SUBCASE("an ldap-only key in a csv source") {
    CHECK(error_of(replacing(4, "  - {name: hr, type: csv, path: hr.csv, key: id, base: x}"), hook_env) ==
          "b24sync.yaml:4:50: sources[0].base: only for ldap sources (this one is csv)");
  }
  SUBCASE("duplicate source names") {
    CHECK(error_of(replacing(4,
                             "  - {name: hr, type: csv, path: a.csv, key: id}\n  - {name: hr, type: csv, "
                             "path: b.csv, key: id}"),
                   hook_env) == "b24sync.yaml:5:12: sources[1].name: duplicate source name \"hr\"");
  }
  SUBCASE("bad csv delimiter") {
    CHECK(error_of(replacing(4, "  - {name: hr, type: csv, path: hr.csv, key: id, delimiter: \";;\"}"),
                   hook_env) ==
          "b24sync.yaml:4:61: sources[0].delimiter: expected one character such as \",\", \";\" or \"\\t\", "
          "or auto");
  }
  SUBCASE("ldap source without base") {
    CHECK(error_of(replacing(4, "  - {name: d, type: ldap, uri: ldap://dc, key: id}"), hook_env) ==
          "b24sync.yaml:4:5: sources[0].base: missing required key");
  }
  SUBCASE("unset environment variable") {
    CHECK(error_of(minimal()) == "b24sync.yaml:2:12: portal.webhook: environment variable HOOK is not set");
  }
  SUBCASE("unknown Bitrix24 field with a hint") {
    CHECK(error_of(replacing(7, "    EMIAL: \"{mail}\""), hook_env) ==
          "b24sync.yaml:7:5: mapping.fields.EMIAL: unknown Bitrix24 user field (did you mean \"EMAIL\"?) "
          "(custom fields "
          "are named UF_USR_<NAME>)");
  }
  SUBCASE("EMAIL not mapped") {
    CHECK(error_of(replacing(7, "    LAST_NAME: \"{sn}\""), hook_env) ==
          "b24sync.yaml:7:5: mapping.fields: EMAIL must be mapped (user.add requires it)");
  }
  SUBCASE("ACTIVE as a field") {
    CHECK(error_of(with("    ACTIVE: \"{x}\"\n"), hook_env) ==
          "b24sync.yaml:9:5: mapping.fields.ACTIVE: ACTIVE is set by mapping.active, not by a field rule");
  }
  SUBCASE("identity field mapped as a field") {
    CHECK(error_of(with("    UF_USR_HR_ID: \"{id}\"\n"), hook_env) ==
          "b24sync.yaml:9:5: mapping.fields.UF_USR_HR_ID: UF_USR_HR_ID is the identity_field: b24sync writes "
          "the HR key there itself");
  }
  SUBCASE("bad identity_field") {
    CHECK(error_of(with("  identity_field: HR_ID\n"), hook_env) ==
          "b24sync.yaml:9:19: mapping.identity_field: expected XML_ID or a custom string field "
          "UF_USR_<NAME>, got \"HR_ID\"");
  }
  SUBCASE("unsupported phone region") {
    CHECK(error_of(with("    WORK_PHONE: {from: tel, transform: phone, region: FR}\n"), hook_env) ==
          "b24sync.yaml:9:55: mapping.fields.WORK_PHONE.region: unsupported region \"FR\" (supported: RU, "
          "KZ, BY, UA, US, CA, DE, GB)");
  }
  SUBCASE("an option of another transform") {
    CHECK(error_of(with("    WORK_PHONE: {from: tel, region: RU}\n"), hook_env) ==
          "b24sync.yaml:9:37: mapping.fields.WORK_PHONE.region: only with transform: phone");
  }
  SUBCASE("bad date format") {
    CHECK(error_of(with("    PERSONAL_BIRTHDAY: {from: b, format: \"%d.%m\"}\n"), hook_env) ==
          "b24sync.yaml:9:42: mapping.fields.PERSONAL_BIRTHDAY.format: bad date format \"%d.%m\": needs a "
          "year (%Y or %y), "
          "a month (%m) and a day (%d)");
  }
  SUBCASE("unknown source in per-field precedence") {
    CHECK(error_of(with("  precedence: {EMAIL: [hr, ad]}\n"), hook_env) ==
          "b24sync.yaml:9:28: mapping.precedence.EMAIL: no source named \"ad\"");
  }
  SUBCASE("precedence for a field that is not mapped") {
    CHECK(error_of(with("  precedence: {EMAL: [hr]}\n"), hook_env) ==
          "b24sync.yaml:9:16: mapping.precedence.EMAL: not a mapped field (did you mean \"EMAIL\"?)");
  }
  SUBCASE("active rule with disabled_bit and inactive_when") {
    CHECK(error_of(with("  active: {from: uac, disabled_bit: 2, inactive_when: nonempty}\n"), hook_env) ==
          "b24sync.yaml:9:55: mapping.active.inactive_when: give either disabled_bit or inactive_when");
  }
  SUBCASE("active rule equals without values") {
    CHECK(error_of(with("  active: [{from: status, inactive_when: equals}]\n"), hook_env) ==
          "b24sync.yaml:9:12: mapping.active[0].values: missing required key");
  }
  SUBCASE("bad max_deactivations share") {
    CHECK(error_of(with("policy: {max_deactivations: \"abc%\"}\n"), hook_env) ==
          "b24sync.yaml:9:29: policy.max_deactivations: expected a share like 0.5 or \"50%\", got \"abc%\"");
  }
  SUBCASE("ratio above 1") {
    CHECK(error_of(with("policy: {min_source_ratio: 2}\n"), hook_env) ==
          "b24sync.yaml:9:28: policy.min_source_ratio: must be between 0 and 1, got 2");
  }
  SUBCASE("protected entry neither an ID nor an e-mail") {
    CHECK(error_of(with("policy: {protected: [1, bob]}\n"), hook_env) ==
          "b24sync.yaml:9:25: policy.protected[1]: expected a portal user ID or an e-mail, got \"bob\"");
  }
  SUBCASE("bad metrics address") {
    CHECK(error_of(with("metrics: {listen: localhost}\n"), hook_env) ==
          "b24sync.yaml:9:19: metrics.listen: expected host:port (e.g. 127.0.0.1:9464), got \"localhost\"");
  }
  SUBCASE("no portal credentials") {
    CHECK(error_of(replacing(2, "  url: https://corp.bitrix24.ru"), hook_env) ==
          "b24sync.yaml:2:3: portal: needs webhook, webhook_file or oauth");
  }
  SUBCASE("webhook and oauth together") {
    CHECK(error_of(replacing(2, "  webhook: ${HOOK}\n  oauth: {client_id: x}"), hook_env) ==
          "b24sync.yaml:3:10: portal.oauth: give either a webhook or oauth, not both");
  }
  SUBCASE("portal url that is not http(s)") {
    CHECK(error_of(replacing(2, "  url: ftp://corp\n  webhook: ${HOOK}"), hook_env) ==
          "b24sync.yaml:2:8: portal.url: expected an http:// or https:// URL, got \"ftp://corp\"");
  }
}
