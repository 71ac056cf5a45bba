// tests/integration/sync/test_executor.cpp: async_execute against the in-process emulator over real
// sockets — initial load, updates/reactivations/deactivations, departments with placeholders, permanent
// failures, guards and a refused webhook; every test checks the portal's final state field by field.
#include "sync/executor.hpp"

#include "state/store.hpp"
#include "sync_fixture.hpp"

#include <doctest/doctest.h>

#include <set>

using namespace synctest;

TEST_CASE("initial load of 5,000 creates: every user on the portal field by field, one invitation each, journal "
          "and identities complete") {
  emulator emu(make_seed(0));
  net::io_context ioc;
  bx::client c(ioc, client_config_for(emu), nullptr);
  auto journal = b24sync::state::store::open_memory();
  const auto run_id = journal.begin_run(b24sync::state::run_mode::sync, "2026-12-01T00:00:00Z");

  std::vector<sy::user_op> ops;
  for (int i = 0; i < 5000; ++i) ops.push_back(create_op("K" + std::to_string(i), {i % 3 == 0 ? "3" : "2"}));
  const auto p = plan_of(ops);
  auto cfg = base_config();
  cfg.run_id = run_id;
  cfg.invite_message = "Welcome to Corp, see you on Monday";
  std::vector<sy::progress> seen;
  cfg.on_progress = [&seen](const sy::progress& pg) { seen.push_back(pg); };

  auto res = run_co(ioc, sy::async_execute(c, p, &journal, cfg, nullptr));

  REQUIRE(res.users.size() == 5000);
  CHECK_FALSE(res.interrupted);
  CHECK(res.applied() == 5000);
  CHECK(res.failed() == 0);
  int dupes = 0;
  auto by_key = emu.users_by_key(&dupes);
  CHECK(dupes == 0);
  CHECK(by_key.size() == 5000);
  std::set<std::int64_t> new_ids;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    const auto& o = res.users[i];
    CHECK(o.status == sy::op_status::done);
    REQUIRE(o.user_id);
    new_ids.insert(*o.user_id);
    const auto& u = by_key.at(ops[i].key);
    CHECK(u.at("ID").to_number<std::int64_t>() == *o.user_id);
    CHECK(text(u, "EMAIL") == ops[i].email);
    CHECK(text(u, "NAME") == "Name" + ops[i].key);
    CHECK(text(u, "LAST_NAME") == "Last" + ops[i].key);
    CHECK(text(u, "WORK_POSITION") == "Pos " + ops[i].key);
    CHECK(ints(u, "UF_DEPARTMENT") == std::vector<std::int64_t>{i % 3 == 0 ? 3 : 2});
    CHECK(active(u));
  }
  CHECK(new_ids.size() == 5000);

  // One invitation per create, none twice, each with the configured text.
  auto inv = emu.invitations();
  CHECK(inv.size() == 5000);
  std::set<std::string> invited;
  for (auto& x : inv) {
    invited.insert(std::string(x.at("email").as_string()));
    CHECK(x.at("message_text").as_string() == "Welcome to Corp, see you on Monday");
  }
  CHECK(invited.size() == 5000);

  // ceil(5000/50) = 100 batches, and nothing sent twice in a clean run.
  CHECK(res.stats.http_requests - res.stats.http_503 == 100);
  CHECK(res.stats.http_429 == 0);
  CHECK(res.stats.ambiguous == 0);
  CHECK(res.stats.lookups == 0);
  CHECK(res.stats.seconds > 0);

  // Progress after each chunk (default chunk = 50 × max_in_flight 2), ending at the total.
  REQUIRE(seen.size() == 50);
  CHECK(seen.back().phase == "create");
  CHECK(seen.back().done == 5000);
  CHECK(seen.back().total == 5000);
  CHECK(seen.front().done == 100);

  // Journal: one entry per create, done, with the portal's ID; payload without the invitation text.
  auto entries = journal.journal_for_run(run_id);
  REQUIRE(entries.size() == 5000);
  for (const auto& e : entries) {
    CHECK(e.state == b24sync::state::journal_state::done);
    CHECK(e.op == "create");
    CHECK(e.user_id);
    CHECK(e.attempts == 1);
    CHECK(e.payload.find("MESSAGE_TEXT") == std::string::npos);
    CHECK(e.payload.find(e.key) != std::string::npos);
  }
  CHECK(journal.unfinished_journal().empty());
  auto ids = journal.identities_by_key();
  CHECK(ids.size() == 5000);
  for (std::size_t i = 0; i < ops.size(); i += 97) CHECK(ids.at(ops[i].key) == *res.users[i].user_id);
  CHECK(journal.managed_users().size() == 5000);
}

TEST_CASE("updates, reactivations and deactivations land field by field; unchanged and skipped users are not sent") {
  emulator emu(make_seed(40));
  net::io_context ioc;
  bx::client c(ioc, client_config_for(emu), nullptr);
  const auto before = emu.users();

  std::vector<sy::user_op> ops;
  // Updates on active users 2,3,4,6,7 (5 is dismissed): position, surname, a new e-mail, a move.
  for (std::int64_t id : {2, 3, 4, 6, 7}) {
    ops.push_back(update_op(sy::op_kind::update, id,
                            {change("WORK_POSITION", "Lead " + std::to_string(id), "Clerk"),
                             change("LAST_NAME", "Новикова-" + std::to_string(id)),
                             change("EMAIL", "moved" + std::to_string(id) + "@corp.test"),
                             change("UF_DEPARTMENT", std::vector<std::string>{"1", "3"})}));
  }
  // Rehires of dismissed users 10, 15, 20: ACTIVE is set even though the plan only lists a position.
  for (std::int64_t id : {10, 15, 20}) {
    ops.push_back(update_op(sy::op_kind::reactivate, id, {change("WORK_POSITION", "Back again")}));
  }
  // Terminations of 8, 9, 11.
  for (std::int64_t id : {8, 9, 11}) ops.push_back(update_op(sy::op_kind::deactivate, id, {change("ACTIVE", "N", "Y")}));
  // Not to be touched, although their (bogus) changes would alter the portal if sent.
  auto same = update_op(sy::op_kind::unchanged, 12, {change("WORK_POSITION", "MUST NOT LAND")});
  auto skipped = update_op(sy::op_kind::skip, 13, {change("WORK_POSITION", "MUST NOT LAND")});
  skipped.skip = sy::skip_reason::protected_user;
  ops.push_back(same);
  ops.push_back(skipped);

  const auto writes_before = emu.portal_writes();
  auto res = run_co(ioc, sy::async_execute(c, plan_of(ops), nullptr, base_config(), nullptr));
  CHECK(emu.portal_writes() - writes_before == 11);

  auto after = emu.users();
  for (std::int64_t id : {2, 3, 4, 6, 7}) {
    CAPTURE(id);
    CHECK(text(after[id], "WORK_POSITION") == "Lead " + std::to_string(id));
    CHECK(text(after[id], "LAST_NAME") == "Новикова-" + std::to_string(id));
    CHECK(text(after[id], "EMAIL") == "moved" + std::to_string(id) + "@corp.test");
    CHECK(ints(after[id], "UF_DEPARTMENT") == std::vector<std::int64_t>{1, 3});
    CHECK(text(after[id], "NAME") == text(before.at(id), "NAME"));  // unmapped/unchanged fields kept
    CHECK(active(after[id]));
  }
  for (std::int64_t id : {10, 15, 20}) {
    CAPTURE(id);
    CHECK_FALSE(active(before.at(id)));
    CHECK(active(after[id]));
    CHECK(text(after[id], "WORK_POSITION") == "Back again");
  }
  for (std::int64_t id : {8, 9, 11}) {
    CAPTURE(id);
    CHECK(active(before.at(id)));
    CHECK_FALSE(active(after[id]));
    CHECK(text(after[id], "WORK_POSITION") == "Clerk");
  }
  for (std::int64_t id : {12, 13}) CHECK(after[id] == before.at(id));
  CHECK(emu.invitations().empty());

  REQUIRE(res.users.size() == ops.size());
  for (std::size_t i = 0; i < 11; ++i) {
    CHECK(res.users[i].status == sy::op_status::done);
    CHECK(res.users[i].attempts == 1);
  }
  CHECK(res.users[11].status == sy::op_status::not_run);
  CHECK(res.users[12].status == sy::op_status::not_run);
  CHECK(res.users[11].attempts == 0);
  CHECK(res.applied() == 11);
  // Three phases (update, reactivate, deactivate; no creates) of one batch each.
  CHECK(res.stats.http_requests == 3);
}

TEST_CASE("departments: a new chain is created parents first, creates land in it through placeholders, and a "
          "failed department fails only what depends on it") {
  emulator emu(make_seed(2));
  net::io_context ioc;
  bx::client c(ioc, client_config_for(emu), nullptr);
  auto journal = b24sync::state::store::open_memory();
  auto cfg = base_config();
  cfg.run_id = journal.begin_run(b24sync::state::run_mode::sync, "2026-12-01T00:00:00Z");

  std::vector<sy::department_op> deps(6);
  // Listed children-first on purpose: the executor must still send parents first.
  deps[0] = {"Corp / Sales / East / Retail", "Retail", std::nullopt, 1};
  deps[1] = {"Corp / Sales / East", "East", std::nullopt, 2};
  deps[2] = {"Corp / Sales", "Sales", 1, std::nullopt};
  deps[3] = {"Corp / Ghost", "Ghost", 999, std::nullopt};  // the parent does not exist: refused
  deps[4] = {"Corp / Ghost / Inner / Deep", "Deep", std::nullopt, 5};  // fails only once Inner has failed
  deps[5] = {"Corp / Ghost / Inner", "Inner", std::nullopt, 3};

  auto retail = create_op("R1", {"$dept:0"});
  retail.needs_departments = {0};
  auto two = create_op("R2", {"$dept:2", "3"});
  two.needs_departments = {2};
  auto ghost = create_op("G1", {"$dept:5"});
  ghost.needs_departments = {5};
  auto plain = create_op("P1", {"2"});
  auto p = plan_of({retail, two, ghost, plain}, deps);

  auto res = run_co(ioc, sy::async_execute(c, p, &journal, cfg, nullptr));

  REQUIRE(res.departments.size() == 6);
  for (std::size_t i : {0, 1, 2}) {
    CHECK(res.departments[i].status == sy::op_status::done);
    CHECK(res.departments[i].user_id);
  }
  CHECK(res.departments[3].status == sy::op_status::failed);
  CHECK(res.departments[3].error == "ERROR_CORE");
  CHECK(res.departments[3].error_description == "Parent department not found");
  CHECK(res.departments[5].status == sy::op_status::failed);
  CHECK(res.departments[5].error_description == "parent department not created: Corp / Ghost");
  CHECK(res.departments[5].attempts == 0);
  CHECK(res.departments[4].status == sy::op_status::failed);
  CHECK(res.departments[4].error_description == "parent department not created: Corp / Ghost / Inner");

  auto tree = emu.departments();
  const auto sales = *res.departments[2].user_id;
  const auto east = *res.departments[1].user_id;
  const auto retail_id = *res.departments[0].user_id;
  CHECK(tree.size() == 6);
  CHECK(text(tree.at(sales), "NAME") == "Sales");
  CHECK(emulator::number(tree.at(sales).at("PARENT")) == 1);
  CHECK(text(tree.at(east), "NAME") == "East");
  CHECK(emulator::number(tree.at(east).at("PARENT")) == sales);
  CHECK(text(tree.at(retail_id), "NAME") == "Retail");
  CHECK(emulator::number(tree.at(retail_id).at("PARENT")) == east);

  auto by_key = emu.users_by_key();
  REQUIRE(by_key.count("R1"));
  CHECK(ints(by_key["R1"], "UF_DEPARTMENT") == std::vector<std::int64_t>{retail_id});
  CHECK(ints(by_key["R2"], "UF_DEPARTMENT") == std::vector<std::int64_t>{sales, 3});
  CHECK(ints(by_key["P1"], "UF_DEPARTMENT") == std::vector<std::int64_t>{2});
  CHECK(by_key.count("G1") == 0);
  CHECK(res.users[2].status == sy::op_status::failed);
  CHECK(res.users[2].error_description == "department not created: Corp / Ghost / Inner");
  CHECK(res.users[2].attempts == 0);
  CHECK(emu.invitations().size() == 3);

  // Journal: the five sent departments and three sent creates; the never-sent ones have no entry.
  auto entries = journal.journal_for_run(cfg.run_id);
  std::size_t dept_entries = 0;
  std::size_t failed_entries = 0;
  for (const auto& e : entries) {
    dept_entries += e.op == "department";
    failed_entries += e.state == b24sync::state::journal_state::failed;
  }
  CHECK(dept_entries == 4);
  CHECK(entries.size() == 7);
  CHECK(failed_entries == 1);
}

TEST_CASE("permanent failures (duplicate e-mail, seat limit, unknown user) fail those operations only; the rest "
          "of the run is applied") {
  // 1 admin + 8 active of 10 seeded users = 9 seats used; 12 allowed: three more adds fit.
  emulator emu(make_seed(10, json::object{{"seat_limit", 12}}));
  net::io_context ioc;
  bx::client c(ioc, client_config_for(emu), nullptr);

  auto dup = create_op("D1");
  dup.email = "user3@corp.test";  // someone else's address
  for (auto& ch : dup.changes) {
    if (ch.field == "EMAIL") ch.value = dup.email;
  }
  std::vector<sy::user_op> ops{dup, create_op("A1"), create_op("A2"), create_op("A3"), create_op("A4")};
  ops.push_back(update_op(sy::op_kind::update, 4, {change("WORK_POSITION", "Still updated")}));
  ops.push_back(update_op(sy::op_kind::update, 99999, {change("WORK_POSITION", "Nobody")}));
  ops.push_back(update_op(sy::op_kind::deactivate, 6, {change("ACTIVE", "N", "Y")}));

  auto res = run_co(ioc, sy::async_execute(c, plan_of(ops), nullptr, base_config(), nullptr));

  CHECK(res.users[0].status == sy::op_status::failed);
  CHECK(res.users[0].error == "ERROR_CORE");
  CHECK(res.users[0].error_description.find("already exists") != std::string::npos);
  CHECK(res.users[0].attempts == 1);
  for (std::size_t i : {1, 2, 3}) CHECK(res.users[i].status == sy::op_status::done);
  CHECK(res.users[4].status == sy::op_status::failed);
  CHECK(res.users[4].error_description == "user_count_exceeded");
  CHECK(res.users[5].status == sy::op_status::done);
  CHECK(res.users[6].status == sy::op_status::failed);
  CHECK(res.users[6].error == "ERROR_CORE");
  CHECK(res.users[7].status == sy::op_status::done);
  CHECK(res.failed() == 3);
  CHECK(res.applied() == 5);
  CHECK(res.fatal_error.empty());

  auto by_key = emu.users_by_key();
  for (const char* k : {"A1", "A2", "A3"}) CHECK(by_key.count(k) == 1);
  CHECK(by_key.count("A4") == 0);
  CHECK(by_key.count("D1") == 0);
  auto users = emu.users();
  CHECK(text(users[3], "EMAIL") == "user3@corp.test");
  CHECK(text(users[3], "UF_USR_HR_ID") == "E3");
  CHECK(text(users[4], "WORK_POSITION") == "Still updated");
  CHECK_FALSE(active(users[6]));
  CHECK(emu.invitations().size() == 3);
}

TEST_CASE("a plan with a tripped guard is refused before anything is sent") {
  emulator emu(make_seed(2));
  net::io_context ioc;
  bx::client c(ioc, client_config_for(emu), nullptr);
  auto p = plan_of({create_op("X1")});
  p.guards.push_back({"max_deactivations", "too many", 10, 5});
  const auto before = emu.rest_requests();
  CHECK_THROWS_AS(run_co(ioc, sy::async_execute(c, p, nullptr, base_config(), nullptr)), std::logic_error);
  CHECK(emu.rest_requests() == before);
}

TEST_CASE("a refused webhook stops the run: the chunk sent fails with the portal's code, later chunks are not run") {
  emulator emu(make_seed(2));
  net::io_context ioc;
  auto cc = client_config_for(emu);
  cc.auth = bx::webhook_auth{1, bx::secret("wrong-secret")};
  bx::client c(ioc, cc, nullptr);
  std::vector<sy::user_op> ops;
  for (int i = 0; i < 120; ++i) ops.push_back(create_op("W" + std::to_string(i)));
  ops.push_back(update_op(sy::op_kind::update, 2, {change("WORK_POSITION", "x")}));
  auto cfg = base_config();
  cfg.chunk_commands = 50;

  auto res = run_co(ioc, sy::async_execute(c, plan_of(ops), nullptr, cfg, nullptr));

  CHECK_FALSE(res.fatal_error.empty());
  CHECK(res.fatal_error.find("wrong-secret") == std::string::npos);
  for (std::size_t i = 0; i < 50; ++i) CHECK(res.users[i].status == sy::op_status::failed);
  for (std::size_t i = 50; i < ops.size(); ++i) CHECK(res.users[i].status == sy::op_status::not_run);
  CHECK(res.applied() == 0);
  CHECK(emu.invitations().empty());
  CHECK(emu.users().size() == 3);
}
