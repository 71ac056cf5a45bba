// The diff engine: matching, every outcome, departments, canonical no-ops and determinism.
#include "sync_test_support.hpp"

#include <algorithm>
#include <random>

using namespace b24sync;
using namespace b24sync::sync;
using namespace b24sync::sync::test;
using strings = std::vector<std::string>;

TEST_CASE("create: an active person missing on the portal gets every mapped field and the HR key") {
  auto s = make(base_yaml(), {person(2, "7", "Anna@Corp.ru", "Анна", "Петрова", "Company / Sales / Moscow")}, {});
  plan p = s.run();
  REQUIRE(p.users.size() == 1);
  const user_op& op = p.users[0];
  CHECK(op.kind == op_kind::create);
  CHECK(op.key == "7");
  CHECK_FALSE(op.user_id);
  CHECK(op.email == "anna@corp.ru");
  CHECK(op.name == "Анна Петрова");
  REQUIRE(op.origins.size() == 1);
  CHECK(op.origins[0].line == 2);
  CHECK(fields(op) == strings{"EMAIL", "NAME", "LAST_NAME", "WORK_POSITION", "PERSONAL_MOBILE",
                              "PERSONAL_BIRTHDAY", "UF_DEPARTMENT", "UF_USR_HR_ID"});
  CHECK(op.changes[5].value == wire_value{std::string{"1990-02-28"}});
  CHECK(op.changes[6].value == wire_value{strings{"3"}});
  CHECK(op.changes[6].after == "Company / Sales / Moscow");
  CHECK(op.changes[7].value == wire_value{std::string{"7"}});
  CHECK(p.counts.create == 1);
  CHECK(p.counts.field_changes == 8);
  CHECK(p.counts.source_people == 1);
  CHECK(p.counts.writes() == 1);
}

TEST_CASE("update: only differing fields, before and after in canonical text") {
  auto u = user(10, "anna@corp.ru", "Анна", "Иванова", "7");
  u.set(bitrix::user_text::work_position, "  Engineer ");  // noise only: not a change
  auto s = make(base_yaml(), {person(2, "7", "anna@corp.ru", "Анна", "Петрова", "Sales / Moscow")}, {u});
  plan p = s.run();
  REQUIRE(p.users.size() == 1);
  const user_op& op = p.users[0];
  CHECK(op.kind == op_kind::update);
  CHECK(op.user_id == 10);
  CHECK(op.matched_by == match_kind::identity_field);
  CHECK(changes(op) == strings{"LAST_NAME: Иванова -> Петрова",
                               "UF_DEPARTMENT: Company / Sales -> Company / Sales / Moscow"});
  CHECK(op.changes[1].value == wire_value{strings{"3"}});
  CHECK(p.counts.update == 1);
  CHECK(p.counts.field_changes == 2);
}

TEST_CASE("matching: an e-mail change updates the same account found by the HR key") {
  auto s = make(base_yaml(), {person(2, "7", "anna.petrova@corp.ru", "Анна", "Петрова")},
                {user(10, "anna.ivanova@corp.ru", "Анна", "Петрова", "7")});
  plan p = s.run();
  REQUIRE(p.users.size() == 1);
  CHECK(p.users[0].kind == op_kind::update);
  CHECK(p.users[0].user_id == 10);
  CHECK(changes(p.users[0]) == strings{"EMAIL: anna.ivanova@corp.ru -> anna.petrova@corp.ru"});
  CHECK(p.counts.create == 0);
}

TEST_CASE("matching: a rehire (same key, dismissed account) is a reactivation, never a create") {
  auto u = user(10, "anna@corp.ru", "Анна", "Петрова", "7");
  u.active = false;
  u.set(bitrix::user_text::work_position, "Intern");
  auto s = make(base_yaml(), {person(2, "7", "anna@corp.ru", "Анна", "Петрова")}, {u});
  plan p = s.run();
  REQUIRE(p.users.size() == 1);
  const user_op& op = p.users[0];
  CHECK(op.kind == op_kind::reactivate);
  CHECK(op.user_id == 10);
  CHECK(changes(op) == strings{"ACTIVE: N -> Y", "WORK_POSITION: Intern -> Engineer"});
  CHECK(op.changes[0].value == wire_value{std::string{"Y"}});
  CHECK(p.counts.reactivate == 1);
  CHECK(p.counts.create == 0);
}

TEST_CASE("matching: the state store's remembered key finds an account without an HR key") {
  auto s = make(base_yaml(), {person(2, "7", "new@corp.ru", "Анна", "Петрова")},
                {user(10, "old@corp.ru", "Анна", "Петрова")});
  s.identities.key_to_user["7"] = 10;
  plan p = s.run();
  REQUIRE(p.users.size() == 1);
  CHECK(p.users[0].kind == op_kind::update);
  CHECK(p.users[0].matched_by == match_kind::state);
  CHECK(changes(p.users[0]) == strings{"EMAIL: old@corp.ru -> new@corp.ru", "UF_USR_HR_ID:  -> 7"});
}

TEST_CASE("matching: an old account found by e-mail gets its HR key written") {
  auto s = make(base_yaml(), {person(2, "7", "anna@corp.ru", "Анна", "Петрова")},
                {user(10, "ANNA@corp.ru", "Анна", "Петрова")});
  plan p = s.run();
  REQUIRE(p.users.size() == 1);
  CHECK(p.users[0].kind == op_kind::update);
  CHECK(p.users[0].matched_by == match_kind::email);
  CHECK(changes(p.users[0]) == strings{"UF_USR_HR_ID:  -> 7"});
  CHECK(p.counts.managed_users == 1);  // matched in this run
}

TEST_CASE("matching: XML_ID as the identity field") {
  auto u = user(10, "other@corp.ru", "Анна", "Петрова");
  u.set(bitrix::user_text::xml_id, "7");
  auto s = make(base_yaml({}, {}, "  identity_field: XML_ID\n"),
                {person(2, "7", "anna@corp.ru", "Анна", "Петрова")}, {u, user(11, "anna@corp.ru", "X", "Y")});
  plan p = s.run();
  const user_op* op = op_for_key(p, "7");
  REQUIRE(op);
  CHECK(op->kind == op_kind::update);
  CHECK(op->user_id == 10);
  CHECK(op->matched_by == match_kind::identity_field);
  CHECK(changes(*op) == strings{"EMAIL: other@corp.ru -> anna@corp.ru"});
}

TEST_CASE("matching: match order email first picks the e-mail's account") {
  auto s = make(base_yaml({}, {}, "  match: [email, employee_id]\n"),
                {person(2, "7", "anna@corp.ru", "Анна", "Петрова")},
                {user(10, "x@corp.ru", "Анна", "Петрова", "7"), user(11, "anna@corp.ru", "Анна", "Петрова")});
  plan p = s.run();
  const user_op* op = op_for_key(p, "7");
  REQUIRE(op);
  CHECK(op->user_id == 11);
  CHECK(op->matched_by == match_kind::email);
}

TEST_CASE("conflict: one HR key found on two portal users, neither touched") {
  auto s = make(base_yaml(), {person(2, "7", "anna@corp.ru", "Анна", "Петрова")},
                {user(10, "a@corp.ru", "Анна", "Петрова", "7"), user(11, "b@corp.ru", "Анна", "Петрова", "7")});
  plan p = s.run();
  REQUIRE(p.users.size() == 1);  // the two users are not deactivated as missing either
  CHECK(p.users[0].kind == op_kind::skip);
  CHECK(p.users[0].skip == skip_reason::conflict);
  CHECK(p.users[0].reason == "HR key \"7\" is in UF_USR_HR_ID of portal users 10 and 11; none is touched");
  CHECK(p.counts.writes() == 0);
}

TEST_CASE("conflict: two people landing on one portal user, both skipped naming the other") {
  auto s = make(base_yaml({}, {}, "  match: [email]\n"),
                {person(2, "7", "anna@corp.ru", "Анна", "Петрова")},
                {user(10, "anna@corp.ru", "Анна", "Петрова")});
  // The mapping rejects duplicate e-mails itself; a second person is built by hand to reach the engine.
  REQUIRE(s.desired.people.size() == 1);
  auto twin = s.desired.people[0];
  twin.key = "8";
  twin.fields.set("UF_USR_HR_ID", "8");
  s.desired.people.push_back(twin);
  plan p = s.run();
  REQUIRE(p.users.size() == 2);
  CHECK(p.users[0].key == "7");
  CHECK(p.users[0].skip == skip_reason::conflict);
  CHECK(p.users[0].reason == "portal user 10 is also matched by key \"8\"");
  CHECK(p.users[1].key == "8");
  CHECK(p.users[1].reason == "portal user 10 is also matched by key \"7\"");
  CHECK(p.counts.writes() == 0);
}

TEST_CASE("conflict: one person found by a remembered key, another by e-mail, on one portal user") {
  // The e-mail look-ups run after every key look-up (against an index of just the e-mails asked
  // for); the claims are still counted in key order, so the messages are those of a single pass.
  auto s = make(base_yaml(),
                {person(2, "7", "anna.p@corp.ru", "Анна", "Петрова"), person(3, "8", "anna@corp.ru", "Анна", "Петрова"),
                 person(4, "9", "boris@corp.ru", "Борис", "Петров")},
                {user(10, "anna@corp.ru", "Анна", "Петрова"), user(11, "BORIS@corp.ru", "Борис", "Петров")});
  s.identities.key_to_user["7"] = 10;
  plan p = s.run();
  const user_op* a = op_for_key(p, "7");
  const user_op* b = op_for_key(p, "8");
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->skip == skip_reason::conflict);
  CHECK(a->reason == "portal user 10 is also matched by key \"8\"");
  CHECK(b->skip == skip_reason::conflict);
  CHECK(b->reason == "portal user 10 is also matched by key \"7\"");
  const user_op* c = op_for_key(p, "9");
  REQUIRE(c);
  CHECK(c->kind == op_kind::update);
  CHECK(c->matched_by == match_kind::email);
  CHECK(c->user_id == 11);
  CHECK(p.counts.writes() == 1);
  CHECK(p.snapshot_fingerprint == snapshot_fingerprint(s.portal));

  // A third claimant with a key below both, found by e-mail too (built by hand: the mapping itself
  // rejects two people with one e-mail). Matched after "7" but claiming before it, so each message
  // lists the others in key order, as a single pass would.
  auto twin = *std::find_if(s.desired.people.begin(), s.desired.people.end(),
                            [](const auto& person) { return person.key == "8"; });
  twin.key = "6";
  twin.fields.set("UF_USR_HR_ID", "6");
  s.desired.people.push_back(twin);
  plan three = s.run();
  REQUIRE(op_for_key(three, "6"));
  CHECK(op_for_key(three, "6")->reason == "portal user 10 is also matched by key \"7\", \"8\"");
  CHECK(op_for_key(three, "7")->reason == "portal user 10 is also matched by key \"6\", \"8\"");
  CHECK(op_for_key(three, "8")->reason == "portal user 10 is also matched by key \"6\", \"7\"");
}

TEST_CASE("conflict: an e-mail whose account carries another HR key is not a match") {
  auto s = make(base_yaml(), {person(2, "7", "anna@corp.ru", "Анна", "Петрова")},
                {user(10, "anna@corp.ru", "Анна", "Сидорова", "3")});
  plan p = s.run();
  const user_op* op = op_for_key(p, "7");
  REQUIRE(op);
  CHECK(op->skip == skip_reason::conflict);
  CHECK(op->reason == "e-mail anna@corp.ru belongs to portal user 10, which carries HR key \"3\" in UF_USR_HR_ID");
  CHECK_FALSE(op->user_id);
  CHECK(op_for_user(p, 10) == nullptr);  // user 10 is not deactivated as missing either
  CHECK(p.counts.writes() == 0);
}

TEST_CASE("deactivate: a terminated person's active account, with the rule as the reason") {
  auto s = make(base_yaml(), {person(2, "7", "anna@corp.ru", "Анна", "Петрова", "Sales", "+79161234567",
                                     "1990-02-28", "Engineer", "2026-11-30")},
                {user(10, "anna@corp.ru", "Анна", "Петрова", "7")});
  plan p = s.run();
  REQUIRE(p.users.size() == 1);
  CHECK(p.users[0].kind == op_kind::deactivate);
  CHECK(p.users[0].reason == "terminated: fired = \"2026-11-30\" (nonempty)");
  CHECK(changes(p.users[0]) == strings{"ACTIVE: Y -> N"});
  CHECK(p.users[0].changes[0].value == wire_value{std::string{"N"}});
}

TEST_CASE("deactivate: a managed account missing from all sources") {
  auto s = make(base_yaml(), {person(2, "7", "anna@corp.ru", "Анна", "Петрова")},
                {user(10, "anna@corp.ru", "Анна", "Петрова", "7"), user(11, "gone@corp.ru", "Олег", "Б", "9"),
                 user(12, "state@corp.ru", "Ира", "К")});
  s.identities.managed = {12};
  plan p = s.run();
  REQUIRE(p.users.size() == 2);
  CHECK(p.users[0].kind == op_kind::deactivate);
  CHECK(p.users[0].user_id == 11);
  CHECK(p.users[0].key.empty());
  CHECK(p.users[0].reason == "missing from all sources");
  CHECK(p.users[0].email == "gone@corp.ru");
  CHECK(p.users[1].kind == op_kind::deactivate);
  CHECK(p.users[1].user_id == 12);
  REQUIRE(p.unchanged.size() == 1);
  CHECK(p.unchanged[0] == unchanged_user{"7", 10, match_kind::identity_field});
  CHECK(p.counts.deactivate == 2);
  CHECK(p.counts.managed_users == 3);
}

TEST_CASE("skip: unmanaged portal users are listed only when on_missing deactivates") {
  const std::vector<bitrix::portal_user> users{user(10, "anna@corp.ru", "Анна", "Петрова", "7"),
                                               user(20, "boss@corp.ru", "Босс", "Б")};
  const auto rows = {person(2, "7", "anna@corp.ru", "Анна", "Петрова")};
  plan p = make(base_yaml(), rows, users).run();
  const user_op* op = op_for_user(p, 20);
  REQUIRE(op);
  CHECK(op->skip == skip_reason::not_managed);
  CHECK(p.counts.skip == 1);
  CHECK(p.counts.managed_users == 1);
  plan q = make(base_yaml("  on_missing: ignore\n"), rows, users).run();
  CHECK(op_for_user(q, 20) == nullptr);
  CHECK(q.users.empty());
  CHECK(q.unchanged.size() == 1);
}

TEST_CASE("skip: on_missing ignore leaves a managed missing account alone") {
  plan p = make(base_yaml("  on_missing: ignore\n"), {person(2, "7", "anna@corp.ru", "Анна", "Петрова")},
                {user(10, "anna@corp.ru", "Анна", "Петрова", "7"), user(11, "gone@corp.ru", "Олег", "Б", "9")})
               .run();
  CHECK(p.counts.deactivate == 0);
  CHECK(op_for_user(p, 11) == nullptr);
}

TEST_CASE("skip: protected users (by ID and by e-mail) are never edited nor deactivated") {
  auto s = make(base_yaml("  protected: [10, \"Gone@Corp.ru\"]\n"),
                {person(2, "7", "anna@corp.ru", "Анна", "Петрова")},
                {user(10, "anna@corp.ru", "Анна", "Иванова", "7"), user(11, "gone@corp.ru", "Олег", "Б", "9")});
  plan p = s.run();
  REQUIRE(p.users.size() == 2);
  CHECK(op_for_user(p, 10)->skip == skip_reason::protected_user);
  CHECK(op_for_user(p, 11)->skip == skip_reason::protected_user);
  CHECK(p.counts.writes() == 0);
}

TEST_CASE("skip: the webhook's own user is never edited nor deactivated") {
  auto s = make(base_yaml(), {person(2, "7", "anna@corp.ru", "Анна", "Петрова")},
                {user(1, "anna@corp.ru", "Анна", "Иванова", "7"), user(2, "admin@corp.ru", "A", "B", "9")});
  s.webhook_user = 1;
  plan p1 = s.run();
  CHECK(op_for_user(p1, 1)->skip == skip_reason::webhook_user);
  s.webhook_user = 2;
  plan p2 = s.run();
  CHECK(op_for_user(p2, 2)->skip == skip_reason::webhook_user);
  CHECK(op_for_user(p2, 2)->kind == op_kind::skip);
}

TEST_CASE("skip: a portal user whose source rows were rejected is neither created nor deactivated") {
  auto cfg = make_config(base_yaml());
  auto desired = map(cfg, {person(2, "7", "anna@corp.ru", "Анна", "Петрова"),
                           person(3, "9", "not-an-email", "Олег", "Б"), person(4, "8", "ira@corp.ru", "Ира", "К")});
  REQUIRE(desired.rejected_keys == strings{"9"});
  desired.rejected_keys.push_back("8b");  // a key remembered by the state store
  scenario s{cfg, desired,
             snap({user(10, "anna@corp.ru", "Анна", "Петрова", "7"), user(11, "oleg@corp.ru", "Олег", "Б", "9"),
                   user(12, "x@corp.ru", "X", "Y")}),
             {}, std::nullopt};
  s.identities.key_to_user["8b"] = 12;
  s.identities.managed = {12};
  plan p = s.run();
  CHECK(op_for_user(p, 11)->skip == skip_reason::rejected_row);
  CHECK(op_for_user(p, 12)->skip == skip_reason::rejected_row);
  CHECK(p.counts.deactivate == 0);
  CHECK(p.counts.source_rejects == desired.rejects.size());
  CHECK(p.rejects == desired.rejects);
}

TEST_CASE("skip: while a source row could not be read at all, nobody is deactivated as missing") {
  const auto anna = person(2, "7", "anna@corp.ru", "Анна", "Петрова");
  const std::vector<bitrix::portal_user> users{user(10, "anna@corp.ru", "Анна", "Петрова", "7"),
                                               user(11, "gone@corp.ru", "Олег", "Б", "9")};
  auto s = make(base_yaml(), {anna}, users);
  plan clean = s.run();
  CHECK(op_for_user(clean, 11)->kind == op_kind::deactivate);  // the control: a clean source deactivates

  // A reader-level reject (a broken CSV line): its key is unknown, so it may be Олег's row.
  s.desired.rejects.push_back({{"hr", "hr.csv", 3, {}}, "row has 3 fields, the header has 5"});
  s.desired.unattributed_rejects = 1;
  plan held = s.run();
  const user_op* op = op_for_user(held, 11);
  REQUIRE(op);
  CHECK(op->kind == op_kind::skip);
  CHECK(op->skip == skip_reason::rejected_row);
  CHECK(op->reason ==
        "1 source row could not be read and this person may be among them: not deactivated until the source reads "
        "cleanly");
  CHECK(held.counts.deactivate == 0);

  // Terminated in the source is explicit: that deactivation still goes ahead.
  auto gone = person(3, "9", "gone@corp.ru", "Олег", "Б", "Sales", "+79161234567", "1990-02-28", "Engineer", "2026-11-30");
  auto t = make(base_yaml(), {anna, gone}, users);
  t.desired.unattributed_rejects = 2;
  plan terminated = t.run();
  CHECK(op_for_user(terminated, 11)->kind == op_kind::deactivate);
}

TEST_CASE("skip: policy switches (create, update, reactivate, on_terminated)") {
  const auto anna = person(2, "7", "anna@corp.ru", "Анна", "Петрова");
  SUBCASE("create: false") {
    plan p = make(base_yaml("  create: false\n"), {anna}, {}).run();
    CHECK(p.users[0].skip == skip_reason::policy);
    CHECK(p.users[0].reason == "not on the portal and policy.create is false");
  }
  SUBCASE("update: false") {
    plan p = make(base_yaml("  update: false\n"), {anna}, {user(10, "anna@corp.ru", "Анна", "И", "7")}).run();
    CHECK(p.users[0].skip == skip_reason::policy);
    CHECK(p.users[0].reason == "1 field(s) differ and policy.update is false");
  }
  SUBCASE("reactivate: false") {
    auto u = user(10, "anna@corp.ru", "Анна", "Петрова", "7");
    u.active = false;
    plan p = make(base_yaml("  reactivate: false\n"), {anna}, {u}).run();
    CHECK(p.users[0].skip == skip_reason::policy);
  }
  SUBCASE("on_terminated: ignore") {
    auto fired = person(2, "7", "anna@corp.ru", "Анна", "Петрова", "Sales", "+79161234567", "1990-02-28",
                        "Engineer", "2026-11-30");
    plan p = make(base_yaml("  on_terminated: ignore\n"), {fired}, {user(10, "anna@corp.ru", "Анна", "Петрова", "7")})
                 .run();
    CHECK(p.users[0].skip == skip_reason::policy);
    CHECK(p.counts.deactivate == 0);
  }
}

TEST_CASE("skip: a terminated person not on the portal is not created; already dismissed is unchanged") {
  auto fired = [](std::size_t line, std::string id, std::string mail) {
    return person(line, std::move(id), std::move(mail), "Анна", "Петрова", "Sales", "+79161234567", "1990-02-28",
                  "Engineer", "2026-11-30");
  };
  auto gone = user(10, "b@corp.ru", "Анна", "Петрова", "8");
  gone.active = false;
  plan p = make(base_yaml(), {fired(2, "7", "a@corp.ru"), fired(3, "8", "b@corp.ru")}, {gone}).run();
  CHECK(op_for_key(p, "7")->skip == skip_reason::inactive_new);
  CHECK(op_for_key(p, "8") == nullptr);
  CHECK(unchanged_for_key(p, "8") != nullptr);
  CHECK(p.counts.writes() == 0);
}

TEST_CASE("update: an empty desired value clears the portal field") {
  auto u = user(10, "anna@corp.ru", "Анна", "Петрова", "7");
  plan p = make(base_yaml(), {person(2, "7", "anna@corp.ru", "Анна", "Петрова", "Sales", "", "", "")}, {u}).run();
  REQUIRE(p.users.size() == 1);
  CHECK(changes(p.users[0]) == strings{"WORK_POSITION: Engineer -> ", "PERSONAL_MOBILE: +79161234567 -> ",
                                       "PERSONAL_BIRTHDAY: 1990-02-28 -> "});
  CHECK(p.users[0].changes[2].value == wire_value{std::string{}});
}

TEST_CASE("departments: paths from the root or just below it, case and spaces ignored") {
  const auto rows = {person(2, "1", "a@corp.ru", "A", "A", "company/  SALES / moscow"),
                     person(3, "2", "b@corp.ru", "B", "B", "Sales/Moscow"),
                     person(4, "3", "c@corp.ru", "C", "C", "IT/Sales"), person(5, "4", "d@corp.ru", "D", "D", "Company")};
  plan p = make(base_yaml(), rows, {}).run();
  auto dept_of = [&](const std::string& key) { return op_for_key(p, key)->changes[6].value; };
  CHECK(dept_of("1") == wire_value{strings{"3"}});
  CHECK(dept_of("2") == wire_value{strings{"3"}});
  CHECK(dept_of("3") == wire_value{strings{"5"}});
  CHECK(dept_of("4") == wire_value{strings{"1"}});
  CHECK(p.warnings.empty());
}

TEST_CASE("departments: two siblings with one name resolve to the lowest ID with a warning") {
  plan p = make(base_yaml(), {person(2, "1", "a@corp.ru", "A", "A", "Support")}, {}).run();
  CHECK(p.users[0].changes[6].value == wire_value{strings{"6"}});
  REQUIRE(p.warnings.size() == 1);
  CHECK(p.warnings[0] == "department path \"Support\": 2 departments are named \"support\" (IDs 6, 7); using 6");
}

TEST_CASE("departments: an unknown path without create_missing skips the person and rejects the row") {
  plan p = make(base_yaml(), {person(2, "1", "a@corp.ru", "A", "A", "Sales/Kazan")},
                {user(10, "a@corp.ru", "A", "A", "1")})
               .run();
  REQUIRE(p.users.size() == 1);
  CHECK(p.users[0].skip == skip_reason::unknown_department);
  REQUIRE(p.rejects.size() == 1);
  CHECK(p.rejects[0].where.line == 2);
  CHECK(p.rejects[0].reason == "key 1: unknown department \"Sales / Kazan\"");
  CHECK(p.counts.source_rejects == 1);
  CHECK(p.departments.empty());
}

TEST_CASE("departments: create_missing plans parents first, shared across people, with placeholders") {
  const std::string yaml =
      base_yaml({}, {}, {});
  std::string with_create = yaml;
  const std::string from = "departments: {path_separator: \"/\"}";
  with_create.replace(with_create.find(from), from.size(), "departments: {path_separator: \"/\", create_missing: true}");
  const auto rows = {person(2, "1", "a@corp.ru", "A", "A", "Sales / Kazan / Plant"),
                     person(3, "2", "b@corp.ru", "B", "B", "Company/Sales/Kazan"),
                     person(4, "3", "c@corp.ru", "C", "C", "Ural / Perm"),
                     person(5, "4", "d@corp.ru", "D", "D", "Sales")};
  plan p = make(with_create, rows, {user(10, "d@corp.ru", "D", "D", "4", {2})}).run();
  REQUIRE(p.departments.size() == 4);
  CHECK(p.departments[0] == department_op{"Company / Sales / Kazan", "Kazan", 2, std::nullopt});
  CHECK(p.departments[1] == department_op{"Company / Sales / Kazan / Plant", "Plant", std::nullopt, 0});
  CHECK(p.departments[2] == department_op{"Company / Ural", "Ural", 1, std::nullopt});
  CHECK(p.departments[3] == department_op{"Company / Ural / Perm", "Perm", std::nullopt, 2});
  const user_op* a = op_for_key(p, "1");
  CHECK(a->changes[6].value == wire_value{strings{"$dept:1"}});
  CHECK(a->needs_departments == std::vector<std::size_t>{1});
  CHECK(op_for_key(p, "2")->changes[6].value == wire_value{strings{"$dept:0"}});
  CHECK(op_for_key(p, "3")->changes[6].value == wire_value{strings{"$dept:3"}});
  CHECK(op_for_key(p, "4") == nullptr);
  CHECK(unchanged_for_key(p, "4") != nullptr);
  CHECK(p.counts.departments == 4);
  CHECK(p.counts.writes() == 7);
}

TEST_CASE("canonical: a noop source with noise gives zero changes") {
  auto noisy = user(10, " Anna@CORP.ru", "Анна ", "Петрова", " 7 ", {3, 6});
  noisy.set(bitrix::user_text::personal_mobile, "8 (916) 123-45-67");
  noisy.personal_birthday = bitrix::parse_portal_date("1990-02-27T19:00:00-05:00");  // 28 Feb, trap 8
  noisy.set(bitrix::user_text::work_position, "Senior   Engineer");
  auto plain = user(11, "oleg@corp.ru", "Олег", "Б", "8");
  const std::vector<connectors::source_record> rows{
      person(2, "7", "anna@corp.ru", "Анна", "Петрова", "Support", "+7 916 123 45 67", "28.02.1990", "Senior Engineer"),
      person(3, "8", "OLEG@corp.ru", "  Олег", "Б")};
  // Two departments in the other order: the field is multi-valued by the split.
  auto s = make(base_yaml({}, {}, {}), rows, {plain, noisy});
  s.desired.people[0].fields.set(
      "UF_DEPARTMENT",
      config::department_list{config::department_path{{"Support"}}, config::department_path{{"Sales", "Moscow"}}});
  plan p = s.run();
  CHECK(p.users.empty());
  REQUIRE(p.unchanged.size() == 2);
  CHECK(p.unchanged[0] == unchanged_user{"7", 10, match_kind::identity_field});
  CHECK(p.unchanged[1] == unchanged_user{"8", 11, match_kind::identity_field});
  CHECK(p.counts.unchanged == 2);
  CHECK(p.counts.writes() == 0);
}

TEST_CASE("canonical: multiple-value fields compare as sets, phones in a list by E.164") {
  auto u = user(10, "anna@corp.ru", "Анна", "Петрова", "7");
  u.uf.emplace("UF_USR_PHONES", boost::json::array{"8 916 000-00-01", "+79160000002"});
  const std::string extra = "    UF_USR_PHONES: {from: phones, transform: phone, region: RU, multiple: true}\n";
  auto r = person(2, "7", "anna@corp.ru", "Анна", "Петрова");
  r.attributes.push_back({"phones", {"+7 916 000 00 02", "89160000001"}});
  plan same = make(base_yaml({}, extra), {r}, {u}).run();
  CHECK(same.users.empty());
  CHECK(same.unchanged.size() == 1);
  r.attributes.back().values = {"+79160000002", "+79160000003"};
  plan diff = make(base_yaml({}, extra), {r}, {u}).run();
  REQUIRE(diff.users[0].kind == op_kind::update);
  CHECK(changes(diff.users[0]) ==
        strings{"UF_USR_PHONES: 8 916 000-00-01, +79160000002 -> +79160000002, +79160000003"});
  CHECK(diff.users[0].changes[0].value == wire_value{strings{"+79160000002", "+79160000003"}});
}

TEST_CASE("canonical: other standard fields are compared from portal_user::other") {
  auto u = user(10, "anna@corp.ru", "Анна", "Петрова", "7");
  u.other["PERSONAL_CITY"] = "Москва";
  auto r = person(2, "7", "anna@corp.ru", "Анна", "Петрова");
  r.attributes.push_back({"city", {"Казань"}});
  plan p = make(base_yaml({}, "    PERSONAL_CITY: \"{city}\"\n"), {r}, {u}).run();
  CHECK(changes(p.users[0]) == strings{"PERSONAL_CITY: Москва -> Казань"});
}

TEST_CASE("determinism: shuffled snapshot and rows give an equal plan, in the documented order") {
  std::vector<connectors::source_record> rows;
  std::vector<bitrix::portal_user> users;
  for (int i = 1; i <= 30; ++i) {
    const std::string k = std::to_string(100 + i);
    if (i % 5 != 0) rows.push_back(person(static_cast<std::size_t>(i + 1), k, "u" + k + "@corp.ru", "N" + k, "L"));
    if (i % 3 != 0) {
      auto u = user(1000 - i, "u" + k + "@corp.ru", "N" + k, i % 4 == 0 ? "Old" : "L", k);
      u.active = i % 7 != 0;
      users.push_back(u);
    }
  }
  users.push_back(user(5, "stranger@corp.ru", "S", "S"));
  scenario s = make(base_yaml(), rows, users);
  plan first = s.run();
  std::mt19937 rng{42};
  for (int round = 0; round < 5; ++round) {
    std::shuffle(s.portal.users.begin(), s.portal.users.end(), rng);
    std::shuffle(s.portal.departments.begin(), s.portal.departments.end(), rng);
    auto shuffled_rows = rows;
    std::shuffle(shuffled_rows.begin(), shuffled_rows.end(), rng);
    s.desired = map(s.cfg, shuffled_rows);
    const plan again = s.run();
    CHECK(again == first);
    // The engine folds the fingerprint into its own pass over the users: it must equal the public one.
    CHECK(again.snapshot_fingerprint == snapshot_fingerprint(s.portal));
  }
  // Kinds in order create, update, reactivate, deactivate, skip; by key then user ID.
  for (std::size_t i = 1; i < first.users.size(); ++i) {
    const auto& a = first.users[i - 1];
    const auto& b = first.users[i];
    CHECK(std::tie(a.kind, a.key, a.user_id) < std::tie(b.kind, b.key, b.user_id));
  }
  CHECK(first.counts.create > 0);
  CHECK(first.counts.update > 0);
  CHECK(first.counts.reactivate > 0);
  CHECK(first.counts.deactivate > 0);
  CHECK(first.counts.unchanged > 0);
  CHECK(first.counts.skip == 1);
  CHECK(first.counts.create + first.counts.update + first.counts.reactivate + first.counts.deactivate +
            first.counts.skip ==
        first.users.size());
  CHECK(first.counts.unchanged == first.unchanged.size());
  CHECK(std::is_sorted(first.unchanged.begin(), first.unchanged.end(),
                       [](const auto& a, const auto& b) { return a.key < b.key; }));
}

TEST_CASE("fingerprint: equal snapshots in any order agree, any read field changes it") {
  auto a = snap({user(1, "a@corp.ru", "A", "A", "1"), user(2, "b@corp.ru", "B", "B", "2")});
  auto b = snap({user(2, "b@corp.ru", "B", "B", "2"), user(1, "a@corp.ru", "A", "A", "1")});
  std::reverse(b.departments.begin(), b.departments.end());
  const std::string fa = snapshot_fingerprint(a);
  CHECK(fa.size() == 32);
  CHECK(fa == snapshot_fingerprint(b));
  b.users[0].set(bitrix::user_text::work_phone, "1");
  CHECK(fa != snapshot_fingerprint(b));
  auto c = a;
  c.users[1].uf["UF_USR_HR_ID"] = "3";
  CHECK(fa != snapshot_fingerprint(c));
  auto d = a;
  d.departments[2].name = "Moskva";
  CHECK(fa != snapshot_fingerprint(d));
  // The users' digests are summed (so the engine can feed them in any order): each user's fields
  // stay bound to that user, and a user read twice is not the same snapshot as once.
  auto swapped = a;
  const std::string first{swapped.users[0].name()}, second{swapped.users[1].name()};
  swapped.users[0].set(bitrix::user_text::name, second);
  swapped.users[1].set(bitrix::user_text::name, first);
  CHECK(fa != snapshot_fingerprint(swapped));
  auto twice = a;
  twice.users.push_back(twice.users[0]);
  CHECK(fa != snapshot_fingerprint(twice));
}

TEST_CASE("fingerprint: the plan's is snapshot_fingerprint() whatever became of each user") {
  // The engine digests a matched user in its pass over the people and every other user in its pass
  // over the portal: conflicts, the webhook's user, unmatched and twice-claimed users included.
  auto s = make(base_yaml({}, {}, "  match: [employee_id, email]\n"),
                {person(2, "7", "anna@corp.ru", "Анна", "Петрова"), person(3, "8", "olga@corp.ru", "Ольга", "Ли"),
                 person(4, "9", "ivan@corp.ru", "Иван", "Ко"), person(5, "6", "new@corp.ru", "Нина", "Но")},
                {user(1, "admin@corp.ru", "A", "B"), user(10, "a@corp.ru", "Анна", "Петрова", "7"),
                 user(11, "b@corp.ru", "Анна", "Петрова", "7"), user(12, "olga@corp.ru", "Ольга", "Ли"),
                 user(13, "ivan@corp.ru", "Иван", "Ко", "9"), user(14, "gone@corp.ru", "Гоша", "Го", "5")});
  s.webhook_user = 1;
  s.identities.key_to_user["6"] = 12;  // "6" and "8" (by e-mail) both land on user 12
  const plan p = s.run();
  CHECK(op_for_key(p, "7")->skip == skip_reason::conflict);
  CHECK(op_for_key(p, "8")->skip == skip_reason::conflict);
  CHECK(unchanged_for_key(p, "9") != nullptr);
  CHECK(op_for_user(p, 14)->kind == op_kind::deactivate);
  CHECK(p.snapshot_fingerprint == snapshot_fingerprint(s.portal));
}

TEST_CASE("make_plan: missing inputs throw") {
  CHECK_THROWS_AS(make_plan(diff_input{}), std::invalid_argument);
}

TEST_CASE("matching: a remembered key whose account is gone falls through to the e-mail") {
  auto s = make(base_yaml(), {person(2, "7", "anna@corp.ru", "Анна", "Петрова")},
                {user(11, "anna@corp.ru", "Анна", "Петрова")});
  s.identities.key_to_user["7"] = 99;  // deleted from the portal since
  plan p = s.run();
  REQUIRE(p.users.size() == 1);
  CHECK(p.users[0].user_id == 11);
  CHECK(p.users[0].matched_by == match_kind::email);
}

TEST_CASE("create: a department path only the plan creates is a placeholder with needs_departments") {
  std::string yaml = base_yaml();
  const std::string from = "departments: {path_separator: \"/\"}";
  yaml.replace(yaml.find(from), from.size(), "departments: {path_separator: \"/\", create_missing: true}");
  auto terminated = person(3, "8", "b@corp.ru", "B", "B", "Nowhere", "+79161234567", "1990-02-28", "Engineer", "x");
  plan p = make(yaml, {person(2, "7", "a@corp.ru", "A", "A", "Sales; Kazan"), terminated}, {}).run();
  // "Sales; Kazan" is one level named so (the separator is "/"); the terminated person needs nothing.
  REQUIRE(p.departments.size() == 1);
  CHECK(p.departments[0].path == "Company / Sales; Kazan");
  const user_op* a = op_for_key(p, "7");
  CHECK(a->needs_departments == std::vector<std::size_t>{0});
  CHECK(a->changes[6].value == wire_value{strings{"$dept:0"}});
  CHECK(op_for_key(p, "8")->skip == skip_reason::inactive_new);
}
