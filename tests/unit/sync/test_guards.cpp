// The safety guards: each trips with a plain sentence, each stays quiet just below its threshold.
#include "sync_test_support.hpp"

using namespace b24sync;
using namespace b24sync::sync;
using namespace b24sync::sync::test;

namespace {

plan counted(std::size_t people, std::size_t deactivate, std::size_t managed, std::size_t rejects) {
  plan p;
  p.counts.source_people = people;
  p.counts.deactivate = deactivate;
  p.counts.managed_users = managed;
  p.counts.source_rejects = rejects;
  return p;
}

std::vector<std::string> names(const std::vector<guard_trip>& trips) {
  std::vector<std::string> out;
  for (const auto& t : trips) out.push_back(t.guard);
  return out;
}

config::policy_config policy(const std::string& yaml) { return make_config(base_yaml(yaml)).policy; }

}  // namespace

TEST_CASE("guards: a healthy plan trips nothing") {
  auto pol = policy({});
  guard_input in{&pol, 100, 100, std::nullopt};
  CHECK(evaluate_guards(counted(100, 5, 100, 10), in).empty());
}

TEST_CASE("guards: empty_source always trips, whatever else") {
  auto pol = policy({});
  guard_input in{&pol, std::nullopt, 0, std::nullopt};
  auto trips = evaluate_guards(counted(0, 0, 0, 0), in);
  REQUIRE(names(trips) == std::vector<std::string>{"empty_source"});
  CHECK(trips[0].reason ==
        "the sources hold no people (0 rows read); an empty or header-only export would deactivate everyone, "
        "so nothing is done: check the source files");
}

TEST_CASE("guards: min_source_ratio trips below ratio x last run, quiet at it") {
  auto pol = policy("  min_source_ratio: 0.5\n");
  guard_input in{&pol, 100, 49, std::nullopt};
  auto trips = evaluate_guards(counted(49, 0, 0, 0), in);
  REQUIRE(names(trips) == std::vector<std::string>{"min_source_ratio"});
  CHECK(trips[0].reason ==
        "the sources hold 49 people, fewer than policy.min_source_ratio = 0.5 of the 100 in the last successful "
        "run (50); check the sources, or lower policy.min_source_ratio if they really shrank");
  CHECK(trips[0].value == doctest::Approx(0.49));
  CHECK(trips[0].limit == doctest::Approx(0.5));
  in.source_rows = 50;
  CHECK(evaluate_guards(counted(50, 0, 0, 0), in).empty());
  in.last_source_people = std::nullopt;  // first run: nothing to compare with
  CHECK(evaluate_guards(counted(1, 0, 0, 0), in).empty());
}

TEST_CASE("guards: max_deactivations as a percentage of managed users") {
  auto pol = policy("  max_deactivations: \"5%\"\n");
  guard_input in{&pol, std::nullopt, 100, std::nullopt};
  auto trips = evaluate_guards(counted(100, 7, 100, 0), in);
  REQUIRE(names(trips) == std::vector<std::string>{"max_deactivations"});
  CHECK(trips[0].reason ==
        "7 deactivations planned, more than policy.max_deactivations = 5% of 100 managed users (5); re-run with "
        "--allow-deactivations 7 if this is intended");
  CHECK(trips[0].value == 7);
  CHECK(trips[0].limit == 5);
  CHECK(evaluate_guards(counted(100, 5, 100, 0), in).empty());  // at the limit: quiet
  CHECK(names(evaluate_guards(counted(100, 1, 19, 0), in)) ==
        std::vector<std::string>{"max_deactivations"});  // 5% of 19 is 0 (floor)
}

TEST_CASE("guards: max_deactivations as a count") {
  auto pol = policy("  max_deactivations: 3\n");
  guard_input in{&pol, std::nullopt, 100, std::nullopt};
  CHECK(evaluate_guards(counted(100, 3, 1000, 0), in).empty());
  auto trips = evaluate_guards(counted(100, 4, 1000, 0), in);
  REQUIRE(trips.size() == 1);
  CHECK(trips[0].reason ==
        "4 deactivations planned, more than policy.max_deactivations = 3; re-run with --allow-deactivations 4 "
        "if this is intended");
}

TEST_CASE("guards: --allow-deactivations N replaces the limit") {
  auto pol = policy("  max_deactivations: \"5%\"\n");
  guard_input in{&pol, std::nullopt, 100, 40};
  CHECK(evaluate_guards(counted(100, 40, 100, 0), in).empty());
  auto trips = evaluate_guards(counted(100, 41, 100, 0), in);
  REQUIRE(trips.size() == 1);
  CHECK(trips[0].reason ==
        "41 deactivations planned, more than --allow-deactivations 40; re-run with --allow-deactivations 41 if "
        "this is intended");
}

TEST_CASE("guards: max_rejected_ratio trips above the share of rows, quiet at it") {
  auto pol = policy("  max_rejected_ratio: 0.1\n");
  guard_input in{&pol, std::nullopt, 100, std::nullopt};
  CHECK(evaluate_guards(counted(90, 0, 0, 10), in).empty());
  auto trips = evaluate_guards(counted(89, 0, 0, 11), in);
  REQUIRE(names(trips) == std::vector<std::string>{"max_rejected_ratio"});
  CHECK(trips[0].reason ==
        "11 of 100 rows rejected (11%), more than policy.max_rejected_ratio = 0.1 (10%); fix the rejected rows "
        "listed in the report, or raise policy.max_rejected_ratio");
  CHECK(trips[0].value == doctest::Approx(0.11));
}

TEST_CASE("guards: several trips at once, in a fixed order") {
  auto pol = policy({});
  guard_input in{&pol, 1000, 10, std::nullopt};
  auto trips = evaluate_guards(counted(0, 50, 100, 10), in);
  CHECK(names(trips) ==
        std::vector<std::string>{"empty_source", "min_source_ratio", "max_deactivations", "max_rejected_ratio"});
}

TEST_CASE("guards: a plan from the engine, everyone missing, trips max_deactivations") {
  std::vector<bitrix::portal_user> users;
  for (int i = 1; i <= 20; ++i) users.push_back(user(i, "u" + std::to_string(i) + "@corp.ru", "N", "L", std::to_string(i)));
  auto s = make(base_yaml(), {person(2, "1", "u1@corp.ru", "N", "L")}, users);
  plan p = s.run();
  CHECK(p.counts.deactivate == 19);
  CHECK(p.counts.managed_users == 20);
  guard_input in{&s.cfg.policy, 20, 1, std::nullopt};
  CHECK(names(evaluate_guards(p, in)) == std::vector<std::string>{"min_source_ratio", "max_deactivations"});
  CHECK_THROWS_AS(evaluate_guards(p, guard_input{}), std::invalid_argument);
}
