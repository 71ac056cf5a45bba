// app/notify: which finished run gets a notification, its wording, and the REST call that carries it.
#include "app/notify.hpp"

#include <doctest/doctest.h>

#include <string>
#include <utility>

using namespace b24sync;
using namespace b24sync::app;

namespace {

config::notify_config all_events(std::string to = "1") {
  config::notify_config c;
  c.enabled = true;
  c.to = std::move(to);
  return c;
}

run_summary run_with(int exit, std::string message) {
  run_summary r;
  r.exit = exit;
  r.message = std::move(message);
  return r;
}

run_summary guard_run() {
  run_summary r =
      run_with(3, "stopped by a safety guard: 4 deactivations exceed the limit of 3; nothing written");
  r.plan.emplace();
  r.plan->guards.push_back(
      {"max_deactivations", "4 deactivations exceed policy.max_deactivations = 3", 4, 3});
  r.plan->guards.push_back({"max_rejected_ratio", "30% of rows rejected, above 10%", 0.3, 0.1});
  r.report_files = {"/var/lib/b24sync/reports/run-20261202T010000Z-7.json",
                    "/var/lib/b24sync/reports/run-20261202T010000Z-7.html"};
  return r;
}

run_summary failed_ops_run() {
  run_summary r = run_with(
      4, "finished with failures: 1 of 3 operation(s) applied, 2 failed; 2 request(s), 0 answered 503");
  r.result.emplace();
  r.result->users.resize(3);
  r.result->users[0].status = sync::op_status::done;
  r.result->users[1].status = sync::op_status::failed;
  r.result->users[2].status = sync::op_status::failed;
  return r;
}

state::run_record rec(std::int64_t id, state::run_outcome o, std::string finished) {
  state::run_record r;
  r.id = id;
  r.outcome = o;
  r.finished_at = std::move(finished);
  return r;
}

notify_history after(std::optional<state::run_outcome> previous) {
  notify_history h;
  h.previous = previous;
  return h;
}

}  // namespace

TEST_CASE("a tripped guard: one guard notification listing every guard's reason and the report") {
  auto n = decide_notification(all_events(), guard_run(), after(state::run_outcome::ok));
  REQUIRE(n);
  CHECK(n->event == notify_event::guard);
  CHECK(n->text.rfind("b24sync: a safety guard stopped the sync; nothing was written\n", 0) == 0);
  CHECK(n->text.find("- max_deactivations: 4 deactivations exceed policy.max_deactivations = 3") !=
        std::string::npos);
  CHECK(n->text.find("- max_rejected_ratio: 30% of rows rejected, above 10%") != std::string::npos);
  CHECK(n->text.find("report: /var/lib/b24sync/reports/run-20261202T010000Z-7.json") != std::string::npos);
  CHECK(n->text.find(".html") == std::string::npos);  // one report path is enough
}

TEST_CASE("a guard stop without guard entries (a drifted reviewed plan) quotes the run's message") {
  auto n = decide_notification(all_events(), run_with(3, "the portal changed since plan.json was made"),
                               after({}));
  REQUIRE(n);
  CHECK(n->event == notify_event::guard);
  CHECK(n->text.find("- the portal changed since plan.json was made") != std::string::npos);
}

TEST_CASE("a failure: the error line, the failed-operation counts, the exit code") {
  SUBCASE("permanent operation failures (exit 4)") {
    auto n = decide_notification(all_events(), failed_ops_run(), after(state::run_outcome::ok));
    REQUIRE(n);
    CHECK(n->event == notify_event::failure);
    CHECK(n->text.rfind("b24sync: the sync failed (exit 4)\nfinished with failures:", 0) == 0);
    CHECK(n->text.find("1 operation(s) applied, 2 failed permanently") != std::string::npos);
  }
  SUBCASE("portal unreachable before any plan (exit 69)") {
    auto n = decide_notification(all_events(), run_with(69, "portal snapshot failed: connection refused"),
                                 after({}));
    REQUIRE(n);
    CHECK(n->event == notify_event::failure);
    CHECK(n->text == "b24sync: the sync failed (exit 69)\nportal snapshot failed: connection refused");
  }
  SUBCASE("a multi-line error is flattened and a huge one cut on a character boundary") {
    std::string long_message = "line one\nline two " + std::string(1000, 'x') + "яяя";
    auto n = decide_notification(all_events(), run_with(65, long_message), after({}));
    REQUIRE(n);
    const auto second = n->text.substr(n->text.find('\n') + 1);
    CHECK(second.find('\n') == std::string::npos);
    CHECK(second.rfind("line one line two ", 0) == 0);
    CHECK(second.size() < 420);
    CHECK(second.ends_with("..."));
  }
}

TEST_CASE("recovery: a success after a run that was not one; never after a success or on a first run") {
  const auto ok = run_with(0, "done: 3 of 3 operation(s) applied, 0 failed; 1 request(s), 0 answered 503");
  SUBCASE("after a guard trip") {
    auto n = decide_notification(all_events(), ok, after(state::run_outcome::guard_tripped));
    REQUIRE(n);
    CHECK(n->event == notify_event::recovery);
    CHECK(n->text.rfind(
              "b24sync: the sync succeeded again (the previous run ended: guard_tripped)\ndone: 3 of 3", 0) ==
          0);
  }
  SUBCASE("after a failure, exit 2 counts as success too") {
    auto n = decide_notification(all_events(), run_with(2, "3 change(s)"), after(state::run_outcome::failed));
    REQUIRE(n);
    CHECK(n->event == notify_event::recovery);
  }
  SUBCASE("first run: no previous run, no recovery") {
    CHECK_FALSE(decide_notification(all_events(), ok, after(std::nullopt)));
  }
  SUBCASE("success after success: nothing") {
    CHECK_FALSE(decide_notification(all_events(), ok, after(state::run_outcome::ok)));
    CHECK_FALSE(decide_notification(all_events(), ok, after(state::run_outcome::changes)));
  }
}

TEST_CASE("a guard or a failure repeated run after run is announced once; the recovery ends the streak") {
  SUBCASE("guard after guard") {
    CHECK_FALSE(decide_notification(all_events(), guard_run(), after(state::run_outcome::guard_tripped)));
  }
  SUBCASE("failure after failure, of any kind") {
    for (auto previous : {state::run_outcome::failed, state::run_outcome::partial_failure}) {
      CAPTURE(static_cast<int>(previous));
      CHECK_FALSE(decide_notification(all_events(), failed_ops_run(), after(previous)));
    }
  }
  SUBCASE("a guard after a failure and a failure after a guard are news") {
    CHECK(decide_notification(all_events(), guard_run(), after(state::run_outcome::failed)));
    CHECK(decide_notification(all_events(), failed_ops_run(), after(state::run_outcome::guard_tripped)));
  }
  SUBCASE("after a success, the next failure is news again") {
    CHECK(decide_notification(all_events(), failed_ops_run(), after(state::run_outcome::ok)));
    CHECK(decide_notification(all_events(), guard_run(), after(state::run_outcome::changes)));
  }
}

TEST_CASE("an event not listed in notify.on sends nothing; the others still do") {
  auto c = all_events();
  c.on_guard = false;
  CHECK_FALSE(decide_notification(c, guard_run(), after({})));
  CHECK(decide_notification(c, failed_ops_run(), after({})));
  c = all_events();
  c.on_failure = false;
  CHECK_FALSE(decide_notification(c, failed_ops_run(), after({})));
  CHECK(decide_notification(c, guard_run(), after({})));
  c = all_events();
  c.on_recovery = false;
  CHECK_FALSE(decide_notification(c, run_with(0, "done"), after(state::run_outcome::failed)));
}

TEST_CASE("notify off (no notify: section) sends nothing for any run") {
  config::notify_config off;
  CHECK_FALSE(decide_notification(off, guard_run(), after({})));
  CHECK_FALSE(decide_notification(off, failed_ops_run(), after({})));
  CHECK_FALSE(decide_notification(off, run_with(0, "done"), after(state::run_outcome::failed)));
}

TEST_CASE("a run stopped by SIGTERM (daemon shutdown) is not reported as a failure") {
  notify_history h;
  h.stop_requested = true;
  CHECK_FALSE(decide_notification(all_events(), run_with(75, "interrupted: 10 of 50 applied"), h));
  CHECK(decide_notification(all_events(), run_with(75, "interrupted: 10 of 50 applied"), after({})));
}

TEST_CASE("the notification text carries no portal address and no webhook code") {
  // The run message is secret-free by contract; the builder must not add the portal or credentials.
  const std::pair<run_summary, state::run_outcome> runs[] = {{guard_run(), state::run_outcome::ok},
                                                             {failed_ops_run(), state::run_outcome::ok},
                                                             {run_with(0, "done"), state::run_outcome::failed}};
  for (const auto& [run, previous] : runs) {
    auto n = decide_notification(all_events(), run, after(previous));
    REQUIRE(n);
    CHECK(n->text.find("/rest/") == std::string::npos);
    CHECK(n->text.find("https://") == std::string::npos);
    CHECK(n->text.find("bitrix24") == std::string::npos);
  }
}

TEST_CASE("the REST call: im.message.add to a dialog, or im.notify.system.add to a user") {
  notification n{notify_event::guard, "b24sync: x"};
  SUBCASE("message to a chat") {
    auto call = make_notify_call(all_events("chat42"), n);
    CHECK(call.method == "im.message.add");
    CHECK(call.params.at("DIALOG_ID").as_string() == "chat42");
    CHECK(call.params.at("MESSAGE").as_string() == "b24sync: x");
    CHECK(call.params.at("SYSTEM").as_string() == "Y");
    CHECK(call.params.at("URL_PREVIEW").as_string() == "N");
  }
  SUBCASE("system notification to a user") {
    auto c = all_events("17");
    c.via = config::notify_via::system;
    auto call = make_notify_call(c, n);
    CHECK(call.method == "im.notify.system.add");
    CHECK(call.params.at("USER_ID").as_int64() == 17);
    CHECK(call.params.at("MESSAGE").as_string() == "b24sync: x");
    CHECK_FALSE(call.params.contains("DIALOG_ID"));
  }
}

TEST_CASE("the previous run is the newest finished one other than this run; crashed and stopped runs are skipped") {
  std::vector<state::run_record> recent = {rec(9, state::run_outcome::ok, "2026-12-02T01:00:00Z"),
                                           rec(8, state::run_outcome::running, ""),
                                           rec(7, state::run_outcome::interrupted, "2026-12-02T00:30:00Z"),
                                           rec(6, state::run_outcome::guard_tripped, "2026-12-02T00:00:00Z")};
  CHECK(previous_outcome(recent, 9) == state::run_outcome::guard_tripped);
  CHECK(previous_outcome(recent, 10) == state::run_outcome::ok);
  CHECK_FALSE(previous_outcome({rec(9, state::run_outcome::ok, "x")}, 9));
  CHECK_FALSE(previous_outcome({rec(9, state::run_outcome::interrupted, "x")}, 10));
  CHECK_FALSE(previous_outcome({}, 1));
}

TEST_CASE("a run the operator stopped is looked past: no false recovery after it, no failure swallowed") {
  notify_history h;
  // Run 12 follows a restart (11 stopped mid-run) after a good run 10.
  h.previous = previous_outcome({rec(12, state::run_outcome::running, ""),
                                 rec(11, state::run_outcome::interrupted, "2026-12-02T02:00:00Z"),
                                 rec(10, state::run_outcome::ok, "2026-12-02T01:00:00Z")},
                                12);
  auto failure = decide_notification(all_events(), failed_ops_run(), h);
  REQUIRE(failure);
  CHECK(failure->event == notify_event::failure);
  CHECK_FALSE(decide_notification(all_events(), run_with(0, "done"), h));
  // The same restart inside an announced failure streak: the streak holds, a success recovers.
  h.previous = previous_outcome({rec(12, state::run_outcome::running, ""),
                                 rec(11, state::run_outcome::interrupted, "2026-12-02T02:00:00Z"),
                                 rec(10, state::run_outcome::failed, "2026-12-02T01:00:00Z")},
                                12);
  CHECK_FALSE(decide_notification(all_events(), failed_ops_run(), h));
  auto recovery = decide_notification(all_events(), run_with(0, "done"), h);
  REQUIRE(recovery);
  CHECK(recovery->event == notify_event::recovery);
}
