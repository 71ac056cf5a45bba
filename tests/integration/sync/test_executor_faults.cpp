// tests/integration/sync/test_executor_faults.cpp: the executor when the network and the portal misbehave —
// the fault mix, unanswered adds (applied or not), the operating-time limit crossed inside a batch, a stop
// between chunks, and a crashed run settled by async_reconcile: exact final state, no duplicate invitation.
#include "sync/executor.hpp"

#include "state/store.hpp"
#include "sync_fixture.hpp"

#include <doctest/doctest.h>

#include <set>

using namespace synctest;
namespace st = b24sync::state;

namespace {

// The user.add parameters a create op carries (what the executor sends, minus MESSAGE_TEXT).
json::object add_params(const sy::user_op& u) {
  json::object o;
  for (const auto& ch : u.changes) {
    if (const auto* s = std::get_if<std::string>(&ch.value)) {
      o[ch.field] = *s;
    } else {
      json::array a;
      for (const auto& x : std::get<std::vector<std::string>>(ch.value)) a.emplace_back(json::string(x));
      o[ch.field] = std::move(a);
    }
  }
  return o;
}

// Every create in `ops` is on the portal exactly once with its fields, and invited exactly once.
void check_created_once(emulator& emu, const std::vector<sy::user_op>& ops) {
  int dupes = 0;
  auto by_key = emu.users_by_key(&dupes);
  CHECK(dupes == 0);
  std::size_t creates = 0;
  for (const auto& op : ops) {
    if (op.kind != sy::op_kind::create) continue;
    ++creates;
    CAPTURE(op.key);
    auto it = by_key.find(op.key);
    REQUIRE(it != by_key.end());
    CHECK(text(it->second, "EMAIL") == op.email);
    CHECK(text(it->second, "NAME") == "Name" + op.key);
    CHECK(text(it->second, "LAST_NAME") == "Last" + op.key);
    CHECK(text(it->second, "WORK_POSITION") == "Pos " + op.key);
    CHECK(active(it->second));
  }
  auto inv = emu.invitations();
  std::set<std::string> emails;
  for (auto& x : inv) emails.insert(std::string(x.at("email").as_string()));
  CHECK(inv.size() == creates);
  CHECK(emails.size() == creates);
}

}  // namespace

TEST_CASE("fault run: 10% 503, 2% 500, 1% drop after apply, 2% truncated JSON (+ two forced lost answers) on "
          "1,000 creates and 1,000 updates -> exact final state, every op done or recovered, zero duplicate invitations") {
  emulator emu(make_seed(1000));
  net::io_context ioc;
  bx::client c(ioc, client_config_for(emu), nullptr);
  auto journal = st::store::open_memory();
  auto cfg = base_config();
  cfg.run_id = journal.begin_run(st::run_mode::sync, "2026-12-01T00:00:00Z");
  // The mix is random and a run has only ~50 requests, so the first two (both user.add batches: creates
  // go first) are forced to lose their answers, after the portal applied them, to be sure unknown
  // outcomes are exercised; the mix then hits whatever comes next.
  emu.faults(json::object{{"seed", 20261201},
                          {"rules", json::array{{{"fault", "close_after_apply"}, {"p", 1.0}, {"count", 1}},
                                                {{"fault", "truncated_json"}, {"p", 1.0}, {"count", 1}},
                                                {{"fault", "503"}, {"p", 0.10}},
                                                {{"fault", "500"}, {"p", 0.02}},
                                                {{"fault", "close_after_apply"}, {"p", 0.01}},
                                                {{"fault", "truncated_json"}, {"p", 0.02}}}}});

  std::vector<sy::user_op> ops;
  for (int i = 0; i < 1000; ++i) ops.push_back(create_op("F" + std::to_string(i)));
  for (std::int64_t id = 2; id < 1002; ++id) {
    ops.push_back(update_op(sy::op_kind::update, id,
                            {change("WORK_POSITION", "Updated " + std::to_string(id)),
                             change("LAST_NAME", "Фамилия " + std::to_string(id))}));
  }

  auto res = run_co(ioc, sy::async_execute(c, plan_of(ops), &journal, cfg, nullptr));
  const auto injected = emu.faults_injected();
  emu.no_faults();

  CAPTURE(injected);
  CAPTURE(res.stats.ambiguous);
  CAPTURE(res.stats.lookups);
  CHECK(injected >= 2);
  CHECK(res.stats.ambiguous >= 100);  // the two forced batches at least
  CHECK(res.stats.lookups >= 100);
  CHECK(res.failed() == 0);
  std::size_t recovered = 0;
  for (const auto& o : res.users) recovered += o.status == sy::op_status::recovered;
  CHECK(recovered >= 100);
  for (const auto& o : res.users) {
    CHECK((o.status == sy::op_status::done || o.status == sy::op_status::recovered));
    CHECK(o.attempts >= 1);
  }
  check_created_once(emu, ops);
  auto users = emu.users();
  for (std::int64_t id = 2; id < 1002; ++id) {
    CHECK(text(users[id], "WORK_POSITION") == "Updated " + std::to_string(id));
    CHECK(text(users[id], "LAST_NAME") == "Фамилия " + std::to_string(id));
  }
  // The journal agrees with the result: nothing unfinished, every create remembered.
  CHECK(journal.unfinished_journal().empty());
  CHECK(journal.journal_for_run(cfg.run_id).size() == 2000);
  CHECK(journal.identities_by_key().size() == 1000);
  CHECK(res.stats.http_429 == 0);
  CHECK(res.stats.http_503 > 0);
}

TEST_CASE("a user.add batch applied but unanswered is resolved by looking the users up: recovered, not sent again") {
  emulator emu(make_seed(3));
  net::io_context ioc;
  bx::client c(ioc, client_config_for(emu), nullptr);
  auto journal = st::store::open_memory();
  auto cfg = base_config();
  cfg.run_id = journal.begin_run(st::run_mode::sync, "2026-12-01T00:00:00Z");
  emu.faults(json::object{{"rules", json::array{{{"fault", "close_after_apply"}, {"p", 1.0}, {"count", 1}}}}});

  std::vector<sy::user_op> ops;
  for (int i = 0; i < 10; ++i) ops.push_back(create_op("A" + std::to_string(i)));
  const auto before = emu.rest_requests();
  auto res = run_co(ioc, sy::async_execute(c, plan_of(ops), &journal, cfg, nullptr));

  CHECK(emu.rest_requests() - before == 2);  // the lost batch, then one batch of look-ups
  CHECK(res.stats.ambiguous == 10);
  CHECK(res.stats.lookups == 10);
  auto by_key = emu.users_by_key();
  for (std::size_t i = 0; i < ops.size(); ++i) {
    CHECK(res.users[i].status == sy::op_status::recovered);
    CHECK(res.users[i].attempts == 1);
    REQUIRE(res.users[i].user_id);
    CHECK(by_key.at(ops[i].key).at("ID").to_number<std::int64_t>() == *res.users[i].user_id);
  }
  check_created_once(emu, ops);
  for (const auto& e : journal.journal_for_run(cfg.run_id)) {
    CHECK(e.state == st::journal_state::resolved);
    CHECK(e.user_id);
  }
  CHECK(journal.identities_by_key().size() == 10);
}

TEST_CASE("a user.add batch dropped before the portal ran it is looked up, found missing, and sent exactly once more") {
  emulator emu(make_seed(3));
  net::io_context ioc;
  bx::client c(ioc, client_config_for(emu), nullptr);
  emu.faults(json::object{{"rules", json::array{{{"fault", "close_before"}, {"p", 1.0}, {"count", 1}}}}});

  std::vector<sy::user_op> ops;
  for (int i = 0; i < 10; ++i) ops.push_back(create_op("B" + std::to_string(i)));
  const auto before = emu.rest_requests();
  auto res = run_co(ioc, sy::async_execute(c, plan_of(ops), nullptr, base_config(), nullptr));

  // Dropped batch, look-ups by HR key, look-ups by e-mail, the resend.
  CHECK(emu.rest_requests() - before == 4);
  CHECK(res.stats.ambiguous == 10);
  CHECK(res.stats.lookups == 20);
  for (const auto& o : res.users) {
    CHECK(o.status == sy::op_status::done);
    CHECK(o.attempts == 2);
  }
  check_created_once(emu, ops);
}

TEST_CASE("an unanswered department.add is found by NAME and PARENT, and the users that need it land in it") {
  emulator emu(make_seed(2));
  net::io_context ioc;
  bx::client c(ioc, client_config_for(emu), nullptr);
  emu.faults(json::object{{"rules", json::array{{{"fault", "close_after_apply"}, {"p", 1.0}, {"count", 1}}}}});
  std::vector<sy::department_op> deps{{"Corp / Legal", "Legal", 1, std::nullopt},
                                      {"Corp / IT / Ops", "Ops", 2, std::nullopt}};
  auto u = create_op("L1", {"$dept:0", "$dept:1"});
  u.needs_departments = {0, 1};

  auto res = run_co(ioc, sy::async_execute(c, plan_of({u}, deps), nullptr, base_config(), nullptr));

  CHECK(res.departments[0].status == sy::op_status::recovered);
  CHECK(res.departments[1].status == sy::op_status::recovered);
  CHECK(res.stats.lookups == 2);
  auto tree = emu.departments();
  CHECK(tree.size() == 5);  // no department created twice
  REQUIRE(res.departments[0].user_id);
  REQUIRE(res.departments[1].user_id);
  CHECK(text(tree.at(*res.departments[0].user_id), "NAME") == "Legal");
  CHECK(text(tree.at(*res.departments[1].user_id), "NAME") == "Ops");
  CHECK(res.users[0].status == sy::op_status::done);
  auto by_key = emu.users_by_key();
  CHECK(ints(by_key.at("L1"), "UF_DEPARTMENT") ==
        std::vector<std::int64_t>{*res.departments[0].user_id, *res.departments[1].user_id});
}

TEST_CASE("the operating-time limit crossed part-way through a batch: the refused adds wait for the reset and every "
          "add is applied exactly once") {
  // 10 s of user.add per 10 minutes at 0.5 s each: about 21 adds per window, so 60 adds need three
  // windows. A fast clock (×400) makes the two 600 s waits take 3 s.
  emulator emu(make_seed(2, json::object{{"operating_limit_s", 10}, {"method_cost_s", {{"user.add", 0.5}}}}), 400);
  net::io_context ioc;
  bx::client c(ioc, client_config_for(emu), nullptr);
  std::vector<sy::user_op> ops;
  for (int i = 0; i < 60; ++i) ops.push_back(create_op("T" + std::to_string(i)));

  auto res = run_co(ioc, sy::async_execute(c, plan_of(ops), nullptr, base_config(), nullptr));

  CHECK(emu.errors("OPERATION_TIME_LIMIT") > 0);  // the limit was indeed crossed inside a batch
  CHECK(res.failed() == 0);
  for (const auto& o : res.users) {
    CHECK(o.status == sy::op_status::done);
    CHECK(o.attempts == 1);  // re-queued by the client, never resent by the executor
  }
  CHECK(res.stats.http_429 == 0);
  check_created_once(emu, ops);
}

TEST_CASE("stop after the first chunk: interrupted, intents only for the sent chunk and all settled; a crashed run "
          "is reconciled and a second execution converges with no duplicate") {
  emulator emu(make_seed(2));
  net::io_context ioc;
  bx::client c(ioc, client_config_for(emu), nullptr);
  auto journal = st::store::open_memory();

  std::vector<sy::user_op> all;
  for (int i = 0; i < 200; ++i) all.push_back(create_op("S" + std::to_string(i)));

  // Run 1: a stop request arrives while the first chunk is on the wire.
  auto cfg = base_config();
  cfg.run_id = journal.begin_run(st::run_mode::sync, "2026-12-01T00:00:00Z");
  cfg.chunk_commands = 50;
  int chunks = 0;
  cfg.on_progress = [&chunks](const sy::progress&) { ++chunks; };
  cfg.stop_requested = [&chunks] { return chunks >= 1; };
  auto first = run_co(ioc, sy::async_execute(c, plan_of(all), &journal, cfg, nullptr));

  CHECK(first.interrupted);
  CHECK(chunks == 1);
  for (std::size_t i = 0; i < 200; ++i) {
    CHECK(first.users[i].status == (i < 50 ? sy::op_status::done : sy::op_status::not_run));
  }
  auto run1 = journal.journal_for_run(cfg.run_id);
  CHECK(run1.size() == 50);
  for (const auto& e : run1) CHECK(e.state == st::journal_state::done);
  CHECK(journal.unfinished_journal().empty());
  CHECK(emu.invitations().size() == 50);

  // Run 2 "crashes": intents for creates 50..99 and one update are written, creates 50..74 reach the
  // portal, and the process dies before any outcome is recorded.
  const auto run2 = journal.begin_run(st::run_mode::sync, "2026-12-01T00:10:00Z");
  std::vector<st::journal_entry> intents;
  for (std::size_t i = 50; i < 100; ++i) {
    st::journal_entry e;
    e.run_id = run2;
    e.op = "create";
    e.key = all[i].key;
    e.email = all[i].email;
    e.payload = json::serialize(add_params(all[i]));
    intents.push_back(e);
  }
  st::journal_entry upd;
  upd.run_id = run2;
  upd.op = "update";
  upd.key = "E2";
  upd.user_id = 2;
  upd.payload = R"({"ID":2,"WORK_POSITION":"x"})";
  intents.push_back(upd);
  journal.journal_intents(intents);
  std::map<std::string, std::int64_t> applied_before_crash;
  for (std::size_t i = 50; i < 75; ++i) {
    auto r = emu.call("user.add", add_params(all[i]));
    REQUIRE(r.as_object().contains("result"));
    applied_before_crash[all[i].key] = r.at("result").to_number<std::int64_t>();
  }
  REQUIRE(journal.unfinished_journal().size() == 51);

  // Reconcile: the 25 that arrived are found and remembered; the 25 that did not are marked not applied.
  const auto settled = run_co(ioc, sy::async_reconcile(c, journal, base_config(), nullptr));
  CHECK(settled == 51);
  CHECK(journal.unfinished_journal().empty());
  auto ids = journal.identities_by_key();
  CHECK(ids.size() == 75);
  for (const auto& [key, id] : applied_before_crash) CHECK(ids.at(key) == id);
  for (const auto& e : journal.journal_for_run(run2)) {
    CHECK(e.state == st::journal_state::resolved);
    if (e.op == "create" && applied_before_crash.count(e.key)) {
      CHECK(e.user_id == applied_before_crash.at(e.key));
    } else if (e.op == "create") {
      CHECK_FALSE(e.user_id);
    }
  }

  // Run 3: the plan the engine would make now — create whoever the identities don't know yet.
  std::vector<sy::user_op> rest;
  for (const auto& u : all) {
    if (!ids.count(u.key)) rest.push_back(u);
  }
  CHECK(rest.size() == 125);
  auto cfg3 = base_config();
  cfg3.run_id = journal.begin_run(st::run_mode::sync, "2026-12-01T00:20:00Z");
  auto third = run_co(ioc, sy::async_execute(c, plan_of(rest), &journal, cfg3, nullptr));
  CHECK_FALSE(third.interrupted);
  CHECK(third.applied() == 125);
  check_created_once(emu, all);
  CHECK(journal.identities_by_key().size() == 200);
  CHECK(journal.unfinished_journal().empty());
}

TEST_CASE("reconcile settles crashed department.add entries by NAME and PARENT from the journalled payload") {
  emulator emu(make_seed(2));
  net::io_context ioc;
  bx::client c(ioc, client_config_for(emu), nullptr);
  auto journal = st::store::open_memory();
  const auto run = journal.begin_run(st::run_mode::sync, "2026-12-01T00:00:00Z");
  std::vector<st::journal_entry> intents(2);
  intents[0].run_id = intents[1].run_id = run;
  intents[0].op = intents[1].op = "department";
  intents[0].key = "Corp / IT / Legal";
  intents[0].payload = R"({"NAME":"Legal","PARENT":2})";
  intents[1].key = "Corp / Missing";
  intents[1].payload = R"({"NAME":"Missing","PARENT":1})";
  journal.journal_intents(intents);
  // Same name elsewhere in the tree: must not be taken for the one under IT.
  REQUIRE(emu.call("department.add", {{"NAME", "Legal"}, {"PARENT", 3}}).as_object().contains("result"));
  const auto legal = emu.call("department.add", {{"NAME", "Legal"}, {"PARENT", 2}}).at("result").to_number<std::int64_t>();

  CHECK(run_co(ioc, sy::async_reconcile(c, journal, base_config(), nullptr)) == 2);
  auto entries = journal.journal_for_run(run);
  REQUIRE(entries.size() == 2);
  for (const auto& e : entries) {
    CHECK(e.state == st::journal_state::resolved);
    if (e.key == "Corp / IT / Legal") {
      CHECK(e.user_id == legal);
    } else {
      CHECK_FALSE(e.user_id);
    }
  }
  CHECK(journal.unfinished_journal().empty());
  CHECK(journal.identities_by_key().empty());  // departments are not user identities
}
