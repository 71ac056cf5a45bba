// Run notifications end to end: `b24sync sync` with `notify:` against the emulator (seeded with the
// demo portal, its webhook granted the `im` scope) — what reaches the portal, and what never does.
#include "cli_fixture.hpp"

#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <string>

using namespace b24test_cli;

namespace {

constexpr const char* demo_reports = "reports: {dir: \"${B24_DEMO_WORK}/reports\", keep: 10}";
// The demo export has 2 bad rows of 11: a 10% limit trips the max_rejected_ratio guard.
constexpr const char* demo_rejects = "max_rejected_ratio: 0.25";
constexpr const char* strict_rejects = "max_rejected_ratio: 0.1 ";

// The demo portal with `im` added to the webhook's scopes (the demo itself does not need it).
void grant_im(demo_env& env) {
  auto seed = boost::json::parse(read_file(demo_dir / "portal.json"));
  seed.as_object()["webhooks"].as_array()[0].as_object()["scopes"].as_array().emplace_back("im");
  env.emu.with_portal([&](b24emu::portal& p) { p.load_seed(seed); });
}

boost::json::array notifications(demo_env& env) {
  return env.emu.with_portal([](b24emu::portal& p) { return p.notifications(); }).as_array();
}

std::string message_of(const boost::json::value& n) {
  return std::string(n.at("message").as_string());
}

std::string cfg_arg(const fs::path& p) {
  return "-c '" + p.string() + "'";
}

// A demo config variant: `notify` appended (empty = none), the reject limit strict or as in the demo.
fs::path demo_variant(demo_env& env, const std::string& notify, bool strict,
                      const std::string& source = "hr.csv") {
  std::string text = read_file(demo_dir / "b24sync.yaml");
  auto replace = [&](const std::string& from, const std::string& to) {
    auto pos = text.find(from);
    REQUIRE(pos != std::string::npos);
    text.replace(pos, from.size(), to);
  };
  if (strict) replace(demo_rejects, strict_rejects);
  if (source != "hr.csv") replace("path: hr.csv", "path: " + source);
  replace(demo_reports, std::string(demo_reports) + (notify.empty() ? "" : "\n" + notify));
  return env.config_variant(read_file(demo_dir / "b24sync.yaml"), text);
}

}  // namespace

TEST_CASE(
    "notify: a tripped guard sends one message with the reason, once per streak; the next good run one recovery") {
  demo_env env;
  env.write_webhook(std::string("1/") + webhook_code);
  grant_im(env);
  const std::string notify = "notify: {to: \"1\"}";

  auto stopped = env.run("sync --yes " + cfg_arg(demo_variant(env, notify, true)));
  INFO(stopped.output);
  CHECK(stopped.exit == 3);
  CHECK(env.writes() == 0);
  auto sent = notifications(env);
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].at("method").as_string() == "im.message.add");
  CHECK(sent[0].at("dialog_id").as_string() == "1");
  const auto text = message_of(sent[0]);
  CHECK(text.rfind("b24sync: a safety guard stopped the sync; nothing was written\n- max_rejected_ratio: ",
                   0) == 0);
  CHECK(text.find("report: " + (env.work / "reports").string()) != std::string::npos);
  CHECK(text.find(webhook_code) == std::string::npos);
  CHECK(text.find(env.emu.base_url()) == std::string::npos);

  // The same guard on the next run (a timer every 15 minutes): already said, nothing more.
  auto still = env.run("sync --yes " + cfg_arg(demo_variant(env, notify, true)));
  INFO(still.output);
  CHECK(still.exit == 3);
  CHECK(notifications(env).size() == 1);

  auto good = env.run("sync --yes " + cfg_arg(demo_variant(env, notify, false)));
  INFO(good.output);
  CHECK(good.exit == 0);
  sent = notifications(env);
  REQUIRE(sent.size() == 2);
  CHECK(message_of(sent[1]).rfind("b24sync: the sync succeeded again (the previous run ended: guard_tripped)",
                                  0) == 0);

  // Success after success: nothing more.
  auto again = env.run("sync --yes " + cfg_arg(demo_variant(env, notify, false)));
  INFO(again.output);
  CHECK(again.exit == 0);
  CHECK(notifications(env).size() == 2);
}

TEST_CASE("notify: without a notify section a tripped guard sends nothing, and `plan` never sends") {
  demo_env env;
  env.write_webhook(std::string("1/") + webhook_code);
  grant_im(env);

  auto off = env.run("sync --yes " + cfg_arg(demo_variant(env, "", true)));
  INFO(off.output);
  CHECK(off.exit == 3);
  CHECK(notifications(env).empty());

  auto plan = env.run("plan " + cfg_arg(demo_variant(env, "notify: {to: \"1\"}", true)));
  INFO(plan.output);
  CHECK(plan.exit == 3);
  CHECK(notifications(env).empty());
  CHECK(env.emu.stats().at("calls").as_object().if_contains("im.message.add") == nullptr);
}

TEST_CASE("notify: an unusable source (exit 65) is reported before any snapshot, through a paced call") {
  demo_env env;
  env.write_webhook(std::string("1/") + webhook_code);
  grant_im(env);
  auto r = env.run("sync --yes " +
                   cfg_arg(demo_variant(env, "notify: {to: \"1\", on: [failure]}", false, "missing.csv")));
  INFO(r.output);
  CHECK(r.exit == 65);
  auto sent = notifications(env);
  REQUIRE(sent.size() == 1);
  CHECK(message_of(sent[0]).rfind("b24sync: the sync failed (exit 65)\n", 0) == 0);
  CHECK(message_of(sent[0]).find(webhook_code) == std::string::npos);
}

TEST_CASE("notify: the portal refusing the notification leaves the exit code alone and logs a warning") {
  demo_env env;
  env.write_webhook(std::string("1/") + webhook_code);
  grant_im(env);
  // User 999 does not exist: im.message.add answers ACCESS_ERROR.
  auto r = env.run("sync --yes " + cfg_arg(demo_variant(env, "notify: {to: \"999\"}", true)));
  INFO(r.output);
  CHECK(r.exit == 3);
  CHECK(notifications(env).empty());
  CHECK(r.output.find("notify: guard to 999 refused by the portal via im.message.add: ACCESS_ERROR") !=
        std::string::npos);
  CHECK(r.output.find(webhook_code) == std::string::npos);

  // Without the im scope the same holds (insufficient_scope), and a good run still exits 0.
  env.emu.with_portal(
      [](b24emu::portal& p) { p.load_seed(boost::json::parse(read_file(demo_dir / "portal.json"))); });
  auto ok = env.run("sync --yes " + cfg_arg(demo_variant(env, "notify: {to: \"1\"}", false)));
  INFO(ok.output);
  CHECK(ok.exit == 0);  // a recovery after the guard trip, refused for want of scope
  CHECK(notifications(env).empty());
  CHECK(ok.output.find("refused by the portal via im.message.add: insufficient_scope") != std::string::npos);
}

TEST_CASE("notify: the daemon's runs notify like `sync`: a guard trip in the first run sends one message") {
  demo_env env;
  env.write_webhook(std::string("1/") + webhook_code);
  grant_im(env);
  auto r =
      env.run("daemon --max-runs 1 " + cfg_arg(demo_variant(env, "notify: {to: \"1\", on: guard}", true)));
  INFO(r.output);
  CHECK(r.exit == 0);  // the daemon itself ran fine; the run inside it stopped at the guard
  CHECK(env.writes() == 0);
  auto sent = notifications(env);
  REQUIRE(sent.size() == 1);
  CHECK(message_of(sent[0]).find("- max_rejected_ratio: ") != std::string::npos);
}

TEST_CASE("notify: `check` fails when the webhook lacks the im scope notify: needs, and passes once granted") {
  demo_env env;
  env.write_webhook(std::string("1/") + webhook_code);
  const auto cfg = demo_variant(env, "notify: {to: \"1\"}", false);
  auto without = env.run("check " + cfg_arg(cfg));
  INFO(without.output);
  CHECK(without.exit == 69);
  CHECK(without.output.find("notify       FAILED  the webhook lacks the im scope") != std::string::npos);
  grant_im(env);
  auto with = env.run("check " + cfg_arg(cfg));
  INFO(with.output);
  CHECK(with.exit == 0);
  CHECK(with.output.find("notify       ok  to 1 via message") != std::string::npos);
}

TEST_CASE("notify: a sync that finds another run holding the lock (exit 75) sends nothing") {
  demo_env env;
  env.write_webhook(std::string("1/") + webhook_code);
  grant_im(env);
  const auto lock_path = env.work / "state.db.lock";
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  REQUIRE(fd >= 0);
  REQUIRE(::flock(fd, LOCK_EX | LOCK_NB) == 0);
  auto r = env.run("sync --yes " + cfg_arg(demo_variant(env, "notify: {to: \"1\"}", false)));
  ::close(fd);
  INFO(r.output);
  CHECK(r.exit == 75);
  CHECK(notifications(env).empty());
  // The control: with the lock free, a failing run of the same portal does notify.
  auto failing = env.run("sync --yes " +
                         cfg_arg(demo_variant(env, "notify: {to: \"1\", on: [failure]}", false, "missing.csv")));
  INFO(failing.output);
  CHECK(failing.exit == 65);
  CHECK(notifications(env).size() == 1);
}
