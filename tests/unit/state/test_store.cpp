// The SQLite state store: round trips of runs, journal, identities and the refresh token (in memory and
// in files), reopening, migrations, refusal of newer/garbage files, WAL, file modes, batches, crashes.
#include "state/store.hpp"

#include "state_test_support.hpp"

#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>
#include <csignal>

#include <algorithm>
#include <functional>
#include <limits>

using namespace b24sync::state;
using b24sync::state::test::file_mode;
using b24sync::state::test::raw_db;
using b24sync::state::test::read_file;
using b24sync::state::test::temp_dir;
using b24sync::state::test::write_file;

namespace {

// Runs `check` once on an in-memory store and once on a store in a fresh file.
template <class F>
void in_memory_and_in_file(F check) {
  SUBCASE("in memory") {
    auto s = store::open_memory();
    check(s);
  }
  SUBCASE("in a temp file") {
    temp_dir d;
    auto s = store::open(d / "state.db");
    check(s);
  }
}

journal_entry intent(std::int64_t run_id, std::string op, std::string key,
                     std::optional<std::int64_t> user_id = {}) {
  journal_entry e;
  e.run_id = run_id;
  e.op = std::move(op);
  e.key = std::move(key);
  e.user_id = user_id;
  e.email = e.key + "@example.com";
  e.payload = R"({"NAME":")" + e.key + R"("})";
  e.updated_at = "2026-12-01T10:00:00Z";
  return e;
}

std::vector<std::string> keys_of(const std::vector<journal_entry>& es) {
  std::vector<std::string> out;
  for (const auto& e : es) out.push_back(e.key);
  return out;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const state_error& e) {
    return e.what();
  }
  return "(no state_error thrown)";
}

// Frames in a WAL file: a 32-byte header, then (24-byte frame header + page) per frame.
std::size_t wal_frames(const std::filesystem::path& db, std::size_t page_size) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(db.string() + "-wal", ec);
  if (ec || size < 32) return 0;
  return static_cast<std::size_t>((size - 32) / (page_size + 24));
}

}  // namespace

// --- runs

TEST_CASE("store: a run round-trips from begin_run through finish_run") {
  in_memory_and_in_file([](store& s) {
    const auto id = s.begin_run(run_mode::sync, "2026-12-01T10:00:00Z");
    CHECK(id > 0);
    auto runs = s.recent_runs(10);
    REQUIRE(runs.size() == 1);
    CHECK(runs[0].id == id);
    CHECK(runs[0].started_at == "2026-12-01T10:00:00Z");
    CHECK(runs[0].finished_at.empty());
    CHECK(runs[0].mode == run_mode::sync);
    CHECK(runs[0].outcome == run_outcome::running);
    CHECK_FALSE(s.last_successful_run());

    run_record r;
    r.id = id;
    r.finished_at = "2026-12-01T10:05:00Z";
    r.mode = run_mode::plan;  // not written by finish_run: the mode is the one begin_run recorded
    r.outcome = run_outcome::partial_failure;
    r.exit_code = 4;
    r.source_rows = 5001;
    r.source_people = 4990;
    r.rejects = 11;
    r.created = 100;
    r.updated = 200;
    r.reactivated = 3;
    r.deactivated = 7;
    r.failed = 2;
    r.message = "2 operations failed";
    s.finish_run(r);

    runs = s.recent_runs(10);
    REQUIRE(runs.size() == 1);
    const auto& got = runs[0];
    CHECK(got.started_at == "2026-12-01T10:00:00Z");
    CHECK(got.finished_at == "2026-12-01T10:05:00Z");
    CHECK(got.mode == run_mode::sync);
    CHECK(got.outcome == run_outcome::partial_failure);
    CHECK(got.exit_code == 4);
    CHECK(got.source_rows == 5001);
    CHECK(got.source_people == 4990);
    CHECK(got.rejects == 11);
    CHECK(got.created == 100);
    CHECK(got.updated == 200);
    CHECK(got.reactivated == 3);
    CHECK(got.deactivated == 7);
    CHECK(got.failed == 2);
    CHECK(got.message == "2 operations failed");
  });
}

TEST_CASE("store: recent_runs is newest first and honours the limit") {
  in_memory_and_in_file([](store& s) {
    const auto a = s.begin_run(run_mode::plan, "2026-12-01T01:00:00Z");
    const auto b = s.begin_run(run_mode::sync, "2026-12-01T02:00:00Z");
    const auto c = s.begin_run(run_mode::daemon, "2026-12-01T03:00:00Z");
    CHECK(a < b);
    CHECK(b < c);
    auto two = s.recent_runs(2);
    REQUIRE(two.size() == 2);
    CHECK(two[0].id == c);
    CHECK(two[0].mode == run_mode::daemon);
    CHECK(two[1].id == b);
    CHECK(s.recent_runs(0).empty());
    CHECK(s.recent_runs(std::numeric_limits<std::size_t>::max()).size() == 3);
  });
}

TEST_CASE("store: last_successful_run is the newest ok or changes run") {
  in_memory_and_in_file([](store& s) {
    auto finish = [&](std::int64_t id, run_outcome o) {
      run_record r;
      r.id = id;
      r.outcome = o;
      r.finished_at = "2026-12-01T09:00:00Z";
      s.finish_run(r);
    };
    const auto ok = s.begin_run(run_mode::sync, "2026-12-01T01:00:00Z");
    finish(ok, run_outcome::ok);
    const auto changes = s.begin_run(run_mode::sync, "2026-12-01T02:00:00Z");
    finish(changes, run_outcome::changes);
    finish(s.begin_run(run_mode::sync, "2026-12-01T03:00:00Z"), run_outcome::guard_tripped);
    finish(s.begin_run(run_mode::sync, "2026-12-01T04:00:00Z"), run_outcome::failed);
    finish(s.begin_run(run_mode::sync, "2026-12-01T05:00:00Z"), run_outcome::interrupted);
    finish(s.begin_run(run_mode::sync, "2026-12-01T06:00:00Z"), run_outcome::partial_failure);
    s.begin_run(run_mode::sync, "2026-12-01T07:00:00Z");  // still running (or crashed)
    auto last = s.last_successful_run();
    REQUIRE(last);
    CHECK(last->id == changes);
    CHECK(last->outcome == run_outcome::changes);
  });
}

TEST_CASE("store: finish_run of an unknown run throws") {
  auto s = store::open_memory();
  run_record r;
  r.id = 42;
  const auto msg = error_of([&] { s.finish_run(r); });
  CHECK(msg.find("run 42") != std::string::npos);
  CHECK(msg.find(":memory:") != std::string::npos);
}

// --- journal

TEST_CASE("store: a journal intent round-trips every field") {
  in_memory_and_in_file([](store& s) {
    const auto run = s.begin_run(run_mode::sync, "2026-12-01T10:00:00Z");
    journal_entry e = intent(run, "update", "HR-001", 17);
    e.payload = R"({"LAST_NAME":"Petrova","ACTIVE":"Y"})";
    e.attempts = 1;
    const auto id = s.journal_intent(e);
    CHECK(id > 0);
    const auto create_id = s.journal_intent(intent(run, "create", "HR-002"));
    CHECK(create_id > id);

    auto es = s.journal_for_run(run);
    REQUIRE(es.size() == 2);
    CHECK(es[0].id == id);
    CHECK(es[0].run_id == run);
    CHECK(es[0].op == "update");
    CHECK(es[0].key == "HR-001");
    CHECK(es[0].user_id == std::optional<std::int64_t>(17));
    CHECK(es[0].email == "HR-001@example.com");
    CHECK(es[0].payload == R"({"LAST_NAME":"Petrova","ACTIVE":"Y"})");
    CHECK(es[0].state == journal_state::intent);
    CHECK(es[0].error.empty());
    CHECK(es[0].attempts == 1);
    CHECK(es[0].updated_at == "2026-12-01T10:00:00Z");
    CHECK(es[1].id == create_id);
    CHECK_FALSE(es[1].user_id);  // a create has no portal ID until the portal answers
  });
}

TEST_CASE("store: journal_update records the outcome and keeps the target when no ID is given") {
  in_memory_and_in_file([](store& s) {
    const auto run = s.begin_run(run_mode::sync, "2026-12-01T10:00:00Z");
    const auto create = s.journal_intent(intent(run, "create", "HR-010"));
    const auto update = s.journal_intent(intent(run, "update", "HR-011", 55));
    s.journal_update(create, journal_state::done, 901, "", 2, "2026-12-01T10:00:05Z");
    s.journal_update(update, journal_state::failed, std::nullopt, "ERROR_EMAIL_EXISTS", 1,
                     "2026-12-01T10:00:06Z");

    auto es = s.journal_for_run(run);
    REQUIRE(es.size() == 2);
    CHECK(es[0].state == journal_state::done);
    CHECK(es[0].user_id == std::optional<std::int64_t>(901));
    CHECK(es[0].attempts == 2);
    CHECK(es[0].updated_at == "2026-12-01T10:00:05Z");
    CHECK(es[1].state == journal_state::failed);
    CHECK(es[1].user_id == std::optional<std::int64_t>(55));
    CHECK(es[1].error == "ERROR_EMAIL_EXISTS");
    CHECK(es[1].updated_at == "2026-12-01T10:00:06Z");
  });
}

TEST_CASE("store: journal_for_run returns only that run's entries in journalling order") {
  in_memory_and_in_file([](store& s) {
    const auto r1 = s.begin_run(run_mode::sync, "2026-12-01T10:00:00Z");
    const auto r2 = s.begin_run(run_mode::sync, "2026-12-01T11:00:00Z");
    s.journal_intent(intent(r1, "create", "a"));
    s.journal_intent(intent(r2, "create", "b"));
    s.journal_intent(intent(r1, "update", "c", 3));
    CHECK(keys_of(s.journal_for_run(r1)) == std::vector<std::string>{"a", "c"});
    CHECK(keys_of(s.journal_for_run(r2)) == std::vector<std::string>{"b"});
    CHECK(s.journal_for_run(r2 + 100).empty());
  });
}

TEST_CASE("store: unfinished_journal lists intent and ambiguous entries of every run, oldest first") {
  in_memory_and_in_file([](store& s) {
    const auto r1 = s.begin_run(run_mode::sync, "2026-12-01T10:00:00Z");
    const auto ids1 =
        s.journal_intents({intent(r1, "create", "r1-intent"), intent(r1, "create", "r1-done"),
                           intent(r1, "create", "r1-ambiguous"), intent(r1, "update", "r1-failed", 4),
                           intent(r1, "create", "r1-resolved")});
    s.journal_updates({{ids1[1], journal_state::done, 11, "", 1},
                       {ids1[2], journal_state::ambiguous, std::nullopt, "timeout", 1},
                       {ids1[3], journal_state::failed, std::nullopt, "ACCESS_DENIED", 1},
                       {ids1[4], journal_state::resolved, 12, "", 1}},
                      "2026-12-01T10:01:00Z");
    const auto r2 = s.begin_run(run_mode::sync, "2026-12-01T11:00:00Z");
    s.journal_intent(intent(r2, "deactivate", "r2-intent", 99));

    const auto open = s.unfinished_journal();
    CHECK(keys_of(open) == std::vector<std::string>{"r1-intent", "r1-ambiguous", "r2-intent"});
    REQUIRE(open.size() == 3);
    CHECK(open[1].state == journal_state::ambiguous);
    CHECK(open[1].error == "timeout");
    CHECK(open[2].run_id == r2);
  });
}

TEST_CASE("store: a journal entry must belong to a recorded run") {
  in_memory_and_in_file([](store& s) {
    CHECK_THROWS_AS(s.journal_intent(intent(0, "create", "x")), state_error);
    CHECK_THROWS_AS(s.journal_intent(intent(12345, "create", "x")), state_error);
  });
}

TEST_CASE("store: updating an unknown journal entry throws") {
  auto s = store::open_memory();
  const auto msg =
      error_of([&] { s.journal_update(777, journal_state::done, 1, "", 1, "2026-12-01T10:00:00Z"); });
  CHECK(msg.find("777") != std::string::npos);
}

TEST_CASE("store: errors name the file and never echo the values written") {
  temp_dir d;
  auto s = store::open(d / "state.db");
  journal_entry e = intent(999, "create", "HR-secret-key");
  e.payload = R"({"PASSWORD":"hunter2-do-not-log"})";
  const auto msg = error_of([&] { s.journal_intent(e); });
  CHECK(msg.find((d / "state.db").string()) != std::string::npos);
  CHECK(msg.find("FOREIGN KEY") != std::string::npos);
  CHECK(msg.find("hunter2") == std::string::npos);
  CHECK(msg.find("HR-secret-key") == std::string::npos);
}

// --- batches

TEST_CASE("store: 50 intents and 50 updates are journalled by the batched forms") {
  in_memory_and_in_file([](store& s) {
    const auto run = s.begin_run(run_mode::sync, "2026-12-01T10:00:00Z");
    std::vector<journal_entry> es;
    for (int i = 0; i < 50; ++i) es.push_back(intent(run, "create", "HR-" + std::to_string(i)));
    const auto ids = s.journal_intents(es);
    REQUIRE(ids.size() == 50);
    CHECK(std::is_sorted(ids.begin(), ids.end()));
    CHECK(std::adjacent_find(ids.begin(), ids.end()) == ids.end());
    CHECK(s.unfinished_journal().size() == 50);

    std::vector<store::journal_result> rs;
    for (std::size_t i = 0; i < ids.size(); ++i) {
      rs.push_back({ids[i], journal_state::done, 1000 + static_cast<std::int64_t>(i), "", 1});
    }
    s.journal_updates(rs, "2026-12-01T10:00:30Z");
    CHECK(s.unfinished_journal().empty());
    const auto done = s.journal_for_run(run);
    REQUIRE(done.size() == 50);
    for (std::size_t i = 0; i < done.size(); ++i) {
      CHECK(done[i].key == "HR-" + std::to_string(i));
      CHECK(done[i].user_id == std::optional<std::int64_t>(1000 + static_cast<std::int64_t>(i)));
      CHECK(done[i].updated_at == "2026-12-01T10:00:30Z");
    }
    CHECK(s.journal_intents({}).empty());
    s.journal_updates({}, "2026-12-01T10:00:31Z");
  });
}

TEST_CASE("store: a batch of 50 is one transaction: a failure in the 50th undoes the other 49") {
  in_memory_and_in_file([](store& s) {
    const auto run = s.begin_run(run_mode::sync, "2026-12-01T10:00:00Z");
    std::vector<journal_entry> es;
    for (int i = 0; i < 49; ++i) es.push_back(intent(run, "create", "HR-" + std::to_string(i)));
    es.push_back(intent(run + 1000, "create", "HR-49"));  // no such run: the foreign key refuses it
    CHECK_THROWS_AS(s.journal_intents(es), state_error);
    CHECK(s.journal_for_run(run).empty());

    es.back().run_id = run;
    const auto ids = s.journal_intents(es);
    std::vector<store::journal_result> rs;
    for (auto id : ids) rs.push_back({id, journal_state::done, 5, "", 1});
    rs.back().id = ids.back() + 1000;  // no such entry
    CHECK_THROWS_AS(s.journal_updates(rs, "2026-12-01T10:00:30Z"), state_error);
    CHECK(s.unfinished_journal().size() == 50);

    // The store stays usable after a rolled-back batch.
    rs.back().id = ids.back();
    s.journal_updates(rs, "2026-12-01T10:00:31Z");
    CHECK(s.unfinished_journal().empty());
  });
}

TEST_CASE("store: a batch of 50 commits once, where 50 single calls commit 50 times (WAL frames)") {
  temp_dir d;
  const auto path = d / "state.db";
  auto s = store::open(path);
  const auto run = s.begin_run(run_mode::sync, "2026-12-01T10:00:00Z");
  const std::size_t page = std::stoul(raw_db(path).scalar("PRAGMA page_size"));
  std::vector<journal_entry> es;
  for (int i = 0; i < 50; ++i) es.push_back(intent(run, "create", "HR-" + std::to_string(i)));

  const auto f0 = wal_frames(path, page);
  for (const auto& e : es) s.journal_intent(e);
  const auto f1 = wal_frames(path, page);
  s.journal_intents(es);
  const auto f2 = wal_frames(path, page);
  // Every commit appends at least one frame (the journal table's leaf page); one commit for 50 rows
  // appends only the handful of pages it touched.
  CHECK(f1 - f0 >= 50);
  CHECK(f2 - f1 < 10);
}

// --- identities

TEST_CASE("store: remember inserts, then keeps first_seen and moves last_seen") {
  in_memory_and_in_file([](store& s) {
    CHECK(s.identities_by_key().empty());
    CHECK_FALSE(s.find_identity("HR-1"));
    s.remember("HR-1", 501, true, "2026-11-01T00:00:00Z");
    s.remember("HR-2", 502, false, "2026-11-01T00:00:00Z");
    s.remember("HR-1", 501, true, "2026-12-01T00:00:00Z");

    auto one = s.find_identity("HR-1");
    REQUIRE(one);
    CHECK(one->key == "HR-1");
    CHECK(one->user_id == 501);
    CHECK(one->managed);
    CHECK(one->first_seen == "2026-11-01T00:00:00Z");
    CHECK(one->last_seen == "2026-12-01T00:00:00Z");
    CHECK(s.identities_by_key() == std::map<std::string, std::int64_t>{{"HR-1", 501}, {"HR-2", 502}});
    CHECK(s.managed_users() == std::set<std::int64_t>{501});
  });
}

TEST_CASE("store: remember overwrites user_id and the managed flag with the values given") {
  in_memory_and_in_file([](store& s) {
    s.remember("HR-1", 501, false, "2026-11-01T00:00:00Z");
    s.remember("HR-1", 501, true, "2026-11-02T00:00:00Z");  // matched to a source key: managed now
    CHECK(s.managed_users() == std::set<std::int64_t>{501});
    s.remember("HR-1", 777, true, "2026-11-03T00:00:00Z");  // the key now points at another account
    CHECK(s.identities_by_key().at("HR-1") == 777);
    CHECK(s.managed_users() == std::set<std::int64_t>{777});
    s.remember("HR-1", 777, false, "2026-11-04T00:00:00Z");  // handed back to the admins
    CHECK(s.managed_users().empty());
    CHECK(s.find_identity("HR-1")->first_seen == "2026-11-01T00:00:00Z");
  });
}

TEST_CASE("store: remember_all stores many identities at one time stamp") {
  in_memory_and_in_file([](store& s) {
    s.remember("HR-0", 100, true, "2026-10-01T00:00:00Z");
    std::vector<identity> ids;
    for (int i = 0; i < 50; ++i) {
      ids.push_back(identity{"HR-" + std::to_string(i), 100 + i, i % 2 == 0, "ignored", "ignored"});
    }
    s.remember_all(ids, "2026-12-01T00:00:00Z");
    CHECK(s.identities_by_key().size() == 50);
    CHECK(s.managed_users().size() == 25);
    CHECK(s.find_identity("HR-0")->first_seen == "2026-10-01T00:00:00Z");
    CHECK(s.find_identity("HR-0")->last_seen == "2026-12-01T00:00:00Z");
    CHECK(s.find_identity("HR-7")->first_seen == "2026-12-01T00:00:00Z");
    CHECK_FALSE(s.find_identity("HR-7")->managed);
  });
}

TEST_CASE("store: two keys may point at one portal user") {
  // An HR key renumbered by HR: the old key stays until the caller stops remembering it.
  auto s = store::open_memory();
  s.remember("OLD-1", 300, true, "2026-11-01T00:00:00Z");
  s.remember("NEW-1", 300, true, "2026-12-01T00:00:00Z");
  CHECK(s.identities_by_key().size() == 2);
  CHECK(s.managed_users() == std::set<std::int64_t>{300});
}

// --- secrets

TEST_CASE("store: the OAuth refresh token is stored, replaced and forgotten") {
  in_memory_and_in_file([](store& s) {
    CHECK_FALSE(s.oauth_refresh_token());
    s.set_oauth_refresh_token("rt-1");
    CHECK(s.oauth_refresh_token() == std::optional<std::string>("rt-1"));
    s.set_oauth_refresh_token("rt-2");
    CHECK(s.oauth_refresh_token() == std::optional<std::string>("rt-2"));
    s.set_oauth_refresh_token("");
    CHECK_FALSE(s.oauth_refresh_token());
  });
}

// --- names

TEST_CASE("store: to_string names every enumerator distinctly") {
  CHECK(to_string(run_mode::plan) == "plan");
  CHECK(to_string(run_mode::sync) == "sync");
  CHECK(to_string(run_mode::daemon) == "daemon");
  CHECK(to_string(run_outcome::running) == "running");
  CHECK(to_string(run_outcome::ok) == "ok");
  CHECK(to_string(run_outcome::changes) == "changes");
  CHECK(to_string(run_outcome::guard_tripped) == "guard_tripped");
  CHECK(to_string(run_outcome::partial_failure) == "partial_failure");
  CHECK(to_string(run_outcome::failed) == "failed");
  CHECK(to_string(run_outcome::interrupted) == "interrupted");
  CHECK(to_string(journal_state::intent) == "intent");
  CHECK(to_string(journal_state::done) == "done");
  CHECK(to_string(journal_state::failed) == "failed");
  CHECK(to_string(journal_state::ambiguous) == "ambiguous");
  CHECK(to_string(journal_state::resolved) == "resolved");
}

TEST_CASE("store: every run outcome and journal state survives a round trip") {
  auto s = store::open_memory();
  for (auto o : {run_outcome::running, run_outcome::ok, run_outcome::changes, run_outcome::guard_tripped,
                 run_outcome::partial_failure, run_outcome::failed, run_outcome::interrupted}) {
    run_record r;
    r.id = s.begin_run(run_mode::daemon, "2026-12-01T00:00:00Z");
    r.outcome = o;
    s.finish_run(r);
    CHECK(s.recent_runs(1).at(0).outcome == o);
  }
  const auto run = s.begin_run(run_mode::sync, "2026-12-01T00:00:00Z");
  for (auto st : {journal_state::intent, journal_state::done, journal_state::failed, journal_state::ambiguous,
                  journal_state::resolved}) {
    const auto id = s.journal_intent(intent(run, "update", std::string(to_string(st)), 1));
    s.journal_update(id, st, std::nullopt, "", 0, "2026-12-01T00:00:01Z");
    CHECK(s.journal_for_run(run).back().state == st);
  }
}

// --- files: reopening, migrations, refusals, durability settings, modes

TEST_CASE("store: reopening a file keeps runs, journal, identities and the token") {
  temp_dir d;
  const auto path = d / "state.db";
  std::int64_t run = 0;
  {
    auto s = store::open(path);
    run = s.begin_run(run_mode::sync, "2026-12-01T10:00:00Z");
    const auto id = s.journal_intent(intent(run, "create", "HR-1"));
    s.journal_update(id, journal_state::done, 501, "", 1, "2026-12-01T10:00:01Z");
    s.remember("HR-1", 501, true, "2026-12-01T10:00:01Z");
    s.set_oauth_refresh_token("rt-kept");
    run_record r;
    r.id = run;
    r.outcome = run_outcome::changes;
    r.created = 1;
    r.finished_at = "2026-12-01T10:00:02Z";
    s.finish_run(r);
  }
  auto s = store::open(path);
  CHECK(s.path() == path);
  auto last = s.last_successful_run();
  REQUIRE(last);
  CHECK(last->id == run);
  CHECK(last->created == 1);
  REQUIRE(s.journal_for_run(run).size() == 1);
  CHECK(s.journal_for_run(run)[0].user_id == std::optional<std::int64_t>(501));
  CHECK(s.identities_by_key() == std::map<std::string, std::int64_t>{{"HR-1", 501}});
  CHECK(s.oauth_refresh_token() == std::optional<std::string>("rt-kept"));
  // Run IDs keep growing across reopenings (AUTOINCREMENT), so journal entries never mix runs.
  CHECK(s.begin_run(run_mode::sync, "2026-12-02T10:00:00Z") > run);
}

TEST_CASE("store: an empty (version 0) file is migrated to the current schema") {
  temp_dir d;
  const auto path = d / "state.db";
  write_file(path, "");
  ::chmod(path.c_str(), 0644);
  {
    auto s = store::open(path);
    s.remember("HR-1", 1, true, "2026-12-01T00:00:00Z");
  }
  raw_db raw(path);
  CHECK(raw.scalar("PRAGMA user_version") == std::to_string(schema_version));
  for (const char* table : {"runs", "journal", "identities", "secrets"}) {
    CAPTURE(table);
    CHECK(raw.scalar(std::string("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '") +
                     table + "'") == "1");
  }
  for (const char* index : {"journal_by_state", "identities_by_user_id"}) {
    CAPTURE(index);
    CHECK(raw.scalar(std::string("SELECT tbl_name FROM sqlite_master WHERE type = 'index' AND name = '") +
                     index + "'") != "");
  }
  CHECK(raw.scalar("SELECT key FROM identities") == "HR-1");
  CHECK(file_mode(path) == 0600);  // tightened: it will hold a refresh token
}

TEST_CASE("store: a version 0 SQLite file with foreign tables is migrated and keeps them") {
  temp_dir d;
  const auto path = d / "state.db";
  {
    raw_db raw(path);
    raw.exec("CREATE TABLE notes(x TEXT); INSERT INTO notes VALUES('kept');");
  }
  auto s = store::open(path);
  s.remember("HR-1", 1, true, "2026-12-01T00:00:00Z");
  raw_db raw(path);
  CHECK(raw.scalar("PRAGMA user_version") == "1");
  CHECK(raw.scalar("SELECT x FROM notes") == "kept");
}

TEST_CASE("store: a file written by a newer schema is refused and left untouched") {
  temp_dir d;
  const auto path = d / "state.db";
  {
    raw_db raw(path);
    raw.exec("CREATE TABLE future(x); PRAGMA user_version = 3;");
  }
  const auto msg = error_of([&] { store::open(path); });
  CHECK(msg.find("state.db was written by a newer b24sync (schema 3 > 1)") != std::string::npos);
  CHECK(msg.find(path.string()) != std::string::npos);
  raw_db raw(path);
  CHECK(raw.scalar("PRAGMA user_version") == "3");
  CHECK(raw.scalar("SELECT count(*) FROM sqlite_master WHERE name = 'runs'") == "0");
}

TEST_CASE("store: a file that is not SQLite is refused with its name, its mode untouched") {
  temp_dir d;
  const auto path = d / "state.db";
  write_file(path, "this is a text file, not a database; it is long enough to have a header\n");
  ::chmod(path.c_str(), 0644);
  const auto msg = error_of([&] { store::open(path); });
  CHECK(msg.find(path.string()) != std::string::npos);
  CHECK(msg.find("not") != std::string::npos);
  CHECK(file_mode(path) == 0644);
  CHECK(read_file(path).rfind("this is a text file", 0) == 0);
}

TEST_CASE("store: a short garbage file and a folder are refused with their names") {
  temp_dir d;
  write_file(d / "short.db", "x");
  CHECK(error_of([&] { store::open(d / "short.db"); }).find((d / "short.db").string()) != std::string::npos);
  std::filesystem::create_directory(d / "dir.db");
  CHECK(error_of([&] { store::open(d / "dir.db"); }).find((d / "dir.db").string()) != std::string::npos);
  CHECK(error_of([&] { store::open(""); }).find("empty") != std::string::npos);
}

TEST_CASE("store: a file is switched to WAL mode, as another connection reads back") {
  temp_dir d;
  const auto path = d / "state.db";
  auto s = store::open(path);
  s.begin_run(run_mode::sync, "2026-12-01T00:00:00Z");
  // journal_mode=WAL is persistent in the file: another connection reads it back.
  raw_db raw(path);
  CHECK(raw.scalar("PRAGMA journal_mode") == "wal");
  CHECK(std::filesystem::exists(path.string() + "-wal"));
}

TEST_CASE("store: new files are 0600 in new 0700 folders, the WAL too") {
  temp_dir d;
  const auto path = d.path() / "var" / "lib" / "b24sync" / "state.db";
  auto s = store::open(path);
  s.set_oauth_refresh_token("rt");
  CHECK(file_mode(path) == 0600);
  CHECK(file_mode(path.string() + "-wal") == 0600);
  CHECK(file_mode(path.string() + "-shm") == 0600);
  CHECK((file_mode(d.path() / "var") & 0077) == 0);
  CHECK((file_mode(d.path() / "var" / "lib") & 0077) == 0);
  CHECK((file_mode(d.path() / "var" / "lib" / "b24sync") & 0077) == 0);
  CHECK(file_mode(d.path()) == 0700);  // mkdtemp's, existing: left alone
}

TEST_CASE("store: an existing database readable by others is tightened to 0600") {
  temp_dir d;
  const auto path = d / "state.db";
  { store::open(path); }
  ::chmod(path.c_str(), 0644);
  auto s = store::open(path);
  CHECK(file_mode(path) == 0600);
}

TEST_CASE("store: a path below a regular file cannot be opened, the error names the folder") {
  temp_dir d;
  write_file(d / "file", "x");
  const auto msg = error_of([&] { store::open(d / "file" / "sub" / "state.db"); });
  CHECK(msg.find((d / "file").string()) != std::string::npos);
}

TEST_CASE("store: two stores on one file see each other's commits") {
  // A cron `plan` reading while the daemon writes: WAL lets both work.
  temp_dir d;
  auto writer = store::open(d / "state.db");
  auto reader = store::open(d / "state.db");
  writer.remember("HR-1", 1, true, "2026-12-01T00:00:00Z");
  CHECK(reader.identities_by_key().count("HR-1") == 1);
  reader.set_oauth_refresh_token("from-reader");
  CHECK(writer.oauth_refresh_token() == std::optional<std::string>("from-reader"));
}

TEST_CASE("store: a moved store keeps working") {
  auto a = store::open_memory();
  a.remember("HR-1", 1, true, "2026-12-01T00:00:00Z");
  store b = std::move(a);
  CHECK(b.identities_by_key().size() == 1);
  auto c = store::open_memory();
  c = std::move(b);
  CHECK(c.identities_by_key().size() == 1);
  CHECK(c.path() == ":memory:");
}

// --- crashes

TEST_CASE("store: intents left without outcomes are unfinished after reopening") {
  temp_dir d;
  const auto path = d / "state.db";
  std::vector<std::int64_t> ids;
  {
    auto s = store::open(path);
    const auto run = s.begin_run(run_mode::sync, "2026-12-01T10:00:00Z");
    ids = s.journal_intents(
        {intent(run, "create", "a"), intent(run, "update", "b", 2), intent(run, "create", "c")});
    s.journal_update(ids[1], journal_state::done, std::nullopt, "", 1, "2026-12-01T10:00:01Z");
  }  // destroyed without recording the rest
  auto s = store::open(path);
  const auto open = s.unfinished_journal();
  CHECK(keys_of(open) == std::vector<std::string>{"a", "c"});
  REQUIRE(s.recent_runs(1).size() == 1);
  CHECK(s.recent_runs(1)[0].outcome == run_outcome::running);  // the crashed run stays "running"
  CHECK(s.recent_runs(1)[0].finished_at.empty());
}

TEST_CASE("store: committed intents survive the process being killed (SIGKILL) mid-run") {
  temp_dir d;
  const auto path = d / "state.db";
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // The child journals a batch, settles part of it, and dies without closing anything: the
    // connection, the WAL and the shared memory are left as a kill -9 leaves them.
    try {
      auto s = store::open(path);
      const auto run = s.begin_run(run_mode::sync, "2026-12-01T10:00:00Z");
      std::vector<journal_entry> es;
      for (int i = 0; i < 50; ++i) es.push_back(intent(run, "create", "HR-" + std::to_string(i)));
      const auto ids = s.journal_intents(es);
      std::vector<store::journal_result> rs;
      for (std::size_t i = 0; i < 30; ++i) rs.push_back({ids[i], journal_state::done, 100, "", 1});
      s.journal_updates(rs, "2026-12-01T10:00:10Z");
      s.journal_update(ids[30], journal_state::ambiguous, std::nullopt, "timeout", 1, "2026-12-01T10:00:11Z");
      ::raise(SIGKILL);
    } catch (const std::exception&) {
      ::_exit(2);  // never unwind into a second copy of the test runner
    }
    ::_exit(1);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGKILL);
  // A clean close checkpoints and deletes the WAL; after the kill it is still there, unreplayed.
  CHECK(std::filesystem::exists(path.string() + "-wal"));
  CHECK(std::filesystem::file_size(path.string() + "-wal") > 0);

  auto s = store::open(path);
  const auto open = s.unfinished_journal();
  REQUIRE(open.size() == 20);
  CHECK(open.front().key == "HR-30");
  CHECK(open.front().state == journal_state::ambiguous);
  CHECK(open.back().key == "HR-49");
  CHECK(open.back().state == journal_state::intent);
  const auto all = s.journal_for_run(open.front().run_id);
  CHECK(all.size() == 50);
  CHECK(std::count_if(all.begin(), all.end(),
                      [](const journal_entry& e) { return e.state == journal_state::done; }) == 30);
}

// --- edge cases: what HR data and portal answers can contain

TEST_CASE("store: unicode keys are stored byte for byte and compared as bytes") {
  in_memory_and_in_file([](store& s) {
    const std::string cyrillic = "Иванов-Ёлкин-001";
    const std::string cjk = "王小明";
    const std::string emoji = "👩‍💻-42";
    const std::string nfc = "\xC3\xA9mile";   // é as one code point
    const std::string nfd = "e\xCC\x81mile";  // e + combining acute: looks the same, other bytes
    std::vector<identity> ids;
    std::int64_t next_id = 1;
    for (const auto& k :
         {cyrillic, cjk, emoji, nfc, nfd, std::string("hr-1"), std::string("HR-1"), std::string("HR-1 ")}) {
      identity i;
      i.key = k;
      i.user_id = next_id++;
      ids.push_back(i);
    }
    s.remember_all(ids, "2026-12-01T00:00:00Z");
    const auto by_key = s.identities_by_key();
    CHECK(by_key.size() == 8);
    CHECK(by_key.at(cyrillic) == 1);
    CHECK(by_key.at(cjk) == 2);
    CHECK(by_key.at(emoji) == 3);
    CHECK(by_key.at(nfc) == 4);  // no Unicode normalisation: canonicalising keys is the mapping's job
    CHECK(by_key.at(nfd) == 5);
    CHECK(by_key.at("hr-1") == 6);  // no case folding either
    CHECK(by_key.at("HR-1") == 7);
    CHECK(by_key.at("HR-1 ") == 8);
    REQUIRE(s.find_identity(cyrillic));
    CHECK(s.find_identity(cyrillic)->key == cyrillic);

    const auto run = s.begin_run(run_mode::sync, "2026-12-01T00:00:00Z");
    journal_entry e = intent(run, "create", cyrillic);
    e.email = "ёлкин@пример.рф";
    e.payload = R"({"LAST_NAME":"Ёлкин","NAME":"王","UF_X":"👩‍💻"})";
    s.journal_intent(e);
    const auto got = s.journal_for_run(run).at(0);
    CHECK(got.key == cyrillic);
    CHECK(got.email == "ёлкин@пример.рф");
    CHECK(got.payload == e.payload);
  });
}

TEST_CASE("store: quotes and SQL in values are data, not SQL") {
  in_memory_and_in_file([](store& s) {
    const std::string nasty = "O'Brien'); DROP TABLE identities; --";
    s.remember(nasty, 9, true, "2026-12-01T00:00:00Z");
    CHECK(s.identities_by_key().at(nasty) == 9);
    s.set_oauth_refresh_token("'; DELETE FROM secrets; --");
    CHECK(s.oauth_refresh_token() == std::optional<std::string>("'; DELETE FROM secrets; --"));
  });
}

TEST_CASE("store: very long payloads, keys and tokens round-trip intact") {
  in_memory_and_in_file([](store& s) {
    // 4 MiB of varied text (no two chunks alike, so a truncation or a mix-up of pages shows).
    std::string payload = R"({"PERSONAL_NOTES":")";
    payload.reserve((4u << 20) + 64);
    const std::string filler = std::string(500, 'x') + "Жёлтый — ";
    for (std::size_t i = 0; payload.size() < (4u << 20); ++i) {
      payload += std::to_string(i);
      payload += filler;
    }
    payload += "\"}";
    const std::string key(1u << 20, 'k');
    const std::string token(64u << 10, 't');

    const auto run = s.begin_run(run_mode::sync, "2026-12-01T00:00:00Z");
    journal_entry e = intent(run, "update", key, 1);
    e.payload = payload;
    const auto id = s.journal_intent(e);
    s.journal_update(id, journal_state::failed, std::nullopt, std::string(100000, 'E'), 3,
                     "2026-12-01T00:00:01Z");
    s.remember(key, 1, true, "2026-12-01T00:00:00Z");
    s.set_oauth_refresh_token(token);

    const auto got = s.journal_for_run(run).at(0);
    CHECK(got.payload.size() == payload.size());
    CHECK(got.payload == payload);
    CHECK(got.key == key);
    CHECK(got.error.size() == 100000);
    CHECK(s.identities_by_key().at(key) == 1);
    CHECK(s.oauth_refresh_token() == std::optional<std::string>(token));
  });
}

TEST_CASE("store: bytes that are not UTF-8 and embedded NULs come back unchanged") {
  in_memory_and_in_file([](store& s) {
    const std::string cp1251 = "\xC8\xE2\xE0\xED\xEE\xE2";  // "Иванов" in cp1251, leaked past decoding
    const std::string with_nul("a\0b\0c", 5);
    const auto run = s.begin_run(run_mode::sync, "2026-12-01T00:00:00Z");
    journal_entry e = intent(run, "update", cp1251, 1);
    e.payload = with_nul;
    s.journal_intent(e);
    const auto got = s.journal_for_run(run).at(0);
    CHECK(got.key == cp1251);
    CHECK(got.payload.size() == 5);
    CHECK(got.payload == with_nul);
  });
}

TEST_CASE("store: empty strings and extreme IDs round-trip") {
  in_memory_and_in_file([](store& s) {
    const auto big = std::numeric_limits<std::int64_t>::max();
    s.remember("", big, true, "");
    CHECK(s.identities_by_key().at("") == big);
    CHECK(s.managed_users() == std::set<std::int64_t>{big});
    const auto run = s.begin_run(run_mode::sync, "");
    journal_entry e;
    e.run_id = run;
    e.user_id = big;
    e.attempts = std::numeric_limits<unsigned>::max();
    const auto id = s.journal_intent(e);
    const auto got = s.journal_for_run(run).at(0);
    CHECK(got.id == id);
    CHECK(got.op.empty());
    CHECK(got.key.empty());
    CHECK(got.payload.empty());
    CHECK(got.user_id == std::optional<std::int64_t>(big));
    CHECK(got.attempts == std::numeric_limits<unsigned>::max());
    run_record r;
    r.id = run;
    r.outcome = run_outcome::ok;
    r.source_rows = std::numeric_limits<std::size_t>::max() / 2;  // the largest a signed column keeps
    s.finish_run(r);
    CHECK(s.recent_runs(1).at(0).source_rows == std::numeric_limits<std::size_t>::max() / 2);
  });
}
