// Secrets: redaction, webhook splitting, *_file with CREDENTIALS_DIRECTORY, permission warnings, no leaks.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <sstream>

#include "config/secret.hpp"
#include "config_test_support.hpp"

using namespace b24sync::config;
using namespace b24sync::config::test;
namespace fs = std::filesystem;

namespace {

std::string doc_with_portal(std::string_view portal_lines) {
  return "portal:\n" + std::string{portal_lines} + std::string{minimal_rest};
}

}  // namespace

TEST_CASE("a secret prints, streams and formats as ***") {
  secret s{"s3cr3tc0de42"};
  std::ostringstream os;
  os << s;
  CHECK(os.str() == "***");
  CHECK(fmt::format("{}", s) == "***");
  CHECK(fmt::format("token={:>5}", s) == "token=  ***");
  CHECK(to_string(s) == "***");
  CHECK(s.reveal() == "s3cr3tc0de42");
  CHECK(fmt::format("{}", secret{}) == "***");
}

TEST_CASE("the webhook URL is split into portal, user id and a secret code") {
  const config c = parse(minimal(), hook_env).cfg;
  CHECK(c.portal.webhook.portal_url == "https://corp.bitrix24.ru");
  CHECK(c.portal.webhook.user_id == 1);
  CHECK(c.portal.webhook.code.reveal() == "s3cr3tc0de42");
  // The code is in no plain string of the result.
  CHECK(c.portal.url.find("s3cr3t") == std::string::npos);
  CHECK(c.portal.webhook.portal_url.find("s3cr3t") == std::string::npos);

  SUBCASE("without the trailing slash, with a port") {
    const config d = parse(minimal(), {{"HOOK", "https://b24.corp.local:8443/rest/17/abc_DEF-9"}}).cfg;
    CHECK(d.portal.url == "https://b24.corp.local:8443");
    CHECK(d.portal.webhook.user_id == 17);
    CHECK(d.portal.webhook.code.reveal() == "abc_DEF-9");
  }
  SUBCASE("short form with portal.url") {
    const config d =
        parse(doc_with_portal("  url: http://127.0.0.1:8080\n  webhook: ${HOOK}\n"), {{"HOOK", "5/xyz\n"}})
            .cfg;
    CHECK(d.portal.webhook.portal_url == "http://127.0.0.1:8080");
    CHECK(d.portal.webhook.user_id == 5);
    CHECK(d.portal.webhook.code.reveal() == "xyz");
  }
}

TEST_CASE("malformed webhooks are reported without the secret") {
  auto check_no_leak = [](const std::string& hook, const std::string& expected) {
    CAPTURE(hook);
    std::string e = error_of(minimal(), {{"HOOK", hook}});
    CHECK(e == "b24sync.yaml:2:12: portal.webhook: " + expected +
                   " (expected https://<portal>/rest/<user id>/<code>/; the value is not shown)");
    CHECK(e.find("s3cr3t") == std::string::npos);
  };
  check_no_leak("https://corp.bitrix24.ru/s3cr3t/", "not a webhook URL");
  check_no_leak("https://corp.bitrix24.ru/rest/admin/s3cr3t/", "the webhook's user id is not a number");
  check_no_leak("https://corp.bitrix24.ru/rest/1/s3cr3t!x/", "the webhook code has unexpected characters");
  check_no_leak("https://corp.bitrix24.ru/rest/1/", "no code in the webhook");
  check_no_leak("https://corp.bitrix24.ru/rest/0/s3cr3t/", "the webhook's user id must be positive");
  check_no_leak("s3cr3t", "a webhook without its URL needs portal.url");
  // A different portal in url and webhook: the portal address is shown, the code is not.
  std::string e =
      error_of(doc_with_portal("  url: https://other.bitrix24.ru\n  webhook: ${HOOK}\n"), hook_env);
  CHECK(e ==
        "b24sync.yaml:3:12: portal.webhook: the webhook's portal https://corp.bitrix24.ru differs from "
        "portal.url "
        "https://other.bitrix24.ru");
  CHECK(e.find("s3cr3t") == std::string::npos);
}

TEST_CASE("*_file secrets") {
  temp_dir creds;
  temp_dir conf;

  SUBCASE("a relative name is looked up in CREDENTIALS_DIRECTORY, the trailing newline dropped") {
    creds.write("webhook", "https://corp.bitrix24.ru/rest/3/fromfile\n");
    loaded_config l = parse(doc_with_portal("  webhook_file: webhook\n"),
                            {{"CREDENTIALS_DIRECTORY", creds.path().string()}}, conf.path());
    CHECK(l.cfg.portal.webhook.user_id == 3);
    CHECK(l.cfg.portal.webhook.code.reveal() == "fromfile");
    CHECK(l.warnings.empty());
  }
  SUBCASE("without CREDENTIALS_DIRECTORY it is taken next to the config") {
    conf.write("hook", "https://corp.bitrix24.ru/rest/4/nextto\r\n");
    loaded_config l = parse(doc_with_portal("  webhook_file: hook\n"), {}, conf.path());
    CHECK(l.cfg.portal.webhook.code.reveal() == "nextto");
  }
  SUBCASE("an absolute name is used as is") {
    auto p = creds.write("abs", "https://corp.bitrix24.ru/rest/4/absolute");
    loaded_config l = parse(doc_with_portal("  webhook_file: " + p.string() + "\n"),
                            {{"CREDENTIALS_DIRECTORY", conf.path().string()}});
    CHECK(l.cfg.portal.webhook.code.reveal() == "absolute");
  }
  SUBCASE("a file readable by group or others gives a warning, not an error") {
    auto p = creds.write(
        "webhook", "https://corp.bitrix24.ru/rest/3/c0de\n",
        fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read);
    loaded_config l = parse(doc_with_portal("  webhook_file: webhook\n"),
                            {{"CREDENTIALS_DIRECTORY", creds.path().string()}});
    REQUIRE(l.warnings.size() == 1);
    CHECK(l.warnings[0] ==
          "b24sync.yaml:2:17: portal.webhook_file: secret file " + p.string() +
              " is readable by group or others; chmod 600 it (or use systemd LoadCredential=)");
    CHECK(l.warnings[0].find("c0de") == std::string::npos);
  }
  SUBCASE("a missing file is an error naming it") {
    CHECK(error_of(doc_with_portal("  webhook_file: nope\n"),
                   {{"CREDENTIALS_DIRECTORY", creds.path().string()}}) ==
          "b24sync.yaml:2:17: portal.webhook_file: cannot read secret file " +
              (creds.path() / "nope").string() + ": no such file");
  }
  SUBCASE("a file name from ${VAR} is not shown: the variable may hold the secret itself") {
    std::string e =
        error_of(doc_with_portal("  webhook_file: ${LEAKY}\n"), {{"LEAKY", "/s3cr3t-not-a-path"}});
    CHECK(e ==
          "b24sync.yaml:2:17: portal.webhook_file: cannot read secret file named by ${LEAKY}: no such file");
  }
  SUBCASE("an empty file is an error") {
    creds.write("empty", "\n");
    CHECK(error_of(doc_with_portal("  webhook_file: empty\n"),
                   {{"CREDENTIALS_DIRECTORY", creds.path().string()}}) ==
          "b24sync.yaml:2:17: portal.webhook_file: secret file " + (creds.path() / "empty").string() +
              " is empty");
  }
  SUBCASE("a folder is not a secret file") {
    CHECK(error_of(doc_with_portal("  webhook_file: " + creds.path().string() + "\n")) ==
          "b24sync.yaml:2:17: portal.webhook_file: secret file " + creds.path().string() +
              " is not a regular file");
  }
  SUBCASE("webhook and webhook_file together") {
    CHECK(error_of(doc_with_portal("  webhook: ${HOOK}\n  webhook_file: x\n"), hook_env) ==
          "b24sync.yaml:3:17: portal.webhook_file: give either webhook or webhook_file, not both");
  }
  SUBCASE("OAuth client secret and LDAP password from files") {
    creds.write("client", "cl13nt\n");
    creds.write("ldap", "p4ss\n");
    std::string yaml =
        "portal:\n  url: https://corp.bitrix24.ru\n  oauth: {client_id: app, client_secret_file: client, "
        "refresh_token_file: /var/lib/b24sync/token}\n"
        "sources:\n  - {name: d, type: ldap, uri: ldaps://dc, base: \"dc=corp\", bind_dn: \"cn=sync\", "
        "password_file: ldap, key: employeeNumber}\n"
        "mapping:\n  fields: {EMAIL: \"{mail}\", NAME: \"{givenName}\"}\n";
    loaded_config l = parse(yaml, {{"CREDENTIALS_DIRECTORY", creds.path().string()}});
    CHECK(l.cfg.portal.oauth.client_secret.reveal() == "cl13nt");
    CHECK(l.cfg.sources[0].password.reveal() == "p4ss");
    CHECK(fmt::format("{}", l.cfg.sources[0].password) == "***");
    CHECK(l.warnings.empty());
  }
  SUBCASE("a bind DN without a password file") {
    std::string yaml =
        "portal:\n  webhook: ${HOOK}\nsources:\n  - {name: d, type: ldap, uri: ldap://dc, base: b, bind_dn: "
        "\"cn=x\", key: k}\nmapping:\n  fields: {EMAIL: \"{mail}\", NAME: \"{n}\"}\n";
    CHECK(error_of(yaml, hook_env) == "b24sync.yaml:4:61: sources[0].bind_dn: a bind DN needs password_file");
  }
}

TEST_CASE("inline secrets: clear text warns, ${ENV} does not") {
  loaded_config clear = parse(doc_with_portal("  webhook: https://corp.bitrix24.ru/rest/1/inl1ne/\n"));
  REQUIRE(clear.warnings.size() == 1);
  CHECK(clear.warnings[0] ==
        "b24sync.yaml:2:12: portal.webhook: secret written in the config file in clear; use webhook_file or "
        "${VARIABLE}");
  CHECK(parse(minimal(), hook_env).warnings.empty());
}

TEST_CASE("secret values never appear in error messages") {
  // An error after the secret has been read still does not show it.
  std::string e = error_of(minimal() + "state: {path: {bad: 1}}\n", hook_env);
  CHECK(e == "b24sync.yaml:9:15: state.path: expected a string, got a map");
  CHECK(e.find("s3cr3t") == std::string::npos);
  // A plain-http portal is a warning naming the portal only.
  loaded_config l = parse(minimal(), {{"HOOK", "http://corp.example/rest/1/s3cr3tc0de42/"}});
  REQUIRE(l.warnings.size() == 1);
  CHECK(l.warnings[0].find("s3cr3t") == std::string::npos);
}
