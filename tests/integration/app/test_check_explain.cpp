// `b24sync check` and `b24sync explain` as a user runs them: the real executable, the demo config and
// sources, and the portal emulator on a loopback port. Asserts exit codes, output and secrecy.
#include "cli_fixture.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace b24test_cli;

TEST_CASE("check on the demo config and portal: every check passes, exit 0, the secret never printed") {
  demo_env env;
  env.write_webhook(std::string("1/") + webhook_code);
  auto r = env.run("check -c '" + demo_config() + "'");
  INFO(r.output);
  CHECK(r.exit == 0);
  CHECK(r.output.find("verdict: OK") != std::string::npos);
  CHECK(r.output.find("source  zup (csv)") != std::string::npos);
  CHECK(r.output.find("cp1251") != std::string::npos);           // auto-detected from the 1C export
  CHECK(r.output.find("10 (dismissed included)") != std::string::npos);  // all seeded users, extranet too
  CHECK(r.output.find("as user 1 ") != std::string::npos);
  CHECK(r.output.find("FAILED") == std::string::npos);
  CHECK(r.output.find(webhook_code) == std::string::npos);
  // The bad rows of the demo export are reported with file:line.
  CHECK(r.output.find("hr.csv:12") != std::string::npos);
}

TEST_CASE("check with a wrong webhook code: auth fails, exit 69, neither code printed") {
  demo_env env;
  env.write_webhook("1/wrong0code0here");
  auto r = env.run("check -c '" + demo_config() + "'");
  INFO(r.output);
  CHECK(r.exit == 69);
  CHECK(r.output.find("FAILED") != std::string::npos);
  CHECK(r.output.find("wrong0code0here") == std::string::npos);
  CHECK(r.output.find(webhook_code) == std::string::npos);
}

TEST_CASE("check with a misspelt config key: exit 78 naming file, line and the likely key") {
  demo_env env;
  env.write_webhook(std::string("1/") + webhook_code);
  auto cfg = env.config_variant("  on_missing: ignore", "  on_mising: ignore");
  auto r = env.run("check -c '" + cfg.string() + "'");
  INFO(r.output);
  CHECK(r.exit == 78);
  CHECK(r.output.find(cfg.filename().string() + ":") != std::string::npos);
  CHECK(r.output.find("on_missing") != std::string::npos);  // the "did you mean" hint
}

TEST_CASE("check with a cron expression that does not parse: exit 78 naming the file, the key and the field") {
  demo_env env;
  env.write_webhook(std::string("1/") + webhook_code);
  const std::string last = "reports: {dir: \"${B24_DEMO_WORK}/reports\", keep: 10}";
  auto cfg = env.config_variant(last, last + "\nschedule: {cron: \"*/15 * * * mon-fro\"}");
  auto r = env.run("check -c '" + cfg.string() + "'");
  INFO(r.output);
  CHECK(r.exit == 78);
  CHECK(r.output.find(cfg.filename().string() + ": schedule: cron \"*/15 * * * mon-fro\": day-of-week") !=
        std::string::npos);
  auto good = env.run("check -c '" + env.config_variant(last, last + "\nschedule: {cron: \"*/15 * * * mon-fri\"}")
                                          .string() + "'");
  INFO(good.output);
  CHECK(good.exit == 0);
  CHECK(good.output.find("daemon schedule cron") != std::string::npos);
}

TEST_CASE("check with a missing source file: exit 65 naming the file") {
  demo_env env;
  env.write_webhook(std::string("1/") + webhook_code);
  auto cfg = env.config_variant("path: hr.csv", "path: no-such-export.csv");
  auto r = env.run("check -c '" + cfg.string() + "'");
  INFO(r.output);
  CHECK(r.exit == 65);
  CHECK(r.output.find("no-such-export.csv") != std::string::npos);
}

TEST_CASE("check against a portal that is not listening: exit 69") {
  demo_env env;
  env.write_webhook(std::string("1/") + webhook_code);
  env.emu.stop();
  auto r = env.run("check -c '" + demo_config() + "'");
  INFO(r.output);
  CHECK(r.exit == 69);
}

TEST_CASE("explain shows each step from the 1C export to Bitrix24 fields") {
  demo_env env;
  env.write_webhook(std::string("1/") + webhook_code);
  auto r = env.run("explain -c '" + demo_config() + "' 0003");
  INFO(r.output);
  CHECK(r.exit == 0);
  CHECK(r.output.find("СМИРНОВА") != std::string::npos);                  // the source value
  CHECK(r.output.find("LAST_NAME = Смирнова") != std::string::npos);     // after trim | title
  CHECK(r.output.find("EMAIL = hr@romashka.example") != std::string::npos);

  auto missing = env.run("explain -c '" + demo_config() + "' 9999");
  CHECK(missing.exit == 64);
}
