// The `notify:` section: defaults, each accepted form, and one subcase per malformed input.
#include <doctest/doctest.h>

#include "config_test_support.hpp"

using namespace b24sync::config;
using namespace b24sync::config::test;

namespace {

// The minimal document (lines 1-8) with `extra` from line 9 on.
std::string with(std::string_view extra) {
  return minimal() + std::string{extra};
}

}  // namespace

TEST_CASE("notify is off when the section is absent") {
  auto c = parse(minimal(), hook_env).cfg;
  CHECK_FALSE(c.notify.enabled);
  CHECK(c.notify.to.empty());
  CHECK(c.notify.via == notify_via::message);
}

TEST_CASE("notify with only `to` sends every event through im.message.add") {
  auto loaded = parse(with("notify:\n  to: \"1\"\n"), hook_env);
  const auto& n = loaded.cfg.notify;
  CHECK(n.enabled);
  CHECK(n.to == "1");
  CHECK(n.on_guard);
  CHECK(n.on_failure);
  CHECK(n.on_recovery);
  CHECK(n.via == notify_via::message);
  CHECK(loaded.warnings.empty());
}

TEST_CASE("notify: a chat dialog, a subset of events, an unquoted user ID, a single word for `on`") {
  SUBCASE("chat and two events") {
    auto n = parse(with("notify: {to: chat42, on: [guard, recovery], via: message}\n"), hook_env).cfg.notify;
    CHECK(n.to == "chat42");
    CHECK(n.on_guard);
    CHECK_FALSE(n.on_failure);
    CHECK(n.on_recovery);
  }
  SUBCASE("unquoted number, one word") {
    auto n = parse(with("notify: {to: 17, on: failure}\n"), hook_env).cfg.notify;
    CHECK(n.to == "17");
    CHECK_FALSE(n.on_guard);
    CHECK(n.on_failure);
    CHECK_FALSE(n.on_recovery);
  }
}

TEST_CASE("notify via system: a user ID is accepted, with a warning for a webhook portal") {
  auto loaded = parse(with("notify: {to: \"5\", via: system}\n"), hook_env);
  CHECK(loaded.cfg.notify.via == notify_via::system);
  REQUIRE(loaded.warnings.size() == 1);
  CHECK(loaded.warnings[0].find("b24sync.yaml:9:") == 0);
  CHECK(loaded.warnings[0].find("notify.via") != std::string::npos);
  CHECK(loaded.warnings[0].find("s3cr3tc0de42") == std::string::npos);
}

TEST_CASE("malformed notify sections name file:line:column and the key") {
  SUBCASE("missing to") {
    CHECK(error_of(with("notify: {on: [guard]}\n"), hook_env) ==
          "b24sync.yaml:9:9: notify.to: missing required key");
  }
  SUBCASE("bare notify:") {
    CHECK(error_of(with("notify:\n"), hook_env).find("notify: needs at least `to:`") != std::string::npos);
  }
  SUBCASE("unknown event word") {
    CHECK(
        error_of(with("notify: {to: \"1\", on: [guard, faliure]}\n"), hook_env) ==
        "b24sync.yaml:9:31: notify.on[1]: bad value \"faliure\" (expected one of: guard, failure, recovery) "
        "(did you mean \"failure\"?)");
  }
  SUBCASE("empty event list") {
    CHECK(error_of(with("notify: {to: \"1\", on: []}\n"), hook_env) ==
          "b24sync.yaml:9:23: notify.on: empty list: name at least one of guard, failure, recovery");
  }
  SUBCASE("via system to a chat") {
    CHECK(
        error_of(with("notify: {to: chat42, via: system}\n"), hook_env) ==
        "b24sync.yaml:9:14: notify.to: via: system (im.notify.system.add) notifies one user; expected a user "
        "ID, got \"chat42\"");
  }
  SUBCASE("unknown via") {
    CHECK(error_of(with("notify: {to: \"1\", via: email}\n"), hook_env) ==
          "b24sync.yaml:9:24: notify.via: bad value \"email\" (expected one of: message, system)");
  }
  SUBCASE("to is neither a user nor a chat") {
    CHECK(error_of(with("notify: {to: \"@admin\"}\n"), hook_env) ==
          "b24sync.yaml:9:14: notify.to: expected a user ID (\"1\") or a chat (\"chat42\"), got \"@admin\"");
    CHECK(error_of(with("notify: {to: \"0\"}\n"), hook_env).find("notify.to: expected a user ID") !=
          std::string::npos);
    CHECK(error_of(with("notify: {to: chat}\n"), hook_env).find("notify.to: expected a user ID") !=
          std::string::npos);
  }
  SUBCASE("unknown key with a hint") {
    CHECK(error_of(with("notify: {to: \"1\", onn: [guard]}\n"), hook_env) ==
          "b24sync.yaml:9:19: notify.onn: unknown key (did you mean \"on\"?)");
  }
}
